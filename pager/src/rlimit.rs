//! Resource limits with soft and hard values and the setrlimit rules. The
//! pager enforces the memory ones (RLIMIT_AS, RLIMIT_DATA, RLIMIT_STACK,
//! RLIMIT_MEMLOCK); it stores the others for getrlimit and prlimit64, for
//! the servers that enforce them to read.

use libipc::pager::Errno;
use serde::{Deserialize, Serialize};

/// "No limit" (RLIM_INFINITY).
pub const INFINITY: u64 = u64::MAX;
/// Linux's default soft stack limit: 8 MiB.
pub const DEFAULT_STACK: u64 = 8 << 20;
/// Linux's default RLIMIT_MEMLOCK (MLOCK_LIMIT): 8 MiB, soft and hard.
pub const DEFAULT_MEMLOCK: u64 = 8 << 20;

/// The resources, in Linux's order (the discriminant is Linux's number).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Resource {
    Cpu,
    Fsize,
    /// Data: the private writable mappings, brk heap included.
    Data,
    /// A grows-down VMA's size (the main thread's stack).
    Stack,
    Core,
    Rss,
    Nproc,
    Nofile,
    /// Locked bytes (mlock, MAP_LOCKED, mlockall).
    Memlock,
    /// Total address-space size.
    As,
    Locks,
    Sigpending,
    Msgqueue,
    Nice,
    Rtprio,
    Rttime,
}

impl Resource {
    pub const ALL: [Resource; 16] = [
        Resource::Cpu,
        Resource::Fsize,
        Resource::Data,
        Resource::Stack,
        Resource::Core,
        Resource::Rss,
        Resource::Nproc,
        Resource::Nofile,
        Resource::Memlock,
        Resource::As,
        Resource::Locks,
        Resource::Sigpending,
        Resource::Msgqueue,
        Resource::Nice,
        Resource::Rtprio,
        Resource::Rttime,
    ];

    /// The resource with Linux number `n` (`RLIMIT_*`).
    pub fn from_linux(n: u64) -> Option<Resource> {
        usize::try_from(n).ok().and_then(|i| Resource::ALL.get(i).copied())
    }

    /// Linux's number.
    pub fn linux(self) -> usize {
        self as usize
    }
}

/// A soft and a hard limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limit {
    pub soft: u64,
    pub hard: u64,
}

impl Limit {
    pub const UNLIMITED: Limit = Limit {
        soft: INFINITY,
        hard: INFINITY,
    };
}

/// The limits the pager enforces by name; the rest by number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rlimits {
    pub address_space: Limit,
    pub data: Limit,
    pub stack: Limit,
    pub memlock: Limit,
    /// The other resources, indexed by Linux number (the entries of the
    /// four above are unused).
    others: [Limit; 16],
}

impl Default for Rlimits {
    /// Linux's defaults for a process started by the kernel (INIT_RLIMITS);
    /// RLIMIT_NPROC and RLIMIT_SIGPENDING, which Linux sizes from memory,
    /// are unlimited here.
    fn default() -> Self {
        let mut others = [Limit::UNLIMITED; 16];
        let mut set = |r: Resource, soft, hard| others[r.linux()] = Limit { soft, hard };
        set(Resource::Core, 0, INFINITY);
        set(Resource::Nofile, 1024, 4096);
        set(Resource::Msgqueue, 819_200, 819_200);
        set(Resource::Nice, 0, 0);
        set(Resource::Rtprio, 0, 0);
        Rlimits {
            address_space: Limit::UNLIMITED,
            data: Limit::UNLIMITED,
            stack: Limit {
                soft: DEFAULT_STACK,
                hard: INFINITY,
            },
            memlock: Limit {
                soft: DEFAULT_MEMLOCK,
                hard: DEFAULT_MEMLOCK,
            },
            others,
        }
    }
}

impl Rlimits {
    pub fn get(&self, r: Resource) -> Limit {
        match r {
            Resource::As => self.address_space,
            Resource::Data => self.data,
            Resource::Stack => self.stack,
            Resource::Memlock => self.memlock,
            other => self.others[other.linux()],
        }
    }

    /// setrlimit: the soft limit may not exceed the hard one (EINVAL); the
    /// hard limit may rise only with privilege (CAP_SYS_RESOURCE, else
    /// EPERM), so lowering it is one-way for an unprivileged process;
    /// RLIMIT_NOFILE's hard limit never exceeds `nr_open` (EPERM).
    pub fn set(&mut self, r: Resource, new: Limit, privileged: bool) -> Result<(), Errno> {
        if new.soft > new.hard {
            return Err(Errno::Invalid);
        }
        if r == Resource::Nofile && new.hard > crate::linux::abi::NR_OPEN {
            return Err(Errno::NotPermitted);
        }
        let old = self.get(r);
        if new.hard > old.hard && !privileged {
            return Err(Errno::NotPermitted);
        }
        match r {
            Resource::As => self.address_space = new,
            Resource::Data => self.data = new,
            Resource::Stack => self.stack = new,
            Resource::Memlock => self.memlock = new,
            other => self.others[other.linux()] = new,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soft_rises_up_to_hard() {
        let mut l = Rlimits::default();
        l.set(Resource::Data, Limit { soft: 10, hard: 20 }, false).unwrap();
        assert_eq!(l.set(Resource::Data, Limit { soft: 20, hard: 20 }, false), Ok(()));
        assert_eq!(
            l.set(Resource::Data, Limit { soft: 21, hard: 20 }, false),
            Err(Errno::Invalid)
        );
    }

    #[test]
    fn lowering_the_hard_limit_is_one_way() {
        let mut l = Rlimits::default();
        l.set(Resource::As, Limit { soft: 10, hard: 10 }, false).unwrap();
        assert_eq!(
            l.set(Resource::As, Limit { soft: 10, hard: 11 }, false),
            Err(Errno::NotPermitted)
        );
        assert_eq!(l.get(Resource::As), Limit { soft: 10, hard: 10 });
        assert_eq!(l.set(Resource::As, Limit { soft: 10, hard: 11 }, true), Ok(()));
    }

    #[test]
    fn defaults_match_linux() {
        let l = Rlimits::default();
        assert_eq!(l.get(Resource::Stack).soft, 8 << 20);
        assert_eq!(l.get(Resource::As), Limit::UNLIMITED);
        assert_eq!(
            l.get(Resource::Memlock),
            Limit {
                soft: 8 << 20,
                hard: 8 << 20
            }
        );
        assert_eq!(l.get(Resource::Nofile), Limit { soft: 1024, hard: 4096 });
        assert_eq!(l.get(Resource::Core).soft, 0);
    }

    #[test]
    fn every_resource_is_stored_and_numbered_as_linux() {
        let mut l = Rlimits::default();
        for (n, r) in Resource::ALL.into_iter().enumerate() {
            assert_eq!(Resource::from_linux(n as u64), Some(r));
            assert_eq!(r.linux(), n);
            let lim = Limit {
                soft: n as u64,
                hard: n as u64,
            };
            l.set(r, lim, true).unwrap();
            assert_eq!(l.get(r), lim);
        }
        assert_eq!(Resource::from_linux(16), None);
    }

    #[test]
    fn nofile_hard_limit_stops_at_nr_open_even_with_privilege() {
        let mut l = Rlimits::default();
        let over = crate::linux::abi::NR_OPEN + 1;
        assert_eq!(
            l.set(Resource::Nofile, Limit { soft: 1, hard: over }, true),
            Err(Errno::NotPermitted)
        );
    }
}
