//! The clock page (vvar), `runtime::time` and the kernel's sleep, from a
//! native program: clocks read without a kernel entry, the wall time
//! against the host's, sleeping and waking.

use std::time::{SystemTime, UNIX_EPOCH};

use tests::{assert_line, assert_no_line, assert_success, boot};

fn host_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64
}

#[test]
fn native_clocks_read_the_clock_page() {
    let start = host_seconds();
    let r = boot("clock_probe", "log=info run=clock_probe");
    let end = host_seconds();
    assert_success(&r);
    assert_no_line(&r, "FAILED");
    assert_line(&r, "kernel entries during the loop: 0");
    assert_line(&r, "clock: TSC ");
    let real: i64 = r
        .serial
        .lines()
        .find_map(|l| l.split("realtime seconds: ").nth(1))
        .and_then(|s| s.trim().parse().ok())
        .expect("the probe prints the wall time");
    // The RTC is read once at boot (QEMU starts it at the host's UTC time,
    // to the second), then the TSC carries it.
    assert!(
        real >= start - 2 && real <= end + 2,
        "guest wall time {real} outside the host's [{start}, {end}] +- 2 s"
    );
}
