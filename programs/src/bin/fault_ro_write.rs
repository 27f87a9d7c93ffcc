//! Writes to a read-only page: the pager must kill this process (only).
#![no_std]
#![no_main]

use libipc::types::Prot;

runtime::entry!(main);

fn main(_arg: u64) -> i64 {
    let Ok(page) = runtime::pager::mmap_anon(4096, Prot::READ) else {
        return programs::verdict("fault_ro_write", false);
    };
    // SAFETY: deliberately invalid: a read of a read-only page is fine...
    let _ = unsafe { (page.0 as *const u8).read_volatile() };
    runtime::println!("fault_ro_write: writing to read-only page {:#x}", page.0);
    // SAFETY: ...but this write must kill us; nothing is harmed if it does not.
    unsafe { (page.0 as *mut u8).write_volatile(1) };
    runtime::println!("fault_ro_write: SURVIVED a write to a read-only page");
    1
}
