//! The procfs server in QEMU: /proc/self/maps, access checks on mem, and
//! pagemap frame numbers gated by SeTcbPrivilege.

use tests::{assert_line, assert_success, boot};

const PROCFS: &str = "log=info service=procfs@system:system:td";

#[test]
fn a_program_finds_its_stack_and_heap_in_proc_self_maps() {
    let r = boot("procfs_self", &format!("{PROCFS} run=procfs_self@alice"));
    assert_success(&r);
    assert_line(&r, "[maps shows [stack]] ok");
    assert_line(&r, "[maps shows [heap]] ok");
    assert_line(&r, "procfs_self: PASS");
    // The lines are Linux's: the name starts at column 73.
    let heap = r.serial.lines().find(|l| l.ends_with("[heap]")).expect("a [heap] line");
    let line = heap.trim_start_matches("procfs_self: ");
    assert_eq!(line.find("[heap]"), Some(73), "{line:?}");
}

#[test]
fn another_users_memory_is_refused() {
    let r = boot(
        "procfs_peek",
        &format!("{PROCFS} run=procfs_victim@alice+procfs_peek@bob"),
    );
    assert_success(&r);
    let victim: u32 = r
        .serial
        .lines()
        .find_map(|l| l.strip_prefix("procfs_victim: pid ")?.split(',').next()?.parse().ok())
        .expect("the victim prints its pid");
    assert_line(&r, &format!("procfs_peek: mem of pid {victim} refused: AccessDenied"));
    assert_line(&r, "[own mem readable] ok");
    assert_line(&r, "[own code through mem equals the code] ok");
    assert_line(&r, "procfs_peek: PASS");
}

#[test]
fn pagemap_frame_numbers_need_the_tcb_privilege() {
    let r = boot(
        "procfs_pagemap",
        &format!("{PROCFS} run=procfs_pagemap,procfs_pagemap_tcb@admin:high:t"),
    );
    assert_success(&r);
    assert_line(&r, "[pfn zeroed] ok");
    assert_line(&r, "procfs_pagemap: PASS");
    assert_line(&r, "[real pfn] ok");
    assert_line(&r, "procfs_pagemap_tcb: PASS");
    // Unprivileged: present + exclusive, no frame number (Linux's value).
    assert_line(&r, "is 0x8100000000000000 (pfn 0x0)");
}

#[test]
fn bad_requests_get_clear_errors_and_the_server_keeps_serving() {
    let r = boot("procfs_bad", &format!("{PROCFS} run=procfs_bad"));
    assert_success(&r);
    for check in [
        "[unknown pid] ok",
        "[misaligned pagemap offset] ok",
        "[huge length] ok",
        "[unknown file] ok",
        "[garbage bytes] ok",
        "[the server keeps serving] ok",
    ] {
        assert_line(&r, check);
    }
    assert_line(&r, "procfs_bad: PASS");
}

#[test]
fn bulk_reads_move_through_kernel_checked_leases() {
    let r = boot("procfs_lease", &format!("{PROCFS} run=procfs_lease"));
    assert_success(&r);
    for check in [
        "[leased read equals the message read] ok",
        "[a read-only lease is refused by the kernel] ok",
        "[an unmapped lease is refused by the kernel] ok",
        "[the server cannot write past a lease] ok",
        "[an oversized lease is refused] ok",
    ] {
        assert_line(&r, check);
    }
}

#[test]
fn a_service_named_twice_is_refused() {
    let r = boot("service_twice", "log=info service=procfs,procfs run=hello");
    assert_eq!(r.outcome, boot::qemu::Outcome::Failure, "{}", r.outcome.describe());
    assert_line(&r, "cannot start service \"procfs\": named twice on the command line");
}

#[test]
fn ten_thousand_vmas_stream_through_bounded_memory() {
    let r = boot("procfs_many_vmas", &format!("{PROCFS} run=procfs_many_vmas"));
    assert_success(&r);
    for check in [
        "[maps read whole] ok",
        "[every one of our VMAs has its line, in order] ok",
        "[maps has our lines and the program's] ok",
        "[smaps_rollup counts the touched pages] ok",
        "[procfs still serves, the same bytes mid-file] ok",
    ] {
        assert_line(&r, check);
    }
    assert_line(&r, "procfs_many_vmas: PASS");
}
