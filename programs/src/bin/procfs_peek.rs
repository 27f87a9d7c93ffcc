//! Tries to read other processes' memory through `/proc/<pid>/mem`: another
//! user's must be refused; its own is allowed.
#![no_std]
#![no_main]

extern crate alloc;

use libipc::procfs::{Error, PidSelector, ProcFile};
use programs::{check, verdict};

runtime::entry!(main);

/// Where every program's code starts.
const CODE: u64 = 0x40_0000;
/// Pages of code compared through mem.
const CODE_PAGES: usize = 4;

fn main(pid: u64) -> i64 {
    let mut buf = [0u8; 16];
    let own = runtime::procfs::read(PidSelector::Self_, ProcFile::Mem, CODE, &mut buf);
    let mut ok = check("own mem readable", own == Ok(16));
    // Pages of our code not touched yet read as the file's bytes: compare
    // with the memory itself (reading it afterwards faults it in).
    let mut code = alloc::vec![0u8; CODE_PAGES * 4096];
    let read = runtime::procfs::read_leased(PidSelector::Self_, ProcFile::Mem, CODE, &mut code);
    // SAFETY: our own code segment, mapped read-only at CODE for at least
    // CODE_PAGES pages (the program is larger than that).
    let actual = unsafe { core::slice::from_raw_parts(CODE as *const u8, code.len()) };
    ok &= check(
        "own code through mem equals the code",
        read == Ok(code.len()) && code == actual,
    );
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
