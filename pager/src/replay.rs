//! Replaying a recorded trace ([`crate::record`]) against the library:
//! each process's initial space as recorded, then every fault, request and
//! Linux call in order, carried out with [`crate::resolve`] as the server
//! carries them out. Under the run's own policy every decision must come
//! out as recorded ([`Mode::Verify`]); under another, the same program's
//! accesses show what that policy would have done ([`Mode::Compare`]).

use alloc::{
    boxed::Box,
    collections::{BTreeMap, BTreeSet},
    string::{String, ToString},
    vec::Vec,
};

use libipc::{
    pager::{Reply, Request},
    types::{PAGE_SIZE, PhysAddr, VirtAddr},
};

use crate::{
    frames::FramePool,
    linux::{self, Caller, OpenFile, UserAccess},
    policy::Policy,
    record::{DecidedPage, Event, FaultOutcome, FillKind, LinuxCall, Record},
    resolve::{self, FaultBackend, Resolved},
    rlimit::Rlimits,
    settings::Settings,
    space::{AddressSpace, FaultDecision, Fill, PageToMap},
    trace::TraceOp,
};

/// Where the replay's frames start: frame numbers are not compared.
const POOL_BASE: PhysAddr = PhysAddr(0x1_0000_0000);

/// What a replay checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The recorded policy: every decision must match the recorded one.
    Verify,
    /// Another policy: a fault at a page this policy has already made
    /// resident (and accessible) is one the program would not have taken,
    /// so it is skipped; decisions are not compared.
    Compare,
}

/// The first decision that differs from the recording.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    pub line: usize,
    pub pid: u32,
    pub recorded: String,
    pub replayed: String,
}

/// Why a replay cannot go on (the trace contradicts itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplayError {
    Mismatch(Mismatch),
    /// An event for a process that never started.
    UnknownProcess {
        line: usize,
        pid: u32,
    },
    /// A recorded VMA that does not fit the space.
    BadSpace {
        line: usize,
        why: String,
    },
    /// The header's pool is too small for the recorded run.
    OutOfFrames {
        line: usize,
    },
}

impl core::fmt::Display for ReplayError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ReplayError::Mismatch(m) => write!(
                f,
                "line {}: process {}: recorded `{}`, replayed `{}`",
                m.line, m.pid, m.recorded, m.replayed
            ),
            ReplayError::UnknownProcess { line, pid } => write!(f, "line {line}: process {pid} never started"),
            ReplayError::BadSpace { line, why } => write!(f, "line {line}: {why}"),
            ReplayError::OutOfFrames { line } => write!(f, "line {line}: the pool has no frame for a resident page"),
        }
    }
}

/// What a policy did over a trace.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Faults that mapped pages (skipped ones not counted).
    pub faults: u64,
    /// Pages mapped by faults and populates.
    pub pages_mapped: u64,
    pub peak_resident: u64,
    pub final_resident: u64,
    /// Pages mapped that the program never touched (never faulted at in
    /// the recording, nor copied into).
    pub untouched: u64,
    pub zero_page_hits: u64,
    pub huge_pages: u64,
    /// Summed time of the decisions and their carrying out.
    pub decision_ns: u64,
}

impl Stats {
    pub fn ns_per_fault(&self) -> u64 {
        self.decision_ns.checked_div(self.faults).unwrap_or(0)
    }
}

/// Resident pages and cumulative faults after an event, for a plot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample {
    /// The recorded time.
    pub time_ns: u64,
    pub resident: u64,
    pub faults: u64,
}

struct Process {
    space: AddressSpace,
    policy: Box<dyn Policy>,
}

/// One replay of a trace under one policy.
pub struct Replayer<'c> {
    new_policy: fn() -> Box<dyn Policy>,
    settings: Settings,
    mode: Mode,
    pool: FramePool,
    processes: BTreeMap<u32, Process>,
    /// The pages each process touched in the recording.
    touched: BTreeSet<(u32, u64)>,
    clock: &'c dyn Fn() -> u64,
    pub stats: Stats,
    pub samples: Vec<Sample>,
}

/// The replay's side of [`resolve::carry_out`]: frames from the pool,
/// mappings counted.
struct Backend<'a> {
    pool: &'a mut FramePool,
    stats: &'a mut Stats,
    touched: &'a BTreeSet<(u32, u64)>,
    pid: u32,
}

impl FaultBackend for Backend<'_> {
    fn pool(&mut self) -> &mut FramePool {
        self.pool
    }

    /// The replay keeps no contents: any address serves.
    fn zero_frame(&self) -> PhysAddr {
        PhysAddr(0)
    }

    fn fill(&mut self, _: PhysAddr, _: Fill) {}

    fn map(&mut self, page: &PageToMap, _: PhysAddr) {
        let decided = DecidedPage::of(page);
        self.stats.pages_mapped += decided.size / PAGE_SIZE;
        if decided.fill == FillKind::ZeroPage {
            self.stats.zero_page_hits += 1;
        }
        if decided.size > PAGE_SIZE {
            // Its pages are touched without faults: whether they all are
            // is not in the recording, so none counts as untouched.
            self.stats.huge_pages += 1;
            return;
        }
        if decided.fill != FillKind::Resident && !self.touched.contains(&(self.pid, page.virt.0)) {
            self.stats.untouched += 1;
        }
    }

    fn unmap(&mut self, _: VirtAddr) {
        self.stats.pages_mapped -= 1;
    }
}

/// What a Linux call read from outside the space, as recorded.
struct Recorded<'a>(&'a LinuxCall);

impl UserAccess for Recorded<'_> {
    fn read(&mut self, _: &AddressSpace, _: VirtAddr, buf: &mut [u8]) -> bool {
        match self.0.read.get(..buf.len()) {
            Some(bytes) => {
                buf.copy_from_slice(bytes);
                true
            }
            None => false,
        }
    }

    fn file(&mut self, _: u64) -> Result<OpenFile, linux::Errno> {
        self.0.file.ok_or(linux::Errno::BadF)
    }
}

fn request_of(op: &TraceOp) -> Option<Request> {
    let at = |a: &crate::trace::Addr| VirtAddr(a.resolve(0).unwrap_or(0));
    Some(match op {
        TraceOp::Mmap {
            addr,
            len,
            prot,
            flags,
            file: None,
        } => Request::Mmap {
            addr: at(addr),
            len: *len,
            prot: *prot,
            flags: *flags,
        },
        TraceOp::Munmap { addr, len } => Request::Munmap {
            addr: at(addr),
            len: *len,
        },
        TraceOp::Mprotect { addr, len, prot } => Request::Mprotect {
            addr: at(addr),
            len: *len,
            prot: *prot,
        },
        TraceOp::Brk { addr } => Request::Brk { addr: at(addr) },
        _ => return None,
    })
}

impl<'c> Replayer<'c> {
    /// A replay of `records` under the policy `new_policy` makes, with a
    /// pool of `frames` and the recorded `settings` as that policy adjusts
    /// them at boot (the huge policy turns 2 MiB pages on; adjusting what
    /// the recorded policy adjusted already changes nothing); `clock` reads
    /// nanoseconds (the decision times).
    pub fn new(
        new_policy: fn() -> Box<dyn Policy>,
        mut settings: Settings,
        frames: u64,
        mode: Mode,
        records: &[(usize, Record)],
        clock: &'c dyn Fn() -> u64,
    ) -> Result<Replayer<'c>, ReplayError> {
        new_policy().adjust_settings(&mut settings);
        let pool = FramePool::single(POOL_BASE, frames.max(1)).map_err(|e| ReplayError::BadSpace {
            line: 0,
            why: alloc::format!("pool of {frames} frames: {e:?}"),
        })?;
        let touched = records
            .iter()
            .filter_map(|(_, r)| match r.event {
                Event::Fault { addr, .. } => Some((r.pid, crate::space::page_down(addr))),
                Event::Touch { page, .. } => Some((r.pid, page)),
                _ => None,
            })
            .collect();
        Ok(Replayer {
            new_policy,
            settings,
            mode,
            pool,
            processes: BTreeMap::new(),
            touched,
            clock,
            stats: Stats::default(),
            samples: Vec::new(),
        })
    }

    /// Frames in use.
    pub fn resident(&self) -> u64 {
        self.pool.total().0 - self.pool.free_count().0
    }

    fn process(&mut self, line: usize, pid: u32) -> Result<&mut Process, ReplayError> {
        self.processes
            .get_mut(&pid)
            .ok_or(ReplayError::UnknownProcess { line, pid })
    }

    fn end(&mut self, pid: u32) {
        if let Some(p) = self.processes.remove(&pid) {
            for frame in p.space.frames() {
                let _ = self.pool.free(frame);
            }
        }
    }

    fn check(&self, line: usize, pid: u32, recorded: String, replayed: String) -> Result<(), ReplayError> {
        if self.mode == Mode::Verify && recorded != replayed {
            return Err(ReplayError::Mismatch(Mismatch {
                line,
                pid,
                recorded,
                replayed,
            }));
        }
        Ok(())
    }

    /// Replays every record in order; the first mismatch (in
    /// [`Mode::Verify`]) or inconsistency stops it.
    pub fn run(&mut self, records: &[(usize, Record)]) -> Result<(), ReplayError> {
        for (line, record) in records {
            self.step(*line, record)?;
        }
        self.stats.final_resident = self.resident();
        Ok(())
    }

    /// Replays one record.
    pub fn step(&mut self, line: usize, record: &Record) -> Result<(), ReplayError> {
        let pid = record.pid;
        match &record.event {
            Event::Start { .. } => {
                self.end(pid);
                let space = AddressSpace::new(&self.settings, Rlimits::default(), 0);
                let policy = (self.new_policy)();
                self.processes.insert(pid, Process { space, policy });
            }
            Event::Layout(layout) => self.process(line, pid)?.space.layout = *layout,
            Event::Vma(vma) => {
                let vma = vma.clone();
                self.process(line, pid)?
                    .space
                    .insert_vma(vma)
                    .map_err(|e| ReplayError::BadSpace {
                        line,
                        why: alloc::format!("the recorded VMA does not fit: {e:?}"),
                    })?;
            }
            Event::Kept { page } => {
                let frame = self.pool.alloc().ok_or(ReplayError::OutOfFrames { line })?;
                let committed = self
                    .process(line, pid)?
                    .space
                    .commit(VirtAddr(*page), crate::resident::Frame::Dirty(frame));
                if let Err(e) = committed {
                    let _ = self.pool.free(frame);
                    return Err(ReplayError::BadSpace {
                        line,
                        why: alloc::format!("kept page {page:#x}: {e:?}"),
                    });
                }
            }
            Event::Fault {
                addr, access, outcome, ..
            } => self.fault(line, pid, *addr, *access, outcome)?,
            Event::Request { op, result } => {
                let request = request_of(op).ok_or(ReplayError::BadSpace {
                    line,
                    why: "not a request".into(),
                })?;
                let p = self
                    .processes
                    .get_mut(&pid)
                    .ok_or(ReplayError::UnknownProcess { line, pid })?;
                let got = match crate::request::serve(&mut p.space, &self.pool, &request) {
                    Ok((reply, effects)) => {
                        self.pool.release(effects.dropped);
                        match reply {
                            Reply::Addr(a) => a.0 as i64,
                            _ => 0,
                        }
                    }
                    Err(e) => -i64::from(e.code()),
                };
                self.check(line, pid, result.to_string(), got.to_string())?;
            }
            Event::Linux { call, rax } => {
                let got = self.linux(line, pid, call)?;
                self.check(line, pid, rax.to_string(), got.to_string())?;
            }
            Event::Touch { page, write } => {
                let Replayer {
                    processes,
                    pool,
                    stats,
                    touched,
                    ..
                } = self;
                let p = processes
                    .get_mut(&pid)
                    .ok_or(ReplayError::UnknownProcess { line, pid })?;
                let mut backend = Backend {
                    pool,
                    stats,
                    touched,
                    pid,
                };
                resolve::make_resident(&mut p.space, *page, *write, &mut backend);
            }
            Event::Exit => self.end(pid),
        }
        let resident = self.resident();
        self.stats.peak_resident = self.stats.peak_resident.max(resident);
        if matches!(
            record.event,
            Event::Fault { .. } | Event::Linux { .. } | Event::Touch { .. } | Event::Exit
        ) {
            self.samples.push(Sample {
                time_ns: record.time_ns,
                resident,
                faults: self.stats.faults,
            });
        }
        Ok(())
    }

    fn fault(
        &mut self,
        line: usize,
        pid: u32,
        addr: u64,
        access: libipc::types::Access,
        recorded: &FaultOutcome,
    ) -> Result<(), ReplayError> {
        let Replayer {
            processes,
            pool,
            stats,
            touched,
            clock,
            mode,
            ..
        } = self;
        let p = processes
            .get_mut(&pid)
            .ok_or(ReplayError::UnknownProcess { line, pid })?;
        if *mode == Mode::Compare {
            let page = crate::space::page_down(addr);
            let present = p.space.vmas().find(page).is_some_and(|v| {
                v.resident.get(page).is_some() && v.prot != libipc::types::Prot::NONE && permits(v.prot, access)
            });
            if present {
                return Ok(());
            }
        }
        let start = clock();
        let decision = p.space.fault(&mut *p.policy, addr, access);
        let mut backend = Backend {
            pool,
            stats,
            touched,
            pid,
        };
        let outcome = match decision {
            FaultDecision::Map(pages) => match resolve::carry_out(&mut p.space, VirtAddr(addr), &pages, &mut backend) {
                Resolved::Mapped(mapped) => FaultOutcome::Map {
                    mapped,
                    pages: pages.iter().map(DecidedPage::of).collect(),
                },
                Resolved::OutOfMemory => FaultOutcome::Kill(libipc::kernel::KillReason::OutOfMemory),
            },
            FaultDecision::Kill(reason) => FaultOutcome::Kill(reason),
        };
        let spent = clock().saturating_sub(start);
        if let FaultOutcome::Map { .. } = outcome {
            self.stats.faults += 1;
            self.stats.decision_ns += spent;
        }
        self.check(line, pid, alloc::format!("{recorded}"), alloc::format!("{outcome}"))?;
        if let FaultOutcome::Kill(_) = outcome {
            self.end(pid);
        }
        Ok(())
    }

    /// A Linux memory call, with the effects the server carries out on the
    /// address space (copies into the caller are the `touch` lines after
    /// it).
    fn linux(&mut self, line: usize, pid: u32, call: &LinuxCall) -> Result<i64, ReplayError> {
        let Replayer {
            processes,
            pool,
            stats,
            touched,
            ..
        } = self;
        let p = processes
            .get_mut(&pid)
            .ok_or(ReplayError::UnknownProcess { line, pid })?;
        let caller = Caller {
            pid: u64::from(pid),
            privileges: linux::Privileges::default(),
        };
        let mut outcome = linux::memory_call(&mut p.space, &caller, &mut Recorded(call), call.number, call.args);
        pool.release(core::mem::take(&mut outcome.effects.dropped));
        let mut effects = outcome.effects;
        for advised in &effects.advised {
            effects.populate.extend(p.space.advise_policy(&mut *p.policy, advised));
        }
        let mut backend = Backend {
            pool,
            stats,
            touched,
            pid,
        };
        for range in effects.populate {
            for page in p.space.populate(range.start, range.end) {
                // Best effort, as the server's: out of frames, the page
                // faults in later.
                if resolve::make_resident(
                    &mut p.space,
                    page.virt.0,
                    page.prot.contains(libipc::types::Prot::WRITE),
                    &mut backend,
                )
                .is_none()
                {
                    break;
                }
            }
        }
        Ok(outcome.rax)
    }
}

/// x86 semantics, as the fault decision's.
fn permits(prot: libipc::types::Prot, access: libipc::types::Access) -> bool {
    use libipc::types::{Access, Prot};
    match access {
        Access::Read => prot != Prot::NONE,
        Access::Write => prot.contains(Prot::WRITE),
        Access::Execute => prot.contains(Prot::EXEC),
    }
}

#[cfg(test)]
mod tests;
