//! The Rust side of kernel entry: called by the assembly stubs in
//! `arch::trap` with the saved registers; each returns the frame to leave
//! through (the next thread's, in its control block).

use crate::{
    KERNEL,
    arch::{
        interrupts,
        trap::{self, TrapFrame},
    },
    fault,
};

/// Vectors that run on IST stacks (`arch::gdt`) and are always fatal: the
/// double fault, and the NMI and machine check (hardware events the kernel
/// does not handle; none is expected on this machine).
const FATAL_VECTORS: [u64; 3] = [
    fault::vector::NMI,
    fault::vector::DOUBLE_FAULT,
    fault::vector::MACHINE_CHECK,
];

/// The kernel's lock, taken on every entry. It is always free then: one
/// CPU, and the kernel runs with interrupts off, so no entry nests inside
/// another's critical section. One byte tested and set
/// ([`crate::kernel_cell`]); a held lock would be a kernel bug, which
/// panics rather than spins forever.
#[inline(always)]
fn lock() -> crate::kernel_cell::KernelGuard<'static> {
    KERNEL.try_lock().expect("the kernel is in and free on every entry")
}

/// Notes a kernel entry of the current thread, whose registers the stub has
/// already saved into its control block; returns its id.
fn entered(kernel: &mut crate::object::Kernel, frame: *const TrapFrame) -> libipc::types::Tid {
    kernel.entry_tsc = crate::entropy::tsc();
    let tid = kernel.current().expect("an entry from user mode has a current thread");
    debug_assert!(
        core::ptr::eq(&kernel.thread(tid).expect("current thread exists").frame, frame),
        "the entry stub saved the registers outside the current thread"
    );
    if cfg!(debug_assertions) {
        // SAFETY: the stub passes the frame it has just pushed.
        let rflags = unsafe { (*frame).rflags };
        assert!(
            rflags & !trap::EXIT_FLAGS == 0 && rflags & trap::FORCED_FLAGS == trap::FORCED_FLAGS,
            "user RFLAGS {rflags:#x} not sanitised on entry"
        );
    }
    tid
}

/// Counts an entry the thread made itself (a system call or an exception,
/// not an interrupt): `ThreadEntries`.
#[inline(always)]
fn count_entry(kernel: &mut crate::object::Kernel, tid: libipc::types::Tid) {
    if let Some(t) = kernel.thread_mut(tid) {
        t.entries += 1;
    }
}

/// Exceptions and interrupts. `preserve_none`, as [`syscall_dispatch`]:
/// the stub has every register of the interrupted context in the frame
/// and restores them from it.
pub extern "rust-preserve-none" fn trap_dispatch(frame: *mut TrapFrame) -> *mut TrapFrame {
    // SAFETY: the stub passes the frame it has just pushed; nothing else
    // refers to it while this function reads it.
    let saved = unsafe { &*frame };
    let vector = saved.vector;
    if vector == u64::from(interrupts::SPURIOUS_VECTOR) {
        return frame;
    }
    if !saved.is_user_mode() || FATAL_VECTORS.contains(&vector) {
        if vector == u64::from(interrupts::TIMER_VECTOR) {
            interrupts::end_of_interrupt(interrupts::TIMER_VECTOR);
            return frame;
        }
        fault::kernel_exception(saved);
    }
    let mut guard = lock();
    let kernel = &mut *guard;
    let tid = entered(kernel, frame);
    let next = if vector == u64::from(interrupts::TIMER_VECTOR) {
        interrupts::end_of_interrupt(interrupts::TIMER_VECTOR);
        kernel.preempt(tid)
    } else {
        count_entry(kernel, tid);
        if vector == fault::vector::DEVICE_NOT_AVAILABLE {
            kernel.fpu_trap(tid)
        } else {
            kernel.user_fault(tid)
        }
    };
    kernel.finish(tid, next)
}

/// `syscall`. The fast path (`fastpath`, inlined here) runs first, in this
/// function's small frame: the lock, the current thread and the fast
/// path's own lookups, nothing of the general path (as seL4's
/// `fastpath_call`, checked at entry). Anything it does not take goes to
/// [`syscall_slow`], which is never inlined here, so its frame and
/// register saves are paid only by the calls that need it.
///
/// Its convention is `preserve_none` (the frame pointer in r12, the result
/// in rax): the stub has no register live across the call (every user
/// register is in the thread's control block, and the stub leaves through
/// `trap_return` with the frame returned), so the callee-saved registers
/// the C convention would push and pop on every entry are dead.
pub extern "rust-preserve-none" fn syscall_dispatch(frame: *mut TrapFrame) -> *mut TrapFrame {
    let mut guard = lock();
    let kernel = &mut *guard;
    let tid = kernel.current().expect("an entry from user mode has a current thread");
    if cfg!(debug_assertions) {
        entered(kernel, frame);
    }
    // Counts the entry too.
    if let Some(next) = kernel.fastpath(tid) {
        return next;
    }
    syscall_slow(kernel, tid)
}

/// The general path of a system call. The entry's time stamp (the fault
/// profile's reply stamp, `Kernel::fault_reply`) is taken here; the fast
/// path takes it only for a fault reply.
#[inline(never)]
fn syscall_slow(kernel: &mut crate::object::Kernel, tid: libipc::types::Tid) -> *mut TrapFrame {
    kernel.entry_tsc = crate::entropy::tsc();
    let next = kernel.syscall(tid);
    kernel.finish(tid, next)
}
