//! Reads its own `/proc/self/maps` and finds its stack and heap.
#![no_std]
#![no_main]

use libipc::{
    procfs::{PidSelector, ProcFile},
    types::VirtAddr,
};
use programs::{check, verdict};

runtime::entry!(main);

fn main(_pid: u64) -> i64 {
    // Grow the heap by 64 KiB so there is a [heap] to find.
    let Ok(start) = runtime::pager::brk(VirtAddr(0)) else {
        return verdict("procfs_self", false);
    };
    let grown = runtime::pager::brk(VirtAddr(start.0 + 0x10000));
    let mut ok = check("brk grows the heap", grown == Ok(VirtAddr(start.0 + 0x10000)));
    // SAFETY: the first heap byte was just made part of the heap.
    unsafe { (start.0 as *mut u8).write_volatile(1) };
    match runtime::procfs::read_to_end(PidSelector::Self_, ProcFile::Maps) {
        Ok(maps) => {
            let text = core::str::from_utf8(&maps).unwrap_or("");
            for line in text.lines() {
                runtime::println!("procfs_self: {line}");
            }
            ok &= check("maps shows [stack]", text.lines().any(|l| l.ends_with("[stack]")));
            ok &= check("maps shows [heap]", text.lines().any(|l| l.ends_with("[heap]")));
        }
        Err(e) => {
            runtime::println!("procfs_self: reading /proc/self/maps failed: {e:?}");
            ok = false;
        }
    }
    verdict("procfs_self", ok)
}
