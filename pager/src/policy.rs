//! The interface between the pager and its policies. A policy is a crate of
//! its own (`policies/NAME/`) that implements [`Policy`] and exports a
//! [`Registration`]; the `pager-policies` crate collects them into a table
//! at build time, so adding one never edits this crate. The server and the
//! host tools look a name up with [`find`].

use alloc::{boxed::Box, string::String, vec::Vec};
use core::ops::Range;

use libipc::types::PAGE_SIZE;

use crate::{
    settings::Settings,
    space::{Advice, reclaim::Candidate},
    vma::Vma,
};

/// What a policy decides. The server makes one instance per address space
/// (and the host mode one per session), so a policy may keep state about its
/// process's faults (a read-ahead stream) in `&mut self` with no locking;
/// the hooks about the whole pager (`adjust_settings`, `seed`) are asked of
/// an instance made at start.
pub trait Policy: Send {
    /// The name used on the command line (`policy=NAME`).
    fn name(&self) -> &'static str;

    /// The address range whose pages a fault at `page` (page-aligned,
    /// inside `vma`, not resident) maps: by default that page alone. The
    /// address space clips it to the VMA and to
    /// `libipc::kernel::MAX_FAULT_MAPPINGS` pages, skips resident pages and
    /// lists the faulting page first. A range, not a list, so the fault
    /// path allocates nothing for the policy's answer.
    fn fault_window(&mut self, _vma: &Vma, page: u64) -> Range<u64> {
        page..page + PAGE_SIZE
    }

    /// Whether a read fault at `page` of `vma` (private anonymous memory,
    /// not resident) maps the shared zero frame instead of a fresh one, as
    /// Linux does: no frame is used until the first write, which copies
    /// (another fault). By default no, a frame at once; the `default`
    /// policy says yes.
    fn zero_page(&mut self, _vma: &Vma, _page: u64) -> bool {
        false
    }

    /// An madvise hint (NORMAL, RANDOM, SEQUENTIAL, WILLNEED, DONTNEED) over
    /// `range`, the part of `vma` it covered, after the address space
    /// applied it: RANDOM and SEQUENTIAL are in `vma.hints` from now on,
    /// DONTNEED's pages are gone. The answer is a range to fault in now
    /// (WILLNEED's read-ahead), clipped to `range`; by default none, as
    /// Linux does for anonymous memory.
    fn advise(&mut self, _vma: &Vma, _range: Range<u64>, _advice: Advice) -> Option<Range<u64>> {
        None
    }

    /// The frame pool runs low: choose at most `want` of `candidates` (the
    /// pages of this process that can be dropped and refilled on their
    /// next fault, lowest first) and push their addresses to `victims`.
    /// The kernel clears each page's accessed bit as it reports it, so
    /// `accessed` means used since the last sweep. By default a clock's
    /// second chance: the pages not used since the last sweep; a later
    /// sweep finds the others unused unless they were touched meanwhile.
    fn reclaim(&mut self, candidates: &[Candidate], want: usize, victims: &mut Vec<u64>) {
        victims.extend(candidates.iter().filter(|c| !c.accessed).take(want).map(|c| c.page));
    }

    /// Lets a policy override settings (the diagnostic policy turns ASLR off).
    fn adjust_settings(&self, _settings: &mut Settings) {}

    /// The seed of the pager's CSPRNG, given the kernel's entropy.
    fn seed(&self, kernel_entropy: [u64; 4]) -> [u64; 4] {
        kernel_entropy
    }
}

/// The trait's defaults as a policy: one page per fault, the kernel's
/// entropy. The library's own tests and benchmarks use it, since the real
/// policies live in crates that depend on this one.
#[derive(Clone, Copy, Debug, Default)]
pub struct OnePage;

impl Policy for OnePage {
    fn name(&self) -> &'static str {
        "one-page"
    }
}

/// Fault-around's window, for the library's tests (the policy crate
/// depends on this one): the aligned block of a reply's worth of pages.
#[cfg(test)]
pub(crate) struct AlignedWindow;

#[cfg(test)]
impl Policy for AlignedWindow {
    fn name(&self) -> &'static str {
        "aligned-window"
    }

    fn fault_window(&mut self, vma: &Vma, page: u64) -> Range<u64> {
        let window = libipc::kernel::MAX_FAULT_MAPPINGS as u64 * PAGE_SIZE;
        let start = page - page % window;
        start.max(vma.start)..(start + window).min(vma.end)
    }
}

/// How a policy crate announces itself to the registry: its name, one line
/// for the usage text, and how to make an instance.
#[derive(Clone, Copy)]
pub struct Registration {
    pub name: &'static str,
    pub summary: &'static str,
    pub new: fn() -> Box<dyn Policy>,
}

impl core::fmt::Debug for Registration {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Registration").field("name", &self.name).finish()
    }
}

/// A policy name no registered policy answers to, with the names that do,
/// so the message tells the user what to type instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownPolicy {
    pub name: String,
    pub known: Vec<&'static str>,
}

impl core::fmt::Display for UnknownPolicy {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "unknown policy {:?} (known: {})", self.name, self.known.join(", "))
    }
}

/// The registration called `name` in `table`.
pub fn find<'a>(table: &'a [Registration], name: &str) -> Result<&'a Registration, UnknownPolicy> {
    table.iter().find(|r| r.name == name).ok_or_else(|| UnknownPolicy {
        name: name.into(),
        known: table.iter().map(|r| r.name).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: [Registration; 2] = [
        Registration {
            name: "one-page",
            summary: "one page per fault",
            new: || Box::new(OnePage),
        },
        Registration {
            name: "other",
            summary: "another",
            new: || Box::new(OnePage),
        },
    ];

    #[test]
    fn a_known_name_is_found() {
        let r = find(&TABLE, "other").unwrap();
        assert_eq!(r.summary, "another");
        assert_eq!((r.new)().name(), "one-page");
    }

    #[test]
    fn an_unknown_name_lists_the_known_ones() {
        let e = find(&TABLE, "nope").unwrap_err();
        assert_eq!(e.known, ["one-page", "other"]);
        assert_eq!(
            alloc::format!("{e}"),
            "unknown policy \"nope\" (known: one-page, other)"
        );
        assert!(find(&[], "x").unwrap_err().to_string().ends_with("(known: )"));
    }

    #[test]
    fn the_defaults_map_one_page_and_keep_the_entropy() {
        use libipc::types::Prot;

        use crate::vma::Backing;
        let vma = Vma::new(0x10000, 0x20000, Prot::RW, Backing::Anonymous);
        assert_eq!(OnePage.fault_window(&vma, 0x12000), 0x12000..0x13000);
        assert_eq!(OnePage.seed([1, 2, 3, 4]), [1, 2, 3, 4]);
        let mut s = Settings::default();
        OnePage.adjust_settings(&mut s);
        assert!(s.changes_from(&Settings::default()).is_empty());
        assert!(alloc::format!("{:?}", TABLE[0]).contains("one-page"));
    }
}
