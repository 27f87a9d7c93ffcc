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
//!
//! `offset` is the file offset: a byte offset into the text of `maps`,
//! `smaps` and `smaps_rollup`, `vpn * 8` for `pagemap`, the virtual address
//! for `mem`. Data travels inline, so one call moves at most
//! [`MAX_INLINE_DATA`] bytes; a larger `len` is [`Error::TooLarge`]. Bulk
//! transfers are to use memory the caller lends for one call (a kernel
//! lease, [`crate::abi::LeaseDesc`]); the server core already writes into a
//! caller buffer of any size, so only the message layer will change: a
//! leased read names `offset` and `len` (up to the lease) and its reply
//! carries only the count.
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
//! | `Identity { pid }` | `Identity(..)` | who the process runs as |
//! | `Layout { pid }` | `Layout { layout, vma_count }` | O(1): brk, start_brk, start_stack |
//! | `Vmas { pid, from, max }` with a writable lease of [`VMA_LEASE_BYTES`] | `Vmas { count, bytes }` | the VMAs from the first whose end is above `from`, in order, at most `max` (and [`MAX_VMAS_PER_BATCH`]), postcard-encoded back to back in the lease ([`encode_vma_batch`], [`decode_vma_batch`]); none: no VMA ends above `from` |
//! | `Pages { pid, start_vpn, end_vpn }` | `Pages(..)` | the lowest resident or swapped pages of the range, at most [`MAX_PAGES_PER_REPLY`]; a full batch means "ask again after the last" |
//! | `ReadMem { pid, addr, len }` | `Data(..)` | at most [`MAX_INLINE_DATA`], within one VMA |
//! | `WriteMem { pid, addr, data }` | `Written(n)` | within one VMA |
//!
//! VMAs travel in batches found by address, not by index, so a whole walk
//! costs the pager one O(log n) lookup per batch, and a reader resuming in
//! the middle of the file (the procfs server's cursor) starts where it left
//! off. The batch goes through a lease because one [`VmaInfo`] can take up
//! to [`MAX_VMA_ENCODED`] bytes: a 512-byte message would hold as few as one,
//! the lease holds [`MAX_VMAS_PER_BATCH`] of the largest, so a walk of `n`
//! VMAs is about `n / 64` calls whatever their names.

use heapless::{String, Vec};
use serde::{Deserialize, Serialize};

use crate::{
    codec::{self, DecodeError},
    types::{Pid, Prot, VirtAddr},
};

/// The most data one request or reply carries inline. Chosen so the largest
/// [`Request::Write`] and [`Reply::Data`] still fit in
/// [`crate::MAX_MESSAGE`] with their headers (tested in the codec tests).
pub const MAX_INLINE_DATA: usize = 384;

/// Longest file path a [`FileRef`] carries. Longer paths are the pager's to
/// shorten (Linux itself prints at most a page).
pub const MAX_PATH: usize = 128;

/// Longest anonymous-mapping name: Linux's `ANON_VMA_NAME_MAX_LEN`.
pub const MAX_ANON_NAME: usize = 80;

/// How many pages one [`SourceReply::Pages`] batch carries; keeps the reply
/// within [`crate::MAX_MESSAGE`] for the largest encodings.
pub const MAX_PAGES_PER_REPLY: usize = 12;

/// How many VMAs one [`SourceRequest::Vmas`] answer carries at most: enough
/// that the per-call cost is small beside the per-VMA cost (about 1.5% of
/// the calls of one VMA per call), small enough that the procfs server's
/// batch stays a few tens of KiB.
pub const MAX_VMAS_PER_BATCH: u32 = 64;

/// The most bytes one [`VmaInfo`] takes encoded: a file mapping with a
/// [`MAX_PATH`] path and a [`MAX_ANON_NAME`] name, every number at its
/// widest varint (tested).
pub const MAX_VMA_ENCODED: usize = 266;

/// The lease a [`SourceRequest::Vmas`] call lends: a full batch of the
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

/// The largest leased transfer of one call.
pub const MAX_LEASED: u64 = 1 << 20;

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
    /// Part of a 2 MiB page the kernel maps with one entry (a transparent
    /// huge page: smaps's AnonHugePages).
    pub const HUGE: PageFlags = PageFlags(1 << 5);

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
    /// Who the process runs as, as its launcher assigned it.
    Identity { pid: Pid },
    /// The layout and the number of VMAs.
    Layout { pid: Pid },
    /// The VMAs of `pid` in address order, from the first whose end is
    /// above `from`, at most `max` (and [`MAX_VMAS_PER_BATCH`]), written
    /// into the writable lease sent with the call ([`encode_vma_batch`]).
    /// Fewer than `max` does not mean there are no more: ask again from the
    /// last one's end until the answer is empty.
    Vmas { pid: Pid, from: VirtAddr, max: u32 },
    /// Resident or swapped pages with `vpn` in `[start_vpn, end_vpn)`: the
    /// lowest ones, in order, at most [`MAX_PAGES_PER_REPLY`]; a full batch
    /// means there may be more after its last.
    Pages { pid: Pid, start_vpn: u64, end_vpn: u64 },
    /// Reads up to `len` bytes at `addr`, all within one VMA.
    ReadMem { pid: Pid, addr: VirtAddr, len: u32 },
    /// Writes `data` at `addr`, within one VMA (copy-on-write if private).
    WriteMem {
        pid: Pid,
        addr: VirtAddr,
        data: Vec<u8, MAX_INLINE_DATA>,
    },
    /// The system's settings the files show: the vsyscall page's mode
    /// (the boot line's `vsyscall=`), for the `[vsyscall]` line of maps.
    Settings,
}

/// The pager's answer to a [`SourceRequest`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SourceReply {
    Identity(Identity),
    Layout {
        layout: SpaceLayout,
        vma_count: u32,
    },
    /// `count` VMAs in the first `bytes` bytes of the lease.
    Vmas {
        count: u32,
        bytes: u32,
    },
    Pages(Vec<PageInfo, MAX_PAGES_PER_REPLY>),
    Data(Vec<u8, MAX_INLINE_DATA>),
    Written(u32),
    Settings {
        vsyscall: crate::vsyscall::Mode,
    },
}

/// Writes `vmas` back to back into `lease` (the contents of a
/// [`SourceRequest::Vmas`] lease): at most [`MAX_VMAS_PER_BATCH`], stopping
/// before the first that does not fit. Returns the answer to send.
pub fn encode_vma_batch(vmas: impl IntoIterator<Item = VmaInfo>, lease: &mut [u8]) -> SourceReply {
    let mut count = 0u32;
    let mut used = 0usize;
    for vma in vmas.into_iter().take(MAX_VMAS_PER_BATCH as usize) {
        let Ok(n) = codec::encode(&vma, &mut lease[used..]) else {
            break;
        };
        used += n;
        count += 1;
    }
    SourceReply::Vmas {
        count,
        bytes: used as u32,
    }
}

/// Decodes the batch a [`SourceReply::Vmas`] answer describes from the
/// lease's contents, handing each VMA to `each` in order. A batch that is
/// not exactly `count` VMAs filling `bytes`, or holds more than
/// [`MAX_VMAS_PER_BATCH`], is an error (and `each` may have seen some).
pub fn decode_vma_batch(
    lease: &[u8],
    count: u32,
    bytes: u32,
    mut each: impl FnMut(VmaInfo),
) -> Result<(), DecodeError> {
    if count > MAX_VMAS_PER_BATCH {
        return Err(DecodeError::Malformed);
    }
    let mut rest = lease.get(..bytes as usize).ok_or(DecodeError::Truncated)?;
    for _ in 0..count {
        let (vma, after) = codec::decode_prefix::<VmaInfo>(rest)?;
        each(vma);
        rest = after;
    }
    if rest.is_empty() {
        Ok(())
    } else {
        Err(DecodeError::TrailingBytes)
    }
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
            data,
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
        let pages: Vec<PageInfo, MAX_PAGES_PER_REPLY> = core::iter::repeat_n(page, MAX_PAGES_PER_REPLY).collect();
        fits::<SourceResponse>(&Ok(SourceReply::Pages(pages)));
        fits::<SourceResponse>(&Ok(SourceReply::Vmas {
            count: u32::MAX,
            bytes: u32::MAX,
        }));
        fits::<SourceRequest>(&SourceRequest::Vmas {
            pid: Pid(u32::MAX),
            from: VirtAddr(u64::MAX),
            max: u32::MAX,
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
        }
    }

    #[test]
    fn the_largest_vma_takes_max_vma_encoded_bytes() {
        assert_eq!(fits(&largest_vma()), MAX_VMA_ENCODED);
    }

    #[test]
    fn a_full_batch_of_the_largest_vmas_fits_the_lease() {
        let mut lease = [0u8; VMA_LEASE_BYTES];
        let reply = encode_vma_batch(core::iter::repeat_n(largest_vma(), 100), &mut lease);
        let SourceReply::Vmas { count, bytes } = reply else {
            panic!("{reply:?}")
        };
        assert_eq!((count, bytes as usize), (MAX_VMAS_PER_BATCH, VMA_LEASE_BYTES));
        let mut seen = 0;
        decode_vma_batch(&lease, count, bytes, |v| {
            assert_eq!(v, largest_vma());
            seen += 1;
        })
        .unwrap();
        assert_eq!(seen, MAX_VMAS_PER_BATCH);
    }

    #[test]
    fn a_batch_stops_before_the_first_vma_that_does_not_fit() {
        let mut lease = [0u8; MAX_VMA_ENCODED * 2 + 10];
        let reply = encode_vma_batch(core::iter::repeat_n(largest_vma(), 5), &mut lease);
        assert_eq!(
            reply,
            SourceReply::Vmas {
                count: 2,
                bytes: 2 * MAX_VMA_ENCODED as u32
            }
        );
        assert_eq!(
            encode_vma_batch(core::iter::empty(), &mut lease),
            SourceReply::Vmas { count: 0, bytes: 0 }
        );
    }

    #[test]
    fn inconsistent_batches_are_refused() {
        let mut lease = [0u8; 3 * MAX_VMA_ENCODED];
        let SourceReply::Vmas { count, bytes } = encode_vma_batch(core::iter::repeat_n(largest_vma(), 3), &mut lease)
        else {
            unreachable!()
        };
        let decode = |count, bytes| decode_vma_batch(&lease, count, bytes, |_| {});
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
            let _ = decode_vma_batch(&bytes, 3, bytes.len() as u32, |_| {});
        }

        #[test]
        fn arbitrary_paths_never_panic(path in ".{0,40}") {
            let _ = parse_path(&path);
        }
    }
}
