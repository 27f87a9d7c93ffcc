//! The default policy: one page per fault, the shared zero page for reads
//! of anonymous memory (as Linux), randomization from the kernel.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::boxed::Box;

use pager::{
    policy::{Policy, Registration},
    vma::Vma,
};

#[derive(Clone, Copy, Debug, Default)]
pub struct DefaultPolicy;

impl Policy for DefaultPolicy {
    fn name(&self) -> &'static str {
        "default"
    }

    /// Linux's behaviour: memory only read costs no frame (Rss 0).
    fn zero_page(&mut self, _vma: &Vma, _page: u64) -> bool {
        true
    }
}

pub const REGISTRATION: Registration = Registration {
    name: "default",
    summary: "one page per fault, the zero page for reads of anonymous memory",
    new: || Box::new(DefaultPolicy),
};
