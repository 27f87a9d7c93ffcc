//! Leaving QEMU with a status, through the `isa-debug-exit` device.
//!
//! QEMU exits with `(value << 1) | 1`, so no value written here can produce
//! exit code 0: a run that ends any other way (a triple fault reboots, and
//! `-no-reboot` turns that into exit 0) never looks like a pass.

use x86_64::instructions::port::Port;

/// The device's I/O port (`-device isa-debug-exit,iobase=0xf4,iosize=0x04`).
const DEBUG_EXIT_PORT: u16 = 0xf4;

/// What the kernel reports; QEMU exit codes in comments.
#[derive(Clone, Copy, Debug)]
#[repr(u32)]
pub enum QemuExit {
    /// 33: the run completed and every program passed.
    Success = 0x10,
    /// 35: the pager reported a failed run.
    Failure = 0x11,
    /// 37: the kernel panicked.
    KernelPanic = 0x12,
    /// 39: the pager itself faulted or died.
    PagerDied = 0x13,
}

pub fn exit(code: QemuExit) -> ! {
    // SAFETY: writing to the isa-debug-exit port only ends the VM; on real
    // hardware the port is unused and the write is harmless, so we halt.
    unsafe { Port::new(DEBUG_EXIT_PORT).write(code as u32) };
    loop {
        x86_64::instructions::interrupts::disable();
        x86_64::instructions::hlt();
    }
}
