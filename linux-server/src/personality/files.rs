//! Descriptors and files: open, read, write, seek, stat, dup, fcntl,
//! readlink on the console, the ramdisk and procfs's files.

use alloc::{rc::Rc, vec::Vec};
use core::cell::RefCell;

use libipc::{linux::FileRef, procfs::ProcFile, types::Pid};

use super::Context;
use crate::{
    errno::Errno,
    fds::{Fd, Kind, OpenFile},
    layout::{Stat, makedev, mode},
    nr::{self, f, o},
    path::{self, Target},
};

/// Bytes moved per step of a read or write (a bounce buffer on the
/// server's stack).
const CHUNK: usize = 4096;
/// Bytes of a procfs file one read returns at most (one procfs request).
pub(crate) const PROC_CHUNK: usize = 32 * 1024;

/// The ramdisk's device, as /proc/<pid>/maps shows it (00:01).
const RAMDISK_DEV: u64 = makedev(0, 1);
/// procfs's device.
const PROC_DEV: u64 = makedev(0, 22);

/// read or write of one buffer: (fd, address, length, position).
type Transfer<'a> = fn(&mut Context<'a>, u64, u64, u64, Option<u64>) -> Result<u64, Errno>;

impl<'a> Context<'a> {
    fn fd_file(&self, fd: u64) -> Result<Rc<RefCell<OpenFile>>, Errno> {
        Ok(self.process.fds.get(fd)?.file.clone())
    }

    /// Where a relative path starts: only the current directory (`/`)
    /// exists; a descriptor is never a directory.
    fn check_dirfd(&self, dirfd: u64, path: &[u8]) -> Result<(), Errno> {
        if path.is_empty() {
            return Err(Errno::NoEnt);
        }
        if path.first() == Some(&b'/') || dirfd as i32 == nr::AT_FDCWD {
            return Ok(());
        }
        self.process.fds.get(u64::from(dirfd as u32))?;
        Err(Errno::NotDir)
    }

    fn resolve_at(&mut self, dirfd: u64, path: u64) -> Result<Target, Errno> {
        let path = self.user_path(path)?;
        self.check_dirfd(dirfd, &path)?;
        path::resolve(&path)
    }

    pub(super) fn openat(&mut self, dirfd: u64, path: u64, flags: u64) -> Result<u64, Errno> {
        let target = self.resolve_at(dirfd, path)?;
        let write = flags & o::ACCMODE != o::RDONLY;
        let kind = match target {
            Target::Directory if write => return Err(Errno::IsDir),
            // No directory can be read here (getdents is not served).
            Target::Directory => return Err(Errno::NoEnt),
            _ if flags & o::DIRECTORY != 0 => return Err(Errno::NotDir),
            Target::Ramdisk(name) => self.open_ramdisk(&name, flags)?,
            Target::Exe(who) => {
                let pid = who.resolve(self.sender.pid);
                let exe = self.exe_of(pid)?;
                self.open_ramdisk(exe.trim_start_matches('/'), flags)?
            }
            Target::Proc(who, file) => {
                let pid = who.resolve(self.sender.pid);
                if write && file != ProcFile::Mem {
                    return Err(Errno::Acces);
                }
                // The access check happens at open, as Linux's: an empty
                // read asks procfs whether the caller may.
                self.host.proc_read(pid, file, 0, &mut []).map_err(|e| match e {
                    Errno::Srch => Errno::NoEnt,
                    e => e,
                })?;
                Kind::Proc { pid, file }
            }
        };
        let status = flags & (o::ACCMODE | o::APPEND | o::NONBLOCK);
        let entry = Fd {
            file: Rc::new(RefCell::new(OpenFile::new(kind, status))),
            cloexec: flags & o::CLOEXEC != 0,
        };
        let fd = self.process.fds.insert(entry, 0)?;
        self.bind(fd);
        Ok(u64::from(fd))
    }

    fn open_ramdisk(&mut self, name: &str, flags: u64) -> Result<Kind, Errno> {
        let found = self.host.open_file(name);
        match found {
            Ok(_) if flags & o::CREAT != 0 && flags & o::EXCL != 0 => Err(Errno::Exist),
            // The ramdisk is read-only.
            Ok(_) if flags & o::ACCMODE != o::RDONLY || flags & o::TRUNC != 0 => Err(Errno::RoFs),
            Ok(file) => Ok(Kind::Ramdisk(file)),
            Err(Errno::NoEnt) if flags & o::CREAT != 0 => Err(Errno::RoFs),
            Err(e) => Err(e),
        }
    }

    /// The program file of `pid` (`/proc/<pid>/exe`): the caller's own, or
    /// another process's of the same user.
    fn exe_of(&mut self, pid: Pid) -> Result<alloc::string::String, Errno> {
        if pid == self.sender.pid {
            return Ok(self.process.info.exe.clone());
        }
        let info = self.host.process(pid)?;
        if info.uid != self.process.info.uid {
            return Err(Errno::Acces);
        }
        Ok(info.exe)
    }

    /// Tells the pager what descriptor `fd` now names (mmap of it).
    fn bind(&mut self, fd: u32) {
        let file = match self.process.fds.get(u64::from(fd)).map(|e| e.file.borrow().kind) {
            Ok(Kind::Ramdisk(info)) => Some(info.file),
            _ => None,
        };
        let bound: Option<FileRef> = file;
        if bound.is_some() || self.process.bound.contains(&fd) {
            self.host.bind_fd(self.sender.pid, fd, bound);
            if bound.is_some() {
                self.process.bound.insert(fd);
            } else {
                self.process.bound.remove(&fd);
            }
        }
    }

    pub(super) fn close(&mut self, fd: u64) -> Result<u64, Errno> {
        self.process.fds.close(fd)?;
        self.bind(fd as u32);
        Ok(0)
    }

    /// The open file of a read or write, checked with `allowed` (EBADF),
    /// and where it starts: `at` for pread and pwrite (ESPIPE on the
    /// console, EINVAL when negative), else the file's offset.
    fn transfer_start(
        &self,
        fd: u64,
        at: Option<u64>,
        allowed: fn(&OpenFile) -> bool,
    ) -> Result<(Rc<RefCell<OpenFile>>, OpenFile, u64), Errno> {
        let file = self.fd_file(fd)?;
        let open = *file.borrow();
        if !allowed(&open) {
            return Err(Errno::BadF);
        }
        let offset = match at {
            Some(_) if open.kind == Kind::Console => return Err(Errno::SPipe),
            Some(at) if (at as i64) < 0 => return Err(Errno::Inval),
            Some(at) => at,
            None => open.offset,
        };
        Ok((file, open, offset))
    }

    /// read and pread64.
    pub(super) fn read(&mut self, fd: u64, buf: u64, count: u64, at: Option<u64>) -> Result<u64, Errno> {
        let (file, open, offset) = self.transfer_start(fd, at, OpenFile::readable)?;
        let count = count.min(nr::MAX_RW_COUNT);
        let done = match open.kind {
            // Nothing is ever typed: end of file.
            Kind::Console => 0,
            Kind::Ramdisk(info) => {
                let mut done = 0u64;
                let mut chunk = [0u8; CHUNK];
                while done < count {
                    let want = (count - done).min(CHUNK as u64) as usize;
                    let n = self.host.read_file(&info, offset + done, &mut chunk[..want]);
                    if n == 0 {
                        break;
                    }
                    if let Err(e) = self.host.write_user(buf.wrapping_add(done), &chunk[..n]) {
                        // Linux returns what it copied before the fault.
                        if done == 0 {
                            return Err(e);
                        }
                        break;
                    }
                    done += n as u64;
                }
                done
            }
            Kind::Proc { pid, file } => {
                // The kept buffer grows (zeroed) once to the largest read;
                // only what procfs says it wrote goes to the caller.
                let len = (count as usize).min(PROC_CHUNK);
                if self.proc_staging.len() < len {
                    self.proc_staging.resize(len, 0);
                }
                let chunk = &mut self.proc_staging[..len];
                let n = self.host.proc_read(pid, file, offset, chunk)?.min(len);
                self.host.write_user(buf, &chunk[..n])?;
                n as u64
            }
        };
        if at.is_none() {
            file.borrow_mut().offset = offset + done;
        }
        Ok(done)
    }

    /// write and pwrite64.
    pub(super) fn write(&mut self, fd: u64, buf: u64, count: u64, at: Option<u64>) -> Result<u64, Errno> {
        let (file, open, offset) = self.transfer_start(fd, at, OpenFile::writable)?;
        let count = count.min(nr::MAX_RW_COUNT);
        let mut done = 0u64;
        let mut chunk = [0u8; CHUNK];
        while done < count {
            let n = (count - done).min(CHUNK as u64) as usize;
            if let Err(e) = self.host.read_user(buf.wrapping_add(done), &mut chunk[..n]) {
                if done == 0 {
                    return Err(e);
                }
                break;
            }
            let written = match open.kind {
                Kind::Console => {
                    self.host.console_write(&chunk[..n]);
                    n
                }
                Kind::Proc { pid, file } => match self.host.proc_write(pid, file, offset + done, &chunk[..n]) {
                    Ok(w) => w,
                    Err(e) if done == 0 => return Err(e),
                    Err(_) => break,
                },
                // Opened read-only: refused above.
                Kind::Ramdisk(_) => return Err(Errno::BadF),
            };
            done += written as u64;
            if written < n {
                break;
            }
        }
        if at.is_none() && open.kind != Kind::Console {
            file.borrow_mut().offset = offset + done;
        }
        Ok(done)
    }

    /// The vector of a readv or writev: EINVAL past IOV_MAX or when the
    /// lengths overflow.
    fn iovec(&mut self, iov: u64, count: u64) -> Result<Vec<(u64, u64)>, Errno> {
        if count > nr::IOV_MAX {
            return Err(Errno::Inval);
        }
        let mut pieces = Vec::with_capacity(count as usize);
        let mut total = 0u64;
        for i in 0..count {
            let base = self.read_word(iov.wrapping_add(i * 16))?;
            let len = self.read_word(iov.wrapping_add(i * 16 + 8))?;
            total = total
                .checked_add(len)
                .filter(|&t| t <= i64::MAX as u64)
                .ok_or(Errno::Inval)?;
            pieces.push((base, len));
        }
        Ok(pieces)
    }

    pub(super) fn readv(&mut self, fd: u64, iov: u64, count: u64) -> Result<u64, Errno> {
        let pieces = self.iovec(iov, count)?;
        self.vectored(fd, &pieces, Self::read)
    }

    pub(super) fn writev(&mut self, fd: u64, iov: u64, count: u64) -> Result<u64, Errno> {
        let pieces = self.iovec(iov, count)?;
        self.vectored(fd, &pieces, Self::write)
    }

    /// One read or write per piece, stopping at the first short one.
    fn vectored(&mut self, fd: u64, pieces: &[(u64, u64)], each: Transfer<'a>) -> Result<u64, Errno> {
        self.process.fds.get(fd)?;
        let mut total = 0;
        for &(base, len) in pieces {
            if len == 0 {
                continue;
            }
            match each(self, fd, base, len, None) {
                Ok(n) => {
                    total += n;
                    if n < len {
                        break;
                    }
                }
                Err(e) if total == 0 => return Err(e),
                Err(_) => break,
            }
        }
        Ok(total)
    }

    pub(super) fn lseek(&mut self, fd: u64, offset: u64, whence: u64) -> Result<u64, Errno> {
        let file = self.fd_file(fd)?;
        let open = *file.borrow();
        let offset = offset as i64;
        let (size, unsigned) = match open.kind {
            Kind::Console => return Err(Errno::SPipe),
            Kind::Ramdisk(info) => (Some(info.file.size), false),
            // /proc/<pid>/mem's offsets are addresses, all of them valid.
            Kind::Proc {
                file: ProcFile::Mem, ..
            } => (None, true),
            Kind::Proc { .. } => (None, false),
        };
        let new = match (whence, size) {
            (nr::SEEK_SET, _) => offset,
            (nr::SEEK_CUR, _) => (open.offset as i64).checked_add(offset).ok_or(Errno::Inval)?,
            (nr::SEEK_END, Some(size)) => (size as i64).checked_add(offset).ok_or(Errno::Inval)?,
            (nr::SEEK_DATA, Some(size)) if offset >= 0 && (offset as u64) < size => offset,
            (nr::SEEK_HOLE, Some(size)) if offset >= 0 && (offset as u64) < size => size as i64,
            // ENXIO: at or past the end there is no data and no hole.
            (nr::SEEK_DATA | nr::SEEK_HOLE, Some(_)) => return Err(Errno::NxIo),
            _ => return Err(Errno::Inval),
        };
        if new < 0 && !unsigned {
            return Err(Errno::Inval);
        }
        file.borrow_mut().offset = new as u64;
        Ok(new as u64)
    }

    fn stat_of(&mut self, kind: Kind) -> Stat {
        let uid = self.process.info.uid;
        match kind {
            Kind::Console => Stat {
                dev: makedev(0, 5),
                ino: 3,
                mode: mode::CHAR_DEVICE | 0o620,
                uid,
                gid: uid,
                // ttyS0
                rdev: makedev(4, 64),
                size: 0,
            },
            Kind::Ramdisk(info) => Stat {
                dev: RAMDISK_DEV,
                // As /proc/<pid>/maps numbers the ramdisk's files.
                ino: info.file.id + 1,
                mode: mode::REGULAR | 0o555,
                uid: 0,
                gid: 0,
                rdev: 0,
                size: info.file.size,
            },
            Kind::Proc { pid, file } => Stat {
                dev: PROC_DEV,
                ino: (u64::from(pid.0) << 8) | file as u64,
                mode: mode::REGULAR
                    | match file {
                        ProcFile::Mem => 0o600,
                        ProcFile::Pagemap => 0o400,
                        _ => 0o444,
                    },
                uid,
                gid: uid,
                rdev: 0,
                size: 0,
            },
        }
    }

    pub(super) fn fstat(&mut self, fd: u64, buf: u64) -> Result<u64, Errno> {
        let kind = self.fd_file(fd)?.borrow().kind;
        let stat = self.stat_of(kind);
        self.host.write_user(buf, &stat.to_bytes())?;
        Ok(0)
    }

    pub(super) fn fstatat(&mut self, dirfd: u64, path: u64, buf: u64, flags: u64) -> Result<u64, Errno> {
        if flags & !(nr::AT_SYMLINK_NOFOLLOW | nr::AT_EMPTY_PATH) != 0 {
            return Err(Errno::Inval);
        }
        let name = self.user_path(path)?;
        if name.is_empty() && flags & nr::AT_EMPTY_PATH != 0 {
            return self.fstat(u64::from(dirfd as u32), buf);
        }
        self.check_dirfd(dirfd, &name)?;
        let stat = match path::resolve(&name)? {
            Target::Directory => Stat {
                dev: RAMDISK_DEV,
                ino: 1,
                mode: mode::DIRECTORY | 0o555,
                ..Stat::default()
            },
            Target::Ramdisk(name) => {
                let info = self.host.open_file(&name)?;
                self.stat_of(Kind::Ramdisk(info))
            }
            Target::Exe(who) => {
                let exe = self.exe_of(who.resolve(self.sender.pid))?;
                let info = self.host.open_file(exe.trim_start_matches('/'))?;
                self.stat_of(Kind::Ramdisk(info))
            }
            Target::Proc(who, file) => {
                let pid = who.resolve(self.sender.pid);
                self.host.process(pid)?;
                self.stat_of(Kind::Proc { pid, file })
            }
        };
        self.host.write_user(buf, &stat.to_bytes())?;
        Ok(0)
    }

    pub(super) fn faccessat(&mut self, dirfd: u64, path: u64, mode: u64) -> Result<u64, Errno> {
        const W_OK: u64 = 2;
        if mode & !7 != 0 {
            return Err(Errno::Inval);
        }
        match self.resolve_at(dirfd, path)? {
            Target::Ramdisk(name) => {
                self.host.open_file(&name)?;
                if mode & W_OK != 0 {
                    return Err(Errno::RoFs);
                }
            }
            Target::Exe(who) => {
                self.exe_of(who.resolve(self.sender.pid))?;
            }
            Target::Proc(who, _) => {
                self.host
                    .process(who.resolve(self.sender.pid))
                    .map_err(|_| Errno::NoEnt)?;
            }
            Target::Directory => {}
        }
        Ok(0)
    }

    pub(super) fn readlinkat(&mut self, dirfd: u64, path: u64, buf: u64, size: u64) -> Result<u64, Errno> {
        if (size as i64) <= 0 {
            return Err(Errno::Inval);
        }
        let link = match self.resolve_at(dirfd, path)? {
            Target::Exe(who) => self.exe_of(who.resolve(self.sender.pid))?,
            Target::Ramdisk(name) => {
                // Exists, but is no link.
                self.host.open_file(&name)?;
                return Err(Errno::Inval);
            }
            Target::Proc(..) | Target::Directory => return Err(Errno::Inval),
        };
        // Truncated, without a NUL, as Linux's.
        let n = link.len().min(size as usize);
        self.host.write_user(buf, &link.as_bytes()[..n])?;
        Ok(n as u64)
    }

    pub(super) fn getcwd(&mut self, buf: u64, size: u64) -> Result<u64, Errno> {
        if size < 2 {
            return Err(Errno::Range);
        }
        self.host.write_user(buf, b"/\0")?;
        Ok(2)
    }

    pub(super) fn dup(&mut self, fd: u64) -> Result<u64, Errno> {
        self.dup_from(fd, 0, false)
    }

    fn dup_from(&mut self, fd: u64, from: u64, cloexec: bool) -> Result<u64, Errno> {
        let file = self.fd_file(fd)?;
        let new = self.process.fds.insert(Fd { file, cloexec }, from)?;
        self.bind(new);
        Ok(u64::from(new))
    }

    pub(super) fn dup2(&mut self, old: u64, new: u64) -> Result<u64, Errno> {
        if old == new {
            self.process.fds.get(old)?;
            return Ok(new);
        }
        self.dup3(old, new, 0)
    }

    pub(super) fn dup3(&mut self, old: u64, new: u64, flags: u64) -> Result<u64, Errno> {
        if flags & !o::CLOEXEC != 0 || old == new {
            return Err(Errno::Inval);
        }
        let file = self.fd_file(old)?;
        self.process.fds.replace(
            new,
            Fd {
                file,
                cloexec: flags & o::CLOEXEC != 0,
            },
        )?;
        self.bind(new as u32);
        Ok(new)
    }

    pub(super) fn fcntl(&mut self, fd: u64, cmd: u64, arg: u64) -> Result<u64, Errno> {
        match cmd {
            f::DUPFD => self.dup_from(fd, arg, false),
            f::DUPFD_CLOEXEC => self.dup_from(fd, arg, true),
            f::GETFD => Ok(u64::from(self.process.fds.get(fd)?.cloexec)),
            f::SETFD => {
                self.process.fds.get_mut(fd)?.cloexec = arg & f::FD_CLOEXEC != 0;
                Ok(0)
            }
            f::GETFL => Ok(self.fd_file(fd)?.borrow().flags | o::LARGEFILE),
            f::SETFL => {
                let file = self.fd_file(fd)?;
                let mut open = file.borrow_mut();
                let changeable = o::APPEND | o::NONBLOCK;
                open.flags = (open.flags & !changeable) | (arg & changeable);
                Ok(0)
            }
            _ => {
                self.process.fds.get(fd)?;
                Err(Errno::Inval)
            }
        }
    }
}
