//! The access matrix: every caller x every target x every file x read and
//! write, each outcome written out and asserted.

use libipc::{
    procfs::{Error, MAX_INLINE_DATA, PidSelector, ProcFile, Reply, Request},
    types::{PAGE_SIZE, Pid},
};

use super::fixtures::*;
use crate::format::pagemap::PM_PRESENT;

/// What one file operation should give.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// Served.
    Ok,
    /// Served, pagemap with frame numbers.
    Frames,
    /// Served, pagemap with frame numbers zeroed.
    Zeroed,
    /// AccessDenied.
    Denied,
}

use Expect::{Denied as D, Frames as F, Ok as Y, Zeroed as Z};

/// Columns: maps, smaps, smaps_rollup, pagemap, mem read, mem write.
/// (Writes to the first four are NotWritable for everyone; asserted per
/// cell below.)
type Row = [Expect; 6];
const ALL_DENIED: Row = [D, D, D, D, D, D];
const ALL_ZEROED: Row = [Y, Y, Y, Z, Y, Y];

#[derive(Clone, Copy, Debug)]
enum Target {
    Itself,
    AlicesProcess,
    HighProcess,
}

impl Target {
    fn selector(self) -> PidSelector {
        match self {
            Target::Itself => PidSelector::Self_,
            Target::AlicesProcess => PidSelector::Pid(P_ALICE),
            Target::HighProcess => PidSelector::Pid(P_HIGH),
        }
    }
}

/// (caller, target, expected row, why).
const MATRIX: &[(Pid, Target, Row, &str)] = &[
    (C_SAME, Target::Itself, ALL_ZEROED, "own process, default DACL"),
    (
        C_SAME,
        Target::AlicesProcess,
        ALL_ZEROED,
        "same user: default DACL grants all",
    ),
    (
        C_SAME,
        Target::HighProcess,
        ALL_DENIED,
        "PIP: medium < high, despite Everyone in the DACL",
    ),
    (C_OTHER, Target::Itself, ALL_ZEROED, "own process"),
    (
        C_OTHER,
        Target::AlicesProcess,
        ALL_DENIED,
        "another user: not in the DACL",
    ),
    (C_OTHER, Target::HighProcess, ALL_DENIED, "PIP"),
    (
        C_ADMIN,
        Target::Itself,
        ALL_ZEROED,
        "own process; SeDebug does not unmask frames",
    ),
    (
        C_ADMIN,
        Target::AlicesProcess,
        ALL_ZEROED,
        "SeDebugPrivilege overrides the DACL",
    ),
    (
        C_ADMIN,
        Target::HighProcess,
        ALL_ZEROED,
        "high >= high, then SeDebugPrivilege",
    ),
    (
        C_TCB,
        Target::Itself,
        [Y, Y, Y, F, Y, Y],
        "own process; SeTcb shows frames",
    ),
    (C_TCB, Target::AlicesProcess, ALL_DENIED, "SeTcb grants no access right"),
    (C_TCB, Target::HighProcess, ALL_DENIED, "PIP"),
    (C_LOW, Target::Itself, ALL_ZEROED, "own low process: low >= low"),
    (
        C_LOW,
        Target::AlicesProcess,
        ALL_DENIED,
        "PIP: low < medium even for the same user",
    ),
    (C_LOW, Target::HighProcess, ALL_DENIED, "PIP"),
    (C_IMP, Target::Itself, ALL_DENIED, "impersonating Bob: no self bypass"),
    (C_IMP, Target::AlicesProcess, ALL_DENIED, "Bob's rights only"),
    (C_IMP, Target::HighProcess, ALL_DENIED, "Bob is medium"),
];

const READ_FILES: [ProcFile; 5] = [
    ProcFile::Maps,
    ProcFile::Smaps,
    ProcFile::SmapsRollup,
    ProcFile::Pagemap,
    ProcFile::Mem,
];

fn read(file: ProcFile, target: Target) -> Request {
    let (offset, len) = match file {
        ProcFile::Pagemap => (HEAP / PAGE_SIZE * 8, 8),
        ProcFile::Mem => (HEAP, HEAP_BYTES.len() as u64),
        _ => (0, MAX_INLINE_DATA as u64),
    };
    Request::Read {
        pid: target.selector(),
        file,
        offset,
        len,
    }
}

fn write(file: ProcFile, target: Target) -> Request {
    let offset = if file == ProcFile::Mem { HEAP } else { 0 };
    Request::Write {
        pid: target.selector(),
        file,
        offset,
        data: heapless::Vec::from_slice(b"J").unwrap(),
    }
}

#[test]
fn access_matrix() {
    assert_eq!(MATRIX.len(), 6 * 3, "six callers x three targets");
    for &(caller, target, row, why) in MATRIX {
        let ctx = |what: &str| format!("caller {caller:?} target {target:?} {what}: {why}");
        for (column, file) in READ_FILES.into_iter().enumerate() {
            let mut server = world();
            let expected = row[column];
            let got = server.handle(sender(caller), &read(file, target));
            match expected {
                D => {
                    assert_eq!(got, Err(Error::AccessDenied), "{}", ctx(file.name()));
                    assert_eq!(server.source_mut().calls, 0, "{}: pager asked", ctx(file.name()));
                }
                Y | F | Z => {
                    let Ok(Reply::Data(data)) = got else {
                        panic!("{}: {got:?}", ctx(file.name()))
                    };
                    match file {
                        ProcFile::Mem => assert_eq!(&data[..], HEAP_BYTES, "{}", ctx("mem")),
                        ProcFile::Pagemap => {
                            let entry = u64::from_le_bytes(data[..].try_into().unwrap());
                            let frame = if expected == F { HEAP_PFN } else { 0 };
                            assert_ne!(expected, Y, "{}", ctx("pagemap column must say F or Z"));
                            assert_eq!(entry, 0x8100_0000_0000_0000 | frame, "{}", ctx("pagemap"));
                            assert_ne!(entry & PM_PRESENT, 0);
                        }
                        _ => assert!(!data.is_empty(), "{}", ctx(file.name())),
                    }
                }
            }
        }
        // mem write.
        let mut server = world();
        let got = server.handle(sender(caller), &write(ProcFile::Mem, target));
        match row[5] {
            D => {
                assert_eq!(got, Err(Error::AccessDenied), "{}", ctx("mem write"));
                assert_eq!(server.source_mut().calls, 0, "{}", ctx("mem write: pager asked"));
            }
            _ => {
                assert_eq!(got, Ok(Reply::Written(1)), "{}", ctx("mem write"));
                let back = server.handle(sender(caller), &read(ProcFile::Mem, target));
                assert_eq!(back, Ok(Reply::Data(heapless::Vec::from_slice(b"Jello heap").unwrap())));
            }
        }
        // Writes to the read-only files, whoever asks.
        for file in [
            ProcFile::Maps,
            ProcFile::Smaps,
            ProcFile::SmapsRollup,
            ProcFile::Pagemap,
        ] {
            let mut server = world();
            assert_eq!(
                server.handle(sender(caller), &write(file, target)),
                Err(Error::NotWritable),
                "{}",
                ctx(file.name())
            );
            assert_eq!(server.source_mut().calls, 0);
        }
    }
}

#[test]
fn partial_grants_follow_the_gate_table() {
    use crate::{
        access::AccessMask,
        descriptor::{Ace, SecurityDescriptor},
        token::{IntegrityLevel, Token},
    };
    // Alice lets Bob see her maps and nothing else.
    let mut server = world();
    let alice = Token::new(ALICE, IntegrityLevel::Medium);
    let sd = SecurityDescriptor::new(
        ALICE,
        IntegrityLevel::Medium,
        [
            Ace::allow(ALICE, AccessMask::PROCESS_ALL_ACCESS),
            Ace::allow(BOB, AccessMask::PROCESS_QUERY_LIMITED_INFORMATION),
        ],
    );
    server.processes_mut().insert_with_descriptor(P_ALICE, alice, sd);
    let bob = sender(C_OTHER);
    let target = Target::AlicesProcess;
    assert!(matches!(
        server.handle(bob, &read(ProcFile::Maps, target)),
        Ok(Reply::Data(_))
    ));
    for file in [ProcFile::Smaps, ProcFile::SmapsRollup, ProcFile::Pagemap, ProcFile::Mem] {
        assert_eq!(
            server.handle(bob, &read(file, target)),
            Err(Error::AccessDenied),
            "{}",
            file.name()
        );
    }
    assert_eq!(
        server.handle(bob, &write(ProcFile::Mem, target)),
        Err(Error::AccessDenied)
    );

    // QUERY_INFORMATION alone opens maps too (it implies the limited right),
    // but not mem.
    let mut server = world();
    let sd = SecurityDescriptor::new(
        ALICE,
        IntegrityLevel::Medium,
        [Ace::allow(
            BOB,
            AccessMask::PROCESS_QUERY_INFORMATION | AccessMask::PROCESS_VM_READ,
        )],
    );
    server
        .processes_mut()
        .insert_with_descriptor(P_ALICE, Token::new(ALICE, IntegrityLevel::Medium), sd);
    for file in READ_FILES {
        assert!(
            matches!(server.handle(bob, &read(file, target)), Ok(Reply::Data(_))),
            "{}",
            file.name()
        );
    }
    assert_eq!(
        server.handle(bob, &write(ProcFile::Mem, target)),
        Err(Error::AccessDenied)
    );
}

#[test]
fn reverting_the_impersonation_restores_the_primary_token() {
    let mut server = world();
    let request = read(ProcFile::Maps, Target::Itself);
    assert_eq!(server.handle(sender(C_IMP), &request), Err(Error::AccessDenied));
    server.processes_mut().revert_to_self(T_IMP);
    assert!(matches!(server.handle(sender(C_IMP), &request), Ok(Reply::Data(_))));
}
