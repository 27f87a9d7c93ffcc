//! Linux's errno values for the memory calls: every error a call can
//! return, by name, with its x86-64 number.

/// An errno the memory calls return (`-errno` in rax).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Errno {
    Perm,
    NoEnt,
    Srch,
    BadF,
    Again,
    NoMem,
    Acces,
    Fault,
    Busy,
    Exist,
    NoDev,
    Inval,
    NoSpc,
    NoSys,
    Overflow,
    OpNotSupp,
}

impl Errno {
    pub const ALL: [Errno; 16] = [
        Errno::Perm,
        Errno::NoEnt,
        Errno::Srch,
        Errno::BadF,
        Errno::Again,
        Errno::NoMem,
        Errno::Acces,
        Errno::Fault,
        Errno::Busy,
        Errno::Exist,
        Errno::NoDev,
        Errno::Inval,
        Errno::NoSpc,
        Errno::NoSys,
        Errno::Overflow,
        Errno::OpNotSupp,
    ];

    /// The x86-64 number.
    pub const fn code(self) -> i32 {
        match self {
            Errno::Perm => 1,
            Errno::NoEnt => 2,
            Errno::Srch => 3,
            Errno::BadF => 9,
            Errno::Again => 11,
            Errno::NoMem => 12,
            Errno::Acces => 13,
            Errno::Fault => 14,
            Errno::Busy => 16,
            Errno::Exist => 17,
            Errno::NoDev => 19,
            Errno::Inval => 22,
            Errno::NoSpc => 28,
            Errno::NoSys => 38,
            Errno::Overflow => 75,
            Errno::OpNotSupp => 95,
        }
    }

    /// The C name (`ENOMEM`), as strerror's tables and the probes print it.
    pub const fn name(self) -> &'static str {
        match self {
            Errno::Perm => "EPERM",
            Errno::NoEnt => "ENOENT",
            Errno::Srch => "ESRCH",
            Errno::BadF => "EBADF",
            Errno::Again => "EAGAIN",
            Errno::NoMem => "ENOMEM",
            Errno::Acces => "EACCES",
            Errno::Fault => "EFAULT",
            Errno::Busy => "EBUSY",
            Errno::Exist => "EEXIST",
            Errno::NoDev => "ENODEV",
            Errno::Inval => "EINVAL",
            Errno::NoSpc => "ENOSPC",
            Errno::NoSys => "ENOSYS",
            Errno::Overflow => "EOVERFLOW",
            Errno::OpNotSupp => "EOPNOTSUPP",
        }
    }

    /// What rax holds: `-errno`.
    pub const fn rax(self) -> i64 {
        -(self.code() as i64)
    }

    /// The nearest native-protocol errno (the native protocol has no
    /// EAGAIN, EBUSY and so on).
    pub const fn to_native(self) -> libipc::pager::Errno {
        use libipc::pager::Errno as N;
        match self {
            Errno::Perm => N::NotPermitted,
            Errno::NoEnt => N::NoEntry,
            Errno::NoMem | Errno::Again | Errno::NoSpc => N::NoMemory,
            Errno::Acces => N::Access,
            Errno::Fault => N::Fault,
            Errno::Exist => N::Exists,
            Errno::NoSys => N::NotSupported,
            _ => N::Invalid,
        }
    }

    /// The errno whose `-errno` is `rax`, if any.
    pub fn from_rax(rax: i64) -> Option<Errno> {
        Errno::ALL.into_iter().find(|e| e.rax() == rax)
    }
}

/// The native protocol's errors are Linux errnos too.
impl From<libipc::pager::Errno> for Errno {
    fn from(e: libipc::pager::Errno) -> Errno {
        use libipc::pager::Errno as N;
        match e {
            N::NotPermitted => Errno::Perm,
            N::NoEntry => Errno::NoEnt,
            N::NoMemory => Errno::NoMem,
            N::Invalid => Errno::Inval,
            N::Exists => Errno::Exist,
            N::Access => Errno::Acces,
            N::Fault => Errno::Fault,
            N::Io => Errno::Inval,
            N::NotSupported => Errno::NoSys,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_round_trip() {
        for e in Errno::ALL {
            assert_eq!(Errno::from_rax(e.rax()), Some(e));
            assert!(e.name().starts_with('E'));
        }
        assert_eq!(Errno::from_rax(0), None);
    }

    #[test]
    fn native_errnos_keep_their_numbers() {
        use libipc::pager::Errno as N;
        for n in [
            N::NotPermitted,
            N::NoEntry,
            N::NoMemory,
            N::Invalid,
            N::Exists,
            N::Access,
            N::Fault,
            N::NotSupported,
        ] {
            assert_eq!(Errno::from(n).code(), n.code());
        }
    }
}
