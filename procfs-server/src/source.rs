//! Where address-space facts come from: the pager.
//!
//! The procfs server never reads page tables. It asks an
//! [`AddressSpaceSource`]: on the kernel, an IPC client speaking
//! [`libipc::procfs::SourceRequest`] to the pager; in host tests, an
//! in-memory fake. Whatever the source answers is checked before it is
//! formatted ([`AddressSpace::new`]), so a confused pager yields
//! [`Error::Unavailable`], never a panic or a garbled file.

use alloc::vec::Vec;

use libipc::{
    procfs::{Error, PageInfo, SourceError, SpaceLayout, VmaInfo},
    types::{Pid, USER_END, VirtAddr},
};

/// What the procfs server needs from the pager. Called only after the
/// access check passed.
pub trait AddressSpaceSource {
    /// The layout and the VMAs of `pid`, in address order.
    fn address_space(&mut self, pid: Pid) -> Result<AddressSpace, SourceError>;

    /// The resident or swapped pages with `vpn` in `[start_vpn, end_vpn)`.
    /// Pages not returned are holes. Order and duplicates do not matter
    /// (see [`pages_in`]).
    fn pages(&mut self, pid: Pid, start_vpn: u64, end_vpn: u64) -> Result<Vec<PageInfo>, SourceError>;

    /// Reads `buf.len()` bytes at `addr`, a range inside one VMA the caller
    /// has checked; never-touched pages read as zeros. Returns how many bytes
    /// were read (fewer if the mapping changed meanwhile).
    fn read_mem(&mut self, pid: Pid, addr: VirtAddr, buf: &mut [u8]) -> Result<usize, SourceError>;

    /// Writes `data` at `addr`, inside one VMA the caller has checked may be
    /// written by a debugger (copy-on-write if private). Returns how many
    /// bytes were written.
    fn write_mem(&mut self, pid: Pid, addr: VirtAddr, data: &[u8]) -> Result<usize, SourceError>;
}

/// A checked address space: VMAs non-empty, page-aligned, in the user
/// range, sorted and disjoint. Formatting relies on these facts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressSpace {
    layout: SpaceLayout,
    vmas: Vec<VmaInfo>,
}

impl AddressSpace {
    /// Checks the pager's answer; an inconsistent one is
    /// [`SourceError::Unavailable`].
    pub fn new(layout: SpaceLayout, vmas: Vec<VmaInfo>) -> Result<AddressSpace, SourceError> {
        let mut previous_end = VirtAddr(0);
        for vma in &vmas {
            let sane = vma.start.is_page_aligned()
                && vma.end.is_page_aligned()
                && vma.start < vma.end
                && vma.end <= USER_END
                && vma.start >= previous_end
                && vma.prot.is_valid();
            if !sane {
                return Err(SourceError::Unavailable);
            }
            previous_end = vma.end;
        }
        Ok(AddressSpace { layout, vmas })
    }

    pub fn layout(&self) -> &SpaceLayout {
        &self.layout
    }

    pub fn vmas(&self) -> &[VmaInfo] {
        &self.vmas
    }

    /// The VMA containing `addr`.
    pub fn find(&self, addr: VirtAddr) -> Option<&VmaInfo> {
        let i = self.vmas.partition_point(|v| v.end <= addr);
        self.vmas.get(i).filter(|v| v.start <= addr)
    }

    /// `[first start, last end)`, or `None` for an empty space.
    pub fn span(&self) -> Option<(VirtAddr, VirtAddr)> {
        Some((self.vmas.first()?.start, self.vmas.last()?.end))
    }
}

/// The pages of `[start_vpn, end_vpn)` from `source`, sorted by `vpn`, one
/// per `vpn`, nothing outside the range: the shape the formatters expect,
/// whatever the source sent.
pub fn pages_in(
    source: &mut impl AddressSpaceSource,
    pid: Pid,
    start_vpn: u64,
    end_vpn: u64,
) -> Result<Vec<PageInfo>, Error> {
    if start_vpn >= end_vpn {
        return Ok(Vec::new());
    }
    let mut pages = source.pages(pid, start_vpn, end_vpn)?;
    pages.retain(|p| (start_vpn..end_vpn).contains(&p.vpn));
    pages.sort_by_key(|p| p.vpn);
    pages.dedup_by_key(|p| p.vpn);
    Ok(pages)
}

/// The slice of sorted `pages` whose vpn is in `[start_vpn, end_vpn)`.
pub fn pages_between(pages: &[PageInfo], start_vpn: u64, end_vpn: u64) -> &[PageInfo] {
    let from = pages.partition_point(|p| p.vpn < start_vpn);
    let to = pages.partition_point(|p| p.vpn < end_vpn);
    pages.get(from..to).unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use libipc::{procfs::Sharing, types::Prot};

    use super::*;

    fn vma(start: u64, end: u64) -> VmaInfo {
        crate::tests::fixtures::vma(start, end, Prot::RW, Sharing::Private)
    }

    fn layout() -> SpaceLayout {
        SpaceLayout {
            start_brk: VirtAddr(0),
            brk: VirtAddr(0),
            start_stack: VirtAddr(0),
        }
    }

    #[test]
    fn accepts_sorted_disjoint_vmas() {
        let space = AddressSpace::new(layout(), vec![vma(0x1000, 0x3000), vma(0x3000, 0x4000)]).unwrap();
        assert_eq!(space.find(VirtAddr(0x2fff)).unwrap().start, VirtAddr(0x1000));
        assert_eq!(space.find(VirtAddr(0x3000)).unwrap().start, VirtAddr(0x3000));
        assert!(space.find(VirtAddr(0x4000)).is_none());
        assert!(space.find(VirtAddr(0)).is_none());
        assert_eq!(space.span(), Some((VirtAddr(0x1000), VirtAddr(0x4000))));
    }

    #[test]
    fn refuses_inconsistent_answers() {
        for bad in [
            vec![vma(0x1000, 0x1000)],
            vec![vma(0x1001, 0x2000)],
            vec![vma(0x2000, 0x1000)],
            vec![vma(0x1000, 0x3000), vma(0x2000, 0x4000)],
            vec![vma(0x3000, 0x4000), vma(0x1000, 0x2000)],
            vec![vma(0x7fff_ffff_f000, 0x8000_0000_1000)],
        ] {
            assert_eq!(AddressSpace::new(layout(), bad), Err(SourceError::Unavailable));
        }
        let mut bad_prot = vma(0x1000, 0x2000);
        bad_prot.prot = Prot(0x80);
        assert_eq!(
            AddressSpace::new(layout(), vec![bad_prot]),
            Err(SourceError::Unavailable)
        );
    }
}
