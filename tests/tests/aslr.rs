//! ASLR (`kernel.randomize_va_space`, `aslr=`) as the pager implements it
//! (`pager/src/aslr.rs`): `layout_probe` (and, for a static-PIE Linux
//! program, `tests/linux/aslr_probe.c`) prints its stack page, where an
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

/// The same modes for a static-PIE Linux program (`tests/linux/aslr_probe.c`,
/// musl, linked with `rcrt1.o`) started through `--exec`: its load base
/// moves in mode 2 only, as Linux's; the stack and mmap base move in modes
/// 1 and 2; the break in mode 2.
mod static_pie {
    use std::collections::BTreeSet;

    use tests::linux::{Variant, binary, run_all_in_qemu};

    /// One run's `layout base=.. stack=.. mmap=.. heap=..` line.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    struct Layout {
        base: u64,
        stack: u64,
        mmap: u64,
        heap: u64,
    }

    fn parse(line: &str) -> Layout {
        let field = |name: &str| {
            let hex = line
                .split_whitespace()
                .find_map(|w| w.strip_prefix(&format!("{name}=")))
                .unwrap_or_else(|| panic!("no {name} in {line:?}"));
            u64::from_str_radix(hex, 16).unwrap_or_else(|e| panic!("{name} {hex:?}: {e}"))
        };
        Layout {
            base: field("base"),
            stack: field("stack"),
            mmap: field("mmap"),
            heap: field("heap"),
        }
    }

    /// Two boots of `super::RUNS` runs each in mode `mode`.
    fn runs(mode: u8) -> Vec<Layout> {
        let bin = binary("aslr_probe", Variant::MuslStaticPie);
        let argv: &[&str] = &["aslr_probe"];
        let programs: Vec<_> = (0..super::RUNS).map(|_| (bin.as_path(), argv)).collect();
        let mut all = Vec::new();
        for boot in ["a", "b"] {
            let (output, statuses) = run_all_in_qemu(
                &format!("aslr-pie-{mode}-{boot}"),
                &programs,
                &format!("log=warn aslr={mode}"),
            );
            assert_eq!(statuses, vec![0; super::RUNS], "every run exits 0");
            let layouts: Vec<Layout> = output.lines().filter(|l| l.starts_with("layout ")).map(parse).collect();
            assert_eq!(layouts.len(), super::RUNS, "one line per run:\n{output}");
            all.extend(layouts);
        }
        all
    }

    fn distinct(runs: &[Layout], field: fn(&Layout) -> u64) -> usize {
        runs.iter().map(field).collect::<BTreeSet<_>>().len()
    }

    #[test]
    fn mode_0_nothing_moves() {
        let r = runs(0);
        assert!(r.iter().all(|l| *l == r[0]), "layouts differ: {r:x?}");
    }

    #[test]
    fn mode_1_moves_the_stack_and_mmap_base_not_the_program_or_heap() {
        let r = runs(1);
        assert!(distinct(&r, |l| l.stack) > 1, "the stack never moves: {r:x?}");
        assert!(distinct(&r, |l| l.mmap) > 1, "the mmap base never moves: {r:x?}");
        assert_eq!(distinct(&r, |l| l.base), 1, "the program base moves: {r:x?}");
        assert_eq!(distinct(&r, |l| l.heap), 1, "the heap moves: {r:x?}");
    }

    #[test]
    fn mode_2_moves_everything() {
        let r = runs(2);
        for (what, field) in [
            ("the program base", (|l: &Layout| l.base) as fn(&Layout) -> u64),
            ("the stack", |l| l.stack),
            ("the mmap base", |l| l.mmap),
            ("the heap", |l| l.heap),
        ] {
            assert!(distinct(&r, field) > 1, "{what} never moves: {r:x?}");
        }
    }
}
