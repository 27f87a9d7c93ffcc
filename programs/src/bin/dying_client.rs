//! Calls `dying_server` three times: the call it drops gets `NotAnswered`,
//! the call it holds when it exits gets `ServerGone`, and a call after its
//! death fails at once with `ServerGone`: no caller waits forever on a
//! server that is gone, and no other process can take its place.
#![no_std]
#![no_main]

use libipc::{abi::SysError, short::ShortMessage, sys};
use programs::{check, verdict};

runtime::entry!(main);

fn main(_arg: u64) -> i64 {
    let Ok(server) = runtime::pager::service("dying_server") else {
        runtime::println!("dying_client: no dying_server capability");
        return verdict("dying_client", false);
    };
    let msg = ShortMessage::label(1);
    let first = sys::call_short(server, &msg);
    runtime::println!("dying_client: first call: {first:?}");
    let mut ok = check("a dropped call gets NotAnswered", first == Err(SysError::NotAnswered));
    let second = sys::call_short(server, &msg);
    runtime::println!("dying_client: second call: {second:?}");
    ok &= check(
        "a call held by a dying server gets ServerGone",
        second == Err(SysError::ServerGone),
    );
    let third = sys::call_short(server, &msg);
    ok &= check(
        "a call after the server died gets ServerGone",
        third == Err(SysError::ServerGone),
    );
    let mut reply = [0u8; 16];
    ok &= check(
        "a byte call after the server died gets ServerGone",
        sys::call(server, &[1, 2, 3], &mut reply) == Err(SysError::ServerGone),
    );
    ok &= check(
        "a service that was never started is not found",
        runtime::pager::service("no_such_service") == Err(libipc::pager::Errno::NoEntry),
    );
    verdict("dying_client", ok)
}
