//! Security identifiers: who a user or group is.
//!
//! Windows' SID layout (revision 1, a 48-bit identifier authority, then up to
//! [`MAX_SUB_AUTHORITIES`] 32-bit sub-authorities) so that well-known
//! identities keep their familiar spelling (`S-1-5-18` is the local system)
//! and descriptors read like Windows ones in logs and tests. A `Sid` is a
//! plain value: comparing two is comparing identities.

use core::fmt;

/// Windows allows 15; this system never needs more than a domain-style
/// user (5), so the fixed array stays small and `Sid` stays `Copy`.
pub const MAX_SUB_AUTHORITIES: usize = 6;

/// The "world" authority of `S-1-1-0` (Everyone).
const WORLD_AUTHORITY: u64 = 1;
/// The "NT" authority of system accounts, built-in groups and users.
const NT_AUTHORITY: u64 = 5;
/// `S-1-5-18`: the local system account.
const LOCAL_SYSTEM_RID: u32 = 18;
/// `S-1-5-32`: the built-in domain of local groups.
const BUILTIN_DOMAIN_RID: u32 = 32;
/// `S-1-5-32-544`: the administrators group.
const ADMINISTRATORS_RID: u32 = 544;
/// `S-1-5-21-...`: the prefix of local user accounts.
const USER_DOMAIN_RID: u32 = 21;

/// A security identifier.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sid {
    authority: u64,
    count: u8,
    subs: [u32; MAX_SUB_AUTHORITIES],
}

impl Sid {
    /// `S-1-1-0`: every token is a member.
    pub const EVERYONE: Sid = Sid::new(WORLD_AUTHORITY, &[0]);
    /// `S-1-5-18`: the local system account.
    pub const LOCAL_SYSTEM: Sid = Sid::new(NT_AUTHORITY, &[LOCAL_SYSTEM_RID]);
    /// `S-1-5-32-544`: the built-in administrators group.
    pub const ADMINISTRATORS: Sid = Sid::new(NT_AUTHORITY, &[BUILTIN_DOMAIN_RID, ADMINISTRATORS_RID]);

    /// A SID from its authority and sub-authorities; sub-authorities past
    /// [`MAX_SUB_AUTHORITIES`] are a programming error caught at compile
    /// time in `const` use and truncated otherwise.
    pub const fn new(authority: u64, subs: &[u32]) -> Sid {
        let mut out = [0u32; MAX_SUB_AUTHORITIES];
        let mut i = 0;
        while i < subs.len() && i < MAX_SUB_AUTHORITIES {
            out[i] = subs[i];
            i += 1;
        }
        Sid {
            authority,
            count: i as u8,
            subs: out,
        }
    }

    /// A local user account, `S-1-5-21-<rid>`: the system has one machine
    /// domain, so the relative id alone tells users apart.
    pub const fn user(rid: u32) -> Sid {
        Sid::new(NT_AUTHORITY, &[USER_DOMAIN_RID, rid])
    }

    pub const fn authority(&self) -> u64 {
        self.authority
    }

    pub fn sub_authorities(&self) -> &[u32] {
        &self.subs[..usize::from(self.count)]
    }
}

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "S-1-{}", self.authority)?;
        for sub in self.sub_authorities() {
            write!(f, "-{sub}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_spellings() {
        assert_eq!(Sid::EVERYONE.to_string(), "S-1-1-0");
        assert_eq!(Sid::LOCAL_SYSTEM.to_string(), "S-1-5-18");
        assert_eq!(Sid::ADMINISTRATORS.to_string(), "S-1-5-32-544");
        assert_eq!(Sid::user(1001).to_string(), "S-1-5-21-1001");
    }

    #[test]
    fn identity_is_value_equality() {
        assert_eq!(Sid::user(7), Sid::user(7));
        assert_ne!(Sid::user(7), Sid::user(8));
        assert_ne!(Sid::new(NT_AUTHORITY, &[21]), Sid::new(NT_AUTHORITY, &[21, 0]));
    }

    #[test]
    fn excess_sub_authorities_are_truncated() {
        let sid = Sid::new(NT_AUTHORITY, &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(sid.sub_authorities(), &[1, 2, 3, 4, 5, 6]);
    }
}
