//! Reads through a null pointer: the pager must kill this process (only).
#![no_std]
#![no_main]

runtime::entry!(main);

fn main(_arg: u64) -> i64 {
    runtime::println!("fault_null: reading address 0");
    // SAFETY: deliberately invalid; the fault is the point of the program.
    let v = unsafe { core::ptr::null::<u64>().read_volatile() };
    runtime::println!("fault_null: SURVIVED a null read ({v})");
    1
}
