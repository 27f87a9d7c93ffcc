//! `/proc/<pid>/maps`: one line per VMA, then the vsyscall page if any.
//! Each line is a record of the streamed file (`crate::stream`).

use libipc::{
    procfs::{Backing, Sharing, SpaceLayout, VmaInfo, VmaLabel},
    types::{PAGE_SIZE, Prot},
};

use super::{
    VSYSCALL_END, VSYSCALL_NAME, VSYSCALL_START, VsyscallMode,
    line::{LineHeader, LineName, write_line},
    name::vma_name,
    record::Record,
};

/// The line header of `vma`: offset, device and inode come from the file
/// (all zero for anonymous memory); `s` means MAP_SHARED.
pub fn vma_header(vma: &VmaInfo) -> LineHeader {
    let (offset, dev_major, dev_minor, inode) = match &vma.backing {
        Backing::File(f) => (f.page_offset.wrapping_mul(PAGE_SIZE), f.dev_major, f.dev_minor, f.inode),
        // Shared anonymous memory is Linux's /dev/zero object on the
        // internal shmem mount, device 00:01.
        Backing::Anonymous => match vma.label {
            VmaLabel::Shmem { inode } => (0, 0, 1, inode),
            _ => (0, 0, 0, 0),
        },
    };
    LineHeader {
        start: vma.start.0,
        end: vma.end.0,
        read: vma.prot.contains(Prot::READ),
        write: vma.prot.contains(Prot::WRITE),
        exec: vma.prot.contains(Prot::EXEC),
        shared: vma.sharing == Sharing::Shared,
        offset,
        dev_major,
        dev_minor,
        inode,
    }
}

/// The vsyscall page's line header, if the mode lists one.
pub fn vsyscall_header(mode: VsyscallMode) -> Option<LineHeader> {
    let read = match mode {
        VsyscallMode::None => return None,
        VsyscallMode::XOnly => false,
        VsyscallMode::Emulate => true,
    };
    Some(LineHeader {
        start: VSYSCALL_START,
        end: VSYSCALL_END,
        read,
        write: false,
        exec: true,
        shared: false,
        offset: 0,
        dev_major: 0,
        dev_minor: 0,
        inode: 0,
    })
}

/// Appends the maps line of `vma` in a space laid out as `layout`.
pub fn write_vma_line(out: &mut Record, layout: &SpaceLayout, vma: &VmaInfo) {
    let name = vma_name(vma, layout);
    write_line(out, &vma_header(vma), name.as_ref().map(|n| n as &dyn LineName));
}

/// Appends the vsyscall page's line, if the mode lists one.
pub fn write_vsyscall_line(out: &mut Record, vsyscall: VsyscallMode) {
    if let Some(header) = vsyscall_header(vsyscall) {
        write_line(out, &header, Some(&VSYSCALL_NAME));
    }
}

/// The whole maps file at once: the model the streamed file is tested
/// against.
#[cfg(test)]
pub fn render(space: &crate::source::AddressSpace, vsyscall: VsyscallMode) -> alloc::string::String {
    let mut out = Record::default();
    for vma in space.vmas() {
        write_vma_line(&mut out, space.layout(), vma);
    }
    write_vsyscall_line(&mut out, vsyscall);
    out.into_string()
}
