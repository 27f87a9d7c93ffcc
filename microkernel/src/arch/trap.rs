//! Entry into and exit from the kernel.
//!
//! Every entry from user mode (exception, interrupt, `syscall`) pushes the
//! complete user register state as a [`TrapFrame`] straight into the
//! current thread's control block: the entry stack (`TSS.rsp0`, which the
//! `syscall` entry loads too) ends where that thread's frame ends. The
//! stub then moves to the one kernel stack and calls into Rust, which
//! returns the frame of whichever thread runs next; the stub pops it. That
//! is the whole context switch, without copying a frame (as seL4 does).
//! A thread that entered with `syscall` leaves with `sysretq`, any other
//! through `iretq`. `sysretq` is safe here: a syscall frame's rip is the
//! address after the thread's own `syscall` instruction, which is at most
//! the user end of the active paging width (no user page is mapped above
//! it), so it is canonical with 4 levels and with 5.
//!
//! An entry from kernel mode (a kernel bug, or the timer before the first
//! thread runs) pushes its frame on the stack in use and returns to it.
//!
//! The kernel runs with interrupts off: `syscall` masks IF and every IDT
//! entry is an interrupt gate.
//!
//! RFLAGS. The kernel never runs with a user's flags: `syscall` clears
//! every flag Linux's syscall mask clears ([`SYSCALL_FLAG_MASK`], among
//! them NT, which would make the kernel's next `iretq` a task return that
//! faults in ring 0, and DF), and an interrupt gate clears TF, NT, RF and
//! IF, and the trap stub clears DF with `cld` (the Rust ABI requires DF
//! clear; a user's DF would run `rep movs`/`rep stos` backwards). A thread
//! leaves with a whitelist of its flags ([`USER_FLAGS`], IF and bit 1
//! on, [`EXIT_FLAGS`]): the stubs apply it on entry, to the frame just
//! saved, and not on exit. That covers every exit: a thread's saved RFLAGS change
//! only when that thread enters the kernel (the CPU or the syscall stub
//! writes them, then the stub sanitises them) or when it is created
//! ([`TrapFrame::new_user`]: IF and bit 1); nothing else in the kernel
//! writes `TrapFrame::rflags`. Each exit pops one of these frames, so
//! `iretq`/`sysretq` only ever see sanitised flags, at one instruction
//! (an `and`) per entry.

use core::arch::{asm, global_asm};

use libipc::short::ShortMessage;
use x86_64::{
    VirtAddr,
    registers::{
        control::{Efer, EferFlags},
        model_specific::{LStar, SFMask, Star},
        rflags::RFlags,
    },
    structures::idt::InterruptDescriptorTable,
};

use super::{gdt, interrupts};

/// A thread's user-mode registers, in the order the entry stubs push them.
/// 16-byte aligned and a multiple of 16 bytes long, because the CPU aligns
/// the entry stack pointer (the frame's end) to 16 bytes.
///
/// A `syscall` entry writes only what its exit (`sysretq`) loads: the
/// general registers but rcx and r11, rip, rflags, rsp and the vector. Its
/// cs, ss and error code keep what the thread's creation or last exception
/// wrote (user selectors: the GDT has one user code and one data segment;
/// the error code is read only for exceptions), and its rcx and r11 are
/// the syscall ABI's clobbers, which `sysretq` sets from rip and rflags.
/// A frame is left through `iretq` only when its last entry was an
/// interrupt or exception, which writes every slot (or from creation).
#[derive(Clone, Copy, Debug, Default)]
#[repr(C, align(16))]
pub struct TrapFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    pub vector: u64,
    pub error_code: u64,
    // Pushed by the CPU (or by the syscall stub in the same layout).
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

// The stubs push exactly a TrapFrame: 15 registers, vector, error code and
// the CPU's five words, ending 16-byte aligned.
const _: () = {
    assert!(core::mem::size_of::<TrapFrame>() == 22 * 8);
    assert!(core::mem::align_of::<TrapFrame>() == 16);
    assert!(core::mem::offset_of!(TrapFrame, vector) == 15 * 8);
    assert!(core::mem::offset_of!(TrapFrame, rip) == 17 * 8);
    // `syscall_entry` and `sysret_return` store and load the registers by
    // these slots.
    assert!(core::mem::offset_of!(TrapFrame, r15) == 0);
    assert!(core::mem::offset_of!(TrapFrame, r14) == 8);
    assert!(core::mem::offset_of!(TrapFrame, r13) == 2 * 8);
    assert!(core::mem::offset_of!(TrapFrame, r12) == 3 * 8);
    assert!(core::mem::offset_of!(TrapFrame, r10) == 5 * 8);
    assert!(core::mem::offset_of!(TrapFrame, r9) == 6 * 8);
    assert!(core::mem::offset_of!(TrapFrame, r8) == 7 * 8);
    assert!(core::mem::offset_of!(TrapFrame, rbp) == 8 * 8);
    assert!(core::mem::offset_of!(TrapFrame, rdi) == 9 * 8);
    assert!(core::mem::offset_of!(TrapFrame, rsi) == 10 * 8);
    assert!(core::mem::offset_of!(TrapFrame, rdx) == 11 * 8);
    assert!(core::mem::offset_of!(TrapFrame, rbx) == 13 * 8);
    assert!(core::mem::offset_of!(TrapFrame, rax) == 14 * 8);
};

/// The pseudo-vector the syscall stub records.
pub const SYSCALL_VECTOR: u64 = 0x100;

/// The flags a user thread may set and keep (Linux's `FIX_EFLAGS`, plus ID,
/// which `cpuid` detection toggles): arithmetic flags, TF, DF, AC, RF, ID.
/// Everything else (IOPL, NT, VM, VIF, VIP, reserved bits) is cleared on
/// the way out; IF and bit 1 are set ([`FORCED_FLAGS`]).
pub const USER_FLAGS: u64 = RFlags::CARRY_FLAG.bits()
    | RFlags::PARITY_FLAG.bits()
    | RFlags::AUXILIARY_CARRY_FLAG.bits()
    | RFlags::ZERO_FLAG.bits()
    | RFlags::SIGN_FLAG.bits()
    | RFlags::TRAP_FLAG.bits()
    | RFlags::DIRECTION_FLAG.bits()
    | RFlags::OVERFLOW_FLAG.bits()
    | RFlags::ALIGNMENT_CHECK.bits()
    | RFlags::RESUME_FLAG.bits()
    | RFlags::ID.bits();

/// Always set in a user thread's RFLAGS: interrupts on, and the reserved
/// bit 1 that reads as 1.
pub const FORCED_FLAGS: u64 = RFlags::INTERRUPT_FLAG.bits() | 0x2;

/// Cleared by `syscall` on entry (IA32_FMASK): what Linux clears, so the
/// kernel starts from known flags: no NT (a later `iretq` would be a task
/// return), no DF (Rust's ABI), no AC, TF, IOPL or RF, interrupts off.
pub const SYSCALL_FLAG_MASK: RFlags = RFlags::CARRY_FLAG
    .union(RFlags::PARITY_FLAG)
    .union(RFlags::AUXILIARY_CARRY_FLAG)
    .union(RFlags::ZERO_FLAG)
    .union(RFlags::SIGN_FLAG)
    .union(RFlags::TRAP_FLAG)
    .union(RFlags::INTERRUPT_FLAG)
    .union(RFlags::DIRECTION_FLAG)
    .union(RFlags::OVERFLOW_FLAG)
    .union(RFlags::IOPL_LOW)
    .union(RFlags::IOPL_HIGH)
    .union(RFlags::NESTED_TASK)
    .union(RFlags::RESUME_FLAG)
    .union(RFlags::ALIGNMENT_CHECK)
    .union(RFlags::ID);

/// What the entry stubs keep of a user thread's saved RFLAGS: the
/// whitelist, and IF and bit 1, which are always set in flags saved from
/// user mode (bit 1 reads as 1; user code cannot clear IF: `cli` faults and
/// `popfq` leaves IF alone at CPL 3 while IOPL is 0, and IOPL is 0 because
/// this mask drops it on every exit), so keeping them is forcing them on,
/// at one instruction per entry instead of two. `entered` checks it in
/// debug builds.
pub const EXIT_FLAGS: u64 = USER_FLAGS | FORCED_FLAGS;

// The stubs use the mask as a sign-extended 32-bit immediate, and the
// syscall stub has no `cld`: the mask clears DF (and NT).
const _: () = {
    assert!(EXIT_FLAGS < 1 << 31);
    assert!(SYSCALL_FLAG_MASK.contains(RFlags::DIRECTION_FLAG.union(RFlags::NESTED_TASK)));
};

impl TrapFrame {
    /// A fresh user thread at `rip` with stack `rsp` and `arg` in rdi.
    pub fn new_user(rip: u64, rsp: u64, arg: u64) -> Self {
        let sel = gdt::selectors();
        TrapFrame {
            rip,
            rsp,
            rdi: arg,
            cs: u64::from(sel.user_code.0),
            ss: u64::from(sel.user_data.0),
            rflags: FORCED_FLAGS,
            ..TrapFrame::default()
        }
    }

    pub fn is_user_mode(&self) -> bool {
        self.cs & 3 == 3
    }

    /// The short message in the message registers (`libipc::abi`).
    pub fn short_message(&self) -> ShortMessage {
        ShortMessage::new(self.r8, [self.r9, self.r12, self.r13, self.r14])
    }

    /// Writes `m` into the message registers.
    pub fn set_short_message(&mut self, m: &ShortMessage) {
        self.r8 = m.label;
        [self.r9, self.r12, self.r13, self.r14] = m.words;
    }
}

global_asm!(
    r#"
.macro TRAP_NOERR vec
.global trap_stub_\vec
trap_stub_\vec:
    push 0
    push \vec
    jmp trap_common
.endm
.macro TRAP_ERR vec
.global trap_stub_\vec
trap_stub_\vec:
    push \vec
    jmp trap_common
.endm

.macro SAVE_GPRS
    push rax
    push rbx
    push rcx
    push rdx
    push rsi
    push rdi
    push rbp
    push r8
    push r9
    push r10
    push r11
    push r12
    push r13
    push r14
    push r15
.endm

.macro RESTORE_GPRS
    pop r15
    pop r14
    pop r13
    pop r12
    pop r11
    pop r10
    pop r9
    pop r8
    pop rbp
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rbx
    pop rax
.endm

trap_common:
    // An interrupt gate does not clear DF: the kernel must not run `rep`
    // string instructions backwards with the user's (or its own) DF.
    cld
    SAVE_GPRS
    // The dispatcher's convention is preserve_none: its argument in r12.
    mov r12, rsp
    // From user mode the frame sits in a thread control block: run the
    // kernel on its own stack. From kernel mode, stay on the stack in use.
    test qword ptr [rsp + {cs_offset}], 3
    jz 1f
    // The saved flags are what the thread leaves with: whitelist them now.
    and qword ptr [rsp + {rflags_offset}], {exit_flags}
    mov rsp, [rip + {kstack_top}]
1:
    call {trap_dispatch}
    mov rsp, rax
    jmp trap_return

.global trap_return
trap_return:
    // A thread that entered through `syscall` leaves through `sysretq`;
    // anything else (interrupts, exceptions, new threads) through `iretq`.
    cmp qword ptr [rsp + {vector_offset}], {syscall_vector}
    je sysret_return
iret_return:
    RESTORE_GPRS
    add rsp, 16
    iretq

.global syscall_entry
syscall_entry:
    mov [rip + {user_rsp}], rsp
    // The end of the current thread's frame: the stub fills the frame by
    // offsets from it, only the slots `sysret_return` loads (see
    // `TrapFrame`: a syscall frame's cs, ss, error code, rcx and r11 are
    // not written).
    mov rsp, [rip + {tss} + {rsp0}]
    mov [rsp + {rip_offset} - {frame_size}], rcx
    mov rcx, [rip + {user_rsp}]
    mov [rsp + {rsp_offset} - {frame_size}], rcx
    // r11 is the user's RFLAGS (the mask already cleared the kernel's):
    // save the whitelisted flags, which sysretq restores.
    and r11d, {exit_flags}
    mov [rsp + {rflags_offset} - {frame_size}], r11
    mov qword ptr [rsp + {vector_offset} - {frame_size}], {syscall_vector}
    mov [rsp + 14 * 8 - {frame_size}], rax
    mov [rsp + 13 * 8 - {frame_size}], rbx
    mov [rsp + 11 * 8 - {frame_size}], rdx
    mov [rsp + 10 * 8 - {frame_size}], rsi
    mov [rsp + 9 * 8 - {frame_size}], rdi
    mov [rsp + 8 * 8 - {frame_size}], rbp
    mov [rsp + 7 * 8 - {frame_size}], r8
    mov [rsp + 6 * 8 - {frame_size}], r9
    mov [rsp + 5 * 8 - {frame_size}], r10
    mov [rsp + 3 * 8 - {frame_size}], r12
    mov [rsp + 2 * 8 - {frame_size}], r13
    mov [rsp + 1 * 8 - {frame_size}], r14
    mov [rsp + 0 * 8 - {frame_size}], r15
    // The dispatcher's convention is preserve_none: its argument (the
    // frame's start) in r12.
    lea r12, [rsp - {frame_size}]
    mov rsp, [rip + {kstack_top}]
    call {syscall_dispatch}
    mov rsp, rax
    // `trap_return`'s test, here so the common exit falls through.
    cmp qword ptr [rsp + {vector_offset}], {syscall_vector}
    jne iret_return
sysret_return:
    // Loads, not pops: rcx and r11 are clobbered by the syscall ABI (sysretq
    // takes the user rip and rflags from them), so their slots are skipped.
    // Interrupts stay off until sysretq.
    mov r15, [rsp + 0 * 8]
    mov r14, [rsp + 1 * 8]
    mov r13, [rsp + 2 * 8]
    mov r12, [rsp + 3 * 8]
    mov r10, [rsp + 5 * 8]
    mov r9, [rsp + 6 * 8]
    mov r8, [rsp + 7 * 8]
    mov rbp, [rsp + 8 * 8]
    mov rdi, [rsp + 9 * 8]
    mov rsi, [rsp + 10 * 8]
    mov rdx, [rsp + 11 * 8]
    mov rbx, [rsp + 13 * 8]
    mov rax, [rsp + 14 * 8]
    mov rcx, [rsp + {rip_offset}]
    mov r11, [rsp + {rflags_offset}]
    mov rsp, [rsp + {rsp_offset}]
    sysretq

TRAP_NOERR 0
TRAP_NOERR 1
TRAP_NOERR 2
TRAP_NOERR 3
TRAP_NOERR 4
TRAP_NOERR 5
TRAP_NOERR 6
TRAP_NOERR 7
TRAP_ERR 8
TRAP_ERR 10
TRAP_ERR 11
TRAP_ERR 12
TRAP_ERR 13
TRAP_ERR 14
TRAP_NOERR 16
TRAP_ERR 17
TRAP_NOERR 18
TRAP_NOERR 19
TRAP_NOERR 20
TRAP_ERR 21
TRAP_NOERR 32
TRAP_NOERR 39
"#,
    trap_dispatch = sym crate::trap_entry::trap_dispatch,
    syscall_dispatch = sym crate::trap_entry::syscall_dispatch,
    user_rsp = sym USER_RSP_SCRATCH,
    kstack_top = sym KERNEL_STACK_TOP,
    tss = sym super::gdt::TSS,
    rsp0 = const super::gdt::RSP0_OFFSET,
    cs_offset = const core::mem::offset_of!(TrapFrame, cs),
    vector_offset = const core::mem::offset_of!(TrapFrame, vector),
    rflags_offset = const core::mem::offset_of!(TrapFrame, rflags),
    rip_offset = const core::mem::offset_of!(TrapFrame, rip),
    rsp_offset = const core::mem::offset_of!(TrapFrame, rsp),
    frame_size = const core::mem::size_of::<TrapFrame>(),
    exit_flags = const EXIT_FLAGS,
    syscall_vector = const SYSCALL_VECTOR,
);

/// User data and code selectors with RPL 3, fixed by the GDT's layout
/// (checked against the GDT in [`init`]).
const USER_SS: u64 = 0x1b;
const USER_CS: u64 = 0x23;

/// Scratch slot for the user stack pointer during `syscall` entry (one CPU).
#[unsafe(no_mangle)]
static mut USER_RSP_SCRATCH: u64 = 0;
/// The kernel stack, which Rust code runs on.
#[unsafe(no_mangle)]
static mut KERNEL_STACK_TOP: u64 = 0;
/// Makes `frame` (the next thread's, in its control block) the place the
/// next entry from user mode saves registers to: its end goes into
/// `TSS.rsp0`, where interrupts and exceptions start pushing and the
/// `syscall` stub loads its stack from.
///
/// # Safety
/// `frame` must stay valid and unused by Rust code until that entry: the
/// thread's control block must not move or be freed while it runs.
#[inline(always)]
pub unsafe fn set_entry_frame(frame: *mut TrapFrame) {
    let end = frame as u64 + core::mem::size_of::<TrapFrame>() as u64;
    // SAFETY: a control block lives in the kernel heap: the end of its
    // frame is a canonical kernel address.
    unsafe { gdt::set_entry_stack(end) };
}

unsafe extern "C" {
    fn syscall_entry();
    fn trap_return();
    fn trap_stub_0();
    fn trap_stub_1();
    fn trap_stub_2();
    fn trap_stub_3();
    fn trap_stub_4();
    fn trap_stub_5();
    fn trap_stub_6();
    fn trap_stub_7();
    fn trap_stub_8();
    fn trap_stub_10();
    fn trap_stub_11();
    fn trap_stub_12();
    fn trap_stub_13();
    fn trap_stub_14();
    fn trap_stub_16();
    fn trap_stub_17();
    fn trap_stub_18();
    fn trap_stub_19();
    fn trap_stub_20();
    fn trap_stub_21();
    fn trap_stub_32();
    fn trap_stub_39();
}

static IDT: spin::Once<InterruptDescriptorTable> = spin::Once::new();

/// Installs the IDT and enables `syscall`.
pub fn init() {
    let sel = gdt::selectors();
    assert_eq!(u64::from(sel.user_data.0), USER_SS, "GDT layout changed");
    assert_eq!(u64::from(sel.user_code.0), USER_CS, "GDT layout changed");

    let idt = IDT.call_once(|| {
        let mut idt = InterruptDescriptorTable::new();
        let addr = |stub: unsafe extern "C" fn()| VirtAddr::new(stub as usize as u64);
        // SAFETY: each stub saves a TrapFrame, calls the dispatcher and
        // returns with iretq, which is what an interrupt gate requires. The
        // double fault, NMI and machine check switch to IST stacks.
        unsafe {
            idt.divide_error.set_handler_addr(addr(trap_stub_0));
            idt.debug.set_handler_addr(addr(trap_stub_1));
            idt.non_maskable_interrupt
                .set_handler_addr(addr(trap_stub_2))
                .set_stack_index(gdt::FATAL_IST);
            // `int3` and `into` are meant for user code (debuggers,
            // overflow checks): their gates admit ring 3, as Linux's do,
            // so they raise #BP/#OF (SIGTRAP/SIGSEGV), not #GP.
            idt.breakpoint
                .set_handler_addr(addr(trap_stub_3))
                .set_privilege_level(x86_64::PrivilegeLevel::Ring3);
            idt.overflow
                .set_handler_addr(addr(trap_stub_4))
                .set_privilege_level(x86_64::PrivilegeLevel::Ring3);
            idt.bound_range_exceeded.set_handler_addr(addr(trap_stub_5));
            idt.invalid_opcode.set_handler_addr(addr(trap_stub_6));
            idt.device_not_available.set_handler_addr(addr(trap_stub_7));
            idt.double_fault
                .set_handler_addr(addr(trap_stub_8))
                .set_stack_index(gdt::DOUBLE_FAULT_IST);
            idt.invalid_tss.set_handler_addr(addr(trap_stub_10));
            idt.segment_not_present.set_handler_addr(addr(trap_stub_11));
            idt.stack_segment_fault.set_handler_addr(addr(trap_stub_12));
            idt.general_protection_fault.set_handler_addr(addr(trap_stub_13));
            idt.page_fault.set_handler_addr(addr(trap_stub_14));
            idt.x87_floating_point.set_handler_addr(addr(trap_stub_16));
            idt.alignment_check.set_handler_addr(addr(trap_stub_17));
            idt.machine_check
                .set_handler_addr(addr(trap_stub_18))
                .set_stack_index(gdt::FATAL_IST);
            idt.simd_floating_point.set_handler_addr(addr(trap_stub_19));
            idt.virtualization.set_handler_addr(addr(trap_stub_20));
            idt.cp_protection_exception.set_handler_addr(addr(trap_stub_21));
            idt[interrupts::TIMER_VECTOR].set_handler_addr(addr(trap_stub_32));
            idt[interrupts::SPURIOUS_VECTOR].set_handler_addr(addr(trap_stub_39));
        }
        idt
    });
    idt.load();

    // SAFETY: single CPU, before any user code runs: nothing reads these yet.
    unsafe { KERNEL_STACK_TOP = gdt::kernel_stack_top() };
    // SAFETY: enabling `syscall` with an entry point that saves all state;
    // NXE makes the pager's non-executable mappings effective.
    unsafe {
        Efer::update(|f| f.insert(EferFlags::SYSTEM_CALL_EXTENSIONS | EferFlags::NO_EXECUTE_ENABLE));
    }
    LStar::write(VirtAddr::new(syscall_entry as *const () as u64));
    SFMask::write(SYSCALL_FLAG_MASK);
    Star::write(sel.user_code, sel.user_data, sel.kernel_code, sel.kernel_data).expect("STAR layout");
}

/// Leaves the kernel into the thread whose registers are `frame` (the
/// first thread; later switches return through the entry stubs).
///
/// # Safety
/// `frame` must be the control-block frame [`set_entry_frame`] was given,
/// describing a user-mode context (user selectors, canonical user rip).
pub unsafe fn enter_user(frame: *mut TrapFrame) -> ! {
    // SAFETY: trap_return pops exactly one TrapFrame from `frame` and irets
    // to user mode; no Rust frame is live after the jump (this function
    // never returns).
    unsafe { asm!("mov rsp, {0}", "jmp {1}", in(reg) frame, sym trap_return, options(noreturn)) }
}
