//! A high-integrity service (boot with `service=procfs@system:system:td,
//! imp_server@system:high`) that serves one call by impersonating its
//! caller: while it acts for a low-integrity client, procfs checks the
//! client's token, so the server may not read its own `/proc/self/mem`;
//! after reverting it may again. It answers the caller with the verdict.
#![no_std]
#![no_main]

use libipc::{
    abi::caps,
    procfs::{Error, PidSelector, ProcFile},
    short::ShortMessage,
    sys,
};
use programs::check;

runtime::entry!(main);

/// Something in our memory to read back through /proc/self/mem.
static SECRET: [u8; 8] = *b"imp_srv!";

fn read_own_secret() -> Result<[u8; 8], Error> {
    let mut buf = [0u8; 8];
    let n = runtime::procfs::read(PidSelector::Self_, ProcFile::Mem, SECRET.as_ptr() as u64, &mut buf)?;
    if n == buf.len() { Ok(buf) } else { Err(Error::Io) }
}

fn main(_arg: u64) -> i64 {
    let mut ok = check("reads its own mem as itself", read_own_secret() == Ok(SECRET));
    let mut buf = [0u8; 64];
    let Ok(call) = sys::recv(caps::SERVICE, &mut buf) else {
        return 1;
    };
    runtime::println!("imp_server: serving process {}", call.sender.pid.0);
    ok &= check("impersonate the caller", sys::impersonate(true).is_ok());
    let as_client = read_own_secret();
    runtime::println!("imp_server: own mem while impersonating: {as_client:?}");
    ok &= check(
        "refused its own mem while acting for a low-integrity client",
        as_client == Err(Error::AccessDenied),
    );
    ok &= check("revert", sys::impersonate(false).is_ok());
    ok &= check(
        "reads its own mem again after reverting",
        read_own_secret() == Ok(SECRET),
    );
    ok &= check(
        "answer the caller",
        sys::reply_short(&ShortMessage::label(u64::from(ok))).is_ok(),
    );
    programs::verdict("imp_server", ok)
}
