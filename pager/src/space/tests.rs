//! One test per errno path of mmap, munmap, mprotect, brk and setrlimit, and
//! per kill reason of the fault decision.

use libipc::{
    kernel::KillReason,
    pager::{Errno, MapKind},
    types::{Access, PAGE_SIZE, PhysAddr, Prot, VirtAddr},
};

use super::*;
use crate::{
    policy::{AlignedWindow, OnePage},
    rlimit::{Limit, Resource, Rlimits},
    settings::Settings,
    vma::{FileId, VmaName},
};

const PAGE: u64 = PAGE_SIZE;
const MMAP_BASE: u64 = 0x7f00_0000_0000;
const MIN: u64 = 0x10000;

fn space_with(settings: &Settings, rlimits: Rlimits) -> AddressSpace {
    AddressSpace::new(settings, rlimits, MMAP_BASE)
}

fn space() -> AddressSpace {
    space_with(&Settings::default(), Rlimits::default())
}

fn private_anon() -> MapKind {
    MapKind::PRIVATE.union(MapKind::ANONYMOUS)
}

fn fixed() -> MapKind {
    private_anon().union(MapKind::FIXED)
}

fn mmap(s: &mut AddressSpace, addr: u64, len: u64, prot: Prot, flags: MapKind) -> Result<u64, Errno> {
    s.mmap(MmapArgs {
        addr,
        len,
        prot,
        flags,
        file: None,
    })
    .map(|(a, _)| a.0)
}

fn checked(s: &AddressSpace) {
    s.vmas().check_invariants().unwrap();
}

// ---- mmap ----

#[test]
fn mmap_zero_length_is_einval() {
    assert_eq!(mmap(&mut space(), 0, 0, Prot::RW, private_anon()), Err(Errno::Invalid));
}

#[test]
fn mmap_needs_exactly_one_of_shared_and_private() {
    let mut s = space();
    assert_eq!(mmap(&mut s, 0, PAGE, Prot::RW, MapKind::ANONYMOUS), Err(Errno::Invalid));
    let both = MapKind::SHARED.union(MapKind::PRIVATE).union(MapKind::ANONYMOUS);
    assert_eq!(mmap(&mut s, 0, PAGE, Prot::RW, both), Err(Errno::Invalid));
}

#[test]
fn mmap_bad_prot_is_einval() {
    assert_eq!(
        mmap(&mut space(), 0, PAGE, Prot(8), private_anon()),
        Err(Errno::Invalid)
    );
}

#[test]
fn mmap_fixed_unaligned_is_einval() {
    let mut s = space();
    assert_eq!(mmap(&mut s, 0x10_0001, PAGE, Prot::RW, fixed()), Err(Errno::Invalid));
    let noreplace = private_anon().union(MapKind::FIXED_NOREPLACE);
    assert_eq!(mmap(&mut s, 0x10_0001, PAGE, Prot::RW, noreplace), Err(Errno::Invalid));
}

#[test]
fn mmap_file_needs_a_file_and_an_aligned_offset() {
    let mut s = space();
    assert_eq!(mmap(&mut s, 0, PAGE, Prot::READ, MapKind::PRIVATE), Err(Errno::Invalid));
    let args = |offset| MmapArgs {
        addr: 0,
        len: PAGE,
        prot: Prot::READ,
        flags: MapKind::PRIVATE,
        file: Some(FileSlice::unsized_(FileId(1), offset)),
    };
    assert_eq!(s.mmap(args(12)).map(|r| r.0), Err(Errno::Invalid));
    assert_eq!(s.mmap(args(!(PAGE - 1))).map(|r| r.0), Err(Errno::Invalid));
    assert!(s.mmap(args(2 * PAGE)).is_ok());
}

#[test]
fn mmap_too_long_is_enomem() {
    let mut s = space();
    assert_eq!(
        mmap(&mut s, 0, u64::MAX, Prot::RW, private_anon()),
        Err(Errno::NoMemory)
    );
    assert_eq!(
        mmap(&mut s, 0, TASK_SIZE_47 + PAGE, Prot::RW, private_anon()),
        Err(Errno::NoMemory)
    );
}

#[test]
fn mmap_fixed_beyond_the_user_range_or_non_canonical_is_enomem() {
    let mut s = space();
    assert_eq!(
        mmap(&mut s, TASK_SIZE_47, PAGE, Prot::RW, fixed()),
        Err(Errno::NoMemory)
    );
    assert_eq!(
        mmap(&mut s, TASK_SIZE_47 - PAGE, 2 * PAGE, Prot::RW, fixed()),
        Err(Errno::NoMemory)
    );
    assert_eq!(
        mmap(&mut s, 0xffff_8000_0000_0000, PAGE, Prot::RW, fixed()),
        Err(Errno::NoMemory)
    );
    assert_eq!(
        mmap(&mut s, 0x0000_8000_0000_0000, PAGE, Prot::RW, fixed()),
        Err(Errno::NoMemory)
    );
    // The last user page itself is fine.
    assert_eq!(
        mmap(&mut s, TASK_SIZE_47 - PAGE, PAGE, Prot::RW, fixed()),
        Ok(TASK_SIZE_47 - PAGE)
    );
}

#[test]
fn mmap_non_canonical_hint_is_ignored() {
    let mut s = space();
    let a = mmap(&mut s, 0xdead_beef_0000_0000, PAGE, Prot::RW, private_anon()).unwrap();
    assert!((MIN..MMAP_BASE).contains(&a));
}

#[test]
fn mmap_fixed_below_mmap_min_addr_is_eperm() {
    let mut s = space();
    assert_eq!(mmap(&mut s, 0, PAGE, Prot::RW, fixed()), Err(Errno::NotPermitted));
    assert_eq!(
        mmap(&mut s, MIN - PAGE, PAGE, Prot::RW, fixed()),
        Err(Errno::NotPermitted)
    );
    let noreplace = private_anon().union(MapKind::FIXED_NOREPLACE);
    assert_eq!(
        mmap(&mut s, 0x1000, PAGE, Prot::RW, noreplace),
        Err(Errno::NotPermitted)
    );
    assert_eq!(mmap(&mut s, MIN, PAGE, Prot::RW, fixed()), Ok(MIN));
}

#[test]
fn mmap_hint_below_mmap_min_addr_is_rounded_up() {
    let mut s = space();
    assert_eq!(mmap(&mut s, 0x1000, PAGE, Prot::RW, private_anon()), Ok(MIN));
    // With a different minimum, rounded up to it (page-aligned).
    let mut settings = Settings::default();
    settings.set("vm.mmap_min_addr", "0x20000").unwrap();
    let mut s = space_with(&settings, Rlimits::default());
    assert_eq!(mmap(&mut s, 0x3000, PAGE, Prot::RW, private_anon()), Ok(0x20000));
}

#[test]
fn mmap_fixed_noreplace_over_a_mapping_is_eexist() {
    let mut s = space();
    mmap(&mut s, 0x40_0000, 4 * PAGE, Prot::RW, fixed()).unwrap();
    let noreplace = private_anon().union(MapKind::FIXED_NOREPLACE);
    assert_eq!(
        mmap(&mut s, 0x40_3000, 2 * PAGE, Prot::READ, noreplace),
        Err(Errno::Exists)
    );
    assert_eq!(mmap(&mut s, 0x40_4000, PAGE, Prot::READ, noreplace), Ok(0x40_4000));
}

#[test]
fn mmap_fixed_replaces_and_returns_the_dropped_frames() {
    let mut s = space();
    mmap(&mut s, 0x40_0000, 4 * PAGE, Prot::RW, fixed()).unwrap();
    s.commit(VirtAddr(0x40_1000), Frame::Dirty(PhysAddr(0x9000))).unwrap();
    let (_, dropped) = s
        .mmap(MmapArgs {
            addr: 0x40_1000,
            len: PAGE,
            prot: Prot::READ,
            flags: fixed(),
            file: None,
        })
        .unwrap();
    assert_eq!(dropped, [(VirtAddr(0x40_1000), Frame::Dirty(PhysAddr(0x9000)))]);
    assert_eq!(s.vmas().len(), 3);
    checked(&s);
}

#[test]
fn mmap_hint_is_used_when_free_else_top_down_below_the_base() {
    let mut s = space();
    assert_eq!(
        mmap(&mut s, 0x1234_5000, PAGE, Prot::RW, private_anon()),
        Ok(0x1234_5000)
    );
    // Taken: the search runs top-down below the mmap base.
    assert_eq!(
        mmap(&mut s, 0x1234_5000, PAGE, Prot::RW, private_anon()),
        Ok(MMAP_BASE - PAGE)
    );
    assert_eq!(
        mmap(&mut s, 0, 2 * PAGE, Prot::READ, private_anon()),
        Ok(MMAP_BASE - 3 * PAGE)
    );
    checked(&s);
}

#[test]
fn mmap_with_no_room_is_enomem() {
    let mut s = space();
    // Fill everything between the minimum and the base, then ask for more
    // than the room above the base.
    mmap(&mut s, MIN, MMAP_BASE - MIN, Prot::NONE, fixed()).unwrap();
    let above = TASK_SIZE_47 - MMAP_BASE;
    assert_eq!(
        mmap(&mut s, 0, above + PAGE, Prot::RW, private_anon()),
        Err(Errno::NoMemory)
    );
    // What fits above the base is still found.
    assert_eq!(mmap(&mut s, 0, above, Prot::RW, private_anon()), Ok(MMAP_BASE));
}

#[test]
fn mmap_beyond_max_map_count_is_enomem_and_changes_nothing() {
    let mut settings = Settings::default();
    settings.set("vm.max_map_count", "4").unwrap();
    let mut s = space_with(&settings, Rlimits::default());
    for i in 0..4 {
        // Alternating protections so no two merge.
        let prot = if i % 2 == 0 { Prot::RW } else { Prot::READ };
        mmap(&mut s, 0x100_0000 + i * PAGE, PAGE, prot, fixed()).unwrap();
    }
    assert_eq!(s.vmas().len(), 4);
    assert_eq!(mmap(&mut s, 0x200_0000, PAGE, Prot::RW, fixed()), Err(Errno::NoMemory));
    assert_eq!(mmap(&mut s, 0, PAGE, Prot::RW, private_anon()), Err(Errno::NoMemory));
    // One that merges with a neighbour needs no new VMA: allowed.
    assert_eq!(
        mmap(&mut s, 0x100_0000 + 4 * PAGE, PAGE, Prot::READ, fixed()),
        Ok(0x100_4000)
    );
    assert_eq!(s.vmas().len(), 4);
    checked(&s);
}

#[test]
fn mmap_over_rlimit_as_is_enomem() {
    let mut r = Rlimits::default();
    r.set(
        Resource::As,
        Limit {
            soft: 4 * PAGE,
            hard: 4 * PAGE,
        },
        false,
    )
    .unwrap();
    let mut s = space_with(&Settings::default(), r);
    mmap(&mut s, 0, 3 * PAGE, Prot::READ, private_anon()).unwrap();
    assert_eq!(
        mmap(&mut s, 0, 2 * PAGE, Prot::READ, private_anon()),
        Err(Errno::NoMemory)
    );
    assert!(mmap(&mut s, 0, PAGE, Prot::READ, private_anon()).is_ok());
}

#[test]
fn mmap_over_rlimit_data_is_enomem_for_private_writable_only() {
    let mut r = Rlimits::default();
    r.set(
        Resource::Data,
        Limit {
            soft: 2 * PAGE,
            hard: 2 * PAGE,
        },
        false,
    )
    .unwrap();
    let mut s = space_with(&Settings::default(), r);
    assert_eq!(
        mmap(&mut s, 0, 3 * PAGE, Prot::RW, private_anon()),
        Err(Errno::NoMemory)
    );
    assert!(mmap(&mut s, 0, 3 * PAGE, Prot::READ, private_anon()).is_ok());
    let shared = MapKind::SHARED.union(MapKind::ANONYMOUS);
    assert!(mmap(&mut s, 0, 3 * PAGE, Prot::RW, shared).is_ok());
    assert!(mmap(&mut s, 0, 2 * PAGE, Prot::RW, private_anon()).is_ok());
}

#[test]
fn placement_never_lands_in_the_stack_guard_gap() {
    let mut s = space();
    let gap = Settings::default().stack_guard_gap * PAGE;
    let stack_top = 0x7ffd_0000_0000;
    let grows = fixed().union(MapKind::GROWSDOWN);
    mmap(&mut s, stack_top - 8 * PAGE, 8 * PAGE, Prot::RW, grows).unwrap();
    // A hint inside the gap is not honoured ...
    let a = mmap(&mut s, stack_top - 8 * PAGE - PAGE, PAGE, Prot::RW, private_anon()).unwrap();
    assert!(a + PAGE <= stack_top - 8 * PAGE - gap || a >= stack_top, "{a:#x}");
    // ... and a search just above the gap cannot use it either.
    let mut s2 = AddressSpace::new(&Settings::default(), Rlimits::default(), stack_top - 8 * PAGE);
    mmap(&mut s2, stack_top - 8 * PAGE, 8 * PAGE, Prot::RW, grows).unwrap();
    let b = mmap(&mut s2, 0, PAGE, Prot::RW, private_anon()).unwrap();
    assert_eq!(b, stack_top - 8 * PAGE - gap - PAGE);
    // MAP_FIXED ignores the gap.
    assert!(mmap(&mut s2, stack_top - 9 * PAGE, PAGE, Prot::RW, fixed()).is_ok());
}

// ---- LA57 ----

fn la57() -> AddressSpace {
    let mut settings = Settings::default();
    settings.set("la57", "1").unwrap();
    space_with(&settings, Rlimits::default())
}

#[test]
fn la57_allocations_stay_below_47_bits_without_a_high_hint() {
    let mut s = la57();
    let a = mmap(&mut s, 0, PAGE, Prot::RW, private_anon()).unwrap();
    assert!(a < TASK_SIZE_47);
    // A hint range crossing the 47-bit boundary is ignored.
    let b = mmap(&mut s, TASK_SIZE_47 - PAGE, 2 * PAGE, Prot::RW, private_anon()).unwrap();
    assert!(b + 2 * PAGE <= TASK_SIZE_47, "{b:#x}");
    // So is one starting at the window's end, as on Linux.
    let c = mmap(&mut s, TASK_SIZE_47, 2 * PAGE, Prot::RW, private_anon()).unwrap();
    assert!(c + 2 * PAGE <= TASK_SIZE_47, "{c:#x}");
    // One page past it is above the window: honoured.
    let d = mmap(&mut s, TASK_SIZE_47 + PAGE, PAGE, Prot::RW, private_anon()).unwrap();
    assert_eq!(d, TASK_SIZE_47 + PAGE);
}

#[test]
fn la57_a_hint_above_47_bits_opens_the_57_bit_range() {
    let mut s = la57();
    let hint = 0x0010_0000_0000_0000;
    assert_eq!(mmap(&mut s, hint, PAGE, Prot::RW, private_anon()), Ok(hint));
    // Taken: still above the boundary, found by the search.
    let b = mmap(&mut s, hint, PAGE, Prot::RW, private_anon()).unwrap();
    assert!((TASK_SIZE_47..TASK_SIZE_56).contains(&b), "{b:#x}");
    // MAP_FIXED up to the 56-bit top; beyond it ENOMEM.
    assert!(mmap(&mut s, TASK_SIZE_56 - PAGE, PAGE, Prot::RW, fixed()).is_ok());
    assert_eq!(
        mmap(&mut s, TASK_SIZE_56, PAGE, Prot::RW, fixed()),
        Err(Errno::NoMemory)
    );
}

#[test]
fn without_la57_a_high_hint_is_ignored() {
    let mut s = space();
    let a = mmap(&mut s, 0x0010_0000_0000_0000, PAGE, Prot::RW, private_anon()).unwrap();
    assert!(a < TASK_SIZE_47);
}

// ---- munmap ----

#[test]
fn munmap_einval_cases() {
    let mut s = space();
    assert_eq!(s.munmap(0x10_0001, PAGE), Err(Errno::Invalid));
    assert_eq!(s.munmap(0x10_0000, 0), Err(Errno::Invalid));
    assert_eq!(s.munmap(TASK_SIZE_47 + PAGE, PAGE), Err(Errno::Invalid));
    assert_eq!(s.munmap(0x10_0000, u64::MAX - PAGE), Err(Errno::Invalid));
    assert_eq!(s.munmap(0xffff_8000_0000_0000, PAGE), Err(Errno::Invalid));
}

#[test]
fn munmap_of_a_hole_succeeds() {
    assert_eq!(space().munmap(0x10_0000, 4 * PAGE), Ok(Vec::new()));
}

#[test]
fn munmap_splits_and_returns_resident_pages() {
    let mut s = space();
    mmap(&mut s, 0x40_0000, 4 * PAGE, Prot::RW, fixed()).unwrap();
    s.commit(VirtAddr(0x40_1000), Frame::Dirty(PhysAddr(0x7000))).unwrap();
    s.commit(VirtAddr(0x40_3000), Frame::Dirty(PhysAddr(0x8000))).unwrap();
    // The length is rounded up to a page.
    assert_eq!(
        s.munmap(0x40_1000, 100),
        Ok(alloc::vec![(VirtAddr(0x40_1000), Frame::Dirty(PhysAddr(0x7000)))])
    );
    assert_eq!(s.vmas().len(), 2);
    assert_eq!(s.resident(0x40_0000, 4 * PAGE), 1);
    checked(&s);
}

#[test]
fn munmap_splitting_at_max_map_count_is_enomem() {
    let mut settings = Settings::default();
    settings.set("vm.max_map_count", "1").unwrap();
    let mut s = space_with(&settings, Rlimits::default());
    mmap(&mut s, 0x40_0000, 4 * PAGE, Prot::RW, fixed()).unwrap();
    assert_eq!(s.munmap(0x40_1000, PAGE), Err(Errno::NoMemory));
    assert_eq!(s.vmas().len(), 1);
    assert_eq!(s.total_vm(), 4 * PAGE);
    // Trimming an end needs no split.
    assert!(s.munmap(0x40_0000, PAGE).is_ok());
    checked(&s);
}

// ---- mprotect ----

#[test]
fn mprotect_einval_cases() {
    let mut s = space();
    mmap(&mut s, 0x40_0000, 4 * PAGE, Prot::RW, fixed()).unwrap();
    assert_eq!(s.mprotect(0x40_0001, PAGE, Prot::READ), Err(Errno::Invalid));
    assert_eq!(s.mprotect(0x40_0000, PAGE, Prot(0x10)), Err(Errno::Invalid));
    assert_eq!(s.mprotect(0x40_0000, 0, Prot::READ), Ok(Vec::new()));
}

#[test]
fn mprotect_enomem_cases() {
    let mut s = space();
    mmap(&mut s, 0x40_0000, PAGE, Prot::RW, fixed()).unwrap();
    mmap(&mut s, 0x40_2000, PAGE, Prot::RW, fixed()).unwrap();
    // A hole in the middle, unmapped ranges, overflow, non-canonical.
    assert_eq!(s.mprotect(0x40_0000, 3 * PAGE, Prot::READ), Err(Errno::NoMemory));
    assert_eq!(s.mprotect(0x50_0000, PAGE, Prot::READ), Err(Errno::NoMemory));
    assert_eq!(s.mprotect(0x40_0000, u64::MAX, Prot::READ), Err(Errno::NoMemory));
    assert_eq!(
        s.mprotect(0xffff_8000_0000_0000, PAGE, Prot::READ),
        Err(Errno::NoMemory)
    );
    // Nothing changed.
    assert_eq!(
        s.vmas().iter().map(|v| v.prot).collect::<Vec<_>>(),
        [Prot::RW, Prot::RW]
    );
}

#[test]
fn mprotect_splits_then_merges_back() {
    let mut s = space();
    mmap(&mut s, 0x40_0000, 4 * PAGE, Prot::RW, fixed()).unwrap();
    s.commit(VirtAddr(0x40_1000), Frame::Dirty(PhysAddr(0x7000))).unwrap();
    let changed = s.mprotect(0x40_1000, 2 * PAGE, Prot::READ).unwrap();
    assert_eq!(
        changed,
        [(VirtAddr(0x40_1000), Frame::Dirty(PhysAddr(0x7000)), Prot::READ)]
    );
    assert_eq!(s.vmas().len(), 3);
    assert_eq!(s.data_vm(), 2 * PAGE);
    s.mprotect(0x40_1000, 2 * PAGE, Prot::RW).unwrap();
    assert_eq!(s.vmas().len(), 1);
    assert_eq!(s.data_vm(), 4 * PAGE);
    checked(&s);
}

#[test]
fn mprotect_splitting_at_max_map_count_is_enomem() {
    let mut settings = Settings::default();
    settings.set("vm.max_map_count", "2").unwrap();
    let mut s = space_with(&settings, Rlimits::default());
    mmap(&mut s, 0x40_0000, 4 * PAGE, Prot::RW, fixed()).unwrap();
    assert_eq!(s.mprotect(0x40_1000, PAGE, Prot::READ), Err(Errno::NoMemory));
    assert_eq!(s.vmas().len(), 1);
    assert_eq!(s.vmas().iter().next().map(|v| v.prot), Some(Prot::RW));
    assert!(s.mprotect(0x40_0000, PAGE, Prot::READ).is_ok());
    checked(&s);
}

// ---- brk ----

const BRK: u64 = 0x60_0000;

fn heap_space(rlimits: Rlimits) -> AddressSpace {
    let mut s = space_with(&Settings::default(), rlimits);
    s.set_brk_start(BRK, 0);
    s
}

#[test]
fn brk_zero_and_below_start_query() {
    let mut s = heap_space(Rlimits::default());
    assert_eq!(s.brk(0).0, BRK);
    assert_eq!(s.brk(BRK - 1).0, BRK);
    assert_eq!(s.brk(BRK + 10).0, BRK + 10);
    assert_eq!(s.brk(0).0, BRK + 10, "the break is kept unaligned");
    assert_eq!(
        s.vmas().find(BRK).map(|v| (v.end, v.name.clone())),
        Some((BRK + PAGE, VmaName::Heap))
    );
}

#[test]
fn brk_shrink_frees_pages() {
    let mut s = heap_space(Rlimits::default());
    s.brk(BRK + 3 * PAGE);
    s.commit(VirtAddr(BRK + 2 * PAGE), Frame::Dirty(PhysAddr(0x5000)))
        .unwrap();
    let (now, dropped) = s.brk(BRK + PAGE + 1);
    assert_eq!(now, BRK + PAGE + 1);
    assert_eq!(dropped, [(VirtAddr(BRK + 2 * PAGE), Frame::Dirty(PhysAddr(0x5000)))]);
    assert_eq!(s.vmas().find(BRK).map(|v| v.end), Some(BRK + 2 * PAGE));
    assert_eq!(s.brk(BRK).0, BRK);
    assert!(s.vmas().is_empty());
    checked(&s);
}

#[test]
fn brk_growth_stops_a_page_before_the_next_mapping() {
    let mut s = heap_space(Rlimits::default());
    mmap(&mut s, BRK + 4 * PAGE, PAGE, Prot::READ, fixed()).unwrap();
    assert_eq!(s.brk(BRK + 4 * PAGE).0, BRK, "would touch the mapping");
    assert_eq!(s.brk(BRK + 3 * PAGE + 1).0, BRK, "end plus a page reaches it");
    assert_eq!(s.brk(BRK + 3 * PAGE).0, BRK + 3 * PAGE);
}

#[test]
fn brk_growth_stops_at_a_stacks_guard_gap() {
    let mut s = heap_space(Rlimits::default());
    let gap = Settings::default().stack_guard_gap * PAGE;
    let stack = BRK + gap + 16 * PAGE;
    mmap(&mut s, stack, PAGE, Prot::RW, fixed().union(MapKind::GROWSDOWN)).unwrap();
    assert_eq!(s.brk(BRK + 16 * PAGE).0, BRK);
    assert_eq!(s.brk(BRK + 15 * PAGE).0, BRK + 15 * PAGE);
}

#[test]
fn brk_over_rlimit_data_fails() {
    let mut r = Rlimits::default();
    r.set(
        Resource::Data,
        Limit {
            soft: 4 * PAGE,
            hard: 4 * PAGE,
        },
        false,
    )
    .unwrap();
    let mut s = space_with(&Settings::default(), r);
    s.set_brk_start(BRK, 2 * PAGE);
    assert_eq!(s.brk(BRK + 3 * PAGE).0, BRK);
    assert_eq!(s.brk(BRK + 2 * PAGE).0, BRK + 2 * PAGE);
}

#[test]
fn brk_over_rlimit_as_fails() {
    let mut r = Rlimits::default();
    r.set(
        Resource::As,
        Limit {
            soft: 2 * PAGE,
            hard: 2 * PAGE,
        },
        false,
    )
    .unwrap();
    let mut s = heap_space(r);
    assert_eq!(s.brk(BRK + 3 * PAGE).0, BRK);
    assert_eq!(s.brk(BRK + 2 * PAGE).0, BRK + 2 * PAGE);
}

#[test]
fn brk_at_max_map_count_fails() {
    let mut settings = Settings::default();
    settings.set("vm.max_map_count", "1").unwrap();
    let mut s = space_with(&settings, Rlimits::default());
    s.set_brk_start(BRK, 0);
    mmap(&mut s, 0x10_0000, PAGE, Prot::READ, fixed()).unwrap();
    assert_eq!(s.brk(BRK + PAGE).0, BRK);
}

#[test]
fn sbrk_returns_the_old_break_or_enomem() {
    let mut s = heap_space(Rlimits::default());
    assert_eq!(s.sbrk(0).map(|r| r.0), Ok(BRK));
    assert_eq!(s.sbrk(2 * PAGE as i64).map(|r| r.0), Ok(BRK));
    assert_eq!(s.sbrk(-(PAGE as i64)).map(|r| r.0), Ok(BRK + 2 * PAGE));
    assert_eq!(s.sbrk(-(4 * PAGE as i64)).map(|r| r.0), Err(Errno::NoMemory));
    assert_eq!(s.sbrk(i64::MAX).map(|r| r.0), Err(Errno::NoMemory));
    assert_eq!(s.brk(0).0, BRK + PAGE);
}

// ---- setrlimit ----

#[test]
fn setrlimit_soft_above_hard_is_einval_and_raising_hard_is_eperm() {
    let mut s = space();
    assert_eq!(
        s.setrlimit(Resource::Stack, Limit { soft: 10, hard: 5 }, false),
        Err(Errno::Invalid)
    );
    s.setrlimit(Resource::Stack, Limit { soft: 5, hard: 10 }, false)
        .unwrap();
    assert_eq!(
        s.setrlimit(Resource::Stack, Limit { soft: 10, hard: 11 }, false),
        Err(Errno::NotPermitted)
    );
    assert_eq!(s.getrlimit(Resource::Stack), Limit { soft: 5, hard: 10 });
    assert_eq!(
        s.setrlimit(Resource::Stack, Limit { soft: 10, hard: 10 }, false),
        Ok(())
    );
}

// ---- faults ----

#[test]
fn fault_with_no_mapping_kills() {
    let mut s = space();
    assert_eq!(
        s.fault(&mut OnePage, 0x40_0000, Access::Read),
        FaultDecision::Kill(KillReason::NoMapping)
    );
    assert_eq!(
        s.fault(&mut OnePage, 0, Access::Read),
        FaultDecision::Kill(KillReason::NoMapping)
    );
    assert_eq!(
        s.fault(&mut OnePage, 0xffff_8000_0000_0000, Access::Read),
        FaultDecision::Kill(KillReason::NoMapping)
    );
}

#[test]
fn fault_protection_cases() {
    let mut s = space();
    mmap(&mut s, 0x40_0000, PAGE, Prot::READ, fixed()).unwrap();
    mmap(&mut s, 0x50_0000, PAGE, Prot::NONE, fixed()).unwrap();
    let p = &mut OnePage;
    assert_eq!(
        s.fault(p, 0x40_0008, Access::Write),
        FaultDecision::Kill(KillReason::Protection)
    );
    assert_eq!(
        s.fault(p, 0x40_0008, Access::Execute),
        FaultDecision::Kill(KillReason::Protection)
    );
    assert_eq!(
        s.fault(p, 0x50_0000, Access::Read),
        FaultDecision::Kill(KillReason::Protection)
    );
    assert!(matches!(s.fault(p, 0x40_0008, Access::Read), FaultDecision::Map(_)));
}

#[test]
fn fault_on_anonymous_memory_maps_a_zero_page() {
    let mut s = space();
    mmap(&mut s, 0x40_0000, 4 * PAGE, Prot::RW, fixed()).unwrap();
    let d = s.fault(&mut OnePage, 0x40_1234, Access::Write);
    let expect = PageToMap {
        virt: VirtAddr(0x40_1000),
        prot: Prot::RW,
        fill: Fill::Zero,
        clean: false,
    };
    assert_eq!(d, FaultDecision::Map(alloc::vec![expect]));
    s.commit(VirtAddr(0x40_1000), Frame::Dirty(PhysAddr(0x3000))).unwrap();
    assert_eq!(s.resident(0x40_0000, 4 * PAGE), 1);
    assert_eq!(s.vmas().iter().next().map(|v| v.resident_pages().0), Some(1));
    // Faulting again (e.g. after PROT_NONE) maps the same frame.
    let d = s.fault(&mut OnePage, 0x40_1000, Access::Read);
    let again = PageToMap {
        virt: VirtAddr(0x40_1000),
        prot: Prot::RW,
        fill: Fill::Resident(Frame::Dirty(PhysAddr(0x3000))),
        clean: false,
    };
    assert_eq!(d, FaultDecision::Map(alloc::vec![again]));
}

#[test]
fn fault_on_a_file_segment_copies_then_zeroes() {
    let mut s = space();
    // A segment whose file data ends 0x100 bytes into its second page.
    let mut vma = Vma::new(
        0x40_0000,
        0x40_3000,
        Prot::RW,
        Backing::File {
            file: FileId(7),
            offset: 0x1000,
            data_end: 0x40_1100,
        },
    );
    vma.name = VmaName::Path("/bin/x".into());
    s.insert_vma(vma).unwrap();
    let fill = |s: &mut AddressSpace, a| match s.fault(&mut OnePage, a, Access::Read) {
        FaultDecision::Map(p) => p[0].fill,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        fill(&mut s, 0x40_0000),
        Fill::File {
            file: FileId(7),
            offset: 0x1000,
            len: PAGE
        }
    );
    assert_eq!(
        fill(&mut s, 0x40_1000),
        Fill::File {
            file: FileId(7),
            offset: 0x2000,
            len: 0x100
        }
    );
    // Past the page of the last file byte: SIGBUS, as Linux's.
    assert_eq!(
        s.fault(&mut OnePage, 0x40_2000, Access::Read),
        FaultDecision::Kill(KillReason::PastEndOfFile)
    );
}

#[test]
fn a_mapped_file_ends_in_sigbus_and_windows_stop_before() {
    let mut s = space();
    let args = MmapArgs {
        addr: 0,
        len: 4 * PAGE,
        prot: Prot::READ,
        flags: MapKind::PRIVATE,
        file: Some(FileSlice {
            id: FileId(3),
            offset: PAGE,
            size: 2 * PAGE + 10,
        }),
    };
    let (at, _) = s.mmap(args).unwrap();
    let at = at.0;
    // The file's bytes from PAGE: one whole page, then 10 bytes.
    let FaultDecision::Map(pages) = s.fault(&mut AlignedWindow, at, Access::Read) else {
        panic!()
    };
    assert_eq!(pages.len(), 2, "the window stops at the file's last page");
    assert_eq!(
        pages[1].fill,
        Fill::File {
            file: FileId(3),
            offset: 2 * PAGE,
            len: 10
        }
    );
    for page in [at + 2 * PAGE, at + 3 * PAGE] {
        assert_eq!(
            s.fault(&mut OnePage, page, Access::Read),
            FaultDecision::Kill(KillReason::PastEndOfFile)
        );
    }
    // A mapping that starts past the end is SIGBUS everywhere.
    let past = MmapArgs {
        file: Some(FileSlice {
            id: FileId(3),
            offset: 4 * PAGE,
            size: 2 * PAGE + 10,
        }),
        ..args
    };
    let (at, _) = s.mmap(past).unwrap();
    assert_eq!(
        s.fault(&mut OnePage, at.0, Access::Read),
        FaultDecision::Kill(KillReason::PastEndOfFile)
    );
}

#[test]
fn fault_around_maps_up_to_16_non_resident_pages_of_the_same_vma() {
    let mut s = space();
    mmap(&mut s, 0x40_0000, 64 * PAGE, Prot::RW, fixed()).unwrap();
    mmap(&mut s, 0x40_0000 + 64 * PAGE, 64 * PAGE, Prot::READ, fixed()).unwrap();
    s.commit(VirtAddr(0x40_3000), Frame::Dirty(PhysAddr(0x1000))).unwrap();
    let FaultDecision::Map(pages) = s.fault(&mut AlignedWindow, 0x40_0000, Access::Write) else {
        panic!()
    };
    assert_eq!(pages.len(), 15);
    assert!(pages.len() <= libipc::kernel::MAX_FAULT_MAPPINGS);
    assert!(
        pages
            .iter()
            .all(|p| p.virt.0 < 0x41_0000 && p.virt.0 != 0x40_3000 && p.prot == Prot::RW)
    );
    // At the VMA's end the window stops there.
    let FaultDecision::Map(pages) = s.fault(&mut AlignedWindow, 0x40_0000 + 63 * PAGE, Access::Write) else {
        panic!()
    };
    assert!(pages.iter().all(|p| p.virt.0 < 0x40_0000 + 64 * PAGE));
}

#[test]
fn commit_refuses_unmapped_and_resident_pages() {
    let mut s = space();
    assert_eq!(
        s.commit(VirtAddr(0x40_0000), Frame::Dirty(PhysAddr(0x1000))),
        Err(CommitError::NotMapped)
    );
    mmap(&mut s, 0x40_0000, PAGE, Prot::RW, fixed()).unwrap();
    s.commit(VirtAddr(0x40_0000), Frame::Dirty(PhysAddr(0x1000))).unwrap();
    assert_eq!(
        s.commit(VirtAddr(0x40_0000), Frame::Dirty(PhysAddr(0x2000))),
        Err(CommitError::AlreadyResident(Frame::Dirty(PhysAddr(0x1000))))
    );
}

#[test]
fn commit_pages_records_a_batch_and_reports_refusals() {
    let mut s = space();
    // Two VMAs (different protections, so they stay apart) and a hole.
    mmap(&mut s, 0x40_0000, 2 * PAGE, Prot::RW, fixed()).unwrap();
    mmap(&mut s, 0x40_2000, PAGE, Prot::READ, fixed()).unwrap();
    s.commit(VirtAddr(0x40_1000), Frame::Dirty(PhysAddr(0x9000))).unwrap();
    let batch = [
        (VirtAddr(0x40_0000), Frame::Dirty(PhysAddr(0x1000))),
        (VirtAddr(0x40_1000), Frame::Dirty(PhysAddr(0x2000))),
        (VirtAddr(0x40_2000), Frame::Dirty(PhysAddr(0x3000))),
        (VirtAddr(0x50_0000), Frame::Dirty(PhysAddr(0x4000))),
    ];
    let mut refused = Vec::new();
    s.commit_pages(&batch, |virt, frame, e| refused.push((virt, frame, e)));
    assert_eq!(
        refused,
        [
            (
                VirtAddr(0x40_1000),
                Frame::Dirty(PhysAddr(0x2000)),
                CommitError::AlreadyResident(Frame::Dirty(PhysAddr(0x9000)))
            ),
            (
                VirtAddr(0x50_0000),
                Frame::Dirty(PhysAddr(0x4000)),
                CommitError::NotMapped
            ),
        ]
    );
    assert_eq!(s.frame_of(VirtAddr(0x40_0000)), Some(Frame::Dirty(PhysAddr(0x1000))));
    assert_eq!(s.frame_of(VirtAddr(0x40_1000)), Some(Frame::Dirty(PhysAddr(0x9000))));
    assert_eq!(s.frame_of(VirtAddr(0x40_2000)), Some(Frame::Dirty(PhysAddr(0x3000))));
}

// ---- stack growth ----

const STACK_TOP: u64 = 0x7ffd_0000_0000;

fn stack_space(rlimits: Rlimits) -> AddressSpace {
    let mut s = space_with(&Settings::default(), rlimits);
    let mut stack = Vma::new(STACK_TOP - 4 * PAGE, STACK_TOP, Prot::RW, Backing::Anonymous);
    stack.grows_down = true;
    stack.name = VmaName::Stack;
    s.insert_vma(stack).unwrap();
    s
}

#[test]
fn fault_below_the_stack_grows_it() {
    let mut s = stack_space(Rlimits::default());
    let addr = STACK_TOP - 10 * PAGE + 8;
    let d = s.fault(&mut OnePage, addr, Access::Write);
    let expect = PageToMap {
        virt: VirtAddr(STACK_TOP - 10 * PAGE),
        prot: Prot::RW,
        fill: Fill::Zero,
        clean: false,
    };
    assert_eq!(d, FaultDecision::Map(alloc::vec![expect]));
    assert_eq!(
        s.vmas().find(addr).map(|v| (v.start, v.end)),
        Some((STACK_TOP - 10 * PAGE, STACK_TOP))
    );
    assert_eq!(s.vmas().len(), 1);
    checked(&s);
}

#[test]
fn stack_growth_beyond_rlimit_stack_is_a_limit_kill() {
    let mut s = stack_space(Rlimits::default());
    let limit = crate::rlimit::DEFAULT_STACK;
    assert!(matches!(
        s.fault(&mut OnePage, STACK_TOP - limit, Access::Write),
        FaultDecision::Map(_)
    ));
    assert_eq!(
        s.fault(&mut OnePage, STACK_TOP - limit - 1, Access::Write),
        FaultDecision::Kill(KillReason::Limit)
    );
}

#[test]
fn stack_growth_beyond_rlimit_as_is_a_limit_kill() {
    let mut r = Rlimits::default();
    r.set(
        Resource::As,
        Limit {
            soft: 8 * PAGE,
            hard: 8 * PAGE,
        },
        false,
    )
    .unwrap();
    let mut s = stack_space(r);
    assert_eq!(
        s.fault(&mut OnePage, STACK_TOP - 9 * PAGE, Access::Write),
        FaultDecision::Kill(KillReason::Limit)
    );
    assert!(matches!(
        s.fault(&mut OnePage, STACK_TOP - 8 * PAGE, Access::Write),
        FaultDecision::Map(_)
    ));
}

#[test]
fn stack_growth_into_the_guard_gap_of_a_mapping_below_is_killed() {
    let mut s = stack_space(Rlimits::default());
    let gap = Settings::default().stack_guard_gap * PAGE;
    let below_end = STACK_TOP - 4 * PAGE - gap - 4 * PAGE;
    mmap(&mut s, below_end - PAGE, PAGE, Prot::RW, fixed()).unwrap();
    // Within the gap above that mapping: stack clash.
    assert_eq!(
        s.fault(&mut OnePage, below_end + gap - PAGE, Access::Write),
        FaultDecision::Kill(KillReason::GuardGap)
    );
    assert_eq!(
        s.fault(&mut OnePage, below_end, Access::Write),
        FaultDecision::Kill(KillReason::GuardGap)
    );
    // Exactly a gap away: allowed.
    assert!(matches!(
        s.fault(&mut OnePage, below_end + gap, Access::Write),
        FaultDecision::Map(_)
    ));
}

#[test]
fn a_prot_none_mapping_below_does_not_block_stack_growth() {
    let mut s = stack_space(Rlimits::default());
    let below_end = STACK_TOP - 8 * PAGE;
    mmap(&mut s, below_end - PAGE, PAGE, Prot::NONE, fixed()).unwrap();
    assert!(matches!(
        s.fault(&mut OnePage, below_end, Access::Write),
        FaultDecision::Map(_)
    ));
}

/// Linux's expand_downwards skips a grows-down neighbour: two stacks may
/// grow towards each other without the gap.
#[test]
fn a_grows_down_mapping_below_does_not_count_toward_the_guard_gap() {
    let mut s = stack_space(Rlimits::default());
    let below_end = STACK_TOP - 8 * PAGE;
    mmap(
        &mut s,
        below_end - PAGE,
        PAGE,
        Prot::RW,
        fixed().union(MapKind::GROWSDOWN),
    )
    .unwrap();
    assert!(matches!(
        s.fault(&mut OnePage, below_end, Access::Write),
        FaultDecision::Map(_)
    ));
}

#[test]
fn stack_growth_below_mmap_min_addr_is_refused() {
    let mut s = space();
    let mut stack = Vma::new(MIN + PAGE, MIN + 4 * PAGE, Prot::RW, Backing::Anonymous);
    stack.grows_down = true;
    s.insert_vma(stack).unwrap();
    assert_eq!(
        s.fault(&mut OnePage, MIN - PAGE, Access::Write),
        FaultDecision::Kill(KillReason::NoMapping)
    );
}

#[test]
fn stack_growth_respects_the_stack_protection() {
    let mut s = space();
    let mut stack = Vma::new(STACK_TOP - PAGE, STACK_TOP, Prot::READ, Backing::Anonymous);
    stack.grows_down = true;
    s.insert_vma(stack).unwrap();
    assert_eq!(
        s.fault(&mut OnePage, STACK_TOP - 2 * PAGE, Access::Write),
        FaultDecision::Kill(KillReason::Protection)
    );
}

#[test]
fn frames_lists_every_resident_frame() {
    let mut s = space();
    mmap(&mut s, 0x40_0000, 2 * PAGE, Prot::RW, fixed()).unwrap();
    s.commit(VirtAddr(0x40_0000), Frame::Dirty(PhysAddr(0x1000))).unwrap();
    s.commit(VirtAddr(0x40_1000), Frame::Dirty(PhysAddr(0x2000))).unwrap();
    assert_eq!(s.frames().collect::<Vec<_>>(), [PhysAddr(0x1000), PhysAddr(0x2000)]);
}

#[test]
fn brk_growth_fails_over_a_mapping_straddling_the_old_end() {
    let mut s = heap_space(Rlimits::default());
    s.brk(BRK + 2 * PAGE);
    s.munmap(BRK, 2 * PAGE).unwrap();
    mmap(&mut s, BRK + PAGE, 2 * PAGE, Prot::READ, fixed()).unwrap();
    assert_eq!(s.brk(BRK + 4 * PAGE).0, BRK + 2 * PAGE);
    checked(&s);
}

#[test]
fn the_guard_gap_is_a_setting() {
    let mut settings = Settings::default();
    settings.set("stack_guard_gap", "1").unwrap();
    let mut s = space_with(&settings, Rlimits::default());
    let mut stack = Vma::new(STACK_TOP - PAGE, STACK_TOP, Prot::RW, Backing::Anonymous);
    stack.grows_down = true;
    s.insert_vma(stack).unwrap();
    mmap(&mut s, STACK_TOP - 8 * PAGE, PAGE, Prot::RW, fixed()).unwrap();
    // One page of gap: growing to two pages above the mapping is fine,
    // to the page right above it is a clash.
    assert!(matches!(
        s.fault(&mut OnePage, STACK_TOP - 6 * PAGE, Access::Write),
        FaultDecision::Map(_)
    ));
    assert_eq!(
        s.fault(&mut OnePage, STACK_TOP - 7 * PAGE, Access::Write),
        FaultDecision::Kill(KillReason::GuardGap)
    );
}

// ---- madvise hints reach the policy ----

/// Wants every WILLNEED range and more, to see it clipped; remembers what
/// it heard.
#[derive(Default)]
struct Greedy(Vec<(core::ops::Range<u64>, Advice)>);

impl Policy for Greedy {
    fn name(&self) -> &'static str {
        "greedy"
    }

    fn advise(&mut self, _vma: &Vma, range: core::ops::Range<u64>, advice: Advice) -> Option<core::ops::Range<u64>> {
        self.0.push((range.clone(), advice));
        (advice == Advice::WillNeed).then_some(range.start - 7 * PAGE..range.end + 100 * PAGE + 3)
    }
}

#[test]
fn the_policy_hears_the_hints_over_the_mapped_parts_even_past_a_hole() {
    let mut s = space();
    let a = mmap(&mut s, 0x40_0000, 4 * PAGE, Prot::RW, fixed()).unwrap();
    mmap(&mut s, a + 6 * PAGE, 2 * PAGE, Prot::READ, fixed()).unwrap();
    let (effects, result) = s.madvise(a + PAGE, a + 8 * PAGE, Advice::WillNeed);
    assert_eq!(result, Err(crate::linux::Errno::NoMem), "the hole between the two");
    let ranges: Vec<(u64, u64)> = effects.advised.iter().map(|v| (v.start.0, v.end.0)).collect();
    assert_eq!(ranges, [(a + PAGE, a + 4 * PAGE), (a + 6 * PAGE, a + 8 * PAGE)]);

    let mut policy = Greedy::default();
    let populate: Vec<_> = effects
        .advised
        .iter()
        .filter_map(|v| s.advise_policy(&mut policy, v))
        .collect();
    assert_eq!(policy.0.len(), 2);
    assert_eq!(
        populate
            .iter()
            .map(|p| (p.start.0, p.end.0, p.write))
            .collect::<Vec<_>>(),
        [(a + PAGE, a + 4 * PAGE, false), (a + 6 * PAGE, a + 8 * PAGE, false)],
        "clipped to the advised part of each VMA, page-aligned, for reading"
    );
}

#[test]
fn only_the_policy_hints_are_passed_on() {
    let mut s = space();
    let a = mmap(&mut s, 0x40_0000, 4 * PAGE, Prot::RW, fixed()).unwrap();
    for advice in [Advice::Normal, Advice::Random, Advice::Sequential, Advice::DontNeed] {
        let (effects, result) = s.madvise(a, a + PAGE, advice);
        assert_eq!(result, Ok(()));
        assert_eq!(effects.advised.len(), 1, "{advice:?}");
        assert_eq!(effects.advised[0].advice, advice);
        assert_eq!(s.advise_policy(&mut Greedy::default(), &effects.advised[0]), None);
    }
    let (effects, _) = s.madvise(a, a + PAGE, Advice::DontFork);
    assert!(effects.advised.is_empty());
    let (effects, result) = s.madvise(a, a + PAGE, Advice::GuardInstall);
    assert_eq!((effects.advised.len(), result), (0, Err(crate::linux::Errno::Inval)));
}

#[test]
fn a_hint_over_a_range_gone_or_unreadable_asks_for_nothing() {
    let mut s = space();
    let a = mmap(&mut s, 0x40_0000, 4 * PAGE, Prot::RW, fixed()).unwrap();
    let (effects, _) = s.madvise(a, a + 2 * PAGE, Advice::WillNeed);
    let advised = effects.advised[0];
    s.mprotect(a, 4 * PAGE, Prot::NONE).unwrap();
    let mut policy = Greedy::default();
    assert_eq!(s.advise_policy(&mut policy, &advised), None, "PROT_NONE");
    s.munmap(a, 4 * PAGE).unwrap();
    assert_eq!(s.advise_policy(&mut policy, &advised), None, "unmapped");
    assert_eq!(policy.0.len(), 1, "no VMA, no call");
    let vma = Vma::new(a, a + PAGE, Prot::RW, crate::vma::Backing::Anonymous);
    assert_eq!(
        OnePage.advise(&vma, a..a + PAGE, Advice::WillNeed),
        None,
        "the default: nothing now"
    );
}

// ---- 2 MiB pages (transparent_hugepage) ----

const HUGE: u64 = libipc::types::HUGE_PAGE_SIZE;

fn huge_space(mode: &str) -> AddressSpace {
    let mut settings = Settings::default();
    settings.set("transparent_hugepage", mode).unwrap();
    space_with(&settings, Rlimits::default())
}

/// The first page a write fault at `addr` maps, and its fill.
fn first_mapped(s: &mut AddressSpace, addr: u64) -> (u64, Fill) {
    match s.fault(&mut OnePage, addr, Access::Write) {
        FaultDecision::Map(pages) => (pages[0].virt.0, pages[0].fill),
        FaultDecision::Kill(reason) => panic!("killed: {reason:?}"),
    }
}

#[test]
fn huge_pages_follow_the_setting_and_the_advice() {
    let at = 0x4000_0000;
    for (mode, advice, want) in [
        ("never", None, Fill::Zero),
        ("always", None, Fill::ZeroHuge),
        ("always", Some(Advice::NoHugePage), Fill::Zero),
        ("madvise", None, Fill::Zero),
        ("madvise", Some(Advice::HugePage), Fill::ZeroHuge),
    ] {
        let mut s = huge_space(mode);
        mmap(&mut s, at, 2 * HUGE, Prot::RW, fixed()).unwrap();
        if let Some(advice) = advice {
            s.madvise(at, at + 2 * HUGE, advice).1.unwrap();
        }
        let (virt, fill) = first_mapped(&mut s, at + HUGE + 0x5000);
        assert_eq!(fill, want, "{mode} {advice:?}");
        let expect = if want == Fill::ZeroHuge {
            at + HUGE
        } else {
            at + HUGE + 0x5000
        };
        assert_eq!(virt, expect, "{mode} {advice:?}");
    }
}

#[test]
fn huge_pages_only_where_a_private_anonymous_vma_covers_the_region() {
    let at = 0x4000_0000;
    let mut s = huge_space("always");
    // Shared, read-only (read faults only), a region cut by a VMA edge.
    mmap(
        &mut s,
        at,
        HUGE,
        Prot::RW,
        MapKind::SHARED.union(MapKind::ANONYMOUS).union(MapKind::FIXED),
    )
    .unwrap();
    assert_eq!(first_mapped(&mut s, at).1, Fill::Zero);
    mmap(&mut s, at + HUGE, HUGE + 0x3000, Prot::RW, fixed()).unwrap();
    assert_eq!(
        first_mapped(&mut s, at + 2 * HUGE).1,
        Fill::Zero,
        "region cut by the VMA's end"
    );
    assert_eq!(first_mapped(&mut s, at + HUGE).1, Fill::ZeroHuge);
    // A file mapping is never huge.
    let file = s
        .mmap(MmapArgs {
            addr: at + 4 * HUGE,
            len: HUGE,
            prot: Prot::RW,
            flags: MapKind::PRIVATE.union(MapKind::FIXED),
            file: Some(FileSlice::unsized_(FileId(3), 0)),
        })
        .unwrap()
        .0
        .0;
    assert!(matches!(first_mapped(&mut s, file).1, Fill::File { .. }));
}

#[test]
fn a_committed_huge_page_splits_on_munmap_and_mprotect_inside() {
    let at = 0x4000_0000;
    let mut s = huge_space("always");
    mmap(&mut s, at, 4 * HUGE, Prot::RW, fixed()).unwrap();
    for k in 0..4 {
        s.commit_huge(VirtAddr(at + k * HUGE), PhysAddr(0x1_0000_0000 + k * HUGE))
            .unwrap();
    }
    assert_eq!(s.huge_pages(at, 4 * HUGE), 4);
    assert_eq!(
        s.commit_huge(VirtAddr(at), PhysAddr(0x2_0000_0000)),
        Err(CommitError::AlreadyResident(Frame::Dirty(PhysAddr(0x1_0000_0000))))
    );
    assert_eq!(
        s.commit_huge(VirtAddr(at + 4 * HUGE), PhysAddr(0x2_0000_0000)),
        Err(CommitError::NotMapped)
    );
    // A page of the first unmapped: it splits, the rest stays resident.
    let dropped = s.munmap(at + 0x5000, PAGE).unwrap();
    assert_eq!(
        dropped,
        [(VirtAddr(at + 0x5000), Frame::Dirty(PhysAddr(0x1_0000_5000)))]
    );
    assert_eq!(s.huge_pages(at, 4 * HUGE), 3);
    assert_eq!(s.resident(at, HUGE), 511);
    // One page of the second re-protected: it splits, re-mapped page by page.
    let changed = s.mprotect(at + HUGE + 0x3000, PAGE, Prot::READ).unwrap();
    assert_eq!(
        changed,
        [(
            VirtAddr(at + HUGE + 0x3000),
            Frame::Dirty(PhysAddr(0x1_0020_3000)),
            Prot::READ
        )]
    );
    assert_eq!(s.huge_pages(at, 4 * HUGE), 2);
    // The third unmapped whole: gone with its 512 frames.
    assert_eq!(s.munmap(at + 2 * HUGE, HUGE).unwrap().len(), 512);
    assert_eq!(s.huge_pages(at, 4 * HUGE), 1);
    assert_eq!(s.huge_pages(at + 3 * HUGE, HUGE), 1);
    assert_eq!(
        s.huge_pages(at + 3 * HUGE, HUGE - PAGE),
        0,
        "a range covering part of it"
    );
    checked(&s);
}
