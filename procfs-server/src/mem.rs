//! `/proc/<pid>/mem`: the process's memory at virtual-address offsets.
//!
//! Linux's rules: an offset at or above 2^63 is EINVAL (a negative
//! `loff_t`); a zero-length transfer moves nothing; an unmapped first byte
//! is EIO; running into a hole or a refusing mapping later ends the
//! transfer with a short count. As a debugger may, a write to a read-only
//! *private* mapping succeeds (the pager copies the page on write); a write
//! to a shared mapping that is not writable is EIO, because it would change
//! the file. `[vvar]` pages are device memory, never transferred.
//!
//! The bytes move VMA by VMA, each VMA's part in pieces no larger than the
//! output's window or the input's chunk, so a transfer of any length holds
//! a bounded amount of memory.

use libipc::{
    procfs::{Error, Sharing, SpecialMapping, VmaInfo, VmaLabel},
    types::{Pid, Prot, VirtAddr},
};

use crate::{
    io::{Input, Output},
    source::{AddressSpaceSource, VmaWalk},
};

/// The first offset that is not a valid (non-negative) file position.
pub const MAX_OFFSET: u64 = 1 << 63;

/// VMAs asked for per batch: a transfer usually stays in one or two.
const VMAS_PER_BATCH: u32 = 4;

/// Which way the bytes go.
enum Direction<'o, 'a> {
    Read(&'o mut Output<'a>),
    Write(&'o mut Input<'a>),
}

impl Direction<'_, '_> {
    /// Bytes still to move.
    fn remaining(&self) -> usize {
        match self {
            Direction::Read(out) => out.room(),
            Direction::Write(input) => input.remaining(),
        }
    }
}

fn is_vvar(vma: &VmaInfo) -> bool {
    matches!(
        vma.label,
        VmaLabel::Special(SpecialMapping::Vvar | SpecialMapping::VvarVclock)
    )
}

/// Whether a debugger may write `vma` through mem.
fn writable_by_debugger(vma: &VmaInfo) -> bool {
    vma.sharing == Sharing::Private || vma.prot.contains(Prot::WRITE)
}

/// Reads into `out` (all of its room) from virtual address `offset`;
/// returns the bytes read.
pub fn read(source: &mut impl AddressSpaceSource, pid: Pid, offset: u64, out: &mut Output<'_>) -> Result<usize, Error> {
    transfer(source, pid, offset, Direction::Read(out))
}

/// Writes all of `input` at virtual address `offset`; returns the bytes
/// written.
pub fn write(
    source: &mut impl AddressSpaceSource,
    pid: Pid,
    offset: u64,
    input: &mut Input<'_>,
) -> Result<usize, Error> {
    transfer(source, pid, offset, Direction::Write(input))
}

fn transfer(
    source: &mut impl AddressSpaceSource,
    pid: Pid,
    offset: u64,
    mut direction: Direction<'_, '_>,
) -> Result<usize, Error> {
    if offset >= MAX_OFFSET {
        return Err(Error::InvalidArgument);
    }
    let total = direction.remaining();
    if total == 0 {
        return Ok(0);
    }
    let mut done = 0usize;
    let mut walk = VmaWalk::new(pid, VirtAddr(offset), VMAS_PER_BATCH);
    'vmas: while done < total {
        let Some(addr) = offset.checked_add(done as u64) else {
            break;
        };
        let vma = match walk.next(source) {
            Ok(Some(vma)) => vma,
            Ok(None) => break,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        let refused = is_vvar(vma) || matches!(direction, Direction::Write(_)) && !writable_by_debugger(vma);
        if vma.start.0 > addr || refused {
            break;
        }
        let end = vma.end.0;
        while done < total {
            let addr = offset + done as u64;
            if addr >= end {
                continue 'vmas;
            }
            let piece = usize::try_from(end - addr).unwrap_or(usize::MAX).min(total - done);
            let (result, asked) = match &mut direction {
                Direction::Read(out) => {
                    let window = out.window(piece)?;
                    let asked = window.len();
                    let result = source.read_mem(pid, VirtAddr(addr), window);
                    // A source claiming more than it was given is not believed.
                    if let Ok(n) = result {
                        out.commit(n.min(asked));
                    }
                    (result, asked)
                }
                Direction::Write(input) => {
                    let window = match input.window(piece) {
                        Ok(window) => window,
                        // The caller's lease ended early: a short write.
                        Err(e) if done == 0 => return Err(e),
                        Err(_) => break 'vmas,
                    };
                    let asked = window.len();
                    let result = source.write_mem(pid, VirtAddr(addr), window);
                    if let Ok(n) = result {
                        input.consume(n.min(asked));
                    }
                    (result, asked)
                }
            };
            if asked == 0 {
                break 'vmas;
            }
            match result {
                Ok(n) => {
                    done += n.min(asked);
                    if n < asked {
                        break 'vmas;
                    }
                }
                Err(e) if done == 0 => return Err(e.into()),
                Err(_) => break 'vmas,
            }
        }
    }
    if done == 0 { Err(Error::Io) } else { Ok(done) }
}
