//! System-call dispatch: decode the registers of the current thread,
//! validate every argument, act. See `libipc::abi` for the table.

use libipc::{
    MAX_MESSAGE,
    abi::{
        DEBUG_WRITE_CONSOLE, DEBUG_WRITE_LOG, DEBUG_WRITE_TRACE, ExitStatus, LeaseDesc, MAX_DEBUG_WRITE, MapFlags,
        MessageKind, NO_CAP, Rights, SpaceFlags, SysError, Syscall, SyscallRoutes,
    },
    kernel::{FaultReplyRegs, KernelEvent, KernelKill, MAX_FAULT_MAPPINGS, Mapping, SyscallReply},
    short::ShortMessage,
    types::{CapSlot, PhysAddr, Pid, Tid, VirtAddr},
};

use crate::{
    arch::trap::TrapFrame,
    ipc::Next,
    memory::{frames, usercopy},
    object::{Kernel, Lease, Outgoing, ReplyTo, ThreadState},
    qemu::{self, QemuExit},
};

/// What a fault reply did to the faulting thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultOutcome {
    /// Its mappings are in; it runs again.
    Resumed,
    /// Its process is gone (the pager's verdict, or the kernel's when its
    /// page tables could not grow).
    Killed,
}

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
        let slot = CapSlot(args[0] as u32);
        let result: SysResult = match call {
            Syscall::Call => return self.sys_call(tid, pid, args),
            Syscall::Recv => return self.sys_recv(tid, pid, slot, args[1], args[2]),
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
                ReplyBody::Bytes {
                    ptr: args[0],
                    len: args[1],
                },
            ),
            Syscall::ReplyShort => self.sys_reply_only(tid, pid, ReplyBody::Short(short)),
            Syscall::CallShort => return self.sys_call_short(tid, pid, slot, short),
            Syscall::EndpointCreate => self.create_endpoint(pid).map(|s| (u64::from(s.0), 0, 0)),
            Syscall::CapDrop => self.sys_cap_drop(pid, slot),
            Syscall::CapGrant => self.sys_cap_grant(pid, args),
            Syscall::CapCopy => self.sys_cap_copy(pid, slot, Rights(args[1])),
            Syscall::Impersonate => self.sys_impersonate(tid, args[0]),
            Syscall::DebugWrite => self.sys_debug_write(pid, args[0], args[1], args[2]),
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
                Ok((free, total, crate::memory::heap::bytes_in_use()))
            }
            Syscall::SpaceCreate => self.sys_space_create(pid, args[0], args[1]),
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
            Syscall::UnmapClean => self.unmap_clean(pid, Pid(args[0] as u32), VirtAddr(args[1]), args[2]),
            Syscall::PageBits => self.page_bits(pid, Pid(args[0] as u32), VirtAddr(args[1]), args[2], args[3]),
            Syscall::SpaceDestroy => self.sys_space_destroy(pid, Pid(args[0] as u32)),
            Syscall::Shutdown => self.sys_shutdown(pid, args[0]),
            Syscall::SetSegmentBase => self.sys_set_segment_base(tid, args[0], args[1]).map(|()| (0, 0, 0)),
            Syscall::SleepUntil => {
                self.set_result(tid, Ok((0, 0, 0)));
                return if self.sleep(tid, args[0]) {
                    Next::Schedule
                } else {
                    Next::Continue
                };
            }
            Syscall::VvarFrame => {
                if self.is_pager(pid) {
                    Ok((crate::time::vvar_phys(), 0, 0))
                } else {
                    Err(SysError::NotPermitted)
                }
            }
            Syscall::ZeroFrame => {
                if self.is_pager(pid) {
                    Ok((crate::memory::zero::phys(), 0, 0))
                } else {
                    Err(SysError::NotPermitted)
                }
            }
            Syscall::ThreadEntries => {
                let target = if args[0] == libipc::abi::SELF_THREAD {
                    tid
                } else {
                    Tid(args[0] as u32)
                };
                self.sys_thread_entries(pid, target)
            }
        };
        self.set_result(tid, result);
        Next::Continue
    }

    /// `Recv` through the capability in `slot`, which needs `RECV`.
    fn sys_recv(&mut self, tid: Tid, pid: Pid, slot: CapSlot, buf: u64, cap: u64) -> Next {
        match self.endpoint_of(pid, slot, Rights::RECV) {
            Ok(ep) => self.recv(tid, ep, buf, cap),
            Err(e) => {
                self.set_result(tid, Err(e));
                Next::Continue
            }
        }
    }

    /// `ReplyRecv`/`ReplyRecvShort`: `args` are endpoint cap, buf, cap.
    /// The endpoint is checked first: a refused call replies to nobody.
    fn sys_reply_recv(&mut self, tid: Tid, pid: Pid, args: [u64; 6], body: ReplyBody) -> Next {
        let ep = match self.endpoint_of(pid, CapSlot(args[0] as u32), Rights::RECV) {
            Ok(ep) => ep,
            Err(e) => {
                self.set_result(tid, Err(e));
                return Next::Continue;
            }
        };
        match self.sys_reply(tid, pid, body) {
            Err(e) => {
                self.set_result(tid, Err(e));
                Next::Continue
            }
            Ok(resumed) => match self.recv(tid, ep, args[1], args[2]) {
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
    fn sys_reply_only(&mut self, tid: Tid, pid: Pid, body: ReplyBody) -> SysResult {
        let resumed = self.sys_reply(tid, pid, body)?;
        if let Some(t) = resumed {
            self.run_queue.push_back(t);
        }
        Ok((0, 0, 0))
    }

    fn sys_call_short(&mut self, tid: Tid, pid: Pid, slot: CapSlot, msg: ShortMessage) -> Next {
        match self.endpoint_of(pid, slot, Rights::SEND) {
            Ok(ep) => {
                let kind = MessageKind::ShortCall;
                self.send(tid, ep, Outgoing::Short { kind, msg })
            }
            Err(e) => {
                self.set_result(tid, Err(e));
                Next::Continue
            }
        }
    }

    fn is_pager(&self, pid: Pid) -> bool {
        self.process(pid).is_some_and(|p| p.pool.is_some())
    }

    fn sys_call(&mut self, tid: Tid, pid: Pid, a: [u64; 6]) -> Next {
        let (slot, ptr, len, reply_ptr, reply_cap) = (CapSlot(a[0] as u32), a[1], a[2], a[3], a[4]);
        let space = &self.process(pid).expect("caller live").space;
        let checked = if len > MAX_MESSAGE as u64 {
            Err(SysError::MessageTooLarge)
        } else {
            usercopy::check(space, ptr, len, false)
                .and_then(|()| usercopy::check(space, reply_ptr, reply_cap.min(MAX_MESSAGE as u64), true))
        };
        let ep = checked.and_then(|()| self.endpoint_of(pid, slot, Rights::SEND));
        let sent = ep.and_then(|ep| Ok((ep, self.lease_from_user(pid, a[5])?)));
        match sent {
            Err(e) => {
                self.set_result(tid, Err(e));
                Next::Continue
            }
            Ok((ep, lease)) => self.send(
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
    /// lease of the call whose reply right the caller holds. A forwarded
    /// Linux system call lends its whole user memory, as its page tables
    /// allow: the offset is the address.
    fn sys_lease_copy(&mut self, pid: Pid, tid: Tid, a: [u64; 6], write: bool) -> SysResult {
        let (offset, buf, len) = (a[0], a[1], a[2]);
        let (lender, to) = self.awaiting(tid)?;
        let lease = match to {
            ReplyTo::Call { lease: Some(lease), .. } => lease,
            ReplyTo::Syscall => Lease {
                addr: 0,
                len: crate::memory::space::user_end(),
                writable: true,
            },
            _ => return Err(SysError::LeaseBounds),
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

    /// The reply half of every reply call, through the caller's reply
    /// right: the body must match the form of the message it answers.
    /// Returns the thread to resume, if the reply resumed one.
    fn sys_reply(&mut self, tid: Tid, pid: Pid, body: ReplyBody) -> Result<Option<Tid>, SysError> {
        if let ReplyBody::Bytes { len, .. } = body
            && len > MAX_MESSAGE as u64
        {
            return Err(SysError::MessageTooLarge);
        }
        match (self.awaiting(tid)?, body) {
            (
                (
                    target,
                    ReplyTo::Call {
                        reply_ptr, reply_cap, ..
                    },
                ),
                ReplyBody::Bytes { ptr, len },
            ) => {
                let mut bytes: heapless::Vec<u8, MAX_MESSAGE> = heapless::Vec::new();
                bytes.resize(len as usize, 0).map_err(|()| SysError::MessageTooLarge)?;
                usercopy::copy_from_user(&self.process(pid).expect("caller live").space, ptr, &mut bytes)?;
                self.consume_reply(tid);
                self.finish_call(target, reply_ptr, reply_cap, &bytes);
                Ok(Some(target))
            }
            ((target, ReplyTo::Short), ReplyBody::Short(m)) => {
                self.consume_reply(tid);
                self.finish_short_call(target, &m);
                Ok(Some(target))
            }
            ((target, ReplyTo::Syscall), ReplyBody::Short(m)) => {
                let reply = SyscallReply::from_message(&m).ok_or(SysError::Malformed)?;
                self.thread_mut(target)
                    .expect("awaiting thread exists")
                    .finish_syscall(&reply)?;
                self.consume_reply(tid);
                // A sleeping answer parks the caller until its deadline.
                if let Some(until) = reply.sleep_until
                    && self.sleep(target, until)
                {
                    return Ok(None);
                }
                Ok(Some(target))
            }
            ((target, ReplyTo::Fault), ReplyBody::Short(m)) => {
                let target_pid = self.thread(target).expect("awaiting thread exists").pid;
                let outcome = self.fault_reply(pid, target, target_pid, &m)?;
                self.consume_reply(tid);
                Ok((outcome == FaultOutcome::Resumed).then_some(target))
            }
            _ => Err(SysError::Malformed),
        }
    }

    /// A pager's answer to the fault of `target`: install and resume, or
    /// kill. A refused answer leaves the reply right with the pager (it may
    /// answer again; if it receives instead, the process is killed). When
    /// the kernel cannot hold the process's page tables (its limit, or no
    /// frame left), the process is killed here: it is the one whose
    /// memory ran out, and nobody is left waiting.
    /// The caller consumes the reply right on `Ok`.
    #[inline(always)]
    pub fn fault_reply(
        &mut self,
        pager: Pid,
        target: Tid,
        target_pid: Pid,
        m: &ShortMessage,
    ) -> Result<FaultOutcome, SysError> {
        let regs = FaultReplyRegs::from_message(m).ok_or(SysError::Malformed)?;
        let installed = match regs {
            FaultReplyRegs::One(mapping) => self.install(pager, target_pid, &[mapping]),
            FaultReplyRegs::Batch { ptr, count } => {
                let mut raw = [0u8; MAX_FAULT_MAPPINGS * Mapping::BYTES];
                let raw = &mut raw[..count * Mapping::BYTES];
                usercopy::copy_from_user(&self.process(pager).expect("caller live").space, ptr, raw)?;
                let mut batch = heapless::Vec::<Mapping, MAX_FAULT_MAPPINGS>::new();
                for chunk in raw.as_chunks::<{ Mapping::BYTES }>().0 {
                    batch.push(Mapping::from_bytes(chunk)).expect("count checked");
                }
                self.install(pager, target_pid, &batch)
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
                self.destroy_process(target_pid, None);
                return Ok(FaultOutcome::Killed);
            }
            FaultReplyRegs::Regs { rax, rip, rsp } => {
                // An emulated call: resume elsewhere, mapping nothing.
                self.paged_by(pager, target_pid)?;
                if !VirtAddr(rip).is_user() {
                    return Err(SysError::BadAddress);
                }
                let frame = &mut self.thread_mut(target).expect("exists").frame;
                frame.rax = rax;
                frame.rip = rip;
                frame.rsp = rsp;
                Ok(())
            }
        };
        match installed {
            Ok(()) => {}
            Err(e @ (SysError::PageTableLimit | SysError::OutOfMemory)) => {
                let cause = if e == SysError::PageTableLimit {
                    KernelKill::PageTableLimit
                } else {
                    KernelKill::OutOfMemory
                };
                self.kill(target_pid, cause);
                return Ok(FaultOutcome::Killed);
            }
            Err(e) => return Err(e),
        }
        let replied = self.entry_tsc;
        let thread = self.thread_mut(target).expect("exists");
        thread.state = ThreadState::Ready;
        if thread.fault_times.delivered != 0 {
            thread.fault_times.replied = replied;
            thread.fault_times.installed = crate::entropy::tsc();
        }
        Ok(FaultOutcome::Resumed)
    }

    fn sys_cap_drop(&mut self, pid: Pid, slot: CapSlot) -> SysResult {
        let cap = self.process_mut(pid).expect("caller live").caps.remove(slot)?;
        self.release_endpoint(cap.endpoint, cap.rights);
        Ok((0, 0, 0))
    }

    /// `CapCopy`: a copy of one's own capability with fewer (or the same)
    /// rights, in the first free slot.
    fn sys_cap_copy(&mut self, pid: Pid, slot: CapSlot, rights: Rights) -> SysResult {
        if !rights.is_valid() {
            return Err(SysError::InvalidArgument);
        }
        let caps = &mut self.process_mut(pid).expect("caller live").caps;
        let mut cap = caps.lookup(slot, rights)?;
        cap.rights = rights;
        let copy = caps.insert(cap)?;
        self.retain_endpoint(cap);
        Ok((u64::from(copy.0), 0, 0))
    }

    /// `CapGrant`: a pager copies one of its capabilities, with rights no
    /// wider than its own, into a process it pages.
    fn sys_cap_grant(&mut self, pid: Pid, a: [u64; 6]) -> SysResult {
        let (target, src, dst, rights) = (
            Pid(a[0] as u32),
            CapSlot(a[1] as u32),
            CapSlot(a[2] as u32),
            Rights(a[3]),
        );
        self.paged_by(pid, target)?;
        if !rights.is_valid() {
            return Err(SysError::InvalidArgument);
        }
        let mut cap = self
            .process(pid)
            .expect("caller live")
            .caps
            .lookup(src, Rights::GRANT)?;
        if !cap.rights.contains(rights) {
            return Err(SysError::MissingRight);
        }
        cap.rights = rights;
        self.process_mut(target)
            .ok_or(SysError::NoSuchObject)?
            .caps
            .insert_at(dst, cap)?;
        self.retain_endpoint(cap);
        Ok((0, 0, 0))
    }

    /// `Impersonate(1)`: act for the caller whose reply right this thread
    /// holds (or for whomever that caller itself acts for); `Impersonate(0)`:
    /// act as itself again.
    fn sys_impersonate(&mut self, tid: Tid, on: u64) -> SysResult {
        let acting_for = match on {
            0 => None,
            1 => {
                let (caller, _) = self.awaiting(tid)?;
                let c = self.thread(caller).expect("awaiting thread exists");
                Some(c.acting_for.unwrap_or(c.pid))
            }
            _ => return Err(SysError::InvalidArgument),
        };
        self.thread_mut(tid).expect("current thread exists").acting_for = acting_for;
        Ok((0, 0, 0))
    }

    fn sys_debug_write(&mut self, pid: Pid, ptr: u64, len: u64, flags: u64) -> SysResult {
        let both = DEBUG_WRITE_CONSOLE | DEBUG_WRITE_LOG;
        if len > MAX_DEBUG_WRITE || flags & !(both | DEBUG_WRITE_TRACE) != 0 || flags == both {
            return Err(SysError::InvalidArgument);
        }
        if flags & DEBUG_WRITE_TRACE != 0 && flags != DEBUG_WRITE_TRACE {
            return Err(SysError::InvalidArgument);
        }
        let process = self.process(pid).expect("caller live");
        // The root pager writes the log unless it writes a program's output
        // for it; every process it pages writes program output unless it
        // asks for the log. The trace channel is the root pager's alone.
        let root = process.pager.is_none();
        let channel = if flags == DEBUG_WRITE_TRACE {
            if !root {
                return Err(SysError::NotPermitted);
            }
            crate::serial::Channel::Trace
        } else if flags & DEBUG_WRITE_LOG != 0 || (root && flags & DEBUG_WRITE_CONSOLE == 0) {
            crate::serial::Channel::Log
        } else {
            crate::serial::Channel::Console
        };
        let space = &process.space;
        usercopy::check(space, ptr, len, false)?;
        let mut chunk = [0u8; 256];
        let mut done = 0;
        while done < len {
            let n = (len - done).min(chunk.len() as u64);
            usercopy::copy_from_user(space, ptr + done, &mut chunk[..n as usize])?;
            crate::serial::write_bytes(channel, &chunk[..n as usize]);
            done += n;
        }
        Ok((len, 0, 0))
    }

    fn sys_exit(&mut self, tid: Tid, pid: Pid, code: i64) -> Next {
        if self.thread(tid).and_then(|t| t.pager_ep).is_none() {
            log::error!("the pager (process {}) exited with code {code}", pid.0);
            qemu::exit(QemuExit::PagerDied);
        }
        log::debug!("process {} exited with code {code}", pid.0);
        self.end_process(pid, KernelEvent::Exited { pid, code }, Some(tid))
    }

    fn sys_space_create(&mut self, pid: Pid, flags: u64, routes_ptr: u64) -> SysResult {
        if !self.is_pager(pid) {
            return Err(SysError::NotPermitted);
        }
        if flags & !SpaceFlags::ALL != 0 {
            return Err(SysError::InvalidArgument);
        }
        let linux = if flags & SpaceFlags::LINUX.0 != 0 {
            let mut routes = SyscallRoutes::default();
            if routes_ptr != 0 {
                let mut raw = [0u8; core::mem::size_of::<SyscallRoutes>()];
                usercopy::copy_from_user(&self.process(pid).expect("caller live").space, routes_ptr, &mut raw)?;
                for (word, bytes) in routes.0.iter_mut().zip(raw.as_chunks::<8>().0) {
                    *word = u64::from_le_bytes(*bytes);
                }
            }
            Some(routes)
        } else {
            None
        };
        let new = self
            .create_process(Some(pid), None, linux)
            .ok_or(SysError::OutOfMemory)?;
        Ok((u64::from(new.0), 0, 0))
    }

    fn sys_thread_start(&mut self, pid: Pid, a: [u64; 6]) -> SysResult {
        let (target, entry, stack, arg, fault_slot) =
            (Pid(a[0] as u32), VirtAddr(a[1]), a[2], a[3], CapSlot(a[4] as u32));
        self.paged_by(pid, target)?;
        // The entry must be a user address (`iretq` to a bad one would fault
        // in the kernel); the stack pointer is just a register, and may be
        // the very end of user space (pushes go below it).
        if entry.0 >= crate::memory::space::user_end() || stack > crate::memory::space::user_end() {
            return Err(SysError::BadAddress);
        }
        let ep = self.endpoint_of(pid, fault_slot, Rights::RECV)?;
        let syscall_ep = match a[5] {
            NO_CAP => None,
            slot => Some(self.endpoint_of(pid, CapSlot(slot as u32), Rights::SEND)?),
        };
        let tid = self
            .create_thread(target, TrapFrame::new_user(entry.0, stack, arg), Some(ep), syscall_ep)
            .ok_or(SysError::OutOfMemory)?;
        Ok((u64::from(tid.0), 0, 0))
    }

    /// `ThreadEntries`: a thread's own count, or that of a thread of a
    /// process the caller pages.
    fn sys_thread_entries(&self, pid: Pid, target: Tid) -> SysResult {
        let t = self.thread(target).ok_or(SysError::NoSuchObject)?;
        if t.pid != pid {
            self.paged_by(pid, t.pid)?;
        }
        Ok((t.entries, 0, 0))
    }

    fn sys_space_destroy(&mut self, pid: Pid, target: Pid) -> SysResult {
        self.paged_by(pid, target)?;
        self.destroy_process(target, None);
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
