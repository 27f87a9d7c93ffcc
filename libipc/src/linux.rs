//! The Linux personality server's protocol with the pager.
//!
//! A Linux process's system calls reach one of two handlers (the routes
//! the pager gives its space, [`crate::abi::SyscallRoutes`]): the pager
//! answers the memory and life-cycle calls, the personality server (the
//! service `linux`) the rest: files, /proc, identity, time. The server
//! owns each process's file table; the pager owns its memory. Where one
//! needs the other's facts, the server asks the pager with a
//! [`Request::Linux`](crate::pager::Request::Linux) byte message carrying
//! a [`PersonalityRequest`]; the pager answers only the `linux` service it
//! launched.
//!
//! | request | reply | why |
//! |---|---|---|
//! | `Process { pid }` | `Process(ProcessInfo)` | uid calls, readlink of `/proc/self/exe` |
//! | `Touch { pid, addr, len, write }` | `Done` or `Fault` | a copy to or from the caller found a page not mapped yet: the pager maps it as a fault would, or says EFAULT |
//! | `OpenFile { path }` | `File(FileInfo)` | the ramdisk file, mapped read-only into the server, which reads it from memory |
//! | `BindFd { pid, fd, file }` | `Done` | the file behind a descriptor, for mmap of it (the pager answers mmap) |

use alloc::string::String;

use serde::{Deserialize, Serialize};

use crate::types::{Pid, VirtAddr};

/// The name the pager launches the personality server under.
pub const SERVICE_NAME: &str = "linux";

/// The longest path `OpenFile` carries; longer names are in no ramdisk.
pub const MAX_PATH: usize = 255;

/// A file of the ramdisk as the pager names it: its id for file-backed
/// mappings and its size (pages past its end are SIGBUS).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    pub id: u64,
    pub size: u64,
}

/// A question of the personality server to the pager.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PersonalityRequest {
    /// Who `pid` is: its user and its program file.
    Process { pid: Pid },
    /// Make `[addr, addr + len)` of `pid` resident, as faults by an access
    /// (`write` or read) would: `Fault` when Linux's `copy_to_user` or
    /// `copy_from_user` would fail there.
    Touch {
        pid: Pid,
        addr: VirtAddr,
        len: u64,
        write: bool,
    },
    /// Open a ramdisk file (a path relative to the ramdisk's root, without
    /// a leading `/`, at most [`MAX_PATH`] bytes).
    OpenFile { path: String },
    /// Descriptor `fd` of `pid` now names `file` (`None`: nothing
    /// mappable, e.g. after close).
    BindFd { pid: Pid, fd: u32, file: Option<FileRef> },
}

/// What the pager knows of a Linux process.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessInfo {
    /// Its token's user, which Linux sees as uid, euid, gid and egid.
    pub uid: u32,
    /// Its program file, as `/proc/<pid>/exe` names it (`/` + ramdisk path).
    pub exe: String,
}

/// An opened ramdisk file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileInfo {
    pub file: FileRef,
    /// Where the whole file is mapped read-only in the server's space.
    pub addr: VirtAddr,
}

/// The pager's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PersonalityReply {
    Process(ProcessInfo),
    File(FileInfo),
    Done,
}
