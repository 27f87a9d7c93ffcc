//! Process access rights: what a caller may do to a process.
//!
//! The values are Windows' (`winnt.h`), so descriptors and audit output read
//! the same as on Windows and nobody has to learn a second numbering.

use core::{fmt, ops};

/// A set of process access rights.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct AccessMask(u32);

impl AccessMask {
    pub const NONE: AccessMask = AccessMask(0);
    /// Read the process's memory (`mem` reads).
    pub const PROCESS_VM_READ: AccessMask = AccessMask(0x0010);
    /// Write the process's memory (`mem` writes).
    pub const PROCESS_VM_WRITE: AccessMask = AccessMask(0x0020);
    /// Detailed information: `smaps`, `smaps_rollup`, `pagemap`.
    pub const PROCESS_QUERY_INFORMATION: AccessMask = AccessMask(0x0400);
    /// Coarse information: `maps`.
    pub const PROCESS_QUERY_LIMITED_INFORMATION: AccessMask = AccessMask(0x1000);
    /// Every process-specific and standard right (Windows'
    /// `PROCESS_ALL_ACCESS` since Vista).
    pub const PROCESS_ALL_ACCESS: AccessMask = AccessMask(0x001F_FFFF);

    /// The mask with these raw bits.
    pub const fn from_bits(bits: u32) -> AccessMask {
        AccessMask(bits)
    }

    pub const fn bits(self) -> u32 {
        self.0
    }

    pub const fn contains(self, other: AccessMask) -> bool {
        self.0 & other.0 == other.0
    }

    pub const fn intersects(self, other: AccessMask) -> bool {
        self.0 & other.0 != 0
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The mask plus the rights its rights imply: holding
    /// PROCESS_QUERY_INFORMATION means holding
    /// PROCESS_QUERY_LIMITED_INFORMATION too (Windows grants the limited
    /// right with the full one, so a caller never sees more with less).
    pub const fn with_implied(self) -> AccessMask {
        if self.contains(AccessMask::PROCESS_QUERY_INFORMATION) {
            AccessMask(self.0 | AccessMask::PROCESS_QUERY_LIMITED_INFORMATION.0)
        } else {
            self
        }
    }
}

impl ops::BitOr for AccessMask {
    type Output = AccessMask;
    fn bitor(self, rhs: AccessMask) -> AccessMask {
        AccessMask(self.0 | rhs.0)
    }
}

impl ops::BitOrAssign for AccessMask {
    fn bitor_assign(&mut self, rhs: AccessMask) {
        self.0 |= rhs.0;
    }
}

impl ops::BitAnd for AccessMask {
    type Output = AccessMask;
    fn bitand(self, rhs: AccessMask) -> AccessMask {
        AccessMask(self.0 & rhs.0)
    }
}

impl ops::Not for AccessMask {
    type Output = AccessMask;
    fn not(self) -> AccessMask {
        AccessMask(!self.0)
    }
}

impl fmt::Debug for AccessMask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccessMask({:#06x})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_values() {
        assert_eq!(AccessMask::PROCESS_VM_READ.bits(), 0x10);
        assert_eq!(AccessMask::PROCESS_VM_WRITE.bits(), 0x20);
        assert_eq!(AccessMask::PROCESS_QUERY_INFORMATION.bits(), 0x400);
        assert_eq!(AccessMask::PROCESS_QUERY_LIMITED_INFORMATION.bits(), 0x1000);
        assert!(AccessMask::PROCESS_ALL_ACCESS.contains(
            AccessMask::PROCESS_VM_READ
                | AccessMask::PROCESS_VM_WRITE
                | AccessMask::PROCESS_QUERY_INFORMATION
                | AccessMask::PROCESS_QUERY_LIMITED_INFORMATION
        ));
    }

    #[test]
    fn query_information_implies_limited() {
        let full = AccessMask::PROCESS_QUERY_INFORMATION.with_implied();
        assert!(full.contains(AccessMask::PROCESS_QUERY_LIMITED_INFORMATION));
        let limited = AccessMask::PROCESS_QUERY_LIMITED_INFORMATION.with_implied();
        assert!(!limited.contains(AccessMask::PROCESS_QUERY_INFORMATION));
        assert_eq!(AccessMask::PROCESS_VM_READ.with_implied(), AccessMask::PROCESS_VM_READ);
    }
}
