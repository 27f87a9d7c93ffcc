//! The memory bound: serving maps, smaps, smaps_rollup, pagemap and mem of
//! a process with 100,000 VMAs and 1.4 million resident pages takes at most
//! [`MAX_REQUEST_HEAP`] bytes of heap per request, measured by a counting
//! allocator, for reads of any length (inline or through a 1 MiB lease).

use std::{
    alloc::{GlobalAlloc, Layout, System},
    cell::Cell,
};

use libipc::{
    procfs::{
        Backing, FileRef, MAX_INLINE_DATA, MAX_LEASED, PageFlags, PageFrame, PageInfo, PidSelector, ProcFile, Reply,
        Request, Sharing, SourceError, SpaceLayout, VmaInfo, VmaLabel,
    },
    types::{PAGE_SIZE, Pid, Prot, Sender, Tid, VirtAddr},
};
use procfs_server::{
    MAX_REQUEST_HEAP,
    io::MemoryLease,
    server::{Config, Server},
    sid::Sid,
    source::{AddressSpaceSource, BatchInfo, PageBatch},
    token::{IntegrityLevel, Token},
};

// ---------------------------------------------------------------------------
// Heap accounting, per thread (the test harness runs tests in parallel).

thread_local! {
    static CURRENT: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
    /// The most any request of this test held (printed at the end).
    static HIGHEST: Cell<usize> = const { Cell::new(0) };
}

/// Prints the most heap a request of the calling test held.
fn report(test: &str) {
    println!("{test}: at most {} bytes of heap per request", HIGHEST.with(Cell::get));
}

fn grew(bytes: usize) {
    let now = CURRENT.with(|c| {
        let now = c.get() + bytes;
        c.set(now);
        now
    });
    PEAK.with(|p| p.set(p.get().max(now)));
}

fn shrank(bytes: usize) {
    CURRENT.with(|c| c.set(c.get().saturating_sub(bytes)));
}

/// The system allocator, counting this thread's live bytes and their peak.
struct Counting;

// SAFETY: every call is forwarded to `System` unchanged; the bookkeeping
// only touches const-initialized thread-locals, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is `System`'s.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as above.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // Both blocks may be live at once while it copies.
            grew(new_size);
            shrank(layout.size());
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f` and returns its result and the most heap it held at once
/// beyond what was live before.
fn measured<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = CURRENT.with(Cell::get);
    PEAK.with(|p| p.set(before));
    let result = f();
    (result, PEAK.with(Cell::get) - before)
}

// ---------------------------------------------------------------------------
// A process too large to hold: its VMAs and pages are computed on demand.

/// Small VMAs: 4 pages each, one page apart; even ones are file mappings
/// with the longest path, odd ones anonymous with the longest name.
const SMALL: u64 = 100_000;
const SMALL_PAGES: u64 = 4;
const STRIDE: u64 = SMALL_PAGES + 1;
/// Then one VMA of 2^20 pages (4 GiB), every page resident.
const HUGE_PAGES: u64 = 1 << 20;
const BASE_VPN: u64 = 0x10_0000;
const HUGE_VPN: u64 = BASE_VPN + SMALL * STRIDE + 16;
const VMAS: u64 = SMALL + 1;
const RESIDENT: u64 = SMALL * SMALL_PAGES + HUGE_PAGES;

const TARGET: Pid = Pid(7);

/// `[start, end)` of VMA `i`, in pages.
fn span(i: u64) -> (u64, u64) {
    if i < SMALL {
        let start = BASE_VPN + i * STRIDE;
        (start, start + SMALL_PAGES)
    } else {
        (HUGE_VPN, HUGE_VPN + HUGE_PAGES)
    }
}

fn vma(i: u64) -> VmaInfo {
    let (start, end) = span(i);
    let mut vma = VmaInfo {
        start: VirtAddr(start * PAGE_SIZE),
        end: VirtAddr(end * PAGE_SIZE),
        prot: if i.is_multiple_of(2) { Prot::READ } else { Prot::RW },
        sharing: Sharing::Private,
        backing: Backing::Anonymous,
        grows_down: false,
        label: VmaLabel::None,
        accounted: !i.is_multiple_of(2),
    };
    if i < SMALL && i.is_multiple_of(2) {
        vma.backing = Backing::File(FileRef {
            path: std::iter::repeat_n('p', libipc::procfs::MAX_PATH).collect(),
            dev_major: 8,
            dev_minor: 1,
            inode: i,
            page_offset: i,
        });
    } else if i < SMALL {
        vma.label = VmaLabel::AnonName(std::iter::repeat_n('n', libipc::procfs::MAX_ANON_NAME).collect());
    }
    vma
}

/// The first VMA ending above page `vpn`, i.e. containing it or after it
/// (`VMAS` if none).
fn first_ending_above(vpn: u64) -> u64 {
    let (mut lo, mut hi) = (0, VMAS);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if span(mid).1 <= vpn {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// A source that allocates nothing: it only fills the buffers it is given.
struct Synthetic;

impl AddressSpaceSource for Synthetic {
    fn layout(&mut self, _: Pid) -> Result<SpaceLayout, SourceError> {
        Ok(SpaceLayout {
            start_brk: VirtAddr(HUGE_VPN * PAGE_SIZE),
            brk: VirtAddr((HUGE_VPN + 10) * PAGE_SIZE),
            start_stack: VirtAddr(0),
            top: libipc::types::USER_END,
        })
    }

    fn vmas(&mut self, pid: Pid, from: VirtAddr, max: u32, out: &mut Vec<VmaInfo>) -> Result<BatchInfo, SourceError> {
        let first = first_ending_above(from.0 / PAGE_SIZE);
        for i in (first..VMAS).take(max as usize) {
            out.push(vma(i));
        }
        Ok(BatchInfo {
            layout: self.layout(pid)?,
            last: first + out.len() as u64 >= VMAS,
        })
    }

    fn pages(&mut self, _: Pid, start_vpn: u64, end_vpn: u64, out: &mut PageBatch) -> Result<u64, SourceError> {
        let mut vpn = start_vpn;
        while vpn < end_vpn && !out.is_full() {
            let i = first_ending_above(vpn);
            if i == VMAS {
                break;
            }
            let (start, end) = span(i);
            vpn = vpn.max(start);
            while vpn < end.min(end_vpn) && !out.is_full() {
                let page = PageInfo {
                    vpn,
                    frame: PageFrame::Resident { pfn: vpn },
                    map_count: 1 + (vpn % 3) as u32,
                    flags: PageFlags::ANONYMOUS.union(PageFlags::DIRTY),
                };
                let _ = out.push(page);
                vpn += 1;
            }
        }
        Ok(end_vpn)
    }

    fn read_mem(&mut self, _: Pid, addr: VirtAddr, buf: &mut [u8]) -> Result<usize, SourceError> {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (addr.0 + i as u64) as u8;
        }
        Ok(buf.len())
    }

    fn write_mem(&mut self, _: Pid, _: VirtAddr, data: &[u8]) -> Result<usize, SourceError> {
        Ok(data.len())
    }
}

// ---------------------------------------------------------------------------

const READER: Sender = Sender {
    pid: TARGET,
    tid: Tid(70),
};

fn server() -> Server<Synthetic> {
    let mut server = Server::new(Synthetic, Config::default());
    let token = Token::new(Sid::user(1001), IntegrityLevel::Medium);
    server.processes_mut().insert(TARGET, token);
    server
}

/// A lent buffer is allocated before measuring (`MemoryLease::zeroed`).
fn serve(server: &mut Server<Synthetic>, request: &Request, lease: &mut MemoryLease) -> u64 {
    let (response, peak) = measured(|| server.handle_leased(READER, request, lease));
    assert!(
        peak <= MAX_REQUEST_HEAP,
        "{request:?} held {peak} bytes of heap (bound {MAX_REQUEST_HEAP})"
    );
    HIGHEST.with(|h| h.set(h.get().max(peak)));
    match response {
        Ok(Reply::Leased(n)) => n,
        Ok(Reply::Data(data)) => {
            lease.bytes[..data.len()].copy_from_slice(&data);
            data.len() as u64
        }
        other => panic!("{request:?}: {other:?}"),
    }
}

fn leased_read(file: ProcFile, offset: u64) -> Request {
    Request::ReadLeased {
        pid: PidSelector::Self_,
        file,
        offset,
        len: MAX_LEASED,
    }
}

/// Reads the whole of a text file through 1 MiB leases; calls `each` with
/// every chunk.
fn read_whole(server: &mut Server<Synthetic>, file: ProcFile, mut each: impl FnMut(u64, &[u8])) -> u64 {
    let mut lease = MemoryLease::zeroed(MAX_LEASED as usize);
    let mut offset = 0;
    loop {
        let n = serve(server, &leased_read(file, offset), &mut lease);
        if n == 0 {
            return offset;
        }
        each(offset, &lease.bytes[..n as usize]);
        offset += n;
    }
}

#[test]
fn maps_of_100_000_vmas_in_bounded_memory() {
    let mut server = server();
    let mut lines = 0;
    let mut prefix = Vec::new();
    let mut middle = Vec::new();
    let len = read_whole(&mut server, ProcFile::Maps, |offset, chunk| {
        lines += chunk.iter().filter(|&&b| b == b'\n').count() as u64;
        if offset == 0 {
            prefix.extend_from_slice(&chunk[..100_000]);
        }
        if (offset..offset + chunk.len() as u64).contains(&7_000_001) {
            let at = (7_000_001 - offset) as usize;
            middle.extend_from_slice(&chunk[at..at + 300]);
        }
    });
    assert_eq!(lines, VMAS);
    assert!(len > 10_000_000, "{len}");
    // The same bytes in inline reads, sequential (resumed) and elsewhere
    // (walked from the start).
    let mut lease = MemoryLease::zeroed(MAX_INLINE_DATA);
    let mut again = Vec::new();
    while again.len() < prefix.len() {
        let request = Request::Read {
            pid: PidSelector::Self_,
            file: ProcFile::Maps,
            offset: again.len() as u64,
            len: MAX_INLINE_DATA as u64,
        };
        let n = serve(&mut server, &request, &mut lease) as usize;
        again.extend_from_slice(&lease.bytes[..n]);
    }
    assert_eq!(&again[..prefix.len()], &prefix[..]);
    let request = Request::Read {
        pid: PidSelector::Self_,
        file: ProcFile::Maps,
        offset: 7_000_001,
        len: 300,
    };
    assert_eq!(serve(&mut server, &request, &mut lease), 300);
    assert_eq!(&lease.bytes[..300], &middle[..]);
    report("maps_of_100_000_vmas_in_bounded_memory");
}

#[test]
fn smaps_of_100_000_vmas_and_a_4_gib_vma_in_bounded_memory() {
    let mut server = server();
    let mut blocks = 0;
    let mut last_rss = Vec::new();
    read_whole(&mut server, ProcFile::Smaps, |_, chunk| {
        let text = std::str::from_utf8(chunk).unwrap_or("");
        blocks += text.matches("VmFlags:").count() as u64;
        if let Some(at) = text.rfind("Rss:") {
            last_rss = chunk[at..].iter().copied().take(28).collect();
        }
    });
    assert_eq!(blocks, VMAS);
    // The huge VMA's block is the last: all of its pages counted.
    assert_eq!(
        String::from_utf8(last_rss).unwrap(),
        format!("Rss:             {} kB\n", HUGE_PAGES * 4)
    );
    // A read in the middle walks from the start, still bounded.
    let mut lease = MemoryLease::zeroed(4096);
    let request = Request::ReadLeased {
        pid: PidSelector::Self_,
        file: ProcFile::Smaps,
        offset: 40_000_000,
        len: 4096,
    };
    assert_eq!(serve(&mut server, &request, &mut lease), 4096);
    report("smaps_of_100_000_vmas_and_a_4_gib_vma_in_bounded_memory");
}

#[test]
fn smaps_rollup_sums_every_page_in_bounded_memory() {
    let mut server = server();
    let mut text = Vec::new();
    let mut lease = MemoryLease::zeroed(MAX_INLINE_DATA);
    loop {
        let request = Request::Read {
            pid: PidSelector::Self_,
            file: ProcFile::SmapsRollup,
            offset: text.len() as u64,
            len: 100,
        };
        let n = serve(&mut server, &request, &mut lease) as usize;
        if n == 0 {
            break;
        }
        text.extend_from_slice(&lease.bytes[..n]);
    }
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.contains(&format!("Rss:             {} kB\n", RESIDENT * 4)),
        "{text}"
    );
    assert!(text.starts_with(&format!(
        "{:08x}-{:08x} ---p",
        BASE_VPN * PAGE_SIZE,
        span(SMALL).1 * PAGE_SIZE
    )));
    report("smaps_rollup_sums_every_page_in_bounded_memory");
}

#[test]
fn pagemap_and_mem_in_bounded_memory() {
    let mut server = server();
    let mut lease = MemoryLease::zeroed(MAX_LEASED as usize);
    // Pagemap windows over the small VMAs, the huge one and a hole.
    for vpn in [BASE_VPN - 7, BASE_VPN + 333_333, HUGE_VPN, HUGE_VPN + HUGE_PAGES] {
        let request = leased_read(ProcFile::Pagemap, vpn * 8);
        assert_eq!(serve(&mut server, &request, &mut lease), MAX_LEASED);
        let entries = lease.bytes.as_chunks::<8>().0;
        let present = entries.iter().filter(|e| u64::from_le_bytes(**e) >> 63 == 1).count() as u64;
        let expected = (vpn..vpn + MAX_LEASED / 8)
            .filter(|&v| {
                let i = first_ending_above(v);
                i < VMAS && span(i).0 <= v
            })
            .count() as u64;
        assert_eq!(present, expected, "pagemap at vpn {vpn:#x}");
    }
    // mem: 1 MiB of the huge VMA, read and written through the lease; and
    // a read running from the small VMAs into their gaps stops short.
    let addr = (HUGE_VPN + 5) * PAGE_SIZE + 3;
    assert_eq!(
        serve(&mut server, &leased_read(ProcFile::Mem, addr), &mut lease),
        MAX_LEASED
    );
    assert!(
        lease
            .bytes
            .iter()
            .enumerate()
            .all(|(i, &b)| b == (addr + i as u64) as u8)
    );
    let write = Request::WriteLeased {
        pid: PidSelector::Self_,
        file: ProcFile::Mem,
        offset: addr,
        len: MAX_LEASED,
    };
    assert_eq!(serve(&mut server, &write, &mut lease), MAX_LEASED);
    let short = leased_read(ProcFile::Mem, (BASE_VPN + 1) * PAGE_SIZE);
    assert_eq!(serve(&mut server, &short, &mut lease), 3 * PAGE_SIZE);
    report("pagemap_and_mem_in_bounded_memory");
}
