//! Clocks, sleeps and futexes (one thread per process: a wait can only
//! end by its timeout).

use super::{Answer, Context};
use crate::{errno::Errno, host::Clock, layout::Timespec, nr::futex};

/// Linux's clock ids.
mod id {
    pub const REALTIME: u64 = 0;
    pub const MONOTONIC: u64 = 1;
    pub const PROCESS_CPUTIME: u64 = 2;
    pub const THREAD_CPUTIME: u64 = 3;
    pub const MONOTONIC_RAW: u64 = 4;
    pub const REALTIME_COARSE: u64 = 5;
    pub const MONOTONIC_COARSE: u64 = 6;
    pub const BOOTTIME: u64 = 7;
}

/// clock_nanosleep's flag: the time is absolute.
const TIMER_ABSTIME: u64 = 1;
/// The coarse clocks' resolution: the kernel's timer tick.
const COARSE_RESOLUTION_NS: u64 = 4_000_000;
/// "Forever": a wait without a timeout.
const FOREVER: Timespec = Timespec { sec: u64::MAX, nsec: 0 };

/// What a clock id reads.
enum Source {
    Clock(Clock),
    /// CPU time: the time since the process started (it runs alone on
    /// its thread and the kernel keeps no CPU accounts yet).
    CpuTime,
}

fn source(clock: u64) -> Result<Source, Errno> {
    Ok(match clock {
        id::REALTIME => Source::Clock(Clock::Realtime),
        id::MONOTONIC => Source::Clock(Clock::Monotonic),
        id::MONOTONIC_RAW => Source::Clock(Clock::MonotonicRaw),
        id::BOOTTIME => Source::Clock(Clock::Boottime),
        id::REALTIME_COARSE => Source::Clock(Clock::RealtimeCoarse),
        id::MONOTONIC_COARSE => Source::Clock(Clock::MonotonicCoarse),
        id::PROCESS_CPUTIME | id::THREAD_CPUTIME => Source::CpuTime,
        _ => return Err(Errno::Inval),
    })
}

impl Context<'_> {
    fn now(&mut self, clock: u64) -> Result<Timespec, Errno> {
        Ok(match source(clock)? {
            Source::Clock(c) => self.host.clock(c),
            Source::CpuTime => {
                let now = self.host.clock(Clock::Monotonic).nanos();
                Timespec::from_nanos(now.saturating_sub(self.process.started.nanos()))
            }
        })
    }

    pub(super) fn clock_gettime(&mut self, clock: u64, tp: u64) -> Result<u64, Errno> {
        let now = self.now(clock)?;
        self.host.write_user(tp, &now.to_bytes())?;
        Ok(0)
    }

    pub(super) fn clock_getres(&mut self, clock: u64, res: u64) -> Result<u64, Errno> {
        let resolution = match clock {
            id::REALTIME_COARSE | id::MONOTONIC_COARSE => COARSE_RESOLUTION_NS,
            other => {
                source(other)?;
                1
            }
        };
        if res != 0 {
            self.host
                .write_user(res, &Timespec::from_nanos(resolution).to_bytes())?;
        }
        Ok(0)
    }

    pub(super) fn gettimeofday(&mut self, tv: u64, tz: u64) -> Result<u64, Errno> {
        if tv != 0 {
            let now = self.host.clock(Clock::Realtime);
            self.host.write_user(tv, &now.to_timeval())?;
        }
        if tz != 0 {
            // UTC: no minutes west, no daylight saving.
            self.host.write_user(tz, &[0u8; 8])?;
        }
        Ok(0)
    }

    pub(super) fn time(&mut self, tloc: u64) -> Result<u64, Errno> {
        let now = self.host.clock(Clock::Realtime).sec;
        if tloc != 0 {
            self.write_word(tloc, now)?;
        }
        Ok(now)
    }

    fn read_timespec(&mut self, addr: u64) -> Result<Timespec, Errno> {
        let mut b = [0u8; 16];
        self.host.read_user(addr, &mut b)?;
        Timespec::from_bytes(&b)
    }

    /// The monotonic time `duration` from now.
    fn after(&mut self, duration: Timespec) -> Timespec {
        let now = self.host.clock(Clock::Monotonic).nanos();
        match now.checked_add(duration.nanos()) {
            Some(t) if duration.nanos() != u64::MAX => Timespec::from_nanos(t),
            _ => FOREVER,
        }
    }

    pub(super) fn nanosleep(&mut self, req: u64) -> Answer {
        match self.read_timespec(req) {
            Ok(duration) => Answer::Sleep {
                until: self.after(duration),
                then: Ok(0),
            },
            Err(e) => Answer::Error(e),
        }
    }

    pub(super) fn clock_nanosleep(&mut self, clock: u64, flags: u64, req: u64) -> Answer {
        let sleeps = matches!(clock, id::REALTIME | id::MONOTONIC | id::BOOTTIME | id::PROCESS_CPUTIME);
        if !sleeps {
            return Answer::Error(Errno::Inval);
        }
        let time = match self.read_timespec(req) {
            Ok(t) => t,
            Err(e) => return Answer::Error(e),
        };
        let duration = if flags & TIMER_ABSTIME != 0 {
            let now = match self.now(clock) {
                Ok(now) => now,
                Err(e) => return Answer::Error(e),
            };
            Timespec::from_nanos(time.nanos().saturating_sub(now.nanos()))
        } else {
            time
        };
        Answer::Sleep {
            until: self.after(duration),
            then: Ok(0),
        }
    }

    /// futex for a process of one thread: a wait whose word still holds
    /// the value sleeps until its timeout (forever without one), a wake
    /// finds nobody.
    pub(super) fn futex(&mut self, uaddr: u64, op: u64, val: u64, timeout: u64, val3: u64) -> Answer {
        let realtime = op & futex::CLOCK_REALTIME != 0;
        match op & futex::CMD_MASK {
            cmd @ (futex::WAIT | futex::WAIT_BITSET) => {
                if cmd == futex::WAIT_BITSET && val3 as u32 == 0 {
                    return Answer::Error(Errno::Inval);
                }
                if cmd == futex::WAIT && realtime {
                    return Answer::Error(Errno::NoSys);
                }
                if !uaddr.is_multiple_of(4) {
                    return Answer::Error(Errno::Inval);
                }
                let mut word = [0u8; 4];
                if let Err(e) = self.host.read_user(uaddr, &mut word) {
                    return Answer::Error(e);
                }
                let limit = if timeout == 0 {
                    None
                } else {
                    match self.read_timespec(timeout) {
                        Ok(t) => Some(t),
                        Err(e) => return Answer::Error(e),
                    }
                };
                if u32::from_le_bytes(word) != val as u32 {
                    return Answer::Error(Errno::Again);
                }
                let until = match limit {
                    None => FOREVER,
                    // FUTEX_WAIT's timeout is relative; WAIT_BITSET's is
                    // absolute on its clock.
                    Some(t) if cmd == futex::WAIT => self.after(t),
                    Some(t) => {
                        let clock = if realtime { id::REALTIME } else { id::MONOTONIC };
                        let now = self.now(clock).unwrap_or_default();
                        self.after(Timespec::from_nanos(t.nanos().saturating_sub(now.nanos())))
                    }
                };
                Answer::Sleep {
                    until,
                    then: Err(Errno::TimedOut),
                }
            }
            futex::WAKE | futex::WAKE_BITSET | futex::REQUEUE => {
                if !uaddr.is_multiple_of(4) {
                    return Answer::Error(Errno::Inval);
                }
                Answer::Value(0)
            }
            futex::CMP_REQUEUE => {
                let mut word = [0u8; 4];
                match self.host.read_user(uaddr, &mut word) {
                    Err(e) => Answer::Error(e),
                    Ok(()) if u32::from_le_bytes(word) != val3 as u32 => Answer::Error(Errno::Again),
                    Ok(()) => Answer::Value(0),
                }
            }
            _ => Answer::Error(Errno::NoSys),
        }
    }
}
