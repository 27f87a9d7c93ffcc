//! Prints facts of its own layout, one per line, for the ASLR tests
//! (`tests/tests/aslr.rs`) to compare between runs: the page of a local
//! variable (the stack), where an anonymous mmap lands (the mmap base), the
//! break (the heap start) and the address of its code.
#![no_std]
#![no_main]

use libipc::types::{PAGE_SIZE, Prot, VirtAddr};
use runtime::pager;

runtime::entry!(main);

fn main(_pid: u64) -> i64 {
    let local = 0u64;
    // The page of a local, not the address itself: the bytes below the
    // stack top that the call chain uses are the same in every run.
    let stack = core::ptr::addr_of!(local) as u64 & !(PAGE_SIZE - 1);
    let (Ok(mmap), Ok(brk)) = (pager::mmap_anon(PAGE_SIZE, Prot::RW), pager::brk(VirtAddr(0))) else {
        runtime::println!("layout_probe: mmap or brk failed");
        return 1;
    };
    runtime::println!("layout_probe: stack {stack:#x}");
    runtime::println!("layout_probe: mmap {:#x}", mmap.0);
    runtime::println!("layout_probe: brk {:#x}", brk.0);
    runtime::println!("layout_probe: code {:#x}", main as fn(u64) -> i64 as usize);
    // Keeps `local` on the stack (not folded into a register).
    core::hint::black_box(&local);
    0
}
