//! Executes an invalid instruction (`ud2`): the pager must kill this process.
#![no_std]
#![no_main]

runtime::entry!(main);

fn main(_pid: u64) -> i64 {
    runtime::println!("fault_ud: executing ud2");
    // SAFETY: deliberately raises #UD; nothing runs after it if the kernel
    // and pager do their job.
    unsafe { core::arch::asm!("ud2") };
    runtime::println!("fault_ud: SURVIVED ud2");
    1
}
