//! Scheduling: round-robin over the run queue, preempted by the timer. IPC
//! hands the CPU over directly (see `ipc`), bypassing the queue.

use libipc::types::Tid;
use x86_64::structures::paging::PhysFrame;

use crate::{
    arch::{
        segments::{self, SegmentState},
        trap::{self, TrapFrame},
    },
    ipc::Next,
    object::{FaultTimes, Kernel, Thread, ThreadState},
};

/// What a switch needs of the thread it switches to, taken with one
/// lookup ([`Thread::incoming`]).
pub struct Incoming {
    frame: *mut TrapFrame,
    root: PhysFrame,
    /// The switch's rare work, if any: found with one test, so a switch
    /// without any (an IPC between threads that use no segment state)
    /// pays one branch for both kinds.
    rare: Option<Rare>,
}

/// What a switch rarely does beside the address space, FPU and entry frame.
struct Rare {
    /// The thread's segment state, when the switch must load it
    /// (`arch::segments`): where it is in the thread's control block, as
    /// [`Incoming::frame`], read where the switch uses it rather than
    /// copied through the stack (a forwarded Linux system call switches
    /// this way twice).
    segments: Option<*const SegmentState>,
    /// Its finished fault, for the profile.
    fault: Option<FaultTimes>,
}

impl Thread {
    /// This thread as the next to run (its saved frame, root, the segment
    /// state to load if any, its finished fault).
    #[inline(always)]
    pub fn incoming(&mut self) -> Incoming {
        // Segment state follows the thread; nothing to do (a few register
        // reads) while neither side uses any.
        let segments = segments::must_switch(&self.segments);
        let installed = self.fault_times.installed;
        let rare = (segments | installed != 0).then(|| Rare {
            segments: (segments != 0).then_some(&raw const self.segments),
            fault: (installed != 0).then(|| core::mem::take(&mut self.fault_times)),
        });
        Incoming {
            frame: &mut self.frame,
            root: self.root,
            rare,
        }
    }
}

impl Kernel {
    /// Makes `tid` current: its address space goes onto the CPU, and its
    /// saved frame becomes the one to return through (and the place the
    /// next entry saves to).
    // Inlined into the fast paths: a call and its register saves are a
    // tenth of a null round trip.
    #[inline(always)]
    pub fn switch_to(&mut self, tid: Tid) -> *mut TrapFrame {
        let next = self.thread_mut(tid).expect("switching to a live thread").incoming();
        self.enter(tid, next)
    }

    /// The second half of [`Kernel::switch_to`], for a caller that has the
    /// thread at hand already (the fast paths: one lookup of each thread).
    #[inline(always)]
    pub fn enter(&mut self, tid: Tid, next: Incoming) -> *mut TrapFrame {
        if !self.run_queue.is_empty() {
            self.run_queue.retain(|&t| t != tid);
        }
        self.enter_unqueued(tid, next)
    }

    /// [`Kernel::enter`] for a thread that cannot be in the run queue: one
    /// the fast paths have just woken from `Receiving` or `AwaitingReply`.
    /// Only a `Ready` thread is ever queued, and it leaves the queue before
    /// it runs (`pick`, or `enter`), and a thread blocks only by running;
    /// so a blocked thread is never queued.
    #[inline(always)]
    pub fn enter_unqueued(&mut self, tid: Tid, next: Incoming) -> *mut TrapFrame {
        debug_assert!(!self.run_queue.contains(&tid), "a blocked thread was queued");
        let Some(rare) = next.rare else {
            return self.enter_common(tid, next.frame, next.root);
        };
        if let Some(segments) = rare.segments {
            // SAFETY: `segments` points into the next thread's control
            // block, which stays where it is (the thread table never moves
            // its objects) and alive (nothing between `incoming` and here
            // frees a thread), and nothing has written it since: it is
            // read (copied) first, before `switch_segments` may write any
            // thread's state.
            let segments = unsafe { *segments };
            self.switch_segments(&segments);
        }
        let frame = self.enter_common(tid, next.frame, next.root);
        if let Some(times) = rare.fault {
            self.account_fault(times);
        }
        frame
    }

    /// What every switch does: the address space, the FPU owner's trap,
    /// the current thread and the entry frame.
    #[inline(always)]
    fn enter_common(&mut self, tid: Tid, frame: *mut TrapFrame, root: PhysFrame) -> *mut TrapFrame {
        crate::memory::space::activate(root);
        crate::arch::fpu::switching_to_owner(self.fpu_owner == tid);
        self.current = tid;
        // SAFETY: thread control blocks are only freed or moved inside the
        // kernel (table growth, destruction), and every kernel exit comes
        // through here with the frame of the thread that runs next.
        unsafe { trap::set_entry_frame(frame) };
        frame
    }

    /// Adds a completed fault (its thread resuming now) to the profile.
    fn account_fault(&mut self, t: FaultTimes) {
        let now = crate::entropy::tsc();
        let p = &mut self.profile;
        p.faults += 1;
        p.entry_to_pager += t.delivered - t.entry;
        p.in_pager += t.replied - t.delivered;
        p.install += t.installed - t.replied;
        p.return_to_program += now - t.installed;
    }

    /// The profile as the bytes of a `FaultProfile` (repr(C), all u64).
    pub fn profile_bytes(&self) -> [u8; core::mem::size_of::<libipc::abi::FaultProfile>()] {
        let p = self.profile;
        let mut out = [0u8; core::mem::size_of::<libipc::abi::FaultProfile>()];
        let fields = [p.faults, p.entry_to_pager, p.in_pager, p.install, p.return_to_program];
        for (chunk, v) in out.as_chunks_mut::<8>().0.iter_mut().zip(fields) {
            chunk.copy_from_slice(&v.to_le_bytes());
        }
        out
    }

    /// The next runnable thread from the queue; with none but sleepers,
    /// the CPU halts until a tick wakes one.
    fn pick(&mut self) -> Tid {
        loop {
            while let Some(tid) = self.run_queue.pop_front() {
                if matches!(self.thread(tid).map(|t| &t.state), Some(ThreadState::Ready)) {
                    return tid;
                }
            }
            if self.sleepers.is_empty() {
                self.deadlock()
            }
            crate::arch::interrupts::wait_for_interrupt();
            let now = crate::time::tick();
            self.wake_sleepers(now);
        }
    }

    /// Every thread is blocked and nothing (no device) can wake one: a
    /// userspace deadlock, not a kernel bug. Say so and end the run.
    fn deadlock(&self) -> ! {
        log::error!("no runnable thread: every thread is blocked (a userspace deadlock)");
        for (tid, t) in self.threads.iter() {
            log::error!("  thread {tid} of process {}: {:?}", t.pid.0, t.state);
        }
        crate::qemu::exit(crate::qemu::QemuExit::Failure)
    }

    /// Finishes a kernel entry: runs whoever `next` says; returns the frame
    /// to leave the kernel through.
    pub fn finish(&mut self, current: Tid, next: Next) -> *mut TrapFrame {
        let target = match next {
            Next::Continue if self.thread(current).is_some() => current,
            Next::SwitchTo(t) if self.thread(t).is_some() => {
                if self
                    .thread(current)
                    .is_some_and(|t| matches!(t.state, ThreadState::Ready))
                    && current != t
                {
                    self.run_queue.push_back(current);
                }
                t
            }
            _ => self.pick(),
        };
        self.switch_to(target)
    }

    /// Timer preemption of `current`; the tick also moves the clock page
    /// on and wakes the sleepers it reached.
    pub fn preempt(&mut self, current: Tid) -> Next {
        let now = crate::time::tick();
        self.wake_sleepers(now);
        if self.run_queue.is_empty() {
            Next::Continue
        } else {
            self.run_queue.push_back(current);
            Next::Schedule
        }
    }
}
