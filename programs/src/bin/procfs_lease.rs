//! Bulk reads through kernel leases: a leased read of /proc/self/maps
//! equals the message-by-message read, and the kernel enforces each lease's
//! rights and bounds.
#![no_std]
#![no_main]

extern crate alloc;

use libipc::{
    MAX_MESSAGE,
    abi::{LeaseDesc, SysError, caps},
    codec,
    procfs::{Error, PidSelector, ProcFile, Request, Response},
};
use programs::{check, verdict};

runtime::entry!(main);

/// Read-only memory to lend where a writable lease is needed.
static READ_ONLY: [u8; 64] = [7; 64];

/// A leased read whose request claims `claimed` bytes but lends `lease`.
fn leased_call(claimed: u64, lease: LeaseDesc) -> Result<Response, SysError> {
    let request = Request::ReadLeased {
        pid: PidSelector::Self_,
        file: ProcFile::Maps,
        offset: 0,
        len: claimed,
    };
    let mut msg = [0u8; MAX_MESSAGE];
    let n = codec::encode(&request, &mut msg).expect("fits");
    let mut reply = [0u8; MAX_MESSAGE];
    let len = libipc::sys::call_with_lease(caps::PROCFS, &msg[..n], &mut reply, &lease)?;
    Ok(codec::decode(&reply[..len]).unwrap_or(Err(Error::Malformed)))
}

fn main(_pid: u64) -> i64 {
    let leased = runtime::procfs::read_to_end(PidSelector::Self_, ProcFile::Maps);
    let mut by_message = alloc::vec::Vec::new();
    let mut chunk = [0u8; 256];
    loop {
        match runtime::procfs::read(PidSelector::Self_, ProcFile::Maps, by_message.len() as u64, &mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => by_message.extend_from_slice(&chunk[..n]),
        }
    }
    let mut ok = check(
        "leased read equals the message read",
        leased.as_ref().is_ok_and(|l| *l == by_message && !l.is_empty()),
    );
    let ro = LeaseDesc {
        addr: READ_ONLY.as_ptr() as u64,
        len: 64,
        flags: LeaseDesc::WRITE,
    };
    ok &= check(
        "a read-only lease is refused by the kernel",
        leased_call(64, ro) == Err(SysError::BadAddress),
    );
    let unmapped = LeaseDesc {
        addr: 0x6000_0000_0000,
        len: 64,
        flags: LeaseDesc::WRITE,
    };
    ok &= check(
        "an unmapped lease is refused by the kernel",
        leased_call(64, unmapped) == Err(SysError::BadAddress),
    );
    let mut small = [0u8; 16];
    let small_lease = LeaseDesc {
        addr: small.as_mut_ptr() as u64,
        len: 16,
        flags: LeaseDesc::WRITE,
    };
    ok &= check(
        "the server cannot write past a lease",
        leased_call(4096, small_lease) == Ok(Err(Error::InvalidArgument)),
    );
    let huge = LeaseDesc {
        addr: small.as_mut_ptr() as u64,
        len: LeaseDesc::MAX_LEN + 1,
        flags: LeaseDesc::WRITE,
    };
    ok &= check(
        "an oversized lease is refused",
        leased_call(16, huge) == Err(SysError::InvalidArgument),
    );
    verdict("procfs_lease", ok)
}
