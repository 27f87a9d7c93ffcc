//! Tries to take the kernel's page-table memory: maps 64 TiB and touches
//! one byte in each GiB, so every touch costs the kernel two page-table
//! frames and the pager one frame. The kernel charges page tables to the
//! process they serve and kills it at its limit; run it beside another
//! program (`run=pt_hog+demand_paging`), which must finish untroubled.
#![no_std]
#![no_main]

use libipc::types::Prot;

runtime::entry!(main);

const GIB: u64 = 1 << 30;
const SPAN: u64 = 64 << 40;

fn main(_arg: u64) -> i64 {
    let Ok(base) = runtime::pager::mmap_anon(SPAN, Prot::RW) else {
        runtime::println!("pt_hog: mmap of 64 TiB refused");
        return 1;
    };
    runtime::println!("pt_hog: mapped 64 TiB at {:#x}; touching one byte per GiB", base.0);
    let mut touched = 0u64;
    while touched * GIB < SPAN {
        let p = (base.0 + touched * GIB) as *mut u8;
        // SAFETY: inside the mapping just made, read-write.
        unsafe { p.write_volatile(1) };
        touched += 1;
        if touched.is_multiple_of(4096) {
            runtime::println!("pt_hog: {touched} GiB touched");
        }
    }
    runtime::println!("pt_hog: touched all {touched} GiB: the kernel did not stop it");
    1
}
