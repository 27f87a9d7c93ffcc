//! x86-64 specifics: descriptor tables, trap entry and exit, the system-call
//! instruction, the interrupt controller and timer, segment and FPU state.

pub mod clock;
pub mod fpu;
pub mod gdt;
pub mod interrupts;
pub mod segments;
pub mod trap;
