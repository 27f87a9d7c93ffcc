//! A sample address space with every kind of VMA, and a small world of
//! users and processes for the access tests.

use alloc::{collections::BTreeMap, vec, vec::Vec};

use libipc::{
    procfs::{
        Backing, FileRef, PageFlags, PageFrame, PageInfo, Sharing, SpaceLayout, SpecialMapping, VmaInfo, VmaLabel,
    },
    types::{PAGE_SIZE, Pid, Prot, Sender, Tid, VirtAddr},
};

use super::fake::{FakeSource, FakeSpace};
use crate::{
    access::AccessMask,
    descriptor::{Ace, SecurityDescriptor},
    server::{Config, Server},
    sid::Sid,
    token::{IntegrityLevel, Privileges, Token},
};

pub const TEXT_RO: u64 = 0x5555_5555_4000;
pub const TEXT_RX: u64 = 0x5555_5555_5000;
pub const HEAP: u64 = 0x5555_5555_9000;
pub const HEAP_END: u64 = 0x5555_5557_a000;
pub const ANON: u64 = 0x7fff_f7d8_0000;
pub const SHM: u64 = 0x7fff_f7fb_0000;
pub const RO_SHARED: u64 = 0x7fff_f7fb_1000;
pub const NAMED: u64 = 0x7fff_f7fb_2000;
pub const SHARED_ANON: u64 = 0x7fff_f7fb_3000;
pub const VVAR: u64 = 0x7fff_f7fc_1000;
pub const VDSO: u64 = 0x7fff_f7fc_5000;
pub const STACK: u64 = 0x7fff_fffd_e000;
pub const STACK_END: u64 = 0x7fff_ffff_f000;

/// What the heap's first page holds.
pub const HEAP_BYTES: &[u8] = b"hello heap";

pub fn vma(start: u64, end: u64, prot: Prot, sharing: Sharing) -> VmaInfo {
    VmaInfo {
        start: VirtAddr(start),
        end: VirtAddr(end),
        prot,
        sharing,
        backing: Backing::Anonymous,
        grows_down: false,
        label: VmaLabel::None,
        accounted: sharing == Sharing::Private && prot.contains(Prot::WRITE),
    }
}

pub fn file(path: &str, major: u32, minor: u32, inode: u64, page_offset: u64) -> Backing {
    Backing::File(FileRef {
        path: path.try_into().expect("test path fits"),
        dev_major: major,
        dev_minor: minor,
        inode,
        page_offset,
    })
}

pub fn layout() -> SpaceLayout {
    SpaceLayout {
        start_brk: VirtAddr(HEAP),
        // Unaligned, as Linux stores it; the VMA ends at the page above.
        brk: VirtAddr(HEAP_END - 0x10),
        start_stack: VirtAddr(0x7fff_ffff_e3c0),
        top: libipc::types::USER_END,
    }
}

pub fn vmas() -> Vec<VmaInfo> {
    let mut text_ro = vma(TEXT_RO, TEXT_RX, Prot::READ, Sharing::Private);
    text_ro.backing = file("/usr/bin/demo", 8, 1, 1_048_602, 0);
    let mut text_rx = vma(TEXT_RX, TEXT_RX + PAGE_SIZE, Prot::RX, Sharing::Private);
    text_rx.backing = file("/usr/bin/demo", 8, 1, 1_048_602, 1);
    let heap = vma(HEAP, HEAP_END, Prot::RW, Sharing::Private);
    let anon = vma(ANON, ANON + 3 * PAGE_SIZE, Prot::RW, Sharing::Private);
    let mut shm = vma(SHM, SHM + PAGE_SIZE, Prot::RW, Sharing::Shared);
    shm.backing = file("/dev/shm/demo", 0, 0x1a, 12345, 0);
    let mut ro_shared = vma(RO_SHARED, RO_SHARED + PAGE_SIZE, Prot::READ, Sharing::Shared);
    ro_shared.backing = file("/var/data.bin", 8, 1, 777, 2);
    let mut named = vma(NAMED, NAMED + PAGE_SIZE, Prot::RW, Sharing::Private);
    named.label = VmaLabel::AnonName("arena".try_into().expect("fits"));
    let shared_anon = vma(SHARED_ANON, SHARED_ANON + PAGE_SIZE, Prot::RW, Sharing::Shared);
    let mut vvar = vma(VVAR, VVAR + 4 * PAGE_SIZE, Prot::READ, Sharing::Private);
    vvar.label = VmaLabel::Special(SpecialMapping::Vvar);
    let mut vdso = vma(VDSO, VDSO + 2 * PAGE_SIZE, Prot::RX, Sharing::Private);
    vdso.label = VmaLabel::Special(SpecialMapping::Vdso);
    let mut stack = vma(STACK, STACK_END, Prot::RW, Sharing::Private);
    stack.grows_down = true;
    vec![
        text_ro,
        text_rx,
        heap,
        anon,
        shm,
        ro_shared,
        named,
        shared_anon,
        vvar,
        vdso,
        stack,
    ]
}

fn page(addr: u64, frame: PageFrame, map_count: u32, flags: &[PageFlags]) -> PageInfo {
    let flags = flags.iter().fold(PageFlags::default(), |acc, f| acc.union(*f));
    PageInfo {
        vpn: addr / PAGE_SIZE,
        frame,
        map_count,
        flags,
    }
}

use PageFlags as F;

pub const HEAP_PFN: u64 = 0x1234;

pub fn pages() -> Vec<PageInfo> {
    vec![
        // Program text shared with two other processes.
        page(TEXT_RX, PageFrame::Resident { pfn: 0x2000 }, 3, &[F::REFERENCED]),
        // A written heap page, and a read one.
        page(
            HEAP,
            PageFrame::Resident { pfn: HEAP_PFN },
            1,
            &[F::DIRTY, F::REFERENCED, F::ANONYMOUS, F::EXCLUSIVE],
        ),
        page(
            HEAP + PAGE_SIZE,
            PageFrame::Resident { pfn: 0x1235 },
            1,
            &[F::REFERENCED, F::ANONYMOUS, F::EXCLUSIVE],
        ),
        // A swapped-out anonymous page.
        page(
            ANON,
            PageFrame::Swapped {
                swap_type: 1,
                swap_offset: 0x42,
            },
            1,
            &[F::ANONYMOUS, F::EXCLUSIVE],
        ),
        // A shared file page mapped twice, written.
        page(SHM, PageFrame::Resident { pfn: 0x3000 }, 2, &[F::DIRTY, F::REFERENCED]),
        // Shared anonymous memory (shmem), written, mapped once.
        page(
            SHARED_ANON,
            PageFrame::Resident { pfn: 0x5000 },
            1,
            &[F::DIRTY, F::EXCLUSIVE],
        ),
        // The top stack page, soft-dirty.
        page(
            STACK_END - PAGE_SIZE,
            PageFrame::Resident { pfn: 0x4000 },
            1,
            &[F::DIRTY, F::REFERENCED, F::ANONYMOUS, F::EXCLUSIVE, F::SOFT_DIRTY],
        ),
    ]
}

pub fn sample_space() -> FakeSpace {
    let mut heap_page = vec![0u8; PAGE_SIZE as usize];
    heap_page[..HEAP_BYTES.len()].copy_from_slice(HEAP_BYTES);
    FakeSpace {
        layout: layout(),
        vmas: vmas(),
        pages: pages(),
        memory: BTreeMap::from([(HEAP / PAGE_SIZE, heap_page)]),
    }
}

// ---------------------------------------------------------------------------
// The world of the access tests.

pub const ALICE: Sid = Sid::user(1001);
pub const BOB: Sid = Sid::user(1002);
pub const CAROL: Sid = Sid::user(1003);
pub const SVC: Sid = Sid::user(1004);

/// Alice's process at medium integrity: the "other user's process" for
/// everyone but Alice.
pub const P_ALICE: Pid = Pid(10);
/// A system process at high integrity whose DACL lets everyone query it:
/// integrity protection must refuse lower callers anyway.
pub const P_HIGH: Pid = Pid(20);

/// Alice again, in another process: the same user as [`P_ALICE`].
pub const C_SAME: Pid = Pid(11);
/// Bob: another user.
pub const C_OTHER: Pid = Pid(12);
/// Carol, an administrator at high integrity with SeDebugPrivilege.
pub const C_ADMIN: Pid = Pid(13);
/// A service at medium integrity with SeTcbPrivilege.
pub const C_TCB: Pid = Pid(14);
/// Alice in a low-integrity sandbox.
pub const C_LOW: Pid = Pid(15);
/// Carol's server process; its thread [`T_IMP`] impersonates Bob.
pub const C_IMP: Pid = Pid(16);
pub const T_IMP: Tid = Tid(161);

pub fn sender(pid: Pid) -> Sender {
    if pid == C_IMP {
        Sender { pid, tid: T_IMP }
    } else {
        Sender {
            pid,
            tid: Tid(pid.0 * 10),
        }
    }
}

fn admin_token() -> Token {
    Token::new(CAROL, IntegrityLevel::High)
        .with_group(Sid::ADMINISTRATORS)
        .with_privileges(Privileges::DEBUG)
}

/// The server over the fake pager, every process with the sample space.
pub fn world() -> Server<FakeSource> {
    let mut source = FakeSource::default();
    let pids = [P_ALICE, P_HIGH, C_SAME, C_OTHER, C_ADMIN, C_TCB, C_LOW, C_IMP];
    for pid in pids {
        source.spaces.insert(pid, sample_space());
    }
    let mut server = Server::new(source, Config::default());
    let table = server.processes_mut();
    let medium = |sid| Token::new(sid, IntegrityLevel::Medium);
    table.insert(P_ALICE, medium(ALICE));
    let system = Token::new(Sid::LOCAL_SYSTEM, IntegrityLevel::High);
    let high_sd = SecurityDescriptor::new(
        Sid::LOCAL_SYSTEM,
        IntegrityLevel::High,
        [
            Ace::allow(Sid::LOCAL_SYSTEM, AccessMask::PROCESS_ALL_ACCESS),
            Ace::allow(Sid::EVERYONE, AccessMask::PROCESS_QUERY_LIMITED_INFORMATION),
        ],
    );
    table.insert_with_descriptor(P_HIGH, system, high_sd);
    table.insert(C_SAME, medium(ALICE));
    table.insert(C_OTHER, medium(BOB));
    table.insert(C_ADMIN, admin_token());
    table.insert(C_TCB, medium(SVC).with_privileges(Privileges::TCB));
    table.insert(C_LOW, Token::new(ALICE, IntegrityLevel::Low));
    table.insert(C_IMP, admin_token());
    table
        .impersonate(C_IMP, T_IMP, medium(BOB))
        .expect("C_IMP is registered");
    server
}
