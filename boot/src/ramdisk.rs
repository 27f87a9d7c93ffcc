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
    if let Some(vdso) = &artifacts.vdso {
        tar.append_path_with_name(vdso, "vdso")?;
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

#[cfg(test)]
mod tests {
    use std::io::Read;

    use pager::exec_list::ExecSpec;

    use super::*;

    #[test]
    fn exec_programs_and_their_list_are_packed() {
        let dir = std::env::temp_dir().join(format!("boot-ramdisk-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let host_file = dir.join("prog");
        std::fs::write(&host_file, b"\x7fELF program").unwrap();
        let spec = ExecSpec {
            path: "bin/prog".into(),
            argv: vec!["./prog".into(), "a b".into()],
            envp: vec!["HOME=/".into()],
        };
        let artifacts = Artifacts {
            kernel: host_file.clone(),
            pagers: vec![("pager".into(), host_file.clone())],
            services: vec![],
            programs: vec![],
            vdso: None,
        };
        let exec = [ExecProgram {
            host_file,
            spec: spec.clone(),
        }];
        let tar_path = pack(&artifacts, "log=warn", &exec, &dir).unwrap();
        let mut files = std::collections::BTreeMap::new();
        let mut archive = tar::Archive::new(std::fs::File::open(&tar_path).unwrap());
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let name = entry.path().unwrap().to_string_lossy().into_owned();
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            files.insert(name, bytes);
        }
        assert_eq!(files["cmdline"], b"log=warn");
        assert_eq!(files["bin/prog"], b"\x7fELF program");
        assert_eq!(pager::exec_list::parse(&files["exec"]), Ok(vec![spec]));
        // Without --exec there is no list: the pager runs `run=` as before.
        let plain = pack(&artifacts, "", &[], &dir).unwrap();
        let mut archive = tar::Archive::new(std::fs::File::open(plain).unwrap());
        let names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["cmdline", "pager"]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
