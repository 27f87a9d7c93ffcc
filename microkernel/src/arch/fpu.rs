//! The FPU and SSE state of user threads, switched lazily.
//!
//! Linux programs use SSE everywhere (`memcpy`, `printf`); the kernel, the
//! pager and native programs are built without it. So the state is not
//! saved and restored on every switch: the CPU holds the state of one
//! thread, the *owner*, and runs every other thread with CR0.TS set. The
//! first FPU or SSE instruction of a thread that is not the owner raises
//! #NM; the kernel then saves the owner's state into the owner's area,
//! loads this thread's (or the initial state for a thread that never used
//! it), makes it the owner and retries the instruction. A switch costs a
//! compare, and a CR0 write only when the owner starts or stops running:
//! threads that never touch the FPU never pay for it.

use alloc::boxed::Box;
use core::arch::asm;

use x86_64::registers::control::{Cr0, Cr0Flags, Cr4, Cr4Flags};

/// An `fxsave` image: 512 bytes, 16-byte aligned.
#[derive(Clone, Debug)]
#[repr(C, align(16))]
pub struct FpuArea([u8; 512]);

impl FpuArea {
    /// The state a thread starts with, as Linux's: x87 control word 0x37f
    /// (all exceptions masked, extended precision), MXCSR 0x1f80 (all SSE
    /// exceptions masked, round to nearest), every register zero.
    pub fn initial() -> Box<FpuArea> {
        let mut area = FpuArea([0; 512]);
        area.0[0..2].copy_from_slice(&0x037f_u16.to_le_bytes());
        area.0[24..28].copy_from_slice(&0x1f80_u32.to_le_bytes());
        // MXCSR_MASK: the bits MXCSR may hold (the usual value).
        area.0[28..32].copy_from_slice(&0xffff_u32.to_le_bytes());
        Box::new(area)
    }
}

/// Whether CR0.TS is set now (kept here so a switch need not read CR0).
static mut TS_SET: bool = false;

/// Turns the FPU and SSE on for user code (CR0.EM off, MP on; CR4.OSFXSR
/// and OSXMMEXCPT on) and sets TS, so the first use raises #NM. Called
/// once at boot.
pub fn init() {
    // SAFETY: enabling the FPU and SSE changes no memory; the kernel is
    // built without SSE, and TS makes any FPU use before a thread owns it
    // trap, so no state leaks.
    unsafe {
        Cr0::update(|f| {
            f.remove(Cr0Flags::EMULATE_COPROCESSOR);
            f.insert(Cr0Flags::MONITOR_COPROCESSOR | Cr0Flags::TASK_SWITCHED);
        });
        Cr4::update(|f| f.insert(Cr4Flags::OSFXSR | Cr4Flags::OSXMMEXCPT_ENABLE));
        TS_SET = true;
    }
}

/// Runs the next thread with TS clear if it owns the FPU, set otherwise.
#[inline(always)]
pub fn switching_to_owner(owner: bool) {
    // SAFETY: single CPU with interrupts off: nothing else reads TS_SET.
    let ts = unsafe { TS_SET };
    if owner == ts {
        if owner {
            // SAFETY: clearing TS lets the owner use the state it holds.
            unsafe { asm!("clts", options(nomem, nostack, preserves_flags)) };
        } else {
            // SAFETY: setting TS only makes the next FPU use trap. A read,
            // an OR and a write (`Cr0::update` reads CR0 twice, for the
            // reserved bits, and masks them back in).
            unsafe {
                asm!(
                    "mov {t}, cr0",
                    "or {t}, {ts}",
                    "mov cr0, {t}",
                    t = out(reg) _,
                    ts = const Cr0Flags::TASK_SWITCHED.bits(),
                    options(nomem, nostack),
                )
            };
        }
        // SAFETY: as above.
        unsafe { TS_SET = !owner };
    }
}

/// The #NM handover: saves the CPU's state into `previous` (the old
/// owner's area, if it still exists), loads `next`, and leaves TS clear.
pub fn hand_over(previous: Option<&mut FpuArea>, next: &FpuArea) {
    // SAFETY: clearing TS is what #NM asks for; both areas are 512 bytes,
    // 16-byte aligned (`FpuArea`'s layout), valid for the instruction.
    unsafe {
        asm!("clts", options(nomem, nostack, preserves_flags));
        TS_SET = false;
        if let Some(area) = previous {
            asm!("fxsave64 [{}]", in(reg) area.0.as_mut_ptr(), options(nostack, preserves_flags));
        }
        asm!("fxrstor64 [{}]", in(reg) next.0.as_ptr(), options(nostack, preserves_flags));
    }
}
