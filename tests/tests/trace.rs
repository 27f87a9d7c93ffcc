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

/// Records `hello` and the Linux `vm_calls` under `policy`, then
/// replays the trace on the host under it.
fn record_and_replay(policy: &str) {
    let dir = std::env::temp_dir().join(format!("trace-test-{policy}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let trace = dir.join("run.trace");
    let vm_calls = binary("vm_calls", Variant::MuslStatic);
    let scenario = Scenario {
        name: format!("trace-{policy}"),
        release: false,
        firmware: Firmware::Bios,
        cmdline: format!("log=warn policy={policy} record=1 run=hello"),
        exec: vec![ExecProgram {
            host_file: vm_calls,
            spec: ExecSpec {
                path: format!("{}/vm_calls", boot::exec::RAMDISK_DIR),
                argv: vec!["vm_calls".into()],
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
    assert_eq!(replayer.stats.faults as usize, faults_mapped(&rec));
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
