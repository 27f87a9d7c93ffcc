//! The errors the personality returns, with Linux's numbers.

/// A Linux errno.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Errno {
    Perm,
    NoEnt,
    Srch,
    Io,
    NxIo,
    BadF,
    Again,
    NoMem,
    Acces,
    Fault,
    Exist,
    NotDir,
    IsDir,
    Inval,
    MFile,
    NotTy,
    SPipe,
    RoFs,
    Range,
    NameTooLong,
    NoSys,
    TimedOut,
}

impl Errno {
    pub const fn code(self) -> u16 {
        match self {
            Errno::Perm => 1,
            Errno::NoEnt => 2,
            Errno::Srch => 3,
            Errno::Io => 5,
            Errno::NxIo => 6,
            Errno::BadF => 9,
            Errno::Again => 11,
            Errno::NoMem => 12,
            Errno::Acces => 13,
            Errno::Fault => 14,
            Errno::Exist => 17,
            Errno::NotDir => 20,
            Errno::IsDir => 21,
            Errno::Inval => 22,
            Errno::MFile => 24,
            Errno::NotTy => 25,
            Errno::SPipe => 29,
            Errno::RoFs => 30,
            Errno::Range => 34,
            Errno::NameTooLong => 36,
            Errno::NoSys => 38,
            Errno::TimedOut => 110,
        }
    }

    /// The errno of a procfs error (its Linux number).
    pub fn from_procfs(e: libipc::procfs::Error) -> Errno {
        use libipc::procfs::Error as E;
        match e {
            E::AccessDenied => Errno::Acces,
            E::NoSuchProcess => Errno::Srch,
            E::NoSuchFile => Errno::NoEnt,
            E::InvalidArgument | E::TooLarge => Errno::Inval,
            E::NotWritable => Errno::BadF,
            E::Unavailable => Errno::Again,
            E::Io | E::Malformed | E::ServerGone => Errno::Io,
        }
    }

    /// The errno of a pager refusal.
    pub fn from_pager(e: libipc::pager::Errno) -> Errno {
        use libipc::pager::Errno as E;
        match e {
            E::NotPermitted => Errno::Perm,
            E::NoEntry => Errno::NoEnt,
            E::NoMemory => Errno::NoMem,
            E::Invalid => Errno::Inval,
            E::Exists => Errno::Exist,
            E::Access => Errno::Acces,
            E::Fault => Errno::Fault,
            E::NotSupported => Errno::NoSys,
            _ => Errno::Io,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_linuxs() {
        assert_eq!(Errno::NoEnt.code(), 2);
        assert_eq!(Errno::Fault.code(), 14);
        assert_eq!(Errno::RoFs.code(), 30);
        assert_eq!(Errno::NoSys.code(), 38);
        assert_eq!(Errno::TimedOut.code(), 110);
    }

    #[test]
    fn procfs_errors_keep_their_meaning() {
        assert_eq!(Errno::from_procfs(libipc::procfs::Error::AccessDenied), Errno::Acces);
        assert_eq!(Errno::from_procfs(libipc::procfs::Error::NoSuchFile), Errno::NoEnt);
        assert_eq!(Errno::from_pager(libipc::pager::Errno::Fault), Errno::Fault);
    }
}
