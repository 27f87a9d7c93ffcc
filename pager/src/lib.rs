//! The pager's policy: everything it decides, as plain safe `no_std` +
//! `alloc` Rust with no kernel dependency, tested on the host.
//!
//! - [`vma`]: VMAs and the ordered set (O(log n) lookup, split, merge; a gap
//!   index for O(log n) placement), max_map_count.
//! - [`space`]: an address space with Linux's mmap, munmap, mprotect, brk,
//!   sbrk, stack growth with the guard gap, resource limits, and the fault
//!   decision.
//! - [`layout`]: a program's initial address space (segments, heap, stack,
//!   `[vdso]`, `[vvar]`) from plain program-header data.
//! - [`aslr`], [`rng`]: randomization modes, ranges and the seeded CSPRNG.
//! - [`settings`]: the sysctl-like registry; [`rlimit`]: resource limits.
//! - [`policy`] and [`policies`]: the alternate policies, chosen by name.
//! - [`frames`]: the pool of physical frames the kernel hands the pager.
//! - [`maps`]: `/proc/<pid>/maps` lines.
//! - [`trace`]: the text format of the host-mode replay tool.
//! - [`exec_list`]: the ramdisk's list of Linux programs to run;
//!   [`exit_status`]: how they ended (signals as Linux sends them) and the
//!   report line the runner reads.
//! - `host` (feature `host`): the host mode's protocol and per-process
//!   session, served by `pager-host` and driven by `pager-replay`.
//!
//! The server binary (`src/bin/pager-server/`) and the host mode
//! (`src/bin/pager-host.rs`) are thin shells: they move bytes between the
//! kernel (or a socket), this library and the frames.
//!
//! The server's loop, in terms of this API:
//! ```text
//! start:    pool = FramePool::from_ranges(..) (or ::new(base, frames))
//!           policy = policy::by_name(name)?; policy.adjust_settings(&mut settings)
//!           rng = Rng::from_words(policy.seed(kernel_random_words))
//!           layout::load(&ProgramImage { pie, entry, segments, file, path }, &settings, rlimits, &mut rng)
//!             -> Loaded { space, entry, stack_pointer, stack_top, load_bias }
//! fault:    space.fault(&*policy, addr, access) -> FaultDecision
//!             Map(pages): faulting page first, then (fault-around) up to 15 more
//!               non-resident pages of the same VMA; each PageToMap { virt, prot, fill }:
//!               Fill::Zero | Fill::File { file, offset, len } (copy len bytes, zero
//!               the rest) | Fill::Resident(frame) (map that frame again)
//!               -> frame = pool.alloc(); fill; space.commit(virt, frame)?
//!                  (on CommitError: free the frame, do not map it)
//!             Kill(reason): NoMapping | Protection | GuardGap | Limit
//! requests: space.mmap(MmapArgs)  -> (addr, Vec<Dropped>)   MAP_FIXED replaced pages
//!           space.munmap(a, len)  -> Vec<Dropped>           unmap + pool.free each
//!           space.mprotect(..)    -> Vec<Reprotected>       re-map with new flags
//!           space.brk(a)          -> (break, Vec<Dropped>)  never an errno
//!           space.sbrk(delta), space.setrlimit(..), space.getrlimit(..)
//! exit:     for frame in space.frames() { pool.free(frame) }
//! smaps:    space.vmas().iter(): Vma { start, end, prot, .., resident_frames() }
//! ```
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod aslr;
pub mod exec_list;
pub mod exit_status;
pub mod frames;
#[cfg(feature = "host")]
pub mod host;
pub mod layout;
pub mod maps;
pub mod policies;
pub mod policy;
pub mod request;
pub mod resident;
pub mod rlimit;
pub mod rng;
pub mod settings;
pub mod space;
pub mod trace;
pub mod vma;
