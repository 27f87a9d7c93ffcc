//! The pager's introspection answers and the formatter together: an
//! address space driven as a program would drive it (mmap, faults as the
//! server carries them out, mprotect), described by `pager::introspect`
//! and printed by procfs's smaps and pagemap code, must say what Linux
//! says. Fixtures elsewhere assume flags; these come from the pager.

use libipc::{
    pager::MapKind,
    procfs::{PageInfo, SpaceLayout, VmaInfo},
    types::{Access, PAGE_SIZE, PhysAddr, Prot, VirtAddr},
};
use pager::{
    frames::FramePool,
    introspect::{page_info, vma_info},
    policy::Policy,
    rlimit::Rlimits,
    settings::Settings,
    space::{AddressSpace, FaultDecision, FileSlice, Fill, MmapArgs},
    vma::{FileId, Vma},
};
use procfs_server::format::{
    pagemap::{self, PM_FILE, PM_MMAP_EXCLUSIVE, PM_PRESENT},
    record::Record,
    smaps::{MemStats, write_vma_record},
};

const PAGE: u64 = PAGE_SIZE;
/// The kernel's zero frame, as the server learns it.
const ZERO_FRAME: PhysAddr = PhysAddr(0x7000);

/// The default policy's choice: the zero page on reads.
struct ZeroPage;

impl Policy for ZeroPage {
    fn name(&self) -> &'static str {
        "zero-page"
    }

    fn zero_page(&mut self, _vma: &Vma, _page: u64) -> bool {
        true
    }
}

struct Live {
    space: AddressSpace,
    pool: FramePool,
}

impl Live {
    fn new() -> Live {
        Live {
            space: AddressSpace::new(&Settings::default(), Rlimits::default(), 0x7f00_0000_0000),
            pool: FramePool::new(PhysAddr(0x100_0000), 64),
        }
    }

    fn mmap(&mut self, pages: u64, prot: Prot, flags: MapKind, file: Option<FileSlice>) -> u64 {
        let (addr, _) = self
            .space
            .mmap(MmapArgs {
                addr: 0,
                len: pages * PAGE,
                prot,
                flags,
                file,
            })
            .unwrap();
        addr.0
    }

    /// A fault carried out as the pager server does.
    fn touch(&mut self, addr: u64, access: Access) {
        let FaultDecision::Map(pages) = self.space.fault(&mut ZeroPage, addr, access) else {
            panic!("killed")
        };
        let mut fresh = Vec::new();
        for p in &pages {
            match p.fill {
                Fill::Resident(_) => {}
                Fill::ZeroPage => fresh.push((p.virt, pager::resident::Frame::Zero)),
                _ => fresh.push((p.virt, p.frame(self.pool.alloc().unwrap()))),
            }
        }
        self.space.commit_pages(&fresh, |_, _, e| panic!("{e:?}"));
    }

    /// The VMA at `addr` and its pages, as the pager answers procfs.
    fn answer(&self, addr: u64) -> (VmaInfo, Vec<PageInfo>) {
        let v = self.space.vmas().find(addr).unwrap();
        let pages = v
            .resident
            .range_huge(v.start..v.end)
            .map(|(page, frame, huge)| page_info(v, page, frame, huge, ZERO_FRAME))
            .collect();
        (vma_info(v), pages)
    }

    /// The smaps record of the VMA at `addr`.
    fn smaps(&self, addr: u64) -> String {
        let (vma, pages) = self.answer(addr);
        let mut stats = MemStats::default();
        for p in &pages {
            stats.account(&vma, p);
        }
        let layout = SpaceLayout {
            start_brk: VirtAddr(0),
            brk: VirtAddr(0),
            start_stack: VirtAddr(0),
            top: libipc::types::USER_END,
        };
        let mut out = Record::with_capacity(4096);
        write_vma_record(&mut out, &layout, &vma, &stats);
        out.into_string()
    }

    /// The pagemap entry of `addr`, unprivileged.
    fn pagemap(&self, addr: u64) -> u64 {
        let (_, pages) = self.answer(addr);
        pages
            .iter()
            .find(|p| p.vpn == addr / PAGE)
            .map_or(0, |p| pagemap::entry(p, false))
    }
}

fn field(smaps: &str, key: &str) -> String {
    smaps
        .lines()
        .find(|l| l.starts_with(&format!("{key}:")))
        .unwrap_or_else(|| panic!("no {key} in\n{smaps}"))
        .to_string()
}

#[test]
fn anonymous_memory_only_read_is_the_zero_page_and_one_write_is_4_kb() {
    let mut live = Live::new();
    let a = live.mmap(1000, Prot::RW, MapKind::PRIVATE.union(MapKind::ANONYMOUS), None);
    for i in 0..1000 {
        live.touch(a + i * PAGE, Access::Read);
    }
    let smaps = live.smaps(a);
    assert_eq!(field(&smaps, "Rss"), "Rss:                   0 kB");
    assert_eq!(field(&smaps, "Anonymous"), "Anonymous:             0 kB");
    assert_eq!(live.pagemap(a), PM_PRESENT, "present, not exclusive, no file bit");
    live.touch(a + 5 * PAGE, Access::Write);
    let smaps = live.smaps(a);
    assert_eq!(field(&smaps, "Rss"), "Rss:                   4 kB");
    assert_eq!(field(&smaps, "Private_Dirty"), "Private_Dirty:         4 kB");
    assert_eq!(live.pagemap(a + 5 * PAGE), PM_PRESENT | PM_MMAP_EXCLUSIVE);
    // mprotect to read keeps `ac`.
    live.space.mprotect(a, 1000 * PAGE, Prot::READ).unwrap();
    assert_eq!(field(&live.smaps(a), "VmFlags"), "VmFlags: rd mr mw me ac ");
}

#[test]
fn a_written_private_file_page_is_anonymous_and_dirty() {
    let mut live = Live::new();
    let file = FileSlice::unsized_(FileId(4), 0);
    let m = live.mmap(2, Prot::RW, MapKind::PRIVATE, Some(file));
    live.touch(m, Access::Read);
    live.touch(m + PAGE, Access::Read);
    live.touch(m + PAGE, Access::Write);
    let smaps = live.smaps(m);
    assert_eq!(field(&smaps, "Private_Clean"), "Private_Clean:         4 kB");
    assert_eq!(field(&smaps, "Private_Dirty"), "Private_Dirty:         4 kB");
    assert_eq!(field(&smaps, "Anonymous"), "Anonymous:             4 kB");
    assert_eq!(live.pagemap(m) & PM_FILE, PM_FILE, "the page only read is a file page");
    assert_eq!(
        live.pagemap(m + PAGE),
        PM_PRESENT | PM_MMAP_EXCLUSIVE,
        "the written one is not"
    );
}

#[test]
fn shared_anonymous_memory_is_shmem_named_dev_zero() {
    let mut live = Live::new();
    let s = live.mmap(2, Prot::RW, MapKind::SHARED.union(MapKind::ANONYMOUS), None);
    live.touch(s, Access::Write);
    live.touch(s + PAGE, Access::Read);
    let smaps = live.smaps(s);
    let header = smaps.lines().next().unwrap();
    assert!(header.contains(" rw-s 00000000 00:01 1 "), "{header}");
    assert!(header.ends_with(" /dev/zero (deleted)"), "{header}");
    assert_eq!(field(&smaps, "Rss"), "Rss:                   8 kB");
    assert_eq!(field(&smaps, "Private_Clean"), "Private_Clean:         4 kB");
    assert_eq!(field(&smaps, "Private_Dirty"), "Private_Dirty:         4 kB");
    assert_eq!(field(&smaps, "Anonymous"), "Anonymous:             0 kB");
    assert_eq!(live.pagemap(s), PM_PRESENT | PM_FILE | PM_MMAP_EXCLUSIVE);
    let r = live.mmap(1, Prot::READ, MapKind::SHARED.union(MapKind::ANONYMOUS), None);
    live.touch(r, Access::Read);
    let smaps = live.smaps(r);
    assert!(
        smaps.lines().next().unwrap().contains(" r--s 00000000 00:01 2 "),
        "a second object"
    );
    assert_eq!(field(&smaps, "VmFlags"), "VmFlags: rd sh mr mw me ms ");
}
