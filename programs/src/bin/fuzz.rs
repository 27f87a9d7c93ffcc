//! The hostile battery's fuzzer (see `programs::fuzz`): 50,000 raw system
//! and IPC calls from a fixed seed, then a check that its faults are still
//! served. `fuzz_soak` is the same with 10 million calls.
#![no_std]
#![no_main]

runtime::entry!(main);

fn main(_arg: u64) -> i64 {
    programs::fuzz::program("fuzz", 0x5eed_f00d_cafe_d00d, 50_000)
}
