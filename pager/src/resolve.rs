//! Carrying out a fault decision: frames for the pages, their content, the
//! address space's record of them, and the mapping. One function for the
//! server on the kernel and for the host mode and replay, so a trace
//! recorded under a policy replays on the host with the same decisions.
//!
//! What differs between the two is behind [`FaultBackend`]: where frames
//! come from, how a frame is filled, and what "map" means (a reply slot for
//! the kernel, a list of mapped pages on the host). The fault path is hot:
//! nothing here allocates (the pages staged for the address space live on
//! the stack, at most one reply's worth).

use libipc::{
    kernel::{KillReason, MAX_FAULT_MAPPINGS},
    types::{PhysAddr, VirtAddr},
};

use crate::{
    frames::{FramePool, FreeError},
    resident::Frame,
    space::{AddressSpace, CommitError, Fill, PageToMap},
};

/// What a shell provides to carry out a decision. Frames come from the
/// shell's [`FramePool`]; the pool methods are provided.
pub trait FaultBackend {
    /// The pool frames come from and go back to.
    fn pool(&mut self) -> &mut FramePool;
    /// The pool refused a frame given back (a bookkeeping bug): the server
    /// logs it; shells that keep no log ignore it.
    fn free_refused(&mut self, error: FreeError) {
        let _ = error;
    }
    /// A free frame, or `None` when the pool is empty.
    fn alloc(&mut self) -> Option<PhysAddr> {
        self.pool().alloc()
    }
    /// A free 2 MiB-aligned run of 512 frames, or `None` when no whole
    /// block is free.
    fn alloc_huge(&mut self) -> Option<PhysAddr> {
        self.pool().alloc_huge()
    }
    /// Returns a frame the address space refused to record.
    fn free(&mut self, frame: PhysAddr) {
        if let Err(e) = self.pool().free(frame) {
            self.free_refused(e);
        }
    }
    /// Returns a run from [`FaultBackend::alloc_huge`] the address space
    /// refused to record.
    fn free_huge(&mut self, frame: PhysAddr) {
        if let Err(e) = self.pool().free_huge(frame) {
            self.free_refused(e);
        }
    }
    /// The shared zero frame's address (the kernel's on the server).
    fn zero_frame(&self) -> PhysAddr;
    /// Gives a frame just allocated its content (`fill` is never
    /// [`Fill::Resident`]; for [`Fill::ZeroHuge`], all 2 MiB from it).
    fn fill(&mut self, frame: PhysAddr, fill: Fill);
    /// Maps one page of the decision with its frame (in order, the
    /// faulting page first); a [`Fill::ZeroPageCopy`] replaces the zero
    /// frame in the page's entry, a [`Fill::ZeroHuge`] page is 2 MiB.
    fn map(&mut self, page: &PageToMap, frame: PhysAddr);
    /// Takes back a page [`FaultBackend::map`] got in this call: the
    /// address space refused to record it (a policy bug; rare).
    fn unmap(&mut self, page: VirtAddr);
    /// The address space refused a page the policy decided: a policy bug,
    /// reported, and the page left out.
    fn refused(&mut self, page: VirtAddr, error: CommitError) {
        let _ = (page, error);
    }
}

/// How a decision was carried out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolved {
    /// This many pages were mapped (fewer than decided when the pool ran
    /// out after the first, or a page was refused).
    Mapped(usize),
    /// Not even the faulting page could get a frame.
    OutOfMemory,
}

impl Resolved {
    /// The kill reason, when the process cannot go on.
    pub fn kill(self) -> Option<KillReason> {
        match self {
            Resolved::Mapped(_) => None,
            Resolved::OutOfMemory => Some(KillReason::OutOfMemory),
        }
    }
}

/// Carries out the pages of a [`crate::space::FaultDecision::Map`]: a frame
/// for each new page (the resident one for [`Fill::Resident`]), filled,
/// recorded in `space` with one [`AddressSpace::commit_pages`], then
/// mapped. Out of frames after the first page, the pages so far are mapped
/// (the rest fault again later); out of frames at the first, nothing is.
/// A 2 MiB page ([`Fill::ZeroHuge`], alone in its decision) with no whole
/// block free becomes the faulting page `fault` alone, zeroed, as Linux
/// falls back to a small page.
pub fn carry_out<B: FaultBackend>(
    space: &mut AddressSpace,
    fault: VirtAddr,
    pages: &[PageToMap],
    backend: &mut B,
) -> Resolved {
    let fallback;
    let pages = match pages {
        [
            page @ PageToMap {
                fill: Fill::ZeroHuge, ..
            },
        ] => match carry_out_huge(space, page, backend) {
            Some(resolved) => return resolved,
            None => {
                fallback = [PageToMap {
                    virt: fault.page_down(),
                    prot: page.prot,
                    fill: Fill::Zero,
                    clean: false,
                }];
                &fallback[..]
            }
        },
        _ => pages,
    };
    // Only the new pages are staged (for one commit); each page is mapped
    // as it gets its frame, so nothing else is copied on the hot path.
    let mut fresh = [(VirtAddr(0), Frame::Zero); MAX_FAULT_MAPPINGS];
    let (mut mapped, mut new) = (0, 0);
    for page in pages.iter().take(MAX_FAULT_MAPPINGS) {
        let frame = match page.fill {
            // A page kept while PROT_NONE or read-only: map it again.
            Fill::Resident(frame) => frame.own().unwrap_or_else(|| backend.zero_frame()),
            Fill::ZeroPage => {
                fresh[new] = (page.virt, Frame::Zero);
                new += 1;
                backend.zero_frame()
            }
            // Only ever alone in a decision (above): never a 4 KiB frame.
            Fill::ZeroHuge => {
                backend.refused(page.virt, CommitError::NotMapped);
                continue;
            }
            fill => {
                let Some(frame) = backend.alloc() else {
                    if mapped == 0 {
                        return Resolved::OutOfMemory;
                    }
                    break;
                };
                backend.fill(frame, fill);
                fresh[new] = (page.virt, page.frame(frame));
                new += 1;
                frame
            }
        };
        backend.map(page, frame);
        mapped += 1;
    }
    space.commit_pages(&fresh[..new], |virt, frame, error| {
        backend.refused(virt, error);
        backend.unmap(virt);
        if let Some(own) = frame.own() {
            backend.free(own);
        }
        mapped -= 1;
    });
    Resolved::Mapped(mapped)
}

/// [`carry_out`] for one 2 MiB page; `None` when no whole block is free.
/// (Not calling [`carry_out`] back for the fallback keeps that one, the
/// hot path, inlinable.)
fn carry_out_huge<B: FaultBackend>(space: &mut AddressSpace, page: &PageToMap, backend: &mut B) -> Option<Resolved> {
    let base = backend.alloc_huge()?;
    backend.fill(base, Fill::ZeroHuge);
    if let Err(e) = space.commit_huge(page.virt, base) {
        backend.refused(page.virt, e);
        backend.free_huge(base);
        return Some(Resolved::Mapped(0));
    }
    backend.map(page, base);
    Some(Resolved::Mapped(1))
}

/// Makes one page resident outside a fault (populate, madvise WILLNEED,
/// a copy into the process, for writing with `write`): its frame, new and
/// filled if it had none, copied from the zero page for a write
/// ([`AddressSpace::touch`]); for a read it may be the zero frame. `None`
/// when the page is not mapped or the pool is empty.
pub fn make_resident<B: FaultBackend>(
    space: &mut AddressSpace,
    page: u64,
    write: bool,
    backend: &mut B,
) -> Option<PhysAddr> {
    let map = space.touch(page, write)?;
    let frame = match map.fill {
        Fill::Resident(frame) => frame.own().unwrap_or_else(|| backend.zero_frame()),
        Fill::ZeroPage => {
            let zero = backend.zero_frame();
            if let Err(e) = space.commit(VirtAddr(page), Frame::Zero) {
                backend.refused(VirtAddr(page), e);
                return None;
            }
            zero
        }
        fill => {
            let frame = backend.alloc()?;
            backend.fill(frame, fill);
            if let Err(e) = space.commit(VirtAddr(page), map.frame(frame)) {
                backend.refused(VirtAddr(page), e);
                backend.free(frame);
                return None;
            }
            frame
        }
    };
    backend.map(&map, frame);
    Some(frame)
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use libipc::{
        pager::MapKind,
        types::{Access, HUGE_PAGE_SIZE, PAGE_SIZE, Prot},
    };

    use super::*;
    use crate::{
        frames::FramePool,
        policy::{AlignedWindow, OnePage},
        rlimit::Rlimits,
        settings::Settings,
        space::{FaultDecision, MmapArgs},
    };

    /// A pool and the pages mapped, as the host keeps them.
    struct Host {
        pool: FramePool,
        mapped: Vec<(VirtAddr, PhysAddr)>,
        refusals: usize,
    }

    impl FaultBackend for Host {
        fn pool(&mut self) -> &mut FramePool {
            &mut self.pool
        }
        fn free_refused(&mut self, error: FreeError) {
            panic!("a frame the pool refused back: {error:?}");
        }
        fn zero_frame(&self) -> PhysAddr {
            PhysAddr(0x10_0000)
        }
        fn fill(&mut self, _: PhysAddr, fill: Fill) {
            assert!(!matches!(fill, Fill::Resident(_)));
        }
        fn map(&mut self, page: &PageToMap, frame: PhysAddr) {
            self.mapped.push((page.virt, frame));
        }
        fn unmap(&mut self, page: VirtAddr) {
            self.mapped.retain(|(v, _)| *v != page);
        }
        fn refused(&mut self, _: VirtAddr, _: CommitError) {
            self.refusals += 1;
        }
    }

    /// A backend on a pool that records what the pool refused back.
    struct Refusing {
        pool: FramePool,
        refused: Vec<FreeError>,
    }

    impl FaultBackend for Refusing {
        fn pool(&mut self) -> &mut FramePool {
            &mut self.pool
        }
        fn free_refused(&mut self, error: FreeError) {
            self.refused.push(error);
        }
        fn zero_frame(&self) -> PhysAddr {
            PhysAddr(0x10_0000)
        }
        fn fill(&mut self, _: PhysAddr, _: Fill) {}
        fn map(&mut self, _: &PageToMap, _: PhysAddr) {}
        fn unmap(&mut self, _: VirtAddr) {}
    }

    /// The provided pool methods give a frame back to the pool, and what
    /// the pool refuses (a foreign frame, a double free, 4 KiB or 2 MiB)
    /// reaches `free_refused` instead of vanishing.
    #[test]
    fn a_frame_the_pool_refuses_back_is_reported() {
        let base = PhysAddr(0x1_0000_0000);
        let mut b = Refusing {
            pool: FramePool::single(base, 1024).unwrap(),
            refused: Vec::new(),
        };
        let frame = b.alloc().unwrap();
        let huge = b.alloc_huge().unwrap();
        assert_eq!(b.pool.free_count().0, 1024 - 1 - 512);
        b.free(frame);
        b.free_huge(huge);
        assert_eq!(b.pool.free_count().0, 1024);
        assert!(b.refused.is_empty());
        b.free(frame);
        b.free_huge(huge);
        b.free(PhysAddr(0x2000));
        assert_eq!(
            b.refused,
            [
                FreeError::DoubleFree(frame),
                FreeError::DoubleFree(huge),
                FreeError::Foreign(PhysAddr(0x2000)),
            ]
        );
        assert_eq!(b.pool.free_count().0, 1024);
    }

    fn setup(frames: u64) -> (AddressSpace, Host, u64) {
        setup_with(&Settings::default(), 32 * PAGE_SIZE, frames)
    }

    /// A private anonymous mapping of `len` under `settings`, and a pool
    /// of `frames` from a 2 MiB-aligned base.
    fn setup_with(settings: &Settings, len: u64, frames: u64) -> (AddressSpace, Host, u64) {
        let mut space = AddressSpace::new(settings, Rlimits::default(), 0x7000_0000_0000);
        let (a, _) = space
            .mmap(MmapArgs {
                addr: 0,
                len,
                prot: Prot::RW,
                flags: MapKind::PRIVATE.union(MapKind::ANONYMOUS),
                file: None,
            })
            .unwrap();
        let host = Host {
            pool: FramePool::single(PhysAddr(0x1_0000_0000), frames).unwrap(),
            mapped: Vec::new(),
            refusals: 0,
        };
        (space, host, a.0)
    }

    fn decide(space: &mut AddressSpace, addr: u64, window: bool) -> Vec<PageToMap> {
        let decision = if window {
            space.fault(&mut AlignedWindow, addr, Access::Write)
        } else {
            space.fault(&mut OnePage, addr, Access::Write)
        };
        match decision {
            FaultDecision::Map(pages) => pages,
            FaultDecision::Kill(r) => panic!("{r:?}"),
        }
    }

    #[test]
    fn every_page_gets_a_recorded_frame() {
        let (mut space, mut host, a) = setup(64);
        let pages = decide(&mut space, a, true);
        assert_eq!(
            carry_out(&mut space, pages[0].virt, &pages, &mut host),
            Resolved::Mapped(16)
        );
        assert_eq!(host.mapped.len(), 16);
        assert_eq!(host.mapped[0].0, VirtAddr(a));
        for (virt, frame) in &host.mapped {
            assert_eq!(space.frame_of(*virt).and_then(Frame::own), Some(*frame));
        }
        assert_eq!(host.pool.free_count().0, 48);
    }

    #[test]
    fn a_short_pool_maps_what_it_can_and_an_empty_one_kills() {
        let (mut space, mut host, a) = setup(3);
        let pages = decide(&mut space, a, true);
        assert_eq!(
            carry_out(&mut space, pages[0].virt, &pages, &mut host),
            Resolved::Mapped(3)
        );
        assert_eq!(space.resident(a, 32 * PAGE_SIZE), 3);
        let pages = decide(&mut space, a + 20 * PAGE_SIZE, false);
        let resolved = carry_out(&mut space, pages[0].virt, &pages, &mut host);
        assert_eq!(resolved, Resolved::OutOfMemory);
        assert_eq!(resolved.kill(), Some(KillReason::OutOfMemory));
        assert_eq!(space.resident(a, 32 * PAGE_SIZE), 3);
    }

    #[test]
    fn a_refused_page_frees_its_frame_and_is_not_mapped() {
        let (mut space, mut host, a) = setup(64);
        let pages = decide(&mut space, a, false);
        // The page becomes resident behind the decision's back.
        let stale = host.pool.alloc().unwrap();
        space.commit(VirtAddr(a), Frame::Dirty(stale)).unwrap();
        assert_eq!(
            carry_out(&mut space, pages[0].virt, &pages, &mut host),
            Resolved::Mapped(0)
        );
        assert_eq!(host.refusals, 1);
        assert!(host.mapped.is_empty());
        assert_eq!(host.pool.free_count().0, 63);
    }

    #[test]
    fn make_resident_fills_once() {
        let (mut space, mut host, a) = setup(64);
        let frame = make_resident(&mut space, a, true, &mut host).unwrap();
        assert_eq!(make_resident(&mut space, a, true, &mut host), Some(frame));
        assert_eq!(host.mapped, [(VirtAddr(a), frame), (VirtAddr(a), frame)]);
        assert_eq!(make_resident(&mut space, 0x1000, false, &mut host), None);
    }

    /// A 4 MiB mapping under `transparent_hugepage=always`, a pool of
    /// `frames` from a 2 MiB-aligned base, and the first aligned 2 MiB.
    fn setup_huge(frames: u64) -> (AddressSpace, Host, u64) {
        let mut settings = Settings::default();
        settings.set("transparent_hugepage", "always").unwrap();
        let (space, host, a) = setup_with(&settings, 2 * HUGE_PAGE_SIZE, frames);
        (space, host, a.next_multiple_of(HUGE_PAGE_SIZE))
    }

    #[test]
    fn a_two_mib_decision_maps_one_huge_frame() {
        let (mut space, mut host, region) = setup_huge(1024);
        let fault = VirtAddr(region + 5 * PAGE_SIZE + 12);
        let pages = decide(&mut space, fault.0, false);
        assert_eq!(pages.len(), 1);
        assert_eq!((pages[0].virt, pages[0].fill), (VirtAddr(region), Fill::ZeroHuge));
        assert_eq!(carry_out(&mut space, fault, &pages, &mut host), Resolved::Mapped(1));
        assert_eq!(
            host.mapped,
            [(VirtAddr(region), PhysAddr(0x1_0000_0000 + HUGE_PAGE_SIZE))]
        );
        assert_eq!(space.resident(region, HUGE_PAGE_SIZE), 512);
        assert_eq!(space.huge_pages(region, HUGE_PAGE_SIZE), 1);
        assert_eq!(host.pool.free_count().0, 512);
    }

    #[test]
    fn with_no_whole_block_free_the_faulting_page_alone_is_mapped() {
        // 511 frames: no 2 MiB block.
        let (mut space, mut host, region) = setup_huge(511);
        let fault = VirtAddr(region + 7 * PAGE_SIZE + 1);
        let pages = decide(&mut space, fault.0, false);
        assert_eq!(pages[0].fill, Fill::ZeroHuge);
        assert_eq!(carry_out(&mut space, fault, &pages, &mut host), Resolved::Mapped(1));
        assert_eq!(host.mapped.len(), 1);
        assert_eq!(host.mapped[0].0, fault.page_down());
        assert_eq!(space.resident(region, HUGE_PAGE_SIZE), 1);
        assert_eq!(space.huge_pages(region, HUGE_PAGE_SIZE), 0);
        assert_eq!(host.pool.free_count().0, 510);
    }

    #[test]
    fn a_refused_two_mib_page_gives_its_block_back() {
        let (mut space, mut host, region) = setup_huge(1024);
        let pages = decide(&mut space, region, false);
        // One of its pages becomes resident behind the decision's back.
        let stale = host.pool.alloc().unwrap();
        space.commit(VirtAddr(region + PAGE_SIZE), Frame::Dirty(stale)).unwrap();
        assert_eq!(
            carry_out(&mut space, VirtAddr(region), &pages, &mut host),
            Resolved::Mapped(0)
        );
        assert_eq!(host.refusals, 1);
        assert!(host.mapped.is_empty());
        assert_eq!(host.pool.free_count().0, 1023);
    }

    #[test]
    fn a_two_mib_page_among_others_is_refused() {
        let (mut space, mut host, region) = setup_huge(1024);
        let mut pages = decide(&mut space, region, false);
        pages.push(PageToMap {
            virt: VirtAddr(region + HUGE_PAGE_SIZE),
            prot: Prot::RW,
            fill: Fill::Zero,
            clean: false,
        });
        pages.swap(0, 1);
        assert_eq!(
            carry_out(&mut space, VirtAddr(region), &pages, &mut host),
            Resolved::Mapped(1)
        );
        assert_eq!(host.refusals, 1);
        assert_eq!(space.huge_pages(region, 2 * HUGE_PAGE_SIZE), 0);
        assert_eq!(host.pool.free_count().0, 1023);
    }
}
