//! What a served call leaves for the shell (the server or the host mode)
//! to carry out: the page-table changes the kernel must make, frames to
//! free, pages to fault in now and bytes to write into the caller. The
//! native protocol ([`crate::request`]) and the Linux calls
//! ([`crate::linux`]) return the same [`Effects`].

use alloc::vec::Vec;

use libipc::types::{Prot, VirtAddr};

use crate::{
    resident::Frame,
    space::{Advice, Dropped, Reprotected},
};

/// A resident page that moved (mremap): unmap `from`, map `frame` at `to`
/// with `prot` (unless `prot` is `Prot::NONE`: then only unmap).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Moved {
    pub from: VirtAddr,
    pub to: VirtAddr,
    pub frame: Frame,
    /// The page-table entry's protection ([`Frame::pte_prot`]).
    pub prot: Prot,
}

/// A range to fault in now (MAP_POPULATE, MAP_LOCKED, mlock,
/// MADV_POPULATE_*): see [`crate::space::AddressSpace::populate`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Populate {
    pub start: VirtAddr,
    pub end: VirtAddr,
    /// Fault for writing (Linux write-faults private writable mappings).
    pub write: bool,
}

/// An madvise hint the policy hears about (NORMAL, RANDOM, SEQUENTIAL,
/// WILLNEED, DONTNEED), over one VMA's mapped part of the advised range,
/// after the address space applied it. The shell passes it to
/// [`crate::space::AddressSpace::advise_policy`], whose answer (a range to
/// fault in now) joins `populate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Advised {
    pub start: VirtAddr,
    pub end: VirtAddr,
    pub advice: Advice,
}

/// Bytes the call writes into the caller's memory (mincore's vector,
/// getrlimit's and prlimit64's old limits). The library has checked that
/// the range is mapped writable; its pages may still need faulting in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CopyOut {
    pub addr: VirtAddr,
    pub bytes: Vec<u8>,
}

/// What a served request leaves for the shell to do, in this order:
/// `dropped`, `reprotected`, `moved`, `advised` (which may add to
/// `populate`), then `populate`, then `copy_out`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Effects {
    /// Pages gone from the space: unmap them, free their frames.
    pub dropped: Vec<Dropped>,
    /// Resident pages whose protection changed: re-map them (unmap for
    /// `Prot::NONE`, keeping the frame).
    pub reprotected: Vec<Reprotected>,
    /// Resident pages that moved to another address, keeping their frame.
    pub moved: Vec<Moved>,
    /// Hints for the policy.
    pub advised: Vec<Advised>,
    /// Ranges to fault in now; running out of frames is not an error.
    pub populate: Vec<Populate>,
    /// Bytes to write into the caller's memory.
    pub copy_out: Vec<CopyOut>,
}

impl Effects {
    pub fn is_empty(&self) -> bool {
        *self == Effects::default()
    }

    /// Appends `other`'s effects after ours.
    pub fn append(&mut self, mut other: Effects) {
        self.dropped.append(&mut other.dropped);
        self.reprotected.append(&mut other.reprotected);
        self.moved.append(&mut other.moved);
        self.advised.append(&mut other.advised);
        self.populate.append(&mut other.populate);
        self.copy_out.append(&mut other.copy_out);
    }
}
