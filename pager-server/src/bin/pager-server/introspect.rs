//! The pager's side of the procfs protocol: the procfs server asks about a
//! process's identity, layout, VMAs, resident pages and memory, and only the
//! procfs service the pager itself launched may ask.
//!
//! VMAs go in batches found by address (`VmaQuestion`, a fixed-layout
//! message the serve loop tells from the others by its first byte): one
//! O(log n) lookup in the VMA index per batch of up to 64, written into the
//! buffer the procfs server lent with its call.

use libipc::{
    procfs::{
        self, Identity, MAX_PARTIES, SourceError, SourceReply, SourceRequest, SourceResponse, SpaceLayout, VmaAnswer,
        VmaQuestion,
    },
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
    let len = out.len();
    let copied = read_space_into(window, ramdisk, space, addr, len, |at, bytes| {
        out[at..at + bytes.len()].copy_from_slice(bytes);
        true
    });
    copied.unwrap_or(0)
}

/// A page of zeros: what a never-touched anonymous page reads as.
static ZEROS: [u8; PAGE_SIZE as usize] = [0; PAGE_SIZE as usize];

/// Reads `len` bytes of `space` at `addr` as [`read_space`] does, handing
/// each piece (at most a page, straight from the frame, the ramdisk or a
/// page of zeros) to `put` with its offset in the range: nothing is staged.
/// Returns the bytes read, or `None` when `put` refused a piece.
fn read_space_into(
    window: &mut Window,
    ramdisk: &Ramdisk,
    space: &AddressSpace,
    addr: u64,
    len: usize,
    mut put: impl FnMut(usize, &[u8]) -> bool,
) -> Option<usize> {
    let mut done = 0;
    for (page, in_page, at, n) in page_chunks(addr, len) {
        let Some(v) = space.vmas().find(page + in_page as u64) else {
            break;
        };
        let ok = match (v.resident.get(page), pager::space::page_fill(v, page)) {
            (Some(Frame::Zero), _) => put(at, &ZEROS[..n]),
            (Some(Frame::Dirty(frame) | Frame::Clean(frame)), _) => put(at, &window.frame(frame)[in_page..in_page + n]),
            (None, Fill::File { file, offset, len }) => {
                // The page's file bytes, then zeros, as a fault would fill it.
                let data = ramdisk.page_data(file, offset, len).get(in_page..).unwrap_or(&[]);
                let from_file = data.len().min(n);
                put(at, &data[..from_file]) && put(at + from_file, &ZEROS[..n - from_file])
            }
            (None, _) => put(at, &ZEROS[..n]),
        };
        if !ok {
            return None;
        }
        done = at + n;
    }
    Some(done)
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

/// Bytes of VMA or page records staged per copy into procfs's lease.
pub(crate) const RECORD_CHUNK: usize = 4096;

/// Writes `data` at `offset` in the lease of the call being served.
fn lend_back(offset: u64, data: &[u8]) -> Result<(), SourceError> {
    match libipc::sys::lease_write(offset, data) {
        Ok(n) if n == data.len() => Ok(()),
        _ => Err(SourceError::Unavailable),
    }
}

/// Fills `buf` from `offset` in the lease of the call being served.
fn lent_in(offset: u64, buf: &mut [u8]) -> bool {
    matches!(libipc::sys::lease_read(offset, buf), Ok(n) if n == buf.len())
}

impl Server {
    /// Who each of `pids` runs as (`None`: no such process), in order.
    fn identities(&self, pids: &[Pid]) -> heapless::Vec<Option<Identity>, MAX_PARTIES> {
        pids.iter()
            .take(MAX_PARTIES)
            .map(|&pid| match pid {
                PAGER_PID => Some(SYSTEM_IDENTITY),
                pid => self.process(pid).map(|p| p.identity),
            })
            .collect()
    }

    /// Answers procfs's `Identities` question in registers from `asker`
    /// (the serve loop's way, with no request built).
    pub(crate) fn identities_from(
        &self,
        asker: Sender,
        pids: &[Pid],
    ) -> Result<heapless::Vec<Option<Identity>, MAX_PARTIES>, SourceError> {
        if Some(asker.pid) != self.procfs_pid() {
            return Err(SourceError::Unavailable);
        }
        Ok(self.identities(pids))
    }

    /// Answers procfs's question for a batch of VMAs from `asker`.
    pub(crate) fn vmas(&mut self, asker: Sender, question: VmaQuestion) -> Result<VmaAnswer, SourceError> {
        if Some(asker.pid) != self.procfs_pid() {
            return Err(SourceError::Unavailable);
        }
        let VmaQuestion { pid, from, max } = question;
        let p = self.processes.get(&pid).ok_or(SourceError::NoSuchProcess)?;
        // One O(log n) descent to the first VMA ending above `from`, then
        // the leaves in order.
        let max = max.min(procfs::MAX_VMAS_PER_BATCH) as usize;
        let mut following = p.space.vmas().ending_above(from.0).peekable();
        let mut taken = 0usize;
        let vmas = following.by_ref().take(max).inspect(|_| taken += 1).map(vma_info);
        // Records go into the lease a page at a time (an anonymous VMA's
        // is 48 bytes): no buffer the size of a whole batch.
        let (count, bytes) = procfs::send_vma_batch(vmas, &mut self.records[..], lend_back)?;
        // The last only if every VMA taken was sent and none follows.
        let last = count as usize == taken && following.peek().is_none();
        Ok(VmaAnswer {
            count,
            bytes,
            layout: space_layout(&p.space),
            last,
        })
    }

    /// Answers a procfs question from `asker`.
    pub(crate) fn introspect(&mut self, asker: Sender, request: SourceRequest) -> SourceResponse {
        if Some(asker.pid) != self.procfs_pid() {
            return Err(SourceError::Unavailable);
        }
        match request {
            SourceRequest::Identities { pids } => Ok(SourceReply::Identities(self.identities(&pids))),
            SourceRequest::Layout { pid } => {
                let p = self.process(pid).ok_or(SourceError::NoSuchProcess)?;
                Ok(SourceReply::Layout {
                    layout: space_layout(&p.space),
                    vma_count: p.space.vmas().len() as u32,
                })
            }
            SourceRequest::Pages {
                pid,
                start_vpn,
                end_vpn,
            } => {
                let zero_frame = self.zero_frame;
                let p = self.processes.get(&pid).ok_or(SourceError::NoSuchProcess)?;
                let (start, end) = (start_vpn.saturating_mul(PAGE_SIZE), end_vpn.saturating_mul(PAGE_SIZE));
                // At most a batch of pages from at most a scan's VMAs: a
                // bounded walk whatever is asked, and the answer says how
                // far it got.
                let (mut scanned, mut scanned_end, mut last_vpn) = (0usize, start, None);
                let pages = p
                    .space
                    .vmas()
                    .overlapping(start, end)
                    .take(procfs::MAX_VMAS_PER_PAGE_SCAN)
                    .inspect(|v| {
                        scanned += 1;
                        scanned_end = v.end;
                    })
                    .flat_map(|v| {
                        v.resident
                            .range_huge(start..end)
                            .map(move |(page, frame, huge)| page_info(v, page, frame, huge, zero_frame))
                    })
                    .inspect(|page| last_vpn = Some(page.vpn));
                // Records go into the lease a page of records at a time.
                let count = procfs::send_page_batch(pages, &mut self.records[..], lend_back)?;
                let until_vpn = match last_vpn {
                    Some(vpn) if count as usize == procfs::MAX_PAGES_PER_BATCH => vpn + 1,
                    _ if scanned == procfs::MAX_VMAS_PER_PAGE_SCAN => (scanned_end / PAGE_SIZE).min(end_vpn),
                    _ => end_vpn,
                };
                Ok(SourceReply::Pages { count, until_vpn })
            }
            SourceRequest::ReadMem { pid, addr, len } => {
                let len = (len as usize).min(procfs::MAX_MEM_LEASE);
                let p = self.processes.get(&pid).ok_or(SourceError::NoSuchProcess)?;
                // Page by page from the frame into procfs's lease: a piece
                // the lease cannot hold is a question that makes no sense.
                let done = read_space_into(&mut self.window, &self.ramdisk, &p.space, addr.0, len, |at, bytes| {
                    lend_back(at as u64, bytes).is_ok()
                })
                .ok_or(SourceError::Unavailable)?;
                if done == 0 && len != 0 {
                    return Err(SourceError::Io);
                }
                Ok(SourceReply::Moved(done as u32))
            }
            SourceRequest::Settings => Ok(SourceReply::Settings {
                vsyscall: self.options.vsyscall,
            }),
            SourceRequest::WriteMem { pid, addr, len } => {
                let len = (len as usize).min(procfs::MAX_MEM_LEASE);
                // Page by page from procfs's lease straight into the frame.
                let done = self
                    .write_mem_from(pid, addr.0, len, lent_in)?
                    .ok_or(SourceError::Unavailable)?;
                Ok(SourceReply::Moved(done as u32))
            }
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
        let written = self.write_mem_from(pid, addr, data.len(), |at, into| {
            into.copy_from_slice(&data[at as usize..at as usize + into.len()]);
            true
        })?;
        Ok(written.unwrap_or(0))
    }

    /// Writes `len` bytes at `addr` in `pid` as [`Server::write_mem`] does,
    /// `fill` putting the bytes at each offset of the range straight into
    /// the page's frame. `Ok(None)`: `fill` failed (what it had put stays
    /// written); `Err(Io)`: the first byte cannot be written.
    fn write_mem_from(
        &mut self,
        pid: Pid,
        addr: u64,
        len: usize,
        mut fill: impl FnMut(u64, &mut [u8]) -> bool,
    ) -> Result<Option<usize>, SourceError> {
        let mut done = 0;
        for (page, in_page, at, n) in page_chunks(addr, len) {
            let Some(frame) = self.ensure_resident(pid, page, true) else {
                break;
            };
            // The clock page is the kernel's: nobody writes it.
            if Some(frame) == self.window.vvar() {
                break;
            }
            if !fill(at as u64, &mut self.window.frame_mut(frame)[in_page..in_page + n]) {
                return Ok(None);
            }
            // The kernel's dirty bit does not see the pager's writes.
            if let Some(p) = self.process_mut(pid) {
                p.space.mark_written(VirtAddr(page));
            }
            done = at + n;
        }
        if done == 0 && len != 0 {
            Err(SourceError::Io)
        } else {
            Ok(Some(done))
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
    fn pool(&mut self) -> &mut pager::frames::FramePool {
        self.frames
    }

    fn zero_frame(&self) -> PhysAddr {
        self.zero_frame
    }

    fn fill(&mut self, frame: libipc::types::PhysAddr, fill: Fill) {
        crate::serve::fill_frame(self.window, self.ramdisk, frame, fill);
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
