//! Demand paging: map 1 GiB, touch 3 pages; the pager must report exactly 3
//! resident pages for the region and 3 fewer free frames in its pool.
#![no_std]
#![no_main]

use libipc::types::Prot;
use programs::{check, verdict};
use runtime::pager;

runtime::entry!(main);

const GIB: u64 = 1 << 30;

/// Maps 1 GiB, touches 3 pages; returns (region resident before, after,
/// pool frames used, data ok).
fn touch_three(region: libipc::types::VirtAddr) -> (u64, u64, u64) {
    let (free_before, _) = pager::pool_stats().unwrap_or_default();
    let resident_before = pager::resident(region, GIB).map(|p| p.0).unwrap_or(u64::MAX);
    for offset in [0, GIB / 2, GIB - 4096] {
        // SAFETY: inside the 1 GiB read-write mapping made by the caller.
        unsafe { ((region.0 + offset) as *mut u8).write_volatile(0x5a) };
    }
    let resident = pager::resident(region, GIB).map(|p| p.0).unwrap_or(u64::MAX);
    let (free_after, _) = pager::pool_stats().unwrap_or_default();
    (resident_before, resident, free_before.0.saturating_sub(free_after.0))
}

fn main(_pid: u64) -> i64 {
    // A warm-up round first, so the code and stack pages of the measured
    // round are resident and only the 3 touched pages take frames.
    let Ok(warm) = pager::mmap_anon(GIB, Prot::RW) else {
        return verdict("demand_paging", false);
    };
    touch_three(warm);
    let _ = pager::munmap(warm, GIB);
    let Ok(region) = pager::mmap_anon(GIB, Prot::RW) else {
        return verdict("demand_paging", false);
    };
    let (free_before, total) = pager::pool_stats().unwrap_or_default();
    runtime::println!(
        "demand_paging: mapped 1 GiB at {:#x}; pool {}/{} free",
        region.0,
        free_before.0,
        total.0
    );
    let (resident_before, resident, used) = touch_three(region);
    runtime::println!(
        "demand_paging: touched 3 pages; resident {resident_before} -> {resident}, pool frames used {used}"
    );
    let mut ok = check("no frames before touching", resident_before == 0);
    ok &= check("exactly 3 resident pages", resident == 3);
    ok &= check("pool shows exactly 3 frames allocated", used == 3);
    // SAFETY: reading back what we wrote.
    let value = unsafe { ((region.0 + GIB / 2) as *const u8).read_volatile() };
    ok &= check("data survives", value == 0x5a);
    let (free_mapped, _) = pager::pool_stats().unwrap_or_default();
    ok &= check("munmap", pager::munmap(region, GIB).is_ok());
    let (free_final, _) = pager::pool_stats().unwrap_or_default();
    ok &= check("munmap returns the frames", free_final.0 == free_mapped.0 + 3);
    verdict("demand_paging", ok)
}
