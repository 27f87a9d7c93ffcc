//! The special mappings every process gets: the clock page (`[vvar]`),
//! the kernel's frame, mapped read-only (the kernel refuses more), and the
//! vDSO (`[vdso]`), whose code reads it.
//!
//! `pager::layout` places both VMAs where ASLR says; here their pages get
//! frames. The clock page's frame is shared and never freed (the server's
//! `free_frame` skips it).

use alloc::{format, string::String};

use libipc::types::VirtAddr;
use pager::{space::AddressSpace, vma::VmaName};

use crate::serve::Server;

impl Server {
    /// Gives a new space its clock page: the kernel's frame as the first
    /// page of `[vvar]` (the vDSO finds it `layout::VVAR_PAGES` pages below
    /// itself, as on Linux).
    pub(crate) fn install_vdso(&mut self, space: &mut AddressSpace) -> Result<(), String> {
        let Some(frame) = self.window.vvar() else {
            return Ok(());
        };
        let Some(start) = space.vmas().iter().find(|v| v.name == VmaName::Vvar).map(|v| v.start) else {
            return Ok(());
        };
        space
            .commit(VirtAddr(start), frame)
            .map_err(|e| format!("the clock page at {start:#x}: {e:?}"))
    }
}
