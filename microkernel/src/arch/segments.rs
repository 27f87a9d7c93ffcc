//! Per-thread user segment state: the `ds`, `es`, `fs` and `gs` selectors
//! and the FS and GS bases (thread-local storage).
//!
//! The entry stubs neither save nor load segment registers (the kernel
//! addresses nothing through them and does not use `swapgs`), so while the
//! kernel runs they still hold what the interrupted thread left there. They
//! are switched with the thread instead, in [`Kernel::switch_to`]: a thread
//! only changes its own segment state by running user code, so what the CPU
//! holds when the kernel switches away from a thread is that thread's
//! state, and it is saved then.
//!
//! The cheap check. A thread can change a base in only two ways:
//! `SetSegmentBase` (the kernel sees it), or loading `fs`/`gs`, which sets
//! the base from the descriptor (0 for every descriptor a user may load) or
//! leaves it unchanged (a null selector on some CPUs). `rdfsbase`/`wrfsbase`
//! are off: [`init`] clears CR4.FSGSBASE so they raise #UD. So while every
//! loaded base is 0, the bases stay 0 whatever user code does, and the
//! state on the CPU is the default one (null selectors, zero bases) exactly
//! when the four selectors read as null. A switch to a thread in the default
//! state, away from a default state, therefore costs four selector reads and
//! a test ([`must_switch`], eight instructions); only threads that use
//! segment state take the slow path, which reads the bases with `rdmsr`
//! and loads only what differs.
//!
//! Every Linux thread uses segment state: its C library sets an FS base for
//! thread-local storage at start-up (`arch_prctl`), with null selectors.
//! So every forwarded system call and fault of a Linux thread switches
//! twice between a bases-only state and the handler's default one. That
//! case has its own short way in [`Kernel::switch_segments`]: no selector
//! is read again or loaded, no base is read, and a base is written unless
//! it is zero on both sides (about 20 instructions a switch, against 75
//! for the general slow path).
//!
//! Not reading the bases back is Linux's rule on CPUs without FSGSBASE
//! (`save_base_legacy` in `arch/x86/kernel/process_64.c`, "this branch is
//! very hot"): with null selectors, the bases saved for a thread are taken
//! to be the ones on the CPU. A thread can make that untrue only by
//! loading a selector into fs or gs and then a null one, which leaves a
//! base of 0 (Intel, QEMU) or the descriptor's 0 (AMD); the kernel then
//! gives it back its saved base at the next switch, as that Linux does (no
//! C library does this). So the base on the CPU is the saved one or 0, and
//! writing every base that is not 0 on both sides leaves each thread its
//! own or a zero base, never another's.
//!
//! The four reads cannot be avoided while the state is exact: user code
//! may load a null or a user selector into any of the four registers at
//! any time without the kernel seeing it, and no instruction reads more
//! than one segment register. On the null IPC round trip (two switches)
//! this is 16 instructions.
//!
//! [`Kernel::switch_to`]: crate::object::Kernel::switch_to

use core::arch::asm;

use libipc::abi::SysError;
use x86_64::registers::{
    control::{Cr4, Cr4Flags},
    model_specific::{FsBase, GsBase, KernelGsBase, Msr},
};

use crate::object::Kernel;

/// A thread's user segment state. The default (all zero) is what a new
/// thread starts with: null selectors and zero bases.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SegmentState {
    /// The selectors, packed: `ds | es << 16 | fs << 32 | gs << 48`.
    selectors: u64,
    fs_base: u64,
    gs_base: u64,
    /// Nonzero when this is not the default state (kept by every writer,
    /// so the switch tests one word instead of three).
    custom: u64,
}

impl SegmentState {
    fn new(selectors: u64, fs_base: u64, gs_base: u64) -> Self {
        SegmentState {
            selectors,
            fs_base,
            gs_base,
            custom: selectors | fs_base | gs_base,
        }
    }

    /// This state with a new FS or GS base, checked as `SetSegmentBase`
    /// checks it: for a thread that is not running (a Linux thread whose
    /// forwarded `arch_prctl` is answered), whose saved state is its state.
    pub fn with_base(self, base: libipc::kernel::SegmentBaseSet) -> Result<SegmentState, SysError> {
        use libipc::kernel::SegmentBaseSet::{Fs, Gs};
        Ok(match base {
            Fs(v) => SegmentState::new(self.selectors, check_base(v)?, self.gs_base),
            Gs(v) => SegmentState::new(self.selectors, self.fs_base, check_base(v)?),
        })
    }
}

/// Which base `SetSegmentBase` sets (`libipc::abi`).
const FS: u64 = 0;
const GS: u64 = 1;

/// Nonzero when the state on the CPU may differ from the default one: the
/// last state loaded had a non-null selector or a nonzero base, or
/// `SetSegmentBase` gave the running thread a nonzero base. Zero means the
/// bases on the CPU are 0 (see the module comment).
static mut LOADED_CUSTOM: u64 = 0;

/// The bases the last bases-only switch ([`Kernel::switch_segments`]'s
/// short way) loaded, which the running thread's saved state then holds
/// (with null selectors); [`NOT_LOADED`] after any other load of segment
/// state. A switch away from a thread it holds bases for has nothing to
/// read or save (a Linux thread's TLS base, on every forwarded call).
static mut LOADED_BASES: (u64, u64) = (0, 0);

/// A base no read can return (non-canonical): [`LOADED_BASES`] says nothing.
const NOT_LOADED: (u64, u64) = (u64::MAX, u64::MAX);

/// Puts the CPU into the default user state and turns the user-mode base
/// instructions off. Called once at boot, before any thread runs.
pub fn init() {
    // SAFETY: clearing FSGSBASE only makes rdfsbase/wrfsbase/rdgsbase/
    // wrgsbase raise #UD; the kernel uses none of them.
    unsafe { Cr4::update(|f| f.remove(Cr4Flags::FSGSBASE)) };
    // SAFETY: null selectors are always loadable into ds/es/fs/gs in
    // 64-bit mode, and the kernel addresses nothing through these
    // registers (its stack segment is separate).
    unsafe { load_selectors(0) };
    // Zero is canonical. The kernel never uses swapgs; KernelGsBase is
    // zeroed anyway so nothing stale could ever be swapped in.
    FsBase::write(x86_64::VirtAddr::zero());
    GsBase::write(x86_64::VirtAddr::zero());
    KernelGsBase::write(x86_64::VirtAddr::zero());
    // SAFETY: single CPU, before any user code: nothing else reads it.
    unsafe { LOADED_CUSTOM = 0 };
}

/// Where [`must_switch`] stores the four selectors to test them as one word.
static mut SELECTOR_SCRATCH: u64 = 0;

/// Whether switching to a thread whose state is `next` needs the slow
/// path ([`Kernel::switch_segments`]): false only when the CPU holds the
/// default state and `next` wants it.
///
/// Eight instructions, the whole cost of segment switching on the IPC
/// path: four selector stores into one word (a store per register is the
/// cheapest read; ORing register reads takes three more instructions),
/// its load, an OR with [`LOADED_CUSTOM`] and with `next`'s flag, and the
/// branch.
///
/// The answer is a word, nonzero for true: a caller ORs it with its own
/// rare conditions and tests them all at once.
#[inline(always)]
pub fn must_switch(next: &SegmentState) -> u64 {
    let live: u64;
    // SAFETY: storing segment registers has no side effect; the scratch
    // word is only touched here, on one CPU with interrupts off.
    unsafe {
        asm!(
            "mov word ptr [rip + {scratch}], ds",
            "mov word ptr [rip + {scratch} + 2], es",
            "mov word ptr [rip + {scratch} + 4], fs",
            "mov word ptr [rip + {scratch} + 6], gs",
            "mov {live}, qword ptr [rip + {scratch}]",
            "or {live}, qword ptr [rip + {loaded}]",
            scratch = sym SELECTOR_SCRATCH,
            loaded = sym LOADED_CUSTOM,
            live = out(reg) live,
            options(nostack),
        );
    }
    live | next.custom
}

/// The state on the CPU now, bases read from their MSRs.
fn live() -> SegmentState {
    let sel: u64;
    // SAFETY: reading segment registers has no side effect; a 32-bit
    // destination is zero-extended.
    unsafe {
        asm!(
            "mov {t:e}, gs",
            "shl {t}, 16",
            "mov {s:e}, fs",
            "or {t}, {s}",
            "shl {t}, 16",
            "mov {s:e}, es",
            "or {t}, {s}",
            "shl {t}, 16",
            "mov {s:e}, ds",
            "or {t}, {s}",
            t = out(reg) sel,
            s = out(reg) _,
            options(nomem, nostack),
        );
    }
    SegmentState::new(sel, read_msr(FsBase::MSR), read_msr(GsBase::MSR))
}

fn read_msr(msr: Msr) -> u64 {
    // SAFETY: FS_BASE and GS_BASE exist on every x86-64 CPU; reading them
    // has no side effect.
    unsafe { msr.read() }
}

/// Writes a base MSR.
///
/// # Safety
/// `value` must be canonical (`wrmsr` of a non-canonical base raises #GP
/// in the kernel).
unsafe fn write_base(msr: Msr, value: u64) {
    let mut msr = msr;
    // SAFETY: the caller guarantees a canonical value; the kernel addresses
    // nothing through fs or gs, so changing their bases affects user code
    // only.
    unsafe { msr.write(value) };
}

/// Loads the packed selectors into ds, es, fs and gs.
///
/// # Safety
/// Each selector must be loadable at CPL 0 (null, or one a user thread
/// loaded itself: every selector CPL 3 may load, CPL 0 may too).
unsafe fn load_selectors(sel: u64) {
    // SAFETY: the caller guarantees the selectors are loadable; the kernel
    // does not address memory through these registers.
    unsafe {
        asm!(
            "mov ds, {d:e}",
            "mov es, {e:e}",
            "mov fs, {f:e}",
            "mov gs, {g:e}",
            d = in(reg) sel as u16 as u32,
            e = in(reg) (sel >> 16) as u16 as u32,
            f = in(reg) (sel >> 32) as u16 as u32,
            g = in(reg) (sel >> 48) as u16 as u32,
            options(nostack, preserves_flags),
        );
    }
}

/// Puts `next` on the CPU, which holds `live`: loads only the selectors
/// that differ, and writes a base only when it differs from the one on the
/// CPU after the selector loads (loading fs or gs replaces its base).
fn load(live: &SegmentState, next: &SegmentState) {
    let (mut fs_base, mut gs_base) = (live.fs_base, live.gs_base);
    if live.selectors != next.selectors {
        // SAFETY: `next` holds null selectors or ones its thread loaded in
        // user mode (saved by `live`), all loadable at CPL 0.
        unsafe { load_selectors(next.selectors) };
        // The base after a load depends on the CPU (a null selector keeps
        // or clears it): read it back rather than guess.
        if (live.selectors ^ next.selectors) >> 32 != 0 {
            fs_base = read_msr(FsBase::MSR);
            gs_base = read_msr(GsBase::MSR);
        }
    }
    if fs_base != next.fs_base {
        // SAFETY: a saved base was read from the CPU or checked by
        // `SetSegmentBase`: canonical either way.
        unsafe { write_base(FsBase::MSR, next.fs_base) };
    }
    if gs_base != next.gs_base {
        // SAFETY: as above.
        unsafe { write_base(GsBase::MSR, next.gs_base) };
    }
    // SAFETY: single CPU with interrupts off.
    unsafe {
        LOADED_CUSTOM = next.custom;
        LOADED_BASES = NOT_LOADED;
    }
}

/// Checks a base for `SetSegmentBase`: a user-half address (below
/// the user end of the active paging width, as Linux's `arch_prctl` refuses
/// `TASK_SIZE_MAX` and above), hence canonical.
fn check_base(value: u64) -> Result<u64, SysError> {
    if value < crate::memory::space::user_end() {
        Ok(value)
    } else {
        Err(SysError::InvalidArgument)
    }
}

/// The selectors [`must_switch`] stored, packed as [`SegmentState`] packs
/// them: what the CPU holds now if nothing has loaded a selector since.
#[inline(always)]
fn selectors_read_by_must_switch() -> u64 {
    // SAFETY: single CPU with interrupts off; only `must_switch` writes it.
    unsafe { SELECTOR_SCRATCH }
}

impl Kernel {
    /// The slow path of a switch to a thread whose state is `next`
    /// ([`must_switch`] said so, and its selector reads are still what the
    /// CPU holds): saves what the CPU holds into the thread that ran last
    /// (if it still exists), then loads `next`. Called before `current`
    /// moves to the next thread.
    ///
    /// Bases only (no selector on either side, what a Linux thread's TLS
    /// is: an FS base and null selectors) takes a short way: the selectors
    /// stay, the bases are not read back (Linux's rule, see the module
    /// comment), and a base is written unless it is 0 on both sides. Every
    /// forwarded Linux system call switches this way twice.
    ///
    /// The short way is inlined into the switch (it is the forwarded
    /// system call's, twice a call); the general one and the save of bases
    /// a thread changed behind the kernel's back are calls of their own.
    #[inline(always)]
    pub fn switch_segments(&mut self, next: &SegmentState) {
        let selectors = selectors_read_by_must_switch();
        if selectors | next.selectors != 0 {
            return self.switch_segments_general(selectors, next);
        }
        // SAFETY: single CPU with interrupts off.
        let loaded_custom = unsafe { LOADED_CUSTOM };
        let (fs_base, gs_base) = if loaded_custom == 0 {
            // The CPU holds the default state (zero bases: see the
            // module comment), which the thread that ran has saved
            // already: it had the default state when it was switched to
            // (else `LOADED_CUSTOM` would be nonzero), and a running
            // thread's saved state changes only with `LOADED_CUSTOM`
            // (`SetSegmentBase`).
            debug_assert!(
                self.current()
                    .and_then(|t| self.thread(t))
                    .is_none_or(|t| t.segments == SegmentState::default()),
                "a default CPU state under a thread whose saved state is not"
            );
            (0, 0)
        } else {
            // SAFETY: single CPU with interrupts off.
            match unsafe { LOADED_BASES } {
                // The running thread's selectors were not null when it was
                // switched to (it loaded null ones since), or it set a
                // base itself: its state is saved from the CPU's.
                NOT_LOADED => self.save_current_bases(),
                // Its saved bases, taken to be the CPU's (Linux's rule).
                loaded => loaded,
            }
        };
        // The CPU holds these bases or 0 (see the module comment): only a
        // base that is 0 on both sides needs no write.
        if fs_base | next.fs_base != 0 {
            // SAFETY: a saved base was read from the CPU or checked by
            // `SetSegmentBase`: canonical either way.
            unsafe { write_base(FsBase::MSR, next.fs_base) };
        }
        if gs_base | next.gs_base != 0 {
            // SAFETY: as above.
            unsafe { write_base(GsBase::MSR, next.gs_base) };
        }
        // SAFETY: single CPU with interrupts off.
        unsafe {
            LOADED_CUSTOM = next.custom;
            LOADED_BASES = (next.fs_base, next.gs_base);
        }
    }

    /// [`Kernel::switch_segments`] when either side has a selector: saves
    /// the whole live state, loads `next`'s.
    #[cold]
    #[inline(never)]
    fn switch_segments_general(&mut self, selectors: u64, next: &SegmentState) {
        let live = SegmentState::new(selectors, read_msr(FsBase::MSR), read_msr(GsBase::MSR));
        self.save_current(live);
        load(&live, next);
    }

    /// The bases the thread that ran left on the CPU, with the null
    /// selectors it has now: saved as its state, and returned.
    #[cold]
    #[inline(never)]
    fn save_current_bases(&mut self) -> (u64, u64) {
        let (fs_base, gs_base) = (read_msr(FsBase::MSR), read_msr(GsBase::MSR));
        self.save_current(SegmentState::new(0, fs_base, gs_base));
        (fs_base, gs_base)
    }

    /// Saves `live`, the state on the CPU, as the state of the thread that
    /// ran last, if it still exists.
    #[inline(always)]
    fn save_current(&mut self, live: SegmentState) {
        if let Some(prev) = self.current()
            && let Some(t) = self.thread_mut(prev)
        {
            t.segments = live;
        }
    }

    /// `SetSegmentBase(which, value)`: sets the FS (0) or GS (1) base of
    /// the calling thread `tid` (the current one) on the CPU and in its
    /// saved state. The selectors stay as they are.
    pub fn sys_set_segment_base(&mut self, tid: libipc::types::Tid, which: u64, value: u64) -> Result<(), SysError> {
        let msr = match which {
            FS => FsBase::MSR,
            GS => GsBase::MSR,
            _ => return Err(SysError::InvalidArgument),
        };
        let value = check_base(value)?;
        // The saved state may be older than the CPU's (it is saved when
        // the thread is switched away from): start from the CPU's.
        let mut state = live();
        if which == FS {
            state.fs_base = value;
        } else {
            state.gs_base = value;
        }
        let state = SegmentState::new(state.selectors, state.fs_base, state.gs_base);
        // SAFETY: `check_base` admits user-half addresses only, which are
        // canonical.
        unsafe { write_base(msr, value) };
        // SAFETY: single CPU with interrupts off.
        unsafe {
            LOADED_CUSTOM = state.custom;
            LOADED_BASES = NOT_LOADED;
        }
        if let Some(t) = self.thread_mut(tid) {
            t.segments = state;
        }
        Ok(())
    }
}
