//! Golden Linux output for every kind of VMA, read through the server.

use alloc::{string::String, vec, vec::Vec};

use libipc::{
    procfs::{PageFlags, PageFrame, PageInfo, PidSelector, ProcFile, Sharing},
    types::{PAGE_SIZE, Pid, Prot, USER_END, VirtAddr},
};

use super::{fake::FakeSpace, fixtures::*};
use crate::{
    format::{VsyscallMode, maps, pagemap, rollup, smaps},
    server::{Config, Server},
    source::AddressSpace,
};

const MAPS: &str = concat!(
    "555555554000-555555555000 r--p 00000000 08:01 1048602                    /usr/bin/demo\n",
    "555555555000-555555556000 r-xp 00001000 08:01 1048602                    /usr/bin/demo\n",
    "555555559000-55555557a000 rw-p 00000000 00:00 0                          [heap]\n",
    "7ffff7d80000-7ffff7d83000 rw-p 00000000 00:00 0 \n",
    "7ffff7fb0000-7ffff7fb1000 rw-s 00000000 00:1a 12345                      /dev/shm/demo\n",
    "7ffff7fb1000-7ffff7fb2000 r--s 00002000 08:01 777                        /var/data.bin\n",
    "7ffff7fb2000-7ffff7fb3000 rw-p 00000000 00:00 0                          [anon:arena]\n",
    "7ffff7fb3000-7ffff7fb4000 rw-s 00000000 00:00 0 \n",
    "7ffff7fc1000-7ffff7fc5000 r--p 00000000 00:00 0                          [vvar]\n",
    "7ffff7fc5000-7ffff7fc7000 r-xp 00000000 00:00 0                          [vdso]\n",
    "7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]\n",
);

/// Reads a whole file through the server in chunks, as `cat` would.
fn read_all(server: &mut Server<super::fake::FakeSource>, caller: Pid, file: ProcFile) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 100];
    loop {
        let n = server
            .read(sender(caller), PidSelector::Self_, file, out.len() as u64, &mut buf)
            .unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
}

fn text(server: &mut Server<super::fake::FakeSource>, file: ProcFile) -> String {
    String::from_utf8(read_all(server, C_SAME, file)).unwrap()
}

fn space_of(fake: &FakeSpace) -> AddressSpace {
    AddressSpace::new(fake.layout, fake.vmas.clone()).unwrap()
}

#[test]
fn maps_golden() {
    assert_eq!(text(&mut world(), ProcFile::Maps), MAPS);
}

#[test]
fn maps_lists_the_vsyscall_page_last() {
    let space = space_of(&sample_space());
    let emulate = maps::render(&space, VsyscallMode::Emulate);
    assert_eq!(
        emulate.strip_prefix(MAPS).unwrap(),
        "ffffffffff600000-ffffffffff601000 r-xp 00000000 00:00 0                  [vsyscall]\n"
    );
    let xonly = maps::render(&space, VsyscallMode::XOnly);
    // The line observed on Linux 6.18 in xonly mode.
    assert_eq!(
        xonly.strip_prefix(MAPS).unwrap(),
        "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n"
    );
    // Through the server too, and in smaps; never in smaps_rollup.
    let mut source = super::fake::FakeSource::default();
    source.spaces.insert(C_SAME, sample_space());
    let mut server = Server::new(
        source,
        Config {
            vsyscall: VsyscallMode::XOnly,
        },
    );
    server.processes_mut().insert(
        C_SAME,
        crate::token::Token::new(ALICE, crate::token::IntegrityLevel::Medium),
    );
    assert_eq!(text(&mut server, ProcFile::Maps), xonly);
    let smaps = text(&mut server, ProcFile::Smaps);
    assert!(smaps.contains("[vsyscall]\nSize:                  4 kB\n"));
    assert!(smaps.ends_with("THPeligible:           0\nVmFlags: ex \n"));
    assert!(!text(&mut server, ProcFile::SmapsRollup).contains("ffffffffff601000"));
    let emulated = smaps::render(&space, &[], VsyscallMode::Emulate);
    assert!(emulated.ends_with("VmFlags: rd ex \n"));
}

#[test]
fn observed_linux_lines() {
    // The lines in the reference, from a running Linux 6.18.
    let layout = libipc::procfs::SpaceLayout {
        start_brk: VirtAddr(0x55c2_53fd_f000),
        brk: VirtAddr(0x55c2_5400_0000),
        start_stack: VirtAddr(0x7ffc_0000_0000),
        top: libipc::types::USER_END,
    };
    let heap = vma(0x55c2_53fd_f000, 0x55c2_5400_0000, Prot::RW, Sharing::Private);
    let anon = vma(0x7f42_9b5b_b000, 0x7f42_9b5d_d000, Prot::RW, Sharing::Private);
    let mut vdso = vma(0x7f42_9b83_3000, 0x7f42_9b83_5000, Prot::RX, Sharing::Private);
    vdso.label = libipc::procfs::VmaLabel::Special(libipc::procfs::SpecialMapping::Vdso);
    let space = AddressSpace::new(layout, vec![heap, anon, vdso]).unwrap();
    assert_eq!(
        maps::render(&space, VsyscallMode::XOnly),
        concat!(
            "55c253fdf000-55c254000000 rw-p 00000000 00:00 0                          [heap]\n",
            "7f429b5bb000-7f429b5dd000 rw-p 00000000 00:00 0 \n",
            "7f429b833000-7f429b835000 r-xp 00000000 00:00 0                          [vdso]\n",
            "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n",
        )
    );
}

#[test]
fn long_prefix_gets_two_spaces() {
    let mut m = vma(0x7fff_f7dd_3000, 0x7fff_f7df_9000, Prot::RX, Sharing::Private);
    // Offset 0x123456789000 (12 digits), device 103:abcde, 20-digit inode.
    m.backing = file(
        "/lib/x86_64-linux-gnu/libc.so.6",
        0x103,
        0xabcde,
        u64::MAX,
        0x1_2345_6789,
    );
    let layout = libipc::procfs::SpaceLayout {
        start_brk: VirtAddr(0),
        brk: VirtAddr(0),
        start_stack: VirtAddr(0),
        top: libipc::types::USER_END,
    };
    let space = AddressSpace::new(layout, vec![m]).unwrap();
    let line = maps::render(&space, VsyscallMode::None);
    assert_eq!(
        line,
        "7ffff7dd3000-7ffff7df9000 r-xp 123456789000 103:abcde 18446744073709551615  \
         /lib/x86_64-linux-gnu/libc.so.6\n"
    );
    assert!(line.find("  /lib").unwrap() + 1 >= 72);
}

const HEAP_BLOCK: &str = concat!(
    "555555559000-55555557a000 rw-p 00000000 00:00 0                          [heap]\n",
    "Size:                132 kB\n",
    "KernelPageSize:        4 kB\n",
    "MMUPageSize:           4 kB\n",
    "Rss:                   8 kB\n",
    "Pss:                   8 kB\n",
    "Pss_Dirty:             4 kB\n",
    "Shared_Clean:          0 kB\n",
    "Shared_Dirty:          0 kB\n",
    "Private_Clean:         4 kB\n",
    "Private_Dirty:         4 kB\n",
    "Referenced:            8 kB\n",
    "Anonymous:             8 kB\n",
    "KSM:                   0 kB\n",
    "LazyFree:              0 kB\n",
    "AnonHugePages:         0 kB\n",
    "ShmemPmdMapped:        0 kB\n",
    "FilePmdMapped:         0 kB\n",
    "Shared_Hugetlb:        0 kB\n",
    "Private_Hugetlb:       0 kB\n",
    "Swap:                  0 kB\n",
    "SwapPss:               0 kB\n",
    "Locked:                0 kB\n",
    "THPeligible:           0\n",
    "VmFlags: rd wr mr mw me ac \n",
);

const TEXT_BLOCK: &str = concat!(
    "555555555000-555555556000 r-xp 00001000 08:01 1048602                    /usr/bin/demo\n",
    "Size:                  4 kB\n",
    "KernelPageSize:        4 kB\n",
    "MMUPageSize:           4 kB\n",
    "Rss:                   4 kB\n",
    "Pss:                   1 kB\n",
    "Pss_Dirty:             0 kB\n",
    "Shared_Clean:          4 kB\n",
    "Shared_Dirty:          0 kB\n",
    "Private_Clean:         0 kB\n",
    "Private_Dirty:         0 kB\n",
    "Referenced:            4 kB\n",
    "Anonymous:             0 kB\n",
    "KSM:                   0 kB\n",
    "LazyFree:              0 kB\n",
    "AnonHugePages:         0 kB\n",
    "ShmemPmdMapped:        0 kB\n",
    "FilePmdMapped:         0 kB\n",
    "Shared_Hugetlb:        0 kB\n",
    "Private_Hugetlb:       0 kB\n",
    "Swap:                  0 kB\n",
    "SwapPss:               0 kB\n",
    "Locked:                0 kB\n",
    "THPeligible:           0\n",
    "VmFlags: rd ex mr mw me \n",
);

/// The smaps block starting with the maps line that starts with `start`.
fn block<'a>(smaps: &'a str, start: &str) -> &'a str {
    let from = smaps.find(start).unwrap();
    let len = smaps[from..].find("VmFlags:").unwrap();
    let end = from + len + smaps[from + len..].find('\n').unwrap() + 1;
    &smaps[from..end]
}

#[test]
fn smaps_golden_blocks() {
    let smaps = text(&mut world(), ProcFile::Smaps);
    assert_eq!(block(&smaps, "555555559000-"), HEAP_BLOCK);
    assert_eq!(block(&smaps, "555555555000-"), TEXT_BLOCK);
    // Every VMA, in maps order, with the maps line verbatim.
    let headers: Vec<&str> = smaps
        .lines()
        .filter(|l| l.contains(" 00:") || l.contains(" 08:"))
        .collect();
    assert_eq!(headers, MAPS.lines().collect::<Vec<_>>());
    assert_eq!(smaps.lines().count(), 11 * 25);
}

#[test]
fn smaps_values_per_vma_kind() {
    let smaps = text(&mut world(), ProcFile::Smaps);
    let swapped = block(&smaps, "7ffff7d80000-");
    assert!(swapped.contains("Size:                 12 kB\n"));
    assert!(swapped.contains("Rss:                   0 kB\n"));
    assert!(swapped.contains("Swap:                  4 kB\nSwapPss:               4 kB\n"));
    assert!(swapped.ends_with("VmFlags: rd wr mr mw me ac \n"));
    let shm = block(&smaps, "7ffff7fb0000-");
    assert!(shm.contains("Pss:                   2 kB\nPss_Dirty:             2 kB\n"));
    assert!(shm.contains("Shared_Dirty:          4 kB\n"));
    assert!(shm.ends_with("VmFlags: rd wr sh mr mw me ms \n"));
    assert!(block(&smaps, "7ffff7fb1000-").ends_with("VmFlags: rd mr me ms \n"));
    assert!(block(&smaps, "7ffff7fb2000-").ends_with("VmFlags: rd wr mr mw me ac \n"));
    let shared_anon = block(&smaps, "7ffff7fb3000-");
    assert!(shared_anon.contains("Private_Dirty:         4 kB\n"));
    assert!(shared_anon.contains("Anonymous:             0 kB\n"));
    assert!(shared_anon.ends_with("VmFlags: rd wr sh mr mw me ms \n"));
    assert!(block(&smaps, "7ffff7fc1000-").ends_with("VmFlags: rd mr pf io de dd \n"));
    assert!(block(&smaps, "7ffff7fc5000-").ends_with("VmFlags: rd ex mr mw me de \n"));
    let stack = block(&smaps, "7ffffffde000-");
    assert!(stack.contains("Size:                132 kB\n"));
    assert!(stack.contains("Private_Dirty:         4 kB\n"));
    assert!(stack.ends_with("VmFlags: rd wr mr mw me gd ac \n"));
    assert!(block(&smaps, "555555554000-").ends_with("VmFlags: rd mr mw me \n"));
}

#[test]
fn pss_is_fixed_point_and_truncated() {
    // Three pages each mapped three times: 3 * (4096 << 12) / 3 in fixed
    // point is 4095 bytes, printed as 3 kB (not 4, not 0).
    let mut m = vma(0x10000, 0x13000, Prot::READ, Sharing::Private);
    m.backing = file("/lib/libshared.so", 8, 1, 99, 0);
    let pages: Vec<PageInfo> = (0x10..0x13)
        .map(|vpn| PageInfo {
            vpn,
            frame: PageFrame::Resident { pfn: vpn },
            map_count: 3,
            flags: PageFlags::default(),
        })
        .collect();
    let layout = libipc::procfs::SpaceLayout {
        start_brk: VirtAddr(0),
        brk: VirtAddr(0),
        start_stack: VirtAddr(0),
        top: libipc::types::USER_END,
    };
    let space = AddressSpace::new(layout, vec![m]).unwrap();
    let out = smaps::render(&space, &pages, VsyscallMode::None);
    assert!(
        out.contains("Rss:                  12 kB\nPss:                   3 kB\n"),
        "{out}"
    );
    assert!(out.contains("Shared_Clean:         12 kB\n"));
    let r = rollup::render(&space, &pages);
    assert!(r.contains("Pss:                   3 kB\n"));
    assert!(r.contains("Pss_File:              3 kB\n"));
}

#[test]
fn rollup_golden() {
    let expected = concat!(
        "555555554000-7ffffffff000 ---p 00000000 00:00 0                          [rollup]\n",
        "Rss:                  24 kB\n",
        "Pss:                  19 kB\n",
        "Pss_Dirty:            14 kB\n",
        "Pss_Anon:             12 kB\n",
        "Pss_File:              3 kB\n",
        "Pss_Shmem:             4 kB\n",
        "Shared_Clean:          4 kB\n",
        "Shared_Dirty:          4 kB\n",
        "Private_Clean:         4 kB\n",
        "Private_Dirty:        12 kB\n",
        "Referenced:           20 kB\n",
        "Anonymous:            12 kB\n",
        "KSM:                   0 kB\n",
        "LazyFree:              0 kB\n",
        "AnonHugePages:         0 kB\n",
        "ShmemPmdMapped:        0 kB\n",
        "FilePmdMapped:         0 kB\n",
        "Shared_Hugetlb:        0 kB\n",
        "Private_Hugetlb:       0 kB\n",
        "Swap:                  4 kB\n",
        "SwapPss:               4 kB\n",
        "Locked:                0 kB\n",
    );
    assert_eq!(text(&mut world(), ProcFile::SmapsRollup), expected);
}

#[test]
fn rollup_of_an_empty_space() {
    let mut server = world();
    let space = server.source_mut().spaces.get_mut(&C_SAME).unwrap();
    space.vmas.clear();
    space.pages.clear();
    let out = text(&mut server, ProcFile::SmapsRollup);
    let first = out.lines().next().unwrap();
    assert_eq!(
        first,
        format!("00000000-00000000 ---p 00000000 00:00 0{}[rollup]", " ".repeat(34))
    );
    assert!(out.contains("Rss:                   0 kB\nPss:                   0 kB\n"));
    assert_eq!(out.lines().count(), 1 + 22);
    assert_eq!(text(&mut server, ProcFile::Maps), "");
    assert_eq!(text(&mut server, ProcFile::Smaps), "");
}

fn pagemap_entries(caller: Pid, vpn: u64, count: usize) -> Vec<u64> {
    let mut server = world();
    let mut buf = vec![0u8; count * 8];
    let n = server
        .read(sender(caller), PidSelector::Self_, ProcFile::Pagemap, vpn * 8, &mut buf)
        .unwrap();
    assert_eq!(n, count * 8);
    buf.as_chunks::<8>().0.iter().map(|c| u64::from_le_bytes(*c)).collect()
}

fn one(caller: Pid, addr: u64) -> u64 {
    pagemap_entries(caller, addr / PAGE_SIZE, 1)[0]
}

#[test]
fn pagemap_entries_unprivileged_and_privileged() {
    // (address, unprivileged, with SeTcbPrivilege)
    let cases = [
        (HEAP, 0x8100_0000_0000_0000, 0x8100_0000_0000_1234),
        (TEXT_RX, 0xa000_0000_0000_0000, 0xa000_0000_0000_2000),
        (ANON, 0x4100_0000_0000_0000, 0x4100_0000_0000_0841),
        (SHM, 0xa000_0000_0000_0000, 0xa000_0000_0000_3000),
        (SHARED_ANON, 0xa100_0000_0000_0000, 0xa100_0000_0000_5000),
        (STACK_END - PAGE_SIZE, 0x8180_0000_0000_0000, 0x8180_0000_0000_4000),
        // Never touched, in a VMA; and a hole between VMAs.
        (HEAP + 2 * PAGE_SIZE, 0, 0),
        (HEAP_END, 0, 0),
        (0, 0, 0),
    ];
    for (addr, unprivileged, privileged) in cases {
        assert_eq!(one(C_SAME, addr), unprivileged, "{addr:#x} unprivileged");
        assert_eq!(one(C_TCB, addr), privileged, "{addr:#x} privileged");
    }
    // Bits by name for the written private anonymous page.
    let e = one(C_SAME, HEAP);
    assert_eq!(e, pagemap::PM_PRESENT | pagemap::PM_MMAP_EXCLUSIVE);
}

#[test]
fn pagemap_ranges() {
    let vpn = HEAP / PAGE_SIZE;
    assert_eq!(
        pagemap_entries(C_SAME, vpn, 3),
        [0x8100_0000_0000_0000, 0x8100_0000_0000_0000, 0]
    );
    assert_eq!(
        pagemap_entries(C_TCB, vpn - 1, 3),
        [0, 0x8100_0000_0000_1234, 0x8100_0000_0000_1235]
    );
    let mut server = world();
    let caller = sender(C_SAME);
    let mut buf = [0u8; 16];
    let read = |server: &mut Server<_>, offset: u64, buf: &mut [u8]| {
        server.read(caller, PidSelector::Self_, ProcFile::Pagemap, offset, buf)
    };
    let end = USER_END.0 / PAGE_SIZE * 8;
    // The last entry of the user range, then EOF.
    assert_eq!(read(&mut server, end - 8, &mut buf), Ok(8));
    assert_eq!(read(&mut server, end, &mut buf), Ok(0));
    assert_eq!(read(&mut server, u64::MAX - 7, &mut buf), Ok(0));
    assert_eq!(read(&mut server, 0, &mut buf[..0]), Ok(0));
}
