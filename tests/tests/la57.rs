//! 5-level paging (LA57), on both widths. `tests/linux/la57.c` maps with
//! a hint at 2^56 - 2^30 and with MAP_FIXED above 2^47, writes, reads
//! back and finds the mappings in `/proc/self/maps` and pagemap, then
//! reads a 57-bit non-canonical address (a #GP: status 139).
//!
//! With LA57 (QEMU's `max`, or `qemu64,+la57`) the kernel switches to 5
//! levels and the high mappings work; Linux on this host runs 4 levels, so
//! those runs are checked against the expected lines. Without LA57
//! (`max,-la57`), and with `la57=off` on an LA57 CPU, the program takes
//! the 4-level path, which is compared byte for byte with this host's
//! Linux.

use boot::image::Firmware;
use tests::{
    assert_line, assert_success, boot_on_cpu,
    linux::{Run, Variant, assert_same, binary, run_in_qemu_on, run_on_host},
};

const WIDE: &[&str] = &[
    "mmap with a hint at 2^56 - 2^30: ok",
    "the hint above 2^47 is honoured: ok",
    "the hinted mapping holds its data: ok",
    "the hinted mapping is in /proc/self/maps: ok",
    "pagemap shows the hinted page present: ok",
    "MAP_FIXED above 2^47 maps there: ok",
    "the fixed mapping holds its data: ok",
    "the fixed mapping is in /proc/self/maps: ok",
    "pagemap shows the fixed page present: ok",
    "munmap above 2^47: ok",
    "mmap without a hint places below 2^47: ok",
    "mmap with a hint below 2^47 places below 2^47: ok",
    "the stack is below 2^47: ok",
    "the program is below 2^47: ok",
    "a hint range crossing 2^47 places below it: ok",
];

fn qemu(args: &[&'static str], cpu: &str, cmdline: &str) -> (Run, String) {
    let argv: Vec<&str> = std::iter::once("la57").chain(args.iter().copied()).collect();
    let (run, log) = run_in_qemu_on(&binary("la57", Variant::MuslStatic), &argv, &[], Some(cpu), cmdline);
    println!(
        "---- QEMU ({cpu} {cmdline}): status {} ----\n{}",
        run.status,
        run.text()
    );
    (run, log)
}

fn host(args: &[&'static str]) -> Run {
    let argv: Vec<&str> = std::iter::once("la57").chain(args.iter().copied()).collect();
    let run = run_on_host(&binary("la57", Variant::MuslStatic), &argv, &[]);
    println!("---- Linux: status {} ----\n{}", run.status, run.text());
    run
}

fn assert_wide(run: &Run) {
    let text = run.text();
    assert!(!text.contains("FAIL"), "a check failed");
    for line in WIDE {
        assert!(text.lines().any(|l| l == *line), "no line {line:?}");
    }
}

/// The 4-level reference passes its own checks on this host.
#[test]
fn narrow_on_the_host() {
    let run = host(&["narrow"]);
    assert_eq!(run.status, 0);
    assert!(run.text().contains("MAP_FIXED above 2^47: ENOMEM"));
    assert_eq!(host(&["narrow", "gp"]).status, 139);
}

/// With LA57 the kernel runs 5 levels and the pager honours high hints
/// and MAP_FIXED up to 2^56.
#[test]
fn wide_with_la57() {
    let (run, log) = qemu(&["wide"], "max", "log=info");
    assert!(log.contains("5-level paging (LA57): switched at boot"), "{log}");
    assert_wide(&run);
    assert_eq!(run.status, 0);
}

/// QEMU's plain `qemu64` model with LA57 added boots 5 levels too, and a
/// 57-bit non-canonical read is a general-protection kill (SIGSEGV).
#[test]
fn wide_on_qemu64_la57_and_a_non_canonical_read_is_a_gp_kill() {
    let (run, log) = qemu(&["wide", "gp"], "qemu64,+la57", "log=info");
    assert!(log.contains("5-level paging (LA57): switched at boot"), "{log}");
    assert!(log.contains("general-protection"), "the kill names the #GP:\n{log}");
    assert_wide(&run);
    assert!(!run.text().contains("SURVIVED"));
    assert_eq!(run.status, 139);
}

/// Without LA57 the same program sees Linux's 4-level answers.
#[test]
fn narrow_without_la57_matches_linux() {
    let (ours, log) = qemu(&["narrow"], "max,-la57", "log=info");
    assert!(log.contains("4-level paging: the CPU has no LA57"), "{log}");
    assert_same(&host(&["narrow"]), &ours);
    let (ours, _) = qemu(&["narrow", "gp"], "max,-la57", "");
    assert_same(&host(&["narrow", "gp"]), &ours);
}

/// `la57=off` on an LA57 CPU keeps 4 levels: the 4-level answers again.
#[test]
fn la57_off_on_an_la57_cpu_matches_linux() {
    let (ours, log) = qemu(&["narrow", "gp"], "max", "log=info la57=off");
    assert!(log.contains("4-level paging: la57=off"), "{log}");
    assert_same(&host(&["narrow", "gp"]), &ours);
}

/// `la57=` is one word for the kernel and the pager: a bad value is
/// refused by both with a message, and the default (5 levels) stays.
#[test]
fn a_bad_la57_word_keeps_the_default() {
    let r = boot_on_cpu(
        "la57-bad-word",
        Firmware::Bios,
        "log=info la57=maybe run=hello",
        false,
        Some("max"),
    );
    assert_success(&r);
    assert_line(&r, "cmdline: bad la57 \"maybe\" (on or off)");
    assert_line(&r, "5-level paging (LA57): switched at boot");
    assert_line(&r, "la57=maybe refused: must be 0 or 1");
}

/// The kernel's checks of a pager's requests follow the width: on a
/// 4-level kernel the hostile pager's "last user page" and "first
/// non-canonical address" are 2^47's (tests/tests/kernel.rs runs it on 5).
#[test]
fn hostile_pager_on_a_4_level_kernel() {
    let r = boot_on_cpu(
        "la57-hostile-pager-4",
        Firmware::Bios,
        "log=info pager=hostile_pager",
        false,
        Some("max,-la57"),
    );
    assert_line(&r, "4-level paging: the CPU has no LA57");
    for line in [
        "[map at the first non-canonical address] ok",
        "[map at a non-canonical address with either width] ok",
        "[map the last page of the lower half] ok",
        "[unmap into the kernel half] ok",
    ] {
        assert_line(&r, line);
    }
    assert_line(&r, "hostile_pager: PASS");
}
