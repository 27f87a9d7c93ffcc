//! The auxiliary vector: what the kernel tells a new program about itself
//! and the machine (its program headers, entry, identity, random seed,
//! page size, CPU features), in the order x86-64 Linux writes it in
//! `create_elf_tables` (fs/binfmt_elf.c, with x86's `ARCH_DLINFO` first).

use alloc::vec::Vec;

/// Entry types (Linux's `include/uapi/linux/auxvec.h`, x86's `AT_SYSINFO_EHDR`
/// and `AT_MINSIGSTKSZ`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u64)]
pub enum AuxType {
    Null = 0,
    Phdr = 3,
    Phent = 4,
    Phnum = 5,
    Pagesz = 6,
    Base = 7,
    Flags = 8,
    Entry = 9,
    Uid = 11,
    Euid = 12,
    Gid = 13,
    Egid = 14,
    Platform = 15,
    Hwcap = 16,
    Clktck = 17,
    Secure = 23,
    Random = 25,
    Hwcap2 = 26,
    Execfn = 31,
    SysinfoEhdr = 33,
    MinSigStkSz = 51,
}

impl AuxType {
    pub const fn number(self) -> u64 {
        self as u64
    }
}

/// The platform string x86-64 Linux puts on the stack (`AT_PLATFORM`).
pub const PLATFORM: &[u8] = b"x86_64";
/// `AT_CLKTCK`: Linux's USER_HZ.
pub const CLOCK_TICKS: u64 = 100;

/// The identity `AT_UID`..`AT_EGID` report (from the process's token).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Credentials {
    pub uid: u32,
    pub euid: u32,
    pub gid: u32,
    pub egid: u32,
}

impl Credentials {
    /// Real and effective ids the same, as for any program not set-id.
    pub const fn same(uid: u32, gid: u32) -> Credentials {
        Credentials {
            uid,
            euid: uid,
            gid,
            egid: gid,
        }
    }
}

/// The values of the auxiliary vector that are not addresses on the
/// initial stack (those, `AT_RANDOM`, `AT_EXECFN` and `AT_PLATFORM`, the
/// stack builder fills in).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuxValues {
    /// `AT_SYSINFO_EHDR`: the vDSO's ELF header, once the vDSO exists.
    pub sysinfo_ehdr: Option<u64>,
    /// `AT_MINSIGSTKSZ`: the signal frame size, once signals are delivered
    /// (x86-64 Linux always gives it; without it libc uses its constant).
    pub minsigstksz: Option<u64>,
    /// `AT_HWCAP`: CPUID leaf 1 EDX on x86.
    pub hwcap: u64,
    /// `AT_HWCAP2`: x86's extra feature bits (bit 1: FSGSBASE usable).
    pub hwcap2: u64,
    pub page_size: u64,
    pub clock_ticks: u64,
    /// `AT_PHDR`: the program headers' address in memory.
    pub phdr: u64,
    pub phent: u64,
    pub phnum: u64,
    /// `AT_BASE`: the interpreter's base; 0 for a static program.
    pub base: u64,
    pub flags: u64,
    /// `AT_ENTRY`: the program's entry point (with its load bias).
    pub entry: u64,
    pub credentials: Credentials,
    /// `AT_SECURE`: the program gained privilege at exec (libc then
    /// ignores dangerous environment variables).
    pub secure: bool,
}

/// Addresses on the new stack the vector points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StackAddresses {
    pub random: u64,
    pub execfn: u64,
    pub platform: Option<u64>,
}

impl AuxValues {
    /// The entries, `AT_NULL` last, in x86-64 Linux's order.
    pub fn entries(&self, at: StackAddresses) -> Vec<(AuxType, u64)> {
        let mut v = Vec::with_capacity(24);
        if let Some(ehdr) = self.sysinfo_ehdr {
            v.push((AuxType::SysinfoEhdr, ehdr));
        }
        if let Some(size) = self.minsigstksz {
            v.push((AuxType::MinSigStkSz, size));
        }
        v.extend([
            (AuxType::Hwcap, self.hwcap),
            (AuxType::Pagesz, self.page_size),
            (AuxType::Clktck, self.clock_ticks),
            (AuxType::Phdr, self.phdr),
            (AuxType::Phent, self.phent),
            (AuxType::Phnum, self.phnum),
            (AuxType::Base, self.base),
            (AuxType::Flags, self.flags),
            (AuxType::Entry, self.entry),
            (AuxType::Uid, u64::from(self.credentials.uid)),
            (AuxType::Euid, u64::from(self.credentials.euid)),
            (AuxType::Gid, u64::from(self.credentials.gid)),
            (AuxType::Egid, u64::from(self.credentials.egid)),
            (AuxType::Secure, u64::from(self.secure)),
            (AuxType::Random, at.random),
            (AuxType::Hwcap2, self.hwcap2),
            (AuxType::Execfn, at.execfn),
        ]);
        if let Some(platform) = at.platform {
            v.push((AuxType::Platform, platform));
        }
        v.push((AuxType::Null, 0));
        v
    }
}
