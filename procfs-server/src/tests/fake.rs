//! An in-memory pager: the [`AddressSpaceSource`] of host tests.

use alloc::{collections::BTreeMap, vec, vec::Vec};

use libipc::{
    procfs::{MAX_PAGES_PER_BATCH, PageInfo, SourceError, SpaceLayout, VmaInfo},
    types::{PAGE_SIZE, Pid, VirtAddr},
};

use crate::source::{AddressSpaceSource, BatchInfo, PageBatch};

/// One process's memory as the fake pager knows it.
#[derive(Clone, Debug)]
pub struct FakeSpace {
    pub layout: SpaceLayout,
    pub vmas: Vec<VmaInfo>,
    pub pages: Vec<PageInfo>,
    /// Contents of touched pages by vpn; others read as zeros.
    pub memory: BTreeMap<u64, Vec<u8>>,
}

/// The fake pager; `calls` counts every question, so tests can prove a
/// refused request never reached it.
#[derive(Clone, Debug, Default)]
pub struct FakeSource {
    pub spaces: BTreeMap<Pid, FakeSpace>,
    pub calls: usize,
    /// Fail every call with this error.
    pub fail: Option<SourceError>,
}

impl FakeSource {
    fn enter(&mut self, pid: Pid) -> Result<&mut FakeSpace, SourceError> {
        self.calls += 1;
        if let Some(e) = self.fail {
            return Err(e);
        }
        self.spaces.get_mut(&pid).ok_or(SourceError::NoSuchProcess)
    }
}

fn page_of(addr: u64) -> (u64, usize) {
    (addr / PAGE_SIZE, (addr % PAGE_SIZE) as usize)
}

impl AddressSpaceSource for FakeSource {
    fn layout(&mut self, pid: Pid) -> Result<SpaceLayout, SourceError> {
        Ok(self.enter(pid)?.layout)
    }

    fn vmas(&mut self, pid: Pid, from: VirtAddr, max: u32, out: &mut Vec<VmaInfo>) -> Result<BatchInfo, SourceError> {
        let space = self.enter(pid)?;
        // As the pager's index: the first VMA ending above `from` (on a
        // deliberately unsorted list, wherever the search lands).
        let first = space.vmas.partition_point(|v| v.end <= from);
        out.extend(space.vmas.iter().skip(first).take(max as usize).cloned());
        Ok(BatchInfo {
            layout: space.layout,
            last: first + out.len() >= space.vmas.len(),
        })
    }

    fn pages(&mut self, pid: Pid, start_vpn: u64, end_vpn: u64, out: &mut PageBatch) -> Result<u64, SourceError> {
        let space = self.enter(pid)?;
        let mut wanted: Vec<PageInfo> = space
            .pages
            .iter()
            .filter(|p| (start_vpn..end_vpn).contains(&p.vpn))
            .copied()
            .collect();
        wanted.sort_by_key(|p| p.vpn);
        out.extend(wanted.into_iter().take(MAX_PAGES_PER_BATCH));
        Ok(end_vpn)
    }

    fn read_mem(&mut self, pid: Pid, addr: VirtAddr, buf: &mut [u8]) -> Result<usize, SourceError> {
        let space = self.enter(pid)?;
        for (i, byte) in buf.iter_mut().enumerate() {
            let (vpn, off) = page_of(addr.0 + i as u64);
            *byte = space.memory.get(&vpn).map_or(0, |page| page[off]);
        }
        Ok(buf.len())
    }

    fn write_mem(&mut self, pid: Pid, addr: VirtAddr, data: &[u8]) -> Result<usize, SourceError> {
        let space = self.enter(pid)?;
        for (i, byte) in data.iter().enumerate() {
            let (vpn, off) = page_of(addr.0 + i as u64);
            space.memory.entry(vpn).or_insert_with(|| vec![0; PAGE_SIZE as usize])[off] = *byte;
        }
        Ok(data.len())
    }
}
