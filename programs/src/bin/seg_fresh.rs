//! Segment state, second half (`run=seg_dirty,seg_fresh`): a new process
//! starts with null selectors and zero FS and GS bases, whatever the
//! process before it left loaded.
#![no_std]
#![no_main]

use libipc::types::Prot;
use programs::{check, mmap_fixed, segments, verdict};

runtime::entry!(main);

/// Where `seg_dirty` mapped its buffer (and pointed its bases one page in).
const BUF: u64 = 0x6000_0000;

fn main(_pid: u64) -> i64 {
    // First thing: nothing of this program has touched a segment register.
    let selectors = segments::selectors();
    runtime::println!("seg_fresh: selectors at start {selectors:#x?}");
    let mut ok = check("null selectors at start", selectors == [0; 4]);
    if mmap_fixed(BUF, 8192, Prot::RW).is_err() {
        return verdict("seg_fresh", false);
    }
    // SAFETY: both pages were just mapped read-write.
    unsafe {
        (BUF as *mut u64).write_volatile(0xaaaa);
        ((BUF + 4096) as *mut u64).write_volatile(0xbbbb);
    }
    // With zero bases these read the first page; with the previous
    // program's bases, the second.
    // SAFETY: both candidate addresses are mapped.
    let (fs, gs) = unsafe { (segments::read_fs(BUF), segments::read_gs(BUF)) };
    runtime::println!("seg_fresh: fs:[{BUF:#x}] = {fs:#x}, gs:[{BUF:#x}] = {gs:#x}");
    ok &= check("zero FS base at start", fs == 0xaaaa);
    ok &= check("zero GS base at start", gs == 0xaaaa);
    verdict("seg_fresh", ok)
}
