//! Policies chosen on the boot line (`policy=NAME`, from the registry of
//! `policies/registry`): the plug-in ones run programs, and an unknown name
//! stops the pager with the names it knows.

use boot::qemu::Outcome;
use tests::{assert_line, assert_success, boot};

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
