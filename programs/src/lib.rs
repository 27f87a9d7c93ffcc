//! Shared helpers for the user programs in `src/bin/`.
#![no_std]

use libipc::{
    pager::{MapKind, Reply, Request},
    types::{Prot, VirtAddr},
};

/// Reports a check; the QEMU tests look for these lines.
pub fn check(name: &str, ok: bool) -> bool {
    if ok {
        runtime::println!("[{name}] ok");
    } else {
        runtime::println!("[{name}] FAILED");
    }
    ok
}

/// Final verdict of a program: exit code 0 on success.
pub fn verdict(program: &str, ok: bool) -> i64 {
    if ok {
        runtime::println!("{program}: PASS");
        0
    } else {
        runtime::println!("{program}: FAIL");
        1
    }
}

/// mmap at a fixed address.
pub fn mmap_fixed(addr: u64, len: u64, prot: Prot) -> Result<VirtAddr, libipc::pager::Errno> {
    match runtime::pager::request(Request::Mmap {
        addr: VirtAddr(addr),
        len,
        prot,
        flags: MapKind::PRIVATE.union(MapKind::ANONYMOUS).union(MapKind::FIXED),
    })? {
        Reply::Addr(a) => Ok(a),
        _ => Err(libipc::pager::Errno::Io),
    }
}

/// The isolation scenario: write `value` at a fixed address, let the other
/// process run, and read it back.
pub fn isolation(name: &str, value: u64) -> i64 {
    /// The same virtual address in both processes.
    const SHARED_VA: u64 = 0x5000_0000;
    if mmap_fixed(SHARED_VA, 4096, Prot::RW).is_err() {
        return verdict(name, false);
    }
    let p = SHARED_VA as *mut u64;
    // SAFETY: the page was just mapped read-write for us.
    unsafe { p.write_volatile(value) };
    runtime::println!("{name}: wrote {value:#x} at {SHARED_VA:#x}");
    for _ in 0..50 {
        libipc::sys::yield_now();
    }
    // SAFETY: as above.
    let read = unsafe { p.read_volatile() };
    runtime::println!("{name}: read back {read:#x}");
    verdict(name, check(name, read == value))
}
