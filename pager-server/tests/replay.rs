//! The host mode end to end: `pager-host` runs as a separate process and
//! `pager-replay` drives it with a trace, as a developer would.

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    thread,
    time::{Duration, Instant},
};

/// A host pager on a private socket, killed when dropped.
struct Host {
    child: Child,
    dir: PathBuf,
}

impl Host {
    fn start(name: &str, args: &[&str]) -> Host {
        let dir = std::env::temp_dir().join(format!("pager-replay-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let socket = dir.join("pager.sock");
        let child = Command::new(env!("CARGO_BIN_EXE_pager-host"))
            .arg("--socket")
            .arg(&socket)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pager-host starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while !socket.exists() {
            assert!(Instant::now() < deadline, "pager-host did not create its socket");
            thread::sleep(Duration::from_millis(20));
        }
        Host { child, dir }
    }

    fn socket(&self) -> PathBuf {
        self.dir.join("pager.sock")
    }

    /// Runs `pager-replay` on `trace`: its exit code and standard output.
    fn replay(&self, trace: &str) -> (i32, String) {
        let path = self.dir.join("trace.txt");
        fs::write(&path, trace).unwrap();
        replay_file(&self.socket(), &path)
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn replay_file(socket: &Path, trace: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pager-replay"))
        .arg("--socket")
        .arg(socket)
        .arg(trace)
        .output()
        .expect("pager-replay runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

const TRACE: &str = "\
# anonymous memory, fault-around, protection, brk, limits
mmap 0 0x10000 rw- private,anonymous
fault $+0x2000 write
fault $ read
mprotect $ 0x1000 r--
fault $ write
brk 0
brk $+0x3000
fault $-8 write
mmap 0x1000 0x1000 r-- private,fixed,anonymous
fault 0x10 read
setrlimit stack 0x100000 0x100000
setrlimit stack 0x100000 0x200000
munmap 0x10000 0
";

#[test]
fn the_diagnostic_policy_replays_deterministically() {
    let host = Host::start("diag", &["--policy", "diagnostic"]);
    let (code, first) = host.replay(TRACE);
    assert_eq!(code, 0, "{first}");
    // No randomization: the PIE base and heap are Linux's fixed ones.
    assert!(
        first.contains("555555554000-555555555000 r--p 00000000 00:00 1"),
        "{first}"
    );
    assert!(first.contains("   7: brk 0 -> = 0x55555555b000"), "{first}");
    // One page per fault.
    assert!(first.contains("   3: fault $+0x2000 write -> map 1 page\n"), "{first}");
    assert!(first.contains("   4: fault $ read -> map 1 page\n"), "{first}");
    assert!(first.contains("   6: fault $ write -> kill protection"), "{first}");
    assert!(
        first.contains("  10: mmap 0x1000 0x1000 r-- private,fixed,anonymous -> = -1 EPERM (1)"),
        "{first}"
    );
    assert!(first.contains("  11: fault 0x10 read -> kill no-mapping"), "{first}");
    assert!(
        first.contains("  12: setrlimit stack 0x100000 0x100000 -> = 0"),
        "{first}"
    );
    assert!(
        first.contains("  13: setrlimit stack 0x100000 0x200000 -> = -1 EPERM (1)"),
        "{first}"
    );
    assert!(first.contains("  14: munmap 0x10000 0 -> = -1 EINVAL (22)"), "{first}");
    // Final maps in /proc/<pid>/maps format.
    let maps = first.split("final maps:\n").nth(1).expect("final maps printed");
    for name in ["/bin/host-demo", "[heap]", "[stack]", "[vdso]", "[vvar]"] {
        assert!(
            maps.lines().any(|l| l.len() > 73 && &l[73..] == name),
            "{name} missing:\n{maps}"
        );
    }
    assert!(
        maps.lines()
            .all(|l| l.len() >= 26 && l.as_bytes()[l.find(' ').unwrap() + 5] == b' ')
    );
    // A second process (a new connection) gets exactly the same layout.
    let (_, second) = host.replay(TRACE);
    assert_eq!(first, second);
}

#[test]
fn fault_around_maps_the_window_and_aslr_moves_processes() {
    let host = Host::start("around", &["--policy", "fault-around", "--seed", "7"]);
    let trace = "mmap 0 0x40000 rw- private,anonymous\nfault $ write\nresident $ 0x40000\n";
    let (code, first) = host.replay(trace);
    assert_eq!(code, 0, "{first}");
    let mapped: usize = first
        .lines()
        .find_map(|l| {
            l.strip_prefix("   2: fault $ write -> map ")?
                .split(' ')
                .next()?
                .parse()
                .ok()
        })
        .expect("a map decision");
    assert!((1..=16).contains(&mapped), "{first}");
    assert!(
        first.contains(&format!("   3: resident $ 0x40000 -> = {mapped} pages")),
        "{first}"
    );
    // Each connection is a new process with its own randomized layout.
    let (_, second) = host.replay(trace);
    let first_mmap = first.lines().next().unwrap_or_default();
    assert_ne!(
        first_mmap,
        second.lines().next().unwrap_or_default(),
        "ASLR moved nothing"
    );
}

#[test]
fn the_example_trace_replays() {
    let host = Host::start("example", &["--policy", "fault-around"]);
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../pager/traces/example.trace");
    let (code, out) = replay_file(&host.socket(), &example);
    assert_eq!(code, 0, "{out}");
    for expect in [
        "kill protection",
        "kill no-mapping",
        "-1 EPERM (1)",
        "-1 EINVAL (22)",
        "file 0x2000+0x1000",
    ] {
        assert!(out.contains(expect), "{expect:?} missing:\n{out}");
    }
    assert!(out.contains("final maps:\n"), "{out}");
}

#[test]
fn a_bad_trace_is_refused_with_its_line() {
    let host = Host::start("bad", &[]);
    let path = host.dir.join("bad.txt");
    fs::write(&path, "maps\nmmap 0 1 rwz private,anonymous\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_pager-replay"))
        .arg("--socket")
        .arg(host.socket())
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(":2: bad protection"));
}

#[test]
fn an_unknown_policy_is_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_pager-host"))
        .args(["--socket", "/nonexistent/x.sock", "--policy", "nope"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unknown policy \"nope\" (known: default, fault-around, diagnostic, read-ahead"),
        "{stderr}"
    );
}
