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
    })
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
