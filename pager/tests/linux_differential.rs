//! Differential test against Linux itself: the cases of
//! `linux_probes/cases.txt` run on this host's kernel (the C probe
//! `linux_probes/memcalls.c`, compiled with gcc and run as a child
//! process) and against the library (`pager::linux::memory_call` on an
//! address space laid out like the probe's), and the two transcripts must
//! be equal line for line. Both print facts, not addresses: offsets in an
//! arena, relative to the first break, errno names, the arena's VMAs.
//!
//! The probe's constants (`--constants`) are checked against
//! `pager::linux::abi::SYMBOLS` first. Without gcc or on a non-Linux host
//! the test says so and passes.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Command,
};

use libipc::types::{Access, PAGE_SIZE, PhysAddr, Prot, VirtAddr};
use pager::{
    effects::Effects,
    frames::FramePool,
    layout::{self, ProgramImage, Segment},
    linux::{self, Caller, Errno, Privileges, UserAccess, abi},
    policy::OnePage,
    resident::Frame,
    rlimit::Rlimits,
    rng::Rng,
    settings::Settings,
    space::{AddressSpace, FaultDecision, Fill, TASK_SIZE_47},
    vma::{Hints, Lock, VmaName},
};

const PAGE: u64 = PAGE_SIZE;
/// The arena's size, as the probe's `ARENA`.
const ARENA: u64 = 64 << 20;
/// The probe's untouched .bss (`big_bss`).
const BSS: u64 = 16 << 20;
/// Where the library's arena and scratch buffer sit: far below the mmap
/// base, so placement without a hint lands outside the arena, as on Linux.
const ARENA_BASE: u64 = 0x1000_0000_0000;
const SCRATCH: u64 = 0x2000_0000_0000;

fn probes() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/linux_probes")
}

/// Compiles the probe, once for every test of this file: tests run in
/// parallel, and a second compile writing the file another test runs
/// fails with ETXTBSY. The comparison needs Linux and gcc: anywhere else
/// the test fails and says what is missing, rather than passing untested.
fn build_probe() -> Option<PathBuf> {
    static PROBE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    Some(PROBE.get_or_init(compile_probe).clone())
}

fn compile_probe() -> PathBuf {
    #[cfg(not(target_os = "linux"))]
    panic!("linux_differential compares with the host's Linux: run it on Linux");
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("memcalls-probe");
    let status = Command::new("gcc")
        .args(["-O1", "-Wall", "-Wextra", "-Werror", "-o"])
        .arg(&out)
        .arg(probes().join("memcalls.c"))
        .status();
    match status {
        Ok(s) if s.success() => out,
        Ok(s) => panic!("gcc failed on memcalls.c: {s}"),
        Err(e) => panic!("linux_differential needs gcc (apt-get install -y gcc libc6-dev): {e}"),
    }
}

#[test]
fn constants_match_the_host_headers() {
    let Some(probe) = build_probe() else { return };
    let out = Command::new(&probe).arg("--constants").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let mut seen = 0;
    for line in text.lines() {
        let (name, value) = line.split_once(' ').unwrap();
        let value: u64 = value.parse().unwrap();
        assert_eq!(abi::symbol(name), Some(value), "{name}");
        seen += 1;
    }
    assert_eq!(
        seen,
        abi::SYMBOLS.len(),
        "the probe and the library list the same names"
    );
}

#[test]
fn the_library_answers_as_linux() {
    let Some(probe) = build_probe() else { return };
    let cases = probes().join("cases.txt");
    let out = Command::new(&probe).arg(&cases).output().unwrap();
    assert!(out.status.success(), "probe: {}", String::from_utf8_lossy(&out.stderr));
    let linux = String::from_utf8(out.stdout).unwrap();
    let script = std::fs::read_to_string(&cases).unwrap();
    let ours = run_script(&script);
    let (linux, ours) = (split_cases(&linux), split_cases(&ours));
    assert_eq!(
        linux.keys().collect::<Vec<_>>(),
        ours.keys().collect::<Vec<_>>(),
        "the same cases ran"
    );
    let mut failures = Vec::new();
    for (name, theirs) in &linux {
        if theirs.contains("skip: needs root") {
            eprintln!("case {name}: skipped on Linux (needs root)");
            continue;
        }
        let mine = &ours[name];
        if theirs != mine {
            failures.push(format!("case {name}\n--- linux\n{theirs}--- library\n{mine}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Transcript text by case name.
fn split_cases(text: &str) -> BTreeMap<String, String> {
    let mut cases = BTreeMap::new();
    let mut name = String::new();
    for line in text.lines() {
        if let Some(n) = line.strip_prefix("case ") {
            name = n.to_string();
            cases.insert(name.clone(), String::new());
        } else if let Some(body) = cases.get_mut(&name) {
            body.push_str(line);
            body.push('\n');
        }
    }
    cases
}

/// Runs every case of `script` against the library; the same transcript
/// format as the probe's.
fn run_script(script: &str) -> String {
    let mut out = String::new();
    let mut current: Option<(String, bool, Vec<String>)> = None;
    let flush = |case: Option<(String, bool, Vec<String>)>, out: &mut String| {
        if let Some((name, privileged, ops)) = case {
            out.push_str(&format!("case {name}\n"));
            let mut p = Process::new(privileged);
            for op in ops {
                out.push_str(&format!("{op} -> "));
                out.push_str(&p.run(&op));
            }
        }
    };
    for line in script.lines() {
        let line = line.trim_start();
        if let Some(rest) = line.strip_prefix("case ") {
            flush(current.take(), &mut out);
            let mut words = rest.split_whitespace();
            let name = words.next().unwrap_or_default().to_string();
            current = Some((name, words.next() == Some("priv"), Vec::new()));
        } else if !line.is_empty()
            && !line.starts_with('#')
            && let Some((_, _, ops)) = current.as_mut()
        {
            ops.push(line.to_string());
        }
    }
    flush(current, &mut out);
    out
}

/// The library's side of one case: an address space laid out like the
/// probe's, a frame pool, and the bytes of the frames it touched.
struct Process {
    space: AddressSpace,
    caller: Caller,
    pool: FramePool,
    memory: BTreeMap<(u64, u64), u8>,
    vars: BTreeMap<String, u64>,
    brk0: u64,
    bss: (u64, u64),
}

/// The probe as a program image: text, then data with a 16 MiB .bss.
fn probe_image() -> ProgramImage {
    ProgramImage {
        pie: false,
        entry: 0x40_1000,
        segments: vec![
            Segment {
                vaddr: 0x40_0000,
                mem_size: 0x3000,
                file_size: 0x3000,
                file_offset: 0,
                prot: Prot::RX,
            },
            Segment {
                vaddr: 0x60_0000,
                mem_size: 0x1000 + BSS,
                file_size: 0x800,
                file_offset: 0x3000,
                prot: Prot::RW,
            },
        ],
        file: pager::vma::FileId(1),
        path: "/probe".into(),
    }
}

impl Process {
    fn new(privileged: bool) -> Process {
        let mut settings = Settings::default();
        // The host's sysctl, so MAP_FIXED low down answers as there.
        if let Ok(min) = std::fs::read_to_string("/proc/sys/vm/mmap_min_addr") {
            settings.set("vm.mmap_min_addr", min.trim()).unwrap();
        }
        let loaded = layout::load(
            &probe_image(),
            &settings,
            Rlimits::default(),
            &mut Rng::from_words([1, 2, 3, 4]),
        )
        .unwrap();
        let mut space = loaded.space;
        let caller = Caller {
            pid: 1,
            privileges: if privileged {
                host_privileges()
            } else {
                Privileges::default()
            },
        };
        let scratch = linux::memory_call(
            &mut space,
            &caller,
            &mut NoFiles(BTreeMap::new()),
            abi::nr::MMAP,
            [
                SCRATCH,
                16 * PAGE,
                abi::prot::READ | abi::prot::WRITE,
                abi::map::PRIVATE | abi::map::ANONYMOUS | abi::map::FIXED,
                u64::MAX,
                0,
            ],
        );
        assert_eq!(scratch.rax as u64, SCRATCH);
        let bss = space
            .vmas()
            .iter()
            .find(|v| v.start >= 0x60_1000 && v.start < 0x70_0000)
            .map(|v| (v.start, v.end))
            .unwrap();
        let brk0 = space.layout.brk;
        Process {
            space,
            caller,
            pool: FramePool::new(PhysAddr(0x1_0000_0000), 1 << 16),
            memory: BTreeMap::new(),
            vars: BTreeMap::new(),
            brk0,
            bss,
        }
    }

    fn run(&mut self, line: &str) -> String {
        let words: Vec<&str> = line.split_whitespace().collect();
        let (words, var) = match words.len() {
            n if n >= 2 && words[n - 2] == "=>" => (&words[..n - 2], Some(words[n - 1])),
            _ => (&words[..], None),
        };
        let mut value = 0;
        let text = match words[0] {
            "sys" => {
                let number = abi::symbol(&format!("SYS_{}", words[1])).unwrap();
                let mut args = [0u64; 6];
                for (i, w) in words[2..].iter().enumerate() {
                    args[i] = self.expr(w);
                }
                let rax = self.call(number, args).0;
                value = rax as u64;
                format!("{}\n", self.fact_or_errno(rax))
            }
            "read" => match self.access(self.expr(words[1]), Access::Read) {
                Some((frame, off)) => format!("{}\n", self.memory.get(&(frame, off)).copied().unwrap_or(0)),
                None => "SEGV\n".into(),
            },
            "write" => {
                let v = self.expr(words[2]) as u8;
                match self.access(self.expr(words[1]), Access::Write) {
                    Some(at) => {
                        self.memory.insert(at, v);
                        "ok\n".into()
                    }
                    None => "SEGV\n".into(),
                }
            }
            "maps" => {
                let mut s = String::from("\n");
                for v in self.space.vmas().overlapping(ARENA_BASE, ARENA_BASE + ARENA) {
                    let perms = pager::maps::perms(v.prot, v.shared);
                    s.push_str(&format!(
                        "  @+{}p-@+{}p {perms}",
                        (v.start - ARENA_BASE) / PAGE,
                        (v.end - ARENA_BASE) / PAGE
                    ));
                    let mut flags = Vec::new();
                    if v.grows_down {
                        flags.push("gd");
                    }
                    match v.lock {
                        Lock::None => {}
                        Lock::Locked => flags.push("lo"),
                        Lock::OnFault => flags.extend(["lo", "lf"]),
                    }
                    for (h, m) in [(Hints::SEQUENTIAL, "sr"), (Hints::RANDOM, "rr")] {
                        if v.hints.contains(h) {
                            flags.push(m);
                        }
                    }
                    for m in v.hints.mnemonics().filter(|m| ["dc", "dd", "wf"].contains(m)) {
                        flags.push(m);
                    }
                    for f in flags {
                        s.push_str(&format!(" {f}"));
                    }
                    s.push('\n');
                }
                s
            }
            "mincore" => {
                let len = self.expr(words[2]);
                let (rax, effects) = self.call(
                    abi::nr::MINCORE,
                    [self.expr(words[1]), len, SCRATCH + 8 * PAGE, 0, 0, 0],
                );
                match Errno::from_rax(rax) {
                    Some(e) => format!("{}\n", e.name()),
                    None => {
                        let bytes = effects.copy_out.first().map(|c| c.bytes.clone()).unwrap_or_default();
                        let digits: String = bytes.iter().map(|b| char::from(b'0' + (b & 1))).collect();
                        format!("{digits}\n")
                    }
                }
            }
            "setrlimit" | "prlimit" => {
                let (soft, hard) = (self.expr(words[2]), self.expr(words[3]));
                let mut bytes = soft.to_le_bytes().to_vec();
                bytes.extend(hard.to_le_bytes());
                self.poke(SCRATCH, &bytes);
                let res = self.expr(words[1]);
                if words[0] == "setrlimit" {
                    let rax = self.call(abi::nr::SETRLIMIT, [res, SCRATCH, 0, 0, 0, 0]).0;
                    format!("{}\n", self.fact_or_errno(rax))
                } else {
                    let (rax, effects) = self.call(abi::nr::PRLIMIT64, [0, res, SCRATCH, SCRATCH + 16, 0, 0]);
                    match Errno::from_rax(rax) {
                        Some(e) => format!("{}\n", e.name()),
                        None => {
                            let (s, h) = limit_of(&effects);
                            format!("0 old {s} {h}\n")
                        }
                    }
                }
            }
            "getrlimit" => {
                let (rax, effects) = self.call(abi::nr::GETRLIMIT, [self.expr(words[1]), SCRATCH, 0, 0, 0, 0]);
                match Errno::from_rax(rax) {
                    Some(e) => format!("{}\n", e.name()),
                    None => {
                        let (s, h) = limit_of(&effects);
                        format!("{s} {h}\n")
                    }
                }
            }
            "bss_readonly" => {
                let (start, end) = self.bss;
                let rax = self
                    .call(abi::nr::MPROTECT, [start, end - start, abi::prot::READ, 0, 0, 0])
                    .0;
                format!("{}\n", self.fact_or_errno(rax))
            }
            "gap0" => {
                let mut settings = Settings::default();
                settings.set("kernel.randomize_va_space", "0").unwrap();
                let l = layout::load(
                    &probe_image(),
                    &settings,
                    Rlimits::default(),
                    &mut Rng::from_words([0; 4]),
                )
                .unwrap();
                let top = l
                    .space
                    .vmas()
                    .iter()
                    .filter(|v| v.name != VmaName::Stack)
                    .map(|v| v.end)
                    .max()
                    .unwrap();
                format!("{} MiB\n", (TASK_SIZE_47 - top) >> 20)
            }
            other => panic!("unknown op {other}"),
        };
        if let Some(var) = var {
            self.vars.insert(var.to_string(), value);
        }
        text
    }

    /// One call through the library, its effects carried out.
    fn call(&mut self, number: u64, args: [u64; 6]) -> (i64, Effects) {
        let mut user = NoFiles(self.memory.clone());
        let outcome = linux::memory_call(&mut self.space, &self.caller, &mut user, number, args);
        self.carry_out(&outcome.effects);
        (outcome.rax, outcome.effects)
    }

    fn carry_out(&mut self, effects: &Effects) {
        for frame in effects.dropped.iter().filter_map(|(_, f)| f.own()) {
            self.memory.retain(|&(f, _), _| f != frame.0);
            self.pool.free(frame).unwrap();
        }
        for p in &effects.populate {
            for page in self.space.populate(p.start, p.end) {
                let frame = self.pool.alloc().expect("frames");
                self.space.commit(page.virt, page.frame(frame)).unwrap();
            }
        }
        for c in &effects.copy_out {
            self.poke(c.addr.0, &c.bytes);
        }
    }

    /// Writes bytes as the program would (faulting pages in).
    fn poke(&mut self, addr: u64, bytes: &[u8]) {
        for (i, &b) in bytes.iter().enumerate() {
            let at = self.access(addr + i as u64, Access::Write).expect("a writable buffer");
            self.memory.insert(at, b);
        }
    }

    /// The frame and offset an access reaches, after the fault path;
    /// `None` when the fault kills.
    fn access(&mut self, addr: u64, access: Access) -> Option<(u64, u64)> {
        let page = addr & !(PAGE - 1);
        let resident = self.space.frame_of(VirtAddr(page)).and_then(Frame::own);
        let allowed = self.space.vmas().find(page).is_some_and(|v| match access {
            Access::Read => v.prot != Prot::NONE,
            Access::Write => v.prot.contains(Prot::WRITE),
            Access::Execute => v.prot.contains(Prot::EXEC),
        });
        if let (Some(frame), true) = (resident, allowed) {
            return Some((frame.0, addr - page));
        }
        match self.space.fault(&mut OnePage, addr, access) {
            FaultDecision::Kill(_) => None,
            FaultDecision::Map(pages) => {
                for p in pages {
                    if let Fill::Resident(_) = p.fill {
                        continue;
                    }
                    let frame = self.pool.alloc().expect("frames");
                    self.space.commit(p.virt, p.frame(frame)).unwrap();
                }
                self.space
                    .frame_of(VirtAddr(page))
                    .and_then(Frame::own)
                    .map(|f| (f.0, addr - page))
            }
        }
    }

    fn expr(&self, s: &str) -> u64 {
        let (mut v, mut op, mut rest) = (0u64, '+', s);
        if let Some(r) = rest.strip_prefix('-') {
            op = '-';
            rest = r;
        }
        loop {
            let after_arena = rest.starts_with('@');
            let (t, r) = self.term(rest);
            v = match op {
                '+' => v.wrapping_add(t),
                '-' => v.wrapping_sub(t),
                _ => v | t,
            };
            rest = r;
            if after_arena && rest.starts_with(|c: char| c.is_ascii_digit()) {
                op = '+';
                continue;
            }
            let mut chars = rest.chars();
            match chars.next() {
                None => return v,
                Some(c) => {
                    op = c;
                    rest = chars.as_str();
                }
            }
        }
    }

    fn term<'a>(&self, s: &'a str) -> (u64, &'a str) {
        if let Some(r) = s.strip_prefix('@') {
            return (ARENA_BASE, r);
        }
        if s.starts_with(|c: char| c.is_ascii_digit()) {
            let end = s.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(s.len());
            let (num, rest) = s.split_at(end);
            let (digits, scale) = match num.as_bytes()[num.len() - 1] {
                b'p' if !num.starts_with("0x") || num.len() > 2 => (&num[..num.len() - 1], PAGE),
                b'k' => (&num[..num.len() - 1], 1 << 10),
                b'm' => (&num[..num.len() - 1], 1 << 20),
                b'g' => (&num[..num.len() - 1], 1 << 30),
                _ => (num, 1),
            };
            let value = match digits.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16).unwrap(),
                None => digits.parse().unwrap(),
            };
            return (value * scale, rest);
        }
        let s = s.strip_prefix('$').unwrap_or(s);
        let end = s
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(s.len());
        let (word, rest) = s.split_at(end);
        let value = match word {
            "brk0" => self.brk0,
            "vmdata" => self.space.data_vm(),
            "vmlck" => self.space.locked_vm(),
            "vmsize" => self.space.total_vm(),
            "inf" => u64::MAX,
            w => self
                .vars
                .get(w)
                .copied()
                .or_else(|| abi::symbol(w))
                .unwrap_or_else(|| panic!("bad term {w}")),
        };
        (value, rest)
    }

    /// As the probe's `fact` and `result`.
    fn fact_or_errno(&self, rax: i64) -> String {
        if rax < 0 && rax > -4096 {
            return Errno::from_rax(rax).map_or("E?".into(), |e| e.name().into());
        }
        let v = rax as u64;
        if (ARENA_BASE..ARENA_BASE + ARENA).contains(&v) {
            let off = v - ARENA_BASE;
            format!("@+{}p{}", off / PAGE, if !off.is_multiple_of(PAGE) { "+" } else { "" })
        } else if v < 0x10000 {
            format!("{v}")
        } else if ((1 << 30)..(2 << 30)).contains(&v) {
            "1g..2g".into()
        } else if v.wrapping_add(1 << 30) >= self.brk0 && v <= self.brk0 + (1 << 30) {
            let (sign, d) = if v >= self.brk0 {
                ('+', v - self.brk0)
            } else {
                ('-', self.brk0 - v)
            };
            format!("brk0{sign}{}p", d / PAGE)
        } else {
            "outside".into()
        }
    }
}

/// The capabilities a `priv` case has on the host: the test's own (the
/// probe runs as the same user, keeping them), which a container may
/// narrow (e.g. without CAP_SYS_RESOURCE).
fn host_privileges() -> Privileges {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let effective = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .unwrap_or(0);
    /// CAP_IPC_LOCK and CAP_SYS_RESOURCE.
    const IPC_LOCK: u32 = 14;
    const SYS_RESOURCE: u32 = 24;
    Privileges {
        ipc_lock: effective & (1 << IPC_LOCK) != 0,
        sys_resource: effective & (1 << SYS_RESOURCE) != 0,
    }
}

/// The soft and hard limits a call copied out.
fn limit_of(effects: &Effects) -> (u64, u64) {
    let b = &effects.copy_out[0].bytes;
    (
        u64::from_le_bytes(b[..8].try_into().unwrap()),
        u64::from_le_bytes(b[8..16].try_into().unwrap()),
    )
}

/// The harness's user memory (a snapshot of the frames' bytes); no files.
struct NoFiles(BTreeMap<(u64, u64), u8>);

impl UserAccess for NoFiles {
    fn read(&mut self, space: &AddressSpace, addr: VirtAddr, buf: &mut [u8]) -> bool {
        for (i, b) in buf.iter_mut().enumerate() {
            let a = addr.0 + i as u64;
            let page = a & !(PAGE - 1);
            *b = space
                .frame_of(VirtAddr(page))
                .and_then(Frame::own)
                .and_then(|f| self.0.get(&(f.0, a - page)).copied())
                .unwrap_or(0);
        }
        true
    }
}
