//! Writes fresh pages until the pager kills it: written anonymous memory
//! cannot be reclaimed (there is no swap), so under `pool_pages=` it ends
//! "killed: out of memory", and the programs after it still run.
#![no_std]
#![no_main]

use libipc::types::Prot;
use programs::verdict;
use runtime::pager;

runtime::entry!(main);

const SIZE: u64 = 256 << 20;

fn main(_pid: u64) -> i64 {
    let Ok(region) = pager::mmap_anon(SIZE, Prot::RW) else {
        return verdict("oom_hog", false);
    };
    runtime::println!("oom_hog: writing 256 MiB");
    for offset in (0..SIZE).step_by(4096) {
        // SAFETY: inside the read-write mapping just made.
        unsafe { ((region.0 + offset) as *mut u8).write_volatile(1) };
    }
    runtime::println!("oom_hog: the pager never ran out of frames");
    verdict("oom_hog", false)
}
