//! The hostile battery's fuzzer (see `programs::fuzz`): 50,000 raw system
//! and IPC calls from a fixed seed, then a check that its faults are still
//! served. `fuzz_soak` is the same with 10 million calls.
#![no_std]
#![no_main]

use programs::{check, fuzz, verdict};

runtime::entry!(main);

const SEED: u64 = 0x5eed_f00d_cafe_d00d;
const CALLS: u64 = 50_000;

fn main(_arg: u64) -> i64 {
    runtime::println!("fuzz: seed {SEED:#x}, {CALLS} calls");
    let t = fuzz::run(SEED, CALLS);
    runtime::println!(
        "fuzz: {} calls made ({} succeeded, {} refused)",
        t.calls,
        t.ok,
        t.refused
    );
    let ok = check("faults and requests are still served", fuzz::faults_still_served());
    verdict("fuzz", ok)
}
