//! The ramdisk: a ustar archive of flat names. `cmdline` holds the kernel
//! command line, `pager` the default pager, and every program its name.

use std::path::{Path, PathBuf};

use crate::{Result, build::Artifacts};

/// Packs the ramdisk into `dir` and returns its path.
pub fn pack(artifacts: &Artifacts, cmdline: &str, dir: &Path) -> Result<PathBuf> {
    let path = dir.join("ramdisk.tar");
    let mut tar = tar::Builder::new(std::fs::File::create(&path)?);
    tar.mode(tar::HeaderMode::Deterministic);
    let mut header = tar::Header::new_ustar();
    header.set_size(cmdline.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, "cmdline", cmdline.as_bytes())?;
    for (name, file) in artifacts
        .pagers
        .iter()
        .chain(&artifacts.services)
        .chain(&artifacts.programs)
    {
        tar.append_path_with_name(file, name)?;
    }
    tar.finish()?;
    Ok(path)
}
