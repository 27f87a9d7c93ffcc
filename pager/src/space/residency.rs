//! mincore, msync, and the helpers the shell uses to prefault a range and
//! to check a user buffer before writing into it.

use alloc::vec::Vec;

use libipc::types::{Access, PAGE_SIZE, Prot, VirtAddr};

use super::{AddressSpace, PageToMap, page_down, page_to_map, page_up, permits};
use crate::{linux::Errno, vma::Backing};

/// msync's flags, checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyncFlags {
    pub invalidate: bool,
}

impl AddressSpace {
    /// mincore: one byte per page of `[addr, addr+len)`, 1 when the page is
    /// in memory. Anonymous pages are when they have a frame; file pages
    /// always are (the files live in the ramdisk, so touching one never
    /// waits for a disk: what mincore's answer means). A hole ends the
    /// walk with ENOMEM; the bytes before it are returned with the error,
    /// as Linux copies them out chunk by chunk (`Err((bytes, errno))`).
    pub fn mincore(&self, addr: u64, len: u64) -> Result<Vec<u8>, (Vec<u8>, Errno)> {
        let pages = len.div_ceil(PAGE_SIZE);
        let mut out = Vec::new();
        let mut page = addr;
        for _ in 0..pages {
            let Some(v) = self.vmas.find(page) else {
                // Linux copies out per chunk of one page of bytes.
                let whole = out.len() - out.len() % PAGE_SIZE as usize;
                out.truncate(whole);
                return Err((out, Errno::NoMem));
            };
            let resident = v.resident.contains(page) || matches!(v.backing, Backing::File { .. });
            out.push(u8::from(resident));
            page += PAGE_SIZE;
        }
        Ok(out)
    }

    /// msync after the flag checks: ENOMEM if part of the range is
    /// unmapped, EBUSY for MS_INVALIDATE over locked pages. There is
    /// nothing to write back: files are read-only, shared anonymous
    /// memory lives in its frames.
    pub fn msync(&self, addr: u64, len: u64, flags: SyncFlags) -> Result<(), Errno> {
        let end = page_up(len).and_then(|l| addr.checked_add(l)).ok_or(Errno::NoMem)?;
        if end == addr {
            return Ok(());
        }
        let mut cursor = addr;
        let mut hole = false;
        for v in self.vmas.overlapping(addr, end) {
            hole |= v.start > cursor;
            if flags.invalidate && v.lock != crate::vma::Lock::None {
                return Err(Errno::Busy);
            }
            cursor = v.end;
        }
        if hole || cursor < end {
            return Err(Errno::NoMem);
        }
        Ok(())
    }

    /// The pages of `[start, end)` to fault in now (an effect's
    /// [`crate::effects::Populate`]): the non-resident pages of accessible
    /// VMAs, with how to fill each. The shell allocates, fills, records
    /// them with [`AddressSpace::commit_pages`] and maps them; it stops
    /// quietly when the pool runs dry.
    pub fn populate(&self, start: VirtAddr, end: VirtAddr) -> Vec<PageToMap> {
        let mut pages = Vec::new();
        for v in self.vmas.overlapping(start.0, end.0) {
            if v.prot == Prot::NONE {
                continue;
            }
            let (lo, hi) = (page_down(start.0).max(v.start), end.0.min(v.end));
            let mut resident = v.resident.range(lo..hi).map(|(p, _)| p).peekable();
            for page in (lo..hi).step_by(PAGE_SIZE as usize) {
                while resident.next_if(|&r| r < page).is_some() {}
                if resident.peek() != Some(&page) {
                    // Linux populates a writable private mapping for
                    // writing (FOLL_WRITE): its file pages become the
                    // process's own.
                    let access = if v.prot.contains(Prot::WRITE) {
                        Access::Write
                    } else {
                        Access::Read
                    };
                    pages.push(page_to_map(v, page, access, false));
                }
            }
        }
        pages
    }

    /// Whether `[addr, addr+len)` lies in VMAs that permit `access` (a user
    /// buffer a call reads or writes; EFAULT otherwise).
    pub fn user_range_ok(&self, addr: u64, len: u64, access: Access) -> bool {
        let Some(end) = addr.checked_add(len).filter(|&e| e <= self.top()) else {
            return false;
        };
        let mut cursor = addr;
        for v in self.vmas.overlapping(addr, end) {
            if v.start > cursor || !permits(v.prot, access) {
                return false;
            }
            cursor = v.end;
        }
        cursor >= end
    }
}
