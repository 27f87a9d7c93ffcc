//! The IPC protocol of the system, shared by the kernel, the servers and
//! programs.
//!
//! - [`abi`]: the system-call interface: numbers, register conventions,
//!   error codes. The kernel and every user program agree on it.
//! - [`types`]: newtypes that carry meaning across the boundary (addresses,
//!   identities, access kinds).
//! - [`short`]: register messages, the IPC fast path.
//! - [`kernel`]: the messages the kernel itself speaks: fault events sent to
//!   a pager and the pager's fault replies, which the kernel validates.
//! - [`pager`]: the pager's protocol with programs (mmap, munmap, ...).
//! - [`linux`]: the Linux personality server's questions to the pager.
//! - [`codec`]: postcard encoding into bounded buffers. Decoding never
//!   panics: malformed, truncated or oversized input is a [`codec::DecodeError`].
//! - [`vsyscall`]: the legacy vsyscall page: its address, modes and code.
//! - [`sys`] (bare-metal only): the raw system calls; the kernel transport.
//! - [`host`] (feature `std`): the host transport over Unix sockets, so a
//!   server runs as an ordinary process in tests.
#![cfg_attr(not(any(test, feature = "std")), no_std)]

extern crate alloc;

pub mod abi;
pub mod codec;
#[cfg(feature = "std")]
pub mod host;
pub mod kernel;
pub mod linux;
pub mod pager;
pub mod procfs;
pub mod short;
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
pub mod sys;
pub mod transport;
pub mod types;
pub mod vsyscall;

pub use codec::{DecodeError, EncodeError, MAX_MESSAGE};
