//! Every `ExecError`, the placement in each ASLR mode, and the initial stack
//! read back by an independent reader. The ELF files are built here, byte
//! by byte, so each test says exactly which field is wrong.

use alloc::{format, string::ToString, vec, vec::Vec};

use libipc::{
    pager::Errno,
    types::{Access, PAGE_SIZE, Prot},
};
use proptest::prelude::*;

use super::{
    auxv::{AuxType, AuxValues, CLOCK_TICKS, PLATFORM},
    elf::{HeaderTable, parse},
    stack::{ARG_MAX_LIMIT, ARG_MIN_LIMIT, MAX_ARG_STRLEN, StackRequest, argument_limit, build},
    *,
};
use crate::{
    aslr,
    policy::OnePage,
    rng::Rng,
    space::{FaultDecision, Fill, page_up},
};

const PT_LOAD: u32 = 1;
const PT_INTERP: u32 = 3;
const PT_GNU_STACK: u32 = 0x6474_e551;
const PF_X: u32 = 1;
const PF_W: u32 = 2;
const PF_R: u32 = 4;

/// One program header.
#[derive(Clone, Copy, Debug)]
struct Ph {
    kind: u32,
    flags: u32,
    offset: u64,
    vaddr: u64,
    file_size: u64,
    mem_size: u64,
    align: u64,
}

const fn load(flags: u32, offset: u64, vaddr: u64, file_size: u64, mem_size: u64) -> Ph {
    Ph {
        kind: PT_LOAD,
        flags,
        offset,
        vaddr,
        file_size,
        mem_size,
        align: PAGE_SIZE,
    }
}

const fn stack(flags: u32) -> Ph {
    Ph {
        kind: PT_GNU_STACK,
        flags,
        offset: 0,
        vaddr: 0,
        file_size: 0,
        mem_size: 0,
        align: 16,
    }
}

/// Byte offsets of header fields.
const E_TYPE: usize = 16;
const E_MACHINE: usize = 18;
const E_VERSION: usize = 20;
const E_ENTRY: usize = 24;
const E_PHOFF: usize = 32;
const E_PHENTSIZE: usize = 54;
const E_PHNUM: usize = 56;
/// What fills the file beyond the headers: non-zero, so that bytes a
/// segment does not own are visible if they leak into memory.
const FILLER: u8 = 0xaa;
/// The data segment of [`STATIC`]: its file bytes end mid-page, its bss
/// runs on for two more pages.
const DATA: Ph = load(PF_R | PF_W, 0x1fc0, 0x40_2fc0, 0x100, 0x2900);
const DATA_END: u64 = 0x40_2fc0 + 0x100;

/// A static non-PIE program laid out as musl's `-static` output is.
const STATIC: [Ph; 4] = [
    load(PF_R, 0, 0x40_0000, 0x190, 0x190),
    load(PF_R | PF_X, 0x1000, 0x40_1000, 0x800, 0x800),
    DATA,
    stack(PF_R | PF_W),
];

fn elf(e_type: u16, entry: u64, phs: &[Ph], len: usize) -> Vec<u8> {
    let mut b = vec![FILLER; len.max(64 + 56 * phs.len())];
    b[..64].fill(0);
    b[..4].copy_from_slice(b"\x7fELF");
    b[4] = 2;
    b[5] = 1;
    b[6] = 1;
    let mut put = |at: usize, bytes: &[u8]| b[at..at + bytes.len()].copy_from_slice(bytes);
    put(E_TYPE, &e_type.to_le_bytes());
    put(E_MACHINE, &62u16.to_le_bytes());
    put(E_VERSION, &1u32.to_le_bytes());
    put(E_ENTRY, &entry.to_le_bytes());
    put(E_PHOFF, &64u64.to_le_bytes());
    put(52, &64u16.to_le_bytes());
    put(E_PHENTSIZE, &56u16.to_le_bytes());
    put(E_PHNUM, &(phs.len() as u16).to_le_bytes());
    for (i, ph) in phs.iter().enumerate() {
        let at = 64 + 56 * i;
        put(at, &ph.kind.to_le_bytes());
        put(at + 4, &ph.flags.to_le_bytes());
        for (j, v) in [ph.offset, ph.vaddr, ph.vaddr, ph.file_size, ph.mem_size, ph.align]
            .into_iter()
            .enumerate()
        {
            put(at + 8 + 8 * j, &v.to_le_bytes());
        }
    }
    b
}

fn static_elf() -> Vec<u8> {
    elf(2, 0x40_1000, &STATIC, 0x2200)
}

/// A static-PIE: the same program linked at 0.
fn pie_elf() -> Vec<u8> {
    let phs: Vec<Ph> = STATIC
        .iter()
        .map(|p| Ph {
            vaddr: p.vaddr.saturating_sub(0x40_0000),
            ..*p
        })
        .collect();
    elf(3, 0x1000, &phs, 0x2200)
}

fn with(mut bytes: Vec<u8>, at: usize, field: &[u8]) -> Vec<u8> {
    bytes[at..at + field.len()].copy_from_slice(field);
    bytes
}

fn with_phs(phs: &[Ph]) -> Result<Program, ExecError> {
    parse(&elf(2, 0x40_1000, phs, 0x2200))
}

fn bad(index: u16, problem: SegmentProblem) -> Result<Program, ExecError> {
    Err(ExecError::BadProgramHeader { index, problem })
}

#[test]
fn a_static_program_parses() {
    let p = parse(&static_elf()).unwrap();
    assert_eq!(p.position, Position::Fixed);
    assert_eq!(p.entry, 0x40_1000);
    assert_eq!(p.stack, StackRight::NotExecutable);
    assert_eq!(
        p.headers,
        HeaderTable {
            count: 4,
            vaddr: Some(0x40_0040)
        }
    );
    let segs: Vec<(u64, u64, u64, u64, Prot)> = p
        .segments
        .iter()
        .map(|s| (s.vaddr, s.mem_size, s.file_size, s.file_offset, s.prot))
        .collect();
    assert_eq!(
        segs,
        [
            (0x40_0000, 0x190, 0x190, 0, Prot::READ),
            (0x40_1000, 0x800, 0x800, 0x1000, Prot::RX),
            (0x40_2fc0, 0x2900, 0x100, 0x1fc0, Prot::RW),
        ]
    );
}

#[test]
fn a_static_pie_parses_as_position_independent() {
    let p = parse(&pie_elf()).unwrap();
    assert_eq!(p.position, Position::Independent);
    assert_eq!(p.headers.vaddr, Some(0x40));
}

#[test]
fn pt_gnu_stack_decides_the_stack_execute_right() {
    let mut phs = STATIC;
    phs[3] = stack(PF_R | PF_W | PF_X);
    assert_eq!(with_phs(&phs).unwrap().stack, StackRight::Executable);
    assert_eq!(StackRight::Executable.prot(), Prot(7));
    // No PT_GNU_STACK: x86-64 Linux keeps the stack non-executable.
    assert_eq!(with_phs(&STATIC[..3]).unwrap().stack, StackRight::NotExecutable);
}

#[test]
fn headers_outside_every_segment_give_no_address() {
    let mut phs = STATIC;
    phs[0] = load(PF_R, 0x1000, 0x40_0000, 0x100, 0x100);
    phs[1] = load(PF_R | PF_X, 0x1000, 0x40_1000, 0x800, 0x800);
    assert_eq!(with_phs(&phs).unwrap().headers.vaddr, None);
}

#[test]
fn a_misaligned_buffer_is_parsed_from_an_aligned_copy() {
    let bytes = static_elf();
    for offset in 0..8 {
        let mut shifted = vec![0u8; offset];
        shifted.extend_from_slice(&bytes);
        assert_eq!(parse(&shifted[offset..]), parse(&bytes));
    }
}

#[test]
fn a_truncated_file_is_named() {
    let bytes = static_elf();
    assert_eq!(parse(&bytes[..40]), Err(ExecError::Truncated { needed: 64, len: 40 }));
    assert_eq!(parse(&bytes[..3]), Err(ExecError::Truncated { needed: 64, len: 3 }));
    assert_eq!(
        parse(&bytes[..100]),
        Err(ExecError::Truncated { needed: 288, len: 100 })
    );
    assert_eq!(
        parse(&bytes[..0x1500]),
        Err(ExecError::SegmentOutsideFile {
            index: 1,
            end: 0x1800,
            len: 0x1500
        })
    );
}

#[test]
fn a_file_that_is_not_elf_is_named() {
    assert_eq!(parse(b"#!/bin/sh\necho hi\n"), Err(ExecError::NotElf));
    assert_eq!(parse(b""), Err(ExecError::Truncated { needed: 64, len: 0 }));
    assert_eq!(parse(b"\x7fEL!"), Err(ExecError::NotElf));
    // Linux reads any file as 64-bit (it checks e_machine): so do we.
    assert_eq!(parse(&with(static_elf(), 4, &[1])), parse(&static_elf()));
    assert_eq!(
        parse(&with(static_elf(), 5, &[2])),
        Err(ExecError::NotLittleEndian { data: 2 })
    );
    assert_eq!(
        parse(&with(static_elf(), 6, &[0])),
        Err(ExecError::BadVersion { version: 0 })
    );
    assert_eq!(
        parse(&with(static_elf(), E_VERSION, &7u32.to_le_bytes())),
        Err(ExecError::BadVersion { version: 7 })
    );
}

#[test]
fn another_machine_or_file_type_is_named() {
    assert_eq!(
        parse(&with(static_elf(), E_MACHINE, &183u16.to_le_bytes())),
        Err(ExecError::WrongMachine { machine: 183 })
    );
    for t in [0u16, 1, 4, 0xfe00] {
        assert_eq!(
            parse(&with(static_elf(), E_TYPE, &t.to_le_bytes())),
            Err(ExecError::NotExecutable { elf_type: t })
        );
    }
}

#[test]
fn a_dynamically_linked_program_is_refused_with_the_issue_s_words() {
    let mut phs = STATIC.to_vec();
    phs.insert(
        0,
        Ph {
            kind: PT_INTERP,
            flags: PF_R,
            offset: 0x238,
            vaddr: 0x40_0238,
            file_size: 28,
            mem_size: 28,
            align: 1,
        },
    );
    let err = with_phs(&phs).unwrap_err();
    assert_eq!(err, ExecError::DynamicallyLinked);
    assert_eq!(
        err.to_string(),
        "dynamically linked programs are not supported yet: link with -static"
    );
    assert_eq!(err.code(), ENOEXEC);
}

#[test]
fn a_bad_program_header_table_is_named() {
    let table = |e: ExecError| Err(e);
    assert_eq!(
        parse(&with(static_elf(), E_PHENTSIZE, &32u16.to_le_bytes())),
        table(ExecError::BadHeaderTable(HeaderTableProblem::EntrySize(32)))
    );
    assert_eq!(
        parse(&with(static_elf(), E_PHNUM, &0u16.to_le_bytes())),
        table(ExecError::BadHeaderTable(HeaderTableProblem::Count(0)))
    );
    assert_eq!(
        parse(&with(static_elf(), E_PHNUM, &1171u16.to_le_bytes())),
        table(ExecError::BadHeaderTable(HeaderTableProblem::Count(1171)))
    );
    for off in [0u64, 8, 65] {
        assert_eq!(
            parse(&with(static_elf(), E_PHOFF, &off.to_le_bytes())),
            table(ExecError::BadHeaderTable(HeaderTableProblem::Offset(off)))
        );
    }
    assert_eq!(
        parse(&with(static_elf(), E_PHOFF, &(u64::MAX - 7).to_le_bytes())),
        Err(ExecError::Truncated {
            needed: u64::MAX,
            len: 0x2200
        })
    );
}

#[test]
fn a_bad_segment_is_named() {
    let mut phs = STATIC;
    phs[2].file_size = phs[2].mem_size + 1;
    assert_eq!(
        with_phs(&phs),
        bad(
            2,
            SegmentProblem::FileLargerThanMemory {
                file_size: 0x2901,
                mem_size: 0x2900
            }
        )
    );
    let mut phs = STATIC;
    phs[1].offset = 0x1010;
    assert_eq!(
        with_phs(&phs),
        bad(
            1,
            SegmentProblem::Misaligned {
                vaddr: 0x40_1000,
                offset: 0x1010
            }
        )
    );
    let mut phs = STATIC;
    phs[1].align = 0x3000;
    assert_eq!(with_phs(&phs), bad(1, SegmentProblem::BadAlignment(0x3000)));
    let mut phs = STATIC;
    phs.swap(0, 1);
    assert_eq!(with_phs(&phs), bad(1, SegmentProblem::OutOfOrder));
}

#[test]
fn a_segment_outside_the_file_is_named() {
    let mut phs = STATIC;
    phs[2].offset = u64::MAX - 0x3f;
    phs[2].vaddr = 0x40_2fc0;
    assert_eq!(
        with_phs(&phs),
        Err(ExecError::SegmentOutsideFile {
            index: 2,
            end: u64::MAX,
            len: 0x2200
        })
    );
    let mut phs = STATIC;
    phs[2].file_size = 0x300;
    assert_eq!(
        with_phs(&phs),
        Err(ExecError::SegmentOutsideFile {
            index: 2,
            end: 0x22c0,
            len: 0x2200
        })
    );
}

#[test]
fn an_absurd_size_is_named() {
    for (vaddr, mem_size) in [
        (0x40_2fc0, 1u64 << 48),
        (0x7fff_ffff_0000, 0x10_0000),
        (u64::MAX - 0xfff, 0x1000),
    ] {
        let mut phs = STATIC;
        phs[2].vaddr = vaddr;
        phs[2].offset = 0x1000 + vaddr % PAGE_SIZE;
        phs[2].mem_size = mem_size;
        assert_eq!(
            with_phs(&phs),
            Err(ExecError::SegmentTooLarge {
                index: 2,
                vaddr,
                mem_size
            })
        );
    }
}

#[test]
fn overlapping_segments_are_named() {
    let mut phs = STATIC;
    phs[1].mem_size = 0x2000; // runs into the data segment at 0x402fc0
    assert_eq!(
        with_phs(&phs),
        Err(ExecError::OverlappingSegments { first: 1, second: 2 })
    );
    // A segment inside an earlier, larger one.
    let mut phs = STATIC;
    phs[0].mem_size = 0x10_0000;
    assert_eq!(
        with_phs(&phs),
        Err(ExecError::OverlappingSegments { first: 0, second: 1 })
    );
    // Sharing a page without sharing bytes is fine (Linux's layout).
    let mut phs = STATIC;
    phs[2].vaddr = 0x40_1fc0;
    phs[2].offset = 0x1fc0;
    assert!(with_phs(&phs).is_ok());
}

#[test]
fn a_program_without_loadable_segments_is_named() {
    assert_eq!(with_phs(&[stack(PF_R | PF_W)]), Err(ExecError::NoLoadableSegment));
    let empty = load(PF_R | PF_X, 0x1000, 0x40_1000, 0, 0);
    assert_eq!(with_phs(&[empty]), Err(ExecError::NoLoadableSegment));
}

#[test]
fn an_entry_outside_the_code_is_named() {
    for entry in [0x40_0010, 0x40_1800, 0x40_2fc0, 0, u64::MAX] {
        assert_eq!(
            parse(&elf(2, entry, &STATIC, 0x2200)),
            Err(ExecError::EntryOutsideCode { entry })
        );
    }
    assert!(parse(&elf(2, 0x40_17ff, &STATIC, 0x2200)).is_ok());
}

#[test]
fn every_error_has_its_own_words_and_errno() {
    let all = [
        ExecError::Truncated { needed: 64, len: 3 },
        ExecError::NotElf,
        ExecError::NotLittleEndian { data: 2 },
        ExecError::BadVersion { version: 0 },
        ExecError::WrongMachine { machine: 3 },
        ExecError::NotExecutable { elf_type: 1 },
        ExecError::NotExecutable { elf_type: 4 },
        ExecError::NotExecutable { elf_type: 9 },
        ExecError::DynamicallyLinked,
        ExecError::BadHeaderTable(HeaderTableProblem::EntrySize(1)),
        ExecError::BadHeaderTable(HeaderTableProblem::Count(0)),
        ExecError::BadHeaderTable(HeaderTableProblem::Offset(1)),
        ExecError::BadProgramHeader {
            index: 1,
            problem: SegmentProblem::FileLargerThanMemory {
                file_size: 2,
                mem_size: 1,
            },
        },
        ExecError::BadProgramHeader {
            index: 1,
            problem: SegmentProblem::Misaligned { vaddr: 1, offset: 2 },
        },
        ExecError::BadProgramHeader {
            index: 1,
            problem: SegmentProblem::BadAlignment(3),
        },
        ExecError::BadProgramHeader {
            index: 1,
            problem: SegmentProblem::OutOfOrder,
        },
        ExecError::SegmentOutsideFile {
            index: 1,
            end: 2,
            len: 1,
        },
        ExecError::SegmentTooLarge {
            index: 1,
            vaddr: 0,
            mem_size: 1 << 50,
        },
        ExecError::OverlappingSegments { first: 1, second: 2 },
        ExecError::NoLoadableSegment,
        ExecError::EntryOutsideCode { entry: 5 },
        ExecError::BelowMinAddress {
            index: 0,
            addr: 0x1000,
            min: 0x10000,
        },
        ExecError::DoesNotFit(Errno::NoMemory),
        ExecError::ArgumentTooLong { len: 1 << 20 },
        ExecError::NulInArgument,
        ExecError::ArgumentsTooLarge { size: 2, limit: 1 },
    ];
    let texts: Vec<_> = all.iter().map(|e| e.to_string()).collect();
    for (i, t) in texts.iter().enumerate() {
        assert!(t.len() > 15, "{t}");
        assert!(!texts[..i].contains(t), "two errors read {t:?}");
    }
    let code = |e: &ExecError| e.code();
    assert_eq!(code(&all[0]), ENOEXEC);
    assert_eq!(code(&ExecError::ArgumentsTooLarge { size: 2, limit: 1 }), E2BIG);
    assert_eq!(code(&ExecError::ArgumentTooLong { len: 1 }), E2BIG);
    assert_eq!(code(&ExecError::NulInArgument), Errno::Fault.code());
    assert_eq!(code(&ExecError::DoesNotFit(Errno::NoMemory)), Errno::NoMemory.code());
    assert_eq!(code(&all[17]), Errno::Invalid.code());
    assert_eq!(code(&all[21]), Errno::NotPermitted.code());
    assert!(texts[8].contains("link with -static"));
}

/// What a valid program satisfies, whatever bytes it came from.
fn check_program(p: &Program, len: u64) {
    assert!(!p.segments.is_empty());
    for w in p.segments.windows(2) {
        assert!(w[0].vaddr + w[0].mem_size <= w[1].vaddr, "{p:?}");
    }
    for s in &p.segments {
        assert!(s.file_size <= s.mem_size && s.file_offset + s.file_size <= len);
        assert!(s.vaddr + s.mem_size <= crate::space::TASK_SIZE_47);
    }
    assert!(
        p.segments
            .iter()
            .any(|s| s.prot.contains(Prot::EXEC) && (s.vaddr..s.vaddr + s.mem_size).contains(&p.entry))
    );
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600), magic in any::<bool>()) {
        let mut bytes = bytes;
        if magic && bytes.len() >= 7 {
            bytes[..7].copy_from_slice(b"\x7fELF\x02\x01\x01");
        }
        if let Ok(p) = parse(&bytes) {
            check_program(&p, bytes.len() as u64);
        }
    }

    /// Mutations of a valid file (header and program header bytes set to
    /// random or boundary values, the file cut short) parse or give an
    /// error, never a panic, and what parses is consistent.
    #[test]
    fn mutated_programs_never_panic(
        pie in any::<bool>(),
        edits in proptest::collection::vec((0usize..300, prop_oneof![any::<u8>(), Just(0u8), Just(0xff)]), 1..8),
        cut in proptest::option::of(0usize..0x2200),
        offset in 0usize..8,
    ) {
        let mut bytes = if pie { pie_elf() } else { static_elf() };
        for (at, v) in edits {
            bytes[at] = v;
        }
        if let Some(cut) = cut {
            bytes.truncate(cut);
        }
        // At every alignment of the buffer.
        let mut shifted = vec![0u8; offset];
        shifted.extend_from_slice(&bytes);
        let result = parse(&shifted[offset..]);
        prop_assert_eq!(&result, &parse(&bytes));
        if let Ok(p) = result {
            check_program(&p, bytes.len() as u64);
        }
    }
}

// ---- Placement ----

fn settings(mode: &str) -> Settings {
    let mut s = Settings::default();
    s.set("kernel.randomize_va_space", mode).unwrap();
    s
}

const ARGV: &[&[u8]] = &[b"/bin/prog", b"-v", b""];
const ENVP: &[&[u8]] = &[b"HOME=/", b"PATH=/bin"];

fn request() -> ExecRequest<'static> {
    ExecRequest {
        argv: ARGV,
        envp: ENVP,
        execfn: b"/bin/prog",
        file: FileId(4),
        credentials: Credentials::same(1000, 100),
        hwcap: 0x178b_fbff,
        hwcap2: 2,
        minsigstksz: None,
        vdso: false,
    }
}

fn run(bytes: &[u8], mode: &str, seed: u64) -> Result<Exec, ExecError> {
    let program = parse(bytes)?;
    exec(
        &program,
        "/bin/prog".into(),
        &request(),
        &settings(mode),
        Rlimits::default(),
        &mut Rng::from_words([seed, 7, 7, 7]),
    )
}

fn aux_of(e: &Exec, t: AuxType) -> u64 {
    e.stack.auxv.iter().find(|(k, _)| *k == t).map(|&(_, v)| v).unwrap()
}

#[test]
fn a_non_pie_program_loads_at_its_linked_address_in_every_mode() {
    for mode in ["0", "1", "2"] {
        for seed in 0..4 {
            let e = run(&static_elf(), mode, seed).unwrap();
            assert_eq!(e.load_bias, 0);
            assert_eq!(e.entry.0, 0x40_1000);
            let text = e.space.vmas().find(0x40_1000).unwrap();
            assert_eq!((text.start, text.prot), (0x40_1000, Prot::RX));
            assert_eq!(aux_of(&e, AuxType::Phdr), 0x40_0040);
            assert_eq!(aux_of(&e, AuxType::Entry), 0x40_1000);
        }
    }
}

#[test]
fn a_static_pie_loads_at_the_fixed_base_below_mode_2_and_a_random_one_in_it() {
    for mode in ["0", "1"] {
        for seed in 0..4 {
            let e = run(&pie_elf(), mode, seed).unwrap();
            assert_eq!(e.load_bias, aslr::PIE_BASE);
            assert_eq!(e.entry.0, aslr::PIE_BASE + 0x1000);
        }
    }
    let biases: Vec<u64> = (0..8)
        .map(|seed| run(&pie_elf(), "2", seed).unwrap().load_bias)
        .collect();
    assert!(biases.iter().any(|&b| b != biases[0]));
    for seed in 0..8 {
        let e = run(&pie_elf(), "2", seed).unwrap();
        let b = e.load_bias;
        assert!(b.is_multiple_of(PAGE_SIZE) && b >= aslr::PIE_BASE);
        assert_eq!(e.entry.0, b + 0x1000);
        assert_eq!(aux_of(&e, AuxType::Phdr), b + 0x40);
        assert_eq!(aux_of(&e, AuxType::Entry), b + 0x1000);
        assert_eq!(e.space.vmas().find(b + 0x1000).unwrap().prot, Prot::RX);
    }
}

#[test]
fn the_heap_starts_after_the_highest_segment_and_moves_only_in_mode_2() {
    let end = page_up(0x40_2fc0 + 0x2900).unwrap();
    for mode in ["0", "1"] {
        assert_eq!(run(&static_elf(), mode, 3).unwrap().space.layout.start_brk, end);
    }
    let starts: Vec<u64> = (0..8)
        .map(|s| run(&static_elf(), "2", s).unwrap().space.layout.start_brk)
        .collect();
    assert!(starts.iter().all(|&s| s >= end && s.is_multiple_of(PAGE_SIZE)));
    assert!(starts.iter().any(|&s| s != starts[0]));
}

/// The page holding the end of the data segment's file bytes reads the
/// file up to `p_filesz` and zeros after it, though the file goes on with
/// other bytes; the pages after it are plain zero-fill.
#[test]
fn a_partial_page_bss_reads_zeros() {
    let bytes = static_elf();
    let mut e = run(&bytes, "0", 0).unwrap();
    let page = DATA_END & !(PAGE_SIZE - 1);
    let fill = match e.space.fault(&mut OnePage, DATA_END, Access::Write) {
        FaultDecision::Map(p) => p[0].fill,
        other => panic!("{other:?}"),
    };
    let Fill::File { offset, len, .. } = fill else {
        panic!("{fill:?}")
    };
    // What the server's fill_frame does: copy `len` bytes, zero the rest.
    let mut frame = vec![0x55u8; PAGE_SIZE as usize];
    frame[..len as usize].copy_from_slice(&bytes[offset as usize..(offset + len) as usize]);
    frame[len as usize..].fill(0);
    let in_page = (DATA_END - page) as usize;
    assert_eq!(len as usize, in_page);
    assert!(frame[in_page..].iter().all(|&b| b == 0));
    assert!(bytes[(offset + len) as usize..].contains(&FILLER));
    // The page's first byte is the segment's file byte at that address.
    assert_eq!(offset, DATA.offset + (page - DATA.vaddr));
    for bss in [page + PAGE_SIZE, page + 2 * PAGE_SIZE] {
        match e.space.fault(&mut OnePage, bss, Access::Write) {
            FaultDecision::Map(p) => assert_eq!(p[0].fill, Fill::Zero),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn the_stack_vma_holds_the_image_and_takes_pt_gnu_stack_s_right() {
    let e = run(&static_elf(), "2", 1).unwrap();
    let v = e.space.vmas().find(e.stack.sp).unwrap();
    assert!(v.grows_down && v.name == VmaName::Stack && v.end == e.stack.top);
    assert_eq!(v.prot, Prot::RW);
    assert_eq!(e.space.layout.start_stack, e.stack.sp);
    let mut phs = STATIC;
    phs[3] = stack(PF_R | PF_W | PF_X);
    let e = run(&elf(2, 0x40_1000, &phs, 0x2200), "0", 1).unwrap();
    assert_eq!(e.space.vmas().find(e.stack.sp).unwrap().prot, Prot(7));
}

#[test]
fn a_large_argument_list_grows_the_stack_vma_with_linux_s_head_room() {
    let big = vec![b'x'; 100_000];
    let args: Vec<&[u8]> = vec![&big, &big, &big, &big];
    let program = parse(&static_elf()).unwrap();
    let e = exec(
        &program,
        "/p".into(),
        &ExecRequest {
            argv: &args,
            ..request()
        },
        &settings("0"),
        Rlimits::default(),
        &mut Rng::from_words([0; 4]),
    )
    .unwrap();
    let v = e.space.vmas().find(e.stack.sp).unwrap();
    assert_eq!(v.start, (e.stack.sp & !(PAGE_SIZE - 1)) - STACK_EXPAND);
    assert_eq!(v.end, e.stack.top);
    // A small image: its page and the head room, as on Linux.
    let e = run(&static_elf(), "0", 0).unwrap();
    let v = e.space.vmas().find(e.stack.sp).unwrap();
    assert_eq!(v.start, (e.stack.sp & !(PAGE_SIZE - 1)) - STACK_EXPAND);
}

#[test]
fn the_stack_vma_stays_within_rlimit_stack() {
    let top = 0x7fff_0010_0000;
    let initial = 32 * PAGE_SIZE;
    // Head room below a 960 KiB image, cut at a 1 MiB limit.
    assert_eq!(stack_start(top - 0xf_0000, top, 1 << 20, initial), top - (1 << 20));
    // With room under the limit, the full 128 KiB.
    assert_eq!(
        stack_start(top - 0xf_0000, top, 8 << 20, initial),
        top - 0xf_0000 - STACK_EXPAND
    );
    // Never above the image, whatever the limit.
    assert_eq!(stack_start(top - 0xf_0800, top, 4096, initial), top - 0xf_1000);
}

#[test]
fn a_segment_below_mmap_min_addr_is_named() {
    let mut phs = STATIC;
    phs[0].vaddr = 0x1000;
    phs[0].offset = 0;
    let err = run(&elf(2, 0x40_1000, &phs, 0x2200), "0", 0).unwrap_err();
    assert_eq!(
        err,
        ExecError::BelowMinAddress {
            index: 0,
            addr: 0x1000,
            min: 0x10000
        }
    );
}

#[test]
fn an_address_space_that_cannot_take_the_program_is_named() {
    let mut s = settings("0");
    s.set("vm.max_map_count", "2").unwrap();
    let program = parse(&static_elf()).unwrap();
    let err = exec(
        &program,
        "/p".into(),
        &request(),
        &s,
        Rlimits::default(),
        &mut Rng::from_words([0; 4]),
    )
    .unwrap_err();
    assert!(matches!(err, ExecError::DoesNotFit(_)), "{err:?}");
}

#[test]
fn at_sysinfo_ehdr_points_at_the_vdso_once_it_exists() {
    let e = run(&static_elf(), "1", 0).unwrap();
    assert!(!e.stack.auxv.iter().any(|(t, _)| *t == AuxType::SysinfoEhdr));
    let program = parse(&static_elf()).unwrap();
    let e = exec(
        &program,
        "/p".into(),
        &ExecRequest {
            vdso: true,
            minsigstksz: Some(3376),
            ..request()
        },
        &settings("1"),
        Rlimits::default(),
        &mut Rng::from_words([0; 4]),
    )
    .unwrap();
    let vdso = e.space.vmas().iter().find(|v| v.name == VmaName::Vdso).unwrap().start;
    assert_eq!(e.stack.auxv[0], (AuxType::SysinfoEhdr, vdso));
    assert_eq!(e.stack.auxv[1], (AuxType::MinSigStkSz, 3376));
}

#[test]
fn at_random_comes_from_the_csprng() {
    let random = |seed| {
        let e = run(&static_elf(), "0", seed).unwrap();
        let at = (aux_of(&e, AuxType::Random) - e.stack.sp) as usize;
        e.stack.bytes[at..at + 16].to_vec()
    };
    assert_eq!(random(1), random(1));
    assert_ne!(random(1), random(2));
    assert_ne!(random(1), vec![0; 16]);
}

// ---- The initial stack, read back ----

/// An independent reader: walks argc, argv, envp and auxv from `sp` the way
/// a libc's `_start` does, checking every pointer lands in the image.
#[derive(Debug, PartialEq, Eq)]
struct Read {
    argv: Vec<Vec<u8>>,
    envp: Vec<Vec<u8>>,
    auxv: Vec<(u64, u64)>,
}

fn read_stack(bytes: &[u8], sp: u64) -> Read {
    let top = sp + bytes.len() as u64;
    let word = |addr: u64| {
        assert!(addr >= sp && addr + 8 <= top, "word {addr:#x} outside the image");
        let at = (addr - sp) as usize;
        u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap())
    };
    let string = |addr: u64| {
        assert!(addr >= sp && addr < top, "string {addr:#x} outside the image");
        let rest = &bytes[(addr - sp) as usize..];
        let nul = rest.iter().position(|&b| b == 0).expect("NUL-terminated in the image");
        rest[..nul].to_vec()
    };
    let argc = word(sp);
    let mut at = sp + 8;
    let argv: Vec<Vec<u8>> = (0..argc).map(|i| string(word(at + 8 * i))).collect();
    at += 8 * argc;
    assert_eq!(word(at), 0, "argv ends in NULL");
    at += 8;
    let mut envp = Vec::new();
    while word(at) != 0 {
        envp.push(string(word(at)));
        at += 8;
    }
    at += 8;
    let mut auxv = Vec::new();
    loop {
        let (t, v) = (word(at), word(at + 8));
        auxv.push((t, v));
        at += 16;
        if t == 0 {
            break;
        }
    }
    Read { argv, envp, auxv }
}

fn aux_values() -> AuxValues {
    AuxValues {
        sysinfo_ehdr: None,
        minsigstksz: None,
        hwcap: 0xbfeb_fbff,
        hwcap2: 2,
        page_size: PAGE_SIZE,
        clock_ticks: CLOCK_TICKS,
        phdr: 0x40_0040,
        phent: 56,
        phnum: 4,
        base: 0,
        flags: 0,
        entry: 0x40_1000,
        credentials: Credentials {
            uid: 1,
            euid: 2,
            gid: 3,
            egid: 4,
        },
        secure: false,
    }
}

const TOP: u64 = 0x7fff_ffff_f000;

fn stack_request<'a>(argv: &'a [&'a [u8]], envp: &'a [&'a [u8]], shift: u64) -> StackRequest<'a> {
    StackRequest {
        argv,
        envp,
        execfn: b"/bin/prog",
        platform: Some(PLATFORM),
        random: *b"0123456789abcdef",
        aux: aux_values(),
        top: TOP,
        shift,
        stack_limit: crate::rlimit::DEFAULT_STACK,
    }
}

#[test]
fn the_stack_reads_back_as_linux_lays_it_out() {
    let s = build(&stack_request(ARGV, ENVP, 0)).unwrap();
    assert_eq!(s.sp % 16, 0);
    assert_eq!(s.top, TOP);
    assert_eq!(s.bytes.len() as u64, TOP - s.sp);
    let r = read_stack(&s.bytes, s.sp);
    assert_eq!(r.argv, ARGV.iter().map(|a| a.to_vec()).collect::<Vec<_>>());
    assert_eq!(r.envp, ENVP.iter().map(|a| a.to_vec()).collect::<Vec<_>>());
    let types: Vec<u64> = r.auxv.iter().map(|&(t, _)| t).collect();
    assert_eq!(
        types,
        [16, 6, 17, 3, 4, 5, 7, 8, 9, 11, 12, 13, 14, 23, 25, 26, 31, 15, 0]
    );
    let aux = |t: u64| r.auxv.iter().find(|&&(k, _)| k == t).unwrap().1;
    assert_eq!(
        [aux(16), aux(6), aux(17), aux(3), aux(4), aux(5), aux(7), aux(8), aux(9)],
        [0xbfeb_fbff, 4096, 100, 0x40_0040, 56, 4, 0, 0, 0x40_1000]
    );
    assert_eq!(
        [aux(11), aux(12), aux(13), aux(14), aux(23), aux(26)],
        [1, 2, 3, 4, 0, 2]
    );
    let at = |addr: u64| (addr - s.sp) as usize;
    // The strings at the top: argv's, envp's, execfn, then the end marker.
    let strings = b"/bin/prog\0-v\0\0HOME=/\0PATH=/bin\0/bin/prog\0";
    assert_eq!(s.arg_start, TOP - 8 - strings.len() as u64);
    assert_eq!(&s.bytes[at(s.arg_start)..at(TOP - 8)], strings);
    assert_eq!(&s.bytes[at(TOP - 8)..], &[0; 8]);
    assert_eq!(aux(31), TOP - 8 - 10);
    assert_eq!(s.env_start, s.arg_start + 14);
    assert_eq!(s.env_end, aux(31));
    // Below the strings, 16-aligned: the platform, then the random bytes.
    let platform = aux(15);
    assert_eq!(platform, (s.arg_start & !15) - 7);
    assert_eq!(&s.bytes[at(platform)..at(platform) + 7], b"x86_64\0");
    assert_eq!(aux(25), platform - 16);
    assert_eq!(&s.bytes[at(aux(25))..at(aux(25)) + 16], b"0123456789abcdef");
    // Only the alignment padding sits between auxv's end and the random bytes.
    let auxv_end = s.sp + 8 * (1 + 4 + 3) + 16 * 19;
    assert!(aux(25) - auxv_end < 16);
    assert_eq!(s.auxv.len(), 19);
}

#[test]
fn the_shift_moves_the_tables_down_not_the_strings() {
    let a = build(&stack_request(ARGV, ENVP, 0)).unwrap();
    let b = build(&stack_request(ARGV, ENVP, 4096 + 48)).unwrap();
    assert_eq!(a.arg_start, b.arg_start);
    assert_eq!(a.sp - b.sp, 4096 + 48);
    assert_eq!(read_stack(&a.bytes, a.sp).argv, read_stack(&b.bytes, b.sp).argv);
}

#[test]
fn an_empty_argv_gets_one_empty_string() {
    let s = build(&stack_request(&[], ENVP, 0)).unwrap();
    let r = read_stack(&s.bytes, s.sp);
    assert_eq!(r.argv, [Vec::<u8>::new()]);
}

#[test]
fn the_image_cut_into_pages_is_the_image() {
    let big = vec![b'y'; 9000];
    let s = build(&stack_request(&[&big], ENVP, 32)).unwrap();
    let mut joined = Vec::new();
    let mut last = None;
    for (page, offset, chunk) in s.pages() {
        assert!(page.is_multiple_of(PAGE_SIZE) && offset + chunk.len() <= PAGE_SIZE as usize);
        if let Some(prev) = last {
            assert_eq!(page, prev + PAGE_SIZE);
            assert_eq!(offset, 0);
        } else {
            assert_eq!(page + offset as u64, s.sp);
        }
        last = Some(page);
        joined.extend_from_slice(chunk);
    }
    assert_eq!(joined, s.bytes);
    assert_eq!(last.unwrap() + PAGE_SIZE, TOP);
}

#[test]
fn linux_s_argument_limits_give_e2big() {
    assert_eq!(argument_limit(8 << 20), 2 << 20);
    assert_eq!(argument_limit(0), ARG_MIN_LIMIT);
    assert_eq!(argument_limit(u64::MAX), ARG_MAX_LIMIT);
    // One string of MAX_ARG_STRLEN bytes with its NUL fits; one more does not.
    let max = vec![b'a'; MAX_ARG_STRLEN as usize - 1];
    assert!(build(&stack_request(&[&max], &[], 0)).is_ok());
    let over = vec![b'a'; MAX_ARG_STRLEN as usize];
    assert_eq!(
        build(&stack_request(&[&over], &[], 0)),
        Err(ExecError::ArgumentTooLong {
            len: MAX_ARG_STRLEN + 1
        })
    );
    // The total: exactly at the limit fits, one byte more is E2BIG.
    let limit = argument_limit(crate::rlimit::DEFAULT_STACK);
    let (chunk, pointers) = (100_000usize, 8u64);
    let n = (limit / (chunk as u64 + 1 + pointers)) as usize;
    let pieces = vec![vec![b'b'; chunk]; n];
    let used = n as u64 * (chunk as u64 + 1 + pointers) + 10;
    let last = vec![b'c'; (limit - used - pointers - 1) as usize];
    let mut args: Vec<&[u8]> = pieces.iter().map(|p| &p[..]).collect();
    args.push(&last);
    let s = build(&stack_request(&args, &[], 0)).unwrap();
    assert_eq!(read_stack(&s.bytes, s.sp).argv.len(), n + 1);
    let last = vec![b'c'; (limit - used - pointers) as usize];
    args.pop();
    args.push(&last);
    assert_eq!(
        build(&stack_request(&args, &[], 0)),
        Err(ExecError::ArgumentsTooLarge { size: limit + 1, limit })
    );
    // Pointers count too: many empty strings.
    let empties: Vec<&[u8]> = vec![b""; (ARG_MIN_LIMIT / 9) as usize + 1];
    let mut r = stack_request(&empties, &[], 0);
    r.stack_limit = 0;
    assert!(matches!(build(&r), Err(ExecError::ArgumentsTooLarge { .. })));
}

#[test]
fn a_nul_inside_a_string_or_a_stack_too_low_is_refused() {
    assert_eq!(build(&stack_request(&[b"a\0b"], &[], 0)), Err(ExecError::NulInArgument));
    assert_eq!(
        build(&stack_request(ARGV, &[b"X=\0"], 0)),
        Err(ExecError::NulInArgument)
    );
    let mut r = stack_request(ARGV, ENVP, 0);
    r.top = 64;
    assert!(matches!(build(&r), Err(ExecError::ArgumentsTooLarge { .. })));
}

proptest! {
    /// Any arguments, environment and shift: the reader finds them again,
    /// sp is aligned, every auxv pointer lands on its bytes, the image is
    /// exactly [sp, top).
    #[test]
    fn any_stack_reads_back(
        argv in proptest::collection::vec(proptest::collection::vec(1u8..=255, 0..40), 0..12),
        envp in proptest::collection::vec(proptest::collection::vec(1u8..=255, 0..40), 0..12),
        shift in (0u64..512).prop_map(|s| s * 16),
        platform in any::<bool>(),
    ) {
        let argv_refs: Vec<&[u8]> = argv.iter().map(|a| &a[..]).collect();
        let envp_refs: Vec<&[u8]> = envp.iter().map(|a| &a[..]).collect();
        let mut req = stack_request(&argv_refs, &envp_refs, shift);
        if !platform {
            req.platform = None;
        }
        let s = build(&req).unwrap();
        prop_assert_eq!(s.sp % 16, 0);
        prop_assert_eq!(s.bytes.len() as u64, TOP - s.sp);
        let r = read_stack(&s.bytes, s.sp);
        let want_argv = if argv.is_empty() { vec![vec![]] } else { argv.clone() };
        prop_assert_eq!(&r.argv, &want_argv);
        prop_assert_eq!(&r.envp, &envp);
        let aux = |t: AuxType| r.auxv.iter().find(|&&(k, _)| k == t.number()).map(|&(_, v)| v);
        let random = aux(AuxType::Random).unwrap();
        let at = (random - s.sp) as usize;
        prop_assert_eq!(&s.bytes[at..at + 16], b"0123456789abcdef");
        prop_assert_eq!(aux(AuxType::Platform).is_some(), platform);
        prop_assert_eq!(r.auxv.last(), Some(&(0, 0)));
        let auxv_end = s.sp + 8 * (argv.len().max(1) + envp.len() + 3) as u64 + 16 * r.auxv.len() as u64;
        prop_assert!(random >= auxv_end && random - auxv_end < 16);
        prop_assert_eq!(format!("{:?}", r.auxv.iter().map(|&(t, _)| t).collect::<Vec<_>>()),
            format!("{:?}", s.auxv.iter().map(|&(t, _)| t.number()).collect::<Vec<_>>()));
    }
}
