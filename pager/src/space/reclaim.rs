//! Reclaim, when the frame pool runs low: which pages of a process could
//! be dropped and refilled on their next fault, what the kernel's accessed
//! and dirty bits say about them, and carrying out the policy's choice.
//!
//! A page can be dropped when the pager can give it back exactly: a fault
//! committed it (so it holds its fill, zeros or file bytes; see
//! [`crate::resident::ResidentPages::is_refillable`]), the kernel has not
//! seen it written (its dirty bit), and its VMA is not locked nor the
//! `[vdso]` or `[vvar]`, and it is not the page of the process's last
//! fault (which its program has not used yet). Anonymous pages that were written need swap,
//! which this pager does not have yet.
//!
//! The shell's loop, per process, on each sweep:
//! ```text
//! for run in space.reclaim_runs():            at most 64 pages, one VMA
//!     bits = PageBits(pid, run.start, run.pages, clear ACCESSED)
//!     space.note_use(&run, bits, &mut candidates)   dirty pages leave for good
//! policy.reclaim(&candidates, want, &mut victims)   the choice
//! for (start, mask) in victim_runs(&victims):
//!     done = UnmapClean(pid, start, mask)         the kernel re-checks dirty
//!     space.reclaimed(start, done) -> frames to free
//! ```

use alloc::vec::Vec;

use libipc::types::{PAGE_SIZE, PhysAddr};

use super::{AddressSpace, Fill, page_fill};
use crate::vma::{Lock, Vma, VmaName};

/// Pages one kernel report covers: one bit each in a register.
pub const RUN_PAGES: u64 = 64;

/// Pages of one VMA that one `PageBits` call asks about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    pub start: u64,
    /// 1 to [`RUN_PAGES`].
    pub pages: u64,
    /// Bit `i`: the page at `start + i * PAGE_SIZE` is refillable.
    pub refillable: u64,
}

/// What the kernel reported for a [`Run`]: bit `i` for its page `i`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PageUse {
    pub present: u64,
    pub accessed: u64,
    pub dirty: u64,
}

/// How a dropped page comes back on its next fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refill {
    /// Read again from its file.
    File,
    /// Zero-filled: anonymous memory (or a file page past the data) that
    /// was never written.
    Zero,
}

/// A page the policy may choose to drop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub page: u64,
    /// Used since the last sweep (the kernel clears the bit as it reports).
    pub accessed: bool,
    pub refill: Refill,
}

/// What a sweep took from one process.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reclaimed {
    pub file: u64,
    pub zero: u64,
}

impl Reclaimed {
    pub fn total(&self) -> u64 {
        self.file + self.zero
    }

    pub fn add(&mut self, other: Reclaimed) {
        self.file += other.file;
        self.zero += other.zero;
    }
}

/// Whether reclaim may look at `vma`'s pages at all.
fn reclaimable(vma: &Vma) -> bool {
    vma.lock == Lock::None && !matches!(vma.name, VmaName::Vdso | VmaName::Vvar)
}

fn refill_of(vma: &Vma, page: u64) -> Refill {
    match page_fill(vma, page) {
        Fill::File { .. } => Refill::File,
        _ => Refill::Zero,
    }
}

impl AddressSpace {
    /// The runs whose bits reclaim needs: each within one VMA and one
    /// chunk of resident pages, from its lowest refillable page to its
    /// highest, so no page is asked about twice in a sweep (asking clears
    /// its accessed bit).
    pub fn reclaim_runs(&self) -> Vec<Run> {
        let mut runs = Vec::new();
        for vma in self.vmas.iter().filter(|v| reclaimable(v)) {
            for (base, bits) in vma.resident.refillable_chunks() {
                let low = u64::from(bits.trailing_zeros());
                let high = 63 - u64::from(bits.leading_zeros());
                runs.push(Run {
                    start: base + low * PAGE_SIZE,
                    pages: high - low + 1,
                    refillable: bits >> low,
                });
            }
        }
        runs
    }

    /// Folds the kernel's report on `run` in: a dirty page (or one the
    /// page tables no longer hold) is written for good; the others are
    /// pushed to `candidates`.
    pub fn note_use(&mut self, run: &Run, bits: PageUse, candidates: &mut Vec<Candidate>) {
        let last_fault = self.last_fault;
        let Some(vma) = self.vmas.find_mut(run.start) else {
            return;
        };
        let mut rest = run.refillable;
        while rest != 0 {
            let i = u64::from(rest.trailing_zeros());
            rest &= rest - 1;
            let page = run.start + i * PAGE_SIZE;
            if !vma.contains(page) || !vma.resident.is_refillable(page) || page == last_fault {
                continue;
            }
            if bits.dirty & (1 << i) != 0 || bits.present & (1 << i) == 0 {
                vma.resident.mark_written(page);
                continue;
            }
            candidates.push(Candidate {
                page,
                accessed: bits.accessed & (1 << i) != 0,
                refill: refill_of(vma, page),
            });
        }
    }

    /// Records what the kernel's `UnmapClean` did to the pages of `mask`
    /// from `start`: each page it unmapped leaves the resident set and its
    /// frame goes to `freed`; each it found dirty is written for good.
    pub fn reclaimed(&mut self, start: u64, unmapped: u64, dirty: u64, mut freed: impl FnMut(PhysAddr)) -> Reclaimed {
        let mut done = Reclaimed::default();
        let mut rest = unmapped | dirty;
        while rest != 0 {
            let i = u64::from(rest.trailing_zeros());
            rest &= rest - 1;
            let page = start + i * PAGE_SIZE;
            let Some(vma) = self.vmas.find_mut(page) else {
                continue;
            };
            if dirty & (1 << i) != 0 {
                vma.resident.mark_written(page);
                continue;
            }
            let refill = refill_of(vma, page);
            // A refillable page has a frame of its own (never the shared
            // zero frame).
            if let Some(frame) = vma.resident.remove(page).and_then(|f| f.own()) {
                match refill {
                    Refill::File => done.file += 1,
                    Refill::Zero => done.zero += 1,
                }
                freed(frame);
            }
        }
        done
    }
}

/// The chosen pages, lowest first, as `UnmapClean` arguments: a start
/// page and a mask of at most [`RUN_PAGES`] pages from it.
pub fn victim_runs(victims: &mut [u64]) -> Vec<(u64, u64)> {
    victims.sort_unstable();
    let mut runs: Vec<(u64, u64)> = Vec::new();
    for &page in victims.iter() {
        match runs.last_mut() {
            Some((start, mask)) if page >= *start && (page - *start) / PAGE_SIZE < RUN_PAGES => {
                *mask |= 1 << ((page - *start) / PAGE_SIZE);
            }
            _ => runs.push((page, 1)),
        }
    }
    runs
}

#[cfg(test)]
mod tests;
