//! `/proc/<pid>/smaps_rollup`: smaps' sums over the whole address space.
//!
//! The header spans the first VMA's start to the last one's end with
//! `---p` and no file, named `[rollup]`; an empty space prints
//! `00000000-00000000`. The vsyscall page is not included.

use alloc::string::String;

use libipc::{procfs::PageInfo, types::PAGE_SIZE};

use super::{
    line::{LineHeader, write_line},
    smaps::MemStats,
};
use crate::source::{AddressSpace, pages_between};

/// The whole smaps_rollup file; `pages` sorted by vpn.
pub fn render(space: &AddressSpace, pages: &[PageInfo]) -> String {
    let (start, end) = space.span().map_or((0, 0), |(s, e)| (s.0, e.0));
    let header = LineHeader {
        start,
        end,
        read: false,
        write: false,
        exec: false,
        shared: false,
        offset: 0,
        dev_major: 0,
        dev_minor: 0,
        inode: 0,
    };
    let mut out = String::new();
    write_line(&mut out, &header, Some(&"[rollup]"));
    let mut stats = MemStats::default();
    for vma in space.vmas() {
        for page in pages_between(pages, vma.start.0 / PAGE_SIZE, vma.end.0 / PAGE_SIZE) {
            stats.account(vma, page);
        }
    }
    stats.write_body(&mut out, true);
    out
}
