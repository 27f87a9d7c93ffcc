//! The server loop: receive a fault, an exit report or a request; ask the
//! policy; fill frames; answer with one `ReplyRecv`.

use alloc::{boxed::Box, collections::BTreeMap, string::String, vec::Vec};
use core::fmt::Write;

use libipc::{
    MAX_MESSAGE,
    abi::{ExitStatus, MapFlags, MessageKind, PagerBootInfo, Rights, SysError, caps},
    codec,
    kernel::{FaultInfo, FaultKind, FaultReply, KernelEvent, KernelKill, KillReason, MAX_FAULT_MAPPINGS, Mapping},
    pager::{Errno, Reply, Request, Response, ShortRequest, identities_answer, response_to_short},
    procfs::{self, Identity, SourceError},
    short::ShortMessage,
    sys::{self, Received},
    types::{Access, CapSlot, PAGE_SIZE, PAGES_PER_HUGE, PageCount, PhysAddr, Pid, Prot, Sender, VirtAddr},
};
use pager::{
    exec,
    exit_status::{ExitStatus as ProgramStatus, Signal},
    frames::{FramePool, FreeError},
    layout,
    policy::{Policy, Registration},
    record,
    resolve::{self, FaultBackend, Resolved},
    rlimit::Rlimits,
    rng::Rng,
    settings::Settings,
    space::{AddressSpace, CommitError, Dropped, FaultDecision, Fill, PageToMap},
    vma::FileId,
};

use crate::{log::plog, options::Options, profile::PagerProfile, ramdisk::Ramdisk, recorder::Recorder, window::Window};

/// A process the pager runs.
pub(crate) struct Process {
    name: String,
    pub(crate) space: AddressSpace,
    pub(crate) identity: Identity,
    /// Present for a Linux program.
    pub(crate) linux: Option<crate::linux::LinuxState>,
    /// This process's instance of the policy: its state (a read-ahead
    /// stream) is about this process alone.
    pub(crate) policy: Box<dyn Policy>,
    /// Faults resolved with pages, and pages mapped, for the exit line.
    faults: u64,
    pages: u64,
}

/// A service the pager launched (`service=`).
struct Service {
    name: String,
    pid: Pid,
    /// The pager's capability to the service's endpoint: `SEND | GRANT`,
    /// never `RECV`, so the endpoint dies with the service.
    endpoint: CapSlot,
    /// Where every process finds it in its own table.
    slot: CapSlot,
}

/// A program to start: one of ours (a `run=` word) or a Linux program of
/// the ramdisk's exec list (`--exec`).
#[derive(Clone, Debug)]
enum Launch {
    Native(String),
    Linux(crate::linux::LinuxProgram),
}

/// How the run went, for the final verdict.
#[derive(Default)]
struct Tally {
    exited_ok: u32,
    exited_failed: u32,
    killed: u32,
    not_started: u32,
}

pub struct Server {
    pub(crate) window: Window,
    pub(crate) ramdisk: Ramdisk,
    pub(crate) frames: FramePool,
    /// The kernel's zero frame: mapped read-only where anonymous memory
    /// has only been read; never ours to free.
    pub(crate) zero_frame: PhysAddr,
    /// The policy chosen on the boot line; each process gets an instance.
    policy: &'static Registration,
    pub(crate) settings: Settings,
    pub(crate) rng: Rng,
    pub(crate) options: Options,
    profile: PagerProfile,
    pub(crate) processes: BTreeMap<Pid, Process>,
    /// The pager's own endpoint: faults, exits and requests arrive here.
    endpoint: CapSlot,
    /// Live services (`service=`): started first, not waited for.
    services: Vec<Service>,
    /// Ramdisk files mapped into the personality server, by file id.
    pub(crate) personality_files: BTreeMap<u64, VirtAddr>,
    /// Groups still to start, in order.
    pending_groups: Vec<Vec<Launch>>,
    tally: Tally,
    /// Low-memory reclaim's hand and totals.
    pub(crate) clock: crate::reclaim::Clock,
    /// The mappings of the fault reply being sent: a batch reply points
    /// the kernel here.
    batch: [Mapping; MAX_FAULT_MAPPINGS],
    /// The recorded trace (`record=1`).
    pub(crate) recorder: Recorder,
    /// Pages made resident now come from a populate, which a replay
    /// derives itself: not recorded as `touch`.
    pub(crate) populating: bool,
    /// Where VMA and page records are put together before they are copied
    /// into procfs's lease: kept, as zeroing a fresh one per call was part
    /// of a short /proc read's cost.
    pub(crate) records: Box<[u8; crate::introspect::RECORD_CHUNK]>,
}

/// The answer to send with the next receive (through the reply right of
/// the message just received).
#[derive(Clone, Copy, Debug)]
enum Answer {
    /// A byte reply of this length in the reply buffer.
    Bytes(usize),
    Short(ShortMessage),
}

/// The short answer to a short request: every response but a `Source`
/// reply (which only answers a byte request) has one.
fn short_response(response: &Response) -> ShortMessage {
    response_to_short(response)
        .or_else(|| response_to_short(&Err(Errno::Io)))
        .expect("errors have a short form")
}

/// Kernel mapping flags for a protection.
/// The kernel flags of one page of a decision: its protection, and
/// REPLACE for the copy of a zero page, which takes the zero frame's place
/// in the entry.
pub(crate) fn page_flags(page: &PageToMap) -> MapFlags {
    let flags = map_flags(page.prot);
    match page.fill {
        Fill::ZeroPageCopy => flags.union(MapFlags::REPLACE),
        Fill::ZeroHuge => flags.union(MapFlags::HUGE),
        _ => flags,
    }
}

pub(crate) fn map_flags(prot: Prot) -> MapFlags {
    let mut flags = MapFlags::default();
    if prot.contains(Prot::WRITE) {
        flags = flags.union(MapFlags::WRITE);
    }
    if prot.contains(Prot::EXEC) {
        flags = flags.union(MapFlags::EXEC);
    }
    if prot.contains(Prot::WRITE.union(Prot::EXEC)) {
        // The program asked for a writable and executable mapping.
        flags = flags.union(MapFlags::ALLOW_WX);
    }
    flags
}

/// Gives a new frame its content.
pub(crate) fn fill_frame(window: &mut Window, ramdisk: &Ramdisk, phys: PhysAddr, fill: Fill) {
    match fill {
        Fill::Zero | Fill::ZeroPage | Fill::ZeroPageCopy | Fill::Resident(_) => window.zero(phys),
        Fill::ZeroHuge => window.zero_huge(phys),
        Fill::File { file, offset, len } => {
            let frame = window.frame_mut(phys);
            let data = ramdisk.page_data(file, offset, len);
            frame[..data.len()].copy_from_slice(data);
            frame[data.len()..].fill(0);
        }
    }
}

/// A person's words for why a process dies.
fn describe(reason: KillReason, info: &FaultInfo) -> String {
    use alloc::format;
    match (reason, info.kind) {
        (
            KillReason::Protection,
            FaultKind::Page {
                addr,
                access: Access::Write,
                ..
            },
        ) => {
            format!("write to a read-only page at {:#x}", addr.0)
        }
        (
            KillReason::Protection,
            FaultKind::Page {
                addr,
                access: Access::Execute,
                ..
            },
        ) => {
            format!("execute of a non-executable page at {:#x}", addr.0)
        }
        (
            KillReason::Protection,
            FaultKind::Page {
                addr,
                access: Access::Read,
                ..
            },
        ) => {
            format!("read of an unreadable page at {:#x}", addr.0)
        }
        (KillReason::NoMapping, FaultKind::Page { addr, access, .. }) => {
            format!("no mapping at {:#x} ({access:?})", addr.0)
        }
        (KillReason::GuardGap, FaultKind::Page { addr, .. }) => {
            format!("access in the stack guard gap at {:#x} (stack clash)", addr.0)
        }
        (KillReason::Limit, FaultKind::Page { addr, .. }) => {
            format!("stack growth to {:#x} exceeds a resource limit", addr.0)
        }
        (KillReason::GeneralProtection, FaultKind::GeneralProtection { error_code }) => {
            format!(
                "general-protection fault (non-canonical address or privileged instruction), error code {error_code:#x}"
            )
        }
        (KillReason::OutOfMemory, _) => "out of memory".into(),
        (_, kind) => format!("{reason:?} ({kind:?})"),
    }
}

/// The kernel side of [`resolve::carry_out`]: frames from the pool, filled
/// through the window, mapped as entries of the fault reply's batch.
struct KernelBackend<'a> {
    window: &'a mut Window,
    ramdisk: &'a Ramdisk,
    frames: &'a mut FramePool,
    zero_frame: PhysAddr,
    batch: &'a mut [Mapping; MAX_FAULT_MAPPINGS],
    /// Entries of `batch` filled so far.
    count: usize,
    /// 4 KiB pages they map (512 for a 2 MiB entry).
    pages: u64,
}

impl FaultBackend for KernelBackend<'_> {
    fn pool(&mut self) -> &mut FramePool {
        self.frames
    }

    fn free_refused(&mut self, error: FreeError) {
        plog!(Error, "frame pool: {error:?}");
    }

    fn zero_frame(&self) -> PhysAddr {
        self.zero_frame
    }

    fn fill(&mut self, frame: PhysAddr, fill: Fill) {
        fill_frame(self.window, self.ramdisk, frame, fill);
    }

    fn map(&mut self, page: &PageToMap, frame: PhysAddr) {
        self.batch[self.count] = Mapping {
            virt: page.virt,
            phys: frame,
            flags: page_flags(page),
        };
        self.count += 1;
        self.pages += if page.fill == Fill::ZeroHuge { PAGES_PER_HUGE } else { 1 };
    }

    fn unmap(&mut self, page: VirtAddr) {
        if let Some(i) = self.batch[..self.count].iter().position(|m| m.virt == page) {
            self.batch.copy_within(i + 1..self.count, i);
            self.count -= 1;
            self.pages -= 1;
        }
    }

    fn refused(&mut self, page: VirtAddr, error: CommitError) {
        plog!(Error, "policy refused a page it decided at {:#x}: {error:?}", page.0);
    }
}

impl Server {
    pub fn new(info: &PagerBootInfo, endpoint: CapSlot) -> Result<Server, String> {
        let window = Window::new(info);
        let ramdisk = Ramdisk::new(info)?;
        let cmdline = ramdisk
            .find("cmdline")
            .and_then(|(_, b)| core::str::from_utf8(b).ok())
            .unwrap_or("");
        let options = Options::parse(cmdline);
        crate::log::set_level(options.log);
        let registration = pager_policies::find(&options.policy).map_err(|e| alloc::format!("{e}"))?;
        let policy = (registration.new)();
        // As on Linux, a 5-level kernel opens the 57-bit range to hints
        // above 47 bits unless the command line says `la57=0`.
        let mut settings = Settings {
            la57: info.paging_levels == 5,
            ..Settings::default()
        };
        for (key, value) in &options.settings {
            if let Err(e) = settings.set(key, value) {
                plog!(
                    Warn,
                    "command line: {e}; keeping {key}={}",
                    settings.get(key).unwrap_or_default()
                );
            }
        }
        let asked = settings.clone();
        policy.adjust_settings(&mut settings);
        for (key, was, now) in settings.changes_from(&asked) {
            plog!(Warn, "policy {:?} sets {key}={now} (was {was})", policy.name());
        }
        if let Some(warning) = settings.fit_paging_levels(info.paging_levels) {
            plog!(Warn, "{warning}");
        }
        let seed = policy.seed([sys::random(), sys::random(), sys::random(), sys::random()]);
        let rng = Rng::from_words(seed);
        let pool_frames = match &options.pool_pages {
            Some(Ok(n)) => info.pool_frames.min(*n),
            Some(Err(word)) => {
                plog!(
                    Warn,
                    "pool_pages={word}: not a positive number of pages; using the whole pool"
                );
                info.pool_frames
            }
            None => info.pool_frames,
        };
        let frames = FramePool::new(libipc::types::PhysAddr(info.pool_phys), pool_frames);
        let zero_frame = sys::zero_frame().map_err(|e| alloc::format!("no zero frame from the kernel: {e:?}"))?;
        plog!(
            Info,
            "policy {:?}, pool of {} frames ({} MiB)",
            options.policy,
            pool_frames,
            (pool_frames * PAGE_SIZE) >> 20
        );
        let mut groups: Vec<Vec<Launch>> = options
            .run
            .iter()
            .map(|g| g.iter().cloned().map(Launch::Native).collect())
            .collect();
        // The exec list's Linux programs run one after another, after the
        // `run=` groups.
        if let Some((_, list)) = ramdisk.find("exec") {
            match pager::exec_list::parse(list) {
                Ok(specs) => groups.extend(specs.into_iter().map(|s| alloc::vec![Launch::Linux(s.into())])),
                Err(e) => return Err(alloc::format!("the exec list: {e}")),
            }
        }
        let pending_groups = groups.into_iter().rev().collect();
        let mut recorder = Recorder::new(options.record);
        let header = pager::record::Header::new(&options.policy, seed, info.pool_frames, &settings);
        recorder.record(|w| write!(w, "{header}"));
        Ok(Server {
            window,
            ramdisk,
            frames,
            zero_frame,
            policy: registration,
            settings,
            rng,
            options,
            profile: PagerProfile::default(),
            processes: BTreeMap::new(),
            endpoint,
            services: Vec::new(),
            personality_files: BTreeMap::new(),
            pending_groups,
            tally: Tally::default(),
            clock: crate::reclaim::Clock::default(),
            batch: [Mapping {
                virt: VirtAddr(0),
                phys: PhysAddr(0),
                flags: MapFlags::default(),
            }; MAX_FAULT_MAPPINGS],
            recorder,
            populating: false,
            records: Box::new([0; crate::introspect::RECORD_CHUNK]),
        })
    }

    /// Serves messages of one kind back to back: answers `first` with
    /// `serve`, and while the next message is one `take` accepts (tested
    /// on the raw registers, nothing decoded), serves it too, its answer
    /// sent with the receive after it. Returns the general loop's pending
    /// answer; a message of another kind is left in `next`, as received.
    /// `serve` answers `None` for a message it cannot answer (the general
    /// loop then receives without a reply).
    #[inline(always)]
    fn back_to_back<M>(
        &mut self,
        first: M,
        buf: &mut [u8],
        next: &mut Option<Result<Received, SysError>>,
        take: impl Fn(&sys::RawReceived) -> Option<M>,
        serve: impl Fn(&mut Self, M) -> Option<ShortMessage>,
    ) -> Option<Answer> {
        let mut message = first;
        loop {
            let answer = serve(self, message)?;
            // The general loop's condition, checked as it would be before
            // the receive.
            if self.running() == 0 {
                return Some(Answer::Short(answer));
            }
            let received = sys::reply_recv_short_raw(&answer, self.endpoint, buf);
            match take(&received) {
                Some(m) => message = m,
                None => {
                    *next = Some(received.decode());
                    return None;
                }
            }
        }
    }

    /// The answer to a short request. procfs's identities question (on
    /// every /proc request) and the null request build no [`Request`].
    #[inline(always)]
    fn short_call(&mut self, sender: Sender, short: &ShortMessage) -> ShortMessage {
        match ShortRequest::from_short(short) {
            // The null round trip measures IPC alone.
            Some(ShortRequest::Null) => ShortRequest::DONE,
            Some(ShortRequest::Identities(pids)) => {
                let answer = self.identities_from(sender, &pids);
                identities_answer(answer.as_deref().map_err(|&e| e))
            }
            Some(ShortRequest::Other(request)) => short_response(&self.request(sender, request)),
            None => short_response(&Err(Errno::Invalid)),
        }
    }

    /// The answer to a fault message (`extra`: the thread's `rdi` and
    /// `rsi`, the vsyscall emulation's arguments); `None`, logged, for one
    /// that does not decode.
    #[inline(always)]
    fn fault_message(&mut self, sender: Sender, short: &ShortMessage, extra: [u64; 2]) -> Option<ShortMessage> {
        let Some(KernelEvent::Fault(info)) = KernelEvent::from_message(MessageKind::Fault, short) else {
            plog!(Error, "undecodable fault from {sender:?}: {short:?}");
            return None;
        };
        // The profile's stamps are the faults' alone: other messages take
        // none.
        self.profile.received();
        let answer = match self.vsyscall_fault(sender, &info, extra) {
            Some(answer) => answer,
            None => self.fault(sender, &info),
        };
        self.profile.replying();
        Some(answer)
    }

    /// Serves until every group has run; returns the verdict.
    pub fn run(&mut self) -> ExitStatus {
        for spec in self.options.services.clone() {
            if let Err(e) = self.start_service(&spec) {
                plog!(Error, "cannot start service {spec:?}: {e}");
                return ExitStatus::Failure;
            }
        }
        self.start_next_group();
        let mut buf = [0u8; MAX_MESSAGE];
        let mut reply = [0u8; MAX_MESSAGE];
        let mut pending: Option<Answer> = None;
        // A message received already (by the short requests' loop below).
        let mut next: Option<Result<Received, SysError>> = None;
        while self.running() > 0 {
            let received = match (next.take(), pending.take()) {
                (Some(received), _) => received,
                (None, Some(Answer::Bytes(len))) => sys::reply_recv(&reply[..len], self.endpoint, &mut buf),
                (None, Some(Answer::Short(m))) => sys::reply_recv_short(&m, self.endpoint, &mut buf),
                (None, None) => sys::recv(self.endpoint, &mut buf),
            };
            let msg = match received {
                Ok(msg) => msg,
                // The thread we answered died meanwhile.
                Err(SysError::NotWaiting) => continue,
                Err(e) => {
                    plog!(Error, "receive failed: {e:?}");
                    continue;
                }
            };
            pending = match msg.kind {
                // Faults and short requests are answered back to back
                // (`Server::back_to_back`): a run of faults, or of null
                // round trips, never goes through this loop's decoding.
                MessageKind::Fault => self.back_to_back(
                    (msg.sender, msg.short, msg.extra),
                    &mut buf,
                    &mut next,
                    sys::RawReceived::fault,
                    |server, (sender, short, extra)| server.fault_message(sender, &short, extra),
                ),
                MessageKind::ShortCall => self.back_to_back(
                    (msg.sender, msg.short),
                    &mut buf,
                    &mut next,
                    sys::RawReceived::short_call,
                    |server, (sender, short)| Some(server.short_call(sender, &short)),
                ),
                MessageKind::Exit => {
                    match KernelEvent::from_message(msg.kind, &msg.short) {
                        Some(KernelEvent::Exited { pid, code }) => self.exited(pid, code),
                        Some(KernelEvent::Killed { pid, cause }) => self.killed_by_kernel(pid, cause),
                        _ => plog!(Error, "undecodable kernel event from {:?}: {:?}", msg.sender, msg.short),
                    }
                    None
                }
                MessageKind::Syscall => match msg.syscall() {
                    Some(call) if call.number == crate::vdso::NR_KERNEL_ENTRIES => {
                        Some(Answer::Short(crate::vdso::kernel_entries(msg.sender).to_message()))
                    }
                    Some(call) => self
                        .linux_syscall(msg.sender, call)
                        .map(|r| Answer::Short(r.to_message())),
                    None => None,
                },
                // procfs's question for a batch of VMAs: fixed fields, no
                // postcard (see `libipc::procfs::VmaQuestion`).
                MessageKind::Call if procfs::VmaQuestion::is_one(&buf[..msg.len]) => {
                    let answer = procfs::VmaQuestion::decode(&buf[..msg.len])
                        .map_err(|_| SourceError::Unavailable)
                        .and_then(|question| self.vmas(msg.sender, question));
                    let answer = procfs::VmaAnswer::encode(&answer);
                    reply[..answer.len()].copy_from_slice(&answer);
                    Some(Answer::Bytes(answer.len()))
                }
                MessageKind::Call => {
                    let response: Response = match codec::decode::<Request>(&buf[..msg.len]) {
                        Ok(request) => self.request(msg.sender, request),
                        Err(_) => Err(Errno::Invalid),
                    };
                    codec::encode(&response, &mut reply).ok().map(Answer::Bytes)
                }
            };
        }
        self.recorder.flush();
        if self.options.profile {
            match sys::fault_profile() {
                Ok(kernel) => self.profile.report(&kernel),
                Err(e) => plog!(Error, "no kernel fault profile: {e:?}"),
            }
        }
        plog!(
            Info,
            "run complete: {} exited 0, {} exited with an error, {} killed, {} could not start",
            self.tally.exited_ok,
            self.tally.exited_failed,
            self.tally.killed,
            self.tally.not_started
        );
        if self.clock.total.total() > 0 {
            plog!(
                Info,
                "reclaimed {} frames in all ({} file, {} zero)",
                self.clock.total.total(),
                self.clock.total.file,
                self.clock.total.zero
            );
        }
        if self.tally.exited_failed == 0 && self.tally.not_started == 0 {
            ExitStatus::Success
        } else {
            ExitStatus::Failure
        }
    }

    /// Starts groups until one has a live process (or none are left).
    /// Programs still running, services aside (O(1): it is the loop's
    /// condition, checked on every message).
    fn running(&self) -> usize {
        self.processes.len() - self.services.len()
    }

    fn start_next_group(&mut self) {
        while self.running() == 0 {
            let Some(group) = self.pending_groups.pop() else { return };
            for launch in group {
                match launch {
                    Launch::Native(name) => {
                        if let Err(e) = self.spawn(&name) {
                            plog!(Error, "cannot start {name:?}: {e}");
                            self.tally.not_started += 1;
                        }
                    }
                    Launch::Linux(program) => {
                        if let Err((e, errno)) = self.spawn_linux(&program) {
                            plog!(Error, "cannot start {}: {e}", program.path);
                            crate::linux::report(&program.path, ProgramStatus::Refused(errno));
                            self.tally.not_started += 1;
                        }
                    }
                }
            }
        }
    }

    /// The pid of the procfs service, if one runs.
    pub(crate) fn procfs_pid(&self) -> Option<Pid> {
        self.service_pid("procfs")
    }

    /// The pid of the service `name`, if one runs.
    pub(crate) fn service_pid(&self, name: &str) -> Option<Pid> {
        self.services.iter().find(|s| s.name == name).map(|s| s.pid)
    }

    /// The pager's capability to the endpoint of the service `name`.
    pub(crate) fn service_endpoint(&self, name: &str) -> Option<CapSlot> {
        self.services.iter().find(|s| s.name == name).map(|s| s.endpoint)
    }

    /// Starts a service: its endpoint first (the pager makes it, so no
    /// program can claim the name), then the process, which alone gets the
    /// receive right; every process started later gets the send right.
    fn start_service(&mut self, spec: &str) -> Result<(), String> {
        let name = spec.split('@').next().unwrap_or(spec);
        if self.services.iter().any(|s| s.name == name) {
            return Err("named twice on the command line".into());
        }
        let slot = if name == "procfs" {
            caps::PROCFS
        } else {
            let others = self.services.iter().filter(|s| s.name != "procfs").count() as u32;
            CapSlot(caps::FIRST_OTHER_SERVICE.0 + others)
        };
        if slot.0 >= libipc::abi::CAP_SLOTS {
            return Err("too many services".into());
        }
        let full = sys::endpoint_create().map_err(|e| alloc::format!("endpoint_create: {e:?}"))?;
        let pid = self.spawn_with(spec, Some(full));
        // Keep SEND and GRANT only: the endpoint must die with its server.
        let kept = sys::cap_copy(full, Rights::SEND.union(Rights::GRANT));
        if let Err(e) = sys::cap_drop(full) {
            plog!(Error, "cannot drop the service endpoint's receive right: {e:?}");
        }
        let pid = pid?;
        let endpoint = kept.map_err(|e| alloc::format!("cap_copy: {e:?}"))?;
        self.services.push(Service {
            name: name.into(),
            pid,
            endpoint,
            slot,
        });
        Ok(())
    }

    /// Gives `pid` its capabilities: its pager, every service started so
    /// far, and its own service endpoint (`RECV`) if it is one.
    fn grant_capabilities(&self, pid: Pid, own: Option<CapSlot>) -> Result<(), SysError> {
        sys::cap_grant(pid, self.endpoint, caps::PAGER, Rights::SEND)?;
        if let Some(own) = own {
            sys::cap_grant(pid, own, caps::SERVICE, Rights::RECV)?;
        }
        for service in &self.services {
            sys::cap_grant(pid, service.endpoint, service.slot, Rights::SEND)?;
        }
        Ok(())
    }

    pub(crate) fn process(&self, pid: Pid) -> Option<&Process> {
        self.processes.get(&pid)
    }

    pub(crate) fn process_mut(&mut self, pid: Pid) -> Option<&mut Process> {
        self.processes.get_mut(&pid)
    }

    fn spawn(&mut self, spec: &str) -> Result<Pid, String> {
        self.spawn_with(spec, None)
    }

    /// Starts the program `spec` names; a service also gets `own`, its
    /// endpoint, to receive on.
    fn spawn_with(&mut self, spec: &str, own: Option<CapSlot>) -> Result<Pid, String> {
        let (name, identity) = crate::identity::parse_spec(spec)?;
        let (file, bytes) = self.ramdisk.find(name).ok_or("no such program in the ramdisk")?;
        let program = exec::elf::parse(bytes).map_err(|e| alloc::format!("{e}"))?;
        let image = program.image(FileId(file as u64), alloc::format!("/{name}"));
        let loaded = layout::load(&image, &self.settings, Rlimits::default(), &mut self.rng)
            .map_err(|e| alloc::format!("cannot lay out the program: {e:?}"))?;
        let mut space = loaded.space;
        if let Err(e) = self.install_vdso(&mut space) {
            for frame in space.frames() {
                self.free_frame(frame);
            }
            return Err(e);
        }
        let pid = sys::space_create().map_err(|e| alloc::format!("space_create: {e:?}"))?;
        let started = self
            .grant_capabilities(pid, own)
            .map_err(|e| alloc::format!("cap_grant: {e:?}"))
            .and_then(|()| {
                // The program's argument is its own pid.
                sys::thread_start(pid, loaded.entry, loaded.stack_pointer, u64::from(pid.0), self.endpoint)
                    .map_err(|e| alloc::format!("thread_start: {e:?}"))
            });
        if let Err(e) = started {
            let _ = sys::space_destroy(pid);
            return Err(e);
        }
        plog!(
            Info,
            "started {name} as process {} (entry {:#x}, stack {:#x}, heap {:#x})",
            pid.0,
            loaded.entry.0,
            loaded.stack_pointer.0,
            space.layout.start_brk
        );
        self.adopt(pid, name.into(), space, identity, None);
        Ok(pid)
    }

    /// Records a process the pager has just started.
    pub(crate) fn adopt(
        &mut self,
        pid: Pid,
        name: String,
        space: AddressSpace,
        identity: Identity,
        linux: Option<crate::linux::LinuxState>,
    ) {
        self.processes.insert(
            pid,
            Process {
                name,
                space,
                identity,
                linux,
                policy: (self.policy.new)(),
                faults: 0,
                pages: 0,
            },
        );
        if self.recorder.on() {
            let now = self.now_ns();
            if let Some(p) = self.processes.get(&pid) {
                let start = record::Event::Start {
                    name: p.name.replace(char::is_whitespace, "_"),
                };
                self.recorder.record(|w| {
                    record::write_simple(w, pid.0, now, &start)?;
                    record::write_space(w, pid.0, now, &p.space)
                });
            }
        }
    }

    /// The monotonic clock in nanoseconds (0 without the clock page): the
    /// times of a recorded trace.
    pub(crate) fn now_ns(&self) -> u64 {
        self.clock()
            .and_then(|c| c.clock_ns(vvar::ClockId::Monotonic))
            .unwrap_or(0)
    }

    /// The pager's own endpoint (where faults and forwarded calls arrive).
    pub(crate) fn endpoint(&self) -> CapSlot {
        self.endpoint
    }

    /// Frees a process's frames once the kernel has destroyed its space.
    fn reap(&mut self, pid: Pid) {
        if self.recorder.on() && self.processes.contains_key(&pid) {
            let now = self.now_ns();
            self.recorder
                .record(|w| record::write_simple(w, pid.0, now, &record::Event::Exit));
        }
        if let Some(process) = self.processes.remove(&pid) {
            for frame in process.space.frames() {
                self.free_frame(frame);
            }
        }
        if let Some(i) = self.services.iter().position(|s| s.pid == pid) {
            let service = self.services.remove(i);
            plog!(Info, "service {} (process {}) is gone", service.name, pid.0);
            if service.name == libipc::linux::SERVICE_NAME {
                self.personality_files.clear();
            }
            // Its callers have learnt it from the kernel; our send right
            // is of no more use.
            let _ = sys::cap_drop(service.endpoint);
        }
        self.start_next_group();
    }

    fn killed_by_kernel(&mut self, pid: Pid, cause: KernelKill) {
        let name = self.processes.get(&pid).map(|p| p.name.clone()).unwrap_or_default();
        plog!(
            Info,
            "process {} ({name}) killed by the kernel: {}",
            pid.0,
            cause.describe()
        );
        self.tally.killed += 1;
        self.report_end(pid, ProgramStatus::Signaled(Signal::for_kernel_kill(cause)));
        self.reap(pid);
    }

    /// The `[exit]` line of a Linux program (the runner's exit status).
    fn report_end(&self, pid: Pid, status: ProgramStatus) {
        if let Some(path) = self.processes.get(&pid).and_then(|p| p.linux.as_ref()).map(|l| &l.path) {
            crate::linux::report(path, status);
        }
    }

    pub(crate) fn exited(&mut self, pid: Pid, code: i64) {
        let (name, faults, pages) = self
            .processes
            .get(&pid)
            .map(|p| (p.name.clone(), p.faults, p.pages))
            .unwrap_or_default();
        plog!(
            Info,
            "process {} ({name}) exited with code {code}; the pager resolved {faults} of its faults, mapping {pages} pages",
            pid.0
        );
        if code == 0 {
            self.tally.exited_ok += 1;
        } else {
            self.tally.exited_failed += 1;
        }
        self.report_end(pid, ProgramStatus::from_exit_code(code));
        self.reap(pid);
    }

    /// A Linux process ended by a signal it sent itself (the space is gone).
    pub(crate) fn signaled(&mut self, pid: Pid, signal: Signal) {
        let name = self.processes.get(&pid).map(|p| p.name.clone()).unwrap_or_default();
        plog!(Info, "process {} ({name}) killed by signal {}", pid.0, signal.number());
        self.tally.killed += 1;
        self.report_end(pid, ProgramStatus::Signaled(signal));
        self.reap(pid);
    }

    pub(crate) fn kill(&mut self, pid: Pid, reason: KillReason, info: &FaultInfo) -> ShortMessage {
        let name = self.processes.get(&pid).map(|p| p.name.clone()).unwrap_or_default();
        plog!(
            Info,
            "process {} ({name}) killed: {} (rip {:#x})",
            pid.0,
            describe(reason, info),
            info.ip.0
        );
        self.tally.killed += 1;
        self.report_end(pid, ProgramStatus::Signaled(Signal::for_kill(reason, &info.kind)));
        // The kernel destroys the space when it gets the reply; no thread
        // of the process runs again, so its frames are free now.
        self.reap(pid);
        FaultReply::Kill(reason).to_message()
    }

    /// Resolves a fault; the answer may point into `self.batch`.
    fn fault(&mut self, sender: Sender, info: &FaultInfo) -> ShortMessage {
        let (addr, access) = match info.kind {
            FaultKind::Page { addr, access, .. } => (addr, access),
            FaultKind::GeneralProtection { .. } => return self.kill(sender.pid, KillReason::GeneralProtection, info),
            _ => return self.kill(sender.pid, KillReason::Exception, info),
        };
        self.keep_frames_free();
        let Some(process) = self.processes.get_mut(&sender.pid) else {
            return FaultReply::Kill(KillReason::NoMapping).to_message();
        };
        let pages = match process.space.fault(&mut *process.policy, addr.0, access) {
            FaultDecision::Map(pages) => pages,
            FaultDecision::Kill(reason) => {
                self.record_fault(sender.pid, (addr.0, access, info.ip.0), Err(reason));
                return self.kill(sender.pid, reason, info);
            }
        };
        self.profile.decided();
        let mut backend = KernelBackend {
            window: &mut self.window,
            ramdisk: &self.ramdisk,
            frames: &mut self.frames,
            zero_frame: self.zero_frame,
            batch: &mut self.batch,
            count: 0,
            pages: 0,
        };
        if let Resolved::OutOfMemory = resolve::carry_out(&mut process.space, addr, &pages, &mut backend) {
            self.record_fault(sender.pid, (addr.0, access, info.ip.0), Err(KillReason::OutOfMemory));
            return self.kill(sender.pid, KillReason::OutOfMemory, info);
        }
        let (count, mapped_pages) = (backend.count, backend.pages);
        self.profile.filled();
        process.faults += 1;
        process.pages += mapped_pages;
        if self.recorder.on() {
            self.record_fault(sender.pid, (addr.0, access, info.ip.0), Ok((&pages, count)));
        }
        let mapped = &self.batch[..count];
        plog!(
            Debug,
            "fault of process {} ({access:?} at {:#x}, rip {:#x}): mapped {} page(s) at {:#x}",
            sender.pid.0,
            addr.0,
            info.ip.0,
            mapped.len(),
            mapped.first().map_or(0, |m| m.virt.0)
        );
        FaultReply::Resume(mapped).to_message()
    }

    /// Records a fault and what became of it.
    fn record_fault(
        &mut self,
        pid: Pid,
        fault: (u64, Access, u64),
        decided: Result<(&[PageToMap], usize), KillReason>,
    ) {
        if self.recorder.on() {
            let now = self.now_ns();
            self.recorder
                .record(|w| record::write_fault(w, pid.0, now, fault, decided));
        }
    }

    pub(crate) fn free_frame(&mut self, frame: libipc::types::PhysAddr) {
        // The clock page is the kernel's, mapped into every process.
        if Some(frame) == self.window.vvar() {
            return;
        }
        if let Err(e) = self.frames.free(frame) {
            plog!(Error, "frame pool: {e:?}");
        }
    }

    /// Removes pages from a process's page tables and frees their frames.
    /// Consecutive pages leave in one call, so the kernel drops a 2 MiB
    /// page they cover whole with one entry rather than splitting it.
    fn drop_pages(&mut self, pid: Pid, pages: &[Dropped]) {
        /// The most pages the kernel unmaps in one call.
        const MAX_RUN: usize = 1 << 20;
        let mut rest = pages;
        while let Some(&(start, _)) = rest.first() {
            let run = rest
                .iter()
                .enumerate()
                .take(MAX_RUN)
                .take_while(|(i, (virt, _))| virt.0 == start.0 + *i as u64 * PAGE_SIZE)
                .count();
            if let Err(e) = sys::unmap(pid, start, PageCount(run as u64)) {
                plog!(
                    Error,
                    "kernel refused to unmap {:#x} (+{run} pages) of process {}: {e:?}",
                    start.0,
                    pid.0
                );
            }
            // The zero frame is shared and the kernel's: only the pages'
            // own frames go back.
            for phys in rest[..run].iter().filter_map(|(_, frame)| frame.own()) {
                self.free_frame(phys);
            }
            rest = &rest[run..];
        }
    }

    pub(crate) fn request(&mut self, sender: Sender, request: Request) -> Response {
        let pid = sender.pid;
        match request {
            Request::Source(question) => return Ok(Reply::Source(Box::new(self.introspect(sender, *question)))),
            Request::Linux(question) => return self.personality(sender, *question).map(|r| Reply::Linux(Box::new(r))),
            Request::Service { name } => {
                let name = name.as_str().ok_or(Errno::Invalid)?;
                return self
                    .services
                    .iter()
                    .find(|s| s.name == name)
                    .map(|s| Reply::Slot(s.slot))
                    .ok_or(Errno::NoEntry);
            }
            _ => {}
        }
        let process = self.processes.get_mut(&pid).ok_or(Errno::NotPermitted)?;
        let served = pager::request::serve(&mut process.space, &self.frames, &request);
        if self.recorder.on()
            && let Some(op) = record::request_op(&request)
        {
            let result = match &served {
                Ok((Reply::Addr(a), _)) => a.0 as i64,
                Ok(_) => 0,
                Err(e) => -i64::from(e.code()),
            };
            let now = self.now_ns();
            self.recorder
                .record(|w| record::write_request(w, pid.0, now, &op, result));
        }
        let (reply, effects) = served?;
        self.apply(pid, effects);
        Ok(reply)
    }

    /// Carries out what a memory operation decided: pages dropped leave
    /// the page tables and free their frames; pages whose protection
    /// changed are re-mapped.
    pub(crate) fn apply(&mut self, pid: Pid, mut effects: pager::request::Effects) {
        self.drop_pages(pid, &effects.dropped);
        for (virt, frame, prot) in effects.reprotected {
            let phys = frame.own().unwrap_or(self.zero_frame);
            // PROT_NONE pages leave the page tables but keep their frame;
            // the next access faults to the policy.
            let done = if prot == Prot::NONE {
                sys::unmap(pid, virt, PageCount(1)).map(|_| ())
            } else {
                sys::map(pid, virt, phys, map_flags(prot).union(MapFlags::REPLACE))
            };
            if let Err(e) = done {
                plog!(Error, "kernel refused a protection change at {:#x}: {e:?}", virt.0);
            }
        }
        for m in effects.moved {
            let _ = sys::unmap(pid, m.from, PageCount(1));
            if m.prot != Prot::NONE
                && let Err(e) = sys::map(pid, m.to, m.frame.own().unwrap_or(self.zero_frame), map_flags(m.prot))
            {
                plog!(Error, "kernel refused a moved page at {:#x}: {e:?}", m.to.0);
            }
        }
        // madvise hints reach this process's policy; what it wants now is
        // faulted in with the populate ranges.
        if let Some(process) = self.processes.get_mut(&pid) {
            for advised in &effects.advised {
                effects
                    .populate
                    .extend(process.space.advise_policy(&mut *process.policy, advised));
            }
        }
        self.populating = true;
        for range in effects.populate {
            let pages = self
                .processes
                .get(&pid)
                .map(|p| p.space.populate(range.start, range.end))
                .unwrap_or_default();
            for page in pages {
                // Out of frames is not an error here (Linux's populate is
                // best effort); the page faults in later.
                if self
                    .ensure_resident(pid, page.virt.0, page.prot.contains(Prot::WRITE))
                    .is_none()
                {
                    break;
                }
            }
        }
        self.populating = false;
        for out in effects.copy_out {
            if let Err(e) = self.write_mem(pid, out.addr.0, &out.bytes) {
                plog!(Error, "cannot write a call's result at {:#x}: {e:?}", out.addr.0);
            }
        }
    }
}
