//! How a Linux program ended, as Linux would report it, and the one line
//! per program the pager prints on the log channel so the runner can exit
//! with that status.
//!
//! A fault the pager ends a process for becomes the signal Linux would
//! send for it ([`Signal::for_kill`]); a shell then reports 128 + the
//! signal's number ([`ExitStatus::shell_status`]), e.g. 139 for SIGSEGV.
//!
//! The report line, one per exec'd program, with the program's ramdisk path
//! last so it may hold spaces:
//!
//! ```text
//! [exit] exited 0 bin/hello      exit(0)
//! [exit] signaled 11 bin/crash   ended by SIGSEGV (status 139)
//! [exit] refused 8 bin/broken    not started: errno 8, ENOEXEC (status 126)
//! ```

use alloc::string::{String, ToString};

use libipc::kernel::{FaultKind, KernelKill, KillReason};

/// A Linux signal by its x86-64 number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Signal(u8);

impl Signal {
    pub const SIGILL: Signal = Signal(4);
    pub const SIGTRAP: Signal = Signal(5);
    pub const SIGABRT: Signal = Signal(6);
    pub const SIGBUS: Signal = Signal(7);
    pub const SIGFPE: Signal = Signal(8);
    pub const SIGKILL: Signal = Signal(9);
    pub const SIGSEGV: Signal = Signal(11);

    /// Linux's signals are 1 to 64.
    pub const fn new(number: u8) -> Option<Signal> {
        match number {
            1..=64 => Some(Signal(number)),
            _ => None,
        }
    }

    pub const fn number(self) -> u8 {
        self.0
    }

    /// Its name, for the signals a fault or `abort` can raise.
    pub const fn name(self) -> Option<&'static str> {
        Some(match self {
            Signal::SIGILL => "SIGILL",
            Signal::SIGTRAP => "SIGTRAP",
            Signal::SIGABRT => "SIGABRT",
            Signal::SIGBUS => "SIGBUS",
            Signal::SIGFPE => "SIGFPE",
            Signal::SIGKILL => "SIGKILL",
            Signal::SIGSEGV => "SIGSEGV",
            _ => return None,
        })
    }

    /// The signal Linux sends for a fault of kind `fault` that the pager
    /// answered with `Kill(reason)`.
    pub const fn for_kill(reason: KillReason, fault: &FaultKind) -> Signal {
        match reason {
            KillReason::NoMapping
            | KillReason::Protection
            | KillReason::GuardGap
            | KillReason::Limit
            | KillReason::GeneralProtection => Signal::SIGSEGV,
            // Linux's out-of-memory killer.
            KillReason::OutOfMemory => Signal::SIGKILL,
            KillReason::PastEndOfFile => Signal::SIGBUS,
            KillReason::Exception => Signal::for_fault(fault),
        }
    }

    /// The signal Linux sends for a hardware fault (arch/x86/kernel/traps.c).
    pub const fn for_fault(fault: &FaultKind) -> Signal {
        match *fault {
            FaultKind::Page { .. } | FaultKind::GeneralProtection { .. } => Signal::SIGSEGV,
            FaultKind::InvalidOpcode => Signal::SIGILL,
            FaultKind::DivideError => Signal::SIGFPE,
            FaultKind::Other { vector, .. } => Signal::for_vector(vector),
        }
    }

    /// The signal for an exception vector raised in user mode.
    pub const fn for_vector(vector: u8) -> Signal {
        match vector {
            // #DE, x87 #MF, SIMD #XM.
            0 | 16 | 19 => Signal::SIGFPE,
            // #DB, #BP (int3).
            1 | 3 => Signal::SIGTRAP,
            6 => Signal::SIGILL,
            // #SS, #AC.
            12 | 17 => Signal::SIGBUS,
            // #OF, #BR, #NP, #GP, #PF, #CP and anything else.
            _ => Signal::SIGSEGV,
        }
    }

    /// A process the kernel itself ended (no page-table frames, its pager
    /// gone) dies as Linux's out-of-memory killer ends one: SIGKILL.
    pub const fn for_kernel_kill(_cause: KernelKill) -> Signal {
        Signal::SIGKILL
    }
}

/// How a program ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// It called `exit` (Linux keeps the low 8 bits of the code).
    Exited(u8),
    /// A signal ended it.
    Signaled(Signal),
    /// It never started: `execve` failed with this errno (e.g. 8, ENOEXEC,
    /// for a broken ELF file).
    Refused(u16),
}

impl ExitStatus {
    /// `exit(code)`, as `wait` reports it: the low 8 bits.
    pub const fn from_exit_code(code: i64) -> ExitStatus {
        ExitStatus::Exited(code as u8)
    }

    /// What a shell reports in `$?`: the code, 128 + the signal, or 126 for
    /// a file it could not execute.
    pub const fn shell_status(self) -> u8 {
        match self {
            ExitStatus::Exited(code) => code,
            ExitStatus::Signaled(signal) => 128 + signal.number(),
            ExitStatus::Refused(_) => 126,
        }
    }
}

/// One program's end, as printed on the log channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExitReport {
    /// The program's file in the ramdisk (its exec-list path).
    pub program: String,
    pub status: ExitStatus,
}

/// Why a line that starts with [`ExitReport::PREFIX`] is not a report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExitReportError {
    /// The word after the prefix is not `exited`, `signaled` or `refused`.
    UnknownKind,
    /// The number is missing, not decimal or out of range for its kind.
    BadNumber,
    /// No program path follows the number.
    NoProgram,
}

impl core::fmt::Display for ExitReportError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            ExitReportError::UnknownKind => "an exit report needs `exited`, `signaled` or `refused` after `[exit]`",
            ExitReportError::BadNumber => {
                "an exit report's number must be a code 0-255, a signal 1-64 or an errno 1-4095"
            }
            ExitReportError::NoProgram => "an exit report must end with the program's path",
        })
    }
}

impl core::error::Error for ExitReportError {}

impl ExitReport {
    /// Every report line starts with this; no other log line does.
    pub const PREFIX: &'static str = "[exit] ";

    /// Reads a report line (without its newline).
    pub fn parse(line: &str) -> Result<ExitReport, ExitReportError> {
        let rest = line.strip_prefix(Self::PREFIX).ok_or(ExitReportError::UnknownKind)?;
        let (kind, rest) = rest.split_once(' ').ok_or(ExitReportError::UnknownKind)?;
        let (number, program) = rest.split_once(' ').unwrap_or((rest, ""));
        let number = if number.bytes().all(|b| b.is_ascii_digit()) {
            number.parse::<u16>().map_err(|_| ExitReportError::BadNumber)?
        } else {
            return Err(ExitReportError::BadNumber);
        };
        let status = match kind {
            "exited" => ExitStatus::Exited(u8::try_from(number).map_err(|_| ExitReportError::BadNumber)?),
            "signaled" => ExitStatus::Signaled(
                u8::try_from(number)
                    .ok()
                    .and_then(Signal::new)
                    .ok_or(ExitReportError::BadNumber)?,
            ),
            "refused" if (1..4096).contains(&number) => ExitStatus::Refused(number),
            "refused" => return Err(ExitReportError::BadNumber),
            _ => return Err(ExitReportError::UnknownKind),
        };
        if program.is_empty() {
            return Err(ExitReportError::NoProgram);
        }
        Ok(ExitReport {
            program: program.to_string(),
            status,
        })
    }
}

impl core::fmt::Display for ExitReport {
    /// The line, without a newline.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let (kind, number) = match self.status {
            ExitStatus::Exited(code) => ("exited", u16::from(code)),
            ExitStatus::Signaled(signal) => ("signaled", u16::from(signal.number())),
            ExitStatus::Refused(errno) => ("refused", errno),
        };
        write!(f, "{}{kind} {number} {}", Self::PREFIX, self.program)
    }
}

#[cfg(test)]
mod tests {
    use alloc::{format, vec::Vec};

    use libipc::types::VirtAddr;

    use super::*;

    const PAGE: FaultKind = FaultKind::Page {
        addr: VirtAddr(0),
        access: libipc::types::Access::Read,
        present: false,
    };

    #[test]
    fn memory_faults_are_sigsegv() {
        for reason in [
            KillReason::NoMapping,
            KillReason::Protection,
            KillReason::GuardGap,
            KillReason::Limit,
            KillReason::GeneralProtection,
        ] {
            assert_eq!(Signal::for_kill(reason, &PAGE), Signal::SIGSEGV, "{reason:?}");
        }
        assert_eq!(Signal::SIGSEGV.number(), 11);
        assert_eq!(ExitStatus::Signaled(Signal::SIGSEGV).shell_status(), 139);
    }

    #[test]
    fn a_page_past_the_end_of_its_file_is_sigbus() {
        let signal = Signal::for_kill(KillReason::PastEndOfFile, &PAGE);
        assert_eq!(signal, Signal::SIGBUS);
        assert_eq!(ExitStatus::Signaled(signal).shell_status(), 135);
    }

    #[test]
    fn exceptions_get_linux_signals() {
        let kill = |fault: FaultKind| Signal::for_kill(KillReason::Exception, &fault).number();
        assert_eq!(kill(FaultKind::InvalidOpcode), 4, "#UD is SIGILL");
        assert_eq!(kill(FaultKind::DivideError), 8, "#DE is SIGFPE");
        assert_eq!(kill(FaultKind::GeneralProtection { error_code: 0 }), 11);
        let other = |vector| FaultKind::Other { vector, error_code: 0 };
        assert_eq!(kill(other(3)), 5, "#BP is SIGTRAP");
        assert_eq!(kill(other(1)), 5, "#DB is SIGTRAP");
        assert_eq!(kill(other(17)), 7, "#AC is SIGBUS");
        assert_eq!(kill(other(12)), 7, "#SS is SIGBUS");
        assert_eq!(kill(other(16)), 8, "#MF is SIGFPE");
        assert_eq!(kill(other(19)), 8, "#XM is SIGFPE");
        assert_eq!(kill(other(6)), 4);
        assert_eq!(kill(other(4)), 11, "#OF is SIGSEGV");
    }

    #[test]
    fn out_of_memory_and_kernel_kills_are_sigkill() {
        assert_eq!(Signal::for_kill(KillReason::OutOfMemory, &PAGE), Signal::SIGKILL);
        assert_eq!(Signal::for_kernel_kill(KernelKill::PageTableLimit), Signal::SIGKILL);
        assert_eq!(ExitStatus::Signaled(Signal::SIGKILL).shell_status(), 137);
    }

    #[test]
    fn abort_is_sigabrt_and_names_are_linux_names() {
        assert_eq!(Signal::new(6), Some(Signal::SIGABRT));
        assert_eq!(ExitStatus::Signaled(Signal::SIGABRT).shell_status(), 134);
        let named: Vec<_> = (1..=64).filter_map(|n| Signal::new(n)?.name()).collect();
        assert_eq!(
            named,
            ["SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL", "SIGSEGV"]
        );
        assert_eq!(Signal::new(0), None);
        assert_eq!(Signal::new(65), None);
    }

    #[test]
    fn shell_statuses() {
        assert_eq!(ExitStatus::from_exit_code(0).shell_status(), 0);
        assert_eq!(ExitStatus::from_exit_code(-1).shell_status(), 255);
        assert_eq!(ExitStatus::from_exit_code(256 + 3).shell_status(), 3);
        assert_eq!(ExitStatus::Refused(8).shell_status(), 126);
    }

    #[test]
    fn reports_round_trip() {
        for status in [
            ExitStatus::Exited(0),
            ExitStatus::Exited(255),
            ExitStatus::Signaled(Signal::SIGSEGV),
            ExitStatus::Signaled(Signal::new(64).unwrap()),
            ExitStatus::Refused(8),
        ] {
            let report = ExitReport {
                program: "bin/my prog".into(),
                status,
            };
            let line = format!("{report}");
            assert!(line.starts_with(ExitReport::PREFIX), "{line}");
            assert_eq!(ExitReport::parse(&line), Ok(report));
        }
        assert_eq!(
            format!(
                "{}",
                ExitReport {
                    program: "bin/crash".into(),
                    status: ExitStatus::Signaled(Signal::SIGSEGV)
                }
            ),
            "[exit] signaled 11 bin/crash"
        );
    }

    #[test]
    fn malformed_reports_are_refused() {
        use ExitReportError::*;
        for (line, err) in [
            ("[exit]", UnknownKind),
            ("[exit] ", UnknownKind),
            ("[exit] died 1 bin/a", UnknownKind),
            ("exit] exited 0 bin/a", UnknownKind),
            ("[exit] exited", UnknownKind),
            ("[exit] exited  bin/a", BadNumber),
            ("[exit] exited -1 bin/a", BadNumber),
            ("[exit] exited +1 bin/a", BadNumber),
            ("[exit] exited 256 bin/a", BadNumber),
            ("[exit] exited 99999999 bin/a", BadNumber),
            ("[exit] signaled 0 bin/a", BadNumber),
            ("[exit] signaled 65 bin/a", BadNumber),
            ("[exit] refused 0 bin/a", BadNumber),
            ("[exit] refused 4096 bin/a", BadNumber),
            ("[exit] exited 0", NoProgram),
            ("[exit] exited 0 ", NoProgram),
        ] {
            assert_eq!(ExitReport::parse(line), Err(err.clone()), "{line:?}");
            assert!(!format!("{err}").is_empty());
        }
    }
}
