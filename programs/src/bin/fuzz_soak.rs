//! The long soak of the fuzzer (see `programs::fuzz`): 10 million raw
//! system and IPC calls. Not in CI: the README gives the command.
#![no_std]
#![no_main]

runtime::entry!(main);

fn main(_arg: u64) -> i64 {
    programs::fuzz::program("fuzz_soak", 0x5eed_f00d_cafe_d00d, 10_000_000)
}
