//! Running QEMU and reading the guest's verdict.
//!
//! The kernel leaves through `isa-debug-exit`, which makes QEMU exit with
//! `(value << 1) | 1` (see `microkernel/src/qemu.rs`). Exit code 0 can only
//! come from QEMU itself (a triple fault with `-no-reboot`), so it is never
//! a pass.

use std::{
    io::{BufRead, BufReader, Write},
    path::Path,
    process::{Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use crate::{Error, Result, image::Firmware};

/// The QEMU exit codes the kernel produces.
pub mod exit_code {
    pub const SUCCESS: i32 = 33;
    pub const FAILURE: i32 = 35;
    pub const KERNEL_PANIC: i32 = 37;
    pub const PAGER_DIED: i32 = 39;
}

const QEMU: &str = "qemu-system-x86_64";
/// OVMF firmware files, in order of preference.
const OVMF_PATHS: &[&str] = &[
    "/usr/share/ovmf/OVMF.fd",
    "/usr/share/OVMF/OVMF_CODE.fd",
    "/usr/share/qemu/OVMF.fd",
];

#[derive(Clone, Debug)]
pub struct QemuOptions {
    /// The QEMU binary (`qemu-system-x86_64`).
    pub binary: String,
    /// Wait for GDB on :1234 before the first instruction (`-s -S`).
    pub gdb: bool,
    /// Kill QEMU after this long.
    pub timeout: Duration,
    /// `-icount shift=0`: the guest TSC counts guest instructions.
    pub icount: bool,
    /// Copy the serial output to our standard output as it arrives.
    pub echo: bool,
    pub memory: String,
    pub extra_args: Vec<String>,
}

impl Default for QemuOptions {
    fn default() -> Self {
        QemuOptions {
            binary: QEMU.into(),
            gdb: false,
            timeout: Duration::from_secs(60),
            icount: false,
            echo: true,
            memory: "512M".into(),
            extra_args: Vec::new(),
        }
    }
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// The pager reported a failed run (a program failed).
    Failure,
    KernelPanic,
    PagerDied,
    Timeout,
    /// QEMU exited with a code the kernel never writes.
    Unexpected(Option<i32>),
}

impl Outcome {
    fn from_code(code: Option<i32>) -> Outcome {
        match code {
            Some(exit_code::SUCCESS) => Outcome::Success,
            Some(exit_code::FAILURE) => Outcome::Failure,
            Some(exit_code::KERNEL_PANIC) => Outcome::KernelPanic,
            Some(exit_code::PAGER_DIED) => Outcome::PagerDied,
            other => Outcome::Unexpected(other),
        }
    }

    pub fn describe(self) -> String {
        match self {
            Outcome::Success => "the system ran to completion and reported success".into(),
            Outcome::Failure => "the pager reported a failed run".into(),
            Outcome::KernelPanic => "the kernel panicked".into(),
            Outcome::PagerDied => "the pager faulted or exited".into(),
            Outcome::Timeout => "QEMU timed out".into(),
            Outcome::Unexpected(Some(0)) => "QEMU exited with 0 (a triple fault or reset?)".into(),
            Outcome::Unexpected(code) => format!("QEMU exited with unexpected status {code:?}"),
        }
    }
}

#[derive(Clone, Debug)]
pub struct RunResult {
    pub outcome: Outcome,
    /// Everything the guest wrote to the serial port.
    pub serial: String,
}

/// The first of `candidates` that exists.
fn find_ovmf(candidates: &[&'static str]) -> Result<&'static str> {
    candidates
        .iter()
        .copied()
        .find(|p| Path::new(p).exists())
        .ok_or_else(|| Error("UEFI firmware not found: install it with `apt-get install -y ovmf`".into()))
}

/// The QEMU command line for an image.
pub fn command(image: &Path, firmware: Firmware, opts: &QemuOptions) -> Result<Command> {
    let mut cmd = Command::new(&opts.binary);
    cmd.arg("-drive")
        .arg(format!("format=raw,file={}", image.display()))
        .args(["-serial", "stdio", "-display", "none", "-no-reboot", "-monitor", "none"])
        .args(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"])
        .args(["-m", &opts.memory, "-cpu", "max", "-smp", "1"]);
    if firmware == Firmware::Uefi {
        cmd.args(["-bios", find_ovmf(OVMF_PATHS)?]);
    }
    if opts.icount {
        cmd.args(["-icount", "shift=0"]);
    }
    if opts.gdb {
        cmd.args(["-s", "-S"]);
    }
    cmd.args(&opts.extra_args);
    Ok(cmd)
}

/// Boots `image` and waits for the verdict.
pub fn run(image: &Path, firmware: Firmware, opts: &QemuOptions) -> Result<RunResult> {
    let mut cmd = command(image, firmware, opts)?;
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::inherit());
    let mut child = cmd.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error(format!(
            "{QEMU} not found: install it with `apt-get install -y qemu-system-x86`"
        )),
        _ => Error(format!("cannot start {QEMU}: {e}")),
    })?;
    if opts.gdb {
        eprintln!("QEMU waits for GDB on localhost:1234 (see the README)");
    }
    let serial = Arc::new(Mutex::new(String::new()));
    let reader = {
        let serial = Arc::clone(&serial);
        let stdout = child.stdout.take().expect("stdout is piped");
        let echo = opts.echo;
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout);
            let mut line = Vec::new();
            while lines.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
                let text = String::from_utf8_lossy(&line);
                if echo {
                    print!("{text}");
                    let _ = std::io::stdout().flush();
                }
                serial.lock().expect("not poisoned").push_str(&text);
                line.clear();
            }
        })
    };
    let deadline = Instant::now() + opts.timeout;
    let outcome = loop {
        if let Some(status) = child.try_wait()? {
            break Outcome::from_code(status.code());
        }
        if !opts.gdb && Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break Outcome::Timeout;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = reader.join();
    let serial = serial.lock().expect("not poisoned").clone();
    Ok(RunResult { outcome, serial })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_qemu_is_one_line_naming_the_package() {
        let opts = QemuOptions {
            binary: "qemu-system-x86_64-not-installed".into(),
            ..QemuOptions::default()
        };
        let err = run(Path::new("/nonexistent.img"), Firmware::Bios, &opts)
            .unwrap_err()
            .to_string();
        assert!(err.contains("apt-get install -y qemu-system-x86"), "{err}");
        assert!(!err.contains('\n'), "{err}");
    }

    #[test]
    fn missing_ovmf_names_the_package() {
        let err = find_ovmf(&["/nonexistent/OVMF.fd"]).unwrap_err().to_string();
        assert!(err.contains("apt-get install -y ovmf"), "{err}");
    }

    #[test]
    fn exit_codes_map_to_outcomes() {
        assert_eq!(Outcome::from_code(Some(exit_code::SUCCESS)), Outcome::Success);
        assert_eq!(Outcome::from_code(Some(exit_code::FAILURE)), Outcome::Failure);
        assert_eq!(Outcome::from_code(Some(exit_code::KERNEL_PANIC)), Outcome::KernelPanic);
        assert_eq!(Outcome::from_code(Some(exit_code::PAGER_DIED)), Outcome::PagerDied);
        // 0 is a triple fault under -no-reboot: never a pass.
        assert_eq!(Outcome::from_code(Some(0)), Outcome::Unexpected(Some(0)));
        assert_eq!(Outcome::from_code(None), Outcome::Unexpected(None));
    }
}
