//! `--policy` is checked against the registry before the guest is built,
//! so a typo costs no build and says what the known names are.

use std::process::Command;

#[test]
fn an_unknown_policy_is_refused_with_the_known_names() {
    let out = Command::new(env!("CARGO_BIN_EXE_boot"))
        .args(["--policy", "nope"])
        .output()
        .expect("the runner starts");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("boot: error: unknown policy \"nope\" (known: default, fault-around, diagnostic, read-ahead"),
        "{stderr}"
    );
}
