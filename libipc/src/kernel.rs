//! Messages between the kernel and a pager.
//!
//! The kernel sends a [`KernelEvent`] to a process's pager endpoint when one
//! of its threads faults or exits. For a fault, the pager answers with a
//! [`FaultReply`]: install these mappings and resume, or kill the process.
//! The kernel validates every mapping (see [`crate::abi::SysError`]); a
//! refused reply maps nothing and leaves the thread waiting.

use heapless::Vec;
use serde::{Deserialize, Serialize};

use crate::{
    abi::MapFlags,
    types::{Access, PhysAddr, Pid, VirtAddr},
};

/// How many mappings one fault reply may carry (fault-around batches).
pub const MAX_FAULT_MAPPINGS: usize = 16;

/// The CPU exception behind a fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultInfo {
    pub kind: FaultKind,
    /// The faulting instruction.
    pub ip: VirtAddr,
    /// The user stack pointer at the fault (the pager's stack-growth policy
    /// may want it).
    pub sp: VirtAddr,
}

/// An event the kernel reports about the sender thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KernelEvent {
    Fault(FaultInfo),
    /// The process exited voluntarily with `code`; its address space is gone.
    Exited {
        pid: Pid,
        code: i64,
    },
}

/// One page to install.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    pub virt: VirtAddr,
    pub phys: PhysAddr,
    pub flags: MapFlags,
}

/// Why a pager kills a process; the kernel logs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KillReason {
    /// No mapping covers the address (SIGSEGV, SEGV_MAPERR).
    NoMapping,
    /// The mapping forbids this access (SIGSEGV, SEGV_ACCERR).
    Protection,
    /// The access lands in the stack guard gap (stack clash).
    GuardGap,
    /// Growing would exceed a resource limit.
    Limit,
    /// A general-protection fault (e.g. a non-canonical address).
    GeneralProtection,
    /// Any other exception (invalid opcode, divide error, ...).
    Exception,
    /// The pager has no memory left.
    OutOfMemory,
}

/// The pager's answer to a fault.
// A message lives briefly on a stack before encoding: its size is no concern.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FaultReply {
    /// Install the mappings (possibly none) and resume the thread.
    Resume { mappings: Vec<Mapping, MAX_FAULT_MAPPINGS> },
    /// Kill the faulting process.
    Kill { reason: KillReason },
}
