//! madvise: the advice values, what each does to a VMA, and Linux's walk
//! (holes give ENOMEM after the mapped parts were advised).

use alloc::vec::Vec;

use libipc::types::{PAGE_SIZE, VirtAddr};

use super::AddressSpace;
use crate::{
    effects::{Advised, Effects, Populate},
    linux::{Errno, abi::madv},
    vma::{Backing, Hints, Lock, Vma},
};

/// An madvise advice Linux knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Advice {
    Normal,
    Random,
    Sequential,
    WillNeed,
    DontNeed,
    Free,
    Remove,
    DontFork,
    DoFork,
    Mergeable,
    Unmergeable,
    HugePage,
    NoHugePage,
    DontDump,
    DoDump,
    WipeOnFork,
    KeepOnFork,
    Cold,
    PageOut,
    PopulateRead,
    PopulateWrite,
    DontNeedLocked,
    Collapse,
    GuardInstall,
    GuardRemove,
}

impl Advice {
    /// The advice with Linux value `n`; `None` (EINVAL) for any other.
    /// MADV_HWPOISON and MADV_SOFT_OFFLINE are EINVAL, as on a kernel
    /// without CONFIG_MEMORY_FAILURE: there is no memory to poison here.
    pub fn from_linux(n: u64) -> Option<Advice> {
        Some(match n {
            madv::NORMAL => Advice::Normal,
            madv::RANDOM => Advice::Random,
            madv::SEQUENTIAL => Advice::Sequential,
            madv::WILLNEED => Advice::WillNeed,
            madv::DONTNEED => Advice::DontNeed,
            madv::FREE => Advice::Free,
            madv::REMOVE => Advice::Remove,
            madv::DONTFORK => Advice::DontFork,
            madv::DOFORK => Advice::DoFork,
            madv::MERGEABLE => Advice::Mergeable,
            madv::UNMERGEABLE => Advice::Unmergeable,
            madv::HUGEPAGE => Advice::HugePage,
            madv::NOHUGEPAGE => Advice::NoHugePage,
            madv::DONTDUMP => Advice::DontDump,
            madv::DODUMP => Advice::DoDump,
            madv::WIPEONFORK => Advice::WipeOnFork,
            madv::KEEPONFORK => Advice::KeepOnFork,
            madv::COLD => Advice::Cold,
            madv::PAGEOUT => Advice::PageOut,
            madv::POPULATE_READ => Advice::PopulateRead,
            madv::POPULATE_WRITE => Advice::PopulateWrite,
            madv::DONTNEED_LOCKED => Advice::DontNeedLocked,
            madv::COLLAPSE => Advice::Collapse,
            madv::GUARD_INSTALL => Advice::GuardInstall,
            madv::GUARD_REMOVE => Advice::GuardRemove,
            _ => return None,
        })
    }

    /// The hints this advice clears and sets on each VMA, if it is one
    /// Linux records as VMA flags.
    fn hints(self) -> Option<(Hints, Hints)> {
        let none = Hints::default();
        Some(match self {
            Advice::Normal => (Hints::READ_PATTERN, none),
            Advice::Random => (Hints::READ_PATTERN, Hints::RANDOM),
            Advice::Sequential => (Hints::READ_PATTERN, Hints::SEQUENTIAL),
            Advice::DontFork => (none, Hints::DONTFORK),
            Advice::DoFork => (Hints::DONTFORK, none),
            Advice::DontDump => (none, Hints::DONTDUMP),
            Advice::DoDump => (Hints::DONTDUMP, none),
            Advice::WipeOnFork => (none, Hints::WIPEONFORK),
            Advice::KeepOnFork => (Hints::WIPEONFORK, none),
            Advice::HugePage => (Hints::NOHUGEPAGE, Hints::HUGEPAGE),
            Advice::NoHugePage => (Hints::HUGEPAGE, Hints::NOHUGEPAGE),
            Advice::Mergeable => (none, Hints::MERGEABLE),
            Advice::Unmergeable => (Hints::MERGEABLE, none),
            _ => return None,
        })
    }

    /// Whether the policy hears of this advice: the access-pattern hints
    /// and the two that say a range is or is not wanted soon.
    fn for_policy(self) -> bool {
        matches!(
            self,
            Advice::Normal | Advice::Random | Advice::Sequential | Advice::WillNeed | Advice::DontNeed
        )
    }

    /// Linux's per-VMA refusals.
    fn check(self, v: &Vma) -> Result<(), Errno> {
        let locked = v.lock != Lock::None;
        let file = matches!(v.backing, Backing::File { .. });
        match self {
            Advice::DontNeed | Advice::Cold | Advice::PageOut if locked => Err(Errno::Inval),
            Advice::Free if locked || file || v.shared => Err(Errno::Inval),
            Advice::WipeOnFork if file || v.shared => Err(Errno::Inval),
            Advice::Remove if locked || !(file || v.shared) => Err(Errno::Inval),
            // Shared anonymous memory may always be written (VM_MAYWRITE);
            // ramdisk files are opened read-only.
            Advice::Remove if file => Err(Errno::Acces),
            _ => Ok(()),
        }
    }

    /// Whether the advice drops the pages of the range.
    fn drops(self, v: &Vma) -> bool {
        match self {
            // Shared memory keeps its content (the frame is the page):
            // only the mapping would go, and the page comes back on the
            // next touch, so nothing changes.
            Advice::DontNeed | Advice::DontNeedLocked => !v.shared,
            // MADV_FREE lets the kernel drop the pages under memory
            // pressure, until they are written again; the pager has no
            // pressure, so they stay (Linux keeps them too until then).
            Advice::Remove => true,
            _ => false,
        }
    }
}

impl AddressSpace {
    /// madvise after the argument checks (`[start, end)` page-aligned,
    /// non-empty): applies `advice` to the mapped parts. A hole gives
    /// ENOMEM once the rest is done; a VMA that refuses the advice stops
    /// the walk with its errno. The effects are returned either way.
    pub fn madvise(&mut self, start: u64, end: u64, advice: Advice) -> (Effects, Result<(), Errno>) {
        let mut effects = Effects::default();
        match advice {
            // Guard regions are not modelled (they need a marker per page
            // that faults SIGSEGV): refused, so callers fall back.
            Advice::GuardInstall | Advice::GuardRemove => return (effects, Err(Errno::Inval)),
            Advice::PopulateRead | Advice::PopulateWrite => {
                return self.madvise_populate(start, end, advice == Advice::PopulateWrite);
            }
            _ => {}
        }
        let mut hole = false;
        let mut cursor = start;
        let pieces: Vec<(u64, u64)> = self
            .vmas
            .overlapping(start, end)
            .map(|v| {
                hole |= v.start > cursor;
                cursor = v.end;
                (v.start.max(start), v.end.min(end))
            })
            .collect();
        hole |= cursor < end;
        for (lo, hi) in pieces {
            let Some(v) = self.vmas.find(lo) else { continue };
            if let Err(e) = advice.check(v) {
                return (effects, Err(e));
            }
            let drops = advice.drops(v);
            let hints = advice
                .hints()
                .filter(|&(clear, set)| v.hints.with(clear, set) != v.hints);
            if drops && let Some(v) = self.vmas.find_mut(lo) {
                let pages: Vec<u64> = v.resident.range(lo..hi).map(|(p, _)| p).collect();
                for p in pages {
                    if let Some(f) = v.resident.remove(p) {
                        effects.dropped.push((VirtAddr(p), f));
                    }
                }
            }
            if let Some((clear, set)) = hints
                && let Err(e) = self.within_map_count(lo, hi, |s| {
                    s.vmas.update_range(lo, hi, |v| v.hints = v.hints.with(clear, set));
                })
            {
                return (effects, Err(e.into()));
            }
            if advice.for_policy() {
                effects.advised.push(Advised {
                    start: VirtAddr(lo),
                    end: VirtAddr(hi),
                    advice,
                });
            }
        }
        (effects, if hole { Err(Errno::NoMem) } else { Ok(()) })
    }

    /// Tells `policy` of a hint madvise applied; a range it wants now comes
    /// back as a read populate, clipped to the advised range and to what
    /// the VMA there still allows (a later call may have changed it).
    pub fn advise_policy(&self, policy: &mut dyn crate::policy::Policy, advised: &Advised) -> Option<Populate> {
        let (start, end) = (advised.start.0, advised.end.0);
        let vma = self.vmas.find(start)?;
        let wanted = policy.advise(vma, start..end.min(vma.end), advised.advice)?;
        let limit = end.min(vma.end);
        let lo = super::page_down(wanted.start.max(start));
        let hi = wanted.end.min(limit).div_ceil(PAGE_SIZE) * PAGE_SIZE;
        (lo < hi && super::permits(vma.prot, libipc::types::Access::Read)).then_some(Populate {
            start: VirtAddr(lo),
            end: VirtAddr(hi.min(limit)),
            write: false,
        })
    }

    /// MADV_POPULATE_READ/WRITE: the range must be mapped (ENOMEM) and
    /// allow the access (EINVAL).
    fn madvise_populate(&self, start: u64, end: u64, write: bool) -> (Effects, Result<(), Errno>) {
        let mut effects = Effects::default();
        let mut cursor = start;
        for v in self.vmas.overlapping(start, end) {
            if v.start > cursor {
                return (effects, Err(Errno::NoMem));
            }
            let access = if write {
                libipc::types::Access::Write
            } else {
                libipc::types::Access::Read
            };
            if !super::permits(v.prot, access) {
                return (effects, Err(Errno::Inval));
            }
            effects.populate.push(Populate {
                start: VirtAddr(v.start.max(start)),
                end: VirtAddr(v.end.min(end)),
                write,
            });
            cursor = v.end;
        }
        if cursor < end {
            return (effects, Err(Errno::NoMem));
        }
        (effects, Ok(()))
    }
}
