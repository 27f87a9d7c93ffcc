//! The vDSO: the ELF shared object the pager maps read+execute into every
//! process (its address is `AT_SYSINFO_EHDR`), with Linux's x86-64 entry
//! points under the version `LINUX_2.6`, so that musl's and glibc's own
//! lookups find them:
//!
//! | symbol (and weak alias) | answers from the clock page | else |
//! |---|---|---|
//! | `__vdso_clock_gettime` (`clock_gettime`) | REALTIME, MONOTONIC, MONOTONIC_RAW, BOOTTIME and the _COARSE clocks | the system call |
//! | `__vdso_gettimeofday` (`gettimeofday`) | the wall time, a zero timezone | the system call |
//! | `__vdso_time` (`time`) | the coarse wall time's seconds | the system call |
//! | `__vdso_clock_getres` (`clock_getres`) | 1 ns, or the tick for _COARSE | the system call |
//! | `__vdso_getcpu` (`getcpu`) | IA32_TSC_AUX (RDPID or RDTSCP), node 0 | - |
//!
//! The clock page (`[vvar]`) sits `VVAR_OFFSET` bytes below the vDSO's
//! first byte, as Linux lays them out; `vdso.lds` defines `__vvar_page`
//! there and the code reaches it PC-relative, so the object needs no
//! relocation wherever ASLR puts it. The arithmetic is the `vvar` crate's,
//! the same the kernel writes with and the native runtime reads with.
#![no_std]

use vvar::{ClockId, Timespec, VvarData};

/// Linux x86-64 system-call numbers of the fallbacks.
mod nr {
    pub const GETTIMEOFDAY: u64 = 96;
    pub const TIME: u64 = 201;
    pub const CLOCK_GETTIME: u64 = 228;
    pub const CLOCK_GETRES: u64 = 229;
}

/// `struct timeval`.
#[repr(C)]
pub struct Timeval {
    pub sec: i64,
    pub usec: i64,
}

/// `struct timezone`.
#[repr(C)]
pub struct Timezone {
    pub minuteswest: i32,
    pub dsttime: i32,
}

/// The clock page, found PC-relative (no GOT, no relocation).
#[inline(always)]
fn page() -> &'static VvarData {
    let addr: *const VvarData;
    // SAFETY: `lea` only computes an address: `__vvar_page`, which the
    // linker script places where the pager maps the clock page.
    unsafe { core::arch::asm!("lea {}, [rip + __vvar_page]", out(reg) addr, options(pure, nomem, nostack)) };
    // SAFETY: the pager maps the kernel's clock page there, read-only, for
    // as long as this code is mapped; VvarData is all atomics.
    unsafe { &*addr }
}

#[inline(always)]
fn syscall2(n: u64, a: u64, b: u64) -> i64 {
    let ret: i64;
    // SAFETY: a Linux system call with two arguments; `syscall` clobbers
    // rcx and r11 only.
    unsafe {
        core::arch::asm!("syscall", inlateout("rax") n as i64 => ret, in("rdi") a, in("rsi") b,
            lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    ret
}

/// # Safety
/// `ts` is null or points to writable memory for a `timespec`, as the C
/// caller promises.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __vdso_clock_gettime(clock: i32, ts: *mut Timespec) -> i32 {
    if let Some(id) = ClockId::from_raw(i64::from(clock))
        && let Some(t) = page().clock_gettime(id)
    {
        // SAFETY: the caller's pointer; a bad one faults in the caller,
        // as Linux's vDSO does.
        unsafe { ts.write(t) };
        return 0;
    }
    syscall2(nr::CLOCK_GETTIME, clock as u64, ts as u64) as i32
}

/// # Safety
/// `tv` and `tz` are null or point to writable memory of their types.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __vdso_gettimeofday(tv: *mut Timeval, tz: *mut Timezone) -> i32 {
    let Some(t) = page().clock_gettime(ClockId::Realtime) else {
        return syscall2(nr::GETTIMEOFDAY, tv as u64, tz as u64) as i32;
    };
    if !tv.is_null() {
        // SAFETY: the caller's non-null pointer.
        unsafe {
            tv.write(Timeval {
                sec: t.sec,
                usec: t.nsec / 1000,
            })
        };
    }
    if !tz.is_null() {
        // SAFETY: the caller's non-null pointer.
        unsafe {
            tz.write(Timezone {
                minuteswest: 0,
                dsttime: 0,
            })
        };
    }
    0
}

/// # Safety
/// `t` is null or points to a writable `time_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __vdso_time(t: *mut i64) -> i64 {
    let Some(now) = page().clock_gettime(ClockId::RealtimeCoarse) else {
        return syscall2(nr::TIME, t as u64, 0);
    };
    let sec = now.sec;
    if !t.is_null() {
        // SAFETY: the caller's non-null pointer.
        unsafe { t.write(sec) };
    }
    sec
}

/// # Safety
/// `res` is null or points to a writable `timespec`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __vdso_clock_getres(clock: i32, res: *mut Timespec) -> i32 {
    if let Some(id) = ClockId::from_raw(i64::from(clock))
        && let Some(r) = page().resolution(id)
    {
        if !res.is_null() {
            // SAFETY: the caller's non-null pointer.
            unsafe { res.write(r) };
        }
        return 0;
    }
    syscall2(nr::CLOCK_GETRES, clock as u64, res as u64) as i32
}

/// # Safety
/// `cpu` and `node` are null or point to writable `unsigned int`s.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __vdso_getcpu(cpu: *mut u32, node: *mut u32, _cache: *mut u8) -> i64 {
    let n = page().cpu();
    if !cpu.is_null() {
        // SAFETY: the caller's non-null pointer.
        unsafe { cpu.write(n) };
    }
    if !node.is_null() {
        // SAFETY: the caller's non-null pointer.
        unsafe { node.write(0) };
    }
    0
}

// Linux's vDSO also exports the names without the prefix, as weak aliases.
core::arch::global_asm!(
    ".weak clock_gettime",
    ".set clock_gettime, __vdso_clock_gettime",
    ".weak gettimeofday",
    ".set gettimeofday, __vdso_gettimeofday",
    ".weak time",
    ".set time, __vdso_time",
    ".weak clock_getres",
    ".set clock_getres, __vdso_clock_getres",
    ".weak getcpu",
    ".set getcpu, __vdso_getcpu",
);

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    // No code here panics (the build links no panic machinery); if one
    // did, stop the caller rather than return garbage.
    loop {
        core::hint::spin_loop();
    }
}
