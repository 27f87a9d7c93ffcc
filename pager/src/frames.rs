//! The pager's physical frame pool: the frames the kernel handed over, as a
//! list of physical ranges. Frames are numbered 0..total across the ranges;
//! a stack of free indices makes alloc and free O(1), a per-frame flag
//! catches double frees, and a binary search over the ranges maps an
//! address back to its index (O(log ranges)) so a foreign frame is an error
//! rather than a corruption.

use alloc::vec::Vec;

use libipc::types::{PAGE_SIZE, PageCount, PhysAddr};

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
    /// More frames than the index type holds (2^32).
    TooLarge,
}

/// Why a frame could not be returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FreeError {
    /// Not a frame of this pool.
    Foreign(PhysAddr),
    /// Already free.
    DoubleFree(PhysAddr),
}

/// A range with the index of its first frame.
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
    total: u64,
    /// Free frame indices; the lowest frames are handed out first.
    free: Vec<u32>,
    in_use: Vec<bool>,
}

impl FramePool {
    /// A pool over `ranges` (any order; empty ranges are skipped).
    pub fn from_ranges(ranges: &[FrameRange]) -> Result<FramePool, PoolError> {
        let mut sorted: Vec<FrameRange> = ranges.iter().copied().filter(|r| r.frames.0 > 0).collect();
        sorted.sort_by_key(|r| r.base);
        let mut runs = Vec::with_capacity(sorted.len());
        let mut total: u64 = 0;
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
            let first = u32::try_from(total).map_err(|_| PoolError::TooLarge)?;
            total = total
                .checked_add(r.frames.0)
                .filter(|&t| t <= u64::from(u32::MAX))
                .ok_or(PoolError::TooLarge)?;
            runs.push(Run {
                base: r.base.0,
                end,
                first,
            });
            prev_end = end;
        }
        // `total` fits in u32 (checked above), so the casts are lossless.
        Ok(FramePool {
            runs,
            total,
            free: (0..total as u32).rev().collect(),
            in_use: alloc::vec![false; total as usize],
        })
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
        let i = self.free.pop()?;
        self.in_use[i as usize] = true;
        Some(self.address_of(i))
    }

    /// Returns `frame` to the pool.
    pub fn free(&mut self, frame: PhysAddr) -> Result<(), FreeError> {
        let i = self.index_of(frame).ok_or(FreeError::Foreign(frame))?;
        if !self.in_use[i as usize] {
            return Err(FreeError::DoubleFree(frame));
        }
        self.in_use[i as usize] = false;
        self.free.push(i);
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

    pub fn free_count(&self) -> PageCount {
        PageCount(self.free.len() as u64)
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
        // Inside the run, the offset is below `total` < 2^32 frames.
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
    }
}
