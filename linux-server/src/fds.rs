//! A process's file descriptors and the open files they share (Linux's
//! file table and `struct file`): `dup` makes two descriptors of one open
//! file, which share its offset and status flags; close-on-exec belongs
//! to the descriptor.

use alloc::{rc::Rc, vec::Vec};
use core::cell::RefCell;

use libipc::{linux::FileInfo, procfs::ProcFile, types::Pid};

use crate::errno::Errno;

/// RLIMIT_NOFILE's default soft limit: descriptors are below it.
pub const NOFILE: u32 = 1024;

/// What an open file reads and writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The console (descriptors 0, 1 and 2 at start): reads see end of
    /// file, writes go to the runner's standard output.
    Console,
    /// A ramdisk file, mapped into the server.
    Ramdisk(FileInfo),
    /// A file procfs serves for `pid`.
    Proc { pid: Pid, file: ProcFile },
}

/// An open file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenFile {
    pub kind: Kind,
    pub offset: u64,
    /// The access mode and the status flags (`O_APPEND`, `O_NONBLOCK`).
    pub flags: u64,
}

impl OpenFile {
    pub fn new(kind: Kind, flags: u64) -> OpenFile {
        OpenFile { kind, offset: 0, flags }
    }

    pub fn readable(&self) -> bool {
        self.flags & crate::nr::o::ACCMODE != crate::nr::o::WRONLY
    }

    pub fn writable(&self) -> bool {
        matches!(
            self.flags & crate::nr::o::ACCMODE,
            crate::nr::o::WRONLY | crate::nr::o::RDWR
        )
    }
}

/// An open file several descriptors may share.
pub type Shared = Rc<RefCell<OpenFile>>;

/// One descriptor.
#[derive(Clone, Debug)]
pub struct Fd {
    pub file: Shared,
    pub cloexec: bool,
}

/// A process's descriptors: the lowest free number is the next one, as
/// POSIX requires.
#[derive(Debug, Default)]
pub struct FdTable {
    slots: Vec<Option<Fd>>,
}

impl FdTable {
    /// Descriptors 0, 1 and 2 on the console, one open file each (so
    /// their flags are their own, as a shell's redirections make them).
    pub fn with_console() -> FdTable {
        let mut table = FdTable::default();
        for flags in [crate::nr::o::RDONLY, crate::nr::o::WRONLY, crate::nr::o::WRONLY] {
            let file = Rc::new(RefCell::new(OpenFile::new(Kind::Console, flags)));
            table.slots.push(Some(Fd { file, cloexec: false }));
        }
        table
    }

    pub fn get(&self, fd: u64) -> Result<&Fd, Errno> {
        usize::try_from(fd)
            .ok()
            .and_then(|fd| self.slots.get(fd))
            .and_then(Option::as_ref)
            .ok_or(Errno::BadF)
    }

    pub fn get_mut(&mut self, fd: u64) -> Result<&mut Fd, Errno> {
        usize::try_from(fd)
            .ok()
            .and_then(|fd| self.slots.get_mut(fd))
            .and_then(Option::as_mut)
            .ok_or(Errno::BadF)
    }

    /// Puts `entry` at the lowest free descriptor at or above `from`.
    pub fn insert(&mut self, entry: Fd, from: u64) -> Result<u32, Errno> {
        if from >= u64::from(NOFILE) {
            return Err(Errno::Inval);
        }
        let from = from as usize;
        let free = (from..NOFILE as usize)
            .find(|&i| self.slots.get(i).is_none_or(Option::is_none))
            .ok_or(Errno::MFile)?;
        if free >= self.slots.len() {
            self.slots.resize(free + 1, None);
        }
        self.slots[free] = Some(entry);
        Ok(free as u32)
    }

    /// Puts `entry` at `fd`, returning what was there (dup2, dup3).
    pub fn replace(&mut self, fd: u64, entry: Fd) -> Result<Option<Fd>, Errno> {
        if fd >= u64::from(NOFILE) {
            return Err(Errno::BadF);
        }
        let fd = fd as usize;
        if fd >= self.slots.len() {
            self.slots.resize(fd + 1, None);
        }
        Ok(self.slots[fd].replace(entry))
    }

    pub fn close(&mut self, fd: u64) -> Result<Fd, Errno> {
        let entry = usize::try_from(fd)
            .ok()
            .and_then(|fd| self.slots.get_mut(fd))
            .and_then(Option::take)
            .ok_or(Errno::BadF)?;
        while self.slots.last().is_some_and(Option::is_none) {
            self.slots.pop();
        }
        Ok(entry)
    }

    /// The open descriptors, in order.
    pub fn numbers(&self) -> impl Iterator<Item = u32> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_some())
            .map(|(i, _)| i as u32)
    }
}

#[cfg(test)]
mod tests {
    use alloc::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;

    fn console() -> Fd {
        Fd {
            file: Rc::new(RefCell::new(OpenFile::new(Kind::Console, 0))),
            cloexec: false,
        }
    }

    #[test]
    fn the_console_is_0_1_and_2() {
        let t = FdTable::with_console();
        assert_eq!(t.numbers().collect::<Vec<_>>(), [0, 1, 2]);
        assert!(t.get(0).unwrap().file.borrow().readable());
        assert!(!t.get(1).unwrap().file.borrow().readable());
        assert!(t.get(2).unwrap().file.borrow().writable());
        assert_eq!(t.get(3).err(), Some(Errno::BadF));
        assert_eq!(t.get(u64::MAX).err(), Some(Errno::BadF));
    }

    #[test]
    fn limits() {
        let mut t = FdTable::default();
        assert_eq!(t.insert(console(), u64::from(NOFILE)), Err(Errno::Inval));
        assert_eq!(t.replace(u64::from(NOFILE), console()).err(), Some(Errno::BadF));
        for i in 0..NOFILE {
            assert_eq!(t.insert(console(), 0), Ok(i));
        }
        assert_eq!(t.insert(console(), 0), Err(Errno::MFile));
        assert_eq!(t.close(u64::from(NOFILE)).err(), Some(Errno::BadF));
    }

    #[derive(Clone, Debug)]
    enum Op {
        Insert(u64),
        Replace(u64),
        Close(u64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u64..12).prop_map(Op::Insert),
            (0u64..12).prop_map(Op::Replace),
            (0u64..14).prop_map(Op::Close),
        ]
    }

    proptest! {
        /// Against a set of numbers: the lowest free one at or above the
        /// hint, replace anywhere, close what is open.
        #[test]
        fn behaves_like_a_set_of_numbers(ops in proptest::collection::vec(op(), 0..60)) {
            let mut t = FdTable::default();
            let mut model = BTreeSet::new();
            for op in ops {
                match op {
                    Op::Insert(from) => {
                        let want = (from as u32..).find(|n| !model.contains(n)).unwrap();
                        prop_assert_eq!(t.insert(console(), from), Ok(want));
                        model.insert(want);
                    }
                    Op::Replace(fd) => {
                        let was = t.replace(fd, console()).unwrap();
                        prop_assert_eq!(was.is_some(), !model.insert(fd as u32));
                    }
                    Op::Close(fd) => {
                        prop_assert_eq!(t.close(fd).is_ok(), model.remove(&(fd as u32)));
                    }
                }
                prop_assert_eq!(t.numbers().collect::<Vec<_>>(), model.iter().copied().collect::<Vec<_>>());
            }
        }
    }
}
