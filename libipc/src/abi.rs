//! The system-call ABI.
//!
//! `syscall` with the number in `rax` and arguments in `rdi, rsi, rdx, r10,
//! r8, r9` (the Linux order). On return `rax` holds `0` for success or a
//! [`SysError`] code, and `rdi, rsi, rdx` hold the results. All other
//! registers except `rcx` and `r11` (clobbered by `syscall` itself) are
//! preserved, except that a short message (a [`crate::short::ShortMessage`])
//! always travels in `r8` (label) and `r9, r12, r13, r14` (words): as an
//! argument of the `*Short` calls and as a result of every receive.
//!
//! | call | arguments | results |
//! |---|---|---|
//! | `Call` | endpoint, msg ptr, msg len, reply ptr, reply cap, [`LeaseDesc`] ptr or 0 | reply len |
//! | `Recv` | endpoint, buf ptr, buf cap | len, sender word, [`MessageKind`] |
//! | `ReplyRecv` | to tid, endpoint, buf ptr, buf cap, reply ptr, reply len | as `Recv` |
//! | `Reply` | to tid, reply ptr, reply len | - |
//! | `CallShort` | endpoint, message in registers | reply message in registers |
//! | `ReplyRecvShort` | to tid, endpoint, buf ptr, buf cap, reply message in registers | as `Recv` |
//! | `ReplyShort` | to tid, reply message in registers | - |
//! | `EndpointCreate` | well-known id | - |
//! | `DebugWrite` | ptr, len | - |
//! | `Exit` | code | never returns |
//! | `Yield` | - | - |
//! | `Random` | - | 64 random bits (RDRAND/RDSEED, else a TSC-seeded mix) |
//! | `Ticks` | - | TSC |
//! | `KernelInfo` | - | free kernel frames, total kernel frames |
//! | `FaultProfile` | ptr to a [`FaultProfile`] | - (the kernel fills it) |
//! | `LeaseRead` | caller tid, offset, buf ptr, len | bytes copied |
//! | `LeaseWrite` | caller tid, offset, src ptr, len | bytes copied |
//! | `SetSegmentBase` | which ([`SegmentBase`]), base | - (the calling thread's FS or GS base; a base at or above [`crate::types::USER_END`] or an unknown `which` is `InvalidArgument`) |
//!
//! A lease (Hubris style) is memory a caller lends the server for one call:
//! bulk data moves through it with `LeaseRead`/`LeaseWrite` instead of many
//! small messages. The kernel checks the lease when the call is made, and
//! each access against its bounds and rights while the caller still waits
//! for this server's reply.
//!
//! Pager-only calls (refused with `NotPermitted` for any other task):
//!
//! | call | arguments | results |
//! |---|---|---|
//! | `SpaceCreate` | - | new pid |
//! | `ThreadStart` | pid, entry, stack, arg, pager endpoint | new tid |
//! | `Map` | pid, virt, phys, [`MapFlags`] bits | - |
//! | `Unmap` | pid, virt, page count | pages that were present |
//! | `SpaceDestroy` | pid | - |
//! | `Shutdown` | [`ExitStatus`] | never returns |
//!
//! Receives return the message's [`MessageKind`]. A byte message (`Call`)
//! is answered with `Reply`/`ReplyRecv`; a short one (a `CallShort`, or a
//! fault the kernel reports) with `ReplyShort`/`ReplyRecvShort`; answering
//! in the other form is `Malformed`. A fault's reply is a
//! [`crate::kernel::FaultReply`], validated by the kernel like `Map`.

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
    SetSegmentBase = 30,
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
            30 => Syscall::SetSegmentBase,
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
    /// The target thread is not waiting for a reply from the caller.
    NotWaiting = 10,
    /// A fault reply did not decode, or a reply's form (bytes or short)
    /// does not match the message it answers.
    Malformed = 11,
    /// The endpoint id is already registered.
    AlreadyExists = 12,
    /// The virtual page is already mapped to another frame.
    AlreadyMapped = 13,
    /// The call carries no lease, or the access lies outside it.
    LeaseBounds = 14,
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
    /// The kernel reports that the sender's process exited; no reply.
    Exit = 3,
}

impl MessageKind {
    pub const fn from_raw(n: u64) -> Option<MessageKind> {
        match n {
            0 => Some(MessageKind::Call),
            1 => Some(MessageKind::ShortCall),
            2 => Some(MessageKind::Fault),
            3 => Some(MessageKind::Exit),
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
    pub const ALL: u64 = 0xf;

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

/// Well-known endpoint of the pager.
pub const PAGER_ENDPOINT: crate::types::EndpointId = crate::types::EndpointId(1);
/// Well-known endpoint of the procfs server.
pub const PROCFS_ENDPOINT: crate::types::EndpointId = crate::types::EndpointId(2);

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
        assert_eq!(MessageKind::from_raw(4), None);
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
}

impl PagerBootInfo {
    pub const MAGIC: u64 = 0x5041_4745_5242_4f4f; // "PAGERBOO"
}
