//! One process's address space: the VMA set plus the layout (mmap base,
//! brk, stack) and resource limits, with Linux's mmap, munmap, mprotect
//! and brk semantics and the fault decision.

use alloc::vec::Vec;

use libipc::{
    kernel::{KillReason, MAX_FAULT_MAPPINGS},
    pager::{Errno, MapKind},
    types::{Access, HUGE_PAGE_SIZE, PAGE_SIZE, PhysAddr, Prot, VirtAddr},
};

use crate::{
    effects::{Effects, Populate},
    linux::{self, Privileges, abi::map},
    policy::Policy,
    resident::Frame,
    rlimit::{Limit, Resource, Rlimits},
    settings::{HugePages, Settings},
    vma::{Backing, FileId, Hints, Lock, Vma, VmaName, VmaSet},
};

/// One past the highest user page with 4-level paging (47 bits, minus the
/// guard page Linux keeps below the canonical hole).
pub const TASK_SIZE_47: u64 = 0x0000_7fff_ffff_f000;
/// The same with 5-level paging (56 bits of user space).
pub const TASK_SIZE_56: u64 = 0x00ff_ffff_ffff_f000;

pub fn page_down(a: u64) -> u64 {
    a & !(PAGE_SIZE - 1)
}

/// Rounds up to a page; `None` on overflow.
pub fn page_up(a: u64) -> Option<u64> {
    a.checked_add(PAGE_SIZE - 1).map(page_down)
}

/// How a page to be mapped gets its content.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Fill {
    /// A zeroed frame.
    Zero,
    /// No frame: the shared zero frame, mapped read-only (a read of
    /// anonymous memory, when the policy says so). Nothing is allocated.
    ZeroPage,
    /// A zeroed frame that replaces the shared zero frame mapped at the
    /// page: its first write (copy-on-write). The mapping replaces the
    /// page-table entry.
    ZeroPageCopy,
    /// `len` bytes of `file` from `offset`, then zeros.
    File { file: FileId, offset: u64, len: u64 },
    /// The page already has this frame (kept while unmapped, e.g. under
    /// PROT_NONE, or mapped read-only until a write): map it again.
    Resident(Frame),
    /// A zeroed 2 MiB frame for the 2 MiB page at the (2 MiB-aligned)
    /// address: one kernel entry maps it, and
    /// [`AddressSpace::commit_huge`] records its 512 pages.
    ZeroHuge,
}

/// One page a fault decision maps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageToMap {
    pub virt: VirtAddr,
    /// The page-table entry's protection: the VMA's, without write for a
    /// page that must fault on its first write (the zero page, a file page
    /// not written yet).
    pub prot: Prot,
    pub fill: Fill,
    /// A fresh frame stays clean: mapped without write access though the
    /// VMA may be written, so the first write faults and marks it dirty (a
    /// file page, or a shared anonymous page, only read).
    pub clean: bool,
}

impl PageToMap {
    /// What the page holds once mapped with `phys` (the frame the caller
    /// allocated for it; ignored for the zero page and resident pages), to
    /// record with [`AddressSpace::commit_pages`].
    pub fn frame(&self, phys: PhysAddr) -> Frame {
        match self.fill {
            Fill::ZeroPage => Frame::Zero,
            Fill::Resident(frame) => frame,
            _ if self.clean => Frame::Clean(phys),
            _ => Frame::Dirty(phys),
        }
    }
}

/// What to do about a fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultDecision {
    /// Map these pages (the faulting one first) and resume. The caller
    /// allocates frames for `Fill::Zero`/`Fill::File` pages and records
    /// them with [`AddressSpace::commit`].
    Map(Vec<PageToMap>),
    Kill(KillReason),
}

/// Why [`AddressSpace::commit`] refused a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommitError {
    /// No VMA covers the page (it was unmapped meanwhile).
    NotMapped,
    /// The page is already backed by this frame.
    AlreadyResident(Frame),
}

/// A page removed from the address space with its frame, to unmap from the
/// page tables and free (its own frame: never the shared zero frame).
pub type Dropped = (VirtAddr, Frame);

/// A resident page whose protection changed: re-map it (or unmap it, for
/// `Prot::NONE`, keeping the frame). The protection is the page-table
/// entry's ([`Frame::pte_prot`]): the zero page stays read-only.
pub type Reprotected = (VirtAddr, Frame, Prot);

/// An mmap request (the subset of Linux's arguments the model uses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MmapArgs {
    pub addr: u64,
    pub len: u64,
    pub prot: Prot,
    pub flags: MapKind,
    /// For a file mapping: the file, the byte offset and the file's size.
    pub file: Option<FileSlice>,
}

/// The file of a file mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileSlice {
    pub id: FileId,
    /// The byte offset of the mapping's first page.
    pub offset: u64,
    /// The file's size: pages past its last page are SIGBUS, as Linux's
    /// (`u64::MAX`: unknown, never SIGBUS, e.g. a hand-written trace).
    pub size: u64,
}

impl FileSlice {
    /// A file of unknown size (traces, tests).
    pub const fn unsized_(id: FileId, offset: u64) -> FileSlice {
        FileSlice {
            id,
            offset,
            size: u64::MAX,
        }
    }
}

/// The layout of an address space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Top of the top-down mmap area.
    pub mmap_base: u64,
    pub start_brk: u64,
    pub brk: u64,
    /// Size of the data segment for RLIMIT_DATA with brk: Linux's
    /// `end_data - start_data`, the file-backed data only (no .bss).
    pub data_size: u64,
    /// Where the initial stack pointer is.
    pub start_stack: u64,
}

#[derive(Clone, Debug)]
pub struct AddressSpace {
    vmas: VmaSet,
    pub rlimits: Rlimits,
    pub layout: Layout,
    min_addr: u64,
    max_map_count: usize,
    /// The 47-bit allocation window's end; with LA57 addresses up to
    /// `TASK_SIZE_56` are reachable through hints above it.
    window_top: u64,
    la57: bool,
    /// mlockall(MCL_FUTURE): how new mappings are locked (Linux's
    /// `mm->def_flags`).
    pub lock_future: Lock,
    /// The page of the last fault: reclaim leaves it, or two faults of a
    /// program short of memory could take each other's page forever (the
    /// page a write faulted in, dropped by the fault of the instruction
    /// that writes it).
    last_fault: u64,
    /// Shared anonymous objects made so far: the next one's number.
    shmem_objects: u64,
    /// When a fault maps a 2 MiB page (`transparent_hugepage`).
    huge_pages: HugePages,
}

impl AddressSpace {
    /// An empty address space.
    pub fn new(settings: &Settings, rlimits: Rlimits, mmap_base: u64) -> AddressSpace {
        let top = if settings.la57 { TASK_SIZE_56 } else { TASK_SIZE_47 };
        AddressSpace {
            vmas: VmaSet::new(top, settings.stack_guard_gap * PAGE_SIZE),
            rlimits,
            layout: Layout {
                mmap_base,
                start_brk: 0,
                brk: 0,
                data_size: 0,
                start_stack: 0,
            },
            min_addr: settings.mmap_min_addr,
            max_map_count: settings.max_map_count,
            last_fault: u64::MAX,
            window_top: TASK_SIZE_47,
            la57: settings.la57,
            lock_future: Lock::None,
            shmem_objects: 0,
            huge_pages: settings.huge_pages,
        }
    }

    pub fn vmas(&self) -> &VmaSet {
        &self.vmas
    }

    /// The highest user address + 1.
    pub fn top(&self) -> u64 {
        self.vmas.top()
    }

    /// Total mapped bytes (RLIMIT_AS).
    pub fn total_vm(&self) -> u64 {
        self.vmas.total_bytes()
    }

    /// Private writable non-stack bytes (RLIMIT_DATA, as Linux's data_vm).
    pub fn data_vm(&self) -> u64 {
        self.vmas.data_bytes()
    }

    fn as_limit_allows(&self, more: u64) -> bool {
        self.total_vm().saturating_add(more) <= self.rlimits.address_space.soft
    }

    /// Whether `more` bytes of private writable memory fit RLIMIT_DATA
    /// (Linux's may_expand_vm, with its exception: a soft limit of 0 lets
    /// data grow up to the hard limit).
    fn data_limit_allows(&self, more: u64) -> bool {
        let after = self.data_vm().saturating_add(more);
        let Limit { soft, hard } = self.rlimits.data;
        after <= soft || (soft == 0 && after <= hard)
    }

    /// Bytes of locked VMAs (Linux's `locked_vm`, VmLck).
    pub fn locked_vm(&self) -> u64 {
        self.vmas.iter().filter(|v| v.lock != Lock::None).map(Vma::len).sum()
    }

    /// Whether the caller may lock memory at all (Linux's can_do_mlock).
    fn can_lock(&self, privileges: Privileges) -> bool {
        self.rlimits.memlock.soft != 0 || privileges.ipc_lock
    }

    /// Whether `more` locked bytes fit RLIMIT_MEMLOCK (mlock_future_ok).
    fn memlock_allows(&self, more: u64, privileges: Privileges) -> bool {
        privileges.ipc_lock
            || self.locked_vm().saturating_add(more) / PAGE_SIZE <= self.rlimits.memlock.soft / PAGE_SIZE
    }
    /// Runs `op`, undoing it if the VMA count ends above max_map_count.
    /// Near the limit only, a snapshot of the neighbourhood is kept.
    fn within_map_count<R>(&mut self, start: u64, end: u64, op: impl FnOnce(&mut Self) -> R) -> Result<R, Errno> {
        /// Any single operation adds at most two VMAs.
        const MAX_GROWTH: usize = 2;
        if self.vmas.len() + MAX_GROWTH <= self.max_map_count {
            return Ok(op(self));
        }
        let (lo, hi) = (
            start.saturating_sub(PAGE_SIZE),
            end.saturating_add(PAGE_SIZE).min(self.top()),
        );
        let snapshot: Vec<Vma> = self.vmas.overlapping(lo, hi).cloned().collect();
        let span = (
            snapshot.first().map_or(lo, |v| v.start.min(lo)),
            snapshot.last().map_or(hi, |v| v.end.max(hi)),
        );
        let result = op(self);
        if self.vmas.len() > self.max_map_count {
            self.vmas.remove_range(span.0, span.1);
            for v in snapshot {
                self.vmas.insert_raw(v);
            }
            return Err(Errno::NoMemory);
        }
        Ok(result)
    }

    /// Inserts a VMA for the layout code (program segments, stack, vDSO).
    pub fn insert_vma(&mut self, vma: Vma) -> Result<(), Errno> {
        if vma.start >= vma.end || vma.end > self.top() || self.vmas.overlaps(vma.start, vma.end) {
            return Err(Errno::Invalid);
        }
        if self.vmas.len() >= self.max_map_count {
            return Err(Errno::NoMemory);
        }
        self.vmas.insert(vma);
        Ok(())
    }

    /// Inserts a VMA over whatever was there (program segments sharing a
    /// page).
    pub fn replace_vma(&mut self, vma: Vma) -> Result<(), Errno> {
        if vma.start >= vma.end || vma.end > self.top() {
            return Err(Errno::Invalid);
        }
        self.vmas.remove_range(vma.start, vma.end);
        self.insert_vma(vma)
    }

    /// Names the VMA starting at `start` (layout: `[vdso]`, `[vvar]`).
    pub fn name_vma(&mut self, start: u64, name: VmaName) {
        if let Some(v) = self.vmas.find(start) {
            let end = v.end;
            self.vmas.update_range(start, end, |v| v.name = name.clone());
        }
    }

    /// mmap. Returns the address and the pages a MAP_FIXED replaced.
    pub fn mmap(&mut self, args: MmapArgs) -> Result<(VirtAddr, Vec<Dropped>), Errno> {
        self.map(args, Privileges::default())
            .map(|(addr, effects)| (addr, effects.dropped))
            .map_err(linux::Errno::to_native)
    }

    /// mmap with Linux's flags and errnos: the address, and the effects
    /// (pages a MAP_FIXED replaced; a range to populate for MAP_POPULATE
    /// and locked mappings).
    pub fn map(&mut self, args: MmapArgs, privileges: Privileges) -> Result<(VirtAddr, Effects), linux::Errno> {
        use linux::Errno as E;
        let MmapArgs {
            addr,
            len,
            prot,
            flags,
            file,
        } = args;
        let flags = u64::from(flags.0);
        let has = |f: u64| flags & f != 0;
        if !prot.is_valid() {
            return Err(E::Inval);
        }
        if has(map::HUGETLB) {
            // No hugetlbfs: a file is not one (EINVAL); anonymous huge
            // pages are never reserved, as with nr_hugepages=0 (ENOMEM),
            // unless the size is not one x86-64 has (EINVAL).
            return Err(match (file, (flags >> map::HUGE_SHIFT) & map::HUGE_MASK) {
                (None, 0 | 21 | 30) => E::NoMem,
                _ => E::Inval,
            });
        }
        if len == 0 {
            return Err(E::Inval);
        }
        let len = page_up(len).filter(|&l| l <= self.top()).ok_or(E::NoMem)?;
        let anonymous = has(map::ANONYMOUS);
        let shared = match flags & map::TYPE {
            map::SHARED => true,
            map::PRIVATE => false,
            map::DROPPABLE if anonymous => false,
            map::SHARED_VALIDATE if !anonymous => {
                // MAP_SYNC needs DAX, which no file here has.
                if flags & !map::SHARED_VALIDATE_KNOWN != 0 || has(map::SYNC) {
                    return Err(E::OpNotSupp);
                }
                true
            }
            _ => return Err(E::Inval),
        };
        if shared && anonymous && has(map::GROWSDOWN) {
            return Err(E::Inval);
        }
        let backing = if anonymous {
            Backing::Anonymous
        } else {
            let FileSlice { id, offset, .. } = file.ok_or(E::BadF)?;
            if !offset.is_multiple_of(PAGE_SIZE) {
                return Err(E::Inval);
            }
            offset.checked_add(len).ok_or(E::Overflow)?;
            // `data_end` is set once the mapping has its place.
            Backing::File {
                file: id,
                offset,
                data_end: u64::MAX,
            }
        };
        let fixed = has(map::FIXED) || has(map::FIXED_NOREPLACE);
        let start = if fixed {
            if !addr.is_multiple_of(PAGE_SIZE) {
                return Err(E::Inval);
            }
            if addr > self.top() - len {
                return Err(E::NoMem);
            }
            if addr < self.min_addr {
                return Err(E::Perm);
            }
            if has(map::FIXED_NOREPLACE) && self.vmas.overlaps(addr, addr + len) {
                return Err(E::Exist);
            }
            addr
        } else if has(map::BIT32) {
            self.place_low(addr, len).ok_or(E::NoMem)?
        } else {
            self.place(addr, len)?
        };
        let lock = if has(map::LOCKED) {
            if !self.can_lock(privileges) {
                return Err(E::Perm);
            }
            Lock::Locked
        } else {
            self.lock_future
        };
        if lock != Lock::None && !self.memlock_allows(len, privileges) {
            return Err(E::Again);
        }
        let end = start + len;
        // What a MAP_FIXED replaces is given back first (Linux's
        // may_expand_vm counts `npages - nr_replaced`), for both limits.
        let (mut replaced, mut replaced_data) = (0, 0);
        for v in self.vmas.overlapping(start, end) {
            let bytes = v.end.min(end) - v.start.max(start);
            replaced += bytes;
            replaced_data += if v.is_data() { bytes } else { 0 };
        }
        if !self.as_limit_allows(len - replaced) {
            return Err(E::NoMem);
        }
        let mut vma = Vma::new(start, end, prot, backing);
        if let (Some(file), Backing::File { data_end, .. }) = (file, &mut vma.backing)
            && file.size != u64::MAX
        {
            // The file's last byte, where it would lie in this mapping.
            *data_end = start.saturating_add(file.size.saturating_sub(file.offset));
        }
        vma.shared = shared;
        vma.accounted = !shared && prot.contains(Prot::WRITE);
        if shared && matches!(backing, Backing::Anonymous) {
            self.shmem_objects += 1;
            vma.name = VmaName::Shmem(self.shmem_objects);
        }
        vma.grows_down = has(map::GROWSDOWN);
        vma.lock = lock;
        if flags & map::TYPE == map::DROPPABLE {
            // VM_DROPPABLE implies both (the pages are never dumped nor
            // inherited).
            vma.hints = crate::vma::Hints::DONTDUMP.with(crate::vma::Hints::default(), crate::vma::Hints::WIPEONFORK);
        }
        if vma.is_data() && !self.data_limit_allows(len.saturating_sub(replaced_data)) {
            return Err(E::NoMem);
        }
        let populate =
            prot != Prot::NONE && (lock == Lock::Locked || flags & (map::POPULATE | map::NONBLOCK) == map::POPULATE);
        let write = prot.contains(Prot::WRITE) && !shared;
        let dropped = self.within_map_count(start, end, |s| {
            let removed = s.vmas.remove_range(start, end);
            s.vmas.insert(vma);
            resident_of(removed)
        })?;
        let mut effects = Effects {
            dropped,
            ..Effects::default()
        };
        if populate {
            effects.populate.push(Populate {
                start: VirtAddr(start),
                end: VirtAddr(end),
                write,
            });
        }
        Ok((VirtAddr(start), effects))
    }

    /// MAP_32BIT placement: the hint if free, else the lowest free range
    /// in [1 GiB, 2 GiB) (x86-64's bottom-up search for it; Linux also
    /// moves the start up by up to 32 MiB under ASLR, this does not).
    fn place_low(&self, hint: u64, len: u64) -> Option<u64> {
        const LOW: u64 = 0x4000_0000;
        const HIGH: u64 = 0x8000_0000;
        let hint = page_down(hint);
        if hint >= self.min_addr
            && hint.checked_add(len).is_some_and(|e| e <= self.window_top)
            && self.vmas.is_free(hint, hint + len)
        {
            return Some(hint);
        }
        let mut candidate = LOW;
        for v in self.vmas.overlapping(LOW, HIGH) {
            let gap_end = if v.grows_down {
                v.start.saturating_sub(self.vmas.guard())
            } else {
                v.start
            };
            if gap_end >= candidate && gap_end - candidate >= len {
                break;
            }
            candidate = candidate.max(v.end);
        }
        (candidate.checked_add(len)? <= HIGH && self.vmas.is_free(candidate, candidate + len)).then_some(candidate)
    }

    /// Where a non-fixed mapping of `len` bytes goes: the hint if it is
    /// free, else the highest free range below the mmap base.
    fn place(&self, hint: u64, len: u64) -> Result<u64, Errno> {
        let mut hint = page_down(hint);
        if hint != 0 && hint < self.min_addr {
            hint = page_up(self.min_addr).ok_or(Errno::NoMemory)?;
        }
        // With LA57, a hint above the 47-bit window opens the whole range;
        // a hint range crossing the boundary does not, nor one starting at
        // the window's end (Linux's `mmap_address_hint_valid`: above
        // DEFAULT_MAP_WINDOW, strictly).
        let high = if self.la57 && hint > self.window_top {
            self.top()
        } else {
            self.window_top.min(self.top())
        };
        if hint != 0 && hint.checked_add(len).is_some_and(|e| e <= high) && self.vmas.is_free(hint, hint + len) {
            return Ok(hint);
        }
        // Like Linux's arch_get_unmapped_area_topdown: with the full range
        // open, the mmap base moves up by the size of the extra range.
        let base = if high > self.window_top {
            self.layout.mmap_base.saturating_add(high - self.window_top).min(high)
        } else {
            self.layout.mmap_base.min(high)
        };
        self.vmas
            .find_gap_top_down(len, self.min_addr, base)
            .or_else(|| self.vmas.find_gap_top_down(len, self.min_addr, high))
            .ok_or(Errno::NoMemory)
    }

    /// munmap: removes `[addr, addr+len)`; returns the resident pages.
    pub fn munmap(&mut self, addr: u64, len: u64) -> Result<Vec<Dropped>, Errno> {
        if !addr.is_multiple_of(PAGE_SIZE) || len == 0 || addr > self.top() || len > self.top() - addr {
            return Err(Errno::Invalid);
        }
        let end = page_up(addr + len).ok_or(Errno::Invalid)?.min(self.top());
        self.within_map_count(addr, end, |s| resident_of(s.vmas.remove_range(addr, end)))
    }

    /// mprotect: the range must be mapped without holes (ENOMEM).
    pub fn mprotect(&mut self, addr: u64, len: u64, prot: Prot) -> Result<Vec<Reprotected>, Errno> {
        if !addr.is_multiple_of(PAGE_SIZE) || !prot.is_valid() {
            return Err(Errno::Invalid);
        }
        self.protect(addr, len, prot, false)
    }

    /// mprotect after the argument checks; with `grows_down`
    /// (PROT_GROWSDOWN) the range reaches down to the start of the
    /// grows-down VMA it ends in (EINVAL if that VMA does not grow down).
    pub fn protect(&mut self, addr: u64, len: u64, prot: Prot, grows_down: bool) -> Result<Vec<Reprotected>, Errno> {
        if len == 0 {
            return Ok(Vec::new());
        }
        let end = page_up(addr.checked_add(len).ok_or(Errno::NoMemory)?).ok_or(Errno::NoMemory)?;
        if end > self.top() {
            return Err(Errno::NoMemory);
        }
        let mut addr = addr;
        if grows_down {
            let first = self.vmas.overlapping(addr, end).next().ok_or(Errno::NoMemory)?;
            if !first.grows_down {
                return Err(Errno::Invalid);
            }
            addr = first.start;
        }
        let mut cursor = addr;
        for v in self.vmas.overlapping(addr, end) {
            if v.start > cursor {
                return Err(Errno::NoMemory);
            }
            cursor = v.end;
        }
        if cursor < end {
            return Err(Errno::NoMemory);
        }
        // The clock page is the kernel's, read-only everywhere: Linux maps
        // [vvar] without VM_MAYWRITE or VM_MAYEXEC, so mprotect says EACCES.
        if (prot.contains(Prot::WRITE) || prot.contains(Prot::EXEC))
            && self.vmas.overlapping(addr, end).any(|v| v.name == VmaName::Vvar)
        {
            return Err(Errno::Access);
        }
        // Memory that turns into data counts against RLIMIT_DATA (Linux's
        // mprotect_fixup asks may_expand_vm).
        let turning: u64 = self
            .vmas
            .overlapping(addr, end)
            .filter(|v| !v.is_data() && prot.contains(Prot::WRITE) && !v.shared && !v.grows_down)
            .map(|v| v.end.min(end) - v.start.max(addr))
            .sum();
        if turning > 0 && !self.data_limit_allows(turning) {
            return Err(Errno::NoMemory);
        }
        self.within_map_count(addr, end, |s| {
            let mut changed = Vec::new();
            s.vmas.update_range(addr, end, |v| {
                // Made writable, private memory is charged; made read-only,
                // it stays charged unless it is anonymous memory that never
                // had a page of its own (Linux 6.x drops VM_ACCOUNT when no
                // anon_vma exists; the zero page makes none).
                if prot.contains(Prot::WRITE) {
                    v.accounted |= !v.shared;
                } else if matches!(v.backing, Backing::Anonymous) && v.resident.frames().next().is_none() {
                    v.accounted = false;
                }
                if v.prot != prot {
                    v.prot = prot;
                    // PROT_NONE takes the pages out of the page tables, and
                    // the dirty bits with them: reclaim must not take them
                    // for clean.
                    if prot == Prot::NONE {
                        v.resident.mark_all_written();
                    }
                    changed.extend(v.resident.iter().map(|(p, f)| (VirtAddr(p), f, f.pte_prot(prot))));
                    // Re-mapped page by page: the kernel splits its 2 MiB pages.
                    v.resident.split_all_huge();
                }
            });
            changed
        })
    }

    /// Sets up the heap: brk starts (and is) at `start`.
    pub fn set_brk_start(&mut self, start: u64, data_size: u64) {
        self.layout.start_brk = start;
        self.layout.brk = start;
        self.layout.data_size = data_size;
    }

    /// brk(addr) with Linux's semantics: the new break on success, the old
    /// one on any failure; `brk(0)` (or below the start) queries. Shrinking
    /// returns the pages freed.
    pub fn brk(&mut self, addr: u64) -> (u64, Vec<Dropped>) {
        let Layout {
            start_brk,
            brk,
            data_size,
            ..
        } = self.layout;
        if addr < start_brk || start_brk == 0 {
            return (brk, Vec::new());
        }
        // Linux's check_data_rlimit: the heap plus the file-backed data.
        if (addr - start_brk).saturating_add(data_size) > self.rlimits.data.soft {
            return (brk, Vec::new());
        }
        let (Some(new_end), Some(old_end)) = (page_up(addr), page_up(brk)) else {
            return (brk, Vec::new());
        };
        if new_end == old_end {
            self.layout.brk = addr;
            return (addr, Vec::new());
        }
        if new_end < old_end {
            let Ok(dropped) = self.munmap(new_end, old_end - new_end) else {
                return (brk, Vec::new());
            };
            self.layout.brk = addr;
            return (addr, dropped);
        }
        // Growing: the new end plus a page must stay below the next mapping
        // (and its guard gap, for a stack), and nothing may sit in between,
        // not even a mapping that straddles the old end.
        if self.vmas.find(old_end).is_some() {
            return (brk, Vec::new());
        }
        let limit = self.vmas.at_or_above(old_end).map_or(self.top(), |next| {
            if next.grows_down {
                next.start.saturating_sub(self.vmas.guard())
            } else {
                next.start
            }
        });
        if new_end.saturating_add(PAGE_SIZE) > limit || new_end > self.top() {
            return (brk, Vec::new());
        }
        // Then may_expand_vm: the heap is private writable memory, counted
        // with every other such mapping against RLIMIT_DATA.
        if !self.as_limit_allows(new_end - old_end) || !self.data_limit_allows(new_end - old_end) {
            return (brk, Vec::new());
        }
        let mut heap = Vma::new(old_end, new_end, Prot::RW, Backing::Anonymous);
        heap.name = VmaName::Heap;
        heap.lock = self.lock_future;
        if self
            .within_map_count(old_end, new_end, |s| s.vmas.insert(heap))
            .is_err()
        {
            return (brk, Vec::new());
        }
        self.layout.brk = addr;
        (addr, Vec::new())
    }

    /// sbrk(delta) on top of brk: the old break, or ENOMEM.
    pub fn sbrk(&mut self, delta: i64) -> Result<(u64, Vec<Dropped>), Errno> {
        let old = self.layout.brk;
        let new = old.checked_add_signed(delta).ok_or(Errno::NoMemory)?;
        if delta == 0 {
            return Ok((old, Vec::new()));
        }
        let (now, dropped) = self.brk(new);
        if now == new {
            Ok((old, dropped))
        } else {
            Err(Errno::NoMemory)
        }
    }

    /// The fault decision for an access at `addr`.
    pub fn fault(&mut self, policy: &mut dyn Policy, addr: u64, access: Access) -> FaultDecision {
        let page = page_down(addr);
        self.last_fault = page;
        let huge_pages = self.huge_pages;
        if let Some(vma) = self.vmas.find(addr) {
            if !permits(vma.prot, access) {
                return FaultDecision::Kill(KillReason::Protection);
            }
            if past_end_of_file(vma, page) {
                return FaultDecision::Kill(KillReason::PastEndOfFile);
            }
            if vma.resident.contains(page) {
                return match self.touch(page, access == Access::Write) {
                    Some(map) => FaultDecision::Map(alloc::vec![map]),
                    None => FaultDecision::Kill(KillReason::NoMapping),
                };
            }
            // A 2 MiB page where the setting and the VMA allow one, for a
            // read too: there is no huge zero page, so it is a zeroed one.
            if huge_pages != HugePages::Never
                && let Some(region) = huge_region(vma, page, huge_pages)
            {
                return FaultDecision::Map(alloc::vec![PageToMap {
                    virt: VirtAddr(region),
                    prot: vma.prot,
                    fill: Fill::ZeroHuge,
                    clean: false,
                }]);
            }
            // The shared zero frame answers a read of private anonymous
            // memory when the policy wants it (Linux's do_anonymous_page).
            let zero_page = access != Access::Write
                && !vma.shared
                && matches!(vma.backing, Backing::Anonymous)
                && policy.zero_page(vma, page);
            let window = policy.fault_window(vma, page);
            return FaultDecision::Map(window_pages(vma, page, window, access, zero_page));
        }
        self.grow_stack(addr, access)
    }

    /// The page that makes `page` (page-aligned) accessible, for writing
    /// with `write`, whatever the VMA's protection: a fault's resident
    /// page, or a page the pager reaches into from outside the program (a
    /// debugger's write through `/proc/<pid>/mem`, the personality's
    /// copies, populate). A write makes the page the process's own: the
    /// zero page is copied ([`Fill::ZeroPageCopy`]), a file copy becomes
    /// anonymous (recorded here). `None` outside every VMA.
    pub fn touch(&mut self, page: u64, write: bool) -> Option<PageToMap> {
        let vma = self.vmas.find(page)?;
        let prot = vma.prot;
        let Some(frame) = vma.resident.get(page) else {
            let access = if write { Access::Write } else { Access::Read };
            return Some(page_to_map(vma, page, access, false));
        };
        let (fill, prot) = match (frame, write) {
            (Frame::Zero, true) => (Fill::ZeroPageCopy, prot),
            (Frame::Clean(f), true) => {
                // The first write to a private file page: the copy is the
                // process's own now, anonymous data.
                let written = Frame::Dirty(f);
                self.vmas.find_mut(page)?.resident.replace(page, written);
                (Fill::Resident(written), prot)
            }
            (frame, _) => (Fill::Resident(frame), frame.pte_prot(prot)),
        };
        Some(PageToMap {
            virt: VirtAddr(page),
            prot,
            fill,
            clean: false,
        })
    }

    /// A fault below a grows-down VMA: grow it unless that would clash.
    fn grow_stack(&mut self, addr: u64, access: Access) -> FaultDecision {
        let page = page_down(addr);
        let Some(stack) = self.vmas.at_or_above(addr).filter(|v| v.grows_down) else {
            return FaultDecision::Kill(KillReason::NoMapping);
        };
        let (stack_start, stack_end, prot) = (stack.start, stack.end, stack.prot);
        if addr < self.min_addr {
            return FaultDecision::Kill(KillReason::NoMapping);
        }
        if !permits(prot, access) {
            return FaultDecision::Kill(KillReason::Protection);
        }
        // Stack-clash protection: never within the guard gap of an
        // accessible mapping below, unless that one grows down too (as
        // Linux's expand_downwards).
        if let Some(prev) = self.vmas.below(page)
            && prev.prot != Prot::NONE
            && !prev.grows_down
            && page < prev.end.saturating_add(self.vmas.guard())
        {
            return FaultDecision::Kill(KillReason::GuardGap);
        }
        if stack_end - page > self.rlimits.stack.soft || !self.as_limit_allows(stack_start - page) {
            return FaultDecision::Kill(KillReason::Limit);
        }
        self.vmas.extend_down(stack_start, page);
        match self.vmas.find(page) {
            Some(vma) => FaultDecision::Map(alloc::vec![page_to_map(vma, page, access, false)]),
            // Cannot happen: the stack now starts at `page`.
            None => FaultDecision::Kill(KillReason::NoMapping),
        }
    }

    /// Records that `page` is now backed by `frame` (after a
    /// [`FaultDecision::Map`]). Refused when no VMA covers the page any more
    /// or the page already has a frame: the caller then frees `frame`
    /// instead of mapping it, so no frame is ever lost or mapped twice.
    pub fn commit(&mut self, page: VirtAddr, frame: Frame) -> Result<(), CommitError> {
        let page = page_down(page.0);
        let vma = self.vmas.find_mut(page).ok_or(CommitError::NotMapped)?;
        vma.resident
            .insert_new(page, frame)
            .map_err(CommitError::AlreadyResident)
    }

    /// Records that the 2 MiB page at `region` (from a [`Fill::ZeroHuge`]
    /// decision) is backed by the 512 frames from `base`. Refused, as
    /// [`AddressSpace::commit`], when the VMA no longer covers it all or a
    /// page of it has a frame: the caller then frees the huge frame.
    pub fn commit_huge(&mut self, region: VirtAddr, base: PhysAddr) -> Result<(), CommitError> {
        let vma = self.vmas.find_mut(region.0).ok_or(CommitError::NotMapped)?;
        if !region.is_huge_aligned() || region.0 + HUGE_PAGE_SIZE > vma.end {
            return Err(CommitError::NotMapped);
        }
        vma.resident
            .insert_huge(region.0, base)
            .map_err(CommitError::AlreadyResident)
    }

    /// The 2 MiB pages mapped whole in `[addr, addr+len)` (smaps's
    /// AnonHugePages).
    pub fn huge_pages(&self, addr: u64, len: u64) -> u64 {
        let end = addr.saturating_add(len);
        self.vmas
            .overlapping(addr, end)
            .map(|v| {
                if v.start >= addr && v.end <= end {
                    v.resident.huge_pages()
                } else {
                    let first = addr.max(v.start).next_multiple_of(HUGE_PAGE_SIZE);
                    (first..end.min(v.end))
                        .step_by(HUGE_PAGE_SIZE as usize)
                        .filter(|&r| r + HUGE_PAGE_SIZE <= end && v.resident.is_huge(r))
                        .count() as u64
                }
            })
            .sum()
    }

    /// [`AddressSpace::commit`] for all the pages of one fault: the VMA is
    /// looked up once per run of pages in it, not once per page. `refused`
    /// gets each page that could not be recorded (its frame must be freed,
    /// not mapped); the others are recorded.
    pub fn commit_pages(&mut self, pages: &[(VirtAddr, Frame)], mut refused: impl FnMut(VirtAddr, Frame, CommitError)) {
        let mut i = 0;
        while i < pages.len() {
            let (virt, frame) = pages[i];
            let Some(v) = self.vmas.find_mut(page_down(virt.0)) else {
                refused(virt, frame, CommitError::NotMapped);
                i += 1;
                continue;
            };
            let run = &pages[i..];
            let run = &run[..run.iter().take_while(|(p, _)| v.contains(p.0)).count()];
            v.resident.insert_all(run, |k, old| {
                let (virt, frame) = run[k];
                refused(virt, frame, CommitError::AlreadyResident(old));
            });
            i += run.len();
        }
    }

    /// Records that the pager wrote `page` itself (through its window, for
    /// `/proc/<pid>/mem` or a call's result): the kernel's dirty bit does
    /// not see such writes, and reclaim must not drop the page.
    pub fn mark_written(&mut self, page: VirtAddr) {
        let page = page_down(page.0);
        if let Some(vma) = self.vmas.find_mut(page) {
            vma.resident.mark_written(page);
        }
    }

    /// Forgets the frame of `page` (a fault the caller could not finish),
    /// returning it to be freed.
    pub fn uncommit(&mut self, page: VirtAddr) -> Result<Frame, CommitError> {
        let page = page_down(page.0);
        let vma = self.vmas.find_mut(page).ok_or(CommitError::NotMapped)?;
        vma.resident.remove(page).ok_or(CommitError::NotMapped)
    }

    /// getrlimit.
    pub fn getrlimit(&self, resource: Resource) -> Limit {
        self.rlimits.get(resource)
    }

    /// setrlimit with its rules (see [`Rlimits::set`]).
    pub fn setrlimit(&mut self, resource: Resource, limit: Limit, privileged: bool) -> Result<(), Errno> {
        self.rlimits.set(resource, limit, privileged)
    }

    /// The frame backing `page`, if it is resident (a pagemap entry).
    pub fn frame_of(&self, page: VirtAddr) -> Option<Frame> {
        let page = page_down(page.0);
        self.vmas.find(page)?.resident.get(page)
    }

    /// Resident pages in `[addr, addr+len)`.
    pub fn resident(&self, addr: u64, len: u64) -> u64 {
        let end = addr.saturating_add(len);
        self.vmas
            .overlapping(addr, end)
            .map(|v| v.resident.range(addr..end).count() as u64)
            .sum()
    }

    /// Every frame the space owns (to free when it dies): never the
    /// shared zero frame.
    pub fn frames(&self) -> impl Iterator<Item = PhysAddr> + '_ {
        self.vmas.iter().flat_map(|v| v.resident.frames())
    }
}

/// x86 semantics: any accessible page is readable; writes and instruction
/// fetches need their bit.
fn permits(prot: Prot, access: Access) -> bool {
    match access {
        Access::Read => prot != Prot::NONE,
        Access::Write => prot.contains(Prot::WRITE),
        Access::Execute => prot.contains(Prot::EXEC),
    }
}

/// The pages a fault at `page` maps: the faulting page first, then the
/// non-resident pages of `window` inside `vma`, at most one reply's worth;
/// with `zero_page`, all of them the shared zero frame.
fn window_pages(
    vma: &Vma,
    page: u64,
    window: core::ops::Range<u64>,
    access: Access,
    zero_page: bool,
) -> Vec<PageToMap> {
    // A window never reaches past the end of a mapped file (SIGBUS there).
    let end = match vma.backing {
        Backing::File { data_end, .. } => page_up(data_end).unwrap_or(vma.end).min(vma.end),
        Backing::Anonymous => vma.end,
    };
    let (low, high) = (page_down(window.start).max(vma.start), window.end.min(end));
    let span = high.saturating_sub(low) / PAGE_SIZE;
    let mut pages = Vec::with_capacity(span.clamp(1, MAX_FAULT_MAPPINGS as u64) as usize);
    pages.push(page_to_map(vma, page, access, zero_page));
    if span > 1 {
        // One walk over the window's resident pages (usually none), not a
        // lookup per page.
        let mut resident = vma.resident.range(low..high).map(|(p, _)| p).peekable();
        let others = (low..high).step_by(PAGE_SIZE as usize).filter(|&p| {
            while resident.next_if(|&r| r < p).is_some() {}
            p != page && resident.peek() != Some(&p)
        });
        for p in others.take(MAX_FAULT_MAPPINGS - 1) {
            // Pages around the fault were not accessed: never written.
            pages.push(page_to_map(vma, p, Access::Read, zero_page));
        }
    }
    pages
}

/// The 2 MiB page a fault at `page` may map under `mode` (not
/// [`HugePages::Never`]): the aligned 2 MiB around it, if `vma` covers it
/// whole, is private anonymous memory (not a stack, which grows a page at
/// a time), advised as `mode` needs, and none of it is resident.
fn huge_region(vma: &Vma, page: u64, mode: HugePages) -> Option<u64> {
    let region = page - page % HUGE_PAGE_SIZE;
    let advised = match mode {
        HugePages::Always => !vma.hints.contains(Hints::NOHUGEPAGE),
        HugePages::Madvise => vma.hints.contains(Hints::HUGEPAGE),
        HugePages::Never => false,
    };
    let fits = region >= vma.start && region.checked_add(HUGE_PAGE_SIZE).is_some_and(|end| end <= vma.end);
    (advised
        && fits
        && vma.backing == Backing::Anonymous
        && !vma.shared
        && !vma.grows_down
        && vma.resident.range(region..region + HUGE_PAGE_SIZE).next().is_none())
    .then_some(region)
}

/// How a non-resident `page` of `vma` is mapped for `access`: a file
/// page, or a shared anonymous one, not written stays clean and read-only
/// until its first write (which makes a private file page anonymous), as
/// the zero page does.
pub fn page_to_map(vma: &Vma, page: u64, access: Access, zero_page: bool) -> PageToMap {
    let fill = if zero_page {
        Fill::ZeroPage
    } else {
        page_fill(vma, page)
    };
    let clean = access != Access::Write
        && match fill {
            Fill::File { .. } => true,
            Fill::Zero => vma.shared,
            _ => false,
        };
    let prot = match fill {
        Fill::ZeroPage => Frame::Zero.pte_prot(vma.prot),
        _ if clean => Frame::Clean(PhysAddr(0)).pte_prot(vma.prot),
        _ => vma.prot,
    };
    PageToMap {
        virt: VirtAddr(page),
        prot,
        fill,
        clean,
    }
}

/// A page of a file mapping wholly past the end of its file: Linux
/// raises SIGBUS there (the tail of the file's last page reads as zeros).
fn past_end_of_file(vma: &Vma, page: u64) -> bool {
    match vma.backing {
        Backing::File { data_end, .. } => page_up(data_end).is_some_and(|end| page >= end),
        Backing::Anonymous => false,
    }
}

/// How `page` of `vma` gets its content when it first becomes resident
/// (also what a read of it shows before then).
pub fn page_fill(vma: &Vma, page: u64) -> Fill {
    match vma.backing {
        Backing::Anonymous => Fill::Zero,
        Backing::File { file, offset, data_end } => {
            let len = data_end.saturating_sub(page).min(PAGE_SIZE);
            if len == 0 {
                Fill::Zero
            } else {
                Fill::File {
                    file,
                    offset: offset + (page - vma.start),
                    len,
                }
            }
        }
    }
}

fn resident_of(removed: Vec<Vma>) -> Vec<Dropped> {
    removed
        .into_iter()
        .flat_map(|v| v.resident.into_iter().map(|(p, f)| (VirtAddr(p), f)))
        .collect()
}

mod lock;
mod madvise;
mod mremap;
pub mod reclaim;
mod residency;

#[cfg(test)]
mod zero_page;

pub use madvise::Advice;
pub use mremap::RemapFlags;
pub use residency::SyncFlags;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod proptests;
