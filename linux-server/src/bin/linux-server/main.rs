//! The Linux personality server on the kernel: receives the system calls
//! the kernel forwards from Linux processes on its endpoint (slot
//! [`libipc::abi::caps::SERVICE`]) and answers each through the
//! host-tested [`linux_server::personality`]; this file only implements
//! its [`Host`] with system calls.
#![no_std]
#![no_main]

extern crate alloc;

use core::fmt;

use libipc::{
    MAX_MESSAGE,
    abi::{MessageKind, SysError, caps},
    kernel::SyscallReply,
    linux::{FileInfo, FileRef, PersonalityReply, PersonalityRequest, ProcessInfo},
    pager::{Reply, Request},
    procfs::{PidSelector, ProcFile},
    short::{ShortMessage, UNSUPPORTED_LABEL},
    sys::{self, Received},
    types::{Pid, VirtAddr},
};
use linux_server::{
    errno::Errno,
    host::{Clock, Host},
    layout::Timespec,
    personality::{Answer, Call, Personality},
};
use runtime::time::{self, ClockId};

/// Per-process state (descriptors, names, dispositions): a few hundred
/// bytes each, for at most a few hundred processes.
const HEAP_BYTES: usize = 4 << 20;

runtime::entry!(main, heap = HEAP_BYTES);

/// The host of the call being served: the caller's memory is lent
/// through the reply right this thread holds.
struct KernelHost {
    caller: Pid,
}

impl KernelHost {
    fn ask(&self, request: PersonalityRequest) -> Result<PersonalityReply, Errno> {
        match runtime::pager::request(Request::Linux(alloc::boxed::Box::new(request))) {
            Ok(Reply::Linux(reply)) => Ok(*reply),
            Ok(_) => Err(Errno::Io),
            Err(e) => Err(Errno::from_pager(e)),
        }
    }

    /// A copy failed: the page may only be unmapped yet. The pager maps
    /// it if the caller may access it (or says EFAULT).
    fn touch(&self, addr: u64, len: usize, write: bool) -> Result<(), Errno> {
        match self.ask(PersonalityRequest::Touch {
            pid: self.caller,
            addr: VirtAddr(addr),
            len: len as u64,
            write,
        }) {
            Ok(_) => Ok(()),
            Err(_) => Err(Errno::Fault),
        }
    }

    /// Copies `len` bytes at `addr` with `copy` (a lease copy, which stops
    /// at a page that is not mapped yet); if it falls short, has the pager
    /// map the range ([`KernelHost::touch`]) and copies once more.
    fn copy_touching(
        &self,
        addr: u64,
        len: usize,
        write: bool,
        mut copy: impl FnMut() -> Result<usize, SysError>,
    ) -> Result<(), Errno> {
        let mut whole = || matches!(copy(), Ok(n) if n == len);
        if len == 0 || whole() {
            return Ok(());
        }
        self.touch(addr, len, write)?;
        if whole() { Ok(()) } else { Err(Errno::Fault) }
    }

    /// Runs `op` with the caller's rights toward procfs.
    fn as_caller<T>(&self, op: impl FnOnce() -> T) -> T {
        if let Err(e) = sys::impersonate(true) {
            runtime::log!("linux: cannot impersonate process {}: {e:?}", self.caller.0);
        }
        let result = op();
        let _ = sys::impersonate(false);
        result
    }
}

fn clock_id(clock: Clock) -> ClockId {
    match clock {
        Clock::Realtime => ClockId::Realtime,
        Clock::Monotonic => ClockId::Monotonic,
        Clock::MonotonicRaw => ClockId::MonotonicRaw,
        Clock::Boottime => ClockId::Boottime,
        Clock::RealtimeCoarse => ClockId::RealtimeCoarse,
        Clock::MonotonicCoarse => ClockId::MonotonicCoarse,
    }
}

impl Host for KernelHost {
    fn read_user(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
        self.copy_touching(addr, buf.len(), false, || sys::lease_read(addr, buf))
    }

    fn write_user(&mut self, addr: u64, data: &[u8]) -> Result<(), Errno> {
        self.copy_touching(addr, data.len(), true, || sys::lease_write(addr, data))
    }

    fn process(&mut self, pid: Pid) -> Result<ProcessInfo, Errno> {
        match self.ask(PersonalityRequest::Process { pid })? {
            PersonalityReply::Process(info) => Ok(info),
            _ => Err(Errno::Io),
        }
    }

    fn open_file(&mut self, path: &str) -> Result<FileInfo, Errno> {
        if path.len() > libipc::linux::MAX_PATH {
            return Err(Errno::NoEnt);
        }
        match self.ask(PersonalityRequest::OpenFile { path: path.into() })? {
            PersonalityReply::File(info) => Ok(info),
            _ => Err(Errno::Io),
        }
    }

    fn read_file(&mut self, file: &FileInfo, offset: u64, buf: &mut [u8]) -> usize {
        if offset >= file.file.size || file.addr.0 == 0 {
            return 0;
        }
        let n = buf.len().min((file.file.size - offset) as usize);
        // SAFETY: the pager mapped the whole file read-only at `addr` for
        // `size` bytes in this process and never unmaps it while we live;
        // `offset + n <= size`.
        let data = unsafe { core::slice::from_raw_parts((file.addr.0 + offset) as *const u8, n) };
        buf[..n].copy_from_slice(data);
        n
    }

    fn bind_fd(&mut self, pid: Pid, fd: u32, file: Option<FileRef>) {
        if let Err(e) = self.ask(PersonalityRequest::BindFd { pid, fd, file }) {
            runtime::log!("linux: the pager refused descriptor {fd} of process {}: {e:?}", pid.0);
        }
    }

    fn proc_read(&mut self, pid: Pid, file: ProcFile, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        self.as_caller(|| {
            if buf.is_empty() {
                // The access check alone: procfs checks before it reads.
                return runtime::procfs::call(&libipc::procfs::Request::Read {
                    pid: PidSelector::Pid(pid),
                    file,
                    offset,
                    len: 0,
                })
                .map(|_| 0);
            }
            runtime::procfs::read_leased(PidSelector::Pid(pid), file, offset, buf)
        })
        .map_err(Errno::from_procfs)
    }

    fn proc_write(&mut self, pid: Pid, file: ProcFile, offset: u64, data: &[u8]) -> Result<usize, Errno> {
        self.as_caller(|| runtime::procfs::write_leased(PidSelector::Pid(pid), file, offset, data))
            .map_err(Errno::from_procfs)
    }

    fn console_write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(libipc::abi::MAX_DEBUG_WRITE as usize) {
            let _ = sys::console_write(chunk);
        }
    }

    fn clock(&mut self, clock: Clock) -> Timespec {
        match time::clock_gettime(clock_id(clock)) {
            Ok(t) => Timespec {
                sec: t.sec.max(0) as u64,
                nsec: t.nsec as u32,
            },
            // No clock page: time stands still at 0 (and is logged once).
            Err(e) => {
                static WARNED: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);
                if !WARNED.swap(true, core::sync::atomic::Ordering::Relaxed) {
                    runtime::log!("linux: no clock: {e:?}");
                }
                Timespec::default()
            }
        }
    }

    fn random(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let word = sys::random().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }

    fn warn(&mut self, message: fmt::Arguments<'_>) {
        runtime::log!("linux: {message}");
    }
}

/// The kernel's reply for an answer.
fn reply(answer: Answer) -> SyscallReply {
    match answer {
        Answer::Value(v) => SyscallReply::value(v),
        Answer::Error(e) => SyscallReply::error(e.code()),
        Answer::SetBase(base) => SyscallReply {
            base: Some(base),
            ..SyscallReply::value(0)
        },
        Answer::Sleep { until, then } => {
            let rax = match then {
                Ok(v) => v,
                Err(e) => (-(i64::from(e.code()))) as u64,
            };
            SyscallReply::sleep(rax, until.nanos())
        }
    }
}

/// The kernel's reply for an answer, as its register message: a value (the
/// common answer) is encoded at once, without going through
/// [`SyscallReply`]'s options.
fn reply_message(answer: Answer) -> ShortMessage {
    match answer {
        Answer::Value(v) => SyscallReply::value(v).to_message(),
        answer => reply(answer).to_message(),
    }
}

/// What to answer with the next receive.
enum Pending {
    Short(ShortMessage),
    /// An empty byte reply (to a byte message this server does not serve).
    Bytes,
}

fn main(_arg: u64) -> i64 {
    let mut personality = Personality::default();
    let mut buf = [0u8; MAX_MESSAGE];
    let mut pending: Option<Pending> = None;
    // A message received already (by the system calls' loop below).
    let mut next: Option<Result<Received, SysError>> = None;
    loop {
        let received = match (next.take(), pending.take()) {
            (Some(received), _) => received,
            (None, Some(Pending::Short(m))) => sys::reply_recv_short(&m, caps::SERVICE, &mut buf),
            (None, Some(Pending::Bytes)) => sys::reply_recv(&[], caps::SERVICE, &mut buf),
            (None, None) => sys::recv(caps::SERVICE, &mut buf),
        };
        let msg = match received {
            Ok(msg) => msg,
            // The caller we answered is gone.
            Err(SysError::NotWaiting) => continue,
            Err(e) => {
                runtime::log!("linux: cannot receive: {e:?}");
                return 1;
            }
        };
        pending = match (msg.kind, msg.syscall()) {
            // System calls are answered back to back: while the next message
            // is one too, it is served here, its answer sent with the
            // receive after it, without the pending answer and the decoded
            // message of the general loop. Anything else goes back to it as
            // received.
            (MessageKind::Syscall, Some(call)) => {
                let (mut sender, mut call) = (msg.sender, call);
                loop {
                    let mut host = KernelHost { caller: sender.pid };
                    let answer = personality.call(
                        &mut host,
                        Call {
                            sender,
                            number: call.number,
                            args: call.args,
                        },
                    );
                    let received = sys::reply_recv_short_raw(&reply_message(answer), caps::SERVICE, &mut buf);
                    match received.syscall() {
                        Some(next_call) => (sender, call) = next_call,
                        None => {
                            next = Some(received.decode());
                            break None;
                        }
                    }
                }
            }
            (MessageKind::ShortCall, _) => Some(Pending::Short(ShortMessage::label(UNSUPPORTED_LABEL))),
            (MessageKind::Call, _) => Some(Pending::Bytes),
            _ => None,
        };
    }
}
