//! The pager's protocol with programs.
//!
//! A program sends a [`Request`] with `Call` to [`crate::abi::PAGER_ENDPOINT`]
//! and receives a [`Response`]. The pager learns who is asking from the
//! kernel's sender stamp, never from the request.

use serde::{Deserialize, Serialize};

use crate::types::{PageCount, Prot, VirtAddr};

/// mmap flags (Linux values where Linux has them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapKind(pub u32);

impl MapKind {
    pub const SHARED: MapKind = MapKind(0x01);
    pub const PRIVATE: MapKind = MapKind(0x02);
    pub const FIXED: MapKind = MapKind(0x10);
    pub const ANONYMOUS: MapKind = MapKind(0x20);
    pub const GROWSDOWN: MapKind = MapKind(0x100);
    pub const FIXED_NOREPLACE: MapKind = MapKind(0x10_0000);

    pub const fn contains(self, other: MapKind) -> bool {
        self.0 & other.0 == other.0
    }

    pub const fn union(self, other: MapKind) -> MapKind {
        MapKind(self.0 | other.0)
    }
}

/// A request from a program to its pager.
#[allow(
    clippy::large_enum_variant,
    reason = "inline messages: values live briefly on the stack before encoding"
)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// Anonymous mmap: returns the address. Allocates no frames.
    Mmap {
        addr: VirtAddr,
        len: u64,
        prot: Prot,
        flags: MapKind,
    },
    Munmap {
        addr: VirtAddr,
        len: u64,
    },
    Mprotect {
        addr: VirtAddr,
        len: u64,
        prot: Prot,
    },
    /// brk(addr): the new break on success, the old one on failure.
    Brk {
        addr: VirtAddr,
    },
    /// How many pages of `[addr, addr+len)` are resident (backed by frames).
    Resident {
        addr: VirtAddr,
        len: u64,
    },
    /// The pager's frame pool.
    PoolStats,
    /// Does nothing: the null round trip of the IPC benchmark.
    Null,
    /// The procfs server asks about a process (refused for anyone else).
    Source(crate::procfs::SourceRequest),
}

/// A successful answer.
#[allow(
    clippy::large_enum_variant,
    reason = "inline messages: values live briefly on the stack before encoding"
)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reply {
    Addr(VirtAddr),
    Done,
    Pages(PageCount),
    Pool { free: PageCount, total: PageCount },
    Source(crate::procfs::SourceResponse),
}

/// Errors, errno for errno with Linux.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Errno {
    /// EPERM
    NotPermitted,
    /// ENOMEM
    NoMemory,
    /// EINVAL
    Invalid,
    /// EEXIST
    Exists,
    /// EACCES
    Access,
    /// EFAULT
    Fault,
    /// EIO
    Io,
    /// ENOSYS: the request is not served here.
    NotSupported,
}

impl Errno {
    /// The Linux errno number.
    pub const fn code(self) -> i32 {
        match self {
            Errno::NotPermitted => 1,
            Errno::Io => 5,
            Errno::NoMemory => 12,
            Errno::Access => 13,
            Errno::Fault => 14,
            Errno::Exists => 17,
            Errno::Invalid => 22,
            Errno::NotSupported => 38,
        }
    }
}

/// The pager's answer to a [`Request`].
pub type Response = Result<Reply, Errno>;
