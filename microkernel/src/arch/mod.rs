//! x86-64 specifics: descriptor tables, trap entry and exit, the system-call
//! instruction, the interrupt controller and timer, segment and FPU state,
//! and the switch to 5-level paging.

pub mod clock;
pub mod fpu;
pub mod gdt;
pub mod interrupts;
pub mod la57;
pub mod segments;
pub mod trap;
