//! The runner's exit status after `--exec`: the programs' own, as a shell
//! would report them. The pager prints one [`ExitReport`] line per program
//! on the log channel, in the order they ran; the runner exits with the
//! first non-zero status (as `set -e` would stop there), else 0.

use pager::exit_status::{ExitReport, ExitReportError};

use crate::qemu::{Outcome, RunResult};

/// Why the runner has no program status to exit with.
#[derive(Debug, PartialEq, Eq)]
pub enum ExitError {
    /// The system did not run to its end (a panic, a dead pager, ...).
    System(Outcome),
    /// A log line starts like an exit report but is not one.
    Malformed { line: String, error: ExitReportError },
    /// The reports do not name the programs in the order they were given.
    Unexpected { expected: Option<String>, got: String },
    /// A program ended without a report.
    Missing { program: String },
}

/// The runner's status when the system timed out (as `timeout(1)`).
pub const TIMED_OUT: u8 = 124;
/// The runner's status when it or the system failed (as `env` and
/// `docker run` when they fail), so no program status is mimicked.
pub const RUNNER_FAILED: u8 = 125;

impl ExitError {
    /// The runner's own status for it.
    pub fn status(&self) -> u8 {
        match self {
            ExitError::System(Outcome::Timeout) => TIMED_OUT,
            _ => RUNNER_FAILED,
        }
    }
}

impl std::fmt::Display for ExitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExitError::System(outcome) => write!(f, "the system failed: {}", outcome.describe()),
            ExitError::Malformed { line, error } => write!(f, "malformed exit report {line:?}: {error}"),
            ExitError::Unexpected { expected: Some(e), got } => {
                write!(f, "the exit report of {got} came where the one of {e} was due")
            }
            ExitError::Unexpected { expected: None, got } => {
                write!(f, "an exit report of {got}, which was not exec'd")
            }
            ExitError::Missing { program } => write!(f, "{program} ended without an exit report"),
        }
    }
}

impl std::error::Error for ExitError {}

/// The exit reports in a log, in order.
pub fn reports(log: &str) -> Result<Vec<ExitReport>, ExitError> {
    log.lines()
        .filter(|l| l.starts_with(ExitReport::PREFIX))
        .map(|line| {
            ExitReport::parse(line).map_err(|error| ExitError::Malformed {
                line: line.to_string(),
                error,
            })
        })
        .collect()
}

/// The status to exit with after running `programs` (ramdisk paths, in
/// order): the first non-zero program status, else 0.
pub fn status(result: &RunResult, programs: &[String]) -> Result<u8, ExitError> {
    if !matches!(result.outcome, Outcome::Success | Outcome::Failure) {
        return Err(ExitError::System(result.outcome));
    }
    let reports = reports(&result.log)?;
    if let Some(extra) = reports.get(programs.len()) {
        return Err(ExitError::Unexpected {
            expected: None,
            got: extra.program.clone(),
        });
    }
    let mut first_failure = 0;
    for (i, program) in programs.iter().enumerate() {
        let report = reports.get(i).ok_or_else(|| ExitError::Missing {
            program: program.clone(),
        })?;
        if &report.program != program {
            return Err(ExitError::Unexpected {
                expected: Some(program.clone()),
                got: report.program.clone(),
            });
        }
        if first_failure == 0 {
            first_failure = report.status.shell_status();
        }
    }
    Ok(first_failure)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(outcome: Outcome, log: &str) -> RunResult {
        RunResult {
            outcome,
            log: log.into(),
            console: Vec::new(),
            serial: log.into(),
        }
    }

    fn programs(names: &[&str]) -> Vec<String> {
        names.iter().map(|&n| n.into()).collect()
    }

    #[test]
    fn the_first_non_zero_status_wins() {
        let log = "[INFO  kernel] boot\n[exit] exited 0 bin/a\n[exit] signaled 11 bin/b\n[exit] exited 3 bin/c\n";
        assert_eq!(
            status(&run(Outcome::Failure, log), &programs(&["bin/a", "bin/b", "bin/c"])),
            Ok(139)
        );
        let log = "[exit] exited 0 bin/a\n[exit] exited 0 bin/my prog\n";
        assert_eq!(
            status(&run(Outcome::Success, log), &programs(&["bin/a", "bin/my prog"])),
            Ok(0)
        );
        let log = "[exit] refused 8 bin/a\n";
        assert_eq!(status(&run(Outcome::Failure, log), &programs(&["bin/a"])), Ok(126));
    }

    #[test]
    fn a_failed_system_is_not_a_program_status() {
        for outcome in [Outcome::KernelPanic, Outcome::PagerDied, Outcome::Unexpected(Some(0))] {
            let err = status(&run(outcome, "[exit] exited 0 bin/a\n"), &programs(&["bin/a"])).unwrap_err();
            assert_eq!(err, ExitError::System(outcome));
            assert_eq!(err.status(), 125);
        }
        let err = status(&run(Outcome::Timeout, ""), &programs(&["bin/a"])).unwrap_err();
        assert_eq!(err.status(), 124);
        assert!(err.to_string().contains("timed out"), "{err}");
    }

    #[test]
    fn missing_extra_misordered_and_malformed_reports_are_errors() {
        let two = programs(&["bin/a", "bin/b"]);
        assert_eq!(
            status(&run(Outcome::Success, "[exit] exited 0 bin/a\n"), &two),
            Err(ExitError::Missing {
                program: "bin/b".into()
            })
        );
        assert_eq!(
            status(
                &run(Outcome::Success, "[exit] exited 0 bin/b\n[exit] exited 0 bin/a\n"),
                &two
            ),
            Err(ExitError::Unexpected {
                expected: Some("bin/a".into()),
                got: "bin/b".into()
            })
        );
        let err = status(&run(Outcome::Success, "[exit] exited 0 bin/a\n"), &[]).unwrap_err();
        assert_eq!(
            err,
            ExitError::Unexpected {
                expected: None,
                got: "bin/a".into()
            }
        );
        assert!(err.to_string().contains("not exec'd"), "{err}");
        let err = status(&run(Outcome::Success, "[exit] exited 300 bin/a\n"), &two).unwrap_err();
        assert_eq!(
            err,
            ExitError::Malformed {
                line: "[exit] exited 300 bin/a".into(),
                error: ExitReportError::BadNumber
            }
        );
        assert_eq!(err.status(), 125);
    }

    #[test]
    fn other_log_lines_are_not_reports() {
        let log = "[INFO  pager ] [exit] exited 0 bin/a\n exit] x\n";
        assert_eq!(reports(log), Ok(vec![]));
    }
}
