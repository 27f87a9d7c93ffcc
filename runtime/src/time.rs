//! Clocks without a system call, and sleeping.
//!
//! The kernel keeps its time in the clock page (`[vvar]`), a frame it
//! writes on every timer tick and the pager maps read-only into every
//! process, native and Linux alike. This module reads it with the same
//! code as the vDSO Linux programs call (the `vvar` crate): a sequence-
//! counter loop and one TSC read, no kernel entry.
//!
//! The clocks are Linux's, with Linux's meaning:
//!
//! | [`ClockId`] | value |
//! |---|---|
//! | `Realtime` | wall time: the CMOS RTC at boot (UTC), advanced by the TSC |
//! | `Monotonic`, `MonotonicRaw`, `Boottime` | time since boot (no NTP slewing, no suspend: the three agree) |
//! | `RealtimeCoarse`, `MonotonicCoarse` | the same at the last timer tick (resolution: [`clock_getres`]) |
//!
//! A Linux-personality server answers the time calls with it, e.g.:
//!
//! ```ignore
//! use runtime::time::{self, ClockId};
//! // clock_gettime(clk, ts): an unknown id is EINVAL, as Linux says.
//! let Some(clock) = ClockId::from_raw(clk) else { return -EINVAL };
//! let ts = time::clock_gettime(clock)?; // write ts.sec, ts.nsec to the caller
//! // gettimeofday(tv, tz): tv_usec = nsec / 1000.
//! let tv = time::clock_gettime(ClockId::Realtime)?;
//! // time(t): the seconds of the coarse wall clock, as Linux's vDSO.
//! let t = time::clock_gettime(ClockId::RealtimeCoarse)?.sec;
//! // nanosleep(req): answer with `SyscallReply::sleep(0, deadline)`, the
//! // deadline being time::monotonic_ns()? + req; the kernel parks the
//! // caller until then, so no server thread waits.
//! ```
//!
//! A native program sleeps with [`sleep_until`] or [`sleep`].

use core::sync::atomic::{AtomicU64, Ordering};

use libipc::{
    pager::{Errno, Reply, Request},
    sys,
};
pub use vvar::{ClockId, NSEC_PER_SEC, Timespec, VvarData};

/// Why a clock cannot be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeError {
    /// The pager gave no clock page (its error).
    NoClockPage(Errno),
    /// The kernel has not published a clock (its TSC is not calibrated).
    NoClock,
}

/// The clock page's address once learnt (0: not yet).
static PAGE: AtomicU64 = AtomicU64::new(0);

/// The caller's clock page: asked of the pager once, then cached.
pub fn clock_page() -> Result<&'static VvarData, TimeError> {
    let mut addr = PAGE.load(Ordering::Relaxed);
    if addr == 0 {
        addr = match crate::pager::request(Request::ClockPage) {
            Ok(Reply::Addr(a)) => a.0,
            Ok(_) => return Err(TimeError::NoClockPage(Errno::Io)),
            Err(e) => return Err(TimeError::NoClockPage(e)),
        };
        PAGE.store(addr, Ordering::Relaxed);
    }
    // SAFETY: the pager maps the kernel's clock page read-only at this
    // address for the life of the process (the kernel refuses any
    // writable mapping of it), and VvarData is all atomics, written by the
    // kernel only under its sequence counter.
    Ok(unsafe { &*(addr as *const VvarData) })
}

/// `clock_gettime`: the clock's time, read from the clock page.
pub fn clock_gettime(clock: ClockId) -> Result<Timespec, TimeError> {
    clock_page()?.clock_gettime(clock).ok_or(TimeError::NoClock)
}

/// `clock_getres`: 1 ns for the TSC clocks, the tick for the coarse ones.
pub fn clock_getres(clock: ClockId) -> Result<Timespec, TimeError> {
    clock_page()?.resolution(clock).ok_or(TimeError::NoClock)
}

/// `CLOCK_MONOTONIC` in nanoseconds since boot: the time base of
/// [`sleep_until`] and of `SyscallReply::sleep`.
pub fn monotonic_ns() -> Result<u64, TimeError> {
    clock_page()?.clock_ns(ClockId::Monotonic).ok_or(TimeError::NoClock)
}

/// `CLOCK_REALTIME` in nanoseconds since the Unix epoch.
pub fn realtime_ns() -> Result<u64, TimeError> {
    clock_page()?.clock_ns(ClockId::Realtime).ok_or(TimeError::NoClock)
}

/// The number of the CPU the caller runs on (`getcpu`).
pub fn cpu() -> Result<u32, TimeError> {
    Ok(clock_page()?.cpu())
}

/// Parks the calling thread until `CLOCK_MONOTONIC` reaches `deadline_ns`
/// (the kernel wakes it on the first timer tick at or after it).
pub fn sleep_until(deadline_ns: u64) {
    sys::sleep_until(deadline_ns);
}

/// Sleeps at least `ns` nanoseconds.
pub fn sleep(ns: u64) -> Result<(), TimeError> {
    sleep_until(monotonic_ns()?.saturating_add(ns));
    Ok(())
}
