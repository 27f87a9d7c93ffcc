//! Replaying a recorded trace under a policy (`pager::replay`), and the
//! comparison of several: a table and an SVG plot.

use std::{fmt::Write as _, path::Path, process::ExitCode, time::Instant};

use pager::{
    record::Recording,
    replay::{Mode, ReplayError, Replayer, Sample, Stats},
};
use plotters::prelude::*;

/// Why a replay gives up.
#[derive(Debug)]
pub enum Failure {
    /// A bad trace or argument (exit 2).
    Input(String),
    /// A decision differs from the recording (exit 1).
    Mismatch(String),
}

impl Failure {
    /// Says what went wrong and picks the exit status.
    pub fn report(self) -> Result<ExitCode, String> {
        match self {
            Failure::Input(e) => {
                eprintln!("pager-replay: {e}");
                Ok(ExitCode::from(2))
            }
            Failure::Mismatch(e) => {
                eprintln!("pager-replay: first mismatch: {e}");
                Ok(ExitCode::from(1))
            }
        }
    }
}

/// One policy's replay.
#[derive(Debug)]
pub struct Run {
    pub policy: String,
    pub stats: Stats,
    pub samples: Vec<Sample>,
}

impl Run {
    /// Replays `rec` under `policy`: checked against the recorded
    /// decisions when it is the recorded policy.
    pub fn replay(rec: &Recording, policy: &str) -> Result<Run, Failure> {
        let registration = pager_policies::find(policy).map_err(|e| Failure::Input(e.to_string()))?;
        let settings = rec.header.settings().map_err(Failure::Input)?;
        let mode = if policy == rec.header.policy {
            Mode::Verify
        } else {
            Mode::Compare
        };
        let epoch = Instant::now();
        let clock = move || u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let mut replayer = Replayer::new(
            registration.new,
            settings,
            rec.header.frames,
            mode,
            &rec.records,
            &clock,
        )
        .map_err(|e| Failure::Input(e.to_string()))?;
        replayer.run(&rec.records).map_err(|e| match e {
            ReplayError::Mismatch(_) => Failure::Mismatch(e.to_string()),
            other => Failure::Input(other.to_string()),
        })?;
        Ok(Run {
            policy: policy.into(),
            stats: replayer.stats,
            samples: replayer.samples,
        })
    }
}

/// The comparison table, one row per run.
pub fn table(runs: &[Run]) -> String {
    let header = [
        "policy",
        "faults",
        "pages mapped",
        "peak resident",
        "final resident",
        "never touched",
        "zero-page hits",
        "huge pages",
        "ns/fault",
    ];
    let rows: Vec<[String; 9]> = runs
        .iter()
        .map(|r| {
            let s = &r.stats;
            [
                r.policy.clone(),
                s.faults.to_string(),
                s.pages_mapped.to_string(),
                s.peak_resident.to_string(),
                s.final_resident.to_string(),
                s.untouched.to_string(),
                s.zero_page_hits.to_string(),
                s.huge_pages.to_string(),
                s.ns_per_fault().to_string(),
            ]
        })
        .collect();
    let mut out = String::new();
    let line = |cells: Vec<&str>, out: &mut String| {
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    };
    line(header.to_vec(), &mut out);
    line(
        header
            .iter()
            .enumerate()
            .map(|(i, _)| if i == 0 { "---" } else { "---:" })
            .collect(),
        &mut out,
    );
    for row in &rows {
        line(row.iter().map(String::as_str).collect(), &mut out);
    }
    out
}

/// A panel of the plot: its title, the top of its scale, and what it
/// shows of a sample.
type Panel = (&'static str, f64, fn(&Sample) -> u64);

/// Resident pages and cumulative faults over the trace's time, one series
/// per run, in two panels.
pub fn svg(runs: &[Run], out: &Path) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| format!("{}: {e}", out.display());
    let start = runs
        .iter()
        .flat_map(|r| r.samples.first())
        .map(|s| s.time_ns)
        .min()
        .unwrap_or(0);
    let ms = |s: &Sample| (s.time_ns.saturating_sub(start)) as f64 / 1e6;
    let end = runs.iter().flat_map(|r| r.samples.last()).map(ms).fold(1.0, f64::max);
    let top_resident = runs.iter().map(|r| r.stats.peak_resident).max().unwrap_or(1).max(1) as f64;
    let top_faults = runs.iter().map(|r| r.stats.faults).max().unwrap_or(1).max(1) as f64;
    let root = SVGBackend::new(out, (960, 720)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let panels = root.split_evenly((2, 1));
    let draws: [Panel; 2] = [
        ("resident pages", top_resident, |s| s.resident),
        ("cumulative faults", top_faults, |s| s.faults),
    ];
    for (panel, (title, top, value)) in panels.iter().zip(draws) {
        let mut chart = ChartBuilder::on(panel)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..end, 0.0..top * 1.05)
            .map_err(|e| err(&e))?;
        chart
            .configure_mesh()
            .x_desc("trace time (ms)")
            .y_desc(title)
            .draw()
            .map_err(|e| err(&e))?;
        for (i, run) in runs.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            chart
                .draw_series(LineSeries::new(
                    run.samples.iter().map(|s| (ms(s), value(s) as f64)),
                    color.stroke_width(2),
                ))
                .map_err(|e| err(&e))?
                .label(run.policy.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2)));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| err(&e))?;
    }
    root.present().map_err(|e| err(&e))
}

#[cfg(test)]
mod tests {
    use pager::record;

    use super::*;

    /// A run recorded under `default`: one anonymous mapping of 32 pages,
    /// faulted at pages 0, 1 and 20, then a munmap and the exit.
    const TRACE: &str = "\
pager-trace 1
policy default
seed 0x1 0x2 0x3 0x4
frames 1024
set kernel.randomize_va_space 0
begin
3 100 start demo
3 100 layout 0x7f0000000000 0x600000 0x600000 0x0 0x7ffffffde000
3 100 vma 0x400000 0x401000 r-x p file:1:0x0:0x1000 /demo
3 100 kept 0x400000
3 200 mmap 0x0 0x20000 rw- private,anonymous => 0x7efffffe0000
3 300 fault 0x7efffffe0010 write 0x400010 => map 1 0x7efffffe0000:rw-:z
3 400 fault 0x7efffffe1000 read 0x400020 => map 1 0x7efffffe1000:r--:zp
3 500 fault 0x7effffff4000 write 0x400030 => map 1 0x7effffff4000:rw-:z
3 600 munmap 0x7efffffe0000 0x20000 => 0x0
3 700 exit
";

    fn recording() -> Recording {
        record::parse(TRACE).expect("the test trace parses")
    }

    #[test]
    fn the_recorded_policy_replays_every_decision() {
        let run = Run::replay(&recording(), "default").expect("matches");
        assert_eq!(run.stats.faults, 3);
        assert_eq!(run.stats.pages_mapped, 3);
        // The kept page and the two written ones (the read maps the
        // shared zero page, which is no frame of the process's); all gone
        // after the exit.
        assert_eq!(run.stats.peak_resident, 3);
        assert_eq!(run.stats.zero_page_hits, 1);
        assert_eq!(run.stats.final_resident, 0);
        assert_eq!(run.stats.untouched, 0);
    }

    #[test]
    fn a_changed_decision_is_the_first_mismatch() {
        let text = TRACE.replace("=> map 1 0x7efffffe1000:r--:zp", "=> map 1 0x7efffffe1000:rw-:zp");
        let rec = record::parse(&text).unwrap();
        match Run::replay(&rec, "default") {
            Err(Failure::Mismatch(e)) => {
                assert!(e.contains("line 13") && e.contains("r--") && e.contains("rw-"), "{e}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_changed_request_result_is_a_mismatch() {
        let text = TRACE.replace("=> 0x7efffffe0000", "=> 0x7efffff00000");
        let rec = record::parse(&text).unwrap();
        assert!(matches!(Run::replay(&rec, "default"), Err(Failure::Mismatch(_))));
    }

    #[test]
    fn an_unknown_policy_is_refused_with_the_known_ones() {
        match Run::replay(&recording(), "no-such-policy") {
            Err(Failure::Input(e)) => assert!(e.contains("no-such-policy") && e.contains("default"), "{e}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn fault_around_takes_fewer_faults_and_maps_more() {
        let runs = [
            Run::replay(&recording(), "default").unwrap(),
            Run::replay(&recording(), "fault-around").unwrap(),
        ];
        let around = &runs[1].stats;
        // Page 1 is in page 0's window: that fault is never taken.
        assert_eq!(around.faults, 2);
        assert_eq!(around.pages_mapped, 32);
        assert_eq!(around.untouched, 29);
        let text = table(&runs);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(lines[0].contains("zero-page hits") && lines[0].contains("huge pages"));
        assert!(
            lines[2].starts_with("| default | 3 | 3 | 3 | 0 | 0 | 1 | 0 |"),
            "{text}"
        );
        assert!(
            lines[3].starts_with("| fault-around | 2 | 32 | 33 | 0 | 29 | 0 | 0 |"),
            "{text}"
        );
    }

    #[test]
    fn the_svg_has_a_series_per_policy() {
        let runs: Vec<Run> = ["default", "fault-around", "read-ahead"]
            .iter()
            .map(|p| Run::replay(&recording(), p).unwrap())
            .collect();
        let dir = std::env::temp_dir().join(format!("pager-replay-svg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("compare.svg");
        svg(&runs, &out).unwrap();
        let text = std::fs::read_to_string(&out).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(text.starts_with("<svg"), "{}", &text[..80.min(text.len())]);
        for (i, policy) in ["default", "fault-around", "read-ahead"].iter().enumerate() {
            // A legend entry in each of the two panels.
            assert_eq!(text.matches(&format!("\n{policy}\n")).count(), 2, "{policy}");
            // Its line in each panel and its legend's sample: four strokes
            // of its colour.
            let RGBAColor(r, g, b, _) = Palette99::pick(i).to_rgba();
            let stroke = format!("stroke=\"#{r:02X}{g:02X}{b:02X}\" stroke-width=\"2\"");
            assert_eq!(text.matches(&stroke).count(), 4, "{policy}: {stroke}");
        }
    }

    #[test]
    fn an_unwritable_svg_is_an_error() {
        let runs = [Run::replay(&recording(), "default").unwrap()];
        assert!(svg(&runs, Path::new("/nonexistent-dir/x.svg")).is_err());
    }
}
