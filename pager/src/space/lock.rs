//! mlock, mlock2, munlock, mlockall and munlockall: locked VMAs (counted
//! against RLIMIT_MEMLOCK) and the range to populate. Every page here is
//! already unswappable (the pager never evicts), so locking is bookkeeping
//! plus the prefault Linux does.

use alloc::vec::Vec;

use libipc::types::{PAGE_SIZE, Prot, VirtAddr};

use super::{AddressSpace, page_down};
use crate::{
    effects::{Effects, Populate},
    linux::{Errno, Privileges},
    vma::{Lock, VmaName},
};

impl AddressSpace {
    /// mlock/mlock2 (`lock` is `Locked` or `OnFault`) and munlock
    /// (`Lock::None`) of `[addr, addr+len)`, widened to pages. As Linux, a
    /// hole after the first VMA stops the walk with ENOMEM, the VMAs
    /// before it changed.
    pub fn mlock(&mut self, addr: u64, len: u64, lock: Lock, privileges: Privileges) -> Result<Effects, Errno> {
        if lock != Lock::None && !self.can_lock(privileges) {
            return Err(Errno::Perm);
        }
        // PAGE_ALIGN wraps as in C; the wrap is caught below.
        let len = len.wrapping_add(addr % PAGE_SIZE).wrapping_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1);
        let start = page_down(addr);
        if lock != Lock::None {
            // Pages already locked in the range are not counted twice.
            let end = start.saturating_add(len);
            let already: u64 = self
                .vmas
                .overlapping(start, end)
                .filter(|v| v.lock != Lock::None)
                .map(|v| v.end.min(end) - v.start.max(start))
                .sum();
            if !self.memlock_allows(len - already.min(len), privileges) {
                return Err(Errno::NoMem);
            }
        }
        let end = start.checked_add(len).ok_or(Errno::Inval)?;
        if end == start {
            return Ok(Effects::default());
        }
        let reach = self.mapped_from(start, end);
        if reach > start {
            self.within_map_count(start, reach, |s| s.vmas.update_range(start, reach, |v| v.lock = lock))?;
        }
        if reach < end {
            return Err(Errno::NoMem);
        }
        Ok(self.populate_effects(start, end, lock))
    }

    /// How far from `start` (below `end`) VMAs cover without a hole.
    pub(super) fn mapped_from(&self, start: u64, end: u64) -> u64 {
        let mut cursor = start;
        for v in self.vmas.overlapping(start, end) {
            if v.start > cursor {
                break;
            }
            cursor = v.end;
        }
        cursor.min(end)
    }

    /// mlockall(MCL_CURRENT/MCL_FUTURE, with MCL_ONFAULT for `on_fault`).
    pub fn mlockall(
        &mut self,
        current: bool,
        future: bool,
        on_fault: bool,
        privileges: Privileges,
    ) -> Result<Effects, Errno> {
        if !self.can_lock(privileges) {
            return Err(Errno::Perm);
        }
        let lock = if on_fault { Lock::OnFault } else { Lock::Locked };
        self.lock_future = if future { lock } else { Lock::None };
        if !current {
            return Ok(Effects::default());
        }
        if self.total_vm() > self.rlimits.memlock.soft && !privileges.ipc_lock {
            return Err(Errno::NoMem);
        }
        Ok(self.set_lock_everywhere(lock))
    }

    /// munlockall: nothing locked, now or later.
    pub fn munlockall(&mut self) {
        self.lock_future = Lock::None;
        self.set_lock_everywhere(Lock::None);
    }

    /// Sets `lock` on every VMA but the vDSO and vvar (special mappings,
    /// which Linux never locks); returns what to populate.
    fn set_lock_everywhere(&mut self, lock: Lock) -> Effects {
        let ranges: Vec<(u64, u64)> = self
            .vmas
            .iter()
            .filter(|v| !matches!(v.name, VmaName::Vdso | VmaName::Vvar) && v.lock != lock)
            .map(|v| (v.start, v.end))
            .collect();
        let mut effects = Effects::default();
        for (start, end) in ranges {
            self.vmas.update_range(start, end, |v| v.lock = lock);
            effects.append(self.populate_effects(start, end, lock));
        }
        effects
    }

    /// The accessible parts of `[start, end)` to fault in for a `lock`
    /// that populates (`Locked`), one range per VMA.
    pub(super) fn populate_effects(&self, start: u64, end: u64, lock: Lock) -> Effects {
        let mut effects = Effects::default();
        if lock != Lock::Locked {
            return effects;
        }
        for v in self.vmas.overlapping(start, end) {
            if v.prot == Prot::NONE {
                continue;
            }
            effects.populate.push(Populate {
                start: VirtAddr(v.start.max(start)),
                end: VirtAddr(v.end.min(end)),
                write: v.prot.contains(Prot::WRITE) && !v.shared,
            });
        }
        effects
    }
}
