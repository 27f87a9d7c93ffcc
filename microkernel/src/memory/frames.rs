//! The kernel's physical frame allocator, fed from the boot memory map.
//!
//! A buddy allocator over frame numbers. Frames for page tables, kernel
//! objects and the pager's own image come from here. The pager's frame pool
//! is carved out before and never enters this allocator, so a pager can
//! never be handed a page table or kernel frame.

use buddy_system_allocator::FrameAllocator;
use spin::Mutex;
use x86_64::{
    PhysAddr,
    structures::paging::{PhysFrame, Size4KiB},
};

use super::phys_to_virt;

const PAGE: u64 = 4096;

struct Frames {
    buddy: FrameAllocator<32>,
    free: u64,
    total: u64,
}

static FRAMES: Mutex<Option<Frames>> = Mutex::new(None);

/// Adds the physical range `[start, end)` (page-aligned) to the allocator.
pub fn add_range(start: u64, end: u64) {
    let mut guard = FRAMES.lock();
    let f = guard.get_or_insert_with(|| Frames {
        buddy: FrameAllocator::new(),
        free: 0,
        total: 0,
    });
    if end > start {
        f.buddy.add_frame((start / PAGE) as usize, (end / PAGE) as usize);
        f.free += (end - start) / PAGE;
        f.total += (end - start) / PAGE;
    }
}

/// One zeroed frame, or `None` when memory is exhausted.
pub fn alloc_zeroed() -> Option<PhysFrame> {
    let pfn = {
        let mut guard = FRAMES.lock();
        let f = guard.as_mut()?;
        let pfn = f.buddy.alloc(1)?;
        f.free -= 1;
        pfn as u64
    };
    let frame = PhysFrame::<Size4KiB>::containing_address(PhysAddr::new(pfn * PAGE));
    let ptr = phys_to_virt(frame.start_address()).as_mut_ptr::<u8>();
    // SAFETY: the frame was just taken from the allocator, so nothing else
    // refers to it; the direct map covers all physical memory.
    unsafe { core::ptr::write_bytes(ptr, 0, PAGE as usize) };
    Some(frame)
}

/// Returns a frame obtained from [`alloc_zeroed`].
pub fn free(frame: PhysFrame) {
    let mut guard = FRAMES.lock();
    if let Some(f) = guard.as_mut() {
        f.buddy.dealloc((frame.start_address().as_u64() / PAGE) as usize, 1);
        f.free += 1;
    }
}

/// (free, total) frames.
pub fn stats() -> (u64, u64) {
    FRAMES.lock().as_ref().map_or((0, 0), |f| (f.free, f.total))
}
