//! The default policy: one page per fault, randomization from the kernel.

use alloc::{vec, vec::Vec};

use crate::{policy::Policy, vma::Vma};

#[derive(Clone, Copy, Debug, Default)]
pub struct DefaultPolicy;

impl Policy for DefaultPolicy {
    fn name(&self) -> &'static str {
        "default"
    }

    fn fault_pages(&self, _vma: &Vma, page: u64) -> Vec<u64> {
        vec![page]
    }
}
