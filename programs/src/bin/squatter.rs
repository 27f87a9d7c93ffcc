//! Tries to stand in for procfs (boot with `service=procfs`, run beside a
//! /proc reader): there is no name to claim, so it tries to receive through
//! every slot of its table, to copy its procfs send right with the receive
//! right, and to grant itself anything. Every attempt must be refused, and
//! the reader beside it must still get the real /proc.
#![no_std]
#![no_main]

use libipc::{
    abi::{CAP_SLOTS, Rights, SysError, caps},
    sys,
    types::{CapSlot, Pid},
};
use programs::{check, verdict};

runtime::entry!(main);

fn main(arg: u64) -> i64 {
    let mut ok = true;
    let mut buf = [0u8; 64];
    for slot in (0..CAP_SLOTS).map(CapSlot) {
        let got = sys::recv(slot, &mut buf).map(|_| ());
        if !matches!(got, Err(SysError::MissingRight | SysError::NoCapability)) {
            runtime::println!("squatter: recv through slot {} gave {got:?}", slot.0);
            ok = false;
        }
    }
    ok &= check("no slot receives", ok);
    ok &= check(
        "procfs's send right cannot become a receive right",
        sys::cap_copy(caps::PROCFS, Rights::RECV) == Err(SysError::MissingRight),
    );
    ok &= check(
        "no grant to itself",
        sys::cap_grant(Pid(arg as u32), caps::PROCFS, CapSlot(9), Rights::ALL) == Err(SysError::NotPermitted),
    );
    // An endpoint of its own serves nobody: no other process can name it.
    ok &= check("its own endpoint is its own", sys::endpoint_create().is_ok());
    verdict("squatter", ok)
}
