//! Fault-around: each fault also maps the not-yet-resident neighbours of the
//! faulting page within its VMA, in the aligned window of `window` pages
//! that contains it (Linux's `fault_around_bytes` for file pages, applied
//! here to every VMA). Sequential touches then fault once per window.

use alloc::vec::Vec;

use libipc::{kernel::MAX_FAULT_MAPPINGS, types::PAGE_SIZE};

use crate::{policy::Policy, vma::Vma};

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

    fn fault_pages(&self, vma: &Vma, page: u64) -> Vec<u64> {
        let window = self.window.clamp(1, MAX_FAULT_MAPPINGS as u64) * PAGE_SIZE;
        let start = (page - page % window).max(vma.start);
        let end = (page - page % window + window).min(vma.end);
        let mut pages = Vec::with_capacity((window / PAGE_SIZE) as usize);
        pages.push(page);
        pages.extend(
            (start..end)
                .step_by(PAGE_SIZE as usize)
                .filter(|&p| p != page && !vma.resident.contains_key(&p)),
        );
        pages
    }
}

#[cfg(test)]
mod tests {
    use libipc::types::Prot;

    use super::*;
    use crate::vma::Backing;

    #[test]
    fn maps_the_aligned_window_inside_the_vma() {
        let vma = Vma::new(0x10000, 0x10000 + 40 * PAGE_SIZE, Prot::RW, Backing::Anonymous);
        let pages = FaultAround::default().fault_pages(&vma, 0x10000 + 17 * PAGE_SIZE);
        assert_eq!(pages[0], 0x10000 + 17 * PAGE_SIZE);
        assert_eq!(pages.len(), 16);
        // The aligned 16-page window holding the fault: [0x20000, 0x30000).
        assert!(pages.iter().all(|p| (0x20000..0x30000).contains(p)), "{pages:x?}");
    }

    #[test]
    fn skips_resident_pages_and_stays_in_the_vma() {
        let mut vma = Vma::new(0x10000, 0x10000 + 3 * PAGE_SIZE, Prot::RW, Backing::Anonymous);
        vma.resident.insert(0x11000, libipc::types::PhysAddr(0x5000));
        let pages = FaultAround::default().fault_pages(&vma, 0x10000);
        assert_eq!(pages, [0x10000, 0x12000]);
    }
}
