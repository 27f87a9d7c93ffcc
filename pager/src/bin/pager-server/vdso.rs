//! The special mappings every process gets: the clock page (`[vvar]`),
//! the kernel's frame, mapped read-only (the kernel refuses more), and the
//! vDSO (`[vdso]`, the ramdisk file `vdso` that `boot` builds), whose code
//! reads it.
//!
//! `pager::layout` places both VMAs where ASLR says; here their pages get
//! frames. The clock page's frame is shared and never freed (the server's
//! `free_frame` skips it). The vDSO's pages are copied for each process:
//! a process that writes its copy (after mprotect, as a debugger does) or
//! unmaps it hurts nobody else.

use alloc::{format, string::String};

use libipc::{
    kernel::{ENOSYS, SyscallReply},
    types::{PAGE_SIZE, Sender, VirtAddr},
};
use pager::{layout::VDSO_PAGES, space::AddressSpace, vma::VmaName};

use crate::serve::Server;

/// A Linux system-call number no Linux assigns, answered with the calling
/// thread's count of kernel entries (`ThreadEntries`): how the tests show
/// that a clock read through the vDSO enters no kernel. On Linux it is
/// ENOSYS.
pub(crate) const NR_KERNEL_ENTRIES: u64 = 511;

/// The answer to [`NR_KERNEL_ENTRIES`].
pub(crate) fn kernel_entries(sender: Sender) -> SyscallReply {
    match libipc::sys::thread_entries(sender.tid) {
        Ok(n) => SyscallReply::value(n),
        Err(_) => SyscallReply::error(ENOSYS),
    }
}

impl Server {
    /// The vDSO image, if the ramdisk has a usable one: an ELF shared
    /// object that fits its pages (checked by `boot` when it links it).
    pub(crate) fn vdso_image(&self) -> Option<&'static [u8]> {
        let (_, bytes) = self.ramdisk.find("vdso")?;
        (bytes.len() as u64 <= VDSO_PAGES * PAGE_SIZE && bytes.starts_with(b"\x7fELF")).then_some(bytes)
    }

    /// Gives a new space its clock page (the kernel's frame as the first
    /// page of `[vvar]`, `layout::VVAR_PAGES` pages below `[vdso]`, as on
    /// Linux) and its own copy of the vDSO. Returns whether the vDSO is in
    /// (`AT_SYSINFO_EHDR` may point at it).
    pub(crate) fn install_vdso(&mut self, space: &mut AddressSpace) -> Result<bool, String> {
        let start_of = |name: VmaName| space.vmas().iter().find(|v| v.name == name).map(|v| v.start);
        let (vvar, vdso) = (start_of(VmaName::Vvar), start_of(VmaName::Vdso));
        if let (Some(frame), Some(start)) = (self.window.vvar(), vvar) {
            space
                .commit(VirtAddr(start), frame)
                .map_err(|e| format!("the clock page at {start:#x}: {e:?}"))?;
        }
        let (Some(image), Some(start), Some(_)) = (self.vdso_image(), vdso, self.window.vvar()) else {
            return Ok(false);
        };
        for (i, chunk) in image.chunks(PAGE_SIZE as usize).enumerate() {
            let frame = self.frames.alloc().ok_or("out of frames for the vDSO")?;
            let bytes = self.window.frame_mut(frame);
            bytes.fill(0);
            bytes[..chunk.len()].copy_from_slice(chunk);
            let page = start + i as u64 * PAGE_SIZE;
            if let Err(e) = space.commit(VirtAddr(page), frame) {
                let _ = self.frames.free(frame);
                return Err(format!("the vDSO at {page:#x}: {e:?}"));
            }
        }
        Ok(true)
    }
}
