//! The byte layouts of the structures the calls read and write, as
//! Linux x86-64 defines them.

use crate::errno::Errno;

/// `struct stat` (144 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stat {
    pub dev: u64,
    pub ino: u64,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub rdev: u64,
    pub size: u64,
}

pub mod mode {
    pub const REGULAR: u32 = 0o100000;
    pub const DIRECTORY: u32 = 0o040000;
    pub const CHAR_DEVICE: u32 = 0o020000;
}

impl Stat {
    pub const SIZE: usize = 144;

    pub fn to_bytes(&self) -> [u8; Stat::SIZE] {
        let mut b = [0u8; Stat::SIZE];
        put(&mut b, 0, self.dev);
        put(&mut b, 8, self.ino);
        put(&mut b, 16, 1); // st_nlink
        b[24..28].copy_from_slice(&self.mode.to_le_bytes());
        b[28..32].copy_from_slice(&self.uid.to_le_bytes());
        b[32..36].copy_from_slice(&self.gid.to_le_bytes());
        put(&mut b, 40, self.rdev);
        put(&mut b, 48, self.size);
        put(&mut b, 56, 4096); // st_blksize
        put(&mut b, 64, self.size.div_ceil(512)); // st_blocks
        b
    }
}

/// `makedev(major, minor)` as glibc packs it.
pub const fn makedev(major: u32, minor: u32) -> u64 {
    let (major, minor) = (major as u64, minor as u64);
    ((major & 0xfff) << 8) | ((major & !0xfff) << 32) | (minor & 0xff) | ((minor & !0xff) << 12)
}

/// `struct utsname`: six fields of 65 bytes.
pub fn utsname(fields: [&str; 6]) -> [u8; 390] {
    let mut b = [0u8; 390];
    for (i, field) in fields.iter().enumerate() {
        let n = field.len().min(64);
        b[i * 65..i * 65 + n].copy_from_slice(&field.as_bytes()[..n]);
    }
    b
}

/// A time: seconds and nanoseconds (`struct timespec`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timespec {
    pub sec: u64,
    pub nsec: u32,
}

impl Timespec {
    pub const fn from_nanos(ns: u64) -> Timespec {
        Timespec {
            sec: ns / 1_000_000_000,
            nsec: (ns % 1_000_000_000) as u32,
        }
    }

    /// Nanoseconds, saturating (past year 2554).
    pub const fn nanos(self) -> u64 {
        self.sec.saturating_mul(1_000_000_000).saturating_add(self.nsec as u64)
    }

    pub fn to_bytes(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        put(&mut b, 0, self.sec);
        put(&mut b, 8, u64::from(self.nsec));
        b
    }

    /// `struct timeval`: microseconds.
    pub fn to_timeval(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        put(&mut b, 0, self.sec);
        put(&mut b, 8, u64::from(self.nsec / 1000));
        b
    }

    /// A timespec a program passes: EINVAL unless 0 <= tv_nsec < 10^9
    /// and tv_sec >= 0.
    pub fn from_bytes(b: &[u8; 16]) -> Result<Timespec, Errno> {
        let sec = i64::from_le_bytes(b[..8].try_into().expect("8 bytes"));
        let nsec = i64::from_le_bytes(b[8..].try_into().expect("8 bytes"));
        if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
            return Err(Errno::Inval);
        }
        Ok(Timespec {
            sec: sec as u64,
            nsec: nsec as u32,
        })
    }
}

fn put(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// Reads the little-endian word at `at`.
pub fn word(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_sit_where_linux_puts_them() {
        let s = Stat {
            dev: 1,
            ino: 7,
            mode: mode::REGULAR | 0o555,
            uid: 1000,
            gid: 1000,
            rdev: 0,
            size: 1025,
        };
        let b = s.to_bytes();
        assert_eq!(word(&b, 8), 7);
        assert_eq!(u32::from_le_bytes(b[24..28].try_into().unwrap()), 0o100555);
        assert_eq!(word(&b, 48), 1025);
        assert_eq!(word(&b, 64), 3);
    }

    #[test]
    fn devices_pack_as_glibc_does() {
        assert_eq!(makedev(0, 1), 1);
        assert_eq!(makedev(4, 64), 0x440);
        assert_eq!(makedev(0x1000, 0x100), (1 << 44) | (1 << 20));
    }

    #[test]
    fn timespecs() {
        let t = Timespec::from_nanos(3_000_000_123);
        assert_eq!((t.sec, t.nsec), (3, 123));
        assert_eq!(Timespec::from_bytes(&t.to_bytes()), Ok(t));
        let mut bad = t.to_bytes();
        bad[8..].copy_from_slice(&1_000_000_000i64.to_le_bytes());
        assert_eq!(Timespec::from_bytes(&bad), Err(Errno::Inval));
        bad[..8].copy_from_slice(&(-1i64).to_le_bytes());
        assert_eq!(Timespec::from_bytes(&bad), Err(Errno::Inval));
        assert_eq!(word(&t.to_timeval(), 8), 0);
    }

    #[test]
    fn utsname_fields_are_65_bytes() {
        let u = utsname(["Linux", "host", "6.1", "#1", "x86_64", "(none)"]);
        assert_eq!(&u[..6], b"Linux\0");
        assert_eq!(&u[4 * 65..4 * 65 + 7], b"x86_64\0");
    }
}
