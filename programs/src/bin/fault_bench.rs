//! The fault-path benchmark: the workload of Linux's
//! `shared/anchors/linux-fault/fault.c`, through our kernel and pager.
//!
//! - first touch: map 64 MiB anonymous private read/write, write one byte to
//!   each 4 KiB page in ascending order (16,384 demand-zero faults), 3 rounds;
//! - single fault: a fresh one-page mapping per sample, 1,024 samples;
//! - null IPC: 100,000 round trips to the pager (`Request::Null`), our
//!   counterpart of a null system call.
//!
//! Figures are TSC ticks per event; under `-icount shift=0` a tick is a
//! guest instruction. Lines match the anchor's format with `microkernel` in
//! place of `anchor linux`.
#![no_std]
#![no_main]

use libipc::{
    pager::{Reply, Request},
    types::{PAGE_SIZE, Prot},
};
use runtime::pager;

runtime::entry!(main);

const PROJECT: &str = "microkernel";
const FIRST_TOUCH_PAGES: u64 = 16_384;
const ROUNDS: u32 = 3;
const SINGLE_FAULT_SAMPLES: u64 = 1_024;
const NULL_CALLS: u64 = 100_000;

fn rdtsc() -> u64 {
    // SAFETY: RDTSC is allowed in user mode (CR4.TSD is clear) and has no
    // side effects.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// `total / n` rounded to nearest, like the anchor's `%.0f`.
fn per(total: u64, n: u64) -> u64 {
    (total + n / 2) / n
}

fn main(_arg: u64) -> i64 {
    for round in 0..ROUNDS {
        let Ok(region) = pager::mmap_anon(FIRST_TOUCH_PAGES * PAGE_SIZE, Prot::RW) else {
            runtime::println!("fault_bench: mmap failed");
            return 1;
        };
        let c0 = rdtsc();
        for i in 0..FIRST_TOUCH_PAGES {
            // SAFETY: inside the read-write mapping just made.
            unsafe { ((region.0 + i * PAGE_SIZE) as *mut u8).write_volatile(1) };
        }
        let c1 = rdtsc();
        runtime::println!(
            "{PROJECT} first_touch round={round} pages={FIRST_TOUCH_PAGES} ticks_per_page={}",
            per(c1 - c0, FIRST_TOUCH_PAGES)
        );
        if pager::munmap(region, FIRST_TOUCH_PAGES * PAGE_SIZE).is_err() {
            return 1;
        }
    }
    let mut total = 0;
    for _ in 0..SINGLE_FAULT_SAMPLES {
        let Ok(page) = pager::mmap_anon(PAGE_SIZE, Prot::RW) else {
            return 1;
        };
        let c0 = rdtsc();
        // SAFETY: a fresh read-write page.
        unsafe { (page.0 as *mut u8).write_volatile(1) };
        let c1 = rdtsc();
        total += c1 - c0;
        if pager::munmap(page, PAGE_SIZE).is_err() {
            return 1;
        }
    }
    runtime::println!(
        "{PROJECT} single_fault samples={SINGLE_FAULT_SAMPLES} ticks_per_fault={}",
        per(total, SINGLE_FAULT_SAMPLES)
    );
    let c0 = rdtsc();
    for _ in 0..NULL_CALLS {
        if pager::request(Request::Null) != Ok(Reply::Done) {
            return 1;
        }
    }
    let c1 = rdtsc();
    runtime::println!(
        "{PROJECT} null_ipc calls={NULL_CALLS} ticks_per_call={}",
        per(c1 - c0, NULL_CALLS)
    );
    0
}
