//! Stays alive a while with a secret in memory, for `procfs_peek` to try
//! to read (run as another user: `run=procfs_victim@alice+procfs_peek@bob`).
#![no_std]
#![no_main]

runtime::entry!(main);

static mut SECRET: [u8; 16] = *b"alice's secret!!";

fn main(pid: u64) -> i64 {
    // SAFETY: single-threaded; keeps the secret from being optimized out.
    let first = unsafe { core::ptr::read_volatile(core::ptr::addr_of!(SECRET) as *const u8) };
    runtime::println!("procfs_victim: pid {pid}, secret at {:#x}", core::ptr::addr_of!(SECRET) as u64 + u64::from(first) * 0);
    for _ in 0..2000 {
        libipc::sys::yield_now();
    }
    runtime::println!("procfs_victim: done");
    0
}
