//! The files produced piece by piece, as Linux's seq_file does: nothing
//! holds a whole file, a whole VMA list or a whole VMA's pages.
//!
//! - maps and smaps are sequences of records, one per VMA and then the
//!   vsyscall page's. Each record is formatted into one small buffer
//!   (bounded: a maps line is at most a few hundred bytes, an smaps block
//!   about 1.5 KiB), bytes before the requested offset are skipped, the rest
//!   goes straight to the [`Output`]. Where a read stopped is a
//!   [`Position`]: the address of the next record and how many of its bytes
//!   were already returned, from which the next read resumes with one
//!   lookup (see [`crate::cursor`]).
//! - smaps_rollup is a fixed-size [`Totals`] accumulated VMA by VMA, page
//!   batch by page batch, then printed.
//! - pagemap fills the output window by window (the caller's buffer, or one
//!   lease chunk), asking only about the VMAs and pages in the window.
//! - mem moves its bytes VMA by VMA, chunk by chunk (see [`crate::mem`]).

use alloc::vec::Vec;

use libipc::{
    procfs::{Error, MAX_VMAS_PER_BATCH, ProcFile, VmaInfo},
    types::{PAGE_SIZE, Pid, VirtAddr},
};

use crate::{
    format::{
        VSYSCALL_END, VSYSCALL_START, VsyscallMode, maps,
        pagemap::{self, ENTRY_BYTES},
        record::Record,
        rollup::Totals,
        smaps::{self, MemStats},
    },
    io::Output,
    source::{AddressSpaceSource, PageAhead, VmaWalk},
};

/// Room reserved for one record; the longest (an smaps block of a file
/// mapping with a long, escaped path, under 1.5 KiB) grows it once.
pub const RECORD_CAPACITY: usize = 1024;

/// The shortest record: a maps line of an anonymous VMA below 2^32 with no
/// name (`00001000-00002000 ---p 00000000 00:00 0 \n`). A read with room
/// for `r` more bytes after skipping `s` needs at most `(r + s) / 41 + 1`
/// more VMAs, which bounds the batch it asks for.
const SHORTEST_RECORD: usize = 41;

/// Where a read of maps or smaps stands: at the record found from `addr`
/// (the first VMA ending above it, or after the last VMA the vsyscall
/// page's), with `skip` bytes of the file still to pass over from that
/// record's start. A fresh read at offset `o` is `{ addr: 0, skip: o }`; a
/// read that stopped inside a record leaves `{ addr: record start, skip:
/// bytes of it returned }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub addr: u64,
    pub skip: u64,
}

impl Position {
    /// Where a read at file offset `offset` starts when nothing is known.
    pub const fn from_offset(offset: u64) -> Position {
        Position { addr: 0, skip: offset }
    }
}

/// Adds the pages of `vma` to `stats`, from batches read ahead over the
/// VMAs that follow.
fn stats_of(
    source: &mut impl AddressSpaceSource,
    pages: &mut PageAhead,
    vma: &libipc::procfs::VmaInfo,
    stats: &mut MemStats,
) -> Result<(), Error> {
    pages.for_each(source, vma.start.0 / PAGE_SIZE, vma.end.0 / PAGE_SIZE, |page| {
        stats.account(vma, page);
    })
}

/// Past every user page: a walk over all VMAs reads ahead to here.
const ALL_PAGES: u64 = u64::MAX / PAGE_SIZE;

/// The buffers a maps or smaps read works in, kept by the server from one
/// request to the next: allocating them per request was a measurable part
/// of a short read's cost. Their sizes stay bounded (a batch of VMAs, one
/// record).
#[derive(Debug, Default)]
pub struct Buffers {
    batch: Vec<VmaInfo>,
    record: Record,
}

/// Streams maps or smaps (`file`) of `pid` from `at` into `out` until it
/// is full or the file ends; returns where the next read continues.
pub fn read_records(
    source: &mut impl AddressSpaceSource,
    pid: Pid,
    file: ProcFile,
    vsyscall: VsyscallMode,
    at: Position,
    out: &mut Output<'_>,
    buffers: &mut Buffers,
) -> Result<Position, Error> {
    let batch = core::mem::take(&mut buffers.batch);
    let mut walk = VmaWalk::reusing(pid, VirtAddr(at.addr), MAX_VMAS_PER_BATCH, batch);
    if buffers.record.is_empty() {
        buffers.record.reserve(RECORD_CAPACITY);
    }
    let result = stream_records(source, pid, file, vsyscall, at, out, &mut walk, &mut buffers.record);
    buffers.batch = walk.into_batch();
    result
}

/// [`read_records`] with its buffers.
#[allow(clippy::too_many_arguments, reason = "the read's parameters and its two buffers")]
fn stream_records(
    source: &mut impl AddressSpaceSource,
    pid: Pid,
    file: ProcFile,
    vsyscall: VsyscallMode,
    mut at: Position,
    out: &mut Output<'_>,
    walk: &mut VmaWalk,
    record: &mut Record,
) -> Result<Position, Error> {
    let mut pages = PageAhead::new(pid, ALL_PAGES);
    while out.room() > 0 {
        record.clear();
        let needed = (out.room() as u64).saturating_add(at.skip) / SHORTEST_RECORD as u64 + 1;
        walk.want(u32::try_from(needed).unwrap_or(u32::MAX));
        let (start, end) = match walk.next_in_layout(source)? {
            Some((vma, layout)) => {
                if file == ProcFile::Smaps {
                    let mut stats = MemStats::default();
                    stats_of(source, &mut pages, vma, &mut stats)?;
                    smaps::write_vma_record(record, layout, vma, &stats);
                } else {
                    maps::write_vma_line(record, layout, vma);
                }
                (vma.start.0, vma.end.0)
            }
            None if at.addr < VSYSCALL_END => {
                if file == ProcFile::Smaps {
                    smaps::write_vsyscall_record(record, vsyscall);
                } else {
                    maps::write_vsyscall_line(record, vsyscall);
                }
                (VSYSCALL_START, VSYSCALL_END)
            }
            None => break,
        };
        let len = record.len() as u64;
        if at.skip >= len {
            at = Position {
                addr: end,
                skip: at.skip - len,
            };
            continue;
        }
        let from = at.skip as usize;
        let copied = out.put(&record.as_bytes()[from..])?;
        if from + copied < record.len() {
            return Ok(Position {
                addr: start,
                skip: (from + copied) as u64,
            });
        }
        at = Position { addr: end, skip: 0 };
    }
    Ok(at)
}

/// smaps_rollup's numbers for `pid`: one walk over the VMAs and their
/// pages, keeping only the sums.
pub fn rollup_totals(source: &mut impl AddressSpaceSource, pid: Pid) -> Result<Totals, Error> {
    let mut totals = Totals::default();
    let mut walk = VmaWalk::new(pid, VirtAddr(0), MAX_VMAS_PER_BATCH);
    let mut pages = PageAhead::new(pid, ALL_PAGES);
    while let Some(vma) = walk.next(source)? {
        let first = totals.span.map_or(vma.start.0, |(s, _)| s);
        totals.span = Some((first, vma.end.0));
        stats_of(source, &mut pages, vma, &mut totals.stats)?;
    }
    Ok(totals)
}

/// Writes smaps_rollup's text for `totals` from byte `offset` into `out`.
pub fn read_rollup(totals: &Totals, offset: u64, out: &mut Output<'_>) -> Result<(), Error> {
    let mut text = Record::with_capacity(RECORD_CAPACITY);
    crate::format::rollup::write(&mut text, totals);
    if let Some(rest) = usize::try_from(offset).ok().and_then(|o| text.as_bytes().get(o..)) {
        out.put(rest)?;
    }
    Ok(())
}

/// Streams pagemap of `pid` from file offset `offset` into `out` (all of
/// the room, or to the end of the user range).
pub fn read_pagemap(
    source: &mut impl AddressSpaceSource,
    pid: Pid,
    offset: u64,
    out: &mut Output<'_>,
    show_frames: bool,
) -> Result<(), Error> {
    let top = source.layout(pid).map_err(Error::from)?.top;
    let Some((start_vpn, count)) = pagemap::window(offset, out.room(), top)? else {
        return Ok(());
    };
    let end_vpn = start_vpn + count;
    let mut vpn = start_vpn;
    while vpn < end_vpn {
        let want = usize::try_from(end_vpn - vpn)
            .unwrap_or(usize::MAX)
            .saturating_mul(ENTRY_BYTES);
        let window = out.window(want)?;
        let entries = (window.len() / ENTRY_BYTES) as u64;
        if entries == 0 {
            break;
        }
        fill_pagemap(
            source,
            pid,
            vpn,
            &mut window[..entries as usize * ENTRY_BYTES],
            show_frames,
        )?;
        out.commit(entries as usize * ENTRY_BYTES);
        vpn += entries;
    }
    Ok(())
}

/// Writes the entries of the pages from `start_vpn` into `slots` (whole
/// entries): 0 for holes and never-touched pages; a page the source lists
/// outside every VMA reads 0 too, since only VMAs' pages are asked for.
fn fill_pagemap(
    source: &mut impl AddressSpaceSource,
    pid: Pid,
    start_vpn: u64,
    slots: &mut [u8],
    show_frames: bool,
) -> Result<(), Error> {
    slots.fill(0);
    let end_vpn = start_vpn + (slots.len() / ENTRY_BYTES) as u64;
    let mut walk = VmaWalk::new(pid, VirtAddr(start_vpn * PAGE_SIZE), MAX_VMAS_PER_BATCH);
    let mut pages = PageAhead::new(pid, end_vpn);
    while let Some(vma) = walk.next(source)? {
        let (first, last) = (vma.start.0 / PAGE_SIZE, vma.end.0 / PAGE_SIZE);
        if first >= end_vpn {
            break;
        }
        pages.for_each(source, first.max(start_vpn), last.min(end_vpn), |page| {
            let at = (page.vpn - start_vpn) as usize * ENTRY_BYTES;
            slots[at..at + ENTRY_BYTES].copy_from_slice(&pagemap::entry(page, show_frames).to_le_bytes());
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use libipc::procfs::{MAX_VMAS_PER_BATCH, VmaInfo};

    use super::RECORD_CAPACITY;
    use crate::{MAX_REQUEST_HEAP, io::LEASE_CHUNK};

    #[test]
    fn the_parts_of_a_request_fit_the_stated_bound() {
        let batch = MAX_VMAS_PER_BATCH as usize * size_of::<VmaInfo>();
        assert!(batch + 2 * RECORD_CAPACITY + LEASE_CHUNK <= MAX_REQUEST_HEAP, "{batch}");
    }
}
