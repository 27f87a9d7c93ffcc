//! The kernel's time base: the TSC, calibrated at boot against the PIT,
//! the wall time read once from the CMOS RTC, and the clock page (vvar)
//! that publishes both to user space. The kernel writes the page on every
//! timer tick; pagers map its frame read-only into their processes (the
//! kernel refuses any writable or executable mapping of it), so programs
//! read clocks without entering the kernel. The layout and arithmetic are
//! the `vvar` crate's, shared with every reader.

use spin::Once;
use vvar::{NSEC_PER_SEC, VvarData};
use x86_64::PhysAddr;

use crate::arch::{clock, interrupts::TIMER_HZ};

struct Page {
    data: &'static VvarData,
    phys: u64,
}

static PAGE: Once<Page> = Once::new();

/// How long the TSC calibration counts the PIT.
const CALIBRATION_MS: u64 = 20;

/// Calibrates the TSC, reads the RTC and fills the clock page; logs what
/// it found.
pub fn init() {
    let frame = crate::memory::frames::alloc_zeroed().expect("a frame for the clock page");
    let phys = frame.start_address().as_u64();
    let ptr = crate::memory::phys_to_virt(PhysAddr::new(phys)).as_mut_ptr::<VvarData>();
    // SAFETY: the frame is fresh, zeroed (a valid VvarData: all atomics
    // zero) and never freed; the kernel writes it only through atomics.
    let data: &'static VvarData = unsafe { &*ptr };
    let hz = clock::measure_tsc_hz(CALIBRATION_MS);
    let (year, month, day, hour, minute, second) = clock::read_rtc();
    let now = crate::entropy::tsc();
    let wall = vvar::unix_seconds(year, month, day, hour, minute, second);
    let getcpu = clock::set_cpu_number(0);
    data.getcpu.store(getcpu, core::sync::atomic::Ordering::Relaxed);
    data.start(
        now,
        hz,
        (wall.max(0) as u64).saturating_mul(NSEC_PER_SEC),
        NSEC_PER_SEC / u64::from(TIMER_HZ),
    );
    PAGE.call_once(|| Page { data, phys });
    log::info!(
        "clock: TSC {}.{:03} MHz, RTC {year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02} UTC, \
         clock page at {phys:#x}, getcpu by {}",
        hz / 1_000_000,
        hz / 1000 % 1000,
        match getcpu {
            vvar::getcpu::RDPID => "RDPID",
            vvar::getcpu::RDTSCP => "RDTSCP",
            _ => "none (one CPU)",
        }
    );
}

/// The clock page's frame (what `VvarFrame` tells a pager).
pub fn vvar_phys() -> u64 {
    PAGE.get().map_or(u64::MAX, |p| p.phys)
}

/// A timer tick: moves the page's base to now; returns the monotonic time.
pub fn tick() -> u64 {
    PAGE.get().map_or(0, |p| p.data.tick(crate::entropy::tsc()))
}

/// `CLOCK_MONOTONIC` now, in nanoseconds since boot.
pub fn monotonic_ns() -> u64 {
    PAGE.get()
        .and_then(|p| p.data.clock_ns(vvar::ClockId::Monotonic))
        .unwrap_or(0)
}

/// Maps the vsyscall page's code in `emulate` mode (readable by every
/// process, not executable: calls fault to the pager, which emulates
/// them). Before any address space exists.
pub fn init_vsyscall(mode: libipc::vsyscall::Mode) {
    if mode != libipc::vsyscall::Mode::Emulate {
        log::info!("vsyscall: {mode:?}, no page mapped");
        return;
    }
    let frame = crate::memory::frames::alloc_zeroed().expect("a frame for the vsyscall page");
    let ptr = crate::memory::phys_to_virt(frame.start_address()).as_mut_ptr::<[u8; 4096]>();
    // SAFETY: the frame is fresh and ours alone; it is written once here,
    // before any process can map it.
    unsafe { ptr.write(libipc::vsyscall::page_image()) };
    match crate::memory::space::map_shared_user_page(
        x86_64::VirtAddr::new(libipc::vsyscall::START),
        frame.start_address(),
    ) {
        Ok(()) => log::info!("vsyscall: emulate, the page readable at {:#x}", libipc::vsyscall::START),
        Err(e) => log::error!("vsyscall: cannot map the page: {e:?}"),
    }
}
