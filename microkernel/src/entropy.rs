//! Randomness for the pager's ASLR: RDSEED or RDRAND when the CPU has them,
//! otherwise the time-stamp counter run through a mixing function (weak,
//! and logged as such at boot).

use x86_64::instructions::random::RdRand;

pub fn tsc() -> u64 {
    // SAFETY: RDTSC has no side effects and is available on every x86-64.
    unsafe { core::arch::x86_64::_rdtsc() }
}

fn has_rdseed() -> bool {
    let leaf7 = core::arch::x86_64::__cpuid_count(7, 0);
    leaf7.ebx & (1 << 18) != 0
}

fn rdseed() -> Option<u64> {
    let mut value = 0u64;
    for _ in 0..16 {
        // SAFETY: only called after CPUID reported RDSEED.
        if unsafe { core::arch::x86_64::_rdseed64_step(&mut value) } == 1 {
            return Some(value);
        }
    }
    None
}

/// SplitMix64's finalizer: spreads TSC bits over the word.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Names the source used, for the boot log.
pub fn source() -> &'static str {
    if has_rdseed() {
        "RDSEED"
    } else if RdRand::new().is_some() {
        "RDRAND"
    } else {
        "TSC (weak: no RDRAND/RDSEED on this CPU)"
    }
}

pub fn random_u64() -> u64 {
    if has_rdseed()
        && let Some(v) = rdseed()
    {
        return v;
    }
    if let Some(v) = RdRand::new().and_then(|r| r.get_u64()) {
        return v;
    }
    mix(tsc())
}
