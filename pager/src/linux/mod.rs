//! The Linux personality's memory calls: one entry point,
//! [`memory_call`], that takes a system call as the kernel forwards it
//! (number and six argument registers) and answers it as Linux would, in
//! one hop: the value for rax (`-errno` on failure) and the [`Effects`]
//! the server must carry out (the same effects as the native protocol's,
//! [`crate::request`]).
//!
//! ```text
//! let Outcome { rax, effects } = linux::memory_call(&mut space, &caller, &mut user, nr, args);
//! carry out effects: dropped (unmap + free), reprotected (re-map),
//!   moved (unmap from, map frame at to), populate (space.populate(..) ->
//!   alloc, fill, commit_pages, map), copy_out (write bytes to the caller)
//! reply rax
//! ```
//! Arguments are checked in Linux's order, so a call with several faults
//! fails with the errno Linux picks; `tests/linux_differential.rs` runs the
//! same cases on the host kernel and here. What is not Linux's:
//! - mremap with an old length of 0 (Linux duplicates a shared mapping):
//!   EINVAL, as a frame belongs to one VMA here.
//! - MADV_GUARD_INSTALL/REMOVE: EINVAL (guard markers are not modelled);
//!   MADV_HWPOISON/SOFT_OFFLINE: EINVAL, as without CONFIG_MEMORY_FAILURE.
//! - MAP_32BIT starts its search at 1 GiB exactly (Linux adds up to 32 MiB
//!   under ASLR); MAP_SYNC without MAP_SHARED_VALIDATE is ignored (Linux
//!   keeps a VM_SYNC flag that stops merging); MAP_DROPPABLE pages are
//!   never dropped.
//! - mincore reports file pages as in memory (the ramdisk is memory).
//! - prlimit64 on another process: ESRCH (the server owns the process
//!   table and may serve it with the target's space).
//! - A failed populate (the pool ran dry) is not an error (Linux's mlock
//!   would give EAGAIN).

pub mod abi;
pub mod errno;

use libipc::{
    pager::MapKind,
    types::{Access, PAGE_SIZE, Prot, VirtAddr},
};

use self::abi::{map, mcl, ms, nr, prot};
pub use self::errno::Errno;
use crate::{
    effects::{CopyOut, Effects, Populate},
    rlimit::{Limit, Resource},
    space::{AddressSpace, FileSlice, MmapArgs, RemapFlags, SyncFlags},
    vma::{FileId, Lock},
};

/// The capabilities a call may use (Linux's CAP_*), from the caller's
/// identity: the server decides who has them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Privileges {
    /// CAP_IPC_LOCK: lock memory beyond RLIMIT_MEMLOCK.
    pub ipc_lock: bool,
    /// CAP_SYS_RESOURCE: raise a hard resource limit.
    pub sys_resource: bool,
}

impl Privileges {
    /// Every capability (root).
    pub const ALL: Privileges = Privileges {
        ipc_lock: true,
        sys_resource: true,
    };
}

/// Who makes the call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Caller {
    /// The caller's pid as the process sees it (prlimit64 with this pid, or
    /// 0, names the caller).
    pub pid: u64,
    pub privileges: Privileges,
}

/// What the library asks of the server while serving a call: it never
/// does IPC itself.
pub trait UserAccess {
    /// Copies the caller's memory at `addr` into `buf` (setrlimit's and
    /// prlimit64's new limits). The library has checked that the range is
    /// mapped readable; `false` means the copy faulted (EFAULT).
    fn read(&mut self, space: &AddressSpace, addr: VirtAddr, buf: &mut [u8]) -> bool;

    /// The file `fd` names, for mmap of a file: the personality server
    /// owns the file table and tells the pager. EBADF by default.
    fn file(&mut self, fd: u64) -> Result<OpenFile, Errno> {
        let _ = fd;
        Err(Errno::BadF)
    }
}

/// A descriptor's file as mmap sees it. Every file is open read-only
/// (the ramdisk is).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenFile {
    pub id: FileId,
    pub size: u64,
}

/// The answer to a call.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// What rax gets: the result, or `-errno`.
    pub rax: i64,
    /// What the server must do before replying (even when `rax` is an
    /// error: Linux keeps what it did before failing).
    pub effects: Effects,
}

impl Outcome {
    fn ok(value: u64, effects: Effects) -> Outcome {
        Outcome {
            rax: value as i64,
            effects,
        }
    }

    fn err(e: Errno) -> Outcome {
        Outcome {
            rax: e.rax(),
            effects: Effects::default(),
        }
    }

    fn of(result: Result<u64, Errno>, effects: Effects) -> Outcome {
        match result {
            Ok(v) => Outcome::ok(v, effects),
            Err(e) => Outcome { rax: e.rax(), effects },
        }
    }

    /// The errno, if the call failed.
    pub fn errno(&self) -> Option<Errno> {
        Errno::from_rax(self.rax)
    }
}

/// Whether `number` is a memory call the pager answers.
pub fn is_memory_call(number: u64) -> bool {
    MEMORY_CALLS.contains(&number)
}

/// Every call [`memory_call`] serves: the pager answers them (the routes
/// of a Linux process send them to it).
pub const MEMORY_CALLS: [u64; 16] = [
    nr::MMAP,
    nr::MPROTECT,
    nr::MUNMAP,
    nr::BRK,
    nr::MREMAP,
    nr::MSYNC,
    nr::MINCORE,
    nr::MADVISE,
    nr::GETRLIMIT,
    nr::MLOCK,
    nr::MUNLOCK,
    nr::MLOCKALL,
    nr::MUNLOCKALL,
    nr::SETRLIMIT,
    nr::PRLIMIT64,
    nr::MLOCK2,
];

/// Serves system call `number` with argument registers `args` (rdi, rsi,
/// rdx, r10, r8, r9) for `caller`, whose address space is `space`.
/// Anything but a memory call is ENOSYS.
pub fn memory_call(
    space: &mut AddressSpace,
    caller: &Caller,
    user: &mut dyn UserAccess,
    number: u64,
    args: [u64; 6],
) -> Outcome {
    let [a, b, c, d, e, f] = args;
    let privileges = caller.privileges;
    match number {
        nr::MMAP => mmap(space, privileges, user, [a, b, c, d, e, f]),
        nr::MUNMAP => match space.munmap(a, b) {
            Ok(dropped) => Outcome::ok(
                0,
                Effects {
                    dropped,
                    ..Effects::default()
                },
            ),
            Err(e) => Outcome::err(e.into()),
        },
        nr::MPROTECT => mprotect(space, a, b, c),
        nr::BRK => brk(space, a),
        nr::MREMAP => mremap(space, privileges, a, b, c, d, e),
        nr::MADVISE => madvise(space, a, b, c),
        nr::MINCORE => mincore(space, a, b, c),
        nr::MSYNC => Outcome::of(msync(space, a, b, c).map(|()| 0), Effects::default()),
        nr::MLOCK => lock(space, privileges, a, b, Lock::Locked),
        nr::MLOCK2 => match c & !mcl::MLOCK_ONFAULT {
            0 => lock(
                space,
                privileges,
                a,
                b,
                if c != 0 { Lock::OnFault } else { Lock::Locked },
            ),
            _ => Outcome::err(Errno::Inval),
        },
        nr::MUNLOCK => lock(space, privileges, a, b, Lock::None),
        nr::MLOCKALL => mlockall(space, privileges, a),
        nr::MUNLOCKALL => {
            space.munlockall();
            Outcome::ok(0, Effects::default())
        }
        nr::GETRLIMIT => getrlimit(space, a, b),
        nr::SETRLIMIT => setrlimit(space, privileges, user, a, b),
        nr::PRLIMIT64 => prlimit64(space, caller, user, a, b, c, d),
        _ => Outcome::err(Errno::NoSys),
    }
}

/// mmap: the offset must be page-aligned, protection bits other than
/// read, write and execute are ignored, a file comes from the server.
fn mmap(space: &mut AddressSpace, privileges: Privileges, user: &mut dyn UserAccess, args: [u64; 6]) -> Outcome {
    let [addr, len, prot_bits, flags, fd, offset] = args;
    if !offset.is_multiple_of(PAGE_SIZE) {
        return Outcome::err(Errno::Inval);
    }
    let anonymous = flags & map::ANONYMOUS != 0;
    let file = if anonymous {
        None
    } else {
        match user.file(fd) {
            // A shared writable mapping needs a file open for writing.
            Ok(_) if flags & map::TYPE != map::PRIVATE && prot_bits & prot::WRITE != 0 => {
                return Outcome::err(Errno::Acces);
            }
            Ok(open) => Some(FileSlice {
                id: open.id,
                offset,
                size: open.size,
            }),
            Err(e) => return Outcome::err(e),
        }
    };
    if !anonymous && flags & map::TYPE == map::SHARED_VALIDATE && flags >> 32 != 0 {
        return Outcome::err(Errno::OpNotSupp);
    }
    let args = MmapArgs {
        addr,
        len,
        prot: Prot((prot_bits & (prot::READ | prot::WRITE | prot::EXEC)) as u8),
        // Bits above 31 mean nothing to Linux's mmap but the validation
        // above.
        flags: MapKind(flags as u32),
        file,
    };
    match space.map(args, privileges) {
        Ok((at, effects)) => Outcome::ok(at.0, effects),
        Err(e) => Outcome::err(e),
    }
}

/// mprotect, with PROT_GROWSDOWN (from the start of the grows-down VMA)
/// and PROT_SEM (ignored) as Linux; x86-64 has no grows-up VMAs.
fn mprotect(space: &mut AddressSpace, addr: u64, len: u64, bits: u64) -> Outcome {
    let grows = bits & (prot::GROWSDOWN | prot::GROWSUP);
    let bits = bits & !grows;
    if grows == prot::GROWSDOWN | prot::GROWSUP || !addr.is_multiple_of(PAGE_SIZE) {
        return Outcome::err(Errno::Inval);
    }
    if len == 0 {
        return Outcome::ok(0, Effects::default());
    }
    let end = addr.checked_add(len.wrapping_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1));
    if end.is_none_or(|e| e <= addr) {
        return Outcome::err(Errno::NoMem);
    }
    if bits & !(prot::READ | prot::WRITE | prot::EXEC | prot::SEM) != 0 {
        return Outcome::err(Errno::Inval);
    }
    if grows == prot::GROWSUP {
        let found = end.is_some_and(|e| space.vmas().overlaps(addr, e));
        return Outcome::err(if found { Errno::Inval } else { Errno::NoMem });
    }
    let prot = Prot((bits & (prot::READ | prot::WRITE | prot::EXEC)) as u8);
    match space.protect(addr, len, prot, grows == prot::GROWSDOWN) {
        Ok(reprotected) => Outcome::ok(
            0,
            Effects {
                reprotected,
                ..Effects::default()
            },
        ),
        Err(e) => Outcome::err(e.into()),
    }
}

/// brk: the new break, or the old one on failure (never an errno); after
/// mlockall(MCL_FUTURE) the new heap pages are populated.
fn brk(space: &mut AddressSpace, addr: u64) -> Outcome {
    let old_end = crate::space::page_up(space.layout.brk);
    let (now, dropped) = space.brk(addr);
    let mut effects = Effects {
        dropped,
        ..Effects::default()
    };
    if space.lock_future == Lock::Locked
        && let (Some(old_end), Some(new_end)) = (old_end, crate::space::page_up(now))
        && new_end > old_end
    {
        effects.populate.push(Populate {
            start: VirtAddr(old_end),
            end: VirtAddr(new_end),
            write: true,
        });
    }
    Outcome::ok(now, effects)
}

fn mremap(
    space: &mut AddressSpace,
    privileges: Privileges,
    addr: u64,
    old_len: u64,
    new_len: u64,
    raw_flags: u64,
    new_addr: u64,
) -> Outcome {
    use self::abi::mremap::{DONTUNMAP, FIXED, MAYMOVE};
    let flags = RemapFlags {
        may_move: raw_flags & MAYMOVE != 0,
        fixed: raw_flags & FIXED != 0,
        dont_unmap: raw_flags & DONTUNMAP != 0,
    };
    if raw_flags & !(MAYMOVE | FIXED | DONTUNMAP) != 0 {
        return Outcome::err(Errno::Inval);
    }
    if (flags.fixed || flags.dont_unmap) && !flags.may_move {
        return Outcome::err(Errno::Inval);
    }
    let (effects, result) = space.mremap(addr, old_len, new_len, flags, new_addr, privileges);
    Outcome::of(result, effects)
}

fn madvise(space: &mut AddressSpace, start: u64, len: u64, advice: u64) -> Outcome {
    let Some(advice) = crate::space::Advice::from_linux(advice) else {
        return Outcome::err(Errno::Inval);
    };
    if !start.is_multiple_of(PAGE_SIZE) {
        return Outcome::err(Errno::Inval);
    }
    let aligned = len.wrapping_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1);
    if len != 0 && aligned == 0 {
        return Outcome::err(Errno::Inval);
    }
    let Some(end) = start.checked_add(aligned) else {
        return Outcome::err(Errno::Inval);
    };
    if end == start {
        return Outcome::ok(0, Effects::default());
    }
    let (effects, result) = space.madvise(start, end, advice);
    Outcome::of(result.map(|()| 0), effects)
}

/// Linux's access_ok: the range lies below the top of `space`'s user
/// range (2^47, or 2^56 with 5-level paging).
fn access_ok(space: &AddressSpace, addr: u64, len: u64) -> bool {
    addr.checked_add(len).is_some_and(|end| end <= space.top())
}

fn mincore(space: &AddressSpace, start: u64, len: u64, vec: u64) -> Outcome {
    if !start.is_multiple_of(PAGE_SIZE) {
        return Outcome::err(Errno::Inval);
    }
    if !access_ok(space, start, len) {
        return Outcome::err(Errno::NoMem);
    }
    let pages = len.div_ceil(PAGE_SIZE);
    if !access_ok(space, vec, pages) {
        return Outcome::err(Errno::Fault);
    }
    let (bytes, result) = match space.mincore(start, len) {
        Ok(bytes) => (bytes, Ok(0)),
        Err((bytes, e)) => (bytes, Err(e)),
    };
    let mut effects = Effects::default();
    if !bytes.is_empty() {
        if !space.user_range_ok(vec, bytes.len() as u64, Access::Write) {
            return Outcome::err(Errno::Fault);
        }
        effects.copy_out.push(CopyOut {
            addr: VirtAddr(vec),
            bytes,
        });
    }
    Outcome::of(result, effects)
}

fn msync(space: &AddressSpace, start: u64, len: u64, flags: u64) -> Result<(), Errno> {
    if flags & !(ms::ASYNC | ms::INVALIDATE | ms::SYNC) != 0
        || !start.is_multiple_of(PAGE_SIZE)
        || (flags & ms::ASYNC != 0 && flags & ms::SYNC != 0)
    {
        return Err(Errno::Inval);
    }
    let len = len.wrapping_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1);
    space.msync(
        start,
        len,
        SyncFlags {
            invalidate: flags & ms::INVALIDATE != 0,
        },
    )
}

fn lock(space: &mut AddressSpace, privileges: Privileges, addr: u64, len: u64, lock: Lock) -> Outcome {
    match space.mlock(addr, len, lock, privileges) {
        Ok(effects) => Outcome::ok(0, effects),
        Err(e) => Outcome::err(e),
    }
}

fn mlockall(space: &mut AddressSpace, privileges: Privileges, flags: u64) -> Outcome {
    if flags == 0 || flags & !(mcl::CURRENT | mcl::FUTURE | mcl::ONFAULT) != 0 || flags == mcl::ONFAULT {
        return Outcome::err(Errno::Inval);
    }
    let result = space.mlockall(
        flags & mcl::CURRENT != 0,
        flags & mcl::FUTURE != 0,
        flags & mcl::ONFAULT != 0,
        privileges,
    );
    match result {
        Ok(effects) => Outcome::ok(0, effects),
        Err(e) => Outcome::err(e),
    }
}

/// A `struct rlimit` (and `rlimit64`): two little-endian words.
const RLIMIT_BYTES: u64 = 16;

fn encode(limit: Limit) -> alloc::vec::Vec<u8> {
    let mut out = alloc::vec::Vec::with_capacity(RLIMIT_BYTES as usize);
    out.extend_from_slice(&limit.soft.to_le_bytes());
    out.extend_from_slice(&limit.hard.to_le_bytes());
    out
}

/// Reads a `struct rlimit` from the caller.
fn read_limit(space: &AddressSpace, user: &mut dyn UserAccess, addr: u64) -> Result<Limit, Errno> {
    if !access_ok(space, addr, RLIMIT_BYTES) || !space.user_range_ok(addr, RLIMIT_BYTES, Access::Read) {
        return Err(Errno::Fault);
    }
    let mut buf = [0u8; RLIMIT_BYTES as usize];
    if !user.read(space, VirtAddr(addr), &mut buf) {
        return Err(Errno::Fault);
    }
    let word = |i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&buf[i * 8..i * 8 + 8]);
        u64::from_le_bytes(w)
    };
    Ok(Limit {
        soft: word(0),
        hard: word(1),
    })
}

/// The limit as a copy-out to `addr`, or EFAULT.
fn write_limit(space: &AddressSpace, addr: u64, limit: Limit) -> Result<CopyOut, Errno> {
    if !access_ok(space, addr, RLIMIT_BYTES) || !space.user_range_ok(addr, RLIMIT_BYTES, Access::Write) {
        return Err(Errno::Fault);
    }
    Ok(CopyOut {
        addr: VirtAddr(addr),
        bytes: encode(limit),
    })
}

/// The resource argument is an `unsigned int`.
fn resource(arg: u64) -> Result<Resource, Errno> {
    Resource::from_linux(u64::from(arg as u32)).ok_or(Errno::Inval)
}

fn getrlimit(space: &AddressSpace, res: u64, ptr: u64) -> Outcome {
    let result = resource(res).and_then(|r| write_limit(space, ptr, space.getrlimit(r)));
    match result {
        Ok(copy) => Outcome::ok(
            0,
            Effects {
                copy_out: alloc::vec![copy],
                ..Effects::default()
            },
        ),
        Err(e) => Outcome::err(e),
    }
}

fn setrlimit(
    space: &mut AddressSpace,
    privileges: Privileges,
    user: &mut dyn UserAccess,
    res: u64,
    ptr: u64,
) -> Outcome {
    let result = read_limit(space, user, ptr).and_then(|new| {
        let r = resource(res)?;
        space.setrlimit(r, new, privileges.sys_resource).map_err(Errno::from)
    });
    Outcome::of(result.map(|()| 0), Effects::default())
}

/// prlimit64 on the caller (pid 0 or its own pid). Another process's
/// limits are the server's to reach: ESRCH here.
fn prlimit64(
    space: &mut AddressSpace,
    caller: &Caller,
    user: &mut dyn UserAccess,
    pid: u64,
    res: u64,
    new: u64,
    old: u64,
) -> Outcome {
    let new = if new != 0 {
        match read_limit(space, user, new) {
            Ok(l) => Some(l),
            Err(e) => return Outcome::err(e),
        }
    } else {
        None
    };
    let pid = u64::from(pid as u32);
    if pid != 0 && pid != caller.pid {
        return Outcome::err(Errno::Srch);
    }
    let r = match resource(res) {
        Ok(r) => r,
        Err(e) => return Outcome::err(e),
    };
    let before = space.getrlimit(r);
    if let Some(new) = new
        && let Err(e) = space.setrlimit(r, new, caller.privileges.sys_resource)
    {
        return Outcome::err(e.into());
    }
    if old == 0 {
        return Outcome::ok(0, Effects::default());
    }
    match write_limit(space, old, before) {
        Ok(copy) => Outcome::ok(
            0,
            Effects {
                copy_out: alloc::vec![copy],
                ..Effects::default()
            },
        ),
        Err(e) => Outcome::err(e),
    }
}

#[cfg(test)]
mod tests;
