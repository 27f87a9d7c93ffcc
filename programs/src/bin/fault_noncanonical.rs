//! Reads a non-canonical address: a general-protection fault, not a page
//! fault; the pager must kill this process.
#![no_std]
#![no_main]

runtime::entry!(main);

const NON_CANONICAL: u64 = 0xdead_beef_0000_0000;

fn main(_arg: u64) -> i64 {
    runtime::println!("fault_noncanonical: reading {NON_CANONICAL:#x}");
    // SAFETY: deliberately invalid: the CPU raises #GP.
    let v = unsafe { (NON_CANONICAL as *const u64).read_volatile() };
    runtime::println!("fault_noncanonical: SURVIVED ({v})");
    1
}
