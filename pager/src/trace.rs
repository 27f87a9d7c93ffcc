//! The trace format of the host-mode replay tool (`pager-replay`): a text
//! file, one operation or fault per line, replayed in order against a
//! running host pager as one process.
//!
//! ```text
//! # A comment runs to the end of the line; blank lines are skipped.
//! mmap     ADDR LEN PROT FLAGS [FILE OFFSET]   # returns an address
//! munmap   ADDR LEN
//! mprotect ADDR LEN PROT
//! brk      ADDR                                 # returns the break (0 queries)
//! sbrk     DELTA                                # returns the old break
//! fault    ADDR read|write|exec                 # prints the pager's decision
//! setrlimit as|data|stack SOFT HARD
//! getrlimit as|data|stack
//! resident ADDR LEN                             # resident pages in the range
//! maps                                          # prints /proc/<pid>/maps
//! ```
//!
//! - Numbers are decimal or `0x` hexadecimal, with optional `_` separators;
//!   DELTA may be negative; a limit may be `unlimited`.
//! - An ADDR may also be `$`, the address the last successful mmap, brk or
//!   sbrk returned, optionally plus or minus a number: `$+0x1000`, `$-8`.
//!   Traces stay valid whatever the randomization put where.
//! - PROT is three characters, `r`/`w`/`x` or `-` each: `rw-`, `r-x`, `---`.
//! - FLAGS is a comma list of `private`, `shared`, `anonymous`, `fixed`,
//!   `fixed-noreplace` and `growsdown`. Without `anonymous`, FILE (a file
//!   object number) and OFFSET (bytes) follow.
//!
//! Example: `mmap 0 0x10000 rw- private,anonymous` then `fault $+0x2000 write`.

use alloc::{string::String, vec::Vec};
use core::fmt;

use libipc::{
    pager::MapKind,
    types::{Access, Prot},
};

use crate::rlimit::{INFINITY, Limit, Resource};

/// An address operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Addr {
    Abs(u64),
    /// `$` plus this offset: relative to the last returned address.
    Last(i64),
}

impl Addr {
    /// The address, given the last returned one; `None` on overflow.
    pub fn resolve(self, last: u64) -> Option<u64> {
        match self {
            Addr::Abs(a) => Some(a),
            Addr::Last(off) => last.checked_add_signed(off),
        }
    }
}

/// One line of a trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TraceOp {
    Mmap {
        addr: Addr,
        len: u64,
        prot: Prot,
        flags: MapKind,
        file: Option<(u64, u64)>,
    },
    Munmap {
        addr: Addr,
        len: u64,
    },
    Mprotect {
        addr: Addr,
        len: u64,
        prot: Prot,
    },
    Brk {
        addr: Addr,
    },
    Sbrk {
        delta: i64,
    },
    Fault {
        addr: Addr,
        access: Access,
    },
    Setrlimit {
        resource: Resource,
        limit: Limit,
    },
    Getrlimit {
        resource: Resource,
    },
    Resident {
        addr: Addr,
        len: u64,
    },
    Maps,
}

/// Why a line does not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseError {
    UnknownOp(String),
    /// Wrong number of fields for the operation.
    Arity {
        op: &'static str,
        expected: &'static str,
    },
    BadNumber(String),
    BadProt(String),
    BadFlag(String),
    BadAccess(String),
    BadResource(String),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::UnknownOp(s) => write!(f, "unknown operation {s:?}"),
            ParseError::Arity { op, expected } => write!(f, "{op} takes {expected}"),
            ParseError::BadNumber(s) => write!(f, "bad number {s:?}"),
            ParseError::BadProt(s) => write!(f, "bad protection {s:?} (three of r/w/x or -, e.g. rw-)"),
            ParseError::BadFlag(s) => write!(f, "bad mmap flag {s:?}"),
            ParseError::BadAccess(s) => write!(f, "bad access {s:?} (read, write or exec)"),
            ParseError::BadResource(s) => write!(f, "bad resource {s:?} (as, data or stack)"),
        }
    }
}

pub fn parse_u64(s: &str) -> Result<u64, ParseError> {
    let clean: String = s.chars().filter(|&c| c != '_').collect();
    let parsed = match clean.strip_prefix("0x").or_else(|| clean.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => clean.parse(),
    };
    parsed.map_err(|_| ParseError::BadNumber(s.into()))
}

fn parse_i64(s: &str) -> Result<i64, ParseError> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let magnitude = i64::try_from(parse_u64(digits)?).map_err(|_| ParseError::BadNumber(s.into()))?;
    Ok(if neg { -magnitude } else { magnitude })
}

fn parse_addr(s: &str) -> Result<Addr, ParseError> {
    match s.strip_prefix('$') {
        Some("") => Ok(Addr::Last(0)),
        Some(off) if off.starts_with(['+', '-']) => parse_i64(off).map(Addr::Last),
        Some(_) => Err(ParseError::BadNumber(s.into())),
        None => parse_u64(s).map(Addr::Abs),
    }
}

pub fn parse_prot(s: &str) -> Result<Prot, ParseError> {
    let b = s.as_bytes();
    let bad = || ParseError::BadProt(s.into());
    if b.len() != 3 {
        return Err(bad());
    }
    let mut prot = Prot::NONE;
    for (c, want, bit) in [
        (b[0], b'r', Prot::READ),
        (b[1], b'w', Prot::WRITE),
        (b[2], b'x', Prot::EXEC),
    ] {
        if c == want {
            prot = prot.union(bit);
        } else if c != b'-' {
            return Err(bad());
        }
    }
    Ok(prot)
}

fn parse_flags(s: &str) -> Result<MapKind, ParseError> {
    s.split(',').try_fold(MapKind(0), |acc, flag| {
        let bit = match flag {
            "private" => MapKind::PRIVATE,
            "shared" => MapKind::SHARED,
            "anonymous" | "anon" => MapKind::ANONYMOUS,
            "fixed" => MapKind::FIXED,
            "fixed-noreplace" => MapKind::FIXED_NOREPLACE,
            "growsdown" => MapKind::GROWSDOWN,
            _ => return Err(ParseError::BadFlag(flag.into())),
        };
        Ok(acc.union(bit))
    })
}

fn parse_access(s: &str) -> Result<Access, ParseError> {
    match s {
        "read" | "r" => Ok(Access::Read),
        "write" | "w" => Ok(Access::Write),
        "exec" | "execute" | "x" => Ok(Access::Execute),
        _ => Err(ParseError::BadAccess(s.into())),
    }
}

pub fn parse_resource(s: &str) -> Result<Resource, ParseError> {
    match s {
        "as" => Ok(Resource::As),
        "data" => Ok(Resource::Data),
        "stack" => Ok(Resource::Stack),
        _ => Err(ParseError::BadResource(s.into())),
    }
}

fn parse_limit(s: &str) -> Result<u64, ParseError> {
    if matches!(s, "unlimited" | "infinity") {
        Ok(INFINITY)
    } else {
        parse_u64(s)
    }
}

/// Parses one line; `Ok(None)` for a blank or comment line.
pub fn parse_line(line: &str) -> Result<Option<TraceOp>, ParseError> {
    let code = line.split('#').next().unwrap_or("");
    let f: Vec<&str> = code.split_whitespace().collect();
    let Some((&op, args)) = f.split_first() else {
        return Ok(None);
    };
    let arity = |op: &'static str, expected: &'static str| ParseError::Arity { op, expected };
    let parsed = match (op, args) {
        ("mmap", [addr, len, prot, flags, rest @ ..]) => {
            let flags = parse_flags(flags)?;
            let file = match (flags.contains(MapKind::ANONYMOUS), rest) {
                (true, []) => None,
                (false, [file, offset]) => Some((parse_u64(file)?, parse_u64(offset)?)),
                _ => return Err(arity("mmap", "ADDR LEN PROT FLAGS, then FILE OFFSET unless anonymous")),
            };
            TraceOp::Mmap {
                addr: parse_addr(addr)?,
                len: parse_u64(len)?,
                prot: parse_prot(prot)?,
                flags,
                file,
            }
        }
        ("mmap", _) => return Err(arity("mmap", "ADDR LEN PROT FLAGS [FILE OFFSET]")),
        ("munmap", [addr, len]) => TraceOp::Munmap {
            addr: parse_addr(addr)?,
            len: parse_u64(len)?,
        },
        ("munmap", _) => return Err(arity("munmap", "ADDR LEN")),
        ("mprotect", [addr, len, prot]) => TraceOp::Mprotect {
            addr: parse_addr(addr)?,
            len: parse_u64(len)?,
            prot: parse_prot(prot)?,
        },
        ("mprotect", _) => return Err(arity("mprotect", "ADDR LEN PROT")),
        ("brk", [addr]) => TraceOp::Brk {
            addr: parse_addr(addr)?,
        },
        ("brk", _) => return Err(arity("brk", "ADDR")),
        ("sbrk", [delta]) => TraceOp::Sbrk {
            delta: parse_i64(delta)?,
        },
        ("sbrk", _) => return Err(arity("sbrk", "DELTA")),
        ("fault", [addr, access]) => TraceOp::Fault {
            addr: parse_addr(addr)?,
            access: parse_access(access)?,
        },
        ("fault", _) => return Err(arity("fault", "ADDR read|write|exec")),
        ("setrlimit", [res, soft, hard]) => TraceOp::Setrlimit {
            resource: parse_resource(res)?,
            limit: Limit {
                soft: parse_limit(soft)?,
                hard: parse_limit(hard)?,
            },
        },
        ("setrlimit", _) => return Err(arity("setrlimit", "RESOURCE SOFT HARD")),
        ("getrlimit", [res]) => TraceOp::Getrlimit {
            resource: parse_resource(res)?,
        },
        ("getrlimit", _) => return Err(arity("getrlimit", "RESOURCE")),
        ("resident", [addr, len]) => TraceOp::Resident {
            addr: parse_addr(addr)?,
            len: parse_u64(len)?,
        },
        ("resident", _) => return Err(arity("resident", "ADDR LEN")),
        ("maps", []) => TraceOp::Maps,
        ("maps", _) => return Err(arity("maps", "nothing")),
        (other, _) => return Err(ParseError::UnknownOp(other.into())),
    };
    Ok(Some(parsed))
}

/// Parses a whole trace: the operations with their 1-based line numbers,
/// or the first bad line's number and error.
pub fn parse(text: &str) -> Result<Vec<(usize, TraceOp)>, (usize, ParseError)> {
    let mut ops = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if let Some(op) = parse_line(line).map_err(|e| (i + 1, e))? {
            ops.push((i + 1, op));
        }
    }
    Ok(ops)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_parses() {
        let text = "# setup\n\
            mmap 0 0x10000 rw- private,anonymous\n\
            mmap 0x400000 4096 r-x private,fixed 3 0x1000   # a file\n\
            fault $+0x2000 write\n\
            fault $-8 exec\n\
            munmap $ 0x1_000\n\
            mprotect 0x400000 4096 ---\n\
            brk 0\n\
            sbrk -4096\n\
            setrlimit stack 8388608 unlimited\n\
            getrlimit as\n\
            resident $ 65536\n\
            \n\
            maps\n";
        let ops = parse(text).unwrap();
        assert_eq!(ops.len(), 12);
        assert_eq!(
            ops[0].1,
            TraceOp::Mmap {
                addr: Addr::Abs(0),
                len: 0x10000,
                prot: Prot::RW,
                flags: MapKind::PRIVATE.union(MapKind::ANONYMOUS),
                file: None
            }
        );
        assert!(matches!(
            ops[1].1,
            TraceOp::Mmap {
                file: Some((3, 0x1000)),
                ..
            }
        ));
        assert_eq!(
            ops[2].1,
            TraceOp::Fault {
                addr: Addr::Last(0x2000),
                access: Access::Write
            }
        );
        assert_eq!(
            ops[3].1,
            TraceOp::Fault {
                addr: Addr::Last(-8),
                access: Access::Execute
            }
        );
        assert_eq!(
            ops[5].1,
            TraceOp::Mprotect {
                addr: Addr::Abs(0x40_0000),
                len: 4096,
                prot: Prot::NONE
            }
        );
        assert_eq!(ops[7].1, TraceOp::Sbrk { delta: -4096 });
        assert_eq!(
            ops[8].1,
            TraceOp::Setrlimit {
                resource: Resource::Stack,
                limit: Limit {
                    soft: 8 << 20,
                    hard: INFINITY
                }
            }
        );
        assert_eq!(ops[11], (14, TraceOp::Maps));
    }

    #[test]
    fn bad_lines_say_what_is_wrong_and_where() {
        assert_eq!(parse("maps\nfrob 1\n"), Err((2, ParseError::UnknownOp("frob".into()))));
        assert_eq!(
            parse_line("mmap 0 1 rw private,anonymous"),
            Err(ParseError::BadProt("rw".into()))
        );
        assert_eq!(
            parse_line("mmap 0 1 rw- private,huge"),
            Err(ParseError::BadFlag("huge".into()))
        );
        assert!(matches!(
            parse_line("mmap 0 1 rw- private"),
            Err(ParseError::Arity { .. })
        ));
        assert_eq!(parse_line("fault 0x10 jump"), Err(ParseError::BadAccess("jump".into())));
        assert_eq!(parse_line("fault 0xzz read"), Err(ParseError::BadNumber("0xzz".into())));
        assert_eq!(parse_line("fault $x read"), Err(ParseError::BadNumber("$x".into())));
        assert_eq!(parse_line("getrlimit cpu"), Err(ParseError::BadResource("cpu".into())));
        assert!(matches!(
            parse_line("munmap 1"),
            Err(ParseError::Arity { op: "munmap", .. })
        ));
    }

    #[test]
    fn last_relative_addresses_resolve() {
        assert_eq!(Addr::Last(-0x10).resolve(0x1000), Some(0xff0));
        assert_eq!(Addr::Last(-1).resolve(0), None);
        assert_eq!(Addr::Abs(5).resolve(0x1000), Some(5));
    }
}
