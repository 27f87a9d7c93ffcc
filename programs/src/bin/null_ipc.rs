//! Null IPC round trips and one fault, small enough to trace every
//! instruction (README, "Fault-path benchmark": `-singlestep -d
//! exec,nochain`), and a quick figure: under `-icount shift=0` it prints
//! the instructions per null round trip (as `fault_bench` measures them)
//! and of one fault.
#![no_std]
#![no_main]

use libipc::{
    pager::{Reply, Request},
    types::{PAGE_SIZE, Prot},
};
use runtime::pager;

runtime::entry!(main);

const CALLS: u64 = 1_000;

fn rdtsc() -> u64 {
    // SAFETY: RDTSC is allowed in user mode (CR4.TSD is clear) and has no
    // side effects.
    unsafe { core::arch::x86_64::_rdtsc() }
}

fn main(_arg: u64) -> i64 {
    let Ok(page) = pager::mmap_anon(PAGE_SIZE, Prot::RW) else {
        return 1;
    };
    let c0 = rdtsc();
    // SAFETY: a fresh read-write page.
    unsafe { (page.0 as *mut u8).write_volatile(1) };
    let fault = rdtsc() - c0;
    let c0 = rdtsc();
    for _ in 0..CALLS {
        if pager::request(Request::Null) != Ok(Reply::Done) {
            return 1;
        }
    }
    let null = (rdtsc() - c0 + CALLS / 2) / CALLS;
    runtime::println!("null_ipc ticks_per_call={null} fault_ticks={fault}");
    0
}
