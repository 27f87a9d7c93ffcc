//! The demo: what `cargo run -p boot` shows. Maps memory, touches some of
//! it, and asks the pager what it did.
#![no_std]
#![no_main]

use libipc::types::{PAGE_SIZE, Prot};
use runtime::pager;

runtime::entry!(main);

const REGION: u64 = 64 << 20;
const TOUCHED: u64 = 8;

fn main(_arg: u64) -> i64 {
    runtime::println!("demo: hello from user mode; every page I touch is a fault served by the pager");
    let Ok(region) = pager::mmap_anon(REGION, Prot::RW) else {
        runtime::println!("demo: mmap failed");
        return 1;
    };
    runtime::println!(
        "demo: mapped 64 MiB at {:#x}; resident pages: {}",
        region.0,
        pager::resident(region, REGION).map_or(0, |p| p.0)
    );
    for i in 0..TOUCHED {
        // SAFETY: inside the read-write mapping just made.
        unsafe { ((region.0 + i * 1024 * PAGE_SIZE) as *mut u64).write_volatile(i) };
    }
    let resident = pager::resident(region, REGION).map_or(0, |p| p.0);
    runtime::println!("demo: touched {TOUCHED} pages 4 MiB apart; resident pages now: {resident}");
    let (free, total) = pager::pool_stats().unwrap_or_default();
    runtime::println!("demo: pager pool: {} of {} frames free", free.0, total.0);
    let ok = pager::munmap(region, REGION).is_ok();
    runtime::println!("demo: unmapped; done");
    if ok && resident == TOUCHED { 0 } else { 1 }
}
