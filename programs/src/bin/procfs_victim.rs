//! Stays alive a while with a secret in memory, for `procfs_peek` to try
//! to read (run as another user: `run=procfs_victim@alice+procfs_peek@bob`).
#![no_std]
#![no_main]

runtime::entry!(main);

static mut SECRET: [u8; 16] = *b"alice's secret!!";

fn main(pid: u64) -> i64 {
    // SAFETY: single-threaded; the volatile read keeps the secret in memory.
    let first = unsafe { core::ptr::read_volatile(core::ptr::addr_of!(SECRET) as *const u8) };
    runtime::println!(
        "procfs_victim: pid {pid}, secret at {:#x} (starts with {:?})",
        core::ptr::addr_of!(SECRET) as u64,
        first as char
    );
    for _ in 0..2000 {
        libipc::sys::yield_now();
    }
    runtime::println!("procfs_victim: done");
    0
}
