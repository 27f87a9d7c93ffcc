//! The maps line: the header every maps, smaps and smaps_rollup entry
//! starts with.
//!
//! `start-end perms offset major:minor inode `, hex zero-padded to at least
//! 8 digits (offset too, device parts 2), then the name in a column: the
//! prefix is padded with spaces to [`NAME_PAD`] bytes and one more space is
//! written, so the name starts at byte 73; a longer prefix gets just the one
//! space. A line without a name keeps the trailing space after the inode,
//! which common parsers require.

use super::record::{Record, Scratch};

/// Linux's `seq_setwidth(m, 25 + sizeof(void *) * 6 - 1)` on 64-bit.
pub const NAME_PAD: usize = 72;

/// The fields of a maps line before the name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineHeader {
    pub start: u64,
    pub end: u64,
    pub read: bool,
    pub write: bool,
    pub exec: bool,
    pub shared: bool,
    /// The file offset in bytes (0 for anonymous memory).
    pub offset: u64,
    pub dev_major: u32,
    pub dev_minor: u32,
    pub inode: u64,
}

/// Something printed in the name column: writes itself into the record.
pub trait LineName {
    fn write_name(&self, out: &mut Record);
}

impl LineName for &str {
    fn write_name(&self, out: &mut Record) {
        out.push_str(self);
    }
}

/// The longest header: two 16-digit addresses, the permissions, a 16-digit
/// offset, 8-digit device parts, a 20-digit inode and the separators.
const MAX_HEADER: usize = 16 + 1 + 16 + 1 + 4 + 1 + 16 + 1 + 8 + 1 + 8 + 1 + 20 + 1;

/// Appends the line for `header` and `name`, newline included. The header
/// is put together on the stack and copied once: this is maps' per-VMA
/// hot path.
pub fn write_line(out: &mut Record, h: &LineHeader, name: Option<&dyn LineName>) {
    // The header and, for a line without a name, its newline.
    let mut s = Scratch::<{ MAX_HEADER + 1 }>::new();
    s.hex(h.start, 8);
    s.ascii(b"-");
    s.hex(h.end, 8);
    let flag = |on: bool, c: u8| if on { c } else { b'-' };
    s.ascii(&[
        b' ',
        flag(h.read, b'r'),
        flag(h.write, b'w'),
        flag(h.exec, b'x'),
        if h.shared { b's' } else { b'p' },
        b' ',
    ]);
    s.hex(h.offset, 8);
    s.ascii(b" ");
    s.hex(u64::from(h.dev_major), 2);
    s.ascii(b":");
    s.hex(u64::from(h.dev_minor), 2);
    s.ascii(b" ");
    s.dec(h.inode);
    s.ascii(b" ");
    let header = s.as_bytes();
    match name {
        Some(name) => {
            out.push_ascii(header);
            out.spaces(NAME_PAD.saturating_sub(header.len()) + 1);
            name.write_name(out);
            out.push_ascii(b"\n");
        }
        None => {
            // One copy for the whole line.
            s.ascii(b"\n");
            out.push_ascii(s.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use alloc::{format, string::String};

    use super::*;

    fn line(h: &LineHeader, name: Option<&str>) -> String {
        let mut out = Record::default();
        write_line(&mut out, h, name.as_ref().map(|n| n as &dyn LineName));
        out.into_string()
    }

    fn anon(start: u64, end: u64) -> LineHeader {
        LineHeader {
            start,
            end,
            read: true,
            write: true,
            exec: false,
            shared: false,
            offset: 0,
            dev_major: 0,
            dev_minor: 0,
            inode: 0,
        }
    }

    #[test]
    fn name_starts_at_byte_73() {
        let out = line(&anon(0x55c2_53fd_f000, 0x55c2_5400_0000), Some("[heap]"));
        assert_eq!(
            out,
            "55c253fdf000-55c254000000 rw-p 00000000 00:00 0                          [heap]\n"
        );
        assert_eq!(out.find('['), Some(73));
    }

    #[test]
    fn no_name_keeps_trailing_space() {
        let out = line(&anon(0x7f42_9b5b_b000, 0x7f42_9b5d_d000), None);
        assert_eq!(out, "7f429b5bb000-7f429b5dd000 rw-p 00000000 00:00 0 \n");
    }

    #[test]
    fn short_addresses_pad_to_eight_digits() {
        let mut h = anon(0x1000, 0x2000);
        h.read = false;
        h.write = false;
        let out = line(&h, None);
        assert_eq!(out, "00001000-00002000 ---p 00000000 00:00 0 \n");
    }

    #[test]
    fn long_prefix_gets_exactly_two_spaces() {
        let h = LineHeader {
            start: 0x7fff_f7dd_3000,
            end: 0x7fff_f7df_9000,
            read: true,
            write: false,
            exec: true,
            shared: true,
            offset: 0x1234_5678_9000,
            dev_major: 0x103,
            dev_minor: 0xabcde,
            inode: 18_446_744_073_709_551_615,
        };
        let out = line(&h, Some("/x"));
        let prefix = "7ffff7dd3000-7ffff7df9000 r-xs 123456789000 103:abcde 18446744073709551615 ";
        assert!(prefix.len() >= NAME_PAD);
        assert_eq!(out, format!("{prefix} /x\n"));
    }

    #[test]
    fn the_longest_header_fits() {
        let h = LineHeader {
            start: u64::MAX,
            end: u64::MAX,
            read: true,
            write: true,
            exec: true,
            shared: true,
            offset: u64::MAX,
            dev_major: u32::MAX,
            dev_minor: u32::MAX,
            inode: u64::MAX,
        };
        let expected = format!("{0:x}-{0:x} rwxs {0:x} {1:x}:{1:x} {0} \n", u64::MAX, u32::MAX);
        assert_eq!(expected.len(), MAX_HEADER + 1);
        assert_eq!(line(&h, None), expected);
    }

    #[test]
    fn prefix_of_exactly_72_gets_one_space() {
        // 25 (range) + 1 + 4 + 1 + 16 (offset) + 1 + 5 + 1 + 17 (inode) + 1 = 72.
        let mut h = anon(0x7f00_0000_0000, 0x7f00_0000_1000);
        h.offset = 0xffff_ffff_ffff_f000;
        h.inode = 10_000_000_000_000_000;
        let out = line(&h, Some("n"));
        assert_eq!(
            out,
            "7f0000000000-7f0000001000 rw-p fffffffffffff000 00:00 10000000000000000  n\n"
        );
        assert_eq!(out.find('n'), Some(NAME_PAD + 1));
    }
}
