//! ELF files broken on purpose, made from a working static program: each
//! [`Breakage`] changes a few bytes the way a corrupt or foreign file
//! would, and Linux either refuses to execute the result (`execve` fails
//! with ENOEXEC: a shell reports 126) or starts it and kills it.

/// Offsets into the ELF64 header and a program header (`<elf.h>`).
mod offset {
    pub const CLASS: usize = 4;
    pub const TYPE: usize = 16;
    pub const MACHINE: usize = 18;
    pub const ENTRY: usize = 24;
    pub const PHOFF: usize = 32;
    pub const PHENTSIZE: usize = 54;
    pub const PHNUM: usize = 56;
    pub const P_TYPE: usize = 0;
    pub const P_VADDR: usize = 16;
    pub const P_MEMSZ: usize = 40;
}

const PT_LOAD: u32 = 1;
const PHDR_SIZE: usize = 56;

/// One way to break a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Breakage {
    /// `\x7fELF` becomes `\x7fXLF`.
    BadMagic,
    /// Cut inside the ELF header.
    Truncated,
    /// An AArch64 file (e_machine 183).
    WrongMachine,
    /// A 32-bit class byte on a 64-bit header: Linux checks e_machine,
    /// not the class byte, and runs it.
    WrongClass,
    /// A core dump (e_type ET_CORE), not an executable.
    CoreFile,
    /// e_phentsize that is not the size of a program header.
    BadPhentsize,
    /// No program headers at all.
    NoProgramHeaders,
    /// Program headers said to lie past the end of the file.
    PhdrsPastEof,
    /// Loads, then jumps to an address no segment maps: SIGSEGV.
    EntryUnmapped,
}

impl Breakage {
    pub const ALL: [Breakage; 9] = [
        Breakage::BadMagic,
        Breakage::Truncated,
        Breakage::WrongMachine,
        Breakage::WrongClass,
        Breakage::CoreFile,
        Breakage::BadPhentsize,
        Breakage::NoProgramHeaders,
        Breakage::PhdrsPastEof,
        Breakage::EntryUnmapped,
    ];

    /// The file name of the broken program.
    pub fn name(self) -> &'static str {
        match self {
            Breakage::BadMagic => "bad_magic",
            Breakage::Truncated => "truncated",
            Breakage::WrongMachine => "wrong_machine",
            Breakage::WrongClass => "wrong_class",
            Breakage::CoreFile => "core_file",
            Breakage::BadPhentsize => "bad_phentsize",
            Breakage::NoProgramHeaders => "no_program_headers",
            Breakage::PhdrsPastEof => "phdrs_past_eof",
            Breakage::EntryUnmapped => "entry_unmapped",
        }
    }

    /// What Linux reports: 126 when `execve` refuses the file, 139 when
    /// the program starts and dies of SIGSEGV, 0 when it runs anyway.
    pub fn linux_status(self) -> u8 {
        match self {
            Breakage::EntryUnmapped => 139,
            Breakage::WrongClass => 0,
            _ => 126,
        }
    }

    /// What this system reports, where it differs from Linux on purpose:
    /// the Linux-programs issue asks for an entry point outside every
    /// segment to be refused with a clear error, where Linux starts the
    /// program and it dies at once (SIGSEGV).
    pub fn our_status(self) -> u8 {
        match self {
            Breakage::EntryUnmapped => 126,
            other => other.linux_status(),
        }
    }

    /// The broken copy of `elf`, a working static x86-64 executable.
    pub fn apply(self, elf: &[u8]) -> Vec<u8> {
        let mut out = elf.to_vec();
        let put16 = |out: &mut Vec<u8>, at: usize, v: u16| out[at..at + 2].copy_from_slice(&v.to_le_bytes());
        let put64 = |out: &mut Vec<u8>, at: usize, v: u64| out[at..at + 8].copy_from_slice(&v.to_le_bytes());
        match self {
            Breakage::BadMagic => out[1] = b'X',
            Breakage::Truncated => out.truncate(40),
            Breakage::WrongMachine => put16(&mut out, offset::MACHINE, 183),
            Breakage::WrongClass => out[offset::CLASS] = 1,
            Breakage::CoreFile => put16(&mut out, offset::TYPE, 4),
            Breakage::BadPhentsize => put16(&mut out, offset::PHENTSIZE, 32),
            Breakage::NoProgramHeaders => put16(&mut out, offset::PHNUM, 0),
            Breakage::PhdrsPastEof => put64(&mut out, offset::PHOFF, elf.len() as u64 + 4096),
            Breakage::EntryUnmapped => {
                let unmapped = highest_load_end(elf) + (1 << 30);
                put64(&mut out, offset::ENTRY, unmapped);
            }
        }
        out
    }
}

fn read16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(b[at..at + 2].try_into().expect("2 bytes"))
}

fn read32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn read64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// The end of the highest PT_LOAD segment (relative to the load base for
/// a PIE): an entry point 1 GiB above it lands in no segment.
fn highest_load_end(elf: &[u8]) -> u64 {
    let phoff = read64(elf, offset::PHOFF) as usize;
    (0..read16(elf, offset::PHNUM) as usize)
        .map(|i| phoff + i * PHDR_SIZE)
        .filter(|&ph| read32(elf, ph + offset::P_TYPE) == PT_LOAD)
        .map(|ph| read64(elf, ph + offset::P_VADDR) + read64(elf, ph + offset::P_MEMSZ))
        .max()
        .expect("a static executable has a PT_LOAD segment")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ELF64 header with one PT_LOAD at 0x400000 of 0x2000 bytes.
    fn tiny_elf() -> Vec<u8> {
        let mut elf = vec![0u8; 64 + PHDR_SIZE];
        elf[..4].copy_from_slice(b"\x7fELF");
        elf[offset::CLASS] = 2;
        elf[offset::PHOFF..offset::PHOFF + 8].copy_from_slice(&64u64.to_le_bytes());
        elf[offset::PHNUM..offset::PHNUM + 2].copy_from_slice(&1u16.to_le_bytes());
        elf[64..68].copy_from_slice(&PT_LOAD.to_le_bytes());
        elf[64 + offset::P_VADDR..64 + offset::P_VADDR + 8].copy_from_slice(&0x40_0000u64.to_le_bytes());
        elf[64 + offset::P_MEMSZ..64 + offset::P_MEMSZ + 8].copy_from_slice(&0x2000u64.to_le_bytes());
        elf
    }

    #[test]
    fn each_breakage_changes_what_it_says() {
        let elf = tiny_elf();
        assert_eq!(&Breakage::BadMagic.apply(&elf)[..4], b"\x7fXLF");
        assert_eq!(Breakage::Truncated.apply(&elf).len(), 40);
        assert_eq!(read16(&Breakage::WrongMachine.apply(&elf), offset::MACHINE), 183);
        assert_eq!(Breakage::WrongClass.apply(&elf)[offset::CLASS], 1);
        assert_eq!(read16(&Breakage::CoreFile.apply(&elf), offset::TYPE), 4);
        assert_eq!(read16(&Breakage::BadPhentsize.apply(&elf), offset::PHENTSIZE), 32);
        assert_eq!(read16(&Breakage::NoProgramHeaders.apply(&elf), offset::PHNUM), 0);
        assert!(read64(&Breakage::PhdrsPastEof.apply(&elf), offset::PHOFF) > elf.len() as u64);
        assert_eq!(
            read64(&Breakage::EntryUnmapped.apply(&elf), offset::ENTRY),
            0x40_2000 + (1 << 30)
        );
        let names: std::collections::HashSet<_> = Breakage::ALL.iter().map(|b| b.name()).collect();
        assert_eq!(names.len(), Breakage::ALL.len());
    }
}
