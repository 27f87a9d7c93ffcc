//! Reads its own pagemap holding SeTcbPrivilege (`run=procfs_pagemap_tcb@admin:high:t`):
//! PFNs must be real.
#![no_std]
#![no_main]

runtime::entry!(main);

fn main(_pid: u64) -> i64 {
    programs::pagemap("procfs_pagemap_tcb", true)
}
