//! `cargo run -p boot --bin fault-bench`: the fault-path benchmark.
//!
//! Boots `programs/src/bin/fault_bench.rs` (release build) for each pager
//! policy, under `-icount shift=0` (a tick is a guest instruction) and in
//! wall time, with 4- and 5-level paging (QEMU's `max` CPU has LA57; the
//! 4-level runs boot with `la57=off`). Then the same-binary comparison: the C workload
//! `shared/anchors/linux-fault/fault.c`, compiled once with `musl-gcc
//! -static` (cached in `target/bench/`), runs on our kernel through the
//! runner's exec path and as `/init` of Debian's Linux 6.1 booted in the
//! same QEMU with the same `-cpu` model (`boot::linux_guest`; the kernel is
//! downloaded into `target/linux-guest/` with `--download-linux`, once).
//! One table per mode puts them side by side, with Linux's figures from
//! `shared/anchors/linux-fault/run.sh` too when its output is given.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use boot::{
    Scenario,
    exec::{ExecProgram, RAMDISK_DIR},
    image::Firmware,
    linux_guest,
    qemu::QemuOptions,
};
use clap::Parser;
use pager::exec_list::ExecSpec;

#[derive(Parser, Debug)]
#[command(about)]
struct Args {
    /// Pager policies to measure.
    #[arg(long, value_delimiter = ',', default_value = "default,fault-around")]
    policies: Vec<String>,
    /// Output of the Linux anchor script (`shared/anchors/linux-fault/run.sh > FILE`);
    /// `target/linux-anchor.txt` is used when present.
    #[arg(long)]
    linux: Option<PathBuf>,
    /// Leave out the per-phase breakdown of the fault path.
    #[arg(long)]
    no_breakdown: bool,
    /// The C workload of the same-binary comparison (a relative path is
    /// taken from the workspace root).
    #[arg(long, default_value = "../shared/anchors/linux-fault/fault.c")]
    fault_c: PathBuf,
    /// Leave out the same-binary comparison (fault.c on both kernels).
    #[arg(long)]
    no_same_binary: bool,
    /// Fetch Debian's Linux 6.1 kernel (about 25 MB, with apt-get) into
    /// `target/linux-guest/` if it is not there yet; without it, the Linux
    /// side of the same-binary comparison runs only when it is cached.
    #[arg(long)]
    download_linux: bool,
    /// The QEMU `-cpu` model of every run, ours and Linux's. The default
    /// turns off ERMS and FSRM because under `-icount` each iteration of a
    /// `rep` string instruction counts as one instruction: with them, Linux
    /// clears a page with `rep stosb`, 4,096 "instructions", where without
    /// them it uses `rep stosq`, 512, as our pager does (`--cpu max` shows
    /// Linux at about 6,900 per first touch instead of 3,300).
    #[arg(long, default_value = "max,erms=off,fsrm=off")]
    cpu: String,
    /// Page-table levels of our native runs: 4 (`la57=off`), 5 (LA57).
    /// The C workloads run with the CPU's default (5 levels on `max`).
    #[arg(long, value_delimiter = ',', default_value = "4,5")]
    levels: Vec<u8>,
    /// Only the `-icount` runs (the wall-time ones measure the emulator).
    #[arg(long)]
    icount_only: bool,
    /// Only the address-space and /proc rows (`boot/bench/vma_cost.c` on
    /// both kernels).
    #[arg(long)]
    only_vma_costs: bool,
    /// Only the 2 MiB-page rows (`boot/bench/huge_touch.c` on both kernels).
    #[arg(long)]
    only_huge_pages: bool,
    /// Leave out the 2 MiB-page rows.
    #[arg(long)]
    no_huge_pages: bool,
}

/// Guest memory of the 2 MiB-page rows: Linux turns transparent huge pages
/// off below 512 MiB, so both sides get 2 GiB.
const HUGE_MEMORY: &str = "2G";

/// One figure: workload -> ticks per event.
type Figures = BTreeMap<String, u64>;

/// Parses `NAME first_touch round=R pages=N ticks_per_page=X` and friends.
/// Keeps the last round of first_touch (warm) and every other figure.
fn parse(output: &str, prefix: &str) -> Figures {
    let mut figures = Figures::new();
    for line in output.lines() {
        let Some(rest) = line.trim().strip_prefix(prefix) else {
            continue;
        };
        let mut words = rest.split_whitespace();
        let Some(workload) = words.next() else { continue };
        for word in words {
            if let Some((key, value)) = word.split_once('=')
                && key.starts_with("ticks_per_")
                && let Ok(v) = value.parse::<f64>()
            {
                figures.insert(workload.to_string(), v.round() as u64);
            }
        }
    }
    figures
}

/// Splits the anchor's output into its icount and wall-time sections.
fn parse_linux(text: &str) -> (Figures, Figures) {
    let mut icount = String::new();
    let mut wall = String::new();
    let mut in_icount = true;
    for line in text.lines() {
        if line.starts_with("# qemu") {
            in_icount = line.contains("icount shift=0");
            continue;
        }
        if in_icount {
            icount.push_str(line)
        } else {
            wall.push_str(line)
        }
        if in_icount { icount.push('\n') } else { wall.push('\n') }
    }
    (parse(&icount, "anchor linux "), parse(&wall, "anchor linux "))
}

/// Exits with the runner's status for its own errors.
fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("fault-bench: {message}");
    std::process::exit(2)
}

/// `source` compiled with `musl-gcc -O2 -static` into `target/bench/NAME`,
/// compiled again only when the source is newer than the binary.
fn compile_static(root: &Path, source: &Path, name: &str) -> Result<PathBuf, String> {
    let out = root.join("target/bench").join(name);
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let source_time = modified(source).ok_or_else(|| format!("{} not found (--fault-c)", source.display()))?;
    if modified(&out).is_some_and(|t| t >= source_time) {
        return Ok(out);
    }
    std::fs::create_dir_all(out.parent().expect("has a parent")).map_err(|e| e.to_string())?;
    let status = Command::new("musl-gcc")
        .args(["-O2", "-static", "-o"])
        .arg(&out)
        .arg(source)
        .status()
        .map_err(|e| format!("musl-gcc: {e}: install musl-tools (or run .ci/setup)"))?;
    if !status.success() {
        return Err(format!("musl-gcc -static {} failed ({status})", source.display()));
    }
    Ok(out)
}

/// One boot of ours to measure.
struct BenchRun {
    tag: String,
    /// Its column.
    name: String,
    /// The `run=` words (empty for an exec run).
    run: &'static str,
    exec: Vec<ExecProgram>,
    /// The prefix of its figure lines.
    prefix: &'static str,
    /// Page-table levels to force (`None`: the CPU's).
    levels: Option<u8>,
}

/// One column of the table: a name, its mode, its figures.
struct Column {
    name: String,
    icount: bool,
    figures: Figures,
}

fn main() {
    let args = Args::parse();
    let root = boot::workspace_root().unwrap_or_else(|e| fail(e));
    let artifacts = boot::qemu::check_installed(Firmware::Bios, &QemuOptions::default())
        .and_then(|()| boot::build::build(true))
        .unwrap_or_else(|e| fail(e));
    // The same binary for both kernels, and Linux's kernel if it is here.
    let fault_c = root.join(&args.fault_c);
    let same_binary = if args.no_same_binary {
        None
    } else if !fault_c.exists() {
        // A checkout without the shared anchors still gets its own figures.
        eprintln!(
            "fault-bench: {} not found (--fault-c): no same-binary comparison",
            fault_c.display()
        );
        None
    } else {
        Some(compile_static(&root, &fault_c, "fault-musl").unwrap_or_else(|e| fail(e)))
    };
    let linux_cache = root.join("target/linux-guest");
    let linux_kernel = same_binary.as_ref().and_then(|_| {
        linux_guest::cached_kernel(&linux_cache).or_else(|| {
            if args.download_linux {
                Some(linux_guest::download_kernel(&linux_cache).unwrap_or_else(|e| fail(e)))
            } else {
                eprintln!(
                    "fault-bench: no Linux kernel in {}: add --download-linux for the Linux column",
                    linux_cache.display()
                );
                None
            }
        })
    });
    let exec = same_binary.iter().map(|binary| ExecProgram {
        host_file: binary.clone(),
        spec: ExecSpec {
            path: format!("{RAMDISK_DIR}/fault-musl"),
            argv: vec!["fault-musl".into()],
            envp: Vec::new(),
        },
    });
    let exec: Vec<ExecProgram> = exec.collect();
    // Every run, ours and Linux's, on this machine (but for -icount).
    let machine = QemuOptions {
        timeout: Duration::from_secs(600),
        echo: false,
        cpu: args.cpu.clone(),
        ..QemuOptions::default()
    };
    let mut columns: Vec<Column> = Vec::new();
    let mut serials: Vec<(String, String)> = Vec::new();
    if let Some(bad) = args.levels.iter().find(|l| !matches!(l, 4 | 5)) {
        fail(format!("--levels takes 4 and 5, not {bad}"));
    }
    let modes: &[bool] = if args.icount_only { &[true] } else { &[true, false] };
    let only_other = args.only_vma_costs || args.only_huge_pages;
    let policies = if only_other { &[][..] } else { &args.policies[..] };
    for policy in policies {
        // Our native program, then the C binary through the exec path.
        let mut runs: Vec<BenchRun> = args
            .levels
            .iter()
            .map(|&levels| BenchRun {
                tag: format!("native{levels}"),
                name: format!("ours ({policy}, {levels}-level)"),
                run: " run=fault_bench",
                exec: Vec::new(),
                prefix: "microkernel ",
                levels: Some(levels),
            })
            .collect();
        if !exec.is_empty() {
            runs.push(BenchRun {
                tag: "fault-c".into(),
                name: format!("fault.c on ours ({policy})"),
                run: "",
                exec: exec.clone(),
                prefix: "anchor linux ",
                levels: None,
            });
        }
        for BenchRun {
            tag,
            name,
            run,
            exec,
            prefix,
            levels,
        } in runs
        {
            for &icount in modes {
                let la57 = if levels == Some(4) { " la57=off" } else { "" };
                let scenario = Scenario {
                    name: format!("bench-{tag}-{policy}-{}", if icount { "icount" } else { "wall" }),
                    release: true,
                    firmware: Firmware::Bios,
                    cmdline: format!("log=warn policy={policy} aslr=2{run} profile=1{la57}"),
                    exec: exec.clone(),
                    qemu: QemuOptions {
                        icount,
                        ..machine.clone()
                    },
                };
                eprintln!(
                    "fault-bench: {name}, {}",
                    if icount { "-icount shift=0" } else { "wall time" }
                );
                let result = boot::run_built(&artifacts, &scenario).unwrap_or_else(|e| fail(e));
                if result.outcome != boot::qemu::Outcome::Success {
                    eprintln!(
                        "{}\nfault-bench: the benchmark run failed: {}",
                        result.serial,
                        result.outcome.describe()
                    );
                    std::process::exit(1);
                }
                if let Some(levels) = levels {
                    let want = if levels == 5 {
                        "5-level paging (LA57)"
                    } else {
                        "4-level paging"
                    };
                    if !result.serial.contains(want) {
                        fail(format!(
                            "the {levels}-level run did not run {want} (does the CPU have LA57?)"
                        ));
                    }
                }
                let figures = parse(&result.serial, prefix);
                if icount && !run.is_empty() {
                    serials.push((name.clone(), result.serial.clone()));
                }
                columns.push(Column {
                    name: name.clone(),
                    icount,
                    figures,
                });
            }
        }
    }
    if let (Some(kernel), Some(binary), false) = (&linux_kernel, &same_binary, only_other) {
        let init = std::fs::read(binary).unwrap_or_else(|e| fail(format!("{}: {e}", binary.display())));
        let initrd = root.join("target/bench/fault-musl.cpio");
        std::fs::write(&initrd, linux_guest::initramfs(&init)).unwrap_or_else(|e| fail(e));
        let file = kernel.file_name().unwrap_or_default().to_string_lossy();
        let release = file.trim_start_matches("vmlinuz-");
        for &icount in modes {
            eprintln!(
                "fault-bench: fault.c on Linux {release}, {}",
                if icount { "-icount shift=0" } else { "wall time" }
            );
            let opts = QemuOptions {
                icount,
                ..machine.clone()
            };
            let text = linux_guest::run(kernel, &initrd, &opts).unwrap_or_else(|e| fail(e));
            let figures = parse(&text, "anchor linux ");
            if figures.is_empty() {
                fail(format!("the Linux guest printed no figures:\n{text}"));
            }
            columns.push(Column {
                name: format!("fault.c on Linux {release}"),
                icount,
                figures,
            });
        }
    }
    let vma_costs = if args.no_same_binary || args.only_huge_pages {
        None
    } else {
        Some(vma_costs(&root, &artifacts, &machine, linux_kernel.as_deref()))
    };
    let default_anchor = root.join("target/linux-anchor.txt");
    let anchor = args
        .linux
        .clone()
        .or_else(|| default_anchor.exists().then_some(default_anchor));
    if let Some(p) = anchor {
        let text = std::fs::read_to_string(&p).unwrap_or_else(|e| fail(format!("cannot read {}: {e}", p.display())));
        let (icount, wall) = parse_linux(&text);
        for (icount, figures) in [(true, icount), (false, wall)] {
            columns.push(Column {
                name: "run.sh: Linux 6.1 (gcc, QEMU's default -cpu)".into(),
                icount,
                figures,
            });
        }
    }
    let workloads = [
        ("first_touch", "first touch, per page"),
        ("single_fault", "single fault"),
        ("null", "null IPC (ours) / getppid (fault.c)"),
    ];
    let qemu = boot::qemu::version(&machine.binary).unwrap_or_else(|| machine.binary.clone());
    let setup = format!("{qemu}, -cpu {}, -m {}, one CPU", machine.cpu, machine.memory);
    for &icount in modes {
        if only_other {
            break;
        }
        println!();
        println!(
            "## {} ({setup})",
            if icount {
                "-icount shift=0, ticks = guest instructions"
            } else {
                "wall time, ticks = host TSC"
            }
        );
        let columns: Vec<&Column> = columns.iter().filter(|c| c.icount == icount).collect();
        let header: String = columns.iter().map(|c| format!(" {} |", c.name)).collect();
        println!("| workload |{header}");
        println!("|---|{}", "---:|".repeat(columns.len()));
        for (key, label) in workloads {
            let cells: String = columns
                .iter()
                .map(|c| {
                    let value = c.figures.iter().find(|(k, _)| k.starts_with(key)).map(|(_, v)| *v);
                    format!(" {} |", value.map_or("-".into(), |v| v.to_string()))
                })
                .collect();
            println!("| {label} |{cells}");
        }
        if icount {
            for policy in &args.policies {
                let figure = |name: String, key: &str| {
                    columns
                        .iter()
                        .find(|c| c.name == name)
                        .and_then(|c| c.figures.get(key).copied())
                };
                // The C workload runs with 5 levels: compare with the same.
                let native = args.levels.iter().max().map_or(5, |l| *l);
                if let (Some(null), Some(getppid)) = (
                    figure(format!("ours ({policy}, {native}-level)"), "null_ipc"),
                    figure(format!("fault.c on ours ({policy})"), "null_syscall"),
                ) {
                    println!(
                        "\nforwarded getppid / null IPC round trip ({policy}): {getppid} / {null} = {:.3} (bound: 1.2)",
                        getppid as f64 / null as f64
                    );
                }
            }
        }
    }
    if let Some((ours, linux)) = vma_costs {
        print_vma_costs(&ours, linux.as_ref(), &format!("-icount shift=0, {setup}"));
    }
    if !args.no_huge_pages && !args.only_vma_costs {
        let huge = QemuOptions {
            icount: true,
            memory: HUGE_MEMORY.into(),
            ..machine.clone()
        };
        let (ours, linux) = huge_pages(&root, &artifacts, &huge, linux_kernel.as_deref());
        let setup = format!(
            "-icount shift=0, {qemu}, -cpu {}, -m {HUGE_MEMORY}, one CPU",
            machine.cpu
        );
        print_huge_pages(&ours, linux.as_ref(), &setup);
    }
    if !args.no_breakdown {
        for (name, serial) in &serials {
            println!("\n## fault-path breakdown, {name} (-icount shift=0, instructions per fault)");
            for line in serial.lines().filter(|l| l.contains("breakdown")) {
                println!("{}", line.trim());
            }
        }
    }
}

/// `boot/bench/vma_cost.c`'s figures: `key@vmas` (or `key`) -> ticks.
fn parse_vma_costs(text: &str) -> Figures {
    let mut figures = Figures::new();
    for line in text.lines() {
        let Some(rest) = line.trim().strip_prefix("vmacost ") else {
            continue;
        };
        let fields: Vec<(&str, u64)> = rest
            .split_whitespace()
            .filter_map(|f| f.split_once('='))
            .filter_map(|(k, v)| Some((k, v.parse().ok()?)))
            .collect();
        let vmas = fields.iter().find(|(k, _)| *k == "vmas").map(|(_, v)| *v);
        for (key, value) in fields {
            match vmas {
                Some(n) if key != "vmas" && key != "lines" => figures.insert(format!("{key}@{n}"), value),
                None => figures.insert(key.to_string(), value),
                _ => None,
            };
        }
    }
    figures
}

/// Runs `boot/bench/vma_cost.c` under -icount on our kernel (policy
/// default) and on Linux when its kernel is here.
fn vma_costs(
    root: &Path,
    artifacts: &boot::build::Artifacts,
    machine: &QemuOptions,
    linux_kernel: Option<&Path>,
) -> (Figures, Option<Figures>) {
    let binary = compile_static(root, &root.join("boot/bench/vma_cost.c"), "vma-cost").unwrap_or_else(|e| fail(e));
    let opts = QemuOptions {
        icount: true,
        ..machine.clone()
    };
    eprintln!("fault-bench: vma_cost.c on ours (default), -icount shift=0");
    let scenario = Scenario {
        name: "bench-vma-cost".into(),
        release: true,
        firmware: Firmware::Bios,
        cmdline: "log=warn policy=default aslr=2".into(),
        exec: vec![ExecProgram {
            host_file: binary.clone(),
            spec: ExecSpec {
                path: format!("{RAMDISK_DIR}/vma-cost"),
                argv: vec!["vma-cost".into()],
                envp: Vec::new(),
            },
        }],
        qemu: opts.clone(),
    };
    let result = boot::run_built(artifacts, &scenario).unwrap_or_else(|e| fail(e));
    if result.outcome != boot::qemu::Outcome::Success {
        fail(format!(
            "vma_cost.c on ours failed: {}\n{}",
            result.outcome.describe(),
            result.serial
        ));
    }
    let ours = parse_vma_costs(&result.serial);
    let linux = linux_kernel.map(|kernel| {
        eprintln!("fault-bench: vma_cost.c on Linux, -icount shift=0");
        let init = std::fs::read(&binary).unwrap_or_else(|e| fail(format!("{}: {e}", binary.display())));
        let initrd = root.join("target/bench/vma-cost.cpio");
        std::fs::write(&initrd, linux_guest::initramfs(&init)).unwrap_or_else(|e| fail(e));
        let text = linux_guest::run(kernel, &initrd, &opts).unwrap_or_else(|e| fail(e));
        let figures = parse_vma_costs(&text);
        if figures.is_empty() {
            fail(format!("vma_cost.c on Linux printed no figures:\n{text}"));
        }
        figures
    });
    (ours, linux)
}

/// `boot/bench/huge_touch.c`'s figure (the last round's ticks per 4 KiB
/// page) and its other lines (AnonHugePages, Linux's THP setting).
#[derive(Debug, Default)]
struct HugeRun {
    per_page: Option<u64>,
    notes: Vec<String>,
}

fn parse_huge(text: &str) -> HugeRun {
    let mut run = HugeRun::default();
    for line in text.lines() {
        let Some(rest) = line.trim().strip_prefix("hugebench ") else {
            continue;
        };
        let figure = rest
            .strip_prefix("first_touch ")
            .and_then(|r| r.split_whitespace().find_map(|w| w.strip_prefix("ticks_per_page=")))
            .and_then(|v| v.parse::<f64>().ok());
        match figure {
            Some(v) => run.per_page = Some(v.round() as u64),
            None => run.notes.push(rest.to_string()),
        }
    }
    run
}

/// Runs `boot/bench/huge_touch.c` under -icount with 2 GiB on our kernel
/// (policy huge) and on Linux (transparent huge pages as Debian builds
/// them: always) when its kernel is here.
fn huge_pages(
    root: &Path,
    artifacts: &boot::build::Artifacts,
    opts: &QemuOptions,
    linux_kernel: Option<&Path>,
) -> (HugeRun, Option<HugeRun>) {
    let binary = compile_static(root, &root.join("boot/bench/huge_touch.c"), "huge-touch").unwrap_or_else(|e| fail(e));
    eprintln!("fault-bench: huge_touch.c on ours (huge), -icount shift=0, -m {HUGE_MEMORY}");
    let scenario = Scenario {
        name: "bench-huge-touch".into(),
        release: true,
        firmware: Firmware::Bios,
        cmdline: "log=warn policy=huge aslr=2".into(),
        exec: vec![ExecProgram {
            host_file: binary.clone(),
            spec: ExecSpec {
                path: format!("{RAMDISK_DIR}/huge-touch"),
                argv: vec!["huge-touch".into()],
                envp: Vec::new(),
            },
        }],
        qemu: opts.clone(),
    };
    let result = boot::run_built(artifacts, &scenario).unwrap_or_else(|e| fail(e));
    if result.outcome != boot::qemu::Outcome::Success {
        fail(format!(
            "huge_touch.c on ours failed: {}\n{}",
            result.outcome.describe(),
            result.serial
        ));
    }
    let ours = parse_huge(&result.serial);
    let linux = linux_kernel.map(|kernel| {
        eprintln!("fault-bench: huge_touch.c on Linux, -icount shift=0, -m {HUGE_MEMORY}");
        let init = std::fs::read(&binary).unwrap_or_else(|e| fail(format!("{}: {e}", binary.display())));
        let initrd = root.join("target/bench/huge-touch.cpio");
        std::fs::write(&initrd, linux_guest::initramfs(&init)).unwrap_or_else(|e| fail(e));
        let text = linux_guest::run(kernel, &initrd, opts).unwrap_or_else(|e| fail(e));
        let run = parse_huge(&text);
        if run.per_page.is_none() {
            fail(format!("huge_touch.c on Linux printed no figure:\n{text}"));
        }
        run
    });
    (ours, linux)
}

/// The 2 MiB-page row: ours, Linux's, the ratio and the goal, then what
/// each side said about its huge pages.
fn print_huge_pages(ours: &HugeRun, linux: Option<&HugeRun>, setup: &str) {
    println!("\n## first touch of 256 MiB with 2 MiB pages, the same binary on both ({setup})");
    println!("| workload | ours (huge) | Linux (transparent huge pages) | ours / Linux | goal |");
    println!("|---|---:|---:|---:|---|");
    let cell = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
    let theirs = linux.and_then(|l| l.per_page);
    let ratio = match (ours.per_page, theirs) {
        (Some(a), Some(b)) if b > 0 => format!("{:.2}", a as f64 / b as f64),
        _ => "-".into(),
    };
    println!(
        "| first touch, per 4 KiB page | {} | {} | {ratio} | <= 600 |",
        cell(ours.per_page),
        cell(theirs)
    );
    for (side, run) in [("ours", Some(ours)), ("Linux", linux)] {
        for note in run.map(|r| r.notes.as_slice()).unwrap_or_default() {
            println!("{side}: {note}");
        }
    }
}

/// The table of issue 14's rows: ours, Linux's, the ratio and the target.
fn print_vma_costs(ours: &Figures, linux: Option<&Figures>, setup: &str) {
    println!("\n## address space and /proc, the same binary on both ({setup})");
    println!("| workload | ours | Linux | ours / Linux | target |");
    println!("|---|---:|---:|---:|---|");
    let mut rows = vec![(
        "existing_fault".to_string(),
        "single fault, the mapping exists".to_string(),
        "",
    )];
    for n in [10, 1000, 30000] {
        rows.push((format!("mmap_munmap@{n}"), format!("mmap + munmap pair, {n} VMAs"), ""));
    }
    for n in [10, 1000, 30000] {
        let target = if n == 10 { "" } else { "<= 1.5" };
        rows.push((
            format!("maps_per_vma@{n}"),
            format!("whole maps read, per VMA, {n} VMAs"),
            target,
        ));
    }
    for n in [10, 1000, 30000] {
        rows.push((format!("maps_4k@{n}"), format!("one 4 KiB maps read, {n} VMAs"), "<= 2"));
    }
    for n in [10, 1000, 30000] {
        rows.push((
            format!("smaps_per_vma@{n}"),
            format!("whole smaps read, per VMA, {n} VMAs"),
            "",
        ));
    }
    rows.push(("mem_64k".to_string(), "one 64 KiB mem read".to_string(), ""));
    rows.push((
        "pagemap_8k".to_string(),
        "one 8 KiB pagemap read (1,024 resident pages)".to_string(),
        "",
    ));
    for (key, label, target) in rows {
        let mine = ours.get(&key).copied();
        let theirs = linux.and_then(|l| l.get(&key).copied());
        let cell = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
        let ratio = match (mine, theirs) {
            (Some(a), Some(b)) if b > 0 => format!("{:.2}", a as f64 / b as f64),
            _ => "-".into(),
        };
        println!("| {label} | {} | {} | {ratio} | {target} |", cell(mine), cell(theirs));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_lines_keep_the_last_round_and_the_notes() {
        let text = "x\nhugebench first_touch round=0 pages=65536 ticks_per_page=700\nhugebench AnonHugePages:   262144 kB\nhugebench first_touch round=2 pages=65536 ticks_per_page=612.4\nhugebench always [madvise] never\n";
        let run = parse_huge(text);
        assert_eq!(run.per_page, Some(612));
        assert_eq!(run.notes, ["AnonHugePages:   262144 kB", "always [madvise] never"]);
        assert_eq!(parse_huge("nothing").per_page, None);
    }

    #[test]
    fn vma_cost_lines_parse_per_vma_count() {
        let text = "noise\nvmacost existing_fault=2641\nvmacost vmas=10 lines=19 maps_per_vma=10846 maps_4k=124275 mmap_munmap=14054\n";
        let f = parse_vma_costs(text);
        assert_eq!(f.get("existing_fault"), Some(&2641));
        assert_eq!(f.get("maps_per_vma@10"), Some(&10846));
        assert_eq!(f.get("mmap_munmap@10"), Some(&14054));
        assert_eq!(f.get("lines@10"), None);
        assert_eq!(f.len(), 4);
    }
}
