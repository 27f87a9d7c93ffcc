//! Replays traces on the host.
//!
//! - `pager-replay --socket PATH TRACE`: a hand-written trace
//!   (`pager::trace`) against a running `pager-host`, printing every
//!   decision and the final `/proc/<pid>/maps`.
//! - `pager-replay [--policy NAME] RECORDED`: a trace recorded from a run
//!   (`cargo run -p boot -- --record-trace FILE`, format `pager::record`),
//!   replayed in this process under the run's policy: every decision must
//!   come out as recorded, and the first that does not is reported. Under
//!   another `--policy` it prints what that policy would have done.
//! - `pager-replay --compare a,b,c [--svg OUT.svg] RECORDED`: the trace
//!   under each policy, as a table (and a plot of resident memory and
//!   cumulative faults over the trace).
//!
//! Exit status: 0 when the replay ran (and matched), 1 when a decision
//! differs or the pager cannot be reached, 2 for bad arguments or a bad
//! trace (its header, version, a line, an unknown policy).

mod compare;
mod socket;

use std::{fs, path::PathBuf, process::ExitCode};

use compare::Run;
use pager::record;

/// What the command line asks.
#[derive(Debug, PartialEq, Eq)]
enum Command {
    Socket {
        socket: String,
        trace: String,
    },
    /// Replay one recorded trace under `policy` (the recorded one when
    /// `None`).
    Replay {
        policy: Option<String>,
        trace: String,
    },
    Compare {
        policies: Vec<String>,
        svg: Option<PathBuf>,
        trace: String,
    },
}

const USAGE: &str = "usage: pager-replay --socket PATH TRACE\n       pager-replay [--policy NAME] RECORDED\n       pager-replay --compare P1,P2,... [--svg OUT.svg] RECORDED";

fn parse_args(args: &[String]) -> Result<Command, String> {
    let (mut socket, mut policy, mut compare, mut svg, mut trace) = (None, None, None, None, None);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{arg} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--socket" => socket = Some(value()?),
            "--policy" => policy = Some(value()?),
            "--compare" => compare = Some(value()?),
            "--svg" => svg = Some(PathBuf::from(value()?)),
            flag if flag.starts_with("--") => return Err(format!("unknown argument {flag:?}\n{USAGE}")),
            file if trace.is_none() => trace = Some(file.to_string()),
            extra => return Err(format!("one trace only, not also {extra:?}\n{USAGE}")),
        }
    }
    let trace = trace.ok_or_else(|| USAGE.to_string())?;
    match (socket, policy, compare, svg) {
        (Some(socket), None, None, None) => Ok(Command::Socket { socket, trace }),
        (None, policy, None, None) => Ok(Command::Replay { policy, trace }),
        (None, None, Some(list), svg) => {
            let policies: Vec<String> = list.split(',').filter(|p| !p.is_empty()).map(String::from).collect();
            if policies.is_empty() {
                return Err(format!("--compare needs policy names\n{USAGE}"));
            }
            Ok(Command::Compare { policies, svg, trace })
        }
        _ => Err(format!(
            "--socket, --policy and --compare (with --svg) do not combine\n{USAGE}"
        )),
    }
}

/// Reads and parses a recorded trace; the error names the file and line.
fn load(path: &str) -> Result<record::Recording, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    record::parse(&text).map_err(|(line, e)| format!("{path}:{line}: {e}"))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match parse_args(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("pager-replay: {e}");
            return ExitCode::from(2);
        }
    };
    let result = match command {
        Command::Socket { socket, trace } => socket::run(&socket, &trace),
        Command::Replay { policy, trace } => load(&trace)
            .map_err(compare::Failure::Input)
            .and_then(|rec| {
                let policy = policy.unwrap_or_else(|| rec.header.policy.clone());
                let run = Run::replay(&rec, &policy)?;
                println!(
                    "{trace}: {} records replayed under {policy} ({}): {}",
                    rec.records.len(),
                    if policy == rec.header.policy {
                        "the recorded policy"
                    } else {
                        "not the recorded one: compared, not checked"
                    },
                    if policy == rec.header.policy {
                        "every decision as recorded"
                    } else {
                        "done"
                    }
                );
                print!("{}", compare::table(&[run]));
                Ok(ExitCode::SUCCESS)
            })
            .or_else(compare::Failure::report),
        Command::Compare { policies, svg, trace } => load(&trace)
            .map_err(compare::Failure::Input)
            .and_then(|rec| {
                let runs = policies
                    .iter()
                    .map(|p| Run::replay(&rec, p))
                    .collect::<Result<Vec<_>, _>>()?;
                println!(
                    "{trace}: recorded under {}, {} records",
                    rec.header.policy,
                    rec.records.len()
                );
                print!("{}", compare::table(&runs));
                if let Some(svg) = svg {
                    compare::svg(&runs, &svg).map_err(compare::Failure::Input)?;
                    println!("plot: {}", svg.display());
                }
                Ok(ExitCode::SUCCESS)
            })
            .or_else(compare::Failure::report),
    };
    result.unwrap_or_else(|e| {
        eprintln!("pager-replay: {e}");
        ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn the_three_forms_parse() {
        assert_eq!(
            parse_args(&args("--socket /s t")),
            Ok(Command::Socket {
                socket: "/s".into(),
                trace: "t".into()
            })
        );
        assert_eq!(
            parse_args(&args("run.trace")),
            Ok(Command::Replay {
                policy: None,
                trace: "run.trace".into()
            })
        );
        assert_eq!(
            parse_args(&args("--compare default,fault-around --svg o.svg r")),
            Ok(Command::Compare {
                policies: vec!["default".into(), "fault-around".into()],
                svg: Some("o.svg".into()),
                trace: "r".into()
            })
        );
    }

    #[test]
    fn bad_command_lines_are_refused() {
        for bad in [
            "",
            "--compare , r",
            "--socket /s --compare a r",
            "--svg o.svg r",
            "--frob r",
            "a b",
        ] {
            assert!(parse_args(&args(bad)).is_err(), "{bad:?}");
        }
    }
}
