//! The resident pages of one VMA: page address -> frame.
//!
//! Pages are grouped in chunks of [`CHUNK_PAGES`] consecutive pages (a
//! presence bitmap and the frames), kept in a `BTreeMap` by chunk number.
//! A fault-around window lands in one or two chunks, so recording its pages
//! is one tree lookup per chunk and a store per page, where a map keyed by
//! page pays a tree descent (and node splits) for every page. Iteration is
//! in address order, as `/proc/<pid>/smaps` and pagemap need.
//!
//! Each page says what backs it ([`Frame`]): its own frame, written or
//! clean, or the shared zero frame. Two more bitmaps per chunk hold that, so the common case
//! (anonymous frames) costs nothing more than a frame did.
//!
//! A 2 MiB page is its 512 pages here, as any others (so munmap, mprotect
//! and mremap need nothing new), with its eight chunks marked huge while
//! the kernel maps them with one entry. Removing any of its pages, or
//! splitting inside it, clears the mark: the kernel splits the entry then.

use alloc::{boxed::Box, collections::BTreeMap};
use core::ops::Range;

use libipc::types::{HUGE_PAGE_SIZE, PAGE_SIZE, PhysAddr, Prot, VirtAddr};

/// Pages per chunk: one bit each in a `u64` bitmap.
pub const CHUNK_PAGES: u64 = 64;
const CHUNK_BYTES: u64 = CHUNK_PAGES * PAGE_SIZE;
/// Chunks of one 2 MiB page.
const CHUNKS_PER_HUGE: u64 = HUGE_PAGE_SIZE / CHUNK_BYTES;

/// What backs a resident page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Frame {
    /// The page's own frame, written (or anonymous memory, which Linux
    /// counts dirty from the start). In a private mapping that is anonymous
    /// data, a written file page included (Linux's copy-on-write makes it
    /// an anonymous page: Anonymous and Private_Dirty in smaps).
    Dirty(PhysAddr),
    /// The page's own frame, not written since it was filled: a file page,
    /// or a shared anonymous page only read (Private_Clean). Mapped without
    /// write access, so the first write faults and makes it
    /// [`Frame::Dirty`].
    Clean(PhysAddr),
    /// The shared zero frame (the kernel's): a page of anonymous memory
    /// that was only read. Never the page's own, never freed, never mapped
    /// writable; the first write replaces it with a fresh frame.
    Zero,
}

impl Frame {
    /// The page's own frame, which goes back to the pool when the page
    /// goes; `None` for the shared zero frame.
    pub fn own(self) -> Option<PhysAddr> {
        match self {
            Frame::Dirty(f) | Frame::Clean(f) => Some(f),
            Frame::Zero => None,
        }
    }

    /// The protection its page-table entry gets in a VMA of protection
    /// `prot`: the shared zero frame and unwritten file copies never
    /// writable, so that a write faults (copy-on-write).
    /// (x86 cannot map a page write-only, so an accessible page stays
    /// readable.)
    pub fn pte_prot(self, prot: Prot) -> Prot {
        match self {
            Frame::Dirty(_) => prot,
            Frame::Clean(_) | Frame::Zero if prot == Prot::NONE => prot,
            Frame::Clean(_) | Frame::Zero => prot.difference(Prot::WRITE).union(Prot::READ),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Chunk {
    /// Bit `i`: page `i` of the chunk is resident.
    present: u64,
    /// Bit `i`: page `i` maps the shared zero frame (its `frames` slot is
    /// unused).
    zero: u64,
    /// Bit `i`: page `i`'s frame is clean (not written since filled).
    clean: u64,
    /// Bit `i`: page `i` has a frame of its own that a fault filled and
    /// that holds what its fill put there unless the kernel reports it
    /// dirty; reclaim may drop it. Any other way in (the initial stack, a
    /// move, a page kept while `PROT_NONE`, a replaced frame) leaves it
    /// out, so nothing the pager cannot refill is ever taken for clean.
    refillable: u64,
    /// Part of a 2 MiB page the kernel maps with one entry.
    huge: bool,
    frames: [PhysAddr; CHUNK_PAGES as usize],
}

impl Chunk {
    fn empty() -> Box<Chunk> {
        Box::new(Chunk {
            present: 0,
            zero: 0,
            clean: 0,
            refillable: 0,
            huge: false,
            frames: [PhysAddr(0); CHUNK_PAGES as usize],
        })
    }

    fn frame(&self, bit: u64) -> Frame {
        let mask = 1 << bit;
        if self.zero & mask != 0 {
            Frame::Zero
        } else if self.clean & mask != 0 {
            Frame::Clean(self.frames[bit as usize])
        } else {
            Frame::Dirty(self.frames[bit as usize])
        }
    }

    /// Stores `frame` as page `bit`'s (marking it present, not
    /// refillable).
    fn set(&mut self, bit: u64, frame: Frame) {
        let mask = 1 << bit;
        self.present |= mask;
        self.zero &= !mask;
        self.clean &= !mask;
        self.refillable &= !mask;
        match frame {
            Frame::Dirty(f) => self.frames[bit as usize] = f,
            Frame::Clean(f) => {
                self.clean |= mask;
                self.frames[bit as usize] = f;
            }
            Frame::Zero => {
                self.zero |= mask;
                self.frames[bit as usize] = PhysAddr(0);
            }
        }
    }

    /// Forgets page `bit`.
    fn clear(&mut self, bit: u64) {
        let mask = !(1 << bit);
        self.present &= mask;
        self.zero &= mask;
        self.clean &= mask;
        self.refillable &= mask;
    }

    /// The resident pages of the chunk numbered `number`, lowest first.
    fn pages(&self, number: u64) -> impl Iterator<Item = (u64, Frame)> + '_ {
        Bits(self.present).map(move |i| (number * CHUNK_BYTES + i * PAGE_SIZE, self.frame(i)))
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
    pub fn get(&self, page: u64) -> Option<Frame> {
        if self.len == 0 {
            return None;
        }
        let (number, bit) = locate(page);
        let chunk = self.chunks.get(&number)?;
        (chunk.present & (1 << bit) != 0).then(|| chunk.frame(bit))
    }

    /// Replaces the frame of `page`, which must be resident (a file copy
    /// written, turning anonymous); returns the frame it had.
    /// A 2 MiB page it lies in loses its mark (the kernel maps the new
    /// frame with a 4 KiB entry, splitting the 2 MiB one).
    pub fn replace(&mut self, page: u64, frame: Frame) -> Option<Frame> {
        let (number, bit) = locate(page);
        let chunk = self.chunks.get(&number)?;
        if chunk.present & (1 << bit) == 0 {
            return None;
        }
        if chunk.huge {
            self.split_huge(page);
        }
        let chunk = self.chunks.get_mut(&number).expect("present above");
        let old = chunk.frame(bit);
        chunk.set(bit, frame);
        Some(old)
    }

    pub fn contains(&self, page: u64) -> bool {
        self.get(page).is_some()
    }

    /// Records `page -> frame`; a page already resident keeps its frame,
    /// which is returned as the error. A page of the shared zero frame
    /// takes a frame of its own (the copy of its first write) but never
    /// the zero frame again.
    pub fn insert_new(&mut self, page: u64, frame: Frame) -> Result<(), Frame> {
        let (number, bit) = locate(page);
        let chunk = self.chunks.entry(number).or_insert_with(Chunk::empty);
        if chunk.present & (1 << bit) != 0 {
            let old = chunk.frame(bit);
            if !copies_zero(old, frame) {
                return Err(old);
            }
            chunk.set(bit, frame);
            return Ok(());
        }
        chunk.set(bit, frame);
        self.len += 1;
        Ok(())
    }

    /// [`Self::insert_new`] for a batch (one fault's pages, each holding
    /// its fill, so [`Self::is_refillable`] unless it is the shared zero
    /// frame): consecutive pages in one chunk cost one tree lookup between
    /// them. `refused` gets the index of each page already resident, with
    /// the frame it keeps.
    pub fn insert_all(&mut self, pages: &[(VirtAddr, Frame)], mut refused: impl FnMut(usize, Frame)) {
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
                let old = chunk.frame(bit);
                if copies_zero(old, frame) {
                    chunk.set(bit, frame);
                    chunk.refillable |= 1 << bit;
                } else {
                    refused(i, old);
                }
                continue;
            }
            chunk.set(bit, frame);
            if frame != Frame::Zero {
                chunk.refillable |= 1 << bit;
            }
            added += 1;
        }
        self.len += added;
    }

    /// Records the 2 MiB page at `region` (2 MiB-aligned) backed by the
    /// 512 frames from `base`; refused, with the frame it keeps, if any of
    /// its pages is resident already.
    pub fn insert_huge(&mut self, region: u64, base: PhysAddr) -> Result<(), Frame> {
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
    pub fn remove(&mut self, page: u64) -> Option<Frame> {
        let (number, bit) = locate(page);
        let chunk = self.chunks.get_mut(&number)?;
        if chunk.present & (1 << bit) == 0 {
            return None;
        }
        if chunk.huge {
            self.split_huge(page);
        }
        let chunk = self.chunks.get_mut(&number).expect("present above");
        let frame = chunk.frame(bit);
        chunk.clear(bit);
        if chunk.present == 0 {
            self.chunks.remove(&number);
        }
        self.len -= 1;
        Some(frame)
    }

    /// Whether `page` is resident in a frame of its own that still holds
    /// its fill as far as the pager knows (see [`Self::insert_all`]).
    pub fn is_refillable(&self, page: u64) -> bool {
        let (number, bit) = locate(page);
        self.chunks.get(&number).is_some_and(|c| c.refillable & (1 << bit) != 0)
    }

    /// Marks `page` as no longer what its fill gave: written (the kernel
    /// reported it dirty, or the pager wrote it) or out of the page tables
    /// for a while. For good: only a new fault makes a page refillable.
    pub fn mark_written(&mut self, page: u64) {
        let (number, bit) = locate(page);
        if let Some(c) = self.chunks.get_mut(&number) {
            c.refillable &= !(1 << bit);
        }
    }

    /// [`Self::mark_written`] for every page.
    pub fn mark_all_written(&mut self) {
        for c in self.chunks.values_mut() {
            c.refillable = 0;
        }
    }

    /// The refillable pages as runs of one chunk each: the chunk's first
    /// address and a bitmap of its refillable pages, lowest first.
    pub fn refillable_chunks(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.chunks
            .iter()
            .filter(|(_, c)| c.refillable != 0)
            .map(|(&n, c)| (n * CHUNK_BYTES, c.refillable))
    }

    /// Every resident page with its frame, lowest first.
    pub fn iter(&self) -> impl Iterator<Item = (u64, Frame)> + '_ {
        self.chunks.iter().flat_map(|(&n, c)| c.pages(n))
    }

    /// The resident pages in `range`, lowest first.
    pub fn range(&self, range: Range<u64>) -> impl Iterator<Item = (u64, Frame)> + '_ {
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
    pub fn range_huge(&self, range: Range<u64>) -> impl Iterator<Item = (u64, Frame, bool)> + '_ {
        let first = range.start / CHUNK_BYTES;
        let last = range.end.div_ceil(CHUNK_BYTES).max(first);
        self.chunks
            .range(first..last)
            .flat_map(|(&n, c)| c.pages(n).map(move |(p, f)| (p, f, c.huge)))
            .filter(move |(p, _, _)| range.contains(p))
    }

    /// The pages' own frames (what goes back to the pool when they go):
    /// the shared zero frame is never one of them.
    pub fn frames(&self) -> impl Iterator<Item = PhysAddr> + '_ {
        self.iter().filter_map(|(_, f)| f.own())
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
                low.zero = chunk.zero & below;
                low.clean = chunk.clean & below;
                low.refillable = chunk.refillable & below;
                low.frames = chunk.frames;
                chunk.present &= !below;
                chunk.zero &= !below;
                chunk.clean &= !below;
                chunk.refillable &= !below;
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
                ours.set(i, chunk.frame(i));
            }
            ours.refillable |= chunk.refillable;
        }
        self.chunks.append(&mut theirs);
    }
}

/// Whether storing `new` over a resident `old` is the copy of a zero
/// page's first write (the one replacement a commit allows).
fn copies_zero(old: Frame, new: Frame) -> bool {
    old == Frame::Zero && new != Frame::Zero
}

impl IntoIterator for ResidentPages {
    type Item = (u64, Frame);
    type IntoIter = alloc::vec::IntoIter<(u64, Frame)>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter().collect::<alloc::vec::Vec<_>>().into_iter()
    }
}

#[cfg(test)]
mod tests {
    use alloc::{
        collections::{BTreeMap, BTreeSet},
        vec::Vec,
    };

    use proptest::prelude::*;

    use super::*;

    const PAGE: u64 = PAGE_SIZE;

    #[test]
    fn insert_get_remove() {
        let mut r = ResidentPages::new();
        assert_eq!(r.insert_new(0x40_0000, Frame::Dirty(PhysAddr(0x1000))), Ok(()));
        assert_eq!(
            r.insert_new(0x40_0000, Frame::Dirty(PhysAddr(0x2000))),
            Err(Frame::Dirty(PhysAddr(0x1000)))
        );
        assert_eq!(r.get(0x40_0000), Some(Frame::Dirty(PhysAddr(0x1000))));
        assert_eq!(r.get(0x40_1000), None);
        assert_eq!(r.len(), 1);
        assert_eq!(r.remove(0x40_1000), None);
        assert_eq!(r.remove(0x40_0000), Some(Frame::Dirty(PhysAddr(0x1000))));
        assert!(r.is_empty());
        assert!(r.chunks.is_empty(), "an empty chunk is dropped");
        r.insert_new(0x40_0000, Frame::Dirty(PhysAddr(0x1000))).unwrap();
        let (high, low) = (0x50_0000, 0x40_0000);
        assert_eq!(r.range(high..low).count(), 0, "a reversed range is empty");
    }

    #[test]
    fn split_inside_a_chunk_keeps_the_low_pages() {
        let mut r = ResidentPages::new();
        for i in 0..8 {
            r.insert_new(i * PAGE, Frame::Dirty(PhysAddr((i + 1) * PAGE))).unwrap();
        }
        let high = r.split_off(5 * PAGE);
        assert_eq!(r.iter().map(|(p, _)| p / PAGE).collect::<Vec<_>>(), [0, 1, 2, 3, 4]);
        assert_eq!(high.iter().map(|(p, _)| p / PAGE).collect::<Vec<_>>(), [5, 6, 7]);
        assert_eq!((r.len(), high.len()), (5, 3));
        let mut high = high;
        r.append(&mut high);
        assert_eq!(r.len(), 8);
        assert!(high.is_empty());
        assert_eq!(r.get(6 * PAGE), Some(Frame::Dirty(PhysAddr(7 * PAGE))));
    }

    /// Frames of every kind, by `n`: anonymous, unwritten file copies and
    /// the shared zero frame.
    fn kind(n: u64, phys: PhysAddr) -> Frame {
        match n % 3 {
            0 => Frame::Dirty(phys),
            1 => Frame::Clean(phys),
            _ => Frame::Zero,
        }
    }

    #[derive(Clone, Debug)]
    enum Op {
        Insert(u64),
        InsertRun(u64, u64),
        Remove(u64),
        SplitAppend(u64),
        SplitKeep(u64),
        MarkWritten(u64),
        MarkAllWritten,
    }

    fn op() -> impl Strategy<Value = Op> {
        // Pages over a few chunks, so boundaries are crossed often.
        let page = 0u64..(4 * CHUNK_PAGES);
        prop_oneof![
            4 => page.clone().prop_map(Op::Insert),
            2 => (page.clone(), 1u64..40).prop_map(|(p, n)| Op::InsertRun(p, n)),
            2 => page.clone().prop_map(Op::Remove),
            1 => page.clone().prop_map(Op::SplitAppend),
            1 => page.clone().prop_map(Op::SplitKeep),
            2 => page.prop_map(Op::MarkWritten),
            1 => Just(Op::MarkAllWritten),
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
        assert_eq!(r.get(0x40_3000), Some(Frame::Dirty(PhysAddr(0x1_0000_3000))));
        assert!(r.is_huge(0x5f_f000) && !r.is_huge(0x60_0000));
        assert_eq!(
            r.insert_huge(0x40_0000, PhysAddr(0x2_0000_0000)),
            Err(Frame::Dirty(PhysAddr(0x1_0000_0000)))
        );
        assert_eq!(r.remove(0x41_0000), Some(Frame::Dirty(PhysAddr(0x1_0001_0000))));
        assert_eq!((r.len(), r.huge_pages()), (511, 0));
        assert!(!r.is_huge(0x40_0000));
    }

    proptest! {
        // Every operation agrees with a BTreeMap keyed by page, and the
        // refillable pages with a set: those of their own frame a batch (a
        // fault) inserted and nothing marked written, replaced or removed
        // since.
        #[test]
        fn agrees_with_a_page_map(ops in proptest::collection::vec(op(), 1..200)) {
            let mut r = ResidentPages::new();
            let mut model: BTreeMap<u64, Frame> = BTreeMap::new();
            let mut refill: BTreeSet<u64> = BTreeSet::new();
            for (n, op) in ops.into_iter().enumerate() {
                let frame = kind(n as u64, PhysAddr((n as u64 + 1) * PAGE));
                match op {
                    Op::Insert(p) => {
                        let want = match model.get(&(p * PAGE)) {
                            Some(&old) if !(old == Frame::Zero && frame != Frame::Zero) => Err(old),
                            _ => {
                                model.insert(p * PAGE, frame);
                                refill.remove(&(p * PAGE));
                                Ok(())
                            }
                        };
                        prop_assert_eq!(r.insert_new(p * PAGE, frame), want);
                    }
                    Op::Remove(p) => {
                        refill.remove(&(p * PAGE));
                        prop_assert_eq!(r.remove(p * PAGE), model.remove(&(p * PAGE)));
                    }
                    Op::MarkWritten(p) => {
                        refill.remove(&(p * PAGE));
                        r.mark_written(p * PAGE);
                    }
                    Op::MarkAllWritten => {
                        refill.clear();
                        r.mark_all_written();
                    }
                    Op::InsertRun(p, n) => {
                        let run: Vec<(VirtAddr, Frame)> =
                            (p..p + n).map(|q| (VirtAddr(q * PAGE), kind(q, PhysAddr((q + 1) * PAGE)))).collect();
                        let mut want = Vec::new();
                        for (i, &(v, f)) in run.iter().enumerate() {
                            match model.get(&v.0) {
                                Some(&old) if !(old == Frame::Zero && f != Frame::Zero) => want.push((i, old)),
                                _ => {
                                    model.insert(v.0, f);
                                    if f == Frame::Zero {
                                        refill.remove(&v.0);
                                    } else {
                                        refill.insert(v.0);
                                    }
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
                        let refill_high = refill.split_off(&(p * PAGE));
                        prop_assert_eq!(
                            high.refillable_chunks().flat_map(|(base, bits)| Bits(bits).map(move |i| base + i * PAGE)).collect::<Vec<_>>(),
                            refill_high.into_iter().collect::<Vec<_>>()
                        );
                        prop_assert_eq!(high.len(), model_high.len());
                        prop_assert_eq!(high.into_iter().collect::<Vec<_>>(), model_high.into_iter().collect::<Vec<_>>());
                    }
                }
                prop_assert_eq!(r.len(), model.len());
                prop_assert_eq!(
                    r.refillable_chunks().flat_map(|(base, bits)| Bits(bits).map(move |i| base + i * PAGE)).collect::<Vec<_>>(),
                    refill.iter().copied().collect::<Vec<_>>()
                );
                for p in 0..4 * CHUNK_PAGES {
                    prop_assert_eq!(r.is_refillable(p * PAGE), refill.contains(&(p * PAGE)));
                }
                // Only the pages' own frames go back to the pool.
                prop_assert_eq!(
                    r.frames().collect::<Vec<_>>(),
                    model.values().filter_map(|f| f.own()).collect::<Vec<_>>()
                );
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
            let mut model: BTreeMap<u64, Frame> = BTreeMap::new();
            let mut huge: alloc::collections::BTreeSet<u64> = alloc::collections::BTreeSet::new();
            for (n, op) in ops.into_iter().enumerate() {
                let frame = Frame::Dirty(PhysAddr((n as u64 + 1) * PAGE));
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
                                    model.insert(at + k * PAGE, Frame::Dirty(PhysAddr(base.0 + k * PAGE)));
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
                        if !(p * PAGE).is_multiple_of(HUGE) {
                            huge.remove(&(p * PAGE - p * PAGE % HUGE));
                        }
                        let mut high = r.split_off(p * PAGE);
                        r.append(&mut high);
                    }
                    HugeOp::SplitKeep(p) => {
                        if !(p * PAGE).is_multiple_of(HUGE) {
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
