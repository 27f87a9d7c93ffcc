//! Copies between kernel buffers and user memory.
//!
//! A user pointer is a claim by the program about its own memory. The kernel
//! never dereferences it directly: it checks the range lies in the user
//! half, walks the process's page tables for every page (present, user, and
//! writable when the kernel writes), and copies through the direct map. So
//! a kernel-half, non-canonical or unmapped pointer is `BadAddress`, never a
//! kernel fault, and the kernel never faults user memory in.

use libipc::abi::SysError;
use x86_64::structures::paging::PageTableFlags as F;

use super::{
    phys_to_virt,
    space::{AddressSpace, user_end},
};

const PAGE: u64 = 4096;

/// Checks `[addr, addr+len)` lies in the user half, without walking the
/// page tables: for buffers whose pages are checked when they are used.
pub fn check_range(addr: u64, len: u64) -> Result<(), SysError> {
    let end = addr.checked_add(len).ok_or(SysError::BadAddress)?;
    if end > user_end() {
        return Err(SysError::BadAddress);
    }
    Ok(())
}

/// Checks `[addr, addr+len)` is user memory mapped with the needed access.
pub fn check(space: &AddressSpace, addr: u64, len: u64, write: bool) -> Result<(), SysError> {
    let end = addr.checked_add(len).ok_or(SysError::BadAddress)?;
    if end > user_end() {
        return Err(SysError::BadAddress);
    }
    if len == 0 {
        return Ok(());
    }
    let mut page = addr & !(PAGE - 1);
    while page < end {
        let (_, flags) = space.translate(page).ok_or(SysError::BadAddress)?;
        if !flags.contains(F::USER_ACCESSIBLE) || (write && !flags.contains(F::WRITABLE)) {
            return Err(SysError::BadAddress);
        }
        page += PAGE;
    }
    Ok(())
}

/// Calls `f(direct-map pointer, offset, chunk length)` for each
/// page-contiguous chunk of `[addr, addr+len)`, checking each page as it
/// goes: one page-table walk per page. On a bad page it stops with
/// `BadAddress`; the chunks before it were already done (every destination
/// was checked when the call that names it was made, so this needs the
/// mapping to change in between).
fn for_each_chunk(
    space: &AddressSpace,
    addr: u64,
    len: u64,
    write: bool,
    mut f: impl FnMut(*mut u8, usize, usize),
) -> Result<(), SysError> {
    let end = addr.checked_add(len).ok_or(SysError::BadAddress)?;
    if end > user_end() {
        return Err(SysError::BadAddress);
    }
    let mut done = 0u64;
    while done < len {
        let va = addr + done;
        let chunk = (PAGE - va % PAGE).min(len - done);
        let found = if write {
            space.translate_for_write(va)
        } else {
            space.translate(va)
        };
        let (phys, flags) = found.ok_or(SysError::BadAddress)?;
        if !flags.contains(F::USER_ACCESSIBLE) || (write && !flags.contains(F::WRITABLE)) {
            return Err(SysError::BadAddress);
        }
        f(phys_to_virt(phys).as_mut_ptr(), done as usize, chunk as usize);
        done += chunk;
    }
    Ok(())
}

/// Copies `out.len()` bytes from user address `addr`.
pub fn copy_from_user(space: &AddressSpace, addr: u64, out: &mut [u8]) -> Result<(), SysError> {
    for_each_chunk(space, addr, out.len() as u64, false, |src, at, n| {
        // SAFETY: the page was just found mapped and user-accessible;
        // `src..src+n` lies in one page of the direct map, and
        // `out[at..at+n]` is in bounds.
        unsafe { core::ptr::copy_nonoverlapping(src, out[at..at + n].as_mut_ptr(), n) };
    })
}

/// Copies `data` to user address `addr`, which must be mapped writable.
pub fn copy_to_user(space: &AddressSpace, addr: u64, data: &[u8]) -> Result<(), SysError> {
    for_each_chunk(space, addr, data.len() as u64, true, |dst, at, n| {
        // SAFETY: as in `copy_from_user`, with the page found writable.
        unsafe { core::ptr::copy_nonoverlapping(data[at..at + n].as_ptr(), dst, n) };
    })
}
