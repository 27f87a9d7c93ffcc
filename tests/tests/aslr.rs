//! ASLR (`kernel.randomize_va_space`, `aslr=`) as the pager implements it
//! (`pager/src/aslr.rs`): `layout_probe` prints its stack page, where an
//! anonymous mmap lands, its break and its code address; each mode is
//! booted twice with several runs per boot, and the tests compare the
//! runs.
//!
//! | mode | stack | mmap base | heap (brk) |
//! |---|---|---|---|
//! | 0 | fixed | fixed | fixed |
//! | 1 | random | random | fixed |
//! | 2 | random | random | random |
//!
//! The code address never moves: the programs are static non-PIE
//! executables linked at 0x400000, which keep their linked base in every
//! mode (as on Linux; only a PIE base is randomized).
//!
//! "Varies" is asserted over all the runs of both boots, not between two
//! single runs: the default profile draws the stack top from 2^11 pages,
//! so two draws coincide once in 2,048, and a test comparing two runs
//! would fail that often.

use std::collections::BTreeSet;

use tests::{assert_success, boot};

/// One run's layout, as `layout_probe` prints it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Layout {
    stack: u64,
    mmap: u64,
    brk: u64,
    code: u64,
}

/// Runs of `layout_probe` per boot.
const RUNS: usize = 3;
/// One past the highest user address (Linux's STACK_TOP without ASLR).
const STACK_TOP: u64 = 0x7fff_ffff_f000;
/// The initial stack VMA's size (`pager::layout::INITIAL_STACK_PAGES`).
const INITIAL_STACK: u64 = 32 * 4096;

/// The value of `layout_probe: NAME 0x...` lines, in order.
fn values(serial: &str, name: &str) -> Vec<u64> {
    let prefix = format!("layout_probe: {name} 0x");
    serial
        .lines()
        .filter_map(|l| l.trim().strip_prefix(&prefix))
        .map(|hex| u64::from_str_radix(hex, 16).unwrap_or_else(|e| panic!("{name} {hex:?}: {e}")))
        .collect()
}

/// Boots `layout_probe` `RUNS` times with the extra words `words`.
fn probe(name: &str, words: &str) -> Vec<Layout> {
    let r = boot(name, &format!("log=info {words} run=layout_probe*{RUNS}"));
    assert_success(&r);
    let (stack, mmap, brk, code) = (
        values(&r.serial, "stack"),
        values(&r.serial, "mmap"),
        values(&r.serial, "brk"),
        values(&r.serial, "code"),
    );
    assert!(
        [&stack, &mmap, &brk, &code].iter().all(|v| v.len() == RUNS),
        "expected {RUNS} of each line"
    );
    (0..RUNS)
        .map(|i| Layout {
            stack: stack[i],
            mmap: mmap[i],
            brk: brk[i],
            code: code[i],
        })
        .collect()
}

/// The runs of two boots in mode `mode`.
fn two_boots(mode: u8) -> (Vec<Layout>, Vec<Layout>) {
    let words = format!("aslr={mode}");
    (
        probe(&format!("aslr{mode}-a"), &words),
        probe(&format!("aslr{mode}-b"), &words),
    )
}

/// Asserts `field` takes more than one value over all runs, and that the
/// two boots did not draw the same sequence (a fixed seed would).
fn varies(a: &[Layout], b: &[Layout], field: fn(&Layout) -> u64, what: &str) {
    let (xa, xb): (Vec<u64>, Vec<u64>) = (a.iter().map(field).collect(), b.iter().map(field).collect());
    let distinct: BTreeSet<u64> = xa.iter().chain(&xb).copied().collect();
    assert!(distinct.len() > 1, "{what} never varies: {xa:x?} {xb:x?}");
    assert_ne!(xa, xb, "{what}: both boots drew the same sequence");
}

/// Asserts `field` is the same in every run.
fn fixed(a: &[Layout], b: &[Layout], field: fn(&Layout) -> u64, what: &str) {
    let distinct: BTreeSet<u64> = a.iter().chain(b).map(field).collect();
    assert_eq!(distinct.len(), 1, "{what} varies: {distinct:x?}");
}

/// Non-PIE code stays at its link address in every mode.
fn code_at_link_address(a: &[Layout], b: &[Layout]) {
    fixed(a, b, |l| l.code, "the code address");
    assert!((0x40_0000..0x80_0000).contains(&a[0].code), "code at {:#x}", a[0].code);
}

#[test]
fn mode_0_nothing_varies() {
    let (a, b) = two_boots(0);
    assert!(a.iter().chain(&b).all(|l| *l == a[0]), "layouts differ: {a:x?} {b:x?}");
    // The stack sits at Linux's unrandomized STACK_TOP.
    assert!(
        (STACK_TOP - INITIAL_STACK..STACK_TOP).contains(&a[0].stack),
        "stack page {:#x}",
        a[0].stack
    );
    code_at_link_address(&a, &b);
}

#[test]
fn mode_1_moves_the_stack_and_mmap_base_not_the_heap() {
    let (a, b) = two_boots(1);
    varies(&a, &b, |l| l.stack, "the stack");
    varies(&a, &b, |l| l.mmap, "the mmap base");
    fixed(&a, &b, |l| l.brk, "the break");
    code_at_link_address(&a, &b);
}

#[test]
fn mode_2_moves_the_stack_mmap_base_and_heap() {
    let (a, b) = two_boots(2);
    varies(&a, &b, |l| l.stack, "the stack");
    varies(&a, &b, |l| l.mmap, "the mmap base");
    varies(&a, &b, |l| l.brk, "the break");
    code_at_link_address(&a, &b);
}

/// The diagnostic policy promises a deterministic layout: it turns ASLR
/// off whatever the command line says (and logs that it did), so every run
/// of every boot lays memory out as `aslr=0` does; other programs run to
/// success under it.
#[test]
fn the_diagnostic_policy_is_deterministic_and_runs_programs() {
    let r = boot(
        "diagnostic",
        "log=info policy=diagnostic aslr=2 run=demand_paging,hello",
    );
    assert_success(&r);
    tests::assert_line(&r, "policy \"diagnostic\" sets kernel.randomize_va_space=0 (was 2)");
    tests::assert_line(&r, "demand_paging: PASS");
    tests::assert_line(&r, "hello from user mode");
    let a = probe("diagnostic-a", "policy=diagnostic aslr=2");
    let b = probe("diagnostic-b", "policy=diagnostic aslr=2");
    assert!(a.iter().chain(&b).all(|l| *l == a[0]), "layouts differ: {a:x?} {b:x?}");
    let off = probe("diagnostic-aslr0", "aslr=0");
    assert_eq!(a[0], off[0], "the diagnostic layout is not the aslr=0 one");
}
