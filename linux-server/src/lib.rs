//! The Linux personality server: the system calls of Linux programs that
//! are not memory calls.
//!
//! The kernel forwards every system call of a Linux process as a register
//! message ([`libipc::abi::MessageKind::Syscall`]: the number as the
//! label, arguments 0 to 3 in the words, 4 and 5 beside them) to one of
//! two handlers its routes name: the pager (memory calls, exit, signals a
//! process sends itself) or this server, the service `linux`, for
//! everything else. The answer is a [`libipc::kernel::SyscallReply`]
//! (rax, and an FS or GS base for arch_prctl, or a wake-up time for a
//! sleep). While it holds a call's reply right, the server reads and
//! writes the caller's memory with `LeaseRead`/`LeaseWrite` (the whole
//! user half is lent, addressed by address), impersonates the caller
//! toward procfs so procfs checks the caller's token, and asks the pager
//! ([`libipc::linux`]) who a process is, to map a page of the caller's
//! before a copy, to open a ramdisk file, and which file a descriptor
//! names (the pager answers mmap of it).
//!
//! Protocol, in one table:
//!
//! | message | answer |
//! |---|---|
//! | `Syscall` from a Linux process | `SyscallReply` in registers |
//! | a short message | `ShortMessage` with label [`libipc::short::UNSUPPORTED_LABEL`] |
//! | a byte message | an empty byte reply |
//!
//! The logic lives here as plain, host-tested Rust ([`personality`],
//! [`path`], [`fds`], [`layout`]); the binary only moves bytes between the
//! kernel and it ([`host::Host`]).
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod errno;
pub mod fds;
pub mod host;
pub mod layout;
pub mod nr;
pub mod path;
pub mod personality;
