//! Where address-space facts come from: the pager.
//!
//! The procfs server never reads page tables. It asks an
//! [`AddressSpaceSource`]: on the kernel, an IPC client speaking
//! [`libipc::procfs::SourceRequest`] to the pager; in host tests, an
//! in-memory fake. The source answers in bounded batches (VMAs by address,
//! pages by range), and [`VmaWalk`] and [`for_each_page`] turn those into
//! ordered, checked sequences: whatever the source answers is checked
//! before it is formatted, so a confused pager yields
//! [`Error::Unavailable`], never a panic, a garbled file or a walk that does
//! not end.

use alloc::vec::Vec;

use libipc::{
    procfs::{Error, MAX_PAGES_PER_BATCH, PageInfo, SourceError, SpaceLayout, VmaInfo},
    types::{Pid, USER_END_LA57, VirtAddr},
};

/// One batch of pages, as [`AddressSpaceSource::pages`] fills it: the type
/// bounds it.
pub type PageBatch = heapless::Vec<PageInfo, MAX_PAGES_PER_BATCH>;

/// What comes with a batch of VMAs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchInfo {
    /// The addresses `[heap]` and `[stack]` are named by, and the top.
    pub layout: SpaceLayout,
    /// No VMA follows the batch: the walk asks no more (a source may
    /// always say `false`, at the cost of one empty answer).
    pub last: bool,
}

/// What the procfs server needs from the pager. Called only after the
/// access check passed.
pub trait AddressSpaceSource {
    /// The addresses `[heap]` and `[stack]` are named by, and the top.
    fn layout(&mut self, pid: Pid) -> Result<SpaceLayout, SourceError>;

    /// Appends to `out` (empty) up to `max` VMAs of `pid` in address order,
    /// starting with the first whose end is above `from`, and returns the
    /// layout (as [`AddressSpaceSource::layout`]), so a maps or smaps read
    /// asks one question, not two, and whether these are the last. Fewer
    /// than `max` is allowed; none means no VMA ends above `from`.
    fn vmas(&mut self, pid: Pid, from: VirtAddr, max: u32, out: &mut Vec<VmaInfo>) -> Result<BatchInfo, SourceError>;

    /// Fills `out` (empty) with the lowest resident or swapped pages with
    /// `vpn` in `[start_vpn, end_vpn)` and returns how far it looked: every
    /// such page below the returned vpn is in `out`, others are holes (a
    /// source may stop early to bound its work). A full batch means there
    /// may be more above its last page. Order and duplicates within a batch
    /// do not matter (see [`for_each_page`]).
    fn pages(&mut self, pid: Pid, start_vpn: u64, end_vpn: u64, out: &mut PageBatch) -> Result<u64, SourceError>;

    /// Reads `buf.len()` bytes at `addr`, a range inside one VMA the caller
    /// has checked; never-touched pages read as zeros. Returns how many bytes
    /// were read (fewer if the mapping changed meanwhile).
    fn read_mem(&mut self, pid: Pid, addr: VirtAddr, buf: &mut [u8]) -> Result<usize, SourceError>;

    /// Writes `data` at `addr`, inside one VMA the caller has checked may be
    /// written by a debugger (copy-on-write if private). Returns how many
    /// bytes were written.
    fn write_mem(&mut self, pid: Pid, addr: VirtAddr, data: &[u8]) -> Result<usize, SourceError>;
}

/// Whether `vma` is one the formatters can trust, coming after a VMA that
/// ended at `previous_end`: non-empty, page-aligned, in the user range,
/// sorted and disjoint, with known protection bits. The user range is the
/// widest there is (5-level paging's); the pager bounds each process's.
pub fn is_sane(vma: &VmaInfo, previous_end: VirtAddr) -> bool {
    vma.start.is_page_aligned()
        && vma.end.is_page_aligned()
        && vma.start < vma.end
        && vma.end <= USER_END_LA57
        && vma.start >= previous_end
        && vma.prot.is_valid()
}

/// The VMAs of a process from an address on, in order, fetched from the
/// source one batch at a time: seq_file's iterator. Holds one batch.
pub struct VmaWalk {
    pid: Pid,
    /// Where the next batch starts: the first VMA ending above it.
    from: VirtAddr,
    per_batch: u32,
    /// How many the next batch asks for: at most `per_batch`.
    wanted: u32,
    previous_end: VirtAddr,
    batch: Vec<VmaInfo>,
    /// The layout that came with the latest batch.
    layout: Option<SpaceLayout>,
    next: usize,
    exhausted: bool,
}

impl VmaWalk {
    /// A walk from the first VMA of `pid` whose end is above `from`,
    /// asking for `per_batch` VMAs at a time (at least one).
    pub fn new(pid: Pid, from: VirtAddr, per_batch: u32) -> VmaWalk {
        VmaWalk::reusing(pid, from, per_batch, Vec::new())
    }

    /// [`VmaWalk::new`] holding its batches in `batch` (emptied), a buffer
    /// kept from an earlier walk ([`VmaWalk::into_batch`]): a server
    /// reusing it allocates nothing per request.
    pub fn reusing(pid: Pid, from: VirtAddr, per_batch: u32, mut batch: Vec<VmaInfo>) -> VmaWalk {
        let per_batch = per_batch.max(1);
        batch.clear();
        batch.reserve(per_batch as usize);
        VmaWalk {
            pid,
            from,
            per_batch,
            wanted: per_batch,
            previous_end: VirtAddr(0),
            batch,
            layout: None,
            next: 0,
            exhausted: false,
        }
    }

    /// The batch buffer, for the next walk to reuse.
    pub fn into_batch(self) -> Vec<VmaInfo> {
        self.batch
    }

    /// Asks the next batch (if one is needed) for at most `n` VMAs, at
    /// least one: a reader that can only take a few more lines does not
    /// make the pager encode a whole batch.
    pub fn want(&mut self, n: u32) {
        self.wanted = n.clamp(1, self.per_batch);
    }

    /// The next VMA, or `None` after the last. A batch that is out of
    /// order, overlaps, or does not move past where it was asked from is
    /// [`Error::Unavailable`]: every batch ends strictly higher than the
    /// one before, so a walk always ends.
    pub fn next(&mut self, source: &mut impl AddressSpaceSource) -> Result<Option<&VmaInfo>, Error> {
        Ok(self.next_in_layout(source)?.map(|(vma, _)| vma))
    }

    /// [`VmaWalk::next`] with the layout that came with its batch (the
    /// addresses its name depends on).
    pub fn next_in_layout(
        &mut self,
        source: &mut impl AddressSpaceSource,
    ) -> Result<Option<(&VmaInfo, &SpaceLayout)>, Error> {
        if self.next == self.batch.len() {
            if self.exhausted {
                return Ok(None);
            }
            self.batch.clear();
            self.next = 0;
            let ask = self.wanted;
            let info = source.vmas(self.pid, self.from, ask, &mut self.batch)?;
            self.layout = Some(info.layout);
            self.exhausted = info.last;
            // A source sending more than asked is not believed past that.
            self.batch.truncate(ask as usize);
            let Some(last) = self.batch.last() else {
                self.exhausted = true;
                return Ok(None);
            };
            let last_end = last.end;
            for vma in &self.batch {
                if !is_sane(vma, self.previous_end) || vma.end <= self.from {
                    return Err(Error::Unavailable);
                }
                self.previous_end = vma.end;
            }
            self.from = last_end;
        }
        let vma = &self.batch[self.next];
        self.next += 1;
        // A batch always comes with its layout.
        Ok(self.layout.as_ref().map(|layout| (vma, layout)))
    }
}

/// Calls `each` for the resident or swapped pages of `pid` with `vpn` in
/// `[start_vpn, end_vpn)`: in order, once per vpn, nothing outside the
/// range, whatever the source sent. Holds one [`PageBatch`] at a time.
pub fn for_each_page(
    source: &mut impl AddressSpaceSource,
    pid: Pid,
    start_vpn: u64,
    end_vpn: u64,
    each: impl FnMut(&PageInfo),
) -> Result<(), Error> {
    PageAhead::new(pid, end_vpn).for_each(source, start_vpn, end_vpn, each)
}

/// The pages of a walk over consecutive VMAs, read ahead: a batch is asked
/// for from the first page wanted up to the walk's `limit`, not only to the
/// end of the VMA being formatted, so the VMAs that follow (often with a
/// page or none each) are answered from the same batch. A smaps or
/// pagemap read then asks once per [`MAX_PAGES_PER_BATCH`] resident pages,
/// not once per VMA. A range starting below the held batch's start, or
/// past what it covers, refills it.
pub struct PageAhead {
    pid: Pid,
    /// The end (exclusive) of every batch asked for.
    limit: u64,
    /// The held batch: sorted, one page per vpn, all in `[from, covered)`.
    batch: PageBatch,
    /// The batch holds every page the source listed in `[from, covered)`.
    from: u64,
    covered: u64,
}

impl PageAhead {
    /// A read-ahead for `pid`'s pages below `limit_vpn`, holding nothing.
    pub fn new(pid: Pid, limit_vpn: u64) -> PageAhead {
        PageAhead {
            pid,
            limit: limit_vpn,
            batch: PageBatch::new(),
            from: 0,
            covered: 0,
        }
    }

    /// As [`for_each_page`], answering from the held batch where it
    /// covers the range and asking for the next one where it does not.
    pub fn for_each(
        &mut self,
        source: &mut impl AddressSpaceSource,
        start_vpn: u64,
        end_vpn: u64,
        mut each: impl FnMut(&PageInfo),
    ) -> Result<(), Error> {
        let end_vpn = end_vpn.min(self.limit);
        let mut from = start_vpn;
        while from < end_vpn {
            if !(self.from..self.covered).contains(&from) {
                self.fill(source, from)?;
            }
            let upto = end_vpn.min(self.covered);
            let first = self.batch.partition_point(|p| p.vpn < from);
            for page in self.batch[first..].iter().take_while(|p| p.vpn < upto) {
                each(page);
            }
            from = upto;
        }
        Ok(())
    }

    /// Asks for the pages from `from` to the limit and keeps what is in
    /// range, in order, once each.
    fn fill(&mut self, source: &mut impl AddressSpaceSource, from: u64) -> Result<(), Error> {
        self.batch.clear();
        // Nothing is held until the answer is in and checked.
        self.covered = 0;
        let until = source.pages(self.pid, from, self.limit, &mut self.batch)?;
        let full = self.batch.is_full();
        // A full batch may have more after its last page; one that is not
        // full is all there is up to where the source looked; one full of
        // strays (a confused source) is all there is.
        let mut covered = until.min(self.limit);
        let last_kept = self
            .batch
            .iter()
            .map(|p| p.vpn)
            .filter(|vpn| (from..covered).contains(vpn))
            .max();
        if full && let Some(last) = last_kept {
            covered = last + 1;
        }
        // A source must move on, or the walk would not end.
        if covered <= from {
            self.batch.clear();
            return Err(Error::Unavailable);
        }
        self.batch.retain(|p| (from..covered).contains(&p.vpn));
        self.batch.sort_unstable_by_key(|p| p.vpn);
        let mut previous = None;
        self.batch.retain(|p| previous.replace(p.vpn) != Some(p.vpn));
        self.from = from;
        self.covered = covered;
        Ok(())
    }
}

/// The whole address space at once: the model the streamed files are
/// tested against (the server itself never holds one).
#[cfg(test)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressSpace {
    layout: SpaceLayout,
    vmas: Vec<VmaInfo>,
}

#[cfg(test)]
impl AddressSpace {
    /// Checks the VMAs as the walk does; an inconsistent set is
    /// [`SourceError::Unavailable`].
    pub fn new(layout: SpaceLayout, vmas: Vec<VmaInfo>) -> Result<AddressSpace, SourceError> {
        let mut previous_end = VirtAddr(0);
        for vma in &vmas {
            if !is_sane(vma, previous_end) {
                return Err(SourceError::Unavailable);
            }
            previous_end = vma.end;
        }
        Ok(AddressSpace { layout, vmas })
    }

    pub fn layout(&self) -> &SpaceLayout {
        &self.layout
    }

    pub fn vmas(&self) -> &[VmaInfo] {
        &self.vmas
    }

    /// `[first start, last end)`, or `None` for an empty space.
    pub fn span(&self) -> Option<(VirtAddr, VirtAddr)> {
        Some((self.vmas.first()?.start, self.vmas.last()?.end))
    }
}

/// The slice of sorted `pages` whose vpn is in `[start_vpn, end_vpn)` (for
/// the model).
#[cfg(test)]
pub fn pages_between(pages: &[PageInfo], start_vpn: u64, end_vpn: u64) -> &[PageInfo] {
    let from = pages.partition_point(|p| p.vpn < start_vpn);
    let to = pages.partition_point(|p| p.vpn < end_vpn);
    pages.get(from..to).unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use libipc::{
        procfs::{PageFlags, PageFrame, Sharing},
        types::Prot,
    };

    use super::*;

    fn vma(start: u64, end: u64) -> VmaInfo {
        crate::tests::fixtures::vma(start, end, Prot::RW, Sharing::Private)
    }

    fn layout() -> SpaceLayout {
        SpaceLayout {
            start_brk: VirtAddr(0),
            brk: VirtAddr(0),
            start_stack: VirtAddr(0),
            top: libipc::types::USER_END,
        }
    }

    /// A source answering from fixed lists, as they are (however wrong).
    struct Scripted {
        vmas: Vec<VmaInfo>,
        pages: Vec<PageInfo>,
        asked: usize,
        /// Whether it says which batch is the last.
        says_last: bool,
    }

    impl AddressSpaceSource for Scripted {
        fn layout(&mut self, _: Pid) -> Result<SpaceLayout, SourceError> {
            Ok(layout())
        }

        fn vmas(&mut self, _: Pid, from: VirtAddr, max: u32, out: &mut Vec<VmaInfo>) -> Result<BatchInfo, SourceError> {
            self.asked += 1;
            let i = self.vmas.partition_point(|v| v.end <= from);
            out.extend(self.vmas.iter().skip(i).take(max as usize).cloned());
            Ok(BatchInfo {
                layout: layout(),
                last: self.says_last && i + out.len() == self.vmas.len(),
            })
        }

        fn pages(&mut self, _: Pid, _: u64, end_vpn: u64, out: &mut PageBatch) -> Result<u64, SourceError> {
            self.asked += 1;
            // Always the same batch, whatever was asked.
            out.extend(self.pages.iter().copied().take(MAX_PAGES_PER_BATCH));
            Ok(end_vpn)
        }

        fn read_mem(&mut self, _: Pid, _: VirtAddr, _: &mut [u8]) -> Result<usize, SourceError> {
            Ok(0)
        }

        fn write_mem(&mut self, _: Pid, _: VirtAddr, _: &[u8]) -> Result<usize, SourceError> {
            Ok(0)
        }
    }

    fn walk_all(vmas: Vec<VmaInfo>, from: u64, per_batch: u32) -> Result<Vec<u64>, Error> {
        let mut source = Scripted {
            vmas,
            pages: Vec::new(),
            asked: 0,
            says_last: false,
        };
        let mut walk = VmaWalk::new(Pid(1), VirtAddr(from), per_batch);
        let mut starts = Vec::new();
        while let Some(v) = walk.next(&mut source)? {
            starts.push(v.start.0);
        }
        Ok(starts)
    }

    #[test]
    fn walks_from_the_first_vma_ending_above_the_address() {
        let vmas = || vec![vma(0x1000, 0x3000), vma(0x3000, 0x4000), vma(0x8000, 0x9000)];
        for per_batch in [0, 1, 2, 64] {
            assert_eq!(walk_all(vmas(), 0, per_batch), Ok(vec![0x1000, 0x3000, 0x8000]));
            assert_eq!(walk_all(vmas(), 0x2fff, per_batch), Ok(vec![0x1000, 0x3000, 0x8000]));
            assert_eq!(walk_all(vmas(), 0x3000, per_batch), Ok(vec![0x3000, 0x8000]));
            assert_eq!(walk_all(vmas(), 0x4000, per_batch), Ok(vec![0x8000]));
            assert_eq!(walk_all(vmas(), 0x9000, per_batch), Ok(vec![]));
        }
    }

    #[test]
    fn a_walk_asks_for_what_is_wanted() {
        let vmas: Vec<VmaInfo> = (1..=10).map(|i| vma(i * 0x1000, i * 0x1000 + 0x800 + 0x800)).collect();
        let mut source = Scripted {
            vmas,
            pages: Vec::new(),
            asked: 0,
            says_last: false,
        };
        let mut walk = VmaWalk::new(Pid(1), VirtAddr(0), 4);
        // Two wanted: two per call until the hint changes; never above 4,
        // never below 1.
        walk.want(2);
        let mut starts = Vec::new();
        for _ in 0..4 {
            starts.push(walk.next(&mut source).unwrap().unwrap().start.0);
        }
        assert_eq!(source.asked, 2);
        walk.want(100);
        for _ in 0..4 {
            starts.push(walk.next(&mut source).unwrap().unwrap().start.0);
        }
        assert_eq!(source.asked, 3);
        walk.want(0);
        while let Some(v) = walk.next(&mut source).unwrap() {
            starts.push(v.start.0);
        }
        assert_eq!(starts, (1..=10).map(|i| i * 0x1000).collect::<Vec<_>>());
        // Two more VMAs one at a time, then the empty answer.
        assert_eq!(source.asked, 6);
    }

    #[test]
    fn a_batch_said_to_be_the_last_ends_the_walk() {
        for (says_last, asked) in [(false, 3), (true, 2)] {
            let mut source = Scripted {
                vmas: (1..=4).map(|i| vma(i * 0x1000, i * 0x1000 + 0x1000)).collect(),
                pages: Vec::new(),
                asked: 0,
                says_last,
            };
            let mut walk = VmaWalk::new(Pid(1), VirtAddr(0), 2);
            let mut seen = 0;
            while walk.next(&mut source).unwrap().is_some() {
                seen += 1;
            }
            assert_eq!((seen, source.asked), (4, asked), "says_last {says_last}");
        }
    }

    #[test]
    fn refuses_inconsistent_answers() {
        for bad in [
            vec![vma(0x1000, 0x1000)],
            vec![vma(0x1001, 0x2000)],
            vec![vma(0x2000, 0x1000)],
            vec![vma(0x1000, 0x3000), vma(0x2000, 0x4000)],
            vec![vma(0x3000, 0x4000), vma(0x1000, 0x2000)],
            // Past the end of the widest user range (5-level paging's).
            vec![vma(0x00ff_ffff_ffff_f000, 0x0100_0000_0000_1000)],
        ] {
            assert_eq!(walk_all(bad.clone(), 0, 64), Err(Error::Unavailable), "{bad:?}");
            assert_eq!(
                AddressSpace::new(layout(), bad).map(|_| ()),
                Err(SourceError::Unavailable)
            );
        }
        // Above 2^47 is user memory with 5-level paging.
        let high = vec![
            vma(0x7fff_ffff_f000, 0x8000_0000_1000),
            vma(1 << 55, (1 << 55) + 0x1000),
        ];
        assert_eq!(walk_all(high, 0, 64), Ok(vec![0x7fff_ffff_f000, 1 << 55]));
        let mut bad_prot = vma(0x1000, 0x2000);
        bad_prot.prot = Prot(0x80);
        assert_eq!(walk_all(vec![bad_prot], 0, 1), Err(Error::Unavailable));
    }

    #[test]
    fn a_source_that_does_not_move_on_is_refused() {
        // Asked from 0x3000, it answers with a VMA ending there again.
        struct Stuck;
        impl AddressSpaceSource for Stuck {
            fn layout(&mut self, _: Pid) -> Result<SpaceLayout, SourceError> {
                Ok(layout())
            }
            fn vmas(&mut self, _: Pid, _: VirtAddr, _: u32, out: &mut Vec<VmaInfo>) -> Result<BatchInfo, SourceError> {
                out.push(vma(0x1000, 0x3000));
                Ok(BatchInfo {
                    layout: layout(),
                    last: false,
                })
            }
            fn pages(&mut self, _: Pid, _: u64, end_vpn: u64, _: &mut PageBatch) -> Result<u64, SourceError> {
                Ok(end_vpn)
            }
            fn read_mem(&mut self, _: Pid, _: VirtAddr, _: &mut [u8]) -> Result<usize, SourceError> {
                Ok(0)
            }
            fn write_mem(&mut self, _: Pid, _: VirtAddr, _: &[u8]) -> Result<usize, SourceError> {
                Ok(0)
            }
        }
        let mut walk = VmaWalk::new(Pid(1), VirtAddr(0), 1);
        assert!(walk.next(&mut Stuck).unwrap().is_some());
        assert_eq!(walk.next(&mut Stuck).map(|v| v.cloned()), Err(Error::Unavailable));
    }

    fn page(vpn: u64) -> PageInfo {
        PageInfo {
            vpn,
            frame: PageFrame::Resident { pfn: vpn },
            map_count: 1,
            flags: PageFlags::default(),
        }
    }

    #[test]
    fn pages_come_sorted_once_each_and_in_range() {
        // A full batch, unsorted, with duplicates and strays: the walk
        // keeps what is in range, in order, and asks again after the last.
        let mut pages: Vec<PageInfo> = [5, 3, 3, 100, 4, 2, 7, 7, 6, 1, 9, 8].map(page).to_vec();
        pages.resize(MAX_PAGES_PER_BATCH, page(9));
        assert_eq!(pages.len(), MAX_PAGES_PER_BATCH);
        let mut source = Scripted {
            vmas: Vec::new(),
            pages: pages.clone(),
            asked: 0,
            says_last: false,
        };
        let mut seen = Vec::new();
        for_each_page(&mut source, Pid(1), 2, 50, |p| seen.push(p.vpn)).unwrap();
        // The second answer is the same batch: all below the new start.
        assert_eq!(seen, [2, 3, 4, 5, 6, 7, 8, 9]);
        assert_eq!(source.asked, 2);
        // A batch that is not full is the last.
        pages.truncate(3);
        let mut source = Scripted {
            vmas: Vec::new(),
            pages,
            asked: 0,
            says_last: false,
        };
        let mut seen = Vec::new();
        for_each_page(&mut source, Pid(1), 0, 50, |p| seen.push(p.vpn)).unwrap();
        assert_eq!((seen, source.asked), (vec![3, 5], 1));
        // An empty range asks nothing.
        for_each_page(&mut source, Pid(1), 9, 9, |_| panic!("no pages")).unwrap();
        assert_eq!(source.asked, 1);
    }

    #[test]
    fn pages_read_ahead_serve_the_vmas_that_follow() {
        let mut source = Scripted {
            vmas: Vec::new(),
            pages: [9, 1, 20, 2, 5, 200].map(page).to_vec(),
            asked: 0,
            says_last: false,
        };
        let mut ahead = PageAhead::new(Pid(1), 100);
        let seen = |ahead: &mut PageAhead, source: &mut Scripted, start, end| {
            let mut seen = Vec::new();
            ahead.for_each(source, start, end, |p| seen.push(p.vpn)).unwrap();
            seen
        };
        // Three VMAs' pages from one question; 200 is past the limit.
        assert_eq!(seen(&mut ahead, &mut source, 2, 3), [2]);
        assert_eq!(seen(&mut ahead, &mut source, 3, 10), [5, 9]);
        assert_eq!(seen(&mut ahead, &mut source, 10, 300), [20]);
        assert_eq!(source.asked, 1);
        // Going back below the batch's start asks again.
        assert_eq!(seen(&mut ahead, &mut source, 0, 3), [1, 2]);
        assert_eq!(source.asked, 2);
        // A full batch covers only to its last page: past it, ask again.
        let mut pages: Vec<PageInfo> = (10..10 + MAX_PAGES_PER_BATCH as u64).map(page).collect();
        pages.reverse();
        let mut source = Scripted {
            vmas: Vec::new(),
            pages,
            asked: 0,
            says_last: false,
        };
        let mut ahead = PageAhead::new(Pid(1), u64::MAX);
        let last = 10 + MAX_PAGES_PER_BATCH as u64;
        assert_eq!(seen(&mut ahead, &mut source, 0, last).len(), MAX_PAGES_PER_BATCH);
        assert_eq!(source.asked, 1);
        // The same batch again, all below: a confused source ends the walk.
        assert_eq!(seen(&mut ahead, &mut source, last, last + 5), Vec::<u64>::new());
        assert_eq!(source.asked, 2);
    }

    /// Answers from a fixed set of pages, looking at most `span` pages past
    /// the start (or, with `stuck`, claiming to have looked nowhere).
    struct PartWay {
        pages: Vec<u64>,
        span: u64,
        stuck: bool,
        asked: usize,
    }

    impl AddressSpaceSource for PartWay {
        fn layout(&mut self, _: Pid) -> Result<SpaceLayout, SourceError> {
            Ok(layout())
        }
        fn vmas(&mut self, _: Pid, _: VirtAddr, _: u32, _: &mut Vec<VmaInfo>) -> Result<BatchInfo, SourceError> {
            Err(SourceError::Unavailable)
        }
        fn pages(&mut self, _: Pid, start: u64, end: u64, out: &mut PageBatch) -> Result<u64, SourceError> {
            self.asked += 1;
            let until = if self.stuck { start } else { end.min(start + self.span) };
            // A page past where it says it looked is not believed.
            out.extend(
                self.pages
                    .iter()
                    .filter(|&&v| v >= start && v < until + 1)
                    .map(|&v| page(v)),
            );
            Ok(until)
        }
        fn read_mem(&mut self, _: Pid, _: VirtAddr, _: &mut [u8]) -> Result<usize, SourceError> {
            Err(SourceError::Unavailable)
        }
        fn write_mem(&mut self, _: Pid, _: VirtAddr, _: &[u8]) -> Result<usize, SourceError> {
            Err(SourceError::Unavailable)
        }
    }

    #[test]
    fn a_source_that_looks_part_way_is_asked_again_from_there() {
        let mut source = PartWay {
            pages: vec![1, 5, 10, 11, 30],
            span: 10,
            stuck: false,
            asked: 0,
        };
        let mut seen = Vec::new();
        for_each_page(&mut source, Pid(1), 0, 40, |p| seen.push(p.vpn)).unwrap();
        // [0, 10), [10, 20), [20, 30), [30, 40): 10 and 30 only once each,
        // from the answer that covered them.
        assert_eq!((seen, source.asked), (vec![1, 5, 10, 11, 30], 4));
        let mut stuck = PartWay {
            pages: vec![1],
            span: 0,
            stuck: true,
            asked: 0,
        };
        assert_eq!(
            for_each_page(&mut stuck, Pid(1), 0, 40, |_| panic!("nothing believed")),
            Err(Error::Unavailable)
        );
        assert_eq!(stuck.asked, 1);
    }

    #[test]
    fn a_failed_page_question_holds_nothing() {
        struct Failing;
        impl AddressSpaceSource for Failing {
            fn layout(&mut self, _: Pid) -> Result<SpaceLayout, SourceError> {
                Err(SourceError::NoSuchProcess)
            }
            fn vmas(&mut self, _: Pid, _: VirtAddr, _: u32, _: &mut Vec<VmaInfo>) -> Result<BatchInfo, SourceError> {
                Err(SourceError::NoSuchProcess)
            }
            fn pages(&mut self, _: Pid, _: u64, _: u64, out: &mut PageBatch) -> Result<u64, SourceError> {
                // The target died mid-read: whatever was put is not kept.
                let _ = out.push(page(3));
                Err(SourceError::NoSuchProcess)
            }
            fn read_mem(&mut self, _: Pid, _: VirtAddr, _: &mut [u8]) -> Result<usize, SourceError> {
                Err(SourceError::NoSuchProcess)
            }
            fn write_mem(&mut self, _: Pid, _: VirtAddr, _: &[u8]) -> Result<usize, SourceError> {
                Err(SourceError::NoSuchProcess)
            }
        }
        let mut ahead = PageAhead::new(Pid(1), 100);
        let mut seen = Vec::new();
        assert_eq!(
            ahead.for_each(&mut Failing, 0, 10, |p| seen.push(p.vpn)),
            Err(Error::NoSuchProcess)
        );
        assert_eq!(
            ahead.for_each(&mut Failing, 0, 10, |p| seen.push(p.vpn)),
            Err(Error::NoSuchProcess)
        );
        assert!(seen.is_empty());
    }

    #[test]
    fn model_span() {
        let space = AddressSpace::new(layout(), vec![vma(0x1000, 0x3000), vma(0x3000, 0x4000)]).unwrap();
        assert_eq!(space.span(), Some((VirtAddr(0x1000), VirtAddr(0x4000))));
        assert_eq!(AddressSpace::new(layout(), vec![]).unwrap().span(), None);
    }
}
