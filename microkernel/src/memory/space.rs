//! Per-process page tables. The upper half (kernel) is shared by copying the
//! kernel's top-level entries into every new root; the lower half belongs
//! to the process and is filled only on a pager's validated request.
//!
//! The tree has 4 levels, or 5 with LA57 ([`levels`], fixed at boot by
//! `arch::la57`). Either way the root's entries 256..511 are the kernel
//! half; with 5 levels the whole 48-bit kernel half hangs off entry 511.
//! User addresses are plain `u64`s here: the `x86_64` crate's `VirtAddr`
//! only knows 48-bit addresses.

use core::sync::atomic::{AtomicU64, Ordering};

use libipc::abi::PageBitsClear;
use x86_64::{
    PhysAddr, VirtAddr,
    registers::control::{Cr3, Cr3Flags, Cr4, Cr4Flags},
    structures::paging::{
        OffsetPageTable, PageTable, PageTableFlags as F, PhysFrame, Translate,
        page_table::{PageTableEntry, PageTableLevel},
    },
};

use super::{frames, phys_offset, phys_to_virt};

/// First top-level index of the kernel half.
const KERNEL_HALF_START: usize = 256;

/// The boot page table: the kernel half's template, and the root in use
/// while no process runs.
static KERNEL_ROOT: spin::Once<PhysFrame> = spin::Once::new();

/// Page-table levels in use: 4, or 5 with CR4.LA57. Set once by [`init`].
static LEVELS: AtomicU64 = AtomicU64::new(4);
/// The address shift of the root's index: 39 with 4 levels, 48 with 5.
static TOP_SHIFT: AtomicU64 = AtomicU64::new(39);
/// One past the highest user address with that width ([`user_end`]): one
/// load for the checks of every system call's user range.
static USER_END: AtomicU64 = AtomicU64::new(libipc::types::user_end(4).0);

/// The physical address of the root in CR3, kept by every CR3 write after
/// [`init`] ([`activate`], and `Drop` of the active space), so a switch
/// compares with it instead of reading and masking CR3. CR3's flags (PWT,
/// PCD) are always clear: [`init`] clears them, and every write keeps them
/// so.
static ACTIVE_ROOT: AtomicU64 = AtomicU64::new(0);

/// Makes `root` the active root, with CR3's flags clear.
///
/// # Safety
/// `root` must map the kernel half as every root does.
#[inline(always)]
unsafe fn write_cr3(root: PhysFrame) {
    ACTIVE_ROOT.store(root.start_address().as_u64(), Ordering::Relaxed);
    // SAFETY: the caller's.
    unsafe { Cr3::write(root, Cr3Flags::empty()) };
}

/// Whether `root` is the active root.
#[inline(always)]
fn is_active(root: PhysFrame) -> bool {
    let active = ACTIVE_ROOT.load(Ordering::Relaxed);
    debug_assert_eq!(
        active,
        Cr3::read().0.start_address().as_u64(),
        "ACTIVE_ROOT out of step with CR3"
    );
    active == root.start_address().as_u64()
}

/// Records the boot root and the paging width; call once, after the switch
/// to 5-level paging if any, before creating address spaces.
pub fn init() {
    let boot_root = *KERNEL_ROOT.call_once(|| Cr3::read().0);
    // SAFETY: the root in use; only the caching flags change (write-back,
    // which is what every root is used with from now on).
    unsafe { write_cr3(boot_root) };
    if Cr4::read().contains(Cr4Flags::L5_PAGING) {
        LEVELS.store(5, Ordering::Relaxed);
        TOP_SHIFT.store(48, Ordering::Relaxed);
        USER_END.store(libipc::types::user_end(5).0, Ordering::Relaxed);
    }
}

/// Page-table levels in use (4 or 5).
#[inline(always)]
pub fn levels() -> u64 {
    LEVELS.load(Ordering::Relaxed)
}

/// One past the highest user address with the active paging width.
#[inline(always)]
pub fn user_end() -> u64 {
    USER_END.load(Ordering::Relaxed)
}

/// Whether `virt` is canonical with the active paging width.
#[inline(always)]
pub fn is_canonical(virt: u64) -> bool {
    libipc::types::VirtAddr(virt).is_canonical_for(levels())
}

/// Translates a kernel virtual address through the boot page table.
pub fn kernel_translate(virt: VirtAddr) -> Option<PhysAddr> {
    let root = *KERNEL_ROOT.get().expect("kernel root recorded at boot");
    // With 5 levels the kernel half is the 4-level tree under entry 511
    // (kernel addresses have bits 56..48 set).
    let pml4 = if levels() == 5 {
        PhysFrame::containing_address(table(root)[511].addr())
    } else {
        root
    };
    // SAFETY: `pml4` is a valid level-4 table mapping the kernel half; the
    // direct map covers all physical memory.
    let mapper = unsafe { OffsetPageTable::new(table(pml4), phys_offset()) };
    mapper.translate_addr(virt)
}

/// Maps one kernel-half page user-readable (never writable nor
/// executable) in every address space: the legacy vsyscall page. The
/// tables it takes join the shared kernel half; the path to it gets the
/// user bit (the kernel's own leaves keep theirs clear, so nothing else
/// opens). Call before any address space exists: roots copy the top level.
pub fn map_shared_user_page(virt: VirtAddr, phys: PhysAddr) -> Result<(), MapError> {
    let mut frame = *KERNEL_ROOT.get().expect("kernel root recorded at boot");
    // From the root down, whatever the width: with 5 levels the walk
    // starts one level higher (entry 511 of the root, the kernel half).
    let top = TOP_SHIFT.load(Ordering::Relaxed);
    for shift in (21..=top).rev().step_by(9) {
        let entry = &mut table(frame)[((virt.as_u64() >> shift) & 511) as usize];
        if !entry.flags().contains(F::PRESENT) {
            let new = frames::alloc_zeroed().ok_or(MapError::OutOfMemory)?;
            entry.set_frame(new, F::PRESENT | F::WRITABLE | F::USER_ACCESSIBLE);
        } else if entry.flags().contains(F::HUGE_PAGE) {
            return Err(MapError::AlreadyMapped);
        } else {
            entry.set_flags(entry.flags() | F::USER_ACCESSIBLE);
        }
        frame = PhysFrame::containing_address(entry.addr());
    }
    let leaf = &mut table(frame)[((virt.as_u64() >> 12) & 511) as usize];
    if leaf.flags().contains(F::PRESENT) {
        return Err(MapError::AlreadyMapped);
    }
    leaf.set_addr(phys, F::PRESENT | F::USER_ACCESSIBLE | F::NO_EXECUTE);
    x86_64::instructions::tlb::flush(virt);
    Ok(())
}

/// What the CPU recorded about a page since the bits were last cleared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UseBits {
    pub accessed: bool,
    pub dirty: bool,
}

/// Why a mapping could not be installed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    OutOfMemory,
    AlreadyMapped,
    /// The space's page tables would pass their limit.
    TableLimit,
}

/// Bits of a virtual address below which one level-1 table maps (2 MiB).
const LEAF_REGION_SHIFT: u64 = 21;

/// The address shift of a level-2 entry: what a huge page maps.
const HUGE_SHIFT: u64 = 21;

/// Bytes of a base page.
const PAGE: u64 = 4096;

/// How a walk to a level-1 table treats what it meets on the way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Walk {
    /// Look only: a missing table or a huge page ends the walk.
    Find,
    /// Split a huge page on the way (to change one of its pages); a
    /// missing table ends the walk.
    Split,
    /// Create missing tables and split huge pages (to map a page).
    Create,
}

/// The level-1 table the last page of a batch was mapped through.
#[derive(Clone, Copy, Debug, Default)]
pub struct MapCursor(Option<(u64, PhysFrame)>);

/// One process's page tables. The frames they take are charged to it:
/// at most `limit` tables below the root, so one process cannot use up the
/// kernel's frames and starve the others.
#[derive(Debug)]
pub struct AddressSpace {
    root: PhysFrame,
    /// Tables allocated below the root.
    tables: core::cell::Cell<u32>,
    limit: u32,
}

fn table(frame: PhysFrame) -> &'static mut PageTable {
    // SAFETY: page-table frames are owned by exactly one AddressSpace (or the
    // kernel's boot root) and reached only through it, with interrupts off
    // on a single CPU, so no other reference is live.
    unsafe { &mut *phys_to_virt(frame.start_address()).as_mut_ptr::<PageTable>() }
}

impl AddressSpace {
    /// A root with the kernel half shared and an empty user half, whose
    /// tables below the root may number `limit`.
    pub fn new(limit: u32) -> Option<Self> {
        let root = frames::alloc_zeroed()?;
        let src = table(*KERNEL_ROOT.get().expect("kernel root recorded at boot"));
        let dst = table(root);
        for i in KERNEL_HALF_START..512 {
            dst[i] = src[i].clone();
        }
        Some(AddressSpace {
            root,
            tables: core::cell::Cell::new(0),
            limit,
        })
    }

    pub fn root(&self) -> PhysFrame {
        self.root
    }

    /// Page-table frames this space uses below its root.
    pub fn table_frames(&self) -> u32 {
        self.tables.get()
    }

    /// The level-1 entry of user address `virt` (see [`Walk`]). A
    /// hand-rolled walk: this is the fault path's PTE install, and the
    /// generic mapper walks twice.
    fn leaf(&self, virt: u64, walk: Walk) -> Result<Option<&'static mut PageTableEntry>, MapError> {
        Ok(self
            .leaf_table(virt, walk)?
            .map(|frame| &mut table(frame)[((virt >> 12) & 511) as usize]))
    }

    /// The level-1 table covering user address `virt` (see [`Walk`]).
    fn leaf_table(&self, virt: u64, walk: Walk) -> Result<Option<PhysFrame>, MapError> {
        let mut frame = self.root;
        let mut shift = TOP_SHIFT.load(Ordering::Relaxed);
        while shift >= LEAF_REGION_SHIFT {
            let entry = &mut table(frame)[((virt >> shift) & 511) as usize];
            if !entry.flags().contains(F::PRESENT) {
                if walk != Walk::Create {
                    return Ok(None);
                }
                let new = self.alloc_table()?;
                entry.set_frame(new, F::PRESENT | F::WRITABLE | F::USER_ACCESSIBLE);
            } else if entry.flags().contains(F::HUGE_PAGE) {
                // Only a level-2 entry of the user half is ever huge.
                if walk == Walk::Find {
                    return Ok(None);
                }
                self.split_huge(entry, virt)?;
            }
            frame = PhysFrame::containing_address(entry.addr());
            shift -= 9;
        }
        Ok(Some(frame))
    }

    /// A zeroed table below the root, charged to this space.
    fn alloc_table(&self) -> Result<PhysFrame, MapError> {
        if self.tables.get() >= self.limit {
            return Err(MapError::TableLimit);
        }
        let new = frames::alloc_zeroed().ok_or(MapError::OutOfMemory)?;
        self.tables.set(self.tables.get() + 1);
        Ok(new)
    }

    /// Turns the huge level-2 `entry` (covering `virt`) into a table of
    /// 512 entries that map the same frames with the same rights, so one
    /// 4 KiB page of it can change. With no table to spare, the huge page
    /// is unmapped whole instead (and the error returned): its pages then
    /// fault back to the pager one by one, so no entry ever outlives what
    /// the pager asked for.
    fn split_huge(&self, entry: &mut PageTableEntry, virt: u64) -> Result<(), MapError> {
        let (base, flags) = (entry.addr(), entry.flags() - F::HUGE_PAGE);
        let new = match self.alloc_table() {
            Ok(new) => new,
            Err(e) => {
                entry.set_unused();
                self.flush_page(virt);
                return Err(e);
            }
        };
        for (i, small) in table(new).iter_mut().enumerate() {
            small.set_addr(base + i as u64 * PAGE, flags);
        }
        entry.set_frame(new, F::PRESENT | F::WRITABLE | F::USER_ACCESSIBLE);
        // The same translations: dropping the 2 MiB one is enough.
        self.flush_page(virt);
        Ok(())
    }

    /// The level-2 entry of user address `virt`, creating the tables above
    /// it.
    fn directory_entry(&self, virt: u64) -> Result<&'static mut PageTableEntry, MapError> {
        let mut frame = self.root;
        let mut shift = TOP_SHIFT.load(Ordering::Relaxed);
        while shift > HUGE_SHIFT {
            let entry = &mut table(frame)[((virt >> shift) & 511) as usize];
            if !entry.flags().contains(F::PRESENT) {
                let new = self.alloc_table()?;
                entry.set_frame(new, F::PRESENT | F::WRITABLE | F::USER_ACCESSIBLE);
            }
            frame = PhysFrame::containing_address(entry.addr());
            shift -= 9;
        }
        Ok(&mut table(frame)[((virt >> HUGE_SHIFT) & 511) as usize])
    }

    /// Installs a 2 MiB page `virt -> phys` (both 2 MiB-aligned) with
    /// `flags` (PRESENT, USER and the huge bit added). An existing level-1
    /// table there is given back if it maps nothing, or with `replace`
    /// (its entries are dropped); an existing huge page is overwritten
    /// only with `replace` or by the same frame.
    pub fn map_huge(&mut self, virt: u64, phys: PhysAddr, flags: F, replace: bool) -> Result<(), MapError> {
        let entry = self.directory_entry(virt)?;
        let huge = flags | F::PRESENT | F::USER_ACCESSIBLE | F::HUGE_PAGE;
        if !entry.flags().contains(F::PRESENT) {
            entry.set_addr(phys, huge);
            // A paging-structure cache may still hold the empty entry.
            self.flush_page(virt);
            return Ok(());
        }
        if entry.flags().contains(F::HUGE_PAGE) {
            if entry.addr() != phys && !replace {
                return Err(MapError::AlreadyMapped);
            }
            entry.set_addr(phys, huge);
            self.flush_page(virt);
            return Ok(());
        }
        let small = PhysFrame::containing_address(entry.addr());
        let mapped = table(small).iter().filter(|e| e.flags().contains(F::PRESENT)).count();
        if mapped > 0 && !replace {
            return Err(MapError::AlreadyMapped);
        }
        entry.set_addr(phys, huge);
        for (i, e) in table(small).iter().enumerate() {
            if e.flags().contains(F::PRESENT) {
                self.flush_page(virt + i as u64 * PAGE);
            }
        }
        self.flush_page(virt);
        frames::free(small);
        self.tables.set(self.tables.get() - 1);
        Ok(())
    }

    /// Removes the 2 MiB page at `virt` (2 MiB-aligned) if one is mapped
    /// there; returns its first frame.
    pub fn unmap_huge(&mut self, virt: u64) -> Option<PhysAddr> {
        let mut frame = self.root;
        let mut shift = TOP_SHIFT.load(Ordering::Relaxed);
        while shift > HUGE_SHIFT {
            let entry = &table(frame)[((virt >> shift) & 511) as usize];
            if !entry.flags().contains(F::PRESENT) {
                return None;
            }
            frame = PhysFrame::containing_address(entry.addr());
            shift -= 9;
        }
        let entry = &mut table(frame)[((virt >> HUGE_SHIFT) & 511) as usize];
        if !entry.flags().contains(F::PRESENT | F::HUGE_PAGE) {
            return None;
        }
        let base = entry.addr();
        entry.set_unused();
        self.flush_page(virt);
        Some(base)
    }

    /// Installs `virt -> phys` with `flags` (PRESENT and USER added). With
    /// `replace`, an existing mapping of the page is overwritten.
    pub fn map(&mut self, virt: u64, phys: PhysAddr, flags: F, replace: bool) -> Result<(), MapError> {
        self.map_at(&mut MapCursor::default(), virt, phys, flags, replace)
            .map(|_| ())
    }

    /// [`Self::map`] for one page of a batch: `cursor` keeps the level-1
    /// table of the previous page, so the pages of a fault-around batch
    /// (one 2 MiB region) walk the tree once. Returns the entry it replaced
    /// (unused if the page was not mapped), for [`Self::restore`].
    #[inline(always)]
    pub fn map_at(
        &mut self,
        cursor: &mut MapCursor,
        virt: u64,
        phys: PhysAddr,
        flags: F,
        replace: bool,
    ) -> Result<PageTableEntry, MapError> {
        let region = virt >> LEAF_REGION_SHIFT;
        let leaf_table = match cursor.0 {
            Some((r, t)) if r == region => t,
            _ => {
                let t = self.leaf_table(virt, Walk::Create)?.ok_or(MapError::AlreadyMapped)?;
                cursor.0 = Some((region, t));
                t
            }
        };
        let entry = &mut table(leaf_table)[((virt >> 12) & 511) as usize];
        if entry.flags().contains(F::PRESENT) && entry.addr() != phys && !replace {
            return Err(MapError::AlreadyMapped);
        }
        let previous = entry.clone();
        // A new protection for the same frame keeps what the CPU recorded
        // about the page: a pager's reclaim reads it.
        let kept = if previous.addr() == phys {
            previous.flags() & (F::ACCESSED | F::DIRTY)
        } else {
            F::empty()
        };
        entry.set_addr(phys, flags | F::PRESENT | F::USER_ACCESSIBLE | kept);
        if previous.flags().contains(F::PRESENT) {
            self.flush_page(virt);
        }
        Ok(previous)
    }

    /// Puts back the entry [`Self::map_at`] replaced (a batch that failed
    /// half way leaves the page tables as they were).
    pub fn restore(&mut self, virt: u64, previous: PageTableEntry) {
        if let Ok(Some(entry)) = self.leaf(virt, Walk::Find) {
            *entry = previous;
            self.flush_page(virt);
        }
    }

    /// Removes the mapping of `virt`; returns the frame that was mapped.
    /// Inside a huge page, the page is split first (or, with no table to
    /// spare, unmapped whole: see [`Self::split_huge`]).
    pub fn unmap(&mut self, virt: u64) -> Option<PhysAddr> {
        let (mapped, _) = self.translate(virt & !(PAGE - 1))?;
        let Ok(entry) = self.leaf(virt, Walk::Split) else {
            // The huge page around `virt` is gone whole: so is `virt`.
            return Some(mapped);
        };
        let entry = entry?;
        if !entry.flags().contains(F::PRESENT) {
            return None;
        }
        let frame = entry.addr();
        entry.set_unused();
        self.flush_page(virt);
        Some(frame)
    }

    /// The accessed and dirty bits of `virt`'s entry, if it is present,
    /// then clears the ones `clear` names (and drops the TLB entry, so the
    /// CPU sets them again on the next access). A page inside a 2 MiB
    /// entry reports nothing: reclaim takes 4 KiB pages only, and the
    /// pager never counts a 2 MiB page's pages refillable.
    pub fn take_use_bits(&self, virt: u64, clear: PageBitsClear) -> Option<UseBits> {
        let entry = self.leaf(virt, Walk::Find).ok().flatten()?;
        let flags = entry.flags();
        if !flags.contains(F::PRESENT) {
            return None;
        }
        let bits = UseBits {
            accessed: flags.contains(F::ACCESSED),
            dirty: flags.contains(F::DIRTY),
        };
        let mut cleared = F::empty();
        if clear.0 & PageBitsClear::ACCESSED.0 != 0 {
            cleared |= F::ACCESSED;
        }
        if clear.0 & PageBitsClear::DIRTY.0 != 0 {
            cleared |= F::DIRTY;
        }
        if flags.intersects(cleared) {
            entry.set_flags(flags - cleared);
            self.flush_page(virt);
        }
        Some(bits)
    }

    /// [`Self::translate`] for a write by the kernel through the direct
    /// map: a writable user entry is marked accessed and dirty, as the CPU
    /// would mark it had the program written the page itself, so a pager
    /// that reclaims never takes such a page for a clean one.
    pub fn translate_for_write(&self, virt: u64) -> Option<(PhysAddr, F)> {
        let (entry, offset) = self.entry_of(virt)?;
        let flags = entry.flags();
        if flags.contains(F::USER_ACCESSIBLE | F::WRITABLE) {
            entry.set_flags(flags | F::ACCESSED | F::DIRTY);
        }
        Some((entry.addr() + offset, flags))
    }

    /// The present entry that maps `virt` (a 4 KiB one, or the 2 MiB one
    /// around it) and `virt`'s offset in its page.
    fn entry_of(&self, virt: u64) -> Option<(&'static mut PageTableEntry, u64)> {
        let mut frame = self.root;
        let mut shift = TOP_SHIFT.load(Ordering::Relaxed);
        loop {
            let entry = &mut table(frame)[((virt >> shift) & 511) as usize];
            let flags = entry.flags();
            if !flags.contains(F::PRESENT) {
                return None;
            }
            if shift == 12 || flags.contains(F::HUGE_PAGE) {
                return Some((entry, virt & ((1 << shift) - 1)));
            }
            frame = PhysFrame::containing_address(entry.addr());
            shift -= 9;
        }
    }

    /// The frame and flags `virt` is mapped to, if any (the huge bit is
    /// set inside a 2 MiB page).
    pub fn translate(&self, virt: u64) -> Option<(PhysAddr, F)> {
        let (entry, offset) = self.entry_of(virt)?;
        Some((entry.addr() + offset, entry.flags()))
    }

    /// Drops a stale TLB entry; a non-active root has none (one CPU, no
    /// PCID), and a page that was not present is never cached.
    fn flush_page(&self, virt: u64) {
        if is_active(self.root) {
            // SAFETY: `invlpg` only drops a translation; any address is
            // allowed (the x86_64 crate's flush takes 48-bit addresses
            // only, and user addresses may have 57 bits).
            unsafe { core::arch::asm!("invlpg [{}]", in(reg) virt, options(nostack, preserves_flags)) };
        }
    }
}

/// Switches the CPU to the address space whose root is `root` (a live
/// [`AddressSpace`]'s: threads keep their process's root, which lives as
/// long as they do).
///
/// Compares with the cached root ([`ACTIVE_ROOT`]): no CR3 read.
#[inline(always)]
pub fn activate(root: PhysFrame) {
    if !is_active(root) {
        // SAFETY: every root shares the kernel half with every other root,
        // so the kernel keeps running unchanged after the switch.
        unsafe { write_cr3(root) };
    }
}

impl Drop for AddressSpace {
    /// Frees the user half's page tables (not the mapped frames, which the
    /// pager owns) and the root.
    fn drop(&mut self) {
        fn free_level(frame: PhysFrame, level: PageTableLevel) {
            let t = table(frame);
            if let Some(next) = level.next_lower_level() {
                for entry in t.iter() {
                    if entry.flags().contains(F::PRESENT) && !entry.flags().contains(F::HUGE_PAGE) {
                        free_level(PhysFrame::containing_address(entry.addr()), next);
                    }
                }
            }
            frames::free(frame);
        }
        if is_active(self.root) {
            let kernel_root = *KERNEL_ROOT.get().expect("kernel root recorded at boot");
            // SAFETY: the boot root maps the same kernel half.
            unsafe { write_cr3(kernel_root) };
        }
        let root = table(self.root);
        let below_root = if levels() == 5 {
            PageTableLevel::Four
        } else {
            PageTableLevel::Three
        };
        for i in 0..KERNEL_HALF_START {
            if root[i].flags().contains(F::PRESENT) {
                free_level(PhysFrame::containing_address(root[i].addr()), below_root);
            }
        }
        frames::free(self.root);
    }
}
