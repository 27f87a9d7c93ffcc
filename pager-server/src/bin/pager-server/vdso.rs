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
    abi::pager_layout::VVAR,
    kernel::{ENOSYS, FaultInfo, FaultKind, FaultReply, KillReason, SyscallReply},
    short::ShortMessage,
    types::{Access, PAGE_SIZE, Pid, Prot, Sender, VirtAddr},
    vsyscall,
};
use pager::{layout::VDSO_PAGES, resident::Frame, space::AddressSpace, vma::VmaName};
use vvar::{ClockId, Timespec, VvarData};

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
                .commit(VirtAddr(start), Frame::Dirty(frame))
                .map_err(|e| format!("the clock page at {start:#x}: {e:?}"))?;
        }
        let (Some(image), Some(start), Some(_)) = (self.vdso_image(), vdso, self.window.vvar()) else {
            return Ok(false);
        };
        for (i, chunk) in image.chunks(PAGE_SIZE as usize).enumerate() {
            let frame = self.alloc_frame().ok_or("out of frames for the vDSO")?;
            let bytes = self.window.frame_mut(frame);
            bytes.fill(0);
            bytes[..chunk.len()].copy_from_slice(chunk);
            let page = start + i as u64 * PAGE_SIZE;
            if let Err(e) = space.commit(VirtAddr(page), Frame::Dirty(frame)) {
                let _ = self.frames.free(frame);
                return Err(format!("the vDSO at {page:#x}: {e:?}"));
            }
        }
        Ok(true)
    }
}

impl Server {
    /// The clock page, as the kernel maps it into the pager.
    pub(crate) fn clock(&self) -> Option<&'static VvarData> {
        self.window.vvar()?;
        // SAFETY: the kernel maps its clock page read-only at VVAR before
        // the pager starts (`window.vvar()` says it has one); VvarData is
        // all atomics, written by the kernel under its sequence counter.
        Some(unsafe { &*(VVAR as *const VvarData) })
    }

    /// A fault in the vsyscall page: `None` if it is not one. Calls to its
    /// three entry points are emulated in `emulate` and `xonly` modes, as
    /// Linux's `emulate_vsyscall`: the call is made, its results written
    /// (SIGSEGV if the caller's buffer is not writable), and the thread
    /// resumes at the return address popped from its stack. Anything else
    /// (a jump to another offset, a read in `xonly`, any use in `none`)
    /// kills with SIGSEGV.
    pub(crate) fn vsyscall_fault(&mut self, sender: Sender, info: &FaultInfo, args: [u64; 2]) -> Option<ShortMessage> {
        let FaultKind::Page { addr, access, .. } = info.kind else {
            return None;
        };
        if !(vsyscall::START..vsyscall::END).contains(&addr.0) {
            return None;
        }
        let pid = sender.pid;
        let mode = self.options.vsyscall;
        if !mode.emulates() || access != Access::Execute || info.ip != addr {
            return Some(self.kill(pid, KillReason::NoMapping, info));
        }
        let Some(reply) = self.emulate_vsyscall(pid, addr.0 - vsyscall::START, info.sp.0, args) else {
            return Some(self.kill(pid, KillReason::NoMapping, info));
        };
        Some(reply.to_message())
    }

    fn emulate_vsyscall(&mut self, pid: Pid, offset: u64, sp: u64, [a0, a1]: [u64; 2]) -> Option<FaultReply<'static>> {
        let clock = self.clock()?;
        let mut ret = [0u8; 8];
        if self.read_mem(pid, sp, &mut ret) != Ok(8) {
            return None;
        }
        let rax = match offset {
            vsyscall::GETTIMEOFDAY => {
                let now = Timespec::from_ns(clock.clock_ns(ClockId::Realtime)?);
                if a0 != 0 {
                    let mut tv = [0u8; 16];
                    tv[..8].copy_from_slice(&now.sec.to_le_bytes());
                    tv[8..].copy_from_slice(&(now.nsec / 1000).to_le_bytes());
                    self.user_store(pid, a0, &tv)?;
                }
                if a1 != 0 {
                    self.user_store(pid, a1, &[0; 8])?;
                }
                0
            }
            vsyscall::TIME => {
                let sec = Timespec::from_ns(clock.clock_ns(ClockId::RealtimeCoarse)?).sec;
                if a0 != 0 {
                    self.user_store(pid, a0, &sec.to_le_bytes())?;
                }
                sec as u64
            }
            vsyscall::GETCPU => {
                if a0 != 0 {
                    self.user_store(pid, a0, &clock.cpu().to_le_bytes())?;
                }
                if a1 != 0 {
                    self.user_store(pid, a1, &0u32.to_le_bytes())?;
                }
                0
            }
            _ => return None,
        };
        Some(FaultReply::Emulate {
            rax,
            rip: u64::from_le_bytes(ret),
            rsp: sp + 8,
        })
    }

    /// Writes an emulated call's result, if the caller may write there.
    fn user_store(&mut self, pid: Pid, addr: u64, bytes: &[u8]) -> Option<()> {
        let last = addr.checked_add(bytes.len() as u64 - 1)?;
        let writable = |at: u64| {
            self.process(pid)
                .and_then(|p| p.space.vmas().find(at).map(|v| v.prot.contains(Prot::WRITE)))
                .unwrap_or(false)
        };
        if !writable(addr) || !writable(last) {
            return None;
        }
        (self.write_mem(pid, addr, bytes) == Ok(bytes.len())).then_some(())
    }
}
