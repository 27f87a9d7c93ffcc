//! Spins without a system call for a while: run it beside another program
//! (`run=spin+hello`) and the other program's output appears before spin
//! finishes only if the timer preempts it.
#![no_std]
#![no_main]

runtime::entry!(main);

/// Long enough to span many timer ticks under emulation.
const ITERATIONS: u64 = 100_000_000;

fn main(_arg: u64) -> i64 {
    runtime::println!("spin: start");
    let mut x = 0u64;
    for i in 0..ITERATIONS {
        x = core::hint::black_box(x.wrapping_add(i));
    }
    runtime::println!("spin: done ({x:#x})");
    0
}
