//! `cargo run -p boot --bin fault-bench`: the fault-path benchmark.
//!
//! Boots `programs/src/bin/fault_bench.rs` (release build) for each pager
//! policy, under `-icount shift=0` (a tick is a guest instruction) and in
//! wall time, with 4- and 5-level paging (QEMU's `max` CPU has LA57; the
//! 4-level runs boot with `la57=off`), and prints a table with Linux's
//! figures from `shared/anchors/linux-fault/run.sh` beside ours when its
//! output is given.

use std::{collections::BTreeMap, path::PathBuf, time::Duration};

use boot::{Scenario, image::Firmware, qemu::QemuOptions};
use clap::Parser;

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
    /// Page-table levels to measure: 4 (`la57=off`), 5 (LA57).
    #[arg(long, value_delimiter = ',', default_value = "4,5")]
    levels: Vec<u8>,
    /// Only the `-icount` runs (the wall-time ones measure the emulator).
    #[arg(long)]
    icount_only: bool,
}

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

fn main() {
    let args = Args::parse();
    let artifacts = boot::qemu::check_installed(Firmware::Bios, &QemuOptions::default())
        .and_then(|()| boot::build::build(true))
        .unwrap_or_else(|e| {
            eprintln!("fault-bench: {e}");
            std::process::exit(2)
        });
    if let Some(bad) = args.levels.iter().find(|l| !matches!(l, 4 | 5)) {
        eprintln!("fault-bench: --levels takes 4 and 5, not {bad}");
        std::process::exit(2)
    }
    let modes: &[bool] = if args.icount_only { &[true] } else { &[true, false] };
    let mut results: Vec<(String, bool, Figures, String)> = Vec::new();
    for policy in &args.policies {
        for &levels in &args.levels {
            for &icount in modes {
                let la57 = if levels == 4 { " la57=off" } else { "" };
                let scenario = Scenario {
                    name: format!("bench-{policy}-{levels}-{}", if icount { "icount" } else { "wall" }),
                    release: true,
                    firmware: Firmware::Bios,
                    cmdline: format!("log=warn policy={policy} aslr=2 run=fault_bench profile=1{la57}"),
                    exec: Vec::new(),
                    qemu: QemuOptions {
                        timeout: Duration::from_secs(600),
                        icount,
                        echo: false,
                        ..QemuOptions::default()
                    },
                };
                eprintln!(
                    "fault-bench: policy {policy}, {levels}-level paging, {}",
                    if icount { "-icount shift=0" } else { "wall time" }
                );
                let run = boot::run_built(&artifacts, &scenario).unwrap_or_else(|e| {
                    eprintln!("fault-bench: {e}");
                    std::process::exit(2)
                });
                if run.outcome != boot::qemu::Outcome::Success {
                    eprintln!(
                        "{}\nfault-bench: the benchmark run failed: {}",
                        run.serial,
                        run.outcome.describe()
                    );
                    std::process::exit(1);
                }
                let want = if levels == 5 {
                    "5-level paging (LA57)"
                } else {
                    "4-level paging"
                };
                if !run.serial.contains(want) {
                    eprintln!("fault-bench: the {levels}-level run did not run {want} (does the CPU have LA57?)");
                    std::process::exit(1);
                }
                results.push((
                    format!("{policy}, {levels}-level"),
                    icount,
                    parse(&run.serial, "microkernel "),
                    run.serial,
                ));
            }
        }
    }
    let default_anchor = boot::workspace_root()
        .unwrap_or_else(|e| {
            eprintln!("fault-bench: {e}");
            std::process::exit(2)
        })
        .join("target/linux-anchor.txt");
    let anchor = args
        .linux
        .clone()
        .or_else(|| default_anchor.exists().then_some(default_anchor));
    let linux = anchor.as_ref().map(|p| {
        let text = std::fs::read_to_string(p).unwrap_or_else(|e| {
            eprintln!("fault-bench: cannot read {}: {e}", p.display());
            std::process::exit(2)
        });
        parse_linux(&text)
    });
    let workloads = [
        ("first_touch", "first touch, per page"),
        ("single_fault", "single fault"),
        ("null", "null IPC / syscall"),
    ];
    for &icount in modes {
        println!();
        println!(
            "{}",
            if icount {
                "## -icount shift=0 (ticks = guest instructions)"
            } else {
                "## wall time (ticks = host TSC)"
            }
        );
        // Our runs of this mode, then Linux's figures of the same mode.
        let mut columns: Vec<(String, &Figures)> = results
            .iter()
            .filter(|(_, ic, _, _)| *ic == icount)
            .map(|(policy, _, figures, _)| (format!("ours ({policy})"), figures))
            .collect();
        if let Some((li, lw)) = &linux {
            columns.push(("Linux 6.1".into(), if icount { li } else { lw }));
        }
        let header: String = columns.iter().map(|(name, _)| format!(" {name} |")).collect();
        println!("| workload |{header}");
        println!("|---|{}", "---:|".repeat(columns.len()));
        for (key, label) in workloads {
            let cells: String = columns
                .iter()
                .map(|(_, figures)| {
                    let value = figures.iter().find(|(k, _)| k.starts_with(key)).map(|(_, v)| *v);
                    format!(" {} |", value.map_or("-".into(), |v| v.to_string()))
                })
                .collect();
            println!("| {label} |{cells}");
        }
    }
    if !args.no_breakdown {
        for (policy, icount, _, serial) in &results {
            if *icount {
                println!("\n## fault-path breakdown, policy {policy} (-icount shift=0, instructions per fault)");
                for line in serial.lines().filter(|l| l.contains("breakdown")) {
                    println!("{}", line.trim());
                }
            }
        }
    }
}
