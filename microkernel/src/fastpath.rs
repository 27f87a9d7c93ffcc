//! The IPC fast path (as seL4's): the common cases of the hot calls, done
//! without the general dispatcher's state machine.
//!
//! - `CallShort` to an endpoint whose server waits: the message goes into
//!   the server's registers and the kernel switches to it.
//! - A fault of a thread whose pager waits: the same, from `user_fault`.
//! - `ReplyRecvShort` answering a short call or a fault, when no sender is
//!   queued on the endpoint: the reply (and a fault reply's mappings) goes
//!   in, the server waits, and the kernel switches to the thread answered.
//!
//! Each fast path first checks every condition it relies on and changes
//! nothing when one fails; the call then takes the general path, which
//! handles every case (and reports every error). The outcome is the same
//! either way: only the instruction count differs.

use libipc::{
    MAX_MESSAGE,
    abi::{MessageKind, Rights, Syscall},
    kernel::{SyscallInfo, SyscallReply, syscall_reply_label},
    short::ShortMessage,
    types::{CapSlot, Pid, Sender, Tid},
};

use crate::{
    arch::trap::TrapFrame,
    memory::usercopy,
    object::{EndpointRef, Kernel, Outgoing, ReplyTo, Thread, ThreadState},
    syscall::FaultOutcome,
};

impl Kernel {
    /// Runs the current thread's system call on a fast path if one applies;
    /// returns the frame to leave through, or `None` for the general path.
    /// Counts the entry (`ThreadEntries`) either way, with the one lookup
    /// of the calling thread. Inlined into the dispatcher, whose
    /// convention saves no registers.
    #[inline(always)]
    pub fn fastpath(&mut self, tid: Tid) -> Option<*mut TrapFrame> {
        let thread = self.threads.get_mut(tid.0)?;
        thread.entries += 1;
        if let Some((routes, syscall_ep)) = &thread.linux {
            // Borrowed, not copied: the routes are 64 bytes.
            let ep = if routes.to_fault_endpoint(thread.frame.rax) {
                thread.pager_ep
            } else {
                *syscall_ep
            };
            return Some(self.forward_syscall(tid, ep));
        }
        let f = &thread.frame;
        let (number, slot, pid) = (f.rax, CapSlot(f.rdi as u32), thread.pid);
        if number == Syscall::CallShort as u64 {
            let ep = self
                .processes
                .get(pid.0)?
                .caps
                .lookup(slot, Rights::SEND)
                .ok()?
                .endpoint;
            self.fast_call_short(tid, ep)
        } else if number == Syscall::ReplyRecvShort as u64 {
            let (buf, cap, target) = (f.rsi, f.rdx, thread.reply?);
            self.fast_reply_recv(tid, pid, slot, buf, cap, target)
        } else {
            None
        }
    }

    /// `CallShort` through `ep` (the caller's capability checked for
    /// `SEND`) to a waiting server. The message goes from the caller's
    /// registers to the server's once both threads are at hand, not
    /// through the stack.
    #[inline(always)]
    fn fast_call_short(&mut self, tid: Tid, ep: EndpointRef) -> Option<*mut TrapFrame> {
        let endpoint = self.endpoints.get_mut(ep)?;
        let server = endpoint.receiver?;
        // `None` too when the receiver is the caller itself, which cannot
        // be receiving: it runs.
        let (me, s) = self.threads.get2_mut(tid.0, server.0)?;
        if !matches!(s.state, ThreadState::Receiving { .. }) {
            return None;
        }
        let from = Sender { pid: me.pid, tid };
        let msg = me.frame.short_message();
        s.deliver_short(from, me.acting_for_word(), MessageKind::ShortCall, &msg, [0; 2]);
        s.reply = Some(tid);
        endpoint.receiver = None;
        me.state = ThreadState::AwaitingReply {
            server,
            to: ReplyTo::Short,
        };
        let next = s.incoming();
        Some(self.enter_unqueued(server, next))
    }

    /// Delivers a short message of `sender` (the current thread) to the
    /// server waiting on `ep`, if one waits; the sender then awaits the
    /// reply. Returns the server to switch to.
    #[inline(always)]
    pub fn fast_send_short(
        &mut self,
        sender: Tid,
        ep: EndpointRef,
        kind: MessageKind,
        msg: ShortMessage,
        extra: [u64; 2],
    ) -> Option<Tid> {
        self.fast_deliver(sender, ep, kind, msg, extra)
            .map(|(server, _)| server)
    }

    /// [`Kernel::fast_send_short`], returning the server's thread too (one
    /// lookup of the sender and the server together, one of the endpoint).
    #[inline(always)]
    fn fast_deliver(
        &mut self,
        sender: Tid,
        ep: EndpointRef,
        kind: MessageKind,
        msg: ShortMessage,
        extra: [u64; 2],
    ) -> Option<(Tid, &mut Thread)> {
        let to = match kind {
            MessageKind::Syscall => ReplyTo::Syscall,
            kind => Outgoing::Short { kind, msg }.reply_to()?,
        };
        let endpoint = self.endpoints.get_mut(ep)?;
        let server = endpoint.receiver?;
        // `None` too when the receiver is the sender itself, which cannot
        // be receiving: it runs.
        let (me, s) = self.threads.get2_mut(sender.0, server.0)?;
        if !matches!(s.state, ThreadState::Receiving { .. }) {
            return None;
        }
        let from = Sender {
            pid: me.pid,
            tid: sender,
        };
        s.deliver_short(from, me.acting_for_word(), kind, &msg, extra);
        s.reply = Some(sender);
        endpoint.receiver = None;
        me.state = ThreadState::AwaitingReply { server, to };
        if me.fault_times.entry != 0 {
            me.fault_times.delivered = crate::entropy::tsc();
        }
        Some((server, s))
    }

    /// A Linux thread's `syscall`: forwarded to `ep`, the pager (memory
    /// calls) or its system-call endpoint, as its routes say
    /// ([`Kernel::fastpath`]); with no handler the call fails with ENOSYS.
    #[inline(always)]
    fn forward_syscall(&mut self, tid: Tid, ep: Option<EndpointRef>) -> *mut TrapFrame {
        let Some(ep) = ep else {
            self.thread_mut(tid).expect("current thread exists").frame.rax =
                SyscallReply::error(libipc::kernel::ENOSYS).rax;
            return self.switch_to(tid);
        };
        if let Some(next) = self.fast_forward(tid, ep) {
            return next;
        }
        self.forward_slow(tid, ep)
    }

    /// [`Kernel::forward_syscall`] to a handler waiting on `ep`: the call
    /// (`rax`, then `rdi, rsi, rdx, r10` and `r8, r9`) goes from the
    /// caller's registers to the handler's once both threads are at hand,
    /// as [`Kernel::fast_call_short`]'s message, not through the stack.
    #[inline(always)]
    fn fast_forward(&mut self, tid: Tid, ep: EndpointRef) -> Option<*mut TrapFrame> {
        let endpoint = self.endpoints.get_mut(ep)?;
        let server = endpoint.receiver?;
        // `None` too when the receiver is the caller itself, which cannot
        // be receiving: it runs.
        let (me, s) = self.threads.get2_mut(tid.0, server.0)?;
        if !matches!(s.state, ThreadState::Receiving { .. }) {
            return None;
        }
        let f = &me.frame;
        let msg = ShortMessage::new(f.rax, [f.rdi, f.rsi, f.rdx, f.r10]);
        let from = Sender { pid: me.pid, tid };
        s.deliver_short(from, me.acting_for_word(), MessageKind::Syscall, &msg, [f.r8, f.r9]);
        s.reply = Some(tid);
        endpoint.receiver = None;
        me.state = ThreadState::AwaitingReply {
            server,
            to: ReplyTo::Syscall,
        };
        let next = s.incoming();
        Some(self.enter_unqueued(server, next))
    }

    /// The general path of a forwarded system call (no handler waits),
    /// kept out of the fast path's frame.
    #[inline(never)]
    fn forward_slow(&mut self, tid: Tid, ep: EndpointRef) -> *mut TrapFrame {
        let f = &self.thread(tid).expect("current thread exists").frame;
        let info = SyscallInfo {
            number: f.rax,
            args: [f.rdi, f.rsi, f.rdx, f.r10, f.r8, f.r9],
        };
        let (msg, extra) = (info.to_message(), info.extra());
        let next = self.send(tid, ep, Outgoing::Syscall { msg, extra });
        self.finish(tid, next)
    }

    /// `ReplyRecvShort` (endpoint cap `slot`, `buf`, `cap`; the reply in
    /// registers) of `tid` (of process `pid`), which holds the reply
    /// right of `target`'s call, when that caller awaits a short answer and
    /// nobody is queued.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn fast_reply_recv(
        &mut self,
        tid: Tid,
        pid: Pid,
        slot: CapSlot,
        buf: u64,
        cap: u64,
        target: Tid,
    ) -> Option<*mut TrapFrame> {
        let ep = self
            .processes
            .get(pid.0)?
            .caps
            .lookup(slot, Rights::RECV)
            .ok()?
            .endpoint;
        let endpoint = self.endpoints.get_mut(ep)?;
        if !endpoint.queue.is_empty() || endpoint.receiver.is_some() {
            return None;
        }
        usercopy::check_range(buf, cap.min(MAX_MESSAGE as u64)).ok()?;
        let (me, t) = self.threads.get2_mut(tid.0, target.0)?;
        let ThreadState::AwaitingReply { server, to } = t.state else {
            return None;
        };
        if server != tid {
            return None;
        }
        // The common answer first: one compare, not a decoded enum; the
        // reply goes from the server's registers to the caller's.
        if to == ReplyTo::Short {
            t.finish_short_call(&me.frame.short_message());
        } else {
            let msg = me.frame.short_message();
            match to {
                // The common answer to a forwarded system call: a value for
                // `rax` and nothing else (no rip, rsp, base or sleep, which
                // `SyscallReply::from_message` and `finish_syscall` check);
                // the same outcome without decoding the label's flags.
                ReplyTo::Syscall if msg.label == syscall_reply_label::TAG => {
                    t.frame.rax = msg.words[0];
                    t.state = ThreadState::Ready;
                }
                ReplyTo::Syscall => match SyscallReply::from_message(&msg) {
                    // A sleeping answer takes the general path to the timer queue.
                    Some(reply) if reply.sleep_until.is_none() && t.finish_syscall(&reply).is_ok() => {}
                    // Malformed or a bad rip: the general path says why.
                    _ => return None,
                },
                ReplyTo::Fault => {
                    let target_pid = t.pid;
                    return Some(self.fast_fault_reply(tid, pid, ep, buf, cap, target, target_pid, msg));
                }
                ReplyTo::Short | ReplyTo::Call { .. } => return None,
            }
        }
        // The reply right is used; the server waits for the next message.
        endpoint.receiver = Some(tid);
        me.reply = None;
        me.acting_for = None;
        me.state = ThreadState::Receiving { ep, buf, cap };
        let next = t.incoming();
        Some(self.enter_unqueued(target, next))
    }

    /// The fault reply of [`Kernel::fast_reply_recv`]: validates and
    /// installs the mappings, then as a short answer.
    #[allow(clippy::too_many_arguments)]
    #[inline(never)]
    fn fast_fault_reply(
        &mut self,
        tid: Tid,
        pid: Pid,
        ep: EndpointRef,
        buf: u64,
        cap: u64,
        target: Tid,
        target_pid: Pid,
        // By value: a reference would keep the message in memory on every
        // answer's way, the forwarded system call's too.
        msg: ShortMessage,
    ) -> *mut TrapFrame {
        // The profile's reply stamp (the general path takes it on entry).
        self.entry_tsc = crate::entropy::tsc();
        match self.fault_reply(pid, target, target_pid, &msg) {
            Ok(FaultOutcome::Resumed) => {}
            Ok(FaultOutcome::Killed) => {
                // The faulting process was killed: its end report may
                // wait on this endpoint now; the general receive takes it.
                self.consume_reply(tid);
                let next = self.recv(tid, ep, buf, cap);
                return self.finish(tid, next);
            }
            Err(e) => {
                // A refused reply: the pager learns why and still holds
                // the reply right; the faulting thread keeps waiting.
                self.set_result(tid, Err(e));
                return self.switch_to(tid);
            }
        }
        if let Some(e) = self.endpoint_mut(ep) {
            e.receiver = Some(tid);
        }
        // The reply right is used; the server waits for the next message.
        let me = self.thread_mut(tid).expect("current thread exists");
        me.reply = None;
        me.acting_for = None;
        me.state = ThreadState::Receiving { ep, buf, cap };
        self.switch_to(target)
    }
}
