//! Synchronous IPC (L4 style): `Call` blocks until the reply, `Recv` blocks
//! until a message, `ReplyRecv` answers and waits in one step.
//!
//! The model (as seL4's and Zircon's docs state theirs):
//!
//! - **Endpoints are objects, named through capabilities.** A process
//!   names an endpoint only by a slot of its own capability table; the slot
//!   carries rights (`SEND`, `RECV`, `GRANT`), checked on every call. No
//!   global name exists, so no process can claim a server's identity.
//! - **Replies go through a one-shot reply right.** Delivering a call or a
//!   fault gives the receiving thread the reply right of that call
//!   (`Thread::reply`). Replying uses it up. Receiving again without
//!   replying drops it: the caller gets `NotAnswered`, or, for a fault, its
//!   process is killed (it cannot continue without its page). A server that
//!   exits or dies drops it with `ServerGone`. A server that loses its last
//!   receive right fails its queued and future callers with `ServerGone`.
//!   Nobody waits forever on a server that is gone.
//! - **Identity is stamped by the kernel.** Every delivery carries the
//!   sender's pid and tid, and, while the sender impersonates the caller it
//!   serves (`Impersonate`), that caller's pid as the one it acts for.
//!
//! Direct switching: when a sender finds its receiver waiting, the message
//! goes straight into the receiver's registers (a short message) or buffer
//! (a byte message) and the kernel switches to the receiver without a trip
//! through the run queue; `ReplyRecv` likewise switches straight back to the
//! thread it answered. A fault round trip is therefore two kernel entries
//! and two direct switches. The commonest of these cases also skip the
//! general dispatcher (`fastpath`).

use libipc::{
    MAX_MESSAGE,
    abi::{MessageKind, SysError},
    kernel::KernelKill,
    short::ShortMessage,
    types::{Sender, Tid},
};

use crate::{
    memory::usercopy,
    object::{EndpointRef, Kernel, Outgoing, ReplyTo, Thread, ThreadState},
};

/// The outcome of copying one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    Delivered,
    /// The sender's message could not be read; it got `BadAddress`.
    SenderFault,
    /// The receiver's buffer could not take it; the receiver got the error.
    ReceiverFault,
}

/// Where a thread goes after a system call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// The caller continues.
    Continue,
    /// The caller blocked; run `Tid` directly (a handoff).
    SwitchTo(Tid),
    /// The caller blocked or yielded; pick from the run queue.
    Schedule,
}

impl Kernel {
    /// Sets a thread's result registers.
    pub fn set_result(&mut self, tid: Tid, result: Result<(u64, u64, u64), SysError>) {
        if let Some(t) = self.thread_mut(tid) {
            match result {
                Ok((a, b, c)) => {
                    t.frame.rax = 0;
                    t.frame.rdi = a;
                    t.frame.rsi = b;
                    t.frame.rdx = c;
                }
                Err(e) => t.frame.rax = e as u64,
            }
        }
    }

    /// `sender` (the current thread) sends `msg` to `ep`: hand off to a
    /// waiting receiver, or queue.
    pub fn send(&mut self, sender: Tid, ep: EndpointRef, msg: Outgoing) -> Next {
        if let Some(thread) = self.thread_mut(sender) {
            thread.state = ThreadState::Sending { ep, msg };
        }
        let Some(endpoint) = self.endpoint_mut(ep).filter(|e| e.receivers > 0) else {
            // Nobody can answer: woken with the error, or, for a fault,
            // its process is gone.
            self.fail_sender(sender, SysError::ServerGone);
            return Next::Schedule;
        };
        let Some(receiver) = endpoint.receiver.take() else {
            endpoint.queue.push_back(sender);
            return Next::Schedule;
        };
        match self.deliver(sender, receiver) {
            Delivery::Delivered => Next::SwitchTo(receiver),
            Delivery::SenderFault => {
                if let Some(e) = self.endpoint_mut(ep) {
                    e.receiver = Some(receiver);
                }
                Next::Continue
            }
            Delivery::ReceiverFault => {
                if let Some(e) = self.endpoint_mut(ep) {
                    e.queue.push_front(sender);
                }
                self.run_queue.push_back(receiver);
                Next::Schedule
            }
        }
    }

    /// Delivers the message of `sender` (in state `Sending`) to `receiver`
    /// (in state `Receiving`): a short message into its registers, a byte
    /// message into its buffer. Neither thread is queued here.
    pub fn deliver(&mut self, sender: Tid, receiver: Tid) -> Delivery {
        let (Some(ThreadState::Receiving { buf, cap, .. }), Some(ThreadState::Sending { msg, .. })) = (
            self.thread(receiver).map(|t| t.state),
            self.thread(sender).map(|t| t.state),
        ) else {
            return Delivery::ReceiverFault;
        };
        let stamp = self.sender(sender);
        let acting_for = self.thread(sender).map_or(0, Thread::acting_for_word);
        match msg {
            Outgoing::Short { kind, msg: words } => {
                let extra = if kind == MessageKind::Fault {
                    self.thread(sender).map_or([0; 2], |t| t.fault_args())
                } else {
                    [0; 2]
                };
                self.write_short_delivery(receiver, stamp, acting_for, kind, &words, extra)
            }
            Outgoing::Syscall { msg: words, extra } => {
                self.write_short_delivery(receiver, stamp, acting_for, MessageKind::Syscall, &words, extra)
            }
            Outgoing::Call { ptr, len, .. } => {
                if let Err(d) = self.deliver_bytes(sender, receiver, (ptr, len), (buf, cap)) {
                    return d;
                }
                self.set_result(receiver, Ok((len, stamp.to_word(), MessageKind::Call as u64)));
                let r = self.thread_mut(receiver).expect("exists");
                r.frame.r10 = acting_for;
                r.state = ThreadState::Ready;
            }
        }
        match msg.reply_to() {
            Some(to) => {
                let thread = self.thread_mut(sender).expect("exists");
                thread.state = ThreadState::AwaitingReply { server: receiver, to };
                if thread.fault_times.entry != 0 {
                    thread.fault_times.delivered = crate::entropy::tsc();
                }
                self.thread_mut(receiver).expect("exists").reply = Some(sender);
            }
            // An exit report: the thread's last act.
            None => self.free_reporter(sender),
        }
        Delivery::Delivered
    }

    /// Completes a receive with a short message: the receive's results and
    /// the message go into the receiver's registers. `acting_for` is the
    /// pid the sender impersonates (0: none).
    #[inline(always)]
    pub fn write_short_delivery(
        &mut self,
        receiver: Tid,
        from: Sender,
        acting_for: u64,
        kind: MessageKind,
        msg: &ShortMessage,
        extra: [u64; 2],
    ) {
        self.thread_mut(receiver)
            .expect("receiver exists")
            .deliver_short(from, acting_for, kind, msg, extra);
    }

    /// Copies a byte message from the sender's memory into the receiver's
    /// buffer (only the message's own bytes: no buffer to clear). On a
    /// failure the thread at fault gets the error and becomes ready.
    fn deliver_bytes(
        &mut self,
        sender: Tid,
        receiver: Tid,
        (ptr, len): (u64, u64),
        (buf, cap): (u64, u64),
    ) -> Result<(), Delivery> {
        let mut bytes: heapless::Vec<u8, MAX_MESSAGE> = heapless::Vec::new();
        let spid = self.thread(sender).expect("sender exists").pid;
        let fits = bytes.resize(len as usize, 0).is_ok();
        if !fits || usercopy::copy_from_user(&self.process(spid).expect("live").space, ptr, &mut bytes).is_err() {
            // The sender unmapped its own message meanwhile.
            self.set_result(sender, Err(SysError::BadAddress));
            self.thread_mut(sender).expect("exists").state = ThreadState::Ready;
            return Err(Delivery::SenderFault);
        }
        let rpid = self.thread(receiver).expect("receiver exists").pid;
        let written = if len > cap {
            Err(SysError::MessageTooLarge)
        } else {
            usercopy::copy_to_user(&self.process(rpid).expect("live").space, buf, &bytes)
        };
        if let Err(e) = written {
            self.set_result(receiver, Err(e));
            self.thread_mut(receiver).expect("exists").state = ThreadState::Ready;
            return Err(Delivery::ReceiverFault);
        }
        Ok(())
    }

    /// `Recv` on the endpoint `ep` (already checked for `RECV`): drop any
    /// reply right still held, then take the oldest queued sender or block.
    /// The buffer's pages are checked when a byte message is written into
    /// it (a short message never touches it): a receive costs no page walk.
    pub fn recv(&mut self, tid: Tid, ep: EndpointRef, buf: u64, cap: u64) -> Next {
        if let Err(e) = usercopy::check_range(buf, cap.min(MAX_MESSAGE as u64)) {
            self.set_result(tid, Err(e));
            return Next::Continue;
        }
        self.abandon_caller(tid, SysError::NotAnswered, KernelKill::FaultNotAnswered);
        self.thread_mut(tid).expect("exists").state = ThreadState::Receiving { ep, buf, cap };
        while let Some(sender) = self.endpoint_mut(ep).and_then(|e| e.dequeue()) {
            match self.deliver(sender, tid) {
                Delivery::Delivered => return Next::Continue,
                Delivery::SenderFault => self.run_queue.push_back(sender),
                Delivery::ReceiverFault => {
                    if let Some(e) = self.endpoint_mut(ep) {
                        e.queue.push_front(sender);
                    }
                    return Next::Continue;
                }
            }
        }
        if let Some(e) = self.endpoint_mut(ep) {
            e.receiver = Some(tid);
        }
        Next::Schedule
    }

    /// The caller whose reply right `server` holds, and how it waits.
    #[inline(always)]
    pub fn awaiting(&self, server: Tid) -> Result<(Tid, ReplyTo), SysError> {
        let target = self.thread(server).and_then(|t| t.reply).ok_or(SysError::NotWaiting)?;
        match self.thread(target).map(|t| &t.state) {
            Some(ThreadState::AwaitingReply { server: s, to }) if *s == server => Ok((target, *to)),
            _ => Err(SysError::NotWaiting),
        }
    }

    /// The reply right of `server` is used: it no longer holds it, nor
    /// acts for that caller.
    #[inline(always)]
    pub fn consume_reply(&mut self, server: Tid) {
        if let Some(t) = self.thread_mut(server) {
            t.reply = None;
            t.acting_for = None;
        }
    }

    /// Completes a `Call`: copies the reply into the caller's reply buffer.
    pub fn finish_call(&mut self, target: Tid, reply_ptr: u64, reply_cap: u64, bytes: &[u8]) {
        let result = if bytes.len() as u64 > reply_cap {
            Err(SysError::MessageTooLarge)
        } else {
            let pid = self.thread(target).expect("target exists").pid;
            let space = &self.process(pid).expect("live").space;
            usercopy::copy_to_user(space, reply_ptr, bytes).map(|()| (bytes.len() as u64, 0, 0))
        };
        self.set_result(target, result);
        self.thread_mut(target).expect("exists").state = ThreadState::Ready;
    }

    /// Completes a `CallShort`: the reply goes into the caller's registers.
    pub fn finish_short_call(&mut self, target: Tid, reply: &ShortMessage) {
        self.thread_mut(target).expect("target exists").finish_short_call(reply);
    }
}

impl Thread {
    /// Completes this thread's receive with a short message: the receive's
    /// results and the message go into its registers (`extra`, a forwarded
    /// system call's arguments 4 and 5, into `rdi` and `r15`).
    #[inline(always)]
    pub fn deliver_short(
        &mut self,
        from: Sender,
        acting_for: u64,
        kind: MessageKind,
        msg: &ShortMessage,
        extra: [u64; 2],
    ) {
        self.frame.set_short_message(msg);
        self.frame.rax = 0;
        self.frame.rdi = extra[0];
        self.frame.r15 = extra[1];
        self.frame.rsi = from.to_word();
        self.frame.rdx = kind as u64;
        self.frame.r10 = acting_for;
        self.state = ThreadState::Ready;
    }

    /// What a fault report carries beside the fault: the thread's `rdi`
    /// and `rsi` (a vsyscall's arguments, for the pager to emulate it).
    #[inline(always)]
    pub fn fault_args(&self) -> [u64; 2] {
        [self.frame.rdi, self.frame.rsi]
    }

    /// The pid this thread's messages are stamped as acting for (0: none),
    /// as a receive's `r10` carries it.
    #[inline(always)]
    pub fn acting_for_word(&self) -> u64 {
        self.acting_for.map_or(0, |p| u64::from(p.0))
    }

    /// Completes this thread's forwarded system call with `reply`: rax, and
    /// a new rip (a user address, so the return to user mode cannot fault
    /// in the kernel) and rsp if the handler sets them.
    #[inline(always)]
    pub fn finish_syscall(&mut self, reply: &libipc::kernel::SyscallReply) -> Result<(), SysError> {
        if let Some(rip) = reply.rip
            && rip >= crate::memory::space::user_end()
        {
            return Err(SysError::BadAddress);
        }
        if let Some(base) = reply.base {
            self.segments = self.segments.with_base(base)?;
        }
        self.frame.rax = reply.rax;
        if let Some(rip) = reply.rip {
            self.frame.rip = rip;
        }
        if let Some(rsp) = reply.rsp {
            self.frame.rsp = rsp;
        }
        self.state = ThreadState::Ready;
        Ok(())
    }

    /// Completes this thread's `CallShort` with `reply`.
    #[inline(always)]
    pub fn finish_short_call(&mut self, reply: &ShortMessage) {
        self.frame.rax = 0;
        self.frame.set_short_message(reply);
        self.state = ThreadState::Ready;
    }
}
