//! The pager's physical frame pool: the frames the kernel handed over, as a
//! list of physical ranges, handed out as 4 KiB frames or as 2 MiB-aligned
//! runs of 512 (huge frames).
//!
//! Frames are numbered so that a 2 MiB-aligned frame's number is a multiple
//! of 512: each range starts its numbers in a fresh block of 512, at its
//! base's offset in its 2 MiB block, and the numbers no frame has are
//! never free. Block `n` (numbers `512n..512n+512`) is then a huge frame
//! whenever all 512 of its frames are free, found with a division.
//!
//! - 4 KiB: a stack of free numbers (O(1)); the lowest come first, and
//!   frames freed last are reused first, so small frames stay together.
//! - 2 MiB: a stack of the blocks that may be wholly free (each listed at
//!   most once; a block whose frames were taken one by one since it was
//!   listed is skipped when popped). Huge frames come from the highest
//!   blocks, far from where small frames are taken.
//! - Taking a huge frame leaves its 512 numbers on the small stack, stale
//!   (a popped number already in use is skipped); the stack is rebuilt
//!   when stale numbers would outgrow it.
//!
//! A per-frame flag catches double frees, and a binary search over the
//! ranges maps an address back to its number (O(log ranges)) so a foreign
//! frame is an error rather than a corruption.

use alloc::vec::Vec;

use libipc::types::{HUGE_PAGE_SIZE, PAGE_SIZE, PAGES_PER_HUGE, PageCount, PhysAddr};

/// Frame numbers per 2 MiB block.
const BLOCK: u32 = PAGES_PER_HUGE as u32;

/// One physical range the kernel hands over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameRange {
    pub base: PhysAddr,
    pub frames: PageCount,
}

/// Why a pool could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolError {
    /// A range's base is not page-aligned.
    Unaligned(PhysAddr),
    /// Two ranges overlap, or one wraps around the address space.
    Overlap(PhysAddr),
    /// More frame numbers than the index type holds (2^32).
    TooLarge,
}

/// Why a frame could not be returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FreeError {
    /// Not a frame of this pool (for a huge frame: not the first of 512
    /// frames of this pool in one 2 MiB block).
    Foreign(PhysAddr),
    /// Already free (for a huge frame: one of its frames is).
    DoubleFree(PhysAddr),
}

/// A range with the number of its first frame.
#[derive(Clone, Copy, Debug)]
struct Run {
    base: u64,
    end: u64,
    first: u32,
}

#[derive(Clone, Debug)]
pub struct FramePool {
    /// Sorted by base, non-overlapping.
    runs: Vec<Run>,
    /// Frames of the ranges (numbers without a frame not counted).
    total: u64,
    /// Frames free now.
    free_frames: u64,
    /// Free frame numbers, and stale ones (in use: skipped when popped);
    /// every free frame is here at least once.
    free: Vec<u32>,
    /// Per number: taken, or no frame has it.
    in_use: Vec<bool>,
    /// Per block: how many of its frames are free (512: a huge frame).
    block_free: Vec<u16>,
    /// Blocks that may be wholly free, each at most once (`listed`).
    whole: Vec<u32>,
    listed: Vec<bool>,
}

impl FramePool {
    /// A pool over `ranges` (any order; empty ranges are skipped).
    pub fn from_ranges(ranges: &[FrameRange]) -> Result<FramePool, PoolError> {
        let mut sorted: Vec<FrameRange> = ranges.iter().copied().filter(|r| r.frames.0 > 0).collect();
        sorted.sort_by_key(|r| r.base);
        let mut runs = Vec::with_capacity(sorted.len());
        let mut total: u64 = 0;
        // One past the highest frame number given so far.
        let mut numbers: u64 = 0;
        let mut prev_end = 0u64;
        for r in sorted {
            if !r.base.is_page_aligned() {
                return Err(PoolError::Unaligned(r.base));
            }
            let end = r
                .frames
                .0
                .checked_mul(PAGE_SIZE)
                .and_then(|len| r.base.0.checked_add(len));
            let Some(end) = end.filter(|_| r.base.0 >= prev_end) else {
                return Err(PoolError::Overlap(r.base));
            };
            // A fresh block, at the base's place in its 2 MiB block.
            let first = numbers.next_multiple_of(u64::from(BLOCK)) + (r.base.0 % HUGE_PAGE_SIZE) / PAGE_SIZE;
            numbers = first + r.frames.0;
            if numbers > u64::from(u32::MAX) {
                return Err(PoolError::TooLarge);
            }
            total += r.frames.0;
            runs.push(Run {
                base: r.base.0,
                end,
                // Checked above: below 2^32.
                first: first as u32,
            });
            prev_end = end;
        }
        let blocks = numbers.div_ceil(u64::from(BLOCK)) as usize;
        let slots = blocks * BLOCK as usize;
        let mut pool = FramePool {
            runs,
            total,
            free_frames: total,
            free: Vec::with_capacity(total as usize),
            in_use: alloc::vec![true; slots],
            block_free: alloc::vec![0; blocks],
            whole: Vec::new(),
            listed: alloc::vec![false; blocks],
        };
        for run in &pool.runs {
            let frames = ((run.end - run.base) / PAGE_SIZE) as u32;
            for i in run.first..run.first + frames {
                pool.in_use[i as usize] = false;
                pool.block_free[(i / BLOCK) as usize] += 1;
            }
        }
        pool.rebuild_free();
        for block in 0..blocks as u32 {
            if pool.block_free[block as usize] == BLOCK as u16 {
                pool.whole.push(block);
                pool.listed[block as usize] = true;
            }
        }
        Ok(pool)
    }

    /// A pool of one range of `frames` frames from `base`, as the kernel's
    /// boot information describes it.
    ///
    /// # Panics
    /// If the range is unaligned, wraps, or holds 2^32 frames or more: the
    /// kernel's boot information is then wrong and nothing can be served.
    /// Use [`FramePool::from_ranges`] to handle that as an error.
    pub fn new(base: PhysAddr, frames: u64) -> FramePool {
        match FramePool::single(base, frames) {
            Ok(pool) => pool,
            Err(e) => panic!("bad frame pool {base:x?}+{frames}: {e:?}"),
        }
    }

    /// A pool of one range of `frames` frames from `base`.
    pub fn single(base: PhysAddr, frames: u64) -> Result<FramePool, PoolError> {
        FramePool::from_ranges(&[FrameRange {
            base,
            frames: PageCount(frames),
        }])
    }

    /// A free frame, or `None` when the pool is exhausted.
    pub fn alloc(&mut self) -> Option<PhysAddr> {
        loop {
            let i = self.free.pop()?;
            if !self.in_use[i as usize] {
                self.in_use[i as usize] = true;
                self.block_free[(i / BLOCK) as usize] -= 1;
                self.free_frames -= 1;
                return Some(self.address_of(i));
            }
        }
    }

    /// A free huge frame (512 frames from a 2 MiB-aligned address), or
    /// `None` when no 2 MiB block is wholly free: the caller falls back
    /// to 4 KiB frames.
    pub fn alloc_huge(&mut self) -> Option<PhysAddr> {
        loop {
            let block = self.whole.pop()?;
            self.listed[block as usize] = false;
            if self.block_free[block as usize] == BLOCK as u16 {
                let first = block * BLOCK;
                self.in_use[first as usize..(first + BLOCK) as usize].fill(true);
                self.block_free[block as usize] = 0;
                self.free_frames -= u64::from(BLOCK);
                return Some(self.address_of(first));
            }
        }
    }

    /// Returns `frame` to the pool.
    pub fn free(&mut self, frame: PhysAddr) -> Result<(), FreeError> {
        let i = self.index_of(frame).ok_or(FreeError::Foreign(frame))?;
        if !self.in_use[i as usize] {
            return Err(FreeError::DoubleFree(frame));
        }
        self.mark_free(i);
        self.compact();
        Ok(())
    }

    /// Gives back the own frames of pages an operation dropped (the
    /// shared zero frame is none of them). A frame the space held came
    /// from this pool: an error here is a bookkeeping bug, and the frame
    /// is then better lost than reused.
    pub fn release(&mut self, dropped: impl IntoIterator<Item = crate::space::Dropped>) {
        for frame in dropped.into_iter().filter_map(|(_, f)| f.own()) {
            let _ = self.free(frame);
        }
    }

    /// Returns a huge frame from [`Self::alloc_huge`] (or any 512 frames of
    /// one block in use): all or nothing.
    pub fn free_huge(&mut self, frame: PhysAddr) -> Result<(), FreeError> {
        let first = self
            .index_of(frame)
            .filter(|&i| frame.is_huge_aligned() && i % BLOCK == 0)
            .filter(|&i| self.index_of(PhysAddr(frame.0 + HUGE_PAGE_SIZE - PAGE_SIZE)) == Some(i + BLOCK - 1))
            .ok_or(FreeError::Foreign(frame))?;
        if let Some(k) = (first..first + BLOCK).find(|&i| !self.in_use[i as usize]) {
            return Err(FreeError::DoubleFree(self.address_of(k)));
        }
        // Highest first: the lowest is reused first.
        for i in (first..first + BLOCK).rev() {
            self.mark_free(i);
        }
        self.compact();
        Ok(())
    }

    /// Marks frame number `i` (in use) free.
    fn mark_free(&mut self, i: u32) {
        self.in_use[i as usize] = false;
        self.free.push(i);
        self.free_frames += 1;
        let block = (i / BLOCK) as usize;
        self.block_free[block] += 1;
        if self.block_free[block] == BLOCK as u16 && !self.listed[block] {
            self.listed[block] = true;
            self.whole.push(block as u32);
        }
    }

    /// Drops the stale numbers once they outnumber the free ones (huge
    /// frames leave theirs behind): amortized O(1) a free.
    fn compact(&mut self) {
        if self.free.len() as u64 > 2 * self.free_frames + u64::from(BLOCK) {
            self.rebuild_free();
        }
    }

    /// The free stack from the flags: every free number once, lowest on top.
    fn rebuild_free(&mut self) {
        self.free.clear();
        let in_use = &self.in_use;
        self.free
            .extend((0..in_use.len() as u32).rev().filter(|&i| !in_use[i as usize]));
    }

    pub fn free_count(&self) -> PageCount {
        PageCount(self.free_frames)
    }

    pub fn total(&self) -> PageCount {
        PageCount(self.total)
    }

    /// Whether `frame` is a (page-aligned) frame of this pool.
    pub fn contains(&self, frame: PhysAddr) -> bool {
        self.index_of(frame).is_some()
    }

    fn address_of(&self, index: u32) -> PhysAddr {
        let run = self.runs[self.runs.partition_point(|r| r.first <= index) - 1];
        PhysAddr(run.base + u64::from(index - run.first) * PAGE_SIZE)
    }

    fn index_of(&self, frame: PhysAddr) -> Option<u32> {
        if !frame.is_page_aligned() {
            return None;
        }
        let run = self.runs[..self.runs.partition_point(|r| r.base <= frame.0)].last()?;
        // Inside the run, the offset is below 2^32 frames (checked).
        (frame.0 < run.end).then(|| run.first + ((frame.0 - run.base) / PAGE_SIZE) as u32)
    }
}

#[cfg(test)]
mod tests {
    use alloc::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;

    fn range(base: u64, frames: u64) -> FrameRange {
        FrameRange {
            base: PhysAddr(base),
            frames: PageCount(frames),
        }
    }

    #[test]
    fn foreign_and_double_frees_are_errors() {
        let mut pool = FramePool::single(PhysAddr(0x10_0000), 4).unwrap();
        let f = pool.alloc().unwrap();
        assert_eq!(pool.free(PhysAddr(0x1000)), Err(FreeError::Foreign(PhysAddr(0x1000))));
        assert_eq!(
            pool.free(PhysAddr(0x10_4000)),
            Err(FreeError::Foreign(PhysAddr(0x10_4000)))
        );
        assert_eq!(pool.free(PhysAddr(f.0 + 8)), Err(FreeError::Foreign(PhysAddr(f.0 + 8))));
        assert_eq!(pool.free(f), Ok(()));
        assert_eq!(pool.free(f), Err(FreeError::DoubleFree(f)));
    }

    #[test]
    fn exhaustion_returns_none() {
        let mut pool = FramePool::single(PhysAddr(0), 2).unwrap();
        assert!(pool.alloc().is_some() && pool.alloc().is_some());
        assert_eq!(pool.alloc(), None);
        assert_eq!(pool.free_count(), PageCount(0));
    }

    #[test]
    fn bad_range_lists_are_refused() {
        assert_eq!(
            FramePool::from_ranges(&[range(0x1001, 1)]).err(),
            Some(PoolError::Unaligned(PhysAddr(0x1001)))
        );
        assert_eq!(
            FramePool::from_ranges(&[range(0x1000, 4), range(0x3000, 1)]).err(),
            Some(PoolError::Overlap(PhysAddr(0x3000)))
        );
        assert_eq!(
            FramePool::from_ranges(&[range(u64::MAX - 0xfff, 2)]).err(),
            Some(PoolError::Overlap(PhysAddr(u64::MAX - 0xfff)))
        );
        assert_eq!(
            FramePool::from_ranges(&[range(0, 1 << 32)]).err(),
            Some(PoolError::TooLarge)
        );
    }

    #[test]
    fn frames_come_from_every_range_and_nothing_between() {
        let mut pool = FramePool::from_ranges(&[range(0x80_0000, 2), range(0x10_0000, 1), range(0, 0)]).unwrap();
        assert_eq!(pool.total(), PageCount(3));
        let got: Vec<u64> = core::iter::from_fn(|| pool.alloc()).map(|f| f.0).collect();
        assert_eq!(got, [0x10_0000, 0x80_0000, 0x80_1000]);
        assert!(!pool.contains(PhysAddr(0x10_1000)));
        assert_eq!(
            pool.free(PhysAddr(0x7f_f000)),
            Err(FreeError::Foreign(PhysAddr(0x7f_f000)))
        );
    }

    #[test]
    fn huge_frames_are_aligned_whole_blocks_from_the_top() {
        // 3 MiB from 1 MiB: only [2 MiB, 4 MiB) is a whole block.
        let mut pool = FramePool::single(PhysAddr(0x10_0000), 768).unwrap();
        assert_eq!(pool.alloc_huge(), Some(PhysAddr(0x20_0000)));
        assert_eq!(pool.free_count(), PageCount(256));
        assert_eq!(pool.alloc_huge(), None, "the edges are no whole block");
        // Small frames still come, lowest first, never from the huge one.
        assert_eq!(pool.alloc(), Some(PhysAddr(0x10_0000)));
        assert_eq!(pool.free_huge(PhysAddr(0x20_0000)), Ok(()));
        assert_eq!(pool.free_count(), PageCount(767));
        assert_eq!(pool.alloc_huge(), Some(PhysAddr(0x20_0000)));
    }

    #[test]
    fn a_small_frame_in_a_block_keeps_it_from_being_huge_until_freed() {
        let mut pool = FramePool::single(PhysAddr(0), 1024).unwrap();
        // Small frames come from the bottom, huge ones from the top.
        let small = pool.alloc().unwrap();
        assert_eq!(small, PhysAddr(0));
        assert_eq!(pool.alloc_huge(), Some(PhysAddr(0x20_0000)));
        assert_eq!(pool.alloc_huge(), None, "block 0 has a small frame out");
        pool.free(small).unwrap();
        assert_eq!(pool.alloc_huge(), Some(PhysAddr(0)));
        assert_eq!(pool.alloc(), None);
        assert_eq!(pool.free_count(), PageCount(0));
        // Freed one by one, a huge frame is whole again.
        for k in 0..512 {
            pool.free(PhysAddr(k * PAGE_SIZE)).unwrap();
        }
        assert_eq!(pool.alloc_huge(), Some(PhysAddr(0)));
    }

    #[test]
    fn bad_huge_frees_are_errors_and_change_nothing() {
        let mut pool = FramePool::single(PhysAddr(0x10_0000), 1024).unwrap();
        let huge = pool.alloc_huge().unwrap();
        assert_eq!(huge, PhysAddr(0x20_0000));
        let before = pool.free_count();
        for bad in [0x10_0000, 0x20_1000, 0x40_0000, 0x60_0000] {
            assert_eq!(pool.free_huge(PhysAddr(bad)), Err(FreeError::Foreign(PhysAddr(bad))));
        }
        // A frame of the huge one freed alone: the huge free is refused.
        pool.free(PhysAddr(0x20_3000)).unwrap();
        assert_eq!(pool.free_huge(huge), Err(FreeError::DoubleFree(PhysAddr(0x20_3000))));
        assert_eq!(pool.free_count().0, before.0 + 1);
        assert_eq!(pool.alloc(), Some(PhysAddr(0x20_3000)));
        assert_eq!(pool.free_huge(huge), Ok(()));
        assert_eq!(pool.free_huge(huge), Err(FreeError::DoubleFree(huge)));
    }

    #[test]
    fn stale_numbers_never_grow_without_bound() {
        let mut pool = FramePool::single(PhysAddr(0), 4096).unwrap();
        for _ in 0..100 {
            let huge = pool.alloc_huge().unwrap();
            pool.free_huge(huge).unwrap();
        }
        assert!(pool.free.len() <= 2 * 4096 + BLOCK as usize, "{}", pool.free.len());
        assert_eq!(pool.free_count(), PageCount(4096));
    }

    proptest! {
        /// Against a naive model: the set of allocated frames, over a pool of
        /// up to three disjoint ranges; frees include foreign and repeated
        /// addresses, which must fail without changing anything.
        #[test]
        fn matches_a_set_model(
            sizes in proptest::collection::vec(0u64..12, 1..4),
            ops in proptest::collection::vec((0u8..3, 0usize..64), 1..400),
        ) {
            let ranges: Vec<FrameRange> =
                sizes.iter().enumerate().map(|(i, &n)| range(0x100_0000 * (i as u64 + 1), n)).collect();
            let all: BTreeSet<u64> = ranges
                .iter()
                .flat_map(|r| (0..r.frames.0).map(move |k| r.base.0 + k * PAGE_SIZE))
                .collect();
            let total = all.len();
            let mut pool = FramePool::from_ranges(&ranges).unwrap();
            let mut model: BTreeSet<u64> = BTreeSet::new();
            for (op, pick) in ops {
                match op {
                    0 => match pool.alloc() {
                        Some(f) => {
                            prop_assert!(all.contains(&f.0), "frame {:#x} not from a range", f.0);
                            prop_assert!(model.insert(f.0), "frame handed out twice");
                        }
                        None => prop_assert_eq!(model.len(), total),
                    },
                    1 => {
                        if let Some(&f) = model.iter().nth(pick % model.len().max(1)) {
                            prop_assert_eq!(pool.free(PhysAddr(f)), Ok(()));
                            model.remove(&f);
                        }
                    }
                    _ => {
                        // A frame that is not allocated: free or foreign.
                        let f = 0x100_0000 + pick as u64 * PAGE_SIZE;
                        if !model.contains(&f) {
                            let expect = if all.contains(&f) { FreeError::DoubleFree(PhysAddr(f)) } else { FreeError::Foreign(PhysAddr(f)) };
                            prop_assert_eq!(pool.free(PhysAddr(f)), Err(expect));
                        }
                    }
                }
                prop_assert_eq!(pool.free_count().0 as usize, total - model.len());
            }
        }

        /// Huge and small frames together against a model of the taken
        /// frames: a huge frame is 512 free frames of the ranges from a
        /// 2 MiB-aligned address, and `None` only when no such run is free;
        /// frees, huge or small, of anything not taken fail and change
        /// nothing.
        #[test]
        fn huge_frames_match_a_set_model(
            ranges in proptest::collection::vec((0u64..600, 0u64..1600), 1..4),
            ops in proptest::collection::vec((0u8..5, 0usize..4096), 1..300),
        ) {
            // Disjoint ranges at unaligned bases: i GiB plus an offset.
            let ranges: Vec<FrameRange> = ranges
                .iter()
                .enumerate()
                .map(|(i, &(offset, n))| range(((i as u64 + 1) << 30) + offset * PAGE_SIZE, n))
                .collect();
            let all: BTreeSet<u64> = ranges
                .iter()
                .flat_map(|r| (0..r.frames.0).map(move |k| r.base.0 + k * PAGE_SIZE))
                .collect();
            let mut pool = FramePool::from_ranges(&ranges).unwrap();
            let mut taken: BTreeSet<u64> = BTreeSet::new();
            let mut huge: Vec<u64> = Vec::new();
            let free_run = |taken: &BTreeSet<u64>, base: u64| {
                (0..512).all(|k| all.contains(&(base + k * PAGE_SIZE)) && !taken.contains(&(base + k * PAGE_SIZE)))
            };
            for (op, pick) in ops {
                match op {
                    0 => match pool.alloc() {
                        Some(f) => {
                            prop_assert!(all.contains(&f.0));
                            prop_assert!(taken.insert(f.0), "frame handed out twice");
                        }
                        None => prop_assert_eq!(taken.len(), all.len()),
                    },
                    1 => match pool.alloc_huge() {
                        Some(f) => {
                            prop_assert!(f.is_huge_aligned());
                            prop_assert!(free_run(&taken, f.0), "huge frame {:#x} not free", f.0);
                            taken.extend((0..512).map(|k| f.0 + k * PAGE_SIZE));
                            huge.push(f.0);
                        }
                        None => {
                            let candidates = all.iter().filter(|&&a| a % HUGE_PAGE_SIZE == 0);
                            for &base in candidates {
                                prop_assert!(!free_run(&taken, base), "{:#x} was free", base);
                            }
                        }
                    },
                    2 => {
                        if let Some(&f) = taken.iter().nth(pick % taken.len().max(1)) {
                            prop_assert_eq!(pool.free(PhysAddr(f)), Ok(()));
                            taken.remove(&f);
                        }
                    }
                    3 => {
                        if !huge.is_empty() {
                            let base = huge.swap_remove(pick % huge.len());
                            let whole = (0..512).all(|k| taken.contains(&(base + k * PAGE_SIZE)));
                            let got = pool.free_huge(PhysAddr(base));
                            if whole {
                                prop_assert_eq!(got, Ok(()));
                                for k in 0..512 {
                                    taken.remove(&(base + k * PAGE_SIZE));
                                }
                            } else {
                                prop_assert!(matches!(got, Err(FreeError::DoubleFree(_))));
                            }
                        }
                    }
                    _ => {
                        // Not taken: free or foreign, small or huge.
                        let f = (1 << 30) + pick as u64 * PAGE_SIZE;
                        if !taken.contains(&f) {
                            let expect = if all.contains(&f) { FreeError::DoubleFree(PhysAddr(f)) } else { FreeError::Foreign(PhysAddr(f)) };
                            prop_assert_eq!(pool.free(PhysAddr(f)), Err(expect));
                        }
                    }
                }
                prop_assert_eq!(pool.free_count().0 as usize, all.len() - taken.len());
            }
        }
    }
}
