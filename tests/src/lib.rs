//! The harness of the QEMU integration tests (`tests/tests/*.rs`).
//!
//! The guest is built once per test binary; each test boots its own
//! scenario (its own ramdisk and image) with a timeout and returns the
//! outcome and serial output for the test to assert on. [`linux`] runs C
//! programs on the host and in QEMU and compares them; [`broken_elf`]
//! makes the ELF files broken on purpose.

pub mod broken_elf;
pub mod linux;

use std::{sync::OnceLock, time::Duration};

use boot::{
    Scenario,
    build::Artifacts,
    image::Firmware,
    qemu::{Outcome, QemuOptions, RunResult},
};

/// Per-scenario limit; a healthy scenario finishes in a few seconds.
pub const TIMEOUT: Duration = Duration::from_secs(90);

/// The guest, built once per test binary.
pub(crate) fn artifacts() -> &'static Artifacts {
    static BUILT: OnceLock<Artifacts> = OnceLock::new();
    BUILT.get_or_init(|| boot::build::build(false).unwrap_or_else(|e| panic!("building the guest failed: {e}")))
}

/// Boots `cmdline` under scenario `name` and returns what happened.
pub fn boot_with(name: &str, firmware: Firmware, cmdline: &str, icount: bool) -> RunResult {
    boot_on_cpu(name, firmware, cmdline, icount, None)
}

/// [`boot_with`] on QEMU CPU model `cpu` (`None`: the runner's default,
/// `max`, which has LA57).
pub fn boot_on_cpu(name: &str, firmware: Firmware, cmdline: &str, icount: bool, cpu: Option<&str>) -> RunResult {
    let scenario = Scenario {
        name: name.into(),
        release: false,
        firmware,
        cmdline: cmdline.into(),
        exec: Vec::new(),
        qemu: QemuOptions {
            timeout: TIMEOUT,
            icount,
            echo: false,
            cpu: cpu.map_or_else(|| boot::qemu::CPU_MODEL.into(), str::to_string),
            ..QemuOptions::default()
        },
    };
    let result = boot::run_built(artifacts(), &scenario).unwrap_or_else(|e| panic!("scenario {name}: {e}"));
    // Shown only when the test fails.
    println!(
        "---- serial output of {name} ----\n{}---- {:?} ----",
        result.serial, result.outcome
    );
    result
}

/// Runs a scenario of the caller's own (e.g. with a trace file) on the
/// guest built for this test binary.
pub fn run_scenario(scenario: &Scenario) -> RunResult {
    let result = boot::run_built(artifacts(), scenario).unwrap_or_else(|e| panic!("scenario {}: {e}", scenario.name));
    println!(
        "---- serial output of {} ----\n{}---- {:?} ----",
        scenario.name, result.serial, result.outcome
    );
    result
}

/// Boots with BIOS and the given command line.
pub fn boot(name: &str, cmdline: &str) -> RunResult {
    boot_with(name, Firmware::Bios, cmdline, false)
}

/// Asserts the run ended in success.
pub fn assert_success(result: &RunResult) {
    assert_eq!(
        result.outcome,
        Outcome::Success,
        "run did not succeed: {}",
        result.outcome.describe()
    );
}

/// Asserts the serial output has a line containing `needle`.
pub fn assert_line(result: &RunResult, needle: &str) {
    assert!(
        result.serial.lines().any(|l| l.contains(needle)),
        "no line containing {needle:?} in the serial output"
    );
}

/// Asserts no line contains `needle`.
pub fn assert_no_line(result: &RunResult, needle: &str) {
    assert!(
        !result.serial.lines().any(|l| l.contains(needle)),
        "a line contains {needle:?}, which must not appear"
    );
}
