//! Which pages reclaim may take, what the kernel's bits change, and what a
//! sweep records; the default policy's clock choice. The kernel side
//! (`PageBits`, `UnmapClean`) is checked by the hostile pager in QEMU.

use alloc::{vec, vec::Vec};

use libipc::{
    pager::MapKind,
    types::{Access, PAGE_SIZE, PhysAddr, Prot, VirtAddr},
};
use proptest::prelude::*;

use super::*;
use crate::{
    policy::{OnePage, Policy},
    resident::Frame,
    rlimit::Rlimits,
    settings::Settings,
    space::{FaultDecision, FileSlice, MmapArgs},
    vma::FileId,
};

const PAGE: u64 = PAGE_SIZE;

fn space() -> AddressSpace {
    AddressSpace::new(&Settings::default(), Rlimits::default(), 0x7f00_0000_0000)
}

fn map(s: &mut AddressSpace, pages: u64, prot: Prot, file: Option<FileSlice>) -> u64 {
    let flags = if file.is_some() {
        MapKind::PRIVATE
    } else {
        MapKind::PRIVATE.union(MapKind::ANONYMOUS)
    };
    s.mmap(MmapArgs {
        addr: 0,
        len: pages * PAGE,
        prot,
        flags,
        file,
    })
    .unwrap()
    .0
    .0
}

/// Faults `page` in as the server does: decision, then the batch commit.
fn fault_in(s: &mut AddressSpace, page: u64, frame: u64) {
    let FaultDecision::Map(pages) = s.fault(&mut OnePage, page, Access::Read) else {
        panic!("fault at {page:#x} refused");
    };
    let batch: Vec<_> = pages.iter().map(|p| (p.virt, p.frame(PhysAddr(frame)))).collect();
    s.commit_pages(&batch, |_, _, e| panic!("commit refused: {e:?}"));
}

/// A fault outside every VMA: the earlier pages are no longer the last
/// fault's, which reclaim leaves.
fn move_on(s: &mut AddressSpace) {
    assert!(matches!(s.fault(&mut OnePage, 0, Access::Read), FaultDecision::Kill(_)));
}

fn all_present(run: &Run) -> PageUse {
    PageUse {
        present: run.refillable,
        ..PageUse::default()
    }
}

#[test]
fn faulted_pages_are_candidates_with_their_refill() {
    let mut s = space();
    let anon = map(&mut s, 4, Prot::RW, None);
    let file = map(&mut s, 2, Prot::READ, Some(FileSlice::unsized_(FileId(3), 0)));
    fault_in(&mut s, anon, 0x10_0000);
    fault_in(&mut s, anon + 2 * PAGE, 0x10_1000);
    fault_in(&mut s, file + PAGE, 0x10_2000);
    move_on(&mut s);
    let runs = s.reclaim_runs();
    assert_eq!(runs.len(), 2, "one run per VMA: {runs:?}");
    let mut candidates = Vec::new();
    for run in &runs {
        s.note_use(run, all_present(run), &mut candidates);
    }
    candidates.sort_by_key(|c| c.page);
    let mut want = vec![
        Candidate {
            page: anon,
            accessed: false,
            refill: Refill::Zero,
        },
        Candidate {
            page: anon + 2 * PAGE,
            accessed: false,
            refill: Refill::Zero,
        },
        Candidate {
            page: file + PAGE,
            accessed: false,
            refill: Refill::File,
        },
    ];
    want.sort_by_key(|c| c.page);
    assert_eq!(candidates, want);
}

#[test]
fn a_run_spans_only_its_refillable_pages() {
    let mut s = space();
    let a = map(&mut s, 64, Prot::RW, None);
    fault_in(&mut s, a + 3 * PAGE, 0x10_0000);
    fault_in(&mut s, a + 9 * PAGE, 0x10_1000);
    let runs = s.reclaim_runs();
    let first = runs.iter().map(|r| r.start).min().unwrap();
    let total: u64 = runs.iter().map(|r| r.pages).sum();
    assert_eq!(first, a + 3 * PAGE);
    assert!(total <= 7, "from the third page to the ninth at most: {runs:?}");
    for run in &runs {
        assert!(run.pages >= 1 && run.pages <= RUN_PAGES);
        assert_eq!(run.refillable & 1, 1, "a run starts at a refillable page");
    }
}

#[test]
fn dirty_and_absent_pages_are_written_for_good() {
    let mut s = space();
    let a = map(&mut s, 3, Prot::RW, None);
    for i in 0..3 {
        fault_in(&mut s, a + i * PAGE, 0x10_0000 + i * PAGE);
    }
    move_on(&mut s);
    let run = s.reclaim_runs()[0];
    assert_eq!((run.start, run.pages, run.refillable), (a, 3, 0b111));
    let mut candidates = Vec::new();
    // Page 0 dirty, page 1 gone from the page tables, page 2 used.
    let bits = PageUse {
        present: 0b101,
        accessed: 0b100,
        dirty: 0b001,
    };
    s.note_use(&run, bits, &mut candidates);
    assert_eq!(
        candidates,
        [Candidate {
            page: a + 2 * PAGE,
            accessed: true,
            refill: Refill::Zero,
        }]
    );
    // The next sweep asks only about page 2.
    let runs = s.reclaim_runs();
    assert_eq!(runs.len(), 1);
    assert_eq!((runs[0].start, runs[0].refillable), (a + 2 * PAGE, 1));
}

#[test]
fn locked_vdso_and_pager_written_pages_are_never_candidates() {
    let mut s = space();
    let locked = map(&mut s, 1, Prot::RW, None);
    fault_in(&mut s, locked, 0x10_0000);
    s.vmas
        .update_range(locked, locked + PAGE, |v| v.lock = crate::vma::Lock::Locked);
    let written = map(&mut s, 1, Prot::RW, None);
    fault_in(&mut s, written, 0x10_1000);
    s.mark_written(VirtAddr(written + 12));
    // A page recorded outside a fault (the initial stack) is not refillable.
    let stack = map(&mut s, 1, Prot::RW, None);
    s.commit(VirtAddr(stack), Frame::Dirty(PhysAddr(0x10_2000))).unwrap();
    assert_eq!(s.reclaim_runs(), []);
}

#[test]
fn prot_none_keeps_pages_out_of_reclaim() {
    let mut s = space();
    let a = map(&mut s, 2, Prot::RW, None);
    fault_in(&mut s, a, 0x10_0000);
    fault_in(&mut s, a + PAGE, 0x10_1000);
    s.mprotect(a, PAGE, Prot::NONE).unwrap();
    let runs = s.reclaim_runs();
    assert_eq!(runs.len(), 1);
    assert_eq!((runs[0].start, runs[0].refillable), (a + PAGE, 1));
    // Read-only keeps them: the page tables and their dirty bits stay.
    s.mprotect(a + PAGE, PAGE, Prot::READ).unwrap();
    assert_eq!(s.reclaim_runs().len(), 1);
}

#[test]
fn moved_pages_are_not_refillable() {
    let mut s = space();
    let a = map(&mut s, 2, Prot::RW, None);
    fault_in(&mut s, a, 0x10_0000);
    let to = a + 0x100_0000;
    let flags = crate::space::RemapFlags {
        may_move: true,
        fixed: true,
        ..Default::default()
    };
    let (_, moved) = s.mremap(a, 2 * PAGE, 2 * PAGE, flags, to, Default::default());
    assert_eq!(moved, Ok(to));
    assert_eq!(s.vmas().find(to).unwrap().resident.len(), 1);
    assert_eq!(s.reclaim_runs(), []);
}

#[test]
fn reclaimed_frees_the_unmapped_and_keeps_the_dirty() {
    let mut s = space();
    let a = map(&mut s, 2, Prot::READ, Some(FileSlice::unsized_(FileId(3), 0)));
    let b = map(&mut s, 1, Prot::RW, None);
    fault_in(&mut s, a, 0x10_0000);
    fault_in(&mut s, a + PAGE, 0x10_1000);
    fault_in(&mut s, b, 0x10_2000);
    let mut freed = Vec::new();
    let done = s.reclaimed(a, 0b01, 0b10, |f| freed.push(f));
    assert_eq!(done, Reclaimed { file: 1, zero: 0 });
    assert_eq!(freed, [PhysAddr(0x10_0000)]);
    let done = s.reclaimed(b, 0b1, 0, |f| freed.push(f));
    assert_eq!(done, Reclaimed { file: 0, zero: 1 });
    assert_eq!(s.vmas().find(a).unwrap().resident.len(), 1);
    assert!(!s.vmas().find(a).unwrap().resident.is_refillable(a + PAGE));
    assert_eq!(s.vmas().find(b).unwrap().resident.len(), 0);
    // The dropped page faults in again with its fill.
    assert!(matches!(s.fault(&mut OnePage, a, Access::Read), FaultDecision::Map(_)));
}

#[test]
fn the_default_choice_is_a_clocks_second_chance() {
    let candidates: Vec<Candidate> = (0..6)
        .map(|i| Candidate {
            page: i * PAGE,
            accessed: i % 2 == 0,
            refill: Refill::Zero,
        })
        .collect();
    let mut victims = Vec::new();
    OnePage.reclaim(&candidates, 2, &mut victims);
    assert_eq!(victims, [PAGE, 3 * PAGE]);
    victims.clear();
    OnePage.reclaim(&candidates, 10, &mut victims);
    assert_eq!(victims, [PAGE, 3 * PAGE, 5 * PAGE], "used pages get a second chance");
}

proptest! {
    // victim_runs covers exactly the chosen pages, each run within 64
    // pages of its start, in increasing order.
    #[test]
    fn victim_runs_cover_the_victims(pages in proptest::collection::btree_set(0u64..400, 0..120)) {
        let mut victims: Vec<u64> = pages.iter().rev().map(|p| p * PAGE).collect();
        let runs = victim_runs(&mut victims);
        let mut covered = Vec::new();
        for w in runs.windows(2) {
            prop_assert!(w[0].0 < w[1].0);
        }
        for &(start, mask) in &runs {
            prop_assert!(mask & 1 == 1);
            for i in 0..RUN_PAGES {
                if mask & (1 << i) != 0 {
                    covered.push(start + i * PAGE);
                }
            }
        }
        prop_assert_eq!(covered, pages.iter().map(|p| p * PAGE).collect::<Vec<_>>());
    }
}

#[test]
fn the_page_of_the_last_fault_is_left() {
    let mut s = space();
    let a = map(&mut s, 2, Prot::RW, None);
    fault_in(&mut s, a, 0x10_0000);
    fault_in(&mut s, a + PAGE, 0x10_1000);
    let mut candidates = Vec::new();
    for run in s.reclaim_runs() {
        s.note_use(&run, all_present(&run), &mut candidates);
    }
    assert_eq!(candidates.iter().map(|c| c.page).collect::<Vec<_>>(), [a]);
}
