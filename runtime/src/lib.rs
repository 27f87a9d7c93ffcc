//! The user-mode runtime: what a program on this kernel links.
//!
//! - `_start`: the kernel starts a thread at the entry point with the stack
//!   the pager chose and one argument in `rdi`; `_start` aligns the stack
//!   and calls the program's `main` (declared with [`entry!`]).
//! - A panic prints its message on the console and exits with status 101.
//! - `entry!(main, heap = N)` gives a program a heap in its `.bss` (demand-paged like any
//!   other anonymous memory; the pager maps its own eagerly).
//! - [`print!`]/[`println!`] write to the kernel console.
//! - [`pager`], [`procfs`]: typed clients of the pager and the procfs server.
//! - [`time`]: clocks read from the clock page without a system call, and sleeping.
#![no_std]

extern crate alloc;

pub mod console;
pub mod pager;
pub mod procfs;
pub mod time;

pub use libipc;

/// Declares the program's `main: fn(arg: u64) -> i64`; its return value is
/// the exit code. The program gets a heap in its `.bss`:
/// [`DEFAULT_HEAP_BYTES`], or `entry!(main, heap = BYTES)`.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        $crate::entry!($main, heap = $crate::DEFAULT_HEAP_BYTES);
    };
    ($main:path, heap = $size:expr) => {
        #[global_allocator]
        static HEAP: $crate::Heap = $crate::Heap::empty();

        #[unsafe(no_mangle)]
        extern "C" fn __program_heap_init() {
            static mut ARENA: [u8; $size] = [0; $size];
            // SAFETY: called once by `_start` before `main`, so nothing else
            // holds a reference to ARENA; it lives for the whole program.
            unsafe { HEAP.init(core::ptr::addr_of_mut!(ARENA) as *mut u8, $size) };
        }
        $crate::entry!(@main $main);
    };
    (@main $main:path) => {
        #[unsafe(no_mangle)]
        extern "C" fn __program_main(arg: u64) -> ! {
            let f: fn(u64) -> i64 = $main;
            $crate::libipc::sys::exit(f(arg))
        }
    };
}

/// The heap of a program that does not ask for a size: demand-paged, so
/// what it does not use costs nothing.
pub const DEFAULT_HEAP_BYTES: usize = 256 * 1024;

/// The allocator behind [`heap!`].
pub struct Heap(buddy_system_allocator::LockedHeap<32>);

impl Heap {
    pub const fn empty() -> Self {
        Heap(buddy_system_allocator::LockedHeap::empty())
    }

    /// # Safety
    /// `start..start+size` must be memory the heap owns from now on.
    pub unsafe fn init(&self, start: *mut u8, size: usize) {
        // SAFETY: the caller hands over exclusive ownership of the range.
        unsafe { self.0.lock().init(start as usize, size) };
    }
}

// SAFETY: delegates to a buddy allocator, which upholds GlobalAlloc's contract.
unsafe impl core::alloc::GlobalAlloc for Heap {
    unsafe fn alloc(&self, layout: core::alloc::Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { self.0.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: core::alloc::Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { self.0.dealloc(ptr, layout) }
    }
}

unsafe extern "C" {
    /// Defined by [`entry!`].
    fn __program_main(arg: u64) -> !;
    /// Defined by [`entry!`].
    fn __program_heap_init();
}

/// Entry point: the kernel jumps here with the argument in `rdi`.
#[unsafe(naked)]
#[unsafe(no_mangle)]
extern "C" fn _start() -> ! {
    core::arch::naked_asm!(
        "and rsp, -16",
        "push rdi",
        "push rdi",
        "call {heap_init}",
        "pop rdi",
        "pop rdi",
        "call {main}",
        "ud2",
        heap_init = sym __program_heap_init,
        main = sym __program_main,
    )
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    println!("panic: {}", info);
    libipc::sys::exit(101)
}
