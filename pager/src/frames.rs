//! The pager's physical frame pool: the frames the kernel handed over, as
//! one contiguous range. A bitmap-free stack of free frame indices: alloc
//! and free are O(1); a double free or a foreign frame is an error.

use alloc::vec::Vec;

use libipc::types::{PAGE_SIZE, PageCount, PhysAddr};

/// Why a frame could not be returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FreeError {
    /// Not a frame of this pool.
    Foreign(PhysAddr),
    /// Already free.
    DoubleFree(PhysAddr),
}

#[derive(Clone, Debug)]
pub struct FramePool {
    base: u64,
    total: u64,
    free: Vec<u32>,
    in_use: Vec<bool>,
}

impl FramePool {
    /// A pool of `frames` frames from physical address `base`.
    pub fn new(base: PhysAddr, frames: u64) -> FramePool {
        assert!(frames <= u64::from(u32::MAX), "pool too large");
        FramePool {
            base: base.0,
            total: frames,
            // Lowest frames first.
            free: (0..frames as u32).rev().collect(),
            in_use: alloc::vec![false; frames as usize],
        }
    }

    pub fn alloc(&mut self) -> Option<PhysAddr> {
        let i = self.free.pop()?;
        self.in_use[i as usize] = true;
        Some(PhysAddr(self.base + u64::from(i) * PAGE_SIZE))
    }

    pub fn free(&mut self, frame: PhysAddr) -> Result<(), FreeError> {
        let index = frame.0.checked_sub(self.base).map(|d| d / PAGE_SIZE);
        let Some(i) = index.filter(|&i| i < self.total && frame.is_page_aligned()) else {
            return Err(FreeError::Foreign(frame));
        };
        if !self.in_use[i as usize] {
            return Err(FreeError::DoubleFree(frame));
        }
        self.in_use[i as usize] = false;
        self.free.push(i as u32);
        Ok(())
    }

    pub fn free_count(&self) -> PageCount {
        PageCount(self.free.len() as u64)
    }

    pub fn total(&self) -> PageCount {
        PageCount(self.total)
    }

    pub fn contains(&self, frame: PhysAddr) -> bool {
        frame.0 >= self.base && frame.0 < self.base + self.total * PAGE_SIZE
    }
}

#[cfg(test)]
mod tests {
    use alloc::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn foreign_and_double_frees_are_errors() {
        let mut pool = FramePool::new(PhysAddr(0x10_0000), 4);
        let f = pool.alloc().unwrap();
        assert_eq!(pool.free(PhysAddr(0x1000)), Err(FreeError::Foreign(PhysAddr(0x1000))));
        assert_eq!(pool.free(PhysAddr(0x10_0000 + 4 * 4096)), Err(FreeError::Foreign(PhysAddr(0x10_4000))));
        assert_eq!(pool.free(PhysAddr(f.0 + 8)), Err(FreeError::Foreign(PhysAddr(f.0 + 8))));
        assert_eq!(pool.free(f), Ok(()));
        assert_eq!(pool.free(f), Err(FreeError::DoubleFree(f)));
    }

    #[test]
    fn exhaustion_returns_none() {
        let mut pool = FramePool::new(PhysAddr(0), 2);
        assert!(pool.alloc().is_some() && pool.alloc().is_some());
        assert_eq!(pool.alloc(), None);
        assert_eq!(pool.free_count(), PageCount(0));
    }

    proptest! {
        /// Against a naive model: a set of allocated frames.
        #[test]
        fn matches_a_set_model(ops in proptest::collection::vec((any::<bool>(), 0usize..64), 1..400)) {
            let mut pool = FramePool::new(PhysAddr(0x20_0000), 32);
            let mut model: BTreeSet<u64> = BTreeSet::new();
            for (alloc, pick) in ops {
                if alloc {
                    match pool.alloc() {
                        Some(f) => {
                            prop_assert!(pool.contains(f) && f.is_page_aligned());
                            prop_assert!(model.insert(f.0), "frame handed out twice");
                        }
                        None => prop_assert_eq!(model.len(), 32),
                    }
                } else if let Some(&f) = model.iter().nth(pick % (model.len().max(1))) {
                    prop_assert_eq!(pool.free(PhysAddr(f)), Ok(()));
                    model.remove(&f);
                }
                prop_assert_eq!(pool.free_count().0 as usize, 32 - model.len());
            }
        }
    }
}
