//! Prints the kernel's memory accounting (free frames, heap bytes in use)
//! in one line: the leak test runs it before and after hundreds of short
//! programs and compares the two lines.
#![no_std]
#![no_main]

runtime::entry!(main);

fn main(_arg: u64) -> i64 {
    match libipc::sys::kernel_info() {
        Ok(info) => {
            runtime::println!(
                "leak_probe: kernel free frames {} of {}, heap bytes in use {}",
                info.free_frames.0,
                info.total_frames.0,
                info.heap_bytes
            );
            0
        }
        Err(e) => {
            runtime::println!("leak_probe: kernel_info failed: {e:?}");
            1
        }
    }
}
