//! Access tokens: the identity a thread acts with.
//!
//! A process has a primary token; a thread may put on an impersonation token
//! (a server acting for a client) and then acts with the client's identity.
//! The *effective* token is the impersonation token when there is one, so a
//! server impersonating a weaker client cannot reach more than the client
//! could, not even its own process.

use alloc::vec::Vec;

use crate::sid::Sid;

/// Privileges a token may hold. Held means enabled: this system has no
/// `AdjustTokenPrivileges`, so a privilege is either in the token or not.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Privileges(u8);

impl Privileges {
    pub const NONE: Privileges = Privileges(0);
    /// SeTcbPrivilege ("act as part of the operating system"): here, to see
    /// physical frame numbers and swap locations in `pagemap`. Grants no
    /// access right by itself.
    pub const TCB: Privileges = Privileges(1 << 0);
    /// SeDebugPrivilege: open any process for any process right, whatever its
    /// DACL says (but not past integrity protection; see `check`).
    pub const DEBUG: Privileges = Privileges(1 << 1);

    pub const fn contains(self, other: Privileges) -> bool {
        self.0 & other.0 == other.0
    }

    pub const fn union(self, other: Privileges) -> Privileges {
        Privileges(self.0 | other.0)
    }
}

/// Mandatory integrity levels, Windows' RIDs (`S-1-16-<rid>`). Ordered: a
/// higher level dominates a lower one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IntegrityLevel {
    Untrusted = 0x0000,
    Low = 0x1000,
    Medium = 0x2000,
    High = 0x3000,
    System = 0x4000,
}

/// A user's identity and powers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    user: Sid,
    groups: Vec<Sid>,
    privileges: Privileges,
    integrity: IntegrityLevel,
}

impl Token {
    /// A token for `user` at `integrity`, with no groups but Everyone and no
    /// privileges.
    pub fn new(user: Sid, integrity: IntegrityLevel) -> Token {
        Token {
            user,
            groups: Vec::new(),
            privileges: Privileges::NONE,
            integrity,
        }
    }

    /// Adds membership of `group`.
    #[must_use]
    pub fn with_group(mut self, group: Sid) -> Token {
        if !self.groups.contains(&group) {
            self.groups.push(group);
        }
        self
    }

    /// Adds `privileges`.
    #[must_use]
    pub fn with_privileges(mut self, privileges: Privileges) -> Token {
        self.privileges = self.privileges.union(privileges);
        self
    }

    pub fn user(&self) -> Sid {
        self.user
    }

    pub fn groups(&self) -> &[Sid] {
        &self.groups
    }

    pub fn privileges(&self) -> Privileges {
        self.privileges
    }

    pub fn integrity(&self) -> IntegrityLevel {
        self.integrity
    }

    pub fn has_privilege(&self, privilege: Privileges) -> bool {
        self.privileges.contains(privilege)
    }

    /// Whether an ACE naming `sid` applies to this token: its user, one of
    /// its groups, or Everyone (every token is implicitly a member).
    pub fn matches(&self, sid: Sid) -> bool {
        sid == self.user || sid == Sid::EVERYONE || self.groups.contains(&sid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn membership() {
        let t = Token::new(Sid::user(1), IntegrityLevel::Medium).with_group(Sid::ADMINISTRATORS);
        assert!(t.matches(Sid::user(1)));
        assert!(t.matches(Sid::ADMINISTRATORS));
        assert!(t.matches(Sid::EVERYONE));
        assert!(!t.matches(Sid::user(2)));
        assert!(!t.matches(Sid::LOCAL_SYSTEM));
        assert_eq!(t.clone().with_group(Sid::ADMINISTRATORS).groups().len(), 1);
    }

    #[test]
    fn privileges_and_levels() {
        let t = Token::new(Sid::user(1), IntegrityLevel::High).with_privileges(Privileges::DEBUG);
        assert!(t.has_privilege(Privileges::DEBUG));
        assert!(!t.has_privilege(Privileges::TCB));
        assert!(IntegrityLevel::Low < IntegrityLevel::Medium);
        assert!(IntegrityLevel::System > IntegrityLevel::High);
    }
}
