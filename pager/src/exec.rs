//! Starting an unmodified static Linux program: the policy half of execve.
//!
//! - [`elf`]: the file's headers, checked, as a [`Program`] (or an
//!   [`ExecError`] naming what is wrong; the pager logs it and lives on).
//! - [`layout`](crate::layout) places it: a non-PIE program at its linked
//!   addresses, a static-PIE at the base ASLR chooses (fixed in modes 0 and
//!   1, random in mode 2, see [`aslr`](crate::aslr)); the heap after the
//!   highest segment (random in mode 2). The page holding the end of a
//!   segment's file data reads zeros past it (`Backing::File { data_end }`),
//!   which zeroes a partial-page bss as Linux's `padzero` does.
//! - [`auxv`] and [`stack`]: the initial stack as Linux's
//!   `create_elf_tables` writes it: argc, argv, envp, the auxiliary
//!   vector, the strings, with Linux's argument limits (E2BIG).
//! - [`exec()`] puts them together: the address space with its stack VMA
//!   sized for the image (plus Linux's 128 KiB head room) and executable
//!   only if PT_GNU_STACK says so, the entry point, and the bytes the
//!   server copies to `[sp, top)` before starting the thread.
//!
//! Programs with PT_INTERP are refused: there is no dynamic linker yet.
//! The project's native programs do not come here: they are started with
//! [`layout::load`](crate::layout::load) and one argument in `rdi`.

pub mod auxv;
pub mod elf;
mod error;
pub mod stack;

use alloc::string::String;

use libipc::types::{PAGE_SIZE, VirtAddr};

pub use self::{
    auxv::Credentials,
    elf::{Position, Program, StackRight},
    error::{E2BIG, ENOEXEC, ExecError, HeaderTableProblem, SegmentProblem},
    stack::InitialStack,
};
use crate::{
    layout,
    rlimit::Rlimits,
    rng::Rng,
    settings::Settings,
    space::{AddressSpace, page_down},
    vma::{Backing, FileId, Vma, VmaName},
};

/// Room Linux leaves below the initial stack image (`setup_arg_pages`'s
/// `stack_expand`), within RLIMIT_STACK.
pub const STACK_EXPAND: u64 = 128 << 10;

/// What the caller of execve supplies, beyond the file.
#[derive(Clone, Copy, Debug)]
pub struct ExecRequest<'a> {
    pub argv: &'a [&'a [u8]],
    pub envp: &'a [&'a [u8]],
    /// The path execve was given (`AT_EXECFN`).
    pub execfn: &'a [u8],
    /// The file's id for demand paging.
    pub file: FileId,
    /// The identity from the process's token.
    pub credentials: Credentials,
    /// `AT_HWCAP` (CPUID leaf 1 EDX) and `AT_HWCAP2`.
    pub hwcap: u64,
    pub hwcap2: u64,
    /// `AT_MINSIGSTKSZ`, once signals are delivered.
    pub minsigstksz: Option<u64>,
    /// The `[vdso]` VMA holds a vDSO: `AT_SYSINFO_EHDR` points at it.
    pub vdso: bool,
}

/// A program ready to start: its thread begins at `entry` with
/// `rsp = stack.sp`, every other register zero, once `stack.bytes` are
/// copied to `[stack.sp, stack.top)`.
#[derive(Clone, Debug)]
pub struct Exec {
    pub space: AddressSpace,
    pub entry: VirtAddr,
    pub stack: InitialStack,
    /// Added to the program's link-time addresses (0 unless static-PIE).
    pub load_bias: u64,
}

/// Builds the address space and initial stack of `program`; `path` is
/// what `/proc/<pid>/maps` shows for its segments.
pub fn exec(
    program: &Program,
    path: String,
    req: &ExecRequest,
    settings: &Settings,
    rlimits: Rlimits,
    rng: &mut Rng,
) -> Result<Exec, ExecError> {
    if program.position == Position::Fixed {
        for (index, seg) in program.segments.iter().enumerate() {
            if page_down(seg.vaddr) < settings.mmap_min_addr {
                return Err(ExecError::BelowMinAddress {
                    index: index as u16,
                    addr: seg.vaddr,
                    min: settings.mmap_min_addr,
                });
            }
        }
    }
    let loaded = layout::load(&program.image(req.file, path), settings, rlimits, rng).map_err(ExecError::DoesNotFit)?;
    let mut random = [0u8; 16];
    random[..8].copy_from_slice(&rng.next_u64().to_le_bytes());
    random[8..].copy_from_slice(&rng.next_u64().to_le_bytes());
    let mut space = loaded.space;
    let vdso = space.vmas().iter().find(|v| v.name == VmaName::Vdso).map(|v| v.start);
    let aux = auxv::AuxValues {
        sysinfo_ehdr: vdso.filter(|_| req.vdso),
        minsigstksz: req.minsigstksz,
        hwcap: req.hwcap,
        hwcap2: req.hwcap2,
        page_size: PAGE_SIZE,
        clock_ticks: auxv::CLOCK_TICKS,
        phdr: loaded.load_bias + program.headers.vaddr.unwrap_or(0),
        phent: elf::PHDR_SIZE,
        phnum: u64::from(program.headers.count),
        base: 0,
        flags: 0,
        entry: loaded.entry.0,
        credentials: req.credentials,
        secure: false,
    };
    let stack = stack::build(&stack::StackRequest {
        argv: req.argv,
        envp: req.envp,
        execfn: req.execfn,
        platform: Some(auxv::PLATFORM),
        random,
        aux,
        top: loaded.stack_top.0,
        shift: loaded.stack_shift,
        stack_limit: rlimits.stack.soft,
    })?;
    let start = stack_start(
        stack.sp,
        stack.top,
        rlimits.stack.soft,
        layout::INITIAL_STACK_PAGES * PAGE_SIZE,
    );
    let mut vma = Vma::new(start, stack.top, program.stack.prot(), Backing::Anonymous);
    vma.grows_down = true;
    vma.name = VmaName::Stack;
    space.replace_vma(vma).map_err(ExecError::DoesNotFit)?;
    space.layout.start_stack = stack.sp;
    Ok(Exec {
        space,
        entry: loaded.entry,
        stack,
        load_bias: loaded.load_bias,
    })
}

/// The stack VMA's start: the image's pages, [`STACK_EXPAND`] more but
/// no more than RLIMIT_STACK allows, and at least the usual initial size.
fn stack_start(sp: u64, top: u64, limit: u64, initial: u64) -> u64 {
    let image = page_down(sp);
    let wanted = image
        .saturating_sub(STACK_EXPAND)
        .max(top.saturating_sub(limit) & !(PAGE_SIZE - 1));
    wanted.min(image).min(top - initial)
}

#[cfg(test)]
mod tests;
