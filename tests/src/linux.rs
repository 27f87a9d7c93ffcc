//! Differential tests against Linux itself: the C programs of
//! `tests/linux/` are compiled static (musl, musl static-PIE, glibc), run
//! on the host and in QEMU through the runner's `--exec`, and the two runs
//! must print the same bytes and end with the same status.
//!
//! - [`binary`]: compiles a program once per test process into
//!   `target/linux-tests/VARIANT/NAME`; a missing compiler or library is a
//!   test failure naming the package to install.
//! - [`run_on_host`] and [`run_in_qemu`]: one run with a clean environment
//!   and the given argv; stdout and stderr together, as the runner's
//!   program channel carries both, and the status a shell would report.
//! - [`assert_same`]: the comparison.

use std::{
    collections::HashMap,
    io::Read,
    os::unix::process::{CommandExt, ExitStatusExt},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::Mutex,
    time::{Duration, Instant},
};

use boot::{Scenario, exec::ExecProgram, image::Firmware, qemu::QemuOptions};
use pager::exec_list::ExecSpec;

use crate::{TIMEOUT, artifacts, broken_elf::Breakage};

/// musl's files on Debian and Ubuntu (package `musl-dev`, which
/// `musl-tools` pulls in).
const MUSL_LIB: &str = "/usr/lib/x86_64-linux-musl";
const MUSL_INCLUDE: &str = "/usr/include/x86_64-linux-musl";

/// How a program is compiled and linked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Variant {
    /// `musl-gcc -static`: linked at a fixed address.
    MuslStatic,
    /// musl static-PIE, linked by hand with `rcrt1.o` (Debian's
    /// `musl-gcc -static-pie` picks the wrong start file).
    MuslStaticPie,
    /// glibc's `gcc -static`.
    GlibcStatic,
}

impl Variant {
    pub const ALL: [Variant; 3] = [Variant::MuslStatic, Variant::MuslStaticPie, Variant::GlibcStatic];

    fn dir(self) -> &'static str {
        match self {
            Variant::MuslStatic => "musl-static",
            Variant::MuslStaticPie => "musl-static-pie",
            Variant::GlibcStatic => "glibc-static",
        }
    }
}

/// Why a test program could not be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BuildError {
    /// A compiler is not installed.
    MissingTool { tool: String, package: &'static str },
    /// A library file is not installed.
    MissingFile { path: PathBuf, package: &'static str },
    /// The compiler refused the program.
    CompileFailed { command: String, stderr: String },
    /// The workspace or the output directory.
    Io(String),
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BuildError::MissingTool { tool, package } => {
                write!(
                    f,
                    "{tool} not found: install it with `apt-get install -y {package}` (or run .ci/setup)"
                )
            }
            BuildError::MissingFile { path, package } => write!(
                f,
                "{} not found: install it with `apt-get install -y {package}` (or run .ci/setup)",
                path.display()
            ),
            BuildError::CompileFailed { command, stderr } => write!(f, "`{command}` failed:\n{stderr}"),
            BuildError::Io(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for BuildError {}

/// The C sources.
fn source_dir() -> Result<PathBuf, BuildError> {
    Ok(boot::workspace_root()
        .map_err(|e| BuildError::Io(e.to_string()))?
        .join("tests/linux"))
}

/// Where the binaries go.
fn output_dir() -> Result<PathBuf, BuildError> {
    Ok(boot::workspace_root()
        .map_err(|e| BuildError::Io(e.to_string()))?
        .join("target/linux-tests"))
}

/// `gcc -print-file-name=NAME`: the path of a file the compiler links, or
/// the bare name when it has none.
fn gcc_file(name: &str) -> Result<PathBuf, BuildError> {
    let out = Command::new("gcc")
        .arg(format!("-print-file-name={name}"))
        .output()
        .map_err(|_| BuildError::MissingTool {
            tool: "gcc".into(),
            package: "gcc",
        })?;
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

fn require(path: PathBuf, package: &'static str) -> Result<PathBuf, BuildError> {
    if path.is_absolute() && path.exists() {
        Ok(path)
    } else {
        Err(BuildError::MissingFile { path, package })
    }
}

/// The compiler command for `src` into `out`.
fn compile_command(variant: Variant, src: &Path, out: &Path) -> Result<Command, BuildError> {
    const FLAGS: &[&str] = &["-O2", "-Wall", "-Wextra", "-Werror"];
    let musl = |file: &str| require(Path::new(MUSL_LIB).join(file), "musl-tools");
    let mut cmd;
    match variant {
        Variant::MuslStatic => {
            cmd = Command::new("musl-gcc");
            cmd.arg("-static").args(FLAGS).arg("-o").arg(out).arg(src);
        }
        Variant::MuslStaticPie => {
            let gcc_include = require(gcc_file("include")?, "gcc")?;
            let libgcc = require(gcc_file("libgcc.a")?, "gcc")?;
            require(Path::new(MUSL_INCLUDE).join("stdio.h"), "musl-tools")?;
            cmd = Command::new("gcc");
            cmd.args(["-fPIE", "-static-pie", "-nostdlib", "-nostartfiles", "-nostdinc"])
                .args(["-isystem", MUSL_INCLUDE, "-isystem"])
                .arg(gcc_include)
                .args(FLAGS)
                .arg(musl("rcrt1.o")?)
                .arg(musl("crti.o")?)
                .arg(src)
                .arg(format!("-L{MUSL_LIB}"))
                .arg("-lc")
                .arg(libgcc)
                .arg(musl("crtn.o")?)
                .arg("-o")
                .arg(out);
        }
        Variant::GlibcStatic => {
            require(gcc_file("libc.a")?, "libc6-dev")?;
            cmd = Command::new("gcc");
            cmd.arg("-static").args(FLAGS).arg("-o").arg(out).arg(src);
        }
    }
    Ok(cmd)
}

fn compile(name: &str, variant: Variant) -> Result<PathBuf, BuildError> {
    let src = source_dir()?.join(format!("{name}.c"));
    let dir = output_dir()?.join(variant.dir());
    std::fs::create_dir_all(&dir).map_err(|e| BuildError::Io(format!("creating {}: {e}", dir.display())))?;
    let out = dir.join(name);
    // Written beside and renamed, so a concurrent reader never runs half a file.
    let partial = dir.join(format!("{name}.partial-{}", std::process::id()));
    let mut cmd = compile_command(variant, &src, &partial)?;
    let tool = cmd.get_program().to_string_lossy().into_owned();
    let described = format!("{cmd:?}");
    let output = cmd.output().map_err(|_| BuildError::MissingTool {
        package: if tool == "musl-gcc" { "musl-tools" } else { "gcc" },
        tool,
    })?;
    if !output.status.success() {
        return Err(BuildError::CompileFailed {
            command: described,
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    std::fs::rename(&partial, &out).map_err(|e| BuildError::Io(format!("renaming {}: {e}", partial.display())))?;
    Ok(out)
}

/// What was compiled in this process, by program and variant.
type Built = HashMap<(String, Variant), Result<PathBuf, BuildError>>;

/// `tests/linux/NAME.c` compiled as `variant` (once per test process).
pub fn try_binary(name: &str, variant: Variant) -> Result<PathBuf, BuildError> {
    static BUILT: Mutex<Option<Built>> = Mutex::new(None);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    built
        .get_or_insert_with(HashMap::new)
        .entry((name.to_string(), variant))
        .or_insert_with(|| compile(name, variant))
        .clone()
}

/// As [`try_binary`], failing the test with the reason.
pub fn binary(name: &str, variant: Variant) -> PathBuf {
    try_binary(name, variant).unwrap_or_else(|e| panic!("building tests/linux/{name}.c ({variant:?}): {e}"))
}

/// A broken copy of the musl-static `stdio_args` (see [`Breakage`]).
pub fn broken_binary(breakage: Breakage) -> PathBuf {
    let base = binary("stdio_args", Variant::MuslStatic);
    let elf = std::fs::read(&base).unwrap_or_else(|e| panic!("reading {}: {e}", base.display()));
    let dir = base.parent().expect("in a directory").with_file_name("broken");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    let path = dir.join(breakage.name());
    // Unique per writer: tests of one process run in parallel threads.
    static WRITERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let writer = WRITERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let partial = dir.join(format!("{}.partial-{}-{writer}", breakage.name(), std::process::id()));
    std::fs::write(&partial, breakage.apply(&elf)).unwrap_or_else(|e| panic!("writing {}: {e}", partial.display()));
    std::fs::set_permissions(&partial, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", partial.display()));
    std::fs::rename(&partial, &path).unwrap_or_else(|e| panic!("renaming {}: {e}", partial.display()));
    path
}

/// What one run printed and how it ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    /// stdout and stderr, in the order they were written.
    pub output: Vec<u8>,
    /// As a shell reports it: the exit code, 128 + a signal, 126 for a
    /// file `execve` refused.
    pub status: u8,
}

impl Run {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.output).into_owned()
    }
}

/// Runs `bin` on the host with exactly `argv` (argv[0] first) and `env`
/// (sorted by name, as `Command` passes it).
pub fn run_on_host(bin: &Path, argv: &[&str], env: &[(&str, &str)]) -> Run {
    let (mut reader, writer) = std::io::pipe().expect("a pipe");
    let mut cmd = Command::new(bin);
    cmd.arg0(argv[0])
        .args(&argv[1..])
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(writer.try_clone().expect("a pipe end"))
        .stderr(writer);
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        // execve refused the file, as a shell reports it.
        Err(e) => {
            let status = if e.kind() == std::io::ErrorKind::NotFound {
                127
            } else {
                126
            };
            return Run {
                output: Vec::new(),
                status,
            };
        }
    };
    // Our copies of the write end go with the command, so the read sees
    // the end of the file when the program exits.
    drop(cmd);
    let reading = std::thread::spawn(move || {
        let mut output = Vec::new();
        let _ = reader.read_to_end(&mut output);
        output
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for the program") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{} {argv:?} ran for more than 60 s on the host", bin.display());
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let output = reading.join().expect("the reader thread");
    let status = match (status.code(), status.signal()) {
        (Some(code), _) => code as u8,
        (None, Some(signal)) => 128 + signal as u8,
        (None, None) => unreachable!("a process ends by exit or by a signal"),
    };
    Run { output, status }
}

/// The environment as `NAME=VALUE` strings sorted by name: the order in
/// which `std::process::Command` passes it on the host.
fn sorted_env(env: &[(&str, &str)]) -> Vec<String> {
    let mut sorted = env.to_vec();
    sorted.sort_by_key(|&(name, _)| name);
    sorted.iter().map(|(k, v)| format!("{k}={v}")).collect()
}

/// Runs `bin` in QEMU through the runner's `--exec` with exactly `argv`
/// and `env`, and returns the program channel and the runner's status.
pub fn run_in_qemu(bin: &Path, argv: &[&str], env: &[(&str, &str)]) -> Run {
    run_in_qemu_on(bin, argv, env, None, "").0
}

/// [`run_in_qemu`] with more boot-line words (`policy=read-ahead`).
pub fn run_in_qemu_with(bin: &Path, argv: &[&str], env: &[(&str, &str)], words: &str) -> Run {
    run_in_qemu_on(bin, argv, env, None, words).0
}

/// [`run_in_qemu`] on QEMU CPU model `cpu` (`None`: `max`) with more
/// command-line words; also returns the log channel.
pub fn run_in_qemu_on(
    bin: &Path,
    argv: &[&str],
    env: &[(&str, &str)],
    cpu: Option<&str>,
    cmdline: &str,
) -> (Run, String) {
    let name = bin.file_name().expect("a file").to_string_lossy().into_owned();
    let path = format!("{}/{name}", boot::exec::RAMDISK_DIR);
    let program = ExecProgram {
        host_file: bin.to_path_buf(),
        spec: ExecSpec {
            path: path.clone(),
            argv: argv.iter().map(|a| a.to_string()).collect(),
            envp: sorted_env(env),
        },
    };
    let variant = bin
        .parent()
        .and_then(Path::file_name)
        .map(|d| d.to_string_lossy().into_owned())
        .unwrap_or_default();
    let args: String = argv[1..]
        .join("_")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let machine: String = cpu
        .unwrap_or("")
        .chars()
        .chain(cmdline.chars())
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let scenario = Scenario {
        name: format!("linux-{variant}-{name}-{args}{machine}"),
        release: false,
        firmware: Firmware::Bios,
        cmdline: format!("log=warn {cmdline}").trim().into(),
        exec: vec![program],
        qemu: QemuOptions {
            timeout: TIMEOUT,
            echo: false,
            cpu: cpu.map_or_else(|| boot::qemu::CPU_MODEL.into(), str::to_string),
            ..QemuOptions::default()
        },
    };
    let result = boot::run_built(artifacts(), &scenario).unwrap_or_else(|e| panic!("{}: {e}", scenario.name));
    println!(
        "---- log of {} ----\n{}---- {:?} ----",
        scenario.name, result.log, result.outcome
    );
    let status =
        boot::exit::status(&result, &[path]).unwrap_or_else(|e| panic!("{}: no program status: {e}", scenario.name));
    (
        Run {
            output: result.console,
            status,
        },
        result.log,
    )
}

/// Asserts the two runs printed the same bytes and ended the same way.
pub fn assert_same(linux: &Run, ours: &Run) {
    assert_eq!(
        linux.text(),
        ours.text(),
        "the output differs (left: Linux, right: QEMU)"
    );
    assert_eq!(
        linux.status, ours.status,
        "the status differs (left: Linux, right: QEMU)"
    );
}

/// Runs `programs` (a host file and its argv each) one after another in
/// one boot with the kernel command line `cmdline`; returns the program
/// output and each program's status as a shell reports it, in order. A
/// file given twice is packed under a second name.
pub fn run_all_in_qemu(name: &str, programs: &[(&Path, &[&str])], cmdline: &str) -> (String, Vec<u8>) {
    let dir = std::env::temp_dir().join(format!("linux-tests-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let mut exec = Vec::new();
    for (i, (bin, argv)) in programs.iter().enumerate() {
        let file = bin.file_name().expect("a file").to_string_lossy().into_owned();
        let copy = dir.join(format!("{file}-{i}"));
        std::fs::copy(bin, &copy).expect("copying the program");
        exec.push(ExecProgram {
            host_file: copy,
            spec: ExecSpec {
                path: format!("{}/{file}-{i}", boot::exec::RAMDISK_DIR),
                argv: argv.iter().map(|a| a.to_string()).collect(),
                envp: Vec::new(),
            },
        });
    }
    let scenario = Scenario {
        name: format!("linux-{name}"),
        release: false,
        firmware: Firmware::Bios,
        cmdline: cmdline.into(),
        exec,
        qemu: QemuOptions {
            timeout: TIMEOUT,
            echo: false,
            ..QemuOptions::default()
        },
    };
    let result = boot::run_built(artifacts(), &scenario).unwrap_or_else(|e| panic!("{}: {e}", scenario.name));
    let console = String::from_utf8_lossy(&result.console).into_owned();
    println!(
        "---- log of {} ----\n{}---- {:?} ----\n---- output ----\n{console}",
        scenario.name, result.log, result.outcome
    );
    let reports = boot::exit::reports(&result.log).unwrap_or_else(|e| panic!("{}: {e:?}", scenario.name));
    let statuses = reports.iter().map(|r| r.status.shell_status()).collect();
    let _ = std::fs::remove_dir_all(&dir);
    (console, statuses)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_library_names_its_package() {
        let err = require(PathBuf::from("/nonexistent/rcrt1.o"), "musl-tools").unwrap_err();
        assert_eq!(
            err,
            BuildError::MissingFile {
                path: "/nonexistent/rcrt1.o".into(),
                package: "musl-tools"
            }
        );
        assert!(err.to_string().contains("apt-get install -y musl-tools"), "{err}");
        // `gcc -print-file-name` answers the bare name for a file it lacks.
        let err = require(PathBuf::from("libc.a"), "libc6-dev").unwrap_err();
        assert!(err.to_string().contains("apt-get install -y libc6-dev"), "{err}");
    }

    #[test]
    fn a_missing_compiler_names_its_package() {
        let err = BuildError::MissingTool {
            tool: "musl-gcc".into(),
            package: "musl-tools",
        };
        assert_eq!(
            err.to_string(),
            "musl-gcc not found: install it with `apt-get install -y musl-tools` (or run .ci/setup)"
        );
    }

    #[test]
    fn a_program_that_does_not_compile_is_reported_with_the_compiler_output() {
        let err = compile("no_such_program", Variant::MuslStatic).unwrap_err();
        match &err {
            BuildError::CompileFailed { stderr, .. } => assert!(stderr.contains("no_such_program.c"), "{stderr}"),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn an_unexecutable_file_is_status_126_as_in_a_shell() {
        let run = run_on_host(
            Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")),
            &["x"],
            &[],
        );
        assert_eq!(
            run,
            Run {
                output: vec![],
                status: 126
            }
        );
        let run = run_on_host(Path::new("/nonexistent/program"), &["x"], &[]);
        assert_eq!(run.status, 127);
    }
}
