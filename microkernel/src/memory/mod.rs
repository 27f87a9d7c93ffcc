//! Physical memory: the kernel's frame allocator and heap, the direct map
//! of all physical memory, and per-process page tables.

pub mod frames;
pub mod heap;
pub mod space;
pub mod usercopy;
pub mod zero;

use spin::Once;
use x86_64::{PhysAddr, VirtAddr};

/// Where the bootloader mapped all of physical memory.
static PHYS_OFFSET: Once<u64> = Once::new();

pub fn init_phys_offset(offset: u64) {
    PHYS_OFFSET.call_once(|| offset);
}

/// The direct-map address of a physical address.
pub fn phys_to_virt(phys: PhysAddr) -> VirtAddr {
    VirtAddr::new(phys.as_u64() + PHYS_OFFSET.get().expect("physical map not initialized"))
}

pub fn phys_offset() -> VirtAddr {
    VirtAddr::new(*PHYS_OFFSET.get().expect("physical map not initialized"))
}
