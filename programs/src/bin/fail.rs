//! Exits with code 1: the run must end as a failure (QEMU exit 35).
#![no_std]
#![no_main]

runtime::entry!(main);

fn main(_pid: u64) -> i64 {
    runtime::println!("fail: exiting with code 1");
    1
}
