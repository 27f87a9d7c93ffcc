//! `/proc/<pid>/maps` lines for an address space, byte for byte as Linux
//! writes them (see `shared/reference/linux-address-space.md`): the host
//! mode's replay tool prints them, and procfs can compare against them.

use alloc::{format, string::String};
use core::fmt::Write;

use libipc::types::Prot;

use crate::{
    space::AddressSpace,
    vma::{Backing, Vma, VmaName},
};

/// Bytes before a name: the prefix is padded to this width, then one space.
const NAME_COLUMN: usize = 72;

/// `rwxp` / `r--s` and so on.
pub fn perms(prot: Prot, shared: bool) -> String {
    let bit = |b: Prot, c: char| if prot.contains(b) { c } else { '-' };
    format!(
        "{}{}{}{}",
        bit(Prot::READ, 'r'),
        bit(Prot::WRITE, 'w'),
        bit(Prot::EXEC, 'x'),
        if shared { 's' } else { 'p' }
    )
}

/// The name column of one VMA (empty for anonymous memory).
pub fn name(vma: &Vma) -> &str {
    match &vma.name {
        VmaName::None => "",
        VmaName::Heap => "[heap]",
        VmaName::Stack => "[stack]",
        VmaName::Vdso => "[vdso]",
        VmaName::Vvar => "[vvar]",
        VmaName::Path(p) => p,
        VmaName::Shmem(_) => "/dev/zero (deleted)",
    }
}

/// One line, newline included. File mappings show their byte offset and
/// the file object as the inode (the pager has no devices).
pub fn line(vma: &Vma) -> String {
    let (offset, inode) = match vma.backing {
        Backing::File { file, offset, .. } => (offset, file.0),
        Backing::Anonymous => (0, 0),
    };
    let mut out = format!(
        "{:08x}-{:08x} {} {:08x} 00:00 {} ",
        vma.start,
        vma.end,
        perms(vma.prot, vma.shared),
        offset,
        inode
    );
    let name = name(vma);
    if !name.is_empty() {
        while out.len() < NAME_COLUMN {
            out.push(' ');
        }
        if out.len() == NAME_COLUMN {
            out.push(' ');
        }
        out.push_str(name);
    }
    out.push('\n');
    out
}

/// The whole file.
pub fn render(space: &AddressSpace) -> String {
    let mut out = String::new();
    for v in space.vmas().iter() {
        // Writing to a String cannot fail.
        let _ = out.write_str(&line(v));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vma::FileId;

    #[test]
    fn lines_match_linux_byte_for_byte() {
        let mut heap = Vma::new(0x55c2_53fd_f000, 0x55c2_5400_0000, Prot::RW, Backing::Anonymous);
        heap.name = VmaName::Heap;
        assert_eq!(
            line(&heap),
            "55c253fdf000-55c254000000 rw-p 00000000 00:00 0                          [heap]\n"
        );
        let anon = Vma::new(0x7f42_9b5b_b000, 0x7f42_9b5d_d000, Prot::RW, Backing::Anonymous);
        assert_eq!(line(&anon), "7f429b5bb000-7f429b5dd000 rw-p 00000000 00:00 0 \n");
        let mut vdso = Vma::new(0x7f42_9b83_3000, 0x7f42_9b83_5000, Prot::RX, Backing::Anonymous);
        vdso.name = VmaName::Vdso;
        assert_eq!(
            line(&vdso),
            "7f429b833000-7f429b835000 r-xp 00000000 00:00 0                          [vdso]\n"
        );
        assert_eq!(line(&heap).find("[heap]"), Some(73));
    }

    #[test]
    fn short_addresses_are_padded_to_eight_digits_and_files_show_offsets() {
        let mut text = Vma::new(
            0x40_0000,
            0x40_1000,
            Prot::RX,
            Backing::File {
                file: FileId(12),
                offset: 0x1000,
                data_end: u64::MAX,
            },
        );
        text.name = VmaName::Path("/bin/demo".into());
        let l = line(&text);
        assert!(l.starts_with("00400000-00401000 r-xp 00001000 00:00 12 "), "{l}");
        assert_eq!(l.find("/bin/demo"), Some(73));
    }
}
