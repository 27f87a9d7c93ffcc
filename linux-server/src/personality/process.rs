//! A process's own state and the calls about it: identity, names,
//! signal dispositions (recorded: no signal is delivered yet), thread
//! registers, random bytes.

use alloc::collections::{BTreeMap, BTreeSet};

use libipc::{kernel::SegmentBaseSet, linux::ProcessInfo};

use super::{Answer, Context};
use crate::{
    errno::Errno,
    fds::FdTable,
    layout::{Timespec, utsname, word},
    nr::{self, grnd, pr},
};

/// `struct kernel_sigaction`: handler, flags, restorer, mask.
const SIGACTION_BYTES: usize = 32;
/// `stack_t`: ss_sp, ss_flags (with padding), ss_size.
const STACK_T_BYTES: usize = 24;
const SS_ONSTACK: u64 = 1;
const SS_DISABLE: u64 = 2;
const SS_AUTODISARM: u64 = 1 << 31;
/// Linux's MINSIGSTKSZ on x86-64.
const MINSIGSTKSZ: u64 = 2048;
const SIGKILL: u64 = 9;
const SIGSTOP: u64 = 19;
/// SIGKILL and SIGSTOP cannot be blocked.
const UNBLOCKABLE: u64 = (1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1));
/// `struct robust_list_head`.
const ROBUST_LIST_HEAD_BYTES: u64 = 24;

/// What the personality keeps of one process.
pub struct Process {
    pub info: ProcessInfo,
    pub fds: FdTable,
    /// Descriptors the pager knows a file for (so close tells it).
    pub bound: BTreeSet<u32>,
    /// Signal dispositions set with rt_sigaction, by signal.
    actions: BTreeMap<u8, [u8; SIGACTION_BYTES]>,
    mask: u64,
    altstack: [u8; STACK_T_BYTES],
    fs_base: u64,
    gs_base: u64,
    /// The thread's name (prctl PR_SET_NAME), NUL-padded.
    name: [u8; 16],
    pub clear_child_tid: u64,
    robust_list: u64,
    dumpable: bool,
    no_new_privs: bool,
    parent_death_signal: u64,
    /// When the personality first saw it: its CPU-time clocks count from
    /// here.
    pub started: Timespec,
}

impl Process {
    pub fn new(info: ProcessInfo, started: Timespec) -> Process {
        let mut name = [0u8; 16];
        let base = info.exe.rsplit('/').next().unwrap_or("").as_bytes();
        let n = base.len().min(15);
        name[..n].copy_from_slice(&base[..n]);
        let mut altstack = [0u8; STACK_T_BYTES];
        altstack[8..16].copy_from_slice(&SS_DISABLE.to_le_bytes());
        Process {
            info,
            fds: FdTable::with_console(),
            bound: BTreeSet::new(),
            actions: BTreeMap::new(),
            mask: 0,
            altstack,
            fs_base: 0,
            gs_base: 0,
            name,
            clear_child_tid: 0,
            robust_list: 0,
            dumpable: true,
            no_new_privs: false,
            parent_death_signal: 0,
            started,
        }
    }
}

impl Context<'_> {
    pub(super) fn getres(&mut self, real: u64, effective: u64, saved: u64) -> Result<u64, Errno> {
        let id = self.process.info.uid.to_le_bytes();
        for addr in [real, effective, saved] {
            self.host.write_user(addr, &id)?;
        }
        Ok(0)
    }

    /// No supplementary groups.
    pub(super) fn getgroups(&mut self, size: u64) -> Result<u64, Errno> {
        if (size as i32) < 0 {
            return Err(Errno::Inval);
        }
        Ok(0)
    }

    pub(super) fn uname(&mut self, buf: u64) -> Result<u64, Errno> {
        let fields = [
            "Linux",
            "microkernel",
            // The release of the Linux this personality follows.
            "6.1.0-microkernel",
            "#1 SMP PREEMPT_DYNAMIC",
            "x86_64",
            "(none)",
        ];
        self.host.write_user(buf, &utsname(fields))?;
        Ok(0)
    }

    pub(super) fn getrandom(&mut self, buf: u64, len: u64, flags: u64) -> Result<u64, Errno> {
        if flags & !(grnd::NONBLOCK | grnd::RANDOM | grnd::INSECURE) != 0
            || flags & (grnd::RANDOM | grnd::INSECURE) == grnd::RANDOM | grnd::INSECURE
        {
            return Err(Errno::Inval);
        }
        // Linux returns at most 32 MiB - 1 bytes per call.
        let len = len.min((32 << 20) - 1);
        let mut chunk = [0u8; 256];
        let mut done = 0u64;
        while done < len {
            let n = (len - done).min(chunk.len() as u64) as usize;
            self.host.random(&mut chunk[..n]);
            if let Err(e) = self.host.write_user(buf.wrapping_add(done), &chunk[..n]) {
                return if done > 0 { Ok(done) } else { Err(e) };
            }
            done += n as u64;
        }
        Ok(done)
    }

    /// One CPU: the mask has bit 0 (how libcs count online CPUs).
    pub(super) fn sched_getaffinity(&mut self, pid: u64, len: u64, mask: u64) -> Result<u64, Errno> {
        if pid != 0 && pid != u64::from(self.sender.pid.0) && pid != u64::from(self.sender.tid.0) {
            return Err(Errno::Srch);
        }
        // Linux's cpumask here is one word: a shorter or unaligned buffer
        // is EINVAL.
        if len < 8 || !len.is_multiple_of(8) {
            return Err(Errno::Inval);
        }
        self.write_word(mask, 1)?;
        Ok(8)
    }

    pub(super) fn set_robust_list(&mut self, head: u64, len: u64) -> Result<u64, Errno> {
        if len != ROBUST_LIST_HEAD_BYTES {
            return Err(Errno::Inval);
        }
        self.process.robust_list = head;
        Ok(0)
    }

    pub(super) fn rt_sigaction(&mut self, signal: u64, act: u64, old: u64, setsize: u64) -> Result<u64, Errno> {
        if setsize != 8 || !(1..=64).contains(&signal) || (act != 0 && (signal == SIGKILL || signal == SIGSTOP)) {
            return Err(Errno::Inval);
        }
        let mut new = [0u8; SIGACTION_BYTES];
        if act != 0 {
            self.host.read_user(act, &mut new)?;
        }
        let current = self.process.actions.get(&(signal as u8)).copied().unwrap_or_default();
        if old != 0 {
            self.host.write_user(old, &current)?;
        }
        if act != 0 {
            // SIG_DFL (handler 0) with nothing else set is the default.
            if new == [0u8; SIGACTION_BYTES] {
                self.process.actions.remove(&(signal as u8));
            } else {
                self.process.actions.insert(signal as u8, new);
            }
        }
        Ok(0)
    }

    pub(super) fn rt_sigprocmask(&mut self, how: u64, set: u64, old: u64, setsize: u64) -> Result<u64, Errno> {
        const BLOCK: u64 = 0;
        const UNBLOCK: u64 = 1;
        const SETMASK: u64 = 2;
        if setsize != 8 {
            return Err(Errno::Inval);
        }
        let current = self.process.mask;
        let new = if set != 0 {
            let set = self.read_word(set)?;
            Some(match how {
                BLOCK => current | set,
                UNBLOCK => current & !set,
                SETMASK => set,
                _ => return Err(Errno::Inval),
            })
        } else {
            None
        };
        if old != 0 {
            self.write_word(old, current)?;
        }
        if let Some(new) = new {
            self.process.mask = new & !UNBLOCKABLE;
        }
        Ok(0)
    }

    pub(super) fn sigaltstack(&mut self, new: u64, old: u64) -> Result<u64, Errno> {
        let current = self.process.altstack;
        if new != 0 {
            let mut stack = [0u8; STACK_T_BYTES];
            self.host.read_user(new, &mut stack)?;
            let flags = word(&stack, 8) & 0xffff_ffff;
            if !matches!(flags & !SS_AUTODISARM, 0 | SS_ONSTACK | SS_DISABLE) {
                return Err(Errno::Inval);
            }
            if flags & SS_DISABLE == 0 && word(&stack, 16) < MINSIGSTKSZ {
                return Err(Errno::NoMem);
            }
            if old != 0 {
                self.host.write_user(old, &current)?;
            }
            if flags & SS_DISABLE != 0 {
                stack = [0u8; STACK_T_BYTES];
                stack[8..16].copy_from_slice(&SS_DISABLE.to_le_bytes());
            } else {
                // SS_ONSTACK on input means nothing more.
                stack[8..16].copy_from_slice(&0u64.to_le_bytes());
            }
            self.process.altstack = stack;
        } else if old != 0 {
            self.host.write_user(old, &current)?;
        }
        Ok(0)
    }

    pub(super) fn prctl(&mut self, option: u64, arg: u64) -> Result<u64, Errno> {
        match option {
            pr::SET_NAME => {
                let mut name = [0u8; 16];
                // Up to 16 bytes, stopping at a NUL or a page the caller
                // cannot read (as strncpy_from_user).
                for (i, byte) in name.iter_mut().enumerate().take(15) {
                    let mut b = [0u8; 1];
                    self.host.read_user(arg.wrapping_add(i as u64), &mut b)?;
                    if b[0] == 0 {
                        break;
                    }
                    *byte = b[0];
                }
                self.process.name = name;
                Ok(0)
            }
            pr::GET_NAME => {
                let name = self.process.name;
                self.host.write_user(arg, &name)?;
                Ok(0)
            }
            pr::GET_DUMPABLE => Ok(u64::from(self.process.dumpable)),
            pr::SET_DUMPABLE if arg <= 1 => {
                self.process.dumpable = arg == 1;
                Ok(0)
            }
            pr::SET_PDEATHSIG if arg <= 64 => {
                self.process.parent_death_signal = arg;
                Ok(0)
            }
            pr::GET_PDEATHSIG => {
                let signal = self.process.parent_death_signal as u32;
                self.host.write_user(arg, &signal.to_le_bytes())?;
                Ok(0)
            }
            pr::SET_NO_NEW_PRIVS if arg == 1 => {
                self.process.no_new_privs = true;
                Ok(0)
            }
            pr::GET_NO_NEW_PRIVS => Ok(u64::from(self.process.no_new_privs)),
            _ => Err(Errno::Inval),
        }
    }

    pub(super) fn arch_prctl(&mut self, code: u64, addr: u64) -> Answer {
        match code {
            nr::ARCH_SET_FS | nr::ARCH_SET_GS if addr >= libipc::types::USER_END.0 => Answer::Error(Errno::Perm),
            nr::ARCH_SET_FS => {
                self.process.fs_base = addr;
                Answer::SetBase(SegmentBaseSet::Fs(addr))
            }
            nr::ARCH_SET_GS => {
                self.process.gs_base = addr;
                Answer::SetBase(SegmentBaseSet::Gs(addr))
            }
            nr::ARCH_GET_FS => self.write_word(addr, self.process.fs_base).map(|()| 0).into(),
            nr::ARCH_GET_GS => self.write_word(addr, self.process.gs_base).map(|()| 0).into(),
            _ => Answer::Error(Errno::Inval),
        }
    }
}
