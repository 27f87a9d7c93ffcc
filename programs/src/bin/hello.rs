//! The smallest program: prints a line and exits.
#![no_std]
#![no_main]

runtime::entry!(main);

fn main(_arg: u64) -> i64 {
    runtime::println!("hello from user mode");
    0
}
