//! The kernel heap: a buddy allocator over a contiguous physical range,
//! used through the direct map (so it needs no page-table changes).

use buddy_system_allocator::LockedHeap;

#[global_allocator]
static HEAP: LockedHeap<32> = LockedHeap::empty();

/// Bytes of the heap handed out and not yet freed (the leak check's figure).
pub fn bytes_in_use() -> u64 {
    HEAP.lock().stats_alloc_actual() as u64
}

/// # Safety
/// `start..start+size` (direct-map addresses) must be memory nothing else
/// uses, for the rest of the kernel's life.
pub unsafe fn init(start: u64, size: u64) {
    // SAFETY: the caller hands over exclusive ownership of the range.
    unsafe { HEAP.lock().init(start as usize, size as usize) };
}
