//! `/proc/<pid>/smaps`: each VMA's maps line, then its memory accounting.
//!
//! Rss and Pss come from the pager's page accounting: a page mapped once
//! counts fully (Private_*); a page mapped `m >= 2` times adds `4096 / m`
//! (Shared_*), summed in fixed point with a [`PSS_SHIFT`]-bit fraction and
//! truncated when printed in kB, as Linux does. Fields this system has no
//! mechanism for (KSM, LazyFree, hugetlb, Locked) print 0. AnonHugePages
//! counts the anonymous pages the pager reports mapped by a 2 MiB entry
//! ([`PageFlags::HUGE`]).
//! `ProtectionKey` is printed, 0, when the CPU has protection keys, as
//! Linux prints it then (see [`set_protection_keys`]). The shared zero page
//! counts nowhere.

use core::sync::atomic::{AtomicBool, Ordering};

use libipc::{
    procfs::{Backing, PageFlags, PageFrame, PageInfo, Sharing, SpaceLayout, SpecialMapping, VmaInfo, VmaLabel},
    types::{PAGE_SIZE, Prot},
};

use super::{
    VSYSCALL_END, VSYSCALL_START, VsyscallMode,
    maps::{vsyscall_header, write_vma_line, write_vsyscall_line},
    record::{Record, Scratch},
};

/// Fractional bits of the Pss sums (Linux's `PSS_SHIFT`).
pub const PSS_SHIFT: u32 = 12;

/// Bytes per kB in the printed values.
const KB_SHIFT: u32 = 10;

/// Printed width of the values (Linux's `SEQ_PUT_DEC`).
const VALUE_WIDTH: usize = 8;

/// `Private_Hugetlb: ` is one character longer than the other keys, so
/// Linux prints its value one narrower to keep the column.
const HUGETLB_VALUE_WIDTH: usize = 7;

/// Sums over pages, in bytes (the Pss fields with [`PSS_SHIFT`] fraction
/// bits): Linux's `struct mem_size_stats`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemStats {
    pub resident: u64,
    pub pss: u64,
    pub pss_dirty: u64,
    pub pss_anon: u64,
    pub pss_file: u64,
    pub pss_shmem: u64,
    pub shared_clean: u64,
    pub shared_dirty: u64,
    pub private_clean: u64,
    pub private_dirty: u64,
    pub referenced: u64,
    pub anonymous: u64,
    /// Anonymous bytes in 2 MiB pages.
    pub anonymous_huge: u64,
    pub swap: u64,
    pub swap_pss: u64,
}

impl MemStats {
    /// Adds `page`, one page of `vma`. Sums saturate rather than wrap, so a
    /// confused pager can make numbers large but never small.
    pub fn account(&mut self, vma: &VmaInfo, page: &PageInfo) {
        let size = PAGE_SIZE;
        let map_count = u64::from(page.map_count.max(1));
        let pss = (size << PSS_SHIFT) / map_count;
        let add = |field: &mut u64, v: u64| *field = field.saturating_add(v);
        // The shared zero page is no page of the process's (Linux's
        // `vm_normal_page` skips it): counted nowhere.
        if page.flags.contains(PageFlags::ZERO_PAGE) {
            return;
        }
        if let PageFrame::Swapped { .. } = page.frame {
            add(&mut self.swap, size);
            add(&mut self.swap_pss, pss);
            return;
        }
        let anonymous = page.flags.contains(PageFlags::ANONYMOUS);
        add(&mut self.resident, size);
        if anonymous {
            add(&mut self.anonymous, size);
            if page.flags.contains(PageFlags::HUGE) {
                add(&mut self.anonymous_huge, size);
            }
        }
        if page.flags.contains(PageFlags::REFERENCED) {
            add(&mut self.referenced, size);
        }
        add(&mut self.pss, pss);
        if anonymous {
            add(&mut self.pss_anon, pss);
        } else if vma.backing == Backing::Anonymous {
            // Shared anonymous memory is shared memory (Linux's shmem).
            add(&mut self.pss_shmem, pss);
        } else {
            add(&mut self.pss_file, pss);
        }
        let private = map_count < 2;
        if page.flags.contains(PageFlags::DIRTY) {
            add(&mut self.pss_dirty, pss);
            add(
                if private {
                    &mut self.private_dirty
                } else {
                    &mut self.shared_dirty
                },
                size,
            );
        } else {
            add(
                if private {
                    &mut self.private_clean
                } else {
                    &mut self.shared_clean
                },
                size,
            );
        }
    }

    /// Appends the value lines from `Rss` to `Locked`; `rollup` adds the
    /// Pss split that only smaps_rollup prints.
    pub fn write_body(&self, out: &mut Record, rollup: bool) {
        let pss = |v: u64| v >> PSS_SHIFT;
        kb_line(out, "Rss:            ", self.resident);
        kb_line(out, "Pss:            ", pss(self.pss));
        kb_line(out, "Pss_Dirty:      ", pss(self.pss_dirty));
        if rollup {
            kb_line(out, "Pss_Anon:       ", pss(self.pss_anon));
            kb_line(out, "Pss_File:       ", pss(self.pss_file));
            kb_line(out, "Pss_Shmem:      ", pss(self.pss_shmem));
        }
        kb_line(out, "Shared_Clean:   ", self.shared_clean);
        kb_line(out, "Shared_Dirty:   ", self.shared_dirty);
        kb_line(out, "Private_Clean:  ", self.private_clean);
        kb_line(out, "Private_Dirty:  ", self.private_dirty);
        kb_line(out, "Referenced:     ", self.referenced);
        kb_line(out, "Anonymous:      ", self.anonymous);
        kb_line(out, "KSM:            ", 0);
        kb_line(out, "LazyFree:       ", 0);
        kb_line(out, "AnonHugePages:  ", self.anonymous_huge);
        kb_line(out, "ShmemPmdMapped: ", 0);
        kb_line(out, "FilePmdMapped:  ", 0);
        kb_line(out, "Shared_Hugetlb: ", 0);
        value_line(out, "Private_Hugetlb: ", 0, HUGETLB_VALUE_WIDTH, " kB\n");
        kb_line(out, "Swap:           ", self.swap);
        kb_line(out, "SwapPss:        ", pss(self.swap_pss));
        kb_line(out, "Locked:         ", 0);
    }
}

/// `key` (already padded to 16) and `bytes` in kB, right-aligned in 8.
fn kb_line(out: &mut Record, key: &str, bytes: u64) {
    value_line(out, key, bytes >> KB_SHIFT, VALUE_WIDTH, " kB\n");
}

/// `key`, `value` right-aligned in `width`, then `tail` (its unit and the
/// newline): `{key}{value:>width$}{tail}`.
fn value_line(out: &mut Record, key: &str, value: u64, width: usize, tail: &str) {
    // Put together on the stack, copied once (smaps prints 25 per VMA).
    let mut s = Scratch::<VALUE_LINE>::new();
    s.ascii(key.as_bytes());
    s.dec_right(value, width);
    s.ascii(tail.as_bytes());
    out.push_ascii(s.as_bytes());
}

/// The longest value line: a key (`Private_Hugetlb: ` is 17 bytes), a
/// 20-digit value, ` kB\n`.
const VALUE_LINE: usize = 17 + 20 + 4;

/// The flags of one VMA, in order (no allocation per record).
type VmFlags = heapless::Vec<VmFlag, { VmFlag::COUNT }>;

/// Linux's VmFlags mnemonics, in bit order (`show_smap_vma_flags`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum VmFlag {
    Read,
    Write,
    Exec,
    Shared,
    MayRead,
    MayWrite,
    MayExec,
    MayShare,
    GrowsDown,
    PfnMap,
    Io,
    DontExpand,
    Account,
    DontDump,
}

impl VmFlag {
    /// How many there are: no VMA has more flags than this.
    const COUNT: usize = 14;

    const fn mnemonic(self) -> &'static str {
        match self {
            VmFlag::Read => "rd",
            VmFlag::Write => "wr",
            VmFlag::Exec => "ex",
            VmFlag::Shared => "sh",
            VmFlag::MayRead => "mr",
            VmFlag::MayWrite => "mw",
            VmFlag::MayExec => "me",
            VmFlag::MayShare => "ms",
            VmFlag::GrowsDown => "gd",
            VmFlag::PfnMap => "pf",
            VmFlag::Io => "io",
            VmFlag::DontExpand => "de",
            VmFlag::Account => "ac",
            VmFlag::DontDump => "dd",
        }
    }
}

/// The Linux `vm_flags` of `vma`, derived from what the pager reports:
///
/// - `rd wr ex` from the protection;
/// - private mappings may become anything (`mr mw me`) and are charged to
///   the commit limit when the pager says so (`ac`: writable at some time,
///   kept after mprotect to read-only);
/// - shared mappings are `ms`; a shared file mapping is `sh mw` only when
///   writable: the pager reports no file open mode, and a read-only shared
///   file mapping is taken to be of a file opened read-only (which is also
///   why a debugger's write to it fails, see `mem`); shared anonymous
///   memory is always `sh mw` (Linux's `/dev/zero` object is writable);
/// - `[vdso]` adds `de`; `[vvar]` is `rd mr pf io de dd` (Linux 6.x before
///   the generic vDSO data store);
/// - no `sd`: soft-dirty is tracked per page only (there is no
///   `clear_refs`), consistent with pagemap's holes reading 0.
fn vm_flags(vma: &VmaInfo) -> VmFlags {
    let mut flags = VmFlags::new();
    let prot = vma.prot;
    let shared = vma.sharing == Sharing::Shared;
    let special = match vma.label {
        VmaLabel::Special(s) if vma.backing == Backing::Anonymous => Some(s),
        _ => None,
    };
    let push_if = |flags: &mut VmFlags, on: bool, flag: VmFlag| {
        if on {
            // Fewer flags than mnemonics: it cannot be full.
            let _ = flags.push(flag);
        }
    };
    push_if(&mut flags, prot.contains(Prot::READ), VmFlag::Read);
    push_if(&mut flags, prot.contains(Prot::WRITE), VmFlag::Write);
    push_if(&mut flags, prot.contains(Prot::EXEC), VmFlag::Exec);
    if let Some(SpecialMapping::Vvar | SpecialMapping::VvarVclock) = special {
        for flag in [
            VmFlag::MayRead,
            VmFlag::PfnMap,
            VmFlag::Io,
            VmFlag::DontExpand,
            VmFlag::DontDump,
        ] {
            push_if(&mut flags, true, flag);
        }
        return flags;
    }
    let may_write = !shared || prot.contains(Prot::WRITE) || vma.backing == Backing::Anonymous;
    push_if(&mut flags, shared && may_write, VmFlag::Shared);
    push_if(&mut flags, true, VmFlag::MayRead);
    push_if(&mut flags, may_write, VmFlag::MayWrite);
    push_if(&mut flags, true, VmFlag::MayExec);
    push_if(&mut flags, shared, VmFlag::MayShare);
    push_if(&mut flags, vma.grows_down, VmFlag::GrowsDown);
    push_if(&mut flags, special == Some(SpecialMapping::Vdso), VmFlag::DontExpand);
    push_if(
        &mut flags,
        vma.accounted && !shared && special.is_none(),
        VmFlag::Account,
    );
    flags
}

fn write_vm_flags(out: &mut Record, flags: &[VmFlag]) {
    out.push_str("VmFlags: ");
    for flag in flags {
        out.push_str(flag.mnemonic());
        out.push_str(" ");
    }
    out.push_str("\n");
}

/// Whether `ProtectionKey:` lines are printed: Linux prints one in every
/// record when the CPU has protection keys (`arch_pkeys_enabled`), as QEMU's
/// `max` model has. Every page has key 0 here (the kernel assigns none).
/// Set once by the server at start from CPUID; off in host tests.
static PROTECTION_KEYS: AtomicBool = AtomicBool::new(false);

/// Turns the `ProtectionKey:` lines on or off.
pub fn set_protection_keys(on: bool) {
    PROTECTION_KEYS.store(on, Ordering::Relaxed);
}

/// Appends `Size`, the page sizes, the body, THPeligible, ProtectionKey
/// and VmFlags.
fn write_block(out: &mut Record, size: u64, stats: &MemStats, flags: &[VmFlag]) {
    kb_line(out, "Size:           ", size);
    kb_line(out, "KernelPageSize: ", PAGE_SIZE);
    kb_line(out, "MMUPageSize:    ", PAGE_SIZE);
    stats.write_body(out, false);
    value_line(out, "THPeligible:    ", 0, VALUE_WIDTH, "\n");
    if PROTECTION_KEYS.load(Ordering::Relaxed) {
        value_line(out, "ProtectionKey:  ", 0, VALUE_WIDTH, "\n");
    }
    write_vm_flags(out, flags);
}

/// Appends the smaps record of `vma` (in a space laid out as `layout`)
/// whose pages sum to `stats`: its maps line, then its accounting.
pub fn write_vma_record(out: &mut Record, layout: &SpaceLayout, vma: &VmaInfo, stats: &MemStats) {
    write_vma_line(out, layout, vma);
    write_block(out, vma.end.0 - vma.start.0, stats, &vm_flags(vma));
}

/// Appends the vsyscall page's record, if the mode lists one.
pub fn write_vsyscall_record(out: &mut Record, vsyscall: VsyscallMode) {
    if let Some(header) = vsyscall_header(vsyscall) {
        write_vsyscall_line(out, vsyscall);
        let flags: &[VmFlag] = if header.read {
            &[VmFlag::Read, VmFlag::Exec]
        } else {
            &[VmFlag::Exec]
        };
        write_block(out, VSYSCALL_END - VSYSCALL_START, &MemStats::default(), flags);
    }
}

/// The whole smaps file at once, `pages` sorted by vpn: the model the
/// streamed file is tested against.
#[cfg(test)]
pub fn render(
    space: &crate::source::AddressSpace,
    pages: &[PageInfo],
    vsyscall: VsyscallMode,
) -> alloc::string::String {
    let mut out = Record::default();
    for vma in space.vmas() {
        let mut stats = MemStats::default();
        for page in crate::source::pages_between(pages, vma.start.0 / PAGE_SIZE, vma.end.0 / PAGE_SIZE) {
            stats.account(vma, page);
        }
        write_vma_record(&mut out, space.layout(), vma, &stats);
    }
    write_vsyscall_record(&mut out, vsyscall);
    out.into_string()
}

#[cfg(test)]
mod tests {
    use alloc::format;

    use super::*;

    #[test]
    fn the_longest_value_line_fits() {
        let mut out = Record::default();
        value_line(&mut out, "Private_Hugetlb: ", u64::MAX, HUGETLB_VALUE_WIDTH, " kB\n");
        kb_line(&mut out, "Rss:            ", 0);
        assert_eq!(
            out.into_string(),
            format!("Private_Hugetlb: {} kB\nRss:                   0 kB\n", u64::MAX)
        );
    }
}
