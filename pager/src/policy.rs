//! Alternate pager policies. A policy decides what the mechanism-level
//! choices are: how many pages a fault maps, and how randomization is
//! seeded. Each policy is one file in `policies/`; [`by_name`] lists them.

use alloc::boxed::Box;
use core::ops::Range;

use libipc::types::PAGE_SIZE;

use crate::{settings::Settings, vma::Vma};

pub trait Policy: Send {
    /// The name used on the command line (`policy=NAME`).
    fn name(&self) -> &'static str;

    /// The address range whose pages a fault at `page` (page-aligned,
    /// inside `vma`, not resident) maps: by default that page alone. The
    /// address space clips it to the VMA and to
    /// `libipc::kernel::MAX_FAULT_MAPPINGS` pages, skips resident pages and
    /// lists the faulting page first. A range, not a list, so the fault
    /// path allocates nothing for the policy's answer.
    fn fault_window(&self, _vma: &Vma, page: u64) -> Range<u64> {
        page..page + PAGE_SIZE
    }

    /// Lets a policy override settings (the diagnostic policy turns ASLR off).
    fn adjust_settings(&self, _settings: &mut Settings) {}

    /// The seed of the pager's CSPRNG, given the kernel's entropy.
    fn seed(&self, kernel_entropy: [u64; 4]) -> [u64; 4] {
        kernel_entropy
    }
}

/// Names of the built-in policies.
pub const POLICIES: [&str; 3] = ["default", "fault-around", "diagnostic"];

/// An unknown policy name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownPolicy(pub alloc::string::String);

impl core::fmt::Display for UnknownPolicy {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "unknown policy {:?} (known: {})", self.0, POLICIES.join(", "))
    }
}

/// The policy called `name`.
pub fn by_name(name: &str) -> Result<Box<dyn Policy>, UnknownPolicy> {
    use crate::policies::{default::DefaultPolicy, diagnostic::Diagnostic, fault_around::FaultAround};
    match name {
        "default" => Ok(Box::new(DefaultPolicy)),
        "fault-around" => Ok(Box::new(FaultAround::default())),
        "diagnostic" => Ok(Box::new(Diagnostic)),
        _ => Err(UnknownPolicy(name.into())),
    }
}
