//! The vDSO in QEMU beyond the differential cases (`linux.rs`'s
//! `vdso_*`): the wall time against the host's clock, a vandalized vDSO
//! that hurts only its own process, and where ASLR puts the vDSO.

use std::time::{SystemTime, UNIX_EPOCH};

use tests::linux::{Variant, binary, run_all_in_qemu};

fn host_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64
}

/// The value after `prefix` on the first line that has it.
fn value<'a>(output: &'a str, prefix: &str) -> &'a str {
    output
        .lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no line starting {prefix:?}"))
        .trim()
}

#[test]
fn realtime_is_the_hosts_within_two_seconds() {
    for variant in [Variant::MuslStatic, Variant::GlibcStatic] {
        let bin = binary("vdso_time", variant);
        let start = host_seconds();
        let (out, status) = run_all_in_qemu("realtime", &[(&bin, &["vdso_time", "realtime"])], "log=warn");
        let end = host_seconds();
        assert_eq!(status, [0]);
        let real: i64 = value(&out, "realtime ").parse().expect("seconds");
        // The RTC is read once at boot (QEMU starts it at the host's UTC
        // time, to the second); the TSC carries it from there.
        assert!(
            real >= start - 2 && real <= end + 2,
            "{variant:?}: guest wall time {real} outside the host's [{start}, {end}] +- 2 s"
        );
    }
}

#[test]
fn a_vandalized_vdso_hurts_only_its_process() {
    let bin = binary("vdso_time", Variant::MuslStatic);
    let (out, status) = run_all_in_qemu(
        "vandal",
        &[
            (&bin, &["vdso_time", "write"]),
            (&bin, &["vdso_time", "unmap"]),
            (&bin, &["vdso_time"]),
        ],
        "log=warn",
    );
    // SIGTRAP on the int3 written over its copy, SIGSEGV past the unmapped
    // one; the next process's vDSO is whole.
    assert_eq!(status, [133, 139, 0]);
    assert!(out.lines().any(|l| l == "vdso_time: PASS"));
}

#[test]
fn the_vdso_moves_in_mode_2_only() {
    let bin = binary("vdso_time", Variant::MuslStatic);
    for mode in ["0", "1", "2"] {
        let spots: Vec<String> = (0..2)
            .map(|_| {
                let (out, status) = run_all_in_qemu(
                    &format!("where-{mode}"),
                    &[(&bin, &["vdso_time", "where"])],
                    &format!("log=warn aslr={mode}"),
                );
                assert_eq!(status, [0]);
                value(&out, "vdso ").to_string()
            })
            .collect();
        if mode == "2" {
            assert_ne!(spots[0], spots[1], "mode 2 moves the vDSO");
        } else {
            assert_eq!(spots[0], spots[1], "mode {mode} keeps the vDSO in place");
        }
    }
}

/// The vsyscall page in each of Linux's modes (the differential cases in
/// `linux.rs` cover the default, xonly, against the host).
#[test]
fn vsyscall_modes() {
    let bin = binary("vsyscall", Variant::MuslStatic);
    // emulate: the calls work and the page reads as Linux's code
    // (`mov $0x60, %rax` at gettimeofday's entry).
    let (out, status) = run_all_in_qemu(
        "vsyscall-emulate",
        &[
            (&bin, &["vsyscall", "call"]),
            (&bin, &["vsyscall", "read"]),
            (&bin, &["vsyscall", "misaligned"]),
        ],
        "log=warn vsyscall=emulate",
    );
    assert_eq!(status, [0, 0, 139]);
    assert!(out.lines().any(|l| l == "vsyscall: PASS"));
    assert!(out.lines().any(|l| l == "its first bytes: 48 c7 c0 60"));
    // xonly: the calls work, a read kills.
    let (out, status) = run_all_in_qemu(
        "vsyscall-xonly",
        &[(&bin, &["vsyscall", "call"]), (&bin, &["vsyscall", "read"])],
        "log=warn vsyscall=xonly",
    );
    assert_eq!(status, [0, 139]);
    assert!(out.lines().any(|l| l == "vsyscall: PASS"));
    // none: a call kills.
    let (out, status) = run_all_in_qemu(
        "vsyscall-none",
        &[(&bin, &["vsyscall", "call"])],
        "log=warn vsyscall=none",
    );
    assert_eq!(status, [139]);
    assert!(out.lines().any(|l| l == "about to call the vsyscall page"));
}

/// `/proc/<pid>/maps` lists `[vvar]` and `[vdso]` as Linux does, and the
/// vsyscall page after the last VMA in the modes that have it.
#[test]
fn maps_show_vvar_vdso_and_vsyscall_per_mode() {
    for (mode, vsyscall) in [
        (
            "xonly",
            Some("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]"),
        ),
        (
            "emulate",
            Some("ffffffffff600000-ffffffffff601000 r-xp 00000000 00:00 0                  [vsyscall]"),
        ),
        ("none", None),
    ] {
        let r = tests::boot(
            &format!("maps-{mode}"),
            &format!("log=info service=procfs@system:system:td run=procfs_self@alice vsyscall={mode}"),
        );
        tests::assert_success(&r);
        let maps: Vec<&str> = r
            .serial
            .lines()
            .filter_map(|l| l.strip_prefix("procfs_self: "))
            .filter(|l| l.contains(" 00:00 ") || l.contains("[vsyscall]"))
            .collect();
        let named = |name: &str| maps.iter().find(|l| l.ends_with(name)).copied();
        let vvar = named("[vvar]").expect("a [vvar] line");
        let vdso = named("[vdso]").expect("a [vdso] line");
        let fields = |l: &str| l.split_whitespace().map(String::from).collect::<Vec<_>>();
        let (vvar, vdso) = (fields(vvar), fields(vdso));
        assert_eq!(vvar[1..5], ["r--p", "00000000", "00:00", "0"], "{vvar:?}");
        assert_eq!(vdso[1..5], ["r-xp", "00000000", "00:00", "0"], "{vdso:?}");
        // [vvar] ends where [vdso] starts.
        assert_eq!(vvar[0].split('-').nth(1), vdso[0].split('-').next());
        match vsyscall {
            Some(line) => assert_eq!(maps.last().copied(), Some(line), "mode {mode}"),
            None => assert!(named("[vsyscall]").is_none(), "mode {mode}"),
        }
    }
}
