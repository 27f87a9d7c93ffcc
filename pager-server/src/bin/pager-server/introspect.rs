//! The pager's side of the procfs protocol: the procfs server asks about a
//! process's identity, layout, VMAs, resident pages and memory, and only the
//! procfs service the pager itself launched may ask.
//!
//! VMAs go in batches found by address (`SourceRequest::Vmas`): one
//! O(log n) lookup in the VMA index per batch of up to 64, written into the
//! buffer the procfs server lent with its call.

use libipc::{
    procfs::{self, SourceError, SourceReply, SourceRequest, SourceResponse, SpaceLayout},
    types::{PAGE_SIZE, PhysAddr, Pid, Sender, VirtAddr},
};
use pager::{
    introspect::{page_info, vma_info},
    resident::Frame,
    space::{AddressSpace, Fill, page_down},
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
            (Some(Frame::Zero), _) => chunk.fill(0),
            (Some(Frame::Dirty(frame) | Frame::Clean(frame)), _) => {
                chunk.copy_from_slice(&window.frame(frame)[in_page..in_page + n]);
            }
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

/// The addresses procfs names `[heap]` and `[stack]` by, and the top.
fn space_layout(space: &AddressSpace) -> SpaceLayout {
    let l = space.layout;
    SpaceLayout {
        start_brk: VirtAddr(l.start_brk),
        brk: VirtAddr(l.brk),
        start_stack: VirtAddr(l.start_stack),
        top: VirtAddr(space.top()),
    }
}

/// Bytes of VMA records staged per copy into procfs's lease.
const VMA_CHUNK: usize = 4096;

/// Writes `data` at `offset` in the lease of the call being served.
fn lend_back(offset: u64, data: &[u8]) -> Result<(), SourceError> {
    match libipc::sys::lease_write(offset, data) {
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
            SourceRequest::Identities { pids } => Ok(SourceReply::Identities(
                pids.iter()
                    .map(|&pid| match pid {
                        PAGER_PID => Some(SYSTEM_IDENTITY),
                        pid => self.process(pid).map(|p| p.identity),
                    })
                    .collect(),
            )),
            SourceRequest::Layout { pid } => {
                let p = self.process(pid).ok_or(SourceError::NoSuchProcess)?;
                Ok(SourceReply::Layout {
                    layout: space_layout(&p.space),
                    vma_count: p.space.vmas().len() as u32,
                })
            }
            SourceRequest::Vmas { pid, from, max } => {
                let p = self.process(pid).ok_or(SourceError::NoSuchProcess)?;
                // One O(log n) descent to the first VMA ending above
                // `from`, then the leaves in order.
                let max = max.min(procfs::MAX_VMAS_PER_BATCH) as usize;
                let mut following = p.space.vmas().ending_above(from.0).peekable();
                let mut taken = 0usize;
                let vmas = following.by_ref().take(max).inspect(|_| taken += 1).map(vma_info);
                // Records go into the lease a page at a time (an anonymous
                // VMA's is 48 bytes): no buffer the size of a whole batch.
                let mut chunk = [0u8; VMA_CHUNK];
                let (count, bytes) = procfs::send_vma_batch(vmas, &mut chunk, lend_back)?;
                // The last only if every VMA taken was sent and none follows.
                let last = count as usize == taken && following.peek().is_none();
                Ok(SourceReply::Vmas {
                    count,
                    bytes,
                    layout: space_layout(&p.space),
                    last,
                })
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
                    for (page, frame) in v.resident.range(start..end) {
                        let info = page_info(v, page, frame, self.zero_frame);
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
            let Some(frame) = self.ensure_resident(pid, page, true) else {
                break;
            };
            // The clock page is the kernel's: nobody writes it.
            if Some(frame) == self.window.vvar() {
                break;
            }
            self.window.frame_mut(frame)[in_page..in_page + n].copy_from_slice(&data[at..at + n]);
            // The kernel's dirty bit does not see the pager's writes.
            if let Some(p) = self.process_mut(pid) {
                p.space.mark_written(VirtAddr(page));
            }
            done = at + n;
        }
        if done == 0 && !data.is_empty() {
            Err(SourceError::Io)
        } else {
            Ok(done)
        }
    }

    /// The frame of `page` in `pid`, for writing with `write`, allocating,
    /// filling and mapping it if it is not resident (or is the zero page,
    /// and `write`: then it is copied); `None` outside any VMA or when out
    /// of frames. For a read it may be the zero frame.
    pub(crate) fn ensure_resident(&mut self, pid: Pid, page: u64, write: bool) -> Option<PhysAddr> {
        self.keep_frames_free();
        let was_resident = self.process(pid)?.space.frame_of(VirtAddr(page)).is_some();
        let process = self.processes.get_mut(&pid)?;
        let mut backend = DirectBackend {
            pid,
            window: &mut self.window,
            ramdisk: &self.ramdisk,
            frames: &mut self.frames,
            zero_frame: self.zero_frame,
        };
        let frame = pager::resolve::make_resident(&mut process.space, page, write, &mut backend)?;
        if !was_resident && !self.populating && self.recorder.on() {
            let now = self.now_ns();
            let touch = pager::record::Event::Touch { page, write };
            self.recorder
                .record(|w| pager::record::write_simple(w, pid.0, now, &touch));
        }
        Some(frame)
    }
}

/// [`pager::resolve::make_resident`] outside a fault: each page mapped in
/// the process's page tables straight away (unless PROT_NONE, whose pages
/// stay out of them).
struct DirectBackend<'a> {
    pid: Pid,
    window: &'a mut Window,
    ramdisk: &'a Ramdisk,
    frames: &'a mut pager::frames::FramePool,
    zero_frame: PhysAddr,
}

impl pager::resolve::FaultBackend for DirectBackend<'_> {
    fn alloc(&mut self) -> Option<libipc::types::PhysAddr> {
        self.frames.alloc()
    }

    fn zero_frame(&self) -> PhysAddr {
        self.zero_frame
    }

    fn fill(&mut self, frame: libipc::types::PhysAddr, fill: Fill) {
        crate::serve::fill_frame(self.window, self.ramdisk, frame, fill);
    }

    fn free(&mut self, frame: libipc::types::PhysAddr) {
        let _ = self.frames.free(frame);
    }

    fn map(&mut self, page: &pager::space::PageToMap, frame: libipc::types::PhysAddr) {
        if page.prot != libipc::types::Prot::NONE {
            let _ = libipc::sys::map(self.pid, page.virt, frame, crate::serve::page_flags(page));
        }
    }

    fn unmap(&mut self, page: VirtAddr) {
        let _ = libipc::sys::unmap(self.pid, page, libipc::types::PageCount(1));
    }
}
