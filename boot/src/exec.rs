//! `--exec 'PATH [ARG...]'` and `--env NAME=VALUE`: host programs packed
//! into the ramdisk under `bin/NAME`, listed with their arguments and
//! environment in the ramdisk file `exec` ([`pager::exec_list`]).

use std::path::{Path, PathBuf};

use pager::exec_list::{ExecListError, ExecSpec};

/// One program to run: the host file and what the guest runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecProgram {
    /// The file packed into the ramdisk.
    pub host_file: PathBuf,
    /// Its ramdisk path, argv and envp.
    pub spec: ExecSpec,
}

/// The directory of exec'd programs in the ramdisk.
pub const RAMDISK_DIR: &str = "bin";

/// Why an `--exec` or `--env` option was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum ExecError {
    /// `--exec` with no words.
    Empty,
    /// The words do not split as a shell would (e.g. an unclosed quote).
    BadQuoting { exec: String },
    /// The program is not a file on the host.
    NotAFile { path: PathBuf },
    /// Two programs with the same file name would share one ramdisk path.
    DuplicateName {
        name: String,
        first: PathBuf,
        second: PathBuf,
    },
    /// `--env` without `=` or with an empty name.
    BadEnv { word: String },
    /// What the exec list cannot carry (a NUL byte).
    List(ExecListError),
}

impl std::fmt::Display for ExecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExecError::Empty => write!(f, "--exec needs a program: --exec 'PATH [ARG...]'"),
            ExecError::BadQuoting { exec } => write!(f, "--exec {exec:?}: unbalanced quotes or a trailing backslash"),
            ExecError::NotAFile { path } => write!(f, "--exec: {} is not a file", path.display()),
            ExecError::DuplicateName { name, first, second } => write!(
                f,
                "--exec: {} and {} would both be {RAMDISK_DIR}/{name} in the ramdisk; rename one",
                first.display(),
                second.display()
            ),
            ExecError::BadEnv { word } => write!(f, "--env {word:?}: expected NAME=VALUE with a non-empty NAME"),
            ExecError::List(e) => write!(f, "--exec: {e}"),
        }
    }
}

impl std::error::Error for ExecError {}

/// The services Linux programs need, in the order they must start
/// (the personality server calls procfs).
pub const PERSONALITY_SERVICES: [&str; 2] = ["procfs", "linux"];

/// `cmdline` with a `service=` word for each of
/// [`PERSONALITY_SERVICES`] it does not name yet (a run with `--exec`).
pub fn with_personality(cmdline: &str) -> String {
    let named: Vec<&str> = cmdline
        .split_whitespace()
        .filter_map(|w| w.strip_prefix("service="))
        .flat_map(|list| list.split(','))
        .map(|s| s.split('@').next().unwrap_or(s))
        .collect();
    let mut line = cmdline.trim().to_string();
    for service in PERSONALITY_SERVICES {
        if !named.contains(&service) {
            line.push_str(" service=");
            line.push_str(service);
        }
    }
    line.trim_start().to_string()
}

/// The programs of `--exec` options, in order, each with the environment
/// of every `--env` option. `argv[0]` is the path as written, as a shell
/// passes it.
pub fn plan(execs: &[String], envs: &[String]) -> Result<Vec<ExecProgram>, ExecError> {
    for word in envs {
        if !word.split_once('=').is_some_and(|(name, _)| !name.is_empty()) {
            return Err(ExecError::BadEnv { word: word.clone() });
        }
    }
    let mut programs: Vec<ExecProgram> = Vec::new();
    for exec in execs {
        let argv = shlex::split(exec).ok_or_else(|| ExecError::BadQuoting { exec: exec.clone() })?;
        let host_file = PathBuf::from(argv.first().ok_or(ExecError::Empty)?);
        if !host_file.is_file() {
            return Err(ExecError::NotAFile { path: host_file });
        }
        let name = file_name(&host_file);
        let path = format!("{RAMDISK_DIR}/{name}");
        if let Some(first) = programs.iter().find(|p| p.spec.path == path) {
            return Err(ExecError::DuplicateName {
                name,
                first: first.host_file.clone(),
                second: host_file,
            });
        }
        programs.push(ExecProgram {
            host_file,
            spec: ExecSpec {
                path,
                argv,
                envp: envs.to_vec(),
            },
        });
    }
    // Refuses now what the list cannot carry, not at packing time.
    let specs: Vec<ExecSpec> = programs.iter().map(|p| p.spec.clone()).collect();
    pager::exec_list::encode(&specs).map_err(ExecError::List)?;
    Ok(programs)
}

/// The file name (a file always has one: `is_file` held).
fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two host files named `prog` in different directories, and one with a
    /// space in its name.
    fn files() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("boot-exec-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("a")).unwrap();
        std::fs::create_dir_all(dir.join("b")).unwrap();
        for f in ["a/prog", "b/prog", "a/my prog"] {
            std::fs::write(dir.join(f), b"\x7fELF").unwrap();
        }
        dir
    }

    #[test]
    fn words_split_as_a_shell_splits_them() {
        let dir = files();
        let exec = format!("'{}/a/my prog' one 'two three' \"\" four\\ five", dir.display());
        let envs = vec!["HOME=/".to_string(), "EMPTY=".to_string()];
        let programs = plan(&[exec], &envs).unwrap();
        assert_eq!(programs.len(), 1);
        assert_eq!(programs[0].host_file, dir.join("a/my prog"));
        assert_eq!(programs[0].spec.path, "bin/my prog");
        assert_eq!(
            programs[0].spec.argv,
            [
                &format!("{}/a/my prog", dir.display()),
                "one",
                "two three",
                "",
                "four five"
            ]
        );
        assert_eq!(programs[0].spec.envp, envs);
    }

    #[test]
    fn programs_keep_their_order() {
        let dir = files();
        let a = format!("{}/a/prog", dir.display());
        let b = format!("{}/a/my\\ prog x", dir.display());
        let paths: Vec<String> = plan(&[a, b], &[]).unwrap().into_iter().map(|p| p.spec.path).collect();
        assert_eq!(paths, ["bin/prog", "bin/my prog"]);
    }

    #[test]
    fn two_files_with_one_name_are_refused() {
        let dir = files();
        let err = plan(
            &[format!("{}/a/prog", dir.display()), format!("{}/b/prog", dir.display())],
            &[],
        )
        .unwrap_err();
        assert_eq!(
            err,
            ExecError::DuplicateName {
                name: "prog".into(),
                first: dir.join("a/prog"),
                second: dir.join("b/prog"),
            }
        );
        assert!(err.to_string().contains("bin/prog"), "{err}");
    }

    #[test]
    fn linux_programs_get_procfs_and_the_personality() {
        assert_eq!(with_personality("log=warn"), "log=warn service=procfs service=linux");
        assert_eq!(
            with_personality("service=procfs@system:system:td x=1"),
            "service=procfs@system:system:td x=1 service=linux"
        );
        assert_eq!(with_personality(""), "service=procfs service=linux");
        assert_eq!(with_personality("service=linux,procfs"), "service=linux,procfs");
    }

    #[test]
    fn bad_options_are_refused_with_a_message() {
        let dir = files();
        let prog = format!("{}/a/prog", dir.display());
        for (execs, envs, expected) in [
            (vec![String::new()], vec![], ExecError::Empty),
            (vec!["  ".into()], vec![], ExecError::Empty),
            (
                vec![format!("{prog} 'open")],
                vec![],
                ExecError::BadQuoting {
                    exec: format!("{prog} 'open"),
                },
            ),
            (
                vec!["/nonexistent/prog".into()],
                vec![],
                ExecError::NotAFile {
                    path: "/nonexistent/prog".into(),
                },
            ),
            (
                vec![dir.display().to_string()],
                vec![],
                ExecError::NotAFile { path: dir.clone() },
            ),
            (
                vec![prog.clone()],
                vec!["NAME".into()],
                ExecError::BadEnv { word: "NAME".into() },
            ),
            (
                vec![prog.clone()],
                vec!["=x".into()],
                ExecError::BadEnv { word: "=x".into() },
            ),
            (
                vec![format!("{prog} 'a\0b'")],
                vec![],
                ExecError::List(ExecListError::ContainsNul),
            ),
        ] {
            let err = plan(&execs, &envs).unwrap_err();
            assert_eq!(err, expected);
            assert!(!err.to_string().contains('\n'), "{err}");
        }
    }
}
