//! The clock page ("vvar"): a frame the kernel writes and every process
//! maps read-only, so reading a clock never enters the kernel.
//!
//! One implementation of the layout and the arithmetic, shared by its
//! writer (the kernel, on every timer tick) and its readers (the vDSO that
//! Linux programs call, and `runtime::time` in native programs).
//!
//! The data sits under a sequence counter (Linux's `seqcount`): the writer
//! makes the count odd, writes, makes it even again; a reader retries when
//! the count was odd or changed while it read. With one CPU the writer
//! never runs beside a reader, but it may interrupt one, which the retry
//! catches.
//!
//! Time is kept as a base: `CLOCK_MONOTONIC` at a TSC value, plus the TSC's
//! rate as a fixed-point multiplier (nanoseconds per tick times
//! 2^[`SHIFT`]). The kernel moves the base forward on every tick, so the
//! delta a reader scales is small and the 128-bit product cannot overflow.
//! Moving the base forward computes it with the readers' own formula,
//! which keeps the clock monotonic across updates.
#![cfg_attr(not(test), no_std)]

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering, fence};

/// Fixed-point shift of [`VvarData::mult`].
pub const SHIFT: u32 = 32;
/// Bumped when [`VvarData`]'s layout changes.
pub const LAYOUT_VERSION: u32 = 1;
/// Nanoseconds in a second.
pub const NSEC_PER_SEC: u64 = 1_000_000_000;

/// Linux's clock ids (`<linux/time.h>`), the ones the page answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum ClockId {
    Realtime = 0,
    Monotonic = 1,
    MonotonicRaw = 4,
    RealtimeCoarse = 5,
    MonotonicCoarse = 6,
    Boottime = 7,
}

impl ClockId {
    /// `None` for a clock the page does not answer (CPU-time clocks,
    /// TAI, alarms): the caller asks the system instead, as Linux's vDSO.
    #[inline(always)]
    pub const fn from_raw(id: i64) -> Option<ClockId> {
        Some(match id {
            0 => ClockId::Realtime,
            1 => ClockId::Monotonic,
            4 => ClockId::MonotonicRaw,
            5 => ClockId::RealtimeCoarse,
            6 => ClockId::MonotonicCoarse,
            7 => ClockId::Boottime,
            _ => return None,
        })
    }

    /// Coarse clocks give the time of the last tick: no TSC read.
    #[inline(always)]
    pub const fn is_coarse(self) -> bool {
        matches!(self, ClockId::RealtimeCoarse | ClockId::MonotonicCoarse)
    }
}

/// A time as Linux's `struct timespec`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
#[repr(C)]
pub struct Timespec {
    pub sec: i64,
    pub nsec: i64,
}

impl Timespec {
    #[inline(always)]
    pub const fn from_ns(ns: u64) -> Timespec {
        Timespec {
            sec: (ns / NSEC_PER_SEC) as i64,
            nsec: (ns % NSEC_PER_SEC) as i64,
        }
    }

    /// Nanoseconds, saturating (negative times are 0).
    pub const fn as_ns(self) -> u64 {
        if self.sec < 0 || self.nsec < 0 {
            return 0;
        }
        (self.sec as u64)
            .saturating_mul(NSEC_PER_SEC)
            .saturating_add(self.nsec as u64)
    }
}

/// The page's contents, at offset 0 of the frame. Every field is an atomic
/// so that reading while the kernel writes is defined behaviour; on x86 the
/// loads and stores are plain moves.
#[repr(C)]
pub struct VvarData {
    /// Odd while the kernel writes; 0 until it first has (no clock yet).
    pub seq: AtomicU32,
    /// [`LAYOUT_VERSION`], or 0 before the kernel has calibrated the TSC
    /// (readers then fall back to the system call).
    pub version: AtomicU32,
    /// TSC at the base.
    pub tsc_base: AtomicU64,
    /// Nanoseconds per TSC tick, times 2^[`SHIFT`].
    pub mult: AtomicU64,
    /// `CLOCK_MONOTONIC` at `tsc_base`, in nanoseconds since boot; also the
    /// coarse clocks' value (the base moves on every tick).
    pub mono_ns: AtomicU64,
    /// `CLOCK_REALTIME - CLOCK_MONOTONIC` (the wall time at boot).
    pub real_offset_ns: AtomicU64,
    /// `CLOCK_BOOTTIME - CLOCK_MONOTONIC` (no suspend here: 0).
    pub boot_offset_ns: AtomicU64,
    /// The measured TSC frequency.
    pub tsc_hz: AtomicU64,
    /// The resolution of the coarse clocks (the tick period).
    pub coarse_ns: AtomicU64,
    /// How `getcpu` reads the CPU number the kernel set: one of
    /// [`getcpu`]'s values.
    pub getcpu: AtomicU32,
    pub reserved: AtomicU32,
    /// `mono_ns` split into seconds and nanoseconds, and the same of
    /// `CLOCK_REALTIME` at the base: a `timespec` reader adds the scaled
    /// delta to the nanoseconds and carries, with no division (as Linux's
    /// vDSO data keeps its bases).
    pub mono_sec: AtomicU64,
    pub mono_nsec: AtomicU64,
    pub real_sec: AtomicU64,
    pub real_nsec: AtomicU64,
}

/// Values of [`VvarData::getcpu`].
pub mod getcpu {
    /// No per-CPU register: the machine has one CPU, number 0.
    pub const SINGLE: u32 = 0;
    /// RDPID reads IA32_TSC_AUX, which holds the CPU number.
    pub const RDPID: u32 = 1;
    /// RDTSCP returns IA32_TSC_AUX in ECX.
    pub const RDTSCP: u32 = 2;
}

/// Bytes of [`VvarData`]: it fits any page with room to spare.
pub const DATA_BYTES: usize = core::mem::size_of::<VvarData>();

/// One consistent read of the page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub tsc_base: u64,
    pub mult: u64,
    pub mono_ns: u64,
    pub real_offset_ns: u64,
    pub boot_offset_ns: u64,
    pub coarse_ns: u64,
}

impl Snapshot {
    /// `CLOCK_MONOTONIC` at `tsc` (not before the base: a TSC read that
    /// raced the update counts as the base itself).
    #[inline(always)]
    pub fn monotonic_at(&self, tsc: u64) -> u64 {
        self.mono_ns
            .wrapping_add(scale(tsc.saturating_sub(self.tsc_base), self.mult))
    }

    /// The clock's value, `tsc` being read after the snapshot.
    #[inline(always)]
    pub fn clock(&self, clock: ClockId, tsc: u64) -> u64 {
        let mono = if clock.is_coarse() {
            self.mono_ns
        } else {
            self.monotonic_at(tsc)
        };
        match clock {
            ClockId::Realtime | ClockId::RealtimeCoarse => mono.wrapping_add(self.real_offset_ns),
            ClockId::Boottime => mono.wrapping_add(self.boot_offset_ns),
            ClockId::Monotonic | ClockId::MonotonicRaw | ClockId::MonotonicCoarse => mono,
        }
    }
}

/// `delta * mult >> SHIFT` without overflow.
#[inline(always)]
pub fn scale(delta: u64, mult: u64) -> u64 {
    ((u128::from(delta) * u128::from(mult)) >> SHIFT) as u64
}

/// The multiplier for a TSC running at `hz`.
pub const fn mult_for(hz: u64) -> u64 {
    (((NSEC_PER_SEC as u128) << SHIFT) / hz as u128) as u64
}

/// The TSC, ordered after earlier loads (as Linux's `rdtsc_ordered`), so
/// it is not read before the snapshot it is scaled with.
#[inline(always)]
pub fn rdtsc() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: LFENCE and RDTSC have no side effects and exist on every
    // x86-64 CPU. Inline assembly rather than the SSE2 intrinsic: the
    // bare-metal target builds without SSE, and the vDSO must not call out.
    unsafe {
        core::arch::asm!("lfence", "rdtsc", out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags));
    }
    (u64::from(hi) << 32) | u64::from(lo)
}

impl VvarData {
    /// A page no reader may use yet.
    pub const fn new() -> VvarData {
        VvarData {
            seq: AtomicU32::new(0),
            version: AtomicU32::new(0),
            tsc_base: AtomicU64::new(0),
            mult: AtomicU64::new(0),
            mono_ns: AtomicU64::new(0),
            real_offset_ns: AtomicU64::new(0),
            boot_offset_ns: AtomicU64::new(0),
            tsc_hz: AtomicU64::new(0),
            coarse_ns: AtomicU64::new(0),
            getcpu: AtomicU32::new(getcpu::SINGLE),
            reserved: AtomicU32::new(0),
            mono_sec: AtomicU64::new(0),
            mono_nsec: AtomicU64::new(0),
            real_sec: AtomicU64::new(0),
            real_nsec: AtomicU64::new(0),
        }
    }

    /// The number of the CPU this runs on (`getcpu`), from the per-CPU
    /// register the kernel set (IA32_TSC_AUX), as Linux's vDSO reads it.
    #[inline(always)]
    pub fn cpu(&self) -> u32 {
        match self.getcpu.load(Ordering::Relaxed) {
            // SAFETY: the kernel says RDPID exists (CPUID checked at boot);
            // it only reads IA32_TSC_AUX.
            getcpu::RDPID => unsafe {
                let aux: u64;
                core::arch::asm!("rdpid {}", out(reg) aux, options(nomem, nostack, preserves_flags));
                aux as u32 & 0xfff
            },
            getcpu::RDTSCP => {
                let aux: u32;
                // SAFETY: the kernel says RDTSCP exists (CPUID checked at
                // boot); it reads the TSC and IA32_TSC_AUX.
                unsafe {
                    core::arch::asm!("rdtscp", out("ecx") aux, out("eax") _, out("edx") _, options(nomem, nostack, preserves_flags));
                }
                aux & 0xfff
            }
            _ => 0,
        }
    }

    /// A consistent snapshot; `None` before calibration.
    #[inline(always)]
    pub fn snapshot(&self) -> Option<Snapshot> {
        loop {
            let start = self.seq.load(Ordering::Acquire);
            if start & 1 != 0 {
                core::hint::spin_loop();
                continue;
            }
            let version = self.version.load(Ordering::Relaxed);
            let snap = Snapshot {
                tsc_base: self.tsc_base.load(Ordering::Relaxed),
                mult: self.mult.load(Ordering::Relaxed),
                mono_ns: self.mono_ns.load(Ordering::Relaxed),
                real_offset_ns: self.real_offset_ns.load(Ordering::Relaxed),
                boot_offset_ns: self.boot_offset_ns.load(Ordering::Relaxed),
                coarse_ns: self.coarse_ns.load(Ordering::Relaxed),
            };
            fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) == start {
                return (version == LAYOUT_VERSION).then_some(snap);
            }
        }
    }

    /// The clock's value in nanoseconds; `None` before calibration. The
    /// TSC is read inside the sequence loop, so an update between the
    /// snapshot and the TSC read is caught and retried.
    #[inline(always)]
    pub fn clock_ns(&self, clock: ClockId) -> Option<u64> {
        self.clock_ns_with(clock, rdtsc)
    }

    /// [`VvarData::clock_ns`] with the TSC read by `tsc` (tests give a
    /// fake counter). One pass reads only what the clock needs (the fast
    /// path of every vDSO call): the count, the base, and the clock's
    /// offset from `CLOCK_MONOTONIC`. A count of 0 means never written.
    #[inline(always)]
    pub fn clock_ns_with(&self, clock: ClockId, mut tsc: impl FnMut() -> u64) -> Option<u64> {
        let offset = match clock {
            ClockId::Realtime | ClockId::RealtimeCoarse => Some(&self.real_offset_ns),
            ClockId::Boottime => Some(&self.boot_offset_ns),
            ClockId::Monotonic | ClockId::MonotonicRaw | ClockId::MonotonicCoarse => None,
        };
        loop {
            let start = self.seq.load(Ordering::Acquire);
            if start == 0 {
                return None;
            }
            if start & 1 != 0 {
                core::hint::spin_loop();
                continue;
            }
            let mono = self.mono_ns.load(Ordering::Relaxed);
            let offset = offset.map_or(0, |o| o.load(Ordering::Relaxed));
            let ns = if clock.is_coarse() {
                mono
            } else {
                let (base, mult) = (self.tsc_base.load(Ordering::Relaxed), self.mult.load(Ordering::Relaxed));
                mono.wrapping_add(scale(tsc().saturating_sub(base), mult))
            };
            fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) == start {
                return Some(ns.wrapping_add(offset));
            }
        }
    }

    /// The clock as a `timespec`.
    #[inline(always)]
    pub fn clock_gettime(&self, clock: ClockId) -> Option<Timespec> {
        self.clock_gettime_with(clock, rdtsc)
    }

    /// [`VvarData::clock_gettime`] with the TSC read by `tsc`: the split
    /// base plus the scaled delta, carried into the seconds (the delta is
    /// a tick or so: the loop runs at most once or twice).
    #[inline(always)]
    pub fn clock_gettime_with(&self, clock: ClockId, mut tsc: impl FnMut() -> u64) -> Option<Timespec> {
        let (sec, nsec) = match clock {
            ClockId::Realtime | ClockId::RealtimeCoarse => (&self.real_sec, &self.real_nsec),
            ClockId::Monotonic | ClockId::MonotonicRaw | ClockId::MonotonicCoarse => (&self.mono_sec, &self.mono_nsec),
            ClockId::Boottime => return self.clock_ns_with(clock, tsc).map(Timespec::from_ns),
        };
        loop {
            let start = self.seq.load(Ordering::Acquire);
            if start == 0 {
                return None;
            }
            if start & 1 != 0 {
                core::hint::spin_loop();
                continue;
            }
            let (mut s, mut ns) = (sec.load(Ordering::Relaxed), nsec.load(Ordering::Relaxed));
            if !clock.is_coarse() {
                let (base, mult) = (self.tsc_base.load(Ordering::Relaxed), self.mult.load(Ordering::Relaxed));
                ns = ns.wrapping_add(scale(tsc().saturating_sub(base), mult));
            }
            fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) == start {
                while ns >= NSEC_PER_SEC {
                    ns -= NSEC_PER_SEC;
                    s += 1;
                }
                return Some(Timespec {
                    sec: s as i64,
                    nsec: ns as i64,
                });
            }
        }
    }

    /// Stores the split bases of `mono` (inside a write).
    fn store_split(&self, mono: u64) {
        let real = mono.wrapping_add(self.real_offset_ns.load(Ordering::Relaxed));
        self.mono_sec.store(mono / NSEC_PER_SEC, Ordering::Relaxed);
        self.mono_nsec.store(mono % NSEC_PER_SEC, Ordering::Relaxed);
        self.real_sec.store(real / NSEC_PER_SEC, Ordering::Relaxed);
        self.real_nsec.store(real % NSEC_PER_SEC, Ordering::Relaxed);
    }

    /// `clock_getres`: 1 ns for the TSC clocks, the tick for coarse ones.
    #[inline(always)]
    pub fn resolution(&self, clock: ClockId) -> Option<Timespec> {
        let snap = self.snapshot()?;
        Some(Timespec::from_ns(if clock.is_coarse() { snap.coarse_ns } else { 1 }))
    }

    // The writer (the kernel).

    /// Starts the clock: the TSC at boot is monotonic time 0, `wall_ns`
    /// the wall time then; `tick_ns` is the timer period.
    pub fn start(&self, tsc: u64, tsc_hz: u64, wall_ns: u64, tick_ns: u64) {
        self.write(|d| {
            d.tsc_base.store(tsc, Ordering::Relaxed);
            d.mult.store(mult_for(tsc_hz), Ordering::Relaxed);
            d.tsc_hz.store(tsc_hz, Ordering::Relaxed);
            d.mono_ns.store(0, Ordering::Relaxed);
            d.real_offset_ns.store(wall_ns, Ordering::Relaxed);
            d.boot_offset_ns.store(0, Ordering::Relaxed);
            d.coarse_ns.store(tick_ns, Ordering::Relaxed);
            d.store_split(0);
            d.version.store(LAYOUT_VERSION, Ordering::Relaxed);
        });
    }

    /// Moves the base to `tsc` (a timer tick); returns the new monotonic
    /// time. A TSC behind the base (it cannot go back on one CPU) leaves
    /// the time where it is.
    pub fn tick(&self, tsc: u64) -> u64 {
        let base = self.tsc_base.load(Ordering::Relaxed);
        let mono = self.mono_ns.load(Ordering::Relaxed);
        if tsc <= base {
            return mono;
        }
        let now = mono.wrapping_add(scale(tsc - base, self.mult.load(Ordering::Relaxed)));
        self.write(|d| {
            d.tsc_base.store(tsc, Ordering::Relaxed);
            d.mono_ns.store(now, Ordering::Relaxed);
            d.store_split(now);
        });
        now
    }

    /// Runs `f` with the sequence count odd.
    fn write(&self, f: impl FnOnce(&VvarData)) {
        let seq = self.seq.load(Ordering::Relaxed);
        self.seq.store(seq.wrapping_add(1), Ordering::Relaxed);
        fence(Ordering::Release);
        f(self);
        // 0 means "never written" to readers: skip it when the count wraps.
        let next = seq.wrapping_add(2);
        self.seq.store(if next == 0 { 2 } else { next }, Ordering::Release);
    }
}

impl Default for VvarData {
    fn default() -> Self {
        VvarData::new()
    }
}

/// Days from 1970-01-01 to the civil date (proleptic Gregorian), for the
/// RTC's wall time.
pub const fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = month as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Seconds since the Unix epoch of a UTC date and time.
pub const fn unix_seconds(year: i64, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> i64 {
    days_from_civil(year, month, day) * 86_400 + hour as i64 * 3600 + minute as i64 * 60 + second as i64
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    fn page(hz: u64) -> VvarData {
        let d = VvarData::new();
        d.start(1000, hz, 1_700_000_000 * NSEC_PER_SEC, 10_000_000);
        d
    }

    #[test]
    fn no_clock_before_calibration() {
        let d = VvarData::new();
        assert_eq!(d.clock_ns_with(ClockId::Monotonic, || 5), None);
        assert_eq!(d.resolution(ClockId::Monotonic), None);
    }

    #[test]
    fn clocks_scale_the_tsc() {
        let d = page(2_000_000_000);
        // 2e9 ticks is one second.
        let mono = d.clock_ns_with(ClockId::Monotonic, || 1000 + 2_000_000_000).unwrap();
        assert!(mono.abs_diff(NSEC_PER_SEC) <= 1, "{mono}");
        let real = d.clock_ns_with(ClockId::Realtime, || 1000 + 2_000_000_000).unwrap();
        assert_eq!(real - mono, 1_700_000_000 * NSEC_PER_SEC);
        assert_eq!(d.clock_ns_with(ClockId::Boottime, || 1000 + 2_000_000_000), Some(mono));
        assert_eq!(
            d.clock_ns_with(ClockId::MonotonicRaw, || 1000 + 2_000_000_000),
            Some(mono)
        );
        // Coarse clocks stay at the last tick.
        assert_eq!(d.clock_ns_with(ClockId::MonotonicCoarse, || u64::MAX), Some(0));
        assert_eq!(
            d.resolution(ClockId::RealtimeCoarse),
            Some(Timespec {
                sec: 0,
                nsec: 10_000_000
            })
        );
        assert_eq!(d.resolution(ClockId::Monotonic), Some(Timespec { sec: 0, nsec: 1 }));
    }

    #[test]
    fn ticks_never_move_time_back() {
        for hz in [1_000_000_007u64, 2_893_411_000, 3_000_000_000, 100_000_000] {
            let d = page(hz);
            let mut last = 0;
            let mut tsc = 1000u64;
            for step in 1..2000u64 {
                tsc += step * 7919 % 100_003;
                // Readers just before and just after a tick at `tsc`.
                let before = d.clock_ns_with(ClockId::Monotonic, || tsc).unwrap();
                assert!(before >= last);
                let now = d.tick(tsc);
                assert_eq!(now, d.clock_ns_with(ClockId::MonotonicCoarse, || 0).unwrap());
                let after = d.clock_ns_with(ClockId::Monotonic, || tsc).unwrap();
                assert!(after >= before, "hz {hz}: {after} < {before}");
                last = after;
            }
        }
    }

    #[test]
    fn timespecs_agree_with_nanoseconds() {
        for hz in [1_000_000_007u64, 2_893_411_000, 3_000_000_000] {
            let d = page(hz);
            let mut tsc = 1000u64;
            for step in 1..3000u64 {
                tsc += step * 104_729 % 40_000_003;
                if step % 3 == 0 {
                    d.tick(tsc);
                }
                let later = tsc + step % 7 * 1_000_003;
                for clock in [
                    ClockId::Realtime,
                    ClockId::Monotonic,
                    ClockId::MonotonicRaw,
                    ClockId::Boottime,
                    ClockId::RealtimeCoarse,
                    ClockId::MonotonicCoarse,
                ] {
                    let ns = d.clock_ns_with(clock, || later).unwrap();
                    let ts = d.clock_gettime_with(clock, || later).unwrap();
                    assert_eq!(ts, Timespec::from_ns(ns), "{clock:?} at {later}");
                }
            }
        }
    }

    #[test]
    fn a_reader_interrupted_by_an_update_retries() {
        let d = page(1_000_000_000);
        let calls = Cell::new(0);
        let ns = d
            .clock_ns_with(ClockId::Monotonic, || {
                calls.set(calls.get() + 1);
                if calls.get() == 1 {
                    // The timer fires between the snapshot and the TSC read.
                    d.tick(1000 + 500);
                }
                1000 + 600
            })
            .unwrap();
        assert_eq!(calls.get(), 2);
        assert_eq!(ns, 600);
    }

    #[test]
    fn civil_dates() {
        assert_eq!(unix_seconds(1970, 1, 1, 0, 0, 0), 0);
        assert_eq!(unix_seconds(2000, 3, 1, 0, 0, 0), 951_868_800);
        assert_eq!(unix_seconds(2026, 12, 2, 5, 40, 59), 1_796_190_059);
        assert_eq!(days_from_civil(2024, 2, 29) + 1, days_from_civil(2024, 3, 1));
    }

    #[test]
    fn timespec_round_trips() {
        let t = Timespec::from_ns(12 * NSEC_PER_SEC + 34);
        assert_eq!(t, Timespec { sec: 12, nsec: 34 });
        assert_eq!(t.as_ns(), 12 * NSEC_PER_SEC + 34);
        assert_eq!(Timespec { sec: -1, nsec: 0 }.as_ns(), 0);
    }
}
