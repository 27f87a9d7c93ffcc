//! The default policy: one page per fault, randomization from the kernel
//! (the trait's defaults, under the name users type).
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::boxed::Box;

use pager::policy::{Policy, Registration};

#[derive(Clone, Copy, Debug, Default)]
pub struct DefaultPolicy;

impl Policy for DefaultPolicy {
    fn name(&self) -> &'static str {
        "default"
    }
}

pub const REGISTRATION: Registration = Registration {
    name: "default",
    summary: "one page per fault",
    new: || Box::new(DefaultPolicy),
};
