//! The pager's protocol with programs.
//!
//! A program sends a [`Request`] through its pager capability
//! ([`crate::abi::caps::PAGER`]) and receives a [`Response`]. The pager learns who is asking from the
//! kernel's sender stamp, never from the request.
//!
//! Requests that fit in registers (all but [`Request::Source`] and
//! [`Request::Linux`], and of those the procfs server's `Identities`
//! question, asked on every procfs request) travel as a short message
//! ([`Request::to_short`], `CallShort`) and get a short answer
//! ([`response_to_short`]); the rest are postcard byte messages (`Call`).
//! The server accepts both forms.

use alloc::boxed::Box;

use serde::{Deserialize, Serialize};

use crate::{
    procfs::{Identity, MAX_PARTIES, SourceError, SourceReply, SourceRequest},
    short::{SHORT_WORDS, ShortMessage},
    types::{CapSlot, PageCount, Pid, Prot, VirtAddr},
};

// The parties of an `Identities` question and their answers fit beside
// their count.
const _: () = assert!(MAX_PARTIES < SHORT_WORDS);

/// A service's name as the boot line gives it (`service=NAME`): at most 16
/// bytes, so a lookup fits in registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceName([u8; 16]);

impl ServiceName {
    /// `None` for a name longer than 16 bytes or an empty one.
    pub fn new(name: &str) -> Option<ServiceName> {
        let bytes = name.as_bytes();
        if bytes.is_empty() || bytes.len() > 16 {
            return None;
        }
        let mut raw = [0u8; 16];
        raw[..bytes.len()].copy_from_slice(bytes);
        Some(ServiceName(raw))
    }

    /// The name (up to the first NUL); `None` if not UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        let len = self.0.iter().position(|&b| b == 0).unwrap_or(16);
        core::str::from_utf8(&self.0[..len]).ok()
    }

    fn to_words(self) -> [u64; 2] {
        let (a, b) = self.0.split_at(8);
        [
            u64::from_le_bytes(a.try_into().expect("8 bytes")),
            u64::from_le_bytes(b.try_into().expect("8 bytes")),
        ]
    }

    fn from_words(a: u64, b: u64) -> ServiceName {
        let mut raw = [0u8; 16];
        raw[..8].copy_from_slice(&a.to_le_bytes());
        raw[8..].copy_from_slice(&b.to_le_bytes());
        ServiceName(raw)
    }
}

/// mmap flags (Linux values where Linux has them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapKind(pub u32);

impl MapKind {
    pub const SHARED: MapKind = MapKind(0x01);
    pub const PRIVATE: MapKind = MapKind(0x02);
    pub const FIXED: MapKind = MapKind(0x10);
    pub const ANONYMOUS: MapKind = MapKind(0x20);
    pub const GROWSDOWN: MapKind = MapKind(0x100);
    pub const FIXED_NOREPLACE: MapKind = MapKind(0x10_0000);

    pub const fn contains(self, other: MapKind) -> bool {
        self.0 & other.0 == other.0
    }

    pub const fn union(self, other: MapKind) -> MapKind {
        MapKind(self.0 | other.0)
    }
}

/// A request from a program to its pager.
#[allow(
    clippy::large_enum_variant,
    reason = "inline messages: values live briefly on the stack before encoding"
)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// Anonymous mmap: returns the address. Allocates no frames.
    Mmap {
        addr: VirtAddr,
        len: u64,
        prot: Prot,
        flags: MapKind,
    },
    Munmap {
        addr: VirtAddr,
        len: u64,
    },
    Mprotect {
        addr: VirtAddr,
        len: u64,
        prot: Prot,
    },
    /// brk(addr): the new break on success, the old one on failure.
    Brk {
        addr: VirtAddr,
    },
    /// How many pages of `[addr, addr+len)` are resident (backed by frames).
    Resident {
        addr: VirtAddr,
        len: u64,
    },
    /// The pager's frame pool.
    PoolStats,
    /// Does nothing: the null round trip of the IPC benchmark.
    Null,
    /// The slot of the caller's capability to the service `name` (granted
    /// at start when the boot line names the service).
    Service {
        name: ServiceName,
    },
    /// Where the caller's clock page (`[vvar]`) is mapped: `runtime::time`
    /// reads clocks there without a system call.
    ClockPage,
    /// The procfs server asks about a process (refused for anyone else);
    /// a `Vmas` question comes with a lease the VMAs are written into.
    /// Boxed: the other requests stay a few words, cheap to move.
    Source(Box<crate::procfs::SourceRequest>),
    /// The Linux personality server asks about a process or a file
    /// (refused for anyone else; [`crate::linux`]).
    Linux(Box<crate::linux::PersonalityRequest>),
}

/// A successful answer.
#[allow(
    clippy::large_enum_variant,
    reason = "inline messages: values live briefly on the stack before encoding"
)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reply {
    Addr(VirtAddr),
    Done,
    Pages(PageCount),
    Pool {
        free: PageCount,
        total: PageCount,
    },
    Slot(CapSlot),
    /// Boxed like `Request::Source`.
    Source(Box<crate::procfs::SourceResponse>),
    /// Boxed like `Request::Linux`.
    Linux(Box<crate::linux::PersonalityReply>),
}

/// Errors, errno for errno with Linux.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Errno {
    /// EPERM
    NotPermitted,
    /// ENOENT
    NoEntry,
    /// ENOMEM
    NoMemory,
    /// EINVAL
    Invalid,
    /// EEXIST
    Exists,
    /// EACCES
    Access,
    /// EFAULT
    Fault,
    /// EIO
    Io,
    /// ENOSYS: the request is not served here.
    NotSupported,
}

impl Errno {
    const ALL: [Errno; 9] = [
        Errno::NotPermitted,
        Errno::NoEntry,
        Errno::NoMemory,
        Errno::Invalid,
        Errno::Exists,
        Errno::Access,
        Errno::Fault,
        Errno::Io,
        Errno::NotSupported,
    ];

    /// The errno with Linux number `code`.
    pub fn from_code(code: i32) -> Option<Errno> {
        Errno::ALL.into_iter().find(|e| e.code() == code)
    }

    /// The Linux errno number.
    pub const fn code(self) -> i32 {
        match self {
            Errno::NotPermitted => 1,
            Errno::NoEntry => 2,
            Errno::Io => 5,
            Errno::NoMemory => 12,
            Errno::Access => 13,
            Errno::Fault => 14,
            Errno::Exists => 17,
            Errno::Invalid => 22,
            Errno::NotSupported => 38,
        }
    }
}

/// The pager's answer to a [`Request`].
pub type Response = Result<Reply, Errno>;

/// Labels of the short form of requests.
mod request_label {
    pub const MMAP: u64 = 1;
    pub const MUNMAP: u64 = 2;
    pub const MPROTECT: u64 = 3;
    pub const BRK: u64 = 4;
    pub const RESIDENT: u64 = 5;
    pub const POOL_STATS: u64 = 6;
    pub const NULL: u64 = 7;
    pub const SERVICE: u64 = 8;
    pub const CLOCK_PAGE: u64 = 9;
    /// `Source(Identities)`: the count, then the pids.
    pub const SOURCE_IDENTITIES: u64 = 10;
}

/// Labels of the short form of responses.
mod response_label {
    pub const ADDR: u64 = 1;
    pub const DONE: u64 = 2;
    pub const PAGES: u64 = 3;
    pub const POOL: u64 = 4;
    pub const ERROR: u64 = 5;
    pub const SLOT: u64 = 6;
    /// `Source(Ok(Identities))`: the count, then [`super::Identity::word`]s.
    pub const IDENTITIES: u64 = 7;
    /// `Source(Err(e))`: [`super::SourceError::code`].
    pub const SOURCE_ERROR: u64 = 8;
}

/// `n` (at most [`MAX_PARTIES`]) then `items` as words, zeros after.
fn counted_words<T: Copy>(items: &[T], word: impl Fn(T) -> u64) -> [u64; SHORT_WORDS] {
    let mut words = [0; SHORT_WORDS];
    words[0] = items.len() as u64;
    for (w, &item) in words[1..].iter_mut().zip(items) {
        *w = word(item);
    }
    words
}

/// The items [`counted_words`] put in `words`: `None` for a count past
/// [`MAX_PARTIES`], a word after the count that is not zero, or one `item`
/// refuses.
fn from_counted_words<T>(
    words: [u64; SHORT_WORDS],
    item: impl Fn(u64) -> Option<T>,
) -> Option<heapless::Vec<T, MAX_PARTIES>> {
    let n = usize::try_from(words[0]).ok().filter(|&n| n <= MAX_PARTIES)?;
    let mut items = heapless::Vec::new();
    for (i, &w) in words[1..].iter().enumerate() {
        if i < n {
            items.push(item(w)?).ok()?;
        } else if w != 0 {
            return None;
        }
    }
    Some(items)
}

/// The register form of a `Source(Identities)` question for `pids` (at
/// most [`MAX_PARTIES`], more are left out), as [`Request::to_short`]
/// gives it but with no request built: the procfs server asks it on every
/// request.
pub fn identities_question(pids: &[Pid]) -> ShortMessage {
    let pids = &pids[..pids.len().min(MAX_PARTIES)];
    ShortMessage::new(
        request_label::SOURCE_IDENTITIES,
        counted_words(pids, |pid: Pid| u64::from(pid.0)),
    )
}

/// The pids of a register `Identities` question; `None` for another
/// message or a malformed one.
pub fn identities_of_question(m: &ShortMessage) -> Option<heapless::Vec<Pid, MAX_PARTIES>> {
    if m.label != request_label::SOURCE_IDENTITIES {
        return None;
    }
    from_counted_words(m.words, |w| u32::try_from(w).ok().map(Pid))
}

/// The register form of the answer to an `Identities` question (or of
/// any `Source` question's error).
pub fn identities_answer(answer: Result<&[Option<Identity>], SourceError>) -> ShortMessage {
    match answer {
        Ok(identities) => ShortMessage::new(response_label::IDENTITIES, counted_words(identities, Identity::word)),
        Err(e) => ShortMessage::new(response_label::SOURCE_ERROR, [e.code(), 0, 0, 0]),
    }
}

/// The answer [`identities_answer`] put in registers; `None` for another
/// message or a malformed one.
pub fn identities_of_answer(
    m: &ShortMessage,
) -> Option<Result<heapless::Vec<Option<Identity>, MAX_PARTIES>, SourceError>> {
    match m.label {
        response_label::IDENTITIES => Some(Ok(from_counted_words(m.words, |w| Identity::from_word(w).ok())?)),
        response_label::SOURCE_ERROR => match m.words {
            [code, 0, 0, 0] => Some(Err(SourceError::from_code(code)?)),
            _ => None,
        },
        _ => None,
    }
}

impl Request {
    /// The register form, for every request but `Source` and `Linux` (of
    /// those, `Source(Identities)` only).
    #[inline]
    pub fn to_short(&self) -> Option<ShortMessage> {
        use request_label::*;
        Some(match *self {
            Request::Mmap { addr, len, prot, flags } => {
                ShortMessage::new(MMAP, [addr.0, len, u64::from(prot.0), u64::from(flags.0)])
            }
            Request::Munmap { addr, len } => ShortMessage::new(MUNMAP, [addr.0, len, 0, 0]),
            Request::Mprotect { addr, len, prot } => ShortMessage::new(MPROTECT, [addr.0, len, u64::from(prot.0), 0]),
            Request::Brk { addr } => ShortMessage::new(BRK, [addr.0, 0, 0, 0]),
            Request::Resident { addr, len } => ShortMessage::new(RESIDENT, [addr.0, len, 0, 0]),
            Request::PoolStats => ShortMessage::label(POOL_STATS),
            Request::Null => ShortMessage::label(NULL),
            Request::ClockPage => ShortMessage::label(CLOCK_PAGE),
            Request::Service { name } => {
                let [a, b] = name.to_words();
                ShortMessage::new(SERVICE, [a, b, 0, 0])
            }
            Request::Source(ref question) => match **question {
                SourceRequest::Identities { ref pids } => identities_question(pids),
                _ => return None,
            },
            Request::Linux(_) => return None,
        })
    }

    /// Reads the register form; `None` for an unknown label or a field out
    /// of its type's range.
    #[inline]
    pub fn from_short(m: &ShortMessage) -> Option<Request> {
        use request_label::*;
        let [a, b, c, d] = m.words;
        let prot = || u8::try_from(c).ok().map(Prot);
        Some(match m.label {
            MMAP => Request::Mmap {
                addr: VirtAddr(a),
                len: b,
                prot: prot()?,
                flags: MapKind(u32::try_from(d).ok()?),
            },
            MUNMAP => Request::Munmap {
                addr: VirtAddr(a),
                len: b,
            },
            MPROTECT => Request::Mprotect {
                addr: VirtAddr(a),
                len: b,
                prot: prot()?,
            },
            BRK => Request::Brk { addr: VirtAddr(a) },
            RESIDENT => Request::Resident {
                addr: VirtAddr(a),
                len: b,
            },
            POOL_STATS => Request::PoolStats,
            NULL => Request::Null,
            CLOCK_PAGE => Request::ClockPage,
            SERVICE => Request::Service {
                name: ServiceName::from_words(a, b),
            },
            SOURCE_IDENTITIES => Request::Source(Box::new(SourceRequest::Identities {
                pids: identities_of_question(m)?,
            })),
            _ => return None,
        })
    }
}

/// A register request as the pager's short-call loop serves it, told
/// apart by label alone: the null round trip and procfs's identities
/// question (asked on every /proc request) are answered with no
/// [`Request`] built, so the IPC figure measures IPC and the question
/// boxes nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShortRequest {
    /// [`Request::Null`]: answered [`ShortRequest::DONE`].
    Null,
    /// `Source(Identities)` for these pids.
    Identities(heapless::Vec<Pid, MAX_PARTIES>),
    /// Any other request with a register form.
    Other(Request),
}

impl ShortRequest {
    /// The answer to [`ShortRequest::Null`]: `Ok(Reply::Done)`.
    pub const DONE: ShortMessage = ShortMessage::label(response_label::DONE);

    /// Reads a register request; `None` for an unknown label or a
    /// malformed one.
    #[inline(always)]
    pub fn from_short(m: &ShortMessage) -> Option<ShortRequest> {
        Some(match m.label {
            request_label::NULL => ShortRequest::Null,
            request_label::SOURCE_IDENTITIES => ShortRequest::Identities(identities_of_question(m)?),
            _ => ShortRequest::Other(Request::from_short(m)?),
        })
    }
}

/// The register form of a response; `None` for `Reply::Linux` and the
/// `Reply::Source` answers but identities and errors, which only answer a
/// byte request.
#[inline]
pub fn response_to_short(response: &Response) -> Option<ShortMessage> {
    use response_label::*;
    Some(match response {
        Ok(Reply::Addr(a)) => ShortMessage::new(ADDR, [a.0, 0, 0, 0]),
        Ok(Reply::Done) => ShortMessage::label(DONE),
        Ok(Reply::Pages(n)) => ShortMessage::new(PAGES, [n.0, 0, 0, 0]),
        Ok(Reply::Pool { free, total }) => ShortMessage::new(POOL, [free.0, total.0, 0, 0]),
        Ok(Reply::Slot(slot)) => ShortMessage::new(SLOT, [u64::from(slot.0), 0, 0, 0]),
        Ok(Reply::Source(answer)) => match **answer {
            Ok(SourceReply::Identities(ref identities)) => identities_answer(Ok(identities)),
            Err(e) => identities_answer(Err(e)),
            Ok(_) => return None,
        },
        Ok(Reply::Linux(_)) => return None,
        Err(e) => ShortMessage::new(ERROR, [e.code() as u64, 0, 0, 0]),
    })
}

/// Reads the register form of a response; `None` if it is not one.
/// Inlined: a caller that tests for one reply (`== Ok(Reply::Done)`)
/// compiles to a test of the label.
#[inline(always)]
pub fn response_from_short(m: &ShortMessage) -> Option<Response> {
    use response_label::*;
    let [a, b, _, _] = m.words;
    Some(match m.label {
        ADDR => Ok(Reply::Addr(VirtAddr(a))),
        DONE => Ok(Reply::Done),
        PAGES => Ok(Reply::Pages(PageCount(a))),
        POOL => Ok(Reply::Pool {
            free: PageCount(a),
            total: PageCount(b),
        }),
        ERROR => Err(Errno::from_code(i32::try_from(a).ok()?)?),
        SLOT => Ok(Reply::Slot(CapSlot(u32::try_from(a).ok()?))),
        IDENTITIES | SOURCE_ERROR => Ok(Reply::Source(Box::new(
            identities_of_answer(m)?.map(SourceReply::Identities),
        ))),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn requests() -> Vec<Request> {
        vec![
            Request::Mmap {
                addr: VirtAddr(0x1000),
                len: 1 << 30,
                prot: Prot::RW,
                flags: MapKind::PRIVATE
                    .union(MapKind::ANONYMOUS)
                    .union(MapKind::FIXED_NOREPLACE),
            },
            Request::Munmap {
                addr: VirtAddr(7),
                len: u64::MAX,
            },
            Request::Mprotect {
                addr: VirtAddr(0x2000),
                len: 4096,
                prot: Prot(0xff),
            },
            Request::Brk { addr: VirtAddr(0) },
            Request::Resident {
                addr: VirtAddr(1),
                len: 2,
            },
            Request::PoolStats,
            Request::Null,
            Request::ClockPage,
            Request::Service {
                name: ServiceName::new("procfs").unwrap(),
            },
            Request::Service {
                name: ServiceName::new("sixteen_bytes_ok").unwrap(),
            },
        ]
    }

    #[test]
    fn service_names() {
        assert_eq!(ServiceName::new("procfs").unwrap().as_str(), Some("procfs"));
        assert_eq!(ServiceName::new(""), None);
        assert_eq!(ServiceName::new("seventeen_bytes_x"), None);
        assert_eq!(ServiceName::from_words(u64::MAX, u64::MAX).as_str(), None, "not UTF-8");
    }

    #[test]
    fn requests_round_trip_through_registers() {
        for r in requests() {
            let m = r.to_short().expect("has a short form");
            assert_eq!(Request::from_short(&m), Some(r));
        }
        let source = Request::Source(Box::new(crate::procfs::SourceRequest::Layout {
            pid: crate::types::Pid(1),
        }));
        assert_eq!(source.to_short(), None);
    }

    #[test]
    fn responses_round_trip_through_registers() {
        let mut responses: Vec<Response> = vec![
            Ok(Reply::Addr(VirtAddr(0x7f00_0000_0000))),
            Ok(Reply::Done),
            Ok(Reply::Pages(PageCount(3))),
            Ok(Reply::Pool {
                free: PageCount(1),
                total: PageCount(2),
            }),
            Ok(Reply::Slot(CapSlot(3))),
        ];
        responses.extend(Errno::ALL.into_iter().map(Err));
        for r in responses {
            let m = response_to_short(&r).expect("has a short form");
            assert_eq!(response_from_short(&m), Some(r));
        }
    }

    #[test]
    fn out_of_range_registers_are_refused() {
        assert_eq!(Request::from_short(&ShortMessage::label(0)), None);
        assert_eq!(Request::from_short(&ShortMessage::label(99)), None);
        let big_prot = ShortMessage::new(request_label::MPROTECT, [0, 0, 0x100, 0]);
        assert_eq!(Request::from_short(&big_prot), None);
        let big_flags = ShortMessage::new(request_label::MMAP, [0, 0, 3, 1 << 32]);
        assert_eq!(Request::from_short(&big_flags), None);
        assert_eq!(response_from_short(&ShortMessage::label(0)), None);
        // ESRCH (3): a Linux errno the protocol does not use.
        let unknown_errno = ShortMessage::new(response_label::ERROR, [3, 0, 0, 0]);
        assert_eq!(response_from_short(&unknown_errno), None);
        let huge_errno = ShortMessage::new(response_label::ERROR, [u64::MAX, 0, 0, 0]);
        assert_eq!(response_from_short(&huge_errno), None);
    }

    #[test]
    fn identities_travel_in_registers() {
        use crate::procfs::{Identity, SourceError, SourceReply, SourceRequest};
        for pids in [&[][..], &[Pid(2)], &[Pid(2), Pid(u32::MAX), Pid(7)]] {
            let r = Request::Source(Box::new(SourceRequest::Identities {
                pids: heapless::Vec::from_slice(pids).unwrap(),
            }));
            let m = r.to_short().expect("has a short form");
            assert_eq!(Request::from_short(&m), Some(r));
        }
        let admin = Identity {
            user_rid: u32::MAX,
            integrity: 0x4000,
            privileges: Identity::TCB | Identity::DEBUG,
        };
        let answers: [Response; 5] = [
            Ok(Reply::Source(Box::new(Ok(SourceReply::Identities(
                heapless::Vec::new(),
            ))))),
            Ok(Reply::Source(Box::new(Ok(SourceReply::Identities(
                heapless::Vec::from_slice(&[Some(admin), None, Some(Identity { privileges: 0, ..admin })]).unwrap(),
            ))))),
            Ok(Reply::Source(Box::new(Err(SourceError::NoSuchProcess)))),
            Ok(Reply::Source(Box::new(Err(SourceError::Io)))),
            Ok(Reply::Source(Box::new(Err(SourceError::Unavailable)))),
        ];
        for r in answers {
            let m = response_to_short(&r).expect("has a short form");
            assert_eq!(response_from_short(&m), Some(r));
        }
        // Other questions and answers about address spaces stay byte messages.
        let vmas = Ok(Reply::Source(Box::new(Ok(SourceReply::Moved(1)))));
        assert_eq!(response_to_short(&vmas), None);
    }

    #[test]
    fn malformed_identities_are_refused() {
        use request_label::SOURCE_IDENTITIES;
        use response_label::{IDENTITIES, SOURCE_ERROR};
        // A count past the parties, a pid past 32 bits, a word after the count.
        for words in [[4, 1, 2, 3], [1, 1 << 32, 0, 0], [1, 5, 6, 0]] {
            assert_eq!(Request::from_short(&ShortMessage::new(SOURCE_IDENTITIES, words)), None);
        }
        // Bits outside the fields, a field without the presence bit, a word
        // after the count, an unknown error.
        for words in [
            [1, 1 << 63 | 1 << 56, 0, 0],
            [1, 5, 0, 0],
            [0, 1 << 63, 0, 0],
            [u64::MAX, 0, 0, 0],
        ] {
            assert_eq!(response_from_short(&ShortMessage::new(IDENTITIES, words)), None);
        }
        for code in [0, 4, u64::MAX] {
            assert_eq!(
                response_from_short(&ShortMessage::new(SOURCE_ERROR, [code, 0, 0, 0])),
                None
            );
        }
        assert_eq!(
            response_from_short(&ShortMessage::new(SOURCE_ERROR, [1, 5, 0, 0])),
            None
        );
        // Other messages are not these questions and answers.
        assert_eq!(
            identities_of_question(&ShortMessage::new(request_label::NULL, [0; 4])),
            None
        );
        assert_eq!(identities_of_answer(&ShortMessage::label(response_label::DONE)), None);
        // A fourth party is left out of the question.
        let four = [Pid(1), Pid(2), Pid(3), Pid(4)];
        assert_eq!(
            identities_of_question(&identities_question(&four)).as_deref(),
            Some(&four[..MAX_PARTIES])
        );
    }

    #[test]
    fn the_null_answer_is_done() {
        assert_eq!(response_from_short(&ShortRequest::DONE), Some(Ok(Reply::Done)));
        assert_eq!(Some(ShortRequest::DONE), response_to_short(&Ok(Reply::Done)));
        assert_eq!(
            ShortRequest::from_short(&Request::Null.to_short().unwrap()),
            Some(ShortRequest::Null)
        );
    }

    #[test]
    fn errno_codes_round_trip() {
        for e in Errno::ALL {
            assert_eq!(Errno::from_code(e.code()), Some(e));
        }
        assert_eq!(Errno::from_code(0), None);
    }

    proptest! {
        // Reading registers is total, and whatever reads re-encodes the same.
        #[test]
        fn arbitrary_registers_never_panic(label in 0u64..12, words in any::<[u64; 4]>()) {
            let m = ShortMessage::new(label, words);
            if let Some(r) = Request::from_short(&m) {
                prop_assert_eq!(Request::from_short(&r.to_short().unwrap()), Some(r));
            }
            if let Some(r) = response_from_short(&m) {
                prop_assert_eq!(response_from_short(&response_to_short(&r).unwrap()), Some(r));
            }
        }

        // The short-call loop's reading is the general one's, with the null
        // request and the identities question told apart first.
        #[test]
        fn short_requests_read_as_requests_do(label in 0u64..12, words in any::<[u64; 4]>()) {
            let m = ShortMessage::new(label, words);
            let short = ShortRequest::from_short(&m);
            if let Some(ShortRequest::Other(r)) = &short {
                prop_assert!(!matches!(r, Request::Null | Request::Source(_)), "{:?} read as Other", r);
            }
            let as_request = short.map(|r| match r {
                ShortRequest::Null => Request::Null,
                ShortRequest::Identities(pids) => Request::Source(Box::new(SourceRequest::Identities { pids })),
                ShortRequest::Other(r) => r,
            });
            prop_assert_eq!(as_request, Request::from_short(&m));
        }
    }
}
