//! Segment state, first half (`run=seg_dirty,seg_fresh`): loads ds, es, fs
//! and gs with the user data selector, points the FS and GS bases one page
//! into a two-page buffer, checks its own state survives yields, and exits
//! with all of it still loaded. `seg_fresh`, run next, must not see any
//! of it.
#![no_std]
#![no_main]

use libipc::{
    abi::SegmentBase,
    sys,
    types::{Prot, VirtAddr},
};
use programs::{
    check, mmap_fixed,
    segments::{self, USER_DATA},
    verdict,
};

runtime::entry!(main);

/// The two-page buffer both halves map at the same address.
const BUF: u64 = 0x6000_0000;

fn main(_pid: u64) -> i64 {
    if mmap_fixed(BUF, 8192, Prot::RW).is_err() {
        return verdict("seg_dirty", false);
    }
    // SAFETY: both pages were just mapped read-write.
    unsafe {
        (BUF as *mut u64).write_volatile(0x1111);
        ((BUF + 4096) as *mut u64).write_volatile(0x2222);
    }
    segments::load_all(USER_DATA);
    let mut ok = check(
        "set FS base",
        sys::set_segment_base(SegmentBase::Fs, VirtAddr(4096)) == Ok(()),
    );
    ok &= check(
        "set GS base",
        sys::set_segment_base(SegmentBase::Gs, VirtAddr(4096)) == Ok(()),
    );
    let mut wrong = 0;
    for _ in 0..20 {
        sys::yield_now();
        // SAFETY: with the bases set above, fs:[BUF] and gs:[BUF] are the
        // second page; if a base were lost they would be the first, both
        // mapped.
        let (fs, gs) = unsafe { (segments::read_fs(BUF), segments::read_gs(BUF)) };
        if segments::selectors() != [USER_DATA; 4] || fs != 0x2222 || gs != 0x2222 {
            wrong += 1;
        }
    }
    ok &= check("own selectors and bases survive yields", wrong == 0);
    runtime::println!("seg_dirty: exiting with selectors {:#x?}", segments::selectors());
    verdict("seg_dirty", ok)
}
