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
    pub stack_pointer: VirtAddr,
    /// What was added to the program's addresses (0 for non-PIE).
    pub load_bias: u64,
}

/// Builds the address space of `image`.
pub fn load(image: &ProgramImage, settings: &Settings, rlimits: Rlimits, rng: &mut Rng) -> Result<Loaded, Errno> {
    let placement = aslr::place(settings, rng, rlimits.stack.soft);
    let mut space = AddressSpace::new(settings, rlimits, placement.mmap_base);
    let bias = if image.pie { placement.pie_base } else { 0 };
    let mut data_end = 0u64;
    let mut data_size = 0u64;
    for seg in &image.segments {
        if seg.file_size > seg.mem_size || seg.mem_size == 0 {
            return Err(Errno::Invalid);
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
            let backing = Backing::File { file: image.file, offset, data_end: file_end };
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
        if seg.prot.contains(Prot::WRITE) {
            data_size += seg.mem_size;
        }
        data_end = data_end.max(anon_end);
    }
    let start_brk = data_end.checked_add(placement.heap_offset).ok_or(Errno::Invalid)?;
    space.set_brk_start(start_brk, data_size);

    let stack_top = placement.stack_top;
    let mut stack = Vma::new(stack_top - INITIAL_STACK_PAGES * PAGE_SIZE, stack_top, Prot::RW, Backing::Anonymous);
    stack.grows_down = true;
    stack.name = VmaName::Stack;
    space.insert_vma(stack)?;
    let stack_pointer = (stack_top - placement.stack_shift) & !15;
    space.layout.start_stack = stack_pointer;

    // [vvar] and [vdso] go where the next mmap would: below the mmap base.
    for (name, pages, prot) in [(VmaName::Vvar, VVAR_PAGES, Prot::READ), (VmaName::Vdso, VDSO_PAGES, Prot::RX)] {
        let (addr, _) = space.mmap(crate::space::MmapArgs {
            addr: 0,
            len: pages * PAGE_SIZE,
            prot,
            flags: libipc::pager::MapKind::PRIVATE.union(libipc::pager::MapKind::ANONYMOUS),
            file: None,
        })?;
        space.name_vma(addr.0, name);
    }
    let entry = image.entry.checked_add(bias).ok_or(Errno::Invalid)?;
    Ok(Loaded { space, entry: VirtAddr(entry), stack_pointer: VirtAddr(stack_pointer), load_bias: bias })
}
