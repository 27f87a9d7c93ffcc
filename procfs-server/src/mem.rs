//! `/proc/<pid>/mem`: the process's memory at virtual-address offsets.
//!
//! Linux's rules: an offset at or above 2^63 is EINVAL (a negative
//! `loff_t`); a zero-length transfer moves nothing; an unmapped first byte
//! is EIO; running into a hole or a refusing mapping later ends the
//! transfer with a short count. As a debugger may, a write to a read-only
//! *private* mapping succeeds (the pager copies the page on write); a write
//! to a shared mapping that is not writable is EIO, because it would change
//! the file. `[vvar]` pages are device memory, never transferred.

use libipc::{
    procfs::{Error, Sharing, SpecialMapping, VmaInfo, VmaLabel},
    types::{Pid, Prot, VirtAddr},
};

use crate::source::{AddressSpace, AddressSpaceSource};

/// The first offset that is not a valid (non-negative) file position.
pub const MAX_OFFSET: u64 = 1 << 63;

/// Which way the bytes go.
enum Direction<'a> {
    Read(&'a mut [u8]),
    Write(&'a [u8]),
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

/// Reads `out.len()` bytes at virtual address `offset`.
pub fn read(
    source: &mut impl AddressSpaceSource,
    pid: Pid,
    space: &AddressSpace,
    offset: u64,
    out: &mut [u8],
) -> Result<usize, Error> {
    transfer(source, pid, space, offset, Direction::Read(out))
}

/// Writes `data` at virtual address `offset`.
pub fn write(
    source: &mut impl AddressSpaceSource,
    pid: Pid,
    space: &AddressSpace,
    offset: u64,
    data: &[u8],
) -> Result<usize, Error> {
    transfer(source, pid, space, offset, Direction::Write(data))
}

fn transfer(
    source: &mut impl AddressSpaceSource,
    pid: Pid,
    space: &AddressSpace,
    offset: u64,
    mut direction: Direction<'_>,
) -> Result<usize, Error> {
    if offset >= MAX_OFFSET {
        return Err(Error::InvalidArgument);
    }
    let total = match &direction {
        Direction::Read(out) => out.len(),
        Direction::Write(data) => data.len(),
    };
    let mut done = 0usize;
    while done < total {
        let Some(addr) = offset.checked_add(done as u64) else {
            break;
        };
        let Some(vma) = space.find(VirtAddr(addr)) else { break };
        let refused = is_vvar(vma) || matches!(direction, Direction::Write(_)) && !writable_by_debugger(vma);
        if refused {
            break;
        }
        let in_vma = usize::try_from(vma.end.0 - addr).unwrap_or(usize::MAX);
        let chunk = in_vma.min(total - done);
        let result = match &mut direction {
            Direction::Read(out) => source.read_mem(pid, VirtAddr(addr), &mut out[done..done + chunk]),
            Direction::Write(data) => source.write_mem(pid, VirtAddr(addr), &data[done..done + chunk]),
        };
        match result {
            // A source claiming more than it was given is not believed.
            Ok(n) => {
                done += n.min(chunk);
                if n < chunk {
                    break;
                }
            }
            Err(e) if done == 0 => return Err(e.into()),
            Err(_) => break,
        }
    }
    if done == 0 && total > 0 {
        Err(Error::Io)
    } else {
        Ok(done)
    }
}
