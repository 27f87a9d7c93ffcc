//! `/proc/<pid>/smaps_rollup`: smaps' sums over the whole address space.
//!
//! The header spans the first VMA's start to the last one's end with
//! `---p` and no file, named `[rollup]`; an empty space prints
//! `00000000-00000000`. The vsyscall page is not included.

use super::{
    line::{LineHeader, write_line},
    record::Record,
    smaps::MemStats,
};

/// What smaps_rollup prints: the span of the VMAs and the sums over all of
/// their pages. Small and fixed-size, so a reader continuing the file
/// keeps it instead of walking the space again.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// The first VMA's start and the last one's end; `None`: no VMA.
    pub span: Option<(u64, u64)>,
    pub stats: MemStats,
}

/// Appends the whole smaps_rollup text for `totals`.
pub fn write(out: &mut Record, totals: &Totals) {
    let (start, end) = totals.span.unwrap_or((0, 0));
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
    write_line(out, &header, Some(&"[rollup]"));
    totals.stats.write_body(out, true);
}

/// The whole smaps_rollup file at once, `pages` sorted by vpn: the model
/// the streamed file is tested against.
#[cfg(test)]
pub fn render(space: &crate::source::AddressSpace, pages: &[libipc::procfs::PageInfo]) -> alloc::string::String {
    use libipc::types::PAGE_SIZE;
    let mut totals = Totals {
        span: space.span().map(|(s, e)| (s.0, e.0)),
        stats: MemStats::default(),
    };
    for vma in space.vmas() {
        for page in crate::source::pages_between(pages, vma.start.0 / PAGE_SIZE, vma.end.0 / PAGE_SIZE) {
            totals.stats.account(vma, page);
        }
    }
    let mut out = Record::default();
    write(&mut out, &totals);
    out.into_string()
}
