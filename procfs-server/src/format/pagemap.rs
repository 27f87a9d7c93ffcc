//! `/proc/<pid>/pagemap`: one little-endian u64 per virtual page.
//!
//! The file offset of page `vpn` is `vpn * 8`. Bits (Linux's
//! `Documentation/admin-guide/mm/pagemap.rst`): 63 present, 62 swapped,
//! 61 file page or shared anonymous, 56 exclusively mapped, 55 soft-dirty,
//! 0-54 the frame number when present or swap type (0-4) and offset (5-54)
//! when swapped. Without SeTcbPrivilege the frame and swap fields are zero
//! and the other bits are kept. Holes and never-touched pages read 0.

use libipc::{
    procfs::{Error, PageFlags, PageFrame, PageInfo},
    types::{PAGE_SIZE, VirtAddr},
};

/// Bytes per entry.
pub const ENTRY_BYTES: usize = 8;
pub const PM_PRESENT: u64 = 1 << 63;
pub const PM_SWAP: u64 = 1 << 62;
pub const PM_FILE: u64 = 1 << 61;
pub const PM_MMAP_EXCLUSIVE: u64 = 1 << 56;
pub const PM_SOFT_DIRTY: u64 = 1 << 55;
/// Bits 0-54: the frame number or the swap location.
pub const PM_PFRAME_MASK: u64 = PM_SOFT_DIRTY - 1;
/// Width of the swap type in a swapped entry (Linux's `MAX_SWAPFILES_SHIFT`).
pub const SWAP_TYPE_BITS: u32 = 5;
const SWAP_TYPE_MASK: u64 = (1 << SWAP_TYPE_BITS) - 1;

/// The entry for `page`. `show_frames`: the reader may see frame numbers
/// and swap locations.
pub fn entry(page: &PageInfo, show_frames: bool) -> u64 {
    let (mut bits, frame) = match page.frame {
        PageFrame::Resident { pfn } => {
            // The zero page is neither (Linux's `vm_normal_page` is NULL).
            let file = if page.flags.contains(PageFlags::ANONYMOUS) || page.flags.contains(PageFlags::ZERO_PAGE) {
                0
            } else {
                PM_FILE
            };
            (PM_PRESENT | file, pfn)
        }
        PageFrame::Swapped { swap_type, swap_offset } => (
            PM_SWAP,
            (u64::from(swap_type) & SWAP_TYPE_MASK) | (swap_offset << SWAP_TYPE_BITS),
        ),
    };
    if page.flags.contains(PageFlags::EXCLUSIVE) {
        bits |= PM_MMAP_EXCLUSIVE;
    }
    if page.flags.contains(PageFlags::SOFT_DIRTY) {
        bits |= PM_SOFT_DIRTY;
    }
    if show_frames {
        bits |= frame & PM_PFRAME_MASK;
    }
    bits
}

/// The pages a read of `len` bytes at `offset` covers: `Ok(None)` for a
/// read that returns 0 bytes (length 0, or at or past the end of the user
/// range `top`, 2^47 or 2^56 less a page), [`Error::InvalidArgument`] for
/// an offset or length that is not a multiple of 8.
pub fn window(offset: u64, len: usize, top: VirtAddr) -> Result<Option<(u64, u64)>, Error> {
    let entry = ENTRY_BYTES as u64;
    let len = len as u64;
    if !offset.is_multiple_of(entry) || !len.is_multiple_of(entry) {
        return Err(Error::InvalidArgument);
    }
    let start_vpn = offset / entry;
    let end_of_user = top.0 / PAGE_SIZE;
    if len == 0 || start_vpn >= end_of_user {
        return Ok(None);
    }
    Ok(Some((start_vpn, (len / entry).min(end_of_user - start_vpn))))
}

#[cfg(test)]
mod tests {
    use libipc::types::{USER_END, USER_END_LA57};

    use super::*;

    /// pagemap ends at the process's end of user space: 2^47 less a page
    /// with 4-level paging, 2^56 less a page with 5.
    #[test]
    fn the_window_ends_at_the_user_range_of_the_paging_width() {
        let high = (1u64 << 48) / PAGE_SIZE * 8;
        assert_eq!(window(high, 16, USER_END), Ok(None));
        assert_eq!(window(high, 16, USER_END_LA57), Ok(Some((1 << 36, 2))));
        let last = USER_END_LA57.0 / PAGE_SIZE * 8 - 8;
        assert_eq!(window(last, 16, USER_END_LA57), Ok(Some((last / 8, 1))));
        assert_eq!(window(last + 8, 16, USER_END_LA57), Ok(None));
        assert_eq!(window(4, 16, USER_END_LA57), Err(Error::InvalidArgument));
    }
}
