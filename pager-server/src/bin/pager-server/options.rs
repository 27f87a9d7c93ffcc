//! The pager's words of the command line (the ramdisk file `cmdline`):
//! `run=`, `policy=`, `aslr=`, `log=` and sysctl-style settings. The kernel
//! reads `log=`, `pager=` and `pt_limit=` of the same line.

use alloc::{string::String, vec::Vec};

/// Log verbosity of the pager (`log=`), ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    pub const fn label(self) -> &'static str {
        match self {
            LogLevel::Error => "ERROR",
            LogLevel::Warn => "WARN",
            LogLevel::Info => "INFO",
            LogLevel::Debug => "DEBUG",
            LogLevel::Trace => "TRACE",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Options {
    /// Groups run one after another; the programs of a group run together.
    pub run: Vec<Vec<String>>,
    /// Services started before the groups and not waited for (`service=a,b`;
    /// several `service=` words add up).
    pub services: Vec<String>,
    pub policy: String,
    pub log: LogLevel,
    /// Print the fault-path breakdown at the end (`profile=1`).
    pub profile: bool,
    /// Record a trace of the run on the trace channel (`record=1`, the
    /// runner's `--record-trace`).
    pub record: bool,
    /// Other `key=value` words, handed to the policy's settings registry.
    pub settings: Vec<(String, String)>,
    /// The vsyscall page's mode (`vsyscall=`; the kernel reads it too).
    pub vsyscall: libipc::vsyscall::Mode,
    /// `pool_pages=N`: use at most N frames of the kernel's pool, to run
    /// under memory pressure (reclaim, out-of-memory kills); the word as
    /// given when it is not a positive number, for the warning.
    pub pool_pages: Option<Result<u64, String>>,
}

impl Options {
    pub fn parse(cmdline: &str) -> Options {
        let mut opts = Options {
            run: Vec::new(),
            services: Vec::new(),
            policy: "default".into(),
            log: LogLevel::Info,
            profile: false,
            record: false,
            settings: Vec::new(),
            vsyscall: libipc::vsyscall::Mode::default(),
            pool_pages: None,
        };
        for word in cmdline.split_ascii_whitespace() {
            let Some((key, value)) = word.split_once('=') else {
                continue;
            };
            match key {
                "run" => opts.run = parse_run(value),
                "service" => opts
                    .services
                    .extend(value.split(',').filter(|s| !s.is_empty()).map(String::from)),
                "policy" => opts.policy = value.into(),
                "log" => {
                    opts.log = match value {
                        "error" => LogLevel::Error,
                        "warn" => LogLevel::Warn,
                        "debug" => LogLevel::Debug,
                        "trace" => LogLevel::Trace,
                        _ => LogLevel::Info,
                    }
                }
                "profile" => opts.profile = value == "1",
                "pool_pages" => {
                    opts.pool_pages = Some(value.parse::<u64>().ok().filter(|&n| n > 0).ok_or_else(|| value.into()))
                }
                "record" => opts.record = value == "1",
                // A bad word is the kernel's to report; both keep xonly.
                "vsyscall" => opts.vsyscall = libipc::vsyscall::Mode::parse(value).unwrap_or_default(),
                // The kernel's.
                "pager" | "pt_limit" => {}
                _ => opts.settings.push((key.into(), value.into())),
            }
        }
        opts
    }
}

/// Most repetitions of one `NAME*N` group.
const MAX_REPEAT: usize = 10_000;

/// `run=`: groups separated by `,`, programs of a group joined by `+`; a
/// group `NAME*N` is `N` groups of `NAME` one after another (a `*` word
/// that is not a count up to 10,000 is kept as a name, which then fails to
/// start with a clear message).
fn parse_run(value: &str) -> Vec<Vec<String>> {
    let mut groups = Vec::new();
    for group in value.split(',').filter(|g| !g.is_empty()) {
        if let Some((name, count)) = group.split_once('*')
            && !name.contains('+')
            && let Ok(n) = count.parse::<usize>()
            && (1..=MAX_REPEAT).contains(&n)
        {
            groups.extend((0..n).map(|_| alloc::vec![String::from(name)]));
            continue;
        }
        groups.push(group.split('+').filter(|p| !p.is_empty()).map(String::from).collect());
    }
    groups
}
