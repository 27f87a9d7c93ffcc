//! Fault-around: each fault also maps the not-yet-resident neighbours of the
//! faulting page within its VMA, in the aligned window of `window` pages
//! that contains it (Linux's `fault_around_bytes` for file pages, applied
//! here to every VMA). Sequential touches then fault once per window.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::boxed::Box;
use core::ops::Range;

use libipc::{kernel::MAX_FAULT_MAPPINGS, types::PAGE_SIZE};
use pager::{
    policy::{Policy, Registration},
    vma::Vma,
};

#[derive(Clone, Copy, Debug)]
pub struct FaultAround {
    /// Pages per window; at most what one fault reply carries.
    pub window: u64,
}

impl Default for FaultAround {
    fn default() -> Self {
        FaultAround {
            window: MAX_FAULT_MAPPINGS as u64,
        }
    }
}

impl Policy for FaultAround {
    fn name(&self) -> &'static str {
        "fault-around"
    }

    fn fault_window(&mut self, vma: &Vma, page: u64) -> Range<u64> {
        let window = self.window.clamp(1, MAX_FAULT_MAPPINGS as u64) * PAGE_SIZE;
        let start = page - page % window;
        start.max(vma.start)..start.saturating_add(window).min(vma.end)
    }
}

pub const REGISTRATION: Registration = Registration {
    name: "fault-around",
    summary: "the aligned 16 pages around each fault",
    new: || Box::new(FaultAround::default()),
};

#[cfg(test)]
mod tests {
    use libipc::types::Prot;
    use pager::vma::Backing;

    use super::*;

    #[test]
    fn the_window_is_the_aligned_block_holding_the_fault() {
        let vma = Vma::new(0x10000, 0x10000 + 40 * PAGE_SIZE, Prot::RW, Backing::Anonymous);
        let w = FaultAround::default().fault_window(&vma, 0x10000 + 17 * PAGE_SIZE);
        assert_eq!(w, 0x20000..0x30000);
    }

    #[test]
    fn the_window_stays_inside_the_vma() {
        let vma = Vma::new(0x11000, 0x14000, Prot::RW, Backing::Anonymous);
        assert_eq!(FaultAround::default().fault_window(&vma, 0x12000), 0x11000..0x14000);
        let mut narrow = FaultAround { window: 1000 };
        let wide = Vma::new(0, 0x100_0000, Prot::RW, Backing::Anonymous);
        assert_eq!(
            narrow.fault_window(&wide, 0x45000),
            0x40000..0x50000,
            "clamped to a reply's worth"
        );
    }
}
