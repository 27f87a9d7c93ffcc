//! Stack-clash protection: maps a page (MAP_FIXED) 64 pages below its
//! stack VMA, then grows the stack down 32 pages, one page at a time. With
//! the default `stack_guard_gap` (256 pages) the first page of growth is
//! already within the gap above that mapping, so the pager kills the
//! program; with `stack_guard_gap=1` the growth stays clear of the gap and
//! succeeds. Both distances are relative to the stack VMA read from
//! `/proc/self/maps` (boot with `service=procfs`), so ASLR does not change
//! the outcome.
#![no_std]
#![no_main]

use libipc::{
    procfs::{PidSelector, ProcFile},
    types::{PAGE_SIZE, Prot},
};
use programs::{check, mmap_fixed, verdict};

runtime::entry!(main);

/// The mapping below the stack starts this many pages below its VMA.
const MAPPING_BELOW: u64 = 64;
/// Pages the stack grows by.
const GROWTH: u64 = 32;

/// `(start, end)` of the `[stack]` line of `/proc/self/maps`.
fn stack_vma() -> Option<(u64, u64)> {
    let maps = runtime::procfs::read_to_end(PidSelector::Self_, ProcFile::Maps).ok()?;
    let text = core::str::from_utf8(&maps).ok()?;
    let line = text.lines().find(|l| l.ends_with("[stack]"))?;
    let range = line.split(' ').next()?;
    let (start, end) = range.split_once('-')?;
    Some((u64::from_str_radix(start, 16).ok()?, u64::from_str_radix(end, 16).ok()?))
}

fn main(_pid: u64) -> i64 {
    let Some((start, end)) = stack_vma() else {
        runtime::println!("stack_clash: no [stack] in /proc/self/maps (boot with service=procfs)");
        return verdict("stack_clash", false);
    };
    let below = start - MAPPING_BELOW * PAGE_SIZE;
    if mmap_fixed(below, PAGE_SIZE, Prot::RW).is_err() {
        runtime::println!("stack_clash: mmap of {below:#x} failed");
        return verdict("stack_clash", false);
    }
    runtime::println!("stack_clash: stack {start:#x}-{end:#x}, a page mapped at {below:#x}; growing the stack down");
    for page in 1..=GROWTH {
        let addr = start - page * PAGE_SIZE;
        // SAFETY: below the stack pointer (the stack is far higher up, near
        // `end`), in the range the stack VMA grows into: the write is the
        // growth under test and touches no Rust object. Interrupts and
        // system calls run on the kernel's stack, not this one.
        unsafe { (addr as *mut u64).write_volatile(page) };
    }
    runtime::println!("stack_clash: grew the stack by {GROWTH} pages");
    let mut ok = check(
        "the stack VMA grew",
        stack_vma() == Some((start - GROWTH * PAGE_SIZE, end)),
    );
    // SAFETY: the lowest page just written, now part of the stack VMA.
    let back = unsafe { ((start - GROWTH * PAGE_SIZE) as *const u64).read_volatile() };
    ok &= check("the grown stack holds its data", back == GROWTH);
    verdict("stack_clash", ok)
}
