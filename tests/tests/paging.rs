//! Demand paging, isolation and fault handling through the pager.

use boot::image::Firmware;
use tests::{assert_line, assert_no_line, assert_success, boot, boot_with};

#[test]
fn demand_paging_allocates_only_touched_pages() {
    let r = boot("demand_paging", "log=info run=demand_paging");
    assert_success(&r);
    assert_line(&r, "[no frames before touching] ok");
    assert_line(&r, "[exactly 3 resident pages] ok");
    assert_line(&r, "[pool shows exactly 3 frames allocated] ok");
    assert_line(&r, "[munmap returns the frames] ok");
    assert_line(&r, "demand_paging: PASS");
}

#[test]
fn processes_are_isolated() {
    let r = boot("isolation", "log=info run=isolation_a+isolation_b");
    assert_success(&r);
    assert_line(&r, "isolation_a: read back 0xaaaaaaaa");
    assert_line(&r, "isolation_b: read back 0xbbbbbbbb");
    assert_line(&r, "isolation_a: PASS");
    assert_line(&r, "isolation_b: PASS");
}

#[test]
fn faults_kill_only_the_offender() {
    let r = boot(
        "faults",
        "log=info run=fault_ro_write,fault_null,fault_nx,fault_noncanonical,fault_ud,fault_divide,hello",
    );
    assert_success(&r);
    assert_no_line(&r, "SURVIVED");
    assert_line(&r, "fault_ro_write) killed: write to a read-only page");
    assert_line(&r, "fault_null) killed: no mapping at 0x0");
    assert_line(&r, "fault_nx) killed: execute of a non-executable page");
    assert_line(&r, "fault_noncanonical) killed: general-protection fault");
    assert_line(&r, "fault_ud) killed: Exception (InvalidOpcode)");
    assert_line(&r, "fault_divide) killed: Exception (DivideError)");
    // The program after them still runs.
    assert_line(&r, "hello from user mode");
}

#[test]
fn uefi_boot_runs_programs() {
    let r = boot_with("uefi", Firmware::Uefi, "log=info run=hello", false);
    assert_success(&r);
    assert_line(&r, "hello from user mode");
}

#[test]
fn the_demo_shows_the_pager_resolving_faults() {
    // What `cargo run -p boot` boots.
    let r = boot("demo", "log=debug policy=default aslr=2 run=demo");
    assert_success(&r);
    assert_line(&r, "] fault of process 2 (Write at");
    assert_line(&r, "demo: touched 8 pages 4 MiB apart; resident pages now: 8");
    assert_line(&r, "(demo) exited with code 0; the pager resolved");
}
