//! The zero frame: one frame of zeros, the kernel's, which pagers map
//! read-only where anonymous memory has only been read (Linux's zero page),
//! so such memory costs no frame. `Map` and fault replies refuse it writable
//! (as they refuse the clock page), so it stays zeros for every process
//! that shares it; it is allocated once at boot and never freed.

use spin::Once;

static ZERO: Once<u64> = Once::new();

/// Takes the zero frame from the kernel's frames (zeroed by the allocator).
pub fn init() {
    let frame = super::frames::alloc_zeroed().expect("a frame for the zero page");
    ZERO.call_once(|| frame.start_address().as_u64());
}

/// The zero frame's physical address (what `ZeroFrame` tells a pager);
/// `u64::MAX`, which no mapping names, before [`init`].
pub fn phys() -> u64 {
    ZERO.get().copied().unwrap_or(u64::MAX)
}
