//! Messages between the kernel and a pager, all register messages
//! ([`ShortMessage`]).
//!
//! The kernel sends a [`KernelEvent`] to a process's pager endpoint when one
//! of its threads faults ([`MessageKind::Fault`]) or exits
//! ([`MessageKind::Exit`]). A fault is answered with a [`FaultReply`]:
//! install these mappings and resume, or kill the process. One mapping
//! travels in the reply's registers; a batch (fault-around) is an array of
//! [`Mapping`]s in the pager's memory that the reply points to, read by the
//! kernel once. The kernel validates every mapping (see
//! [`crate::abi::SysError`]); a refused reply maps nothing and leaves the
//! thread waiting.
//!
//! | message | label | words |
//! |---|---|---|
//! | fault: page | [`fault_label::PAGE`] | address, access + `present << 8`, ip, sp |
//! | fault: #GP | [`fault_label::GENERAL_PROTECTION`] | error code, -, ip, sp |
//! | fault: #UD, #DE | [`fault_label::INVALID_OPCODE`], [`fault_label::DIVIDE_ERROR`] | -, -, ip, sp |
//! | fault: other vector | [`fault_label::OTHER`] | error code, vector, ip, sp |
//! | exit | [`exit_label::EXITED`] | pid, code |
//! | killed by the kernel | [`exit_label::KILLED`] | pid, [`KernelKill`] code |
//! | reply: one page | [`reply_label::RESUME_ONE`] | virt, phys, [`MapFlags`] |
//! | reply: batch | [`reply_label::RESUME_BATCH`] | pointer to `[Mapping]`, count (at most [`MAX_FAULT_MAPPINGS`]) |
//! | reply: kill | [`reply_label::KILL`] | [`KillReason`] code |
//! | reply: resume elsewhere | [`reply_label::RESUME_REGS`] | rax, rip, rsp |
//!
//! A fault report also carries the faulting thread's `rdi` and `rsi` in the
//! receive's extra registers (as a forwarded system call's arguments 4 and
//! 5): the arguments of a call into the vsyscall page, which the pager
//! emulates and answers with `RESUME_REGS`.

use crate::{
    abi::{MapFlags, MessageKind},
    short::ShortMessage,
    types::{Access, PhysAddr, Pid, VirtAddr},
};

/// How many mappings one fault reply may carry (fault-around batches).
pub const MAX_FAULT_MAPPINGS: usize = 16;

/// Labels of fault reports.
pub mod fault_label {
    pub const PAGE: u64 = 1;
    pub const GENERAL_PROTECTION: u64 = 2;
    pub const INVALID_OPCODE: u64 = 3;
    pub const DIVIDE_ERROR: u64 = 4;
    pub const OTHER: u64 = 5;
}

/// Labels of process-end reports ([`MessageKind::Exit`]).
pub mod exit_label {
    pub const EXITED: u64 = 0;
    pub const KILLED: u64 = 1;
}

/// Why the kernel itself ended a process (it reports this to the pager,
/// which frees the process's frames).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum KernelKill {
    /// Its page tables reached the per-process limit.
    PageTableLimit = 1,
    /// The kernel had no frame left for its page tables.
    OutOfMemory = 2,
    /// Its pager dropped a fault without answering it.
    FaultNotAnswered = 3,
    /// Its pager exited or died while it waited on a fault.
    PagerGone = 4,
}

impl KernelKill {
    pub const fn from_raw(n: u64) -> Option<KernelKill> {
        Some(match n {
            1 => KernelKill::PageTableLimit,
            2 => KernelKill::OutOfMemory,
            3 => KernelKill::FaultNotAnswered,
            4 => KernelKill::PagerGone,
            _ => return None,
        })
    }

    /// A person's words for it.
    pub const fn describe(self) -> &'static str {
        match self {
            KernelKill::PageTableLimit => "its page tables reached the per-process limit",
            KernelKill::OutOfMemory => "the kernel ran out of page-table memory",
            KernelKill::FaultNotAnswered => "its pager dropped a fault without answering",
            KernelKill::PagerGone => "its pager is gone",
        }
    }
}

/// Linux's ENOSYS: what a forwarded call with no handler returns.
pub const ENOSYS: u16 = 38;

/// A Linux system call the kernel forwards: the number and the six
/// argument registers. The number travels as the label, arguments 0-3 as
/// the words, and 4-5 in two more registers ([`SyscallInfo::extra`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyscallInfo {
    pub number: u64,
    pub args: [u64; 6],
}

impl SyscallInfo {
    pub const fn to_message(&self) -> ShortMessage {
        let a = self.args;
        ShortMessage::new(self.number, [a[0], a[1], a[2], a[3]])
    }

    /// Arguments 4 and 5 (`r8`, `r9`), delivered in `rdi` and `r15`.
    pub const fn extra(&self) -> [u64; 2] {
        [self.args[4], self.args[5]]
    }

    pub const fn from_message(m: &ShortMessage, extra: [u64; 2]) -> SyscallInfo {
        let [a0, a1, a2, a3] = m.words;
        SyscallInfo {
            number: m.label,
            args: [a0, a1, a2, a3, extra[0], extra[1]],
        }
    }
}

/// A handler's answer to a forwarded system call: the value for `rax`,
/// where the thread resumes if not after its `syscall` (the vsyscall
/// emulation and signal delivery need that), and a new FS or GS base
/// (`arch_prctl`). The kernel checks that a new `rip` and a base are user
/// addresses.
///
/// `sleep_until` parks the caller until that `CLOCK_MONOTONIC` time (ns
/// since boot, the clock page's) before it resumes with `rax`: how a server
/// answers `nanosleep` and `clock_nanosleep` without holding a thread per
/// sleeper. The kernel's timer queue wakes it on the first tick at or after
/// the deadline (a past one resumes it at once); a sleeper whose process is
/// destroyed is dropped from the queue. It travels in the base's word, so a
/// reply cannot both sleep and set a segment base.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyscallReply {
    pub rax: u64,
    pub rip: Option<u64>,
    pub rsp: Option<u64>,
    pub base: Option<SegmentBaseSet>,
    pub sleep_until: Option<u64>,
}

/// A thread-local-storage base a [`SyscallReply`] sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SegmentBaseSet {
    Fs(u64),
    Gs(u64),
}

/// The label of a [`SyscallReply`]: a fixed tag with flags in its low bits.
pub mod syscall_reply_label {
    pub const TAG: u64 = 0x5359_5300;
    pub const SET_RIP: u64 = 1;
    pub const SET_RSP: u64 = 2;
    /// The fourth word is the new FS base.
    pub const SET_FS: u64 = 4;
    /// The fourth word is the new GS base (not with `SET_FS`).
    pub const SET_GS: u64 = 8;
    /// The fourth word is a monotonic deadline to sleep until (with
    /// neither `SET_FS` nor `SET_GS`).
    pub const SLEEP: u64 = 16;
    pub const FLAGS: u64 = 31;
}

impl SyscallReply {
    /// Returns `rax` to the caller, which resumes after its `syscall`.
    pub const fn value(rax: u64) -> SyscallReply {
        SyscallReply {
            rax,
            rip: None,
            rsp: None,
            base: None,
            sleep_until: None,
        }
    }

    /// Returns `rax` once `CLOCK_MONOTONIC` reaches `deadline_ns`.
    pub const fn sleep(rax: u64, deadline_ns: u64) -> SyscallReply {
        SyscallReply {
            sleep_until: Some(deadline_ns),
            ..SyscallReply::value(rax)
        }
    }

    /// `-errno`, as Linux returns it.
    pub const fn error(errno: u16) -> SyscallReply {
        SyscallReply::value((-(errno as i64)) as u64)
    }

    pub const fn to_message(&self) -> ShortMessage {
        use syscall_reply_label::*;
        let mut label = TAG;
        let mut words = [self.rax, 0, 0, 0];
        if let Some(rip) = self.rip {
            label |= SET_RIP;
            words[1] = rip;
        }
        if let Some(rsp) = self.rsp {
            label |= SET_RSP;
            words[2] = rsp;
        }
        match self.base {
            Some(SegmentBaseSet::Fs(base)) => {
                label |= SET_FS;
                words[3] = base;
            }
            Some(SegmentBaseSet::Gs(base)) => {
                label |= SET_GS;
                words[3] = base;
            }
            None => {}
        }
        if let Some(deadline) = self.sleep_until {
            label |= SLEEP;
            words[3] = deadline;
        }
        ShortMessage::new(label, words)
    }

    /// `None` for a label that is not a system-call reply.
    pub const fn from_message(m: &ShortMessage) -> Option<SyscallReply> {
        use syscall_reply_label::*;
        if m.label & !FLAGS != TAG {
            return None;
        }
        let [rax, rip, rsp, base] = m.words;
        let sleep_until = if m.label & SLEEP != 0 { Some(base) } else { None };
        let base = match (m.label & SET_FS != 0, m.label & SET_GS != 0, sleep_until.is_some()) {
            (false, false, _) => None,
            (true, false, false) => Some(SegmentBaseSet::Fs(base)),
            (false, true, false) => Some(SegmentBaseSet::Gs(base)),
            _ => return None,
        };
        Some(SyscallReply {
            rax,
            rip: if m.label & SET_RIP != 0 { Some(rip) } else { None },
            rsp: if m.label & SET_RSP != 0 { Some(rsp) } else { None },
            base,
            sleep_until,
        })
    }
}

/// Labels of fault replies.
pub mod reply_label {
    pub const RESUME_ONE: u64 = 1;
    pub const RESUME_BATCH: u64 = 2;
    pub const KILL: u64 = 3;
    pub const RESUME_REGS: u64 = 4;
}

/// Bit of a page fault's access word set when the page was present.
const PRESENT_BIT: u64 = 1 << 8;

/// The CPU exception behind a fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// #PF: `addr` is CR2; `present` is set when the page was mapped and the
    /// access violated its protection.
    Page {
        addr: VirtAddr,
        access: Access,
        present: bool,
    },
    /// #GP, e.g. a non-canonical address; never reported as a page fault.
    GeneralProtection { error_code: u64 },
    /// #UD.
    InvalidOpcode,
    /// #DE.
    DivideError,
    /// Any other exception vector raised in user mode.
    Other { vector: u8, error_code: u64 },
}

/// A fault of one user thread; the thread is suspended until the reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultInfo {
    pub kind: FaultKind,
    /// The faulting instruction.
    pub ip: VirtAddr,
    /// The user stack pointer at the fault (the pager's stack-growth policy
    /// may want it).
    pub sp: VirtAddr,
}

/// An event the kernel reports about the sender thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KernelEvent {
    Fault(FaultInfo),
    /// The process exited voluntarily with `code`; its address space is gone.
    Exited {
        pid: Pid,
        code: i64,
    },
    /// The kernel ended the process; its address space is gone.
    Killed {
        pid: Pid,
        cause: KernelKill,
    },
}

const fn access_code(access: Access) -> u64 {
    match access {
        Access::Read => 0,
        Access::Write => 1,
        Access::Execute => 2,
    }
}

const fn access_from_code(code: u64) -> Option<Access> {
    match code {
        0 => Some(Access::Read),
        1 => Some(Access::Write),
        2 => Some(Access::Execute),
        _ => None,
    }
}

impl KernelEvent {
    /// The message kind and registers the kernel sends.
    pub const fn to_message(&self) -> (MessageKind, ShortMessage) {
        match *self {
            KernelEvent::Exited { pid, code } => (
                MessageKind::Exit,
                ShortMessage::new(exit_label::EXITED, [pid.0 as u64, code as u64, 0, 0]),
            ),
            KernelEvent::Killed { pid, cause } => (
                MessageKind::Exit,
                ShortMessage::new(exit_label::KILLED, [pid.0 as u64, cause as u64, 0, 0]),
            ),
            KernelEvent::Fault(FaultInfo { kind, ip, sp }) => {
                let (label, a, b) = match kind {
                    FaultKind::Page { addr, access, present } => (
                        fault_label::PAGE,
                        addr.0,
                        access_code(access) | if present { PRESENT_BIT } else { 0 },
                    ),
                    FaultKind::GeneralProtection { error_code } => (fault_label::GENERAL_PROTECTION, error_code, 0),
                    FaultKind::InvalidOpcode => (fault_label::INVALID_OPCODE, 0, 0),
                    FaultKind::DivideError => (fault_label::DIVIDE_ERROR, 0, 0),
                    FaultKind::Other { vector, error_code } => (fault_label::OTHER, error_code, vector as u64),
                };
                (MessageKind::Fault, ShortMessage::new(label, [a, b, ip.0, sp.0]))
            }
        }
    }

    /// Reads an event; `None` for a kind that is not an event or registers
    /// no kernel would send.
    pub const fn from_message(kind: MessageKind, m: &ShortMessage) -> Option<KernelEvent> {
        let [a, b, ip, sp] = m.words;
        match kind {
            MessageKind::Exit if m.label == exit_label::EXITED && a <= u32::MAX as u64 => Some(KernelEvent::Exited {
                pid: Pid(a as u32),
                code: b as i64,
            }),
            MessageKind::Exit if m.label == exit_label::KILLED && a <= u32::MAX as u64 => match KernelKill::from_raw(b)
            {
                Some(cause) => Some(KernelEvent::Killed {
                    pid: Pid(a as u32),
                    cause,
                }),
                None => None,
            },
            MessageKind::Fault => {
                let kind = match m.label {
                    fault_label::PAGE => {
                        let Some(access) = access_from_code(b & !PRESENT_BIT) else {
                            return None;
                        };
                        FaultKind::Page {
                            addr: VirtAddr(a),
                            access,
                            present: b & PRESENT_BIT != 0,
                        }
                    }
                    fault_label::GENERAL_PROTECTION => FaultKind::GeneralProtection { error_code: a },
                    fault_label::INVALID_OPCODE => FaultKind::InvalidOpcode,
                    fault_label::DIVIDE_ERROR => FaultKind::DivideError,
                    fault_label::OTHER if b <= u8::MAX as u64 => FaultKind::Other {
                        vector: b as u8,
                        error_code: a,
                    },
                    _ => return None,
                };
                Some(KernelEvent::Fault(FaultInfo {
                    kind,
                    ip: VirtAddr(ip),
                    sp: VirtAddr(sp),
                }))
            }
            _ => None,
        }
    }
}

/// One page to install. A batch reply points at an array of these, laid out
/// as three little-endian words each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct Mapping {
    pub virt: VirtAddr,
    pub phys: PhysAddr,
    pub flags: MapFlags,
}

impl Mapping {
    /// Bytes of one mapping in a batch.
    pub const BYTES: usize = 24;

    /// Reads a mapping from its batch bytes.
    pub fn from_bytes(bytes: &[u8; Mapping::BYTES]) -> Mapping {
        let word = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&bytes[i * 8..i * 8 + 8]);
            u64::from_le_bytes(w)
        };
        Mapping {
            virt: VirtAddr(word(0)),
            phys: PhysAddr(word(1)),
            flags: MapFlags(word(2)),
        }
    }
}

/// Why a pager kills a process; the kernel logs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[repr(u64)]
pub enum KillReason {
    /// No mapping covers the address (SIGSEGV, SEGV_MAPERR).
    NoMapping = 1,
    /// The mapping forbids this access (SIGSEGV, SEGV_ACCERR).
    Protection = 2,
    /// The access lands in the stack guard gap (stack clash).
    GuardGap = 3,
    /// Growing would exceed a resource limit.
    Limit = 4,
    /// A general-protection fault (e.g. a non-canonical address).
    GeneralProtection = 5,
    /// Any other exception (invalid opcode, divide error, ...).
    Exception = 6,
    /// The pager has no memory left.
    OutOfMemory = 7,
    /// A file mapping's page lies past the end of its file (SIGBUS).
    PastEndOfFile = 8,
}

impl KillReason {
    pub const fn from_raw(n: u64) -> Option<KillReason> {
        Some(match n {
            1 => KillReason::NoMapping,
            2 => KillReason::Protection,
            3 => KillReason::GuardGap,
            4 => KillReason::Limit,
            5 => KillReason::GeneralProtection,
            6 => KillReason::Exception,
            7 => KillReason::OutOfMemory,
            8 => KillReason::PastEndOfFile,
            _ => return None,
        })
    }
}

/// The pager's answer to a fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultReply<'a> {
    /// Install the mappings (possibly none) and resume the thread. The
    /// slice must stay in place until the reply's system call returns.
    Resume(&'a [Mapping]),
    /// Kill the faulting process.
    Kill(KillReason),
    /// Map nothing; resume the thread at `rip` with `rsp` and `rax` set
    /// (an emulated call: the vsyscall page's entry points). `rip` must be
    /// a user address.
    Emulate { rax: u64, rip: u64, rsp: u64 },
}

impl FaultReply<'_> {
    /// The reply's registers: one mapping inline, more by reference.
    pub fn to_message(&self) -> ShortMessage {
        match *self {
            FaultReply::Resume([m]) => ShortMessage::new(reply_label::RESUME_ONE, [m.virt.0, m.phys.0, m.flags.0, 0]),
            FaultReply::Resume(batch) => ShortMessage::new(
                reply_label::RESUME_BATCH,
                [batch.as_ptr() as u64, batch.len() as u64, 0, 0],
            ),
            FaultReply::Kill(reason) => ShortMessage::new(reply_label::KILL, [reason as u64, 0, 0, 0]),
            FaultReply::Emulate { rax, rip, rsp } => ShortMessage::new(reply_label::RESUME_REGS, [rax, rip, rsp, 0]),
        }
    }
}

/// A fault reply as the kernel reads it from the pager's registers, before
/// any check of the mappings themselves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultReplyRegs {
    One(Mapping),
    /// `count` mappings at user address `ptr` of the pager.
    Batch {
        ptr: u64,
        count: usize,
    },
    Kill(KillReason),
    Regs {
        rax: u64,
        rip: u64,
        rsp: u64,
    },
}

impl FaultReplyRegs {
    /// `None` for an unknown label, a batch over [`MAX_FAULT_MAPPINGS`] or
    /// an unknown kill reason.
    pub const fn from_message(m: &ShortMessage) -> Option<FaultReplyRegs> {
        let [a, b, c, _] = m.words;
        match m.label {
            reply_label::RESUME_ONE => Some(FaultReplyRegs::One(Mapping {
                virt: VirtAddr(a),
                phys: PhysAddr(b),
                flags: MapFlags(c),
            })),
            reply_label::RESUME_BATCH if b <= MAX_FAULT_MAPPINGS as u64 => Some(FaultReplyRegs::Batch {
                ptr: a,
                count: b as usize,
            }),
            reply_label::KILL => match KillReason::from_raw(a) {
                Some(reason) => Some(FaultReplyRegs::Kill(reason)),
                None => None,
            },
            reply_label::RESUME_REGS => Some(FaultReplyRegs::Regs { rax: a, rip: b, rsp: c }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn page_fault(access: Access, present: bool) -> KernelEvent {
        KernelEvent::Fault(FaultInfo {
            kind: FaultKind::Page {
                addr: VirtAddr(0x1234),
                access,
                present,
            },
            ip: VirtAddr(0x40_1000),
            sp: VirtAddr(0x7fff_0000_0000),
        })
    }

    #[test]
    fn events_round_trip() {
        let mut events = vec![
            KernelEvent::Exited { pid: Pid(3), code: -1 },
            KernelEvent::Killed {
                pid: Pid(4),
                cause: KernelKill::PageTableLimit,
            },
            KernelEvent::Killed {
                pid: Pid(5),
                cause: KernelKill::FaultNotAnswered,
            },
            KernelEvent::Exited {
                pid: Pid(u32::MAX),
                code: i64::MIN,
            },
        ];
        for access in [Access::Read, Access::Write, Access::Execute] {
            events.push(page_fault(access, false));
            events.push(page_fault(access, true));
        }
        for kind in [
            FaultKind::GeneralProtection { error_code: 0x10 },
            FaultKind::InvalidOpcode,
            FaultKind::DivideError,
            FaultKind::Other {
                vector: 17,
                error_code: 3,
            },
        ] {
            events.push(KernelEvent::Fault(FaultInfo {
                kind,
                ip: VirtAddr(1),
                sp: VirtAddr(2),
            }));
        }
        for e in events {
            let (kind, m) = e.to_message();
            assert_eq!(KernelEvent::from_message(kind, &m), Some(e));
        }
    }

    #[test]
    fn foreign_registers_are_no_event() {
        let (_, fault) = page_fault(Access::Read, false).to_message();
        assert_eq!(KernelEvent::from_message(MessageKind::Call, &fault), None);
        assert_eq!(KernelEvent::from_message(MessageKind::ShortCall, &fault), None);
        let bad_access = ShortMessage::new(fault_label::PAGE, [0, 7, 0, 0]);
        assert_eq!(KernelEvent::from_message(MessageKind::Fault, &bad_access), None);
        let bad_label = ShortMessage::label(99);
        assert_eq!(KernelEvent::from_message(MessageKind::Fault, &bad_label), None);
        let big_vector = ShortMessage::new(fault_label::OTHER, [0, 256, 0, 0]);
        assert_eq!(KernelEvent::from_message(MessageKind::Fault, &big_vector), None);
        let big_pid = ShortMessage::new(0, [u64::MAX, 0, 0, 0]);
        assert_eq!(KernelEvent::from_message(MessageKind::Exit, &big_pid), None);
        let bad_cause = ShortMessage::new(exit_label::KILLED, [1, 99, 0, 0]);
        assert_eq!(KernelEvent::from_message(MessageKind::Exit, &bad_cause), None);
        let bad_exit_label = ShortMessage::new(7, [1, 0, 0, 0]);
        assert_eq!(KernelEvent::from_message(MessageKind::Exit, &bad_exit_label), None);
    }

    #[test]
    fn replies_as_the_kernel_reads_them() {
        let m = Mapping {
            virt: VirtAddr(0x1000),
            phys: PhysAddr(0x2000),
            flags: MapFlags::WRITE,
        };
        assert_eq!(
            FaultReplyRegs::from_message(&FaultReply::Resume(&[m]).to_message()),
            Some(FaultReplyRegs::One(m))
        );
        let batch = [m; MAX_FAULT_MAPPINGS];
        assert_eq!(
            FaultReplyRegs::from_message(&FaultReply::Resume(&batch).to_message()),
            Some(FaultReplyRegs::Batch {
                ptr: batch.as_ptr() as u64,
                count: MAX_FAULT_MAPPINGS
            })
        );
        assert!(matches!(
            FaultReplyRegs::from_message(&FaultReply::Resume(&[]).to_message()),
            Some(FaultReplyRegs::Batch { count: 0, .. })
        ));
        assert_eq!(
            FaultReplyRegs::from_message(&FaultReply::Kill(KillReason::GuardGap).to_message()),
            Some(FaultReplyRegs::Kill(KillReason::GuardGap))
        );
        assert_eq!(
            FaultReplyRegs::from_message(
                &FaultReply::Emulate {
                    rax: 7,
                    rip: 0x40_1000,
                    rsp: 0x7fff_0008
                }
                .to_message()
            ),
            Some(FaultReplyRegs::Regs {
                rax: 7,
                rip: 0x40_1000,
                rsp: 0x7fff_0008
            })
        );
    }

    #[test]
    fn bad_replies_are_refused() {
        let too_many = ShortMessage::new(reply_label::RESUME_BATCH, [0x1000, MAX_FAULT_MAPPINGS as u64 + 1, 0, 0]);
        assert_eq!(FaultReplyRegs::from_message(&too_many), None);
        assert_eq!(
            FaultReplyRegs::from_message(&ShortMessage::new(reply_label::KILL, [0, 0, 0, 0])),
            None
        );
        assert_eq!(FaultReplyRegs::from_message(&ShortMessage::label(0)), None);
        assert_eq!(FaultReplyRegs::from_message(&ShortMessage::label(u64::MAX)), None);
    }

    #[test]
    fn syscalls_and_their_replies_round_trip() {
        let call = SyscallInfo {
            number: 9,
            args: [1, 2, 3, 4, 5, u64::MAX],
        };
        assert_eq!(SyscallInfo::from_message(&call.to_message(), call.extra()), call);
        for reply in [
            SyscallReply::value(7),
            SyscallReply::error(38),
            SyscallReply {
                rip: Some(0x40_1000),
                ..SyscallReply::value(0)
            },
            SyscallReply {
                rax: 1,
                rip: Some(2),
                rsp: Some(3),
                base: Some(SegmentBaseSet::Fs(0x7000)),
                sleep_until: None,
            },
            SyscallReply::sleep(0, 5_000_000_000),
            SyscallReply {
                base: Some(SegmentBaseSet::Gs(0x8000)),
                ..SyscallReply::value(0)
            },
        ] {
            assert_eq!(SyscallReply::from_message(&reply.to_message()), Some(reply));
        }
        assert_eq!(SyscallReply::error(38).rax as i64, -38);
        assert_eq!(SyscallReply::from_message(&ShortMessage::label(0)), None);
        assert_eq!(
            SyscallReply::from_message(&ShortMessage::label(syscall_reply_label::TAG | 32)),
            None
        );
        let sleep_and_fs = syscall_reply_label::TAG | syscall_reply_label::SLEEP | syscall_reply_label::SET_FS;
        assert_eq!(SyscallReply::from_message(&ShortMessage::label(sleep_and_fs)), None);
        let both = syscall_reply_label::TAG | syscall_reply_label::SET_FS | syscall_reply_label::SET_GS;
        assert_eq!(SyscallReply::from_message(&ShortMessage::label(both)), None);
    }

    #[test]
    fn kernel_kills_round_trip() {
        for n in 0..16 {
            if let Some(k) = KernelKill::from_raw(n) {
                assert_eq!(k as u64, n);
                assert!(!k.describe().is_empty());
            }
        }
        assert_eq!(KernelKill::from_raw(0), None);
    }

    #[test]
    fn kill_reasons_round_trip() {
        for n in 0..16 {
            if let Some(r) = KillReason::from_raw(n) {
                assert_eq!(r as u64, n);
            }
        }
    }

    #[test]
    fn mapping_bytes_are_three_words() {
        let m = Mapping {
            virt: VirtAddr(0x1122_3344_5566_7000),
            phys: PhysAddr(0x8000),
            flags: MapFlags(0xf),
        };
        assert_eq!(core::mem::size_of::<Mapping>(), Mapping::BYTES);
        let mut bytes = [0u8; Mapping::BYTES];
        bytes[..8].copy_from_slice(&m.virt.0.to_le_bytes());
        bytes[8..16].copy_from_slice(&m.phys.0.to_le_bytes());
        bytes[16..].copy_from_slice(&m.flags.0.to_le_bytes());
        assert_eq!(Mapping::from_bytes(&bytes), m);
    }

    proptest! {
        // Reading registers is total: any values give an answer, never a panic.
        #[test]
        fn arbitrary_registers_never_panic(label in any::<u64>(), words in any::<[u64; 4]>(), kind in 0u64..6) {
            let m = ShortMessage::new(label, words);
            let _ = FaultReplyRegs::from_message(&m);
            if let Some(kind) = MessageKind::from_raw(kind)
                && let Some(e) = KernelEvent::from_message(kind, &m)
            {
                // Whatever decodes re-encodes to a message that decodes the same.
                let (k2, m2) = e.to_message();
                prop_assert_eq!(KernelEvent::from_message(k2, &m2), Some(e));
            }
        }
    }
}
