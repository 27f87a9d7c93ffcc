//! Host tests across modules: the access matrix, golden Linux formats, every
//! error path, and properties of the whole request path.

mod errors;
mod fake;
pub(crate) mod fixtures;
mod formats;
mod leases;
mod matrix;
mod props;
