//! Linux's x86-64 numbers for the memory calls: system-call numbers and
//! the flag values of their arguments (from the uapi headers; the
//! differential test checks them against the host's C headers).

/// System-call numbers.
pub mod nr {
    pub const MMAP: u64 = 9;
    pub const MPROTECT: u64 = 10;
    pub const MUNMAP: u64 = 11;
    pub const BRK: u64 = 12;
    pub const MREMAP: u64 = 25;
    pub const MSYNC: u64 = 26;
    pub const MINCORE: u64 = 27;
    pub const MADVISE: u64 = 28;
    pub const GETRLIMIT: u64 = 97;
    pub const MLOCK: u64 = 149;
    pub const MUNLOCK: u64 = 150;
    pub const MLOCKALL: u64 = 151;
    pub const MUNLOCKALL: u64 = 152;
    pub const SETRLIMIT: u64 = 160;
    pub const PRLIMIT64: u64 = 302;
    pub const MLOCK2: u64 = 325;
}

/// mmap/mprotect protection bits.
pub mod prot {
    pub const READ: u64 = 0x1;
    pub const WRITE: u64 = 0x2;
    pub const EXEC: u64 = 0x4;
    /// Accepted and ignored (x86 has no such page bit).
    pub const SEM: u64 = 0x8;
    pub const GROWSDOWN: u64 = 0x0100_0000;
    pub const GROWSUP: u64 = 0x0200_0000;
}

/// mmap flags.
pub mod map {
    pub const SHARED: u64 = 0x01;
    pub const PRIVATE: u64 = 0x02;
    pub const SHARED_VALIDATE: u64 = 0x03;
    pub const DROPPABLE: u64 = 0x08;
    /// The bits that say shared, private or droppable.
    pub const TYPE: u64 = 0x0f;
    pub const FIXED: u64 = 0x10;
    pub const ANONYMOUS: u64 = 0x20;
    pub const BIT32: u64 = 0x40;
    pub const GROWSDOWN: u64 = 0x100;
    pub const DENYWRITE: u64 = 0x800;
    pub const EXECUTABLE: u64 = 0x1000;
    pub const LOCKED: u64 = 0x2000;
    pub const NORESERVE: u64 = 0x4000;
    pub const POPULATE: u64 = 0x8000;
    pub const NONBLOCK: u64 = 0x1_0000;
    pub const STACK: u64 = 0x2_0000;
    pub const HUGETLB: u64 = 0x4_0000;
    pub const SYNC: u64 = 0x8_0000;
    pub const FIXED_NOREPLACE: u64 = 0x10_0000;
    pub const UNINITIALIZED: u64 = 0x400_0000;
    /// The huge-page size (log2) of MAP_HUGETLB sits at this shift.
    pub const HUGE_SHIFT: u32 = 26;
    pub const HUGE_MASK: u64 = 0x3f;
    /// The flags MAP_SHARED_VALIDATE knows (LEGACY_MAP_MASK and MAP_SYNC).
    pub const SHARED_VALIDATE_KNOWN: u64 = SHARED
        | PRIVATE
        | FIXED
        | ANONYMOUS
        | DENYWRITE
        | EXECUTABLE
        | UNINITIALIZED
        | GROWSDOWN
        | LOCKED
        | NORESERVE
        | POPULATE
        | NONBLOCK
        | STACK
        | HUGETLB
        | SYNC
        | FIXED_NOREPLACE
        | (HUGE_MASK << HUGE_SHIFT);
}

/// mremap flags.
pub mod mremap {
    pub const MAYMOVE: u64 = 1;
    pub const FIXED: u64 = 2;
    pub const DONTUNMAP: u64 = 4;
}

/// msync flags.
pub mod ms {
    pub const ASYNC: u64 = 1;
    pub const INVALIDATE: u64 = 2;
    pub const SYNC: u64 = 4;
}

/// mlockall and mlock2 flags.
pub mod mcl {
    pub const CURRENT: u64 = 1;
    pub const FUTURE: u64 = 2;
    pub const ONFAULT: u64 = 4;
    /// mlock2's only flag.
    pub const MLOCK_ONFAULT: u64 = 1;
}

/// madvise advice values.
pub mod madv {
    pub const NORMAL: u64 = 0;
    pub const RANDOM: u64 = 1;
    pub const SEQUENTIAL: u64 = 2;
    pub const WILLNEED: u64 = 3;
    pub const DONTNEED: u64 = 4;
    pub const FREE: u64 = 8;
    pub const REMOVE: u64 = 9;
    pub const DONTFORK: u64 = 10;
    pub const DOFORK: u64 = 11;
    pub const MERGEABLE: u64 = 12;
    pub const UNMERGEABLE: u64 = 13;
    pub const HUGEPAGE: u64 = 14;
    pub const NOHUGEPAGE: u64 = 15;
    pub const DONTDUMP: u64 = 16;
    pub const DODUMP: u64 = 17;
    pub const WIPEONFORK: u64 = 18;
    pub const KEEPONFORK: u64 = 19;
    pub const COLD: u64 = 20;
    pub const PAGEOUT: u64 = 21;
    pub const POPULATE_READ: u64 = 22;
    pub const POPULATE_WRITE: u64 = 23;
    pub const DONTNEED_LOCKED: u64 = 24;
    pub const COLLAPSE: u64 = 25;
    pub const HWPOISON: u64 = 100;
    pub const SOFT_OFFLINE: u64 = 101;
    pub const GUARD_INSTALL: u64 = 102;
    pub const GUARD_REMOVE: u64 = 103;
}

/// `RLIM_INFINITY`.
pub const RLIM_INFINITY: u64 = u64::MAX;
/// Linux's `sysctl_nr_open`: RLIMIT_NOFILE's hard limit may not exceed it.
pub const NR_OPEN: u64 = 1 << 20;

/// Every name the probes use with its value, for the differential test
/// to check against the host's headers.
pub const SYMBOLS: &[(&str, u64)] = &[
    ("PROT_NONE", 0),
    ("PROT_READ", prot::READ),
    ("PROT_WRITE", prot::WRITE),
    ("PROT_EXEC", prot::EXEC),
    ("PROT_SEM", prot::SEM),
    ("PROT_GROWSDOWN", prot::GROWSDOWN),
    ("PROT_GROWSUP", prot::GROWSUP),
    ("MAP_SHARED", map::SHARED),
    ("MAP_PRIVATE", map::PRIVATE),
    ("MAP_SHARED_VALIDATE", map::SHARED_VALIDATE),
    ("MAP_DROPPABLE", map::DROPPABLE),
    ("MAP_FIXED", map::FIXED),
    ("MAP_ANONYMOUS", map::ANONYMOUS),
    ("MAP_32BIT", map::BIT32),
    ("MAP_GROWSDOWN", map::GROWSDOWN),
    ("MAP_DENYWRITE", map::DENYWRITE),
    ("MAP_EXECUTABLE", map::EXECUTABLE),
    ("MAP_LOCKED", map::LOCKED),
    ("MAP_NORESERVE", map::NORESERVE),
    ("MAP_POPULATE", map::POPULATE),
    ("MAP_NONBLOCK", map::NONBLOCK),
    ("MAP_STACK", map::STACK),
    ("MAP_HUGETLB", map::HUGETLB),
    ("MAP_SYNC", map::SYNC),
    ("MAP_FIXED_NOREPLACE", map::FIXED_NOREPLACE),
    ("MAP_UNINITIALIZED", map::UNINITIALIZED),
    ("MAP_HUGE_2MB", 21 << map::HUGE_SHIFT),
    ("MAP_HUGE_1GB", 30 << map::HUGE_SHIFT),
    ("MAP_HUGE_BAD", 13 << map::HUGE_SHIFT),
    ("MREMAP_MAYMOVE", mremap::MAYMOVE),
    ("MREMAP_FIXED", mremap::FIXED),
    ("MREMAP_DONTUNMAP", mremap::DONTUNMAP),
    ("MADV_NORMAL", madv::NORMAL),
    ("MADV_RANDOM", madv::RANDOM),
    ("MADV_SEQUENTIAL", madv::SEQUENTIAL),
    ("MADV_WILLNEED", madv::WILLNEED),
    ("MADV_DONTNEED", madv::DONTNEED),
    ("MADV_FREE", madv::FREE),
    ("MADV_REMOVE", madv::REMOVE),
    ("MADV_DONTFORK", madv::DONTFORK),
    ("MADV_DOFORK", madv::DOFORK),
    ("MADV_MERGEABLE", madv::MERGEABLE),
    ("MADV_UNMERGEABLE", madv::UNMERGEABLE),
    ("MADV_HUGEPAGE", madv::HUGEPAGE),
    ("MADV_NOHUGEPAGE", madv::NOHUGEPAGE),
    ("MADV_DONTDUMP", madv::DONTDUMP),
    ("MADV_DODUMP", madv::DODUMP),
    ("MADV_WIPEONFORK", madv::WIPEONFORK),
    ("MADV_KEEPONFORK", madv::KEEPONFORK),
    ("MADV_COLD", madv::COLD),
    ("MADV_PAGEOUT", madv::PAGEOUT),
    ("MADV_POPULATE_READ", madv::POPULATE_READ),
    ("MADV_POPULATE_WRITE", madv::POPULATE_WRITE),
    ("MADV_DONTNEED_LOCKED", madv::DONTNEED_LOCKED),
    ("MADV_COLLAPSE", madv::COLLAPSE),
    ("MADV_HWPOISON", madv::HWPOISON),
    ("MADV_SOFT_OFFLINE", madv::SOFT_OFFLINE),
    ("MADV_GUARD_INSTALL", madv::GUARD_INSTALL),
    ("MADV_GUARD_REMOVE", madv::GUARD_REMOVE),
    ("MS_ASYNC", ms::ASYNC),
    ("MS_INVALIDATE", ms::INVALIDATE),
    ("MS_SYNC", ms::SYNC),
    ("MCL_CURRENT", mcl::CURRENT),
    ("MCL_FUTURE", mcl::FUTURE),
    ("MCL_ONFAULT", mcl::ONFAULT),
    ("MLOCK_ONFAULT", mcl::MLOCK_ONFAULT),
    ("RLIMIT_CPU", 0),
    ("RLIMIT_FSIZE", 1),
    ("RLIMIT_DATA", 2),
    ("RLIMIT_STACK", 3),
    ("RLIMIT_CORE", 4),
    ("RLIMIT_RSS", 5),
    ("RLIMIT_NPROC", 6),
    ("RLIMIT_NOFILE", 7),
    ("RLIMIT_MEMLOCK", 8),
    ("RLIMIT_AS", 9),
    ("RLIMIT_LOCKS", 10),
    ("RLIMIT_SIGPENDING", 11),
    ("RLIMIT_MSGQUEUE", 12),
    ("RLIMIT_NICE", 13),
    ("RLIMIT_RTPRIO", 14),
    ("RLIMIT_RTTIME", 15),
    ("SYS_mmap", nr::MMAP),
    ("SYS_mprotect", nr::MPROTECT),
    ("SYS_munmap", nr::MUNMAP),
    ("SYS_brk", nr::BRK),
    ("SYS_mremap", nr::MREMAP),
    ("SYS_msync", nr::MSYNC),
    ("SYS_mincore", nr::MINCORE),
    ("SYS_madvise", nr::MADVISE),
    ("SYS_getrlimit", nr::GETRLIMIT),
    ("SYS_setrlimit", nr::SETRLIMIT),
    ("SYS_mlock", nr::MLOCK),
    ("SYS_munlock", nr::MUNLOCK),
    ("SYS_mlockall", nr::MLOCKALL),
    ("SYS_munlockall", nr::MUNLOCKALL),
    ("SYS_prlimit64", nr::PRLIMIT64),
    ("SYS_mlock2", nr::MLOCK2),
];

/// The value of a symbol of [`SYMBOLS`].
pub fn symbol(name: &str) -> Option<u64> {
    SYMBOLS.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}
