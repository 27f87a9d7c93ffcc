//! The pager's exec against Linux itself: real static programs built here
//! with the host's C compiler (`musl-gcc -static` when musl-tools is
//! installed, else `gcc -static`), parsed and placed by `pager::exec`, and a
//! differential test of the initial stack: `tests/c/stack_dump.c` prints
//! its own stack as this host's Linux laid it out (randomization off, a
//! clean environment), and the pager's image for the same argv, envp and
//! execfn must match it word for word and byte for byte.

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
    sync::OnceLock,
};

use libipc::types::{Access, PAGE_SIZE, Prot};
use pager::{
    exec::{
        self, Credentials, ExecError, ExecRequest, Position,
        auxv::{AuxType, AuxValues, CLOCK_TICKS, PLATFORM},
        elf,
        stack::{self, StackRequest},
    },
    policy::OnePage,
    rlimit::Rlimits,
    rng::Rng,
    settings::Settings,
    space::{FaultDecision, Fill},
    vma::FileId,
};

/// Auxiliary vector entries this host's Linux gives that the pager does not,
/// and why: AT_RSEQ_FEATURE_SIZE (27) and AT_RSEQ_ALIGN (28) announce the
/// rseq system call, which the project's kernel does not offer.
const NOT_OFFERED: [u64; 2] = [27, 28];

/// The C compiler: musl's wrapper if installed, else gcc. Never skipped:
/// without a compiler the test fails and says what to install.
fn compiler() -> &'static str {
    static CC: OnceLock<&'static str> = OnceLock::new();
    CC.get_or_init(|| {
        let works = |cc: &str| {
            Command::new(cc)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        };
        if works("musl-gcc") {
            "musl-gcc"
        } else if works("gcc") {
            "gcc"
        } else {
            panic!("no C compiler: the differential test against Linux needs gcc (apt-get install gcc musl-tools)")
        }
    })
}

fn compile(name: &str, cc: &str, flags: &[&str]) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/stack_dump.c");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("exec-{name}"));
    let o = Command::new(cc)
        .args(flags)
        .args(["-O1", "-o"])
        .arg(&out)
        .arg(&src)
        .output()
        .unwrap_or_else(|e| panic!("{cc} cannot run: {e}"));
    assert!(
        o.status.success(),
        "{cc} {flags:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

fn static_program() -> PathBuf {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| compile("static", compiler(), &["-static"])).clone()
}

/// What stack_dump printed.
#[derive(Debug)]
struct Dump {
    sp: u64,
    argv: Vec<(u64, Vec<u8>)>,
    envp: Vec<(u64, Vec<u8>)>,
    auxv: Vec<(u64, u64)>,
    top: u64,
    /// Memory from AT_RANDOM up to `top`.
    bytes: Vec<u8>,
}

impl Dump {
    fn aux(&self, t: AuxType) -> Option<u64> {
        self.auxv.iter().find(|(k, _)| *k == t.number()).map(|&(_, v)| v)
    }
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Runs `program` with `args` after its path and exactly `env`, with
/// randomization off so the layout is Linux's deterministic one.
fn run_on_linux(program: &Path, args: &[&str], env: &[&str]) -> Dump {
    let o = Command::new("setarch")
        .args(["x86_64", "-R", "env", "-i"])
        .args(env)
        .arg(program)
        .args(args)
        .output()
        .expect("setarch (util-linux) runs the program with randomization off");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    let mut d = Dump {
        sp: 0,
        argv: vec![],
        envp: vec![],
        auxv: vec![],
        top: 0,
        bytes: vec![],
    };
    let num = |s: &str| u64::from_str_radix(s, 16).unwrap();
    for line in text.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        match f[0] {
            "sp" => d.sp = num(f[1]),
            "argc" => {}
            "argv" => d.argv.push((num(f[1]), unhex(f[2]))),
            "envp" => d.envp.push((num(f[1]), unhex(f[2]))),
            "auxv" => d.auxv.push((f[1].parse().unwrap(), num(f[2]))),
            "top" => d.top = num(f[1]),
            "bytes" => d.bytes = unhex(f[1]),
            other => panic!("unexpected line {other:?}"),
        }
    }
    d
}

/// Builds the pager's stack for what `dump` ran and checks it is Linux's.
fn compare_with_linux(program: &Path, args: &[&str], env: &[&str]) {
    let d = run_on_linux(program, args, env);
    let file = fs::read(program).unwrap();
    let p = elf::parse(&file).unwrap();
    let path = program.to_str().unwrap();
    let host = |t: AuxType| d.aux(t).unwrap_or_else(|| panic!("Linux gave no {t:?}"));
    // The load bias Linux chose (0 for a non-PIE program).
    let bias = host(AuxType::Entry) - p.entry;
    if p.position == Position::Fixed {
        assert_eq!(bias, 0);
    }
    // Entries that are inputs (the vDSO's place, CPU features, the user)
    // come from the host; the rest the pager computes.
    let aux = AuxValues {
        sysinfo_ehdr: d.aux(AuxType::SysinfoEhdr),
        minsigstksz: d.aux(AuxType::MinSigStkSz),
        hwcap: host(AuxType::Hwcap),
        hwcap2: host(AuxType::Hwcap2),
        page_size: PAGE_SIZE,
        clock_ticks: CLOCK_TICKS,
        phdr: bias + p.headers.vaddr.unwrap_or(0),
        phent: elf::PHDR_SIZE,
        phnum: u64::from(p.headers.count),
        base: 0,
        flags: 0,
        entry: bias + p.entry,
        credentials: Credentials {
            uid: host(AuxType::Uid) as u32,
            euid: host(AuxType::Euid) as u32,
            gid: host(AuxType::Gid) as u32,
            egid: host(AuxType::Egid) as u32,
        },
        secure: false,
    };
    let mut argv: Vec<&[u8]> = vec![path.as_bytes()];
    argv.extend(args.iter().map(|a| a.as_bytes()));
    let envp: Vec<&[u8]> = env.iter().map(|e| e.as_bytes()).collect();
    let ours = stack::build(&StackRequest {
        argv: &argv,
        envp: &envp,
        execfn: path.as_bytes(),
        platform: Some(PLATFORM),
        random: d.bytes[..16].try_into().unwrap(),
        aux,
        top: d.top,
        shift: 0,
        stack_limit: 8 << 20,
    })
    .unwrap();

    // Every entry Linux gave is one the pager gives, or a documented absence.
    let linux: Vec<(u64, u64)> = d
        .auxv
        .iter()
        .copied()
        .filter(|(t, _)| !NOT_OFFERED.contains(t))
        .collect();
    let pager: Vec<(u64, u64)> = ours.auxv.iter().map(|&(t, v)| (t.number(), v)).collect();
    assert_eq!(
        pager, linux,
        "auxv (type, value) in order, Linux's without {NOT_OFFERED:?}"
    );
    let missing = (d.auxv.len() - linux.len()) as u64;
    // The tables: the same pointers; sp higher by the absent pairs only.
    assert_eq!(ours.sp % 16, 0);
    assert_eq!(d.sp % 16, 0);
    assert_eq!(ours.sp, d.sp + 16 * missing, "sp");
    let word = |i: u64| {
        let at = (i * 8) as usize;
        u64::from_le_bytes(ours.bytes[at..at + 8].try_into().unwrap())
    };
    assert_eq!(word(0), d.argv.len() as u64, "argc");
    for (i, (ptr, s)) in d.argv.iter().enumerate() {
        assert_eq!(word(1 + i as u64), *ptr, "argv[{i}] pointer");
        assert_eq!(s.as_slice(), argv[i], "argv[{i}]");
    }
    let envp_at = 1 + d.argv.len() as u64 + 1;
    for (i, (ptr, s)) in d.envp.iter().enumerate() {
        assert_eq!(word(envp_at + i as u64), *ptr, "envp[{i}] pointer");
        assert_eq!(s.as_slice(), envp[i], "envp[{i}]");
    }
    assert_eq!(word(envp_at + d.envp.len() as u64), 0);
    // The strings area, from AT_RANDOM to the top: byte for byte.
    let random = host(AuxType::Random);
    assert_eq!(
        ours.bytes[(random - ours.sp) as usize..],
        d.bytes[..],
        "bytes from AT_RANDOM to the top"
    );
    assert_eq!(ours.arg_start, d.argv[0].0);
    assert_eq!(ours.env_start, d.envp.first().map_or(ours.env_end, |e| e.0));
}

#[test]
fn the_initial_stack_is_linux_s() {
    let p = static_program();
    compare_with_linux(&p, &["one", "two words", ""], &["A=1", "B=two words", "EMPTY="]);
}

/// argc and the string lengths change the padding below AT_RANDOM and
/// between the strings and the platform string.
#[test]
fn the_initial_stack_is_linux_s_whatever_the_padding() {
    let p = static_program();
    compare_with_linux(&p, &[], &[]);
    compare_with_linux(&p, &["x"], &[]);
    compare_with_linux(&p, &["xy", "z"], &["K=v"]);
    let long = "L".repeat(5000);
    let many: Vec<String> = (0..37).map(|i| "a".repeat(i)).collect();
    let many: Vec<&str> = many.iter().map(|s| s.as_str()).collect();
    compare_with_linux(&p, &many, &[&format!("LONG={long}"), "X=", "Y=z"]);
}

#[test]
fn a_static_pie_s_stack_is_linux_s() {
    let p = compile("static-pie", "gcc", &["-static-pie", "-fPIE"]);
    assert_eq!(
        elf::parse(&fs::read(&p).unwrap()).unwrap().position,
        Position::Independent
    );
    compare_with_linux(&p, &["pie"], &["P=1"]);
}

#[test]
fn real_programs_parse_and_load() {
    for (name, flags) in [
        ("gcc-static", &["-static"][..]),
        ("gcc-static-pie", &["-static-pie", "-fPIE"]),
    ] {
        let path = compile(name, "gcc", flags);
        check_loads(&path);
    }
    check_loads(&static_program());
}

fn check_loads(path: &Path) {
    let bytes = fs::read(path).unwrap();
    let program = elf::parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut settings = Settings::default();
    settings.set("kernel.randomize_va_space", "0").unwrap();
    let argv: &[&[u8]] = &[b"/prog"];
    let mut e = exec::exec(
        &program,
        "/prog".into(),
        &ExecRequest {
            argv,
            envp: &[],
            execfn: b"/prog",
            file: FileId(1),
            credentials: Credentials::same(0, 0),
            hwcap: 0,
            hwcap2: 0,
            minsigstksz: None,
            vdso: false,
        },
        &settings,
        Rlimits::default(),
        &mut Rng::from_words([1; 4]),
    )
    .unwrap();
    assert_eq!(e.space.vmas().find(e.entry.0).unwrap().prot, Prot::RX);
    // The page holding the end of the writable segment's file data reads
    // zeros past it (a partial-page bss).
    let data = program.segments.iter().find(|s| s.prot.contains(Prot::WRITE)).unwrap();
    let end = e.load_bias + data.vaddr + data.file_size;
    if !end.is_multiple_of(PAGE_SIZE) {
        match e.space.fault(&mut OnePage, end, Access::Read) {
            FaultDecision::Map(pages) => {
                let Fill::File { len, .. } = pages[0].fill else {
                    panic!("{:?}", pages[0])
                };
                assert_eq!(len, end % PAGE_SIZE, "{}", path.display());
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn a_dynamically_linked_program_is_refused() {
    let p = compile("dynamic", "gcc", &[]);
    let err = elf::parse(&fs::read(&p).unwrap()).unwrap_err();
    assert_eq!(err, ExecError::DynamicallyLinked);
    assert_eq!(
        err.to_string(),
        "dynamically linked programs are not supported yet: link with -static"
    );
}

#[test]
fn an_object_file_is_not_executable() {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("exec-object.o");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/stack_dump.c");
    let ok = Command::new("gcc")
        .arg("-c")
        .arg(&src)
        .arg("-o")
        .arg(&out)
        .status()
        .unwrap();
    assert!(ok.success());
    assert_eq!(
        elf::parse(&fs::read(&out).unwrap()),
        Err(ExecError::NotExecutable { elf_type: 1 })
    );
}

/// A real program cut at every length up to its headers' end and at many
/// points after: an error naming the truncation, never a panic.
#[test]
fn a_truncated_real_program_is_named() {
    let bytes = fs::read(static_program()).unwrap();
    let headers = 64 + 56 * u64::from(elf::parse(&bytes).unwrap().headers.count);
    for cut in 0..headers as usize {
        let err = elf::parse(&bytes[..cut]).unwrap_err();
        assert!(matches!(err, ExecError::Truncated { .. }), "cut at {cut}: {err}");
        assert!(err.to_string().contains("truncated"));
    }
    let last_data = elf::parse(&bytes)
        .unwrap()
        .segments
        .iter()
        .map(|s| s.file_offset + s.file_size)
        .max()
        .unwrap();
    for cut in (headers..last_data).step_by(97) {
        let err = elf::parse(&bytes[..cut as usize]).unwrap_err();
        assert!(
            matches!(err, ExecError::SegmentOutsideFile { .. }),
            "cut at {cut}: {err}"
        );
    }
}
