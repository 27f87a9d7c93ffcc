//! The resident pages of one VMA: page address -> frame.
//!
//! Pages are grouped in chunks of [`CHUNK_PAGES`] consecutive pages (a
//! presence bitmap and the frames), kept in a `BTreeMap` by chunk number.
//! A fault-around window lands in one or two chunks, so recording its pages
//! is one tree lookup per chunk and a store per page, where a map keyed by
//! page pays a tree descent (and node splits) for every page. Iteration is
//! in address order, as `/proc/<pid>/smaps` and pagemap need.
//!
//! A 2 MiB page is its 512 pages here, as any others (so munmap, mprotect
//! and mremap need nothing new), with its eight chunks marked huge while
//! the kernel maps them with one entry. Removing any of its pages, or
//! splitting inside it, clears the mark: the kernel splits the entry then.

use alloc::{boxed::Box, collections::BTreeMap};
use core::ops::Range;

use libipc::types::{HUGE_PAGE_SIZE, PAGE_SIZE, PhysAddr, VirtAddr};

/// Pages per chunk: one bit each in a `u64` bitmap.
pub const CHUNK_PAGES: u64 = 64;
const CHUNK_BYTES: u64 = CHUNK_PAGES * PAGE_SIZE;
/// Chunks of one 2 MiB page.
const CHUNKS_PER_HUGE: u64 = HUGE_PAGE_SIZE / CHUNK_BYTES;

#[derive(Clone, Debug, PartialEq, Eq)]
struct Chunk {
    /// Bit `i`: page `i` of the chunk is resident.
    present: u64,
    /// Part of a 2 MiB page the kernel maps with one entry.
    huge: bool,
    frames: [PhysAddr; CHUNK_PAGES as usize],
}

impl Chunk {
    fn empty() -> Box<Chunk> {
        Box::new(Chunk {
            present: 0,
            huge: false,
            frames: [PhysAddr(0); CHUNK_PAGES as usize],
        })
    }

    /// The resident pages of the chunk numbered `number`, lowest first.
    fn pages(&self, number: u64) -> impl Iterator<Item = (u64, PhysAddr)> + '_ {
        Bits(self.present).map(move |i| (number * CHUNK_BYTES + i * PAGE_SIZE, self.frames[i as usize]))
    }
}

/// The set bits of a bitmap, lowest first.
struct Bits(u64);

impl Iterator for Bits {
    type Item = u64;
    fn next(&mut self) -> Option<u64> {
        if self.0 == 0 {
            return None;
        }
        let i = u64::from(self.0.trailing_zeros());
        self.0 &= self.0 - 1;
        Some(i)
    }
}

/// Chunk number and bit of a page address.
fn locate(page: u64) -> (u64, u64) {
    (page / CHUNK_BYTES, (page % CHUNK_BYTES) / PAGE_SIZE)
}

/// Resident pages, by page-aligned address. `len` comes first (`repr(C)`):
/// a lookup in an empty set reads only it (see [`crate::vma::Vma`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct ResidentPages {
    len: usize,
    chunks: BTreeMap<u64, Box<Chunk>>,
}

impl ResidentPages {
    pub fn new() -> Self {
        ResidentPages::default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The frame of `page`, if resident.
    pub fn get(&self, page: u64) -> Option<PhysAddr> {
        if self.len == 0 {
            return None;
        }
        let (number, bit) = locate(page);
        let chunk = self.chunks.get(&number)?;
        (chunk.present & (1 << bit) != 0).then(|| chunk.frames[bit as usize])
    }

    pub fn contains(&self, page: u64) -> bool {
        self.get(page).is_some()
    }

    /// Records `page -> frame`; a page already resident keeps its frame,
    /// which is returned as the error.
    pub fn insert_new(&mut self, page: u64, frame: PhysAddr) -> Result<(), PhysAddr> {
        let (number, bit) = locate(page);
        let chunk = self.chunks.entry(number).or_insert_with(Chunk::empty);
        if chunk.present & (1 << bit) != 0 {
            return Err(chunk.frames[bit as usize]);
        }
        chunk.present |= 1 << bit;
        chunk.frames[bit as usize] = frame;
        self.len += 1;
        Ok(())
    }

    /// [`Self::insert_new`] for a batch (one fault's pages): consecutive
    /// pages in one chunk cost one tree lookup between them. `refused` gets
    /// the index of each page already resident, with the frame it keeps.
    pub fn insert_all(&mut self, pages: &[(VirtAddr, PhysAddr)], mut refused: impl FnMut(usize, PhysAddr)) {
        let chunks = &mut self.chunks;
        let mut cached: Option<(u64, &mut Box<Chunk>)> = None;
        let mut added = 0;
        for (i, &(virt, frame)) in pages.iter().enumerate() {
            let (number, bit) = locate(virt.0);
            if cached.as_ref().map(|(n, _)| *n) != Some(number) {
                cached = Some((number, chunks.entry(number).or_insert_with(Chunk::empty)));
            }
            let (_, chunk) = cached.as_mut().expect("set just above");
            if chunk.present & (1 << bit) != 0 {
                refused(i, chunk.frames[bit as usize]);
                continue;
            }
            chunk.present |= 1 << bit;
            chunk.frames[bit as usize] = frame;
            added += 1;
        }
        self.len += added;
    }

    /// Records the 2 MiB page at `region` (2 MiB-aligned) backed by the
    /// 512 frames from `base`; refused, with the frame it keeps, if any of
    /// its pages is resident already.
    pub fn insert_huge(&mut self, region: u64, base: PhysAddr) -> Result<(), PhysAddr> {
        if let Some((_, frame)) = self.range(region..region + HUGE_PAGE_SIZE).next() {
            return Err(frame);
        }
        let first = region / CHUNK_BYTES;
        for k in 0..CHUNKS_PER_HUGE {
            let mut chunk = Chunk::empty();
            chunk.present = u64::MAX;
            chunk.huge = true;
            let chunk_base = base.0 + k * CHUNK_BYTES;
            for (i, frame) in chunk.frames.iter_mut().enumerate() {
                *frame = PhysAddr(chunk_base + i as u64 * PAGE_SIZE);
            }
            self.chunks.insert(first + k, chunk);
        }
        self.len += (HUGE_PAGE_SIZE / PAGE_SIZE) as usize;
        Ok(())
    }

    /// Whether `page` lies in a 2 MiB page mapped with one entry.
    pub fn is_huge(&self, page: u64) -> bool {
        self.chunks.get(&locate(page).0).is_some_and(|c| c.huge)
    }

    /// The 2 MiB pages mapped with one entry.
    pub fn huge_pages(&self) -> u64 {
        self.chunks.values().filter(|c| c.huge).count() as u64 / CHUNKS_PER_HUGE
    }

    /// Clears the huge mark of the 2 MiB page around `page`, if it has one
    /// (the kernel splits its entry when one of its pages changes).
    fn split_huge(&mut self, page: u64) {
        if !self.is_huge(page) {
            return;
        }
        let first = (page - page % HUGE_PAGE_SIZE) / CHUNK_BYTES;
        for (_, chunk) in self.chunks.range_mut(first..first + CHUNKS_PER_HUGE) {
            chunk.huge = false;
        }
    }

    /// Clears every huge mark: all the pages are about to be mapped again
    /// one by one (a protection change).
    pub fn split_all_huge(&mut self) {
        for chunk in self.chunks.values_mut() {
            chunk.huge = false;
        }
    }

    /// Forgets `page`, returning its frame.
    pub fn remove(&mut self, page: u64) -> Option<PhysAddr> {
        let (number, bit) = locate(page);
        let chunk = self.chunks.get_mut(&number)?;
        if chunk.present & (1 << bit) == 0 {
            return None;
        }
        if chunk.huge {
            self.split_huge(page);
        }
        let chunk = self.chunks.get_mut(&number).expect("present above");
        chunk.present &= !(1 << bit);
        let frame = chunk.frames[bit as usize];
        if chunk.present == 0 {
            self.chunks.remove(&number);
        }
        self.len -= 1;
        Some(frame)
    }

    /// Every resident page with its frame, lowest first.
    pub fn iter(&self) -> impl Iterator<Item = (u64, PhysAddr)> + '_ {
        self.chunks.iter().flat_map(|(&n, c)| c.pages(n))
    }

    /// The resident pages in `range`, lowest first.
    pub fn range(&self, range: Range<u64>) -> impl Iterator<Item = (u64, PhysAddr)> + '_ {
        let first = range.start / CHUNK_BYTES;
        // An empty or reversed range yields nothing (never a panic).
        let last = range.end.div_ceil(CHUNK_BYTES).max(first);
        self.chunks
            .range(first..last)
            .flat_map(|(&n, c)| c.pages(n))
            .filter(move |(p, _)| range.contains(p))
    }

    /// [`Self::range`] with, for each page, whether it lies in a 2 MiB page
    /// mapped with one entry (`/proc/<pid>/smaps`'s AnonHugePages).
    pub fn range_huge(&self, range: Range<u64>) -> impl Iterator<Item = (u64, PhysAddr, bool)> + '_ {
        let first = range.start / CHUNK_BYTES;
        let last = range.end.div_ceil(CHUNK_BYTES).max(first);
        self.chunks
            .range(first..last)
            .flat_map(|(&n, c)| c.pages(n).map(move |(p, f)| (p, f, c.huge)))
            .filter(move |(p, _, _)| range.contains(p))
    }

    pub fn frames(&self) -> impl Iterator<Item = PhysAddr> + '_ {
        self.iter().map(|(_, f)| f)
    }

    /// Moves the pages at or above `at` (page-aligned) into the result.
    /// A 2 MiB page `at` falls inside loses its huge mark.
    pub fn split_off(&mut self, at: u64) -> ResidentPages {
        if !at.is_multiple_of(HUGE_PAGE_SIZE) {
            self.split_huge(at);
        }
        let (number, bit) = locate(at);
        let mut high = self.chunks.split_off(&number);
        // The chunk holding `at` may have pages below it: they stay here.
        if let Some(chunk) = high.get_mut(&number) {
            let below = chunk.present & ((1u64 << bit) - 1);
            if below != 0 {
                let mut low = Chunk::empty();
                low.present = below;
                low.frames = chunk.frames;
                chunk.present &= !below;
                self.chunks.insert(number, low);
                if chunk.present == 0 {
                    high.remove(&number);
                }
            }
        }
        let moved = high.values().map(|c| c.present.count_ones() as usize).sum();
        self.len -= moved;
        ResidentPages {
            chunks: high,
            len: moved,
        }
    }

    /// Takes every page of `other`, whose pages all lie above ours (the
    /// high part of a merge).
    pub fn append(&mut self, other: &mut ResidentPages) {
        let mut theirs = core::mem::take(&mut other.chunks);
        self.len += core::mem::take(&mut other.len);
        // Both may have pages in one boundary chunk.
        if let Some((&number, _)) = theirs.first_key_value()
            && let Some(ours) = self.chunks.get_mut(&number)
        {
            let chunk = theirs.remove(&number).expect("first key");
            for i in Bits(chunk.present) {
                ours.frames[i as usize] = chunk.frames[i as usize];
            }
            ours.present |= chunk.present;
        }
        self.chunks.append(&mut theirs);
    }
}

impl IntoIterator for ResidentPages {
    type Item = (u64, PhysAddr);
    type IntoIter = alloc::vec::IntoIter<(u64, PhysAddr)>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter().collect::<alloc::vec::Vec<_>>().into_iter()
    }
}

#[cfg(test)]
mod tests {
    use alloc::{collections::BTreeMap, vec::Vec};

    use proptest::prelude::*;

    use super::*;

    const PAGE: u64 = PAGE_SIZE;

    #[test]
    fn insert_get_remove() {
        let mut r = ResidentPages::new();
        assert_eq!(r.insert_new(0x40_0000, PhysAddr(0x1000)), Ok(()));
        assert_eq!(r.insert_new(0x40_0000, PhysAddr(0x2000)), Err(PhysAddr(0x1000)));
        assert_eq!(r.get(0x40_0000), Some(PhysAddr(0x1000)));
        assert_eq!(r.get(0x40_1000), None);
        assert_eq!(r.len(), 1);
        assert_eq!(r.remove(0x40_1000), None);
        assert_eq!(r.remove(0x40_0000), Some(PhysAddr(0x1000)));
        assert!(r.is_empty());
        assert!(r.chunks.is_empty(), "an empty chunk is dropped");
        r.insert_new(0x40_0000, PhysAddr(0x1000)).unwrap();
        let (high, low) = (0x50_0000, 0x40_0000);
        assert_eq!(r.range(high..low).count(), 0, "a reversed range is empty");
    }

    #[test]
    fn split_inside_a_chunk_keeps_the_low_pages() {
        let mut r = ResidentPages::new();
        for i in 0..8 {
            r.insert_new(i * PAGE, PhysAddr((i + 1) * PAGE)).unwrap();
        }
        let high = r.split_off(5 * PAGE);
        assert_eq!(r.iter().map(|(p, _)| p / PAGE).collect::<Vec<_>>(), [0, 1, 2, 3, 4]);
        assert_eq!(high.iter().map(|(p, _)| p / PAGE).collect::<Vec<_>>(), [5, 6, 7]);
        assert_eq!((r.len(), high.len()), (5, 3));
        let mut high = high;
        r.append(&mut high);
        assert_eq!(r.len(), 8);
        assert!(high.is_empty());
        assert_eq!(r.get(6 * PAGE), Some(PhysAddr(7 * PAGE)));
    }

    #[derive(Clone, Debug)]
    enum Op {
        Insert(u64),
        InsertRun(u64, u64),
        Remove(u64),
        SplitAppend(u64),
        SplitKeep(u64),
    }

    fn op() -> impl Strategy<Value = Op> {
        // Pages over a few chunks, so boundaries are crossed often.
        let page = 0u64..(4 * CHUNK_PAGES);
        prop_oneof![
            4 => page.clone().prop_map(Op::Insert),
            2 => (page.clone(), 1u64..40).prop_map(|(p, n)| Op::InsertRun(p, n)),
            2 => page.clone().prop_map(Op::Remove),
            1 => page.clone().prop_map(Op::SplitAppend),
            1 => page.prop_map(Op::SplitKeep),
        ]
    }

    #[derive(Clone, Debug)]
    enum HugeOp {
        Insert(u64),
        InsertHuge(u64),
        Remove(u64),
        SplitAppend(u64),
        SplitKeep(u64),
        SplitAll,
    }

    fn huge_op() -> impl Strategy<Value = HugeOp> {
        // Pages over three 2 MiB regions.
        let page = 0u64..(3 * 512);
        prop_oneof![
            2 => page.clone().prop_map(HugeOp::Insert),
            3 => (0u64..3).prop_map(HugeOp::InsertHuge),
            3 => page.clone().prop_map(HugeOp::Remove),
            1 => page.clone().prop_map(HugeOp::SplitAppend),
            1 => page.prop_map(HugeOp::SplitKeep),
            1 => Just(HugeOp::SplitAll),
        ]
    }

    #[test]
    fn a_huge_page_is_its_pages_until_one_changes() {
        let mut r = ResidentPages::new();
        r.insert_huge(0x40_0000, PhysAddr(0x1_0000_0000)).unwrap();
        assert_eq!(r.len(), 512);
        assert_eq!(r.huge_pages(), 1);
        assert_eq!(r.get(0x40_3000), Some(PhysAddr(0x1_0000_3000)));
        assert!(r.is_huge(0x5f_f000) && !r.is_huge(0x60_0000));
        assert_eq!(
            r.insert_huge(0x40_0000, PhysAddr(0x2_0000_0000)),
            Err(PhysAddr(0x1_0000_0000))
        );
        assert_eq!(r.remove(0x41_0000), Some(PhysAddr(0x1_0001_0000)));
        assert_eq!((r.len(), r.huge_pages()), (511, 0));
        assert!(!r.is_huge(0x40_0000));
    }

    proptest! {
        // Every operation agrees with a BTreeMap keyed by page.
        #[test]
        fn agrees_with_a_page_map(ops in proptest::collection::vec(op(), 1..200)) {
            let mut r = ResidentPages::new();
            let mut model: BTreeMap<u64, PhysAddr> = BTreeMap::new();
            for (n, op) in ops.into_iter().enumerate() {
                let frame = PhysAddr((n as u64 + 1) * PAGE);
                match op {
                    Op::Insert(p) => {
                        let want = match model.get(&(p * PAGE)) {
                            Some(&old) => Err(old),
                            None => {
                                model.insert(p * PAGE, frame);
                                Ok(())
                            }
                        };
                        prop_assert_eq!(r.insert_new(p * PAGE, frame), want);
                    }
                    Op::Remove(p) => prop_assert_eq!(r.remove(p * PAGE), model.remove(&(p * PAGE))),
                    Op::InsertRun(p, n) => {
                        let run: Vec<(VirtAddr, PhysAddr)> =
                            (p..p + n).map(|q| (VirtAddr(q * PAGE), PhysAddr((q + 1) * PAGE))).collect();
                        let mut want = Vec::new();
                        for (i, &(v, f)) in run.iter().enumerate() {
                            match model.get(&v.0) {
                                Some(&old) => want.push((i, old)),
                                None => {
                                    model.insert(v.0, f);
                                }
                            }
                        }
                        let mut got = Vec::new();
                        r.insert_all(&run, |i, old| got.push((i, old)));
                        prop_assert_eq!(got, want);
                    }
                    Op::SplitAppend(p) => {
                        let mut high = r.split_off(p * PAGE);
                        let model_high = model.split_off(&(p * PAGE));
                        prop_assert_eq!(high.iter().collect::<Vec<_>>(), model_high.clone().into_iter().collect::<Vec<_>>());
                        r.append(&mut high);
                        model.extend(model_high);
                    }
                    Op::SplitKeep(p) => {
                        let high = r.split_off(p * PAGE);
                        let model_high = model.split_off(&(p * PAGE));
                        prop_assert_eq!(high.len(), model_high.len());
                        prop_assert_eq!(high.into_iter().collect::<Vec<_>>(), model_high.into_iter().collect::<Vec<_>>());
                    }
                }
                prop_assert_eq!(r.len(), model.len());
                prop_assert_eq!(r.iter().collect::<Vec<_>>(), model.iter().map(|(&p, &f)| (p, f)).collect::<Vec<_>>());
                let (lo, hi) = (37 * PAGE, 170 * PAGE);
                prop_assert_eq!(
                    r.range(lo..hi).collect::<Vec<_>>(),
                    model.range(lo..hi).map(|(&p, &f)| (p, f)).collect::<Vec<_>>()
                );
            }
        }

        /// 2 MiB pages with the others against a model: the page map plus
        /// the set of huge regions. Removing a page of one, or splitting
        /// inside one, unmarks it; the pages themselves stay as the model's.
        #[test]
        fn huge_marks_follow_a_region_model(ops in proptest::collection::vec(huge_op(), 1..120)) {
            const HUGE: u64 = HUGE_PAGE_SIZE;
            let mut r = ResidentPages::new();
            let mut model: BTreeMap<u64, PhysAddr> = BTreeMap::new();
            let mut huge: alloc::collections::BTreeSet<u64> = alloc::collections::BTreeSet::new();
            for (n, op) in ops.into_iter().enumerate() {
                let frame = PhysAddr((n as u64 + 1) * PAGE);
                match op {
                    HugeOp::Insert(p) => {
                        let want = match model.get(&(p * PAGE)) {
                            Some(&old) => Err(old),
                            None => {
                                model.insert(p * PAGE, frame);
                                Ok(())
                            }
                        };
                        prop_assert_eq!(r.insert_new(p * PAGE, frame), want);
                    }
                    HugeOp::InsertHuge(region) => {
                        let at = region * HUGE;
                        let base = PhysAddr((1 << 40) + n as u64 * HUGE);
                        let want = match model.range(at..at + HUGE).next() {
                            Some((_, &old)) => Err(old),
                            None => {
                                for k in 0..512 {
                                    model.insert(at + k * PAGE, PhysAddr(base.0 + k * PAGE));
                                }
                                huge.insert(at);
                                Ok(())
                            }
                        };
                        prop_assert_eq!(r.insert_huge(at, base), want);
                    }
                    HugeOp::Remove(p) => {
                        let got = r.remove(p * PAGE);
                        let want = model.remove(&(p * PAGE));
                        if want.is_some() {
                            huge.remove(&(p * PAGE - p * PAGE % HUGE));
                        }
                        prop_assert_eq!(got, want);
                    }
                    HugeOp::SplitAppend(p) => {
                        if p * PAGE % HUGE != 0 {
                            huge.remove(&(p * PAGE - p * PAGE % HUGE));
                        }
                        let mut high = r.split_off(p * PAGE);
                        r.append(&mut high);
                    }
                    HugeOp::SplitKeep(p) => {
                        if p * PAGE % HUGE != 0 {
                            huge.remove(&(p * PAGE - p * PAGE % HUGE));
                        }
                        let high = r.split_off(p * PAGE);
                        let model_high = model.split_off(&(p * PAGE));
                        huge.retain(|&h| h < p * PAGE);
                        prop_assert_eq!(high.len(), model_high.len());
                    }
                    HugeOp::SplitAll => {
                        r.split_all_huge();
                        huge.clear();
                    }
                }
                prop_assert_eq!(r.len(), model.len());
                prop_assert_eq!(r.iter().collect::<Vec<_>>(), model.iter().map(|(&p, &f)| (p, f)).collect::<Vec<_>>());
                prop_assert_eq!(r.huge_pages(), huge.len() as u64);
                let marked = r.range_huge(0..3 * HUGE).filter(|&(_, _, h)| h).count() as u64;
                prop_assert_eq!(marked, 512 * huge.len() as u64);
                for region in 0..3 {
                    prop_assert_eq!(r.is_huge(region * HUGE + 5 * PAGE), huge.contains(&(region * HUGE)));
                }
            }
        }
    }
}
