//! Tries to read other processes' memory through `/proc/<pid>/mem`: another
//! user's must be refused; its own is allowed.
#![no_std]
#![no_main]

use libipc::procfs::{Error, PidSelector, ProcFile};
use programs::{check, verdict};

runtime::entry!(main);

/// Where every program's code starts.
const CODE: u64 = 0x40_0000;

fn main(pid: u64) -> i64 {
    let mut buf = [0u8; 16];
    let own = runtime::procfs::read(PidSelector::Self_, ProcFile::Mem, CODE, &mut buf);
    let mut ok = check("own mem readable", own == Ok(16));
    for other in 1..=6u32 {
        if u64::from(other) == pid {
            continue;
        }
        let got = runtime::procfs::read(
            PidSelector::Pid(libipc::types::Pid(other)),
            ProcFile::Mem,
            CODE,
            &mut buf,
        );
        match got {
            Err(e) => runtime::println!("procfs_peek: mem of pid {other} refused: {e:?}"),
            Ok(n) => runtime::println!("procfs_peek: mem of pid {other} READ ({n} bytes)"),
        }
        ok &= check(
            "no other user's memory is readable",
            matches!(got, Err(Error::AccessDenied | Error::NoSuchProcess)),
        );
    }
    verdict("procfs_peek", ok)
}
