//! The Rust side of kernel entry: called by the assembly stubs in
//! `arch::trap` with the saved user registers.

use crate::{
    KERNEL,
    arch::{interrupts, trap::TrapFrame},
    fault,
};

/// Saves the current thread's registers and returns its id.
fn save(kernel: &mut crate::object::Kernel, frame: &TrapFrame) -> libipc::types::Tid {
    kernel.entry_tsc = crate::entropy::tsc();
    let tid = kernel.current.expect("an entry from user mode has a current thread");
    kernel.thread_mut(tid).expect("current thread exists").frame = *frame;
    tid
}

/// Exceptions and interrupts.
pub extern "C" fn trap_dispatch(frame: &mut TrapFrame) {
    let vector = frame.vector;
    if vector == u64::from(interrupts::SPURIOUS_VECTOR) {
        return;
    }
    if !frame.is_user_mode() {
        if vector == u64::from(interrupts::TIMER_VECTOR) {
            interrupts::end_of_interrupt(interrupts::TIMER_VECTOR);
            return;
        }
        fault::kernel_exception(frame);
    }
    let mut guard = KERNEL.lock();
    let kernel = guard.as_mut().expect("kernel initialized");
    let tid = save(kernel, frame);
    let next = if vector == u64::from(interrupts::TIMER_VECTOR) {
        interrupts::end_of_interrupt(interrupts::TIMER_VECTOR);
        kernel.preempt(tid)
    } else {
        kernel.user_fault(tid)
    };
    kernel.finish(tid, next, frame);
}

/// `syscall`.
pub extern "C" fn syscall_dispatch(frame: &mut TrapFrame) {
    let mut guard = KERNEL.lock();
    let kernel = guard.as_mut().expect("kernel initialized");
    let tid = save(kernel, frame);
    let next = kernel.syscall(tid);
    kernel.finish(tid, next, frame);
}
