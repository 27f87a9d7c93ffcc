//! A service that lets its callers down (boot with `service=dying_server`):
//! it drops its first call without answering (receives again instead), then
//! exits while holding its second. The kernel must wake each caller with a
//! clear error (`dying_client` checks them); nobody waits forever.
#![no_std]
#![no_main]

use libipc::{abi::caps, sys};

runtime::entry!(main);

fn main(_arg: u64) -> i64 {
    let mut buf = [0u8; 64];
    if sys::recv(caps::SERVICE, &mut buf).is_err() {
        return 1;
    }
    runtime::println!("dying_server: dropping the first call");
    if sys::recv(caps::SERVICE, &mut buf).is_err() {
        return 1;
    }
    runtime::println!("dying_server: exiting with the second call unanswered");
    0
}
