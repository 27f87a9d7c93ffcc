//! The Linux personality, as far as the pager serves it: starting static
//! Linux programs (`pager::exec`), answering their memory and life-cycle
//! system calls, and the questions of the personality server.
//!
//! Design (the Linux-programs issue): the kernel forwards each system call
//! of a Linux process as a register message, to one of two handlers the
//! process's routes name. Memory calls (`pager::linux::MEMORY_CALLS`),
//! exit and the signals a process sends itself come here, to the owner of
//! the address space, in one IPC hop. Everything else goes to the
//! personality server (`linux-server/`, the service `linux`), which owns
//! the file tables and asks the pager what only the pager knows
//! (`libipc::linux`): who a process is, a page of the caller's to map
//! before it copies, a ramdisk file to map into the server, the file
//! behind a descriptor for mmap.

use alloc::{collections::BTreeMap, string::String, vec::Vec};

use libipc::{
    abi::SyscallRoutes,
    kernel::{ENOSYS, SyscallInfo, SyscallReply},
    linux::{FileInfo, FileRef, PersonalityReply, PersonalityRequest, ProcessInfo},
    pager::{Errno, MapKind},
    procfs::Identity,
    sys,
    types::{Access, Pid, Prot, Sender, VirtAddr},
};
use pager::{
    exec::{self, Credentials, ExecRequest},
    exec_list::ExecSpec,
    exit_status::{ExitReport, ExitStatus, Signal},
    linux::{self, Caller, OpenFile, Privileges, UserAccess},
    record::{self, LinuxCall},
    resident::Frame,
    rlimit::Rlimits,
    space::{AddressSpace, FileSlice, MmapArgs},
    vma::{FileId, VmaName},
};

use crate::{log::plog, serve::Server};

/// The Linux x86-64 system calls the pager answers besides the memory
/// calls.
pub mod nr {
    pub const EXIT: u64 = 60;
    pub const KILL: u64 = 62;
    pub const TKILL: u64 = 200;
    pub const EXIT_GROUP: u64 = 231;
    pub const TGKILL: u64 = 234;
    /// All of them, for the routes.
    pub const ALL: [u64; 5] = [EXIT, KILL, TKILL, EXIT_GROUP, TGKILL];
}

/// Linux errno values the pager returns here.
mod errno {
    pub const ENOENT: u16 = 2;
    pub const ESRCH: u16 = 3;
    pub const ENOMEM: u16 = 12;
    pub const EINVAL: u16 = 22;
}

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
    /// Its file in the ramdisk, for its `[exit]` line and `/proc/self/exe`.
    pub path: String,
    /// The files behind its descriptors, as the personality server binds
    /// them (`BindFd`): what mmap of a descriptor maps.
    pub fds: BTreeMap<u32, FileRef>,
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

/// The routes of a Linux process: the memory calls, exit and kill to the
/// pager; the rest to the personality server.
fn routes() -> SyscallRoutes {
    linux::MEMORY_CALLS
        .iter()
        .chain(&nr::ALL)
        .fold(SyscallRoutes::default(), |routes, &n| routes.with(n))
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
                .alloc_frame()
                .ok_or_else(|| (String::from("out of frames for the initial stack"), errno::ENOMEM))?;
            let bytes = self.window.frame_mut(frame);
            bytes.fill(0);
            bytes[offset..offset + chunk.len()].copy_from_slice(chunk);
            space
                .commit(VirtAddr(page), Frame::Dirty(frame))
                .map_err(|e| (alloc::format!("initial stack at {page:#x}: {e:?}"), errno::ENOMEM))?;
        }
        // The kernel-entry count the vDSO tests ask for is the pager's to answer.
        let routes = routes().with(crate::vdso::NR_KERNEL_ENTRIES);
        let pid =
            sys::space_create_linux(&routes).map_err(|e| (alloc::format!("space_create: {e:?}"), errno::ENOMEM))?;
        let personality = self.service_endpoint(libipc::linux::SERVICE_NAME);
        if personality.is_none() {
            plog!(
                Warn,
                "no `{}` service: {}'s system calls other than memory calls get ENOSYS",
                libipc::linux::SERVICE_NAME,
                program.path
            );
        }
        let started = sys::thread_start_with(
            pid,
            loaded.entry,
            VirtAddr(loaded.stack.sp),
            0,
            self.endpoint(),
            personality,
        );
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
            number if linux::is_memory_call(number) => return Some(self.memory_call(pid, number, call.args)),
            number => {
                // The routes send no other call here.
                plog!(
                    Error,
                    "process {}: system call {number} reached the pager, which does not serve it (ENOSYS)",
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
        let mut user = Observed {
            inner: CallerMemory {
                window: &mut self.window,
                ramdisk: &self.ramdisk,
                fds: process.linux.as_ref().map(|l| &l.fds),
            },
            file: None,
            read: Vec::new(),
        };
        let outcome = linux::memory_call(&mut process.space, &caller, &mut user, number, args);
        if self.recorder.on() {
            let call = LinuxCall {
                number,
                args,
                file: user.file,
                read: user.read,
            };
            let now = self.now_ns();
            self.recorder
                .record(|w| record::write_linux(w, pid.0, now, &call, outcome.rax));
        }
        self.apply(pid, outcome.effects);
        SyscallReply::value(outcome.rax as u64)
    }

    /// A question of the personality server (and only of the `linux`
    /// service this pager launched).
    pub(crate) fn personality(
        &mut self,
        asker: Sender,
        request: PersonalityRequest,
    ) -> Result<PersonalityReply, Errno> {
        if Some(asker.pid) != self.service_pid(libipc::linux::SERVICE_NAME) {
            return Err(Errno::NotPermitted);
        }
        match request {
            PersonalityRequest::Process { pid } => {
                let p = self.process(pid).ok_or(Errno::NoEntry)?;
                let state = p.linux.as_ref().ok_or(Errno::NoEntry)?;
                Ok(PersonalityReply::Process(ProcessInfo {
                    uid: p.identity.user_rid,
                    exe: alloc::format!("/{}", state.path),
                }))
            }
            PersonalityRequest::Touch { pid, addr, len, write } => {
                let access = if write { Access::Write } else { Access::Read };
                let ok = len == 0
                    || self
                        .process(pid)
                        .is_some_and(|p| p.space.user_range_ok(addr.0, len, access));
                if !ok {
                    return Err(Errno::Fault);
                }
                let last = addr.0 + (len - 1);
                let mut page = pager::space::page_down(addr.0);
                while page <= last {
                    self.ensure_resident(pid, page, write).ok_or(Errno::NoMemory)?;
                    page += libipc::types::PAGE_SIZE;
                }
                Ok(PersonalityReply::Done)
            }
            PersonalityRequest::OpenFile { path } => self.open_file(asker.pid, &path).map(PersonalityReply::File),
            PersonalityRequest::BindFd { pid, fd, file } => {
                let state = self
                    .process_mut(pid)
                    .and_then(|p| p.linux.as_mut())
                    .ok_or(Errno::NoEntry)?;
                match file {
                    Some(file) => state.fds.insert(fd, file),
                    None => state.fds.remove(&fd),
                };
                Ok(PersonalityReply::Done)
            }
        }
    }

    /// Maps the ramdisk file `path` read-only into the server `server`
    /// (once: a second open finds the same mapping).
    fn open_file(&mut self, server: Pid, path: &str) -> Result<FileInfo, Errno> {
        let (id, bytes) = self.ramdisk.find(path).ok_or(Errno::NoEntry)?;
        let file = FileRef {
            id: id as u64,
            size: bytes.len() as u64,
        };
        if let Some(&addr) = self.personality_files.get(&file.id) {
            return Ok(FileInfo { file, addr });
        }
        if bytes.is_empty() {
            return Ok(FileInfo {
                file,
                addr: VirtAddr(0),
            });
        }
        let process = self.process_mut(server).ok_or(Errno::NoEntry)?;
        let args = MmapArgs {
            addr: 0,
            len: pager::space::page_up(file.size).ok_or(Errno::NoMemory)?,
            prot: Prot::READ,
            flags: MapKind::PRIVATE,
            file: Some(FileSlice {
                id: FileId(file.id),
                offset: 0,
                size: file.size,
            }),
        };
        let (addr, effects) = process.space.map(args, Privileges::default()).map_err(|e| {
            plog!(Error, "cannot map {path} into the personality server: {e:?}");
            Errno::NoMemory
        })?;
        process.space.name_vma(addr.0, VmaName::Path(alloc::format!("/{path}")));
        if self.recorder.on() {
            // What it amounts to: a private read-only mmap of the file.
            let call = LinuxCall {
                number: linux::abi::nr::MMAP,
                args: [0, args.len, linux::abi::prot::READ, linux::abi::map::PRIVATE, 0, 0],
                file: Some(OpenFile {
                    id: FileId(file.id),
                    size: file.size,
                }),
                read: Vec::new(),
            };
            let now = self.now_ns();
            self.recorder
                .record(|w| record::write_linux(w, server.0, now, &call, addr.0 as i64));
        }
        self.apply(server, effects);
        self.personality_files.insert(file.id, addr);
        Ok(FileInfo { file, addr })
    }
}

/// A call's access to its caller, noting what a replay needs to serve it
/// again: the file behind a descriptor and the bytes read.
struct Observed<U> {
    inner: U,
    file: Option<OpenFile>,
    read: Vec<u8>,
}

impl<U: UserAccess> UserAccess for Observed<U> {
    fn read(&mut self, space: &AddressSpace, addr: VirtAddr, buf: &mut [u8]) -> bool {
        let ok = self.inner.read(space, addr, buf);
        if ok {
            let room = record::MAX_READ.saturating_sub(self.read.len());
            self.read.extend_from_slice(&buf[..buf.len().min(room)]);
        }
        ok
    }

    fn file(&mut self, fd: u64) -> Result<OpenFile, linux::Errno> {
        let file = self.inner.file(fd);
        self.file = file.ok();
        file
    }
}

/// The caller's memory as the library's memory calls read it (setrlimit's
/// new limits): the pager's own view of the process's pages.
struct CallerMemory<'a> {
    window: &'a mut crate::window::Window,
    ramdisk: &'a crate::ramdisk::Ramdisk,
    /// Its descriptors' files (mmap of a descriptor).
    fds: Option<&'a BTreeMap<u32, FileRef>>,
}

impl UserAccess for CallerMemory<'_> {
    fn read(&mut self, space: &AddressSpace, addr: VirtAddr, buf: &mut [u8]) -> bool {
        crate::introspect::read_space(self.window, self.ramdisk, space, addr.0, buf) == buf.len()
    }

    fn file(&mut self, fd: u64) -> Result<OpenFile, linux::Errno> {
        let file = u32::try_from(fd)
            .ok()
            .and_then(|fd| self.fds?.get(&fd))
            .ok_or(linux::Errno::BadF)?;
        Ok(OpenFile {
            id: FileId(file.id),
            size: file.size,
        })
    }
}
