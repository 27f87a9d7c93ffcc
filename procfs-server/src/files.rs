//! The gate table: which access right each file operation needs.
//!
//! | file | read needs | write |
//! |---|---|---|
//! | maps | PROCESS_QUERY_LIMITED_INFORMATION | not writable |
//! | smaps, smaps_rollup | PROCESS_QUERY_INFORMATION | not writable |
//! | pagemap | PROCESS_QUERY_INFORMATION (frames need SeTcbPrivilege too) | not writable |
//! | mem | PROCESS_VM_READ | PROCESS_VM_WRITE |
//!
//! `/proc/self` goes through the same gates with the caller's effective
//! token: there is no self bypass.

use libipc::procfs::{Error, ProcFile};

use crate::{
    access::AccessMask,
    token::{Privileges, Token},
};

/// What a request does to a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    Read,
    Write,
}

/// The right `op` on `file` needs, or [`Error::NotWritable`] for a write to
/// a read-only file (decided before looking at any process, so it says
/// nothing about one).
pub fn required_access(file: ProcFile, op: Operation) -> Result<AccessMask, Error> {
    match (file, op) {
        (ProcFile::Maps, Operation::Read) => Ok(AccessMask::PROCESS_QUERY_LIMITED_INFORMATION),
        (ProcFile::Smaps | ProcFile::SmapsRollup | ProcFile::Pagemap, Operation::Read) => {
            Ok(AccessMask::PROCESS_QUERY_INFORMATION)
        }
        (ProcFile::Mem, Operation::Read) => Ok(AccessMask::PROCESS_VM_READ),
        (ProcFile::Mem, Operation::Write) => Ok(AccessMask::PROCESS_VM_WRITE),
        (ProcFile::Maps | ProcFile::Smaps | ProcFile::SmapsRollup | ProcFile::Pagemap, Operation::Write) => {
            Err(Error::NotWritable)
        }
    }
}

/// Whether pagemap shows `token` frame numbers and swap locations. Physical
/// addresses help exploit hardware bugs (Rowhammer), so like Linux's
/// CAP_SYS_ADMIN rule they are for the trusted computing base only.
pub fn shows_frames(token: &Token) -> bool {
    token.has_privilege(Privileges::TCB)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gates() {
        use Operation::{Read, Write};
        assert_eq!(
            required_access(ProcFile::Maps, Read),
            Ok(AccessMask::PROCESS_QUERY_LIMITED_INFORMATION)
        );
        assert_eq!(
            required_access(ProcFile::Smaps, Read),
            Ok(AccessMask::PROCESS_QUERY_INFORMATION)
        );
        assert_eq!(
            required_access(ProcFile::SmapsRollup, Read),
            Ok(AccessMask::PROCESS_QUERY_INFORMATION)
        );
        assert_eq!(
            required_access(ProcFile::Pagemap, Read),
            Ok(AccessMask::PROCESS_QUERY_INFORMATION)
        );
        assert_eq!(required_access(ProcFile::Mem, Read), Ok(AccessMask::PROCESS_VM_READ));
        assert_eq!(required_access(ProcFile::Mem, Write), Ok(AccessMask::PROCESS_VM_WRITE));
        for file in [
            ProcFile::Maps,
            ProcFile::Smaps,
            ProcFile::SmapsRollup,
            ProcFile::Pagemap,
        ] {
            assert_eq!(required_access(file, Write), Err(Error::NotWritable));
        }
    }
}
