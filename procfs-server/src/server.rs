//! Request dispatch: who is asking, may they, then the file.
//!
//! Every request goes through the same steps, in this order:
//!
//! 1. The operation must exist: writing anything but `mem` is
//!    [`Error::NotWritable`], decided from the request alone.
//! 2. The caller's identity is its *effective* token, found from the
//!    kernel-stamped [`Sender`]; an unknown sender is refused.
//! 3. The target is resolved (`/proc/self` is the sender's process) or
//!    [`Error::NoSuchProcess`].
//! 4. AccessCheck against the target's descriptor for the file's right
//!    ([`crate::files`]), or [`Error::AccessDenied`]. Only now is the pager
//!    asked anything, so a refused caller learns nothing about the target's
//!    memory, not even whether an address is mapped.
//! 5. The file's own argument rules (pagemap alignment, mem offsets) and its
//!    contents, streamed ([`crate::stream`]); a text read that continues
//!    the same reader's previous one resumes from its cursor
//!    ([`crate::cursor`]), which is consulted only here, after the check.

use alloc::{boxed::Box, vec};

use libipc::{
    codec::{self, EncodeError},
    procfs::{Error, LeasedRead, MAX_INLINE_DATA, MAX_LEASED, PidSelector, ProcFile, Reply, Request, Response},
    types::{Pid, Sender},
};

pub use crate::io::Lease;
use crate::{
    check::access_check,
    cursor::{CursorKey, Cursors, Resume},
    files::{Operation, required_access, shows_frames},
    format::VsyscallMode,
    io::{Input, LEASE_CHUNK, Output},
    mem,
    processes::ProcessTable,
    source::AddressSpaceSource,
    stream::{self, Position},
};

/// The length of a leased transfer, or [`Error::TooLarge`] past
/// [`MAX_LEASED`].
fn leased_len(len: u64) -> Result<usize, Error> {
    usize::try_from(len)
        .ok()
        .filter(|&l| l as u64 <= MAX_LEASED)
        .ok_or(Error::TooLarge)
}

/// Server-wide policy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// How maps and smaps list the vsyscall page.
    pub vsyscall: VsyscallMode,
}

/// A request that passed the access check.
#[derive(Clone, Copy, Debug)]
struct Authorized {
    pid: Pid,
    /// The caller may see pagemap frame numbers.
    shows_frames: bool,
}

/// The procfs server core: the process table, the pager behind `S`,
/// policy, and the readers' cursors.
pub struct Server<S> {
    processes: ProcessTable,
    source: S,
    config: Config,
    cursors: Cursors,
    /// Reused from request to request (see [`stream::Buffers`]): the
    /// maps and smaps buffers, and where leased output is staged.
    buffers: stream::Buffers,
    staging: Box<[u8]>,
}

impl<S: AddressSpaceSource> Server<S> {
    pub fn new(source: S, config: Config) -> Server<S> {
        Server {
            processes: ProcessTable::new(),
            source,
            config,
            cursors: Cursors::new(),
            buffers: stream::Buffers::default(),
            staging: vec![0u8; LEASE_CHUNK].into_boxed_slice(),
        }
    }

    /// The process table, for the system's notifications (creation, exit,
    /// impersonation). Not reachable from program requests.
    pub fn processes_mut(&mut self) -> &mut ProcessTable {
        &mut self.processes
    }

    pub fn processes(&self) -> &ProcessTable {
        &self.processes
    }

    pub fn source_mut(&mut self) -> &mut S {
        &mut self.source
    }

    /// Steps 1 to 4 of the module doc.
    fn authorize(
        &self,
        sender: Sender,
        target: PidSelector,
        file: ProcFile,
        op: Operation,
    ) -> Result<Authorized, Error> {
        let needs = required_access(file, op)?;
        let token = self.processes.effective_token(sender)?;
        let (pid, process) = self.processes.resolve(sender, target)?;
        access_check(token, &process.descriptor, needs)?;
        Ok(Authorized {
            pid,
            shows_frames: shows_frames(token),
        })
    }

    /// Reads `file` of `target` at `offset` into `out` (any size) and
    /// returns the bytes read; 0 is end of file.
    pub fn read(
        &mut self,
        sender: Sender,
        target: PidSelector,
        file: ProcFile,
        offset: u64,
        out: &mut [u8],
    ) -> Result<usize, Error> {
        self.read_to(sender, target, file, offset, Output::buffer(out))
    }

    /// Reads into `out`, whatever it is backed by: the one read path.
    fn read_to(
        &mut self,
        sender: Sender,
        target: PidSelector,
        file: ProcFile,
        offset: u64,
        mut out: Output<'_>,
    ) -> Result<usize, Error> {
        let auth = self.authorize(sender, target, file, Operation::Read)?;
        let pid = auth.pid;
        let key = CursorKey {
            reader: sender,
            target: pid,
            file,
        };
        let resume = match file {
            ProcFile::Mem => {
                if offset >= mem::MAX_OFFSET {
                    return Err(Error::InvalidArgument);
                }
                if out.room() > 0 {
                    mem::read(&mut self.source, pid, offset, &mut out)?;
                }
                None
            }
            ProcFile::Pagemap => {
                stream::read_pagemap(&mut self.source, pid, offset, &mut out, auth.shows_frames)?;
                None
            }
            ProcFile::Maps | ProcFile::Smaps => {
                let at = match self.cursors.find(key, offset) {
                    Some(Resume::Records(at)) => at,
                    _ => Position::from_offset(offset),
                };
                let next = stream::read_records(
                    &mut self.source,
                    pid,
                    file,
                    self.config.vsyscall,
                    at,
                    &mut out,
                    &mut self.buffers,
                );
                Some(Resume::Records(self.unless_failed(key, next)?))
            }
            ProcFile::SmapsRollup => {
                let totals = match self.cursors.find(key, offset) {
                    Some(Resume::Rollup(totals)) => totals,
                    _ => {
                        let totals = stream::rollup_totals(&mut self.source, pid);
                        self.unless_failed(key, totals)?
                    }
                };
                stream::read_rollup(&totals, offset, &mut out)?;
                Some(Resume::Rollup(totals))
            }
        };
        let n = out.finish();
        let n = self.unless_failed(key, n)?;
        if let Some(resume) = resume {
            self.cursors.remember(key, offset.saturating_add(n as u64), resume);
        }
        Ok(n)
    }

    /// `result`, dropping `key`'s cursor if it is an error (the reader will
    /// not continue from where the failed read would have ended).
    fn unless_failed<T>(&mut self, key: CursorKey, result: Result<T, Error>) -> Result<T, Error> {
        if result.is_err() {
            self.cursors.forget(key);
        }
        result
    }

    /// Writes `data` to `file` of `target` at `offset`; only `mem` is
    /// writable.
    pub fn write(
        &mut self,
        sender: Sender,
        target: PidSelector,
        file: ProcFile,
        offset: u64,
        data: &[u8],
    ) -> Result<usize, Error> {
        self.write_from(sender, target, file, offset, Input::buffer(data))
    }

    /// Writes from `input`, whatever it is backed by: the one write path.
    fn write_from(
        &mut self,
        sender: Sender,
        target: PidSelector,
        file: ProcFile,
        offset: u64,
        mut input: Input<'_>,
    ) -> Result<usize, Error> {
        let auth = self.authorize(sender, target, file, Operation::Write)?;
        // `authorize` refuses writes to every other file.
        if offset >= mem::MAX_OFFSET {
            return Err(Error::InvalidArgument);
        }
        if input.remaining() == 0 {
            return Ok(0);
        }
        mem::write(&mut self.source, auth.pid, offset, &mut input)
    }

    /// Answers one decoded request from `sender`.
    pub fn handle(&mut self, sender: Sender, request: &Request) -> Response {
        match request {
            Request::Read { pid, file, offset, len } => {
                let len = usize::try_from(*len)
                    .ok()
                    .filter(|&l| l <= MAX_INLINE_DATA)
                    .ok_or(Error::TooLarge)?;
                let mut buf = [0u8; MAX_INLINE_DATA];
                let n = self.read(sender, *pid, *file, *offset, &mut buf[..len])?;
                let data = heapless::Vec::from_slice(&buf[..n]).map_err(|_| Error::TooLarge)?;
                Ok(Reply::Data(data))
            }
            Request::Write {
                pid,
                file,
                offset,
                data,
            } => {
                let n = self.write(sender, *pid, *file, *offset, data)?;
                Ok(Reply::Written(n as u64))
            }
            // Leased transfers need the kernel's lease calls: the server
            // binary answers them (see `handle_leased`).
            Request::ReadLeased { .. } | Request::WriteLeased { .. } => Err(Error::InvalidArgument),
        }
    }

    /// Answers a leased request, moving the data through `lease` (the
    /// caller's lent memory: kernel lease calls on the system, a buffer in
    /// tests) a chunk at a time. Other requests go to [`Server::handle`].
    /// A lease that is too small or not writable fails a read
    /// ([`Error::InvalidArgument`]); a write moves what it could read.
    pub fn handle_leased(&mut self, sender: Sender, request: &Request, lease: &mut dyn Lease) -> Response {
        match *request {
            Request::ReadLeased { pid, file, offset, len } => {
                let read = LeasedRead { pid, file, offset, len };
                Ok(Reply::Leased(self.read_leased(sender, read, lease)?))
            }
            Request::WriteLeased { pid, file, offset, len } => {
                let input = Input::lease(lease, leased_len(len)?);
                let n = self.write_from(sender, pid, file, offset, input)?;
                Ok(Reply::Leased(n as u64))
            }
            ref other => self.handle(sender, other),
        }
    }

    /// Answers a leased read (a `ReadLeased` request, or the same as
    /// [`LeasedRead`]'s fixed fields): the bytes written into `lease`.
    pub fn read_leased(&mut self, sender: Sender, read: LeasedRead, lease: &mut dyn Lease) -> Result<u64, Error> {
        let len = leased_len(read.len)?;
        // Lent to the output for the call, then kept for the next.
        let mut staging = core::mem::take(&mut self.staging);
        let output = Output::lease(lease, len, &mut staging);
        let n = self.read_to(sender, read.pid, read.file, read.offset, output);
        self.staging = staging;
        Ok(n? as u64)
    }

    /// Decodes `message`, answers it and encodes the [`Response`] into
    /// `reply`, returning its length. A message that does not decode gets
    /// [`Error::Malformed`]; the server keeps serving either way.
    pub fn handle_message(&mut self, sender: Sender, message: &[u8], reply: &mut [u8]) -> Result<usize, EncodeError> {
        let response = match codec::decode::<Request>(message) {
            Ok(request) => self.handle(sender, &request),
            Err(_) => Err(Error::Malformed),
        };
        codec::encode(&response, reply)
    }
}
