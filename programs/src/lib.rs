//! Shared helpers for the user programs in `src/bin/`.
#![no_std]

pub mod fuzz;

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

/// Touches one fresh page and returns its address.
pub fn touched_page() -> Option<u64> {
    let page = runtime::pager::mmap_anon(4096, Prot::RW).ok()?;
    // SAFETY: a fresh read-write page.
    unsafe { (page.0 as *mut u64).write_volatile(0x1234) };
    Some(page.0)
}

/// Reads this process's pagemap entry for `addr`.
pub fn pagemap_entry(addr: u64) -> Result<u64, libipc::procfs::Error> {
    let mut entry = [0u8; 8];
    let offset = addr / 4096 * 8;
    let n = runtime::procfs::read(
        libipc::procfs::PidSelector::Self_,
        libipc::procfs::ProcFile::Pagemap,
        offset,
        &mut entry,
    )?;
    if n != 8 {
        return Err(libipc::procfs::Error::Io);
    }
    Ok(u64::from_le_bytes(entry))
}

/// Pagemap bits (Documentation/admin-guide/mm/pagemap.rst).
pub const PAGEMAP_PRESENT: u64 = 1 << 63;
pub const PAGEMAP_PFN_MASK: u64 = (1 << 55) - 1;

/// The pagemap scenario: an unprivileged caller sees zeroed PFNs, a
/// SeTcbPrivilege holder real ones.
pub fn pagemap(name: &str, expect_pfn: bool) -> i64 {
    let Some(page) = touched_page() else {
        return verdict(name, false);
    };
    match pagemap_entry(page) {
        Ok(entry) => {
            let pfn = entry & PAGEMAP_PFN_MASK;
            runtime::println!("{name}: pagemap entry for {page:#x} is {entry:#x} (pfn {pfn:#x})");
            let mut ok = check("page present", entry & PAGEMAP_PRESENT != 0);
            ok &= if expect_pfn {
                check("real pfn", pfn != 0)
            } else {
                check("pfn zeroed", pfn == 0)
            };
            verdict(name, ok)
        }
        Err(e) => {
            runtime::println!("{name}: pagemap read failed: {e:?}");
            verdict(name, false)
        }
    }
}

/// The segment registers as user code sees them (the segment-state tests).
pub mod segments {
    use core::arch::asm;

    /// The user data selector (GDT entry 3, RPL 3).
    pub const USER_DATA: u16 = 0x1b;

    /// `[ds, es, fs, gs]`.
    pub fn selectors() -> [u16; 4] {
        let (ds, es, fs, gs): (u32, u32, u32, u32);
        // SAFETY: reading segment registers has no side effect.
        unsafe {
            asm!(
                "mov {0:e}, ds",
                "mov {1:e}, es",
                "mov {2:e}, fs",
                "mov {3:e}, gs",
                out(reg) ds,
                out(reg) es,
                out(reg) fs,
                out(reg) gs,
                options(nomem, nostack, preserves_flags),
            );
        }
        [ds as u16, es as u16, fs as u16, gs as u16]
    }

    /// Loads `sel` into ds, es, fs and gs (fs and gs take their bases from
    /// the descriptor: 0).
    pub fn load_all(sel: u16) {
        // SAFETY: the user data selector (or null) is loadable at CPL 3;
        // nothing in this program addresses memory through these
        // registers (64-bit mode ignores ds and es bases).
        unsafe {
            asm!(
                "mov ds, {0:e}",
                "mov es, {0:e}",
                "mov fs, {0:e}",
                "mov gs, {0:e}",
                in(reg) u32::from(sel),
                options(nostack, preserves_flags),
            );
        }
    }

    /// The word at `fs:[offset]`.
    ///
    /// # Safety
    /// FS base + `offset` must be mapped readable (else the program faults).
    pub unsafe fn read_fs(offset: u64) -> u64 {
        let v: u64;
        // SAFETY: the caller guarantees the address is readable.
        unsafe {
            asm!("mov {v}, fs:[{o}]", v = out(reg) v, o = in(reg) offset, options(nostack, readonly, preserves_flags))
        };
        v
    }

    /// The word at `gs:[offset]`.
    ///
    /// # Safety
    /// As [`read_fs`], for GS.
    pub unsafe fn read_gs(offset: u64) -> u64 {
        let v: u64;
        // SAFETY: the caller guarantees the address is readable.
        unsafe {
            asm!("mov {v}, gs:[{o}]", v = out(reg) v, o = in(reg) offset, options(nostack, readonly, preserves_flags))
        };
        v
    }
}
