//! The pager server: the first user task. It owns the frame pool the kernel
//! handed it, loads the programs named on the command line from the
//! ramdisk, and serves their faults and memory requests. Every decision is
//! made by the policy library (`pager::`); this binary only moves data
//! between the kernel, the library and the frames.
//!
//! It is also the launcher: it creates its own endpoint and each service's
//! (`service=` on the boot line), and gives every process it starts a send
//! capability to the pager (slot [`libipc::abi::caps::PAGER`]) and to each
//! service, and each service the receive right of its own endpoint
//! ([`libipc::abi::caps::SERVICE`]); it keeps no receive right but its
//! own, so a service's endpoint dies with the service.
//!
//! Protocol: programs send a [`libipc::pager::Request`] through their pager
//! capability and get a [`libipc::pager::Response`], in
//! registers (`CallShort`) when the request fits, else as postcard bytes
//! (`Call`); the kernel reports faults and exits on the same endpoint as
//! register messages ([`libipc::kernel::KernelEvent`]), and a fault is
//! answered with a [`libipc::kernel::FaultReply`] (one mapping in the
//! reply's registers, or a batch the reply points to).
//!
//! The procfs service, and only the one this pager launched, asks about
//! processes with `Request::Source` ([`libipc::procfs::SourceRequest`], the
//! table is there; answered in `introspect`): identity, layout, VMAs, pages
//! and memory. VMAs come in batches found by address with one O(log n)
//! lookup, written into a buffer the procfs server lends with the call
//! (`VmaQuestion`, a fixed-layout message rather than a `Request`), so a
//! walk of `n` VMAs costs `n / 64` calls.
#![no_std]
#![no_main]

extern crate alloc;

mod identity;
mod introspect;
mod linux;
mod log;
mod options;
mod profile;
mod ramdisk;
mod reclaim;
mod recorder;
mod serve;
mod vdso;
mod window;

use libipc::abi::{ExitStatus, PagerBootInfo, pager_layout};

/// The pager's heap holds the VMA trees and page tables of every process; it
/// lives in `.bss`, which the kernel maps before the pager runs.
const HEAP_BYTES: usize = 48 << 20;

runtime::entry!(main, heap = HEAP_BYTES);

fn main(arg: u64) -> i64 {
    if arg != pager_layout::BOOT_INFO {
        runtime::println!("pager: started without boot information");
        libipc::sys::shutdown(ExitStatus::Failure);
    }
    // SAFETY: the kernel maps the boot information read-only at BOOT_INFO
    // before we run and passes that address as our argument.
    let info = unsafe { (arg as *const PagerBootInfo).read() };
    if info.magic != PagerBootInfo::MAGIC {
        runtime::println!("pager: boot information has the wrong magic");
        libipc::sys::shutdown(ExitStatus::Failure);
    }
    let endpoint = match libipc::sys::endpoint_create() {
        Ok(slot) => slot,
        Err(e) => {
            runtime::println!("pager: cannot create its endpoint: {e:?}");
            libipc::sys::shutdown(ExitStatus::Failure);
        }
    };
    let status = match serve::Server::new(&info, endpoint) {
        Ok(mut server) => server.run(),
        Err(e) => {
            runtime::println!("pager: cannot start: {e}");
            ExitStatus::Failure
        }
    };
    libipc::sys::shutdown(status)
}
