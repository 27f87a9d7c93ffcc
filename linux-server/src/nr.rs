//! Linux x86-64 system-call numbers the personality serves, and the
//! constants of their arguments.

mod names;

pub use names::name;

pub const READ: u64 = 0;
pub const WRITE: u64 = 1;
pub const OPEN: u64 = 2;
pub const CLOSE: u64 = 3;
pub const STAT: u64 = 4;
pub const FSTAT: u64 = 5;
pub const LSTAT: u64 = 6;
pub const LSEEK: u64 = 8;
pub const RT_SIGACTION: u64 = 13;
pub const RT_SIGPROCMASK: u64 = 14;
pub const IOCTL: u64 = 16;
pub const PREAD64: u64 = 17;
pub const PWRITE64: u64 = 18;
pub const READV: u64 = 19;
pub const WRITEV: u64 = 20;
pub const ACCESS: u64 = 21;
pub const SCHED_YIELD: u64 = 24;
pub const DUP: u64 = 32;
pub const DUP2: u64 = 33;
pub const NANOSLEEP: u64 = 35;
pub const GETPID: u64 = 39;
pub const UNAME: u64 = 63;
pub const FCNTL: u64 = 72;
pub const GETCWD: u64 = 79;
pub const READLINK: u64 = 89;
pub const GETTIMEOFDAY: u64 = 96;
pub const GETUID: u64 = 102;
pub const GETGID: u64 = 104;
pub const GETEUID: u64 = 107;
pub const GETEGID: u64 = 108;
pub const GETPPID: u64 = 110;
pub const GETGROUPS: u64 = 115;
pub const GETRESUID: u64 = 118;
pub const GETRESGID: u64 = 120;
pub const SIGALTSTACK: u64 = 131;
pub const PRCTL: u64 = 157;
pub const ARCH_PRCTL: u64 = 158;
pub const GETTID: u64 = 186;
pub const TIME: u64 = 201;
pub const FUTEX: u64 = 202;
pub const SET_TID_ADDRESS: u64 = 218;
pub const SCHED_GETAFFINITY: u64 = 204;
pub const CLOCK_GETTIME: u64 = 228;
pub const CLOCK_GETRES: u64 = 229;
pub const CLOCK_NANOSLEEP: u64 = 230;
pub const OPENAT: u64 = 257;
pub const NEWFSTATAT: u64 = 262;
pub const READLINKAT: u64 = 267;
pub const FACCESSAT: u64 = 269;
pub const SET_ROBUST_LIST: u64 = 273;
pub const DUP3: u64 = 292;
pub const GETRANDOM: u64 = 318;
pub const RSEQ: u64 = 334;
pub const FACCESSAT2: u64 = 439;

/// `openat`'s and friends' "the current directory".
pub const AT_FDCWD: i32 = -100;
pub const AT_SYMLINK_NOFOLLOW: u64 = 0x100;
pub const AT_EMPTY_PATH: u64 = 0x1000;

/// open flags.
pub mod o {
    pub const ACCMODE: u64 = 3;
    pub const RDONLY: u64 = 0;
    pub const WRONLY: u64 = 1;
    pub const RDWR: u64 = 2;
    pub const CREAT: u64 = 0o100;
    pub const EXCL: u64 = 0o200;
    pub const TRUNC: u64 = 0o1000;
    pub const APPEND: u64 = 0o2000;
    pub const NONBLOCK: u64 = 0o4000;
    pub const DIRECTORY: u64 = 0o200000;
    pub const CLOEXEC: u64 = 0o2000000;
    /// What F_GETFL reports besides the access mode; F_SETFL changes
    /// only APPEND and NONBLOCK here.
    pub const LARGEFILE: u64 = 0o100000;
}

/// fcntl commands.
pub mod f {
    pub const DUPFD: u64 = 0;
    pub const GETFD: u64 = 1;
    pub const SETFD: u64 = 2;
    pub const GETFL: u64 = 3;
    pub const SETFL: u64 = 4;
    pub const DUPFD_CLOEXEC: u64 = 1030;
    pub const FD_CLOEXEC: u64 = 1;
}

pub const SEEK_SET: u64 = 0;
pub const SEEK_CUR: u64 = 1;
pub const SEEK_END: u64 = 2;
pub const SEEK_DATA: u64 = 3;
pub const SEEK_HOLE: u64 = 4;

pub const ARCH_SET_GS: u64 = 0x1001;
pub const ARCH_SET_FS: u64 = 0x1002;
pub const ARCH_GET_FS: u64 = 0x1003;
pub const ARCH_GET_GS: u64 = 0x1004;

/// prctl options.
pub mod pr {
    pub const SET_PDEATHSIG: u64 = 1;
    pub const GET_PDEATHSIG: u64 = 2;
    pub const GET_DUMPABLE: u64 = 3;
    pub const SET_DUMPABLE: u64 = 4;
    pub const SET_NAME: u64 = 15;
    pub const GET_NAME: u64 = 16;
    pub const SET_NO_NEW_PRIVS: u64 = 38;
    pub const GET_NO_NEW_PRIVS: u64 = 39;
}

/// futex operations (after the PRIVATE and CLOCK_REALTIME flags).
pub mod futex {
    pub const WAIT: u64 = 0;
    pub const WAKE: u64 = 1;
    pub const REQUEUE: u64 = 3;
    pub const CMP_REQUEUE: u64 = 4;
    pub const WAIT_BITSET: u64 = 9;
    pub const WAKE_BITSET: u64 = 10;
    pub const CMD_MASK: u64 = 127;
    pub const CLOCK_REALTIME: u64 = 256;
}

pub mod grnd {
    pub const NONBLOCK: u64 = 1;
    pub const RANDOM: u64 = 2;
    pub const INSECURE: u64 = 4;
}

/// Linux's limit on one `readv`'s or `writev`'s vector.
pub const IOV_MAX: u64 = 1024;
/// Linux's cap on one read or write (`MAX_RW_COUNT`).
pub const MAX_RW_COUNT: u64 = 0x7fff_f000;
