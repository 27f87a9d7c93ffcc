//! Per-thread FS and GS bases (`run=seg_tls+seg_tls`): each copy points
//! its FS base at its own data and its GS base one word further, one copy
//! also loads the user data selector into ds, es, fs and gs (before
//! setting the bases, which those loads reset); both yield to each other
//! many times and must read their own values and selectors every time.
#![no_std]
#![no_main]

use libipc::{
    abi::SegmentBase,
    sys,
    types::{Prot, VirtAddr},
};
use programs::{
    check,
    segments::{self, USER_DATA},
    verdict,
};

runtime::entry!(main);

const ROUNDS: u64 = 300;

fn main(pid: u64) -> i64 {
    let Ok(page) = runtime::pager::mmap_anon(4096, Prot::RW) else {
        return verdict("seg_tls", false);
    };
    let (mine, mine_gs) = (0x7150_0000 + pid, 0x6750_0000 + pid);
    // SAFETY: a fresh read-write page.
    unsafe {
        (page.0 as *mut u64).write_volatile(mine);
        ((page.0 + 8) as *mut u64).write_volatile(mine_gs);
    }
    let selector = if pid % 2 == 1 { USER_DATA } else { 0 };
    segments::load_all(selector);
    let mut ok = check("set FS base", sys::set_segment_base(SegmentBase::Fs, page) == Ok(()));
    ok &= check(
        "set GS base",
        sys::set_segment_base(SegmentBase::Gs, VirtAddr(page.0 + 8)) == Ok(()),
    );
    let mut wrong = 0;
    for i in 0..ROUNDS {
        sys::yield_now();
        // SAFETY: both bases point into our page.
        let (fs, gs) = unsafe { (segments::read_fs(0), segments::read_gs(0)) };
        if fs != mine || gs != mine_gs || segments::selectors() != [selector; 4] {
            wrong += 1;
        }
        // Spin a little so the timer also preempts us in user mode.
        let mut x = 0u64;
        for j in 0..(i % 5) * 400 {
            x = core::hint::black_box(x.wrapping_add(j));
        }
    }
    runtime::println!("seg_tls {pid}: selectors {selector:#x}, {ROUNDS} rounds, {wrong} wrong");
    ok &= check("own FS and GS base and selectors after every yield", wrong == 0);
    verdict("seg_tls", ok)
}
