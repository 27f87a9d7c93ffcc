//! The built-in policies, one per file.

pub mod default;
pub mod diagnostic;
pub mod fault_around;
