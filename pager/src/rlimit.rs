//! Resource limits: RLIMIT_AS, RLIMIT_DATA and RLIMIT_STACK with soft and
//! hard values and the setrlimit rules.

use libipc::pager::Errno;
use serde::{Deserialize, Serialize};

/// "No limit" (RLIM_INFINITY).
pub const INFINITY: u64 = u64::MAX;
/// Linux's default soft stack limit: 8 MiB.
pub const DEFAULT_STACK: u64 = 8 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Resource {
    /// Total address-space size.
    As,
    /// Data segment: brk heap plus private writable mappings.
    Data,
    /// The main thread's stack.
    Stack,
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rlimits {
    pub address_space: Limit,
    pub data: Limit,
    pub stack: Limit,
}

impl Default for Rlimits {
    fn default() -> Self {
        Rlimits {
            address_space: Limit::UNLIMITED,
            data: Limit::UNLIMITED,
            stack: Limit {
                soft: DEFAULT_STACK,
                hard: INFINITY,
            },
        }
    }
}

impl Rlimits {
    pub fn get(&self, r: Resource) -> Limit {
        match r {
            Resource::As => self.address_space,
            Resource::Data => self.data,
            Resource::Stack => self.stack,
        }
    }

    /// setrlimit: the soft limit may not exceed the hard one (EINVAL); the
    /// hard limit may rise only with privilege (EPERM); lowering it is
    /// one-way for an unprivileged process.
    pub fn set(&mut self, r: Resource, new: Limit, privileged: bool) -> Result<(), Errno> {
        if new.soft > new.hard {
            return Err(Errno::Invalid);
        }
        let old = self.get(r);
        if new.hard > old.hard && !privileged {
            return Err(Errno::NotPermitted);
        }
        match r {
            Resource::As => self.address_space = new,
            Resource::Data => self.data = new,
            Resource::Stack => self.stack = new,
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
    }
}
