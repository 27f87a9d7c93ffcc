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
    let root = workspace_root();
    let target_dir = root.join("target/kernel");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root)
        .args(["build", "--target", TARGET, "--target-dir"])
        .arg(&target_dir)
        .args(["-p", "microkernel", "-p", "programs", "-p", "pager", "--bins"])
        .args(["--no-default-features", "--features", "pager/server"]);
    if release {
        cmd.arg("--release");
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
    let programs = program_names(&root)?
        .into_iter()
        .map(|n| (n.clone(), out.join(n)))
        .collect();
    Ok(Artifacts {
        kernel: out.join("microkernel"),
        pagers: vec![("pager".into(), out.join("pager-server"))],
        programs,
    })
}
