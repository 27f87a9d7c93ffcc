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
//!    contents.

use alloc::string::String;

use libipc::{
    codec::{self, EncodeError},
    procfs::{Error, MAX_INLINE_DATA, MAX_LEASED, PidSelector, ProcFile, Reply, Request, Response},
    types::{PAGE_SIZE, Pid, Sender},
};

use crate::{
    check::access_check,
    files::{Operation, required_access, shows_frames},
    format::{VsyscallMode, maps, pagemap, rollup, smaps},
    mem,
    processes::ProcessTable,
    source::{AddressSpaceSource, pages_in},
};

/// A buffer for a leased transfer of `len` bytes (at most [`MAX_LEASED`]).
fn leased_buffer(len: u64) -> Result<alloc::vec::Vec<u8>, Error> {
    if len > MAX_LEASED {
        return Err(Error::TooLarge);
    }
    Ok(alloc::vec![0u8; len as usize])
}

/// Memory a caller lent for one call.
pub trait Lease {
    /// Writes `data` at the start of the lease; an error if it does not fit.
    fn write(&mut self, data: &[u8]) -> Result<(), Error>;
    /// Fills `buf` from the start of the lease.
    fn read(&mut self, buf: &mut [u8]) -> Result<(), Error>;
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

/// The procfs server core: the process table, the pager behind `S`, policy.
pub struct Server<S> {
    processes: ProcessTable,
    source: S,
    config: Config,
}

impl<S: AddressSpaceSource> Server<S> {
    pub fn new(source: S, config: Config) -> Server<S> {
        Server {
            processes: ProcessTable::new(),
            source,
            config,
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

    /// Reads `file` of `target` at `offset` into `out` (any size: inline
    /// data now, a lent buffer later) and returns the bytes read; 0 is end
    /// of file.
    pub fn read(
        &mut self,
        sender: Sender,
        target: PidSelector,
        file: ProcFile,
        offset: u64,
        out: &mut [u8],
    ) -> Result<usize, Error> {
        let auth = self.authorize(sender, target, file, Operation::Read)?;
        let pid = auth.pid;
        match file {
            ProcFile::Mem => {
                if offset >= mem::MAX_OFFSET {
                    return Err(Error::InvalidArgument);
                }
                if out.is_empty() {
                    return Ok(0);
                }
                let space = self.source.address_space(pid)?;
                mem::read(&mut self.source, pid, &space, offset, out)
            }
            ProcFile::Pagemap => {
                let Some((start_vpn, count)) = pagemap::window(offset, out.len())? else {
                    return Ok(0);
                };
                let space = self.source.address_space(pid)?;
                let end_vpn = start_vpn + count;
                // Ask for pages only where VMAs are: a sparse read of a huge
                // hole costs the pager nothing.
                let (lo, hi) = space.span().map_or((0, 0), |(s, e)| (s.0 / PAGE_SIZE, e.0 / PAGE_SIZE));
                let pages = pages_in(&mut self.source, pid, start_vpn.max(lo), end_vpn.min(hi))?;
                Ok(pagemap::fill(&space, &pages, start_vpn, count, out, auth.shows_frames))
            }
            ProcFile::Maps | ProcFile::Smaps | ProcFile::SmapsRollup => {
                let text = self.render_text(pid, file)?;
                Ok(copy_from_text(&text, offset, out))
            }
        }
    }

    /// The whole text of a text file.
    fn render_text(&mut self, pid: Pid, file: ProcFile) -> Result<String, Error> {
        let space = self.source.address_space(pid)?;
        if file == ProcFile::Maps {
            return Ok(maps::render(&space, self.config.vsyscall));
        }
        let pages = match space.span() {
            Some((start, end)) => pages_in(&mut self.source, pid, start.0 / PAGE_SIZE, end.0 / PAGE_SIZE)?,
            None => alloc::vec::Vec::new(),
        };
        Ok(if file == ProcFile::Smaps {
            smaps::render(&space, &pages, self.config.vsyscall)
        } else {
            rollup::render(&space, &pages)
        })
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
        let auth = self.authorize(sender, target, file, Operation::Write)?;
        // `authorize` refuses writes to every other file.
        if offset >= mem::MAX_OFFSET {
            return Err(Error::InvalidArgument);
        }
        if data.is_empty() {
            return Ok(0);
        }
        let space = self.source.address_space(auth.pid)?;
        mem::write(&mut self.source, auth.pid, &space, offset, data)
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
    /// tests). Other requests go to [`Server::handle`].
    pub fn handle_leased(&mut self, sender: Sender, request: &Request, lease: &mut dyn Lease) -> Response {
        match *request {
            Request::ReadLeased { pid, file, offset, len } => {
                let mut buf = leased_buffer(len)?;
                let n = self.read(sender, pid, file, offset, &mut buf)?;
                lease.write(&buf[..n])?;
                Ok(Reply::Leased(n as u64))
            }
            Request::WriteLeased { pid, file, offset, len } => {
                let mut buf = leased_buffer(len)?;
                lease.read(&mut buf)?;
                let n = self.write(sender, pid, file, offset, &buf)?;
                Ok(Reply::Leased(n as u64))
            }
            ref other => self.handle(sender, other),
        }
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

/// Copies `text[offset..]` into `out`; past the end is end of file.
fn copy_from_text(text: &str, offset: u64, out: &mut [u8]) -> usize {
    let bytes = text.as_bytes();
    let Some(rest) = usize::try_from(offset).ok().and_then(|o| bytes.get(o..)) else {
        return 0;
    };
    let n = rest.len().min(out.len());
    out[..n].copy_from_slice(&rest[..n]);
    n
}
