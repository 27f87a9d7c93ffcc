//! The Linux system calls the kernel forwards to the pager (the process's
//! routes send it the memory and life-cycle calls): each is answered with
//! a [`SyscallReply`], or ends the process.
//!
//! Work in progress: exit and exit_group are served; the memory calls and
//! the rest of the personality come with the Linux-programs issue. Any call
//! not served returns ENOSYS and logs one line naming it, so a user sees
//! what is missing.

use libipc::{
    kernel::{ENOSYS, SyscallInfo, SyscallReply},
    sys,
    types::Sender,
};

use crate::{log::plog, serve::Server};

/// Linux x86-64 system-call numbers the pager serves.
pub mod nr {
    pub const EXIT: u64 = 60;
    pub const EXIT_GROUP: u64 = 231;
}

impl Server {
    /// Serves one forwarded system call; `None` when the caller is gone
    /// (its process ended), so nobody is to be answered.
    pub(crate) fn linux_syscall(&mut self, sender: Sender, call: SyscallInfo) -> Option<SyscallReply> {
        match call.number {
            nr::EXIT | nr::EXIT_GROUP => {
                // One thread per process today: both end the process.
                let code = i64::from(call.args[0] as i32 & 0xff);
                if let Err(e) = sys::space_destroy(sender.pid) {
                    plog!(Error, "cannot end process {}: {e:?}", sender.pid.0);
                }
                self.exited(sender.pid, code);
                None
            }
            number => {
                plog!(
                    Warn,
                    "process {}: system call {number} is not implemented (ENOSYS)",
                    sender.pid.0
                );
                Some(SyscallReply::error(ENOSYS))
            }
        }
    }
}
