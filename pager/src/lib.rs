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
//! - [`exec`]: starting a static Linux program: its ELF headers checked,
//!   its placement, and the initial stack (argv, envp, auxv) as Linux
//!   lays it out.
//! - [`aslr`], [`rng`]: randomization modes, ranges and the seeded CSPRNG.
//! - [`settings`]: the sysctl-like registry; [`rlimit`]: resource limits.
//! - [`policy`]: the [`policy::Policy`] trait the policy crates
//!   (`policies/NAME/`) implement, and the registry lookup.
//! - [`linux`]: the Linux personality's memory calls (mmap, munmap,
//!   mprotect, brk, mremap, madvise, mincore, msync, the mlock family,
//!   getrlimit/setrlimit/prlimit64) with Linux's numbers and errnos, in one
//!   function, [`linux::memory_call`].
//! - [`effects`]: what a served call leaves for the shell to do (unmap,
//!   re-map, move, populate, copy out), shared by [`request`] and [`linux`].
//! - [`frames`]: the pool of physical frames the kernel hands the pager.
//! - [`maps`]: `/proc/<pid>/maps` lines.
//! - [`trace`]: the text format of the host-mode replay tool.
//! - [`resolve`]: carrying out a fault decision (frames, fills, commits,
//!   mappings), one function for the server and the host.
//! - [`record`]: traces recorded from real runs (a versioned header, pid
//!   and time per line, the decisions); [`replay`]: replaying them under
//!   the recorded policy (checked) or another (compared).
//! - [`exec_list`]: the ramdisk's list of Linux programs to run;
//!   [`exit_status`]: how they ended (signals as Linux sends them) and the
//!   report line the runner reads.
//! - `host` (feature `host`): the host mode's protocol and per-process
//!   session, served by `pager-host` and driven by `pager-replay`.
//!
//! The server binary and the host mode (the `pager-server` crate's
//! `pager-server` and `pager-host`) are thin shells: they move bytes between the
//! kernel (or a socket), this library and the frames.
//!
//! The server's loop, in terms of this API:
//! ```text
//! start:    pool = FramePool::from_ranges(..) (or ::new(base, frames))
//!           policy = (policy::find(pager_policies::POLICIES, name)?.new)(); policy.adjust_settings(&mut settings)
//!           rng = Rng::from_words(policy.seed(kernel_random_words))
//!           program = exec::elf::parse(bytes)? (a checked Program, or an ExecError)
//!           native:  layout::load(&program.image(file, path), &settings, rlimits, &mut rng)
//!             -> Loaded { space, entry, stack_pointer, stack_top, load_bias, stack_shift }
//!           Linux:   exec::exec(&program, path, &ExecRequest { argv, envp, .. }, &settings, rlimits, &mut rng)
//!             -> Exec { space, entry, stack: InitialStack { sp, top, bytes, .. }, load_bias }
//! fault:    space.fault(&mut *process_policy, addr, access) -> FaultDecision
//!             Map(pages): faulting page first, then (fault-around) up to 15 more
//!               non-resident pages of the same VMA; each PageToMap { virt, prot, fill }:
//!               Fill::Zero | Fill::File { file, offset, len } (copy len bytes, zero
//!               the rest) | Fill::Resident(frame) (map that frame again)
//!               -> resolve::carry_out(&mut space, &pages, &mut backend): a frame
//!                  from backend.alloc() for each new page, backend.fill, one
//!                  space.commit_pages, backend.map (a refused page's frame is
//!                  freed, not mapped; no frame at all: OutOfMemory)
//!             Kill(reason): NoMapping | Protection | GuardGap | Limit
//! requests: space.mmap(MmapArgs)  -> (addr, Vec<Dropped>)   MAP_FIXED replaced pages
//!           space.munmap(a, len)  -> Vec<Dropped>           unmap + pool.free each
//!           space.mprotect(..)    -> Vec<Reprotected>       re-map with new flags
//!           space.brk(a)          -> (break, Vec<Dropped>)  never an errno
//!           space.sbrk(delta), space.setrlimit(..), space.getrlimit(..)
//! linux:    linux::memory_call(&mut space, &caller, &mut user, nr, args)
//!             -> Outcome { rax, effects }: carry out effects.dropped, .reprotected,
//!             .moved (unmap from, map frame at to), .advised (space.advise_policy(
//!             &mut *process_policy, a) -> Option<Populate>, joins .populate), .populate (space.populate(s, e)
//!             -> PageToMap list, as a fault's), .copy_out (bytes into the caller),
//!             then reply rax
//! exit:     for frame in space.frames() { pool.free(frame) }
//! smaps:    space.vmas().iter(): Vma { start, end, prot, .., resident_frames() }
//! ```
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod aslr;
pub mod effects;
pub mod exec;
pub mod exec_list;
pub mod exit_status;
pub mod frames;
#[cfg(feature = "host")]
pub mod host;
pub mod introspect;
pub mod layout;
pub mod linux;
pub mod maps;
pub mod policy;
pub mod record;
pub mod replay;
pub mod request;
pub mod resident;
pub mod resolve;
pub mod rlimit;
pub mod rng;
pub mod settings;
pub mod space;
pub mod trace;
pub mod vma;
