//! Low memory: when the pool is short of frames, sweep the processes like
//! a clock's hand (the library's `pager::space::reclaim` for which pages
//! may go, each process's policy for which do go, the kernel's `PageBits`
//! and `UnmapClean` for what the CPU recorded and the unmap). A process
//! that still cannot get a frame is killed with "out of memory".

use alloc::vec::Vec;

use libipc::{
    abi::PageBitsClear,
    kernel::MAX_FAULT_MAPPINGS,
    sys,
    types::{PageCount, PhysAddr, Pid, VirtAddr},
};
use pager::space::reclaim::{PageUse, Reclaimed, victim_runs};

use crate::{log::plog, serve::Server};

/// How hard a reclaim tries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pressure {
    /// The pool is low: one sweep, taking only pages not used since the
    /// last one (the clock's hand passes once).
    Low,
    /// The pool is empty: a second sweep takes what the first left for
    /// having been used (its accessed bit is clear now); what is still
    /// short ends in an "out of memory" kill.
    Empty,
}

impl Pressure {
    fn sweeps(self) -> usize {
        match self {
            Pressure::Low => 1,
            Pressure::Empty => 2,
        }
    }
}

/// Reclaim starts when fewer frames than one fault can need are free.
pub(crate) const LOW_WATER: u64 = MAX_FAULT_MAPPINGS as u64;

/// Reclaim state kept between sweeps.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    /// The last process swept: the next sweep starts after it, so every
    /// process pays in turn.
    hand: Option<Pid>,
    /// Frames reclaimed since boot, for the end-of-run line.
    pub(crate) total: Reclaimed,
}

impl Server {
    /// How many frames one reclaim tries to free: 1/32 of the pool, at
    /// least a fault's worth, so pressure costs one sweep per many faults.
    fn reclaim_batch(&self) -> u64 {
        (self.frames.total().0 / 32).max(4 * LOW_WATER)
    }

    /// Reclaims if the pool is below [`LOW_WATER`], harder if it is empty;
    /// the fault path calls this before it decides (one comparison when
    /// memory is plentiful).
    #[inline]
    pub(crate) fn keep_frames_free(&mut self) {
        if self.frames.free_count().0 < LOW_WATER {
            self.reclaim(self.reclaim_batch(), Pressure::Low);
            if self.frames.free_count().0 == 0 {
                self.reclaim(self.reclaim_batch(), Pressure::Empty);
            }
        }
    }

    /// A frame from the pool, reclaiming if it is empty.
    pub(crate) fn alloc_frame(&mut self) -> Option<PhysAddr> {
        self.frames.alloc().or_else(|| {
            self.reclaim(self.reclaim_batch(), Pressure::Empty);
            self.frames.alloc()
        })
    }

    /// Frees up to `want` frames from the processes' clean pages.
    pub(crate) fn reclaim(&mut self, want: u64, pressure: Pressure) -> Reclaimed {
        let mut done = Reclaimed::default();
        for _ in 0..pressure.sweeps() {
            let mut pids: Vec<Pid> = self.processes.keys().copied().collect();
            // Start after the hand.
            let start = self.clock.hand.map_or(0, |h| pids.partition_point(|&p| p <= h));
            pids.rotate_left(start);
            for pid in pids {
                if done.total() >= want {
                    break;
                }
                done.add(self.reclaim_from(pid, want - done.total()));
                self.clock.hand = Some(pid);
            }
            if done.total() >= want {
                break;
            }
        }
        self.clock.total.add(done);
        plog!(
            Info,
            "reclaim ({pressure:?}): {} frames freed ({} file, {} zero) of {want} wanted; {} free",
            done.total(),
            done.file,
            done.zero,
            self.frames.free_count().0
        );
        done
    }

    /// One process's part of a sweep: the kernel's bits on its refillable
    /// pages, its policy's choice, and the unmap of the chosen.
    fn reclaim_from(&mut self, pid: Pid, want: u64) -> Reclaimed {
        let Some(process) = self.processes.get_mut(&pid) else {
            return Reclaimed::default();
        };
        let mut candidates = Vec::new();
        for run in process.space.reclaim_runs() {
            match sys::page_bits(pid, VirtAddr(run.start), PageCount(run.pages), PageBitsClear::ACCESSED) {
                Ok(bits) => process.space.note_use(
                    &run,
                    PageUse {
                        present: bits.present,
                        accessed: bits.accessed,
                        dirty: bits.dirty,
                    },
                    &mut candidates,
                ),
                Err(e) => plog!(
                    Error,
                    "kernel refused PageBits at {:#x} of process {}: {e:?}",
                    run.start,
                    pid.0
                ),
            }
        }
        let mut victims = Vec::new();
        process.policy.reclaim(&candidates, want as usize, &mut victims);
        victims.truncate(want as usize);
        let mut done = Reclaimed::default();
        let mut freed = Vec::new();
        for (start, mask) in victim_runs(&mut victims) {
            match sys::unmap_clean(pid, VirtAddr(start), mask) {
                Ok(u) => done.add(process.space.reclaimed(start, u.unmapped, u.dirty, |f| freed.push(f))),
                Err(e) => plog!(
                    Error,
                    "kernel refused UnmapClean at {start:#x} of process {}: {e:?}",
                    pid.0
                ),
            }
        }
        for frame in freed {
            self.free_frame(frame);
        }
        done
    }
}
