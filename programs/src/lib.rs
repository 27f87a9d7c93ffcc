//! Shared helpers for the user programs in `src/bin/`.
#![no_std]

/// Reports a test verdict line the QEMU tests look for, and returns the exit
/// code that goes with it.
pub fn verdict(name: &str, ok: bool) -> i64 {
    if ok {
        runtime::println!("[{name}] PASS");
        0
    } else {
        runtime::println!("[{name}] FAIL");
        1
    }
}
