//! The kernel's objects: processes, threads and endpoints, and the tables
//! that hold them. Slots are indexed by id; ids are never reused, so a stale
//! id names nothing rather than somebody else.

use alloc::{collections::VecDeque, vec::Vec};

use libipc::{
    abi::MessageKind,
    short::ShortMessage,
    types::{EndpointId, Pid, Sender, Tid},
};

use crate::{
    arch::{segments::SegmentState, trap::TrapFrame},
    memory::space::AddressSpace,
};
/// Highest well-known endpoint id.
pub const MAX_ENDPOINTS: u32 = 64;

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
        ep: EndpointId,
        buf: u64,
        cap: u64,
    },
    Sending {
        ep: EndpointId,
        msg: Outgoing,
    },
    AwaitingReply {
        server: Tid,
        to: ReplyTo,
    },
    /// An exit report is on its way to the pager; the thread is gone.
    Exiting,
}

pub struct Thread {
    pub pid: Pid,
    pub frame: TrapFrame,
    pub state: ThreadState,
    /// Where this thread's faults go.
    pub pager_ep: Option<EndpointId>,
    /// Timestamps of the fault in flight, for the fault-path profile.
    pub fault_times: FaultTimes,
    /// Its segment selectors and FS/GS bases, saved while it does not run
    /// (`arch::segments`).
    pub segments: SegmentState,
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
    pub owner: Pid,
    /// The owner thread waiting in `Recv`, if any.
    pub receiver: Option<Tid>,
    /// Senders waiting for a receiver, oldest first.
    pub queue: VecDeque<Tid>,
}

/// All kernel state. Lives behind one lock taken on every kernel entry;
/// interrupts are off in the kernel, so it is never contended.
pub struct Kernel {
    pub processes: Vec<Option<Process>>,
    pub threads: Vec<Option<Thread>>,
    pub endpoints: Vec<Option<Endpoint>>,
    pub run_queue: VecDeque<Tid>,
    pub current: Option<Tid>,
    /// TSC at the current kernel entry.
    pub entry_tsc: u64,
    pub profile: libipc::abi::FaultProfile,
}

impl Kernel {
    pub fn new() -> Self {
        let mut endpoints = Vec::new();
        endpoints.resize_with(MAX_ENDPOINTS as usize + 1, || None);
        Kernel {
            // Slot 0 is never used: pid 0 and tid 0 mean "nobody".
            processes: alloc::vec![None],
            threads: alloc::vec![None],
            endpoints,
            run_queue: VecDeque::new(),
            current: None,
            entry_tsc: 0,
            profile: libipc::abi::FaultProfile::default(),
        }
    }

    pub fn process(&self, pid: Pid) -> Option<&Process> {
        self.processes.get(pid.0 as usize)?.as_ref()
    }

    pub fn process_mut(&mut self, pid: Pid) -> Option<&mut Process> {
        self.processes.get_mut(pid.0 as usize)?.as_mut()
    }

    pub fn thread(&self, tid: Tid) -> Option<&Thread> {
        self.threads.get(tid.0 as usize)?.as_ref()
    }

    pub fn thread_mut(&mut self, tid: Tid) -> Option<&mut Thread> {
        self.threads.get_mut(tid.0 as usize)?.as_mut()
    }

    pub fn endpoint_mut(&mut self, ep: EndpointId) -> Option<&mut Endpoint> {
        self.endpoints.get_mut(ep.0 as usize)?.as_mut()
    }

    pub fn sender(&self, tid: Tid) -> Sender {
        let pid = self.thread(tid).map_or(Pid(0), |t| t.pid);
        Sender { pid, tid }
    }

    pub fn create_process(&mut self, pager: Option<Pid>, pool: Option<FramePool>) -> Option<Pid> {
        let space = AddressSpace::new()?;
        let pid = Pid(self.processes.len() as u32);
        self.processes.push(Some(Process {
            space,
            threads: Vec::new(),
            pager,
            pool,
        }));
        Some(pid)
    }

    pub fn create_thread(&mut self, pid: Pid, frame: TrapFrame, pager_ep: Option<EndpointId>) -> Tid {
        let tid = Tid(self.threads.len() as u32);
        self.threads.push(Some(Thread {
            pid,
            frame,
            state: ThreadState::Ready,
            pager_ep,
            fault_times: FaultTimes::default(),
            segments: SegmentState::default(),
        }));
        if let Some(p) = self.process_mut(pid) {
            p.threads.push(tid);
        }
        self.run_queue.push_back(tid);
        tid
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
                }
            }
            _ => {}
        }
        if self.current == Some(tid) {
            self.current = None;
        }
    }

    /// Destroys a process: its threads, endpoints and page tables. Threads
    /// that sent to its endpoints get `NoSuchObject`. The frames it had
    /// mapped belong to its pager, which reclaims them.
    pub fn destroy_process(&mut self, pid: Pid) {
        let Some(process) = self.processes.get_mut(pid.0 as usize).and_then(Option::take) else {
            return;
        };
        for &tid in &process.threads {
            // A thread whose exit report is still queued stays until the
            // pager has received it.
            if matches!(self.thread(tid).map(|t| &t.state), Some(ThreadState::Exiting)) {
                continue;
            }
            self.unlink_thread(tid);
            self.threads[tid.0 as usize] = None;
        }
        for id in 0..self.endpoints.len() {
            if self.endpoints[id].as_ref().is_some_and(|e| e.owner == pid) {
                let ep = self.endpoints[id].take().expect("checked above");
                for waiter in ep.queue {
                    self.fail_sender(waiter, libipc::abi::SysError::NoSuchObject);
                }
            }
        }
        drop(process);
        // Callers waiting for a reply from a thread that is gone would wait
        // forever: a call gets an error, a fault (its pager died) is fatal.
        let orphans: Vec<(Tid, ReplyTo)> = self
            .threads
            .iter()
            .enumerate()
            .filter_map(|(i, t)| match t.as_ref().map(|t| &t.state) {
                Some(ThreadState::AwaitingReply { server, to }) if self.thread(*server).is_none() => {
                    Some((Tid(i as u32), *to))
                }
                _ => None,
            })
            .collect();
        for (tid, to) in orphans {
            match to {
                ReplyTo::Call { .. } | ReplyTo::Short => {
                    if let Some(t) = self.thread_mut(tid) {
                        t.frame.rax = libipc::abi::SysError::NoSuchObject as u64;
                        t.state = ThreadState::Ready;
                        self.run_queue.push_back(tid);
                    }
                }
                ReplyTo::Fault => {
                    if let Some(victim) = self.thread(tid).map(|t| t.pid) {
                        log::warn!("process {} killed: its pager died while it waited", victim.0);
                        self.destroy_process(victim);
                    }
                }
            }
        }
    }

    /// Wakes a queued sender with an error instead of a reply.
    pub fn fail_sender(&mut self, tid: Tid, error: libipc::abi::SysError) {
        let Some(t) = self.thread_mut(tid) else { return };
        match t.state {
            // An exit report nobody will receive: the thread is gone.
            ThreadState::Exiting
            | ThreadState::Sending {
                msg:
                    Outgoing::Short {
                        kind: MessageKind::Exit,
                        ..
                    },
                ..
            } => {
                self.threads[tid.0 as usize] = None;
            }
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
                log::warn!("process {} killed: its pager endpoint is gone", pid.0);
                self.destroy_process(pid);
            }
            _ => {
                t.frame.rax = error as u64;
                t.state = ThreadState::Ready;
                self.run_queue.push_back(tid);
            }
        }
    }
}
