//! Newtypes shared across the IPC boundary.

use serde::{Deserialize, Serialize};

/// Size of a base page.
pub const PAGE_SIZE: u64 = 4096;

/// Size of a huge page: what one level-2 (page-directory) entry maps.
pub const HUGE_PAGE_SIZE: u64 = 2 << 20;

/// Base pages in one huge page.
pub const PAGES_PER_HUGE: u64 = HUGE_PAGE_SIZE / PAGE_SIZE;

/// A process identifier, assigned by the kernel. It names one process for
/// that process's whole life: the kernel reuses table slots, but tags each
/// id with the slot's generation, so a stale id names nothing rather than a
/// later process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Pid(pub u32);

/// A thread identifier, assigned by the kernel like a [`Pid`]: unique
/// system-wide while the thread lives, never reused for a later thread of
/// the same slot generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Tid(pub u32);

/// A slot of the calling process's capability table (see
/// [`crate::abi`]): the only way a process names an endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CapSlot(pub u32);

/// The identity the kernel stamps on every message: who sent it. It travels
/// in registers set by the kernel, never in the message body, so a sender
/// cannot forge it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Sender {
    pub pid: Pid,
    pub tid: Tid,
}

impl Sender {
    /// Packs into one register: pid in the high half, tid in the low half.
    pub const fn to_word(self) -> u64 {
        ((self.pid.0 as u64) << 32) | self.tid.0 as u64
    }

    pub const fn from_word(word: u64) -> Self {
        Sender {
            pid: Pid((word >> 32) as u32),
            tid: Tid(word as u32),
        }
    }
}

/// A virtual address in some address space.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[repr(transparent)]
pub struct VirtAddr(pub u64);

impl VirtAddr {
    pub const fn is_page_aligned(self) -> bool {
        self.0.is_multiple_of(PAGE_SIZE)
    }

    pub const fn page_down(self) -> Self {
        VirtAddr(self.0 & !(PAGE_SIZE - 1))
    }

    /// Whether a huge page may start here.
    pub const fn is_huge_aligned(self) -> bool {
        self.0.is_multiple_of(HUGE_PAGE_SIZE)
    }

    /// Canonical with 48-bit (4-level) addressing: bits 63..47 all equal.
    pub const fn is_canonical(self) -> bool {
        let top = self.0 >> 47;
        top == 0 || top == (1 << 17) - 1
    }

    /// Below [`USER_END`], where user mappings live.
    pub const fn is_user(self) -> bool {
        self.0 < USER_END.0
    }

    /// Canonical with `levels`-level paging: bits 63..47 (4 levels) or
    /// 63..56 (5 levels, LA57) all equal. Anything but 5 is 4 levels.
    pub const fn is_canonical_for(self, levels: u64) -> bool {
        let bits = if levels == 5 { 56 } else { 47 };
        let top = self.0 >> bits;
        top == 0 || top == (1 << (64 - bits)) - 1
    }

    /// Below [`user_end`]`(levels)`: user memory with `levels`-level paging.
    pub const fn is_user_for(self, levels: u64) -> bool {
        self.0 < user_end(levels).0
    }
}

impl core::fmt::LowerHex for VirtAddr {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::LowerHex::fmt(&self.0, f)
    }
}

/// One past the highest user address with 4-level paging: the canonical
/// lower half without its last page (Linux's `TASK_SIZE_MAX`). That page
/// stays unmapped so the address after a `syscall` instruction is always
/// canonical: `sysretq` to a non-canonical address faults in ring 0 on
/// Intel CPUs, on the user's stack.
pub const USER_END: VirtAddr = VirtAddr(0x0000_7fff_ffff_f000);

/// [`USER_END`] with 5-level paging (LA57): the 57-bit lower half without
/// its last page (Linux's `TASK_SIZE_MAX` with LA57).
pub const USER_END_LA57: VirtAddr = VirtAddr(0x00ff_ffff_ffff_f000);

/// One past the highest user address with `levels`-level paging (5: LA57,
/// anything else: 4).
pub const fn user_end(levels: u64) -> VirtAddr {
    if levels == 5 { USER_END_LA57 } else { USER_END }
}

/// A physical address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[repr(transparent)]
pub struct PhysAddr(pub u64);

impl PhysAddr {
    pub const fn is_page_aligned(self) -> bool {
        self.0.is_multiple_of(PAGE_SIZE)
    }

    /// Whether a huge frame may start here.
    pub const fn is_huge_aligned(self) -> bool {
        self.0.is_multiple_of(HUGE_PAGE_SIZE)
    }

    /// The page frame number.
    pub const fn pfn(self) -> u64 {
        self.0 / PAGE_SIZE
    }
}

/// A number of pages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PageCount(pub u64);

impl PageCount {
    pub const fn bytes(self) -> u64 {
        self.0 * PAGE_SIZE
    }
}

/// The kind of access that faulted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Access {
    Read,
    Write,
    Execute,
}

/// Page protection bits, as in mmap's `prot`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Prot(pub u8);

impl Prot {
    pub const NONE: Prot = Prot(0);
    pub const READ: Prot = Prot(1);
    pub const WRITE: Prot = Prot(2);
    pub const EXEC: Prot = Prot(4);
    pub const RW: Prot = Prot(3);
    pub const RX: Prot = Prot(5);

    pub const fn contains(self, other: Prot) -> bool {
        self.0 & other.0 == other.0
    }

    pub const fn union(self, other: Prot) -> Prot {
        Prot(self.0 | other.0)
    }

    /// These bits without `other`'s.
    pub const fn difference(self, other: Prot) -> Prot {
        Prot(self.0 & !other.0)
    }

    pub const fn is_valid(self) -> bool {
        self.0 & !7 == 0
    }

    /// Whether this protection permits `access`.
    pub const fn permits(self, access: Access) -> bool {
        match access {
            Access::Read => self.contains(Prot::READ),
            Access::Write => self.contains(Prot::WRITE),
            Access::Execute => self.contains(Prot::EXEC),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sender_word_round_trips() {
        let s = Sender {
            pid: Pid(7),
            tid: Tid(0xdead_beef),
        };
        assert_eq!(Sender::from_word(s.to_word()), s);
    }

    #[test]
    fn canonical_addresses() {
        assert!(VirtAddr(0x0000_7fff_ffff_f000).is_canonical());
        assert!(VirtAddr(0xffff_8000_0000_0000).is_canonical());
        assert!(!VirtAddr(0x0000_8000_0000_0000).is_canonical());
        assert!(!VirtAddr(0xdead_beef_0000_0000).is_canonical());
        assert!(VirtAddr(0x1000).is_user());
        assert!(VirtAddr(0x7fff_ffff_e000).is_user());
        assert!(
            !VirtAddr(0x7fff_ffff_f000).is_user(),
            "the last lower-half page is not user memory"
        );
        assert!(!VirtAddr(0xffff_8000_0000_0000).is_user());
    }

    #[test]
    fn canonical_addresses_follow_the_paging_width() {
        for levels in [4, 5] {
            assert!(VirtAddr(0x0000_7fff_ffff_f000).is_canonical_for(levels));
            assert!(VirtAddr(0xffff_ffff_8000_0000).is_canonical_for(levels));
            assert!(!VirtAddr(0xdead_beef_0000_0000).is_canonical_for(levels));
        }
        assert!(!VirtAddr(1 << 48).is_canonical_for(4));
        assert!(VirtAddr(1 << 48).is_canonical_for(5));
        assert!(VirtAddr(0xff00_0000_0000_0000).is_canonical_for(5));
        assert!(!VirtAddr(0xfe00_0000_0000_0000).is_canonical_for(5));
        assert!(!VirtAddr(1 << 56).is_canonical_for(5));
        // Anything but 5 is the 4-level width.
        assert!(!VirtAddr(1 << 48).is_canonical_for(3));
        assert_eq!(user_end(4), USER_END);
        assert_eq!(user_end(0), USER_END);
        assert_eq!(user_end(5), USER_END_LA57);
        assert!(VirtAddr((1 << 56) - (1 << 30)).is_user_for(5));
        assert!(!VirtAddr((1 << 56) - (1 << 30)).is_user_for(4));
        assert!(!VirtAddr(USER_END_LA57.0).is_user_for(5));
    }

    #[test]
    fn prot_permits() {
        assert!(Prot::RW.permits(Access::Write));
        assert!(!Prot::READ.permits(Access::Write));
        assert!(!Prot::RW.permits(Access::Execute));
        assert!(Prot::RX.permits(Access::Execute));
        assert!(!Prot(8).is_valid());
    }
}
