//! `cargo run -p boot -- [OPTIONS]`: build everything and boot it in QEMU.
//! Program output goes to standard output, the log to standard error.
//! Without `--exec` the process exits 0 only when the guest reported
//! success; with it, it exits as the programs did (see [`boot::exit`]).

use std::time::Duration;

use boot::{Scenario, image::Firmware, qemu::QemuOptions};
use clap::Parser;

/// Build the microkernel, the pager and the programs, and boot them in QEMU.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Firmware to boot with.
    #[arg(long, value_enum, default_value = "bios")]
    firmware: Firmware,
    /// Build optimized.
    #[arg(long)]
    release: bool,
    /// Kernel and pager log level: error, warn, info, debug, trace. The
    /// log goes to standard error; without --exec the default, debug,
    /// shows every fault the pager resolves, with --exec it is warn.
    #[arg(long)]
    log: Option<String>,
    /// Pager policy: a name of the registry (policies/registry), e.g.
    /// default, fault-around, diagnostic, read-ahead.
    #[arg(long, default_value = "default")]
    policy: String,
    /// ASLR mode (kernel.randomize_va_space): 0, 1 or 2.
    #[arg(long, default_value = "2")]
    aslr: u8,
    /// Programs to run: `a,b` one after the other, `a+b` together
    /// (default: demo, or none with --exec).
    #[arg(long)]
    run: Option<String>,
    /// A host program to run, with its arguments, split as a shell would:
    /// `--exec './a.out one "two three"'`. Repeatable; they run in order.
    /// Their output goes to standard output, and the runner exits with
    /// their status (the first non-zero one), 128 + the signal when one
    /// was killed.
    #[arg(long, value_name = "PATH [ARG...]")]
    exec: Vec<String>,
    /// An environment variable of every --exec program. Repeatable.
    #[arg(long, value_name = "NAME=VALUE")]
    env: Vec<String>,
    /// More command-line words for the pager (e.g. `stack_guard_gap=64`).
    #[arg(long, default_value = "")]
    cmdline: String,
    /// Wait for GDB on localhost:1234 (`-s -S`), no timeout.
    #[arg(long)]
    gdb: bool,
    /// Seconds before QEMU is killed.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
    /// Run under `-icount shift=0` (deterministic instruction-count ticks).
    #[arg(long)]
    icount: bool,
    /// Guest memory.
    #[arg(long, default_value = "512M")]
    memory: String,
    /// QEMU's CPU model (`-cpu`; default `max`, which has LA57): e.g.
    /// `max,-la57` for 4-level paging, `qemu64,+la57` for 5-level.
    #[arg(long, value_name = "MODEL")]
    cpu: Option<String>,
    /// Record every fault and memory request the pager handles into FILE
    /// (`pager::record`'s format; replay or compare it with
    /// `pager-replay`). It travels on QEMU's debugcon, apart from the log
    /// and the programs' output.
    #[arg(long, value_name = "FILE")]
    record_trace: Option<std::path::PathBuf>,
    /// Extra QEMU arguments, after `--`.
    #[arg(last = true)]
    qemu_args: Vec<String>,
}

/// Exits like the runner fails: 2 for its own errors without --exec,
/// [`boot::exit::RUNNER_FAILED`] with it.
fn fail(exec: bool, message: impl std::fmt::Display) -> ! {
    eprintln!("boot: error: {message}");
    std::process::exit(if exec { i32::from(boot::exit::RUNNER_FAILED) } else { 2 })
}

fn main() {
    let args = Args::parse();
    let exec = !args.exec.is_empty();
    // Before the long guest build: a typo is told with the known names.
    if let Err(e) = pager_policies::find(&args.policy) {
        fail(exec, e);
    }
    let programs = boot::exec::plan(&args.exec, &args.env).unwrap_or_else(|e| fail(exec, e));
    let log = args.log.as_deref().unwrap_or(if exec { "warn" } else { "debug" });
    let run = match (&args.run, exec) {
        (Some(run), _) => format!(" run={run}"),
        (None, false) => " run=demo".into(),
        (None, true) => String::new(),
    };
    let record = if args.record_trace.is_some() { " record=1" } else { "" };
    let cmdline = format!(
        "log={log} policy={} aslr={}{run}{record} {}",
        args.policy, args.aslr, args.cmdline
    );
    let scenario = Scenario {
        name: "run".into(),
        release: args.release,
        firmware: args.firmware,
        cmdline: cmdline.trim().to_string(),
        exec: programs,
        qemu: QemuOptions {
            gdb: args.gdb,
            timeout: Duration::from_secs(args.timeout),
            icount: args.icount,
            echo: true,
            memory: args.memory,
            cpu: args.cpu.unwrap_or_else(|| boot::qemu::CPU_MODEL.into()),
            trace: args.record_trace,
            extra_args: args.qemu_args,
            ..QemuOptions::default()
        },
    };
    let result = boot::run(&scenario).unwrap_or_else(|e| fail(exec, e));
    if exec {
        let paths: Vec<String> = scenario.exec.iter().map(|p| p.spec.path.clone()).collect();
        match boot::exit::status(&result, &paths) {
            Ok(status) => std::process::exit(i32::from(status)),
            Err(e) => {
                eprintln!("boot: {e}");
                std::process::exit(i32::from(e.status()))
            }
        }
    }
    let verdict = result.outcome.describe();
    if result.outcome == boot::qemu::Outcome::Success {
        eprintln!("boot: {verdict}");
    } else {
        eprintln!("boot: FAILED: {verdict}");
        std::process::exit(1);
    }
}
