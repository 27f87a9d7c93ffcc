//! The kernel's data structures, kept apart from the kernel so they run and
//! are tested on the host (as Hubris's `kerncore`): the kernel crate only
//! builds for bare metal.
//!
//! - [`slab`]: object tables whose ids carry a generation, so a slot can be
//!   reused without a stale id ever naming the new occupant.
//! - [`cap`]: a process's capability table.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod cap;
pub mod slab;
