//! Policies chosen on the boot line (`policy=NAME`, from the registry of
//! `policies/registry`): the plug-in ones run programs, and an unknown name
//! stops the pager with the names it knows.

use boot::qemu::Outcome;
use tests::{
    assert_line, assert_success, boot,
    linux::{Variant, assert_same, binary, run_in_qemu_on, run_in_qemu_with, run_on_host},
};

#[test]
fn an_unknown_policy_stops_the_pager_with_the_known_names() {
    let r = boot("policy-unknown", "log=info policy=nope run=hello");
    assert_eq!(r.outcome, Outcome::Failure, "{}", r.outcome.describe());
    assert_line(
        &r,
        "pager: cannot start: unknown policy \"nope\" (known: default, fault-around, diagnostic, read-ahead, huge",
    );
}

#[test]
fn read_ahead_runs_programs() {
    let r = boot(
        "policy-read-ahead",
        "log=info policy=read-ahead pool_pages=lots run=demand_paging,hello",
    );
    assert_success(&r);
    assert_line(&r, "policy \"read-ahead\"");
    assert_line(
        &r,
        "pool_pages=lots: not a positive number of pages; using the whole pool",
    );
    assert_line(&r, "demand_paging: PASS");
    assert_line(&r, "hello from user mode");
}

/// madvise reaches the policy: under read-ahead, WILLNEED on fresh
/// anonymous memory makes its first window (16 pages) resident, where the
/// default policy, as Linux, faults nothing in (`linux.rs`'s `advice` case
/// compares that one with Linux).
#[test]
fn willneed_reaches_the_read_ahead_policy() {
    let run = run_in_qemu_with(
        &binary("advice", Variant::MuslStatic),
        &["advice"],
        &[],
        "policy=read-ahead",
    );
    let text = run.text();
    assert!(text.lines().any(|l| l == "resident after WILLNEED: 16"), "{text}");
    assert!(text.lines().any(|l| l == "advice: PASS"), "{text}");
    assert_eq!(run.status, 0);
}

/// Low memory: in a pool of 3,000 frames, a program reads 32 MiB of fresh
/// memory twice under fault-around (a frame for every page read), so the
/// pager must reclaim clean pages (never-written zero pages and file
/// pages) to go on; what was written (by the program, and by the kernel
/// for read(2)) survives. The output matches Linux's.
#[test]
fn reclaim_frees_clean_pages_and_keeps_written_ones() {
    let bin = binary("reclaim", Variant::MuslStatic);
    let linux = run_on_host(&bin, &["reclaim"], &[]);
    assert!(linux.text().contains("reclaim: PASS"), "{}", linux.text());
    let (ours, log) = run_in_qemu_on(
        &bin,
        &["reclaim"],
        &[],
        None,
        "log=info policy=fault-around pool_pages=3000",
    );
    assert_same(&linux, &ours);
    assert!(log.contains("pool of 3000 frames"), "{log}");
    assert!(log.contains("reclaim ("), "no reclaim in the log:\n{log}");
    let total = log
        .lines()
        .find_map(|l| l.split_once("reclaimed ").map(|(_, rest)| rest.to_string()))
        .unwrap_or_else(|| panic!("no reclaim total in the log:\n{log}"));
    // "N frames in all (F file, Z zero)"
    let numbers: Vec<u64> = total
        .split(|c: char| !c.is_ascii_digit())
        .filter(|w| !w.is_empty())
        .map(|w| w.parse().unwrap())
        .collect();
    assert!(numbers.len() >= 3, "{total}");
    assert!(numbers[0] >= 8192, "two reads of 8,192 pages in 3,000 frames: {total}");
    assert!(
        numbers[1] > 0 && numbers[2] > 0,
        "file and zero pages both reclaimed: {total}"
    );
}

/// Written anonymous memory cannot be reclaimed (no swap yet): a process
/// that writes more than the pool holds is killed "out of memory", and the
/// programs after it run on the frames it gave back.
#[test]
fn a_process_that_cannot_get_memory_is_killed() {
    let r = boot("reclaim-oom", "log=info pool_pages=4000 run=oom_hog,hello");
    assert_success(&r);
    assert_line(&r, "oom_hog: writing 256 MiB");
    assert_line(&r, "(oom_hog) killed: out of memory");
    assert_line(&r, "reclaim (Empty): ");
    assert_line(&r, "hello from user mode");
    tests::assert_no_line(&r, "the pager never ran out of frames");
}

/// The huge policy, as Linux with transparent huge pages: the first touch
/// of a 2 MiB-aligned 64 MiB mapping takes one fault per 2 MiB (32) and
/// smaps shows it all as AnonHugePages; a partial munmap or mprotect
/// splits the one 2 MiB page it falls in (which then counts as 4 KiB
/// pages), a whole munmap drops one, and every page keeps its bytes.
#[test]
fn huge_maps_two_mib_pages_and_splits_them() {
    let (run, log) = run_in_qemu_on(
        &binary("huge_touch", Variant::MuslStatic),
        &["huge_touch"],
        &[],
        None,
        "policy=huge",
    );
    let text = run.text();
    for want in [
        "first touch faults: 32",
        "after the first touch: AnonHugePages 65536 kB, Rss 65536 kB",
        "after a partial munmap: AnonHugePages 63488 kB, Rss 65532 kB",
        "after a partial mprotect: AnonHugePages 61440 kB, Rss 65532 kB",
        "after a whole munmap: AnonHugePages 59392 kB, Rss 63484 kB",
        "every page kept its byte: ok",
    ] {
        assert!(text.lines().any(|l| l == want), "{want:?} missing:\n{text}\n{log}");
    }
    assert!(!text.contains("FAIL"), "{text}");
    assert_eq!(run.status, 0, "{text}\n{log}");
}

/// The default policy maps 4 KiB pages only: the same touch takes a fault
/// per page and smaps shows no AnonHugePages.
#[test]
fn default_maps_no_huge_pages() {
    let run = run_in_qemu_with(&binary("huge_touch", Variant::MuslStatic), &["huge_touch"], &[], "");
    let text = run.text();
    for want in [
        "first touch faults: 16384",
        "after the first touch: AnonHugePages 0 kB, Rss 65536 kB",
    ] {
        assert!(text.lines().any(|l| l == want), "{want:?} missing:\n{text}");
    }
    assert_eq!(run.status, 0, "{text}");
}
