//! The initial address space of a program (the policy half of exec): its
//! segments, the heap start, the stack, `[vdso]` and `[vvar]`. The ELF file
//! itself is parsed by the caller; this takes plain segment descriptions.

use alloc::{string::String, vec::Vec};

use libipc::{
    pager::Errno,
    types::{PAGE_SIZE, Prot, VirtAddr},
};

use crate::{
    aslr,
    rlimit::Rlimits,
    rng::Rng,
    settings::Settings,
    space::{AddressSpace, page_down, page_up},
    vma::{Backing, FileId, Vma, VmaName},
};

/// Pages of the initial stack VMA (it grows on demand below).
pub const INITIAL_STACK_PAGES: u64 = 32;
/// Bytes kept free at the top of the stack, above the initial stack
/// pointer. Linux ends its initial stack with a null pointer just below
/// the stack top and puts the strings, auxv, envp and argv below that, so
/// the entry stack pointer is never the VMA's end: a stack pointer there
/// points at no byte of the stack (and the kernel once refused it). The
/// x86-64 ABI wants it 16-byte aligned at entry, so the null pointer's slot
/// is padded to 16 bytes; the Linux initial stack will go below it.
pub const STACK_TOP_RESERVE: u64 = 16;
/// Linux's vvar and vDSO sizes on x86-64, in pages.
pub const VVAR_PAGES: u64 = 4;
pub const VDSO_PAGES: u64 = 2;

/// One loadable segment, as the program header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub vaddr: u64,
    pub mem_size: u64,
    pub file_size: u64,
    pub file_offset: u64,
    pub prot: Prot,
}

/// A program to lay out.
#[derive(Clone, Debug)]
pub struct ProgramImage {
    /// Position-independent (ET_DYN): loaded at the (randomized) PIE base.
    pub pie: bool,
    pub entry: u64,
    pub segments: Vec<Segment>,
    pub file: FileId,
    /// The path `/proc/<pid>/maps` shows for its segments.
    pub path: String,
}

/// A laid-out program, ready to start.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub space: AddressSpace,
    pub entry: VirtAddr,
    /// The initial stack pointer: 16-byte aligned, at least
    /// [`STACK_TOP_RESERVE`] bytes below `stack_top`, inside the stack VMA.
    pub stack_pointer: VirtAddr,
    /// One past the highest byte of the `[stack]` VMA.
    pub stack_top: VirtAddr,
    /// What was added to the program's addresses (0 for non-PIE).
    pub load_bias: u64,
    /// ASLR's sub-page shift of the initial stack pointer (a multiple of 16;
    /// already applied to `stack_pointer`, for a Linux stack to apply again).
    pub stack_shift: u64,
}

/// Builds the address space of `image`.
pub fn load(image: &ProgramImage, settings: &Settings, rlimits: Rlimits, rng: &mut Rng) -> Result<Loaded, Errno> {
    let placement = aslr::place(settings, rng, rlimits.stack.soft);
    let mut space = AddressSpace::new(settings, rlimits, placement.mmap_base);
    let bias = if image.pie { placement.pie_base } else { 0 };
    let mut data_end = 0u64;
    // Linux's start_data and end_data: the highest segment start and the
    // highest end of file bytes, whatever the segments' permissions. Their
    // difference is the data size RLIMIT_DATA's brk check counts (.bss
    // is not in it).
    let (mut start_data, mut end_data) = (0u64, 0u64);
    for seg in &image.segments {
        if seg.file_size > seg.mem_size {
            return Err(Errno::Invalid);
        }
        if seg.mem_size == 0 {
            // Linux skips empty PT_LOAD segments.
            continue;
        }
        let vaddr = seg.vaddr.checked_add(bias).ok_or(Errno::Invalid)?;
        let file_end = vaddr.checked_add(seg.file_size).ok_or(Errno::Invalid)?;
        let mem_end = vaddr.checked_add(seg.mem_size).ok_or(Errno::Invalid)?;
        let start = page_down(vaddr);
        if start < settings.mmap_min_addr || mem_end > space.top() {
            return Err(Errno::Invalid);
        }
        // File-backed pages: up to the page holding the last file byte. A
        // page shared with the previous segment goes to this one, as with
        // Linux's MAP_FIXED loading.
        let file_page_end = page_up(file_end).ok_or(Errno::Invalid)?;
        if seg.file_size > 0 {
            let offset = seg.file_offset.checked_sub(vaddr - start).ok_or(Errno::Invalid)?;
            let backing = Backing::File {
                file: image.file,
                offset,
                data_end: file_end,
            };
            let mut vma = Vma::new(start, file_page_end, seg.prot, backing);
            vma.name = VmaName::Path(image.path.clone());
            space.replace_vma(vma)?;
        }
        // The rest is zero-fill (.bss), except pages a file mapping already
        // covers (their tail past the file data reads as zeros).
        let mut anon_start = if seg.file_size > 0 { file_page_end } else { start };
        let anon_end = page_up(mem_end).ok_or(Errno::Invalid)?;
        while anon_start < anon_end && space.vmas().find(anon_start).is_some() {
            anon_start += PAGE_SIZE;
        }
        if anon_end > anon_start {
            space.insert_vma(Vma::new(anon_start, anon_end, seg.prot, Backing::Anonymous))?;
        }
        start_data = start_data.max(vaddr);
        end_data = end_data.max(file_end);
        data_end = data_end.max(anon_end);
    }
    let start_brk = data_end.checked_add(placement.heap_offset).ok_or(Errno::Invalid)?;
    space.set_brk_start(start_brk, end_data.saturating_sub(start_data));

    let stack_top = placement.stack_top;
    let mut stack = Vma::new(
        stack_top - INITIAL_STACK_PAGES * PAGE_SIZE,
        stack_top,
        Prot::RW,
        Backing::Anonymous,
    );
    stack.grows_down = true;
    stack.name = VmaName::Stack;
    space.insert_vma(stack)?;
    let stack_pointer = (stack_top - STACK_TOP_RESERVE - placement.stack_shift) & !15;
    space.layout.start_stack = stack_pointer;

    // [vdso] and [vvar]: in mode 2 where the next mmap would go, below the
    // mmap base; in modes 0 and 1 at a fixed place (`aslr::special_top`).
    // The vDSO first, so that [vvar] sits just below it, as on Linux (the
    // vDSO finds its clock page VVAR_PAGES pages below itself).
    let fixed = aslr::special_top(settings, rlimits.stack.soft);
    let mut next = fixed.map(|top| top - VDSO_PAGES * PAGE_SIZE);
    for (name, pages, prot) in [
        (VmaName::Vdso, VDSO_PAGES, Prot::RX),
        (VmaName::Vvar, VVAR_PAGES, Prot::READ),
    ] {
        let kind = libipc::pager::MapKind::PRIVATE.union(libipc::pager::MapKind::ANONYMOUS);
        let (addr, _) = space.mmap(crate::space::MmapArgs {
            addr: next.unwrap_or(0),
            len: pages * PAGE_SIZE,
            prot,
            flags: if next.is_some() {
                kind.union(libipc::pager::MapKind::FIXED_NOREPLACE)
            } else {
                kind
            },
            file: None,
        })?;
        space.name_vma(addr.0, name);
        next = next.map(|_| addr.0 - VVAR_PAGES * PAGE_SIZE);
    }
    let entry = image.entry.checked_add(bias).ok_or(Errno::Invalid)?;
    Ok(Loaded {
        space,
        entry: VirtAddr(entry),
        stack_top: VirtAddr(stack_top),
        stack_pointer: VirtAddr(stack_pointer),
        load_bias: bias,
        stack_shift: placement.stack_shift,
    })
}

#[cfg(test)]
mod tests {
    use alloc::vec;

    use super::*;
    use crate::settings::AslrProfile;

    const TEXT: Segment = Segment {
        vaddr: 0x40_1000,
        mem_size: 0x2345,
        file_size: 0x2345,
        file_offset: 0x1000,
        prot: Prot::RX,
    };
    /// Data and bss; the data's last file page is shared with bss.
    const DATA: Segment = Segment {
        vaddr: 0x40_4100,
        mem_size: 0x5000,
        file_size: 0x200,
        file_offset: 0x4100,
        prot: Prot::RW,
    };

    fn image(pie: bool) -> ProgramImage {
        ProgramImage {
            pie,
            entry: 0x40_1100,
            segments: vec![TEXT, DATA],
            file: FileId(3),
            path: "/bin/demo".into(),
        }
    }

    fn settings(mode: &str) -> Settings {
        let mut s = Settings::default();
        s.set("kernel.randomize_va_space", mode).unwrap();
        s
    }

    fn load_with(pie: bool, mode: &str, seed: u64) -> Loaded {
        load(
            &image(pie),
            &settings(mode),
            Rlimits::default(),
            &mut Rng::from_words([seed, 0, 0, 0]),
        )
        .unwrap()
    }

    #[test]
    fn non_pie_keeps_its_linked_base_in_every_mode() {
        for mode in ["0", "1", "2"] {
            let l = load_with(false, mode, 9);
            assert_eq!(l.load_bias, 0);
            assert_eq!(l.entry, VirtAddr(0x40_1100));
            assert!(l.space.vmas().find(0x40_1000).is_some());
        }
    }

    #[test]
    fn pie_base_is_fixed_below_mode_2_and_random_in_it() {
        for mode in ["0", "1"] {
            assert_eq!(load_with(true, mode, 1).load_bias, aslr::PIE_BASE);
            assert_eq!(load_with(true, mode, 2).load_bias, aslr::PIE_BASE);
        }
        let (a, b) = (load_with(true, "2", 1), load_with(true, "2", 2));
        assert_ne!(a.load_bias, b.load_bias);
        assert_eq!(a.entry.0, a.load_bias + 0x40_1100);
        assert_eq!(a.load_bias % PAGE_SIZE, 0);
    }

    #[test]
    fn segments_become_file_vmas_and_bss_is_anonymous() {
        let l = load_with(false, "0", 0);
        let vmas = l.space.vmas();
        let text = vmas.find(0x40_1000).unwrap();
        assert_eq!((text.start, text.end, text.prot), (0x40_1000, 0x40_4000, Prot::RX));
        assert_eq!(
            text.backing,
            Backing::File {
                file: FileId(3),
                offset: 0x1000,
                data_end: 0x40_3345
            }
        );
        assert_eq!(text.name, VmaName::Path("/bin/demo".into()));
        let data = vmas.find(0x40_4100).unwrap();
        assert_eq!((data.start, data.end), (0x40_4000, 0x40_5000));
        assert!(matches!(
            data.backing,
            Backing::File {
                offset: 0x4000,
                data_end: 0x40_4300,
                ..
            }
        ));
        let bss = vmas.find(0x40_5000).unwrap();
        assert_eq!(
            (bss.start, bss.end, bss.backing),
            (0x40_5000, 0x40_a000, Backing::Anonymous)
        );
        vmas.check_invariants().unwrap();
    }

    #[test]
    fn brk_starts_after_the_last_segment_and_moves_only_in_mode_2() {
        for mode in ["0", "1"] {
            let l = load_with(false, mode, 5);
            assert_eq!(l.space.layout.start_brk, 0x40_a000);
            assert_eq!(l.space.layout.brk, 0x40_a000);
        }
        let starts: Vec<u64> = (0..8)
            .map(|seed| load_with(false, "2", seed).space.layout.start_brk)
            .collect();
        assert!(starts.iter().all(|&s| s >= 0x40_a000 && s.is_multiple_of(PAGE_SIZE)));
        assert!(starts.iter().any(|&s| s != starts[0]));
    }

    /// Linux's brk check counts `end_data - start_data`: the last
    /// segment's file bytes (0x200 here), not its 0x5000-byte .bss.
    #[test]
    fn the_data_size_for_brk_is_the_file_backed_data_only() {
        let l = load_with(false, "0", 0);
        assert_eq!(l.space.layout.data_size, 0x200);
    }

    #[test]
    fn the_vdso_moves_in_mode_2_only_with_vvar_just_below() {
        let vdso = |l: &Loaded| {
            let v = l.space.vmas().iter().find(|v| v.name == VmaName::Vdso).unwrap().start;
            let vvar = l.space.vmas().iter().find(|v| v.name == VmaName::Vvar).unwrap();
            assert_eq!(vvar.end, v, "[vvar] ends where [vdso] starts");
            assert_eq!(vvar.end - vvar.start, VVAR_PAGES * PAGE_SIZE);
            v
        };
        for mode in ["0", "1"] {
            let spots: Vec<u64> = (0..8).map(|seed| vdso(&load_with(true, mode, seed))).collect();
            assert!(spots.iter().all(|&s| s == spots[0]), "mode {mode}: {spots:x?}");
        }
        // Mode 0's place is just below its (fixed) mmap base, as before.
        let l = load_with(true, "0", 3);
        assert_eq!(vdso(&l) + VDSO_PAGES * PAGE_SIZE, l.space.layout.mmap_base);
        let spots: Vec<u64> = (0..8).map(|seed| vdso(&load_with(true, "2", seed))).collect();
        assert!(spots.iter().any(|&s| s != spots[0]));
    }

    #[test]
    fn vvar_cannot_become_writable_or_executable_but_the_vdso_can() {
        let mut l = load_with(true, "2", 4);
        let start = |l: &Loaded, name: VmaName| l.space.vmas().iter().find(|v| v.name == name).unwrap().start;
        let (vvar, vdso) = (start(&l, VmaName::Vvar), start(&l, VmaName::Vdso));
        for prot in [Prot::RW, Prot::RX, Prot::EXEC] {
            assert_eq!(l.space.mprotect(vvar, PAGE_SIZE, prot).err(), Some(Errno::Access));
        }
        assert!(l.space.mprotect(vvar, PAGE_SIZE, Prot::NONE).is_ok());
        // Linux lets a debugger write its copy of the vDSO.
        assert!(l.space.mprotect(vdso, PAGE_SIZE, Prot::RW.union(Prot::EXEC)).is_ok());
    }

    #[test]
    fn the_stack_vdso_and_vvar_are_laid_out() {
        let l = load_with(false, "0", 0);
        let stack = l.space.vmas().find(l.stack_top.0 - 1).unwrap();
        assert!(stack.grows_down && stack.name == VmaName::Stack && stack.prot == Prot::RW);
        assert_eq!(l.stack_top, VirtAddr(aslr::STACK_TOP));
        assert_eq!(l.stack_pointer.0, aslr::STACK_TOP - STACK_TOP_RESERVE);
        let named = |n: VmaName| {
            l.space
                .vmas()
                .iter()
                .find(|v| v.name == n)
                .map(|v| (v.len() / PAGE_SIZE, v.prot))
        };
        assert_eq!(named(VmaName::Vdso), Some((VDSO_PAGES, Prot::RX)));
        assert_eq!(named(VmaName::Vvar), Some((VVAR_PAGES, Prot::READ)));
    }

    /// In every mode and profile the entry stack pointer is inside the
    /// stack VMA (below its end, so `[rsp]` is a stack byte), 16-byte
    /// aligned, with the reserve above it; mode 0 put it at the VMA's end.
    #[test]
    fn the_stack_pointer_is_inside_the_stack_and_aligned() {
        for mode in ["0", "1", "2"] {
            for profile in [AslrProfile::Default, AslrProfile::Linux] {
                for seed in 0..64 {
                    let mut s = settings(mode);
                    s.aslr_profile = profile;
                    let l = load(
                        &image(false),
                        &s,
                        Rlimits::default(),
                        &mut Rng::from_words([seed, 0, 0, 0]),
                    )
                    .unwrap();
                    let sp = l.stack_pointer.0;
                    let stack = l.space.vmas().find(sp).unwrap();
                    assert!(stack.name == VmaName::Stack && stack.end == l.stack_top.0);
                    assert!(sp + STACK_TOP_RESERVE <= l.stack_top.0, "mode {mode}: sp {sp:#x}");
                    assert!(sp.is_multiple_of(16));
                    assert_eq!(l.space.layout.start_stack, sp);
                }
            }
        }
    }

    #[test]
    fn the_stack_moves_in_mode_1() {
        let a = load_with(false, "1", 1);
        let b = load_with(false, "1", 2);
        assert_ne!(a.stack_top, b.stack_top);
        assert!(a.stack_top.0 <= aslr::STACK_TOP && a.stack_top.0 > aslr::STACK_TOP - (8 << 20) - PAGE_SIZE);
    }

    #[test]
    fn bad_segments_are_einval() {
        let mut img = image(false);
        img.segments[0].file_size = img.segments[0].mem_size + 1;
        let l = load(&img, &settings("0"), Rlimits::default(), &mut Rng::from_words([0; 4]));
        assert_eq!(l.err().map(|_| ()), Some(()));
        let mut img = image(false);
        img.segments[0].vaddr = 0x1000; // below mmap_min_addr
        assert!(load(&img, &settings("0"), Rlimits::default(), &mut Rng::from_words([0; 4])).is_err());
        let mut img = image(true);
        img.segments[1].vaddr = u64::MAX - 10;
        assert!(load(&img, &settings("2"), Rlimits::default(), &mut Rng::from_words([0; 4])).is_err());
    }

    #[test]
    fn empty_segments_are_skipped() {
        let mut img = image(false);
        img.segments.push(Segment {
            vaddr: 0x50_0000,
            mem_size: 0,
            file_size: 0,
            file_offset: 0,
            prot: Prot::READ,
        });
        let l = load(&img, &settings("0"), Rlimits::default(), &mut Rng::from_words([0; 4])).unwrap();
        assert!(l.space.vmas().find(0x50_0000).is_none());
    }
}
