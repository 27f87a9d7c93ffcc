//! Reads a program's ELF headers into a checked [`Program`]: everything the
//! layout and the initial stack need, or an [`ExecError`] naming what is
//! wrong. The file is untrusted: every offset and size is checked before
//! `xmas-elf` reads it (it slices and asserts alignment unchecked).
//!
//! The checks follow Linux's `load_elf_binary` (class, machine, type,
//! `e_phentsize`, a table of at most 64 KiB, `p_filesz <= p_memsz`,
//! segments inside the user address space) and add the ones Linux leaves
//! to mmap or to a crash: segments inside the file, in address order and
//! not overlapping, file offset and address congruent modulo the page, and
//! an entry point inside an executable segment.

use alloc::{vec, vec::Vec};

use libipc::types::{PAGE_SIZE, Prot};
use xmas_elf::{
    ElfFile,
    header::{self, Machine},
    program::{Flags, ProgramHeader, Type},
};

use super::error::{ExecError, HeaderTableProblem, SegmentProblem};
use crate::{
    layout::{ProgramImage, Segment},
    space::TASK_SIZE_47,
    vma::FileId,
};

/// Size of the ELF64 file header.
pub const EHDR_SIZE: u64 = 64;
/// Size of an ELF64 program header (`AT_PHENT`).
pub const PHDR_SIZE: u64 = 56;
/// Linux refuses program header tables over 64 KiB.
pub const MAX_PHDR_TABLE: u64 = 65536;

const ET_EXEC: u16 = 2;
const ET_DYN: u16 = 3;
const PT_GNU_STACK: u32 = 0x6474_e551;

/// Where a program goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position {
    /// ET_EXEC: at the addresses it was linked for.
    Fixed,
    /// ET_DYN without an interpreter (static-PIE): at a base the pager
    /// chooses (ASLR).
    Independent,
}

/// Whether the stack may hold code (PT_GNU_STACK's X flag). Without a
/// PT_GNU_STACK header, x86-64 Linux keeps the stack non-executable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StackRight {
    NotExecutable,
    Executable,
}

impl StackRight {
    /// The stack VMA's protection.
    pub fn prot(self) -> Prot {
        match self {
            StackRight::NotExecutable => Prot::RW,
            StackRight::Executable => Prot::RW.union(Prot::EXEC),
        }
    }
}

/// The program header table, as `AT_PHDR`/`AT_PHENT`/`AT_PHNUM` describe it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderTable {
    /// `e_phnum`.
    pub count: u16,
    /// Its link-time address, when a PT_LOAD maps the byte at `e_phoff`
    /// (Linux's rule); `AT_PHDR` is this plus the load bias (Linux gives
    /// the bias alone when nothing maps it).
    pub vaddr: Option<u64>,
}

/// A checked program: loadable segments in address order, not overlapping,
/// inside the file and the user address space; the entry point inside an
/// executable one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    pub position: Position,
    /// `e_entry` (link-time: add the load bias for position-independent
    /// programs).
    pub entry: u64,
    /// PT_LOAD segments with memory, in address order.
    pub segments: Vec<Segment>,
    pub headers: HeaderTable,
    pub stack: StackRight,
}

impl Program {
    /// The layout's view of this program, backed by `file` and shown as
    /// `path` in `/proc/<pid>/maps`.
    pub fn image(&self, file: FileId, path: alloc::string::String) -> ProgramImage {
        ProgramImage {
            pie: self.position == Position::Independent,
            entry: self.entry,
            segments: self.segments.clone(),
            file,
            path,
        }
    }
}

fn prot(flags: Flags) -> Prot {
    let mut p = Prot::NONE;
    if flags.is_read() {
        p = p.union(Prot::READ);
    }
    if flags.is_write() {
        p = p.union(Prot::WRITE);
    }
    if flags.is_execute() {
        p = p.union(Prot::EXEC);
    }
    p
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

/// Checks the identification bytes and the header's size: what must hold
/// before `xmas-elf` may read the file header.
fn check_ident(bytes: &[u8]) -> Result<(), ExecError> {
    let len = bytes.len() as u64;
    let magic_len = bytes.len().min(4);
    if bytes[..magic_len] != header::MAGIC[..magic_len] {
        return Err(ExecError::NotElf);
    }
    if len < EHDR_SIZE {
        return Err(ExecError::Truncated { needed: EHDR_SIZE, len });
    }
    if bytes[5] != 1 {
        return Err(ExecError::NotLittleEndian { data: bytes[5] });
    }
    if bytes[6] != 1 {
        return Err(ExecError::BadVersion {
            version: u32::from(bytes[6]),
        });
    }
    Ok(())
}

/// `EI_CLASS`'s value for a 64-bit file.
const ELFCLASS64: u8 = 2;

/// Reads and checks the program in `bytes`.
///
/// The class byte is not checked: Linux's x86-64 loader reads every file
/// as a 64-bit one and checks `e_machine` only, so a 64-bit file whose
/// class byte says 32-bit runs there, and runs here.
pub fn parse(bytes: &[u8]) -> Result<Program, ExecError> {
    check_ident(bytes)?;
    if bytes.as_ptr().align_offset(8) == 0 && bytes[4] == ELFCLASS64 {
        return parse_aligned(bytes);
    }
    // `xmas-elf` reads headers in place and asserts their alignment, and
    // reads the class byte: parse an aligned copy that says 64-bit.
    let mut buf = vec![0u8; bytes.len() + 7];
    let at = buf.as_ptr().align_offset(8);
    let copy = &mut buf[at..at + bytes.len()];
    copy.copy_from_slice(bytes);
    copy[4] = ELFCLASS64;
    parse_aligned(copy)
}

fn parse_aligned(bytes: &[u8]) -> Result<Program, ExecError> {
    let len = bytes.len() as u64;
    let elf = ElfFile::new(bytes).map_err(|_| ExecError::Truncated { needed: EHDR_SIZE, len })?;
    let h = &elf.header.pt2;
    if h.version() != 1 {
        return Err(ExecError::BadVersion { version: h.version() });
    }
    if h.machine().as_machine() != Machine::X86_64 {
        return Err(ExecError::WrongMachine {
            machine: u16_at(bytes, 18),
        });
    }
    let position = match h.type_().0 {
        ET_EXEC => Position::Fixed,
        ET_DYN => Position::Independent,
        other => return Err(ExecError::NotExecutable { elf_type: other }),
    };
    let (phoff, entsize, count) = (h.ph_offset(), h.ph_entry_size(), h.ph_count());
    if u64::from(entsize) != PHDR_SIZE {
        return Err(ExecError::BadHeaderTable(HeaderTableProblem::EntrySize(entsize)));
    }
    let table = u64::from(count) * PHDR_SIZE;
    if count == 0 || table > MAX_PHDR_TABLE {
        return Err(ExecError::BadHeaderTable(HeaderTableProblem::Count(count)));
    }
    if phoff < EHDR_SIZE || !phoff.is_multiple_of(8) {
        return Err(ExecError::BadHeaderTable(HeaderTableProblem::Offset(phoff)));
    }
    let needed = phoff.saturating_add(table);
    if needed > len {
        return Err(ExecError::Truncated { needed, len });
    }

    let mut segments: Vec<(u16, Segment)> = Vec::new();
    let mut stack = None;
    let mut phdr_vaddr = None;
    // The segment reaching highest so far (segments are in address order,
    // so a new one overlaps an earlier one exactly when it starts below
    // this end).
    let mut highest: Option<(u16, u64)> = None;
    for index in 0..count {
        let Ok(ProgramHeader::Ph64(ph)) = elf.program_header(index) else {
            return Err(ExecError::Truncated { needed, len });
        };
        match ph.get_type() {
            Ok(Type::Interp) => return Err(ExecError::DynamicallyLinked),
            Ok(Type::OsSpecific(PT_GNU_STACK)) if stack.is_none() => {
                stack = Some(if ph.flags.is_execute() {
                    StackRight::Executable
                } else {
                    StackRight::NotExecutable
                });
                continue;
            }
            Ok(Type::Load) => {}
            _ => continue,
        }
        let bad = |problem| ExecError::BadProgramHeader { index, problem };
        if ph.align > 1 && !ph.align.is_power_of_two() {
            return Err(bad(SegmentProblem::BadAlignment(ph.align)));
        }
        if ph.file_size > ph.mem_size {
            return Err(bad(SegmentProblem::FileLargerThanMemory {
                file_size: ph.file_size,
                mem_size: ph.mem_size,
            }));
        }
        let file_end = ph.offset.saturating_add(ph.file_size);
        if file_end > len {
            return Err(ExecError::SegmentOutsideFile {
                index,
                end: file_end,
                len,
            });
        }
        if ph.mem_size > TASK_SIZE_47 || ph.virtual_addr > TASK_SIZE_47 - ph.mem_size {
            return Err(ExecError::SegmentTooLarge {
                index,
                vaddr: ph.virtual_addr,
                mem_size: ph.mem_size,
            });
        }
        if ph.file_size > 0 && ph.virtual_addr % PAGE_SIZE != ph.offset % PAGE_SIZE {
            return Err(bad(SegmentProblem::Misaligned {
                vaddr: ph.virtual_addr,
                offset: ph.offset,
            }));
        }
        if ph.offset <= phoff && phoff < file_end {
            phdr_vaddr = Some(phoff - ph.offset + ph.virtual_addr);
        }
        if ph.mem_size == 0 {
            // Linux maps nothing for an empty PT_LOAD.
            continue;
        }
        let end = ph.virtual_addr + ph.mem_size;
        if let Some(&(_, last)) = segments.last()
            && ph.virtual_addr < last.vaddr
        {
            return Err(bad(SegmentProblem::OutOfOrder));
        }
        if let Some((first, high)) = highest
            && ph.virtual_addr < high
        {
            return Err(ExecError::OverlappingSegments { first, second: index });
        }
        if highest.is_none_or(|(_, high)| end > high) {
            highest = Some((index, end));
        }
        segments.push((
            index,
            Segment {
                vaddr: ph.virtual_addr,
                mem_size: ph.mem_size,
                file_size: ph.file_size,
                file_offset: ph.offset,
                prot: prot(ph.flags),
            },
        ));
    }
    if segments.is_empty() {
        return Err(ExecError::NoLoadableSegment);
    }
    let entry = h.entry_point();
    let in_code = |s: &Segment| s.prot.contains(Prot::EXEC) && s.vaddr <= entry && entry - s.vaddr < s.mem_size;
    if !segments.iter().any(|(_, s)| in_code(s)) {
        return Err(ExecError::EntryOutsideCode { entry });
    }
    Ok(Program {
        position,
        entry,
        segments: segments.into_iter().map(|(_, s)| s).collect(),
        headers: HeaderTable {
            count,
            vaddr: phdr_vaddr,
        },
        stack: stack.unwrap_or(StackRight::NotExecutable),
    })
}
