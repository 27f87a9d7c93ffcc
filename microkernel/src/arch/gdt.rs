//! The GDT and TSS. The double fault runs on its own IST stack so a kernel
//! stack overflow still reports instead of triple-faulting.

use spin::Once;
use x86_64::{
    VirtAddr,
    instructions::{
        segmentation::{CS, DS, ES, SS, Segment},
        tables::load_tss,
    },
    structures::{
        gdt::{Descriptor, GlobalDescriptorTable, SegmentSelector},
        tss::TaskStateSegment,
    },
};

/// IST slot of the double-fault handler.
pub const DOUBLE_FAULT_IST: u16 = 0;
/// IST slot of the NMI and machine-check handlers. Both are fatal here and
/// can arrive at any instruction, including the entry and exit stubs while
/// rsp points into a thread's control block: they get a stack of their own.
pub const FATAL_IST: u16 = 1;

const STACK_SIZE: usize = 64 * 1024;

/// A kernel stack with the alignment the ABI wants.
#[repr(C, align(16))]
struct Stack([u8; STACK_SIZE]);

static mut DOUBLE_FAULT_STACK: Stack = Stack([0; STACK_SIZE]);
static mut FATAL_STACK: Stack = Stack([0; STACK_SIZE]);
/// The one kernel stack: Rust code runs here on every entry from user mode
/// (the registers themselves are saved in the thread's control block).
static mut KERNEL_STACK: Stack = Stack([0; STACK_SIZE]);

pub struct Selectors {
    pub kernel_code: SegmentSelector,
    pub kernel_data: SegmentSelector,
    pub user_data: SegmentSelector,
    pub user_code: SegmentSelector,
    tss: SegmentSelector,
}

/// Mutable after `init`: its `rsp0` follows the running thread (see
/// [`set_entry_stack`]). Only `init` takes a reference, to build the
/// descriptor; later writes go through a raw pointer.
pub(super) static mut TSS: TaskStateSegment = TaskStateSegment::new();

/// Where `rsp0` sits in the TSS: the `syscall` entry stub loads its stack
/// (the running thread's frame end) from there too, so a switch writes
/// one word.
pub(super) const RSP0_OFFSET: usize = core::mem::offset_of!(TaskStateSegment, privilege_stack_table);
static GDT: Once<(GlobalDescriptorTable, Selectors)> = Once::new();

/// Sets where the CPU switches the stack on an interrupt or exception from
/// user mode (the end of the running thread's saved frame).
///
/// # Safety
/// `top` must be a canonical kernel address (the CPU switches to it).
#[inline(always)]
pub unsafe fn set_entry_stack(top: u64) {
    // SAFETY: single CPU with interrupts off; no reference to the TSS is
    // live after `init` (the GDT descriptor holds its address only), and
    // the CPU reads rsp0 only on an entry from user mode, not now. The
    // caller guarantees a canonical address.
    unsafe { (*core::ptr::addr_of_mut!(TSS)).privilege_stack_table[0] = VirtAddr::new_unsafe(top) };
}

/// The top of the kernel stack (entries from user mode start here).
pub fn kernel_stack_top() -> u64 {
    let base = core::ptr::addr_of!(KERNEL_STACK) as u64;
    base + STACK_SIZE as u64
}

pub fn init() {
    let df = core::ptr::addr_of!(DOUBLE_FAULT_STACK) as u64;
    let fatal = core::ptr::addr_of!(FATAL_STACK) as u64;
    // SAFETY: called once at boot, before interrupts or user mode: nothing
    // else touches the TSS. The shared reference ends with this function.
    let tss: &'static TaskStateSegment = unsafe {
        let tss = &mut *core::ptr::addr_of_mut!(TSS);
        tss.interrupt_stack_table[DOUBLE_FAULT_IST as usize] = VirtAddr::new(df + STACK_SIZE as u64);
        tss.interrupt_stack_table[FATAL_IST as usize] = VirtAddr::new(fatal + STACK_SIZE as u64);
        tss.privilege_stack_table[0] = VirtAddr::new(kernel_stack_top());
        tss
    };
    let (gdt, sel) = GDT.call_once(|| {
        let mut gdt = GlobalDescriptorTable::new();
        // Order matters: `syscall`/`sysret` derive user selectors from STAR
        // as kernel_data+8 = user data, +16 = user code.
        let kernel_code = gdt.append(Descriptor::kernel_code_segment());
        let kernel_data = gdt.append(Descriptor::kernel_data_segment());
        let user_data = gdt.append(Descriptor::user_data_segment());
        let user_code = gdt.append(Descriptor::user_code_segment());
        let tss = gdt.append(Descriptor::tss_segment(tss));
        (
            gdt,
            Selectors {
                kernel_code,
                kernel_data,
                user_data,
                user_code,
                tss,
            },
        )
    });
    gdt.load();
    // SAFETY: the selectors name descriptors of the GDT just loaded, which
    // lives in a static for the rest of the kernel's life.
    unsafe {
        CS::set_reg(sel.kernel_code);
        SS::set_reg(sel.kernel_data);
        DS::set_reg(sel.kernel_data);
        ES::set_reg(sel.kernel_data);
        load_tss(sel.tss);
    }
}

pub fn selectors() -> &'static Selectors {
    &GDT.get().expect("GDT not initialized").1
}
