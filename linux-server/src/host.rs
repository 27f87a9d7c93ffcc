//! What the personality needs from the system, as a trait: the server
//! implements it with system calls (the caller's memory through its
//! reply right, the pager and procfs over IPC, the vDSO's clocks); the
//! tests implement it with plain memory.

use core::fmt;

use libipc::{
    linux::{FileInfo, FileRef, ProcessInfo},
    procfs::ProcFile,
    types::Pid,
};

use crate::{errno::Errno, layout::Timespec};

/// The clocks a program may read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    Realtime,
    Monotonic,
    MonotonicRaw,
    Boottime,
    RealtimeCoarse,
    MonotonicCoarse,
}

pub trait Host {
    /// Copies the caller's memory at `addr` (Linux's `copy_from_user`).
    fn read_user(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), Errno>;
    /// Writes the caller's memory at `addr` (Linux's `copy_to_user`).
    fn write_user(&mut self, addr: u64, data: &[u8]) -> Result<(), Errno>;
    /// Who `pid` is (the pager knows): `NoEnt` once it has ended.
    fn process(&mut self, pid: Pid) -> Result<ProcessInfo, Errno>;
    /// Opens the ramdisk file `path` (no leading `/`).
    fn open_file(&mut self, path: &str) -> Result<FileInfo, Errno>;
    /// Copies bytes of an opened file from `offset` into `buf`; how many
    /// (0 at or past its end).
    fn read_file(&mut self, file: &FileInfo, offset: u64, buf: &mut [u8]) -> usize;
    /// Tells the pager which file descriptor `fd` of `pid` names, for
    /// mmap of it.
    fn bind_fd(&mut self, pid: Pid, fd: u32, file: Option<FileRef>);
    /// Reads a procfs file of `pid` with the caller's rights.
    fn proc_read(&mut self, pid: Pid, file: ProcFile, offset: u64, buf: &mut [u8]) -> Result<usize, Errno>;
    /// Writes a procfs file (`mem`) with the caller's rights.
    fn proc_write(&mut self, pid: Pid, file: ProcFile, offset: u64, data: &[u8]) -> Result<usize, Errno>;
    /// Writes program output to the console.
    fn console_write(&mut self, bytes: &[u8]);
    /// The time on `clock`.
    fn clock(&mut self, clock: Clock) -> Timespec;
    /// Random bytes from a cryptographic generator.
    fn random(&mut self, buf: &mut [u8]);
    /// One line in the system log (not the program's output).
    fn warn(&mut self, message: fmt::Arguments<'_>);
}
