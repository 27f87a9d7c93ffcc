//! Why a program cannot be started, in a person's words, with the errno
//! Linux's execve would return.

use core::fmt;

use libipc::pager::Errno;

/// Everything that can refuse an exec: the file, its placement, or the
/// arguments. The pager logs the [`Display`](fmt::Display) text and lives on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecError {
    /// The file ends before a header it announces.
    Truncated { needed: u64, len: u64 },
    /// No `\x7fELF` magic number.
    NotElf,
    /// `EI_DATA` is not little-endian.
    NotLittleEndian { data: u8 },
    /// `EI_VERSION` (or `e_version`) is not EV_CURRENT.
    BadVersion { version: u32 },
    /// `e_machine` is not EM_X86_64.
    WrongMachine { machine: u16 },
    /// `e_type` is neither ET_EXEC nor ET_DYN (an object file, a core dump).
    NotExecutable { elf_type: u16 },
    /// The program has a PT_INTERP: it needs a dynamic linker.
    DynamicallyLinked,
    /// The program header table itself is malformed.
    BadHeaderTable(HeaderTableProblem),
    /// One program header is malformed.
    BadProgramHeader { index: u16, problem: SegmentProblem },
    /// A segment's file bytes run past the end of the file.
    SegmentOutsideFile { index: u16, end: u64, len: u64 },
    /// A segment does not fit the user address space.
    SegmentTooLarge { index: u16, vaddr: u64, mem_size: u64 },
    /// Two loadable segments claim the same bytes of memory.
    OverlappingSegments { first: u16, second: u16 },
    /// The program has no PT_LOAD segment with memory.
    NoLoadableSegment,
    /// `e_entry` is in no executable segment.
    EntryOutsideCode { entry: u64 },
    /// A segment would start below `vm.mmap_min_addr`.
    BelowMinAddress { index: u16, addr: u64, min: u64 },
    /// The address space could not take the image (e.g. `vm.max_map_count`).
    DoesNotFit(Errno),
    /// One argument or environment string is longer than MAX_ARG_STRLEN.
    ArgumentTooLong { len: u64 },
    /// An argument or environment string holds a NUL byte (C strings cannot).
    NulInArgument,
    /// argv, envp and their pointers exceed the stack limit's quarter.
    ArgumentsTooLarge { size: u64, limit: u64 },
}

/// What is wrong with the program header table as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderTableProblem {
    /// `e_phentsize` is not the size of an ELF64 program header.
    EntrySize(u16),
    /// `e_phnum` is 0 or the table is over Linux's 64 KiB.
    Count(u16),
    /// `e_phoff` is inside the file header or not 8-byte aligned.
    Offset(u64),
}

/// What is wrong with one program header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SegmentProblem {
    /// `p_filesz > p_memsz`.
    FileLargerThanMemory { file_size: u64, mem_size: u64 },
    /// `p_vaddr` and `p_offset` differ modulo the page size, so the file
    /// cannot be mapped page by page.
    Misaligned { vaddr: u64, offset: u64 },
    /// `p_align` is neither 0 nor a power of two.
    BadAlignment(u64),
    /// A PT_LOAD at a lower address than the one before it.
    OutOfOrder,
}

/// ENOEXEC: Linux's answer for a file it cannot execute.
pub const ENOEXEC: i32 = 8;
/// E2BIG: the argument list is too long.
pub const E2BIG: i32 = 7;

impl ExecError {
    /// The errno execve returns for this error.
    pub fn code(&self) -> i32 {
        match self {
            ExecError::ArgumentTooLong { .. } | ExecError::ArgumentsTooLarge { .. } => E2BIG,
            ExecError::NulInArgument => Errno::Fault.code(),
            ExecError::SegmentTooLarge { .. } => Errno::Invalid.code(),
            ExecError::BelowMinAddress { .. } => Errno::NotPermitted.code(),
            ExecError::DoesNotFit(errno) => errno.code(),
            _ => ENOEXEC,
        }
    }
}

impl fmt::Display for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ExecError::Truncated { needed, len } => {
                write!(
                    f,
                    "the file is truncated: its headers need {needed} bytes but it has {len}"
                )
            }
            ExecError::NotElf => f.write_str("not an ELF file (no \\x7fELF magic number)"),
            ExecError::NotLittleEndian { data } => write!(f, "not a little-endian ELF file (data encoding {data})"),
            ExecError::BadVersion { version } => write!(f, "unknown ELF version {version}"),
            ExecError::WrongMachine { machine } => write!(f, "built for machine {machine}, not x86-64 (62)"),
            ExecError::NotExecutable { elf_type } => {
                let what = match elf_type {
                    1 => "a relocatable object",
                    4 => "a core dump",
                    _ => "of an unknown type",
                };
                write!(f, "not an executable: the ELF file is {what} (type {elf_type})")
            }
            ExecError::DynamicallyLinked => {
                f.write_str("dynamically linked programs are not supported yet: link with -static")
            }
            ExecError::BadHeaderTable(HeaderTableProblem::EntrySize(size)) => {
                write!(f, "bad program header table: entries of {size} bytes, not 56")
            }
            ExecError::BadHeaderTable(HeaderTableProblem::Count(n)) => {
                write!(f, "bad program header table: {n} headers (1 to 1170 allowed)")
            }
            ExecError::BadHeaderTable(HeaderTableProblem::Offset(off)) => {
                write!(
                    f,
                    "bad program header table: offset {off:#x} is inside the file header or not 8-byte aligned"
                )
            }
            ExecError::BadProgramHeader { index, problem } => {
                write!(f, "bad program header {index}: ")?;
                match problem {
                    SegmentProblem::FileLargerThanMemory { file_size, mem_size } => {
                        write!(f, "file size {file_size:#x} exceeds memory size {mem_size:#x}")
                    }
                    SegmentProblem::Misaligned { vaddr, offset } => {
                        write!(f, "address {vaddr:#x} and file offset {offset:#x} differ within a page")
                    }
                    SegmentProblem::BadAlignment(a) => write!(f, "alignment {a:#x} is not a power of two"),
                    SegmentProblem::OutOfOrder => f.write_str("loadable segment below the one before it"),
                }
            }
            ExecError::SegmentOutsideFile { index, end, len } => write!(
                f,
                "segment {index} lies outside the file: its data ends at byte {end:#x} of a {len:#x}-byte file"
            ),
            ExecError::SegmentTooLarge { index, vaddr, mem_size } => write!(
                f,
                "segment {index} does not fit the user address space ({mem_size:#x} bytes at {vaddr:#x})"
            ),
            ExecError::OverlappingSegments { first, second } => {
                write!(f, "segments {first} and {second} overlap in memory")
            }
            ExecError::NoLoadableSegment => f.write_str("the program has no loadable segment"),
            ExecError::EntryOutsideCode { entry } => {
                write!(f, "the entry point {entry:#x} is outside every executable segment")
            }
            ExecError::BelowMinAddress { index, addr, min } => write!(
                f,
                "segment {index} would load at {addr:#x}, below vm.mmap_min_addr ({min:#x})"
            ),
            ExecError::DoesNotFit(errno) => write!(f, "the program does not fit its address space ({errno:?})"),
            ExecError::ArgumentTooLong { len } => {
                write!(f, "argument list too long: one string is {len} bytes (at most 131072)")
            }
            ExecError::NulInArgument => f.write_str("an argument or environment string contains a NUL byte"),
            ExecError::ArgumentsTooLarge { size, limit } => write!(
                f,
                "argument list too long: arguments and environment take {size} bytes, the stack limit allows {limit}"
            ),
        }
    }
}
