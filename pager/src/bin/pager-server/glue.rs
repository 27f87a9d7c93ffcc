//! The server's view of the policy: the calls it makes, in one place.
//!
//! TEMPORARY: a minimal in-binary policy until the `pager` library's
//! address-space model lands; then every function here forwards to it.

use alloc::{collections::BTreeMap, string::String, vec::Vec};

use libipc::{
    kernel::KillReason,
    pager::{Errno, MapKind},
    types::{Access, PAGE_SIZE, PageCount, PhysAddr, Prot, VirtAddr},
};

use crate::elf;

/// How a new page gets its content.
#[derive(Clone, Copy, Debug)]
pub enum Fill {
    Zero,
    /// Copy `len` bytes of ramdisk file `file` from `offset`, zero the rest.
    File { file: usize, offset: u64, len: u64 },
    /// Already has a frame (kept while unmapped, e.g. PROT_NONE).
    Resident(PhysAddr),
}

#[derive(Clone, Copy, Debug)]
pub struct Page {
    pub virt: VirtAddr,
    pub prot: Prot,
    pub fill: Fill,
}

pub enum Decision {
    Map(Vec<Page>),
    Kill(KillReason),
}

pub struct Start {
    pub entry: VirtAddr,
    pub stack: VirtAddr,
}

pub struct FramePool {
    base: u64,
    total: u64,
    free: Vec<u64>,
}

impl FramePool {
    pub fn new(base: u64, frames: u64) -> Self {
        FramePool { base, total: frames, free: (0..frames).rev().collect() }
    }
    pub fn alloc(&mut self) -> Option<PhysAddr> {
        self.free.pop().map(|i| PhysAddr(self.base + i * PAGE_SIZE))
    }
    pub fn free(&mut self, phys: PhysAddr) {
        self.free.push((phys.0 - self.base) / PAGE_SIZE);
    }
    pub fn free_count(&self) -> PageCount {
        PageCount(self.free.len() as u64)
    }
    pub fn total(&self) -> PageCount {
        PageCount(self.total)
    }
}

pub struct Policy;

impl Policy {
    pub fn new(_name: &str, _settings: &[(String, String)], _seed: [u64; 4]) -> Result<Policy, String> {
        Ok(Policy)
    }

    pub fn load(&mut self, program: &elf::Program, file: usize) -> Result<(Space, Start), String> {
        let mut space = Space { vmas: BTreeMap::new(), pages: BTreeMap::new() };
        for s in &program.segments {
            let start = s.vaddr.0 & !(PAGE_SIZE - 1);
            let end = (s.vaddr.0 + s.mem_size).next_multiple_of(PAGE_SIZE);
            space.vmas.insert(
                start,
                Vma {
                    end,
                    prot: s.prot,
                    file: Some((file, s.file_offset - (s.vaddr.0 - start), s.vaddr.0 + s.file_size)),
                },
            );
        }
        const STACK_TOP: u64 = 0x7fff_ffff_0000;
        const STACK: u64 = 8 << 20;
        space.vmas.insert(STACK_TOP - STACK, Vma { end: STACK_TOP, prot: Prot::RW, file: None });
        Ok((space, Start { entry: program.entry, stack: VirtAddr(STACK_TOP) }))
    }
}

struct Vma {
    end: u64,
    prot: Prot,
    /// (file, file offset of the VMA start, end of file-backed bytes)
    file: Option<(usize, u64, u64)>,
}

pub struct Space {
    vmas: BTreeMap<u64, Vma>,
    pages: BTreeMap<u64, PhysAddr>,
}

impl Space {
    fn find(&self, addr: u64) -> Option<(u64, &Vma)> {
        self.vmas.range(..=addr).next_back().filter(|(_, v)| addr < v.end).map(|(s, v)| (*s, v))
    }

    pub fn fault(&mut self, _policy: &mut Policy, addr: VirtAddr, access: Access) -> Decision {
        let Some((start, vma)) = self.find(addr.0) else { return Decision::Kill(KillReason::NoMapping) };
        if !vma.prot.permits(access) {
            return Decision::Kill(KillReason::Protection);
        }
        let page = addr.0 & !(PAGE_SIZE - 1);
        let fill = match (self.pages.get(&page), vma.file) {
            (Some(&phys), _) => Fill::Resident(phys),
            (None, Some((file, offset, file_end))) => {
                let len = file_end.saturating_sub(page).min(PAGE_SIZE);
                Fill::File { file, offset: offset + (page - start), len }
            }
            (None, None) => Fill::Zero,
        };
        Decision::Map(alloc::vec![Page { virt: VirtAddr(page), prot: vma.prot, fill }])
    }

    pub fn commit(&mut self, virt: VirtAddr, phys: PhysAddr) {
        self.pages.insert(virt.0, phys);
    }

    pub fn frames(&self) -> Vec<PhysAddr> {
        self.pages.values().copied().collect()
    }

    pub fn mmap(&mut self, _p: &mut Policy, addr: VirtAddr, len: u64, prot: Prot, flags: MapKind) -> Result<VirtAddr, Errno> {
        if len == 0 {
            return Err(Errno::Invalid);
        }
        let len = len.next_multiple_of(PAGE_SIZE);
        let start = if flags.contains(MapKind::FIXED) {
            addr.0
        } else {
            let mut top = 0x7f00_0000_0000u64;
            for (&s, v) in self.vmas.iter().rev() {
                if s >= top {
                    continue;
                }
                if v.end + len <= top {
                    break;
                }
                top = s;
            }
            top - len
        };
        self.vmas.insert(start, Vma { end: start + len, prot, file: None });
        Ok(VirtAddr(start))
    }

    pub fn munmap(&mut self, addr: VirtAddr, len: u64) -> Result<Vec<(VirtAddr, PhysAddr)>, Errno> {
        let end = addr.0 + len.next_multiple_of(PAGE_SIZE);
        self.vmas.retain(|&s, v| !(s >= addr.0 && v.end <= end));
        let dropped: Vec<u64> = self.pages.range(addr.0..end).map(|(p, _)| *p).collect();
        Ok(dropped.into_iter().map(|p| (VirtAddr(p), self.pages.remove(&p).expect("listed"))).collect())
    }

    pub fn mprotect(&mut self, addr: VirtAddr, _len: u64, prot: Prot) -> Result<Vec<(VirtAddr, PhysAddr, Prot)>, Errno> {
        let v = self.vmas.get_mut(&addr.0).ok_or(Errno::NoMemory)?;
        v.prot = prot;
        let end = v.end;
        Ok(self.pages.range(addr.0..end).map(|(p, f)| (VirtAddr(*p), *f, prot)).collect())
    }

    pub fn brk(&mut self, _addr: VirtAddr) -> (VirtAddr, Vec<(VirtAddr, PhysAddr)>) {
        (VirtAddr(0), Vec::new())
    }

    pub fn resident(&self, addr: VirtAddr, len: u64) -> u64 {
        self.pages.range(addr.0..addr.0.saturating_add(len)).count() as u64
    }
}
