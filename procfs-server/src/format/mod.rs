//! Linux's `/proc/<pid>` formats, byte for byte.
//!
//! Each file has its own module; they share the maps line ([`mod@line`]) and
//! the naming rules ([`name`]). Formatters are pure and work one record at
//! a time (a VMA's maps line or smaps block, a pagemap entry, the rollup's
//! totals) from checked facts, so every byte is tested on the host against
//! lines from Linux; [`crate::stream`] puts the records together. Each
//! module also has the whole-file renderer the streamed files are tested
//! against (test builds only).
//!
//! Records are bytes ([`record::Record`]) and numbers are formatted by hand
//! ([`record::Scratch`]): this is the per-VMA hot path, where `core::fmt`
//! cost about 2,000 guest instructions a maps line. A new smaps field is
//! one `kb_line` call in [`smaps`] (or `write!` into the record, which
//! implements `fmt::Write`, for a field printed rarely); a new fact from the
//! pager is a field of [`libipc::procfs::VmaInfo`] or
//! [`libipc::procfs::PageFlags`], and for a VMA also a flag bit or field of
//! the lease record ([`libipc::procfs::VmaRecord`]).

pub mod line;
pub mod maps;
pub mod name;
pub mod pagemap;
pub mod record;
pub mod rollup;
pub mod smaps;

/// How the vsyscall page appears (Linux's `vsyscall=` boot option). It is
/// not a VMA of the process: Linux lists it after the last VMA in maps and
/// smaps, and nowhere else.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum VsyscallMode {
    /// No vsyscall page (`vsyscall=none`): nothing is listed. The default,
    /// since this system's programs never call it.
    #[default]
    None,
    /// Execute-only (`vsyscall=xonly`): `--xp`.
    XOnly,
    /// Readable and emulated (`vsyscall=emulate`): `r-xp`.
    Emulate,
}

/// The vsyscall page's fixed address and Linux's name for it.
pub(crate) const VSYSCALL_START: u64 = 0xffff_ffff_ff60_0000;
pub(crate) const VSYSCALL_END: u64 = VSYSCALL_START + libipc::types::PAGE_SIZE;
pub(crate) const VSYSCALL_NAME: &str = "[vsyscall]";
