//! Sequential read-ahead, the README's example policy: a fault where the
//! last window ended doubles the window (up to what one fault reply
//! carries); any other fault starts again at one page. A stream of `n`
//! pages then faults about `n / 16` times, random access once a page.
//! madvise: RANDOM keeps one page, SEQUENTIAL starts at the widest window,
//! WILLNEED reads the first window ahead now, DONTNEED ends the stream.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::boxed::Box;
use core::ops::Range;

use libipc::{kernel::MAX_FAULT_MAPPINGS, types::PAGE_SIZE};
use pager::{
    policy::{Policy, Registration},
    space::Advice,
    vma::{Hints, Vma},
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
        let most = MAX_FAULT_MAPPINGS as u64;
        self.pages = if vma.hints.contains(Hints::RANDOM) {
            1
        } else if vma.hints.contains(Hints::SEQUENTIAL) {
            most
        } else if page == self.next {
            (self.pages * 2).clamp(1, most)
        } else {
            1
        };
        let end = page.saturating_add(self.pages * PAGE_SIZE).min(vma.end);
        self.next = end;
        page..end
    }

    fn advise(&mut self, _vma: &Vma, range: Range<u64>, advice: Advice) -> Option<Range<u64>> {
        match advice {
            Advice::WillNeed => Some(range.start..range.end.min(range.start + MAX_FAULT_MAPPINGS as u64 * PAGE_SIZE)),
            Advice::DontNeed => {
                *self = ReadAhead::default();
                None
            }
            _ => None,
        }
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

    #[test]
    fn madvise_hints_shape_the_window() {
        let mut vma = Vma::new(BASE, BASE + 100 * PAGE_SIZE, Prot::RW, Backing::Anonymous);
        let mut p = ReadAhead::default();
        vma.hints = Hints::SEQUENTIAL;
        assert_eq!(pages(p.fault_window(&vma, BASE)), 16, "SEQUENTIAL: the widest at once");
        vma.hints = Hints::RANDOM;
        assert_eq!(
            pages(p.fault_window(&vma, BASE + 16 * PAGE_SIZE)),
            1,
            "RANDOM: never wider"
        );
        assert_eq!(pages(p.fault_window(&vma, BASE + 17 * PAGE_SIZE)), 1);
        let all = BASE..BASE + 100 * PAGE_SIZE;
        assert_eq!(
            p.advise(&vma, all.clone(), Advice::WillNeed),
            Some(BASE..BASE + 16 * PAGE_SIZE),
            "WILLNEED: the first window now"
        );
        assert_eq!(p.advise(&vma, all.clone(), Advice::DontNeed), None);
        assert_eq!((p.next, p.pages), (0, 0), "DONTNEED ends the stream");
        assert_eq!(p.advise(&vma, all, Advice::Normal), None);
    }
}
