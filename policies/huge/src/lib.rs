//! The huge policy, as Linux's transparent huge pages with `enabled` set to
//! `always`: a fault maps the whole aligned 2 MiB page around it wherever
//! the VMA covers one (private anonymous memory, none of it resident yet,
//! not advised MADV_NOHUGEPAGE), with one kernel entry from a 2 MiB-aligned
//! frame; anywhere else, or with no 2 MiB block of the pool free, the one
//! 4 KiB page. The address space makes the 2 MiB decision from the
//! `transparent_hugepage` setting this policy turns on, so the default
//! policy's 4 KiB faults pay nothing for it.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::boxed::Box;

use pager::{
    policy::{Policy, Registration},
    settings::{HugePages, Settings},
};

#[derive(Clone, Copy, Debug, Default)]
pub struct Huge;

impl Policy for Huge {
    fn name(&self) -> &'static str {
        "huge"
    }

    /// 2 MiB pages wherever possible, unless the command line asked for
    /// them only where advised (`transparent_hugepage=madvise`).
    fn adjust_settings(&self, settings: &mut Settings) {
        if settings.huge_pages == HugePages::Never {
            settings.huge_pages = HugePages::Always;
        }
    }
}

pub const REGISTRATION: Registration = Registration {
    name: "huge",
    summary: "2 MiB pages wherever a VMA covers an aligned 2 MiB, 4 KiB otherwise (transparent huge pages)",
    new: || Box::new(Huge),
};

#[cfg(test)]
mod tests {
    use libipc::{
        pager::MapKind,
        types::{Access, HUGE_PAGE_SIZE, PAGE_SIZE, PhysAddr, Prot, VirtAddr},
    };
    use pager::{
        resident::Frame,
        rlimit::Rlimits,
        space::{AddressSpace, FaultDecision, Fill, MmapArgs},
    };

    use super::*;

    const MIB: u64 = 1 << 20;

    fn space() -> AddressSpace {
        let mut settings = Settings::default();
        Huge.adjust_settings(&mut settings);
        AddressSpace::new(&settings, Rlimits::default(), 0x7f00_0000_0000)
    }

    fn anonymous(space: &mut AddressSpace, addr: u64, len: u64) -> u64 {
        let args = MmapArgs {
            addr,
            len,
            prot: Prot::RW,
            flags: MapKind::PRIVATE.union(MapKind::ANONYMOUS).union(MapKind::FIXED),
            file: None,
        };
        space.mmap(args).unwrap().0.0
    }

    fn decide(space: &mut AddressSpace, addr: u64) -> (u64, Fill, usize) {
        match space.fault(&mut Huge, addr, Access::Write) {
            FaultDecision::Map(pages) => (pages[0].virt.0, pages[0].fill, pages.len()),
            FaultDecision::Kill(reason) => panic!("killed: {reason:?}"),
        }
    }

    #[test]
    fn turns_huge_pages_on_unless_asked_for_madvise() {
        let mut s = Settings::default();
        Huge.adjust_settings(&mut s);
        assert_eq!(s.huge_pages, HugePages::Always);
        let mut advised = Settings::default();
        advised.set("transparent_hugepage", "madvise").unwrap();
        Huge.adjust_settings(&mut advised);
        assert_eq!(advised.huge_pages, HugePages::Madvise);
        assert_eq!((REGISTRATION.new)().name(), REGISTRATION.name);
    }

    #[test]
    fn two_mib_where_the_vma_covers_it_four_kib_elsewhere() {
        let mut s = space();
        // 5 MiB from 1 MiB: [2, 4) and [4, 6) MiB are whole 2 MiB pages.
        let start = anonymous(&mut s, MIB, 5 * MIB);
        assert_eq!(start, MIB);
        assert_eq!(decide(&mut s, 2 * MIB + 0x1234), (2 * MIB, Fill::ZeroHuge, 1));
        assert_eq!(decide(&mut s, 5 * MIB), (4 * MIB, Fill::ZeroHuge, 1));
        // The head below 2 MiB is no whole 2 MiB page.
        assert_eq!(decide(&mut s, MIB + PAGE_SIZE), (MIB + PAGE_SIZE, Fill::Zero, 1));
        // Once one of its pages is resident, a region is 4 KiB for good.
        s.commit(VirtAddr(4 * MIB + PAGE_SIZE), Frame::Dirty(PhysAddr(0x9000)))
            .unwrap();
        assert_eq!(decide(&mut s, 5 * MIB), (5 * MIB, Fill::Zero, 1));
        // Recorded, a 2 MiB page is its 512 pages, mapped again as one.
        s.commit_huge(VirtAddr(2 * MIB), PhysAddr(0x4000_0000)).unwrap();
        assert_eq!(s.resident(2 * MIB, HUGE_PAGE_SIZE), 512);
        assert_eq!(s.huge_pages(0, 8 * MIB), 1);
        assert_eq!(
            decide(&mut s, 3 * MIB).1,
            Fill::Resident(Frame::Dirty(PhysAddr(0x4000_0000 + MIB)))
        );
    }
}
