//! The raw system calls: the kernel transport. See [`crate::abi`] for the
//! register convention. Every wrapper turns the status register into a
//! `Result`.
//!
//! The kernel never faults user memory in: buffers handed to a call must be
//! mapped already (any buffer the caller has written is).

use core::arch::asm;

use crate::{
    abi::{ExitStatus, LeaseDesc, MapFlags, MessageKind, SegmentBase, SysError, Syscall},
    short::ShortMessage,
    transport::Transport,
    types::{EndpointId, PageCount, PhysAddr, Pid, Sender, Tid, VirtAddr},
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

/// A received message: who sent it, what kind; a byte message's length in
/// the receive buffer, or a short message's registers (empty for a byte
/// message).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received {
    pub len: usize,
    pub sender: Sender,
    pub kind: MessageKind,
    pub short: ShortMessage,
}

fn received(r: Result<(Regs, ShortMessage), SysError>) -> Result<Received, SysError> {
    let (regs, short) = r?;
    let kind = MessageKind::from_raw(regs.2).ok_or(SysError::Malformed)?;
    Ok(Received {
        len: regs.0 as usize,
        sender: Sender::from_word(regs.1),
        kind,
        // A byte message leaves the message registers as the call set them.
        short: if kind == MessageKind::Call {
            ShortMessage::default()
        } else {
            short
        },
    })
}

/// Sends the short message `msg` to `ep` and waits for the short reply.
pub fn call_short(ep: EndpointId, msg: &ShortMessage) -> Result<ShortMessage, SysError> {
    syscall_msg(Syscall::CallShort, [ep.0 as u64, 0, 0, 0], msg).map(|(_, reply)| reply)
}

/// Answers the short message or fault of `to` with `reply` and waits for the
/// next message on `ep`, in one call.
pub fn reply_recv_short(to: Tid, reply: &ShortMessage, ep: EndpointId, buf: &mut [u8]) -> Result<Received, SysError> {
    received(syscall_msg(
        Syscall::ReplyRecvShort,
        [to.0 as u64, ep.0 as u64, buf.as_mut_ptr() as u64, buf.len() as u64],
        reply,
    ))
}

/// Answers the short message or fault of `to` without waiting.
pub fn reply_short(to: Tid, reply: &ShortMessage) -> Result<(), SysError> {
    syscall_msg(Syscall::ReplyShort, [to.0 as u64, 0, 0, 0], reply).map(|_| ())
}

/// Sends `msg` to `ep` and waits for the reply, written into `reply`.
pub fn call(ep: EndpointId, msg: &[u8], reply: &mut [u8]) -> Result<usize, SysError> {
    call_raw(ep, msg, reply, 0)
}

/// `Call` with an optional lease descriptor (0 for none).
fn call_raw(ep: EndpointId, msg: &[u8], reply: &mut [u8], lease: u64) -> Result<usize, SysError> {
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
pub fn call_with_lease(ep: EndpointId, msg: &[u8], reply: &mut [u8], lease: &LeaseDesc) -> Result<usize, SysError> {
    call_raw(ep, msg, reply, lease as *const LeaseDesc as u64)
}

/// Server side: reads from the lease of caller `from` at `offset`.
pub fn lease_read(from: Tid, offset: u64, buf: &mut [u8]) -> Result<usize, SysError> {
    let r = syscall6(
        Syscall::LeaseRead,
        [from.0 as u64, offset, buf.as_mut_ptr() as u64, buf.len() as u64, 0, 0],
    )?;
    Ok(r.0 as usize)
}

/// Server side: writes into the lease of caller `to` at `offset`.
pub fn lease_write(to: Tid, offset: u64, data: &[u8]) -> Result<usize, SysError> {
    let r = syscall6(
        Syscall::LeaseWrite,
        [to.0 as u64, offset, data.as_ptr() as u64, data.len() as u64, 0, 0],
    )?;
    Ok(r.0 as usize)
}

/// Waits for a message on `ep`.
pub fn recv(ep: EndpointId, buf: &mut [u8]) -> Result<Received, SysError> {
    received(syscall_msg(
        Syscall::Recv,
        [ep.0 as u64, buf.as_mut_ptr() as u64, buf.len() as u64, 0],
        &ShortMessage::default(),
    ))
}

/// Replies to `to` and waits for the next message on `ep` in one call.
pub fn reply_recv(to: Tid, reply: &[u8], ep: EndpointId, buf: &mut [u8]) -> Result<Received, SysError> {
    // The reply's pointer and length sit where a short reply's label and
    // first word would: both forms share the receive half's registers.
    received(syscall_msg(
        Syscall::ReplyRecv,
        [to.0 as u64, ep.0 as u64, buf.as_mut_ptr() as u64, buf.len() as u64],
        &ShortMessage::new(reply.as_ptr() as u64, [reply.len() as u64, 0, 0, 0]),
    ))
}

/// Replies to `to` without waiting.
pub fn reply(to: Tid, reply: &[u8]) -> Result<(), SysError> {
    syscall6(
        Syscall::Reply,
        [to.0 as u64, reply.as_ptr() as u64, reply.len() as u64, 0, 0, 0],
    )
    .map(|_| ())
}

/// Registers the well-known endpoint `ep` for the caller.
pub fn endpoint_create(ep: EndpointId) -> Result<(), SysError> {
    syscall6(Syscall::EndpointCreate, [ep.0 as u64, 0, 0, 0, 0, 0]).map(|_| ())
}

/// Writes bytes to the kernel console.
pub fn debug_write(bytes: &[u8]) -> Result<(), SysError> {
    syscall6(
        Syscall::DebugWrite,
        [bytes.as_ptr() as u64, bytes.len() as u64, 0, 0, 0, 0],
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

/// The kernel's own frame accounting: (free, total) frames.
pub fn kernel_info() -> Result<(PageCount, PageCount), SysError> {
    let r = syscall6(Syscall::KernelInfo, [0; 6])?;
    Ok((PageCount(r.0), PageCount(r.1)))
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

/// Pager only: a new, empty address space.
pub fn space_create() -> Result<Pid, SysError> {
    Ok(Pid(syscall6(Syscall::SpaceCreate, [0; 6])?.0 as u32))
}

/// Pager only: starts a thread in `pid` whose faults go to `pager`.
pub fn thread_start(pid: Pid, entry: VirtAddr, stack: VirtAddr, arg: u64, pager: EndpointId) -> Result<Tid, SysError> {
    Ok(Tid(syscall6(
        Syscall::ThreadStart,
        [pid.0 as u64, entry.0, stack.0, arg, pager.0 as u64, 0],
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

/// Pager only: destroys an address space and all its threads.
pub fn space_destroy(pid: Pid) -> Result<(), SysError> {
    syscall6(Syscall::SpaceDestroy, [pid.0 as u64, 0, 0, 0, 0, 0]).map(|_| ())
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
            in("r10") a[3],
            inlateout("r8") a[4] => _,
            inlateout("r9") a[5] => _,
            lateout("r12") _,
            lateout("r13") _,
            lateout("r14") _,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    status(rax, (rdi, rsi, rdx))
}

/// Issues a system call that carries a short message: arguments in `rdi,
/// rsi, rdx, r10`, the message in `r8` and `r9, r12, r13, r14`, and the
/// same registers as results.
#[inline(always)]
fn syscall_msg(n: Syscall, a: [u64; 4], m: &ShortMessage) -> Result<(Regs, ShortMessage), SysError> {
    let rax: u64;
    let (rdi, rsi, rdx): Regs;
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
            inlateout("r10") a[3] => _,
            inlateout("r8") m.label => out.label,
            inlateout("r9") m.words[0] => out.words[0],
            inlateout("r12") m.words[1] => out.words[1],
            inlateout("r13") m.words[2] => out.words[2],
            inlateout("r14") m.words[3] => out.words[3],
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    status(rax, (rdi, rsi, rdx)).map(|regs| (regs, out))
}

/// The kernel transport: `Call` on an endpoint.
#[derive(Clone, Copy, Debug)]
pub struct KernelTransport(pub EndpointId);

impl Transport for KernelTransport {
    type Error = SysError;
    fn call(&mut self, request: &[u8], reply: &mut [u8]) -> Result<usize, SysError> {
        call(self.0, request, reply)
    }
}
