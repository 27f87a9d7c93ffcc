//! The procfs server core: `/proc/<pid>/{maps,smaps,smaps_rollup,pagemap,mem}`
//! behind Windows-style access checks.
//!
//! This crate is the host-testable core; the server binary (on the kernel)
//! wraps [`server::Server`] in a receive loop and an IPC client of the pager.
//!
//! # Protocol
//!
//! Programs `Call` [`libipc::abi::PROCFS_ENDPOINT`] with a
//! [`libipc::procfs::Request`] and get a [`libipc::procfs::Response`]:
//!
//! | request | success | errors |
//! |---|---|---|
//! | `Read { pid, file, offset, len }` | `Data(bytes)`: at most `len`; fewer is a short read, none is end of file | `TooLarge` (`len` > [`libipc::procfs::MAX_INLINE_DATA`]), `NoSuchProcess`, `AccessDenied`, `InvalidArgument` (pagemap offset or length not a multiple of 8; mem offset >= 2^63), `Io` (mem: first byte unmapped), `Unavailable` (pager) |
//! | `Write { pid, file, offset, data }` | `Written(n)`: fewer than sent is a short write | `NotWritable` (any file but mem), `NoSuchProcess`, `AccessDenied`, `InvalidArgument`, `Io` (first byte unmapped or in a read-only shared mapping), `Unavailable` |
//! | `ReadLeased { pid, file, offset, len }` with a writable lease | `Leased(n)`: `n` bytes written at the start of the lease | as `Read`, with `len` up to [`libipc::procfs::MAX_LEASED`]; `InvalidArgument` when the lease is missing or too small |
//! | `WriteLeased { pid, file, offset, len }` with a lease | `Leased(n)` | as `Write` |
//! | bytes that do not decode | - | `Malformed` |
//!
//! `pid` is [`libipc::procfs::PidSelector`]: `Self_` (`/proc/self`) or a
//! pid. It names the target only: the caller is the kernel's sender stamp.
//! Offsets are byte offsets in the text files, `vpn * 8` in pagemap and
//! virtual addresses in mem. The check order (see [`server`]) puts the
//! access check before any question to the pager.
//!
//! Bulk data moves through memory the caller lends for one call (a kernel
//! lease, [`libipc::abi::LeaseDesc`]): the `*Leased` requests, answered by
//! [`server::Server::handle_leased`] through the [`server::Lease`] trait
//! (kernel lease calls in the server binary, a buffer in tests).
//!
//! # Modules
//!
//! Security model: [`sid`], [`token`], [`access`], [`descriptor`],
//! [`check`], [`processes`], [`files`]. Data: [`source`] (the pager behind
//! the [`source::AddressSpaceSource`] trait), [`format`] (Linux's formats
//! byte for byte), [`mem`]. Dispatch: [`server`].
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod access;
pub mod check;
pub mod cursor;
pub mod descriptor;
pub mod files;
pub mod format;
pub mod io;
pub mod mem;
pub mod processes;
pub mod server;
pub mod sid;
pub mod source;
pub mod stream;
pub mod token;

#[cfg(test)]
mod tests;
