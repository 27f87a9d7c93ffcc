//! The diagnostic policy: deterministic. No randomization, a fixed seed,
//! one page per fault, so two runs lay memory out identically.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::boxed::Box;

use pager::{
    policy::{Policy, Registration},
    settings::{RandomizeVaSpace, Settings},
};

/// The fixed seed: "DIAGNOST" four times.
const SEED: [u64; 4] = [0x4449_4147_4e4f_5354; 4];

#[derive(Clone, Copy, Debug, Default)]
pub struct Diagnostic;

impl Policy for Diagnostic {
    fn name(&self) -> &'static str {
        "diagnostic"
    }

    fn adjust_settings(&self, settings: &mut Settings) {
        settings.randomize_va_space = RandomizeVaSpace::Off;
    }

    fn seed(&self, _kernel_entropy: [u64; 4]) -> [u64; 4] {
        SEED
    }
}

pub const REGISTRATION: Registration = Registration {
    name: "diagnostic",
    summary: "no ASLR, a fixed seed, one page per fault",
    new: || Box::new(Diagnostic),
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aslr_off_and_a_fixed_seed() {
        let mut s = Settings::default();
        Diagnostic.adjust_settings(&mut s);
        assert_eq!(s.randomize_va_space, RandomizeVaSpace::Off);
        assert_eq!(Diagnostic.seed([1, 2, 3, 4]), SEED);
        assert_eq!((REGISTRATION.new)().name(), REGISTRATION.name);
    }
}
