//! Starts the pager: the first user task, loaded by the kernel from the
//! ramdisk with everything it will touch mapped up front (its segments,
//! stack, frame pool, the ramdisk and its boot information), since nobody
//! could serve its faults.

use libipc::{
    abi::{PagerBootInfo, pager_layout},
    types::Pid,
};
use x86_64::{PhysAddr, VirtAddr, structures::paging::PageTableFlags as F};
use xmas_elf::{
    ElfFile,
    program::{ProgramHeader, Type},
};

use crate::{
    arch::trap::TrapFrame,
    memory::{
        frames, phys_to_virt,
        space::{self, AddressSpace},
    },
    object::{FramePool, Kernel},
};

const PAGE: u64 = 4096;

/// Why the pager could not be started.
#[derive(Debug)]
pub enum LoadError {
    NotElf(&'static str),
    NotExecutable,
    SegmentOutsideUserHalf,
    OutOfMemory,
}

impl core::fmt::Display for LoadError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            LoadError::NotElf(why) => write!(f, "not a valid ELF file: {why}"),
            LoadError::NotExecutable => write!(f, "not a static executable (ET_EXEC)"),
            LoadError::SegmentOutsideUserHalf => write!(f, "a segment lies outside the user half"),
            LoadError::OutOfMemory => write!(f, "out of kernel memory"),
        }
    }
}

fn map_new(space: &mut AddressSpace, virt: u64, flags: F) -> Result<PhysAddr, LoadError> {
    let frame = frames::alloc_zeroed().ok_or(LoadError::OutOfMemory)?;
    space
        .map(virt, frame.start_address(), flags, false)
        .map_err(|_| LoadError::OutOfMemory)?;
    Ok(frame.start_address())
}

fn load_segment(space: &mut AddressSpace, elf: &ElfFile, ph: &ProgramHeader) -> Result<(), LoadError> {
    let (vaddr, memsz, filesz, offset) = (ph.virtual_addr(), ph.mem_size(), ph.file_size(), ph.offset());
    let end = vaddr.checked_add(memsz).ok_or(LoadError::SegmentOutsideUserHalf)?;
    if end > space::user_end() || filesz > memsz {
        return Err(LoadError::SegmentOutsideUserHalf);
    }
    let data = elf
        .input
        .get(offset as usize..(offset + filesz) as usize)
        .ok_or(LoadError::NotElf("segment beyond file"))?;
    let mut flags = F::empty();
    if ph.flags().is_write() {
        flags |= F::WRITABLE;
    }
    if !ph.flags().is_execute() {
        flags |= F::NO_EXECUTE;
    }
    let mut page = vaddr & !(PAGE - 1);
    while page < end {
        // Segments may share a page at their edges (not with our linker
        // script, but a loader must not assume it).
        let phys = match space.translate(page) {
            Some((phys, _)) => phys,
            None => map_new(space, page, flags)?,
        };
        let copy_start = page.max(vaddr);
        let copy_end = (page + PAGE).min(vaddr + filesz);
        if copy_start < copy_end {
            let src = &data[(copy_start - vaddr) as usize..(copy_end - vaddr) as usize];
            let dst = phys_to_virt(phys + (copy_start - page)).as_mut_ptr::<u8>();
            // SAFETY: `dst..dst+len` lies inside the frame just mapped (or
            // found), reached through the direct map.
            unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), dst, src.len()) };
        }
        page += PAGE;
    }
    Ok(())
}

/// Loads the pager ELF and starts its thread; returns its pid.
pub fn start_pager(kernel: &mut Kernel, image: &[u8], ramdisk: &[u8], pool: FramePool) -> Result<Pid, LoadError> {
    let elf = ElfFile::new(image).map_err(LoadError::NotElf)?;
    if elf.header.pt2.type_().as_type() != xmas_elf::header::Type::Executable {
        return Err(LoadError::NotExecutable);
    }
    let pid = kernel
        .create_process(None, Some(pool), None)
        .ok_or(LoadError::OutOfMemory)?;
    let space = &mut kernel.process_mut(pid).expect("just created").space;
    for ph in elf.program_iter() {
        if ph.get_type() == Ok(Type::Load) {
            load_segment(space, &elf, &ph)?;
        }
    }
    for i in 0..pager_layout::STACK_PAGES {
        map_new(
            space,
            pager_layout::STACK_TOP - (i + 1) * PAGE,
            F::WRITABLE | F::NO_EXECUTE,
        )?;
    }
    for i in 0..pool.frames {
        let virt = pager_layout::POOL_WINDOW + i * PAGE;
        space
            .map(
                virt,
                PhysAddr::new(pool.start + i * PAGE),
                F::WRITABLE | F::NO_EXECUTE,
                false,
            )
            .map_err(|_| LoadError::OutOfMemory)?;
    }
    let ramdisk_pages = (ramdisk.len() as u64).div_ceil(PAGE);
    for i in 0..ramdisk_pages {
        let virt = pager_layout::RAMDISK_WINDOW + i * PAGE;
        let phys = space::kernel_translate(VirtAddr::from_ptr(ramdisk.as_ptr()) + i * PAGE)
            .ok_or(LoadError::NotElf("ramdisk not mapped"))?;
        space
            .map(virt, phys, F::NO_EXECUTE, false)
            .map_err(|_| LoadError::OutOfMemory)?;
    }
    let info_phys = map_new(space, pager_layout::BOOT_INFO, F::NO_EXECUTE)?;
    space
        .map(
            pager_layout::VVAR,
            PhysAddr::new(crate::time::vvar_phys()),
            F::NO_EXECUTE,
            false,
        )
        .map_err(|_| LoadError::OutOfMemory)?;
    let info = PagerBootInfo {
        magic: PagerBootInfo::MAGIC,
        pool_phys: pool.start,
        pool_frames: pool.frames,
        ramdisk_len: ramdisk.len() as u64,
        // The pager must not hand out addresses these page tables cannot map.
        paging_levels: space::levels(),
    };
    // SAFETY: the frame was just allocated for this struct and is reached
    // through the direct map; PagerBootInfo is plain data smaller than a page.
    unsafe { core::ptr::write(phys_to_virt(info_phys).as_mut_ptr::<PagerBootInfo>(), info) };
    let entry = elf.header.pt2.entry_point();
    let frame = TrapFrame::new_user(entry, pager_layout::STACK_TOP, pager_layout::BOOT_INFO);
    kernel
        .create_thread(pid, frame, None, None)
        .ok_or(LoadError::OutOfMemory)?;
    Ok(pid)
}
