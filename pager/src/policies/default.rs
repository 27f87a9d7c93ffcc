//! The default policy: one page per fault, randomization from the kernel.

use crate::policy::Policy;

#[derive(Clone, Copy, Debug, Default)]
pub struct DefaultPolicy;

impl Policy for DefaultPolicy {
    fn name(&self) -> &'static str {
        "default"
    }
}
