//! The direction flag from user mode. Several copies run together
//! (`run=entry_df+entry_df+...`), each storing to thousands of fresh pages
//! with DF set (`std`): every store faults, so the kernel's fault entry
//! runs with the user's RFLAGS, and with the pager busy (or preempted) the
//! faults queue on its endpoint and the kernel grows its queues (a heap
//! reallocation: `rep movs`) on that path. The pages lie in different
//! 2 MiB and 1 GiB ranges, so the pager's replies also make the kernel
//! allocate and zero page tables. A system call that copies memory is made
//! with DF set too. Then every page must hold what was written and zeros
//! elsewhere, and the kernel must still work. A kernel that ran its entry
//! paths with the user's DF copies backwards: lost or garbage queue
//! entries, a corrupted heap, a hang or a panic.
#![no_std]
#![no_main]

use core::arch::asm;

use libipc::{abi::Syscall, types::Prot};
use programs::{check, verdict};

runtime::entry!(main);

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;
/// Two 1 GiB directories' worth of address space.
const REGION: u64 = 2 * GIB;
/// Pages touched, each once.
const TOUCHES: u64 = 1500;

/// Consecutive pages in 8 runs: 4 ranges 256 MiB apart in each GiB.
fn offset(i: u64) -> u64 {
    (i / 8) * 4096 + (i % 4) * 256 * MIB + (i / 4 % 2) * GIB
}

fn pattern(pid: u64, i: u64) -> u64 {
    0xdf00_0000_0000_0000 | (pid << 32) | i
}

/// Stores `value` at `addr` with DF set: the store faults (a fresh page)
/// and the kernel takes the fault with the user's RFLAGS.
///
/// # Safety
/// `addr` must be in a read-write mapping of this program.
unsafe fn store_with_df(addr: u64, value: u64) {
    // SAFETY: the caller guarantees `addr` is writable; DF is cleared
    // again before the block ends, as Rust requires.
    unsafe {
        asm!(
            "std",
            "mov qword ptr [{addr}], {value}",
            "cld",
            addr = in(reg) addr,
            value = in(reg) value,
            options(nostack),
        );
    }
}

/// `DebugWrite(msg)` made with DF set: the kernel copies `msg` in.
fn debug_write_with_df(msg: &[u8]) -> u64 {
    let rax: u64;
    // SAFETY: a DebugWrite of our own buffer; the kernel writes rax, rdi,
    // rsi, rdx and clobbers rcx and r11 (message registers declared too).
    // DF is cleared again before the block ends.
    unsafe {
        asm!(
            "std",
            "syscall",
            "cld",
            inlateout("rax") Syscall::DebugWrite as u64 => rax,
            inlateout("rdi") msg.as_ptr() as u64 => _,
            inlateout("rsi") msg.len() as u64 => _,
            inlateout("rdx") 0u64 => _,
            lateout("r8") _,
            lateout("r9") _,
            lateout("r12") _,
            lateout("r13") _,
            lateout("r14") _,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    rax
}

fn main(pid: u64) -> i64 {
    let Ok(region) = runtime::pager::mmap_anon(REGION, Prot::RW) else {
        return verdict("entry_df", false);
    };
    // Known data on the stack, checked after the faults.
    let guard: [u64; 64] = core::array::from_fn(|i| 0x5a5a_0000 + i as u64);
    for i in 0..TOUCHES {
        // SAFETY: inside the read-write region just mapped.
        unsafe { store_with_df(region.0 + offset(i) + 8 * (i % 512), pattern(pid, i)) };
    }
    // On the stack, so mapped: the kernel does not fault buffers in.
    let msg = *b"entry_df: a system call made with DF set\n";
    let mut ok = check("system call with DF set", debug_write_with_df(&msg) == 0);
    let mut bad = 0u64;
    for i in 0..TOUCHES {
        let at = region.0 + offset(i) + 8 * (i % 512);
        let page = at & !4095;
        // SAFETY: every page was touched above, so it is mapped.
        let (v, first, last) = unsafe {
            (
                (at as *const u64).read_volatile(),
                (page as *const u64).read_volatile(),
                ((page + 4088) as *const u64).read_volatile(),
            )
        };
        let zeros_ok = (page == at || first == 0) && (page + 4088 == at || last == 0);
        if v != pattern(pid, i) || !zeros_ok {
            bad += 1;
            if bad < 4 {
                runtime::println!("entry_df: touch {i} at {at:#x}: read {v:#x} (first {first:#x}, last {last:#x})");
            }
        }
    }
    ok &= check("every page holds what was written, and zeros", bad == 0);
    ok &= check(
        "data on the stack intact",
        guard.iter().enumerate().all(|(i, &v)| v == 0x5a5a_0000 + i as u64),
    );
    ok &= check(
        "the kernel still answers",
        libipc::sys::kernel_info().is_ok_and(|k| k.free_frames.0 > 0 && k.free_frames.0 <= k.total_frames.0),
    );
    verdict("entry_df", ok)
}
