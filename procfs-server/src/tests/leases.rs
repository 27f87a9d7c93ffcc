//! Leased (bulk) transfers against an in-memory lease.

use alloc::vec;

use libipc::procfs::{Error, MAX_LEASED, PidSelector, ProcFile, Reply, Request};

use super::fixtures::{C_OTHER, C_SAME, P_ALICE, sender, world};
use crate::io::MemoryLease;

fn read_leased(file: ProcFile, len: u64) -> Request {
    Request::ReadLeased {
        pid: PidSelector::Pid(P_ALICE),
        file,
        offset: 0,
        len,
    }
}

#[test]
fn a_leased_read_matches_the_message_read() {
    let mut server = world();
    let mut lease = MemoryLease {
        bytes: vec![0; 8192],
        writable: true,
    };
    let got = server.handle_leased(sender(C_SAME), &read_leased(ProcFile::Maps, 8192), &mut lease);
    let Ok(Reply::Leased(n)) = got else { panic!("{got:?}") };
    let mut direct = vec![0u8; 8192];
    let m = server
        .read(
            sender(C_SAME),
            PidSelector::Pid(P_ALICE),
            ProcFile::Maps,
            0,
            &mut direct,
        )
        .unwrap();
    assert_eq!(n as usize, m);
    assert!(m > 0);
    assert_eq!(&lease.bytes[..m], &direct[..m]);
}

#[test]
fn a_lease_too_small_or_read_only_is_an_error() {
    let mut server = world();
    let mut small = MemoryLease {
        bytes: vec![0; 4],
        writable: true,
    };
    assert_eq!(
        server.handle_leased(sender(C_SAME), &read_leased(ProcFile::Maps, 8192), &mut small),
        Err(Error::InvalidArgument)
    );
    let mut read_only = MemoryLease {
        bytes: vec![0; 8192],
        writable: false,
    };
    assert_eq!(
        server.handle_leased(sender(C_SAME), &read_leased(ProcFile::Maps, 8192), &mut read_only),
        Err(Error::InvalidArgument)
    );
}

#[test]
fn a_leased_read_larger_than_the_limit_is_refused() {
    let mut server = world();
    let mut lease = MemoryLease {
        bytes: vec![],
        writable: true,
    };
    assert_eq!(
        server.handle_leased(sender(C_SAME), &read_leased(ProcFile::Maps, MAX_LEASED + 1), &mut lease),
        Err(Error::TooLarge)
    );
}

#[test]
fn a_denied_caller_gets_nothing_through_its_lease() {
    let mut server = world();
    let mut lease = MemoryLease {
        bytes: vec![0xaa; 64],
        writable: true,
    };
    assert_eq!(
        server.handle_leased(sender(C_OTHER), &read_leased(ProcFile::Mem, 64), &mut lease),
        Err(Error::AccessDenied)
    );
    assert!(lease.bytes.iter().all(|&b| b == 0xaa), "the lease was written");
}

#[test]
fn leased_requests_need_a_lease() {
    let mut server = world();
    assert_eq!(
        server.handle(sender(C_SAME), &read_leased(ProcFile::Maps, 64)),
        Err(Error::InvalidArgument)
    );
    let write = Request::WriteLeased {
        pid: PidSelector::Pid(P_ALICE),
        file: ProcFile::Mem,
        offset: 0x1000,
        len: 8,
    };
    assert_eq!(server.handle(sender(C_SAME), &write), Err(Error::InvalidArgument));
}
