//! Property tests of the VMA set, driven through the address space, against
//! a naive reference model: one entry per page. Random mmap (fixed and
//! hinted), munmap, mprotect and brk sequences; after every step the real
//! set must equal the model page for page, hold exactly as many VMAs as the
//! model has runs of equal pages (so: sorted, non-overlapping and merged
//! where equal), stay within max_map_count and RLIMIT_AS, and keep its gap
//! index right.

use alloc::collections::BTreeMap;

use libipc::{
    pager::{Errno, MapKind},
    types::{PAGE_SIZE, Prot},
};
use proptest::prelude::*;

use super::*;
use crate::{
    rlimit::{INFINITY, Limit, Rlimits},
    settings::Settings,
    vma::VmaName,
};

const PAGE: u64 = PAGE_SIZE;
/// The window the operations aim at.
const WINDOW: u64 = 0x100_0000;
const WINDOW_PAGES: u64 = 64;
const START_BRK: u64 = WINDOW + 40 * PAGE;

/// What the model knows of a page: its protection, whether it is heap and
/// whether it is charged (`ac`: writable at some time).
type Attr = (Prot, bool, bool);
type Model = BTreeMap<u64, Attr>;

#[derive(Clone, Debug)]
enum Op {
    MmapFixed { page: u64, pages: u64, prot: Prot },
    MmapHint { page: u64, pages: u64, prot: Prot },
    Munmap { page: u64, pages: u64 },
    Mprotect { page: u64, pages: u64, prot: Prot },
    Brk { bytes: u64 },
}

fn prot() -> impl Strategy<Value = Prot> {
    prop_oneof![Just(Prot::NONE), Just(Prot::READ), Just(Prot::RW), Just(Prot::RX)]
}

fn op() -> impl Strategy<Value = Op> {
    let page = 0..WINDOW_PAGES;
    let pages = 1u64..8;
    prop_oneof![
        (page.clone(), pages.clone(), prot()).prop_map(|(page, pages, prot)| Op::MmapFixed { page, pages, prot }),
        (page.clone(), pages.clone(), prot()).prop_map(|(page, pages, prot)| Op::MmapHint { page, pages, prot }),
        (page.clone(), pages.clone()).prop_map(|(page, pages)| Op::Munmap { page, pages }),
        (page, pages, prot()).prop_map(|(page, pages, prot)| Op::Mprotect { page, pages, prot }),
        (0..24 * PAGE).prop_map(|bytes| Op::Brk { bytes }),
    ]
}

/// How many VMAs the model's pages make: runs of adjacent equal pages.
fn runs(model: &Model) -> usize {
    let mut count = 0;
    let mut prev: Option<(u64, Attr)> = None;
    for (&page, &attr) in model {
        if prev != Some((page - PAGE, attr)) {
            count += 1;
        }
        prev = Some((page, attr));
    }
    count
}

fn set(model: &mut Model, start: u64, pages: u64, attr: Option<Attr>) {
    for p in (0..pages).map(|i| start + i * PAGE) {
        match attr {
            Some(a) => model.insert(p, a),
            None => model.remove(&p),
        };
    }
}

fn all_mapped(model: &Model, start: u64, pages: u64) -> bool {
    (0..pages).all(|i| model.contains_key(&(start + i * PAGE)))
}

fn none_mapped(model: &Model, start: u64, end: u64) -> bool {
    model.range(start..end).next().is_none()
}

fn observed(space: &AddressSpace) -> Model {
    let mut m = Model::new();
    for v in space.vmas().iter() {
        for p in (v.start..v.end).step_by(PAGE as usize) {
            m.insert(p, (v.prot, v.name == VmaName::Heap, v.accounted));
        }
    }
    m
}

fn anon(flags: MapKind) -> MapKind {
    MapKind::PRIVATE.union(MapKind::ANONYMOUS).union(flags)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_vma_set_matches_a_page_model(
        max_map_count in prop_oneof![Just(3usize), Just(6), Just(65_530)],
        as_limit in prop_oneof![Just(INFINITY), Just(24 * PAGE)],
        ops in proptest::collection::vec(op(), 1..60),
    ) {
        let settings = Settings { max_map_count, ..Settings::default() };
        let mut rlimits = Rlimits::default();
        rlimits.address_space = Limit { soft: as_limit, hard: as_limit };
        let mut space = AddressSpace::new(&settings, rlimits, 0x7f00_0000_0000);
        // Within RLIMIT_AS: the model's pages, in bytes.
        let within_as = |m: &Model| (m.len() as u64).saturating_mul(PAGE) <= as_limit;
        space.set_brk_start(START_BRK, 0);
        let mut model = Model::new();
        let mut brk = START_BRK;
        for op in ops {
            let mut next = model.clone();
            // Whether the operation is refused whatever the count.
            let mut refused = None;
            match op {
                Op::MmapFixed { page, pages, prot } => {
                    let start = WINDOW + page * PAGE;
                    set(&mut next, start, pages, Some((prot, false, prot.contains(Prot::WRITE))));
                    let got = space.mmap(MmapArgs { addr: start, len: pages * PAGE, prot, flags: anon(MapKind::FIXED), file: None });
                    let fits = runs(&next) <= max_map_count && within_as(&next);
                    prop_assert_eq!(got.map(|r| r.0.0), if fits { Ok(start) } else { Err(Errno::NoMemory) });
                }
                Op::MmapHint { page, pages, prot } => {
                    let hint = WINDOW + page * PAGE;
                    let got = space.mmap(MmapArgs { addr: hint, len: pages * PAGE, prot, flags: anon(MapKind(0)), file: None });
                    match got {
                        Ok((addr, dropped)) => {
                            prop_assert!(dropped.is_empty());
                            prop_assert!(none_mapped(&model, addr.0, addr.0 + pages * PAGE), "placed over a mapping");
                            if none_mapped(&model, hint, hint + pages * PAGE) {
                                prop_assert_eq!(addr.0, hint, "a free hint is used");
                            }
                            set(&mut next, addr.0, pages, Some((prot, false, prot.contains(Prot::WRITE))));
                            prop_assert!(runs(&next) <= max_map_count && within_as(&next));
                        }
                        Err(e) => {
                            prop_assert_eq!(e, Errno::NoMemory);
                            let room = runs(&model) < max_map_count && (model.len() as u64 + pages) * PAGE <= as_limit;
                            prop_assert!(!room, "ENOMEM with room for a VMA");
                        }
                    }
                }
                Op::Munmap { page, pages } => {
                    let start = WINDOW + page * PAGE;
                    set(&mut next, start, pages, None);
                    let got = space.munmap(start, pages * PAGE);
                    let fits = runs(&next) <= max_map_count;
                    prop_assert_eq!(got.map(|_| ()), if fits { Ok(()) } else { Err(Errno::NoMemory) });
                }
                Op::Mprotect { page, pages, prot } => {
                    let start = WINDOW + page * PAGE;
                    let got = space.mprotect(start, pages * PAGE, prot).map(|_| ());
                    if all_mapped(&model, start, pages) {
                        for p in (0..pages).map(|i| start + i * PAGE) {
                            if let Some(a) = next.get_mut(&p) {
                                a.0 = prot;
                                // Never faulted: read-only uncharges.
                                a.2 = prot.contains(Prot::WRITE);
                            }
                        }
                        let fits = runs(&next) <= max_map_count;
                        prop_assert_eq!(got, if fits { Ok(()) } else { Err(Errno::NoMemory) });
                    } else {
                        prop_assert_eq!(got, Err(Errno::NoMemory));
                        refused = Some(());
                    }
                }
                Op::Brk { bytes } => {
                    let want = START_BRK + bytes;
                    let (old_end, new_end) = (brk.next_multiple_of(PAGE), want.next_multiple_of(PAGE));
                    let ok = if new_end < old_end {
                        set(&mut next, new_end, (old_end - new_end) / PAGE, None);
                        runs(&next) <= max_map_count
                    } else if new_end > old_end {
                        set(&mut next, old_end, (new_end - old_end) / PAGE, Some((Prot::RW, true, true)));
                        none_mapped(&model, old_end, new_end + PAGE) && runs(&next) <= max_map_count && within_as(&next)
                    } else {
                        true
                    };
                    let (got, _) = space.brk(want);
                    prop_assert_eq!(got, if ok { want } else { brk });
                    if ok {
                        brk = want;
                    } else {
                        refused = Some(());
                    }
                }
            }
            let got_ok = observed(&space);
            if got_ok == next {
                model = next;
            } else {
                prop_assert!(
                    refused.is_some() || runs(&next) > max_map_count || !within_as(&next) || got_ok == model,
                    "diverged after {:?}",
                    op
                );
                prop_assert_eq!(&got_ok, &model, "a refused operation changed the space");
            }
            prop_assert_eq!(space.vmas().len(), runs(&model), "VMAs not merged where equal");
            prop_assert!(space.vmas().len() <= max_map_count);
            prop_assert!(space.total_vm() <= as_limit, "over RLIMIT_AS");
            prop_assert_eq!(space.total_vm(), model.len() as u64 * PAGE);
            prop_assert_eq!(space.layout.brk, brk);
            if let Err(e) = space.vmas().check_invariants() {
                prop_assert!(false, "{}", e);
            }
            // The procfs walk: from any address, the VMAs ending above it.
            for probe in (0..=WINDOW_PAGES + 1).flat_map(|p| [WINDOW + p * PAGE, WINDOW + p * PAGE + 1]).chain([0, u64::MAX]) {
                let fast: Vec<u64> = space.vmas().ending_above(probe).map(|v| v.start).collect();
                let naive: Vec<u64> = space.vmas().iter().filter(|v| v.end > probe).map(|v| v.start).collect();
                prop_assert_eq!(fast, naive, "ending above {:#x}", probe);
            }
        }
    }
}
