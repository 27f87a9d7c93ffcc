//! The low-integrity client of `imp_server`: one call, whose answer says
//! whether the server's checks under impersonation passed.
#![no_std]
#![no_main]

use libipc::{short::ShortMessage, sys};
use programs::{check, verdict};

runtime::entry!(main);

fn main(_arg: u64) -> i64 {
    let Ok(server) = runtime::pager::service("imp_server") else {
        return verdict("imp_client", false);
    };
    let answer = sys::call_short(server, &ShortMessage::label(0));
    runtime::println!("imp_client: server answered {answer:?}");
    let ok = check("the server's checks passed", answer.is_ok_and(|m| m.label == 1));
    verdict("imp_client", ok)
}
