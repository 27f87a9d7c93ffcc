//! The zero page and clean pages: unit tests of each transition, and a
//! property test of random reads, writes, mprotect, munmap, madvise
//! (DONTNEED) and exit against a model of one state per page, with a frame
//! pool that must end with every frame back and never see the zero frame.

use alloc::{collections::BTreeMap, vec::Vec};

use libipc::{
    pager::MapKind,
    types::{Access, PAGE_SIZE, PhysAddr, Prot, VirtAddr},
};
use proptest::prelude::*;

use super::*;
use crate::{
    frames::FramePool,
    policy::{OnePage, Policy},
    rlimit::Rlimits,
    settings::Settings,
    vma::FileId,
};

const PAGE: u64 = PAGE_SIZE;
const BASE: u64 = 0x40_0000;

/// The default policy's choice: the zero page on reads.
struct ZeroPolicy;

impl Policy for ZeroPolicy {
    fn name(&self) -> &'static str {
        "zero"
    }

    fn zero_page(&mut self, _vma: &Vma, _page: u64) -> bool {
        true
    }
}

fn space() -> AddressSpace {
    AddressSpace::new(&Settings::default(), Rlimits::default(), 0x7f00_0000_0000)
}

fn map(s: &mut AddressSpace, pages: u64, prot: Prot, flags: MapKind, file: Option<FileSlice>) {
    s.mmap(MmapArgs {
        addr: BASE,
        len: pages * PAGE,
        prot,
        flags: flags.union(MapKind::FIXED),
        file,
    })
    .unwrap();
}

fn anon() -> MapKind {
    MapKind::PRIVATE.union(MapKind::ANONYMOUS)
}

/// Decides a fault and carries it out as the server does: frames from
/// `pool` for pages that need one, recorded with `commit_pages`. Returns
/// the pages mapped.
fn fault(
    s: &mut AddressSpace,
    policy: &mut dyn Policy,
    pool: &mut FramePool,
    addr: u64,
    access: Access,
) -> Vec<PageToMap> {
    let FaultDecision::Map(pages) = s.fault(policy, addr, access) else {
        panic!("killed at {addr:#x}");
    };
    let mut fresh = Vec::new();
    for p in &pages {
        match p.fill {
            Fill::Resident(_) => {}
            Fill::ZeroPage => fresh.push((p.virt, Frame::Zero)),
            _ => fresh.push((p.virt, p.frame(pool.alloc().expect("a frame")))),
        }
    }
    s.commit_pages(&fresh, |v, f, e| panic!("refused {v:?} {f:?}: {e:?}"));
    pages
}

/// Gives dropped pages' own frames back; the zero frame is none of them.
fn release(pool: &mut FramePool, dropped: &[Dropped]) {
    for frame in dropped.iter().filter_map(|(_, f)| f.own()) {
        pool.free(frame).unwrap();
    }
}

#[test]
fn a_read_maps_the_zero_page_read_only_and_a_write_copies_it() {
    let (mut s, mut pool) = (space(), FramePool::new(PhysAddr(0x100_0000), 4));
    map(&mut s, 4, Prot::RW, anon(), None);
    let read = fault(&mut s, &mut ZeroPolicy, &mut pool, BASE + 8, Access::Read);
    assert_eq!((read[0].fill, read[0].prot), (Fill::ZeroPage, Prot::READ));
    assert_eq!(s.frame_of(VirtAddr(BASE)), Some(Frame::Zero));
    assert_eq!(pool.free_count().0, 4, "a read costs no frame");
    // Reading it again (after PROT_NONE, say) maps the zero frame again.
    let again = fault(&mut s, &mut ZeroPolicy, &mut pool, BASE, Access::Read);
    assert_eq!(
        (again[0].fill, again[0].prot),
        (Fill::Resident(Frame::Zero), Prot::READ)
    );
    let write = fault(&mut s, &mut ZeroPolicy, &mut pool, BASE, Access::Write);
    assert_eq!((write[0].fill, write[0].prot), (Fill::ZeroPageCopy, Prot::RW));
    assert!(matches!(s.frame_of(VirtAddr(BASE)), Some(Frame::Dirty(_))));
    assert_eq!(pool.free_count().0, 3);
    // A write first takes a frame at once, as without the zero page.
    let direct = fault(&mut s, &mut ZeroPolicy, &mut pool, BASE + PAGE, Access::Write);
    assert_eq!(direct[0].fill, Fill::Zero);
}

#[test]
fn the_policy_decides_and_shared_or_file_memory_never_gets_the_zero_page() {
    let (mut s, mut pool) = (space(), FramePool::new(PhysAddr(0x100_0000), 8));
    map(&mut s, 2, Prot::RW, anon(), None);
    let one = fault(&mut s, &mut OnePage, &mut pool, BASE, Access::Read);
    assert_eq!((one[0].fill, one[0].clean), (Fill::Zero, false), "OnePage says no");
    let mut t = space();
    map(&mut t, 2, Prot::RW, MapKind::SHARED.union(MapKind::ANONYMOUS), None);
    let shared = fault(&mut t, &mut ZeroPolicy, &mut pool, BASE, Access::Read);
    assert_eq!((shared[0].fill, shared[0].prot), (Fill::Zero, Prot::READ));
    assert!(
        matches!(t.frame_of(VirtAddr(BASE)), Some(Frame::Clean(_))),
        "shmem only read is clean"
    );
    let written = fault(&mut t, &mut ZeroPolicy, &mut pool, BASE, Access::Write);
    assert_eq!(written[0].prot, Prot::RW);
    assert!(matches!(t.frame_of(VirtAddr(BASE)), Some(Frame::Dirty(_))));
}

#[test]
fn a_private_file_page_stays_clean_until_written_then_is_anonymous() {
    let (mut s, mut pool) = (space(), FramePool::new(PhysAddr(0x100_0000), 8));
    let file = FileSlice::unsized_(FileId(3), 0);
    map(&mut s, 4, Prot::RW, MapKind::PRIVATE, Some(file));
    let read = fault(&mut s, &mut ZeroPolicy, &mut pool, BASE, Access::Read);
    assert!(matches!(read[0].fill, Fill::File { .. }));
    assert_eq!(read[0].prot, Prot::READ, "read-only until the first write");
    let Some(Frame::Clean(phys)) = s.frame_of(VirtAddr(BASE)) else {
        panic!("not clean")
    };
    let write = fault(&mut s, &mut ZeroPolicy, &mut pool, BASE, Access::Write);
    assert_eq!(
        (write[0].fill, write[0].prot),
        (Fill::Resident(Frame::Dirty(phys)), Prot::RW)
    );
    assert_eq!(
        s.frame_of(VirtAddr(BASE)),
        Some(Frame::Dirty(phys)),
        "the same frame, now written"
    );
    let direct = fault(&mut s, &mut ZeroPolicy, &mut pool, BASE + PAGE, Access::Write);
    assert!(matches!(s.frame_of(VirtAddr(BASE + PAGE)), Some(Frame::Dirty(_))));
    assert_eq!(direct[0].prot, Prot::RW);
}

#[test]
fn mprotect_never_makes_the_zero_page_or_a_clean_page_writable() {
    let (mut s, mut pool) = (space(), FramePool::new(PhysAddr(0x100_0000), 8));
    map(&mut s, 2, Prot::READ, anon(), None);
    fault(&mut s, &mut ZeroPolicy, &mut pool, BASE, Access::Read);
    let changed = s.mprotect(BASE, 2 * PAGE, Prot::RW).unwrap();
    assert_eq!(changed, [(VirtAddr(BASE), Frame::Zero, Prot::READ)]);
    let changed = s.mprotect(BASE, PAGE, Prot::NONE).unwrap();
    assert_eq!(changed, [(VirtAddr(BASE), Frame::Zero, Prot::NONE)]);
    // Write-only on x86 still reads: the zero page stays mapped readable.
    let changed = s.mprotect(BASE, PAGE, Prot::WRITE).unwrap();
    assert_eq!(changed, [(VirtAddr(BASE), Frame::Zero, Prot::READ)]);
}

#[test]
fn touch_copies_the_zero_page_for_a_write_from_outside() {
    let (mut s, mut pool) = (space(), FramePool::new(PhysAddr(0x100_0000), 8));
    map(&mut s, 2, Prot::READ, anon(), None);
    fault(&mut s, &mut ZeroPolicy, &mut pool, BASE, Access::Read);
    let read = s.touch(BASE, false).unwrap();
    assert_eq!(read.fill, Fill::Resident(Frame::Zero));
    let write = s.touch(BASE, true).unwrap();
    assert_eq!((write.fill, write.prot), (Fill::ZeroPageCopy, Prot::READ));
    assert_eq!(s.touch(BASE + 2 * PAGE, true), None);
    let fresh = s.touch(BASE + PAGE, true).unwrap();
    assert_eq!((fresh.fill, fresh.clean), (Fill::Zero, false));
}

/// What the model knows of a page of the mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Page {
    Zero,
    Own,
}

#[derive(Clone, Debug)]
enum Op {
    Read(u64),
    Write(u64),
    Protect(u64, u64, bool),
    Unmap(u64, u64),
    DontNeed(u64, u64),
}

const PAGES: u64 = 16;

fn op() -> impl Strategy<Value = Op> {
    let page = 0..PAGES;
    prop_oneof![
        3 => page.clone().prop_map(Op::Read),
        3 => page.clone().prop_map(Op::Write),
        1 => (page.clone(), 1u64..4, any::<bool>()).prop_map(|(p, n, w)| Op::Protect(p, n, w)),
        1 => (page.clone(), 1u64..4).prop_map(|(p, n)| Op::Unmap(p, n)),
        1 => (page, 1u64..4).prop_map(|(p, n)| Op::DontNeed(p, n)),
    ]
}

proptest! {
    /// Reads map the zero page and cost no frame; the first write copies;
    /// the zero page is never mapped writable, never handed to the pool and
    /// every own frame comes back when the pages go or the process ends.
    #[test]
    fn the_zero_page_agrees_with_a_model(ops in proptest::collection::vec(op(), 1..80)) {
        let mut s = space();
        let mut pool = FramePool::new(PhysAddr(0x100_0000), PAGES * 2);
        let total = pool.free_count().0;
        map(&mut s, PAGES, Prot::RW, anon(), None);
        let mut model: BTreeMap<u64, Page> = BTreeMap::new();
        let mut writable: BTreeMap<u64, bool> = (0..PAGES).map(|p| (p, true)).collect();
        let mut mapped: BTreeMap<u64, bool> = (0..PAGES).map(|p| (p, true)).collect();
        for op in ops {
            match op {
                Op::Read(p) if mapped[&p] => {
                    let pages = fault(&mut s, &mut ZeroPolicy, &mut pool, BASE + p * PAGE, Access::Read);
                    prop_assert!(!pages[0].prot.contains(Prot::WRITE) || model.get(&p) == Some(&Page::Own));
                    model.entry(p).or_insert(Page::Zero);
                }
                Op::Write(p) if mapped[&p] && writable[&p] => {
                    let pages = fault(&mut s, &mut ZeroPolicy, &mut pool, BASE + p * PAGE, Access::Write);
                    let want = match model.get(&p) {
                        Some(Page::Zero) => Fill::ZeroPageCopy,
                        Some(Page::Own) => pages[0].fill,
                        None => Fill::Zero,
                    };
                    prop_assert_eq!(pages[0].fill, want);
                    prop_assert!(pages[0].prot.contains(Prot::WRITE));
                    model.insert(p, Page::Own);
                }
                Op::Protect(p, n, write) => {
                    let end = (p + n).min(PAGES);
                    if (p..end).all(|q| mapped[&q]) {
                        let prot = if write { Prot::RW } else { Prot::READ };
                        for (virt, frame, pte) in s.mprotect(BASE + p * PAGE, (end - p) * PAGE, prot).unwrap() {
                            prop_assert_eq!(pte.contains(Prot::WRITE), write && frame != Frame::Zero, "{:?}", virt);
                        }
                        (p..end).for_each(|q| { writable.insert(q, write); });
                    }
                }
                Op::Unmap(p, n) => {
                    let end = (p + n).min(PAGES);
                    let dropped = s.munmap(BASE + p * PAGE, (end - p) * PAGE).unwrap();
                    release(&mut pool, &dropped);
                    (p..end).for_each(|q| { model.remove(&q); mapped.insert(q, false); });
                }
                Op::DontNeed(p, n) => {
                    let end = (p + n).min(PAGES);
                    // Over a hole it says ENOMEM, after dropping the mapped
                    // pages (as Linux).
                    let (effects, _) = s.madvise(BASE + p * PAGE, BASE + end * PAGE, Advice::DontNeed);
                    release(&mut pool, &effects.dropped);
                    (p..end).for_each(|q| { model.remove(&q); });
                }
                _ => {}
            }
            for q in 0..PAGES {
                let got = match s.frame_of(VirtAddr(BASE + q * PAGE)) {
                    None => None,
                    Some(Frame::Zero) => Some(Page::Zero),
                    Some(_) => Some(Page::Own),
                };
                prop_assert_eq!(got, model.get(&q).copied(), "page {}", q);
            }
            let own = model.values().filter(|&&p| p == Page::Own).count() as u64;
            prop_assert_eq!(pool.free_count().0, total - own, "only own frames are taken");
        }
        // Exit: every own frame goes back, and the zero frame is not one.
        for frame in s.frames().collect::<Vec<_>>() {
            prop_assert_eq!(pool.free(frame), Ok(()));
        }
        prop_assert_eq!(pool.free_count().0, total);
    }
}
