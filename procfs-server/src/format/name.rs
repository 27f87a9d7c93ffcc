//! What a VMA is called in maps and smaps: Linux's `get_vma_name` rules.
//!
//! In order: a file mapping shows its path (or `[anon_shmem:NAME]` if the
//! shared memory was named); shared anonymous memory `/dev/zero (deleted)`; a special mapping its own name (`[vdso]`,
//! `[vvar]`, `[vvar_vclock]`); then `[heap]` if `start < brk && end >
//! start_brk` (strict: a VMA starting exactly at the break is not the heap);
//! `[stack]` if `start <= start_stack <= end`; then `[anon:NAME]`; else no
//! name.

use core::fmt;

use libipc::procfs::{Backing, SpaceLayout, SpecialMapping, VmaInfo, VmaLabel};

use super::{line::LineName, record::Record};

/// A VMA's name, ready to print.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VmaName<'a> {
    Path(&'a str),
    Fixed(&'static str),
    Anon(&'a str),
    AnonShmem(&'a str),
}

/// The name of `vma` in the space described by `layout`, if it has one.
pub fn vma_name<'a>(vma: &'a VmaInfo, layout: &SpaceLayout) -> Option<VmaName<'a>> {
    if let Backing::File(file) = &vma.backing {
        return Some(match &vma.label {
            VmaLabel::AnonName(name) => VmaName::AnonShmem(name),
            _ => VmaName::Path(&file.path),
        });
    }
    if let VmaLabel::Shmem { .. } = vma.label {
        return Some(VmaName::Fixed("/dev/zero (deleted)"));
    }
    if let VmaLabel::Special(special) = vma.label {
        return Some(VmaName::Fixed(match special {
            SpecialMapping::Vdso => "[vdso]",
            SpecialMapping::Vvar => "[vvar]",
            SpecialMapping::VvarVclock => "[vvar_vclock]",
        }));
    }
    if vma.start < layout.brk && vma.end > layout.start_brk {
        return Some(VmaName::Fixed("[heap]"));
    }
    if vma.start <= layout.start_stack && layout.start_stack <= vma.end {
        return Some(VmaName::Fixed("[stack]"));
    }
    match &vma.label {
        VmaLabel::AnonName(name) => Some(VmaName::Anon(name)),
        _ => None,
    }
}

/// Writes `s` with newlines escaped as `\012`, as Linux's `seq_path` does,
/// so a hostile file name cannot forge a line.
fn write_escaped(out: &mut Record, s: &str) {
    let mut parts = s.split('\n');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    for part in parts {
        out.push_str("\\012");
        out.push_str(part);
    }
}

impl LineName for VmaName<'_> {
    fn write_name(&self, out: &mut Record) {
        match self {
            VmaName::Path(path) => write_escaped(out, path),
            VmaName::Fixed(name) => out.push_str(name),
            VmaName::Anon(name) => {
                out.push_str("[anon:");
                write_escaped(out, name);
                out.push_str("]");
            }
            VmaName::AnonShmem(name) => {
                out.push_str("[anon_shmem:");
                write_escaped(out, name);
                out.push_str("]");
            }
        }
    }
}

/// The name as maps prints it (for tests and logs).
impl fmt::Display for VmaName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Record::default();
        self.write_name(&mut out);
        f.write_str(&out.into_string())
    }
}

#[cfg(test)]
mod tests {
    use libipc::{
        procfs::{FileRef, Sharing},
        types::{Prot, VirtAddr},
    };

    use super::*;

    fn anon(start: u64, end: u64) -> VmaInfo {
        crate::tests::fixtures::vma(start, end, Prot::RW, Sharing::Private)
    }

    fn layout(start_brk: u64, brk: u64, start_stack: u64) -> SpaceLayout {
        SpaceLayout {
            start_brk: VirtAddr(start_brk),
            brk: VirtAddr(brk),
            start_stack: VirtAddr(start_stack),
            top: libipc::types::USER_END,
        }
    }

    #[test]
    fn heap_rule_is_strict() {
        let l = layout(0x10000, 0x12345, 0x7fff_0000);
        assert_eq!(vma_name(&anon(0x10000, 0x13000), &l), Some(VmaName::Fixed("[heap]")));
        // The page holding an unaligned break is still the heap.
        assert_eq!(
            vma_name(&anon(0x12345 & !0xfff, 0x13000), &l),
            Some(VmaName::Fixed("[heap]"))
        );
        // Starts exactly at the break: not the heap.
        let at_brk = layout(0x10000, 0x12000, 0x7fff_0000);
        assert_eq!(vma_name(&anon(0x12000, 0x13000), &at_brk), None);
        // Ends exactly at start_brk: not the heap either.
        assert_eq!(vma_name(&anon(0xf000, 0x10000), &l), None);
        // An empty heap (brk == start_brk) names nothing.
        let empty = layout(0x10000, 0x10000, 0);
        assert_eq!(vma_name(&anon(0x10000, 0x11000), &empty), None);
    }

    #[test]
    fn stack_rule_is_inclusive() {
        let l = layout(0, 0, 0x7fff_f000);
        assert_eq!(
            vma_name(&anon(0x7ffe_0000, 0x7fff_f000), &l),
            Some(VmaName::Fixed("[stack]"))
        );
        assert_eq!(
            vma_name(&anon(0x7fff_f000, 0x8000_0000), &l),
            Some(VmaName::Fixed("[stack]"))
        );
        assert_eq!(vma_name(&anon(0x7fff_0000, 0x7fff_e000), &l), None);
    }

    #[test]
    fn files_and_specials_come_first() {
        let l = layout(0x10000, 0x20000, 0x10000);
        let mut file = anon(0x10000, 0x11000);
        file.backing = Backing::File(FileRef {
            path: "/bin/a\nb".try_into().unwrap(),
            dev_major: 8,
            dev_minor: 1,
            inode: 5,
            page_offset: 0,
        });
        assert_eq!(vma_name(&file, &l).unwrap().to_string(), "/bin/a\\012b");
        file.label = VmaLabel::AnonName("buf".try_into().unwrap());
        assert_eq!(vma_name(&file, &l).unwrap().to_string(), "[anon_shmem:buf]");
        let mut vdso = anon(0x10000, 0x11000);
        vdso.label = VmaLabel::Special(SpecialMapping::Vdso);
        assert_eq!(vma_name(&vdso, &l).unwrap().to_string(), "[vdso]");
        vdso.label = VmaLabel::Special(SpecialMapping::Vvar);
        assert_eq!(vma_name(&vdso, &l).unwrap().to_string(), "[vvar]");
        vdso.label = VmaLabel::Special(SpecialMapping::VvarVclock);
        assert_eq!(vma_name(&vdso, &l).unwrap().to_string(), "[vvar_vclock]");
        // The heap rule beats an anonymous name, as in Linux.
        let mut named = anon(0x10000, 0x11000);
        named.label = VmaLabel::AnonName("x".try_into().unwrap());
        assert_eq!(vma_name(&named, &l).unwrap().to_string(), "[heap]");
        let far = layout(0, 0, 0);
        assert_eq!(vma_name(&named, &far).unwrap().to_string(), "[anon:x]");
    }
}
