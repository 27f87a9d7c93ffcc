//! Jumps into a non-executable page: the pager must kill this process.
#![no_std]
#![no_main]

use libipc::types::Prot;

runtime::entry!(main);

/// `ret`.
const RET: u8 = 0xc3;

fn main(_arg: u64) -> i64 {
    let Ok(page) = runtime::pager::mmap_anon(4096, Prot::RW) else {
        return programs::verdict("fault_nx", false);
    };
    // SAFETY: the page is mapped read-write.
    unsafe { (page.0 as *mut u8).write_volatile(RET) };
    runtime::println!("fault_nx: calling into non-executable page {:#x}", page.0);
    // SAFETY: deliberately invalid: the fetch must fault (NX).
    let f: extern "C" fn() = unsafe { core::mem::transmute(page.0 as *const ()) };
    f();
    runtime::println!("fault_nx: SURVIVED executing a non-executable page");
    1
}
