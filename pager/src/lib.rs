//! The pager's policy: everything it decides, as plain safe `no_std` +
//! `alloc` Rust with no kernel dependency, tested on the host.
//!
//! - [`vma`]: VMAs and the ordered set (O(log n) lookup, split, merge; a gap
//!   index for O(log n) placement), max_map_count.
//! - [`space`]: an address space with Linux's mmap, munmap, mprotect, brk,
//!   sbrk, stack growth with the guard gap, resource limits, and the fault
//!   decision.
//! - [`layout`]: a program's initial address space (segments, heap, stack,
//!   `[vdso]`, `[vvar]`).
//! - [`aslr`], [`rng`]: randomization modes, ranges and the seeded CSPRNG.
//! - [`settings`]: the sysctl-like registry; [`rlimit`]: resource limits.
//! - [`policy`] and [`policies`]: the alternate policies, chosen by name.
//! - [`frames`]: the pool of physical frames the kernel hands the pager.
//! - [`trace`]: the text format of the host-mode replay tool.
//!
//! The server binary (`src/bin/pager-server/`) and the host mode
//! (`src/bin/pager-host.rs`) are thin shells: they move bytes between the
//! kernel (or a socket), this library and the frames.
//!
//! The server's loop, in terms of this API:
//! ```text
//! fault(addr, access)      -> space.fault(&*policy, addr, access)
//!   Map(pages)             -> for each: frame = pool.alloc(); fill; space.commit(page, frame)
//!   Kill(reason)           -> reply Kill, free space.frames()
//! mmap/munmap/mprotect/brk -> space.mmap(..) / munmap / mprotect / brk: Dropped pages are
//!                             unmapped in the kernel and their frames freed
//! ```
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod aslr;
pub mod frames;
#[cfg(feature = "host")]
pub mod host;
pub mod layout;
pub mod maps;
pub mod policies;
pub mod policy;
pub mod rlimit;
pub mod rng;
pub mod settings;
pub mod space;
pub mod trace;
pub mod vma;
