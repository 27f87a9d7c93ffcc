//! AccessCheck: the rights a token gets to a process.
//!
//! Three steps, in this order:
//!
//! 1. **Integrity protection (PIP).** A caller whose integrity level is
//!    below the target's label gets nothing, whatever the DACL or its
//!    privileges say. (Windows' mandatory policy on processes would still let
//!    a lower caller have PROCESS_QUERY_LIMITED_INFORMATION; the issue asks
//!    for total denial, which is the stricter choice and leaks less.)
//! 2. **SeDebugPrivilege.** A caller holding it gets every process right
//!    without consulting the DACL, deny entries included: Windows semantics,
//!    and what makes an administrator's debugger work on any process at or
//!    below its own level. It does not lift step 1: a debugger at medium
//!    integrity cannot reach a high-integrity process.
//! 3. **The DACL**, walked in order; the first entry naming a bit for the
//!    token (its user, a group, or Everyone) decides it. Descriptors keep
//!    deny entries first, so deny wins for the bits it names; bits no entry
//!    grants are denied. Granted PROCESS_QUERY_INFORMATION brings
//!    PROCESS_QUERY_LIMITED_INFORMATION unless that was itself denied.
//!
//! SeTcbPrivilege grants no right here: it only unmasks pagemap's frame
//! numbers for a caller that already passed the check (see `files`).

use libipc::procfs::Error;

use crate::{
    access::AccessMask,
    descriptor::{AceKind, SecurityDescriptor},
    token::{Privileges, Token},
};

/// Every right `token` holds on an object protected by `sd` (Windows'
/// MAXIMUM_ALLOWED).
pub fn granted_access(token: &Token, sd: &SecurityDescriptor) -> AccessMask {
    if token.integrity() < sd.label() {
        return AccessMask::NONE;
    }
    if token.has_privilege(Privileges::DEBUG) {
        return AccessMask::PROCESS_ALL_ACCESS;
    }
    let mut granted = AccessMask::NONE;
    let mut denied = AccessMask::NONE;
    for ace in sd.dacl().iter().filter(|ace| token.matches(ace.sid)) {
        let undecided = ace.mask & !(granted | denied);
        match ace.kind {
            AceKind::Allow => granted |= undecided,
            AceKind::Deny => denied |= undecided,
        }
    }
    granted.with_implied() & !denied
}

/// Grants `desired` in full or refuses with [`Error::AccessDenied`]; never a
/// partial grant, so a caller cannot probe rights bit by bit.
pub fn access_check(token: &Token, sd: &SecurityDescriptor, desired: AccessMask) -> Result<(), Error> {
    if granted_access(token, sd).contains(desired) {
        Ok(())
    } else {
        Err(Error::AccessDenied)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        descriptor::Ace,
        sid::Sid,
        token::{IntegrityLevel, Privileges},
    };

    const READ: AccessMask = AccessMask::PROCESS_VM_READ;
    const WRITE: AccessMask = AccessMask::PROCESS_VM_WRITE;
    const QUERY: AccessMask = AccessMask::PROCESS_QUERY_INFORMATION;
    const LIMITED: AccessMask = AccessMask::PROCESS_QUERY_LIMITED_INFORMATION;

    fn user(rid: u32) -> Token {
        Token::new(Sid::user(rid), IntegrityLevel::Medium)
    }

    fn sd(aces: impl IntoIterator<Item = Ace>) -> SecurityDescriptor {
        SecurityDescriptor::new(Sid::user(1), IntegrityLevel::Medium, aces)
    }

    #[test]
    fn default_dacl_owner_only() {
        let owner = user(1);
        let sd = SecurityDescriptor::default_for(&owner);
        assert_eq!(granted_access(&owner, &sd), AccessMask::PROCESS_ALL_ACCESS);
        assert_eq!(granted_access(&user(2), &sd), AccessMask::NONE);
        assert_eq!(access_check(&user(2), &sd, LIMITED), Err(Error::AccessDenied));
    }

    #[test]
    fn deny_wins_for_the_bits_it_names() {
        // Added after the allow, still evaluated first.
        let sd = sd([
            Ace::allow(Sid::EVERYONE, READ | WRITE | QUERY),
            Ace::deny(Sid::user(2), WRITE),
        ]);
        let granted = granted_access(&user(2), &sd);
        assert!(granted.contains(READ | QUERY | LIMITED));
        assert!(!granted.intersects(WRITE));
        assert_eq!(access_check(&user(2), &sd, READ | WRITE), Err(Error::AccessDenied));
        assert_eq!(access_check(&user(3), &sd, READ | WRITE), Ok(()));
    }

    #[test]
    fn group_entries_apply_to_members() {
        let sd = sd([Ace::allow(Sid::ADMINISTRATORS, READ)]);
        let admin = user(2).with_group(Sid::ADMINISTRATORS);
        assert_eq!(access_check(&admin, &sd, READ), Ok(()));
        assert_eq!(access_check(&user(2), &sd, READ), Err(Error::AccessDenied));
    }

    #[test]
    fn bits_never_granted_are_denied() {
        let sd = sd([Ace::allow(Sid::user(2), LIMITED)]);
        assert_eq!(access_check(&user(2), &sd, LIMITED), Ok(()));
        assert_eq!(access_check(&user(2), &sd, QUERY), Err(Error::AccessDenied));
        assert_eq!(access_check(&user(2), &sd, READ), Err(Error::AccessDenied));
    }

    #[test]
    fn query_implies_limited_unless_denied() {
        let sd1 = sd([Ace::allow(Sid::user(2), QUERY)]);
        assert_eq!(access_check(&user(2), &sd1, LIMITED), Ok(()));
        let sd2 = sd([Ace::allow(Sid::user(2), QUERY), Ace::deny(Sid::user(2), LIMITED)]);
        assert_eq!(access_check(&user(2), &sd2, QUERY), Ok(()));
        assert_eq!(access_check(&user(2), &sd2, LIMITED), Err(Error::AccessDenied));
    }

    #[test]
    fn integrity_comes_before_the_dacl_and_debug() {
        let high = SecurityDescriptor::new(
            Sid::LOCAL_SYSTEM,
            IntegrityLevel::High,
            [Ace::allow(Sid::EVERYONE, AccessMask::PROCESS_ALL_ACCESS)],
        );
        let debugger = user(2).with_privileges(Privileges::DEBUG);
        assert_eq!(granted_access(&user(2), &high), AccessMask::NONE);
        assert_eq!(granted_access(&debugger, &high), AccessMask::NONE);
        let high_debugger = Token::new(Sid::user(2), IntegrityLevel::High).with_privileges(Privileges::DEBUG);
        assert_eq!(granted_access(&high_debugger, &high), AccessMask::PROCESS_ALL_ACCESS);
    }

    #[test]
    fn debug_overrides_deny_entries() {
        let sd = sd([Ace::deny(Sid::EVERYONE, AccessMask::PROCESS_ALL_ACCESS)]);
        assert_eq!(granted_access(&user(1), &sd), AccessMask::NONE);
        let debugger = user(2).with_privileges(Privileges::DEBUG);
        assert_eq!(access_check(&debugger, &sd, READ | WRITE | QUERY), Ok(()));
    }

    #[test]
    fn tcb_grants_nothing() {
        let sd = sd([]);
        let tcb = user(2).with_privileges(Privileges::TCB);
        assert_eq!(granted_access(&tcb, &sd), AccessMask::NONE);
    }
}
