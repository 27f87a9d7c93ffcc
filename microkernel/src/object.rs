//! The kernel's objects: processes, threads and endpoints, in tables whose
//! slots are reused under generation-tagged ids (`kernel_core::slab`), so
//! a stale id names nothing rather than somebody else, and the tables'
//! memory does not grow with the number of objects ever created.
//!
//! Ownership: a process owns its threads, its address space and its
//! capability table. An endpoint lives while a capability or a thread (as
//! its fault endpoint) refers to it; it serves while some capability with
//! `RECV` exists. A thread serving a call holds that call's reply right
//! (`Thread::reply`); see `ipc` for what happens when it is used or
//! dropped.

use alloc::{collections::VecDeque, vec::Vec};

use kernel_core::{
    cap::{CapTable, Capability},
    slab::Slab,
};
use libipc::{
    abi::{MessageKind, Rights, SysError, SyscallRoutes},
    kernel::{KernelEvent, KernelKill, SyscallReply},
    short::ShortMessage,
    types::{CapSlot, Pid, Sender, Tid},
};

use crate::{
    arch::{segments::SegmentState, trap::TrapFrame},
    memory::space::AddressSpace,
};

/// Table sizes: fixed, allocated at boot.
pub const MAX_PROCESSES: usize = 256;
pub const MAX_THREADS: usize = 1024;
pub const MAX_ENDPOINTS: usize = 1024;

/// An endpoint's id in [`Kernel::endpoints`] (kernel-internal: programs
/// name endpoints only through capabilities).
pub type EndpointRef = u32;

/// A physical range a pager owns and may map into the processes it pages.
#[derive(Clone, Copy, Debug)]
pub struct FramePool {
    pub start: u64,
    pub frames: u64,
}

impl FramePool {
    pub fn contains(&self, phys: u64) -> bool {
        phys >= self.start && phys < self.start + self.frames * 4096
    }
}

pub struct Process {
    pub space: AddressSpace,
    pub threads: Vec<Tid>,
    /// The process that pages this one (creates its mappings, gets its
    /// faults). `None` for the root pager: a fault there is fatal.
    pub pager: Option<Pid>,
    /// Present for a pager: the frames it owns.
    pub pool: Option<FramePool>,
    /// For a Linux process: which of its system calls go to the fault
    /// endpoint (the rest to each thread's system-call endpoint).
    pub linux: Option<SyscallRoutes>,
    /// The pool of its pager (copied at creation: a pool never changes), so
    /// a mapping request is checked with one lookup.
    pub pager_pool: Option<FramePool>,
    pub caps: CapTable,
}

/// What a blocked sender is sending.
#[derive(Clone, Copy, Debug)]
pub enum Outgoing {
    /// A `Call`: the message is in the sender's memory (checked when sent).
    Call {
        ptr: u64,
        len: u64,
        reply_ptr: u64,
        reply_cap: u64,
        lease: Option<Lease>,
    },
    /// A register message: a `CallShort` ([`MessageKind::ShortCall`]) or a
    /// kernel event about the sender ([`MessageKind::Fault`], which waits
    /// for a fault reply, or [`MessageKind::Exit`], which ends with
    /// delivery).
    Short { kind: MessageKind, msg: ShortMessage },
    /// A forwarded Linux system call: a register message with two more
    /// words (arguments 4 and 5).
    Syscall { msg: ShortMessage, extra: [u64; 2] },
}

impl Outgoing {
    /// How the answer reaches the sender once delivered; `None` for an exit
    /// report, which gets none.
    pub fn reply_to(&self) -> Option<ReplyTo> {
        match *self {
            Outgoing::Call {
                reply_ptr,
                reply_cap,
                lease,
                ..
            } => Some(ReplyTo::Call {
                reply_ptr,
                reply_cap,
                lease,
            }),
            Outgoing::Short {
                kind: MessageKind::Fault,
                ..
            } => Some(ReplyTo::Fault),
            Outgoing::Short {
                kind: MessageKind::Exit,
                ..
            } => None,
            Outgoing::Short { .. } => Some(ReplyTo::Short),
            Outgoing::Syscall { .. } => Some(ReplyTo::Syscall),
        }
    }
}

/// How the answer to a delivered message reaches its sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyTo {
    Call {
        reply_ptr: u64,
        reply_cap: u64,
        lease: Option<Lease>,
    },
    /// A `CallShort`: the answer goes into the caller's registers.
    Short,
    Fault,
    /// A forwarded Linux system call: the answer sets rax (and maybe rip
    /// and rsp); its whole user memory is the handler's lease.
    Syscall,
}

/// Memory a caller lends the server for one call (checked when lent).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lease {
    pub addr: u64,
    pub len: u64,
    pub writable: bool,
}

#[derive(Clone, Copy, Debug)]
pub enum ThreadState {
    /// Runnable (queued or current).
    Ready,
    Receiving {
        ep: EndpointRef,
        buf: u64,
        cap: u64,
    },
    Sending {
        ep: EndpointRef,
        msg: Outgoing,
    },
    AwaitingReply {
        server: Tid,
        to: ReplyTo,
    },
    /// Parked until `CLOCK_MONOTONIC` reaches `until` (in
    /// [`Kernel::sleepers`]).
    Sleeping {
        until: u64,
    },
}

pub struct Thread {
    pub pid: Pid,
    pub frame: TrapFrame,
    /// Its process's page-table root, kept here so a switch needs no
    /// process lookup (the process outlives its threads).
    pub root: x86_64::structures::paging::PhysFrame,
    pub state: ThreadState,
    /// Where this thread's faults go (a reference the thread holds).
    pub pager_ep: Option<EndpointRef>,
    /// A Linux thread's system-call routes (copied from its process, so a
    /// forward needs no process lookup) and the endpoint of the calls not
    /// routed to `pager_ep` (a reference the thread holds).
    pub linux: Option<(SyscallRoutes, Option<EndpointRef>)>,
    /// The reply right of the call this thread serves: its caller.
    pub reply: Option<Tid>,
    /// Set while the thread impersonates the caller of the call it serves:
    /// the pid its messages are stamped as acting for.
    pub acting_for: Option<Pid>,
    /// Timestamps of the fault in flight, for the fault-path profile.
    pub fault_times: FaultTimes,
    /// Its segment selectors and FS/GS bases, saved while it does not run
    /// (`arch::segments`).
    pub segments: SegmentState,
    /// Its FPU and SSE state, once it has used them (`arch::fpu`).
    pub fpu: Option<alloc::boxed::Box<crate::arch::fpu::FpuArea>>,
    /// System calls and exceptions it has made (`ThreadEntries`).
    pub entries: u64,
}

/// TSC stamps along one fault's path (0 = not reached).
#[derive(Clone, Copy, Debug, Default)]
pub struct FaultTimes {
    pub entry: u64,
    pub delivered: u64,
    pub replied: u64,
    pub installed: u64,
}

pub struct Endpoint {
    /// Capabilities and threads (fault endpoints) that refer to it.
    pub refs: u32,
    /// Capabilities with `RECV`: while there are none, nobody can answer.
    pub receivers: u32,
    /// The thread waiting in `Recv`, if any.
    pub receiver: Option<Tid>,
    /// Senders waiting for a receiver, oldest first.
    pub queue: VecDeque<Tid>,
}

impl Endpoint {
    /// The oldest queued sender. A queue that empties gives its memory
    /// back, so the kernel heap holds only what waits now, not the most
    /// that ever waited.
    pub fn dequeue(&mut self) -> Option<Tid> {
        let next = self.queue.pop_front();
        self.release_empty_queue();
        next
    }

    pub fn release_empty_queue(&mut self) {
        if self.queue.is_empty() && self.queue.capacity() > 0 {
            self.queue = VecDeque::new();
        }
    }
}

/// All kernel state. Lives behind one lock taken on every kernel entry;
/// interrupts are off in the kernel, so it is never contended.
/// The id no thread has (slot 0 of a table is never used): "no thread"
/// in [`Kernel::current`] and [`Kernel::fpu_owner`].
pub const NO_THREAD: Tid = Tid(0);

pub struct Kernel {
    pub processes: Slab<Process>,
    pub threads: Slab<Thread>,
    pub endpoints: Slab<Endpoint>,
    pub run_queue: VecDeque<Tid>,
    /// The thread that runs ([`NO_THREAD`] before the first; see
    /// [`Kernel::current`]): a plain id, which a switch sets with one
    /// store.
    pub current: Tid,
    /// TSC at the current kernel entry.
    pub entry_tsc: u64,
    pub profile: libipc::abi::FaultProfile,
    /// Page-table frames each paged process may use.
    pub page_table_limit: u32,
    /// The thread whose FPU state the CPU holds (`arch::fpu`), or
    /// [`NO_THREAD`]: a plain id, compared with the next thread's in one
    /// instruction on every switch.
    pub fpu_owner: Tid,
    /// Sleeping threads by deadline, latest first (the next to wake is
    /// last). Allocated for every thread at boot, so it never grows.
    pub sleepers: Vec<(u64, Tid)>,
}

impl Kernel {
    /// The thread that runs, if one does yet.
    #[inline(always)]
    pub fn current(&self) -> Option<Tid> {
        (self.current != NO_THREAD).then_some(self.current)
    }

    pub fn new(page_table_limit: u32) -> Self {
        Kernel {
            processes: Slab::with_capacity(MAX_PROCESSES),
            threads: Slab::with_capacity(MAX_THREADS),
            endpoints: Slab::with_capacity(MAX_ENDPOINTS),
            run_queue: VecDeque::with_capacity(MAX_THREADS),
            current: NO_THREAD,
            entry_tsc: 0,
            profile: libipc::abi::FaultProfile::default(),
            page_table_limit,
            fpu_owner: NO_THREAD,
            sleepers: Vec::with_capacity(MAX_THREADS),
        }
    }

    /// Parks `tid` until `CLOCK_MONOTONIC` reaches `until`; its result
    /// registers are set already. `false` (the thread runs on) when the
    /// deadline has passed.
    pub fn sleep(&mut self, tid: Tid, until: u64) -> bool {
        if until <= crate::time::monotonic_ns() {
            return false;
        }
        let Some(t) = self.thread_mut(tid) else { return false };
        t.state = ThreadState::Sleeping { until };
        self.run_queue.retain(|&t| t != tid);
        let at = self.sleepers.partition_point(|&(d, _)| d > until);
        self.sleepers.insert(at, (until, tid));
        true
    }

    /// Readies every sleeper whose deadline is at or before `now`.
    pub fn wake_sleepers(&mut self, now: u64) {
        while let Some(&(until, tid)) = self.sleepers.last() {
            if until > now {
                break;
            }
            self.sleepers.pop();
            if let Some(t) = self.thread_mut(tid) {
                t.state = ThreadState::Ready;
                self.run_queue.push_back(tid);
            }
        }
    }

    pub fn process(&self, pid: Pid) -> Option<&Process> {
        self.processes.get(pid.0)
    }

    pub fn process_mut(&mut self, pid: Pid) -> Option<&mut Process> {
        self.processes.get_mut(pid.0)
    }

    #[inline(always)]
    pub fn thread(&self, tid: Tid) -> Option<&Thread> {
        self.threads.get(tid.0)
    }

    #[inline(always)]
    pub fn thread_mut(&mut self, tid: Tid) -> Option<&mut Thread> {
        self.threads.get_mut(tid.0)
    }

    pub fn endpoint_mut(&mut self, ep: EndpointRef) -> Option<&mut Endpoint> {
        self.endpoints.get_mut(ep)
    }

    pub fn sender(&self, tid: Tid) -> Sender {
        let pid = self.thread(tid).map_or(Pid(0), |t| t.pid);
        Sender { pid, tid }
    }

    /// The endpoint behind `slot` of `pid`'s table, if the capability there
    /// has `needs`.
    #[inline(always)]
    pub fn endpoint_of(&self, pid: Pid, slot: CapSlot, needs: Rights) -> Result<EndpointRef, SysError> {
        let process = self.process(pid).ok_or(SysError::NoSuchObject)?;
        Ok(process.caps.lookup(slot, needs)?.endpoint)
    }

    /// A new process; `limit` bounds its page tables (`None`: the root
    /// pager, whose tables the kernel builds itself).
    pub fn create_process(
        &mut self,
        pager: Option<Pid>,
        pool: Option<FramePool>,
        linux: Option<SyscallRoutes>,
    ) -> Option<Pid> {
        let limit = if pager.is_some() {
            self.page_table_limit
        } else {
            u32::MAX
        };
        let pager_pool = pager.and_then(|p| self.process(p)?.pool);
        let space = AddressSpace::new(limit)?;
        self.processes
            .insert(Process {
                space,
                threads: Vec::new(),
                pager,
                pool,
                linux,
                pager_pool,
                caps: CapTable::default(),
            })
            .map(Pid)
    }

    /// A new thread of `pid`, queued to run; `None` when the table is full.
    /// `syscall_ep` is where a Linux thread's unrouted system calls go.
    pub fn create_thread(
        &mut self,
        pid: Pid,
        frame: TrapFrame,
        pager_ep: Option<EndpointRef>,
        syscall_ep: Option<EndpointRef>,
    ) -> Option<Tid> {
        let process = self.process(pid)?;
        let (root, routes) = (process.space.root(), process.linux);
        let tid = Tid(self.threads.insert(Thread {
            pid,
            frame,
            root,
            linux: routes.map(|r| (r, syscall_ep)),
            state: ThreadState::Ready,
            pager_ep,
            reply: None,
            acting_for: None,
            fault_times: FaultTimes::default(),
            segments: SegmentState::default(),
            fpu: None,
            entries: 0,
        })?);
        let syscall_ep = syscall_ep.filter(|_| routes.is_some());
        for ep in [pager_ep, syscall_ep].into_iter().flatten() {
            if let Some(e) = self.endpoints.get_mut(ep) {
                e.refs += 1;
            }
        }
        if let Some(p) = self.process_mut(pid) {
            p.threads.push(tid);
        }
        self.run_queue.push_back(tid);
        Some(tid)
    }

    /// A new endpoint, named by a capability with every right in `pid`'s
    /// first free slot.
    pub fn create_endpoint(&mut self, pid: Pid) -> Result<CapSlot, SysError> {
        let ep = self
            .endpoints
            .insert(Endpoint {
                refs: 1,
                receivers: 1,
                receiver: None,
                queue: VecDeque::new(),
            })
            .ok_or(SysError::OutOfMemory)?;
        let cap = Capability {
            endpoint: ep,
            rights: Rights::ALL,
        };
        let inserted = self.process_mut(pid).ok_or(SysError::NoSuchObject)?.caps.insert(cap);
        if inserted.is_err() {
            self.endpoints.remove(ep);
        }
        inserted
    }

    /// Counts a new capability to `cap.endpoint`.
    pub fn retain_endpoint(&mut self, cap: Capability) {
        if let Some(e) = self.endpoints.get_mut(cap.endpoint) {
            e.refs += 1;
            if cap.rights.contains(Rights::RECV) {
                e.receivers += 1;
            }
        }
    }

    /// Drops one reference to `ep` (a capability with `rights`, or a
    /// thread's fault endpoint with none). When the last receive right
    /// goes, everyone waiting on the endpoint learns the server is gone;
    /// when the last reference goes, the endpoint is freed.
    pub fn release_endpoint(&mut self, ep: EndpointRef, rights: Rights) {
        let Some(e) = self.endpoints.get_mut(ep) else { return };
        e.refs -= 1;
        if rights.contains(Rights::RECV) {
            e.receivers -= 1;
        }
        let (stranded, receiver) = if e.receivers == 0 {
            (core::mem::take(&mut e.queue), e.receiver.take())
        } else {
            (VecDeque::new(), None)
        };
        if e.refs == 0 {
            self.endpoints.remove(ep);
        }
        for sender in stranded {
            self.fail_sender(sender, SysError::ServerGone);
        }
        // A receiver whose sibling dropped the endpoint's last receive right.
        if let Some(r) = receiver {
            self.wake_with(r, SysError::NoCapability);
        }
    }

    /// Wakes a blocked thread with `error` as its call's result. A Linux
    /// thread waits only on forwarded system calls: whatever the kernel's
    /// reason, its call has no handler, which Linux says with ENOSYS.
    pub fn wake_with(&mut self, tid: Tid, error: SysError) {
        if let Some(t) = self.thread_mut(tid) {
            t.frame.rax = if t.linux.is_some() {
                SyscallReply::error(libipc::kernel::ENOSYS).rax
            } else {
                error as u64
            };
            t.state = ThreadState::Ready;
            self.run_queue.push_back(tid);
        }
    }

    /// Takes a thread out of every queue it may sit in.
    fn unlink_thread(&mut self, tid: Tid) {
        self.run_queue.retain(|&t| t != tid);
        let state = self.thread(tid).map(|t| t.state);
        match state {
            Some(ThreadState::Receiving { ep, .. }) => {
                if let Some(e) = self.endpoint_mut(ep)
                    && e.receiver == Some(tid)
                {
                    e.receiver = None;
                }
            }
            Some(ThreadState::Sending { ep, .. }) => {
                if let Some(e) = self.endpoint_mut(ep) {
                    e.queue.retain(|&t| t != tid);
                    e.release_empty_queue();
                }
            }
            Some(ThreadState::Sleeping { .. }) => self.sleepers.retain(|&(_, t)| t != tid),
            _ => {}
        }
        if self.current == tid {
            self.current = NO_THREAD;
        }
    }

    /// The caller whose call `server` serves loses its server: `error` for
    /// a call; a fault cannot go on without its page, so that process is
    /// killed (`cause`).
    pub fn abandon_caller(&mut self, server: Tid, error: SysError, cause: KernelKill) {
        let Some(caller) = self.thread_mut(server).and_then(|t| {
            t.acting_for = None;
            t.reply.take()
        }) else {
            return;
        };
        match self.thread(caller).map(|t| t.state) {
            Some(ThreadState::AwaitingReply { server: s, to }) if s == server => match to {
                ReplyTo::Fault => {
                    let pid = self.thread(caller).expect("checked above").pid;
                    self.kill(pid, cause);
                }
                ReplyTo::Call { .. } | ReplyTo::Short | ReplyTo::Syscall => self.wake_with(caller, error),
            },
            // Answered already, or gone.
            _ => {}
        }
    }

    /// Frees a thread: out of every queue, its reply right dropped (its
    /// caller learns the server is gone), its fault endpoint released.
    fn destroy_thread(&mut self, tid: Tid) {
        self.unlink_thread(tid);
        self.abandon_caller(tid, SysError::ServerGone, KernelKill::PagerGone);
        if let Some(thread) = self.threads.remove(tid.0) {
            self.release_thread_endpoints(tid, &thread);
        }
    }

    /// Drops the endpoint references a thread held, and its claim on the
    /// FPU (its state dies with it).
    fn release_thread_endpoints(&mut self, tid: Tid, thread: &Thread) {
        if self.fpu_owner == tid {
            self.fpu_owner = NO_THREAD;
        }
        let syscall_ep = thread.linux.and_then(|(_, ep)| ep);
        for ep in [thread.pager_ep, syscall_ep].into_iter().flatten() {
            self.release_endpoint(ep, Rights::NONE);
        }
    }

    /// Destroys a process: its threads (but `reporter`, which carries the
    /// process's end report to its pager and is freed on delivery), its
    /// capabilities and its page tables. The frames it had mapped belong
    /// to its pager, which reclaims them.
    pub fn destroy_process(&mut self, pid: Pid, reporter: Option<Tid>) {
        let Some(mut process) = self.processes.remove(pid.0) else {
            return;
        };
        for &tid in &process.threads {
            if Some(tid) == reporter {
                self.unlink_thread(tid);
                self.abandon_caller(tid, SysError::ServerGone, KernelKill::PagerGone);
            } else {
                self.destroy_thread(tid);
            }
        }
        let caps: Vec<Capability> = process.caps.drain().collect();
        for cap in caps {
            self.release_endpoint(cap.endpoint, cap.rights);
        }
        drop(process);
    }

    /// Ends process `pid` with `event` reported to its pager, sent by one of
    /// its threads that has a pager endpoint (which lives until delivery).
    /// Returns where the CPU goes if the report reached a waiting pager.
    pub fn end_process(&mut self, pid: Pid, event: KernelEvent, preferred: Option<Tid>) -> crate::ipc::Next {
        let reporter = self.process(pid).and_then(|p| {
            let has_pager = |t: &Tid| self.thread(*t).is_some_and(|t| t.pager_ep.is_some());
            preferred
                .filter(|t| p.threads.contains(t) && has_pager(t))
                .or_else(|| p.threads.iter().copied().find(has_pager))
        });
        self.destroy_process(pid, reporter);
        let Some(reporter) = reporter else {
            return crate::ipc::Next::Schedule;
        };
        let ep = self.thread(reporter).and_then(|t| t.pager_ep).expect("chosen for it");
        let (kind, msg) = event.to_message();
        self.send(reporter, ep, Outgoing::Short { kind, msg })
    }

    /// The kernel ends `pid` for `cause`, says so, and tells its pager.
    pub fn kill(&mut self, pid: Pid, cause: KernelKill) {
        if self.process(pid).is_none() {
            return;
        }
        log::warn!("process {} killed by the kernel: {}", pid.0, cause.describe());
        let next = self.end_process(pid, KernelEvent::Killed { pid, cause }, None);
        // A pager that was waiting got the report: it runs when scheduled.
        if let crate::ipc::Next::SwitchTo(t) = next {
            self.run_queue.push_back(t);
        }
    }

    /// Wakes a queued sender with an error instead of a reply.
    pub fn fail_sender(&mut self, tid: Tid, error: SysError) {
        let Some(t) = self.thread_mut(tid) else { return };
        match t.state {
            // An exit report nobody will receive: the thread is gone.
            ThreadState::Sending {
                msg:
                    Outgoing::Short {
                        kind: MessageKind::Exit,
                        ..
                    },
                ..
            } => self.free_reporter(tid),
            // A faulting thread cannot continue without its pager.
            ThreadState::Sending {
                msg:
                    Outgoing::Short {
                        kind: MessageKind::Fault,
                        ..
                    },
                ..
            } => {
                let pid = t.pid;
                self.kill(pid, KernelKill::PagerGone);
            }
            _ => self.wake_with(tid, error),
        }
    }

    /// #NM: the current thread uses the FPU while another owns it (or none
    /// does). Its state goes onto the CPU, the owner's into the owner's
    /// area, and the instruction runs again.
    pub fn fpu_trap(&mut self, tid: Tid) -> crate::ipc::Next {
        let previous = Some(self.fpu_owner).filter(|&o| o != NO_THREAD && o != tid);
        let mut saved = previous.and_then(|o| self.thread_mut(o)?.fpu.take());
        let next = self
            .thread_mut(tid)
            .expect("current thread exists")
            .fpu
            .get_or_insert_with(crate::arch::fpu::FpuArea::initial);
        crate::arch::fpu::hand_over(saved.as_deref_mut(), next);
        if let (Some(o), Some(area)) = (previous, saved)
            && let Some(t) = self.thread_mut(o)
        {
            t.fpu = Some(area);
        }
        self.fpu_owner = tid;
        crate::ipc::Next::Continue
    }

    /// Frees the thread that carried its dead process's end report.
    pub fn free_reporter(&mut self, tid: Tid) {
        self.unlink_thread(tid);
        if let Some(thread) = self.threads.remove(tid.0) {
            self.release_thread_endpoints(tid, &thread);
        }
    }
}
