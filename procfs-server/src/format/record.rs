//! The buffer one record (a maps line, an smaps block, the rollup) is
//! formatted into, with hand-written number formatting.
//!
//! Formatting is the per-VMA hot path of maps and smaps (measured: with
//! `core::fmt` a maps line cost about 2,000 guest instructions, most of it
//! in the formatting machinery for ten padded numbers), so the numbers the
//! formats print are written here digit by digit into bytes: hex
//! zero-padded to a minimum width, decimal, decimal right-aligned. Every
//! byte written is ASCII or comes from a `&str`, so the record is always
//! UTF-8. [`Record`] also implements [`fmt::Write`], so a new field that is
//! printed rarely can still use `write!`.

use alloc::{string::String, vec::Vec};
use core::fmt;

/// The most digits a `u64` takes (decimal: 20; hex: 16).
const MAX_DIGITS: usize = 20;

/// The bytes of one record being formatted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Record {
    bytes: Vec<u8>,
}

impl Record {
    /// An empty record with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Record {
        Record {
            bytes: Vec::with_capacity(capacity),
        }
    }

    /// Room for `additional` more bytes.
    pub fn reserve(&mut self, additional: usize) {
        self.bytes.reserve(additional);
    }

    pub fn clear(&mut self) {
        self.bytes.clear();
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The text (always UTF-8: see the module doc).
    pub fn into_string(self) -> String {
        String::from_utf8(self.bytes).unwrap_or_default()
    }

    pub fn push_str(&mut self, s: &str) {
        self.bytes.extend_from_slice(s.as_bytes());
    }

    /// Appends ASCII bytes: the formatters' own literals and digits, which
    /// keeps the record UTF-8.
    pub(crate) fn push_ascii(&mut self, bytes: &[u8]) {
        debug_assert!(bytes.is_ascii());
        self.bytes.extend_from_slice(bytes);
    }

    /// Appends `n` spaces.
    pub fn spaces(&mut self, n: usize) {
        self.bytes.resize(self.bytes.len() + n, b' ');
    }

    /// `value` in lower-case hex, zero-padded to at least `width` digits
    /// (`{:0width$x}`, `width` at most 20).
    pub fn hex(&mut self, value: u64, width: usize) {
        let mut s = Scratch::<MAX_DIGITS>::new();
        s.hex(value, width);
        self.push_ascii(s.as_bytes());
    }

    /// `value` in decimal (`{}`).
    pub fn dec(&mut self, value: u64) {
        self.dec_right(value, 0);
    }

    /// `value` in decimal, right-aligned in at least `width` columns with
    /// spaces (`{:>width$}`, `width` at most 20).
    pub fn dec_right(&mut self, value: u64, width: usize) {
        let mut s = Scratch::<MAX_DIGITS>::new();
        s.dec_right(value, width);
        self.push_ascii(s.as_bytes());
    }
}

/// A fixed buffer on the stack that a short piece of a record (a line's
/// header, a value line) is put together in, so the record grows by one
/// copy per piece rather than one per field. Holds ASCII only; whatever
/// would not fit in `N` bytes is left out, so callers size `N` for their
/// longest piece (tested).
pub struct Scratch<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> Default for Scratch<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Scratch<N> {
    pub const fn new() -> Scratch<N> {
        Scratch { bytes: [0; N], len: 0 }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// The next `n` bytes, or `None` when they would not fit.
    fn take(&mut self, n: usize) -> Option<&mut [u8]> {
        let at = self.len;
        let slot = self.bytes.get_mut(at..at + n)?;
        self.len = at + n;
        Some(slot)
    }

    /// Appends ASCII bytes (the formatters' literals).
    pub fn ascii(&mut self, bytes: &[u8]) {
        debug_assert!(bytes.is_ascii());
        if let Some(slot) = self.take(bytes.len()) {
            slot.copy_from_slice(bytes);
        }
    }

    /// `value` in lower-case hex, zero-padded to at least `width` digits.
    pub fn hex(&mut self, value: u64, width: usize) {
        // Significant digits: at least one.
        let digits = ((u64::BITS - (value | 1).leading_zeros()).div_ceil(4)) as usize;
        let n = digits.max(width.min(MAX_DIGITS));
        if let Some(slot) = self.take(n) {
            let (pad, slot) = slot.split_at_mut(n - digits);
            pad.fill(b'0');
            let mut v = value;
            for d in slot.iter_mut().rev() {
                *d = b"0123456789abcdef"[(v & 0xf) as usize];
                v >>= 4;
            }
        }
    }

    /// `value` in decimal, right-aligned in at least `width` columns.
    pub fn dec_right(&mut self, value: u64, width: usize) {
        let mut digits = 1;
        let mut rest = value / 10;
        while rest != 0 {
            digits += 1;
            rest /= 10;
        }
        let n = digits.max(width.min(MAX_DIGITS));
        if let Some(slot) = self.take(n) {
            let (pad, slot) = slot.split_at_mut(n - digits);
            pad.fill(b' ');
            let mut v = value;
            for d in slot.iter_mut().rev() {
                *d = b'0' + (v % 10) as u8;
                v /= 10;
            }
        }
    }

    /// `value` in decimal.
    pub fn dec(&mut self, value: u64) {
        self.dec_right(value, 0);
    }
}

impl fmt::Write for Record {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push_str(s);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use alloc::format;
    use core::fmt::Write;

    use super::*;

    fn text(f: impl FnOnce(&mut Record)) -> String {
        let mut r = Record::default();
        f(&mut r);
        r.into_string()
    }

    #[test]
    fn numbers_print_as_core_fmt_prints_them() {
        let values = [
            0,
            1,
            9,
            10,
            15,
            16,
            255,
            0x1000,
            0xdead_beef,
            0x7fff_ffff_f000,
            99_999_999,
            100_000_000,
            u64::from(u32::MAX),
            u64::MAX - 1,
            u64::MAX,
        ];
        for v in values {
            for width in [0, 1, 2, 7, 8, 16, 20, 30] {
                assert_eq!(
                    text(|r| r.hex(v, width)),
                    format!("{v:0w$x}", w = width.min(20)),
                    "{v} {width}"
                );
                assert_eq!(
                    text(|r| r.dec_right(v, width)),
                    format!("{v:>w$}", w = width.min(20)),
                    "{v} {width}"
                );
            }
            assert_eq!(text(|r| r.dec(v)), format!("{v}"));
        }
    }

    #[test]
    fn text_and_fmt_append() {
        let s = text(|r| {
            r.push_str("a");
            r.push_ascii(b"-");
            r.spaces(2);
            let _ = write!(r, "{}", 5);
        });
        assert_eq!(s, "a-  5");
        // A scratch buffer leaves out what does not fit.
        let mut small = Scratch::<4>::new();
        small.ascii(b"ab");
        small.hex(0x123, 0);
        small.dec(7);
        assert_eq!(small.as_bytes(), b"ab7");
        let mut r = Record::with_capacity(4);
        assert!(r.is_empty());
        r.push_str("xyz");
        assert_eq!((r.len(), r.as_bytes()), (3, &b"xyz"[..]));
        r.clear();
        assert!(r.is_empty());
    }
}
