//! The Linux personality: per-process state (descriptors, signal
//! dispositions, names) and the answer to every system call the kernel
//! forwards here. Plain, host-tested logic; everything it needs from the
//! system goes through [`Host`].

mod files;
mod process;
mod time;

#[cfg(test)]
mod tests;

use alloc::{collections::BTreeMap, vec::Vec};

use libipc::{
    kernel::SegmentBaseSet,
    types::{Pid, Sender},
};
pub use process::Process;

use crate::{errno::Errno, host::Host, layout::Timespec, nr};

/// How a call is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// rax: the result.
    Value(u64),
    /// rax: `-errno`.
    Error(Errno),
    /// rax 0 and a new FS or GS base (arch_prctl).
    SetBase(SegmentBaseSet),
    /// The caller sleeps until the monotonic clock reaches `until`, then
    /// gets `then` (nanosleep, a futex wait with a timeout).
    Sleep { until: Timespec, then: Result<u64, Errno> },
}

impl From<Result<u64, Errno>> for Answer {
    fn from(r: Result<u64, Errno>) -> Answer {
        match r {
            Ok(v) => Answer::Value(v),
            Err(e) => Answer::Error(e),
        }
    }
}

/// Processes the personality keeps state for before it asks the pager
/// which of them still live.
const PRUNE_AT: usize = 64;

/// Every Linux process's state, by pid (pids are never reused).
#[derive(Default)]
pub struct Personality {
    processes: BTreeMap<Pid, Process>,
    /// Where /proc reads land before they are copied to the caller: kept
    /// from call to call (allocating and zeroing it per read was a
    /// measurable part of a short read), at most [`files::PROC_CHUNK`] bytes.
    proc_staging: Vec<u8>,
}

/// One call: who makes it and its registers.
#[derive(Clone, Copy, Debug)]
pub struct Call {
    pub sender: Sender,
    pub number: u64,
    pub args: [u64; 6],
}

impl Personality {
    /// The state of `pid`, made on its first call (asking the pager who it
    /// is); `None` when the pager does not know it.
    fn process_in<'a>(
        processes: &'a mut BTreeMap<Pid, Process>,
        host: &mut dyn Host,
        pid: Pid,
    ) -> Option<&'a mut Process> {
        if !processes.contains_key(&pid) {
            let info = host.process(pid).ok()?;
            if processes.len() >= PRUNE_AT {
                processes.retain(|&p, _| host.process(p).is_ok());
            }
            let started = host.clock(crate::host::Clock::Monotonic);
            return Some(processes.entry(pid).or_insert(Process::new(info, started)));
        }
        processes.get_mut(&pid)
    }

    /// How many processes have state here (bounded by [`PRUNE_AT`] plus
    /// the live ones).
    pub fn tracked(&self) -> usize {
        self.processes.len()
    }

    /// Answers one forwarded system call.
    pub fn call(&mut self, host: &mut dyn Host, call: Call) -> Answer {
        let pid = call.sender.pid;
        // The calls the kernel's sender stamp answers, first: no lookup on
        // the cheapest forwarded calls (the benchmark's getppid).
        match call.number {
            nr::GETPID => return Answer::Value(u64::from(pid.0)),
            nr::GETTID => return Answer::Value(u64::from(call.sender.tid.0)),
            // The pager started it: its parent, as init is Linux's.
            nr::GETPPID => return Answer::Value(1),
            _ => {}
        }
        let staging = &mut self.proc_staging;
        let Some(process) = Self::process_in(&mut self.processes, host, pid) else {
            // The pager no longer knows it: it ended while its call waited.
            return Answer::Error(Errno::Srch);
        };
        let mut cx = Context {
            host,
            process,
            sender: call.sender,
            proc_staging: staging,
        };
        cx.dispatch(call.number, call.args)
    }
}

/// One call being served.
pub(crate) struct Context<'a> {
    pub host: &'a mut dyn Host,
    pub process: &'a mut Process,
    pub sender: Sender,
    /// The personality's kept /proc staging buffer.
    pub proc_staging: &'a mut Vec<u8>,
}

impl Context<'_> {
    fn dispatch(&mut self, number: u64, a: [u64; 6]) -> Answer {
        let r = match number {
            nr::READ => self.read(a[0], a[1], a[2], None),
            nr::WRITE => self.write(a[0], a[1], a[2], None),
            nr::PREAD64 => self.read(a[0], a[1], a[2], Some(a[3])),
            nr::PWRITE64 => self.write(a[0], a[1], a[2], Some(a[3])),
            nr::READV => self.readv(a[0], a[1], a[2]),
            nr::WRITEV => self.writev(a[0], a[1], a[2]),
            nr::OPEN => self.openat(nr::AT_FDCWD as u64, a[0], a[1]),
            nr::OPENAT => self.openat(a[0], a[1], a[2]),
            nr::CLOSE => self.close(a[0]),
            nr::LSEEK => self.lseek(a[0], a[1], a[2]),
            nr::FSTAT => self.fstat(a[0], a[1]),
            nr::STAT | nr::LSTAT => self.fstatat(nr::AT_FDCWD as u64, a[0], a[1], 0),
            nr::NEWFSTATAT => self.fstatat(a[0], a[1], a[2], a[3]),
            nr::ACCESS => self.faccessat(nr::AT_FDCWD as u64, a[0], a[1]),
            nr::FACCESSAT | nr::FACCESSAT2 => self.faccessat(a[0], a[1], a[2]),
            nr::READLINK => self.readlinkat(nr::AT_FDCWD as u64, a[0], a[1], a[2]),
            nr::READLINKAT => self.readlinkat(a[0], a[1], a[2], a[3]),
            nr::DUP => self.dup(a[0]),
            nr::DUP2 => self.dup2(a[0], a[1]),
            nr::DUP3 => self.dup3(a[0], a[1], a[2]),
            nr::FCNTL => self.fcntl(a[0], a[1], a[2]),
            // The console is no terminal: stdio buffers it fully, as a
            // pipe on Linux.
            nr::IOCTL => self.process.fds.get(a[0]).and(Err(Errno::NotTy)),
            nr::GETCWD => self.getcwd(a[0], a[1]),
            nr::GETUID | nr::GETEUID | nr::GETGID | nr::GETEGID => Ok(u64::from(self.process.info.uid)),
            nr::GETRESUID | nr::GETRESGID => self.getres(a[0], a[1], a[2]),
            nr::GETGROUPS => self.getgroups(a[0]),
            nr::UNAME => self.uname(a[0]),
            nr::GETRANDOM => self.getrandom(a[0], a[1], a[2]),
            nr::SCHED_YIELD => Ok(0),
            nr::SCHED_GETAFFINITY => self.sched_getaffinity(a[0], a[1], a[2]),
            nr::SET_TID_ADDRESS => {
                self.process.clear_child_tid = a[0];
                Ok(u64::from(self.sender.tid.0))
            }
            nr::SET_ROBUST_LIST => self.set_robust_list(a[0], a[1]),
            // Restartable sequences are not offered: both libcs go on
            // without them.
            nr::RSEQ => Err(Errno::NoSys),
            nr::RT_SIGACTION => self.rt_sigaction(a[0], a[1], a[2], a[3]),
            nr::RT_SIGPROCMASK => self.rt_sigprocmask(a[0], a[1], a[2], a[3]),
            nr::SIGALTSTACK => self.sigaltstack(a[0], a[1]),
            nr::PRCTL => self.prctl(a[0], a[1]),
            nr::ARCH_PRCTL => return self.arch_prctl(a[0], a[1]),
            nr::CLOCK_GETTIME => self.clock_gettime(a[0], a[1]),
            nr::CLOCK_GETRES => self.clock_getres(a[0], a[1]),
            nr::GETTIMEOFDAY => self.gettimeofday(a[0], a[1]),
            nr::TIME => self.time(a[0]),
            nr::NANOSLEEP => return self.nanosleep(a[0]),
            nr::CLOCK_NANOSLEEP => return self.clock_nanosleep(a[0], a[1], a[2]),
            nr::FUTEX => return self.futex(a[0], a[1], a[2], a[3], a[5]),
            number => {
                self.host.warn(format_args!(
                    "process {} ({}): system call {} ({number}) is not implemented: ENOSYS",
                    self.sender.pid.0,
                    self.process.info.exe,
                    nr::name(number).unwrap_or("unknown"),
                ));
                Err(Errno::NoSys)
            }
        };
        r.into()
    }

    /// Reads a NUL-terminated path from the caller: EFAULT on a bad
    /// pointer, ENAMETOOLONG past PATH_MAX.
    fn user_path(&mut self, addr: u64) -> Result<alloc::vec::Vec<u8>, Errno> {
        let mut path = alloc::vec::Vec::new();
        let mut at = addr;
        loop {
            // Up to the end of the page: a fault there is the caller's.
            let n = (4096 - (at % 4096)).min(256) as usize;
            let mut chunk = [0u8; 256];
            self.host.read_user(at, &mut chunk[..n])?;
            if let Some(end) = chunk[..n].iter().position(|&b| b == 0) {
                path.extend_from_slice(&chunk[..end]);
                return Ok(path);
            }
            path.extend_from_slice(&chunk[..n]);
            if path.len() >= crate::path::PATH_MAX {
                return Err(Errno::NameTooLong);
            }
            at = at.checked_add(n as u64).ok_or(Errno::Fault)?;
        }
    }

    fn read_word(&mut self, addr: u64) -> Result<u64, Errno> {
        let mut b = [0u8; 8];
        self.host.read_user(addr, &mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn write_word(&mut self, addr: u64, value: u64) -> Result<(), Errno> {
        self.host.write_user(addr, &value.to_le_bytes())
    }
}
