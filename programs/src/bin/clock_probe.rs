//! The clock page from a native program (`runtime::time`): clocks read
//! without entering the kernel, their agreement, and the kernel's sleep.
//! Prints `[name] ok|FAILED` lines and the wall time for the test to
//! compare with the host's.
#![no_std]
#![no_main]

use libipc::sys;
use runtime::{
    println,
    time::{self, ClockId},
};

runtime::entry!(main);

fn check(name: &str, ok: bool) -> bool {
    println!("[{name}] {}", if ok { "ok" } else { "FAILED" });
    ok
}

fn main(_arg: u64) -> i64 {
    let mut ok = true;
    // Learn the page and touch it first: the request and the first
    // touch's fault are kernel entries.
    ok &= check("the pager gives the clock page", time::clock_page().is_ok());
    let mut last = time::monotonic_ns().unwrap_or(0);
    let before = sys::own_entries();
    let mut monotonic = true;
    for _ in 0..100_000 {
        let now = time::monotonic_ns().unwrap_or(0);
        monotonic &= now >= last;
        last = now;
    }
    let after = sys::own_entries();
    ok &= check("100,000 monotonic reads never decrease", monotonic);
    // One entry: the first `own_entries` call itself.
    ok &= check("and enter the kernel no time", after - before == 1);
    println!("kernel entries during the loop: {}", after - before - 1);

    let real = time::clock_gettime(ClockId::Realtime).unwrap_or_default();
    let coarse = time::clock_gettime(ClockId::RealtimeCoarse).unwrap_or_default();
    let mono = time::clock_gettime(ClockId::Monotonic).unwrap_or_default();
    let boot = time::clock_gettime(ClockId::Boottime).unwrap_or_default();
    let raw = time::clock_gettime(ClockId::MonotonicRaw).unwrap_or_default();
    println!("realtime seconds: {}", real.sec);
    ok &= check("realtime is after 2020", real.sec > 1_577_836_800);
    ok &= check(
        "coarse realtime is within a tick behind",
        real >= coarse && real.sec - coarse.sec <= 1,
    );
    ok &= check(
        "monotonic, raw and boottime agree",
        boot >= mono && raw >= mono && boot.sec - mono.sec <= 1,
    );
    ok &= check(
        "coarse resolution is the tick",
        time::clock_getres(ClockId::MonotonicCoarse)
            == Ok(time::Timespec {
                sec: 0,
                nsec: 10_000_000,
            }),
    );
    ok &= check(
        "fine resolution is a nanosecond",
        time::clock_getres(ClockId::Monotonic) == Ok(time::Timespec { sec: 0, nsec: 1 }),
    );
    ok &= check("getcpu is 0", time::cpu() == Ok(0));

    // The kernel's sleep: 30 ms, then a past deadline returns at once.
    let start = time::monotonic_ns().unwrap_or(0);
    let _ = time::sleep(30_000_000);
    let slept = time::monotonic_ns().unwrap_or(0) - start;
    ok &= check("sleep(30 ms) sleeps at least 30 ms", slept >= 30_000_000);
    ok &= check("and wakes within a few ticks", slept < 30_000_000 + 100_000_000);
    time::sleep_until(0);
    ok &= check("a past deadline returns", true);
    if ok { 0 } else { 1 }
}
