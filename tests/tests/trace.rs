//! Traces recorded from real runs (`--record-trace`, `record=1`): a run of
//! a native program and a Linux program records every fault and memory
//! request the pager handles on the trace channel (QEMU's debugcon), and
//! the trace replays on the host under the same policy with every decision
//! as recorded (`pager::replay`).

use std::collections::BTreeSet;

use boot::{
    Scenario,
    exec::ExecProgram,
    image::Firmware,
    qemu::{Outcome, QemuOptions},
};
use pager::{
    exec_list::ExecSpec,
    record::{self, Event},
    replay::{Mode, Replayer},
};
use tests::{
    TIMEOUT,
    linux::{Variant, binary},
    run_scenario,
};

/// Runs `run=` native programs then the Linux program `linux` under
/// `policy` with recording on, and parses the trace.
fn record(policy: &str, run: &str, linux: &str) -> record::Recording {
    let dir = std::env::temp_dir().join(format!("trace-test-{policy}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let trace = dir.join("run.trace");
    let scenario = Scenario {
        name: format!("trace-{policy}"),
        release: false,
        firmware: Firmware::Bios,
        cmdline: format!("log=warn policy={policy} record=1 {run}"),
        exec: vec![ExecProgram {
            host_file: binary(linux, Variant::MuslStatic),
            spec: ExecSpec {
                path: format!("{}/{linux}", boot::exec::RAMDISK_DIR),
                argv: vec![linux.into()],
                envp: Vec::new(),
            },
        }],
        qemu: QemuOptions {
            timeout: TIMEOUT,
            echo: false,
            trace: Some(trace.clone()),
            ..QemuOptions::default()
        },
    };
    let result = run_scenario(&scenario);
    assert_eq!(result.outcome, Outcome::Success, "{}", result.outcome.describe());
    let text = std::fs::read_to_string(&trace).expect("the trace file");
    let _ = std::fs::remove_dir_all(&dir);
    // Nothing of the trace leaks into the log or the programs' output.
    assert!(!result.serial.contains(record::MAGIC));
    let rec = record::parse(&text).unwrap_or_else(|(line, e)| panic!("line {line}: {e}\n{text}"));
    assert_eq!(rec.header.policy, policy);
    assert!(rec.header.frames > 0);
    rec
}

/// Replays `rec` on the host under its policy, checking every decision.
fn replay(rec: &record::Recording) -> pager::replay::Stats {
    let policy = rec.header.policy.as_str();
    let registration = pager_policies::find(policy).expect("a known policy");
    let clock = || 0;
    let mut replayer = Replayer::new(
        registration.new,
        rec.header.settings().expect("recorded settings"),
        rec.header.frames,
        Mode::Verify,
        &rec.records,
        &clock,
    )
    .expect("a replayer");
    replayer
        .run(&rec.records)
        .unwrap_or_else(|e| panic!("replay under {policy}: {e}"));
    assert_eq!(replayer.stats.faults as usize, faults_mapped(rec));
    replayer.stats
}

/// Records `hello` and the Linux `vm_calls` under `policy`, then
/// replays the trace on the host under it.
fn record_and_replay(policy: &str) {
    let rec = record(policy, "run=hello", "vm_calls");

    // The native program's faults and the Linux program's memory calls,
    // from several processes (services included).
    let faulting: BTreeSet<u32> = rec
        .records
        .iter()
        .filter(|(_, r)| matches!(r.event, Event::Fault { .. }))
        .map(|(_, r)| r.pid)
        .collect();
    assert!(faulting.len() >= 2, "faults of {faulting:?}");
    let started: Vec<&str> = rec
        .records
        .iter()
        .filter_map(|(_, r)| match &r.event {
            Event::Start { name } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    assert!(
        started.contains(&"hello") && started.contains(&"vm_calls"),
        "{started:?}"
    );
    let calls: BTreeSet<String> = rec
        .records
        .iter()
        .filter_map(|(_, r)| match &r.event {
            Event::Linux { call, .. } => Some(record::CallText(call).to_string()),
            _ => None,
        })
        .map(|t| t.split_whitespace().nth(1).unwrap_or_default().to_string())
        .collect();
    for call in ["mmap", "munmap", "mprotect", "brk", "madvise", "mremap"] {
        assert!(calls.contains(call), "no {call} among {calls:?}");
    }

    replay(&rec);
}

/// Faults the recording says were served with pages.
fn faults_mapped(rec: &record::Recording) -> usize {
    rec.records
        .iter()
        .filter(|(_, r)| {
            matches!(
                r.event,
                Event::Fault {
                    outcome: record::FaultOutcome::Map { .. },
                    ..
                }
            )
        })
        .count()
}

#[test]
fn a_default_run_replays_with_identical_decisions() {
    record_and_replay("default");
}

#[test]
fn a_fault_around_run_replays_with_identical_decisions() {
    record_and_replay("fault-around");
}

/// The huge policy's 2 MiB decisions record with their size and replay as
/// recorded: `huge_touch` maps 64 MiB in 32 faults of 2 MiB.
#[test]
fn a_huge_run_replays_with_identical_decisions() {
    let rec = record("huge", "", "huge_touch");
    let huge_faults = rec
        .records
        .iter()
        .filter(|(_, r)| matches!(&r.event, Event::Fault { outcome: record::FaultOutcome::Map { pages, .. }, .. } if pages.iter().any(|p| p.size == 2 << 20)))
        .count();
    assert!(huge_faults >= 32, "{huge_faults} faults of 2 MiB recorded");
    let stats = replay(&rec);
    assert!(stats.huge_pages >= 32, "{stats:?}");
}
