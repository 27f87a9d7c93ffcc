//! RFLAGS.NT from user mode: set NT (and AC, DF) with `popfq`, then make
//! system calls while another program is runnable, so the kernel switches
//! threads and leaves through `iretq` (which faults in ring 0 if the
//! kernel runs with NT set). Run it beside another program
//! (`run=entry_nt+entry_nt`). The kernel must survive, return with NT
//! cleared (not a user-settable flag) and keep the user-settable flags.
#![no_std]
#![no_main]

use core::arch::asm;

use libipc::abi::Syscall;
use programs::{check, verdict};

runtime::entry!(main);

const NT: u64 = 1 << 14;
const AC: u64 = 1 << 18;
const DF: u64 = 1 << 10;
const ROUNDS: u64 = 200;

/// Yields with NT, AC and DF set; returns RFLAGS as the kernel left them
/// (NT, AC and DF are cleared again before Rust code runs).
fn yield_with_nt() -> u64 {
    let flags: u64;
    // SAFETY: NT has no effect in 64-bit user mode unless this code runs
    // `iretq` (it does not); AC only matters with CR0.AM, and no memory
    // is accessed while it is set except the stack (aligned); DF is set
    // only around the `syscall`, and cleared before returning, as Rust
    // requires. The Yield call writes rax, rdi, rsi, rdx and the kernel
    // clobbers rcx and r11; the message registers are declared too.
    unsafe {
        asm!(
            "pushfq",
            "or qword ptr [rsp], {set}",
            "popfq",
            "syscall",
            "pushfq",
            "pop {flags}",
            "pushfq",
            "and qword ptr [rsp], {clear}",
            "popfq",
            set = const NT | AC | DF,
            clear = const !(NT | AC | DF) as i64,
            flags = out(reg) flags,
            inlateout("rax") Syscall::Yield as u64 => _,
            lateout("rdi") _,
            lateout("rsi") _,
            lateout("rdx") _,
            lateout("r8") _,
            lateout("r9") _,
            lateout("r12") _,
            lateout("r13") _,
            lateout("r14") _,
            lateout("rcx") _,
            lateout("r11") _,
        );
    }
    flags
}

fn main(pid: u64) -> i64 {
    let (mut nt_seen, mut kept) = (0, 0);
    for i in 0..ROUNDS {
        let flags = yield_with_nt();
        if flags & NT != 0 {
            nt_seen += 1;
        }
        if flags & (AC | DF) == AC | DF {
            kept += 1;
        }
        // Spin a little so timer interrupts land in user mode too.
        let mut x = 0u64;
        for j in 0..(i % 7) * 500 {
            x = core::hint::black_box(x.wrapping_add(j));
        }
    }
    runtime::println!("entry_nt {pid}: {ROUNDS} yields with NT set; NT came back {nt_seen} times");
    let mut ok = check("NT is cleared on the way back to user mode", nt_seen == 0);
    ok &= check("AC and DF (user flags) are kept", kept == ROUNDS);
    verdict("entry_nt", ok)
}
