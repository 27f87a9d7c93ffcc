//! The procfs server core: `/proc/<pid>/{maps,smaps,smaps_rollup,pagemap,mem}`
//! behind Windows-style access checks.
//!
//! This crate is the host-testable core; the server binary (on the kernel)
//! wraps [`server::Server`] in a receive loop and an IPC client of the pager.
//!
//! # Protocol
//!
//! Programs `Call` their procfs capability ([`libipc::abi::caps::PROCFS`]) with a
//! [`libipc::procfs::Request`] and get a [`libipc::procfs::Response`]:
//!
//! | request | success | errors |
//! |---|---|---|
//! | `Read { pid, file, offset, len }` | `Data(bytes)`: at most `len`; fewer is a short read, none is end of file | `TooLarge` (`len` > [`libipc::procfs::MAX_INLINE_DATA`]), `NoSuchProcess`, `AccessDenied`, `InvalidArgument` (pagemap offset or length not a multiple of 8; mem offset >= 2^63), `Io` (mem: first byte unmapped), `Unavailable` (pager) |
//! | `Write { pid, file, offset, data }` | `Written(n)`: fewer than sent is a short write | `NotWritable` (any file but mem), `NoSuchProcess`, `AccessDenied`, `InvalidArgument`, `Io` (first byte unmapped or in a read-only shared mapping), `Unavailable` |
//! | `ReadLeased { pid, file, offset, len }` with a writable lease | `Leased(n)`: `n` bytes written at the start of the lease | as `Read`, with `len` up to [`libipc::procfs::MAX_LEASED`]; `InvalidArgument` when the lease is missing, read-only or too small |
//! | `WriteLeased { pid, file, offset, len }` with a lease | `Leased(n)`: fewer than `len` if the lease ends early | as `Write`; `InvalidArgument` when not even the first chunk can be read from the lease |
//! | [`libipc::procfs::LeasedRead`] (`ReadLeased` as fixed fields, what `runtime::procfs::read_leased` sends) with a writable lease | its fixed answer: `n`, or the error | as `ReadLeased`; `Malformed` when the fields do not decode |
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
//! [`server::Server::handle_leased`] through the [`io::Lease`] trait
//! (kernel lease calls at an offset in the server binary, a buffer in
//! tests), one [`io::LEASE_CHUNK`] at a time.
//!
//! The server asks the pager ([`libipc::procfs::SourceRequest`]; the
//! protocol table is in [`libipc::procfs`]) for the identities of a
//! request's parties (caller, client, target: one call, in registers), for
//! VMAs in batches by address with the layout (up to 64 per call, and no
//! more than the read has room to show; a fixed-layout
//! [`libipc::procfs::VmaQuestion`] and answer, and fixed-layout records in
//! a lease the server lends the pager), for the layout alone (pagemap), for pages in batches
//! of up to 512 (24-byte records in a lease, read ahead over the VMAs that
//! follow: [`source::PageAhead`], so smaps, smaps_rollup and pagemap ask
//! once per 512 resident pages, not once per VMA), and for memory (mem's
//! output window or input chunk lent to the pager, which copies each page
//! between its frame and the lease: one call per window, not per 384
//! bytes). A maps read is thus two pager calls plus one per further batch.
//!
//! # Memory and cost
//!
//! A request holds at most [`MAX_REQUEST_HEAP`] bytes of heap (32 KiB),
//! whatever the target's VMA and page counts and the read's length: one
//! batch of VMAs, one record (a maps line or an smaps block) being
//! formatted, and one lease chunk. The batch, the record and the chunk are
//! the server's, kept from one request to the next
//! ([`stream::Buffers`]) so a short read allocates nothing; the server
//! binary adds one buffer of [`libipc::procfs::VMA_LEASE_BYTES`] for the
//! pager's VMA batches and one of [`libipc::procfs::PAGE_LEASE_BYTES`] for
//! its page batches, allocated once; a walk's [`source::PageAhead`] holds
//! one decoded page batch (16 KiB) on the stack. Files are produced as Linux's seq_file
//! produces them
//! ([`stream`]): record by record, skipping the bytes before the offset,
//! straight into the caller's buffer or lease. A read that continues where
//! the same reader's previous read of the file ended resumes from a cursor
//! ([`cursor`]): it costs one lookup plus the bytes it returns; a read
//! anywhere else walks from the start with the same bounded memory and
//! returns the same bytes. Tested in `tests/bounded.rs` (a counting
//! allocator around every file of a 100,000-VMA process with 1.4 million
//! resident pages) and against the whole-file model in `src/tests/stream.rs`.
//!
//! # Modules
//!
//! Security model: [`sid`], [`token`], [`access`], [`descriptor`],
//! [`check`], [`processes`], [`files`]. Data: [`source`] (the pager behind
//! the [`source::AddressSpaceSource`] trait, walked in batches),
//! [`format`] (Linux's formats byte for byte, a record at a time),
//! [`stream`] (the files put together in bounded memory), [`cursor`],
//! [`mem`], [`io`]. Dispatch: [`server`].
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

/// The most heap one request holds at once (see the crate doc): a batch of
/// [`libipc::procfs::MAX_VMAS_PER_BATCH`] VMAs (about 19 KiB), a record of
/// at most 2 KiB and an [`io::LEASE_CHUNK`], with room to spare.
pub const MAX_REQUEST_HEAP: usize = 32 * 1024;

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
