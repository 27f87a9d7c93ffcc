//! The streamed files against the whole-file model: byte-identical in any
//! chunk size, at any offset, resumed or walked afresh, inline or leased;
//! and a sequential read resumes instead of walking again.

use alloc::{collections::BTreeMap, string::String, vec, vec::Vec};

use libipc::{
    procfs::{
        Backing, Error, PageFlags, PageFrame, PageInfo, PidSelector, ProcFile, Reply, Request, Sharing, SpaceLayout,
        SpecialMapping, VmaInfo, VmaLabel,
    },
    types::{PAGE_SIZE, Prot, Sender, Tid, VirtAddr},
};
use proptest::prelude::*;

use super::{
    fake::{FakeSource, FakeSpace},
    fixtures::{ALICE, C_SAME, file, sample_space, sender},
};
use crate::{
    format::{VsyscallMode, maps, pagemap, rollup, smaps},
    io::MemoryLease,
    server::{Config, Server},
    source::AddressSpace,
    token::{IntegrityLevel, Token},
};

/// A server whose only process, [`C_SAME`], has `space`.
fn server_with(space: FakeSpace, vsyscall: VsyscallMode) -> Server<FakeSource> {
    let mut source = FakeSource::default();
    source.spaces.insert(C_SAME, space);
    let mut server = Server::new(source, Config { vsyscall });
    server
        .processes_mut()
        .insert(C_SAME, Token::new(ALICE, IntegrityLevel::Medium));
    server
}

/// The whole file by the model.
fn model(space: &FakeSpace, file: ProcFile, vsyscall: VsyscallMode) -> Vec<u8> {
    let model_space = AddressSpace::new(space.layout, space.vmas.clone()).expect("a valid space");
    let mut pages = space.pages.clone();
    pages.sort_by_key(|p| p.vpn);
    let text: String = match file {
        ProcFile::Maps => maps::render(&model_space, vsyscall),
        ProcFile::Smaps => smaps::render(&model_space, &pages, vsyscall),
        _ => rollup::render(&model_space, &pages),
    };
    text.into_bytes()
}

/// Reads `file` by `reader` from `offset` to the end in `chunk`-byte reads.
fn read_from(server: &mut Server<FakeSource>, reader: Sender, file: ProcFile, offset: u64, chunk: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; chunk];
    loop {
        let n = server
            .read(reader, PidSelector::Self_, file, offset + out.len() as u64, &mut buf)
            .expect("a readable file");
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// Reads the whole of `file` through leases of `chunk` bytes.
fn read_leased(server: &mut Server<FakeSource>, file: ProcFile, chunk: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let mut lease = MemoryLease::zeroed(chunk);
        let request = Request::ReadLeased {
            pid: PidSelector::Self_,
            file,
            offset: out.len() as u64,
            len: chunk as u64,
        };
        let Ok(Reply::Leased(n)) = server.handle_leased(sender(C_SAME), &request, &mut lease) else {
            panic!("leased read of {file:?} failed");
        };
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&lease.bytes[..n as usize]);
    }
}

const TEXT_FILES: [ProcFile; 3] = [ProcFile::Maps, ProcFile::Smaps, ProcFile::SmapsRollup];

fn vsyscall_mode() -> impl Strategy<Value = VsyscallMode> {
    prop::sample::select(vec![VsyscallMode::None, VsyscallMode::XOnly, VsyscallMode::Emulate])
}

/// One VMA's shape: gap before it and length (pages), and what it is.
fn vma_shape() -> impl Strategy<Value = (u64, u64, u8, bool, u8, bool)> {
    (0u64..4, 1u64..6, 0u8..8, any::<bool>(), 0u8..5, any::<bool>())
}

/// A valid space of up to `max` VMAs with pages in and around them.
fn space(max: usize) -> impl Strategy<Value = FakeSpace> {
    (
        prop::collection::vec(vma_shape(), 0..max),
        prop::collection::vec((0u64..400, 1u32..4, any::<u8>(), any::<bool>()), 0..80),
        0u64..400,
        0u64..400,
    )
        .prop_map(|(shapes, pages, brk, stack)| {
            const BASE: u64 = 0x10;
            let mut vmas = Vec::new();
            let mut at = BASE;
            for (gap, len, prot, shared, kind, grows_down) in shapes {
                let start = at + gap;
                at = start + len;
                let mut vma = VmaInfo {
                    start: VirtAddr(start * PAGE_SIZE),
                    end: VirtAddr(at * PAGE_SIZE),
                    prot: Prot(prot),
                    sharing: if shared { Sharing::Shared } else { Sharing::Private },
                    backing: Backing::Anonymous,
                    grows_down,
                    label: VmaLabel::None,
                    accounted: !shared && Prot(prot).contains(Prot::WRITE),
                };
                match kind {
                    1 => vma.backing = file("/lib/a long\nname.so", 8, 1, start, start % 3),
                    2 => vma.label = VmaLabel::AnonName("buf".try_into().expect("fits")),
                    3 => vma.label = VmaLabel::Special(SpecialMapping::Vdso),
                    4 => vma.label = VmaLabel::Special(SpecialMapping::Vvar),
                    _ => {}
                }
                vmas.push(vma);
            }
            // Unique vpns, some outside every VMA.
            let pages: BTreeMap<u64, PageInfo> = pages
                .into_iter()
                .map(|(vpn, map_count, flags, swapped)| {
                    let vpn = BASE - 4 + vpn;
                    let frame = if swapped {
                        PageFrame::Swapped {
                            swap_type: 1,
                            swap_offset: vpn,
                        }
                    } else {
                        PageFrame::Resident { pfn: vpn }
                    };
                    let info = PageInfo {
                        vpn,
                        frame,
                        map_count,
                        flags: PageFlags(flags),
                    };
                    (vpn, info)
                })
                .collect();
            FakeSpace {
                layout: SpaceLayout {
                    start_brk: VirtAddr((BASE + 2) * PAGE_SIZE),
                    brk: VirtAddr((BASE + brk) * PAGE_SIZE + 0x10),
                    start_stack: VirtAddr((BASE + stack) * PAGE_SIZE + 0x3c0),
                    top: libipc::types::USER_END,
                },
                vmas,
                pages: pages.into_values().collect(),
                memory: BTreeMap::new(),
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn streamed_files_equal_the_model_in_any_chunk_size(
        fake in space(90),
        vsyscall in vsyscall_mode(),
        chunk in prop_oneof![1usize..8, 8usize..200, Just(384), Just(4096), Just(1 << 20)],
    ) {
        for file in TEXT_FILES {
            let expected = model(&fake, file, vsyscall);
            let mut server = server_with(fake.clone(), vsyscall);
            prop_assert_eq!(read_from(&mut server, sender(C_SAME), file, 0, chunk), expected.clone(), "{:?} in {}-byte reads", file, chunk);
            prop_assert_eq!(read_leased(&mut server, file, chunk), expected, "{:?} in {}-byte leases", file, chunk);
        }
    }

    #[test]
    fn a_read_anywhere_equals_the_model(
        fake in space(40),
        vsyscall in vsyscall_mode(),
        reads in prop::collection::vec((any::<prop::sample::Index>(), 0usize..300), 1..12),
    ) {
        let mut server = server_with(fake.clone(), vsyscall);
        for file in TEXT_FILES {
            let expected = model(&fake, file, vsyscall);
            for (at, len) in &reads {
                let offset = at.index(expected.len() + 2);
                let mut buf = vec![0u8; *len];
                let n = server.read(sender(C_SAME), PidSelector::Self_, file, offset as u64, &mut buf).unwrap();
                let end = (offset + len).min(expected.len()).max(offset);
                prop_assert_eq!(&buf[..n], expected.get(offset..end).unwrap_or(&[]));
            }
        }
    }

    #[test]
    fn interleaved_readers_each_read_the_whole_file(
        fake in space(60),
        chunks in (1usize..300, 1usize..300),
    ) {
        // Two threads of the process and another reader of the same target
        // take turns, each continuing its own sequential read.
        let mut server = server_with(fake.clone(), VsyscallMode::XOnly);
        let readers = [
            sender(C_SAME),
            Sender { pid: C_SAME, tid: Tid(C_SAME.0 * 10 + 1) },
        ];
        for file in TEXT_FILES {
            let expected = model(&fake, file, VsyscallMode::XOnly);
            let mut got = [Vec::new(), Vec::new()];
            let sizes = [chunks.0, chunks.1];
            let mut done = [false, false];
            while !(done[0] && done[1]) {
                for r in 0..2 {
                    if done[r] {
                        continue;
                    }
                    let mut buf = vec![0u8; sizes[r]];
                    let n = server.read(readers[r], PidSelector::Self_, file, got[r].len() as u64, &mut buf).unwrap();
                    done[r] = n == 0;
                    got[r].extend_from_slice(&buf[..n]);
                }
            }
            prop_assert_eq!(&got[0], &expected);
            prop_assert_eq!(&got[1], &expected);
        }
    }

    #[test]
    fn pagemap_equals_a_page_by_page_model(
        fake in space(40),
        start in 0u64..0x20,
        count in 0usize..600,
        leased in any::<bool>(),
    ) {
        let mut server = server_with(fake.clone(), VsyscallMode::None);
        let offset = (0x10 - 4 + start) * 8;
        let len = count * 8;
        let bytes = if leased {
            let mut lease = MemoryLease::zeroed(len);
            let request = Request::ReadLeased { pid: PidSelector::Self_, file: ProcFile::Pagemap, offset, len: len as u64 };
            let Ok(Reply::Leased(n)) = server.handle_leased(sender(C_SAME), &request, &mut lease) else {
                panic!("leased pagemap read failed");
            };
            lease.bytes.truncate(n as usize);
            lease.bytes
        } else {
            let mut buf = vec![0u8; len];
            let n = server.read(sender(C_SAME), PidSelector::Self_, ProcFile::Pagemap, offset, &mut buf).unwrap();
            buf.truncate(n);
            buf
        };
        prop_assert_eq!(bytes.len(), len);
        for (i, entry) in bytes.as_chunks::<8>().0.iter().enumerate() {
            let vpn = offset / 8 + i as u64;
            let addr = VirtAddr(vpn * PAGE_SIZE);
            let mapped = fake.vmas.iter().any(|v| v.start <= addr && addr < v.end);
            let expected = match fake.pages.iter().find(|p| p.vpn == vpn) {
                Some(page) if mapped => pagemap::entry(page, false),
                _ => 0,
            };
            prop_assert_eq!(u64::from_le_bytes(*entry), expected, "vpn {:#x}", vpn);
        }
    }
}

/// A space of `n` one-page VMAs with gaps, every other one with a page.
fn many_vmas(n: u64) -> FakeSpace {
    let mut space = sample_space();
    space.vmas = (0..n)
        .map(|i| {
            super::fixtures::vma(
                (0x100 + 2 * i) * PAGE_SIZE,
                (0x101 + 2 * i) * PAGE_SIZE,
                Prot::RW,
                Sharing::Private,
            )
        })
        .collect();
    space.pages = (0..n)
        .step_by(2)
        .map(|i| PageInfo {
            vpn: 0x100 + 2 * i,
            frame: PageFrame::Resident { pfn: i },
            map_count: 1,
            flags: PageFlags::ANONYMOUS,
        })
        .collect();
    space
}

#[test]
fn a_sequential_read_resumes_instead_of_walking_again() {
    const VMAS: u64 = 2000;
    const CHUNK: usize = 100;
    for file in [ProcFile::Maps, ProcFile::Smaps] {
        let fake = many_vmas(VMAS);
        let expected = model(&fake, file, VsyscallMode::None);
        let mut server = server_with(fake, VsyscallMode::None);
        let got = read_from(&mut server, sender(C_SAME), file, 0, CHUNK);
        assert_eq!(got, expected);
        let reads = expected.len().div_ceil(CHUNK) as u64 + 1;
        // Each read: the layout, the batch it resumes in, perhaps the next,
        // and for smaps the page batches of the VMAs it prints. Walking
        // from the start each time would be thousands of calls per read.
        let vmas_printed = VMAS;
        let budget = reads * 3
            + VMAS / 64
            + if file == ProcFile::Smaps {
                vmas_printed + reads
            } else {
                0
            };
        let calls = server.source_mut().calls as u64;
        assert!(
            calls <= budget,
            "{file:?}: {calls} calls to the source, budget {budget}"
        );
    }
}

#[test]
fn a_read_elsewhere_after_a_sequential_one_is_still_right() {
    let fake = many_vmas(300);
    let expected = model(&fake, ProcFile::Maps, VsyscallMode::None);
    let mut server = server_with(fake, VsyscallMode::None);
    let mut buf = [0u8; 500];
    let me = sender(C_SAME);
    let n = server
        .read(me, PidSelector::Self_, ProcFile::Maps, 0, &mut buf)
        .unwrap();
    assert_eq!(&buf[..n], &expected[..500]);
    // Back, forward and at the same offset again (the cursor has moved on).
    for offset in [10usize, 5000, 500, 500, expected.len() - 3] {
        let n = server
            .read(me, PidSelector::Self_, ProcFile::Maps, offset as u64, &mut buf)
            .unwrap();
        assert_eq!(
            &buf[..n],
            &expected[offset..(offset + 500).min(expected.len())],
            "at {offset}"
        );
    }
}

#[test]
fn a_space_that_changes_between_reads_gives_the_new_vmas_from_the_cursor_on() {
    // As in Linux: a resumed read finds the next VMA by address as the
    // space is now; what was already returned stays as it was.
    let fake = many_vmas(50);
    let expected = model(&fake, ProcFile::Maps, VsyscallMode::None);
    let lines: Vec<&[u8]> = expected.split_inclusive(|&b| b == b'\n').collect();
    let five: usize = lines[..5].iter().map(|l| l.len()).sum();
    let mut server = server_with(fake, VsyscallMode::None);
    let me = sender(C_SAME);
    let mut first = vec![0u8; five];
    assert_eq!(
        server.read(me, PidSelector::Self_, ProcFile::Maps, 0, &mut first),
        Ok(five)
    );
    // Unmap everything after the sixth VMA, then continue.
    server.source_mut().spaces.get_mut(&C_SAME).unwrap().vmas.truncate(6);
    assert_eq!(read_from(&mut server, me, ProcFile::Maps, five as u64, 64), lines[5]);
}

#[test]
fn a_failed_read_forgets_the_cursor() {
    let fake = many_vmas(100);
    let expected = model(&fake, ProcFile::Maps, VsyscallMode::None);
    let mut server = server_with(fake, VsyscallMode::None);
    let me = sender(C_SAME);
    let mut buf = [0u8; 100];
    assert_eq!(
        server.read(me, PidSelector::Self_, ProcFile::Maps, 0, &mut buf),
        Ok(100)
    );
    server.source_mut().fail = Some(libipc::procfs::SourceError::Unavailable);
    assert_eq!(
        server.read(me, PidSelector::Self_, ProcFile::Maps, 100, &mut buf),
        Err(Error::Unavailable)
    );
    server.source_mut().fail = None;
    assert_eq!(
        server.read(me, PidSelector::Self_, ProcFile::Maps, 100, &mut buf),
        Ok(100)
    );
    assert_eq!(&buf[..], &expected[100..200]);
    // A leased read into a lease too small fails, and forgets too.
    let mut small = MemoryLease::zeroed(10);
    let request = Request::ReadLeased {
        pid: PidSelector::Self_,
        file: ProcFile::Maps,
        offset: 200,
        len: 100,
    };
    assert_eq!(
        server.handle_leased(me, &request, &mut small),
        Err(Error::InvalidArgument)
    );
    assert_eq!(
        server.read(me, PidSelector::Self_, ProcFile::Maps, 300, &mut buf),
        Ok(100)
    );
    assert_eq!(&buf[..], &expected[300..400]);
}

#[test]
fn a_cursor_is_no_way_around_the_access_check() {
    // Bob cannot continue a read of Alice's maps, whatever offset he names.
    let mut server = super::fixtures::world();
    let alice = sender(C_SAME);
    let target = PidSelector::Pid(super::fixtures::P_ALICE);
    let mut buf = [0u8; 64];
    assert_eq!(server.read(alice, target, ProcFile::Smaps, 0, &mut buf), Ok(64));
    let bob = sender(super::fixtures::C_OTHER);
    assert_eq!(
        server.read(bob, target, ProcFile::Smaps, 64, &mut buf),
        Err(Error::AccessDenied)
    );
}
