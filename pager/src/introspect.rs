//! What the procfs server is told about an address space (`libipc::procfs`
//! answers), as Linux's accounting sees it. In the library, not the
//! server, so host tests run these answers through procfs's formatter and
//! check what a reader of `/proc` would see.

use libipc::{
    procfs::{
        self, Backing as FileBacking, FileRef, PageFlags, PageFrame, PageInfo, Sharing, SpecialMapping, VmaInfo,
        VmaLabel,
    },
    types::{PAGE_SIZE, PhysAddr, VirtAddr},
};

use crate::{
    resident::Frame,
    vma::{Backing, Vma, VmaName},
};

/// The VMA as procfs sees it.
pub fn vma_info(v: &Vma) -> VmaInfo {
    let backing = match (&v.backing, &v.name) {
        (Backing::File { offset, file, .. }, name) => {
            let path = match name {
                VmaName::Path(p) => p.as_str(),
                _ => "",
            };
            // The ramdisk is the only filesystem: device 00:01, inode = file id + 1.
            let mut file = FileRef {
                path: Default::default(),
                dev_major: 0,
                dev_minor: 1,
                inode: file.0 + 1,
                page_offset: offset / PAGE_SIZE,
            };
            // Cut at a character boundary: a path longer than MAX_PATH may
            // have a multi-byte character across the limit.
            let _ = file.path.push_str(&path[..path.floor_char_boundary(procfs::MAX_PATH)]);
            FileBacking::File(file)
        }
        (Backing::Anonymous, _) => FileBacking::Anonymous,
    };
    let label = match v.name {
        VmaName::Vdso => VmaLabel::Special(SpecialMapping::Vdso),
        VmaName::Vvar => VmaLabel::Special(SpecialMapping::Vvar),
        // Inode numbers as Linux's shmem objects: small, from 1.
        VmaName::Shmem(object) => VmaLabel::Shmem { inode: object },
        _ => VmaLabel::None,
    };
    VmaInfo {
        start: VirtAddr(v.start),
        end: VirtAddr(v.end),
        prot: v.prot,
        sharing: if v.shared { Sharing::Shared } else { Sharing::Private },
        backing,
        grows_down: v.grows_down,
        label,
        accounted: v.accounted,
    }
}

/// What procfs is told of a resident page of `v`, as Linux's accounting
/// sees it: the frame number, and
/// - the zero page: present with the zero frame's number, neither
///   exclusive nor counted in smaps (Linux's `vm_normal_page` skips it);
/// - a written page of a private mapping: anonymous and dirty (a written
///   file page is Linux's copy-on-write anonymous copy);
/// - a page of a shared anonymous mapping: shared memory (shmem), not
///   anonymous, dirty once written;
/// - a file page not written: clean, a file page;
/// - a page of a 2 MiB page mapped with one entry (`huge`): marked so
///   (smaps's AnonHugePages).
///
/// `page` is the page's address, `zero_frame` the kernel's zero frame.
pub fn page_info(v: &Vma, page: u64, frame: Frame, huge: bool, zero_frame: PhysAddr) -> PageInfo {
    let own = PageFlags::EXCLUSIVE.union(PageFlags::REFERENCED);
    let (pfn, flags) = match frame {
        Frame::Zero => (zero_frame.pfn(), PageFlags::ZERO_PAGE),
        Frame::Dirty(f) if v.shared => (f.pfn(), own.union(PageFlags::DIRTY)),
        Frame::Dirty(f) => (f.pfn(), own.union(PageFlags::DIRTY).union(PageFlags::ANONYMOUS)),
        Frame::Clean(f) => (f.pfn(), own),
    };
    let flags = if huge { flags.union(PageFlags::HUGE) } else { flags };
    PageInfo {
        vpn: page / PAGE_SIZE,
        frame: PageFrame::Resident { pfn },
        map_count: 1,
        flags,
    }
}
