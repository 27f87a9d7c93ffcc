//! The legacy PIC and the PIT timer that drives preemption.

use pic8259::ChainedPics;
use spin::Mutex;
use x86_64::instructions::port::Port;

/// Hardware interrupts are remapped above the CPU exceptions.
pub const PIC1_OFFSET: u8 = 32;
pub const TIMER_VECTOR: u8 = PIC1_OFFSET;
/// The spurious vector of PIC 1 (IRQ 7).
pub const SPURIOUS_VECTOR: u8 = PIC1_OFFSET + 7;

/// Preemption frequency.
pub const TIMER_HZ: u32 = 100;
const PIT_BASE_HZ: u32 = 1_193_182;
const PIT_CHANNEL0: u16 = 0x40;
const PIT_COMMAND: u16 = 0x43;
/// Channel 0, lobyte/hibyte, mode 2 (rate generator).
const PIT_MODE_RATE: u8 = 0x34;

static PICS: Mutex<ChainedPics> = Mutex::new(
    // SAFETY: the offsets do not overlap the CPU exception vectors.
    unsafe { ChainedPics::new(PIC1_OFFSET, PIC1_OFFSET + 8) },
);

pub fn init() {
    let divisor = (PIT_BASE_HZ / TIMER_HZ) as u16;
    // SAFETY: programming the PIC and PIT through their standard ports; the
    // kernel is their only user and interrupts are still off.
    unsafe {
        let mut pics = PICS.lock();
        pics.initialize();
        // Only the timer (IRQ 0) is unmasked.
        pics.write_masks(0xfe, 0xff);
        Port::<u8>::new(PIT_COMMAND).write(PIT_MODE_RATE);
        let mut ch0 = Port::<u8>::new(PIT_CHANNEL0);
        ch0.write(divisor as u8);
        ch0.write((divisor >> 8) as u8);
    }
}

pub fn end_of_interrupt(vector: u8) {
    // SAFETY: acknowledges the interrupt being handled.
    unsafe { PICS.lock().notify_end_of_interrupt(vector) };
}

/// Halts until an interrupt (the timer's, at most a tick away) and returns
/// with interrupts off again. The kernel's interrupt path, from kernel
/// mode, only acknowledges it: the caller looks at what the time woke.
pub fn wait_for_interrupt() {
    // SAFETY: `sti; hlt` cannot miss the interrupt (STI's shadow covers
    // HLT); the timer interrupt taken in kernel mode touches no kernel
    // state, so the caller's locks and borrows stay sound.
    unsafe { core::arch::asm!("sti", "hlt", "cli", options(nomem, nostack)) };
}
