//! Path names: what a path a program passes names in this system. The
//! ramdisk is the root filesystem, read-only and flat as its archive is;
//! `/proc/<pid>/` (and `/proc/self/`) holds the files procfs serves and
//! the `exe` link. The current directory is always `/`.

use alloc::{string::String, vec::Vec};

use libipc::{procfs::ProcFile, types::Pid};

use crate::errno::Errno;

/// Linux's PATH_MAX, counting the NUL.
pub const PATH_MAX: usize = 4096;

/// Whose `/proc` directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcPid {
    /// `/proc/self` (and `/proc/thread-self`, one thread per process).
    Caller,
    Pid(Pid),
}

impl ProcPid {
    /// The pid it names for `caller`.
    pub fn resolve(self, caller: Pid) -> Pid {
        match self {
            ProcPid::Caller => caller,
            ProcPid::Pid(pid) => pid,
        }
    }
}

/// What a path names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A ramdisk file: its name in the archive (no leading `/`).
    Ramdisk(String),
    /// A file procfs serves.
    Proc(ProcPid, ProcFile),
    /// `/proc/<pid>/exe`: a link to the program's file.
    Exe(ProcPid),
    /// A directory (`/`, `/proc`, `/proc/<pid>`): none can be opened here.
    Directory,
}

/// Resolves `path` (relative names start at `/`). Lexical: `.` and empty
/// components vanish, `..` goes up (and stays at `/`).
pub fn resolve(path: &[u8]) -> Result<Target, Errno> {
    if path.is_empty() {
        return Err(Errno::NoEnt);
    }
    if path.len() >= PATH_MAX {
        return Err(Errno::NameTooLong);
    }
    let path = core::str::from_utf8(path).map_err(|_| Errno::NoEnt)?;
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            name if name.len() > 255 => return Err(Errno::NameTooLong),
            name => parts.push(name),
        }
    }
    match parts.as_slice() {
        [] | ["proc"] => Ok(Target::Directory),
        ["proc", pid] => proc_pid(pid).map(|_| Target::Directory),
        ["proc", pid, "exe"] => Ok(Target::Exe(proc_pid(pid)?)),
        ["proc", pid, file] => {
            let pid = proc_pid(pid)?;
            let file = match *file {
                "maps" => ProcFile::Maps,
                "smaps" => ProcFile::Smaps,
                "smaps_rollup" => ProcFile::SmapsRollup,
                "pagemap" => ProcFile::Pagemap,
                "mem" => ProcFile::Mem,
                _ => return Err(Errno::NoEnt),
            };
            Ok(Target::Proc(pid, file))
        }
        ["proc", ..] => Err(Errno::NoEnt),
        parts => Ok(Target::Ramdisk(parts.join("/"))),
    }
}

fn proc_pid(name: &str) -> Result<ProcPid, Errno> {
    match name {
        "self" | "thread-self" => Ok(ProcPid::Caller),
        digits if !digits.is_empty() && !digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit()) => {
            digits.parse().map(|n| ProcPid::Pid(Pid(n))).map_err(|_| Errno::NoEnt)
        }
        _ => Err(Errno::NoEnt),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramdisk(name: &str) -> Result<Target, Errno> {
        Ok(Target::Ramdisk(name.into()))
    }

    #[test]
    fn ramdisk_names_are_found_however_they_are_spelt() {
        assert_eq!(resolve(b"/fault"), ramdisk("fault"));
        assert_eq!(resolve(b"fault"), ramdisk("fault"));
        assert_eq!(resolve(b"./bin//x/"), ramdisk("bin/x"));
        assert_eq!(resolve(b"/../bin/../bin/x"), ramdisk("bin/x"));
    }

    #[test]
    fn proc_files_and_links() {
        assert_eq!(
            resolve(b"/proc/self/maps"),
            Ok(Target::Proc(ProcPid::Caller, ProcFile::Maps))
        );
        assert_eq!(
            resolve(b"/proc/12/smaps_rollup"),
            Ok(Target::Proc(ProcPid::Pid(Pid(12)), ProcFile::SmapsRollup))
        );
        assert_eq!(
            resolve(b"/proc/thread-self/mem"),
            Ok(Target::Proc(ProcPid::Caller, ProcFile::Mem))
        );
        assert_eq!(resolve(b"/proc/self/exe"), Ok(Target::Exe(ProcPid::Caller)));
        assert_eq!(resolve(b"/proc/self"), Ok(Target::Directory));
        assert_eq!(resolve(b"/"), Ok(Target::Directory));
    }

    #[test]
    fn bad_names_are_errors() {
        assert_eq!(resolve(b""), Err(Errno::NoEnt));
        assert_eq!(resolve(b"/proc/self/status"), Err(Errno::NoEnt));
        assert_eq!(resolve(b"/proc/012/maps"), Err(Errno::NoEnt));
        assert_eq!(resolve(b"/proc/x/maps"), Err(Errno::NoEnt));
        assert_eq!(resolve(b"/proc/99999999999/maps"), Err(Errno::NoEnt));
        assert_eq!(resolve(&[b'a'; PATH_MAX]), Err(Errno::NameTooLong));
        assert_eq!(resolve(&[b'a'; 256]), Err(Errno::NameTooLong));
        assert_eq!(resolve(b"\xff"), Err(Errno::NoEnt));
    }
}
