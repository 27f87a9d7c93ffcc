//! `cargo run -p boot --bin vdso-bench [-- --linux-kernel VMLINUZ]`: the
//! vDSO benchmark.
//!
//! Compiles `tests/linux/vdso_bench.c` once (musl, static) and runs that
//! same binary under `-icount shift=0` (a tick is a guest instruction) on
//! this kernel (release build, `--exec`) and, when a Linux kernel image is
//! given or found, on Linux booted in the same QEMU with the same CPU model
//! (`-cpu max`), the binary as its `/init` and `vsyscall=xonly` (Linux's
//! default and ours). The Linux image is the one
//! `shared/anchors/linux-fault/run.sh` downloads (Debian's 6.1 cloud
//! kernel): looked for under `target/linux-guest/` and the anchor's work
//! directory. Prints ticks per call: clock_gettime through the vDSO, time()
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

/// An initramfs (cpio `newc`) holding `init`.
fn initramfs(init: &[u8]) -> Vec<u8> {
    fn entry(out: &mut Vec<u8>, name: &str, data: &[u8], mode: u32) {
        let name = format!("{name}\0");
        let fields = [1, mode, 0, 0, 1, 0, data.len() as u32, 0, 0, 0, 0, name.len() as u32, 0];
        out.extend_from_slice(b"070701");
        for f in fields {
            out.extend_from_slice(format!("{f:08x}").as_bytes());
        }
        out.extend_from_slice(name.as_bytes());
        out.resize(out.len().next_multiple_of(4), 0);
        out.extend_from_slice(data);
        out.resize(out.len().next_multiple_of(4), 0);
    }
    let mut out = Vec::new();
    entry(&mut out, "init", init, 0o100755);
    entry(&mut out, "TRAILER!!!", &[], 0);
    out
}

/// The anchor script's Linux image, if it was downloaded.
fn find_linux(root: &Path) -> Option<PathBuf> {
    let dirs = [
        root.join("target/linux-guest/root/boot"),
        std::env::temp_dir().join("linux-fault-anchor/root/boot"),
    ];
    dirs.iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-"))
        })
}

fn run_linux(kernel: &Path, binary: &Path, dir: &Path) -> String {
    let cpio = dir.join("vdso-bench-init.cpio");
    std::fs::write(&cpio, initramfs(&std::fs::read(binary).expect("the benchmark binary"))).expect("the initramfs");
    let out = Command::new("timeout")
        .arg("600")
        .arg("qemu-system-x86_64")
        .args(["-icount", "shift=0", "-cpu", "max", "-m", "512M", "-display", "none"])
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
    let linux = match args.linux_kernel.or_else(|| find_linux(&root)) {
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
