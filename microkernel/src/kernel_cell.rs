//! The cell that holds the kernel's state ([`crate::KERNEL`]): empty until
//! boot puts the kernel in, then taken by every entry.
//!
//! One CPU, and the kernel runs with interrupts off, so no entry nests
//! inside another's critical section and nothing runs between a test of
//! the state and its update: the lock is a plain load and store of one
//! byte, not a locked read-modify-write. The state says at once whether
//! the kernel is there and whether it is taken, so an entry tests one byte
//! for both (a `Mutex<Option<Kernel>>` tests two words and needs a
//! compare-exchange).

use core::{
    cell::UnsafeCell,
    mem::MaybeUninit,
    ops::{Deref, DerefMut},
};

use crate::object::Kernel;

/// No kernel yet.
const EMPTY: u8 = 0;
/// The kernel is in, and nobody holds it.
const FREE: u8 = 1;
/// Held by a [`KernelGuard`].
const HELD: u8 = 2;

pub struct KernelCell {
    /// EMPTY, FREE or HELD. A plain byte, not an atomic: one CPU, and a
    /// compiler may fold its test into one compare with memory.
    state: UnsafeCell<u8>,
    kernel: UnsafeCell<MaybeUninit<Kernel>>,
}

// SAFETY: one CPU, with interrupts off while the kernel runs: the state
// byte's test and update cannot interleave with another holder's, so at
// most one `KernelGuard` exists at a time, and only it touches the kernel.
unsafe impl Sync for KernelCell {}

impl KernelCell {
    pub const fn new() -> Self {
        KernelCell {
            state: UnsafeCell::new(EMPTY),
            kernel: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// Puts the kernel in, once, at the end of boot.
    pub fn init(&self, kernel: Kernel) {
        assert_eq!(self.state(), EMPTY, "the kernel is put in once");
        // SAFETY: the state is EMPTY: no guard exists and nothing has been
        // written; one CPU, interrupts off.
        unsafe { (*self.kernel.get()).write(kernel) };
        self.set_state(FREE);
    }

    #[inline(always)]
    fn state(&self) -> u8 {
        // SAFETY: one CPU, interrupts off: no write to the byte can be
        // under way (see the `Sync` impl).
        unsafe { *self.state.get() }
    }

    #[inline(always)]
    fn set_state(&self, state: u8) {
        // SAFETY: as in `state`.
        unsafe { *self.state.get() = state };
    }

    /// The kernel, if it is in and nobody holds it.
    #[inline(always)]
    pub fn try_lock(&self) -> Option<KernelGuard<'_>> {
        if self.state() != FREE {
            return None;
        }
        self.set_state(HELD);
        Some(KernelGuard { cell: self })
    }
}

/// The kernel, held; released when dropped.
pub struct KernelGuard<'a> {
    cell: &'a KernelCell,
}

impl Deref for KernelGuard<'_> {
    type Target = Kernel;
    #[inline(always)]
    fn deref(&self) -> &Kernel {
        // SAFETY: a guard exists only in state HELD, reached from FREE,
        // which `init` sets after writing the kernel; it is the only one.
        unsafe { (*self.cell.kernel.get()).assume_init_ref() }
    }
}

impl DerefMut for KernelGuard<'_> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut Kernel {
        // SAFETY: as in `deref`; `&mut self` makes the access exclusive.
        unsafe { (*self.cell.kernel.get()).assume_init_mut() }
    }
}

impl Drop for KernelGuard<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        self.cell.set_state(FREE);
    }
}
