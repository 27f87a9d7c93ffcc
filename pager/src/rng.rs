//! The pager's CSPRNG: ChaCha20, seeded from the kernel's entropy source
//! (RDSEED/RDRAND) on the kernel, and from a fixed seed in tests and in the
//! diagnostic policy.

use rand_chacha::{
    ChaCha20Rng,
    rand_core::{RngCore, SeedableRng},
};

#[derive(Clone, Debug)]
pub struct Rng(ChaCha20Rng);

impl Rng {
    pub fn from_seed(seed: [u8; 32]) -> Rng {
        Rng(ChaCha20Rng::from_seed(seed))
    }

    /// Seeds from four 64-bit words (e.g. four `Random` system calls).
    pub fn from_words(words: [u64; 4]) -> Rng {
        let mut seed = [0u8; 32];
        for (chunk, w) in seed.as_chunks_mut::<8>().0.iter_mut().zip(words) {
            chunk.copy_from_slice(&w.to_le_bytes());
        }
        Rng::from_seed(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `[0, n)` (`n > 0`), without modulo bias.
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "empty range");
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let v = self.next_u64();
            if v < zone {
                return v % n;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_streams_repeat() {
        let mut a = Rng::from_words([1, 2, 3, 4]);
        let mut b = Rng::from_words([1, 2, 3, 4]);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        let mut c = Rng::from_words([1, 2, 3, 5]);
        assert_ne!(a.next_u64(), c.next_u64());
    }

    #[test]
    fn below_stays_in_range() {
        let mut r = Rng::from_words([7; 4]);
        for n in [1, 2, 3, 1000, u64::MAX] {
            for _ in 0..100 {
                assert!(r.below(n) < n);
            }
        }
    }
}
