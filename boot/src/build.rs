//! Compiles everything that runs in the guest.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use crate::{Error, Result, workspace_root};

/// The bare-metal target of the kernel and all user programs.
pub const TARGET: &str = "x86_64-unknown-none";

/// Paths of the built guest binaries.
#[derive(Clone, Debug)]
pub struct Artifacts {
    pub kernel: PathBuf,
    /// Pager binaries by ramdisk name (`pager` is the default one).
    pub pagers: Vec<(String, PathBuf)>,
    /// Servers the pager starts with `service=NAME`.
    pub services: Vec<(String, PathBuf)>,
    /// User programs by name.
    pub programs: Vec<(String, PathBuf)>,
    /// The vDSO (a shared object the pager maps into every process), packed
    /// as the ramdisk file `vdso`.
    pub vdso: Option<PathBuf>,
}

/// Program names: one per file in `programs/src/bin/`.
pub fn program_names(root: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(root.join("programs/src/bin"))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "rs")
            && let Some(stem) = path.file_stem()
        {
            names.push(stem.to_string_lossy().into_owned());
        }
    }
    names.sort();
    Ok(names)
}

/// Runs `cargo build` for the guest and returns the artifacts.
pub fn build(release: bool) -> Result<Artifacts> {
    let root = workspace_root()?;
    let target_dir = root.join("target/kernel");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root)
        .args(["build", "--target", TARGET, "--target-dir"])
        .arg(&target_dir)
        .args([
            "-p",
            "microkernel",
            "-p",
            "programs",
            "-p",
            "pager-server",
            "-p",
            "procfs-server",
            "-p",
            "linux-server",
            "--bins",
        ])
        .args([
            "--no-default-features",
            "--features",
            "pager-server/server,procfs-server/server,linux-server/server",
        ]);
    if release {
        // The benchmarks measure this build: optimize across crates too
        // (libipc's system-call wrappers and message conversions inline
        // into the kernel, the pager and programs).
        cmd.arg("--release")
            .env("CARGO_PROFILE_RELEASE_LTO", "fat")
            .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1");
    }
    // Flags meant for the host build must not leak into the guest build.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd.status().map_err(|e| Error(format!("cannot run cargo: {e}")))?;
    if !status.success() {
        return Err(Error(format!("building the guest failed ({status})")));
    }
    let out = target_dir.join(TARGET).join(if release { "release" } else { "debug" });
    // The disk image gets copies without debug information: the firmware
    // reads the disk slowly under emulation, and a debugger loads symbols
    // from the originals.
    let stripped = out.join("stripped");
    std::fs::create_dir_all(&stripped)?;
    let strip = |name: &str| strip_debug(&root, &out.join(name), &stripped.join(name));
    let mut programs = Vec::new();
    for name in program_names(&root)? {
        programs.push((name.clone(), strip(&name)?));
    }
    Ok(Artifacts {
        kernel: strip("microkernel")?,
        pagers: vec![("pager".into(), strip("pager-server")?)],
        services: vec![
            ("procfs".into(), strip("procfs-server")?),
            ("linux".into(), strip("linux-server")?),
        ],
        programs,
        vdso: Some(build_vdso(&root)?),
    })
}

/// Builds the vDSO: the `vdso` crate as a static library (position-
/// independent code that calls nothing outside itself), linked by rust-lld
/// into a shared object with `vdso/vdso.lds` (one read+execute segment,
/// the clock page 4 pages below) and `vdso/vdso.map` (the `LINUX_2.6`
/// symbols). Refused if it needs a relocation (nobody would apply it) or
/// outgrows its two pages.
pub fn build_vdso(root: &Path) -> Result<PathBuf> {
    let target_dir = root.join("target/vdso");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root)
        .args(["build", "--release", "-p", "vdso", "--target", TARGET, "--target-dir"])
        .arg(&target_dir)
        // `pie`: every symbol is its own, so calls are direct (no GOT);
        // `small`: the target's default kernel code model is not PIC.
        .env("RUSTFLAGS", "-C relocation-model=pie -C code-model=small");
    for var in ["CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_TARGET", "CARGO_TARGET_DIR"] {
        cmd.env_remove(var);
    }
    let status = cmd.status().map_err(|e| Error(format!("cannot run cargo: {e}")))?;
    if !status.success() {
        return Err(Error(format!("building the vDSO failed ({status})")));
    }
    let lib = target_dir.join(TARGET).join("release/libvdso.a");
    let out = target_dir.join("vdso.so");
    let lld = toolchain_bin(root, "gcc-ld/ld.lld")?;
    let mut link = Command::new(&lld);
    link.arg("-shared")
        .arg("-T")
        .arg(root.join("vdso/vdso.lds"))
        .arg("--version-script")
        .arg(root.join("vdso/vdso.map"))
        .args([
            "--hash-style=both",
            "-soname",
            "linux-vdso.so.1",
            "--gc-sections",
            "-z",
            "max-page-size=4096",
            "-z",
            "noexecstack",
            "--no-undefined",
            "--build-id=none",
            "--strip-all",
        ]);
    for sym in VDSO_SYMBOLS {
        link.args(["-u", sym]);
    }
    link.arg("-o").arg(&out).arg(&lib);
    let status = link
        .status()
        .map_err(|e| Error(format!("cannot run {} ({e})", lld.display())))?;
    if !status.success() {
        return Err(Error("linking the vDSO failed".into()));
    }
    check_vdso(&std::fs::read(&out)?)?;
    Ok(out)
}

/// The vDSO's entry points (each also has its unprefixed weak alias).
pub const VDSO_SYMBOLS: [&str; 5] = [
    "__vdso_clock_gettime",
    "__vdso_gettimeofday",
    "__vdso_time",
    "__vdso_getcpu",
    "__vdso_clock_getres",
];

/// The vDSO's pages (`pager::layout::VDSO_PAGES`).
const VDSO_BYTES: usize = 2 * 4096;

/// Checks the linked vDSO: small enough, no dynamic relocation, every
/// entry point exported.
pub fn check_vdso(bytes: &[u8]) -> Result<()> {
    if bytes.len() > VDSO_BYTES {
        return Err(Error(format!(
            "the vDSO is {} bytes, over its {VDSO_BYTES}",
            bytes.len()
        )));
    }
    let elf = xmas_elf::ElfFile::new(bytes).map_err(|e| Error(format!("the vDSO: {e}")))?;
    for section in elf.section_iter() {
        use xmas_elf::sections::ShType;
        if matches!(section.get_type(), Ok(ShType::Rela | ShType::Rel)) && section.size() > 0 {
            return Err(Error("the vDSO needs relocations: nobody applies them".into()));
        }
    }
    let names = String::from_utf8_lossy(bytes);
    for sym in VDSO_SYMBOLS {
        if !names.contains(sym) {
            return Err(Error(format!("the vDSO does not export {sym}")));
        }
    }
    Ok(())
}

/// A tool of the toolchain's `llvm-tools` and `rust-lld` directory.
fn toolchain_bin(root: &Path, name: &str) -> Result<PathBuf> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(rustc)
        .args(["--print", "sysroot"])
        .current_dir(root)
        .output()
        .map_err(|e| Error(format!("cannot run rustc: {e}")))?;
    let sysroot = String::from_utf8_lossy(&sysroot.stdout).trim().to_string();
    Ok(Path::new(&sysroot)
        .join("lib/rustlib/x86_64-unknown-linux-gnu/bin")
        .join(name))
}

/// `llvm-objcopy --strip-debug` from the toolchain's `llvm-tools` component.
fn strip_debug(root: &Path, from: &Path, to: &Path) -> Result<PathBuf> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(rustc)
        .args(["--print", "sysroot"])
        .current_dir(root)
        .output()
        .map_err(|e| Error(format!("cannot run rustc: {e}")))?;
    let sysroot = String::from_utf8_lossy(&sysroot.stdout).trim().to_string();
    let objcopy = Path::new(&sysroot).join("lib/rustlib/x86_64-unknown-linux-gnu/bin/llvm-objcopy");
    // Written beside and renamed into place, so a concurrent reader never
    // sees half a file.
    let partial = to.with_extension(format!("partial-{}", std::process::id()));
    let status = Command::new(&objcopy)
        .arg("--strip-debug")
        .arg(from)
        .arg(&partial)
        .status()
        .map_err(|e| {
            Error(format!(
                "cannot run {} ({e}): install the llvm-tools-preview component",
                objcopy.display()
            ))
        })?;
    if !status.success() {
        return Err(Error(format!("stripping {} failed", from.display())));
    }
    std::fs::rename(&partial, to)?;
    Ok(to.to_path_buf())
}
