//! mremap: shrink, grow in place, or move a mapping with its resident
//! pages (which keep their frames: the kernel re-maps them, see
//! [`crate::effects::Moved`]).

use libipc::types::{PAGE_SIZE, VirtAddr};

use super::{AddressSpace, page_down};
use crate::{
    effects::{Effects, Moved},
    linux::{Errno, Privileges},
    vma::{Lock, Vma, VmaName},
};

/// mremap's flags, checked (MREMAP_FIXED and MREMAP_DONTUNMAP imply
/// MREMAP_MAYMOVE).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RemapFlags {
    pub may_move: bool,
    pub fixed: bool,
    /// Move the pages but leave the old range mapped (empty).
    pub dont_unmap: bool,
}

/// PAGE_ALIGN as C computes it: wraps to 0 near the top.
fn page_align(len: u64) -> u64 {
    len.wrapping_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1)
}

/// vDSO and vvar are special mappings: they never grow (EFAULT) nor
/// leave pages behind (EINVAL).
fn special(v: &Vma) -> bool {
    matches!(v.name, VmaName::Vdso | VmaName::Vvar)
}

impl AddressSpace {
    /// mremap after the flag checks, in Linux's order. Returns the new
    /// address; effects (pages unmapped at a MAP_FIXED target or cut off
    /// by shrinking, pages moved, a range to populate) come back even when
    /// a later step fails, as Linux keeps them.
    pub fn mremap(
        &mut self,
        addr: u64,
        old_len: u64,
        new_len: u64,
        flags: RemapFlags,
        new_addr: u64,
        privileges: Privileges,
    ) -> (Effects, Result<u64, Errno>) {
        let mut effects = Effects::default();
        let result = self.remap(addr, old_len, new_len, flags, new_addr, privileges, &mut effects);
        (effects, result)
    }

    #[allow(clippy::too_many_arguments, reason = "the system call's arguments plus the effects")]
    fn remap(
        &mut self,
        addr: u64,
        old_len: u64,
        new_len: u64,
        flags: RemapFlags,
        new_addr: u64,
        privileges: Privileges,
        effects: &mut Effects,
    ) -> Result<u64, Errno> {
        if flags.dont_unmap && old_len != new_len {
            return Err(Errno::Inval);
        }
        if !addr.is_multiple_of(PAGE_SIZE) {
            return Err(Errno::Inval);
        }
        let (mut old_len, new_len) = (page_align(old_len), page_align(new_len));
        if new_len == 0 {
            return Err(Errno::Inval);
        }
        if self.vmas.find(addr).is_none() {
            return Err(Errno::Fault);
        }
        if flags.fixed || flags.dont_unmap {
            if !new_addr.is_multiple_of(PAGE_SIZE) || new_len > self.top() || new_addr > self.top() - new_len {
                return Err(Errno::Inval);
            }
            if addr.saturating_add(old_len) > new_addr && new_addr.saturating_add(new_len) > addr {
                return Err(Errno::Inval);
            }
            if flags.dont_unmap && !self.may_expand(addr, old_len) {
                return Err(Errno::NoMem);
            }
            if flags.fixed {
                effects.dropped.append(&mut self.munmap(new_addr, new_len)?);
            }
            if old_len > new_len {
                effects
                    .dropped
                    .append(&mut self.munmap(addr + new_len, old_len - new_len)?);
                old_len = new_len;
            }
            self.check_resize(addr, old_len, new_len, flags, privileges)?;
            let to = if flags.fixed {
                new_addr
            } else {
                self.place(new_addr, new_len)?
            };
            return self.move_range(addr, old_len, new_len, to, flags.dont_unmap, effects);
        }
        if old_len >= new_len {
            if old_len > new_len {
                effects
                    .dropped
                    .append(&mut self.munmap(addr + new_len, old_len - new_len)?);
            }
            return Ok(addr);
        }
        self.check_resize(addr, old_len, new_len, flags, privileges)?;
        let vma = self.vmas.find(addr).ok_or(Errno::Fault)?;
        let (vma_start, vma_end, lock) = (vma.start, vma.end, vma.lock);
        let grow = new_len - old_len;
        // Growing in place: the range ends at the VMA's end and the next
        // `grow` bytes are free (a stack's guard gap does not count).
        if addr + old_len == vma_end
            && vma_end.checked_add(grow).is_some_and(|e| e <= self.top())
            && !self.vmas.overlaps(vma_end, vma_end + grow)
        {
            self.vmas.set_end(vma_start, vma_end + grow);
            self.vmas.merge_at(vma_end + grow);
            effects.append(self.populate_effects(vma_end, vma_end + grow, lock));
            return Ok(addr);
        }
        if !flags.may_move {
            return Err(Errno::NoMem);
        }
        let to = self.place(0, new_len)?;
        self.move_range(addr, old_len, new_len, to, false, effects)
    }

    /// Linux's vma_to_resize: the range must sit in one VMA (EFAULT), and
    /// growth must fit the limits.
    fn check_resize(
        &self,
        addr: u64,
        old_len: u64,
        new_len: u64,
        flags: RemapFlags,
        privileges: Privileges,
    ) -> Result<(), Errno> {
        let v = self.vmas.find(addr).ok_or(Errno::Fault)?;
        if old_len > v.end - addr {
            return Err(Errno::Fault);
        }
        // A zero old length duplicates a shared mapping in Linux; frames
        // here belong to one VMA, so it is refused for every mapping.
        if old_len == 0 {
            return Err(Errno::Inval);
        }
        if flags.dont_unmap && special(v) {
            return Err(Errno::Inval);
        }
        if new_len == old_len {
            return Ok(());
        }
        if special(v) {
            return Err(Errno::Fault);
        }
        let grow = new_len - old_len;
        if v.lock != Lock::None && !self.memlock_allows(grow, privileges) {
            return Err(Errno::Again);
        }
        if !self.may_expand(addr, grow) {
            return Err(Errno::NoMem);
        }
        Ok(())
    }

    /// may_expand_vm for `more` bytes like the VMA at `addr`.
    fn may_expand(&self, addr: u64, more: u64) -> bool {
        let data = self.vmas.find(addr).is_some_and(Vma::is_data);
        self.as_limit_allows(more) && (!data || self.data_limit_allows(more))
    }

    /// Moves `[addr, addr+old_len)` (inside one VMA) to `to`, `new_len`
    /// long, with its pages; `keep_old` leaves the old range mapped,
    /// empty and unlocked (MREMAP_DONTUNMAP).
    fn move_range(
        &mut self,
        addr: u64,
        old_len: u64,
        new_len: u64,
        to: u64,
        keep_old: bool,
        effects: &mut Effects,
    ) -> Result<u64, Errno> {
        /// Linux refuses a move that could need more VMAs than this close
        /// to the limit.
        const MOVE_SPLITS: usize = 3;
        if self.vmas.len() + MOVE_SPLITS >= self.max_map_count {
            return Err(Errno::NoMem);
        }
        let end = addr + old_len;
        let mut moved = if keep_old {
            self.vmas.split_at(addr);
            self.vmas.split_at(end);
            let v = self.vmas.find_mut(addr).ok_or(Errno::Fault)?;
            let copy = v.clone();
            v.resident = crate::resident::ResidentPages::new();
            self.vmas.update_range(addr, end, |v| v.lock = Lock::None);
            copy
        } else {
            let mut pieces = self.vmas.remove_range(addr, end);
            debug_assert_eq!(pieces.len(), 1, "checked: the range is inside one VMA");
            pieces.pop().ok_or(Errno::Fault)?
        };
        let lock = moved.lock;
        for (page, frame) in moved.resident.iter() {
            effects.moved.push(Moved {
                from: VirtAddr(page),
                to: VirtAddr(page - addr + to),
                frame,
                prot: frame.pte_prot(moved.prot),
            });
        }
        moved.relocate(to);
        moved.end = to + new_len;
        self.vmas.remove_range(to, to + new_len);
        self.vmas.insert(moved);
        if new_len > old_len {
            effects.append(self.populate_effects(to + old_len, to + new_len, lock));
        }
        Ok(page_down(to))
    }
}
