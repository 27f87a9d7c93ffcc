//! Properties of the whole request path: nothing a program sends, and
//! nothing the pager answers, panics the server core.

use alloc::vec::Vec;

use libipc::{
    MAX_MESSAGE,
    codec::decode,
    procfs::{
        Backing, PageFlags, PageFrame, PageInfo, PidSelector, ProcFile, Request, Response, Sharing, SpaceLayout,
        VmaInfo, VmaLabel,
    },
    types::{Pid, Prot, Sender, Tid, VirtAddr},
};
use proptest::prelude::*;

use super::fixtures::*;
use crate::{
    format::{VsyscallMode, maps, rollup, smaps},
    source::AddressSpace,
};

fn selector() -> impl Strategy<Value = PidSelector> {
    prop_oneof![
        Just(PidSelector::Self_),
        (0u32..30).prop_map(|p| PidSelector::Pid(Pid(p))),
        any::<u32>().prop_map(|p| PidSelector::Pid(Pid(p))),
    ]
}

fn file() -> impl Strategy<Value = ProcFile> {
    prop::sample::select(ProcFile::ALL.to_vec())
}

/// Offsets near interesting places as well as anywhere.
fn offset() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        (0u64..0x2000).prop_map(|d| HEAP - 0x1000 + d),
        (0u64..0x100).prop_map(|d| HEAP / 4096 * 8 + d),
        (0u64..0x100).prop_map(|d| (1u64 << 63) - 0x80 + d),
        (0u64..4096),
    ]
}

fn request() -> impl Strategy<Value = Request> {
    prop_oneof![
        (selector(), file(), offset(), prop_oneof![0u64..600, any::<u64>()])
            .prop_map(|(pid, file, offset, len)| Request::Read { pid, file, offset, len }),
        (selector(), file(), offset(), prop::collection::vec(any::<u8>(), 0..64)).prop_map(
            |(pid, file, offset, data)| Request::Write {
                pid,
                file,
                offset,
                data: heapless::Vec::from_slice(&data).unwrap_or_default(),
            }
        ),
    ]
}

fn sender_strategy() -> impl Strategy<Value = Sender> {
    prop_oneof![
        prop::sample::select(vec![C_SAME, C_OTHER, C_ADMIN, C_TCB, C_LOW, C_IMP]).prop_map(sender),
        (any::<u32>(), any::<u32>()).prop_map(|(p, t)| Sender {
            pid: Pid(p),
            tid: Tid(t)
        }),
    ]
}

fn page() -> impl Strategy<Value = PageInfo> {
    (
        0u64..0x40,
        prop_oneof![
            any::<u64>().prop_map(|pfn| PageFrame::Resident { pfn }),
            (any::<u8>(), any::<u64>()).prop_map(|(t, o)| PageFrame::Swapped {
                swap_type: t,
                swap_offset: o
            }),
        ],
        any::<u32>(),
        any::<u8>(),
    )
        .prop_map(|(vpn, frame, map_count, flags)| PageInfo {
            vpn,
            frame,
            map_count,
            flags: PageFlags(flags),
        })
}

fn arbitrary_vma() -> impl Strategy<Value = VmaInfo> {
    (
        0u64..0x40,
        0u64..0x40,
        any::<u8>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(a, b, prot, shared, file, grows_down)| VmaInfo {
            start: VirtAddr(a * 4096),
            end: VirtAddr(b * 4096),
            prot: Prot(prot),
            sharing: if shared { Sharing::Shared } else { Sharing::Private },
            backing: if file {
                super::fixtures::file("/f", 1, 2, 3, a)
            } else {
                Backing::Anonymous
            },
            grows_down,
            label: VmaLabel::None,
            accounted: !shared && Prot(prot).contains(Prot::WRITE),
        })
}

proptest! {
    #[test]
    fn arbitrary_requests_never_panic(from in sender_strategy(), req in request()) {
        let mut server = world();
        let response = server.handle(from, &req);
        // Every response fits in a message.
        let mut buf = [0u8; MAX_MESSAGE];
        prop_assert!(libipc::codec::encode(&response, &mut buf).is_ok());
    }

    #[test]
    fn arbitrary_bytes_never_panic(from in sender_strategy(), bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let mut server = world();
        let mut reply = [0u8; MAX_MESSAGE];
        let n = server.handle_message(from, &bytes, &mut reply).unwrap();
        prop_assert!(decode::<Response>(&reply[..n]).is_ok());
    }

    #[test]
    fn arbitrary_buffers_never_panic(
        from in sender_strategy(),
        target in selector(),
        file in file(),
        offset in offset(),
        len in 0usize..5000,
    ) {
        let mut server = world();
        let mut buf = vec![0u8; len];
        if let Ok(n) = server.read(from, target, file, offset, &mut buf) {
            prop_assert!(n <= len);
        }
        let _ = server.write(from, target, file, offset, &buf);
    }

    #[test]
    fn arbitrary_pager_answers_never_panic(
        vmas in prop::collection::vec(arbitrary_vma(), 0..6),
        pages in prop::collection::vec(page(), 0..20),
        brk in 0u64..0x40000,
    ) {
        let layout = SpaceLayout { start_brk: VirtAddr(0x1000), brk: VirtAddr(brk), start_stack: VirtAddr(brk), top: libipc::types::USER_END };
        if let Ok(space) = AddressSpace::new(layout, vmas) {
            let mut sorted: Vec<PageInfo> = pages;
            sorted.sort_by_key(|p| p.vpn);
            sorted.dedup_by_key(|p| p.vpn);
            let text = maps::render(&space, VsyscallMode::Emulate);
            prop_assert_eq!(text.lines().count(), space.vmas().len() + 1);
            let _ = smaps::render(&space, &sorted, VsyscallMode::XOnly);
            let _ = rollup::render(&space, &sorted);
        }
    }
}
