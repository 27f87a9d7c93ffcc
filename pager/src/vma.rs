//! VMAs and the ordered set that holds them.
//!
//! The set is a B+tree keyed by start address (module `index`), with the
//! VMAs stored in its leaves: lookup, insert, remove, split and merge are
//! O(log n). It is built for the fault path, which looks one address up in
//! up to max_map_count (65,530) VMAs: its nodes are dense arrays of keys in
//! a `Vec` arena, so a lookup in a large set touches a few cache lines of
//! keys and then the VMA's own two lines (a `BTreeMap` of boxed VMAs took
//! about six levels of nodes and a pointer to the VMA).
//!
//! Beside it sits a *gap index*: every free gap between two VMAs, bucketed
//! by the power of two of its size, so the top-down search for a free range
//! looks at the highest gap of each non-empty class large enough, O(log n)
//! each, instead of walking every VMA (Linux gets the same from its
//! augmented tree). Only the class of the request itself may hold gaps too
//! small for it; those are skipped one by one, so a space with very many
//! gaps of exactly that class and none larger is the slow case.
//!
//! The gap before a grows-down VMA ends `guard` bytes below it: placement
//! never lands in the stack guard gap.

mod index;

use alloc::{
    collections::{BTreeMap, BTreeSet},
    string::String,
    vec::Vec,
};

use libipc::types::{PAGE_SIZE, PageCount, Prot, VirtAddr};

use self::index::Index;
use crate::resident::{Frame, ResidentPages};

/// Linux's default `vm.max_map_count`.
pub const DEFAULT_MAX_MAP_COUNT: usize = 65_530;

/// An opaque file object (the server's ramdisk file id).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct FileId(pub u64);

/// What backs a VMA's pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backing {
    /// Demand-zero memory.
    Anonymous,
    /// File content: the VMA's first byte is at file offset `offset`; file
    /// bytes end at virtual address `data_end` (beyond it, zeros: the tail
    /// of an ELF segment's last file page).
    File { file: FileId, offset: u64, data_end: u64 },
}

/// The name `/proc/<pid>/maps` shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VmaName {
    None,
    Heap,
    Stack,
    Vdso,
    Vvar,
    Path(String),
    /// Shared anonymous memory: one object per mmap (Linux's
    /// `/dev/zero (deleted)` shmem file), numbered per address space, so
    /// the pieces of one mapping stay one object and two never merge.
    Shmem(u64),
}

/// Whether a VMA's pages are locked in memory (mlock, mlock2,
/// mlockall, MAP_LOCKED): Linux's VM_LOCKED and VM_LOCKONFAULT.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lock {
    #[default]
    None,
    /// Locked and populated at once.
    Locked,
    /// Locked as pages are first touched (MLOCK_ONFAULT, MCL_ONFAULT).
    OnFault,
}

/// Hints madvise records on a VMA (Linux keeps them as VMA flags, so a
/// hint on part of a VMA splits it, as `/proc/<pid>/smaps` shows). A
/// policy may read them; none changes what a fault maps today.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Hints(pub u16);

impl Hints {
    /// MADV_SEQUENTIAL (VM_SEQ_READ, `sr`).
    pub const SEQUENTIAL: Hints = Hints(1 << 0);
    /// MADV_RANDOM (VM_RAND_READ, `rr`).
    pub const RANDOM: Hints = Hints(1 << 1);
    /// MADV_DONTFORK (VM_DONTCOPY, `dc`).
    pub const DONTFORK: Hints = Hints(1 << 2);
    /// MADV_DONTDUMP (VM_DONTDUMP, `dd`).
    pub const DONTDUMP: Hints = Hints(1 << 3);
    /// MADV_WIPEONFORK (VM_WIPEONFORK, `wf`).
    pub const WIPEONFORK: Hints = Hints(1 << 4);
    /// MADV_HUGEPAGE (VM_HUGEPAGE, `hg`).
    pub const HUGEPAGE: Hints = Hints(1 << 5);
    /// MADV_NOHUGEPAGE (VM_NOHUGEPAGE, `nh`).
    pub const NOHUGEPAGE: Hints = Hints(1 << 6);
    /// MADV_MERGEABLE (VM_MERGEABLE, `mg`).
    pub const MERGEABLE: Hints = Hints(1 << 7);
    /// The read-pattern hints, which replace each other.
    pub const READ_PATTERN: Hints = Hints(Self::SEQUENTIAL.0 | Self::RANDOM.0);

    pub const fn contains(self, other: Hints) -> bool {
        self.0 & other.0 == other.0
    }

    /// These hints with `clear` removed and `set` added.
    pub const fn with(self, clear: Hints, set: Hints) -> Hints {
        Hints((self.0 & !clear.0) | set.0)
    }

    /// The smaps `VmFlags` mnemonics of these hints, in Linux's order.
    pub fn mnemonics(self) -> impl Iterator<Item = &'static str> {
        [
            (Self::SEQUENTIAL, "sr"),
            (Self::RANDOM, "rr"),
            (Self::DONTFORK, "dc"),
            (Self::DONTDUMP, "dd"),
            (Self::WIPEONFORK, "wf"),
            (Self::HUGEPAGE, "hg"),
            (Self::NOHUGEPAGE, "nh"),
            (Self::MERGEABLE, "mg"),
        ]
        .into_iter()
        .filter(move |(h, _)| self.contains(*h))
        .map(|(_, m)| m)
    }
}

/// A virtual memory area: `[start, end)`, page-aligned.
///
/// `repr(C)` keeps the fields a fault decision reads (range, protection,
/// backing, and the resident count that says whether to look further) in
/// the first cache line of the VMA's slot; the name stays out of the way.
/// A test checks the layout.
#[derive(Clone, Debug)]
#[repr(C)]
pub struct Vma {
    pub start: u64,
    pub end: u64,
    pub backing: Backing,
    pub prot: Prot,
    pub shared: bool,
    pub grows_down: bool,
    pub lock: Lock,
    pub hints: Hints,
    /// Resident pages: page address -> frame. Counted per VMA for smaps and
    /// pagemap.
    pub resident: ResidentPages,
    pub name: VmaName,
    /// Charged to the commit limit (Linux's VM_ACCOUNT, smaps' `ac`):
    /// private memory that was writable keeps it after mprotect to
    /// read-only once it has pages of its own.
    pub accounted: bool,
}

impl Vma {
    pub fn new(start: u64, end: u64, prot: Prot, backing: Backing) -> Vma {
        Vma {
            start,
            end,
            prot,
            shared: false,
            backing,
            grows_down: false,
            lock: Lock::None,
            hints: Hints::default(),
            name: VmaName::None,
            resident: ResidentPages::new(),
            accounted: prot.contains(Prot::WRITE),
        }
    }

    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    pub fn contains(&self, addr: u64) -> bool {
        self.start <= addr && addr < self.end
    }

    /// Whether RLIMIT_DATA counts this VMA: private, writable and not a
    /// stack (Linux's `data_vm`).
    pub fn is_data(&self) -> bool {
        self.prot.contains(Prot::WRITE) && !self.shared && !self.grows_down
    }

    /// How many of its pages are backed by frames.
    pub fn resident_pages(&self) -> PageCount {
        PageCount(self.resident.len() as u64)
    }

    /// Its resident pages with their frames, lowest first.
    pub fn resident_frames(&self) -> impl Iterator<Item = (VirtAddr, Frame)> + '_ {
        self.resident.iter().map(|(p, f)| (VirtAddr(p), f))
    }

    /// Whether `next` (starting at our end) could join us as one VMA.
    pub fn mergeable_with(&self, next: &Vma) -> bool {
        self.end == next.start
            && self.prot == next.prot
            && self.shared == next.shared
            && self.grows_down == next.grows_down
            && self.lock == next.lock
            && self.hints == next.hints
            && self.name == next.name
            && self.accounted == next.accounted
            && match (self.backing, next.backing) {
                (Backing::Anonymous, Backing::Anonymous) => true,
                (
                    Backing::File {
                        file: a,
                        offset: oa,
                        data_end: da,
                    },
                    Backing::File {
                        file: b,
                        offset: ob,
                        data_end: db,
                    },
                ) => a == b && da == db && oa + self.len() == ob,
                _ => false,
            }
    }

    /// Splits at `at` (page-aligned, strictly inside): `self` keeps the low
    /// part, the high part is returned with its resident pages.
    pub fn split_off(&mut self, at: u64) -> Vma {
        debug_assert!(self.start < at && at < self.end && at.is_multiple_of(PAGE_SIZE));
        let mut high = self.clone_empty(at, self.end);
        high.resident = self.resident.split_off(at);
        self.end = at;
        high
    }

    /// Moves the VMA to start at `new_start` with its pages (mremap); the
    /// file data keeps its place relative to the VMA.
    pub fn relocate(&mut self, new_start: u64) {
        let old_start = self.start;
        let shift = |a: u64| a.wrapping_sub(old_start).wrapping_add(new_start);
        if let Backing::File { data_end, .. } = &mut self.backing
            && *data_end != u64::MAX
        {
            *data_end = shift(*data_end);
        }
        let mut moved = ResidentPages::new();
        for (page, frame) in self.resident.iter() {
            // Distinct pages stay distinct: cannot fail.
            let _ = moved.insert_new(shift(page), frame);
        }
        self.resident = moved;
        self.end = shift(self.end);
        self.start = new_start;
    }

    /// A copy of the attributes over `[start, end)`, without pages.
    fn clone_empty(&self, start: u64, end: u64) -> Vma {
        let backing = match self.backing {
            Backing::File { file, offset, data_end } => Backing::File {
                file,
                offset: offset + (start - self.start),
                data_end,
            },
            b => b,
        };
        Vma {
            start,
            end,
            prot: self.prot,
            shared: self.shared,
            backing,
            grows_down: self.grows_down,
            lock: self.lock,
            hints: self.hints,
            name: self.name.clone(),
            resident: ResidentPages::new(),
            accounted: self.accounted,
        }
    }
}

/// Size classes: one per power of two a `u64` size can have.
const CLASSES: usize = 64;

/// A power-of-two size class: gaps in class `c` have `2^c <= size < 2^(c+1)`.
/// `size` is never 0 (empty gaps are not indexed).
fn class(size: u64) -> usize {
    (63 - size.leading_zeros()) as usize
}

/// A free range, indexed three ways.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Gap {
    start: u64,
    end: u64,
}

/// A VMA in the index, cache-line aligned: the fields a fault reads span
/// most of a VMA (about 100 bytes), which then always takes two lines,
/// never three. `None` only in the index's unused leaf slots.
#[derive(Clone, Debug, Default)]
#[repr(align(64))]
struct Slot(Option<Vma>);

impl Slot {
    fn vma(&self) -> &Vma {
        self.0.as_ref().expect("an indexed slot holds a VMA")
    }

    fn vma_mut(&mut self) -> &mut Vma {
        self.0.as_mut().expect("an indexed slot holds a VMA")
    }
}

/// The ordered, non-overlapping set of VMAs of one address space.
#[derive(Clone, Debug)]
pub struct VmaSet {
    /// The VMAs by start: a B+tree holding them in its leaves.
    vmas: Index<Slot>,
    /// The free gap below each VMA (keyed by its start; the gap above the
    /// last VMA is keyed by `top`). It ends `guard` below a grows-down VMA.
    gap_below: BTreeMap<u64, Gap>,
    /// `end -> start` of every gap.
    by_end: BTreeMap<u64, u64>,
    /// The ends of the gaps of each size class, one set per class: a
    /// search skips empty classes at once and queries only small sets.
    by_class: [BTreeSet<u64>; CLASSES],
    guard: u64,
    /// One past the highest address (the sentinel above the last VMA).
    top: u64,
    /// Bytes mapped, kept up to date so RLIMIT_AS checks are O(1).
    total_bytes: u64,
    /// Bytes of [`Vma::is_data`] VMAs, for RLIMIT_DATA in O(1).
    data_bytes: u64,
}

impl VmaSet {
    /// An empty set over `[0, top)` with `guard` bytes kept free below
    /// grows-down VMAs.
    pub fn new(top: u64, guard: u64) -> VmaSet {
        let mut set = VmaSet {
            vmas: Index::new(),
            gap_below: BTreeMap::new(),
            by_end: BTreeMap::new(),
            by_class: [const { BTreeSet::new() }; CLASSES],
            guard,
            top,
            total_bytes: 0,
            data_bytes: 0,
        };
        set.refresh(0, top);
        set
    }

    pub fn len(&self) -> usize {
        self.vmas.len()
    }

    pub fn is_empty(&self) -> bool {
        self.vmas.len() == 0
    }

    /// The VMA starting at `start`.
    fn get_mut(&mut self, start: u64) -> Option<&mut Vma> {
        self.vmas.get_mut(start).map(Slot::vma_mut)
    }

    /// Indexes `vma` by its start.
    fn put(&mut self, vma: Vma) {
        let start = vma.start;
        let replaced = self.vmas.insert(start, Slot(Some(vma)));
        debug_assert!(replaced.is_none(), "two VMAs start at {start:#x}");
    }

    /// Unindexes and returns the VMA starting at `start`.
    fn take(&mut self, start: u64) -> Option<Vma> {
        self.vmas.remove(start).and_then(|slot| slot.0)
    }

    pub fn top(&self) -> u64 {
        self.top
    }

    /// Bytes mapped (what RLIMIT_AS limits).
    pub fn total_bytes(&self) -> u64 {
        self.total_bytes
    }

    /// Bytes of private writable non-stack VMAs (what RLIMIT_DATA limits).
    pub fn data_bytes(&self) -> u64 {
        self.data_bytes
    }

    /// Adds (`add`) or removes a VMA's bytes from the running totals.
    fn account(&mut self, vma_len: u64, is_data: bool, add: bool) {
        let apply = |total: &mut u64| {
            if add {
                *total += vma_len;
            } else {
                *total -= vma_len;
            }
        };
        apply(&mut self.total_bytes);
        if is_data {
            apply(&mut self.data_bytes);
        }
    }

    pub fn guard(&self) -> u64 {
        self.guard
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Vma> {
        self.vmas.iter().map(|(_, slot)| slot.vma())
    }

    /// The VMA containing `addr`.
    pub fn find(&self, addr: u64) -> Option<&Vma> {
        self.at_or_below(addr).filter(|v| v.contains(addr))
    }

    pub fn find_mut(&mut self, addr: u64) -> Option<&mut Vma> {
        let (_, slot) = self.vmas.at_or_below_mut(addr)?;
        Some(slot.vma_mut()).filter(|v| v.contains(addr))
    }

    /// The last VMA starting at or below `addr`.
    pub fn at_or_below(&self, addr: u64) -> Option<&Vma> {
        self.vmas.at_or_below(addr).map(|(_, slot)| slot.vma())
    }

    /// The last VMA ending at or below `addr`.
    pub fn below(&self, addr: u64) -> Option<&Vma> {
        match self.at_or_below(addr) {
            Some(v) if v.end <= addr => Some(v),
            Some(v) => self.vmas.below(v.start).map(|(_, slot)| slot.vma()),
            None => None,
        }
    }

    /// The first VMA starting at or above `addr`.
    pub fn at_or_above(&self, addr: u64) -> Option<&Vma> {
        self.vmas.at_or_above(addr).map(|(_, slot)| slot.vma())
    }

    /// VMAs overlapping `[start, end)`.
    pub fn overlapping(&self, start: u64, end: u64) -> impl Iterator<Item = &Vma> {
        let first = self
            .at_or_below(start)
            .filter(|v| v.end > start)
            .map_or(start, |v| v.start);
        self.vmas.range(first..end.max(first)).map(|(_, slot)| slot.vma())
    }

    /// The VMAs from the first whose end is above `addr`, in order: one
    /// O(log n) descent, then the leaves (how procfs walks a space in
    /// batches and resumes a read where it stopped).
    pub fn ending_above(&self, addr: u64) -> impl Iterator<Item = &Vma> {
        self.overlapping(addr, u64::MAX)
    }

    pub fn overlaps(&self, start: u64, end: u64) -> bool {
        self.overlapping(start, end).next().is_some()
    }

    /// Where the gap below `v` ends (placement stays this far below it).
    fn gap_end_below(&self, v: &Vma) -> u64 {
        if v.grows_down {
            v.start.saturating_sub(self.guard)
        } else {
            v.start
        }
    }

    /// Recomputes the gaps below the VMAs starting in `[from, to]` and
    /// below the first VMA after `to` (whose gap starts at an end that may
    /// have moved). Called after every change there.
    fn refresh(&mut self, from: u64, to: u64) {
        let next_key = to
            .checked_add(1)
            .and_then(|k| self.vmas.at_or_above(k))
            .map_or(self.top, |(k, _)| k);
        let stale: Vec<u64> = self.gap_below.range(from..=next_key).map(|(k, _)| *k).collect();
        for key in stale {
            if let Some(g) = self.gap_below.remove(&key) {
                self.by_end.remove(&g.end);
                self.by_class[class(g.end - g.start)].remove(&g.end);
            }
        }
        let mut prev_end = self.vmas.below(from).map_or(0, |(_, slot)| slot.vma().end);
        let mut fresh = Vec::new();
        for (key, slot) in self.vmas.range(from..=next_key) {
            let v = slot.vma();
            fresh.push((key, prev_end, self.gap_end_below(v).max(prev_end)));
            prev_end = v.end;
        }
        if next_key == self.top {
            fresh.push((self.top, prev_end, self.top.max(prev_end)));
        }
        for (key, start, end) in fresh {
            if end > start {
                self.gap_below.insert(key, Gap { start, end });
                self.by_end.insert(end, start);
                self.by_class[class(end - start)].insert(end);
            }
        }
    }

    /// Inserts a VMA that overlaps nothing, merging with equal neighbours.
    pub fn insert(&mut self, vma: Vma) {
        debug_assert!(!self.overlaps(vma.start, vma.end), "insert over an existing VMA");
        let (start, end) = (vma.start, vma.end);
        self.account(vma.len(), vma.is_data(), true);
        self.put(vma);
        self.merge_at(start);
        self.merge_at(end);
        self.refresh(start, end);
    }

    /// Inserts a VMA as it is, without merging (restoring a snapshot).
    pub fn insert_raw(&mut self, vma: Vma) {
        let (start, end) = (vma.start, vma.end);
        self.account(vma.len(), vma.is_data(), true);
        self.put(vma);
        self.refresh(start, end);
    }

    /// Removes and returns the VMAs inside `[start, end)`, splitting any
    /// that straddle an edge.
    pub fn remove_range(&mut self, start: u64, end: u64) -> Vec<Vma> {
        self.split_at(start);
        self.split_at(end);
        let keys: Vec<u64> = self.vmas.range(start..end).map(|(k, _)| k).collect();
        let removed: Vec<Vma> = keys.into_iter().filter_map(|k| self.take(k)).collect();
        for v in &removed {
            self.account(v.len(), v.is_data(), false);
        }
        self.refresh(start, end);
        removed
    }

    /// Splits the VMA containing `at` so a VMA boundary falls there.
    pub fn split_at(&mut self, at: u64) {
        let Some((_, slot)) = self.vmas.below_mut(at) else {
            return;
        };
        let v = slot.vma_mut();
        if !v.contains(at) {
            return;
        }
        let high = v.split_off(at);
        self.put(high);
    }

    /// How many extra VMAs splitting at `start` and `end` would create.
    pub fn splits_needed(&self, start: u64, end: u64) -> usize {
        let inside = |a: u64| self.find(a).is_some_and(|v| v.start != a);
        usize::from(inside(start)) + usize::from(end < self.top && inside(end))
    }

    /// Merges the VMA ending at `at` with the one starting there, if equal.
    pub fn merge_at(&mut self, at: u64) {
        let Some((low_start, low)) = self.vmas.below(at).filter(|(_, slot)| slot.vma().end == at) else {
            return;
        };
        if !self
            .vmas
            .get(at)
            .is_some_and(|high| low.vma().mergeable_with(high.vma()))
        {
            return;
        }
        if let Some(mut high) = self.take(at)
            && let Some(low) = self.get_mut(low_start)
        {
            low.end = high.end;
            low.resident.append(&mut high.resident);
        }
    }

    /// Applies `f` to every VMA in `[start, end)` (split at the edges first),
    /// then merges equal neighbours across the range.
    pub fn update_range(&mut self, start: u64, end: u64, mut f: impl FnMut(&mut Vma)) {
        self.split_at(start);
        self.split_at(end);
        let keys: Vec<u64> = self.vmas.range(start..end).map(|(k, _)| k).collect();
        let (mut before, mut after) = (0, 0);
        for &k in &keys {
            if let Some(v) = self.get_mut(k) {
                before += if v.is_data() { v.len() } else { 0 };
                f(v);
                after += if v.is_data() { v.len() } else { 0 };
            }
        }
        self.data_bytes = self.data_bytes - before + after;
        for k in keys.iter().rev() {
            self.merge_at(*k);
        }
        self.merge_at(end);
        self.refresh(start, end);
    }

    /// Grows the VMA starting at `old_start` down to `new_start`.
    pub fn extend_down(&mut self, old_start: u64, new_start: u64) {
        if let Some(mut v) = self.take(old_start) {
            self.account(old_start - new_start, v.is_data(), true);
            v.start = new_start;
            if let Backing::File { offset, .. } = &mut v.backing {
                *offset = offset.saturating_sub(old_start - new_start);
            }
            self.put(v);
            self.refresh(new_start, old_start);
        }
    }

    /// Moves the end of the VMA starting at `start` to `new_end` (brk).
    pub fn set_end(&mut self, start: u64, new_end: u64) -> Vec<(u64, Frame)> {
        let Some(v) = self.get_mut(start) else {
            return Vec::new();
        };
        let old_end = v.end;
        let is_data = v.is_data();
        v.end = new_end;
        let dropped: Vec<(u64, Frame)> = v.resident.split_off(new_end).into_iter().collect();
        self.account(old_end.abs_diff(new_end), is_data, new_end > old_end);
        self.refresh(start, old_end.max(new_end));
        dropped
    }

    /// The highest `len`-byte range inside `[low, high)` that touches no VMA
    /// and no guard gap: the top-down search.
    pub fn find_gap_top_down(&self, len: u64, low: u64, high: u64) -> Option<u64> {
        if len == 0 || high < low || high - low < len {
            return None;
        }
        let fits = |start: u64, end: u64| {
            let (s, e) = (start.max(low), end.min(high));
            (e > s && e - s >= len).then(|| e - len)
        };
        // The gap straddling `high`, if any.
        let mut best = self
            .by_end
            .range(high..)
            .next()
            .and_then(|(&e, &s)| if s < high { fits(s, e) } else { None });
        if best.is_none() {
            for ends in self.by_class[class(len)..].iter().filter(|set| !set.is_empty()) {
                // Highest gap of this class ending at or below `high`.
                for &end in ends.range(..=high).rev() {
                    if best.is_some_and(|b| end <= b) {
                        break;
                    }
                    // Every indexed gap is in `by_end` (see `refresh`).
                    let Some(&start) = self.by_end.get(&end) else { continue };
                    if let Some(addr) = fits(start, end) {
                        best = Some(best.map_or(addr, |b: u64| b.max(addr)));
                        break;
                    }
                    if end <= low {
                        break;
                    }
                }
            }
        }
        best.map(|a| a & !(PAGE_SIZE - 1))
    }

    /// Whether `[start, end)` is free of VMAs and guard gaps.
    pub fn is_free(&self, start: u64, end: u64) -> bool {
        self.by_end.range(end..).next().is_some_and(|(_, &s)| s <= start)
    }

    /// Checks the internal invariants (for tests).
    pub fn check_invariants(&self) -> Result<(), String> {
        self.vmas.check()?;
        let mut prev_end = 0;
        for (k, slot) in self.vmas.iter() {
            let Some(v) = &slot.0 else {
                return Err(alloc::format!("no VMA at {k:#x}"));
            };
            if k != v.start
                || v.start >= v.end
                || !v.start.is_multiple_of(PAGE_SIZE)
                || !v.end.is_multiple_of(PAGE_SIZE)
            {
                return Err(alloc::format!("bad VMA {:#x}-{:#x}", v.start, v.end));
            }
            if v.start < prev_end {
                return Err(alloc::format!("overlap at {:#x}", v.start));
            }
            if v.resident.iter().any(|(p, _)| !v.contains(p)) {
                return Err(alloc::format!("resident page outside {:#x}-{:#x}", v.start, v.end));
            }
            prev_end = v.end;
        }
        for w in self.iter().collect::<Vec<_>>().windows(2) {
            if w[0].mergeable_with(w[1]) {
                return Err(alloc::format!("unmerged neighbours at {:#x}", w[1].start));
            }
        }
        // The gap index equals the gaps recomputed from scratch.
        let mut expect = BTreeMap::new();
        let mut prev = 0;
        for v in self.iter() {
            let e = self.gap_end_below(v).max(prev);
            if e > prev {
                expect.insert(e, prev);
            }
            prev = v.end;
        }
        if self.top > prev {
            expect.insert(self.top, prev);
        }
        if expect != self.by_end {
            return Err(alloc::format!("gap index {:x?} != {:x?}", self.by_end, expect));
        }
        let total: u64 = self.iter().map(|v| v.len()).sum();
        let data: u64 = self.iter().filter(|v| v.is_data()).map(|v| v.len()).sum();
        if (total, data) != (self.total_bytes, self.data_bytes) {
            return Err(alloc::format!(
                "byte counts ({total}, {data}) != ({}, {})",
                self.total_bytes,
                self.data_bytes
            ));
        }
        if self.by_class.iter().map(BTreeSet::len).sum::<usize>() != self.by_end.len()
            || self.gap_below.len() != self.by_end.len()
        {
            return Err("gap indexes out of step".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod layout_tests {
    use core::mem::{offset_of, size_of};

    use super::*;

    /// A gap of the searched size class that ends below the length asked
    /// for (a gap low in the address space) is too small, not an overflow.
    #[test]
    fn a_low_gap_smaller_than_the_length_is_skipped() {
        let mut set = VmaSet::new(0x7fff_ffff_f000, 0);
        set.insert(Vma::new(0x1000, 0x2000, Prot::RW, Backing::Anonymous));
        // [0, 0x1000) is in the class of 0x1800; it cannot hold it.
        assert_eq!(set.find_gap_top_down(0x1800, 0, 0x3000), None);
        assert!(set.find_gap_top_down(0x800, 0, 0x3000).is_some());
    }

    /// Bytes of a cache line.
    const LINE: usize = 64;

    #[test]
    fn a_fault_decision_reads_one_line_of_a_vma() {
        let hot_end = [
            offset_of!(Vma, start) + size_of::<u64>(),
            offset_of!(Vma, end) + size_of::<u64>(),
            offset_of!(Vma, backing) + size_of::<Backing>(),
            offset_of!(Vma, prot) + size_of::<Prot>(),
            offset_of!(Vma, shared) + size_of::<bool>(),
            offset_of!(Vma, grows_down) + size_of::<bool>(),
            // The resident count, first in its struct.
            offset_of!(Vma, resident) + size_of::<usize>(),
        ];
        assert!(hot_end.iter().all(|&end| end <= LINE), "{hot_end:?}");
        assert_eq!(size_of::<Slot>() % LINE, 0);
        assert!(size_of::<Slot>() <= 2 * LINE, "a slot is {} bytes", size_of::<Slot>());
    }
}
