//! The ramdisk: a ustar archive. `cmdline` holds the kernel command line,
//! `pager` the default pager, and every program its name; `--exec`
//! programs go under `bin/` and their list in `exec`
//! ([`pager::exec_list`]).

use std::path::{Path, PathBuf};

use crate::{Error, Result, build::Artifacts, exec::ExecProgram};

/// Appends a file of `bytes` named `name`.
fn append_bytes(tar: &mut tar::Builder<std::fs::File>, name: &str, bytes: &[u8]) -> Result<()> {
    let mut header = tar::Header::new_ustar();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, name, bytes)?;
    Ok(())
}

/// Packs the ramdisk into `dir` and returns its path.
pub fn pack(artifacts: &Artifacts, cmdline: &str, exec: &[ExecProgram], dir: &Path) -> Result<PathBuf> {
    let path = dir.join("ramdisk.tar");
    let mut tar = tar::Builder::new(std::fs::File::create(&path)?);
    tar.mode(tar::HeaderMode::Deterministic);
    append_bytes(&mut tar, "cmdline", cmdline.as_bytes())?;
    for (name, file) in artifacts
        .pagers
        .iter()
        .chain(&artifacts.services)
        .chain(&artifacts.programs)
    {
        tar.append_path_with_name(file, name)?;
    }
    if !exec.is_empty() {
        for program in exec {
            tar.append_path_with_name(&program.host_file, &program.spec.path)
                .map_err(|e| Error(format!("packing {}: {e}", program.host_file.display())))?;
        }
        let specs: Vec<_> = exec.iter().map(|p| p.spec.clone()).collect();
        let list = pager::exec_list::encode(&specs).map_err(|e| Error(e.to_string()))?;
        append_bytes(&mut tar, "exec", &list)?;
    }
    tar.finish()?;
    Ok(path)
}
