//! Security descriptors: who may do what to a process.
//!
//! An owner, a discretionary ACL (DACL) of allow and deny entries, and a
//! mandatory integrity label (the process's integrity level, which
//! integrity protection compares the caller's level against).
//!
//! The DACL is kept in *canonical order*, deny entries before allow
//! entries, as Windows' own editors write it. Evaluation is Windows' ordered
//! walk (the first entry to decide a bit wins), and canonical order makes
//! that the rule the issue states: a deny entry wins for the bits it names,
//! wherever it was added.

use alloc::{vec, vec::Vec};

use crate::{
    access::AccessMask,
    sid::Sid,
    token::{IntegrityLevel, Token},
};

/// Whether an entry grants or refuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AceKind {
    Allow,
    Deny,
}

/// One access-control entry: `kind` the rights in `mask` to `sid`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ace {
    pub kind: AceKind,
    pub sid: Sid,
    pub mask: AccessMask,
}

impl Ace {
    pub const fn allow(sid: Sid, mask: AccessMask) -> Ace {
        Ace {
            kind: AceKind::Allow,
            sid,
            mask,
        }
    }

    pub const fn deny(sid: Sid, mask: AccessMask) -> Ace {
        Ace {
            kind: AceKind::Deny,
            sid,
            mask,
        }
    }
}

/// A process's security descriptor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecurityDescriptor {
    owner: Sid,
    dacl: Vec<Ace>,
    label: IntegrityLevel,
}

impl SecurityDescriptor {
    /// The descriptor a new process gets from its primary token: owned by the
    /// token's user, who has full access, labelled with the token's
    /// integrity level. Nobody else is granted anything; SeDebugPrivilege is
    /// how administrators get in.
    pub fn default_for(token: &Token) -> SecurityDescriptor {
        SecurityDescriptor {
            owner: token.user(),
            dacl: vec![Ace::allow(token.user(), AccessMask::PROCESS_ALL_ACCESS)],
            label: token.integrity(),
        }
    }

    /// A descriptor with an explicit DACL, put into canonical order (deny
    /// entries first, each group keeping its given order).
    pub fn new(owner: Sid, label: IntegrityLevel, aces: impl IntoIterator<Item = Ace>) -> SecurityDescriptor {
        let mut sd = SecurityDescriptor {
            owner,
            dacl: Vec::new(),
            label,
        };
        for ace in aces {
            sd.add_ace(ace);
        }
        sd
    }

    /// Adds `ace` in canonical position: a deny entry after the existing
    /// deny entries, an allow entry at the end.
    pub fn add_ace(&mut self, ace: Ace) {
        match ace.kind {
            AceKind::Allow => self.dacl.push(ace),
            AceKind::Deny => {
                let at = self
                    .dacl
                    .iter()
                    .position(|a| a.kind == AceKind::Allow)
                    .unwrap_or(self.dacl.len());
                self.dacl.insert(at, ace);
            }
        }
    }

    pub fn owner(&self) -> Sid {
        self.owner
    }

    /// The entries, in evaluation order.
    pub fn dacl(&self) -> &[Ace] {
        &self.dacl
    }

    /// The mandatory integrity label.
    pub fn label(&self) -> IntegrityLevel {
        self.label
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_gives_the_user_full_access() {
        let token = Token::new(Sid::user(5), IntegrityLevel::Medium);
        let sd = SecurityDescriptor::default_for(&token);
        assert_eq!(sd.owner(), Sid::user(5));
        assert_eq!(sd.label(), IntegrityLevel::Medium);
        assert_eq!(sd.dacl(), &[Ace::allow(Sid::user(5), AccessMask::PROCESS_ALL_ACCESS)]);
    }

    #[test]
    fn deny_entries_go_first_in_order() {
        let a1 = Ace::allow(Sid::user(1), AccessMask::PROCESS_VM_READ);
        let d1 = Ace::deny(Sid::user(2), AccessMask::PROCESS_VM_READ);
        let a2 = Ace::allow(Sid::EVERYONE, AccessMask::PROCESS_QUERY_LIMITED_INFORMATION);
        let d2 = Ace::deny(Sid::user(3), AccessMask::PROCESS_VM_WRITE);
        let sd = SecurityDescriptor::new(Sid::user(1), IntegrityLevel::Medium, [a1, d1, a2, d2]);
        assert_eq!(sd.dacl(), &[d1, d2, a1, a2]);
    }
}
