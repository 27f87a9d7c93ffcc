//! Host tests across modules: the access matrix, golden Linux formats, every
//! error path, properties of the whole request path, and the streamed
//! files against the whole-file model.

mod errors;
mod fake;
pub(crate) mod fixtures;
mod formats;
mod leases;
mod matrix;
mod props;
mod stream;
