//! The system-call ABI.
//!
//! `syscall` with the number in `rax` and arguments in `rdi, rsi, rdx, r10,
//! r8, r9` (the Linux order). On return `rax` holds `0` for success or a
//! [`SysError`] code, and `rdi, rsi, rdx` hold the results. All other
//! registers except `rcx` and `r11` (clobbered by `syscall` itself) are
//! preserved, except that a short message (a [`crate::short::ShortMessage`])
//! always travels in `r8` (label) and `r9, r12, r13, r14` (words): as an
//! argument of the `*Short` calls and as a result of every receive, and that
//! every receive writes `r10` (the pid its sender acts for, 0 if none).
//!
//! # Naming: capabilities, not global ids
//!
//! Endpoints are kernel objects. A process names them only through its own
//! table of [`CAP_SLOTS`] capabilities ([`crate::types::CapSlot`] indexes it); each
//! capability carries [`Rights`]: `SEND` to call through it, `RECV` to
//! receive on it, `GRANT` to copy it to another process. The kernel checks
//! the right on every call; there is no name that a process could claim, so
//! no program can stand in for a server. `EndpointCreate` makes a new
//! endpoint and puts a capability with every right in the caller's first
//! free slot. A pager hands capabilities to the processes it pages
//! (`CapGrant`, with rights no wider than its own). An endpoint lives while
//! any capability or thread names it; once no `RECV` capability is left,
//! its queued and future callers get [`SysError::ServerGone`].
//!
//! Replies need no name either: delivering a call (or a fault) gives the
//! receiving thread the one-shot *reply right* of that call. `Reply*`,
//! `LeaseRead`/`LeaseWrite` and `Impersonate` act on it; a reply consumes
//! it. A server that receives again without answering drops it, and the
//! caller gets [`SysError::NotAnswered`] (a faulting thread's process is
//! killed instead: it cannot go on without its page); a server that exits
//! or dies drops it with [`SysError::ServerGone`]. Nobody waits forever on a
//! server that is gone.
//!
//! Slot conventions of the launcher (the pager), not of the kernel:
//! [`caps::PAGER`], [`caps::SERVICE`], [`caps::PROCFS`].
//!
//! | call | arguments | results |
//! |---|---|---|
//! | `Call` | endpoint cap, msg ptr, msg len, reply ptr, reply cap, [`LeaseDesc`] ptr or 0 | reply len |
//! | `Recv` | endpoint cap, buf ptr, buf cap | len, sender word, [`MessageKind`]; `r10`: acting-for pid |
//! | `ReplyRecv` | endpoint cap, buf ptr, buf cap, -, reply ptr (`r8`), reply len (`r9`) | as `Recv` |
//! | `Reply` | reply ptr, reply len | - |
//! | `CallShort` | endpoint cap, message in registers | reply message in registers |
//! | `ReplyRecvShort` | endpoint cap, buf ptr, buf cap, reply message in registers | as `Recv` |
//! | `ReplyShort` | reply message in registers | - |
//! | `EndpointCreate` | - | the new capability's slot |
//! | `CapDrop` | slot | - |
//! | `CapCopy` | slot, [`Rights`] (no wider than the slot's) | the copy's slot |
//! | `Impersonate` | 1: act for the caller whose reply right this thread holds; 0: revert | - |
//! | `DebugWrite` | ptr, len, 0, [`DEBUG_WRITE_CONSOLE`], [`DEBUG_WRITE_LOG`] or [`DEBUG_WRITE_TRACE`] (root pager only) | - (the root pager writes the log unless it asks for the console, where every other process writes) |
//! | `Exit` | code | never returns |
//! | `Yield` | - | - |
//! | `Random` | - | 64 random bits (RDRAND/RDSEED, else a TSC-seeded mix) |
//! | `Ticks` | - | TSC |
//! | `KernelInfo` | - | free kernel frames, total kernel frames, kernel heap bytes in use |
//! | `FaultProfile` | ptr to a [`FaultProfile`] | - (the kernel fills it) |
//! | `LeaseRead` | offset, buf ptr, len | bytes copied |
//! | `LeaseWrite` | offset, src ptr, len | bytes copied |
//! | `SetSegmentBase` | which ([`SegmentBase`]), base | - (the calling thread's FS or GS base; a base at or above [`crate::types::USER_END`] or an unknown `which` is `InvalidArgument`) |
//! | `SleepUntil` | `CLOCK_MONOTONIC` deadline in ns | - (the thread is parked until the first timer tick at or after it; a past deadline returns at once) |
//! | `ThreadEntries` | tid ([`SELF_THREAD`], or a thread of a process the caller pages) | the system calls and exceptions that thread has made (interrupts are not its doing); tests check that the vDSO's clocks enter no kernel |
//!
//! A lease (Hubris style) is memory a caller lends the server for one call:
//! bulk data moves through it with `LeaseRead`/`LeaseWrite` instead of many
//! small messages. The kernel checks the lease when the call is made, and
//! each access against its bounds and rights while the server holds the
//! call's reply right.
//!
//! Impersonation: while a thread impersonates, every message it sends is
//! stamped with the pid of the caller it serves (`r10` of the receive), so
//! a server it calls checks that caller's rights instead of its own. It ends
//! with `Impersonate(0)` or when the reply right is used or dropped.
//!
//! Pager-only calls (refused with `NotPermitted` for any other task, and
//! for a process the caller does not page):
//!
//! | call | arguments | results |
//! |---|---|---|
//! | `SpaceCreate` | [`SpaceFlags`], routes ptr (a [`SyscallRoutes`] or 0) | new pid |
//! | `ThreadStart` | pid, entry, stack, arg, fault endpoint cap (needs `RECV`), system-call endpoint cap (needs `SEND`; [`NO_CAP`] for none) | new tid |
//! | `Map` | pid, virt, phys, [`MapFlags`] bits | - |
//! | `Unmap` | pid, virt, page count | pages that were present |
//! | `PageBits` | pid, virt, page count (1 to 64), [`PageBitsClear`] bits | three bitmaps, bit `i` for page `i`: present, accessed, dirty; the asked bits are cleared after they are read (how a pager runs a clock for reclaim) |
//! | `UnmapClean` | pid, virt, page mask (bit `i`: the page at `virt + i * 4096`) | the masked pages it unmapped (present and not dirty), and those it left because they are dirty: reclaim's check and unmap in one step, so no write can fall between them |
//! | `SpaceDestroy` | pid | - |
//! | `CapGrant` | pid, source slot (needs `GRANT`), destination slot, [`Rights`] | - |
//! | `VvarFrame` | - | the clock page's physical address: the pager maps it read-only (`Map` refuses it writable or executable) |
//! | `ZeroFrame` | - | the zero frame's physical address: a frame of zeros the pager maps read-only for anonymous memory only read (`Map` refuses it writable) |
//! | `Shutdown` | [`ExitStatus`] | never returns |
//!
//! # Personalities
//!
//! A process created with [`SpaceFlags::LINUX`] runs Linux's system-call
//! ABI: the kernel interprets none of its `syscall`s. It forwards each one,
//! as it forwards a fault, as a register message of kind
//! [`MessageKind::Syscall`] ([`crate::kernel::SyscallInfo`]: the number as
//! the label, arguments 0-3 as the words, 4 and 5 in `rdi` and `r15`) to the
//! fault endpoint when the process's [`SyscallRoutes`] has the number's bit
//! (the pager: memory calls), else to the thread's system-call endpoint.
//! The handler answers with a [`crate::kernel::SyscallReply`] (rax, and
//! optionally rip and rsp), and may read and write the caller's memory with
//! `LeaseRead`/`LeaseWrite`, the offset being the caller's address.
//!
//! Receives return the message's [`MessageKind`]. A byte message (`Call`)
//! is answered with `Reply`/`ReplyRecv`; a short one (a `CallShort`, or a
//! fault the kernel reports) with `ReplyShort`/`ReplyRecvShort`; answering
//! in the other form is `Malformed`. A fault's reply is a
//! [`crate::kernel::FaultReply`], validated by the kernel like `Map`.

/// Which of the accessed and dirty bits `PageBits` clears after it reads
/// them. A pager that reclaims clears the accessed bits on each sweep (a
/// clock's second chance) and leaves the dirty bits, which say a page no
/// longer equals what refilling it would give.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PageBitsClear(pub u64);

impl PageBitsClear {
    pub const NONE: PageBitsClear = PageBitsClear(0);
    pub const ACCESSED: PageBitsClear = PageBitsClear(1);
    pub const DIRTY: PageBitsClear = PageBitsClear(2);
    pub const ALL: u64 = 3;

    pub const fn union(self, other: PageBitsClear) -> PageBitsClear {
        PageBitsClear(self.0 | other.0)
    }
}

/// The most pages one `PageBits` reports: one bit each in a register.
pub const MAX_PAGE_BITS: u64 = 64;

/// `DebugWrite`'s flag that sends the root pager's bytes to the program
/// console rather than the log: a Linux program's `write(1, ..)` that the
/// pager serves.
pub const DEBUG_WRITE_CONSOLE: u64 = 1;

/// `DebugWrite`'s flag that sends a process's bytes to the log rather
/// than the program console: a server's diagnostics, kept out of the
/// output of the programs it serves. Not with [`DEBUG_WRITE_CONSOLE`].
pub const DEBUG_WRITE_LOG: u64 = 2;

/// `DebugWrite`'s flag that sends the root pager's bytes to the trace
/// channel (QEMU's debugcon, port 0xe9), where a run's recorded trace goes
/// (`pager::record`), apart from the log and the programs' output. Only
/// the root pager may; alone, never with another flag.
pub const DEBUG_WRITE_TRACE: u64 = 4;

/// The most bytes one `DebugWrite` takes.
pub const MAX_DEBUG_WRITE: u64 = 4096;

/// The calling thread, where a call takes a tid (`ThreadEntries`).
pub const SELF_THREAD: u64 = u64::MAX;

/// "No capability" where a call takes an optional slot.
pub const NO_CAP: u64 = u64::MAX;

/// How a new address space runs (`SpaceCreate`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(transparent)]
pub struct SpaceFlags(pub u64);

impl SpaceFlags {
    /// The project's own ABI (`libipc::sys`).
    pub const NATIVE: SpaceFlags = SpaceFlags(0);
    /// Linux's system-call ABI, forwarded to handlers.
    pub const LINUX: SpaceFlags = SpaceFlags(1);
    pub const ALL: u64 = 1;
}

/// Which Linux system calls go to the fault endpoint (the pager) rather
/// than the thread's system-call endpoint: bit `n` for number `n`. Numbers
/// past the map go to the system-call endpoint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct SyscallRoutes(pub [u64; 8]);

impl SyscallRoutes {
    pub const NUMBERS: u64 = 512;

    pub fn with(mut self, number: u64) -> SyscallRoutes {
        if number < Self::NUMBERS {
            self.0[(number / 64) as usize] |= 1 << (number % 64);
        }
        self
    }

    pub const fn to_fault_endpoint(&self, number: u64) -> bool {
        number < Self::NUMBERS && self.0[(number / 64) as usize] & (1 << (number % 64)) != 0
    }
}

/// Capability slots of each process's table.
pub const CAP_SLOTS: u32 = 32;

/// The rights a capability carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct Rights(pub u64);

impl Rights {
    pub const NONE: Rights = Rights(0);
    /// Call through it.
    pub const SEND: Rights = Rights(1);
    /// Receive on it (and so serve its callers).
    pub const RECV: Rights = Rights(2);
    /// Copy it to another process.
    pub const GRANT: Rights = Rights(4);
    pub const ALL: Rights = Rights(7);

    pub const fn contains(self, other: Rights) -> bool {
        self.0 & other.0 == other.0
    }

    pub const fn union(self, other: Rights) -> Rights {
        Rights(self.0 | other.0)
    }

    /// No bit outside [`Rights::ALL`].
    pub const fn is_valid(self) -> bool {
        self.0 & !Rights::ALL.0 == 0
    }
}

/// Where the launcher (the pager) puts the capabilities it grants.
pub mod caps {
    use crate::types::CapSlot;

    /// `SEND` to the process's pager (its memory requests).
    pub const PAGER: CapSlot = CapSlot(0);
    /// A service's own endpoint (`RECV`): where its callers' calls arrive.
    pub const SERVICE: CapSlot = CapSlot(1);
    /// `SEND` to the procfs service, when the boot line starts it.
    pub const PROCFS: CapSlot = CapSlot(2);
    /// Other services the boot line names get slots from here on; a
    /// program finds one with the pager's `Request::Service`.
    pub const FIRST_OTHER_SERVICE: CapSlot = CapSlot(3);
}

/// System-call numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Syscall {
    Call = 1,
    Recv = 2,
    ReplyRecv = 3,
    Reply = 4,
    EndpointCreate = 5,
    DebugWrite = 6,
    Exit = 7,
    Yield = 8,
    Random = 9,
    Ticks = 10,
    KernelInfo = 11,
    FaultProfile = 12,
    LeaseRead = 13,
    LeaseWrite = 14,
    CallShort = 15,
    ReplyRecvShort = 16,
    ReplyShort = 17,
    SpaceCreate = 20,
    ThreadStart = 21,
    Map = 22,
    Unmap = 23,
    SpaceDestroy = 24,
    Shutdown = 25,
    CapDrop = 26,
    CapGrant = 27,
    Impersonate = 28,
    CapCopy = 29,
    SetSegmentBase = 30,
    SleepUntil = 31,
    VvarFrame = 32,
    ThreadEntries = 33,
    ZeroFrame = 34,
    PageBits = 40,
    UnmapClean = 41,
}

impl Syscall {
    pub const fn from_raw(n: u64) -> Option<Syscall> {
        Some(match n {
            1 => Syscall::Call,
            2 => Syscall::Recv,
            3 => Syscall::ReplyRecv,
            4 => Syscall::Reply,
            5 => Syscall::EndpointCreate,
            6 => Syscall::DebugWrite,
            7 => Syscall::Exit,
            8 => Syscall::Yield,
            9 => Syscall::Random,
            10 => Syscall::Ticks,
            11 => Syscall::KernelInfo,
            12 => Syscall::FaultProfile,
            13 => Syscall::LeaseRead,
            14 => Syscall::LeaseWrite,
            15 => Syscall::CallShort,
            16 => Syscall::ReplyRecvShort,
            17 => Syscall::ReplyShort,
            20 => Syscall::SpaceCreate,
            21 => Syscall::ThreadStart,
            22 => Syscall::Map,
            23 => Syscall::Unmap,
            24 => Syscall::SpaceDestroy,
            25 => Syscall::Shutdown,
            26 => Syscall::CapDrop,
            27 => Syscall::CapGrant,
            28 => Syscall::Impersonate,
            29 => Syscall::CapCopy,
            30 => Syscall::SetSegmentBase,
            31 => Syscall::SleepUntil,
            32 => Syscall::VvarFrame,
            33 => Syscall::ThreadEntries,
            34 => Syscall::ZeroFrame,
            40 => Syscall::PageBits,
            41 => Syscall::UnmapClean,
            _ => return None,
        })
    }
}

/// Which segment base `SetSegmentBase` sets (Linux's `arch_prctl`
/// `ARCH_SET_FS`/`ARCH_SET_GS`): thread-local storage addresses through it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum SegmentBase {
    Fs = 0,
    Gs = 1,
}

/// Why the kernel refused a system call. Every refusal changes nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum SysError {
    /// No such system call.
    NoSuchCall = 1,
    /// A pointer argument is not canonical, not in the user half, or not
    /// mapped with the access the call needs (EFAULT).
    BadAddress = 2,
    /// An argument is out of range or misaligned.
    InvalidArgument = 3,
    /// The caller may not make this call (pager-only calls).
    NotPermitted = 4,
    /// The named process, thread or endpoint does not exist.
    NoSuchObject = 5,
    /// The receive buffer is too small for the message, or a message is
    /// larger than [`crate::MAX_MESSAGE`].
    MessageTooLarge = 6,
    /// The frame is not one the calling pager owns.
    FrameNotOwned = 7,
    /// Writable and executable together without [`MapFlags::ALLOW_WX`].
    WritableExecutable = 8,
    /// The kernel could not allocate memory for page tables or objects.
    OutOfMemory = 9,
    /// The caller holds no reply right: nothing to answer (the caller of
    /// that call is gone, or it was answered already).
    NotWaiting = 10,
    /// A fault reply did not decode, or a reply's form (bytes or short)
    /// does not match the message it answers.
    Malformed = 11,
    /// The destination slot already holds a capability.
    AlreadyExists = 12,
    /// The virtual page is already mapped to another frame.
    AlreadyMapped = 13,
    /// The call carries no lease, or the access lies outside it.
    LeaseBounds = 14,
    /// The slot is out of range or empty (or the table is full, for a
    /// call that fills a slot).
    NoCapability = 15,
    /// The capability lacks the right the call needs.
    MissingRight = 16,
    /// The server exited or died: its endpoint has no receiver left, or
    /// the thread that held this call's reply right is gone.
    ServerGone = 17,
    /// The server dropped the call without answering (it received the
    /// next message instead).
    NotAnswered = 18,
    /// The process's page tables would pass their limit.
    PageTableLimit = 19,
}

impl SysError {
    pub const fn from_raw(n: u64) -> Option<SysError> {
        Some(match n {
            1 => SysError::NoSuchCall,
            2 => SysError::BadAddress,
            3 => SysError::InvalidArgument,
            4 => SysError::NotPermitted,
            5 => SysError::NoSuchObject,
            6 => SysError::MessageTooLarge,
            7 => SysError::FrameNotOwned,
            8 => SysError::WritableExecutable,
            9 => SysError::OutOfMemory,
            10 => SysError::NotWaiting,
            11 => SysError::Malformed,
            12 => SysError::AlreadyExists,
            13 => SysError::AlreadyMapped,
            14 => SysError::LeaseBounds,
            15 => SysError::NoCapability,
            16 => SysError::MissingRight,
            17 => SysError::ServerGone,
            18 => SysError::NotAnswered,
            19 => SysError::PageTableLimit,
            _ => return None,
        })
    }
}

/// What kind of message `Recv` delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum MessageKind {
    /// A byte message from `Call`; reply with `Reply` or `ReplyRecv`.
    Call = 0,
    /// A short message from `CallShort`; reply with `ReplyShort` or
    /// `ReplyRecvShort`.
    ShortCall = 1,
    /// The kernel reports a fault of the sender thread (a
    /// [`crate::kernel::KernelEvent`]); reply with a short
    /// [`crate::kernel::FaultReply`].
    Fault = 2,
    /// The kernel reports that the sender's process ended (it exited, or
    /// the kernel killed it); no reply.
    Exit = 3,
    /// The kernel forwards a Linux system call of the sender
    /// ([`crate::kernel::SyscallInfo`]); reply with a short
    /// [`crate::kernel::SyscallReply`].
    Syscall = 4,
}

impl MessageKind {
    pub const fn from_raw(n: u64) -> Option<MessageKind> {
        match n {
            0 => Some(MessageKind::Call),
            1 => Some(MessageKind::ShortCall),
            2 => Some(MessageKind::Fault),
            3 => Some(MessageKind::Exit),
            4 => Some(MessageKind::Syscall),
            _ => None,
        }
    }
}

/// Flags of a mapping request, as one register.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[repr(transparent)]
pub struct MapFlags(pub u64);

impl MapFlags {
    pub const WRITE: MapFlags = MapFlags(1);
    pub const EXEC: MapFlags = MapFlags(2);
    /// Explicitly ask for a page both writable and executable.
    pub const ALLOW_WX: MapFlags = MapFlags(4);
    /// Replace an existing mapping of the page (protection changes).
    pub const REPLACE: MapFlags = MapFlags(8);
    /// One 2 MiB page ([`crate::types::HUGE_PAGE_SIZE`]): the virtual
    /// address and the frame are 2 MiB-aligned and the whole 2 MiB of
    /// frames belongs to the pager. It travels alone (a fault reply's only
    /// mapping, or `Map`). A later 4 KiB map or unmap inside it splits it
    /// into 512 small entries first.
    pub const HUGE: MapFlags = MapFlags(16);
    pub const ALL: u64 = 0x1f;

    pub const fn contains(self, other: MapFlags) -> bool {
        self.0 & other.0 == other.0
    }

    pub const fn union(self, other: MapFlags) -> MapFlags {
        MapFlags(self.0 | other.0)
    }
}

/// How a test run ends, written to QEMU's `isa-debug-exit` port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum ExitStatus {
    Success = 0,
    Failure = 1,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syscall_numbers_round_trip() {
        for n in 0..64 {
            if let Some(s) = Syscall::from_raw(n) {
                assert_eq!(s as u64, n);
            }
        }
        assert_eq!(Syscall::from_raw(0), None);
        assert_eq!(Syscall::from_raw(u64::MAX), None);
    }

    #[test]
    fn error_codes_round_trip() {
        for n in 0..64 {
            if let Some(e) = SysError::from_raw(n) {
                assert_eq!(e as u64, n);
            }
        }
        assert_eq!(SysError::from_raw(0), None);
    }

    #[test]
    fn message_kinds_round_trip() {
        for n in 0..8 {
            if let Some(k) = MessageKind::from_raw(n) {
                assert_eq!(k as u64, n);
            }
        }
        assert_eq!(MessageKind::from_raw(0), Some(MessageKind::Call));
        assert_eq!(MessageKind::from_raw(4), Some(MessageKind::Syscall));
        assert_eq!(MessageKind::from_raw(5), None);
    }
}

/// Where the kernel places things in the pager's address space, all mapped
/// before the pager runs (a fault in the pager is a kernel-reported bug).
pub mod pager_layout {
    /// The pager's frame pool, mapped linearly: pool frame `i` at
    /// `POOL_WINDOW + i * 4096`.
    pub const POOL_WINDOW: u64 = 0x0000_1000_0000_0000;
    /// The boot ramdisk, read-only.
    pub const RAMDISK_WINDOW: u64 = 0x0000_2000_0000_0000;
    /// The [`super::PagerBootInfo`] page, read-only.
    pub const BOOT_INFO: u64 = 0x0000_3000_0000_0000;
    /// The clock page (vvar), read-only: the pager's own clock, and how it
    /// reads the page for a process that maps it.
    pub const VVAR: u64 = 0x0000_3000_0000_1000;
    /// Top of the pager's stack.
    pub const STACK_TOP: u64 = 0x0000_7fff_ff00_0000;
    /// The pager's stack size in pages.
    pub const STACK_PAGES: u64 = 64;
}

/// Memory lent with a `Call`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct LeaseDesc {
    pub addr: u64,
    pub len: u64,
    /// [`LeaseDesc::WRITE`] lets the server write the lease.
    pub flags: u64,
}

impl LeaseDesc {
    pub const WRITE: u64 = 1;
    /// The largest lease, so one kernel call stays short.
    pub const MAX_LEN: u64 = 16 << 20;
}

/// Where the kernel's share of resolved page faults went, in TSC ticks
/// summed over `faults` (under `-icount shift=0`, guest instructions).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct FaultProfile {
    /// Page faults resolved with a `Resume` reply.
    pub faults: u64,
    /// From the fault's kernel entry to the fault message delivered into the
    /// pager's buffer (trap entry, classification, encoding, copy).
    pub entry_to_pager: u64,
    /// From delivery until the pager's `ReplyRecv` enters the kernel (the
    /// switch into the pager, all of its work, its system-call entry).
    pub in_pager: u64,
    /// `ReplyRecv` entry until the PTEs are installed (decode, validation,
    /// page-table writes).
    pub install: u64,
    /// From installation to leaving the kernel into the program (the
    /// pager's next receive, the switch back).
    pub return_to_program: u64,
}

/// What the kernel tells the pager at start; its address is the pager's
/// argument (`rdi`).
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct PagerBootInfo {
    /// [`PagerBootInfo::MAGIC`], to catch a layout mismatch.
    pub magic: u64,
    /// Physical address of the first pool frame.
    pub pool_phys: u64,
    pub pool_frames: u64,
    pub ramdisk_len: u64,
    /// Page-table levels the kernel runs (4, or 5 with CR4.LA57): the
    /// width of user addresses it can map, which bounds the pager's
    /// `la57=` setting.
    pub paging_levels: u64,
}

impl PagerBootInfo {
    pub const MAGIC: u64 = 0x5041_4745_5242_4f4f; // "PAGERBOO"
}
