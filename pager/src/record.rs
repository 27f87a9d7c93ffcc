//! Traces recorded from real runs: what the pager server handled (every
//! fault with its decision, every request that changes an address space),
//! written as text lines to the trace channel while the run goes, and read
//! back by `pager-replay` to replay them under the same policy (the
//! decisions must come out the same) or under others (to compare them).
//!
//! A recorded trace extends the replay format of [`crate::trace`] with a
//! versioned header and a pid and a time on each line:
//!
//! ```text
//! pager-trace 1                      # magic and version: the first line
//! policy default                     # the policy of the run
//! seed 0x1 0x2 0x3 0x4               # the words the pager's CSPRNG started from
//! frames 126976                      # the pager's pool
//! set kernel.randomize_va_space 2    # every setting, after the policy's adjustments
//! begin                              # the end of the header
//! PID TIME_NS start NAME             # a process starts; its initial space follows:
//! PID TIME_NS layout MMAP_BASE START_BRK BRK DATA_SIZE START_STACK
//! PID TIME_NS vma START END PROT p|s[g] anon|file:ID:OFFSET:DATA_END NAME
//! PID TIME_NS kept PAGE              # a page resident from the start ([vdso], [vvar])
//! PID TIME_NS fault ADDR ACCESS IP => map N PAGE... | kill REASON
//! PID TIME_NS mmap|munmap|mprotect|brk ... => RESULT   # a native request (trace ops)
//! PID TIME_NS linux NAME A0 A1 A2 A3 A4 A5 [file ID SIZE] [read HEX] => RAX
//! PID TIME_NS touch PAGE w|r         # a page made resident for a copy into (w) or out of (r) it
//! PID TIME_NS exit
//! ```
//!
//! A fault's PAGE is `VIRT:PROT:FILL` with FILL `z` (zeroed frame), `f` then
//! `OFFSET+LEN` (file bytes), `r` (its kept frame again), `zp` (the shared
//! zero page); `map N` says how many of the decided pages were mapped (fewer
//! when the pool ran short). A Linux memory call is recorded with its
//! registers and what the pager learnt while serving it (the file behind a
//! descriptor, bytes read from the caller), so that it replays through
//! [`crate::linux::memory_call`] exactly; a native request is the
//! [`crate::trace`] operation with absolute addresses.

use alloc::{
    string::{String, ToString},
    vec::Vec,
};
use core::fmt::{self, Write};

use libipc::{
    kernel::KillReason,
    types::{Access, HUGE_PAGE_SIZE, PAGE_SIZE, Prot},
};

use crate::{
    linux::{OpenFile, abi::nr},
    settings::Settings,
    space::{Fill, Layout, PageToMap},
    trace::{self, ParseError, TraceOp, parse_u64},
    vma::{Backing, FileId, Vma, VmaName},
};

/// The first word of a recorded trace.
pub const MAGIC: &str = "pager-trace";
/// The format this library writes and reads.
pub const VERSION: u32 = 1;
/// Bytes a Linux call may read from its caller that a trace keeps
/// (setrlimit's and prlimit64's `struct rlimit`).
pub const MAX_READ: usize = 16;

/// What a replay needs to start as the run did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub policy: String,
    pub seed: [u64; 4],
    pub frames: u64,
    /// Every setting as `(key, value)`, in [`Settings::KEYS`] order.
    pub settings: Vec<(String, String)>,
}

impl Header {
    pub fn new(policy: &str, seed: [u64; 4], frames: u64, settings: &Settings) -> Header {
        Header {
            policy: policy.into(),
            seed,
            frames,
            settings: Settings::KEYS
                .iter()
                .filter_map(|&k| Some((k.to_string(), settings.get(k).ok()?)))
                .collect(),
        }
    }

    /// The settings the header records, on top of the defaults.
    pub fn settings(&self) -> Result<Settings, String> {
        let mut settings = Settings::default();
        for (k, v) in &self.settings {
            settings.set(k, v).map_err(|e| alloc::format!("{e}"))?;
        }
        Ok(settings)
    }
}

impl fmt::Display for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{MAGIC} {VERSION}")?;
        writeln!(f, "policy {}", self.policy)?;
        let [a, b, c, d] = self.seed;
        writeln!(f, "seed {a:#x} {b:#x} {c:#x} {d:#x}")?;
        writeln!(f, "frames {}", self.frames)?;
        for (k, v) in &self.settings {
            writeln!(f, "set {k} {v}")?;
        }
        writeln!(f, "begin")
    }
}

/// How a decided page gets its content, without frames (they differ
/// between runs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FillKind {
    Zero,
    File {
        offset: u64,
        len: u64,
    },
    Resident,
    /// The shared read-only zero frame.
    ZeroPage,
}

impl FillKind {
    /// Every [`Fill`] has a kind: a new variant must say which here.
    pub fn of(fill: Fill) -> FillKind {
        match fill {
            // The copy of a zero page is a frame of zeros; a 2 MiB page
            // of zeros says its size beside.
            Fill::Zero | Fill::ZeroPageCopy | Fill::ZeroHuge => FillKind::Zero,
            Fill::File { offset, len, .. } => FillKind::File { offset, len },
            Fill::Resident(_) => FillKind::Resident,
            Fill::ZeroPage => FillKind::ZeroPage,
        }
    }
}

/// One page of a fault decision as recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecidedPage {
    pub virt: u64,
    pub prot: Prot,
    pub fill: FillKind,
    /// Bytes the page covers (4 KiB; 2 MiB for a huge page).
    pub size: u64,
}

impl DecidedPage {
    pub fn of(page: &PageToMap) -> DecidedPage {
        DecidedPage {
            virt: page.virt.0,
            prot: page.prot,
            fill: FillKind::of(page.fill),
            size: match page.fill {
                Fill::ZeroHuge => HUGE_PAGE_SIZE,
                _ => PAGE_SIZE,
            },
        }
    }
}

impl fmt::Display for DecidedPage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}:{}:", self.virt, prot_text(self.prot))?;
        match self.fill {
            FillKind::Zero => f.write_str("z")?,
            FillKind::File { offset, len } => write!(f, "f{offset:#x}+{len:#x}")?,
            FillKind::Resident => f.write_str("r")?,
            FillKind::ZeroPage => f.write_str("zp")?,
        }
        if self.size != PAGE_SIZE {
            write!(f, ":{:#x}", self.size)?;
        }
        Ok(())
    }
}

/// What became of a fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultOutcome {
    /// The decided pages, of which the first `mapped` were mapped.
    Map {
        mapped: usize,
        pages: Vec<DecidedPage>,
    },
    Kill(KillReason),
}

impl fmt::Display for FaultOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultOutcome::Map { mapped, pages } => {
                write!(f, "map {mapped}")?;
                for p in pages {
                    write!(f, " {p}")?;
                }
                Ok(())
            }
            FaultOutcome::Kill(r) => write!(f, "kill {}", kill_name(*r)),
        }
    }
}

/// A Linux memory call with what serving it learnt from outside the
/// address space.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinuxCall {
    pub number: u64,
    pub args: [u64; 6],
    pub file: Option<OpenFile>,
    pub read: Vec<u8>,
}

/// One recorded event.
#[derive(Clone, Debug)]
pub enum Event {
    Start {
        name: String,
    },
    Layout(Layout),
    Vma(Vma),
    Kept {
        page: u64,
    },
    Fault {
        addr: u64,
        access: Access,
        ip: u64,
        outcome: FaultOutcome,
    },
    /// A native request as its trace operation, and its result (an
    /// address or 0, or minus the errno).
    Request {
        op: TraceOp,
        result: i64,
    },
    Linux {
        call: LinuxCall,
        rax: i64,
    },
    /// The pager made a page resident from outside a fault (a copy into
    /// the process, populate), for writing or reading: a write copies a
    /// zero page.
    Touch {
        page: u64,
        write: bool,
    },
    Exit,
}

/// One line of a recorded trace.
#[derive(Clone, Debug)]
pub struct Record {
    pub pid: u32,
    pub time_ns: u64,
    pub event: Event,
}

/// A whole recorded trace.
#[derive(Clone, Debug)]
pub struct Recording {
    pub header: Header,
    /// With their 1-based line numbers.
    pub records: Vec<(usize, Record)>,
}

/// Why a recorded trace does not read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordError {
    /// The first line is not `pager-trace N`.
    NotATrace,
    /// A version this library does not read.
    UnknownVersion(String),
    /// The header lacks this line.
    MissingHeader(&'static str),
    BadHeader(String),
    Line(ParseError),
    BadField(String),
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordError::NotATrace => write!(f, "not a recorded trace: the first line must be `{MAGIC} {VERSION}`"),
            RecordError::UnknownVersion(v) => {
                write!(f, "unknown trace version {v:?} (this replay reads version {VERSION})")
            }
            RecordError::MissingHeader(what) => write!(f, "the header has no `{what}` line"),
            RecordError::BadHeader(line) => write!(f, "bad header line {line:?}"),
            RecordError::Line(e) => write!(f, "{e}"),
            RecordError::BadField(s) => write!(f, "bad field {s:?}"),
        }
    }
}

impl From<ParseError> for RecordError {
    fn from(e: ParseError) -> RecordError {
        RecordError::Line(e)
    }
}

/// Whether `text` starts as a recorded trace (else it is a hand-written
/// one of [`crate::trace`]).
pub fn is_recorded(text: &str) -> bool {
    text.split_whitespace().next() == Some(MAGIC)
}

pub fn prot_text(prot: Prot) -> &'static str {
    const ALL: [&str; 8] = ["---", "r--", "-w-", "rw-", "--x", "r-x", "-wx", "rwx"];
    ALL[usize::from(prot.0 & 7)]
}

fn access_text(a: Access) -> &'static str {
    match a {
        Access::Read => "read",
        Access::Write => "write",
        Access::Execute => "exec",
    }
}

pub fn kill_name(r: KillReason) -> &'static str {
    match r {
        KillReason::NoMapping => "no-mapping",
        KillReason::Protection => "protection",
        KillReason::GuardGap => "guard-gap",
        KillReason::Limit => "limit",
        KillReason::GeneralProtection => "general-protection",
        KillReason::Exception => "exception",
        KillReason::OutOfMemory => "out-of-memory",
        KillReason::PastEndOfFile => "past-end-of-file",
    }
}

fn parse_kill(s: &str) -> Result<KillReason, RecordError> {
    [
        KillReason::NoMapping,
        KillReason::Protection,
        KillReason::GuardGap,
        KillReason::Limit,
        KillReason::GeneralProtection,
        KillReason::Exception,
        KillReason::OutOfMemory,
        KillReason::PastEndOfFile,
    ]
    .into_iter()
    .find(|&r| kill_name(r) == s)
    .ok_or_else(|| RecordError::BadField(s.into()))
}

/// Linux memory calls by name (x86-64 numbers).
const LINUX_CALLS: [(&str, u64); 16] = [
    // Names as Linux's; the numbers are the library's.
    ("mmap", nr::MMAP),
    ("mprotect", nr::MPROTECT),
    ("munmap", nr::MUNMAP),
    ("brk", nr::BRK),
    ("mremap", nr::MREMAP),
    ("msync", nr::MSYNC),
    ("mincore", nr::MINCORE),
    ("madvise", nr::MADVISE),
    ("getrlimit", nr::GETRLIMIT),
    ("mlock", nr::MLOCK),
    ("munlock", nr::MUNLOCK),
    ("mlockall", nr::MLOCKALL),
    ("munlockall", nr::MUNLOCKALL),
    ("setrlimit", nr::SETRLIMIT),
    ("prlimit64", nr::PRLIMIT64),
    ("mlock2", nr::MLOCK2),
];

fn linux_name(number: u64) -> Option<&'static str> {
    LINUX_CALLS.iter().find(|&&(_, n)| n == number).map(|&(s, _)| s)
}

/// The line's `PID TIME` prefix.
fn prefix(w: &mut impl Write, pid: u32, time_ns: u64) -> fmt::Result {
    write!(w, "{pid} {time_ns} ")
}

/// Writes a fault line straight from the decision (no allocation: the
/// server writes it on the fault path).
pub fn write_fault(
    w: &mut impl Write,
    pid: u32,
    time_ns: u64,
    (addr, access, ip): (u64, Access, u64),
    decided: Result<(&[PageToMap], usize), KillReason>,
) -> fmt::Result {
    prefix(w, pid, time_ns)?;
    write!(w, "fault {addr:#x} {} {ip:#x} => ", access_text(access))?;
    match decided {
        Ok((pages, mapped)) => {
            write!(w, "map {mapped}")?;
            for p in pages {
                write!(w, " {}", DecidedPage::of(p))?;
            }
        }
        Err(r) => write!(w, "kill {}", kill_name(r))?,
    }
    w.write_char('\n')
}

/// Writes a native request line; `None` for a request that changes no
/// address space (it is not recorded).
pub fn request_op(request: &libipc::pager::Request) -> Option<TraceOp> {
    use libipc::pager::Request;
    use trace::Addr::Abs;
    Some(match *request {
        Request::Mmap { addr, len, prot, flags } => TraceOp::Mmap {
            addr: Abs(addr.0),
            len,
            prot,
            flags,
            file: None,
        },
        Request::Munmap { addr, len } => TraceOp::Munmap { addr: Abs(addr.0), len },
        Request::Mprotect { addr, len, prot } => TraceOp::Mprotect {
            addr: Abs(addr.0),
            len,
            prot,
        },
        Request::Brk { addr } => TraceOp::Brk { addr: Abs(addr.0) },
        _ => return None,
    })
}

impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        prefix(f, self.pid, self.time_ns)?;
        match &self.event {
            Event::Start { name } => writeln!(f, "start {name}"),
            Event::Layout(l) => writeln!(
                f,
                "layout {:#x} {:#x} {:#x} {:#x} {:#x}",
                l.mmap_base, l.start_brk, l.brk, l.data_size, l.start_stack
            ),
            Event::Vma(v) => writeln!(f, "{}", VmaLine(v)),
            Event::Kept { page } => writeln!(f, "kept {page:#x}"),
            Event::Fault {
                addr,
                access,
                ip,
                outcome,
            } => writeln!(f, "fault {addr:#x} {} {ip:#x} => {outcome}", access_text(*access)),
            Event::Request { op, result } => writeln!(f, "{} => {}", OpText(op), ResultText(*result)),
            Event::Linux { call, rax } => writeln!(f, "{} => {}", CallText(call), ResultText(*rax)),
            Event::Touch { page, write } => writeln!(f, "touch {page:#x} {}", if *write { "w" } else { "r" }),
            Event::Exit => writeln!(f, "exit"),
        }
    }
}

/// A VMA of a process's initial space.
pub struct VmaLine<'a>(pub &'a Vma);

impl fmt::Display for VmaLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        write!(
            f,
            "vma {:#x} {:#x} {} {}{} ",
            v.start,
            v.end,
            prot_text(v.prot),
            if v.shared { "s" } else { "p" },
            if v.grows_down { "g" } else { "" }
        )?;
        match v.backing {
            Backing::Anonymous => f.write_str("anon ")?,
            Backing::File { file, offset, data_end } => write!(f, "file:{}:{offset:#x}:{data_end:#x} ", file.0)?,
        }
        match &v.name {
            VmaName::None => f.write_str("-"),
            VmaName::Heap => f.write_str("[heap]"),
            VmaName::Stack => f.write_str("[stack]"),
            VmaName::Vdso => f.write_str("[vdso]"),
            VmaName::Vvar => f.write_str("[vvar]"),
            VmaName::Shmem(n) => write!(f, "[shmem:{n}]"),
            // Names are written as one word: a path with spaces keeps them
            // as `\x20`.
            VmaName::Path(p) => {
                for c in p.chars() {
                    if c.is_whitespace() || c == '\\' || c == '#' {
                        write!(f, "\\x{:02x}", u32::from(c))?;
                    } else {
                        f.write_char(c)?;
                    }
                }
                Ok(())
            }
        }
    }
}

/// A request operation with absolute addresses.
struct OpText<'a>(&'a TraceOp);

impl fmt::Display for OpText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let abs = |a: &trace::Addr| a.resolve(0).unwrap_or(0);
        match self.0 {
            TraceOp::Mmap {
                addr, len, prot, flags, ..
            } => {
                write!(f, "mmap {:#x} {len:#x} {} ", abs(addr), prot_text(*prot))?;
                let names = [
                    (libipc::pager::MapKind::PRIVATE, "private"),
                    (libipc::pager::MapKind::SHARED, "shared"),
                    (libipc::pager::MapKind::ANONYMOUS, "anonymous"),
                    (libipc::pager::MapKind::FIXED, "fixed"),
                    (libipc::pager::MapKind::FIXED_NOREPLACE, "fixed-noreplace"),
                    (libipc::pager::MapKind::GROWSDOWN, "growsdown"),
                ];
                let mut first = true;
                for (bit, name) in names {
                    if flags.contains(bit) {
                        if !first {
                            f.write_char(',')?;
                        }
                        f.write_str(name)?;
                        first = false;
                    }
                }
                Ok(())
            }
            TraceOp::Munmap { addr, len } => write!(f, "munmap {:#x} {len:#x}", abs(addr)),
            TraceOp::Mprotect { addr, len, prot } => {
                write!(f, "mprotect {:#x} {len:#x} {}", abs(addr), prot_text(*prot))
            }
            TraceOp::Brk { addr } => write!(f, "brk {:#x}", abs(addr)),
            other => write!(f, "{other:?}"),
        }
    }
}

struct ResultText(i64);

impl fmt::Display for ResultText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 < 0 {
            write!(f, "{}", self.0)
        } else {
            write!(f, "{:#x}", self.0)
        }
    }
}

/// A Linux call's fields.
pub struct CallText<'a>(pub &'a LinuxCall);

impl fmt::Display for CallText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.0;
        match linux_name(c.number) {
            Some(name) => write!(f, "linux {name}")?,
            None => write!(f, "linux {}", c.number)?,
        }
        for a in c.args {
            write!(f, " {a:#x}")?;
        }
        if let Some(file) = c.file {
            write!(f, " file {} {:#x}", file.id.0, file.size)?;
        }
        if !c.read.is_empty() {
            f.write_str(" read ")?;
            for b in &c.read {
                write!(f, "{b:02x}")?;
            }
        }
        Ok(())
    }
}

/// Writes a Linux call line.
pub fn write_linux(w: &mut impl Write, pid: u32, time_ns: u64, call: &LinuxCall, rax: i64) -> fmt::Result {
    prefix(w, pid, time_ns)?;
    writeln!(w, "{} => {}", CallText(call), ResultText(rax))
}

/// Writes a native request line.
pub fn write_request(w: &mut impl Write, pid: u32, time_ns: u64, op: &TraceOp, result: i64) -> fmt::Result {
    prefix(w, pid, time_ns)?;
    writeln!(w, "{} => {}", OpText(op), ResultText(result))
}

/// Writes a one-word event (`touch`, `kept`, `exit`, `start`).
pub fn write_simple(w: &mut impl Write, pid: u32, time_ns: u64, event: &Event) -> fmt::Result {
    Record {
        pid,
        time_ns,
        event: event.clone(),
    }
    .fmt_into(w)
}

impl Record {
    fn fmt_into(&self, w: &mut impl Write) -> fmt::Result {
        write!(w, "{self}")
    }
}

/// Writes a process's initial space: its layout, VMAs and resident pages.
pub fn write_space(w: &mut impl Write, pid: u32, time_ns: u64, space: &crate::space::AddressSpace) -> fmt::Result {
    write_simple(w, pid, time_ns, &Event::Layout(space.layout))?;
    for v in space.vmas().iter() {
        prefix(w, pid, time_ns)?;
        writeln!(w, "{}", VmaLine(v))?;
        for (page, _) in v.resident.range(v.start..v.end) {
            prefix(w, pid, time_ns)?;
            writeln!(w, "kept {page:#x}")?;
        }
    }
    Ok(())
}

fn num(s: &str) -> Result<u64, RecordError> {
    parse_u64(s).map_err(RecordError::from)
}

fn signed(s: &str) -> Result<i64, RecordError> {
    match s.strip_prefix('-') {
        Some(rest) => Ok(-(i64::try_from(num(rest)?).map_err(|_| RecordError::BadField(s.into()))?)),
        None => Ok(num(s)? as i64),
    }
}

fn bad(s: &str) -> RecordError {
    RecordError::BadField(s.into())
}

fn parse_page(s: &str) -> Result<DecidedPage, RecordError> {
    let mut parts = s.split(':');
    let (Some(virt), Some(prot), Some(fill)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad(s));
    };
    let size = parts.next().map_or(Ok(PAGE_SIZE), num)?;
    let fill = match fill {
        "z" => FillKind::Zero,
        "r" => FillKind::Resident,
        "zp" => FillKind::ZeroPage,
        f => {
            let (offset, len) = f
                .strip_prefix('f')
                .and_then(|r| r.split_once('+'))
                .ok_or_else(|| bad(s))?;
            FillKind::File {
                offset: num(offset)?,
                len: num(len)?,
            }
        }
    };
    Ok(DecidedPage {
        virt: num(virt)?,
        prot: trace::parse_prot(prot)?,
        fill,
        size,
    })
}

fn parse_access(s: &str) -> Result<Access, RecordError> {
    match s {
        "read" => Ok(Access::Read),
        "write" => Ok(Access::Write),
        "exec" => Ok(Access::Execute),
        _ => Err(bad(s)),
    }
}

fn parse_name(s: &str) -> Result<VmaName, RecordError> {
    Ok(match s {
        "-" => VmaName::None,
        "[heap]" => VmaName::Heap,
        "[stack]" => VmaName::Stack,
        "[vdso]" => VmaName::Vdso,
        "[vvar]" => VmaName::Vvar,
        shmem if shmem.starts_with("[shmem:") && shmem.ends_with(']') => {
            VmaName::Shmem(num(&shmem["[shmem:".len()..shmem.len() - 1])?)
        }
        path => {
            let mut out = String::new();
            let mut rest = path;
            while let Some(i) = rest.find("\\x") {
                out.push_str(&rest[..i]);
                let hex = rest.get(i + 2..i + 4).ok_or_else(|| bad(s))?;
                let c = u8::from_str_radix(hex, 16).map_err(|_| bad(s))?;
                out.push(char::from(c));
                rest = &rest[i + 4..];
            }
            out.push_str(rest);
            VmaName::Path(out)
        }
    })
}

fn parse_vma(f: &[&str]) -> Result<Vma, RecordError> {
    let [start, end, prot, flags, backing, name] = f else {
        return Err(bad(&f.join(" ")));
    };
    let backing = match *backing {
        "anon" => Backing::Anonymous,
        b => {
            let fields: Vec<&str> = b.split(':').collect();
            match fields.as_slice() {
                ["file", id, offset, data_end] => Backing::File {
                    file: FileId(num(id)?),
                    offset: num(offset)?,
                    data_end: num(data_end)?,
                },
                _ => return Err(bad(b)),
            }
        }
    };
    let mut vma = Vma::new(num(start)?, num(end)?, trace::parse_prot(prot)?, backing);
    vma.shared = match flags.as_bytes().first() {
        Some(b's') => true,
        Some(b'p') => false,
        _ => return Err(bad(flags)),
    };
    vma.grows_down = match &flags[1..] {
        "g" => true,
        "" => false,
        _ => return Err(bad(flags)),
    };
    vma.name = parse_name(name)?;
    Ok(vma)
}

fn parse_linux(f: &[&str]) -> Result<LinuxCall, RecordError> {
    let (name, rest) = f.split_first().ok_or_else(|| bad("linux"))?;
    let number = match LINUX_CALLS.iter().find(|&&(n, _)| n == *name) {
        Some(&(_, n)) => n,
        None => num(name)?,
    };
    if rest.len() < 6 {
        return Err(bad(&f.join(" ")));
    }
    let mut args = [0u64; 6];
    for (a, s) in args.iter_mut().zip(rest) {
        *a = num(s)?;
    }
    let mut call = LinuxCall {
        number,
        args,
        file: None,
        read: Vec::new(),
    };
    let mut extra = rest[6..].iter();
    while let Some(&word) = extra.next() {
        match word {
            "file" => {
                let (Some(id), Some(size)) = (extra.next(), extra.next()) else {
                    return Err(bad(word));
                };
                call.file = Some(OpenFile {
                    id: FileId(num(id)?),
                    size: num(size)?,
                });
            }
            "read" => {
                let hex = extra.next().ok_or_else(|| bad(word))?;
                if hex.len() % 2 != 0 || hex.len() > 2 * MAX_READ {
                    return Err(bad(hex));
                }
                for i in (0..hex.len()).step_by(2) {
                    call.read
                        .push(u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| bad(hex))?);
                }
            }
            other => return Err(bad(other)),
        }
    }
    Ok(call)
}

/// Parses one body line.
pub fn parse_record(line: &str) -> Result<Option<Record>, RecordError> {
    let code = line.split('#').next().unwrap_or("");
    let (left, decision) = match code.split_once("=>") {
        Some((l, d)) => (l, Some(d.trim())),
        None => (code, None),
    };
    let f: Vec<&str> = left.split_whitespace().collect();
    let [pid, time, op, args @ ..] = f.as_slice() else {
        return if f.is_empty() { Ok(None) } else { Err(bad(code.trim())) };
    };
    let pid = u32::try_from(num(pid)?).map_err(|_| bad(pid))?;
    let time_ns = num(time)?;
    let need = || decision.ok_or_else(|| bad(code.trim()));
    let event = match (*op, args) {
        ("start", [name]) => Event::Start { name: (*name).into() },
        ("layout", [a, b, c, d, e]) => Event::Layout(Layout {
            mmap_base: num(a)?,
            start_brk: num(b)?,
            brk: num(c)?,
            data_size: num(d)?,
            start_stack: num(e)?,
        }),
        ("vma", f) => Event::Vma(parse_vma(f)?),
        ("kept", [page]) => Event::Kept { page: num(page)? },
        ("touch", [page, rw]) => Event::Touch {
            page: num(page)?,
            write: match *rw {
                "w" => true,
                "r" => false,
                other => return Err(bad(other)),
            },
        },
        ("exit", []) => Event::Exit,
        ("fault", [addr, access, ip]) => {
            let d: Vec<&str> = need()?.split_whitespace().collect();
            let outcome = match d.as_slice() {
                ["kill", reason] => FaultOutcome::Kill(parse_kill(reason)?),
                ["map", mapped, pages @ ..] => FaultOutcome::Map {
                    mapped: usize::try_from(num(mapped)?).map_err(|_| bad(mapped))?,
                    pages: pages.iter().map(|p| parse_page(p)).collect::<Result<_, _>>()?,
                },
                _ => return Err(bad(code.trim())),
            };
            Event::Fault {
                addr: num(addr)?,
                access: parse_access(access)?,
                ip: num(ip)?,
                outcome,
            }
        }
        ("linux", f) => Event::Linux {
            call: parse_linux(f)?,
            rax: signed(need()?)?,
        },
        ("mmap" | "munmap" | "mprotect" | "brk", _) => {
            let op = trace::parse_line(left[left.find(op).unwrap_or(0)..].trim())?.ok_or_else(|| bad(op))?;
            Event::Request {
                op,
                result: signed(need()?)?,
            }
        }
        (other, _) => return Err(RecordError::Line(ParseError::UnknownOp(other.into()))),
    };
    Ok(Some(Record { pid, time_ns, event }))
}

/// Parses a recorded trace: its header, then its records. Errors carry the
/// 1-based line number.
pub fn parse(text: &str) -> Result<Recording, (usize, RecordError)> {
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    let first = lines.next().map_or("", |(_, l)| l);
    match first.split_whitespace().collect::<Vec<_>>().as_slice() {
        [MAGIC, v] if *v == "1" => {}
        [MAGIC, v] => return Err((1, RecordError::UnknownVersion((*v).into()))),
        _ => return Err((1, RecordError::NotATrace)),
    }
    let (mut policy, mut seed, mut frames) = (None, None, None);
    let mut settings = Vec::new();
    let mut begun = false;
    let mut at = 1;
    for (n, line) in lines.by_ref() {
        at = n;
        let f: Vec<&str> = line.split('#').next().unwrap_or("").split_whitespace().collect();
        match f.as_slice() {
            [] => {}
            ["policy", name] => policy = Some((*name).to_string()),
            ["seed", a, b, c, d] => {
                let w = |s: &str| num(s).map_err(|e| (n, e));
                seed = Some([w(a)?, w(b)?, w(c)?, w(d)?]);
            }
            ["frames", count] => frames = Some(num(count).map_err(|e| (n, e))?),
            ["set", k, v] => settings.push(((*k).to_string(), (*v).to_string())),
            ["begin"] => {
                begun = true;
                break;
            }
            _ => return Err((n, RecordError::BadHeader(line.into()))),
        }
    }
    let missing = |what| (at, RecordError::MissingHeader(what));
    if !begun {
        return Err(missing("begin"));
    }
    let header = Header {
        policy: policy.ok_or_else(|| missing("policy"))?,
        seed: seed.ok_or_else(|| missing("seed"))?,
        frames: frames.ok_or_else(|| missing("frames"))?,
        settings,
    };
    let mut records = Vec::new();
    for (n, line) in lines {
        if let Some(r) = parse_record(line).map_err(|e| (n, e))? {
            records.push((n, r));
        }
    }
    Ok(Recording { header, records })
}

#[cfg(test)]
mod tests;
