//! The raw system calls: the kernel transport. See [`crate::abi`] for the
//! register convention. Every wrapper turns the status register into a
//! `Result`.
//!
//! The kernel never faults user memory in: buffers handed to a call must be
//! mapped already (any buffer the caller has written is).

use core::arch::asm;

use crate::{
    abi::{
        ExitStatus, LeaseDesc, MapFlags, MessageKind, NO_CAP, Rights, SegmentBase, SpaceFlags, SysError, Syscall,
        SyscallRoutes,
    },
    kernel::SyscallInfo,
    short::ShortMessage,
    transport::Transport,
    types::{CapSlot, PageCount, PhysAddr, Pid, Sender, Tid, VirtAddr},
};

/// Results of a call: `rdi, rsi, rdx` after the kernel returns.
type Regs = (u64, u64, u64);

#[inline(always)]
fn status(rax: u64, regs: Regs) -> Result<Regs, SysError> {
    if rax == 0 {
        Ok(regs)
    } else {
        Err(SysError::from_raw(rax).unwrap_or(SysError::NoSuchCall))
    }
}

/// Issues a system call with six arguments.
#[inline(always)]
fn syscall6(n: Syscall, a: [u64; 6]) -> Result<Regs, SysError> {
    raw_syscall(n as u64, a)
}

/// A received message: who sent it (and whom it acts for, if it
/// impersonates its own caller), what kind; a byte message's length in the
/// receive buffer, or a short message's registers (empty for a byte
/// message). The receiving thread now holds the message's reply right.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received {
    pub len: usize,
    pub sender: Sender,
    /// The process whose caller the sender impersonates: its rights, not
    /// the sender's, are the ones to check.
    pub acting_for: Option<Pid>,
    pub kind: MessageKind,
    pub short: ShortMessage,
    /// Arguments 4 and 5 of a forwarded system call; the faulting thread's
    /// `rdi` and `rsi` for a fault (zero otherwise).
    pub extra: [u64; 2],
}

impl Received {
    /// The forwarded Linux system call, for a [`MessageKind::Syscall`].
    pub fn syscall(&self) -> Option<SyscallInfo> {
        (self.kind == MessageKind::Syscall).then(|| SyscallInfo::from_message(&self.short, self.extra))
    }

    /// The process whose rights this message carries.
    pub fn subject(&self) -> Pid {
        self.acting_for.unwrap_or(self.sender.pid)
    }
}

fn received(r: Result<(Regs, u64, u64, ShortMessage), SysError>) -> Result<Received, SysError> {
    let (regs, acting_for, r15, short) = r?;
    let kind = MessageKind::from_raw(regs.2).ok_or(SysError::Malformed)?;
    let extra = matches!(kind, MessageKind::Syscall | MessageKind::Fault);
    Ok(Received {
        len: if extra { 0 } else { regs.0 as usize },
        extra: if extra { [regs.0, r15] } else { [0; 2] },
        sender: Sender::from_word(regs.1),
        acting_for: (acting_for != 0).then_some(Pid(acting_for as u32)),
        kind,
        // A byte message leaves the message registers as the call set them.
        short: if kind == MessageKind::Call {
            ShortMessage::default()
        } else {
            short
        },
    })
}

/// Sends the short message `msg` through `ep` (needs `SEND`) and waits for
/// the short reply.
///
/// Only `rdi` (the slot) and the message registers are arguments: the
/// other argument registers are left as they are (the kernel reads none of
/// them for this call), and every register the kernel may write is
/// declared clobbered.
#[inline(always)]
pub fn call_short(ep: CapSlot, msg: &ShortMessage) -> Result<ShortMessage, SysError> {
    let rax: u64;
    let mut reply = ShortMessage::default();
    // SAFETY: as in `raw_syscall`; the kernel writes only the registers
    // declared as outputs or clobbers here.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") Syscall::CallShort as u64 => rax,
            inlateout("rdi") u64::from(ep.0) => _,
            lateout("rsi") _,
            lateout("rdx") _,
            lateout("r10") _,
            inlateout("r8") msg.label => reply.label,
            inlateout("r9") msg.words[0] => reply.words[0],
            inlateout("r12") msg.words[1] => reply.words[1],
            inlateout("r13") msg.words[2] => reply.words[2],
            inlateout("r14") msg.words[3] => reply.words[3],
            lateout("r15") _,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    status(rax, (0, 0, 0)).map(|_| reply)
}

/// Answers the short message or fault whose reply right this thread holds
/// with `reply`, and waits for the next message on `ep`, in one call.
pub fn reply_recv_short(reply: &ShortMessage, ep: CapSlot, buf: &mut [u8]) -> Result<Received, SysError> {
    reply_recv_short_raw(reply, ep, buf).decode()
}

/// [`reply_recv_short`], its result undecoded: a server loop that serves
/// short calls back to back tests for one ([`RawReceived::short_call`])
/// before it decodes anything else.
#[inline(always)]
pub fn reply_recv_short_raw(reply: &ShortMessage, ep: CapSlot, buf: &mut [u8]) -> RawReceived {
    let (rax, regs, acting_for, r15, short) = syscall_msg_raw(
        Syscall::ReplyRecvShort,
        [ep.0 as u64, buf.as_mut_ptr() as u64, buf.len() as u64, 0],
        reply,
    );
    RawReceived {
        rax,
        regs,
        acting_for,
        r15,
        short,
    }
}

/// A receive's result registers, not decoded yet.
#[derive(Clone, Copy, Debug)]
pub struct RawReceived {
    rax: u64,
    regs: Regs,
    acting_for: u64,
    r15: u64,
    short: ShortMessage,
}

impl RawReceived {
    /// The sender of a message of `kind` received; `None` for another kind
    /// or an error. The one test the loops below make before decoding.
    #[inline(always)]
    fn sender_of(&self, kind: MessageKind) -> Option<Sender> {
        (self.rax == 0 && self.regs.2 == kind as u64).then(|| Sender::from_word(self.regs.1))
    }

    /// Arguments 4 and 5 of a forwarded system call, or the faulting
    /// thread's `rdi` and `rsi` (as [`Received::extra`]).
    #[inline(always)]
    fn extra(&self) -> [u64; 2] {
        [self.regs.0, self.r15]
    }

    /// The sender and message of a short call (`CallShort`) received, with
    /// nothing else decoded; `None` for anything else (an error too).
    #[inline(always)]
    pub fn short_call(&self) -> Option<(Sender, ShortMessage)> {
        self.sender_of(MessageKind::ShortCall)
            .map(|sender| (sender, self.short))
    }

    /// The sender, message and extra words (the thread's `rdi` and `rsi`)
    /// of a fault received, with nothing else decoded; `None` for anything
    /// else (an error too).
    #[inline(always)]
    pub fn fault(&self) -> Option<(Sender, ShortMessage, [u64; 2])> {
        self.sender_of(MessageKind::Fault)
            .map(|sender| (sender, self.short, self.extra()))
    }

    /// The sender and call of a forwarded system call received, with
    /// nothing else decoded; `None` for anything else (an error too).
    #[inline(always)]
    pub fn syscall(&self) -> Option<(Sender, SyscallInfo)> {
        self.sender_of(MessageKind::Syscall)
            .map(|sender| (sender, SyscallInfo::from_message(&self.short, self.extra())))
    }

    /// The result as [`reply_recv_short`] returns it.
    #[inline(always)]
    pub fn decode(self) -> Result<Received, SysError> {
        received(status(self.rax, self.regs).map(|regs| (regs, self.acting_for, self.r15, self.short)))
    }
}

/// Answers the short message or fault whose reply right this thread holds,
/// without waiting.
pub fn reply_short(reply: &ShortMessage) -> Result<(), SysError> {
    syscall_msg(Syscall::ReplyShort, [0; 4], reply).map(|_| ())
}

/// Sends `msg` through `ep` and waits for the reply, written into `reply`.
pub fn call(ep: CapSlot, msg: &[u8], reply: &mut [u8]) -> Result<usize, SysError> {
    call_raw(ep, msg, reply, 0)
}

/// `Call` with an optional lease descriptor (0 for none).
fn call_raw(ep: CapSlot, msg: &[u8], reply: &mut [u8], lease: u64) -> Result<usize, SysError> {
    let r = syscall6(
        Syscall::Call,
        [
            ep.0 as u64,
            msg.as_ptr() as u64,
            msg.len() as u64,
            reply.as_mut_ptr() as u64,
            reply.len() as u64,
            lease,
        ],
    )?;
    Ok(r.0 as usize)
}

/// `call` lending `lease` to the server for the duration of the call.
pub fn call_with_lease(ep: CapSlot, msg: &[u8], reply: &mut [u8], lease: &LeaseDesc) -> Result<usize, SysError> {
    call_raw(ep, msg, reply, lease as *const LeaseDesc as u64)
}

/// Server side: reads from the lease of the call being served, at `offset`.
pub fn lease_read(offset: u64, buf: &mut [u8]) -> Result<usize, SysError> {
    let r = syscall6(
        Syscall::LeaseRead,
        [offset, buf.as_mut_ptr() as u64, buf.len() as u64, 0, 0, 0],
    )?;
    Ok(r.0 as usize)
}

/// Server side: writes into the lease of the call being served, at `offset`.
pub fn lease_write(offset: u64, data: &[u8]) -> Result<usize, SysError> {
    let r = syscall6(
        Syscall::LeaseWrite,
        [offset, data.as_ptr() as u64, data.len() as u64, 0, 0, 0],
    )?;
    Ok(r.0 as usize)
}

/// Waits for a message on `ep` (needs `RECV`).
pub fn recv(ep: CapSlot, buf: &mut [u8]) -> Result<Received, SysError> {
    received(syscall_msg(
        Syscall::Recv,
        [ep.0 as u64, buf.as_mut_ptr() as u64, buf.len() as u64, 0],
        &ShortMessage::default(),
    ))
}

/// Replies to the call being served and waits for the next message on `ep`
/// in one call.
pub fn reply_recv(reply: &[u8], ep: CapSlot, buf: &mut [u8]) -> Result<Received, SysError> {
    // The reply's pointer and length sit where a short reply's label and
    // first word would: both forms share the receive half's registers.
    received(syscall_msg(
        Syscall::ReplyRecv,
        [ep.0 as u64, buf.as_mut_ptr() as u64, buf.len() as u64, 0],
        &ShortMessage::new(reply.as_ptr() as u64, [reply.len() as u64, 0, 0, 0]),
    ))
}

/// Replies to the call being served without waiting.
pub fn reply(reply: &[u8]) -> Result<(), SysError> {
    syscall6(Syscall::Reply, [reply.as_ptr() as u64, reply.len() as u64, 0, 0, 0, 0]).map(|_| ())
}

/// A new endpoint; returns the slot of its capability (every right).
pub fn endpoint_create() -> Result<CapSlot, SysError> {
    Ok(CapSlot(syscall6(Syscall::EndpointCreate, [0; 6])?.0 as u32))
}

/// Empties a slot of the caller's capability table.
pub fn cap_drop(slot: CapSlot) -> Result<(), SysError> {
    syscall6(Syscall::CapDrop, [slot.0 as u64, 0, 0, 0, 0, 0]).map(|_| ())
}

/// Copies the capability in `slot` into a free slot of the caller's table,
/// with `rights` (no wider than its own): how a holder keeps less than it
/// was given.
pub fn cap_copy(slot: CapSlot, rights: Rights) -> Result<CapSlot, SysError> {
    Ok(CapSlot(
        syscall6(Syscall::CapCopy, [slot.0 as u64, rights.0, 0, 0, 0, 0])?.0 as u32,
    ))
}

/// Acts for the caller whose call this thread serves (`true`) or as itself
/// again (`false`).
pub fn impersonate(on: bool) -> Result<(), SysError> {
    syscall6(Syscall::Impersonate, [u64::from(on), 0, 0, 0, 0, 0]).map(|_| ())
}

/// Writes bytes to the kernel console.
pub fn debug_write(bytes: &[u8]) -> Result<(), SysError> {
    syscall6(
        Syscall::DebugWrite,
        [bytes.as_ptr() as u64, bytes.len() as u64, 0, 0, 0, 0],
    )
    .map(|_| ())
}

/// Writes bytes to the program console (for the root pager, which writes
/// the log otherwise: a Linux program's output it serves).
pub fn console_write(bytes: &[u8]) -> Result<(), SysError> {
    syscall6(
        Syscall::DebugWrite,
        [
            bytes.as_ptr() as u64,
            bytes.len() as u64,
            crate::abi::DEBUG_WRITE_CONSOLE,
            0,
            0,
            0,
        ],
    )
    .map(|_| ())
}

/// Writes bytes to the trace channel (the root pager only: a recorded
/// trace, `pager::record`).
pub fn trace_write(bytes: &[u8]) -> Result<(), SysError> {
    syscall6(
        Syscall::DebugWrite,
        [
            bytes.as_ptr() as u64,
            bytes.len() as u64,
            crate::abi::DEBUG_WRITE_TRACE,
            0,
            0,
            0,
        ],
    )
    .map(|_| ())
}

/// Writes bytes to the log (a server's diagnostics, apart from the
/// output of the programs it serves).
pub fn log_write(bytes: &[u8]) -> Result<(), SysError> {
    syscall6(
        Syscall::DebugWrite,
        [
            bytes.as_ptr() as u64,
            bytes.len() as u64,
            crate::abi::DEBUG_WRITE_LOG,
            0,
            0,
            0,
        ],
    )
    .map(|_| ())
}

/// Ends the calling process.
pub fn exit(code: i64) -> ! {
    let _ = syscall6(Syscall::Exit, [code as u64, 0, 0, 0, 0, 0]);
    unreachable!("the kernel returned from Exit")
}

pub fn yield_now() {
    let _ = syscall6(Syscall::Yield, [0; 6]);
}

/// 64 bits from the kernel's entropy source.
pub fn random() -> u64 {
    syscall6(Syscall::Random, [0; 6]).map(|r| r.0).unwrap_or(0)
}

/// The time-stamp counter, read by the kernel.
pub fn ticks() -> u64 {
    syscall6(Syscall::Ticks, [0; 6]).map(|r| r.0).unwrap_or(0)
}

/// The kernel's own memory accounting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KernelInfo {
    pub free_frames: PageCount,
    pub total_frames: PageCount,
    /// Bytes of the kernel heap in use (process, thread and endpoint
    /// tables, queues).
    pub heap_bytes: u64,
}

/// The kernel's own memory accounting.
pub fn kernel_info() -> Result<KernelInfo, SysError> {
    let r = syscall6(Syscall::KernelInfo, [0; 6])?;
    Ok(KernelInfo {
        free_frames: PageCount(r.0),
        total_frames: PageCount(r.1),
        heap_bytes: r.2,
    })
}

/// The kernel's fault-path profile (see [`FaultProfile`]).
pub fn fault_profile() -> Result<crate::abi::FaultProfile, SysError> {
    let mut profile = crate::abi::FaultProfile::default();
    syscall6(Syscall::FaultProfile, [&mut profile as *mut _ as u64, 0, 0, 0, 0, 0])?;
    Ok(profile)
}

/// Sets the calling thread's FS or GS base (thread-local storage); the
/// selectors stay as they are.
pub fn set_segment_base(which: SegmentBase, base: VirtAddr) -> Result<(), SysError> {
    syscall6(Syscall::SetSegmentBase, [which as u64, base.0, 0, 0, 0, 0]).map(|_| ())
}

/// Parks the calling thread until `CLOCK_MONOTONIC` (the clock page's,
/// nanoseconds since boot) reaches `deadline_ns`; the kernel wakes it on
/// the first timer tick at or after it. A past deadline returns at once.
/// See `runtime::time` for the clock itself.
pub fn sleep_until(deadline_ns: u64) {
    let _ = syscall6(Syscall::SleepUntil, [deadline_ns, 0, 0, 0, 0, 0]);
}

/// The system calls and exceptions thread `tid` has made: its own, or one
/// of a process the caller pages. Tests use it to show that a clock read
/// through the clock page enters no kernel.
pub fn thread_entries(tid: Tid) -> Result<u64, SysError> {
    syscall6(Syscall::ThreadEntries, [u64::from(tid.0), 0, 0, 0, 0, 0]).map(|r| r.0)
}

/// The calling thread's [`thread_entries`].
pub fn own_entries() -> u64 {
    syscall6(Syscall::ThreadEntries, [crate::abi::SELF_THREAD, 0, 0, 0, 0, 0]).map_or(0, |r| r.0)
}

/// Pager only: the clock page's frame, to map read-only into processes.
pub fn vvar_frame() -> Result<PhysAddr, SysError> {
    syscall6(Syscall::VvarFrame, [0; 6]).map(|r| PhysAddr(r.0))
}

/// Pager only: the kernel's zero frame, to map read-only where anonymous
/// memory has only been read.
pub fn zero_frame() -> Result<PhysAddr, SysError> {
    syscall6(Syscall::ZeroFrame, [0; 6]).map(|r| PhysAddr(r.0))
}

/// Pager only: a new, empty address space running the project's ABI.
pub fn space_create() -> Result<Pid, SysError> {
    Ok(Pid(
        syscall6(Syscall::SpaceCreate, [SpaceFlags::NATIVE.0, 0, 0, 0, 0, 0])?.0 as u32,
    ))
}

/// Pager only: a new, empty address space whose system calls are Linux's,
/// forwarded to handlers as `routes` says.
pub fn space_create_linux(routes: &SyscallRoutes) -> Result<Pid, SysError> {
    Ok(Pid(syscall6(
        Syscall::SpaceCreate,
        [SpaceFlags::LINUX.0, routes as *const SyscallRoutes as u64, 0, 0, 0, 0],
    )?
    .0 as u32))
}

/// Pager only: starts a thread in `pid` whose faults go to the endpoint of
/// `pager` (a capability of the caller's with `RECV`).
pub fn thread_start(pid: Pid, entry: VirtAddr, stack: VirtAddr, arg: u64, pager: CapSlot) -> Result<Tid, SysError> {
    thread_start_with(pid, entry, stack, arg, pager, None)
}

/// Pager only: [`thread_start`] for a Linux process, whose system calls
/// not routed to `pager` go to `syscalls` (a capability with `SEND`).
pub fn thread_start_with(
    pid: Pid,
    entry: VirtAddr,
    stack: VirtAddr,
    arg: u64,
    pager: CapSlot,
    syscalls: Option<CapSlot>,
) -> Result<Tid, SysError> {
    let syscalls = syscalls.map_or(NO_CAP, |s| u64::from(s.0));
    Ok(Tid(syscall6(
        Syscall::ThreadStart,
        [pid.0 as u64, entry.0, stack.0, arg, pager.0 as u64, syscalls],
    )?
    .0 as u32))
}

/// Pager only: installs one page.
pub fn map(pid: Pid, virt: VirtAddr, phys: PhysAddr, flags: MapFlags) -> Result<(), SysError> {
    syscall6(Syscall::Map, [pid.0 as u64, virt.0, phys.0, flags.0, 0, 0]).map(|_| ())
}

/// Pager only: removes `pages` pages from `virt`; returns how many were present.
pub fn unmap(pid: Pid, virt: VirtAddr, pages: PageCount) -> Result<PageCount, SysError> {
    Ok(PageCount(
        syscall6(Syscall::Unmap, [pid.0 as u64, virt.0, pages.0, 0, 0, 0])?.0,
    ))
}

/// What `PageBits` reports for a run of up to [`crate::abi::MAX_PAGE_BITS`]
/// pages: bit `i` of each map is page `i`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PageBits {
    pub present: u64,
    pub accessed: u64,
    pub dirty: u64,
}

/// Pager only: the present, accessed and dirty bits of `pages` pages from
/// `virt` in `pid`, clearing the bits `clear` names after reading them.
pub fn page_bits(
    pid: Pid,
    virt: VirtAddr,
    pages: PageCount,
    clear: crate::abi::PageBitsClear,
) -> Result<PageBits, SysError> {
    let r = syscall6(Syscall::PageBits, [pid.0 as u64, virt.0, pages.0, clear.0, 0, 0])?;
    Ok(PageBits {
        present: r.0,
        accessed: r.1,
        dirty: r.2,
    })
}

/// What `UnmapClean` did: bit `i` is the page at `virt + i * 4096`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Unmapped {
    /// Present and clean: unmapped; their frames are the pager's to reuse.
    pub unmapped: u64,
    /// Present and dirty: left mapped.
    pub dirty: u64,
}

/// Pager only: unmaps the pages of `mask` (bit `i`: `virt + i * 4096`)
/// that are present and not dirty, in one step.
pub fn unmap_clean(pid: Pid, virt: VirtAddr, mask: u64) -> Result<Unmapped, SysError> {
    let r = syscall6(Syscall::UnmapClean, [pid.0 as u64, virt.0, mask, 0, 0, 0])?;
    Ok(Unmapped {
        unmapped: r.0,
        dirty: r.1,
    })
}

/// Pager only: destroys an address space and all its threads.
pub fn space_destroy(pid: Pid) -> Result<(), SysError> {
    syscall6(Syscall::SpaceDestroy, [pid.0 as u64, 0, 0, 0, 0, 0]).map(|_| ())
}

/// Pager only: copies the caller's capability in `src` (which needs
/// `GRANT`) into slot `dst` of `pid`, with `rights` (no wider than its own).
pub fn cap_grant(pid: Pid, src: CapSlot, dst: CapSlot, rights: Rights) -> Result<(), SysError> {
    syscall6(
        Syscall::CapGrant,
        [pid.0 as u64, src.0 as u64, dst.0 as u64, rights.0, 0, 0],
    )
    .map(|_| ())
}

/// Pager only: powers the machine off with `status`.
pub fn shutdown(status: ExitStatus) -> ! {
    let _ = syscall6(Syscall::Shutdown, [status as u64, 0, 0, 0, 0, 0]);
    unreachable!("the kernel returned from Shutdown")
}

/// Issues system call `n` with raw arguments (also for tests of the kernel's
/// argument checking).
#[inline(always)]
pub fn raw_syscall(n: u64, a: [u64; 6]) -> Result<Regs, SysError> {
    let rax: u64;
    let (rdi, rsi, rdx): Regs;
    // SAFETY: `syscall` transfers to the kernel, which preserves every
    // register except rcx and r11 (clobbered by `syscall` itself), the
    // result registers and the short-message registers (r8, r9, r12-r14,
    // written by a receive or a short call), all declared here. It
    // validates every argument against our page tables and touches only
    // memory we passed by pointer, so any values are safe to pass.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") n => rax,
            inlateout("rdi") a[0] => rdi,
            inlateout("rsi") a[1] => rsi,
            inlateout("rdx") a[2] => rdx,
            inlateout("r10") a[3] => _,
            inlateout("r8") a[4] => _,
            inlateout("r9") a[5] => _,
            lateout("r12") _,
            lateout("r13") _,
            lateout("r14") _,
            lateout("r15") _,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    status(rax, (rdi, rsi, rdx))
}

/// Issues a system call that carries a short message: arguments in `rdi,
/// rsi, rdx, r10`, the message in `r8` and `r9, r12, r13, r14`, and the
/// same registers as results (`r10`: a receive's acting-for pid; `rdi`
/// and `r15`: a forwarded system call's arguments 4 and 5).
#[inline(always)]
fn syscall_msg(n: Syscall, a: [u64; 4], m: &ShortMessage) -> Result<(Regs, u64, u64, ShortMessage), SysError> {
    let (rax, regs, r10, r15, out) = syscall_msg_raw(n, a, m);
    status(rax, regs).map(|regs| (regs, r10, r15, out))
}

/// [`syscall_msg`] with the status register not decoded.
#[inline(always)]
fn syscall_msg_raw(n: Syscall, a: [u64; 4], m: &ShortMessage) -> (u64, Regs, u64, u64, ShortMessage) {
    let rax: u64;
    let (rdi, rsi, rdx): Regs;
    let r10: u64;
    let r15: u64;
    let mut out = ShortMessage::default();
    // SAFETY: as in `raw_syscall`; the kernel writes only the registers
    // declared as outputs here.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") n as u64 => rax,
            inlateout("rdi") a[0] => rdi,
            inlateout("rsi") a[1] => rsi,
            inlateout("rdx") a[2] => rdx,
            inlateout("r10") a[3] => r10,
            inlateout("r8") m.label => out.label,
            inlateout("r9") m.words[0] => out.words[0],
            inlateout("r12") m.words[1] => out.words[1],
            inlateout("r13") m.words[2] => out.words[2],
            inlateout("r14") m.words[3] => out.words[3],
            lateout("r15") r15,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    (rax, (rdi, rsi, rdx), r10, r15, out)
}

/// The kernel transport: `Call` through an endpoint capability.
#[derive(Clone, Copy, Debug)]
pub struct KernelTransport(pub CapSlot);

impl Transport for KernelTransport {
    type Error = SysError;
    fn call(&mut self, request: &[u8], reply: &mut [u8]) -> Result<usize, SysError> {
        call(self.0, request, reply)
    }
}
