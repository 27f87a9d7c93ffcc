//! Policies chosen on the boot line (`policy=NAME`, from the registry of
//! `policies/registry`): the plug-in ones run programs, and an unknown name
//! stops the pager with the names it knows.

use boot::qemu::Outcome;
use tests::{
    assert_line, assert_success, boot,
    linux::{Variant, binary, run_in_qemu_on, run_in_qemu_with},
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
        "log=info policy=read-ahead run=demand_paging,hello",
    );
    assert_success(&r);
    assert_line(&r, "policy \"read-ahead\"");
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
