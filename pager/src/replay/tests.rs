use alloc::{boxed::Box, format, string::ToString};

use super::*;
use crate::{
    policy::{AlignedWindow, OnePage},
    record,
};

fn one_page() -> Box<dyn Policy> {
    Box::new(OnePage)
}

fn window() -> Box<dyn Policy> {
    Box::new(AlignedWindow)
}

const START: &str = "\
pager-trace 1
policy one
seed 0x0 0x0 0x0 0x0
frames 64
begin
2 1 start t
2 1 layout 0x7f0000000000 0x600000 0x600000 0x0 0x7ffffffde000
2 1 vma 0x10000 0x30000 rw- p anon -
";

/// Replays `body` after a start of process 2 with one VMA of 32 pages at
/// 0x10000; returns the replayer's stats or the error.
fn replay(body: &str, policy: fn() -> Box<dyn Policy>, mode: Mode, frames: u64) -> Result<Stats, ReplayError> {
    let rec = record::parse(&format!("{START}{body}")).expect("parses");
    let clock = || 0;
    let mut r = Replayer::new(policy, Settings::default(), frames, mode, &rec.records, &clock)?;
    r.run(&rec.records)?;
    Ok(r.stats)
}

#[test]
fn recorded_faults_replay_and_a_changed_one_is_reported() {
    let body = "2 2 fault 0x10008 write 0x1 => map 1 0x10000:rw-:z\n2 3 fault 0x5 read 0x1 => kill no-mapping\n";
    let stats = replay(body, one_page, Mode::Verify, 64).unwrap();
    assert_eq!((stats.faults, stats.pages_mapped, stats.peak_resident), (1, 1, 1));
    // Killed: its frames are back.
    assert_eq!(stats.final_resident, 0);
    let wrong = "2 2 fault 0x10008 write 0x1 => map 1 0x10000:rw-:f0x0+0x1000\n";
    match replay(wrong, one_page, Mode::Verify, 64) {
        Err(ReplayError::Mismatch(m)) => {
            assert_eq!((m.line, m.pid), (9, 2));
            assert_eq!(m.replayed, "map 1 0x10000:rw-:z");
            assert!(ReplayError::Mismatch(m).to_string().contains("line 9: process 2"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn another_policy_is_compared_not_checked_and_skips_faults_it_made_needless() {
    let body =
        "2 2 fault 0x10008 write 0x1 => map 1 0x10000:rw-:z\n2 3 fault 0x11000 read 0x1 => map 1 0x11000:rw-:z\n";
    let stats = replay(body, window, Mode::Compare, 64).unwrap();
    // The second page came with the first fault's window.
    assert_eq!(stats.faults, 1);
    assert_eq!(stats.pages_mapped, 16);
    assert_eq!(stats.untouched, 14);
    // Checked, the window's decision is not the recorded one.
    assert!(matches!(
        replay(body, window, Mode::Verify, 64),
        Err(ReplayError::Mismatch(_))
    ));
}

#[test]
fn a_short_pool_maps_what_it_can_as_the_server() {
    let body = "2 2 fault 0x10008 write 0x1 => map 2 0x10000:rw-:z 0x11000:rw-:z 0x12000:rw-:z\n";
    // The recorded decision was three pages, two mapped.
    let rec = format!("{START}{body}").replace(
        "map 2 0x10000:rw-:z 0x11000:rw-:z 0x12000:rw-:z",
        "map 2 0x10000:rw-:z 0x11000:rw-:z 0x12000:rw-:z 0x13000:rw-:z 0x14000:rw-:z 0x15000:rw-:z 0x16000:rw-:z 0x17000:rw-:z 0x18000:rw-:z 0x19000:rw-:z 0x1a000:rw-:z 0x1b000:rw-:z 0x1c000:rw-:z 0x1d000:rw-:z 0x1e000:rw-:z 0x1f000:rw-:z",
    );
    let rec = record::parse(&rec).unwrap();
    let clock = || 0;
    let mut r = Replayer::new(window, Settings::default(), 2, Mode::Verify, &rec.records, &clock).unwrap();
    r.run(&rec.records).unwrap();
    assert_eq!(r.stats.pages_mapped, 2);
    assert_eq!(r.resident(), 2);
}

#[test]
fn linux_calls_and_touches_replay() {
    let body = "\
2 2 linux mmap 0x0 0x4000 0x3 0x22 0xffffffffffffffff 0x0 => 0x7effffffc000
2 3 linux madvise 0x7effffffc000 0x4000 0x3 0x0 0x0 0x0 => 0x0
2 4 touch 0x7effffffd000 w
2 5 linux munmap 0x7effffffc000 0x4000 0x0 0x0 0x0 0x0 => 0x0
2 6 linux mmap 0x0 0x1000 0x1 0x2 0x3 0x0 => -9
2 7 linux mmap 0x0 0x1000 0x1 0x2 0x3 0x0 file 5 0x800 => 0x7efffffff000
2 8 fault 0x7efffffff000 read 0x1 => map 1 0x7efffffff000:r--:f0x0+0x800
2 9 exit
";
    let stats = replay(body, one_page, Mode::Verify, 64).unwrap();
    assert_eq!(stats.faults, 1);
    // The touched page and the file page.
    assert_eq!(stats.pages_mapped, 2);
    assert_eq!(stats.peak_resident, 1);
    let wrong = body.replace("=> -9", "=> 0x0");
    match replay(&wrong, one_page, Mode::Verify, 64) {
        Err(ReplayError::Mismatch(m)) => assert_eq!((m.recorded.as_str(), m.replayed.as_str()), ("0", "-9")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn native_requests_replay() {
    let body = "\
2 2 mmap 0x0 0x2000 rw- private,anonymous => 0x7efffffe000
2 3 brk 0x0 => 0x600000
2 4 mprotect 0x10000 0x1000 r-- => 0x0
2 5 munmap 0x10000 0x1001 => 0x0
";
    let body = body
        .replace("0x7efffffe000", "0x7efffffff000")
        .replace("0x2000 rw-", "0x1000 rw-");
    replay(&body, one_page, Mode::Verify, 64).unwrap();
    let wrong = body.replace(
        "mprotect 0x10000 0x1000 r-- => 0x0",
        "mprotect 0x10001 0x1000 r-- => 0x0",
    );
    assert!(matches!(
        replay(&wrong, one_page, Mode::Verify, 64),
        Err(ReplayError::Mismatch(_))
    ));
}

#[test]
fn inconsistent_traces_are_errors() {
    assert_eq!(
        replay(
            "3 2 fault 0x10000 read 0x1 => kill no-mapping\n",
            one_page,
            Mode::Verify,
            64
        )
        .unwrap_err(),
        ReplayError::UnknownProcess { line: 9, pid: 3 }
    );
    assert!(matches!(
        replay("2 2 vma 0x20000 0x40000 rw- p anon -\n", one_page, Mode::Verify, 64).unwrap_err(),
        ReplayError::BadSpace { line: 9, .. }
    ));
    assert!(matches!(
        replay("2 2 kept 0x90000\n", one_page, Mode::Verify, 64).unwrap_err(),
        ReplayError::BadSpace { line: 9, .. }
    ));
    let full = "2 2 kept 0x10000\n2 3 kept 0x11000\n";
    assert_eq!(
        replay(full, one_page, Mode::Verify, 1).unwrap_err(),
        ReplayError::OutOfFrames { line: 10 }
    );
    for e in [
        ReplayError::UnknownProcess { line: 1, pid: 2 },
        ReplayError::BadSpace {
            line: 1,
            why: "x".into(),
        },
        ReplayError::OutOfFrames { line: 1 },
    ] {
        assert!(e.to_string().starts_with("line 1"));
    }
}

#[test]
fn samples_follow_resident_pages_and_faults() {
    let body = "2 2 fault 0x10008 write 0x1 => map 1 0x10000:rw-:z\n2 3 fault 0x11008 write 0x1 => map 1 0x11000:rw-:z\n2 4 exit\n";
    let rec = record::parse(&format!("{START}{body}")).unwrap();
    let ticks = core::cell::Cell::new(0);
    let clock = || {
        ticks.set(ticks.get() + 5);
        ticks.get()
    };
    let mut r = Replayer::new(one_page, Settings::default(), 8, Mode::Verify, &rec.records, &clock).unwrap();
    r.run(&rec.records).unwrap();
    let points: Vec<(u64, u64, u64)> = r.samples.iter().map(|s| (s.time_ns, s.resident, s.faults)).collect();
    assert_eq!(points, [(2, 1, 1), (3, 2, 2), (4, 0, 2)]);
    assert_eq!(r.stats.ns_per_fault(), 5);
}
