//! The switch to 5-level paging (LA57) at boot.
//!
//! The bootloader hands over 4-level page tables, and CR4.LA57 can only
//! change while long mode is off, so the switch runs in a trampoline: one
//! page of low memory, identity-mapped, below 4 GiB (the code runs there
//! with paging off, and CR3 takes a 32-bit root then). Linux's decompressor
//! does the same (`trampoline_32bit` in `arch/x86/boot/compressed`). The
//! trampoline drops to 32-bit compatibility mode through a GDT of its own,
//! turns paging off (which leaves long mode), sets CR4.LA57, loads the
//! 5-level root, turns paging on again and comes back to 64-bit mode and
//! the caller's segments.
//!
//! The new root maps the old level-4 table twice: at entry 511 (every
//! 48-bit kernel-half address has bits 56..48 set, so the kernel half, the
//! direct map and the kernel image keep their addresses) and at entry 0,
//! for the identity-mapped trampoline while it returns. Entry 0 is cleared
//! afterwards: the lower half of a 5-level root is user space.

use bootloader_api::info::{MemoryRegionKind, MemoryRegions};
use x86_64::{
    PhysAddr, VirtAddr,
    registers::control::{Cr3, Cr4, Cr4Flags},
    structures::paging::{
        FrameAllocator, Mapper, OffsetPageTable, Page, PageTable, PageTableFlags as F, PhysFrame, Size4KiB,
    },
};

use crate::memory::{phys_offset, phys_to_virt};

const PAGE: u64 = 4096;
/// Pages taken from low memory: the trampoline, the 5-level root, and up to
/// three tables for the trampoline's identity mapping.
const LOW_PAGES: u64 = 5;

// Offsets in the trampoline page.
/// Its GDT: null, 32-bit code, 64-bit code, data.
const GDT: u64 = 0x800;
/// The GDT pointer (limit, base) `lgdt` loads.
const GDTR: u64 = 0x840;
/// The caller's GDT pointer (`sgdt`).
const SAVED_GDTR: u64 = 0x850;
const SAVED_RSP: u64 = 0x860;
const SAVED_CS: u64 = 0x868;
const SAVED_SS: u64 = 0x870;
/// The 32-bit stack (the far returns push on it) ends at the page's end.
const STACK_TOP: u64 = PAGE;

/// Selectors of the trampoline's GDT.
const CODE32: u64 = 0x08;
const CODE64: u64 = 0x10;
const DATA: u64 = 0x18;
const GDT_ENTRIES: [u64; 4] = [
    0,
    0x00cf_9a00_0000_ffff, // 32-bit code, base 0, 4 GiB
    0x00af_9a00_0000_ffff, // 64-bit code
    0x00cf_9200_0000_ffff, // data, base 0, 4 GiB
];

// The trampoline. Called as `extern "sysv64" fn(root: u64, base: u64)`
// at its identity-mapped address `base`; position-independent (32-bit code
// has no rip-relative addressing, so it addresses the page through ecx).
// The upper halves of the registers do not survive compatibility mode, so
// the callee-saved ones are pushed on the caller's stack, whose pointer is
// kept in the page.
core::arch::global_asm!(
    ".pushsection .text.la57_trampoline, \"ax\"",
    ".global la57_trampoline_start",
    ".global la57_trampoline_end",
    ".code64",
    "la57_trampoline_start:",
    "push %rbx",
    "push %rbp",
    "push %r12",
    "push %r13",
    "push %r14",
    "push %r15",
    "mov %rsp, {saved_rsp}(%rsi)",
    "sgdt {saved_gdtr}(%rsi)",
    "mov %cs, %ax",
    "mov %ax, {saved_cs}(%rsi)",
    "mov %ss, %ax",
    "mov %ax, {saved_ss}(%rsi)",
    "lgdt {gdtr}(%rsi)",
    "mov %esi, %ecx",
    "lea (.Lla57_compat - la57_trampoline_start)(%rsi), %rax",
    "pushq ${code32}",
    "push %rax",
    "lretq",
    ".code32",
    ".Lla57_compat:",
    "mov ${data}, %eax",
    "mov %eax, %ds",
    "mov %eax, %es",
    "mov %eax, %ss",
    "lea {stack_top}(%ecx), %esp",
    // Paging off: this leaves long mode (EFER.LMA clears; LME stays).
    "mov %cr0, %eax",
    "btr $31, %eax",
    "mov %eax, %cr0",
    "mov %cr4, %eax",
    "bts $12, %eax",
    "mov %eax, %cr4",
    "mov %edi, %cr3",
    // Paging on: back in long mode (compatibility), now with 5 levels.
    "mov %cr0, %eax",
    "bts $31, %eax",
    "mov %eax, %cr0",
    "lea (.Lla57_long - la57_trampoline_start)(%ecx), %eax",
    "push ${code64}",
    "push %eax",
    "lret",
    ".code64",
    ".Lla57_long:",
    "mov %ecx, %esi",
    "lgdt {saved_gdtr}(%rsi)",
    // The kernel's data selector, as `arch::gdt` loads it in SS, DS, ES.
    "mov {saved_ss}(%rsi), %ax",
    "mov %ax, %ss",
    "mov %ax, %ds",
    "mov %ax, %es",
    "mov {saved_rsp}(%rsi), %rsp",
    "movzwq {saved_cs}(%rsi), %rax",
    "push %rax",
    "lea .Lla57_back(%rip), %rax",
    "push %rax",
    "lretq",
    ".Lla57_back:",
    "pop %r15",
    "pop %r14",
    "pop %r13",
    "pop %r12",
    "pop %rbp",
    "pop %rbx",
    "ret",
    "la57_trampoline_end:",
    ".popsection",
    saved_rsp = const SAVED_RSP,
    saved_gdtr = const SAVED_GDTR,
    saved_cs = const SAVED_CS,
    saved_ss = const SAVED_SS,
    gdtr = const GDTR,
    code32 = const CODE32,
    code64 = const CODE64,
    data = const DATA,
    stack_top = const STACK_TOP,
    options(att_syntax)
);

unsafe extern "C" {
    static la57_trampoline_start: u8;
    static la57_trampoline_end: u8;
}

/// What the boot did about 5-level paging, for the log once it exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Switched: 5 levels.
    Enabled,
    /// The bootloader already runs 5 levels.
    AlreadyOn,
    /// The CPU has no LA57: 4 levels.
    NotSupported,
    /// `la57=off` on a CPU that has it: 4 levels.
    Disabled,
    /// No switch was possible: 4 levels (the reason says why).
    Failed(&'static str),
}

impl core::fmt::Display for Outcome {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Outcome::Enabled => f.write_str("5-level paging (LA57): switched at boot"),
            Outcome::AlreadyOn => f.write_str("5-level paging (LA57): on from the bootloader"),
            Outcome::NotSupported => f.write_str("4-level paging: the CPU has no LA57"),
            Outcome::Disabled => f.write_str("4-level paging: la57=off"),
            Outcome::Failed(why) => write!(f, "4-level paging: cannot switch to LA57: {why}"),
        }
    }
}

/// CPUID leaf 7, subleaf 0, ECX bit 16.
fn cpu_has_la57() -> bool {
    let max = core::arch::x86_64::__cpuid(0).eax;
    max >= 7 && core::arch::x86_64::__cpuid_count(7, 0).ecx & (1 << 16) != 0
}

/// Hands out the low pages taken for the identity mapping's tables.
struct LowFrames {
    next: u64,
    end: u64,
}

// SAFETY: every frame is handed out once, from low memory removed from the
// boot memory map, so no one else uses it.
unsafe impl FrameAllocator<Size4KiB> for LowFrames {
    fn allocate_frame(&mut self) -> Option<PhysFrame> {
        if self.next >= self.end {
            return None;
        }
        let frame = PhysFrame::containing_address(PhysAddr::new(self.next));
        self.next += PAGE;
        zero(frame);
        Some(frame)
    }
}

fn zero(frame: PhysFrame) {
    // SAFETY: the frame is one of ours (taken out of the memory map) and
    // reached through the direct map.
    unsafe { core::ptr::write_bytes(phys_to_virt(frame.start_address()).as_mut_ptr::<u8>(), 0, PAGE as usize) };
}

/// Takes `LOW_PAGES` pages below 4 GiB (and above page 0) out of the
/// usable regions, so the frame allocator never sees them.
fn take_low_pages(regions: &mut MemoryRegions) -> Option<u64> {
    let region = regions.iter_mut().find(|r| {
        let start = r.start.max(PAGE).next_multiple_of(PAGE);
        r.kind == MemoryRegionKind::Usable && start + LOW_PAGES * PAGE <= r.end.min(1 << 32)
    })?;
    let start = region.start.max(PAGE).next_multiple_of(PAGE);
    region.start = start + LOW_PAGES * PAGE;
    Some(start)
}

/// Switches to 5-level paging when the CPU has it and `wanted`. Call at
/// boot, with interrupts off, before any address space is made (they copy
/// the kernel root's top level). The pages it takes leave `regions`.
pub fn init(regions: &mut MemoryRegions, wanted: bool) -> Outcome {
    if Cr4::read().contains(Cr4Flags::L5_PAGING) {
        return Outcome::AlreadyOn;
    }
    if !cpu_has_la57() {
        return Outcome::NotSupported;
    }
    if !wanted {
        return Outcome::Disabled;
    }
    if Cr4::read().contains(Cr4Flags::PCID) {
        // Clearing CR0.PG with CR4.PCIDE set is a #GP.
        return Outcome::Failed("CR4.PCIDE is set");
    }
    let Some(low) = take_low_pages(regions) else {
        return Outcome::Failed("no free low memory below 4 GiB");
    };
    let (trampoline, root) = (low, low + PAGE);
    let (pml4, cr3_flags) = Cr3::read();
    // SAFETY: the boot root is a valid level-4 table; the direct map
    // covers all physical memory; nothing else edits the tables now.
    let mut mapper = unsafe { OffsetPageTable::new(&mut *table_ptr(pml4), phys_offset()) };
    let mut frames = LowFrames {
        next: low + 2 * PAGE,
        end: low + LOW_PAGES * PAGE,
    };
    let page = Page::<Size4KiB>::containing_address(VirtAddr::new(trampoline));
    let frame = PhysFrame::containing_address(PhysAddr::new(trampoline));
    // SAFETY: the page is low user-half memory the kernel does not use,
    // mapped to a frame of our own; the mapping is removed below.
    match unsafe { mapper.map_to(page, frame, F::PRESENT | F::WRITABLE, &mut frames) } {
        Ok(flush) => flush.flush(),
        Err(_) => return Outcome::Failed("the trampoline page cannot be identity-mapped"),
    }

    let code_len = {
        let start = core::ptr::addr_of!(la57_trampoline_start) as u64;
        let end = core::ptr::addr_of!(la57_trampoline_end) as u64;
        end - start
    };
    assert!(code_len <= GDT, "the LA57 trampoline outgrew its page");
    let page_ptr = phys_to_virt(PhysAddr::new(trampoline)).as_mut_ptr::<u8>();
    // SAFETY: the trampoline page is ours (taken from the memory map) and
    // reached through the direct map; the code is `code_len` bytes of the
    // kernel image; the GDT and its pointer fit in the page at their
    // offsets, past the code (asserted above).
    unsafe {
        core::ptr::write_bytes(page_ptr, 0, PAGE as usize);
        core::ptr::copy_nonoverlapping(&raw const la57_trampoline_start, page_ptr, code_len as usize);
        let gdt = page_ptr.add(GDT as usize).cast::<u64>();
        for (i, entry) in GDT_ENTRIES.iter().enumerate() {
            gdt.add(i).write(*entry);
        }
        let gdtr = page_ptr.add(GDTR as usize);
        gdtr.cast::<u16>().write_unaligned((GDT_ENTRIES.len() * 8 - 1) as u16);
        gdtr.add(2).cast::<u64>().write_unaligned(trampoline + GDT);
    }

    let root_frame = PhysFrame::containing_address(PhysAddr::new(root));
    zero(root_frame);
    // SAFETY: the root frame is ours, just zeroed, reached through the
    // direct map.
    let top = unsafe { &mut *table_ptr(root_frame) };
    top[0].set_frame(pml4, F::PRESENT | F::WRITABLE);
    top[511].set_frame(pml4, F::PRESENT | F::WRITABLE);

    // SAFETY: the trampoline is the code above, identity-mapped at
    // `trampoline`, below 4 GiB like `root`; it returns with every
    // callee-saved register, the stack and the segments as they were, and
    // the kernel half at the same addresses (entry 511). Interrupts are off.
    unsafe {
        let enter: extern "sysv64" fn(u64, u64) = core::mem::transmute(trampoline as usize);
        enter(root, trampoline);
    }
    debug_assert!(Cr4::read().contains(Cr4Flags::L5_PAGING));

    // The identity mappings (entry 0, and the trampoline page in the old
    // table's lower half, now at a kernel-half alias) go.
    top[0].set_unused();
    // SAFETY: the old level-4 table still maps the kernel half (as the
    // new root's entry 511); only the trampoline's mapping is removed.
    let mut mapper = unsafe { OffsetPageTable::new(&mut *table_ptr(pml4), phys_offset()) };
    if let Ok((_, flush)) = mapper.unmap(page) {
        flush.ignore();
    }
    // SAFETY: the same root, reloaded to drop every stale translation.
    unsafe { Cr3::write(root_frame, cr3_flags) };
    Outcome::Enabled
}

fn table_ptr(frame: PhysFrame) -> *mut PageTable {
    phys_to_virt(frame.start_address()).as_mut_ptr::<PageTable>()
}
