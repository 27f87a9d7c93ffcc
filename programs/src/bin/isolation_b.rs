//! Isolation, second half: runs beside `isolation_a` (`run=isolation_a+isolation_b`).
#![no_std]
#![no_main]

runtime::entry!(main);

fn main(_arg: u64) -> i64 {
    programs::isolation("isolation_b", 0xbbbb_bbbb)
}
