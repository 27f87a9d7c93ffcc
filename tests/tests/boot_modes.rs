//! Boot-time settings of the pager that change what programs may do:
//! `stack_guard_gap=` (stack-clash protection) and `la57=` (the width of
//! user addresses, bounded by the kernel's paging).

use boot::image::Firmware;
use tests::{assert_line, assert_no_line, assert_success, boot, boot_on_cpu};

/// With the default gap of 256 pages, a mapping 64 pages below the stack
/// puts the stack's first page of growth within the gap: the pager kills
/// the program (stack clash) before it writes there.
#[test]
fn stack_growth_into_the_default_guard_gap_is_killed() {
    let r = boot("stack-clash-default", "log=info service=procfs run=stack_clash,hello");
    assert_success(&r);
    // The kill is at the first page below the stack VMA.
    let start = r
        .serial
        .lines()
        .find_map(|l| l.strip_prefix("stack_clash: stack 0x")?.split_once('-'))
        .map(|(start, _)| u64::from_str_radix(start, 16).expect("a hex stack start"))
        .expect("the stack_clash line with its stack");
    assert_line(
        &r,
        &format!(
            "(stack_clash) killed: access in the stack guard gap at {:#x} (stack clash)",
            start - 4096
        ),
    );
    assert_no_line(&r, "stack_clash: grew the stack");
    // The next program still runs.
    assert_line(&r, "hello from user mode");
}

/// The same growth with `stack_guard_gap=1` stays a page clear of the gap
/// and succeeds; the stack VMA grows by the pages touched.
#[test]
fn stack_guard_gap_1_lets_the_same_growth_succeed() {
    let r = boot(
        "stack-clash-gap-1",
        "log=info stack_guard_gap=1 service=procfs run=stack_clash",
    );
    assert_success(&r);
    assert_line(&r, "stack_clash: grew the stack by 32 pages");
    assert_line(&r, "[the stack VMA grew] ok");
    assert_line(&r, "[the grown stack holds its data] ok");
    assert_line(&r, "stack_clash: PASS");
    assert_no_line(&r, "(stack_clash) killed");
}

/// The kernel runs 4-level paging (the CPU has no LA57): `la57=1` cannot
/// widen user space to 56 bits. The pager says so and keeps 47-bit
/// addresses: a hint above them is ignored and MAP_FIXED there is ENOMEM.
#[test]
fn la57_on_a_4_level_kernel_keeps_47_bit_addresses() {
    let r = boot_on_cpu(
        "la57",
        Firmware::Bios,
        "log=info la57=1 run=la57_probe",
        false,
        Some("max,-la57"),
    );
    assert_line(&r, "4-level paging: the CPU has no LA57");
    assert_success(&r);
    assert_line(&r, "la57=1 ignored: the kernel runs 4-level paging");
    assert_line(&r, "[a hint above 47 bits lands below them] ok");
    assert_line(&r, "[MAP_FIXED above 47 bits is ENOMEM] ok");
    assert_line(&r, "[the mapping holds its data] ok");
    assert_line(&r, "la57_probe: PASS");
}
