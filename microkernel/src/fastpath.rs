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
    abi::{MessageKind, Syscall},
    short::ShortMessage,
    types::{EndpointId, Sender, Tid},
};

use crate::{
    arch::trap::TrapFrame,
    ipc::Next,
    memory::usercopy,
    object::{Kernel, Outgoing, ReplyTo, ThreadState},
};

impl Kernel {
    /// Runs the current thread's system call on a fast path if one applies;
    /// returns the frame to leave through, or `None` for the general path.
    pub fn fastpath(&mut self, tid: Tid) -> Option<*mut TrapFrame> {
        let number = self.thread(tid)?.frame.rax;
        if number == Syscall::CallShort as u64 {
            let frame = &self.thread(tid)?.frame;
            let (ep, msg) = (EndpointId(frame.rdi as u32), frame.short_message());
            let server = self.fast_send_short(tid, ep, MessageKind::ShortCall, msg)?;
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
        ep: EndpointId,
        kind: MessageKind,
        msg: ShortMessage,
    ) -> Option<Tid> {
        let server = self.endpoints.get(ep.0 as usize)?.as_ref()?.receiver?;
        let to = Outgoing::Short { kind, msg }.reply_to()?;
        let pid = self.thread(sender)?.pid;
        if !matches!(self.thread(server)?.state, ThreadState::Receiving { .. }) {
            return None;
        }
        self.write_short_delivery(server, Sender { pid, tid: sender }, kind, &msg);
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

    /// `ReplyRecvShort` (to, endpoint, buf, cap; the reply in registers)
    /// when its target awaits a short answer and nobody is queued.
    fn fast_reply_recv(&mut self, tid: Tid) -> Option<*mut TrapFrame> {
        let me = self.thread(tid)?;
        let f = &me.frame;
        let (target, ep, buf, cap, msg, pid) = (
            Tid(f.rdi as u32),
            EndpointId(f.rsi as u32),
            f.rdx,
            f.r10,
            f.short_message(),
            me.pid,
        );
        let endpoint = self.endpoints.get(ep.0 as usize)?.as_ref()?;
        if endpoint.owner != pid || !endpoint.queue.is_empty() || endpoint.receiver.is_some() {
            return None;
        }
        usercopy::check_range(buf, cap.min(MAX_MESSAGE as u64)).ok()?;
        let resumed = match self.thread(target)?.state {
            ThreadState::AwaitingReply {
                server,
                to: ReplyTo::Short,
            } if server == tid => {
                self.finish_short_call(target, &msg);
                Some(target)
            }
            ThreadState::AwaitingReply {
                server,
                to: ReplyTo::Fault,
            } if server == tid => match self.fault_reply(pid, target, &msg) {
                Ok(resumed) => resumed,
                Err(e) => {
                    // A refused reply: the pager learns why and goes on;
                    // the faulting thread keeps waiting.
                    self.set_result(tid, Err(e));
                    return Some(self.switch_to(tid));
                }
            },
            _ => return None,
        };
        if let Some(e) = self.endpoint_mut(ep) {
            e.receiver = Some(tid);
        }
        self.thread_mut(tid).expect("current thread exists").state = ThreadState::Receiving { ep, buf, cap };
        Some(match resumed {
            Some(t) => self.switch_to(t),
            // The pager killed the faulting process: run whoever is ready.
            None => self.finish(tid, Next::Schedule),
        })
    }
}
