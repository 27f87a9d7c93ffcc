//! Per-process page tables. The upper half (kernel) is shared by copying the
//! kernel's top-level entries into every new root; the lower half belongs
//! to the process and is filled only on a pager's validated request.

use x86_64::{
    PhysAddr, VirtAddr,
    registers::control::Cr3,
    structures::paging::{
        FrameAllocator, Mapper, OffsetPageTable, Page, PageTable, PageTableFlags as F, PhysFrame, Size4KiB, Translate,
        mapper::{MapToError, TranslateResult, UnmapError},
        page_table::PageTableLevel,
    },
};

use super::{frames, phys_offset, phys_to_virt};

/// First top-level index of the kernel half.
const KERNEL_HALF_START: usize = 256;

/// Page-table frames come from the kernel allocator.
struct KernelFrames;

// SAFETY: `frames::alloc_zeroed` returns frames nobody else owns.
unsafe impl FrameAllocator<Size4KiB> for KernelFrames {
    fn allocate_frame(&mut self) -> Option<PhysFrame> {
        frames::alloc_zeroed()
    }
}

/// The boot page table: the kernel half's template, and the root in use
/// while no process runs.
static KERNEL_ROOT: spin::Once<PhysFrame> = spin::Once::new();

/// Records the boot root; call once before creating address spaces.
pub fn init() {
    KERNEL_ROOT.call_once(|| Cr3::read().0);
}

/// Translates a kernel virtual address through the boot page table.
pub fn kernel_translate(virt: VirtAddr) -> Option<PhysAddr> {
    let root = *KERNEL_ROOT.get().expect("kernel root recorded at boot");
    // SAFETY: the boot root is a valid level-4 table; the direct map covers
    // all physical memory.
    let mapper = unsafe { OffsetPageTable::new(table(root), phys_offset()) };
    mapper.translate_addr(virt)
}

/// Why a mapping could not be installed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    OutOfMemory,
    AlreadyMapped,
}

/// One process's page tables.
#[derive(Debug)]
pub struct AddressSpace {
    root: PhysFrame,
}

fn table(frame: PhysFrame) -> &'static mut PageTable {
    // SAFETY: page-table frames are owned by exactly one AddressSpace (or the
    // kernel's boot root) and reached only through it, with interrupts off
    // on a single CPU, so no other reference is live.
    unsafe { &mut *phys_to_virt(frame.start_address()).as_mut_ptr::<PageTable>() }
}

impl AddressSpace {
    /// A root with the kernel half shared and an empty user half.
    pub fn new() -> Option<Self> {
        let root = frames::alloc_zeroed()?;
        let src = table(*KERNEL_ROOT.get().expect("kernel root recorded at boot"));
        let dst = table(root);
        for i in KERNEL_HALF_START..512 {
            dst[i] = src[i].clone();
        }
        Some(AddressSpace { root })
    }

    pub fn root(&self) -> PhysFrame {
        self.root
    }

    fn mapper(&self) -> OffsetPageTable<'static> {
        // SAFETY: the root is a valid level-4 table and the direct map covers
        // all physical memory at `phys_offset`.
        unsafe { OffsetPageTable::new(table(self.root), phys_offset()) }
    }

    /// Installs `virt -> phys` with `flags` (PRESENT and USER added). With
    /// `replace`, an existing mapping of the page is overwritten.
    pub fn map(&mut self, virt: VirtAddr, phys: PhysAddr, flags: F, replace: bool) -> Result<(), MapError> {
        let page = Page::<Size4KiB>::containing_address(virt);
        let frame = PhysFrame::<Size4KiB>::containing_address(phys);
        let flags = flags | F::PRESENT | F::USER_ACCESSIBLE;
        let parents = F::PRESENT | F::WRITABLE | F::USER_ACCESSIBLE;
        let mut mapper = self.mapper();
        if let Ok(old) = mapper.translate_page(page) {
            if old == frame || replace {
                let _ = mapper.unmap(page).map(|(_, flush)| flush.ignore());
            } else {
                return Err(MapError::AlreadyMapped);
            }
        }
        // SAFETY: the caller validated that `phys` is a frame the pager owns
        // and that `virt` is in the user half; the page is unmapped now.
        match unsafe { mapper.map_to_with_table_flags(page, frame, flags, parents, &mut KernelFrames) } {
            Ok(flush) => {
                self.flush_if_active(flush);
                Ok(())
            }
            Err(MapToError::FrameAllocationFailed) => Err(MapError::OutOfMemory),
            Err(_) => Err(MapError::AlreadyMapped),
        }
    }

    /// Removes the mapping of `virt`; returns the frame that was mapped.
    pub fn unmap(&mut self, virt: VirtAddr) -> Option<PhysAddr> {
        let page = Page::<Size4KiB>::containing_address(virt);
        match self.mapper().unmap(page) {
            Ok((frame, flush)) => {
                self.flush_if_active(flush);
                Some(frame.start_address())
            }
            Err(UnmapError::PageNotMapped | UnmapError::ParentEntryHugePage | UnmapError::InvalidFrameAddress(_)) => {
                None
            }
        }
    }

    /// The frame and flags `virt` is mapped to, if any.
    pub fn translate(&self, virt: VirtAddr) -> Option<(PhysAddr, F)> {
        match self.mapper().translate(virt) {
            TranslateResult::Mapped { frame, offset, flags } => Some((frame.start_address() + offset, flags)),
            _ => None,
        }
    }

    fn flush_if_active(&self, flush: x86_64::structures::paging::mapper::MapperFlush<Size4KiB>) {
        if Cr3::read().0 == self.root {
            flush.flush();
        } else {
            // A non-active root has no TLB entries (single CPU, no PCID).
            flush.ignore();
        }
    }

    /// Switches the CPU to this address space.
    pub fn activate(&self) {
        let (current, flags) = Cr3::read();
        if current != self.root {
            // SAFETY: the root shares the kernel half with every other root,
            // so the kernel keeps running unchanged after the switch.
            unsafe { Cr3::write(self.root, flags) };
        }
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
        let (current, flags) = Cr3::read();
        if current == self.root {
            let kernel_root = *KERNEL_ROOT.get().expect("kernel root recorded at boot");
            // SAFETY: the boot root maps the same kernel half.
            unsafe { Cr3::write(kernel_root, flags) };
        }
        let root = table(self.root);
        for i in 0..KERNEL_HALF_START {
            if root[i].flags().contains(F::PRESENT) {
                free_level(PhysFrame::containing_address(root[i].addr()), PageTableLevel::Three);
            }
        }
        frames::free(self.root);
    }
}
