//! Isolation, first half: runs beside `isolation_b` (`run=isolation_a+isolation_b`).
#![no_std]
#![no_main]

runtime::entry!(main);

fn main(_arg: u64) -> i64 {
    programs::isolation("isolation_a", 0xaaaa_aaaa)
}
