//! The Linux memory calls through [`memory_call`]: each errno path, the
//! effects, and the divergences from Linux that were fixed (each checked
//! against the host kernel too, by `tests/linux_differential.rs`).

use alloc::{collections::BTreeMap, vec, vec::Vec};

use libipc::types::{Access, PAGE_SIZE, PhysAddr, Prot, VirtAddr};

use super::{abi::*, *};
use crate::{
    policy::OnePage,
    rlimit::Rlimits,
    settings::Settings,
    space::{FaultDecision, Fill, TASK_SIZE_47, TASK_SIZE_56},
    vma::Hints,
};

const PAGE: u64 = PAGE_SIZE;
const BASE: u64 = 0x1000_0000_0000;
const RW: u64 = prot::READ | prot::WRITE;
const ANON: u64 = map::PRIVATE | map::ANONYMOUS;
const FIXED_ANON: u64 = ANON | map::FIXED;

/// User memory for setrlimit: a map of bytes by address.
#[derive(Default)]
struct Bytes(BTreeMap<u64, u8>);

impl UserAccess for Bytes {
    fn read(&mut self, _: &AddressSpace, addr: VirtAddr, buf: &mut [u8]) -> bool {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = self.0.get(&(addr.0 + i as u64)).copied().unwrap_or(0);
        }
        true
    }
}

struct T {
    space: AddressSpace,
    caller: Caller,
    user: Bytes,
    next_frame: u64,
}

impl T {
    fn new() -> T {
        T::with(Rlimits::default())
    }

    fn with(rlimits: Rlimits) -> T {
        T {
            space: AddressSpace::new(&Settings::default(), rlimits, 0x7f00_0000_0000),
            caller: Caller::default(),
            user: Bytes::default(),
            next_frame: 0x10_0000,
        }
    }

    fn call(&mut self, number: u64, args: &[u64]) -> Outcome {
        let mut a = [0; 6];
        a[..args.len()].copy_from_slice(args);
        memory_call(&mut self.space, &self.caller, &mut self.user, number, a)
    }

    fn rax(&mut self, number: u64, args: &[u64]) -> Result<u64, Errno> {
        let o = self.call(number, args);
        o.errno().map_or(Ok(o.rax as u64), Err)
    }

    fn map(&mut self, page: u64, pages: u64, prot_bits: u64, flags: u64) -> Result<u64, Errno> {
        self.rax(
            nr::MMAP,
            &[BASE + page * PAGE, pages * PAGE, prot_bits, flags, u64::MAX, 0],
        )
    }

    /// Touches a page as the program would; false if the fault kills.
    fn touch(&mut self, page: u64, access: Access) -> bool {
        match self.space.fault(&mut OnePage, BASE + page * PAGE, access) {
            FaultDecision::Kill(_) => false,
            FaultDecision::Map(pages) => {
                for p in pages {
                    if !matches!(p.fill, Fill::Resident(_)) {
                        self.next_frame += PAGE;
                        self.space.commit(p.virt, p.frame(PhysAddr(self.next_frame))).unwrap();
                    }
                }
                true
            }
        }
    }
}

fn at(page: u64) -> u64 {
    BASE + page * PAGE
}

#[test]
fn unknown_calls_are_enosys() {
    assert_eq!(T::new().rax(0, &[]), Err(Errno::NoSys));
    assert!(is_memory_call(nr::MREMAP) && !is_memory_call(0));
}

// ---- mmap ----

#[test]
fn mmap_argument_errnos_are_linux_s() {
    let mut t = T::new();
    let shared_validate = map::SHARED_VALIDATE | map::ANONYMOUS;
    assert_eq!(
        t.map(16, 1, RW, shared_validate),
        Err(Errno::Inval),
        "SHARED_VALIDATE on anonymous memory"
    );
    let shared_down = map::SHARED | map::ANONYMOUS | map::GROWSDOWN;
    assert_eq!(t.map(16, 1, RW, shared_down), Err(Errno::Inval), "shared grows-down");
    assert_eq!(t.map(16, 1, RW, map::ANONYMOUS), Err(Errno::Inval), "no type");
    assert_eq!(t.map(16, 1, RW, map::PRIVATE), Err(Errno::BadF), "no file");
    assert_eq!(
        t.rax(nr::MMAP, &[at(16), PAGE, RW, ANON, 0, 1]),
        Err(Errno::Inval),
        "offset"
    );
    let huge = ANON | map::HUGETLB;
    assert_eq!(t.map(16, 512, RW, huge), Err(Errno::NoMem), "no huge pages reserved");
    assert_eq!(
        t.map(16, 512, RW, huge | (13 << map::HUGE_SHIFT)),
        Err(Errno::Inval),
        "bad huge size"
    );
    assert_eq!(t.rax(nr::MMAP, &[at(16), u64::MAX, RW, ANON, 0, 0]), Err(Errno::NoMem));
}

#[test]
fn mmap_ignores_unknown_prot_bits_and_keeps_droppable_private() {
    let mut t = T::new();
    assert_eq!(t.map(16, 1, prot::READ | prot::SEM | prot::GROWSDOWN, ANON), Ok(at(16)));
    assert_eq!(t.space.vmas().find(at(16)).unwrap().prot, Prot::READ);
    assert_eq!(t.map(20, 1, RW, map::DROPPABLE | map::ANONYMOUS), Ok(at(20)));
    let v = t.space.vmas().find(at(20)).unwrap();
    assert!(!v.shared && v.hints.contains(Hints::DONTDUMP) && v.hints.contains(Hints::WIPEONFORK));
}

#[test]
fn map_populate_asks_the_server_to_prefault() {
    let mut t = T::new();
    let o = t.call(nr::MMAP, &[at(16), 2 * PAGE, RW, ANON | map::POPULATE, 0, 0]);
    assert_eq!(
        o.effects.populate,
        [crate::effects::Populate {
            start: VirtAddr(at(16)),
            end: VirtAddr(at(18)),
            write: true
        }]
    );
    assert_eq!(t.space.populate(VirtAddr(at(16)), VirtAddr(at(18))).len(), 2);
    let nonblock = t.call(
        nr::MMAP,
        &[at(20), PAGE, RW, ANON | map::POPULATE | map::NONBLOCK, 0, 0],
    );
    assert!(nonblock.effects.populate.is_empty());
}

#[test]
fn map_locked_locks_populates_and_checks_rlimit_memlock() {
    let mut t = T::new();
    let o = t.call(nr::MMAP, &[at(16), 2 * PAGE, RW, FIXED_ANON | map::LOCKED, 0, 0]);
    assert_eq!(o.rax as u64, at(16));
    assert_eq!(t.space.vmas().find(at(16)).unwrap().lock, Lock::Locked);
    assert_eq!(o.effects.populate.len(), 1);
    assert_eq!(
        t.map(100, 2048, RW, FIXED_ANON | map::LOCKED),
        Err(Errno::Again),
        "9 MiB > 8 MiB"
    );
    t.caller.privileges.ipc_lock = true;
    assert_eq!(t.map(100, 2048, RW, FIXED_ANON | map::LOCKED), Ok(at(100)));
    let mut t = T::new();
    t.space.rlimits.memlock = Limit { soft: 0, hard: 0 };
    assert_eq!(t.map(16, 1, RW, FIXED_ANON | map::LOCKED), Err(Errno::Perm));
}

#[test]
fn map_32bit_places_below_2_gib() {
    let mut t = T::new();
    let a = t.rax(nr::MMAP, &[0, PAGE, RW, ANON | map::BIT32, 0, 0]).unwrap();
    assert!((0x4000_0000..0x8000_0000).contains(&a), "{a:#x}");
    let b = t.rax(nr::MMAP, &[0, PAGE, RW, ANON | map::BIT32, 0, 0]).unwrap();
    assert_eq!(b, a + PAGE, "bottom-up");
    // Full: ENOMEM.
    let mut t = T::new();
    assert_eq!(
        t.rax(nr::MMAP, &[0x4000_0000, 0x4000_0000, RW, FIXED_ANON, 0, 0]),
        Ok(0x4000_0000)
    );
    assert_eq!(
        t.rax(nr::MMAP, &[0, PAGE, RW, ANON | map::BIT32, 0, 0]),
        Err(Errno::NoMem)
    );
}

#[test]
fn rlimit_data_counts_every_private_writable_mapping_in_brk_too() {
    let mut t = T::new();
    t.space.set_brk_start(0x100_0000, 0);
    t.space.rlimits.data = Limit {
        soft: 8 * PAGE,
        hard: u64::MAX,
    };
    assert_eq!(t.map(16, 6, RW, FIXED_ANON), Ok(at(16)));
    assert_eq!(
        t.map(30, 6, prot::READ, FIXED_ANON),
        Ok(at(30)),
        "read-only is not data"
    );
    assert_eq!(t.map(40, 6, RW, FIXED_ANON), Err(Errno::NoMem));
    // brk's own check (heap only) passes; may_expand_vm's does not.
    assert_eq!(t.rax(nr::BRK, &[0x100_0000 + 4 * PAGE]), Ok(0x100_0000));
    assert_eq!(t.rax(nr::BRK, &[0x100_0000 + 2 * PAGE]), Ok(0x100_0000 + 2 * PAGE));
    // mprotect turning memory into data is checked as well.
    assert_eq!(t.rax(nr::MPROTECT, &[at(30), 6 * PAGE, RW]), Err(Errno::NoMem));
}

#[test]
fn rlimit_data_of_zero_lets_data_grow_to_the_hard_limit() {
    let mut t = T::new();
    t.space.rlimits.data = Limit {
        soft: 0,
        hard: 4 * PAGE,
    };
    assert_eq!(t.map(16, 4, RW, FIXED_ANON), Ok(at(16)));
    assert_eq!(t.map(20, 1, RW, FIXED_ANON), Err(Errno::NoMem));
}

// ---- mprotect ----

#[test]
fn mprotect_growsdown_reaches_the_start_of_a_grows_down_vma() {
    let mut t = T::new();
    assert_eq!(t.map(16, 4, prot::READ, FIXED_ANON | map::GROWSDOWN), Ok(at(16)));
    assert_eq!(t.map(32, 4, prot::READ, FIXED_ANON), Ok(at(32)));
    assert_eq!(t.rax(nr::MPROTECT, &[at(18), PAGE, RW | prot::GROWSDOWN]), Ok(0));
    let v = t.space.vmas().find(at(16)).unwrap();
    assert_eq!((v.start, v.end, v.prot), (at(16), at(19), Prot::RW));
    assert_eq!(
        t.rax(nr::MPROTECT, &[at(34), PAGE, RW | prot::GROWSDOWN]),
        Err(Errno::Inval)
    );
    assert_eq!(
        t.rax(nr::MPROTECT, &[at(34), PAGE, RW | prot::GROWSUP]),
        Err(Errno::Inval)
    );
    assert_eq!(
        t.rax(nr::MPROTECT, &[at(10), PAGE, RW | prot::GROWSUP]),
        Err(Errno::NoMem)
    );
    assert_eq!(
        t.rax(nr::MPROTECT, &[at(34), PAGE, prot::GROWSUP | prot::GROWSDOWN]),
        Err(Errno::Inval)
    );
}

#[test]
fn mprotect_checks_bits_after_the_length() {
    let mut t = T::new();
    t.map(34, 1, RW, FIXED_ANON).unwrap();
    assert_eq!(t.rax(nr::MPROTECT, &[at(34), 0, 0xff]), Ok(0));
    assert_eq!(t.rax(nr::MPROTECT, &[at(34), PAGE, 0xff]), Err(Errno::Inval));
    assert_eq!(t.rax(nr::MPROTECT, &[at(34), PAGE, prot::READ | prot::SEM]), Ok(0));
    assert_eq!(t.rax(nr::MPROTECT, &[at(34), u64::MAX, prot::READ]), Err(Errno::NoMem));
    assert_eq!(t.rax(nr::MPROTECT, &[at(34) + 1, PAGE, prot::READ]), Err(Errno::Inval));
}

// ---- mremap ----

#[test]
fn mremap_flag_errnos() {
    use abi::mremap::*;
    let mut t = T::new();
    t.map(16, 2, RW, FIXED_ANON).unwrap();
    assert_eq!(t.rax(nr::MREMAP, &[at(16), PAGE, PAGE, 8]), Err(Errno::Inval));
    assert_eq!(
        t.rax(nr::MREMAP, &[at(16), PAGE, PAGE, FIXED, at(50)]),
        Err(Errno::Inval)
    );
    assert_eq!(
        t.rax(nr::MREMAP, &[at(16), PAGE, PAGE, DONTUNMAP, at(50)]),
        Err(Errno::Inval)
    );
    let both = MAYMOVE | DONTUNMAP;
    assert_eq!(
        t.rax(nr::MREMAP, &[at(16), PAGE, 2 * PAGE, both, at(50)]),
        Err(Errno::Inval)
    );
    assert_eq!(t.rax(nr::MREMAP, &[at(16) + 1, PAGE, PAGE, 0]), Err(Errno::Inval));
    assert_eq!(t.rax(nr::MREMAP, &[at(16), PAGE, 0, 0]), Err(Errno::Inval));
    assert_eq!(t.rax(nr::MREMAP, &[at(30), PAGE, 2 * PAGE, 0]), Err(Errno::Fault));
    assert_eq!(
        t.rax(nr::MREMAP, &[at(16), 3 * PAGE, 4 * PAGE, MAYMOVE]),
        Err(Errno::Fault)
    );
    assert_eq!(t.rax(nr::MREMAP, &[at(16), 0, PAGE, MAYMOVE]), Err(Errno::Inval));
    let fixed = MAYMOVE | FIXED;
    assert_eq!(
        t.rax(nr::MREMAP, &[at(16), 2 * PAGE, 2 * PAGE, fixed, at(17)]),
        Err(Errno::Inval),
        "overlap"
    );
    assert_eq!(
        t.rax(nr::MREMAP, &[at(16), PAGE, PAGE, fixed, at(50) + 1]),
        Err(Errno::Inval)
    );
}

#[test]
fn mremap_grows_in_place_then_moves_with_the_frames() {
    use abi::mremap::MAYMOVE;
    let mut t = T::new();
    t.map(16, 2, RW, FIXED_ANON).unwrap();
    assert!(t.touch(17, Access::Write));
    let frame = t.space.frame_of(VirtAddr(at(17))).unwrap();
    assert_eq!(t.rax(nr::MREMAP, &[at(16), 2 * PAGE, 3 * PAGE, 0]), Ok(at(16)));
    t.map(19, 1, prot::READ, FIXED_ANON).unwrap();
    assert_eq!(t.rax(nr::MREMAP, &[at(16), 3 * PAGE, 4 * PAGE, 0]), Err(Errno::NoMem));
    let o = t.call(nr::MREMAP, &[at(16), 3 * PAGE, 4 * PAGE, MAYMOVE]);
    let to = o.rax as u64;
    assert_eq!(
        o.effects.moved,
        [crate::effects::Moved {
            from: VirtAddr(at(17)),
            to: VirtAddr(to + PAGE),
            frame,
            prot: Prot::RW
        }]
    );
    assert_eq!(t.space.frame_of(VirtAddr(to + PAGE)), Some(frame));
    assert!(t.space.vmas().find(at(16)).is_none());
    assert_eq!(t.space.vmas().find(to).unwrap().end, to + 4 * PAGE);
    t.space.vmas().check_invariants().unwrap();
}

#[test]
fn mremap_fixed_replaces_the_target_and_dontunmap_leaves_the_old_range_empty() {
    use abi::mremap::*;
    let mut t = T::new();
    t.map(16, 2, RW, FIXED_ANON).unwrap();
    t.map(40, 4, RW, FIXED_ANON).unwrap();
    assert!(t.touch(40, Access::Write) && t.touch(16, Access::Write));
    let o = t.call(nr::MREMAP, &[at(16), 2 * PAGE, 3 * PAGE, MAYMOVE | FIXED, at(40)]);
    assert_eq!(o.rax as u64, at(40));
    assert_eq!(o.effects.dropped.len(), 1, "the target's page");
    assert_eq!(o.effects.moved.len(), 1);
    let o = t.call(nr::MREMAP, &[at(40), 2 * PAGE, 2 * PAGE, MAYMOVE | DONTUNMAP, at(60)]);
    assert_eq!(o.rax as u64, at(60));
    assert!(t.space.vmas().find(at(40)).is_some(), "old range still mapped");
    assert_eq!(t.space.frame_of(VirtAddr(at(40))), None, "and empty");
    assert!(t.space.frame_of(VirtAddr(at(60))).is_some());
}

#[test]
fn mremap_shrinks_without_looking_further() {
    let mut t = T::new();
    t.map(16, 4, RW, FIXED_ANON).unwrap();
    assert!(t.touch(19, Access::Write));
    let o = t.call(nr::MREMAP, &[at(16), 4 * PAGE, 2 * PAGE, 0]);
    assert_eq!((o.rax as u64, o.effects.dropped.len()), (at(16), 1));
    assert_eq!(t.rax(nr::MREMAP, &[at(17), PAGE, PAGE, 0]), Ok(at(17)));
}

#[test]
fn mremap_growth_of_locked_memory_checks_memlock_and_populates() {
    use abi::mremap::MAYMOVE;
    let mut t = T::new();
    t.map(16, 2, RW, FIXED_ANON | map::LOCKED).unwrap();
    let o = t.call(nr::MREMAP, &[at(16), 2 * PAGE, 4 * PAGE, 0]);
    assert_eq!(o.effects.populate.len(), 1);
    assert_eq!(
        t.rax(nr::MREMAP, &[at(16), 4 * PAGE, 9 << 20, MAYMOVE]),
        Err(Errno::Again)
    );
}

// ---- madvise ----

#[test]
fn madvise_dontneed_drops_pages_that_then_read_as_zero() {
    let mut t = T::new();
    t.map(16, 2, RW, FIXED_ANON).unwrap();
    assert!(t.touch(16, Access::Write) && t.touch(17, Access::Write));
    let o = t.call(nr::MADVISE, &[at(16), PAGE, madv::DONTNEED]);
    assert_eq!((o.rax, o.effects.dropped.len()), (0, 1));
    let FaultDecision::Map(pages) = t.space.fault(&mut OnePage, at(16), Access::Read) else {
        panic!("kill")
    };
    assert_eq!(pages[0].fill, Fill::Zero);
    assert!(t.space.frame_of(VirtAddr(at(17))).is_some());
}

#[test]
fn madvise_records_hints_splitting_and_merging_like_linux() {
    let mut t = T::new();
    t.map(16, 4, RW, FIXED_ANON).unwrap();
    assert_eq!(t.rax(nr::MADVISE, &[at(17), PAGE, madv::RANDOM]), Ok(0));
    assert_eq!(t.space.vmas().len(), 3);
    assert!(t.space.vmas().find(at(17)).unwrap().hints.contains(Hints::RANDOM));
    assert_eq!(t.rax(nr::MADVISE, &[at(16), 4 * PAGE, madv::SEQUENTIAL]), Ok(0));
    assert_eq!(t.space.vmas().len(), 1);
    assert_eq!(t.space.vmas().find(at(16)).unwrap().hints, Hints::SEQUENTIAL);
    assert_eq!(t.rax(nr::MADVISE, &[at(16), 4 * PAGE, madv::NORMAL]), Ok(0));
    assert_eq!(t.space.vmas().find(at(16)).unwrap().hints, Hints::default());
}

#[test]
fn madvise_errnos() {
    let mut t = T::new();
    t.map(16, 4, RW, FIXED_ANON).unwrap();
    assert_eq!(
        t.rax(nr::MADVISE, &[at(16), PAGE, 7]),
        Err(Errno::Inval),
        "unknown advice"
    );
    assert_eq!(t.rax(nr::MADVISE, &[at(16), 0, 999]), Err(Errno::Inval), "advice first");
    assert_eq!(t.rax(nr::MADVISE, &[at(16), 0, madv::NORMAL]), Ok(0));
    assert_eq!(t.rax(nr::MADVISE, &[at(16) + 1, PAGE, madv::NORMAL]), Err(Errno::Inval));
    assert_eq!(t.rax(nr::MADVISE, &[at(16), u64::MAX, madv::NORMAL]), Err(Errno::Inval));
    assert_eq!(
        t.rax(nr::MADVISE, &[!(PAGE - 1), 2 * PAGE, madv::NORMAL]),
        Err(Errno::Inval)
    );
    assert_eq!(t.rax(nr::MADVISE, &[at(16), PAGE, madv::HWPOISON]), Err(Errno::Inval));
    assert_eq!(
        t.rax(nr::MADVISE, &[at(16), PAGE, madv::GUARD_INSTALL]),
        Err(Errno::Inval)
    );
    assert_eq!(t.rax(nr::MADVISE, &[at(16), PAGE, madv::REMOVE]), Err(Errno::Inval));
    assert_eq!(t.rax(nr::MADVISE, &[at(16), PAGE, madv::WILLNEED]), Ok(0));
    // A hole: ENOMEM, the mapped part advised anyway.
    assert_eq!(t.rax(nr::MADVISE, &[at(14), 4 * PAGE, madv::RANDOM]), Err(Errno::NoMem));
    assert!(t.space.vmas().find(at(16)).unwrap().hints.contains(Hints::RANDOM));
    // Locked pages refuse DONTNEED and FREE, not DONTNEED_LOCKED.
    t.rax(nr::MLOCK, &[at(19), PAGE]).unwrap();
    assert_eq!(t.rax(nr::MADVISE, &[at(19), PAGE, madv::DONTNEED]), Err(Errno::Inval));
    assert_eq!(t.rax(nr::MADVISE, &[at(19), PAGE, madv::FREE]), Err(Errno::Inval));
    assert_eq!(t.rax(nr::MADVISE, &[at(19), PAGE, madv::DONTNEED_LOCKED]), Ok(0));
    // WIPEONFORK and FREE want private anonymous memory.
    t.map(40, 1, RW, map::SHARED | map::ANONYMOUS | map::FIXED).unwrap();
    assert_eq!(t.rax(nr::MADVISE, &[at(40), PAGE, madv::WIPEONFORK]), Err(Errno::Inval));
    assert_eq!(t.rax(nr::MADVISE, &[at(40), PAGE, madv::FREE]), Err(Errno::Inval));
}

#[test]
fn madvise_populate_checks_access() {
    let mut t = T::new();
    t.map(16, 2, prot::READ, FIXED_ANON).unwrap();
    assert_eq!(
        t.rax(nr::MADVISE, &[at(16), PAGE, madv::POPULATE_WRITE]),
        Err(Errno::Inval)
    );
    let o = t.call(nr::MADVISE, &[at(16), PAGE, madv::POPULATE_READ]);
    assert_eq!((o.rax, o.effects.populate.len()), (0, 1));
    assert_eq!(
        t.rax(nr::MADVISE, &[at(30), PAGE, madv::POPULATE_READ]),
        Err(Errno::NoMem)
    );
}

// ---- mincore ----

#[test]
fn mincore_returns_residency_bytes_for_the_caller() {
    let mut t = T::new();
    t.map(16, 4, RW, FIXED_ANON).unwrap();
    assert!(t.touch(17, Access::Write));
    let o = t.call(nr::MINCORE, &[at(16), 3 * PAGE + 1, at(18)]);
    assert_eq!(o.rax, 0);
    assert_eq!(
        o.effects.copy_out,
        [crate::effects::CopyOut {
            addr: VirtAddr(at(18)),
            bytes: vec![0, 1, 0, 0]
        }]
    );
}

#[test]
fn mincore_errnos() {
    let mut t = T::new();
    t.map(16, 4, RW, FIXED_ANON).unwrap();
    t.map(30, 1, prot::READ, FIXED_ANON).unwrap();
    assert_eq!(t.rax(nr::MINCORE, &[at(16) + 1, PAGE, at(16)]), Err(Errno::Inval));
    assert_eq!(t.rax(nr::MINCORE, &[at(14), 4 * PAGE, at(16)]), Err(Errno::NoMem));
    assert_eq!(t.rax(nr::MINCORE, &[TASK_SIZE_47, PAGE, at(16)]), Err(Errno::NoMem));
    assert_eq!(t.rax(nr::MINCORE, &[at(16), PAGE, at(100)]), Err(Errno::Fault));
    assert_eq!(
        t.rax(nr::MINCORE, &[at(16), PAGE, at(30)]),
        Err(Errno::Fault),
        "read-only vector"
    );
    assert_eq!(
        t.rax(nr::MINCORE, &[at(16), PAGE, TASK_SIZE_47 - 1 + PAGE]),
        Err(Errno::Fault)
    );
    assert_eq!(t.rax(nr::MINCORE, &[at(16), 0, 0]), Ok(0));
}

/// With 5-level paging access_ok's bound is 2^56: mincore of a mapping
/// above 2^47 works, and past 2^56 it is ENOMEM.
#[test]
fn mincore_above_47_bits_with_la57() {
    let mut settings = Settings::default();
    settings.set("la57", "1").unwrap();
    let mut t = T::new();
    t.space = AddressSpace::new(&settings, Rlimits::default(), 0x7f00_0000_0000);
    let high = 1 << 48;
    let vec = t.map(16, 1, RW, FIXED_ANON).unwrap();
    assert_eq!(t.rax(nr::MMAP, &[high, PAGE, RW, FIXED_ANON, u64::MAX, 0]), Ok(high));
    assert_eq!(t.rax(nr::MINCORE, &[high, PAGE, vec]), Ok(0));
    assert_eq!(t.rax(nr::MINCORE, &[TASK_SIZE_56, PAGE, vec]), Err(Errno::NoMem));
}

// ---- msync ----

#[test]
fn msync_errnos() {
    let mut t = T::new();
    t.map(16, 4, RW, FIXED_ANON).unwrap();
    assert_eq!(t.rax(nr::MSYNC, &[at(16), PAGE, ms::SYNC]), Ok(0));
    assert_eq!(
        t.rax(nr::MSYNC, &[at(16), PAGE, ms::SYNC | ms::ASYNC]),
        Err(Errno::Inval)
    );
    assert_eq!(t.rax(nr::MSYNC, &[at(16), PAGE, 8]), Err(Errno::Inval));
    assert_eq!(t.rax(nr::MSYNC, &[at(16) + 1, PAGE, ms::SYNC]), Err(Errno::Inval));
    assert_eq!(t.rax(nr::MSYNC, &[at(14), 4 * PAGE, ms::SYNC]), Err(Errno::NoMem));
    assert_eq!(t.rax(nr::MSYNC, &[at(16), 0, ms::SYNC]), Ok(0));
    assert_eq!(
        t.rax(nr::MSYNC, &[at(16), u64::MAX, ms::ASYNC]),
        Ok(0),
        "the length wraps to 0"
    );
    t.rax(nr::MLOCK, &[at(16), PAGE]).unwrap();
    assert_eq!(t.rax(nr::MSYNC, &[at(14), 4 * PAGE, ms::INVALIDATE]), Err(Errno::Busy));
}

// ---- mlock ----

#[test]
fn mlock_locks_populates_and_counts_against_memlock() {
    let mut t = T::new();
    t.map(16, 8, RW, FIXED_ANON).unwrap();
    let o = t.call(nr::MLOCK, &[at(16) + 100, 2 * PAGE]);
    assert_eq!(o.rax, 0);
    assert_eq!(o.effects.populate[0].end, VirtAddr(at(19)), "widened to pages");
    assert_eq!(t.space.locked_vm(), 3 * PAGE);
    assert!(
        t.call(nr::MLOCK2, &[at(19), PAGE, mcl::MLOCK_ONFAULT])
            .effects
            .populate
            .is_empty()
    );
    assert_eq!(t.space.vmas().find(at(19)).unwrap().lock, Lock::OnFault);
    assert_eq!(t.rax(nr::MLOCK2, &[at(19), PAGE, 2]), Err(Errno::Inval));
    assert_eq!(
        t.rax(nr::MLOCK, &[at(14), 4 * PAGE]),
        Err(Errno::NoMem),
        "starts in a hole"
    );
    assert_eq!(t.rax(nr::MLOCK, &[at(20), 8 * PAGE]), Err(Errno::NoMem), "hole after");
    assert_eq!(
        t.space.vmas().find(at(23)).unwrap().lock,
        Lock::Locked,
        "locked up to the hole"
    );
    assert_eq!(t.rax(nr::MLOCK, &[at(16), u64::MAX]), Ok(0), "the length wraps to 0");
    assert_eq!(
        t.rax(nr::MLOCK, &[at(16), 1 << 40]),
        Err(Errno::NoMem),
        "over the limit"
    );
    assert_eq!(
        t.rax(nr::MUNLOCK, &[at(16), u64::MAX - 2 * PAGE]),
        Err(Errno::Inval),
        "wraps"
    );
    assert_eq!(t.rax(nr::MUNLOCK, &[at(16), 8 * PAGE]), Ok(0));
    assert_eq!(t.space.locked_vm(), 0);
    t.map(100, 2304, RW, FIXED_ANON).unwrap();
    assert_eq!(t.rax(nr::MLOCK, &[at(100), 9 << 20]), Err(Errno::NoMem));
    t.caller.privileges.ipc_lock = true;
    assert_eq!(t.rax(nr::MLOCK, &[at(100), 9 << 20]), Ok(0));
}

#[test]
fn mlock_without_memlock_is_eperm_and_munlock_is_not() {
    let mut rlimits = Rlimits::default();
    rlimits.memlock = Limit { soft: 0, hard: 0 };
    let mut t = T::with(rlimits);
    t.map(16, 1, RW, FIXED_ANON).unwrap();
    assert_eq!(t.rax(nr::MLOCK, &[at(16), PAGE]), Err(Errno::Perm));
    assert_eq!(t.rax(nr::MLOCKALL, &[mcl::FUTURE]), Err(Errno::Perm));
    assert_eq!(t.rax(nr::MUNLOCK, &[at(16), PAGE]), Ok(0));
}

#[test]
fn mlockall_flags_future_and_current() {
    let mut t = T::new();
    for bad in [0, mcl::ONFAULT, 8] {
        assert_eq!(t.rax(nr::MLOCKALL, &[bad]), Err(Errno::Inval));
    }
    assert_eq!(t.rax(nr::MLOCKALL, &[mcl::FUTURE]), Ok(0));
    let o = t.call(nr::MMAP, &[at(16), PAGE, RW, FIXED_ANON, 0, 0]);
    assert_eq!(o.effects.populate.len(), 1);
    assert_eq!(t.map(100, 2304, RW, FIXED_ANON), Err(Errno::Again));
    assert_eq!(t.rax(nr::MUNLOCKALL, &[]), Ok(0));
    assert_eq!(t.space.locked_vm(), 0);
    t.map(100, 2304, RW, FIXED_ANON).unwrap();
    assert_eq!(t.rax(nr::MLOCKALL, &[mcl::CURRENT]), Err(Errno::NoMem), "9 MiB mapped");
    t.caller.privileges.ipc_lock = true;
    let o = t.call(nr::MLOCKALL, &[mcl::CURRENT]);
    assert_eq!((o.rax, o.effects.populate.len()), (0, 2));
}

// ---- resource limits ----

fn put_limit(t: &mut T, addr: u64, soft: u64, hard: u64) {
    for (i, b) in soft.to_le_bytes().into_iter().chain(hard.to_le_bytes()).enumerate() {
        t.user.0.insert(addr + i as u64, b);
    }
}

#[test]
fn rlimit_calls_read_and_write_the_caller_s_structs() {
    let mut t = T::new();
    t.map(16, 1, RW, FIXED_ANON).unwrap();
    put_limit(&mut t, at(16), 1 << 20, 2 << 20);
    assert_eq!(t.rax(nr::SETRLIMIT, &[3, at(16)]), Ok(0));
    let o = t.call(nr::GETRLIMIT, &[3, at(16) + 16]);
    let mut want = (1u64 << 20).to_le_bytes().to_vec();
    want.extend((2u64 << 20).to_le_bytes());
    assert_eq!(o.effects.copy_out[0].bytes, want);
    put_limit(&mut t, at(16), 2 << 20, 2 << 20);
    let o = t.call(nr::PRLIMIT64, &[0, 3, at(16), at(16) + 16]);
    assert_eq!((o.rax, &o.effects.copy_out[0].bytes), (0, &want), "the old limit");
    assert_eq!(t.space.rlimits.stack.soft, 2 << 20);
}

#[test]
fn rlimit_errnos() {
    let mut t = T::new();
    t.map(16, 1, RW, FIXED_ANON).unwrap();
    t.map(20, 1, prot::READ, FIXED_ANON).unwrap();
    put_limit(&mut t, at(16), 3 << 20, 2 << 20);
    assert_eq!(t.rax(nr::SETRLIMIT, &[3, at(16)]), Err(Errno::Inval), "soft > hard");
    put_limit(&mut t, at(16), 1, u64::MAX);
    t.space.rlimits.stack.hard = 1 << 30;
    assert_eq!(t.rax(nr::SETRLIMIT, &[3, at(16)]), Err(Errno::Perm), "raising hard");
    t.caller.privileges.sys_resource = true;
    assert_eq!(t.rax(nr::SETRLIMIT, &[3, at(16)]), Ok(0));
    assert_eq!(t.rax(nr::GETRLIMIT, &[16, at(16)]), Err(Errno::Inval));
    assert_eq!(t.rax(nr::SETRLIMIT, &[16, at(16)]), Err(Errno::Inval));
    assert_eq!(t.rax(nr::GETRLIMIT, &[3, 0]), Err(Errno::Fault));
    assert_eq!(t.rax(nr::GETRLIMIT, &[3, at(20)]), Err(Errno::Fault), "read-only");
    assert_eq!(t.rax(nr::SETRLIMIT, &[3, at(30)]), Err(Errno::Fault));
    assert_eq!(t.rax(nr::PRLIMIT64, &[0, 16, 0, 0]), Err(Errno::Inval));
    assert_eq!(t.rax(nr::PRLIMIT64, &[0, 3, 0, at(30)]), Err(Errno::Fault));
    assert_eq!(t.rax(nr::PRLIMIT64, &[77, 3, 0, 0]), Err(Errno::Srch));
    assert_eq!(t.rax(nr::GETRLIMIT, &[0x1_0000_0003, at(16)]), Ok(0), "an unsigned int");
    let copies: Vec<_> = t.call(nr::PRLIMIT64, &[0, 3, 0, 0]).effects.copy_out;
    assert!(copies.is_empty());
}
