//! Validation of a pager's mapping requests. The kernel installs a page
//! only when every check passes; a refused request maps nothing.

use libipc::{
    abi::{MAX_PAGE_BITS, MapFlags, PageBitsClear, SysError},
    kernel::{MAX_FAULT_MAPPINGS, Mapping},
    types::{HUGE_PAGE_SIZE, PAGE_SIZE, PAGES_PER_HUGE, Pid, VirtAddr},
};
use x86_64::structures::paging::PageTableFlags as F;

use crate::{
    memory::space::{self, MapCursor, MapError},
    object::{FramePool, Kernel},
};

impl Kernel {
    /// The process `pid` if `pager` is the pager that pages it.
    pub fn paged_by(&self, pager: Pid, pid: Pid) -> Result<(), SysError> {
        let process = self.process(pid).ok_or(SysError::NoSuchObject)?;
        if process.pager == Some(pager) {
            Ok(())
        } else {
            Err(SysError::NotPermitted)
        }
    }

    /// Checks one mapping of a pager whose frames are `pool`, one of
    /// `count` in a reply.
    fn validate_mapping(pool: &FramePool, m: &Mapping, count: usize) -> Result<(), SysError> {
        if m.flags.0 & !MapFlags::ALL != 0 {
            return Err(SysError::InvalidArgument);
        }
        if m.flags.contains(MapFlags::HUGE) {
            return Self::validate_huge(pool, m, count);
        }
        if !m.virt.is_page_aligned() || !m.phys.is_page_aligned() {
            return Err(SysError::InvalidArgument);
        }
        if !space::is_canonical(m.virt.0) || m.virt.0 >= space::user_end() {
            return Err(SysError::BadAddress);
        }
        if m.phys.0 == crate::time::vvar_phys() {
            // The clock page: any pager may map it, never writable nor
            // executable.
            return if m.flags.0 & (MapFlags::WRITE.0 | MapFlags::EXEC.0 | MapFlags::ALLOW_WX.0) != 0 {
                Err(SysError::NotPermitted)
            } else {
                Ok(())
            };
        }
        if m.phys.0 == crate::memory::zero::phys() {
            // The zero frame: any pager may map it, never writable, so it
            // stays zeros for everyone who shares it.
            return if m.flags.0 & (MapFlags::WRITE.0 | MapFlags::ALLOW_WX.0) != 0 {
                Err(SysError::NotPermitted)
            } else {
                Ok(())
            };
        }
        if !pool.contains(m.phys.0) {
            return Err(SysError::FrameNotOwned);
        }
        if m.flags.contains(MapFlags::WRITE.union(MapFlags::EXEC)) && !m.flags.contains(MapFlags::ALLOW_WX) {
            return Err(SysError::WritableExecutable);
        }
        Ok(())
    }

    /// [`Self::validate_mapping`] for a 2 MiB page: the same checks over
    /// the whole 2 MiB, and it must travel alone (so a refused batch never
    /// has a huge entry to put back).
    fn validate_huge(pool: &FramePool, m: &Mapping, count: usize) -> Result<(), SysError> {
        if count != 1 || !m.virt.is_huge_aligned() || !m.phys.is_huge_aligned() {
            return Err(SysError::InvalidArgument);
        }
        let end = m.virt.0.checked_add(HUGE_PAGE_SIZE).ok_or(SysError::BadAddress)?;
        if !space::is_canonical(m.virt.0) || end > space::user_end() {
            return Err(SysError::BadAddress);
        }
        // The pool is one range: its first and last frames bound it. The
        // clock page is never in it, so it is refused here too.
        if !pool.contains(m.phys.0) || !pool.contains(m.phys.0 + HUGE_PAGE_SIZE - PAGE_SIZE) {
            return Err(SysError::FrameNotOwned);
        }
        if m.flags.contains(MapFlags::WRITE.union(MapFlags::EXEC)) && !m.flags.contains(MapFlags::ALLOW_WX) {
            return Err(SysError::WritableExecutable);
        }
        Ok(())
    }

    /// Validates all of `mappings` (at most one fault reply's worth), then
    /// installs them; on a failure while installing (out of page-table
    /// memory) the entries changed so far are put back as they were.
    pub fn install(&mut self, pager: Pid, pid: Pid, mappings: &[Mapping]) -> Result<(), SysError> {
        if mappings.len() > MAX_FAULT_MAPPINGS {
            return Err(SysError::InvalidArgument);
        }
        // One lookup: the process knows its pager and that pager's pool.
        let process = self.process_mut(pid).ok_or(SysError::NoSuchObject)?;
        if process.pager != Some(pager) {
            return Err(SysError::NotPermitted);
        }
        let pool = process.pager_pool.ok_or(SysError::NotPermitted)?;
        for m in mappings {
            Self::validate_mapping(&pool, m, mappings.len())?;
        }
        let space = &mut process.space;
        let mut cursor = MapCursor::default();
        let mut changed = heapless::Vec::<_, MAX_FAULT_MAPPINGS>::new();
        for m in mappings {
            let mut flags = F::empty();
            if m.flags.contains(MapFlags::WRITE) {
                flags |= F::WRITABLE;
            }
            if !m.flags.contains(MapFlags::EXEC) {
                flags |= F::NO_EXECUTE;
            }
            // Both were validated above: no checks left to repeat.
            let virt = m.virt.0;
            let phys = x86_64::PhysAddr::new_truncate(m.phys.0);
            let replace = m.flags.contains(MapFlags::REPLACE);
            if m.flags.contains(MapFlags::HUGE) {
                // Alone in its reply (validated): nothing to put back.
                return space.map_huge(virt, phys, flags, replace).map_err(sys_error);
            }
            match space.map_at(&mut cursor, virt, phys, flags, replace) {
                Ok(previous) => changed.push((virt, previous)).expect("at most MAX_FAULT_MAPPINGS"),
                Err(e) => {
                    while let Some((virt, previous)) = changed.pop() {
                        space.restore(virt, previous);
                    }
                    return Err(sys_error(e));
                }
            }
        }
        Ok(())
    }

    /// Removes `pages` pages at `virt` from `pid`; returns how many were
    /// mapped.
    pub fn unmap_range(&mut self, pager: Pid, pid: Pid, virt: VirtAddr, pages: u64) -> Result<u64, SysError> {
        /// Bounds the work of one call: the kernel is not preemptible.
        const MAX_PAGES: u64 = 1 << 20;
        self.paged_by(pager, pid)?;
        if !virt.is_page_aligned() || pages > MAX_PAGES {
            return Err(SysError::InvalidArgument);
        }
        let end = user_run(virt, pages)?;
        let space = &mut self.process_mut(pid).ok_or(SysError::NoSuchObject)?.space;
        let mut present = 0;
        let mut va = virt.0;
        while va < end {
            // A huge page the range covers whole goes in one step.
            if va.is_multiple_of(HUGE_PAGE_SIZE) && end - va >= HUGE_PAGE_SIZE && space.unmap_huge(va).is_some() {
                present += PAGES_PER_HUGE;
                va += HUGE_PAGE_SIZE;
                continue;
            }
            if space.unmap(va).is_some() {
                present += 1;
            }
            va += PAGE_SIZE;
        }
        Ok(present)
    }

    /// `PageBits`: the present, accessed and dirty bits of `pages` pages
    /// (at most 64) from `virt` in `pid`, clearing the bits `clear` asks
    /// for after reading them. Mechanism for a pager's reclaim: the kernel
    /// reports what the CPU recorded and decides nothing.
    pub fn page_bits(
        &mut self,
        pager: Pid,
        pid: Pid,
        virt: VirtAddr,
        pages: u64,
        clear: u64,
    ) -> Result<(u64, u64, u64), SysError> {
        self.paged_by(pager, pid)?;
        if !virt.is_page_aligned() || pages == 0 || pages > MAX_PAGE_BITS || clear & !PageBitsClear::ALL != 0 {
            return Err(SysError::InvalidArgument);
        }
        user_run(virt, pages)?;
        let space = &self.process(pid).ok_or(SysError::NoSuchObject)?.space;
        let (mut present, mut accessed, mut dirty) = (0u64, 0u64, 0u64);
        let clear = PageBitsClear(clear);
        for i in 0..pages {
            let Some(bits) = space.take_use_bits(virt.0 + i * 4096, clear) else {
                continue;
            };
            present |= 1 << i;
            accessed |= u64::from(bits.accessed) << i;
            dirty |= u64::from(bits.dirty) << i;
        }
        Ok((present, accessed, dirty))
    }

    /// `UnmapClean`: unmaps the pages of `mask` (bit `i`: the page at
    /// `virt + i * 4096`) that are present and not dirty, and reports
    /// which it unmapped and which it left dirty. The check and the unmap
    /// are one step, so a program cannot write a page between a pager's
    /// look at its dirty bit and its unmap.
    pub fn unmap_clean(
        &mut self,
        pager: Pid,
        pid: Pid,
        virt: VirtAddr,
        mask: u64,
    ) -> Result<(u64, u64, u64), SysError> {
        self.paged_by(pager, pid)?;
        if !virt.is_page_aligned() || mask == 0 {
            return Err(SysError::InvalidArgument);
        }
        let pages = 64 - u64::from(mask.leading_zeros());
        user_run(virt, pages)?;
        let space = &mut self.process_mut(pid).ok_or(SysError::NoSuchObject)?.space;
        let (mut unmapped, mut dirty) = (0u64, 0u64);
        let mut rest = mask;
        while rest != 0 {
            let i = u64::from(rest.trailing_zeros());
            rest &= rest - 1;
            let page = virt.0 + i * 4096;
            match space.take_use_bits(page, PageBitsClear::NONE) {
                Some(bits) if bits.dirty => dirty |= 1 << i,
                Some(_) => {
                    space.unmap(page);
                    unmapped |= 1 << i;
                }
                None => {}
            }
        }
        Ok((unmapped, dirty, 0))
    }
}

/// Checks `pages` pages from `virt` lie in the user half (`pages` is
/// bounded by the caller, so the byte count cannot overflow).
fn user_run(virt: VirtAddr, pages: u64) -> Result<u64, SysError> {
    let end = virt.0.checked_add(pages * 4096).ok_or(SysError::BadAddress)?;
    if !space::is_canonical(virt.0) || end > space::user_end() {
        return Err(SysError::BadAddress);
    }
    Ok(end)
}

/// The error a pager sees for a mapping the page tables could not take.
fn sys_error(e: MapError) -> SysError {
    match e {
        MapError::OutOfMemory => SysError::OutOfMemory,
        MapError::AlreadyMapped => SysError::AlreadyMapped,
        MapError::TableLimit => SysError::PageTableLimit,
    }
}
