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
    kernel::{SyscallInfo, SyscallReply},
    short::ShortMessage,
    types::{CapSlot, Sender, Tid},
};

use crate::{
    arch::trap::TrapFrame,
    memory::usercopy,
    object::{EndpointRef, Kernel, Outgoing, ReplyTo, ThreadState},
    syscall::FaultOutcome,
};

impl Kernel {
    /// Runs the current thread's system call on a fast path if one applies;
    /// returns the frame to leave through, or `None` for the general path.
    pub fn fastpath(&mut self, tid: Tid) -> Option<*mut TrapFrame> {
        let thread = self.thread(tid)?;
        if let Some((routes, syscall_ep)) = &thread.linux {
            // Borrowed, not copied: the routes are 64 bytes.
            let ep = if routes.to_fault_endpoint(thread.frame.rax) {
                thread.pager_ep
            } else {
                *syscall_ep
            };
            let f = &thread.frame;
            let info = SyscallInfo {
                number: f.rax,
                args: [f.rdi, f.rsi, f.rdx, f.r10, f.r8, f.r9],
            };
            return Some(self.forward_syscall(tid, ep, &info));
        }
        let number = thread.frame.rax;
        if number == Syscall::CallShort as u64 {
            let (slot, msg, pid) = (
                CapSlot(thread.frame.rdi as u32),
                thread.frame.short_message(),
                thread.pid,
            );
            let ep = self.endpoint_of(pid, slot, Rights::SEND).ok()?;
            let server = self.fast_send_short(tid, ep, MessageKind::ShortCall, msg, [0; 2])?;
            Some(self.switch_to(server))
        } else if number == Syscall::ReplyRecvShort as u64 {
            self.fast_reply_recv(tid)
        } else {
            None
        }
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
        let server = self.endpoints.get(ep)?.receiver?;
        let to = match kind {
            MessageKind::Syscall => ReplyTo::Syscall,
            kind => Outgoing::Short { kind, msg }.reply_to()?,
        };
        let me = self.thread(sender)?;
        let (from, acting_for) = (
            Sender {
                pid: me.pid,
                tid: sender,
            },
            me.acting_for_word(),
        );
        let s = self.thread_mut(server)?;
        if !matches!(s.state, ThreadState::Receiving { .. }) {
            return None;
        }
        s.deliver_short(from, acting_for, kind, &msg, extra);
        s.reply = Some(sender);
        if let Some(e) = self.endpoint_mut(ep) {
            e.receiver = None;
        }
        let thread = self.thread_mut(sender).expect("checked above");
        thread.state = ThreadState::AwaitingReply { server, to };
        if thread.fault_times.entry != 0 {
            thread.fault_times.delivered = crate::entropy::tsc();
        }
        Some(server)
    }

    /// A Linux thread's `syscall` (`info`, read from its registers by
    /// [`Kernel::fastpath`] with the one lookup of the thread): forwarded to
    /// `ep`, the pager (memory calls) or its system-call endpoint, as its
    /// routes say; with no handler the call fails with ENOSYS.
    #[inline(always)]
    fn forward_syscall(&mut self, tid: Tid, ep: Option<EndpointRef>, info: &SyscallInfo) -> *mut TrapFrame {
        let Some(ep) = ep else {
            self.thread_mut(tid).expect("current thread exists").frame.rax =
                SyscallReply::error(libipc::kernel::ENOSYS).rax;
            return self.switch_to(tid);
        };
        let (msg, extra) = (info.to_message(), info.extra());
        if let Some(server) = self.fast_send_short(tid, ep, MessageKind::Syscall, msg, extra) {
            return self.switch_to(server);
        }
        let next = self.send(tid, ep, Outgoing::Syscall { msg, extra });
        self.finish(tid, next)
    }

    /// `ReplyRecvShort` (endpoint cap, buf, cap; the reply in registers)
    /// when the caller it answers awaits a short answer and nobody is
    /// queued.
    fn fast_reply_recv(&mut self, tid: Tid) -> Option<*mut TrapFrame> {
        let me = self.thread(tid)?;
        let f = &me.frame;
        let (slot, buf, cap, msg, pid, target) = (
            CapSlot(f.rdi as u32),
            f.rsi,
            f.rdx,
            f.short_message(),
            me.pid,
            me.reply?,
        );
        let ep = self.endpoint_of(pid, slot, Rights::RECV).ok()?;
        let endpoint = self.endpoints.get(ep)?;
        if !endpoint.queue.is_empty() || endpoint.receiver.is_some() {
            return None;
        }
        usercopy::check_range(buf, cap.min(MAX_MESSAGE as u64)).ok()?;
        let t = self.thread_mut(target)?;
        let ThreadState::AwaitingReply { server, to } = t.state else {
            return None;
        };
        if server != tid {
            return None;
        }
        let target_pid = t.pid;
        match to {
            ReplyTo::Short => t.finish_short_call(&msg),
            ReplyTo::Syscall => match SyscallReply::from_message(&msg) {
                // A sleeping answer takes the general path to the timer queue.
                Some(reply) if reply.sleep_until.is_none() && t.finish_syscall(&reply).is_ok() => {}
                // Malformed or a bad rip: the general path says why.
                _ => return None,
            },
            ReplyTo::Fault => match self.fault_reply(pid, target, target_pid, &msg) {
                Ok(FaultOutcome::Resumed) => {}
                Ok(FaultOutcome::Killed) => {
                    // The faulting process was killed: its end report may
                    // wait on this endpoint now; the general receive takes it.
                    self.consume_reply(tid);
                    let next = self.recv(tid, ep, buf, cap);
                    return Some(self.finish(tid, next));
                }
                Err(e) => {
                    // A refused reply: the pager learns why and still holds
                    // the reply right; the faulting thread keeps waiting.
                    self.set_result(tid, Err(e));
                    return Some(self.switch_to(tid));
                }
            },
            ReplyTo::Call { .. } => return None,
        }
        if let Some(e) = self.endpoint_mut(ep) {
            e.receiver = Some(tid);
        }
        // The reply right is used; the server waits for the next message.
        let me = self.thread_mut(tid).expect("current thread exists");
        me.reply = None;
        me.acting_for = None;
        me.state = ThreadState::Receiving { ep, buf, cap };
        Some(self.switch_to(target))
    }
}
