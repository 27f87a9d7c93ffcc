//! The procfs server's protocols: with programs, and with the pager.
//!
//! # Programs -> procfs server
//!
//! A program sends a [`Request`] with `Call` to
//! its procfs capability ([`crate::abi::caps::PROCFS`]) and receives a [`Response`]. The server
//! learns who is asking from the kernel's [`crate::types::Sender`] stamp,
//! never from the request, so `pid` in a request only names the *target*.
//!
//! | request | reply | notes |
//! |---|---|---|
//! | `Read { pid, file, offset, len }` | `Data(bytes)`, at most `len` bytes | fewer bytes: a short read; none: end of file |
//! | `Write { pid, file, offset, data }` | `Written(n)` | only `mem` is writable |
//! | `ReadLeased { pid, file, offset, len }` with a writable lease | `Leased(n)` | up to [`MAX_LEASED`] bytes written at the start of the lease |
//! | `WriteLeased { pid, file, offset, len }` with a lease | `Leased(n)` | mem |
//! | [`LeasedRead`] (`ReadLeased` as fixed fields) with a writable lease | [`LeasedRead::encode_answer`]: `n` or the error | what `runtime::procfs::read_leased` sends (every /proc read of a Linux program): no serializer on either side |
//!
//! `offset` is the file offset: a byte offset into the text of `maps`,
//! `smaps` and `smaps_rollup`, `vpn * 8` for `pagemap`, the virtual address
//! for `mem`. Data travels inline, so one `Read` or `Write` moves at most
//! [`MAX_INLINE_DATA`] bytes; a larger `len` is [`Error::TooLarge`]. Bulk
//! transfers use memory the caller lends for one call (a kernel lease,
//! [`crate::abi::LeaseDesc`]). A [`LeasedRead`] starts with
//! [`LeasedRead::TAG`], a byte no postcard [`Request`] starts with, so the
//! server tells the two forms apart by the first byte.
//!
//! # Procfs server -> pager
//!
//! The procfs server never reads page tables: it asks the pager with a
//! [`SourceRequest`] and gets a [`SourceResponse`]. The items the pager
//! sends ([`SpaceLayout`], [`VmaInfo`], [`PageInfo`]) are the facts Linux's
//! formats are computed from; the procfs server does all the formatting and
//! all the access checks.
//!
//! | request | reply | notes |
//! |---|---|---|
//! | `Identities { pids }` | `Identities(..)` | who each process runs as (`None`: no such process), in order: a request's parties (caller, client, target) in one call; question and answer travel in registers (`CallShort`: [`crate::pager::Request::to_short`], [`Identity::word`]), as it is asked on every request |
//! | `Layout { pid }` | `Layout { layout, vma_count }` | O(1): brk, start_brk, start_stack |
//! | [`VmaQuestion`] `{ pid, from, max }` with a writable lease of [`VMA_LEASE_BYTES`] | [`VmaAnswer`] `{ count, bytes, layout, last }` | fixed-layout byte messages, not postcard (below); the layout (so a maps or smaps read needs no `Layout` call), whether these are the last VMAs (so a walk to the end needs no empty answer), and the VMAs from the first whose end is above `from`, in order, at most `max` (and [`MAX_VMAS_PER_BATCH`]), [`VmaRecord`]s back to back in the lease ([`encode_vma_batch`], [`decode_vma_batch`]); none: no VMA ends above `from` |
//! | `Pages { pid, start_vpn, end_vpn }` with a writable lease of [`PAGE_LEASE_BYTES`] | `Pages { count, until_vpn }` | the lowest resident or swapped pages of the range, at most [`MAX_PAGES_PER_BATCH`], all those below `until_vpn` (the pager looks through at most [`MAX_VMAS_PER_PAGE_SCAN`] VMAs), as fixed 24-byte [`PageRecord`]s in the lease ([`send_page_batch`], [`decode_page_batch`]); a full batch means "ask again after the last" |
//! | `ReadMem { pid, addr, len }` with a writable lease of at least `len` bytes | `Moved(n)` | at most [`MAX_MEM_LEASE`], within one VMA; the pager copies each page from its frame straight into the lease |
//! | `WriteMem { pid, addr, len }` with a lease of at least `len` bytes | `Moved(n)` | at most [`MAX_MEM_LEASE`], within one VMA; each page straight from the lease into its frame |
//!
//! mem's bytes go through the lease, not the message: a 64 KiB window is
//! one call, not 171 of [`MAX_INLINE_DATA`]. Pages too: 512 per call in
//! fixed records, so the procfs server can ask from a VMA's start to the
//! end of the address space and answer the following VMAs from the same
//! batch. A lease shorter than `len` is
//! [`SourceError::Unavailable`] (the bytes that fitted may have moved; none
//! is believed); an unmapped first byte is [`SourceError::Io`].
//!
//! VMAs travel in batches found by address, not by index, so a whole walk
//! costs the pager one O(log n) lookup per batch, and a reader resuming in
//! the middle of the file (the procfs server's cursor) starts where it left
//! off. The batch goes through a lease because one [`VmaInfo`] can take up
//! to [`MAX_VMA_ENCODED`] bytes: a 512-byte message would hold as few as one,
//! the lease holds [`MAX_VMAS_PER_BATCH`] of the largest, so a walk of `n`
//! VMAs is about `n / 64` calls whatever their names. In the lease each VMA
//! is a fixed-layout [`VmaRecord`] (48 bytes, then its path and name only
//! when it has them), not postcard: the VMAs are maps' per-line cost.
//!
//! The batch question and its answer are fixed-layout byte messages too
//! ([`VmaQuestion`], [`VmaAnswer`]: no serializer, no boxes on either side),
//! as they are a short read's fixed cost. The question starts with
//! [`VmaQuestion::TAG`], a byte no postcard [`crate::pager::Request`] starts
//! with, so the pager tells it from the other byte messages by its first
//! byte. The other questions travel as [`SourceRequest`]s in
//! [`crate::pager::Request::Source`].

use heapless::{String, Vec};
use serde::{Deserialize, Serialize};

use crate::{
    codec::DecodeError,
    types::{Pid, Prot, VirtAddr},
};

/// The most data one request or reply carries inline. Chosen so the largest
/// [`Request::Write`] and [`Reply::Data`] still fit in
/// [`crate::MAX_MESSAGE`] with their headers (tested in the codec tests).
pub const MAX_INLINE_DATA: usize = 384;

/// The most bytes one [`SourceRequest::ReadMem`] or
/// [`SourceRequest::WriteMem`] moves; a larger `len` is cut to it.
pub const MAX_MEM_LEASE: usize = 1 << 20;

/// Longest file path a [`FileRef`] carries. Longer paths are the pager's to
/// shorten (Linux itself prints at most a page).
pub const MAX_PATH: usize = 128;

/// Longest anonymous-mapping name: Linux's `ANON_VMA_NAME_MAX_LEN`.
pub const MAX_ANON_NAME: usize = 80;

/// The most processes one [`SourceRequest::Identities`] names: a request's
/// caller, the client it acts for, and its target.
pub const MAX_PARTIES: usize = 3;

/// How many pages one [`SourceRequest::Pages`] batch carries: they travel
/// as [`PageRecord`]s in a lease of [`PAGE_LEASE_BYTES`], so a smaps or
/// pagemap read asks once per 512 resident pages, not once per 12.
pub const MAX_PAGES_PER_BATCH: usize = 512;

/// The most VMAs the pager looks through for one [`SourceRequest::Pages`]
/// answer: a question from one page to the end of a space of many empty
/// VMAs costs the pager a bounded walk, and says how far it got.
pub const MAX_VMAS_PER_PAGE_SCAN: usize = 64;

/// The lease a [`SourceRequest::Pages`] call lends: a full batch.
pub const PAGE_LEASE_BYTES: usize = MAX_PAGES_PER_BATCH * PageRecord::LEN;

/// How many VMAs one [`VmaQuestion`] answer carries at most: enough
/// that the per-call cost is small beside the per-VMA cost (about 1.5% of
/// the calls of one VMA per call), small enough that the procfs server's
/// batch stays a few tens of KiB.
pub const MAX_VMAS_PER_BATCH: u32 = 64;

/// The most bytes one [`VmaInfo`] takes as a [`VmaRecord`]: the header, a
/// [`MAX_PATH`] path and a [`MAX_ANON_NAME`] name (tested).
pub const MAX_VMA_ENCODED: usize = VMA_RECORD_HEADER + MAX_PATH + MAX_ANON_NAME;

/// The lease a [`VmaQuestion`] call lends: a full batch of the
/// largest VMAs always fits.
pub const VMA_LEASE_BYTES: usize = MAX_VMAS_PER_BATCH as usize * MAX_VMA_ENCODED;

/// Which process a request is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PidSelector {
    /// `/proc/self`: the sender's own process, checked like any other.
    Self_,
    /// `/proc/<pid>`.
    Pid(Pid),
}

/// The files under `/proc/<pid>/` this server serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ProcFile {
    Maps,
    Smaps,
    SmapsRollup,
    Pagemap,
    Mem,
}

impl ProcFile {
    /// Every file, in `ls` order.
    pub const ALL: [ProcFile; 5] = [
        ProcFile::Maps,
        ProcFile::Mem,
        ProcFile::Pagemap,
        ProcFile::Smaps,
        ProcFile::SmapsRollup,
    ];

    /// The file's name in a `/proc/<pid>/` directory.
    pub const fn name(self) -> &'static str {
        match self {
            ProcFile::Maps => "maps",
            ProcFile::Smaps => "smaps",
            ProcFile::SmapsRollup => "smaps_rollup",
            ProcFile::Pagemap => "pagemap",
            ProcFile::Mem => "mem",
        }
    }

    /// The file called `name`, or [`Error::NoSuchFile`].
    pub fn from_name(name: &str) -> Result<ProcFile, Error> {
        ProcFile::ALL
            .into_iter()
            .find(|f| f.name() == name)
            .ok_or(Error::NoSuchFile)
    }
}

/// Parses `/proc/self/<file>` or `/proc/<pid>/<file>`, as a program's
/// `open` would before sending requests. Anything else is
/// [`Error::NoSuchFile`], like a path that does not exist.
pub fn parse_path(path: &str) -> Result<(PidSelector, ProcFile), Error> {
    let rest = path.strip_prefix("/proc/").ok_or(Error::NoSuchFile)?;
    let (dir, file) = rest.split_once('/').ok_or(Error::NoSuchFile)?;
    let pid = if dir == "self" {
        PidSelector::Self_
    } else if !dir.is_empty() && dir.bytes().all(|b| b.is_ascii_digit()) {
        // Leading zeros are not the canonical name of a directory.
        if dir.len() > 1 && dir.starts_with('0') {
            return Err(Error::NoSuchFile);
        }
        PidSelector::Pid(Pid(dir.parse().map_err(|_| Error::NoSuchFile)?))
    } else {
        return Err(Error::NoSuchFile);
    };
    Ok((pid, ProcFile::from_name(file)?))
}

/// A request from a program.
#[allow(
    clippy::large_enum_variant,
    reason = "inline messages: libipc has no allocator to box with, and values live briefly on the stack before encoding"
)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// Up to `len` bytes of `file` from `offset`.
    Read {
        pid: PidSelector,
        file: ProcFile,
        offset: u64,
        len: u64,
    },
    /// Writes `data` at `offset` (only [`ProcFile::Mem`]).
    Write {
        pid: PidSelector,
        file: ProcFile,
        offset: u64,
        data: Vec<u8, MAX_INLINE_DATA>,
    },
    /// Bulk read: up to `len` bytes into the writable lease sent with the
    /// call (at most [`MAX_LEASED`]); the reply is `Leased(n)`.
    ReadLeased {
        pid: PidSelector,
        file: ProcFile,
        offset: u64,
        len: u64,
    },
    /// Bulk write (mem): `len` bytes from the lease sent with the call.
    WriteLeased {
        pid: PidSelector,
        file: ProcFile,
        offset: u64,
        len: u64,
    },
}

impl Request {
    /// The process the request is about.
    pub fn target(&self) -> PidSelector {
        match *self {
            Request::Read { pid, .. }
            | Request::Write { pid, .. }
            | Request::ReadLeased { pid, .. }
            | Request::WriteLeased { pid, .. } => pid,
        }
    }
}

/// The largest leased transfer of one call.
pub const MAX_LEASED: u64 = 1 << 20;

/// [`Request::ReadLeased`] as fixed fields: the request of every /proc read
/// a Linux program makes, whose encoding was part of a short read's fixed
/// cost. 24 bytes, little endian: [`LeasedRead::TAG`], the file (its index
/// in [`ProcFile::ALL`]), the target (0: `/proc/self`, 1: a pid), a zero
/// byte, the pid (4; zero for `/proc/self`), `offset` (8), `len` (8). The
/// answer is [`LeasedRead::ANSWER_LEN`] bytes: the tag, the status (0, or
/// the error's [`Error::code`]), six zero bytes, then `n` (8; zero with an
/// error).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeasedRead {
    pub pid: PidSelector,
    pub file: ProcFile,
    pub offset: u64,
    pub len: u64,
}

impl LeasedRead {
    /// The first byte of the request and of its answer: postcard starts a
    /// [`Request`] with its variant number, and this byte would begin a
    /// varint of two bytes or more, a variant past 127, which there is not.
    pub const TAG: u8 = 0xF2;
    pub const LEN: usize = 24;
    pub const ANSWER_LEN: usize = 16;

    /// Whether `message` is in this form (whether or not it is well formed).
    pub fn is_one(message: &[u8]) -> bool {
        message.first() == Some(&Self::TAG)
    }

    pub fn encode(&self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        out[0] = Self::TAG;
        // ALL holds every file.
        out[1] = ProcFile::ALL.iter().position(|&f| f == self.file).unwrap_or(0) as u8;
        if let PidSelector::Pid(pid) = self.pid {
            out[2] = 1;
            out[4..8].copy_from_slice(&pid.0.to_le_bytes());
        }
        out[8..16].copy_from_slice(&self.offset.to_le_bytes());
        out[16..24].copy_from_slice(&self.len.to_le_bytes());
        out
    }

    /// The request in `message`: another length or tag, an unknown file or
    /// target, a pid with `/proc/self` or a reserved byte that is not zero
    /// is [`DecodeError::Malformed`].
    pub fn decode(message: &[u8]) -> Result<LeasedRead, DecodeError> {
        if message.len() != Self::LEN || message[0] != Self::TAG || message[3] != 0 {
            return Err(DecodeError::Malformed);
        }
        let file = *ProcFile::ALL
            .get(usize::from(message[1]))
            .ok_or(DecodeError::Malformed)?;
        let pid = match (message[2], u32_at(message, 4)) {
            (0, 0) => PidSelector::Self_,
            (1, pid) => PidSelector::Pid(Pid(pid)),
            _ => return Err(DecodeError::Malformed),
        };
        Ok(LeasedRead {
            pid,
            file,
            offset: u64_at(message, 8),
            len: u64_at(message, 16),
        })
    }

    /// The request as a [`Request`], for the server core.
    pub fn request(&self) -> Request {
        Request::ReadLeased {
            pid: self.pid,
            file: self.file,
            offset: self.offset,
            len: self.len,
        }
    }

    /// The answer: how many bytes went into the lease, or why none did.
    pub fn encode_answer(answer: Result<u64, Error>) -> [u8; Self::ANSWER_LEN] {
        let mut out = [0u8; Self::ANSWER_LEN];
        out[0] = Self::TAG;
        match answer {
            Ok(n) => out[8..16].copy_from_slice(&n.to_le_bytes()),
            // Every code is below 256.
            Err(e) => out[1] = e.code() as u8,
        }
        out
    }

    /// The answer in `message`: another length or tag, an unknown status,
    /// a reserved byte that is not zero or a count with an error is
    /// [`DecodeError::Malformed`].
    pub fn decode_answer(message: &[u8]) -> Result<Result<u64, Error>, DecodeError> {
        if message.len() != Self::ANSWER_LEN || message[0] != Self::TAG || message[2..8] != [0; 6] {
            return Err(DecodeError::Malformed);
        }
        let n = u64_at(message, 8);
        match message[1] {
            0 => Ok(Ok(n)),
            code if n == 0 => Ok(Err(Error::from_code(i32::from(code)).ok_or(DecodeError::Malformed)?)),
            _ => Err(DecodeError::Malformed),
        }
    }
}

/// A successful answer.
#[allow(
    clippy::large_enum_variant,
    reason = "inline messages: libipc has no allocator to box with, and values live briefly on the stack before encoding"
)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reply {
    /// The bytes read; fewer than asked is a short read, none is end of file.
    Data(Vec<u8, MAX_INLINE_DATA>),
    /// How many bytes were written.
    Written(u64),
    /// Bytes moved through the call's lease.
    Leased(u64),
}

/// Why a request failed. Each maps to the errno Linux would give.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Error {
    /// The access check refused the caller (EACCES). Returned before the
    /// target's memory is looked at, so it reveals nothing about it.
    AccessDenied,
    /// No process has this pid (ESRCH).
    NoSuchProcess,
    /// No such file under `/proc/<pid>/` (ENOENT).
    NoSuchFile,
    /// A misaligned pagemap offset or length, or a mem offset >= 2^63
    /// (EINVAL).
    InvalidArgument,
    /// `len` is larger than one reply can carry (EMSGSIZE).
    TooLarge,
    /// The file is read-only (EBADF: it cannot be opened for writing).
    NotWritable,
    /// mem: the first byte is not mapped, or the mapping refuses the write
    /// (EIO).
    Io,
    /// The pager did not answer or sent inconsistent data (EAGAIN).
    Unavailable,
    /// The request did not decode (EBADMSG).
    Malformed,
    /// The procfs server exited or died before answering, or never ran
    /// (ENOTCONN): the kernel's word, never the server's.
    ServerGone,
}

impl Error {
    /// The Linux errno number.
    pub const fn code(self) -> i32 {
        match self {
            Error::NoSuchFile => 2,
            Error::NoSuchProcess => 3,
            Error::Io => 5,
            Error::NotWritable => 9,
            Error::Unavailable => 11,
            Error::AccessDenied => 13,
            Error::InvalidArgument => 22,
            Error::Malformed => 74,
            Error::TooLarge => 90,
            Error::ServerGone => 107,
        }
    }

    /// Every error.
    pub const ALL: [Error; 10] = [
        Error::AccessDenied,
        Error::NoSuchProcess,
        Error::NoSuchFile,
        Error::InvalidArgument,
        Error::TooLarge,
        Error::NotWritable,
        Error::Io,
        Error::Unavailable,
        Error::Malformed,
        Error::ServerGone,
    ];

    /// The error whose [`Error::code`] is `code`.
    pub fn from_code(code: i32) -> Option<Error> {
        Error::ALL.into_iter().find(|e| e.code() == code)
    }
}

/// The procfs server's answer to a [`Request`].
pub type Response = Result<Reply, Error>;

// ---------------------------------------------------------------------------
// What the pager tells the procfs server about an address space.

/// The process-wide addresses Linux names `[heap]` and `[stack]` by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpaceLayout {
    /// Where the break started (Linux `mm->start_brk`).
    pub start_brk: VirtAddr,
    /// The current break, unaligned (Linux `mm->brk`).
    pub brk: VirtAddr,
    /// The initial stack pointer region (Linux `mm->start_stack`).
    pub start_stack: VirtAddr,
    /// One past the highest user address (Linux `TASK_SIZE`: 2^47 or,
    /// with 5-level paging, 2^56 less a page), where pagemap ends.
    pub top: VirtAddr,
}

/// Whether writes to a mapping are seen by other mappings of the same object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Sharing {
    /// MAP_PRIVATE: copy-on-write.
    Private,
    /// MAP_SHARED.
    Shared,
}

/// The file behind a file mapping, as maps prints it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    pub path: String<MAX_PATH>,
    pub dev_major: u32,
    pub dev_minor: u32,
    pub inode: u64,
    /// The file offset of the mapping's first page, in pages.
    pub page_offset: u64,
}

/// What a mapping's pages come from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Backing {
    Anonymous,
    File(FileRef),
}

/// Mappings the system installs itself, named by what they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SpecialMapping {
    Vdso,
    Vvar,
    VvarVclock,
}

/// How a mapping is labelled beyond its backing. `[heap]` and `[stack]` are
/// not labels: the procfs server derives them from [`SpaceLayout`] with
/// Linux's rules, so the pager cannot get them subtly wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum VmaLabel {
    /// No label: the file path, `[heap]`, `[stack]` or nothing.
    None,
    Special(SpecialMapping),
    /// A name given with `PR_SET_VMA_ANON_NAME`: `[anon:NAME]`.
    AnonName(String<MAX_ANON_NAME>),
    /// Shared anonymous memory, which Linux backs with a `/dev/zero`
    /// object on its internal shmem mount (device 00:01): that object's
    /// inode number, one per mmap.
    Shmem {
        inode: u64,
    },
}

/// One virtual memory area: `[start, end)`, page-aligned, non-empty.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VmaInfo {
    pub start: VirtAddr,
    pub end: VirtAddr,
    pub prot: Prot,
    pub sharing: Sharing,
    pub backing: Backing,
    /// A stack that grows down on faults below it (MAP_GROWSDOWN).
    pub grows_down: bool,
    pub label: VmaLabel,
    /// Charged to the commit limit (Linux's VM_ACCOUNT, VmFlags `ac`):
    /// private memory that was writable at some time, kept after mprotect
    /// to read-only.
    pub accounted: bool,
}

/// Where a page's contents are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PageFrame {
    /// In memory, in frame `pfn`.
    Resident { pfn: u64 },
    /// Swapped out: `swap_type` (5 bits) and `swap_offset` (50 bits).
    Swapped { swap_type: u8, swap_offset: u64 },
}

/// Per-page facts (a bit set), as the pager's page accounting knows them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PageFlags(pub u8);

impl PageFlags {
    /// Written since it was mapped clean.
    pub const DIRTY: PageFlags = PageFlags(1 << 0);
    /// Accessed recently (the accessed bit or the pager's own reference).
    pub const REFERENCED: PageFlags = PageFlags(1 << 1);
    /// An anonymous page (private anonymous memory or a CoW copy), as
    /// opposed to a file or shared-memory page.
    pub const ANONYMOUS: PageFlags = PageFlags(1 << 2);
    /// Mapped by exactly this one mapping.
    pub const EXCLUSIVE: PageFlags = PageFlags(1 << 3);
    /// Written since soft-dirty tracking was last reset.
    pub const SOFT_DIRTY: PageFlags = PageFlags(1 << 4);
    /// The shared zero page: present (pagemap shows it, never exclusive,
    /// never a file page) but no page of the process's own, so smaps
    /// counts it nowhere, as Linux's `vm_normal_page` skips it.
    pub const ZERO_PAGE: PageFlags = PageFlags(1 << 5);
    /// Part of a 2 MiB page the kernel maps with one entry (a transparent
    /// huge page: smaps's AnonHugePages).
    pub const HUGE: PageFlags = PageFlags(1 << 6);

    pub const fn contains(self, other: PageFlags) -> bool {
        self.0 & other.0 == other.0
    }

    pub const fn union(self, other: PageFlags) -> PageFlags {
        PageFlags(self.0 | other.0)
    }
}

/// One page that is resident or swapped; pages not listed are holes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PageInfo {
    /// Virtual page number: address / 4096.
    pub vpn: u64,
    pub frame: PageFrame,
    /// How many mappings (in all address spaces) share the frame; 1 for a
    /// private page. Pss divides by it.
    pub map_count: u32,
    pub flags: PageFlags,
}

/// A request from the procfs server to the pager.
#[allow(
    clippy::large_enum_variant,
    reason = "inline messages: libipc has no allocator to box with, and values live briefly on the stack before encoding"
)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SourceRequest {
    /// Who each process runs as, as its launcher assigned it: the parties
    /// of one request in one call.
    Identities { pids: Vec<Pid, MAX_PARTIES> },
    /// The layout and the number of VMAs.
    Layout { pid: Pid },
    /// Resident or swapped pages with `vpn` in `[start_vpn, end_vpn)`: the
    /// lowest ones, in order, at most [`MAX_PAGES_PER_BATCH`], as
    /// [`PageRecord`]s back to back in the writable lease sent with the
    /// call; a full batch means there may be more after its last.
    Pages { pid: Pid, start_vpn: u64, end_vpn: u64 },
    /// Reads `len` bytes at `addr` (at most [`MAX_MEM_LEASE`]), all
    /// within one VMA, into the writable lease sent with the call, which
    /// must hold them: the pager copies page by page from the frames
    /// straight into it. The answer is `Moved(n)`.
    ReadMem { pid: Pid, addr: VirtAddr, len: u32 },
    /// Writes `len` bytes (at most [`MAX_MEM_LEASE`]) from the lease sent
    /// with the call at `addr`, within one VMA (copy-on-write if private),
    /// page by page from the lease straight into the frames. The answer is
    /// `Moved(n)`.
    WriteMem { pid: Pid, addr: VirtAddr, len: u32 },
    /// The system's settings the files show: the vsyscall page's mode
    /// (the boot line's `vsyscall=`), for the `[vsyscall]` line of maps.
    Settings,
}

/// The pager's answer to a [`SourceRequest`].
#[allow(
    clippy::large_enum_variant,
    reason = "inline messages: libipc has no allocator to box with, and values live briefly on the stack before encoding"
)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SourceReply {
    /// In the order asked; `None`: the pager runs no such process.
    Identities(Vec<Option<Identity>, MAX_PARTIES>),
    Layout {
        layout: SpaceLayout,
        vma_count: u32,
    },
    /// `count` [`PageRecord`]s at the start of the lease: every resident
    /// or swapped page of `[start_vpn, until_vpn)`. The pager looks at no
    /// more than [`MAX_VMAS_PER_PAGE_SCAN`] VMAs per call, so `until_vpn`
    /// may be below `end_vpn` with a batch that is not full: ask again
    /// from it.
    Pages {
        count: u32,
        until_vpn: u64,
    },
    /// mem: how many bytes moved through the lease, from its start.
    Moved(u32),
    Settings {
        vsyscall: crate::vsyscall::Mode,
    },
}

/// The question for a batch of VMAs: those of `pid` in address order, from
/// the first whose end is above `from`, at most `max` (and
/// [`MAX_VMAS_PER_BATCH`]), written into the writable lease sent with the
/// call ([`encode_vma_batch`]). Fewer than `max` does not mean there are no
/// more: ask again from the last one's end until the answer is empty or
/// says it is the `last`.
///
/// As bytes ([`VmaQuestion::LEN`], little endian): [`VmaQuestion::TAG`],
/// three zero bytes, the pid (4), `from` (8), `max` (4), four zero bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VmaQuestion {
    pub pid: Pid,
    pub from: VirtAddr,
    pub max: u32,
}

/// Little-endian fields of fixed messages.
fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(b)
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(b)
}

impl VmaQuestion {
    /// The first byte of the question and of its answer. Postcard starts a
    /// [`crate::pager::Request`] with its variant number as a varint; this
    /// byte would begin one of two bytes or more (its top bit set), a
    /// variant past 127, which there is not.
    pub const TAG: u8 = 0xF1;
    pub const LEN: usize = 24;

    /// Whether `message` is in this form (whether or not it is well formed).
    pub fn is_one(message: &[u8]) -> bool {
        message.first() == Some(&Self::TAG)
    }

    pub fn encode(&self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        out[0] = Self::TAG;
        out[4..8].copy_from_slice(&self.pid.0.to_le_bytes());
        out[8..16].copy_from_slice(&self.from.0.to_le_bytes());
        out[16..20].copy_from_slice(&self.max.to_le_bytes());
        out
    }

    /// The question in `message`: another length, another tag or a
    /// reserved byte that is not zero is [`DecodeError::Malformed`].
    pub fn decode(message: &[u8]) -> Result<VmaQuestion, DecodeError> {
        if message.len() != Self::LEN || message[0] != Self::TAG || message[1..4] != [0; 3] || message[20..24] != [0; 4]
        {
            return Err(DecodeError::Malformed);
        }
        Ok(VmaQuestion {
            pid: Pid(u32_at(message, 4)),
            from: VirtAddr(u64_at(message, 8)),
            max: u32_at(message, 16),
        })
    }
}

/// The answer to a [`VmaQuestion`]: `count` VMAs in the first `bytes`
/// bytes of the lease, and the process's layout; `last`: no VMA follows
/// them (no need to ask again).
///
/// As bytes ([`VmaAnswer::LEN`], little endian): [`VmaQuestion::TAG`], the
/// status (0, or a [`SourceError::code`]: then every other byte is zero),
/// `last` (0 or 1), a zero byte, `count` (4), `bytes` (4), four zero bytes,
/// then `start_brk`, `brk`, `start_stack` and `top` (8 each).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VmaAnswer {
    pub count: u32,
    pub bytes: u32,
    pub layout: SpaceLayout,
    pub last: bool,
}

impl VmaAnswer {
    pub const LEN: usize = 48;

    pub fn encode(answer: &Result<VmaAnswer, SourceError>) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        out[0] = VmaQuestion::TAG;
        match answer {
            Err(e) => out[1] = e.code() as u8,
            Ok(a) => {
                out[2] = u8::from(a.last);
                out[4..8].copy_from_slice(&a.count.to_le_bytes());
                out[8..12].copy_from_slice(&a.bytes.to_le_bytes());
                let l = &a.layout;
                for (i, addr) in [l.start_brk, l.brk, l.start_stack, l.top].into_iter().enumerate() {
                    out[16 + 8 * i..24 + 8 * i].copy_from_slice(&addr.0.to_le_bytes());
                }
            }
        }
        out
    }

    /// The answer in `message`: another length or tag, an unknown status
    /// or `last`, or a reserved byte (all of them, for an error) that is
    /// not zero is [`DecodeError::Malformed`].
    pub fn decode(message: &[u8]) -> Result<Result<VmaAnswer, SourceError>, DecodeError> {
        if message.len() != Self::LEN || message[0] != VmaQuestion::TAG || message[3] != 0 || message[12..16] != [0; 4]
        {
            return Err(DecodeError::Malformed);
        }
        if message[1] != 0 {
            let error = SourceError::from_code(u64::from(message[1])).ok_or(DecodeError::Malformed)?;
            return match message[2..].iter().all(|&b| b == 0) {
                true => Ok(Err(error)),
                false => Err(DecodeError::Malformed),
            };
        }
        let last = match message[2] {
            0 => false,
            1 => true,
            _ => return Err(DecodeError::Malformed),
        };
        let addr = |i: usize| VirtAddr(u64_at(message, 16 + 8 * i));
        Ok(Ok(VmaAnswer {
            count: u32_at(message, 4),
            bytes: u32_at(message, 8),
            layout: SpaceLayout {
                start_brk: addr(0),
                brk: addr(1),
                start_stack: addr(2),
                top: addr(3),
            },
            last,
        }))
    }
}

/// The fixed part of one VMA in a [`VmaQuestion`] lease, little
/// endian: start, end, page offset and inode (8 bytes each), the device's
/// major and minor (4 each), then one byte each for the protection, the
/// [`VmaRecord`] flag bits, the label kind, the special mapping, the
/// path's length and the anonymous name's length, and two zero bytes. The
/// path's and the name's bytes follow, only when present: a record is one
/// copy of fixed fields, not a serializer's walk of a structure, and an
/// anonymous VMA (most of a large process) takes only this header.
///
/// A field added to [`VmaInfo`] goes in here too: a flag in
/// [`VmaRecord`]'s spare bits, or a new field (with a new size).
pub const VMA_RECORD_HEADER: usize = 48;

/// The flag bits and codes of a VMA record (see [`VMA_RECORD_HEADER`]).
pub struct VmaRecord;

impl VmaRecord {
    /// MAP_SHARED.
    pub const SHARED: u8 = 1 << 0;
    /// [`VmaInfo::grows_down`].
    pub const GROWS_DOWN: u8 = 1 << 1;
    /// A file mapping: the file fields and the path are meaningful.
    pub const FILE: u8 = 1 << 2;
    /// [`VmaInfo::accounted`].
    pub const ACCOUNTED: u8 = 1 << 3;
    /// Every flag defined: other bits are refused.
    pub const ALL: u8 = Self::SHARED | Self::GROWS_DOWN | Self::FILE | Self::ACCOUNTED;

    const LABEL_NONE: u8 = 0;
    const LABEL_SPECIAL: u8 = 1;
    const LABEL_ANON_NAME: u8 = 2;
    /// [`VmaLabel::Shmem`]: its inode in the file inode's place (the VMA
    /// is anonymous).
    const LABEL_SHMEM: u8 = 3;

    const fn special_code(s: SpecialMapping) -> u8 {
        match s {
            SpecialMapping::Vdso => 0,
            SpecialMapping::Vvar => 1,
            SpecialMapping::VvarVclock => 2,
        }
    }

    fn special(code: u8) -> Result<SpecialMapping, DecodeError> {
        match code {
            0 => Ok(SpecialMapping::Vdso),
            1 => Ok(SpecialMapping::Vvar),
            2 => Ok(SpecialMapping::VvarVclock),
            _ => Err(DecodeError::Malformed),
        }
    }

    /// Writes `vma` at the start of `out`; its length, or `None` if it does
    /// not fit.
    pub fn encode(vma: &VmaInfo, out: &mut [u8]) -> Option<usize> {
        let (file, path): (Option<&FileRef>, &[u8]) = match &vma.backing {
            Backing::File(f) => (Some(f), f.path.as_bytes()),
            Backing::Anonymous => (None, &[]),
        };
        let (label, special, name): (u8, u8, &[u8]) = match &vma.label {
            VmaLabel::None => (Self::LABEL_NONE, 0, &[]),
            VmaLabel::Special(s) => (Self::LABEL_SPECIAL, Self::special_code(*s), &[]),
            VmaLabel::AnonName(n) => (Self::LABEL_ANON_NAME, 0, n.as_bytes()),
            VmaLabel::Shmem { .. } => (Self::LABEL_SHMEM, 0, &[]),
        };
        let len = VMA_RECORD_HEADER + path.len() + name.len();
        let out = out.get_mut(..len)?;
        let mut flags = 0;
        if vma.sharing == Sharing::Shared {
            flags |= Self::SHARED;
        }
        if vma.grows_down {
            flags |= Self::GROWS_DOWN;
        }
        if file.is_some() {
            flags |= Self::FILE;
        }
        if vma.accounted {
            flags |= Self::ACCOUNTED;
        }
        let shmem_inode = match vma.label {
            VmaLabel::Shmem { inode } => inode,
            _ => 0,
        };
        let (page_offset, inode, major, minor) = file.map_or((0, shmem_inode, 0, 0), |f| {
            (f.page_offset, f.inode, f.dev_major, f.dev_minor)
        });
        out[0..8].copy_from_slice(&vma.start.0.to_le_bytes());
        out[8..16].copy_from_slice(&vma.end.0.to_le_bytes());
        out[16..24].copy_from_slice(&page_offset.to_le_bytes());
        out[24..32].copy_from_slice(&inode.to_le_bytes());
        out[32..36].copy_from_slice(&major.to_le_bytes());
        out[36..40].copy_from_slice(&minor.to_le_bytes());
        // The heapless strings bound both lengths below 256.
        out[40..VMA_RECORD_HEADER].copy_from_slice(&[
            vma.prot.0,
            flags,
            label,
            special,
            path.len() as u8,
            name.len() as u8,
            0,
            0,
        ]);
        out[VMA_RECORD_HEADER..VMA_RECORD_HEADER + path.len()].copy_from_slice(path);
        out[VMA_RECORD_HEADER + path.len()..].copy_from_slice(name);
        Some(len)
    }

    /// Reads the record at the start of `bytes`: the VMA and the bytes
    /// after it. Unknown flags, codes or reserved bytes, lengths past
    /// [`MAX_PATH`] or [`MAX_ANON_NAME`], text that is not UTF-8 and a path
    /// on an anonymous VMA are [`DecodeError::Malformed`].
    pub fn decode(bytes: &[u8]) -> Result<(VmaInfo, &[u8]), DecodeError> {
        let record = ParsedRecord::parse(bytes)?;
        let mut vma = record.skeleton();
        record.fill(&mut vma);
        Ok((vma, &bytes[record.len..]))
    }

    /// [`VmaRecord::decode`] pushing the VMA onto `out` (nothing on an
    /// error) and returning the bytes after it: the VMA is put together in
    /// its place there, its path and name copied in once. A [`VmaInfo`] is
    /// about 300 bytes, most of them the room of its path and name, and
    /// moving one from value to value was a measurable part of a batch's
    /// decoding.
    pub fn decode_onto<'a>(bytes: &'a [u8], out: &mut alloc::vec::Vec<VmaInfo>) -> Result<&'a [u8], DecodeError> {
        let record = ParsedRecord::parse(bytes)?;
        out.push(record.skeleton());
        if let Some(vma) = out.last_mut() {
            record.fill(vma);
        }
        Ok(&bytes[record.len..])
    }
}

/// A [`VmaRecord`] checked and read, its path and name still in the bytes.
struct ParsedRecord<'a> {
    header: &'a [u8],
    flags: u8,
    label: u8,
    special: SpecialMapping,
    path: &'a str,
    name: &'a str,
    /// The record's length.
    len: usize,
}

impl<'a> ParsedRecord<'a> {
    /// See [`VmaRecord::decode`].
    fn parse(bytes: &'a [u8]) -> Result<ParsedRecord<'a>, DecodeError> {
        let header = bytes.get(..VMA_RECORD_HEADER).ok_or(DecodeError::Truncated)?;
        // The protection (byte 40) is any byte here: the walk checks it.
        let [flags, label, special, path_len, name_len, r0, r1] = [
            header[41], header[42], header[43], header[44], header[45], header[46], header[47],
        ];
        let (path_len, name_len) = (usize::from(path_len), usize::from(name_len));
        let is_file = flags & VmaRecord::FILE != 0;
        if flags & !VmaRecord::ALL != 0
            || r0 != 0
            || r1 != 0
            || path_len > MAX_PATH
            || name_len > MAX_ANON_NAME
            || (!is_file && path_len != 0)
            || (label != VmaRecord::LABEL_ANON_NAME && name_len != 0)
            || (label == VmaRecord::LABEL_SHMEM && is_file)
            || label > VmaRecord::LABEL_SHMEM
        {
            return Err(DecodeError::Malformed);
        }
        let special = match label {
            VmaRecord::LABEL_SPECIAL => VmaRecord::special(special)?,
            // Not read: any code.
            _ => SpecialMapping::Vdso,
        };
        let len = VMA_RECORD_HEADER + path_len + name_len;
        let body = bytes.get(VMA_RECORD_HEADER..len).ok_or(DecodeError::Truncated)?;
        Ok(ParsedRecord {
            header,
            flags,
            label,
            special,
            path: utf8(&body[..path_len])?,
            name: utf8(&body[path_len..])?,
            len,
        })
    }

    /// The VMA with its path and name empty.
    fn skeleton(&self) -> VmaInfo {
        let h = self.header;
        let backing = if self.flags & VmaRecord::FILE != 0 {
            Backing::File(FileRef {
                path: String::new(),
                dev_major: u32_at(h, 32),
                dev_minor: u32_at(h, 36),
                inode: u64_at(h, 24),
                page_offset: u64_at(h, 16),
            })
        } else {
            Backing::Anonymous
        };
        let label = match self.label {
            VmaRecord::LABEL_SPECIAL => VmaLabel::Special(self.special),
            VmaRecord::LABEL_ANON_NAME => VmaLabel::AnonName(String::new()),
            VmaRecord::LABEL_SHMEM => VmaLabel::Shmem { inode: u64_at(h, 24) },
            // `parse` refused every other code.
            _ => VmaLabel::None,
        };
        VmaInfo {
            start: VirtAddr(u64_at(h, 0)),
            end: VirtAddr(u64_at(h, 8)),
            prot: Prot(h[40]),
            sharing: if self.flags & VmaRecord::SHARED != 0 {
                Sharing::Shared
            } else {
                Sharing::Private
            },
            backing,
            grows_down: self.flags & VmaRecord::GROWS_DOWN != 0,
            label,
            accounted: self.flags & VmaRecord::ACCOUNTED != 0,
        }
    }

    /// Copies the path and the name into `vma`, the skeleton's (`parse`
    /// checked that they fit).
    fn fill(&self, vma: &mut VmaInfo) {
        if let Backing::File(file) = &mut vma.backing {
            let _ = file.path.push_str(self.path);
        }
        if let VmaLabel::AnonName(name) = &mut vma.label {
            let _ = name.push_str(self.name);
        }
    }
}

/// `bytes` as text, or [`DecodeError::Malformed`].
fn utf8(bytes: &[u8]) -> Result<&str, DecodeError> {
    core::str::from_utf8(bytes).map_err(|_| DecodeError::Malformed)
}

/// Writes `vmas` back to back into `lease` as [`VmaRecord`]s (the contents
/// of a [`VmaQuestion`] lease): at most [`MAX_VMAS_PER_BATCH`],
/// stopping before the first that does not fit. Returns the count and the
/// bytes used: the answer's `count` and `bytes`.
pub fn encode_vma_batch<V: core::borrow::Borrow<VmaInfo>>(
    vmas: impl IntoIterator<Item = V>,
    lease: &mut [u8],
) -> (u32, u32) {
    let mut count = 0u32;
    let mut used = 0usize;
    for vma in vmas.into_iter().take(MAX_VMAS_PER_BATCH as usize) {
        let Some(n) = VmaRecord::encode(vma.borrow(), &mut lease[used..]) else {
            break;
        };
        used += n;
        count += 1;
    }
    (count, used as u32)
}

/// [`encode_vma_batch`] through a small buffer: records are put together
/// in `chunk` (at least [`MAX_VMA_ENCODED`] bytes) and handed to `send`
/// with their offset in the lease whenever the next would not fit, and at
/// the end, so the sender needs no buffer the size of a whole batch.
/// Returns the answer's `count` and `bytes`, or `send`'s error.
pub fn send_vma_batch<V: core::borrow::Borrow<VmaInfo>, E>(
    vmas: impl IntoIterator<Item = V>,
    chunk: &mut [u8],
    mut send: impl FnMut(u64, &[u8]) -> Result<(), E>,
) -> Result<(u32, u32), E> {
    let (mut count, mut sent, mut staged) = (0u32, 0usize, 0usize);
    for vma in vmas.into_iter().take(MAX_VMAS_PER_BATCH as usize) {
        let n = match VmaRecord::encode(vma.borrow(), &mut chunk[staged..]) {
            Some(n) => n,
            // A chunk too small for even one record ends the batch.
            None if staged == 0 => break,
            None => {
                send(sent as u64, &chunk[..staged])?;
                sent += staged;
                staged = 0;
                let Some(n) = VmaRecord::encode(vma.borrow(), chunk) else {
                    break;
                };
                n
            }
        };
        staged += n;
        count += 1;
    }
    if staged > 0 {
        send(sent as u64, &chunk[..staged])?;
    }
    Ok((count, (sent + staged) as u32))
}

/// Decodes the batch a [`VmaAnswer`] answer describes from the
/// lease's contents, pushing each VMA onto `out` in order
/// ([`VmaRecord::decode_onto`]). A batch that is not exactly `count` VMAs
/// filling `bytes`, or holds more than [`MAX_VMAS_PER_BATCH`], is an error
/// (and `out` may hold some of it).
pub fn decode_vma_batch(
    lease: &[u8],
    count: u32,
    bytes: u32,
    out: &mut alloc::vec::Vec<VmaInfo>,
) -> Result<(), DecodeError> {
    if count > MAX_VMAS_PER_BATCH {
        return Err(DecodeError::Malformed);
    }
    let mut rest = lease.get(..bytes as usize).ok_or(DecodeError::Truncated)?;
    for _ in 0..count {
        rest = VmaRecord::decode_onto(rest, out)?;
    }
    if rest.is_empty() {
        Ok(())
    } else {
        Err(DecodeError::TrailingBytes)
    }
}

/// One page in a [`SourceRequest::Pages`] lease, 24 bytes little endian:
/// the vpn (8), the frame number or swap offset (8), the map count (4),
/// then one byte each for the [`PageFlags`], the kind (0 resident, 1
/// swapped), the swap type (0 when resident) and a zero byte.
pub struct PageRecord;

impl PageRecord {
    /// A record's size.
    pub const LEN: usize = 24;
    const RESIDENT: u8 = 0;
    const SWAPPED: u8 = 1;

    /// `page` as a record.
    pub fn encode(page: &PageInfo) -> [u8; Self::LEN] {
        let (kind, swap_type, word) = match page.frame {
            PageFrame::Resident { pfn } => (Self::RESIDENT, 0, pfn),
            PageFrame::Swapped { swap_type, swap_offset } => (Self::SWAPPED, swap_type, swap_offset),
        };
        let mut out = [0u8; Self::LEN];
        out[0..8].copy_from_slice(&page.vpn.to_le_bytes());
        out[8..16].copy_from_slice(&word.to_le_bytes());
        out[16..20].copy_from_slice(&page.map_count.to_le_bytes());
        out[20] = page.flags.0;
        out[21] = kind;
        out[22] = swap_type;
        out
    }

    /// The page a record holds; an unknown kind, a swap type on a resident
    /// page or a nonzero spare byte is [`DecodeError::Malformed`].
    pub fn decode(record: &[u8; Self::LEN]) -> Result<PageInfo, DecodeError> {
        let word = |at: usize| u64::from_le_bytes(record[at..at + 8].try_into().expect("8 bytes"));
        let frame = match (record[21], record[22]) {
            (Self::RESIDENT, 0) => PageFrame::Resident { pfn: word(8) },
            (Self::SWAPPED, swap_type) => PageFrame::Swapped {
                swap_type,
                swap_offset: word(8),
            },
            _ => return Err(DecodeError::Malformed),
        };
        if record[23] != 0 {
            return Err(DecodeError::Malformed);
        }
        Ok(PageInfo {
            vpn: word(0),
            frame,
            map_count: u32::from_le_bytes(record[16..20].try_into().expect("4 bytes")),
            flags: PageFlags(record[20]),
        })
    }
}

/// Writes up to [`MAX_PAGES_PER_BATCH`] of `pages` as [`PageRecord`]s
/// through `chunk` (a whole number of records are staged in it, at least
/// one), handing each full chunk and the last to `send` with its offset in
/// the lease. Returns the answer's `count`, or `send`'s error.
pub fn send_page_batch<E>(
    pages: impl IntoIterator<Item = PageInfo>,
    chunk: &mut [u8],
    mut send: impl FnMut(u64, &[u8]) -> Result<(), E>,
) -> Result<u32, E> {
    let room = chunk.len() / PageRecord::LEN * PageRecord::LEN;
    let (mut count, mut sent, mut staged) = (0u32, 0usize, 0usize);
    if room == 0 {
        return Ok(0);
    }
    for page in pages.into_iter().take(MAX_PAGES_PER_BATCH) {
        if staged == room {
            send(sent as u64, &chunk[..staged])?;
            sent += staged;
            staged = 0;
        }
        chunk[staged..staged + PageRecord::LEN].copy_from_slice(&PageRecord::encode(&page));
        staged += PageRecord::LEN;
        count += 1;
    }
    if staged > 0 {
        send(sent as u64, &chunk[..staged])?;
    }
    Ok(count)
}

/// Decodes the `count` pages a [`SourceReply::Pages`] answer put in the
/// lease, handing each to `each` in order. More than
/// [`MAX_PAGES_PER_BATCH`], more than the lease holds, or a malformed record
/// is an error (and `each` may have seen some).
pub fn decode_page_batch(lease: &[u8], count: u32, mut each: impl FnMut(PageInfo)) -> Result<(), DecodeError> {
    let count = count as usize;
    if count > MAX_PAGES_PER_BATCH {
        return Err(DecodeError::Malformed);
    }
    let bytes = lease.get(..count * PageRecord::LEN).ok_or(DecodeError::Truncated)?;
    for record in bytes.as_chunks::<{ PageRecord::LEN }>().0 {
        each(PageRecord::decode(record)?);
    }
    Ok(())
}

/// A process's security identity, as its launcher (the pager) assigned it
/// from the command line: the procfs server builds its token from this.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Identity {
    /// The user's relative id (its SID is `Sid::user(rid)`).
    pub user_rid: u32,
    /// Integrity level, Windows values (0x1000 low .. 0x4000 system).
    pub integrity: u16,
    /// Bit 0: SeTcbPrivilege; bit 1: SeDebugPrivilege.
    pub privileges: u8,
}

impl Identity {
    pub const TCB: u8 = 1 << 0;
    pub const DEBUG: u8 = 1 << 1;

    /// Marks a register word that holds an identity ([`Identity::word`]).
    const PRESENT: u64 = 1 << 63;

    /// The register form of one answer of [`SourceRequest::Identities`]
    /// (the question and its answer travel in registers): 0 for no such
    /// process, else bit 63, the privileges in bits 48 to 55, the integrity
    /// level in bits 32 to 47 and the rid in bits 0 to 31.
    pub const fn word(identity: Option<Identity>) -> u64 {
        match identity {
            None => 0,
            Some(i) => Self::PRESENT | (i.privileges as u64) << 48 | (i.integrity as u64) << 32 | i.user_rid as u64,
        }
    }

    /// Reads [`Identity::word`]'s form; bits 56 to 62 set, or any bit set
    /// without bit 63, is [`DecodeError::Malformed`].
    pub fn from_word(word: u64) -> Result<Option<Identity>, DecodeError> {
        if word == 0 {
            return Ok(None);
        }
        if word & Self::PRESENT == 0 || word & (0x7f << 56) != 0 {
            return Err(DecodeError::Malformed);
        }
        Ok(Some(Identity {
            user_rid: word as u32,
            integrity: (word >> 32) as u16,
            privileges: (word >> 48) as u8,
        }))
    }
}

/// Why the pager could not answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SourceError {
    /// The pager manages no such process (it may just have exited).
    NoSuchProcess,
    /// The memory could not be read or written.
    Io,
    /// The pager is not reachable or its answer made no sense.
    Unavailable,
}

impl SourceError {
    /// The number a register answer carries.
    pub const fn code(self) -> u64 {
        match self {
            SourceError::NoSuchProcess => 1,
            SourceError::Io => 2,
            SourceError::Unavailable => 3,
        }
    }

    /// The error numbered `code`, or `None`.
    pub const fn from_code(code: u64) -> Option<SourceError> {
        match code {
            1 => Some(SourceError::NoSuchProcess),
            2 => Some(SourceError::Io),
            3 => Some(SourceError::Unavailable),
            _ => None,
        }
    }
}

impl From<SourceError> for Error {
    /// What a program is told when the pager could not answer.
    fn from(e: SourceError) -> Error {
        match e {
            SourceError::NoSuchProcess => Error::NoSuchProcess,
            SourceError::Io => Error::Io,
            SourceError::Unavailable => Error::Unavailable,
        }
    }
}

/// The pager's answer to a [`SourceRequest`].
pub type SourceResponse = Result<SourceReply, SourceError>;

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::codec::{MAX_MESSAGE, decode, encode};

    fn fits<T: Serialize>(value: &T) -> usize {
        let mut buf = [0u8; MAX_MESSAGE];
        encode(value, &mut buf).expect("fits in one message")
    }

    fn some_page(vpn: u64) -> PageInfo {
        PageInfo {
            vpn,
            frame: if vpn.is_multiple_of(3) {
                PageFrame::Swapped {
                    swap_type: (vpn % 32) as u8,
                    swap_offset: vpn << 20,
                }
            } else {
                PageFrame::Resident { pfn: vpn * 7 }
            },
            map_count: (vpn % 5) as u32 + 1,
            flags: PageFlags((vpn % 32) as u8),
        }
    }

    #[test]
    fn leased_reads_round_trip() {
        for pid in [
            PidSelector::Self_,
            PidSelector::Pid(Pid(u32::MAX)),
            PidSelector::Pid(Pid(0)),
        ] {
            for file in ProcFile::ALL {
                let read = LeasedRead {
                    pid,
                    file,
                    offset: u64::MAX,
                    len: 1 << 20,
                };
                assert_eq!(LeasedRead::decode(&read.encode()), Ok(read));
                assert!(LeasedRead::is_one(&read.encode()));
                // Not a postcard request.
                assert_eq!(decode::<Request>(&read.encode()), Err(DecodeError::Malformed));
            }
        }
        let mut bytes = [0u8; MAX_MESSAGE];
        let n = encode(
            &Request::ReadLeased {
                pid: PidSelector::Self_,
                file: ProcFile::Maps,
                offset: 0,
                len: 0,
            },
            &mut bytes,
        )
        .unwrap();
        assert!(!LeasedRead::is_one(&bytes[..n]));
        for answer in [Ok(0), Ok(u64::MAX)].into_iter().chain(Error::ALL.into_iter().map(Err)) {
            assert_eq!(
                LeasedRead::decode_answer(&LeasedRead::encode_answer(answer)),
                Ok(answer)
            );
        }
    }

    #[test]
    fn malformed_leased_reads_are_refused() {
        let read = LeasedRead {
            pid: PidSelector::Self_,
            file: ProcFile::Maps,
            offset: 0,
            len: 4096,
        }
        .encode();
        // Tag, file, target, reserved byte, a pid with /proc/self.
        for (at, value) in [(0, 0), (1, 5), (2, 2), (3, 1), (4, 1)] {
            let mut r = read;
            r[at] = value;
            assert_eq!(
                LeasedRead::decode(&r),
                Err(DecodeError::Malformed),
                "byte {at} = {value}"
            );
        }
        assert_eq!(LeasedRead::decode(&read[..23]), Err(DecodeError::Malformed));
        let answer = LeasedRead::encode_answer(Ok(0));
        // Tag, reserved byte, an unknown status, a count with an error.
        for (at, value) in [(0, 0), (2, 1), (1, 1)] {
            let mut a = answer;
            a[at] = value;
            assert_eq!(
                LeasedRead::decode_answer(&a),
                Err(DecodeError::Malformed),
                "byte {at} = {value}"
            );
        }
        let mut error_with_count = LeasedRead::encode_answer(Err(Error::Io));
        error_with_count[8] = 1;
        assert_eq!(
            LeasedRead::decode_answer(&error_with_count),
            Err(DecodeError::Malformed)
        );
        assert_eq!(LeasedRead::decode_answer(&answer[..15]), Err(DecodeError::Malformed));
    }

    #[test]
    fn vma_questions_and_answers_round_trip() {
        let question = VmaQuestion {
            pid: Pid(u32::MAX),
            from: VirtAddr(u64::MAX),
            max: u32::MAX,
        };
        assert_eq!(VmaQuestion::decode(&question.encode()), Ok(question));
        assert!(VmaQuestion::is_one(&question.encode()));
        // No postcard pager request reads as one, nor one as a request.
        assert_eq!(
            decode::<crate::pager::Request>(&question.encode()),
            Err(crate::codec::DecodeError::Malformed)
        );
        let mut bytes = [0u8; MAX_MESSAGE];
        let n = encode(&crate::pager::Request::Null, &mut bytes).unwrap();
        assert!(!VmaQuestion::is_one(&bytes[..n]));
        let layout = SpaceLayout {
            start_brk: VirtAddr(1),
            brk: VirtAddr(2),
            start_stack: VirtAddr(3),
            top: VirtAddr(u64::MAX),
        };
        for answer in [
            Ok(VmaAnswer {
                count: u32::MAX,
                bytes: 7,
                layout,
                last: true,
            }),
            Ok(VmaAnswer {
                count: 0,
                bytes: 0,
                layout,
                last: false,
            }),
            Err(SourceError::NoSuchProcess),
            Err(SourceError::Io),
            Err(SourceError::Unavailable),
        ] {
            assert_eq!(VmaAnswer::decode(&VmaAnswer::encode(&answer)), Ok(answer));
        }
    }

    #[test]
    fn malformed_vma_questions_and_answers_are_refused() {
        let question = VmaQuestion {
            pid: Pid(1),
            from: VirtAddr(0),
            max: 64,
        }
        .encode();
        let mut wrong = Vec::<[u8; VmaQuestion::LEN], 4>::new();
        for at in [0, 3, 20] {
            let mut q = question;
            q[at] ^= 0x80;
            wrong.push(q).unwrap();
        }
        for q in &wrong {
            assert_eq!(VmaQuestion::decode(q), Err(DecodeError::Malformed));
        }
        assert_eq!(VmaQuestion::decode(&question[..23]), Err(DecodeError::Malformed));
        let answer = VmaAnswer::encode(&Ok(VmaAnswer {
            count: 1,
            bytes: 48,
            layout: SpaceLayout {
                start_brk: VirtAddr(0),
                brk: VirtAddr(0),
                start_stack: VirtAddr(0),
                top: VirtAddr(0),
            },
            last: false,
        }));
        // Tag, reserved bytes, `last`, an unknown status, an error with data.
        for (at, value) in [(0, 0), (3, 1), (12, 1), (2, 2), (1, 4), (1, 1)] {
            let mut a = answer;
            a[at] = value;
            assert_eq!(
                VmaAnswer::decode(&a),
                Err(DecodeError::Malformed),
                "byte {at} = {value}"
            );
        }
        assert_eq!(VmaAnswer::decode(&answer[..47]), Err(DecodeError::Malformed));
    }

    #[test]
    fn page_batches_go_through_small_chunks_and_come_back_whole() {
        let pages: std::vec::Vec<PageInfo> = (0..MAX_PAGES_PER_BATCH as u64 + 5).map(some_page).collect();
        let mut lease = std::vec![0u8; PAGE_LEASE_BYTES];
        // A chunk that is not a whole number of records: only whole ones
        // are staged.
        let mut chunk = [0u8; PageRecord::LEN * 3 + 5];
        let mut sends = 0;
        let count = send_page_batch(pages.iter().copied(), &mut chunk, |at, bytes| {
            sends += 1;
            assert_eq!(bytes.len() % PageRecord::LEN, 0);
            lease[at as usize..at as usize + bytes.len()].copy_from_slice(bytes);
            Ok::<(), ()>(())
        })
        .unwrap();
        assert_eq!(count as usize, MAX_PAGES_PER_BATCH, "a batch stops at the most");
        assert_eq!(sends, MAX_PAGES_PER_BATCH.div_ceil(3));
        let mut back = std::vec::Vec::new();
        decode_page_batch(&lease, count, |p| back.push(p)).unwrap();
        assert_eq!(back, pages[..MAX_PAGES_PER_BATCH]);
        // An empty batch sends nothing; a chunk smaller than a record
        // carries none.
        assert_eq!(send_page_batch([], &mut chunk, |_, _| Err::<(), ()>(())), Ok(0));
        assert_eq!(
            send_page_batch(
                [some_page(1)],
                &mut [0u8; PageRecord::LEN - 1],
                |_, _| Err::<(), ()>(())
            ),
            Ok(0)
        );
    }

    #[test]
    fn a_failed_send_ends_the_page_batch() {
        let mut chunk = [0u8; PageRecord::LEN];
        let mut sends = 0;
        let result = send_page_batch((0..4).map(some_page), &mut chunk, |_, _| {
            sends += 1;
            if sends == 2 { Err("lease too small") } else { Ok(()) }
        });
        assert_eq!((result, sends), (Err("lease too small"), 2));
    }

    #[test]
    fn bad_page_batches_are_refused() {
        let mut lease = std::vec![0u8; 2 * PageRecord::LEN];
        lease[..PageRecord::LEN].copy_from_slice(&PageRecord::encode(&some_page(1)));
        lease[PageRecord::LEN..].copy_from_slice(&PageRecord::encode(&some_page(3)));
        assert_eq!(decode_page_batch(&lease, 2, |_| ()), Ok(()));
        // More than the lease holds, or than a batch may carry.
        assert_eq!(decode_page_batch(&lease, 3, |_| ()), Err(DecodeError::Truncated));
        let big = std::vec![0u8; PAGE_LEASE_BYTES + PageRecord::LEN];
        assert_eq!(
            decode_page_batch(&big, MAX_PAGES_PER_BATCH as u32 + 1, |_| ()),
            Err(DecodeError::Malformed)
        );
        // An unknown kind, a swap type on a resident page, a spare byte set.
        for (at, value) in [(21, 2u8), (22, 1), (23, 1)] {
            let mut record = PageRecord::encode(&some_page(1));
            record[at] = value;
            assert_eq!(PageRecord::decode(&record), Err(DecodeError::Malformed), "byte {at}");
        }
    }

    proptest! {
        #[test]
        fn page_records_round_trip(vpn: u64, word: u64, map_count: u32, flags: u8, swap_type: u8, swapped: bool) {
            let page = PageInfo {
                vpn,
                frame: if swapped {
                    PageFrame::Swapped { swap_type, swap_offset: word }
                } else {
                    PageFrame::Resident { pfn: word }
                },
                map_count,
                flags: PageFlags(flags),
            };
            prop_assert_eq!(PageRecord::decode(&PageRecord::encode(&page)), Ok(page));
        }
    }

    #[test]
    fn largest_messages_fit() {
        let data: Vec<u8, MAX_INLINE_DATA> = core::iter::repeat_n(0xff, MAX_INLINE_DATA).collect();
        fits(&Request::Write {
            pid: PidSelector::Pid(Pid(u32::MAX)),
            file: ProcFile::Mem,
            offset: u64::MAX,
            data: data.clone(),
        });
        fits::<Response>(&Ok(Reply::Data(data.clone())));
        fits::<SourceRequest>(&SourceRequest::WriteMem {
            pid: Pid(u32::MAX),
            addr: VirtAddr(u64::MAX),
            len: u32::MAX,
        });
        let page = PageInfo {
            vpn: u64::MAX,
            frame: PageFrame::Swapped {
                swap_type: u8::MAX,
                swap_offset: u64::MAX,
            },
            map_count: u32::MAX,
            flags: PageFlags(u8::MAX),
        };
        let record = PageRecord::encode(&page);
        assert_eq!(PageRecord::decode(&record), Ok(page));
        let identity = Identity {
            user_rid: u32::MAX,
            integrity: u16::MAX,
            privileges: u8::MAX,
        };
        fits::<SourceResponse>(&Ok(SourceReply::Identities(
            Vec::from_slice(&[Some(identity); MAX_PARTIES]).unwrap(),
        )));
        fits::<SourceRequest>(&SourceRequest::Identities {
            pids: Vec::from_slice(&[Pid(u32::MAX); MAX_PARTIES]).unwrap(),
        });
    }

    /// The VMA with the longest encoding.
    fn largest_vma() -> VmaInfo {
        VmaInfo {
            start: VirtAddr(u64::MAX),
            end: VirtAddr(u64::MAX),
            prot: Prot(u8::MAX),
            sharing: Sharing::Shared,
            backing: Backing::File(FileRef {
                path: core::iter::repeat_n('x', MAX_PATH).collect(),
                dev_major: u32::MAX,
                dev_minor: u32::MAX,
                inode: u64::MAX,
                page_offset: u64::MAX,
            }),
            grows_down: true,
            label: VmaLabel::AnonName(core::iter::repeat_n('y', MAX_ANON_NAME).collect()),
            accounted: true,
        }
    }

    #[test]
    fn the_largest_vma_takes_max_vma_encoded_bytes() {
        let mut out = [0u8; MAX_VMA_ENCODED + 1];
        assert_eq!(VmaRecord::encode(&largest_vma(), &mut out), Some(MAX_VMA_ENCODED));
        assert_eq!(VmaRecord::encode(&largest_vma(), &mut out[..MAX_VMA_ENCODED - 1]), None);
    }

    /// VMAs of every shape: anonymous ones take just the header.
    fn shapes() -> [VmaInfo; 6] {
        let anon = VmaInfo {
            start: VirtAddr(0x1000),
            end: VirtAddr(0x3000),
            prot: Prot(3),
            sharing: Sharing::Private,
            backing: Backing::Anonymous,
            grows_down: false,
            label: VmaLabel::None,
            accounted: true,
        };
        let mut stack = anon.clone();
        stack.grows_down = true;
        let mut vvar = anon.clone();
        vvar.label = VmaLabel::Special(SpecialMapping::VvarVclock);
        let mut named = anon.clone();
        named.sharing = Sharing::Shared;
        named.label = VmaLabel::AnonName("buf\né".try_into().unwrap());
        let mut file = anon.clone();
        file.backing = Backing::File(FileRef {
            path: "/bin/a".try_into().unwrap(),
            dev_major: 8,
            dev_minor: 1,
            inode: 77,
            page_offset: 3,
        });
        file.accounted = false;
        let mut shmem = anon.clone();
        shmem.sharing = Sharing::Shared;
        shmem.accounted = false;
        shmem.label = VmaLabel::Shmem { inode: 4097 };
        [anon, stack, vvar, named, file, shmem]
    }

    #[test]
    fn records_round_trip() {
        let mut buf = [0u8; MAX_VMA_ENCODED + 3];
        for vma in shapes().into_iter().chain([largest_vma()]) {
            let n = VmaRecord::encode(&vma, &mut buf).unwrap();
            buf[n..n + 3].copy_from_slice(b"abc");
            assert_eq!(
                VmaRecord::decode(&buf[..n + 3]),
                Ok((vma.clone(), &b"abc"[..])),
                "{vma:?}"
            );
        }
        assert_eq!(VmaRecord::encode(&shapes()[0], &mut buf), Some(VMA_RECORD_HEADER));
        for special in [SpecialMapping::Vdso, SpecialMapping::Vvar, SpecialMapping::VvarVclock] {
            let mut vma = shapes()[0].clone();
            vma.label = VmaLabel::Special(special);
            VmaRecord::encode(&vma, &mut buf).unwrap();
            assert_eq!(VmaRecord::decode(&buf).map(|(v, _)| v), Ok(vma));
        }
    }

    #[test]
    fn malformed_records_are_refused() {
        let mut good = [0u8; MAX_VMA_ENCODED];
        let n = VmaRecord::encode(&shapes()[4], &mut good).unwrap();
        let bad = |at: usize, value: u8| {
            let mut b = good;
            b[at] = value;
            VmaRecord::decode(&b[..n]).map(|_| ())
        };
        assert_eq!(bad(41, 0x80), Err(DecodeError::Malformed), "unknown flag");
        assert_eq!(bad(42, 9), Err(DecodeError::Malformed), "unknown label");
        assert_eq!(bad(42, 3), Err(DecodeError::Malformed), "a shmem label on a file");
        assert_eq!(bad(46, 1), Err(DecodeError::Malformed), "reserved byte");
        assert_eq!(bad(47, 1), Err(DecodeError::Malformed), "reserved byte");
        assert_eq!(bad(44, MAX_PATH as u8 + 1), Err(DecodeError::Malformed), "long path");
        assert_eq!(
            bad(45, MAX_ANON_NAME as u8 + 1),
            Err(DecodeError::Malformed),
            "long name"
        );
        assert_eq!(bad(41, 0), Err(DecodeError::Malformed), "a path without a file");
        assert_eq!(bad(45, 1), Err(DecodeError::Malformed), "a name without the label");
        assert_eq!(bad(VMA_RECORD_HEADER, 0xff), Err(DecodeError::Malformed), "not UTF-8");
        assert_eq!(bad(44, 7), Err(DecodeError::Truncated), "path past the end");
        assert_eq!(
            VmaRecord::decode(&good[..VMA_RECORD_HEADER - 1]).map(|_| ()),
            Err(DecodeError::Truncated)
        );
        // A special mapping code that does not exist.
        let mut vvar = [0u8; VMA_RECORD_HEADER];
        VmaRecord::encode(&shapes()[2], &mut vvar).unwrap();
        vvar[43] = 3;
        assert_eq!(VmaRecord::decode(&vvar).map(|_| ()), Err(DecodeError::Malformed));
        // A name that is not UTF-8.
        let mut named = [0u8; MAX_VMA_ENCODED];
        let n = VmaRecord::encode(&shapes()[3], &mut named).unwrap();
        named[n - 1] = 0xff;
        assert_eq!(VmaRecord::decode(&named[..n]).map(|_| ()), Err(DecodeError::Malformed));
    }

    #[test]
    fn a_full_batch_of_the_largest_vmas_fits_the_lease() {
        let mut lease = [0u8; VMA_LEASE_BYTES];
        let (count, bytes) = encode_vma_batch(core::iter::repeat_n(largest_vma(), 100), &mut lease);
        assert_eq!((count, bytes as usize), (MAX_VMAS_PER_BATCH, VMA_LEASE_BYTES));
        let mut out = alloc::vec::Vec::new();
        decode_vma_batch(&lease, count, bytes, &mut out).unwrap();
        assert_eq!(out.len(), MAX_VMAS_PER_BATCH as usize);
        assert!(out.iter().all(|v| *v == largest_vma()));
        // A record that does not decode pushes nothing.
        let mut bad = lease;
        bad[41] = 0xff;
        out.clear();
        assert_eq!(VmaRecord::decode_onto(&bad, &mut out), Err(DecodeError::Malformed));
        assert!(out.is_empty());
        assert_eq!(
            VmaRecord::decode_onto(&lease[..47], &mut out),
            Err(DecodeError::Truncated)
        );
        assert!(out.is_empty());
    }

    #[test]
    fn a_batch_stops_before_the_first_vma_that_does_not_fit() {
        let mut lease = [0u8; MAX_VMA_ENCODED * 2 + 10];
        let reply = encode_vma_batch(core::iter::repeat_n(largest_vma(), 5), &mut lease);
        assert_eq!(reply, (2, 2 * MAX_VMA_ENCODED as u32));
        assert_eq!(encode_vma_batch(core::iter::empty::<VmaInfo>(), &mut lease), (0, 0));
    }

    #[test]
    fn a_batch_sent_in_chunks_equals_one_encoded_whole() {
        let vmas: std::vec::Vec<VmaInfo> = (0..100).map(|i| shapes()[i % 5].clone()).collect();
        let mut whole = [0u8; VMA_LEASE_BYTES];
        let expected = encode_vma_batch(&vmas, &mut whole);
        let mut lease = [0u8; VMA_LEASE_BYTES];
        let mut chunk = [0u8; MAX_VMA_ENCODED + 100];
        let mut sends = 0;
        let got = send_vma_batch(&vmas, &mut chunk, |at, bytes| {
            sends += 1;
            lease[at as usize..at as usize + bytes.len()].copy_from_slice(bytes);
            Ok::<(), ()>(())
        });
        assert_eq!(got, Ok(expected));
        assert_eq!(lease[..expected.1 as usize], whole[..expected.1 as usize]);
        assert!(sends > 1);
        // The sender's error stops the batch; a chunk too small for one
        // record sends nothing.
        assert_eq!(send_vma_batch(&vmas, &mut chunk, |_, _| Err(7)), Err(7));
        let mut tiny = [0u8; VMA_RECORD_HEADER - 1];
        assert_eq!(send_vma_batch(&vmas, &mut tiny, |_, _| Err(7)), Ok((0, 0)));
        assert_eq!(
            send_vma_batch(core::iter::empty::<VmaInfo>(), &mut chunk, |_, _| Err(7)),
            Ok((0, 0))
        );
    }

    #[test]
    fn inconsistent_batches_are_refused() {
        let mut lease = [0u8; 3 * MAX_VMA_ENCODED];
        let (count, bytes) = encode_vma_batch(core::iter::repeat_n(largest_vma(), 3), &mut lease);
        let decode = |count, bytes| decode_vma_batch(&lease, count, bytes, &mut alloc::vec::Vec::new());
        assert_eq!(decode(count, bytes), Ok(()));
        assert_eq!(decode(count - 1, bytes), Err(DecodeError::TrailingBytes));
        assert_eq!(decode(count + 1, bytes), Err(DecodeError::Truncated));
        assert_eq!(decode(count, bytes - 1), Err(DecodeError::Truncated));
        assert_eq!(decode(count, bytes + 1), Err(DecodeError::Truncated));
        assert_eq!(decode(MAX_VMAS_PER_BATCH + 1, bytes), Err(DecodeError::Malformed));
        assert_eq!(decode(0, 0), Ok(()));
    }

    #[test]
    fn requests_round_trip() {
        let req = Request::Read {
            pid: PidSelector::Self_,
            file: ProcFile::Pagemap,
            offset: 8,
            len: 64,
        };
        let mut buf = [0u8; MAX_MESSAGE];
        let n = encode(&req, &mut buf).unwrap();
        assert_eq!(decode::<Request>(&buf[..n]), Ok(req));
        let resp: Response = Err(Error::AccessDenied);
        let n = encode(&resp, &mut buf).unwrap();
        assert_eq!(decode::<Response>(&buf[..n]), Ok(resp));
    }

    #[test]
    fn paths_parse() {
        assert_eq!(parse_path("/proc/self/maps"), Ok((PidSelector::Self_, ProcFile::Maps)));
        assert_eq!(
            parse_path("/proc/42/smaps_rollup"),
            Ok((PidSelector::Pid(Pid(42)), ProcFile::SmapsRollup))
        );
        assert_eq!(parse_path("/proc/0/mem"), Ok((PidSelector::Pid(Pid(0)), ProcFile::Mem)));
        for bad in [
            "/proc/self/status",
            "/proc/self/",
            "/proc/self",
            "/proc/042/maps",
            "/proc/-1/maps",
            "/proc/99999999999/maps",
            "/proc//maps",
            "/sys/self/maps",
            "/proc/self/maps/x",
            "",
        ] {
            assert_eq!(parse_path(bad), Err(Error::NoSuchFile), "{bad}");
        }
    }

    #[test]
    fn errno_values() {
        assert_eq!(Error::AccessDenied.code(), 13);
        assert_eq!(Error::InvalidArgument.code(), 22);
        assert_eq!(Error::Io.code(), 5);
        assert_eq!(Error::NoSuchProcess.code(), 3);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = decode::<Request>(&bytes);
            let _ = decode::<Response>(&bytes);
            let _ = decode::<SourceRequest>(&bytes);
            let _ = decode::<SourceResponse>(&bytes);
            let _ = decode_vma_batch(&bytes, 3, bytes.len() as u32, &mut alloc::vec::Vec::new());
        }

        #[test]
        fn arbitrary_paths_never_panic(path in ".{0,40}") {
            let _ = parse_path(&path);
        }
    }
}
