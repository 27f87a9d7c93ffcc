//! The Linux personality, as far as the pager serves it: starting static
//! Linux programs (`pager::exec`) and answering the system calls the
//! kernel forwards from them.
//!
//! Design (the Linux-programs issue): the kernel forwards each system call
//! of a Linux process as a register message. Memory and life-cycle calls
//! go to the pager, which owns the address space, so they are answered in
//! one IPC hop; the rest of the personality (files, /proc through procfs
//! under the caller's token, time) is to move to a personality server of
//! its own. Until it exists, every call comes here (the process's routes
//! send everything to the pager), and the calls a static musl or glibc
//! program needs to start, print and exit are served. Any call not served
//! returns ENOSYS and logs one line naming it, so a user sees what is
//! missing.
//!
//! The caller's memory is read and written through the pager's own view
//! of its pages (`introspect`'s frame access), with the protection of each
//! VMA checked as Linux's `copy_from_user`/`copy_to_user` would: a buffer
//! that is not mapped, or not readable (writable), is EFAULT.

use alloc::{string::String, vec::Vec};

use libipc::{
    abi::SyscallRoutes,
    kernel::{ENOSYS, SegmentBaseSet, SyscallInfo, SyscallReply},
    procfs::Identity,
    sys,
    types::{Access, Pid, Sender, VirtAddr},
};
use pager::{
    exec::{self, Credentials, ExecRequest},
    exec_list::ExecSpec,
    exit_status::{ExitReport, ExitStatus, Signal},
    linux::{self, Caller, Privileges, UserAccess},
    rlimit::Rlimits,
    space::AddressSpace,
    vma::FileId,
};

use crate::{log::plog, serve::Server};

/// Linux x86-64 system-call numbers and the constants their arguments use.
pub mod nr {
    pub const READ: u64 = 0;
    pub const WRITE: u64 = 1;
    pub const RT_SIGACTION: u64 = 13;
    pub const RT_SIGPROCMASK: u64 = 14;
    pub const IOCTL: u64 = 16;
    pub const WRITEV: u64 = 20;
    pub const GETPID: u64 = 39;
    pub const EXIT: u64 = 60;
    pub const GETPPID: u64 = 110;
    pub const SIGALTSTACK: u64 = 131;
    pub const ARCH_PRCTL: u64 = 158;
    pub const GETTID: u64 = 186;
    pub const SET_TID_ADDRESS: u64 = 218;
    pub const EXIT_GROUP: u64 = 231;
    pub const KILL: u64 = 62;
    pub const TKILL: u64 = 200;
    pub const TGKILL: u64 = 234;
    pub const GETRANDOM: u64 = 318;
    pub const GETUID: u64 = 102;
    pub const GETGID: u64 = 104;
    pub const GETEUID: u64 = 107;
    pub const GETEGID: u64 = 108;
    pub const SET_ROBUST_LIST: u64 = 273;

    pub const ARCH_SET_GS: u64 = 0x1001;
    pub const ARCH_SET_FS: u64 = 0x1002;
    pub const ARCH_GET_FS: u64 = 0x1003;
    pub const ARCH_GET_GS: u64 = 0x1004;
}

/// Linux errno values the personality returns.
mod errno {
    pub const ENOENT: u16 = 2;
    pub const ESRCH: u16 = 3;
    pub const ENOMEM: u16 = 12;
    pub const EBADF: u16 = 9;
    pub const EFAULT: u16 = 14;
    pub const EINVAL: u16 = 22;
    pub const ENOTTY: u16 = 25;
}

/// Linux's limit on one `writev`'s vector.
const IOV_MAX: u64 = 1024;
/// The most one console write moves (the kernel's `DebugWrite` limit).
const CONSOLE_CHUNK: usize = 4096;

/// A Linux program to start: the file in the ramdisk, its arguments and
/// environment, and who it runs as.
#[derive(Clone, Debug)]
pub struct LinuxProgram {
    pub name: String,
    pub path: String,
    pub argv: Vec<String>,
    pub envp: Vec<String>,
    pub identity: Identity,
}

impl From<ExecSpec> for LinuxProgram {
    fn from(spec: ExecSpec) -> LinuxProgram {
        let name = spec.path.rsplit('/').next().unwrap_or(&spec.path).into();
        LinuxProgram {
            name,
            path: spec.path,
            argv: spec.argv,
            envp: spec.envp,
            identity: crate::identity::DEFAULT_IDENTITY,
        }
    }
}

/// What the pager keeps of a Linux process beyond its address space.
#[derive(Clone, Debug, Default)]
pub struct LinuxState {
    /// Its file in the ramdisk, for its `[exit]` line.
    pub path: String,
    pub fs_base: u64,
    pub gs_base: u64,
}

/// Prints a Linux program's `[exit]` line: how the runner learns its exit
/// status.
pub fn report(path: &str, status: ExitStatus) {
    runtime::println!(
        "{}",
        ExitReport {
            program: path.into(),
            status
        }
    );
}

/// AT_HWCAP on x86-64: CPUID leaf 1's EDX, as Linux passes it.
fn hwcap() -> u64 {
    u64::from(core::arch::x86_64::__cpuid(1).edx)
}

/// The routes of a Linux process: every call to the pager for now (see
/// the module doc).
fn routes() -> SyscallRoutes {
    SyscallRoutes([u64::MAX; 8])
}

impl Server {
    /// Starts a static Linux program: its ELF laid out by `pager::exec`, the
    /// initial stack written into frames, a Linux-personality space.
    /// On failure, the reason and the errno `execve` would return.
    pub(crate) fn spawn_linux(&mut self, program: &LinuxProgram) -> Result<Pid, (String, u16)> {
        let (file, bytes) = self.ramdisk.find(&program.path).ok_or_else(|| {
            (
                alloc::format!("{}: no such file in the ramdisk", program.path),
                errno::ENOENT,
            )
        })?;
        let parsed = exec::elf::parse(bytes).map_err(|e| (alloc::format!("{e}"), e.code() as u16))?;
        let argv: Vec<&[u8]> = program.argv.iter().map(|a| a.as_bytes()).collect();
        let envp: Vec<&[u8]> = program.envp.iter().map(|e| e.as_bytes()).collect();
        let request = ExecRequest {
            argv: &argv,
            envp: &envp,
            execfn: program.path.as_bytes(),
            file: FileId(file as u64),
            credentials: Credentials::same(program.identity.user_rid, program.identity.user_rid),
            hwcap: hwcap(),
            hwcap2: 0,
            minsigstksz: None,
            vdso: self.vdso_image().is_some() && self.window.vvar().is_some(),
        };
        let loaded = exec::exec(
            &parsed,
            alloc::format!("/{}", program.path),
            &request,
            &self.settings,
            Rlimits::default(),
            &mut self.rng,
        )
        .map_err(|e| (alloc::format!("{e}"), e.code() as u16))?;
        let mut space = loaded.space;
        if let Err(e) = self.install_vdso(&mut space) {
            for frame in space.frames() {
                self.free_frame(frame);
            }
            return Err((e, errno::ENOMEM));
        }
        // The initial stack: fresh frames holding the image, resident in
        // the space so the first touch maps them.
        for (page, offset, chunk) in loaded.stack.pages() {
            let frame = self
                .frames
                .alloc()
                .ok_or_else(|| (String::from("out of frames for the initial stack"), errno::ENOMEM))?;
            let bytes = self.window.frame_mut(frame);
            bytes.fill(0);
            bytes[offset..offset + chunk.len()].copy_from_slice(chunk);
            space
                .commit(VirtAddr(page), frame)
                .map_err(|e| (alloc::format!("initial stack at {page:#x}: {e:?}"), errno::ENOMEM))?;
        }
        let pid =
            sys::space_create_linux(&routes()).map_err(|e| (alloc::format!("space_create: {e:?}"), errno::ENOMEM))?;
        let started = sys::thread_start_with(pid, loaded.entry, VirtAddr(loaded.stack.sp), 0, self.endpoint(), None);
        if let Err(e) = started {
            let _ = sys::space_destroy(pid);
            for frame in space.frames() {
                let _ = self.frames.free(frame);
            }
            return Err((alloc::format!("thread_start: {e:?}"), errno::ENOMEM));
        }
        plog!(
            Info,
            "started {} (Linux, {}) as process {} (entry {:#x}, stack {:#x})",
            program.name,
            program.path,
            pid.0,
            loaded.entry.0,
            loaded.stack.sp
        );
        let state = LinuxState {
            path: program.path.clone(),
            ..LinuxState::default()
        };
        self.adopt(pid, program.name.clone(), space, program.identity, Some(state));
        Ok(pid)
    }

    /// Serves one forwarded system call; `None` when the caller is gone
    /// (its process ended), so nobody is to be answered.
    pub(crate) fn linux_syscall(&mut self, sender: Sender, call: SyscallInfo) -> Option<SyscallReply> {
        let pid = sender.pid;
        let [a0, a1, a2, ..] = call.args;
        let reply = match call.number {
            nr::EXIT | nr::EXIT_GROUP => {
                // One thread per process today: both end the process.
                let code = i64::from(a0 as i32 & 0xff);
                if let Err(e) = sys::space_destroy(pid) {
                    plog!(Error, "cannot end process {}: {e:?}", pid.0);
                }
                self.exited(pid, code);
                return None;
            }
            // A signal to itself (abort, raise): Linux's default action for
            // every fatal signal. Handlers are recorded nowhere yet.
            nr::KILL if a0 == u64::from(pid.0) => return self.signal_self(pid, a1),
            nr::TKILL if a0 == u64::from(sender.tid.0) => return self.signal_self(pid, a1),
            nr::TGKILL if a0 == u64::from(pid.0) && a1 == u64::from(sender.tid.0) => {
                return self.signal_self(pid, a2);
            }
            nr::KILL | nr::TKILL | nr::TGKILL => Err(errno::ESRCH),
            nr::GETRANDOM => self.getrandom(pid, a0, a1),
            nr::WRITE => self.console_write(pid, a0, &[(a1, a2)]),
            nr::WRITEV => self.writev(pid, a0, a1, a2),
            nr::READ if a0 == 0 => Ok(0),
            nr::READ => Err(errno::EBADF),
            nr::GETPID => Ok(u64::from(pid.0)),
            // The token's user, as AT_UID says (one id serves as the group).
            nr::GETUID | nr::GETEUID | nr::GETGID | nr::GETEGID => self
                .process(pid)
                .map(|p| u64::from(p.identity.user_rid))
                .ok_or(errno::ESRCH),
            nr::GETTID => Ok(u64::from(sender.tid.0)),
            // The pager launched it: its parent.
            nr::GETPPID => Ok(1),
            nr::SET_TID_ADDRESS => Ok(u64::from(sender.tid.0)),
            nr::IOCTL => Err(errno::ENOTTY),
            // Recorded nowhere yet: no signal is ever delivered.
            nr::RT_SIGACTION | nr::RT_SIGPROCMASK | nr::SIGALTSTACK | nr::SET_ROBUST_LIST => Ok(0),
            nr::ARCH_PRCTL => return Some(self.arch_prctl(pid, a0, a1)),
            number if linux::is_memory_call(number) => return Some(self.memory_call(pid, number, call.args)),
            number => {
                plog!(
                    Warn,
                    "process {}: system call {number} is not implemented (ENOSYS)",
                    pid.0
                );
                Err(ENOSYS)
            }
        };
        Some(match reply {
            Ok(value) => SyscallReply::value(value),
            Err(e) => SyscallReply::error(e),
        })
    }

    /// A signal the process sends itself: 0 only asks whether it exists;
    /// a signal whose default action is to ignore it does nothing; any
    /// other ends the process as Linux reports it (128 + the signal).
    fn signal_self(&mut self, pid: Pid, signal: u64) -> Option<SyscallReply> {
        const IGNORED_BY_DEFAULT: [u64; 3] = [17, 23, 28]; // SIGCHLD, SIGURG, SIGWINCH
        if signal == 0 || IGNORED_BY_DEFAULT.contains(&signal) {
            return Some(SyscallReply::value(0));
        }
        let Some(signal) = u8::try_from(signal).ok().and_then(Signal::new) else {
            return Some(SyscallReply::error(errno::EINVAL));
        };
        if let Err(e) = sys::space_destroy(pid) {
            plog!(Error, "cannot end process {}: {e:?}", pid.0);
        }
        self.signaled(pid, signal);
        None
    }

    /// getrandom: bytes from the pager's generator into the caller's buffer.
    fn getrandom(&mut self, pid: Pid, buf: u64, len: u64) -> Result<u64, u16> {
        // Linux returns at most 32 MiB - 1 bytes per call.
        let len = len.min((32 << 20) - 1);
        let mut chunk = [0u8; 256];
        let mut done = 0u64;
        while done < len {
            let n = (len - done).min(chunk.len() as u64) as usize;
            for word in chunk[..n].chunks_mut(8) {
                let bytes = self.rng.next_u64().to_le_bytes();
                word.copy_from_slice(&bytes[..word.len()]);
            }
            if let Err(e) = self.user_write(pid, buf.wrapping_add(done), &chunk[..n]) {
                return if done > 0 { Ok(done) } else { Err(e) };
            }
            done += n as u64;
        }
        Ok(done)
    }

    /// A memory call (`pager::linux`): decided by the library, its effects
    /// carried out, Linux's return value.
    fn memory_call(&mut self, pid: Pid, number: u64, args: [u64; 6]) -> SyscallReply {
        let Some(process) = self.processes.get_mut(&pid) else {
            return SyscallReply::error(errno::ESRCH);
        };
        let caller = Caller {
            pid: u64::from(pid.0),
            privileges: Privileges::default(),
        };
        let mut user = CallerMemory {
            window: &mut self.window,
            ramdisk: &self.ramdisk,
        };
        let outcome = linux::memory_call(&mut process.space, &caller, &mut user, number, args);
        self.apply(pid, outcome.effects);
        SyscallReply::value(outcome.rax as u64)
    }

    fn arch_prctl(&mut self, pid: Pid, code: u64, addr: u64) -> SyscallReply {
        let Some(state) = self.process_mut(pid).and_then(|p| p.linux.as_mut()) else {
            return SyscallReply::error(errno::EINVAL);
        };
        match code {
            nr::ARCH_SET_FS => {
                state.fs_base = addr;
                SyscallReply {
                    base: Some(SegmentBaseSet::Fs(addr)),
                    ..SyscallReply::value(0)
                }
            }
            nr::ARCH_SET_GS => {
                state.gs_base = addr;
                SyscallReply {
                    base: Some(SegmentBaseSet::Gs(addr)),
                    ..SyscallReply::value(0)
                }
            }
            nr::ARCH_GET_FS | nr::ARCH_GET_GS => {
                let value = if code == nr::ARCH_GET_FS {
                    state.fs_base
                } else {
                    state.gs_base
                };
                match self.user_write(pid, addr, &value.to_le_bytes()) {
                    Ok(()) => SyscallReply::value(0),
                    Err(e) => SyscallReply::error(e),
                }
            }
            _ => SyscallReply::error(errno::EINVAL),
        }
    }

    /// writev: the vector read from the caller, each piece written.
    fn writev(&mut self, pid: Pid, fd: u64, iov: u64, count: u64) -> Result<u64, u16> {
        if count > IOV_MAX {
            return Err(errno::EINVAL);
        }
        let mut pieces = Vec::with_capacity(count as usize);
        for i in 0..count {
            let mut raw = [0u8; 16];
            self.user_read(pid, iov.wrapping_add(i * 16), &mut raw)?;
            let base = u64::from_le_bytes(raw[..8].try_into().expect("8 bytes"));
            let len = u64::from_le_bytes(raw[8..].try_into().expect("8 bytes"));
            pieces.push((base, len));
        }
        self.console_write(pid, fd, &pieces)
    }

    /// Writes the caller's buffers to the console (fds 1 and 2).
    fn console_write(&mut self, pid: Pid, fd: u64, pieces: &[(u64, u64)]) -> Result<u64, u16> {
        if fd != 1 && fd != 2 {
            return Err(errno::EBADF);
        }
        let mut chunk = [0u8; CONSOLE_CHUNK];
        let mut total = 0u64;
        for &(base, len) in pieces {
            let mut done = 0u64;
            while done < len {
                let n = (len - done).min(CONSOLE_CHUNK as u64) as usize;
                if let Err(e) = self.user_read(pid, base.wrapping_add(done), &mut chunk[..n]) {
                    // Linux returns what was written before the bad byte.
                    return if total > 0 { Ok(total) } else { Err(e) };
                }
                let _ = sys::console_write(&chunk[..n]);
                done += n as u64;
                total += n as u64;
            }
        }
        Ok(total)
    }

    /// Reads the caller's memory as `copy_from_user` would: EFAULT past any
    /// readable VMA.
    pub(crate) fn user_read(&mut self, pid: Pid, addr: u64, out: &mut [u8]) -> Result<(), u16> {
        self.check_user(pid, addr, out.len() as u64, Access::Read)?;
        match self.read_mem(pid, addr, out) {
            Ok(n) if n == out.len() => Ok(()),
            _ => Err(errno::EFAULT),
        }
    }

    /// Writes the caller's memory as `copy_to_user` would.
    pub(crate) fn user_write(&mut self, pid: Pid, addr: u64, data: &[u8]) -> Result<(), u16> {
        self.check_user(pid, addr, data.len() as u64, Access::Write)?;
        match self.write_mem(pid, addr, data) {
            Ok(n) if n == data.len() => Ok(()),
            _ => Err(errno::EFAULT),
        }
    }

    /// Every byte of `[addr, addr+len)` lies in a VMA that allows `access`.
    fn check_user(&self, pid: Pid, addr: u64, len: u64, access: Access) -> Result<(), u16> {
        let ok = len == 0
            || self
                .process(pid)
                .is_some_and(|p| p.space.user_range_ok(addr, len, access));
        if ok { Ok(()) } else { Err(errno::EFAULT) }
    }
}

/// The caller's memory as the library's memory calls read it (setrlimit's
/// new limits): the pager's own view of the process's pages.
struct CallerMemory<'a> {
    window: &'a mut crate::window::Window,
    ramdisk: &'a crate::ramdisk::Ramdisk,
}

impl UserAccess for CallerMemory<'_> {
    fn read(&mut self, space: &AddressSpace, addr: VirtAddr, buf: &mut [u8]) -> bool {
        crate::introspect::read_space(self.window, self.ramdisk, space, addr.0, buf) == buf.len()
    }
}
