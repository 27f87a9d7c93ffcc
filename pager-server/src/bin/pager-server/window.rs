//! The pager's view of its frame pool. The kernel maps pool frame `i` at
//! `POOL_WINDOW + i * 4096` before the pager runs, so filling a frame is a
//! plain memory write: no system call, and never a fault.

use libipc::{
    abi::{
        PagerBootInfo,
        pager_layout::{POOL_WINDOW, VVAR},
    },
    types::{HUGE_PAGE_SIZE, PAGE_SIZE, PAGES_PER_HUGE, PhysAddr},
};

/// The mapped pool, and the clock page the kernel maps beside it.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    phys_base: u64,
    frames: u64,
    /// The clock page's frame (mapped read-only at [`VVAR`]), which
    /// processes map too: reads of their `[vvar]` come here.
    vvar: Option<PhysAddr>,
}

impl Window {
    pub fn new(info: &PagerBootInfo) -> Self {
        Window {
            phys_base: info.pool_phys,
            frames: info.pool_frames,
            vvar: libipc::sys::vvar_frame().ok(),
        }
    }

    /// The clock page's frame, if the kernel has one.
    pub fn vvar(&self) -> Option<PhysAddr> {
        self.vvar
    }

    /// A frame's bytes, to read: a pool frame or the clock page.
    pub fn frame(&mut self, phys: PhysAddr) -> &[u8] {
        if Some(phys) == self.vvar {
            // SAFETY: the kernel maps the clock page read-only at VVAR
            // before the pager starts; it is only read here.
            return unsafe { core::slice::from_raw_parts(VVAR as *const u8, PAGE_SIZE as usize) };
        }
        self.frame_mut(phys)
    }

    /// The frame's bytes.
    ///
    /// Panics if `phys` is not a pool frame: that would be a pager bug.
    pub fn frame_mut(&mut self, phys: PhysAddr) -> &mut [u8] {
        let index = (phys.0 - self.phys_base) / PAGE_SIZE;
        assert!(
            phys.0 >= self.phys_base && index < self.frames && phys.is_page_aligned(),
            "{phys:?} is not a pool frame"
        );
        let ptr = (POOL_WINDOW + index * PAGE_SIZE) as *mut u8;
        // SAFETY: the kernel mapped the whole pool read-write at POOL_WINDOW
        // before we started, and `index` is in range. The pool allocator
        // hands each frame to one owner, and `&mut self` keeps this the only
        // live view of it.
        unsafe { core::slice::from_raw_parts_mut(ptr, PAGE_SIZE as usize) }
    }

    /// Zeroes the 512 frames of a huge frame with one `rep stosq`.
    ///
    /// Panics if they are not all pool frames: that would be a pager bug.
    pub fn zero_huge(&mut self, phys: PhysAddr) {
        let index = (phys.0 - self.phys_base) / PAGE_SIZE;
        assert!(
            phys.0 >= self.phys_base && index + PAGES_PER_HUGE <= self.frames && phys.is_huge_aligned(),
            "{phys:?} is not a huge frame of the pool"
        );
        // SAFETY: the kernel mapped the whole pool read-write at
        // POOL_WINDOW, and the 512 frames from `index` are in it (checked);
        // the pool allocator handed them to us alone. `rep stosq` writes
        // exactly rcx quadwords from rdi with the direction flag clear (the
        // ABI guarantees DF = 0).
        unsafe {
            core::arch::asm!(
                "rep stosq",
                inout("rdi") POOL_WINDOW + index * PAGE_SIZE => _,
                inout("rcx") HUGE_PAGE_SIZE / 8 => _,
                in("rax") 0u64,
                options(nostack, preserves_flags),
            );
        }
    }

    /// Zeroes a frame with one `rep stosq`, the way kernels clear pages.
    pub fn zero(&mut self, phys: PhysAddr) {
        let frame = self.frame_mut(phys);
        // SAFETY: `frame` is one whole, exclusively borrowed, page-aligned
        // page; `rep stosq` writes exactly rcx = 512 quadwords from rdi with
        // the direction flag clear (the ABI guarantees DF = 0).
        unsafe {
            core::arch::asm!(
                "rep stosq",
                inout("rdi") frame.as_mut_ptr() => _,
                inout("rcx") PAGE_SIZE / 8 => _,
                in("rax") 0u64,
                options(nostack, preserves_flags),
            );
        }
    }
}
