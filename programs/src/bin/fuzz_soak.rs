//! The long soak of the fuzzer (see `programs::fuzz`): 10 million raw system
//! and IPC calls from a fixed seed, then a check that its faults are still
//! served. Not in CI: run it with the README's soak command.
#![no_std]
#![no_main]

use programs::{check, fuzz, verdict};

runtime::entry!(main);

const SEED: u64 = 0x5eed_f00d_cafe_d00d;
const CALLS: u64 = 10_000_000;

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
    verdict("fuzz_soak", ok)
}
