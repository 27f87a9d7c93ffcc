//! Register messages: a label and four words that travel from sender to
//! receiver in registers, never through memory.
//!
//! They are the IPC fast path (as L4's message registers): the kernel copies
//! five words from one saved register frame to another, with no page-table
//! walk and no encoding on either side. Kernel events (faults, exits), fault
//! replies and the small pager requests use them; anything larger, or with
//! variable-length data, is a byte message (`Call`) or a lease.
//!
//! A short message always occupies the same registers: the label in `r8`,
//! the words in `r9, r12, r13, r14` (see [`crate::abi`]).

/// The label a server answers a short message with when its protocol has
/// no short form of it (the caller must not wait forever).
pub const UNSUPPORTED_LABEL: u64 = u64::MAX;

/// Words of a register message, besides its label.
pub const SHORT_WORDS: usize = 4;

/// A register message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ShortMessage {
    /// What the message means; each protocol defines its labels.
    pub label: u64,
    pub words: [u64; SHORT_WORDS],
}

impl ShortMessage {
    pub const fn new(label: u64, words: [u64; SHORT_WORDS]) -> Self {
        ShortMessage { label, words }
    }

    /// A message with a label only.
    pub const fn label(label: u64) -> Self {
        ShortMessage {
            label,
            words: [0; SHORT_WORDS],
        }
    }
}
