//! Sequential read-ahead, the README's example policy: a fault where the
//! last window ended doubles the window (up to what one fault reply
//! carries); any other fault starts again at one page. A stream of `n`
//! pages then faults about `n / 16` times, random access once a page.
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

/// One instance per address space, so the stream is this process's.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReadAhead {
    /// Where a sequential fault lands next: the end of the last window.
    next: u64,
    /// Pages in the last window.
    pages: u64,
}

impl Policy for ReadAhead {
    fn name(&self) -> &'static str {
        "read-ahead"
    }

    fn fault_window(&mut self, vma: &Vma, page: u64) -> Range<u64> {
        let sequential = page == self.next;
        self.pages = if sequential {
            (self.pages * 2).clamp(1, MAX_FAULT_MAPPINGS as u64)
        } else {
            1
        };
        let end = page.saturating_add(self.pages * PAGE_SIZE).min(vma.end);
        self.next = end;
        page..end
    }
}

pub const REGISTRATION: Registration = Registration {
    name: "read-ahead",
    summary: "a window that doubles while faults stay sequential",
    new: || Box::new(ReadAhead::default()),
};

#[cfg(test)]
mod tests {
    use libipc::types::Prot;
    use pager::vma::Backing;

    use super::*;

    const BASE: u64 = 0x10_0000;

    fn pages(r: Range<u64>) -> u64 {
        (r.end - r.start) / PAGE_SIZE
    }

    #[test]
    fn the_window_doubles_while_sequential_and_resets_on_a_jump() {
        let vma = Vma::new(BASE, BASE + 1000 * PAGE_SIZE, Prot::RW, Backing::Anonymous);
        let mut p = ReadAhead::default();
        let mut at = BASE;
        let mut widths = alloc::vec::Vec::new();
        for _ in 0..7 {
            let w = p.fault_window(&vma, at);
            assert_eq!(w.start, at);
            widths.push(pages(w.clone()));
            at = w.end;
        }
        assert_eq!(widths, [1, 2, 4, 8, 16, 16, 16]);
        assert_eq!(
            pages(p.fault_window(&vma, BASE + 900 * PAGE_SIZE)),
            1,
            "a jump starts over"
        );
        assert_eq!(pages(p.fault_window(&vma, BASE + 901 * PAGE_SIZE)), 2);
    }

    #[test]
    fn the_window_stops_at_the_vma_end() {
        let vma = Vma::new(BASE, BASE + 3 * PAGE_SIZE, Prot::RW, Backing::Anonymous);
        let mut p = ReadAhead {
            next: BASE + PAGE_SIZE,
            pages: 8,
        };
        assert_eq!(
            p.fault_window(&vma, BASE + PAGE_SIZE),
            BASE + PAGE_SIZE..BASE + 3 * PAGE_SIZE
        );
        assert_eq!((REGISTRATION.new)().name(), REGISTRATION.name);
    }
}
