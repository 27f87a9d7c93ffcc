//! The personality against a host made of plain memory: every call's
//! answers and errors, as Linux gives them.

use alloc::{collections::BTreeMap, string::String, vec, vec::Vec};
use core::fmt;

use libipc::{
    kernel::SegmentBaseSet,
    linux::{FileInfo, FileRef, ProcessInfo},
    procfs::ProcFile,
    types::{Pid, Sender, Tid, VirtAddr},
};

use super::*;
use crate::{
    host::Clock,
    layout::word,
    nr::{f, o},
};

/// The caller's memory: one readable and writable range.
const BASE: u64 = 0x10_0000;
const SIZE: u64 = 0x10_000;
const PID: Pid = Pid(7);

struct FakeHost {
    memory: Vec<u8>,
    /// Bytes at the start of `memory` that are read-only.
    read_only: u64,
    files: BTreeMap<String, Vec<u8>>,
    proc_text: Vec<u8>,
    proc_denied: bool,
    console: Vec<u8>,
    bound: BTreeMap<u32, Option<FileRef>>,
    warnings: Vec<String>,
    now_ns: u64,
    live: Vec<Pid>,
}

impl FakeHost {
    fn new() -> FakeHost {
        let mut files = BTreeMap::new();
        files.insert("prog".into(), (0..10_000u32).map(|i| i as u8).collect());
        files.insert("empty".into(), Vec::new());
        FakeHost {
            memory: vec![0; SIZE as usize],
            read_only: 0,
            files,
            proc_text: b"00400000-00401000 r-xp 00000000 00:01 1 /prog\n".to_vec(),
            proc_denied: false,
            console: Vec::new(),
            bound: BTreeMap::new(),
            warnings: Vec::new(),
            now_ns: 5_000_000_123,
            live: vec![PID, Pid(8)],
        }
    }

    fn range(&self, addr: u64, len: usize) -> Option<core::ops::Range<usize>> {
        let start = addr.checked_sub(BASE)?;
        let end = start.checked_add(len as u64)?;
        (end <= SIZE).then_some(start as usize..end as usize)
    }

    fn put(&mut self, addr: u64, bytes: &[u8]) {
        let r = self.range(addr, bytes.len()).unwrap();
        self.memory[r].copy_from_slice(bytes);
    }

    fn get(&self, addr: u64, len: usize) -> &[u8] {
        &self.memory[self.range(addr, len).unwrap()]
    }
}

impl Host for FakeHost {
    fn read_user(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
        let r = self.range(addr, buf.len()).ok_or(Errno::Fault)?;
        buf.copy_from_slice(&self.memory[r]);
        Ok(())
    }

    fn write_user(&mut self, addr: u64, data: &[u8]) -> Result<(), Errno> {
        let r = self.range(addr, data.len()).ok_or(Errno::Fault)?;
        if (r.start as u64) < self.read_only && !data.is_empty() {
            return Err(Errno::Fault);
        }
        self.memory[r].copy_from_slice(data);
        Ok(())
    }

    fn process(&mut self, pid: Pid) -> Result<ProcessInfo, Errno> {
        if !self.live.contains(&pid) {
            return Err(Errno::NoEnt);
        }
        Ok(ProcessInfo {
            uid: if pid == Pid(8) { 2000 } else { 1000 },
            exe: "/prog".into(),
        })
    }

    fn open_file(&mut self, path: &str) -> Result<FileInfo, Errno> {
        let index = self.files.keys().position(|k| k == path).ok_or(Errno::NoEnt)?;
        Ok(FileInfo {
            file: FileRef {
                id: index as u64,
                size: self.files[path].len() as u64,
            },
            addr: VirtAddr(0x2000_0000),
        })
    }

    fn read_file(&mut self, file: &FileInfo, offset: u64, buf: &mut [u8]) -> usize {
        let data = self.files.values().nth(file.file.id as usize).unwrap();
        let start = (offset as usize).min(data.len());
        let n = buf.len().min(data.len() - start);
        buf[..n].copy_from_slice(&data[start..start + n]);
        n
    }

    fn bind_fd(&mut self, _pid: Pid, fd: u32, file: Option<FileRef>) {
        self.bound.insert(fd, file);
    }

    fn proc_read(&mut self, pid: Pid, _file: ProcFile, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        if self.proc_denied {
            return Err(Errno::Acces);
        }
        if !self.live.contains(&pid) {
            return Err(Errno::Srch);
        }
        let start = (offset as usize).min(self.proc_text.len());
        let n = buf.len().min(self.proc_text.len() - start);
        buf[..n].copy_from_slice(&self.proc_text[start..start + n]);
        Ok(n)
    }

    fn proc_write(&mut self, _pid: Pid, _file: ProcFile, _offset: u64, data: &[u8]) -> Result<usize, Errno> {
        Ok(data.len())
    }

    fn console_write(&mut self, bytes: &[u8]) {
        self.console.extend_from_slice(bytes);
    }

    fn clock(&mut self, clock: Clock) -> Timespec {
        match clock {
            Clock::Realtime | Clock::RealtimeCoarse => Timespec::from_nanos(1_700_000_000_000_000_000 + self.now_ns),
            _ => Timespec::from_nanos(self.now_ns),
        }
    }

    fn random(&mut self, buf: &mut [u8]) {
        buf.fill(0xa5);
    }

    fn warn(&mut self, message: fmt::Arguments<'_>) {
        self.warnings.push(alloc::format!("{message}"));
    }
}

struct T {
    host: FakeHost,
    p: Personality,
}

const SENDER: Sender = Sender { pid: PID, tid: Tid(70) };

impl T {
    fn new() -> T {
        T {
            host: FakeHost::new(),
            p: Personality::default(),
        }
    }

    fn answer(&mut self, number: u64, args: &[u64]) -> Answer {
        let mut a = [0u64; 6];
        a[..args.len()].copy_from_slice(args);
        self.p.call(
            &mut self.host,
            Call {
                sender: SENDER,
                number,
                args: a,
            },
        )
    }

    fn call(&mut self, number: u64, args: &[u64]) -> Result<u64, Errno> {
        match self.answer(number, args) {
            Answer::Value(v) => Ok(v),
            Answer::Error(e) => Err(e),
            other => panic!("not a plain answer: {other:?}"),
        }
    }

    /// A NUL-terminated string at `addr`.
    fn string(&mut self, addr: u64, s: &str) -> u64 {
        self.host.put(addr, s.as_bytes());
        self.host.put(addr + s.len() as u64, &[0]);
        addr
    }

    fn open(&mut self, path: &str, flags: u64) -> Result<u64, Errno> {
        let p = self.string(BASE + 0x100, path);
        self.call(nr::OPENAT, &[nr::AT_FDCWD as u64, p, flags])
    }
}

const BUF: u64 = BASE + 0x1000;
const BAD: u64 = 0xdead_0000;

#[test]
fn console_writes_reach_the_console_and_reads_see_end_of_file() {
    let mut t = T::new();
    t.host.put(BUF, b"hello\n");
    assert_eq!(t.call(nr::WRITE, &[1, BUF, 6]), Ok(6));
    assert_eq!(t.call(nr::WRITE, &[2, BUF, 5]), Ok(5));
    assert_eq!(t.host.console, b"hello\nhello");
    assert_eq!(t.call(nr::READ, &[0, BUF, 10]), Ok(0));
    assert_eq!(t.call(nr::WRITE, &[0, BUF, 1]), Err(Errno::BadF));
    assert_eq!(t.call(nr::READ, &[1, BUF, 1]), Err(Errno::BadF));
    assert_eq!(t.call(nr::WRITE, &[9, BUF, 1]), Err(Errno::BadF));
    assert_eq!(t.call(nr::WRITE, &[1, BAD, 1]), Err(Errno::Fault));
    assert_eq!(t.call(nr::PWRITE64, &[1, BUF, 1, 0]), Err(Errno::SPipe));
    assert_eq!(t.call(nr::LSEEK, &[1, 0, nr::SEEK_SET]), Err(Errno::SPipe));
    assert_eq!(t.call(nr::IOCTL, &[1, 0x5413, BUF]), Err(Errno::NotTy));
    assert_eq!(t.call(nr::IOCTL, &[5, 0x5413, BUF]), Err(Errno::BadF));
}

#[test]
fn writev_gathers_and_stops_at_a_bad_piece() {
    let mut t = T::new();
    t.host.put(BUF, b"abcdef");
    let iov = BASE + 0x2000;
    for (i, (base, len)) in [(BUF, 2), (BUF + 4, 2), (BAD, 3)].into_iter().enumerate() {
        t.host.put(iov + i as u64 * 16, &u64::to_le_bytes(base));
        t.host.put(iov + i as u64 * 16 + 8, &u64::to_le_bytes(len));
    }
    assert_eq!(t.call(nr::WRITEV, &[1, iov, 3]), Ok(4));
    assert_eq!(t.host.console, b"abef");
    assert_eq!(t.call(nr::WRITEV, &[1, iov + 32, 1]), Err(Errno::Fault));
    assert_eq!(t.call(nr::WRITEV, &[1, iov, nr::IOV_MAX + 1]), Err(Errno::Inval));
    assert_eq!(t.call(nr::WRITEV, &[1, BAD, 1]), Err(Errno::Fault));
    t.host.put(iov + 8, &u64::to_le_bytes(u64::MAX));
    assert_eq!(t.call(nr::WRITEV, &[1, iov, 2]), Err(Errno::Inval));
}

#[test]
fn ramdisk_files_open_read_seek_and_stat() {
    let mut t = T::new();
    let fd = t.open("/prog", o::RDONLY).unwrap();
    assert_eq!(fd, 3);
    assert_eq!(t.host.bound.get(&3), Some(&Some(FileRef { id: 1, size: 10_000 })));
    assert_eq!(t.call(nr::READ, &[fd, BUF, 4]), Ok(4));
    assert_eq!(t.host.get(BUF, 4), [0, 1, 2, 3]);
    assert_eq!(t.call(nr::READ, &[fd, BUF, 2]), Ok(2));
    assert_eq!(t.host.get(BUF, 2), [4, 5]);
    assert_eq!(t.call(nr::PREAD64, &[fd, BUF, 2, 256]), Ok(2));
    assert_eq!(t.host.get(BUF, 2), [0, 1]);
    assert_eq!(t.call(nr::PREAD64, &[fd, BUF, 2, u64::MAX]), Err(Errno::Inval));
    assert_eq!(t.call(nr::LSEEK, &[fd, 0, nr::SEEK_CUR]), Ok(6));
    assert_eq!(t.call(nr::LSEEK, &[fd, (-10i64) as u64, nr::SEEK_END]), Ok(9990));
    assert_eq!(t.call(nr::READ, &[fd, BUF, 100]), Ok(10));
    assert_eq!(t.call(nr::READ, &[fd, BUF, 100]), Ok(0));
    assert_eq!(
        t.call(nr::LSEEK, &[fd, (-1i64) as u64, nr::SEEK_SET]),
        Err(Errno::Inval)
    );
    assert_eq!(t.call(nr::LSEEK, &[fd, 0, 9]), Err(Errno::Inval));
    assert_eq!(t.call(nr::LSEEK, &[fd, 5, nr::SEEK_DATA]), Ok(5));
    assert_eq!(t.call(nr::LSEEK, &[fd, 5, nr::SEEK_HOLE]), Ok(10_000));
    assert_eq!(t.call(nr::LSEEK, &[fd, 10_000, nr::SEEK_DATA]), Err(Errno::NxIo));
    // A large read crosses chunks.
    t.call(nr::LSEEK, &[fd, 0, nr::SEEK_SET]).unwrap();
    assert_eq!(t.call(nr::READ, &[fd, BUF, 9000]), Ok(9000));
    assert_eq!(t.host.get(BUF + 8999, 1), [(8999u32 % 256) as u8]);
    // A buffer that ends in a hole: what was copied counts.
    let near_end = BASE + SIZE - 100;
    t.call(nr::LSEEK, &[fd, 0, nr::SEEK_SET]).unwrap();
    assert_eq!(t.call(nr::READ, &[fd, near_end, 5000]), Err(Errno::Fault));
    assert_eq!(t.call(nr::READ, &[fd, BAD, 10]), Err(Errno::Fault));
    assert_eq!(t.call(nr::WRITE, &[fd, BUF, 1]), Err(Errno::BadF));
    assert_eq!(t.call(nr::FSTAT, &[fd, BUF]), Ok(0));
    let st = t.host.get(BUF, 144).to_vec();
    assert_eq!((word(&st, 0), word(&st, 8), word(&st, 48)), (1, 2, 10_000));
    assert_eq!(u32::from_le_bytes(st[24..28].try_into().unwrap()), 0o100555);
    assert_eq!(t.call(nr::FSTAT, &[fd, BAD]), Err(Errno::Fault));
    assert_eq!(t.call(nr::FSTAT, &[42, BUF]), Err(Errno::BadF));
    assert_eq!(t.call(nr::CLOSE, &[fd]), Ok(0));
    assert_eq!(t.host.bound.get(&3), Some(&None));
    assert_eq!(t.call(nr::CLOSE, &[fd]), Err(Errno::BadF));
    assert_eq!(t.call(nr::READ, &[fd, BUF, 1]), Err(Errno::BadF));
}

#[test]
fn open_refuses_what_a_read_only_root_refuses() {
    let mut t = T::new();
    assert_eq!(t.open("/missing", o::RDONLY), Err(Errno::NoEnt));
    assert_eq!(t.open("/missing", o::WRONLY | o::CREAT), Err(Errno::RoFs));
    assert_eq!(t.open("/prog", o::WRONLY), Err(Errno::RoFs));
    assert_eq!(t.open("/prog", o::RDONLY | o::TRUNC), Err(Errno::RoFs));
    assert_eq!(t.open("/prog", o::RDONLY | o::CREAT | o::EXCL), Err(Errno::Exist));
    assert_eq!(t.open("/prog", o::RDONLY | o::DIRECTORY), Err(Errno::NotDir));
    assert_eq!(t.open("/", o::RDWR), Err(Errno::IsDir));
    assert_eq!(t.open("/", o::RDONLY), Err(Errno::NoEnt));
    assert_eq!(t.open("", o::RDONLY), Err(Errno::NoEnt));
    assert_eq!(t.call(nr::OPEN, &[BAD, 0]), Err(Errno::Fault));
    assert_eq!(t.call(nr::OPEN, &[0, 0]), Err(Errno::Fault));
    // A relative name from a descriptor: none is a directory.
    let p = t.string(BASE + 0x100, "prog");
    assert_eq!(t.call(nr::OPENAT, &[1, p, 0]), Err(Errno::NotDir));
    assert_eq!(t.call(nr::OPENAT, &[77, p, 0]), Err(Errno::BadF));
    let abs = t.string(BASE + 0x200, "/prog");
    assert_eq!(t.call(nr::OPENAT, &[77, abs, 0]), Ok(3));
    // A name without its NUL before PATH_MAX.
    let long = BASE + 0x4000;
    t.host.put(long, &[b'a'; 5000]);
    assert_eq!(t.call(nr::OPEN, &[long, 0]), Err(Errno::NameTooLong));
    // The empty file reads as empty.
    let fd = t.open("empty", o::RDONLY).unwrap();
    assert_eq!(t.call(nr::READ, &[fd, BUF, 10]), Ok(0));
}

#[test]
fn descriptors_run_out_at_the_limit() {
    let mut t = T::new();
    for _ in 3..crate::fds::NOFILE {
        t.open("/prog", 0).unwrap();
    }
    assert_eq!(t.open("/prog", 0), Err(Errno::MFile));
    assert_eq!(t.call(nr::DUP, &[0]), Err(Errno::MFile));
}

#[test]
fn dup_shares_the_offset_and_cloexec_is_per_descriptor() {
    let mut t = T::new();
    let fd = t.open("/prog", o::RDONLY | o::CLOEXEC).unwrap();
    assert_eq!(t.call(nr::FCNTL, &[fd, f::GETFD]), Ok(1));
    let copy = t.call(nr::DUP, &[fd]).unwrap();
    assert_eq!(copy, 4);
    assert_eq!(t.host.bound.get(&4), Some(&Some(FileRef { id: 1, size: 10_000 })));
    assert_eq!(t.call(nr::FCNTL, &[copy, f::GETFD]), Ok(0));
    t.call(nr::READ, &[fd, BUF, 100]).unwrap();
    assert_eq!(t.call(nr::LSEEK, &[copy, 0, nr::SEEK_CUR]), Ok(100));
    assert_eq!(t.call(nr::DUP2, &[fd, 10]), Ok(10));
    assert_eq!(t.call(nr::DUP2, &[fd, fd]), Ok(fd));
    assert_eq!(t.call(nr::DUP2, &[50, 50]), Err(Errno::BadF));
    assert_eq!(t.call(nr::DUP3, &[fd, fd, 0]), Err(Errno::Inval));
    assert_eq!(t.call(nr::DUP3, &[fd, 11, 1]), Err(Errno::Inval));
    assert_eq!(t.call(nr::DUP3, &[fd, 11, o::CLOEXEC]), Ok(11));
    assert_eq!(t.call(nr::FCNTL, &[11, f::GETFD]), Ok(1));
    // dup2 onto the console replaces it; the pager learns the file.
    assert_eq!(t.call(nr::DUP2, &[fd, 1]), Ok(1));
    assert_eq!(t.host.bound.get(&1), Some(&Some(FileRef { id: 1, size: 10_000 })));
    assert_eq!(t.call(nr::DUP2, &[2, 1]), Ok(1));
    assert_eq!(t.host.bound.get(&1), Some(&None));
    assert_eq!(t.call(nr::FCNTL, &[fd, f::DUPFD, 20]), Ok(20));
    assert_eq!(t.call(nr::FCNTL, &[fd, f::DUPFD_CLOEXEC, 20]), Ok(21));
    assert_eq!(t.call(nr::FCNTL, &[21, f::GETFD]), Ok(1));
    assert_eq!(t.call(nr::FCNTL, &[21, f::SETFD, 0]), Ok(0));
    assert_eq!(t.call(nr::FCNTL, &[21, f::GETFD]), Ok(0));
    assert_eq!(t.call(nr::FCNTL, &[fd, f::DUPFD, 5000]), Err(Errno::Inval));
    assert_eq!(t.call(nr::FCNTL, &[fd, f::GETFL]), Ok(o::LARGEFILE));
    assert_eq!(t.call(nr::FCNTL, &[fd, f::SETFL, o::NONBLOCK | o::RDWR]), Ok(0));
    assert_eq!(t.call(nr::FCNTL, &[copy, f::GETFL]), Ok(o::LARGEFILE | o::NONBLOCK));
    assert_eq!(t.call(nr::FCNTL, &[fd, 999]), Err(Errno::Inval));
    assert_eq!(t.call(nr::FCNTL, &[99, f::GETFD]), Err(Errno::BadF));
}

#[test]
fn proc_files_are_read_through_procfs_with_the_callers_rights() {
    let mut t = T::new();
    let fd = t.open("/proc/self/maps", o::RDONLY).unwrap();
    assert_eq!(t.host.bound.get(&(fd as u32)), None, "nothing mappable");
    let text = t.host.proc_text.clone();
    assert_eq!(t.call(nr::READ, &[fd, BUF, 7]), Ok(7));
    assert_eq!(t.call(nr::READ, &[fd, BUF + 7, 4096]), Ok(text.len() as u64 - 7));
    assert_eq!(t.host.get(BUF, text.len()), &text[..]);
    assert_eq!(t.call(nr::READ, &[fd, BUF, 10]), Ok(0));
    assert_eq!(t.call(nr::LSEEK, &[fd, 0, nr::SEEK_END]), Err(Errno::Inval));
    assert_eq!(t.call(nr::LSEEK, &[fd, 3, nr::SEEK_SET]), Ok(3));
    assert_eq!(t.open("/proc/self/maps", o::WRONLY), Err(Errno::Acces));
    assert_eq!(t.open("/proc/9/maps", o::RDONLY), Err(Errno::NoEnt));
    assert_eq!(t.open("/proc/self/status", o::RDONLY), Err(Errno::NoEnt));
    t.host.proc_denied = true;
    assert_eq!(t.open("/proc/8/mem", o::RDONLY), Err(Errno::Acces));
    t.host.proc_denied = false;
    let mem = t.open("/proc/self/mem", o::RDWR).unwrap();
    assert_eq!(
        t.call(nr::LSEEK, &[mem, 0xffff_8000_0000_0000, nr::SEEK_SET]),
        Ok(0xffff_8000_0000_0000)
    );
    assert_eq!(t.call(nr::PWRITE64, &[mem, BUF, 4, 0x1000]), Ok(4));
    assert_eq!(t.call(nr::FSTAT, &[mem, BUF]), Ok(0));
    assert_eq!(
        u32::from_le_bytes(t.host.get(BUF + 24, 4).try_into().unwrap()),
        0o100600
    );
}

#[test]
fn stat_access_and_readlink_by_name() {
    let mut t = T::new();
    let p = t.string(BASE + 0x100, "/proc/self/exe");
    assert_eq!(t.call(nr::READLINK, &[p, BUF, 100]), Ok(5));
    assert_eq!(t.host.get(BUF, 5), b"/prog");
    assert_eq!(t.call(nr::READLINK, &[p, BUF, 3]), Ok(3));
    assert_eq!(t.call(nr::READLINK, &[p, BUF, 0]), Err(Errno::Inval));
    assert_eq!(t.call(nr::READLINK, &[p, BAD, 10]), Err(Errno::Fault));
    let other = t.string(BASE + 0x100, "/proc/8/exe");
    assert_eq!(t.call(nr::READLINK, &[other, BUF, 100]), Err(Errno::Acces));
    let gone = t.string(BASE + 0x100, "/proc/9/exe");
    assert_eq!(t.call(nr::READLINK, &[gone, BUF, 100]), Err(Errno::NoEnt));
    let file = t.string(BASE + 0x100, "/prog");
    assert_eq!(
        t.call(nr::READLINKAT, &[nr::AT_FDCWD as u64, file, BUF, 100]),
        Err(Errno::Inval)
    );
    assert_eq!(t.call(nr::STAT, &[file, BUF]), Ok(0));
    assert_eq!(word(t.host.get(BUF, 144), 48), 10_000);
    assert_eq!(t.call(nr::ACCESS, &[file, 4]), Ok(0));
    assert_eq!(t.call(nr::ACCESS, &[file, 2]), Err(Errno::RoFs));
    assert_eq!(t.call(nr::ACCESS, &[file, 8]), Err(Errno::Inval));
    let missing = t.string(BASE + 0x100, "/nothing");
    assert_eq!(t.call(nr::ACCESS, &[missing, 0]), Err(Errno::NoEnt));
    assert_eq!(t.call(nr::STAT, &[missing, BUF]), Err(Errno::NoEnt));
    let exe = t.string(BASE + 0x100, "/proc/self/exe");
    assert_eq!(t.call(nr::NEWFSTATAT, &[nr::AT_FDCWD as u64, exe, BUF, 0]), Ok(0));
    assert_eq!(word(t.host.get(BUF, 144), 48), 10_000);
    let empty = t.string(BASE + 0x100, "");
    assert_eq!(t.call(nr::NEWFSTATAT, &[1, empty, BUF, nr::AT_EMPTY_PATH]), Ok(0));
    assert_eq!(
        u32::from_le_bytes(t.host.get(BUF + 24, 4).try_into().unwrap()) >> 12,
        0o02
    );
    assert_eq!(t.call(nr::NEWFSTATAT, &[1, empty, BUF, 0]), Err(Errno::NoEnt));
    assert_eq!(t.call(nr::NEWFSTATAT, &[1, empty, BUF, 0x8000_0000]), Err(Errno::Inval));
    let root = t.string(BASE + 0x100, "/");
    assert_eq!(t.call(nr::STAT, &[root, BUF]), Ok(0));
    assert_eq!(
        u32::from_le_bytes(t.host.get(BUF + 24, 4).try_into().unwrap()) & 0o170000,
        0o040000
    );
    assert_eq!(t.call(nr::GETCWD, &[BUF, 100]), Ok(2));
    assert_eq!(t.host.get(BUF, 2), b"/\0");
    assert_eq!(t.call(nr::GETCWD, &[BUF, 1]), Err(Errno::Range));
    assert_eq!(t.call(nr::GETCWD, &[BAD, 10]), Err(Errno::Fault));
}

#[test]
fn identity_and_names() {
    let mut t = T::new();
    assert_eq!(t.call(nr::GETPID, &[]), Ok(7));
    assert_eq!(t.call(nr::GETTID, &[]), Ok(70));
    assert_eq!(t.call(nr::GETPPID, &[]), Ok(1));
    for n in [nr::GETUID, nr::GETEUID, nr::GETGID, nr::GETEGID] {
        assert_eq!(t.call(n, &[]), Ok(1000));
    }
    assert_eq!(t.call(nr::GETRESUID, &[BUF, BUF + 4, BUF + 8]), Ok(0));
    assert_eq!(t.host.get(BUF + 8, 4), 1000u32.to_le_bytes());
    assert_eq!(t.call(nr::GETRESGID, &[BUF, BAD, BUF]), Err(Errno::Fault));
    assert_eq!(t.call(nr::GETGROUPS, &[0, 0]), Ok(0));
    assert_eq!(t.call(nr::GETGROUPS, &[u64::MAX, 0]), Err(Errno::Inval));
    assert_eq!(t.call(nr::UNAME, &[BUF]), Ok(0));
    assert_eq!(t.host.get(BUF, 6), b"Linux\0");
    assert_eq!(t.host.get(BUF + 4 * 65, 7), b"x86_64\0");
    assert_eq!(t.call(nr::UNAME, &[BAD]), Err(Errno::Fault));
    assert_eq!(t.call(nr::PRCTL, &[nr::pr::GET_NAME, BUF]), Ok(0));
    assert_eq!(t.host.get(BUF, 5), b"prog\0");
    let name = t.string(BASE + 0x100, "a-very-long-thread-name");
    assert_eq!(t.call(nr::PRCTL, &[nr::pr::SET_NAME, name]), Ok(0));
    assert_eq!(t.call(nr::PRCTL, &[nr::pr::GET_NAME, BUF]), Ok(0));
    assert_eq!(t.host.get(BUF, 16), b"a-very-long-thr\0");
    assert_eq!(t.call(nr::PRCTL, &[nr::pr::SET_NAME, BAD]), Err(Errno::Fault));
    assert_eq!(t.call(nr::PRCTL, &[nr::pr::GET_DUMPABLE]), Ok(1));
    assert_eq!(t.call(nr::PRCTL, &[nr::pr::SET_DUMPABLE, 2]), Err(Errno::Inval));
    assert_eq!(t.call(nr::PRCTL, &[nr::pr::SET_DUMPABLE, 0]), Ok(0));
    assert_eq!(t.call(nr::PRCTL, &[nr::pr::GET_DUMPABLE]), Ok(0));
    assert_eq!(t.call(nr::PRCTL, &[nr::pr::SET_NO_NEW_PRIVS, 1]), Ok(0));
    assert_eq!(t.call(nr::PRCTL, &[nr::pr::GET_NO_NEW_PRIVS]), Ok(1));
    assert_eq!(t.call(nr::PRCTL, &[nr::pr::SET_PDEATHSIG, 9]), Ok(0));
    assert_eq!(t.call(nr::PRCTL, &[nr::pr::GET_PDEATHSIG, BUF]), Ok(0));
    assert_eq!(t.host.get(BUF, 4), 9u32.to_le_bytes());
    assert_eq!(t.call(nr::PRCTL, &[12345]), Err(Errno::Inval));
}

#[test]
fn unknown_calls_are_enosys_and_named_in_the_log() {
    let mut t = T::new();
    assert_eq!(t.call(57, &[]), Err(Errno::NoSys));
    assert_eq!(t.call(1000, &[]), Err(Errno::NoSys));
    assert_eq!(t.call(nr::RSEQ, &[]), Err(Errno::NoSys));
    assert_eq!(t.host.warnings.len(), 2, "rseq is expected, not logged");
    assert!(t.host.warnings[0].contains("fork (57)"), "{:?}", t.host.warnings);
    assert!(t.host.warnings[1].contains("unknown (1000)"));
}

#[test]
fn a_process_the_pager_does_not_know_gets_esrch() {
    let mut t = T::new();
    t.host.live.clear();
    assert_eq!(t.call(nr::GETUID, &[]), Err(Errno::Srch));
    // The sender stamp answers these without the pager.
    assert_eq!(t.call(nr::GETPID, &[]), Ok(7));
}

#[test]
fn state_of_ended_processes_is_dropped() {
    let mut t = T::new();
    for pid in 100..100 + PRUNE_AT as u32 {
        t.host.live.push(Pid(pid));
        let sender = Sender {
            pid: Pid(pid),
            tid: Tid(1),
        };
        t.p.call(
            &mut t.host,
            Call {
                sender,
                number: nr::GETUID,
                args: [0; 6],
            },
        );
    }
    assert_eq!(t.p.tracked(), PRUNE_AT);
    t.host.live.retain(|p| p.0 < 110);
    t.call(nr::GETUID, &[]).unwrap();
    assert_eq!(t.p.tracked(), 11);
}

#[test]
fn random_bytes_and_their_errors() {
    let mut t = T::new();
    assert_eq!(t.call(nr::GETRANDOM, &[BUF, 300, 0]), Ok(300));
    assert_eq!(t.host.get(BUF + 299, 1), [0xa5]);
    assert_eq!(t.call(nr::GETRANDOM, &[BUF, 4, 8]), Err(Errno::Inval));
    assert_eq!(t.call(nr::GETRANDOM, &[BUF, 4, 6]), Err(Errno::Inval));
    assert_eq!(t.call(nr::GETRANDOM, &[BAD, 4, 0]), Err(Errno::Fault));
    assert_eq!(t.call(nr::GETRANDOM, &[BASE + SIZE - 10, 300, 0]), Err(Errno::Fault));
    assert_eq!(t.call(nr::GETRANDOM, &[BASE + SIZE - 256, 300, 0]), Ok(256));
}

#[test]
fn signal_dispositions_and_masks_are_recorded() {
    let mut t = T::new();
    let act = BASE + 0x200;
    t.host.put(act, &[1u8; 32]);
    assert_eq!(t.call(nr::RT_SIGACTION, &[10, act, 0, 8]), Ok(0));
    assert_eq!(t.call(nr::RT_SIGACTION, &[10, 0, BUF, 8]), Ok(0));
    assert_eq!(t.host.get(BUF, 32), [1u8; 32]);
    assert_eq!(t.call(nr::RT_SIGACTION, &[9, act, 0, 8]), Err(Errno::Inval));
    assert_eq!(t.call(nr::RT_SIGACTION, &[9, 0, BUF, 8]), Ok(0));
    assert_eq!(t.call(nr::RT_SIGACTION, &[0, 0, 0, 8]), Err(Errno::Inval));
    assert_eq!(t.call(nr::RT_SIGACTION, &[65, 0, 0, 8]), Err(Errno::Inval));
    assert_eq!(t.call(nr::RT_SIGACTION, &[10, 0, 0, 4]), Err(Errno::Inval));
    assert_eq!(t.call(nr::RT_SIGACTION, &[10, BAD, 0, 8]), Err(Errno::Fault));
    t.host.put(BUF, &u64::MAX.to_le_bytes());
    assert_eq!(t.call(nr::RT_SIGPROCMASK, &[0, BUF, BUF + 8, 8]), Ok(0));
    assert_eq!(t.host.get(BUF + 8, 8), [0; 8]);
    assert_eq!(t.call(nr::RT_SIGPROCMASK, &[0, 0, BUF + 8, 8]), Ok(0));
    let blocked: u64 = !((1 << 8) | (1 << 18));
    assert_eq!(
        t.host.get(BUF + 8, 8),
        blocked.to_le_bytes(),
        "SIGKILL and SIGSTOP stay unblocked"
    );
    assert_eq!(t.call(nr::RT_SIGPROCMASK, &[7, BUF, 0, 8]), Err(Errno::Inval));
    assert_eq!(t.call(nr::RT_SIGPROCMASK, &[0, BUF, 0, 16]), Err(Errno::Inval));
    assert_eq!(t.call(nr::RT_SIGPROCMASK, &[0, BAD, 0, 8]), Err(Errno::Fault));
    // sigaltstack: disabled at start; too small is ENOMEM.
    assert_eq!(t.call(nr::SIGALTSTACK, &[0, BUF]), Ok(0));
    assert_eq!(word(t.host.get(BUF, 24), 8), 2);
    let ss = BASE + 0x300;
    t.host.put(ss, &0x5000u64.to_le_bytes());
    t.host.put(ss + 8, &0u64.to_le_bytes());
    t.host.put(ss + 16, &100u64.to_le_bytes());
    assert_eq!(t.call(nr::SIGALTSTACK, &[ss, 0]), Err(Errno::NoMem));
    t.host.put(ss + 16, &0x4000u64.to_le_bytes());
    assert_eq!(t.call(nr::SIGALTSTACK, &[ss, 0]), Ok(0));
    assert_eq!(t.call(nr::SIGALTSTACK, &[0, BUF]), Ok(0));
    assert_eq!(
        (word(t.host.get(BUF, 24), 0), word(t.host.get(BUF, 24), 16)),
        (0x5000, 0x4000)
    );
    t.host.put(ss + 8, &7u64.to_le_bytes());
    assert_eq!(t.call(nr::SIGALTSTACK, &[ss, 0]), Err(Errno::Inval));
    assert_eq!(t.call(nr::SIGALTSTACK, &[BAD, 0]), Err(Errno::Fault));
    assert_eq!(t.call(nr::SET_ROBUST_LIST, &[BUF, 24]), Ok(0));
    assert_eq!(t.call(nr::SET_ROBUST_LIST, &[BUF, 16]), Err(Errno::Inval));
    assert_eq!(t.call(nr::SET_TID_ADDRESS, &[BUF]), Ok(70));
}

#[test]
fn arch_prctl_sets_and_reads_the_segment_bases() {
    let mut t = T::new();
    assert_eq!(
        t.answer(nr::ARCH_PRCTL, &[nr::ARCH_SET_FS, 0x7000]),
        Answer::SetBase(SegmentBaseSet::Fs(0x7000))
    );
    assert_eq!(
        t.answer(nr::ARCH_PRCTL, &[nr::ARCH_SET_GS, 0x8000]),
        Answer::SetBase(SegmentBaseSet::Gs(0x8000))
    );
    assert_eq!(t.call(nr::ARCH_PRCTL, &[nr::ARCH_GET_FS, BUF]), Ok(0));
    assert_eq!(t.host.get(BUF, 8), 0x7000u64.to_le_bytes());
    assert_eq!(t.call(nr::ARCH_PRCTL, &[nr::ARCH_GET_GS, BUF]), Ok(0));
    assert_eq!(t.host.get(BUF, 8), 0x8000u64.to_le_bytes());
    assert_eq!(t.call(nr::ARCH_PRCTL, &[nr::ARCH_GET_FS, BAD]), Err(Errno::Fault));
    assert_eq!(
        t.call(nr::ARCH_PRCTL, &[nr::ARCH_SET_FS, 0xffff_8000_0000_0000]),
        Err(Errno::Perm)
    );
    assert_eq!(t.call(nr::ARCH_PRCTL, &[0x9999, 0]), Err(Errno::Inval));
}

#[test]
fn clocks_read_the_hosts_time() {
    let mut t = T::new();
    assert_eq!(t.call(nr::CLOCK_GETTIME, &[1, BUF]), Ok(0));
    assert_eq!((word(t.host.get(BUF, 16), 0), word(t.host.get(BUF, 16), 8)), (5, 123));
    assert_eq!(t.call(nr::CLOCK_GETTIME, &[0, BUF]), Ok(0));
    assert_eq!(word(t.host.get(BUF, 16), 0), 1_700_000_005);
    assert_eq!(t.call(nr::CLOCK_GETTIME, &[99, BUF]), Err(Errno::Inval));
    assert_eq!(t.call(nr::CLOCK_GETTIME, &[1, BAD]), Err(Errno::Fault));
    // CPU time counts from the first call.
    t.host.now_ns += 1_000;
    assert_eq!(t.call(nr::CLOCK_GETTIME, &[2, BUF]), Ok(0));
    assert_eq!(word(t.host.get(BUF, 16), 8), 1_000);
    assert_eq!(t.call(nr::CLOCK_GETRES, &[1, BUF]), Ok(0));
    assert_eq!(word(t.host.get(BUF, 16), 8), 1);
    assert_eq!(t.call(nr::CLOCK_GETRES, &[6, BUF]), Ok(0));
    assert_eq!(word(t.host.get(BUF, 16), 8), 4_000_000);
    assert_eq!(t.call(nr::CLOCK_GETRES, &[1, 0]), Ok(0));
    assert_eq!(t.call(nr::CLOCK_GETRES, &[42, BUF]), Err(Errno::Inval));
    assert_eq!(t.call(nr::GETTIMEOFDAY, &[BUF, BUF + 16]), Ok(0));
    assert_eq!(word(t.host.get(BUF, 16), 0), 1_700_000_005);
    assert_eq!(t.call(nr::GETTIMEOFDAY, &[BAD, 0]), Err(Errno::Fault));
    assert_eq!(t.call(nr::TIME, &[0]), Ok(1_700_000_005));
    assert_eq!(t.call(nr::TIME, &[BUF]), Ok(1_700_000_005));
    assert_eq!(t.call(nr::TIME, &[BAD]), Err(Errno::Fault));
}

#[test]
fn sleeps_end_on_the_monotonic_clock() {
    let mut t = T::new();
    let req = BASE + 0x200;
    t.host.put(req, &Timespec { sec: 1, nsec: 500 }.to_bytes());
    assert_eq!(
        t.answer(nr::NANOSLEEP, &[req, 0]),
        Answer::Sleep {
            until: Timespec::from_nanos(6_000_000_623),
            then: Ok(0)
        }
    );
    assert_eq!(t.answer(nr::NANOSLEEP, &[BAD, 0]), Answer::Error(Errno::Fault));
    t.host.put(req + 8, &2_000_000_000u64.to_le_bytes());
    assert_eq!(t.answer(nr::NANOSLEEP, &[req, 0]), Answer::Error(Errno::Inval));
    // Absolute on the realtime clock, already past: no wait.
    t.host.put(req, &Timespec { sec: 10, nsec: 0 }.to_bytes());
    assert_eq!(
        t.answer(nr::CLOCK_NANOSLEEP, &[0, 1, req, 0]),
        Answer::Sleep {
            until: Timespec::from_nanos(5_000_000_123),
            then: Ok(0)
        }
    );
    assert_eq!(
        t.answer(nr::CLOCK_NANOSLEEP, &[1, 1, req, 0]),
        Answer::Sleep {
            until: Timespec::from_nanos(10_000_000_000),
            then: Ok(0)
        }
    );
    assert_eq!(
        t.answer(nr::CLOCK_NANOSLEEP, &[4, 0, req, 0]),
        Answer::Error(Errno::Inval)
    );
}

#[test]
fn futexes_of_one_thread() {
    let mut t = T::new();
    let word_at = BASE + 0x400;
    t.host.put(word_at, &5u32.to_le_bytes());
    assert_eq!(t.answer(nr::FUTEX, &[word_at, 0, 4]), Answer::Error(Errno::Again));
    assert_eq!(t.answer(nr::FUTEX, &[word_at + 1, 0, 5]), Answer::Error(Errno::Inval));
    assert_eq!(t.answer(nr::FUTEX, &[BAD, 0, 5]), Answer::Error(Errno::Fault));
    let timeout = BASE + 0x500;
    t.host.put(timeout, &Timespec { sec: 0, nsec: 1000 }.to_bytes());
    assert_eq!(
        t.answer(nr::FUTEX, &[word_at, 128, 5, timeout]),
        Answer::Sleep {
            until: Timespec::from_nanos(5_000_001_123),
            then: Err(Errno::TimedOut)
        }
    );
    assert!(matches!(
        t.answer(nr::FUTEX, &[word_at, 0, 5, 0]),
        Answer::Sleep {
            until: Timespec { sec: u64::MAX, .. },
            ..
        }
    ));
    assert_eq!(
        t.answer(nr::FUTEX, &[word_at, 9, 5, 0, 0, 0]),
        Answer::Error(Errno::Inval)
    );
    assert_eq!(t.answer(nr::FUTEX, &[word_at, 1, 1]), Answer::Value(0));
    assert_eq!(
        t.answer(nr::FUTEX, &[word_at, 4, 1, 0, 0, 6]),
        Answer::Error(Errno::Again)
    );
    assert_eq!(t.answer(nr::FUTEX, &[word_at, 4, 1, 0, 0, 5]), Answer::Value(0));
    assert_eq!(t.answer(nr::FUTEX, &[word_at, 99, 1]), Answer::Error(Errno::NoSys));
    assert_eq!(t.answer(nr::SCHED_YIELD, &[]), Answer::Value(0));
    assert_eq!(t.answer(nr::SCHED_GETAFFINITY, &[0, 128, BUF]), Answer::Value(8));
    assert_eq!(t.host.get(BUF, 8), 1u64.to_le_bytes());
    assert_eq!(
        t.answer(nr::SCHED_GETAFFINITY, &[7, 4, BUF]),
        Answer::Error(Errno::Inval)
    );
    assert_eq!(
        t.answer(nr::SCHED_GETAFFINITY, &[7, 12, BUF]),
        Answer::Error(Errno::Inval)
    );
    assert_eq!(
        t.answer(nr::SCHED_GETAFFINITY, &[99, 8, BUF]),
        Answer::Error(Errno::Srch)
    );
    assert_eq!(
        t.answer(nr::SCHED_GETAFFINITY, &[0, 8, BAD]),
        Answer::Error(Errno::Fault)
    );
}
