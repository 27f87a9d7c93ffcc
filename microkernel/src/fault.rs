//! Exceptions. From user mode every exception becomes a fault report to the
//! thread's pager, which decides (resume with mappings, or kill): the kernel
//! holds no VMA and makes no policy decision. From kernel mode an exception
//! is a kernel bug and panics loudly.

use libipc::{
    kernel::{FaultInfo, FaultKind, KernelEvent},
    types::{Access, Tid, VirtAddr},
};
use x86_64::registers::control::Cr2;

use crate::{
    arch::trap::TrapFrame,
    ipc::Next,
    object::{FaultTimes, Kernel, Outgoing},
    qemu::{self, QemuExit},
};

/// Exception vectors the kernel names.
pub mod vector {
    pub const DIVIDE_ERROR: u64 = 0;
    pub const NMI: u64 = 2;
    /// #NM: an FPU or SSE instruction while CR0.TS is set (`arch::fpu`).
    pub const DEVICE_NOT_AVAILABLE: u64 = 7;
    pub const INVALID_OPCODE: u64 = 6;
    pub const DOUBLE_FAULT: u64 = 8;
    pub const GENERAL_PROTECTION: u64 = 13;
    pub const PAGE_FAULT: u64 = 14;
    pub const MACHINE_CHECK: u64 = 18;
}

/// Page-fault error-code bits.
mod pf {
    pub const PRESENT: u64 = 1 << 0;
    pub const WRITE: u64 = 1 << 1;
    pub const INSTRUCTION_FETCH: u64 = 1 << 4;
}

/// Classifies a user exception.
pub fn classify(frame: &TrapFrame, cr2: u64) -> FaultKind {
    match frame.vector {
        vector::PAGE_FAULT => {
            let access = if frame.error_code & pf::INSTRUCTION_FETCH != 0 {
                Access::Execute
            } else if frame.error_code & pf::WRITE != 0 {
                Access::Write
            } else {
                Access::Read
            };
            FaultKind::Page {
                addr: VirtAddr(cr2),
                access,
                present: frame.error_code & pf::PRESENT != 0,
            }
        }
        vector::GENERAL_PROTECTION => FaultKind::GeneralProtection {
            error_code: frame.error_code,
        },
        vector::INVALID_OPCODE => FaultKind::InvalidOpcode,
        vector::DIVIDE_ERROR => FaultKind::DivideError,
        v => FaultKind::Other {
            vector: v as u8,
            error_code: frame.error_code,
        },
    }
}

impl Kernel {
    /// The current thread `tid` raised an exception in user mode.
    pub fn user_fault(&mut self, tid: Tid) -> Next {
        let thread = self.thread(tid).expect("current thread exists");
        let frame = &thread.frame;
        let (rip, rsp) = (frame.rip, frame.rsp);
        let kind = classify(frame, Cr2::read_raw());
        let Some(pager_ep) = thread.pager_ep else {
            log::error!(
                "PAGER FAULT: the pager (process {}) raised {:?} at rip {:#x}; its memory must be mapped before it runs",
                thread.pid.0,
                kind,
                rip
            );
            qemu::exit(QemuExit::PagerDied);
        };
        log::trace!("fault in process {}: {:?} at rip {:#x}", thread.pid.0, kind, rip);
        let args = thread.fault_args();
        if matches!(kind, FaultKind::Page { .. }) {
            let entry = self.entry_tsc;
            self.thread_mut(tid).expect("current thread exists").fault_times = FaultTimes {
                entry,
                ..FaultTimes::default()
            };
        }
        let (kind, msg) = KernelEvent::Fault(FaultInfo {
            kind,
            ip: VirtAddr(rip),
            sp: VirtAddr(rsp),
        })
        .to_message();
        match self.fast_send_short(tid, pager_ep, kind, msg, args) {
            Some(pager) => Next::SwitchTo(pager),
            None => self.send(tid, pager_ep, Outgoing::Short { kind, msg }),
        }
    }
}

/// An exception in kernel mode (a kernel bug), or a fatal one in any mode
/// (double fault, NMI, machine check). Dumps the kernel-stack words above
/// the faulting stack pointer (return addresses among them locate the bug).
pub fn kernel_exception(frame: &TrapFrame) -> ! {
    let top = crate::arch::gdt::kernel_stack_top();
    let mode = if frame.is_user_mode() { "user" } else { "kernel" };
    if !frame.is_user_mode() && frame.rsp >= top - 0x10000 && frame.rsp < top {
        let words = ((top - frame.rsp) / 8).min(64);
        for i in 0..words {
            let at = frame.rsp + i * 8;
            // SAFETY: `at` lies inside the kernel stack (checked above),
            // which is mapped and readable.
            let value = unsafe { core::ptr::read(at as *const u64) };
            crate::serial::force_write_fmt(format_args!("  stack {at:#x}: {value:#x}\n"));
        }
    }
    panic!(
        "exception {} in {mode} mode at rip {:#x}, error code {:#x}, cr2 {:#x}, rsp {:#x} (kernel stack top {:#x})",
        frame.vector,
        frame.rip,
        frame.error_code,
        Cr2::read_raw(),
        frame.rsp,
        crate::arch::gdt::kernel_stack_top()
    );
}
