//! The two serial channels: program output on COM2, the log on COM1.

use tests::{assert_success, boot};

#[test]
fn program_output_and_the_log_travel_apart() {
    let r = boot("console_split", "log=info run=hello");
    assert_success(&r);
    let console = String::from_utf8_lossy(&r.console);
    assert!(console.contains("hello from user mode"), "{console:?}");
    assert!(
        !console.contains("kernel]"),
        "the kernel's log on the program channel: {console:?}"
    );
    assert!(
        !console.contains("pager ]"),
        "the pager's log on the program channel: {console:?}"
    );
    assert!(r.log.contains("[INFO  kernel] command line:"), "{}", r.log);
    assert!(r.log.contains("[INFO  pager ] started hello"), "{}", r.log);
    assert!(
        !r.log.contains("hello from user mode"),
        "program output on the log: {}",
        r.log
    );
    // The interleaved whole has both.
    assert!(r.serial.contains("hello from user mode") && r.serial.contains("[INFO  kernel]"));
}
