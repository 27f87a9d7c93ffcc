//! The diagnostic policy: deterministic. No randomization, a fixed seed,
//! one page per fault, so two runs lay memory out identically.

use crate::{
    policy::Policy,
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
