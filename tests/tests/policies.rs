//! Policies chosen on the boot line (`policy=NAME`, from the registry of
//! `policies/registry`): the plug-in ones run programs, and an unknown name
//! stops the pager with the names it knows.

use boot::qemu::Outcome;
use tests::{
    assert_line, assert_success, boot,
    linux::{Variant, binary, run_in_qemu_with},
};

#[test]
fn an_unknown_policy_stops_the_pager_with_the_known_names() {
    let r = boot("policy-unknown", "log=info policy=nope run=hello");
    assert_eq!(r.outcome, Outcome::Failure, "{}", r.outcome.describe());
    assert_line(
        &r,
        "pager: cannot start: unknown policy \"nope\" (known: default, fault-around, diagnostic, read-ahead",
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
