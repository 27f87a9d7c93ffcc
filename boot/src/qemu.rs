//! Running QEMU and reading the guest's verdict and its two serial
//! channels: COM1, the kernel's and the pager's log (QEMU's standard
//! output), and COM2, program output (a Unix socket QEMU connects to).
//!
//! The kernel leaves through `isa-debug-exit`, which makes QEMU exit with
//! `(value << 1) | 1` (see `microkernel/src/qemu.rs`). Exit code 0 can only
//! come from QEMU itself (a triple fault with `-no-reboot`), so it is never
//! a pass.

use std::{
    io::{BufRead, BufReader, Read, Write},
    os::unix::net::{UnixListener, UnixStream},
    path::Path,
    process::{Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
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

/// The CPU model guests run on unless told otherwise ([`QemuOptions::cpu`]):
/// every feature TCG emulates (RDRAND, NX, SMEP...).
pub const CPU_MODEL: &str = "max";

/// QEMU's version line (`QEMU emulator version 7.2.22 ...`), for
/// benchmark headers; `None` if it does not run.
pub fn version(binary: &str) -> Option<String> {
    let out = Command::new(binary).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    Some(text.lines().next()?.trim().to_string())
}
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
    /// Copy program output (COM2) to our standard output and the log
    /// (COM1) to our standard error as they arrive.
    pub echo: bool,
    pub memory: String,
    /// The `-cpu` model. [`crate::linux_guest`] boots Linux with the same
    /// options, so a benchmark runs both kernels on one model.
    pub cpu: String,
    /// Where QEMU's debugcon (port 0xe9) goes: the pager's recorded trace
    /// (`--record-trace`), a channel of its own beside the log and the
    /// programs' output.
    pub trace: Option<std::path::PathBuf>,
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
            cpu: CPU_MODEL.into(),
            trace: None,
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

/// What a run produced: its outcome and the two serial channels.
#[derive(Clone, Debug)]
pub struct RunResult {
    pub outcome: Outcome,
    /// COM1: the kernel's and the pager's log.
    pub log: String,
    /// COM2: what the programs wrote, byte for byte.
    pub console: Vec<u8>,
    /// Both channels line by line as they arrived (lines of one channel
    /// keep their order; across channels the order is as read).
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

/// Whether `binary` is an executable file, found on `path` (a `PATH`
/// value) when it names no directory.
fn on_path(binary: &str, path: &std::ffi::OsStr) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &Path| {
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if binary.contains('/') {
        return executable(Path::new(binary));
    }
    std::env::split_paths(path).any(|dir| executable(&dir.join(binary)))
}

/// QEMU is missing, in one line naming the package.
fn not_installed(binary: &str) -> Error {
    Error(format!(
        "{binary} not found: install it with `apt-get install -y qemu-system-x86` (or run .ci/setup)"
    ))
}

/// Checks that QEMU (and OVMF for UEFI) is installed, so a missing one is
/// reported before minutes of building, in one line naming the package.
pub fn check_installed(firmware: Firmware, opts: &QemuOptions) -> Result<()> {
    if !on_path(&opts.binary, &std::env::var_os("PATH").unwrap_or_default()) {
        return Err(not_installed(&opts.binary));
    }
    if firmware == Firmware::Uefi {
        find_ovmf(OVMF_PATHS)?;
    }
    Ok(())
}

/// A Unix socket path for COM2, short enough for `sun_path` (108 bytes)
/// wherever the workspace is, and unique per run in this process.
fn console_socket_path() -> std::path::PathBuf {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::env::temp_dir().join(format!("boot-com2-{}-{n}.sock", std::process::id()))
}

/// The QEMU command line for an image: COM1 on QEMU's standard output,
/// COM2 sent to the Unix socket `console`, where the runner listens.
pub fn command(image: &Path, firmware: Firmware, console: &Path, opts: &QemuOptions) -> Result<Command> {
    let mut cmd = Command::new(&opts.binary);
    cmd.arg("-drive")
        .arg(format!("format=raw,file={}", image.display()))
        .arg("-chardev")
        .arg(format!("socket,id=com2,path={},server=off", console.display()))
        .args(["-serial", "stdio", "-serial", "chardev:com2"])
        .args(["-display", "none", "-no-reboot", "-monitor", "none"])
        .args(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"])
        .args(["-m", &opts.memory, "-cpu", &opts.cpu, "-smp", "1"]);
    if firmware == Firmware::Uefi {
        cmd.args(["-bios", find_ovmf(OVMF_PATHS)?]);
    }
    if opts.icount {
        cmd.args(["-icount", "shift=0"]);
    }
    if opts.gdb {
        cmd.args(["-s", "-S"]);
    }
    if let Some(trace) = &opts.trace {
        cmd.arg("-debugcon").arg(format!("file:{}", trace.display()));
    }
    cmd.args(&opts.extra_args);
    Ok(cmd)
}

/// What the reader threads collect.
#[derive(Default)]
struct Collected {
    log: String,
    console: Vec<u8>,
    serial: String,
}

/// Reads COM1 line by line: into the log and the interleaved whole, and
/// (when echoing) onto standard error, except the exit reports, which the
/// runner reports through its exit status.
fn read_log(from: impl Read, collected: &Mutex<Collected>, echo: bool) {
    let mut lines = BufReader::new(from);
    let mut line = Vec::new();
    while lines.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
        let text = String::from_utf8_lossy(&line);
        if echo && !text.starts_with(pager::exit_status::ExitReport::PREFIX) {
            eprint!("{text}");
        }
        let mut c = collected.lock().expect("not poisoned");
        c.log.push_str(&text);
        c.serial.push_str(&text);
        line.clear();
    }
}

/// Reads COM2 as it comes (a program's prompt needs no newline): onto
/// standard output when echoing, into the console bytes, and whole lines
/// into the interleaved whole.
fn read_console(mut from: impl Read, collected: &Mutex<Collected>, echo: bool) {
    let mut buf = [0u8; 4096];
    let mut partial = Vec::new();
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if echo {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(&buf[..n]);
            let _ = out.flush();
        }
        partial.extend_from_slice(&buf[..n]);
        let mut c = collected.lock().expect("not poisoned");
        c.console.extend_from_slice(&buf[..n]);
        if let Some(end) = partial.iter().rposition(|&b| b == b'\n') {
            c.serial.push_str(&String::from_utf8_lossy(&partial[..=end]));
            partial.drain(..=end);
        }
    }
    if !partial.is_empty() {
        let mut c = collected.lock().expect("not poisoned");
        c.serial.push_str(&String::from_utf8_lossy(&partial));
        c.serial.push('\n');
    }
}

/// Waits for QEMU to connect COM2's socket, giving up when it has exited
/// (it failed to start).
fn accept_console(listener: &UnixListener, exited: &AtomicBool) -> Option<UnixStream> {
    listener.set_nonblocking(true).ok()?;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).ok()?;
                return Some(stream);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && !exited.load(Ordering::Acquire) => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(_) => return None,
        }
    }
}

/// Boots `image` and waits for the verdict.
pub fn run(image: &Path, firmware: Firmware, opts: &QemuOptions) -> Result<RunResult> {
    let socket = console_socket_path();
    let _ = std::fs::remove_file(&socket);
    let listener =
        UnixListener::bind(&socket).map_err(|e| Error(format!("cannot listen on {}: {e}", socket.display())))?;
    let result = run_with_console(image, firmware, opts, &socket, listener);
    let _ = std::fs::remove_file(&socket);
    result
}

fn run_with_console(
    image: &Path,
    firmware: Firmware,
    opts: &QemuOptions,
    socket: &Path,
    listener: UnixListener,
) -> Result<RunResult> {
    let mut cmd = command(image, firmware, socket, opts)?;
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::inherit());
    let mut child = cmd.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => not_installed(&opts.binary),
        _ => Error(format!("cannot start {}: {e}", opts.binary)),
    })?;
    if opts.gdb {
        eprintln!("QEMU waits for GDB on localhost:1234 (see the README)");
    }
    let collected = Arc::new(Mutex::new(Collected::default()));
    let exited = Arc::new(AtomicBool::new(false));
    let log_reader = {
        let collected = Arc::clone(&collected);
        let stdout = child.stdout.take().expect("stdout is piped");
        let echo = opts.echo;
        std::thread::spawn(move || read_log(stdout, &collected, echo))
    };
    let console_reader = {
        let collected = Arc::clone(&collected);
        let exited = Arc::clone(&exited);
        let echo = opts.echo;
        std::thread::spawn(move || {
            if let Some(stream) = accept_console(&listener, &exited) {
                read_console(stream, &collected, echo);
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
    exited.store(true, Ordering::Release);
    let _ = log_reader.join();
    let _ = console_reader.join();
    let Collected { log, console, serial } = std::mem::take(&mut *collected.lock().expect("not poisoned"));
    Ok(RunResult {
        outcome,
        log,
        console,
        serial,
    })
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

    /// `--cpu` reaches QEMU's `-cpu`; without it the model is `max`.
    #[test]
    fn the_cpu_model_is_passed_to_qemu() {
        let cpu_of = |opts: &QemuOptions| {
            let cmd = command(Path::new("/x.img"), Firmware::Bios, Path::new("/x.sock"), opts).unwrap();
            let args: Vec<_> = cmd.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
            let at = args.iter().position(|a| a == "-cpu").expect("a -cpu argument");
            args[at + 1].clone()
        };
        assert_eq!(cpu_of(&QemuOptions::default()), "max");
        let opts = QemuOptions {
            cpu: "qemu64,+la57".into(),
            ..QemuOptions::default()
        };
        assert_eq!(cpu_of(&opts), "qemu64,+la57");
    }

    /// `--record-trace FILE` sends debugcon (the trace channel) to FILE.
    #[test]
    fn the_trace_file_is_qemus_debugcon() {
        let args_of = |opts: &QemuOptions| {
            let cmd = command(Path::new("/x.img"), Firmware::Bios, Path::new("/x.sock"), opts).unwrap();
            cmd.get_args()
                .map(|a| a.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
        };
        assert!(!args_of(&QemuOptions::default()).contains(&"-debugcon".to_string()));
        let opts = QemuOptions {
            trace: Some("/tmp/run.trace".into()),
            ..QemuOptions::default()
        };
        let args = args_of(&opts);
        let at = args
            .iter()
            .position(|a| a == "-debugcon")
            .expect("a -debugcon argument");
        assert_eq!(args[at + 1], "file:/tmp/run.trace");
    }

    #[test]
    fn qemu_is_checked_before_anything_is_built() {
        let opts = QemuOptions {
            binary: "qemu-system-x86_64-not-installed".into(),
            ..QemuOptions::default()
        };
        let err = check_installed(Firmware::Bios, &opts).unwrap_err().to_string();
        assert!(err.contains("apt-get install -y qemu-system-x86"), "{err}");
        assert!(!err.contains('\n'), "{err}");
    }

    #[test]
    fn binaries_are_found_on_the_path_or_by_their_own_path() {
        let path = std::ffi::OsStr::new("/nonexistent:/bin:/usr/bin");
        assert!(on_path("sh", path));
        assert!(on_path("/bin/sh", std::ffi::OsStr::new("")));
        assert!(!on_path("sh", std::ffi::OsStr::new("/nonexistent")));
        // A file that is not executable is not QEMU.
        assert!(!on_path(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"), path));
        assert!(!on_path("/bin", path));
    }

    #[test]
    fn console_bytes_are_kept_exactly_and_lines_interleaved_whole() {
        let collected = Mutex::new(Collected::default());
        read_log(&b"[INFO  kernel] boot\n[exit] exited 0 bin/a\n"[..], &collected, false);
        read_console(&b"out\x08\x7f\nno newline"[..], &collected, false);
        let c = collected.into_inner().unwrap();
        assert_eq!(c.log, "[INFO  kernel] boot\n[exit] exited 0 bin/a\n");
        assert_eq!(c.console, b"out\x08\x7f\nno newline");
        assert_eq!(
            c.serial,
            "[INFO  kernel] boot\n[exit] exited 0 bin/a\nout\x08\x7f\nno newline\n"
        );
    }

    #[test]
    fn a_qemu_that_never_connects_com2_is_not_waited_for() {
        let socket = console_socket_path();
        let listener = UnixListener::bind(&socket).unwrap();
        assert!(accept_console(&listener, &AtomicBool::new(true)).is_none());
        let _ = std::fs::remove_file(&socket);
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
