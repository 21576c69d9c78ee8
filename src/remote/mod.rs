//! Remote side of vmup: generated POSIX sh scripts and the parsers for their output.
//!
//! Nothing here does I/O: it turns fact requests and planned actions into scripts (through
//! the one quoting function) and reads the framed output back. Transports carry the bytes.

pub mod apply;
pub mod frame;
pub mod pkg;
pub mod quote;
pub mod root;
pub mod script;
#[cfg(test)]
pub(crate) mod test_shells;
pub mod transaction;

pub use apply::{Action, Expect};
pub use quote::{NulByte, quote};
