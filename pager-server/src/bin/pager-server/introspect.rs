//! The pager's side of the procfs protocol: the procfs server asks about a
//! process's identity, layout, VMAs, resident pages and memory, and only the
//! procfs service the pager itself launched may ask.
//!
//! VMAs go in batches found by address (`SourceRequest::Vmas`): one
//! O(log n) lookup in the VMA index per batch of up to 64, written into the
//! buffer the procfs server lent with its call.

use alloc::vec;

use libipc::{
    procfs::{
        self, Backing as FileBacking, FileRef, PageFlags, PageFrame, PageInfo, Sharing, SourceError, SourceReply,
        SourceRequest, SourceResponse, SpaceLayout, SpecialMapping, VmaInfo, VmaLabel,
    },
    types::{PAGE_SIZE, Pid, Sender, VirtAddr},
};
use pager::{
    space::{AddressSpace, Fill, page_down},
    vma::{Backing, Vma, VmaName},
};

use crate::{identity::SYSTEM_IDENTITY, ramdisk::Ramdisk, serve::Server, window::Window};

/// The pager's own pid (the first task).
const PAGER_PID: Pid = Pid(1);

/// Splits `[addr, addr+len)` at page boundaries: (page, offset in the
/// page, offset in the range, bytes).
fn page_chunks(addr: u64, len: usize) -> impl Iterator<Item = (u64, usize, usize, usize)> {
    let mut at = 0;
    core::iter::from_fn(move || {
        (at < len).then(|| {
            let va = addr + at as u64;
            let page = page_down(va);
            let in_page = (va - page) as usize;
            let n = (PAGE_SIZE as usize - in_page).min(len - at);
            let chunk = (page, in_page, at, n);
            at += n;
            chunk
        })
    })
}

fn vma_info(v: &Vma) -> VmaInfo {
    let backing = match (&v.backing, &v.name) {
        (Backing::File { offset, file, .. }, name) => {
            let path = match name {
                VmaName::Path(p) => p.as_str(),
                _ => "",
            };
            let mut p: heapless::String<{ procfs::MAX_PATH }> = heapless::String::new();
            // Cut at a character boundary: a path longer than MAX_PATH may
            // have a multi-byte character across the limit.
            let _ = p.push_str(&path[..path.floor_char_boundary(procfs::MAX_PATH)]);
            // The ramdisk is the only filesystem: device 00:01, inode = file id + 1.
            FileBacking::File(FileRef {
                path: p,
                dev_major: 0,
                dev_minor: 1,
                inode: file.0 + 1,
                page_offset: offset / PAGE_SIZE,
            })
        }
        (Backing::Anonymous, _) => FileBacking::Anonymous,
    };
    let label = match v.name {
        VmaName::Vdso => VmaLabel::Special(SpecialMapping::Vdso),
        VmaName::Vvar => VmaLabel::Special(SpecialMapping::Vvar),
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
    }
}

/// Reads `out.len()` bytes of `space` at `addr` as a debugger would:
/// resident pages from their frames, others as they would fault in (zeros
/// or file bytes), without allocating; stops at the first byte outside any
/// VMA. Returns the bytes read.
pub(crate) fn read_space(
    window: &mut Window,
    ramdisk: &Ramdisk,
    space: &AddressSpace,
    addr: u64,
    out: &mut [u8],
) -> usize {
    let mut done = 0;
    for (page, in_page, at, n) in page_chunks(addr, out.len()) {
        let Some(v) = space.vmas().find(page + in_page as u64) else {
            break;
        };
        let chunk = &mut out[at..at + n];
        match (v.resident.get(page), pager::space::page_fill(v, page)) {
            (Some(frame), _) => chunk.copy_from_slice(&window.frame(frame)[in_page..in_page + n]),
            (None, Fill::File { file, offset, len }) => {
                // The page's file bytes, then zeros, as a fault would fill it.
                let data = ramdisk.page_data(file, offset, len).get(in_page..).unwrap_or(&[]);
                let from_file = data.len().min(n);
                chunk[..from_file].copy_from_slice(&data[..from_file]);
                chunk[from_file..].fill(0);
            }
            (None, _) => chunk.fill(0),
        }
        done = at + n;
    }
    done
}

/// Writes `data` at the start of the lease of the call being served.
fn lend_back(data: &[u8]) -> Result<(), SourceError> {
    match libipc::sys::lease_write(0, data) {
        Ok(n) if n == data.len() => Ok(()),
        _ => Err(SourceError::Unavailable),
    }
}

impl Server {
    /// Answers a procfs question from `asker`.
    pub(crate) fn introspect(&mut self, asker: Sender, request: SourceRequest) -> SourceResponse {
        if Some(asker.pid) != self.procfs_pid() {
            return Err(SourceError::Unavailable);
        }
        match request {
            SourceRequest::Identity { pid } if pid == PAGER_PID => Ok(SourceReply::Identity(SYSTEM_IDENTITY)),
            SourceRequest::Identity { pid } => self
                .process(pid)
                .map(|p| SourceReply::Identity(p.identity))
                .ok_or(SourceError::NoSuchProcess),
            SourceRequest::Layout { pid } => {
                let p = self.process(pid).ok_or(SourceError::NoSuchProcess)?;
                let l = p.space.layout;
                Ok(SourceReply::Layout {
                    layout: SpaceLayout {
                        start_brk: VirtAddr(l.start_brk),
                        brk: VirtAddr(l.brk),
                        start_stack: VirtAddr(l.start_stack),
                        top: VirtAddr(p.space.top()),
                    },
                    vma_count: p.space.vmas().len() as u32,
                })
            }
            SourceRequest::Vmas { pid, from, max } => {
                let p = self.process(pid).ok_or(SourceError::NoSuchProcess)?;
                // One O(log n) descent to the first VMA ending above
                // `from`, then the leaves in order.
                let vmas = p.space.vmas().ending_above(from.0).take(max as usize).map(vma_info);
                let mut batch = vec![0u8; procfs::VMA_LEASE_BYTES];
                let reply = procfs::encode_vma_batch(vmas, &mut batch);
                if let SourceReply::Vmas { bytes, .. } = reply {
                    lend_back(&batch[..bytes as usize])?;
                }
                Ok(reply)
            }
            SourceRequest::Pages {
                pid,
                start_vpn,
                end_vpn,
            } => {
                let p = self.process(pid).ok_or(SourceError::NoSuchProcess)?;
                let (start, end) = (start_vpn.saturating_mul(PAGE_SIZE), end_vpn.saturating_mul(PAGE_SIZE));
                let mut pages = heapless::Vec::new();
                'vmas: for v in p.space.vmas().overlapping(start, end) {
                    let anonymous = matches!(v.backing, Backing::Anonymous);
                    for (page, frame, huge) in v.resident.range_huge(start..end) {
                        let mut flags = PageFlags::EXCLUSIVE.union(PageFlags::REFERENCED);
                        if anonymous {
                            flags = flags.union(PageFlags::ANONYMOUS).union(PageFlags::DIRTY);
                        }
                        if huge {
                            flags = flags.union(PageFlags::HUGE);
                        }
                        let info = PageInfo {
                            vpn: page / PAGE_SIZE,
                            frame: PageFrame::Resident { pfn: frame.pfn() },
                            map_count: 1,
                            flags,
                        };
                        if pages.push(info).is_err() {
                            break 'vmas;
                        }
                    }
                }
                Ok(SourceReply::Pages(pages))
            }
            SourceRequest::ReadMem { pid, addr, len } => {
                let mut data = heapless::Vec::new();
                let len = (len as usize).min(procfs::MAX_INLINE_DATA);
                let _ = data.resize(len, 0);
                let n = self.read_mem(pid, addr.0, &mut data)?;
                data.truncate(n);
                Ok(SourceReply::Data(data))
            }
            SourceRequest::Settings => Ok(SourceReply::Settings {
                vsyscall: self.options.vsyscall,
            }),
            SourceRequest::WriteMem { pid, addr, data } => self
                .write_mem(pid, addr.0, &data)
                .map(|n| SourceReply::Written(n as u32)),
        }
    }

    /// Reads a process's memory: resident pages from their frames, others
    /// as they would fault in (zeros or file bytes), without allocating.
    pub(crate) fn read_mem(&mut self, pid: Pid, addr: u64, out: &mut [u8]) -> Result<usize, SourceError> {
        let p = self.processes.get(&pid).ok_or(SourceError::NoSuchProcess)?;
        let done = read_space(&mut self.window, &self.ramdisk, &p.space, addr, out);
        if done == 0 && !out.is_empty() {
            Err(SourceError::Io)
        } else {
            Ok(done)
        }
    }

    /// Writes a process's memory (as a debugger would): pages not yet
    /// resident are faulted in first.
    pub(crate) fn write_mem(&mut self, pid: Pid, addr: u64, data: &[u8]) -> Result<usize, SourceError> {
        let mut done = 0;
        for (page, in_page, at, n) in page_chunks(addr, data.len()) {
            let Some(frame) = self.ensure_resident(pid, page) else {
                break;
            };
            // The clock page is the kernel's: nobody writes it.
            if Some(frame) == self.window.vvar() {
                break;
            }
            self.window.frame_mut(frame)[in_page..in_page + n].copy_from_slice(&data[at..at + n]);
            done = at + n;
        }
        if done == 0 && !data.is_empty() {
            Err(SourceError::Io)
        } else {
            Ok(done)
        }
    }

    /// The frame of `page` in `pid`, allocating, filling and mapping it if
    /// it is not resident; `None` outside any VMA or when out of frames.
    pub(crate) fn ensure_resident(&mut self, pid: Pid, page: u64) -> Option<libipc::types::PhysAddr> {
        let (resident, fill, prot) = {
            let p = self.process(pid)?;
            let v = p.space.vmas().find(page)?;
            (v.resident.get(page), pager::space::page_fill(v, page), v.prot)
        };
        if let Some(frame) = resident {
            return Some(frame);
        }
        let frame = self.frames.alloc()?;
        crate::serve::fill_frame(&mut self.window, &self.ramdisk, frame, fill);
        let _ = self.process_mut(pid)?.space.commit(VirtAddr(page), frame);
        if prot != libipc::types::Prot::NONE {
            let _ = libipc::sys::map(pid, VirtAddr(page), frame, crate::serve::map_flags(prot));
        }
        Some(frame)
    }
}
