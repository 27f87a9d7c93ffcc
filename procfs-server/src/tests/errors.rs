//! Every error path, mem semantics, and that the server keeps serving.

use alloc::vec;

use libipc::{
    MAX_MESSAGE,
    codec::{decode, encode},
    procfs::{Error, MAX_INLINE_DATA, PidSelector, ProcFile, Reply, Request, Response, SourceError, parse_path},
    types::{PAGE_SIZE, Pid, Sender, Tid},
};

use super::fixtures::*;
use crate::mem::MAX_OFFSET;

fn read_req(pid: PidSelector, file: ProcFile, offset: u64, len: u64) -> Request {
    Request::Read { pid, file, offset, len }
}

fn me() -> Sender {
    sender(C_SAME)
}

fn mem_read(offset: u64, len: usize) -> Result<vec::Vec<u8>, Error> {
    let mut server = world();
    let mut buf = vec![0u8; len];
    let n = server.read(me(), PidSelector::Self_, ProcFile::Mem, offset, &mut buf)?;
    buf.truncate(n);
    Ok(buf)
}

fn mem_write(offset: u64, data: &[u8]) -> (Result<usize, Error>, crate::server::Server<super::fake::FakeSource>) {
    let mut server = world();
    let r = server.write(me(), PidSelector::Self_, ProcFile::Mem, offset, data);
    (r, server)
}

#[test]
fn unknown_pid() {
    let mut server = world();
    for file in ProcFile::ALL {
        let r = server.handle(me(), &read_req(PidSelector::Pid(Pid(999)), file, 0, 8));
        assert_eq!(r, Err(Error::NoSuchProcess), "{}", file.name());
    }
    assert_eq!(server.source_mut().calls, 0);
}

#[test]
fn unknown_sender_has_no_identity() {
    let mut server = world();
    let stranger = Sender {
        pid: Pid(777),
        tid: Tid(1),
    };
    for file in ProcFile::ALL {
        assert_eq!(
            server.handle(stranger, &read_req(PidSelector::Self_, file, 0, 8)),
            Err(Error::AccessDenied)
        );
        let r = server.handle(stranger, &read_req(PidSelector::Pid(P_ALICE), file, 0, 8));
        assert_eq!(r, Err(Error::AccessDenied));
    }
    assert_eq!(server.source_mut().calls, 0);
}

#[test]
fn unknown_file() {
    assert_eq!(ProcFile::from_name("status"), Err(Error::NoSuchFile));
    assert_eq!(parse_path("/proc/self/environ"), Err(Error::NoSuchFile));
    assert_eq!(
        parse_path("/proc/self/pagemap"),
        Ok((PidSelector::Self_, ProcFile::Pagemap))
    );
    // On the wire a file is an enum: an unknown tag does not decode.
    let mut buf = [0u8; MAX_MESSAGE];
    let n = encode(&read_req(PidSelector::Self_, ProcFile::Mem, 0, 1), &mut buf).unwrap();
    // Read, Self_, then the file tag.
    assert_eq!(buf[2], 4);
    buf[2] = 9;
    let mut server = world();
    let mut reply = [0u8; MAX_MESSAGE];
    let m = server.handle_message(me(), &buf[..n], &mut reply).unwrap();
    assert_eq!(decode::<Response>(&reply[..m]), Ok(Err(Error::Malformed)));
}

#[test]
fn huge_lengths() {
    let mut server = world();
    for len in [MAX_INLINE_DATA as u64 + 1, 1 << 32, u64::MAX] {
        for file in ProcFile::ALL {
            assert_eq!(
                server.handle(me(), &read_req(PidSelector::Self_, file, 0, len)),
                Err(Error::TooLarge)
            );
        }
    }
    let ok = server.handle(
        me(),
        &read_req(PidSelector::Self_, ProcFile::Maps, 0, MAX_INLINE_DATA as u64),
    );
    assert!(matches!(ok, Ok(Reply::Data(d)) if d.len() == MAX_INLINE_DATA));
}

#[test]
fn misaligned_pagemap() {
    let mut server = world();
    for (offset, len) in [(1, 8), (4, 8), (8, 7), (0, 1), (HEAP / PAGE_SIZE * 8 + 3, 16)] {
        let r = server.handle(me(), &read_req(PidSelector::Self_, ProcFile::Pagemap, offset, len));
        assert_eq!(r, Err(Error::InvalidArgument), "offset {offset} len {len}");
    }
    // Denied callers are told they are denied, not how to align.
    let r = server.handle(
        sender(C_OTHER),
        &read_req(PidSelector::Pid(P_ALICE), ProcFile::Pagemap, 1, 8),
    );
    assert_eq!(r, Err(Error::AccessDenied));
}

#[test]
fn read_only_files() {
    let mut server = world();
    for file in [
        ProcFile::Maps,
        ProcFile::Smaps,
        ProcFile::SmapsRollup,
        ProcFile::Pagemap,
    ] {
        assert_eq!(
            server.write(me(), PidSelector::Self_, file, 0, b"x"),
            Err(Error::NotWritable)
        );
    }
}

#[test]
fn malformed_messages_get_an_answer() {
    let mut server = world();
    let mut reply = [0u8; MAX_MESSAGE];
    for bytes in [
        &[][..],
        &[0xff][..],
        &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11][..],
        &[0u8; MAX_MESSAGE + 1][..],
    ] {
        let m = server.handle_message(me(), bytes, &mut reply).unwrap();
        assert_eq!(decode::<Response>(&reply[..m]), Ok(Err(Error::Malformed)));
    }
}

#[test]
fn pager_failures() {
    for (fail, expected) in [
        (SourceError::Unavailable, Error::Unavailable),
        (SourceError::NoSuchProcess, Error::NoSuchProcess),
        (SourceError::Io, Error::Io),
    ] {
        let mut server = world();
        server.source_mut().fail = Some(fail);
        for file in ProcFile::ALL {
            let offset = if file == ProcFile::Pagemap {
                HEAP / PAGE_SIZE * 8
            } else {
                HEAP
            };
            let r = server.handle(me(), &read_req(PidSelector::Self_, file, offset, 8));
            assert_eq!(r, Err(expected), "{}", file.name());
        }
    }
    // The pager forgot a process the table still has (it just exited).
    let mut server = world();
    server.source_mut().spaces.remove(&C_SAME);
    assert_eq!(
        server.handle(me(), &read_req(PidSelector::Self_, ProcFile::Maps, 0, 8)),
        Err(Error::NoSuchProcess)
    );
    // Inconsistent VMAs are refused, not formatted (a read long enough to
    // need both: a short one asks for the first VMA only).
    let mut server = world();
    let space = server.source_mut().spaces.get_mut(&C_SAME).unwrap();
    space.vmas.swap(0, 1);
    assert_eq!(
        server.handle(me(), &read_req(PidSelector::Self_, ProcFile::Maps, 0, 100)),
        Err(Error::Unavailable)
    );
}

#[test]
fn the_server_keeps_serving() {
    let mut server = world();
    let bad = [
        read_req(PidSelector::Pid(Pid(999)), ProcFile::Maps, 0, 8),
        read_req(PidSelector::Self_, ProcFile::Pagemap, 3, 8),
        read_req(PidSelector::Self_, ProcFile::Mem, 0, 8),
        read_req(PidSelector::Self_, ProcFile::Mem, u64::MAX, 8),
        read_req(PidSelector::Self_, ProcFile::Smaps, 0, u64::MAX),
        read_req(PidSelector::Pid(P_HIGH), ProcFile::Mem, HEAP, 8),
    ];
    for request in &bad {
        assert!(server.handle(me(), request).is_err());
    }
    let good = server.handle(me(), &read_req(PidSelector::Self_, ProcFile::Mem, HEAP, 5));
    assert_eq!(good, Ok(Reply::Data(heapless::Vec::from_slice(b"hello").unwrap())));
}

#[test]
fn text_reads_at_offsets() {
    let mut server = world();
    let mut whole = [0u8; 80];
    let n = server
        .read(me(), PidSelector::Self_, ProcFile::Maps, 0, &mut whole)
        .unwrap();
    let mut part = [0u8; 10];
    let m = server
        .read(me(), PidSelector::Self_, ProcFile::Maps, 5, &mut part)
        .unwrap();
    assert_eq!(&part[..m], &whole[5..15]);
    assert_eq!(n, 80);
    assert_eq!(
        server.read(me(), PidSelector::Self_, ProcFile::Maps, 1 << 40, &mut part),
        Ok(0)
    );
    assert_eq!(
        server.read(me(), PidSelector::Self_, ProcFile::Maps, u64::MAX, &mut part),
        Ok(0)
    );
}

// ---------------------------------------------------------------------------
// mem

#[test]
fn mem_reads() {
    assert_eq!(mem_read(HEAP, 10).unwrap(), HEAP_BYTES);
    // Never-touched memory reads as zeros.
    assert_eq!(mem_read(HEAP + PAGE_SIZE, 4).unwrap(), [0; 4]);
    // A read running into a hole is short.
    assert_eq!(mem_read(HEAP_END - 8, 16).unwrap().len(), 8);
    // Adjacent VMAs read through.
    assert_eq!(mem_read(TEXT_RX - 8, 16).unwrap().len(), 16);
    // vDSO is readable; vvar is device memory.
    assert_eq!(mem_read(VDSO, 8).unwrap().len(), 8);
    assert_eq!(mem_read(VVAR, 8), Err(Error::Io));
    assert_eq!(mem_read(VDSO - 8, 16), Err(Error::Io));
}

#[test]
fn mem_read_errors() {
    // Unmapped first byte.
    assert_eq!(mem_read(HEAP_END, 8), Err(Error::Io));
    assert_eq!(mem_read(0, 8), Err(Error::Io));
    assert_eq!(mem_read(MAX_OFFSET - 1, 8), Err(Error::Io));
    // Offsets that are negative file positions.
    assert_eq!(mem_read(MAX_OFFSET, 8), Err(Error::InvalidArgument));
    assert_eq!(mem_read(u64::MAX, 8), Err(Error::InvalidArgument));
    assert_eq!(mem_read(MAX_OFFSET, 0), Err(Error::InvalidArgument));
    // Zero length reads nothing, even unmapped.
    assert_eq!(mem_read(HEAP_END, 0), Ok(vec![]));
}

#[test]
fn mem_writes() {
    // A debugger may write a read-only private mapping (copy-on-write).
    let (r, mut server) = mem_write(TEXT_RO, b"\xcc");
    assert_eq!(r, Ok(1));
    let mut back = [0u8; 1];
    server
        .read(me(), PidSelector::Self_, ProcFile::Mem, TEXT_RO, &mut back)
        .unwrap();
    assert_eq!(back, [0xcc]);
    // Writable shared: fine. Read-only shared file: EIO.
    assert_eq!(mem_write(SHM, b"abc").0, Ok(3));
    assert_eq!(mem_write(RO_SHARED, b"abc").0, Err(Error::Io));
    // Short at a hole; EIO when the first byte is unmapped.
    assert_eq!(mem_write(HEAP_END - 2, b"abcd").0, Ok(2));
    assert_eq!(mem_write(HEAP_END, b"abcd").0, Err(Error::Io));
    // Running from a writable mapping into a refusing one is short.
    assert_eq!(mem_write(RO_SHARED - 1, b"ab").0, Ok(1));
    assert_eq!(mem_write(VVAR, b"a").0, Err(Error::Io));
    assert_eq!(mem_write(MAX_OFFSET, b"a").0, Err(Error::InvalidArgument));
    assert_eq!(mem_write(HEAP_END, b"").0, Ok(0));
}
