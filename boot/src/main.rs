//! `cargo run -p boot -- [OPTIONS]`: build everything and boot it in QEMU.
//! The process exits 0 only when the guest reported success.

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
    /// default, debug, shows every fault the pager resolves.
    #[arg(long, default_value = "debug")]
    log: String,
    /// Pager policy: default, fault-around, diagnostic.
    #[arg(long, default_value = "default")]
    policy: String,
    /// ASLR mode (kernel.randomize_va_space): 0, 1 or 2.
    #[arg(long, default_value = "2")]
    aslr: u8,
    /// Programs to run: `a,b` one after the other, `a+b` together.
    #[arg(long, default_value = "demo")]
    run: String,
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
    /// Extra QEMU arguments, after `--`.
    #[arg(last = true)]
    qemu_args: Vec<String>,
}

fn main() {
    let args = Args::parse();
    let cmdline = format!(
        "log={} policy={} aslr={} run={} {}",
        args.log, args.policy, args.aslr, args.run, args.cmdline
    );
    let scenario = Scenario {
        name: "run".into(),
        release: args.release,
        firmware: args.firmware,
        cmdline: cmdline.trim().to_string(),
        qemu: QemuOptions {
            gdb: args.gdb,
            timeout: Duration::from_secs(args.timeout),
            icount: args.icount,
            echo: true,
            memory: args.memory,
            extra_args: args.qemu_args,
            ..QemuOptions::default()
        },
    };
    match boot::run(&scenario) {
        Ok(result) => {
            let verdict = result.outcome.describe();
            if result.outcome == boot::qemu::Outcome::Success {
                eprintln!("boot: {verdict}");
            } else {
                eprintln!("boot: FAILED: {verdict}");
                std::process::exit(1);
            }
        }
        Err(e) => {
            eprintln!("boot: error: {e}");
            std::process::exit(2);
        }
    }
}
