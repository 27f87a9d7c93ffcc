//! Divides by zero with `div` (#DE): the pager must kill this process.
#![no_std]
#![no_main]

runtime::entry!(main);

fn main(_pid: u64) -> i64 {
    runtime::println!("fault_divide: dividing by zero");
    // SAFETY: deliberately raises #DE (rax / 0); registers are declared.
    unsafe {
        core::arch::asm!("xor edx, edx", "div rcx", inout("rax") 1u64 => _, in("rcx") 0u64, out("rdx") _);
    }
    runtime::println!("fault_divide: SURVIVED a division by zero");
    1
}
