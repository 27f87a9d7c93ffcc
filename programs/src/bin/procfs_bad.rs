//! Bad requests to the procfs server: each gets a clear error, and the
//! server keeps serving.
#![no_std]
#![no_main]

use libipc::{
    MAX_MESSAGE,
    abi::caps,
    codec,
    procfs::{Error, MAX_INLINE_DATA, PidSelector, ProcFile, Request, Response},
    types::Pid,
};
use programs::{check, verdict};

runtime::entry!(main);

fn read(pid: PidSelector, file: ProcFile, offset: u64, len: u64) -> Response {
    runtime::procfs::call(&Request::Read { pid, file, offset, len })
}

fn main(_pid: u64) -> i64 {
    let me = PidSelector::Self_;
    let mut ok = check(
        "unknown pid",
        read(PidSelector::Pid(Pid(999)), ProcFile::Maps, 0, 64) == Err(Error::NoSuchProcess),
    );
    ok &= check(
        "misaligned pagemap offset",
        read(me, ProcFile::Pagemap, 3, 8) == Err(Error::InvalidArgument),
    );
    ok &= check(
        "misaligned pagemap length",
        read(me, ProcFile::Pagemap, 0, 5) == Err(Error::InvalidArgument),
    );
    ok &= check(
        "huge length",
        read(me, ProcFile::Maps, 0, 1 << 40) == Err(Error::TooLarge),
    );
    ok &= check(
        "mem offset beyond 2^63",
        read(me, ProcFile::Mem, 1 << 63, 8) == Err(Error::InvalidArgument),
    );
    ok &= check(
        "mem at an unmapped address",
        read(me, ProcFile::Mem, 0x1000, 8) == Err(Error::Io),
    );
    ok &= check(
        "write to maps",
        runtime::procfs::call(&Request::Write {
            pid: me,
            file: ProcFile::Maps,
            offset: 0,
            data: Default::default(),
        }) == Err(Error::NotWritable),
    );
    // Read(self, file #9, offset 0, len 8): no such file; then bytes that
    // are no request at all.
    let mut reply = [0u8; MAX_MESSAGE];
    for (name, bytes) in [
        ("unknown file", &[0u8, 0, 9, 0, 8][..]),
        ("garbage bytes", &[0xffu8; 12][..]),
    ] {
        let got = libipc::sys::call(caps::PROCFS, bytes, &mut reply)
            .ok()
            .and_then(|n| codec::decode::<Response>(&reply[..n]).ok());
        ok &= check(name, got == Some(Err(Error::Malformed)));
    }
    // Still serving.
    let maps = runtime::procfs::read_to_end(me, ProcFile::Maps);
    ok &= check(
        "the server keeps serving",
        maps.as_ref().is_ok_and(|m| m.len() > MAX_INLINE_DATA / 4),
    );
    verdict("procfs_bad", ok)
}
