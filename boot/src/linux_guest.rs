//! Debian's Linux booted in the same QEMU as our kernel (same machine, same
//! `-cpu` model, same memory, one CPU), with a static program as `/init`:
//! the Linux side of the benchmark's same-binary comparison.
//!
//! The kernel is the one `shared/anchors/linux-fault/run.sh` uses, got the
//! same way: the newest `linux-image-6.1.0-N-cloud-amd64` package that
//! `apt-cache` knows, fetched with `apt-get download` and unpacked with
//! `dpkg -x`, into a cache directory (under `target/`, never committed).
//! The initramfs is written here (newc format), so no `cpio` is needed.

use std::{
    io::Read,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use crate::{Error, Result, qemu};

/// The kernel packages searched for (as `run.sh` searches).
const PACKAGE_PATTERN: &str = r"^linux-image-6\.1\.0-[0-9]+-cloud-amd64$";

/// Linux's command line: the console on the first serial port, no boot
/// chatter, power off (not reboot) on panic, and the initramfs's `/init`.
const APPEND: &str = "console=ttyS0 quiet panic=-1 rdinit=/init";

/// The unpacked kernel image under `cache`, if one is there.
pub fn cached_kernel(cache: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(cache.join("root/boot"))
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-"))
        })
        .collect();
    found.sort();
    found.pop()
}

/// Fetches the newest Debian Linux 6.1 cloud kernel into `cache` (about
/// 25 MB; `apt-get update` first if the package lists are empty) and
/// returns its image.
pub fn download_kernel(cache: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(cache)?;
    let search = Command::new("apt-cache")
        .args(["search", "--names-only", PACKAGE_PATTERN])
        .output()
        .map_err(|e| Error(format!("apt-cache: {e} (a Debian or Ubuntu host is needed)")))?;
    let mut packages: Vec<String> = String::from_utf8_lossy(&search.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    // Newest ABI number last (6.1.0-9 < 6.1.0-10).
    packages.sort_by_key(|p| abi_number(p));
    let package = packages
        .pop()
        .ok_or_else(|| Error("no linux-image-6.1.0-N-cloud-amd64 package known: run apt-get update".into()))?;
    eprintln!("fault-bench: downloading {package} into {}", cache.display());
    let status = Command::new("apt-get")
        .args(["download", &package])
        .current_dir(cache)
        .stdout(Stdio::null())
        .status()?;
    if !status.success() {
        return Err(Error(format!("apt-get download {package} failed ({status})")));
    }
    let deb = std::fs::read_dir(cache)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(&format!("{package}_")))
        })
        .ok_or_else(|| Error(format!("apt-get download left no {package}_*.deb")))?;
    let status = Command::new("dpkg")
        .arg("-x")
        .arg(&deb)
        .arg(cache.join("root"))
        .status()?;
    if !status.success() {
        return Err(Error(format!("dpkg -x {} failed ({status})", deb.display())));
    }
    cached_kernel(cache).ok_or_else(|| Error(format!("{} holds no boot/vmlinuz-*", deb.display())))
}

/// The `N` of `linux-image-6.1.0-N-cloud-amd64`.
fn abi_number(package: &str) -> u32 {
    package
        .trim_start_matches("linux-image-6.1.0-")
        .split('-')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// An initramfs (newc cpio) holding `/dev/console` and `init`, the given
/// program (mode 0755).
pub fn initramfs(init: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut ino = 1;
    let mut entry = |name: &str, mode: u32, rdev: (u32, u32), data: &[u8]| {
        // Fields: magic, then 13 eight-digit hex numbers; the name (with its
        // NUL) and the data are each padded to 4 bytes.
        let header = format!(
            "070701{ino:08x}{mode:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
            0,
            0,
            1,
            0,
            data.len(),
            0,
            0,
            rdev.0,
            rdev.1,
            name.len() + 1,
            0,
        );
        ino += 1;
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        while out.len() % 4 != 0 {
            out.push(0);
        }
        out.extend_from_slice(data);
        while out.len() % 4 != 0 {
            out.push(0);
        }
    };
    entry("dev", 0o040755, (0, 0), &[]);
    entry("dev/console", 0o020600, (5, 1), &[]);
    entry("init", 0o100755, (0, 0), init);
    entry("TRAILER!!!", 0, (0, 0), &[]);
    out
}

/// Boots `kernel` with `initrd` in QEMU as [`qemu::command`] boots ours
/// (the same machine, `-cpu` model, memory and CPU count from `opts`;
/// `-icount shift=0` when `opts.icount`) and
/// returns what it wrote on its serial console. The program is expected to
/// power the machine off (`reboot(RB_POWER_OFF)` as pid 1).
pub fn run(kernel: &Path, initrd: &Path, opts: &qemu::QemuOptions) -> Result<String> {
    let mut cmd = Command::new(&opts.binary);
    cmd.arg("-kernel")
        .arg(kernel)
        .arg("-initrd")
        .arg(initrd)
        .args(["-append", APPEND])
        .args(["-serial", "stdio", "-display", "none", "-no-reboot", "-monitor", "none"])
        .args(["-m", &opts.memory, "-cpu", &opts.cpu, "-smp", "1"]);
    if opts.icount {
        cmd.args(["-icount", "shift=0"]);
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error(format!("{}: {e}", opts.binary)))?;
    let mut stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = stdout.read_to_end(&mut text);
        String::from_utf8_lossy(&text).into_owned()
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if start.elapsed() > opts.timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Error(format!("Linux guest: no power-off within {:?}", opts.timeout)));
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let text = reader.join().unwrap_or_default();
    if !status.success() {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        return Err(Error(format!("Linux guest: QEMU exited with {status}: {err}{text}")));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_abi_sorts_last() {
        let mut p = [
            "linux-image-6.1.0-10-cloud-amd64",
            "linux-image-6.1.0-9-cloud-amd64",
            "linux-image-6.1.0-57-cloud-amd64",
        ];
        p.sort_by_key(|p| abi_number(p));
        assert_eq!(p.last(), Some(&"linux-image-6.1.0-57-cloud-amd64"));
    }

    #[test]
    fn initramfs_is_newc_with_init_and_a_console() {
        let cpio = initramfs(b"\x7fELF-program");
        assert!(cpio.starts_with(b"070701"));
        assert_eq!(cpio.len() % 4, 0);
        let text = String::from_utf8_lossy(&cpio);
        for name in ["dev\0", "dev/console\0", "init\0", "TRAILER!!!\0"] {
            assert!(text.contains(name), "{name:?} missing");
        }
        // The init entry: regular file, mode 0755, its size, then its bytes
        // right after the name padded to 4 bytes (110 + 5 -> 116).
        let at = text.find("init\0").expect("init entry");
        let header = &text[at - 110..at];
        assert_eq!(&header[14..22], "000081ed");
        assert_eq!(usize::from_str_radix(&header[54..62], 16), Ok(12));
        assert_eq!(&cpio[at + 6..at + 18], b"\x7fELF-program");
        // The console: a character device 5:1.
        let at = text.find("dev/console\0").expect("console entry");
        let header = &text[at - 110..at];
        assert_eq!(&header[14..22], "00002180");
        assert_eq!(&header[78..86], "00000005");
        assert_eq!(&header[86..94], "00000001");
    }
}
