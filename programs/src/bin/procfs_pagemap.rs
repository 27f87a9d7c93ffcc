//! Reads its own pagemap without SeTcbPrivilege: PFNs must read as zero.
#![no_std]
#![no_main]

runtime::entry!(main);

fn main(_pid: u64) -> i64 {
    programs::pagemap("procfs_pagemap", false)
}
