//! System-call dispatch: decode the registers of the current thread,
//! validate every argument, act. See `libipc::abi` for the table.

use libipc::{
    MAX_MESSAGE,
    abi::{ExitStatus, LeaseDesc, MapFlags, MessageKind, SysError, Syscall},
    kernel::{FaultReplyRegs, KernelEvent, MAX_FAULT_MAPPINGS, Mapping},
    short::ShortMessage,
    types::{EndpointId, PhysAddr, Pid, Tid, VirtAddr},
};

use crate::{
    arch::trap::TrapFrame,
    ipc::Next,
    memory::{frames, usercopy},
    object::{Kernel, Lease, MAX_ENDPOINTS, Outgoing, ReplyTo, ThreadState},
    qemu::{self, QemuExit},
};

/// Largest single `DebugWrite`.
const MAX_DEBUG_WRITE: u64 = 4096;

type SysResult = Result<(u64, u64, u64), SysError>;

/// The body of a reply: bytes in the replier's memory, or registers.
#[derive(Clone, Copy, Debug)]
enum ReplyBody {
    Bytes { ptr: u64, len: u64 },
    Short(ShortMessage),
}

impl Kernel {
    /// Handles the current thread's system call.
    pub fn syscall(&mut self, tid: Tid) -> Next {
        let thread = self.thread(tid).expect("current thread exists");
        let (f, pid) = (&thread.frame, thread.pid);
        let args = [f.rdi, f.rsi, f.rdx, f.r10, f.r8, f.r9];
        let (number, short) = (f.rax, f.short_message());
        let Some(call) = Syscall::from_raw(number) else {
            self.set_result(tid, Err(SysError::NoSuchCall));
            return Next::Continue;
        };
        let result: SysResult = match call {
            Syscall::Call => return self.sys_call(tid, pid, args),
            Syscall::Recv => return self.recv(tid, EndpointId(args[0] as u32), args[1], args[2]),
            Syscall::ReplyRecv => {
                let body = ReplyBody::Bytes {
                    ptr: args[4],
                    len: args[5],
                };
                return self.sys_reply_recv(tid, pid, args, body);
            }
            Syscall::ReplyRecvShort => {
                let body = ReplyBody::Short(short);
                return self.sys_reply_recv(tid, pid, args, body);
            }
            Syscall::Reply => self.sys_reply_only(
                tid,
                pid,
                Tid(args[0] as u32),
                ReplyBody::Bytes {
                    ptr: args[1],
                    len: args[2],
                },
            ),
            Syscall::ReplyShort => self.sys_reply_only(tid, pid, Tid(args[0] as u32), ReplyBody::Short(short)),
            Syscall::CallShort => return self.sys_call_short(tid, EndpointId(args[0] as u32), short),
            Syscall::EndpointCreate => self.sys_endpoint_create(pid, args[0]),
            Syscall::DebugWrite => self.sys_debug_write(pid, args[0], args[1]),
            Syscall::Exit => return self.sys_exit(tid, pid, args[0] as i64),
            Syscall::Yield => {
                self.set_result(tid, Ok((0, 0, 0)));
                self.run_queue.push_back(tid);
                return Next::Schedule;
            }
            Syscall::Random => Ok((crate::entropy::random_u64(), 0, 0)),
            Syscall::Ticks => Ok((crate::entropy::tsc(), 0, 0)),
            Syscall::LeaseRead => self.sys_lease_copy(pid, tid, args, false),
            Syscall::LeaseWrite => self.sys_lease_copy(pid, tid, args, true),
            Syscall::FaultProfile => {
                let bytes = self.profile_bytes();
                usercopy::copy_to_user(&self.process(pid).expect("caller live").space, args[0], &bytes)
                    .map(|()| (0, 0, 0))
            }
            Syscall::KernelInfo => {
                let (free, total) = frames::stats();
                Ok((free, total, 0))
            }
            Syscall::SpaceCreate => self.sys_space_create(pid),
            Syscall::ThreadStart => self.sys_thread_start(pid, args),
            Syscall::Map => {
                let m = Mapping {
                    virt: VirtAddr(args[1]),
                    phys: PhysAddr(args[2]),
                    flags: MapFlags(args[3]),
                };
                self.install(pid, Pid(args[0] as u32), &[m]).map(|()| (0, 0, 0))
            }
            Syscall::Unmap => self
                .unmap_range(pid, Pid(args[0] as u32), VirtAddr(args[1]), args[2])
                .map(|n| (n, 0, 0)),
            Syscall::SpaceDestroy => self.sys_space_destroy(pid, Pid(args[0] as u32)),
            Syscall::Shutdown => self.sys_shutdown(pid, args[0]),
            Syscall::SetSegmentBase => self.sys_set_segment_base(tid, args[0], args[1]).map(|()| (0, 0, 0)),
        };
        self.set_result(tid, result);
        Next::Continue
    }

    /// `ReplyRecv`/`ReplyRecvShort`: `args` are to, endpoint, buf, cap.
    fn sys_reply_recv(&mut self, tid: Tid, pid: Pid, args: [u64; 6], body: ReplyBody) -> Next {
        match self.sys_reply(tid, pid, Tid(args[0] as u32), body) {
            Err(e) => {
                self.set_result(tid, Err(e));
                Next::Continue
            }
            Ok(resumed) => match self.recv(tid, EndpointId(args[1] as u32), args[2], args[3]) {
                Next::Continue => {
                    if let Some(t) = resumed {
                        self.run_queue.push_back(t);
                    }
                    Next::Continue
                }
                Next::Schedule => resumed.map_or(Next::Schedule, Next::SwitchTo),
                other => other,
            },
        }
    }

    /// `Reply`/`ReplyShort`: answers without waiting.
    fn sys_reply_only(&mut self, tid: Tid, pid: Pid, target: Tid, body: ReplyBody) -> SysResult {
        let resumed = self.sys_reply(tid, pid, target, body)?;
        if let Some(t) = resumed {
            self.run_queue.push_back(t);
        }
        Ok((0, 0, 0))
    }

    /// A call to an endpoint nobody registered fails at once.
    fn endpoint_exists(&self, ep: EndpointId) -> Result<(), SysError> {
        match self.endpoints.get(ep.0 as usize) {
            Some(Some(_)) => Ok(()),
            _ => Err(SysError::NoSuchObject),
        }
    }

    fn sys_call_short(&mut self, tid: Tid, ep: EndpointId, msg: ShortMessage) -> Next {
        if let Err(e) = self.endpoint_exists(ep) {
            self.set_result(tid, Err(e));
            return Next::Continue;
        }
        let kind = MessageKind::ShortCall;
        self.send(tid, ep, Outgoing::Short { kind, msg })
    }

    fn is_pager(&self, pid: Pid) -> bool {
        self.process(pid).is_some_and(|p| p.pool.is_some())
    }

    fn sys_call(&mut self, tid: Tid, pid: Pid, a: [u64; 6]) -> Next {
        let (ep, ptr, len, reply_ptr, reply_cap) = (EndpointId(a[0] as u32), a[1], a[2], a[3], a[4]);
        let space = &self.process(pid).expect("caller live").space;
        let checked = if len > MAX_MESSAGE as u64 {
            Err(SysError::MessageTooLarge)
        } else {
            usercopy::check(space, ptr, len, false)
                .and_then(|()| usercopy::check(space, reply_ptr, reply_cap.min(MAX_MESSAGE as u64), true))
        };
        let checked = checked.and_then(|()| self.endpoint_exists(ep));
        let lease = checked.and_then(|()| self.lease_from_user(pid, a[5]));
        match lease {
            Err(e) => {
                self.set_result(tid, Err(e));
                Next::Continue
            }
            Ok(lease) => self.send(
                tid,
                ep,
                Outgoing::Call {
                    ptr,
                    len,
                    reply_ptr,
                    reply_cap,
                    lease,
                },
            ),
        }
    }

    /// Reads and checks a [`LeaseDesc`] at `desc` (0: no lease).
    fn lease_from_user(&self, pid: Pid, desc: u64) -> Result<Option<Lease>, SysError> {
        if desc == 0 {
            return Ok(None);
        }
        let space = &self.process(pid).expect("caller live").space;
        let mut raw = [0u8; core::mem::size_of::<LeaseDesc>()];
        usercopy::copy_from_user(space, desc, &mut raw)?;
        let word = |i: usize| u64::from_le_bytes(raw[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
        let (addr, len, flags) = (word(0), word(1), word(2));
        if flags & !LeaseDesc::WRITE != 0 || len > LeaseDesc::MAX_LEN {
            return Err(SysError::InvalidArgument);
        }
        let writable = flags & LeaseDesc::WRITE != 0;
        usercopy::check(space, addr, len, writable)?;
        Ok(Some(Lease { addr, len, writable }))
    }

    /// `LeaseRead`/`LeaseWrite`: copies between the caller's buffer and the
    /// lease of `lender`, which must be waiting for the caller's reply.
    fn sys_lease_copy(&mut self, pid: Pid, tid: Tid, a: [u64; 6], write: bool) -> SysResult {
        let (lender, offset, buf, len) = (Tid(a[0] as u32), a[1], a[2], a[3]);
        let ReplyTo::Call { lease: Some(lease), .. } = self.awaiting(tid, lender)? else {
            return Err(SysError::LeaseBounds);
        };
        let end = offset.checked_add(len).ok_or(SysError::LeaseBounds)?;
        if end > lease.len {
            return Err(SysError::LeaseBounds);
        }
        if write && !lease.writable {
            return Err(SysError::NotPermitted);
        }
        let lender_pid = self.thread(lender).expect("awaiting thread exists").pid;
        let ours = &self.process(pid).expect("caller live").space;
        let theirs = &self.process(lender_pid).ok_or(SysError::NoSuchObject)?.space;
        usercopy::check(ours, buf, len, !write)?;
        // The lender's side was checked when lent; it may have changed since.
        usercopy::check(theirs, lease.addr + offset, len, write)?;
        let mut bounce = [0u8; 512];
        let mut done = 0;
        while done < len {
            let n = (len - done).min(bounce.len() as u64);
            let chunk = &mut bounce[..n as usize];
            if write {
                usercopy::copy_from_user(ours, buf + done, chunk)?;
                usercopy::copy_to_user(theirs, lease.addr + offset + done, chunk)?;
            } else {
                usercopy::copy_from_user(theirs, lease.addr + offset + done, chunk)?;
                usercopy::copy_to_user(ours, buf + done, chunk)?;
            }
            done += n;
        }
        Ok((len, 0, 0))
    }

    /// The reply half of every reply call: the body must match the form of
    /// the message it answers. Returns the thread to resume, if the reply
    /// resumed one.
    fn sys_reply(&mut self, tid: Tid, pid: Pid, target: Tid, body: ReplyBody) -> Result<Option<Tid>, SysError> {
        if let ReplyBody::Bytes { len, .. } = body
            && len > MAX_MESSAGE as u64
        {
            return Err(SysError::MessageTooLarge);
        }
        match (self.awaiting(tid, target)?, body) {
            (
                ReplyTo::Call {
                    reply_ptr, reply_cap, ..
                },
                ReplyBody::Bytes { ptr, len },
            ) => {
                let mut bytes: heapless::Vec<u8, MAX_MESSAGE> = heapless::Vec::new();
                bytes.resize(len as usize, 0).map_err(|()| SysError::MessageTooLarge)?;
                usercopy::copy_from_user(&self.process(pid).expect("caller live").space, ptr, &mut bytes)?;
                self.finish_call(target, reply_ptr, reply_cap, &bytes);
                Ok(Some(target))
            }
            (ReplyTo::Short, ReplyBody::Short(m)) => {
                self.finish_short_call(target, &m);
                Ok(Some(target))
            }
            (ReplyTo::Fault, ReplyBody::Short(m)) => self.fault_reply(pid, target, &m),
            _ => Err(SysError::Malformed),
        }
    }

    /// A pager's answer to the fault of `target`: install and resume, or
    /// kill.
    pub fn fault_reply(&mut self, pager: Pid, target: Tid, m: &ShortMessage) -> Result<Option<Tid>, SysError> {
        let regs = FaultReplyRegs::from_message(m).ok_or(SysError::Malformed)?;
        let target_pid = self.thread(target).expect("awaiting thread exists").pid;
        match regs {
            FaultReplyRegs::One(mapping) => self.install(pager, target_pid, &[mapping])?,
            FaultReplyRegs::Batch { ptr, count } => {
                let mut raw = [0u8; MAX_FAULT_MAPPINGS * Mapping::BYTES];
                let raw = &mut raw[..count * Mapping::BYTES];
                usercopy::copy_from_user(&self.process(pager).expect("caller live").space, ptr, raw)?;
                let mut batch = heapless::Vec::<Mapping, MAX_FAULT_MAPPINGS>::new();
                for chunk in raw.as_chunks::<{ Mapping::BYTES }>().0 {
                    batch.push(Mapping::from_bytes(chunk)).expect("count checked");
                }
                self.install(pager, target_pid, &batch)?;
            }
            FaultReplyRegs::Kill(reason) => {
                self.paged_by(pager, target_pid)?;
                let t = self.thread(target).expect("exists");
                log::info!(
                    "process {} killed by its pager: {:?} (thread {}, rip {:#x})",
                    target_pid.0,
                    reason,
                    target.0,
                    t.frame.rip
                );
                self.destroy_process(target_pid);
                return Ok(None);
            }
        }
        let replied = self.entry_tsc;
        let thread = self.thread_mut(target).expect("exists");
        thread.state = ThreadState::Ready;
        if thread.fault_times.delivered != 0 {
            thread.fault_times.replied = replied;
            thread.fault_times.installed = crate::entropy::tsc();
        }
        Ok(Some(target))
    }

    fn sys_endpoint_create(&mut self, pid: Pid, id: u64) -> SysResult {
        if id == 0 || id > u64::from(MAX_ENDPOINTS) {
            return Err(SysError::InvalidArgument);
        }
        let slot = &mut self.endpoints[id as usize];
        if slot.is_some() {
            return Err(SysError::AlreadyExists);
        }
        *slot = Some(crate::object::Endpoint {
            owner: pid,
            receiver: None,
            queue: Default::default(),
        });
        Ok((0, 0, 0))
    }

    fn sys_debug_write(&mut self, pid: Pid, ptr: u64, len: u64) -> SysResult {
        if len > MAX_DEBUG_WRITE {
            return Err(SysError::InvalidArgument);
        }
        let space = &self.process(pid).expect("caller live").space;
        usercopy::check(space, ptr, len, false)?;
        let mut chunk = [0u8; 256];
        let mut done = 0;
        while done < len {
            let n = (len - done).min(chunk.len() as u64);
            usercopy::copy_from_user(space, ptr + done, &mut chunk[..n as usize])?;
            crate::serial::write_bytes(&chunk[..n as usize]);
            done += n;
        }
        Ok((len, 0, 0))
    }

    fn sys_exit(&mut self, tid: Tid, pid: Pid, code: i64) -> Next {
        let Some(pager_ep) = self.thread(tid).and_then(|t| t.pager_ep) else {
            log::error!("the pager (process {}) exited with code {code}", pid.0);
            qemu::exit(QemuExit::PagerDied);
        };
        log::debug!("process {} exited with code {code}", pid.0);
        // The report outlives the process: mark it before destroying.
        self.thread_mut(tid).expect("exists").state = ThreadState::Exiting;
        self.destroy_process(pid);
        let (kind, msg) = KernelEvent::Exited { pid, code }.to_message();
        self.send(tid, pager_ep, Outgoing::Short { kind, msg })
    }

    fn sys_space_create(&mut self, pid: Pid) -> SysResult {
        if !self.is_pager(pid) {
            return Err(SysError::NotPermitted);
        }
        let new = self.create_process(Some(pid), None).ok_or(SysError::OutOfMemory)?;
        Ok((u64::from(new.0), 0, 0))
    }

    fn sys_thread_start(&mut self, pid: Pid, a: [u64; 6]) -> SysResult {
        let (target, entry, stack, arg, ep) = (
            Pid(a[0] as u32),
            VirtAddr(a[1]),
            VirtAddr(a[2]),
            a[3],
            EndpointId(a[4] as u32),
        );
        self.paged_by(pid, target)?;
        if !entry.is_user() || !stack.is_user() {
            return Err(SysError::BadAddress);
        }
        match self.endpoints.get(ep.0 as usize) {
            Some(Some(e)) if e.owner == pid => {}
            Some(Some(_)) => return Err(SysError::NotPermitted),
            _ => return Err(SysError::NoSuchObject),
        }
        let tid = self.create_thread(target, TrapFrame::new_user(entry.0, stack.0, arg), Some(ep));
        Ok((u64::from(tid.0), 0, 0))
    }

    fn sys_space_destroy(&mut self, pid: Pid, target: Pid) -> SysResult {
        self.paged_by(pid, target)?;
        self.destroy_process(target);
        Ok((0, 0, 0))
    }

    fn sys_shutdown(&mut self, pid: Pid, status: u64) -> SysResult {
        if !self.is_pager(pid) {
            return Err(SysError::NotPermitted);
        }
        match status {
            s if s == ExitStatus::Success as u64 => {
                log::info!("shutdown requested by the pager: success");
                qemu::exit(QemuExit::Success)
            }
            s if s == ExitStatus::Failure as u64 => {
                log::error!("shutdown requested by the pager: failure");
                qemu::exit(QemuExit::Failure)
            }
            _ => Err(SysError::InvalidArgument),
        }
    }
}
