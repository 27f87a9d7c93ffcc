//! Address-space layout randomization: which regions move, and by how much.
//!
//! | mode (`kernel.randomize_va_space`) | stack | mmap base | vDSO, vvar | heap (brk) | PIE base |
//! |---|---|---|---|---|---|
//! | 0 | fixed | fixed | fixed (just below the mmap base) | fixed | fixed (`0x555555554000`) |
//! | 1 | random | random | fixed (at the top of the mmap base's range, [`special_top`]) | fixed | fixed |
//! | 2 (default) | random | random | random (just below the mmap base) | random | random |
//!
//! Non-PIE programs keep their linked base in every mode.
//!
//! One divergence from Linux: Linux randomizes the PIE base from mode 1
//! (`PF_RANDOMIZE` is set for any non-zero mode; only brk waits for 2),
//! while this table keeps it fixed until mode 2.
//!
//! | range | default profile | `linux` profile |
//! |---|---|---|
//! | stack top | 8 MiB (2^11 pages) | 16 GiB (2^22 pages) + a sub-page shift < 8 KiB, 16-byte aligned |
//! | mmap base | 1 GiB (2^18 pages) | 1 TiB (2^28 pages) |
//! | heap start | 32 MiB (2^13 pages) | 1 GiB (2^18 pages) |
//! | PIE base | 1 GiB (2^18 pages) | 1 TiB (2^28 pages) |

use libipc::types::PAGE_SIZE;

use crate::{
    rng::Rng,
    settings::{AslrProfile, RandomizeVaSpace, Settings},
    space::TASK_SIZE_47,
};

/// Top of the stack without randomization.
pub const STACK_TOP: u64 = TASK_SIZE_47;
/// Where PIE programs load without randomization (Linux's value).
pub const PIE_BASE: u64 = 0x5555_5555_4000;
/// The smallest gap Linux leaves between the stack and the mmap base.
pub const MIN_STACK_GAP: u64 = 128 << 20;

/// Randomization ranges, in pages, of one profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ranges {
    pub stack_pages: u64,
    pub mmap_pages: u64,
    pub heap_pages: u64,
    pub pie_pages: u64,
    /// The initial stack pointer moves down by a random multiple of 16
    /// below this many bytes.
    pub stack_shift_bytes: u64,
}

impl Ranges {
    pub fn of(profile: AslrProfile) -> Ranges {
        match profile {
            AslrProfile::Default => Ranges {
                stack_pages: 1 << 11,
                mmap_pages: 1 << 18,
                heap_pages: 1 << 13,
                pie_pages: 1 << 18,
                stack_shift_bytes: 0,
            },
            AslrProfile::Linux => Ranges {
                stack_pages: 1 << 22,
                mmap_pages: 1 << 28,
                heap_pages: 1 << 18,
                pie_pages: 1 << 28,
                stack_shift_bytes: 8 << 10,
            },
        }
    }
}

/// The randomized choices for one new address space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placement {
    /// Top of the stack VMA.
    pub stack_top: u64,
    /// Bytes the initial stack pointer sits below `stack_top`.
    pub stack_shift: u64,
    pub mmap_base: u64,
    /// Added to the page-aligned end of the program's data.
    pub heap_offset: u64,
    /// Load bias of a position-independent program.
    pub pie_base: u64,
}

/// The highest mmap base a placement can draw: below the stack, its
/// rlimit (at least 128 MiB) and, when the stack moves, its range.
pub fn mmap_top(settings: &Settings, stack_limit: u64) -> u64 {
    let stack_pad = if settings.randomize_va_space >= RandomizeVaSpace::Conservative {
        Ranges::of(settings.aslr_profile).stack_pages * PAGE_SIZE
    } else {
        0
    };
    STACK_TOP - stack_limit.clamp(MIN_STACK_GAP, TASK_SIZE_47 / 6 * 5) - stack_pad
}

/// Where the vDSO and vvar end when they do not move (modes 0 and 1):
/// the top of the mmap base's range, above any mmap base drawn and below
/// any stack. `None` in mode 2, where they go just below the mmap base.
pub fn special_top(settings: &Settings, stack_limit: u64) -> Option<u64> {
    (settings.randomize_va_space < RandomizeVaSpace::Full).then(|| mmap_top(settings, stack_limit))
}

/// Draws a placement. `stack_limit` is RLIMIT_STACK's soft value.
pub fn place(settings: &Settings, rng: &mut Rng, stack_limit: u64) -> Placement {
    let r = Ranges::of(settings.aslr_profile);
    let mode = settings.randomize_va_space;
    let mut pages = |n: u64, on: bool| if on { rng.below(n) * PAGE_SIZE } else { 0 };
    let stack_random = pages(r.stack_pages, mode >= RandomizeVaSpace::Conservative);
    let stack_top = STACK_TOP - stack_random;
    let shift = if mode >= RandomizeVaSpace::Conservative && r.stack_shift_bytes > 0 {
        rng.below(r.stack_shift_bytes / 16) * 16
    } else {
        0
    };
    let mut pages = |n: u64, on: bool| if on { rng.below(n) * PAGE_SIZE } else { 0 };
    // Like Linux: below the stack, its rlimit (at least 128 MiB) and the
    // stack's own randomization range stay free; with the stack fixed
    // (mode 0) there is no range to pad for.
    let stack_pad = if mode >= RandomizeVaSpace::Conservative {
        r.stack_pages * PAGE_SIZE
    } else {
        0
    };
    let gap = stack_limit.clamp(MIN_STACK_GAP, TASK_SIZE_47 / 6 * 5) + stack_pad;
    debug_assert_eq!(STACK_TOP - gap, mmap_top(settings, stack_limit));
    let mmap_base = STACK_TOP - gap - pages(r.mmap_pages, mode >= RandomizeVaSpace::Conservative);
    let heap_offset = pages(r.heap_pages, mode >= RandomizeVaSpace::Full);
    let pie_base = PIE_BASE + pages(r.pie_pages, mode >= RandomizeVaSpace::Full);
    Placement {
        stack_top,
        stack_shift: shift,
        mmap_base,
        heap_offset,
        pie_base,
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use super::*;

    fn draws(mode: u8, profile: AslrProfile, n: usize, seed: u64) -> Vec<Placement> {
        let mut s = Settings::default();
        s.set("kernel.randomize_va_space", &alloc::format!("{mode}")).unwrap();
        s.aslr_profile = profile;
        let mut rng = Rng::from_words([seed, 1, 2, 3]);
        (0..n).map(|_| place(&s, &mut rng, 8 << 20)).collect()
    }

    #[test]
    fn mode_0_is_fixed() {
        let d = draws(0, AslrProfile::Default, 50, 1);
        assert!(d.iter().all(|p| *p == d[0]));
        assert_eq!(d[0].stack_top, STACK_TOP);
        assert_eq!(d[0].pie_base, PIE_BASE);
        assert_eq!(d[0].heap_offset, 0);
        // Linux's gap with nothing randomized: 128 MiB, no padding.
        assert_eq!(d[0].mmap_base, STACK_TOP - MIN_STACK_GAP);
    }

    #[test]
    fn mode_1_randomizes_stack_and_mmap_not_heap_or_pie() {
        let d = draws(1, AslrProfile::Default, 200, 2);
        assert!(d.iter().any(|p| p.stack_top != d[0].stack_top));
        assert!(d.iter().any(|p| p.mmap_base != d[0].mmap_base));
        assert!(d.iter().all(|p| p.heap_offset == 0 && p.pie_base == PIE_BASE));
    }

    #[test]
    fn mode_2_randomizes_everything() {
        let d = draws(2, AslrProfile::Default, 200, 3);
        assert!(d.iter().any(|p| p.heap_offset != d[0].heap_offset));
        assert!(d.iter().any(|p| p.pie_base != d[0].pie_base));
    }

    /// Range, spread and independence, over many seeded draws.
    #[test]
    fn distributions_have_the_documented_ranges_and_spread() {
        const N: usize = 4000;
        for profile in [AslrProfile::Default, AslrProfile::Linux] {
            let r = Ranges::of(profile);
            let d = draws(2, profile, N, 4);
            let stack: Vec<u64> = d.iter().map(|p| (STACK_TOP - p.stack_top) / PAGE_SIZE).collect();
            let heap: Vec<u64> = d.iter().map(|p| p.heap_offset / PAGE_SIZE).collect();
            let pie: Vec<u64> = d.iter().map(|p| (p.pie_base - PIE_BASE) / PAGE_SIZE).collect();
            for (name, xs, range) in [
                ("stack", &stack, r.stack_pages),
                ("heap", &heap, r.heap_pages),
                ("pie", &pie, r.pie_pages),
            ] {
                assert!(xs.iter().all(|&x| x < range), "{name} out of range");
                // Spread: the mean of a uniform draw is near range/2 and
                // every quarter of the range is hit about N/4 times.
                let mean = xs.iter().map(|&x| x as f64).sum::<f64>() / N as f64;
                let half = range as f64 / 2.0;
                assert!((mean - half).abs() < half * 0.05, "{name} mean {mean} vs {half}");
                for q in 0..4 {
                    let hits = xs.iter().filter(|&&x| x * 4 / range == q).count();
                    assert!((800..1200).contains(&hits), "{name} quarter {q}: {hits}");
                }
            }
            // mmap base: inside its documented window below the stack gap.
            let gap = MIN_STACK_GAP + r.stack_pages * PAGE_SIZE;
            assert!(d.iter().all(|p| p.mmap_base <= STACK_TOP - gap && p.mmap_base > STACK_TOP - gap - r.mmap_pages * PAGE_SIZE));
            // Independence: the stack and heap draws are uncorrelated.
            let corr = correlation(&stack, &heap);
            assert!(corr.abs() < 0.06, "stack/heap correlation {corr}");
            let corr = correlation(&heap, &pie);
            assert!(corr.abs() < 0.06, "heap/pie correlation {corr}");
            // The mmap base (and with it the vDSO) moves independently of
            // the stack, and spreads over its whole window.
            let mmap: Vec<u64> = d.iter().map(|p| (STACK_TOP - gap - p.mmap_base) / PAGE_SIZE).collect();
            let corr = correlation(&stack, &mmap);
            assert!(corr.abs() < 0.06, "stack/mmap correlation {corr}");
            let corr = correlation(&mmap, &pie);
            assert!(corr.abs() < 0.06, "mmap/pie correlation {corr}");
            let mean = mmap.iter().map(|&x| x as f64).sum::<f64>() / N as f64;
            let half = r.mmap_pages as f64 / 2.0;
            assert!((mean - half).abs() < half * 0.05, "mmap mean {mean} vs {half}");
        }
    }

    #[test]
    fn linux_profile_shifts_the_stack_pointer_within_a_page_pair() {
        let d = draws(2, AslrProfile::Linux, 500, 5);
        assert!(d.iter().all(|p| p.stack_shift < 8192 && p.stack_shift % 16 == 0));
        assert!(d.iter().any(|p| p.stack_shift != 0));
    }

    fn correlation(a: &[u64], b: &[u64]) -> f64 {
        let n = a.len() as f64;
        let (ma, mb) = (a.iter().sum::<u64>() as f64 / n, b.iter().sum::<u64>() as f64 / n);
        let (mut cov, mut va, mut vb) = (0.0, 0.0, 0.0);
        for (&x, &y) in a.iter().zip(b) {
            let (dx, dy) = (x as f64 - ma, y as f64 - mb);
            cov += dx * dy;
            va += dx * dx;
            vb += dy * dy;
        }
        cov / (va.sqrt() * vb.sqrt())
    }
}
