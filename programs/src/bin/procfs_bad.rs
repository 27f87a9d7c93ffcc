//! Bad requests to the procfs server: each gets a clear error, and the
//! server keeps serving.
#![no_std]
#![no_main]

use libipc::{
    MAX_MESSAGE,
    abi::{LeaseDesc, caps},
    codec, pager,
    procfs::{
        Error, LeasedRead, MAX_INLINE_DATA, PidSelector, ProcFile, Request, Response, SourceError, VmaAnswer,
        VmaQuestion,
    },
    types::{Pid, VirtAddr},
};
use programs::{check, verdict};

runtime::entry!(main);

fn read(pid: PidSelector, file: ProcFile, offset: u64, len: u64) -> Response {
    runtime::procfs::call(&Request::Read { pid, file, offset, len })
}

fn main(pid: u64) -> i64 {
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
    // A leased read in fixed fields naming file #9.
    let mut unknown_file = LeasedRead {
        pid: me,
        file: ProcFile::Maps,
        offset: 0,
        len: 8,
    }
    .encode();
    unknown_file[1] = 9;
    let mut answer = [0u8; LeasedRead::ANSWER_LEN];
    let got = libipc::sys::call(caps::PROCFS, &unknown_file, &mut answer)
        .ok()
        .and_then(|n| LeasedRead::decode_answer(&answer[..n]).ok());
    ok &= check(
        "fixed leased read of an unknown file",
        got == Some(Err(Error::Malformed)),
    );
    // The pager answers its procfs questions to procfs alone: a program
    // asking in either fixed form, well formed or not, learns nothing.
    let parties = libipc::sys::call_short(caps::PAGER, &pager::identities_question(&[Pid(pid as u32)]));
    ok &= check(
        "identities asked by a program",
        parties.ok().as_ref().and_then(pager::identities_of_answer) == Some(Err(SourceError::Unavailable)),
    );
    let question = VmaQuestion {
        pid: Pid(pid as u32),
        from: VirtAddr(0),
        max: 1,
    }
    .encode();
    let mut malformed = question;
    malformed[1] = 1;
    for (name, bytes) in [
        ("VMAs asked by a program", question),
        ("a malformed VMA question", malformed),
    ] {
        let mut lease = [0u8; 256];
        let desc = LeaseDesc {
            addr: lease.as_mut_ptr() as u64,
            len: lease.len() as u64,
            flags: LeaseDesc::WRITE,
        };
        let mut answer = [0u8; VmaAnswer::LEN];
        let got = libipc::sys::call_with_lease(caps::PAGER, &bytes, &mut answer, &desc)
            .ok()
            .and_then(|n| VmaAnswer::decode(&answer[..n]).ok());
        ok &= check(
            name,
            got == Some(Err(SourceError::Unavailable)) && lease.iter().all(|&b| b == 0),
        );
    }
    // Still serving.
    let maps = runtime::procfs::read_to_end(me, ProcFile::Maps);
    ok &= check(
        "the server keeps serving",
        maps.as_ref().is_ok_and(|m| m.len() > MAX_INLINE_DATA / 4),
    );
    verdict("procfs_bad", ok)
}
