#![no_std]
#![no_main]

runtime::entry!(main, heap = 1 << 20);

fn main(_arg: u64) -> i64 {
    runtime::println!("pager: hello");
    libipc::sys::shutdown(libipc::abi::ExitStatus::Success)
}
