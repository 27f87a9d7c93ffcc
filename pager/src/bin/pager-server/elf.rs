//! Reads a program's ELF headers into the plain description the policy
//! library lays out (the library itself parses nothing).

use alloc::vec::Vec;

use libipc::types::{Prot, VirtAddr};
use pager::layout::Segment;
use xmas_elf::{
    ElfFile,
    header::Type as ElfType,
    program::{Flags, Type},
};

/// What the loader needs of a program file.
#[derive(Clone, Debug)]
pub struct Program {
    pub entry: VirtAddr,
    /// Position-independent (ET_DYN): the policy picks the base.
    pub pie: bool,
    pub segments: Vec<Segment>,
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

/// Parses `bytes`; every header is bounds-checked against the file.
pub fn parse(bytes: &[u8]) -> Result<Program, &'static str> {
    let elf = ElfFile::new(bytes)?;
    let pie = match elf.header.pt2.type_().as_type() {
        ElfType::Executable => false,
        ElfType::SharedObject => true,
        _ => return Err("not an executable"),
    };
    let mut segments = Vec::new();
    for ph in elf.program_iter() {
        if ph.get_type() != Ok(Type::Load) || ph.mem_size() == 0 {
            continue;
        }
        let end = ph
            .offset()
            .checked_add(ph.file_size())
            .ok_or("segment size overflows")?;
        if end > bytes.len() as u64 || ph.file_size() > ph.mem_size() {
            return Err("segment lies outside the file");
        }
        segments.push(Segment {
            vaddr: ph.virtual_addr(),
            mem_size: ph.mem_size(),
            file_size: ph.file_size(),
            file_offset: ph.offset(),
            prot: prot(ph.flags()),
        });
    }
    if segments.is_empty() {
        return Err("no loadable segment");
    }
    Ok(Program {
        entry: VirtAddr(elf.header.pt2.entry_point()),
        pie,
        segments,
    })
}
