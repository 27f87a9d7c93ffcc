//! Addresses above 47 bits on a kernel with 4-level paging (boot with
//! `la57=1`): a hint above 2^47 is ignored (the mapping lands below), a
//! MAP_FIXED there is ENOMEM as Linux gives beyond TASK_SIZE, and the
//! mapping the hint got is usable.
#![no_std]
#![no_main]

use libipc::{
    pager::{Errno, MapKind, Reply, Request},
    types::{PAGE_SIZE, Prot, VirtAddr},
};
use programs::{check, mmap_fixed, verdict};

runtime::entry!(main);

/// One past the highest user address with 4-level paging.
const TASK_SIZE_47: u64 = 0x7fff_ffff_f000;
/// Above the 47-bit window, inside the 56-bit one.
const HIGH: u64 = 1 << 48;
const LEN: u64 = 2 * PAGE_SIZE;

fn mmap_hint(addr: u64) -> Result<u64, Errno> {
    match runtime::pager::request(Request::Mmap {
        addr: VirtAddr(addr),
        len: LEN,
        prot: Prot::RW,
        flags: MapKind::PRIVATE.union(MapKind::ANONYMOUS),
    })? {
        Reply::Addr(a) => Ok(a.0),
        _ => Err(Errno::Io),
    }
}

fn main(_pid: u64) -> i64 {
    let hinted = mmap_hint(HIGH);
    runtime::println!("la57_probe: mmap with hint {HIGH:#x}: {hinted:x?}");
    let mut ok = check(
        "a hint above 47 bits lands below them",
        hinted.is_ok_and(|a| a + LEN <= TASK_SIZE_47),
    );
    let fixed = mmap_fixed(HIGH, LEN, Prot::RW);
    runtime::println!("la57_probe: MAP_FIXED at {HIGH:#x}: {fixed:x?}");
    ok &= check("MAP_FIXED above 47 bits is ENOMEM", fixed == Err(Errno::NoMemory));
    if let Ok(addr) = hinted {
        let words = [addr, addr + LEN - 8].map(|a| a as *mut u64);
        for (i, p) in words.iter().enumerate() {
            // SAFETY: both words lie inside the read-write mapping just made.
            unsafe { p.write_volatile(0x1a57 + i as u64) };
        }
        // SAFETY: as above.
        let back = words.map(|p| unsafe { p.read_volatile() });
        ok &= check("the mapping holds its data", back == [0x1a57, 0x1a58]);
    }
    verdict("la57_probe", ok)
}
