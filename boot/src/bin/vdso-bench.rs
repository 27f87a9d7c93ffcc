//! `cargo run -p boot --bin vdso-bench [-- --linux-kernel VMLINUZ]`: the
//! vDSO benchmark.
//!
//! Compiles `tests/linux/vdso_bench.c` once (musl, static) and runs that
//! same binary under `-icount shift=0` (a tick is a guest instruction) on
//! this kernel (release build, `--exec`) and, when a Linux kernel image is
//! given or found, on Linux booted in the same QEMU with the same CPU model
//! (`QemuOptions`' default), the binary as its `/init` and `vsyscall=xonly`
//! (ours and Linux's default; Debian's kernel is built with `none`). The
//! Linux image is the one `fault-bench --download-linux` fetches into
//! `target/linux-guest/` (`boot::linux_guest`, as
//! `shared/anchors/linux-fault/run.sh` does), or the anchor's work
//! directory's. Prints ticks per call: clock_gettime through the vDSO, time()
//! through the emulated vsyscall page, and a forwarded getppid for scale.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use boot::{Scenario, exec::ExecProgram, image::Firmware, qemu::QemuOptions};
use clap::Parser;
use pager::exec_list::ExecSpec;

#[derive(Parser, Debug)]
#[command(about)]
struct Args {
    /// A Linux kernel image (bzImage) to run the same binary on.
    #[arg(long)]
    linux_kernel: Option<PathBuf>,
}

/// `bench NAME calls=N ticks_per_call=X` lines: NAME -> X.
fn parse(output: &str) -> BTreeMap<String, String> {
    output
        .lines()
        .filter_map(|l| l.trim().strip_prefix("bench "))
        .filter_map(|rest| {
            let mut words = rest.split_whitespace();
            let name = words.next()?.to_string();
            let value = words.find_map(|w| w.strip_prefix("ticks_per_call="))?.to_string();
            Some((name, value))
        })
        .collect()
}

fn fail(what: &str) -> ! {
    eprintln!("vdso-bench: {what}");
    std::process::exit(2)
}

fn run_linux(kernel: &Path, binary: &Path, dir: &Path) -> String {
    let cpio = dir.join("vdso-bench-init.cpio");
    let init = std::fs::read(binary).expect("the benchmark binary");
    std::fs::write(&cpio, boot::linux_guest::initramfs(&init)).expect("the initramfs");
    let out = Command::new("timeout")
        .arg("600")
        .arg("qemu-system-x86_64")
        .args([
            "-icount",
            "shift=0",
            "-cpu",
            &QemuOptions::default().cpu,
            "-m",
            "512M",
            "-display",
            "none",
        ])
        .args(["-serial", "stdio", "-no-reboot", "-kernel"])
        .arg(kernel)
        .arg("-initrd")
        .arg(&cpio)
        .args(["-append", "console=ttyS0 quiet panic=-1 rdinit=/init vsyscall=xonly"])
        .output()
        .unwrap_or_else(|e| fail(&format!("cannot run qemu-system-x86_64: {e}")));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn main() {
    let args = Args::parse();
    let root = boot::workspace_root().unwrap_or_else(|e| fail(&e.to_string()));
    let dir = root.join("target/vdso-bench");
    std::fs::create_dir_all(&dir).expect("target/vdso-bench");
    let binary = dir.join("vdso_bench");
    let status = Command::new("musl-gcc")
        .args(["-O2", "-static", "-o"])
        .arg(&binary)
        .arg(root.join("tests/linux/vdso_bench.c"))
        .status()
        .unwrap_or_else(|e| fail(&format!("cannot run musl-gcc ({e}): install musl-tools")));
    if !status.success() {
        fail("compiling tests/linux/vdso_bench.c failed");
    }
    let artifacts = boot::qemu::check_installed(Firmware::Bios, &QemuOptions::default())
        .and_then(|()| boot::build::build(true))
        .unwrap_or_else(|e| fail(&e.to_string()));
    let scenario = Scenario {
        name: "vdso-bench".into(),
        release: true,
        firmware: Firmware::Bios,
        cmdline: "log=warn".into(),
        exec: vec![ExecProgram {
            host_file: binary.clone(),
            spec: ExecSpec {
                path: format!("{}/vdso_bench", boot::exec::RAMDISK_DIR),
                argv: vec!["vdso_bench".into()],
                envp: Vec::new(),
            },
        }],
        qemu: QemuOptions {
            timeout: Duration::from_secs(600),
            icount: true,
            echo: false,
            ..QemuOptions::default()
        },
    };
    eprintln!("vdso-bench: this kernel, -icount shift=0");
    let run = boot::run_built(&artifacts, &scenario).unwrap_or_else(|e| fail(&e.to_string()));
    let ours = parse(&String::from_utf8_lossy(&run.console));
    if ours.is_empty() {
        eprintln!("{}", run.serial);
        fail("no figures from this kernel");
    }
    let cached = boot::linux_guest::cached_kernel(&root.join("target/linux-guest"));
    let anchor = boot::linux_guest::cached_kernel(&std::env::temp_dir().join("linux-fault-anchor"));
    let linux = match args.linux_kernel.or(cached).or(anchor) {
        Some(kernel) => {
            eprintln!("vdso-bench: Linux ({}), -icount shift=0", kernel.display());
            parse(&run_linux(&kernel, &binary, &dir))
        }
        None => {
            eprintln!("vdso-bench: no Linux image (run shared/anchors/linux-fault/run.sh, or pass --linux-kernel)");
            BTreeMap::new()
        }
    };
    println!("| ticks per call (-icount shift=0) | ours | Linux 6.1 |");
    println!("|---|---:|---:|");
    for (name, label) in [
        ("vdso_clock_gettime", "clock_gettime(CLOCK_MONOTONIC) through the vDSO"),
        ("vsyscall_time", "time() through the emulated vsyscall page"),
        ("syscall_getppid", "getppid, a real system call (for scale)"),
    ] {
        let get = |m: &BTreeMap<String, String>| m.get(name).cloned().unwrap_or_else(|| "-".into());
        println!("| {label} | {} | {} |", get(&ours), get(&linux));
    }
}
