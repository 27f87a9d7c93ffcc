//! Ten thousand VMAs through /proc: maps is read whole through leases and
//! every one of our lines checked, smaps_rollup sums the pages we touched,
//! and the procfs server is still serving afterwards.
//!
//! The VMAs are single pages mapped side by side with alternating
//! protections, so no two neighbours merge. The server must stream the file
//! (its heap is 4 MiB; the file is about half a megabyte and the pager's
//! description of the VMAs several megabytes).
#![no_std]
#![no_main]

extern crate alloc;

use core::fmt::Write;

use libipc::{
    procfs::{PidSelector, ProcFile},
    types::{PAGE_SIZE, Prot},
};
use programs::{check, mmap_fixed, verdict};

runtime::entry!(main);

const NAME: &str = "procfs_many_vmas";

/// How many VMAs we map.
const COUNT: u64 = 10_000;

/// Where they start: far from the program, its heap and the mmap area.
const BASE: u64 = 0x1000_0000_0000;

/// Every `TOUCH_EVERY`th VMA (a writable one) gets a resident page.
const TOUCH_EVERY: u64 = 10;

/// Bytes per leased read.
const CHUNK: usize = 64 * 1024;

/// The longest maps line we expect (ours are 50 bytes; names are short).
const MAX_LINE: usize = 512;

/// An offset in the middle of the file, read again at the end by message.
const PROBE_OFFSET: u64 = 300_001;
const PROBE_LEN: usize = 200;

fn prot_of(i: u64) -> Prot {
    if i.is_multiple_of(2) { Prot::READ } else { Prot::RW }
}

/// The maps line of our `i`th VMA, without the newline.
fn expected_line(i: u64, out: &mut heapless::String<MAX_LINE>) {
    out.clear();
    let start = BASE + i * PAGE_SIZE;
    let perms = if i.is_multiple_of(2) { "r--p" } else { "rw-p" };
    let _ = write!(out, "{start:08x}-{:08x} {perms} 00000000 00:00 0 ", start + PAGE_SIZE);
}

/// What the streaming pass over maps found.
struct Scan {
    lines: u64,
    /// How many of our VMAs were seen, in order, each with the right line.
    ours: u64,
    /// The first wrong line of ours, if any.
    wrong: Option<heapless::String<MAX_LINE>>,
    /// The file's bytes at [`PROBE_OFFSET`].
    probe: heapless::Vec<u8, PROBE_LEN>,
    bytes: u64,
    /// Ticks spent waiting for the reads (under `--icount` a tick is a
    /// guest instruction: the kernel's, the procfs server's and the
    /// pager's work for the file, not this program's checks).
    ticks: u64,
}

impl Scan {
    fn line(&mut self, line: &[u8]) {
        self.lines += 1;
        let text = core::str::from_utf8(line).unwrap_or("");
        let start = text
            .split('-')
            .next()
            .and_then(|s| u64::from_str_radix(s, 16).ok())
            .unwrap_or(0);
        if !(BASE..BASE + COUNT * PAGE_SIZE).contains(&start) {
            return;
        }
        let mut expected = heapless::String::new();
        expected_line(self.ours, &mut expected);
        if text == expected.as_str() {
            self.ours += 1;
        } else if self.wrong.is_none() {
            self.wrong = heapless::String::try_from(&text[..text.len().min(MAX_LINE)]).ok();
        }
    }

    /// Feeds a chunk of the file; `carry` holds an unfinished line.
    fn feed(&mut self, chunk: &[u8], carry: &mut heapless::Vec<u8, MAX_LINE>) {
        for (i, &b) in chunk.iter().enumerate() {
            let at = self.bytes + i as u64;
            if (PROBE_OFFSET..PROBE_OFFSET + PROBE_LEN as u64).contains(&at) {
                let _ = self.probe.push(b);
            }
            if b == b'\n' {
                let line = core::mem::take(carry);
                self.line(&line);
            } else {
                // A line longer than ours is not ours: keep its start only.
                let _ = carry.push(b);
            }
        }
        self.bytes += chunk.len() as u64;
    }
}

fn map_many() -> bool {
    for i in 0..COUNT {
        if let Err(e) = mmap_fixed(BASE + i * PAGE_SIZE, PAGE_SIZE, prot_of(i)) {
            runtime::println!("{NAME}: mmap of VMA {i} failed: {e:?}");
            return false;
        }
        if i % TOUCH_EVERY == 1 {
            // SAFETY: an odd VMA is a fresh read-write page of ours.
            unsafe { ((BASE + i * PAGE_SIZE) as *mut u64).write_volatile(i) };
        }
    }
    true
}

/// Reads the whole of /proc/self/maps through leases, line by line.
fn scan_maps() -> Result<Scan, libipc::procfs::Error> {
    let mut scan = Scan {
        lines: 0,
        ours: 0,
        wrong: None,
        probe: heapless::Vec::new(),
        bytes: 0,
        ticks: 0,
    };
    let mut chunk = alloc::vec![0u8; CHUNK];
    let mut carry = heapless::Vec::new();
    loop {
        let before = libipc::sys::ticks();
        let n = runtime::procfs::read_leased(PidSelector::Self_, ProcFile::Maps, scan.bytes, &mut chunk)?;
        scan.ticks += libipc::sys::ticks() - before;
        scan.feed(&chunk[..n], &mut carry);
        if n < CHUNK {
            return Ok(scan);
        }
    }
}

/// The value of `key` (e.g. `"Rss:"`) in kB in smaps_rollup's text.
fn kb(text: &str, key: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].trim().strip_suffix(" kB")?.trim().parse().ok()
}

fn main(_pid: u64) -> i64 {
    if !map_many() {
        return verdict(NAME, false);
    }
    runtime::println!("{NAME}: mapped {COUNT} VMAs at {BASE:#x}");
    let mut ok = true;
    let scan = match scan_maps() {
        Ok(scan) => scan,
        Err(e) => {
            runtime::println!("{NAME}: reading /proc/self/maps failed: {e:?}");
            return verdict(NAME, check("maps read whole", false));
        }
    };
    runtime::println!(
        "{NAME}: maps has {} lines, {} bytes, {} of them our VMAs; served in {} ticks, {} per line",
        scan.lines,
        scan.bytes,
        scan.ours,
        scan.ticks,
        scan.ticks / scan.lines.max(1)
    );
    if let Some(wrong) = &scan.wrong {
        runtime::println!("{NAME}: unexpected line {wrong:?}");
    }
    ok &= check("maps read whole", true);
    ok &= check("every one of our VMAs has its line, in order", scan.ours == COUNT);
    ok &= check("maps has our lines and the program's", scan.lines > COUNT + 3);
    match runtime::procfs::read_to_end(PidSelector::Self_, ProcFile::SmapsRollup) {
        Ok(rollup) => {
            let text = core::str::from_utf8(&rollup).unwrap_or("");
            let rss = kb(text, "Rss:");
            runtime::println!("{NAME}: smaps_rollup Rss {rss:?} kB");
            let touched_kb = COUNT / TOUCH_EVERY * PAGE_SIZE / 1024;
            ok &= check(
                "smaps_rollup counts the touched pages",
                rss.is_some_and(|r| r >= touched_kb),
            );
        }
        Err(e) => {
            runtime::println!("{NAME}: reading smaps_rollup failed: {e:?}");
            ok &= check("smaps_rollup counts the touched pages", false);
        }
    }
    // The server still answers, and a read in the middle of the file (no
    // cursor there) gives the same bytes as the whole read did.
    let mut probe = [0u8; PROBE_LEN];
    let again = runtime::procfs::read(PidSelector::Self_, ProcFile::Maps, PROBE_OFFSET, &mut probe);
    ok &= check(
        "procfs still serves, the same bytes mid-file",
        again == Ok(PROBE_LEN) && probe[..] == scan.probe[..],
    );
    verdict(NAME, ok)
}
