//! The kernel's own guarantees: it validates every pager request and every
//! system-call argument, and survives all of them.

use tests::{assert_line, assert_success, boot};

#[test]
fn hostile_pager_requests_are_refused() {
    let r = boot("hostile_pager", "log=info pager=hostile_pager");
    assert_success(&r);
    for check in [
        "[map a kernel frame] ok",
        "[map physical page 0] ok",
        "[map at a kernel-half address] ok",
        "[map at a non-canonical address] ok",
        "[map writable+executable without asking] ok",
        "[map misaligned virtual] ok",
        "[map into a space we do not page] ok",
        "[garbage fault reply] ok",
        "[fault reply mapping a kernel frame] ok",
        "[fault reply with one kernel-half mapping] ok",
        "[nothing of a refused batch was mapped] ok",
        "[kill the child] ok",
    ] {
        assert_line(&r, check);
    }
    assert_line(&r, "hostile_pager: PASS");
}
