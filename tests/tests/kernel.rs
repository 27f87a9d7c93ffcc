//! The kernel's own guarantees: it validates every pager request and every
//! system-call argument, and survives all of them.

use boot::qemu::Outcome;
use tests::{assert_line, assert_no_line, assert_success, boot};

#[test]
fn hostile_pager_requests_are_refused() {
    let r = boot("hostile_pager", "log=info pager=hostile_pager");
    assert_success(&r);
    for check in [
        "[map a kernel frame] ok",
        "[map physical page 0] ok",
        "[map at a kernel-half address] ok",
        "[map at the first non-canonical address] ok",
        "[map at a non-canonical address with either width] ok",
        "[map the last page of the lower half] ok",
        "[map writable+executable without asking] ok",
        "[map misaligned virtual] ok",
        "[map into a space we do not page] ok",
        "[map over a page mapped to another frame] ok",
        "[re-map with REPLACE] ok",
        "[unmap reports the pages that were present] ok",
        "[unmap into the kernel half] ok",
        "[fault reply with an unknown label] ok",
        "[byte reply to a fault] ok",
        "[an emulated fault reply with a kernel-half rip] ok",
        "[batch larger than the limit] ok",
        "[batch in kernel memory] ok",
        "[kill with an unknown reason] ok",
        "[fault reply mapping a kernel frame] ok",
        "[fault reply with one kernel-half mapping] ok",
        "[nothing of a refused batch was mapped] ok",
        // 2 MiB pages.
        "[huge map at an unaligned address] ok",
        "[huge map of an unaligned frame] ok",
        "[huge map of a kernel frame] ok",
        "[huge map running past the pool] ok",
        "[huge map over the end of the user half] ok",
        "[huge map writable+executable without asking] ok",
        "[a huge map] ok",
        "[huge map over a huge page of another frame] ok",
        "[unmap of one page of a huge page splits it] ok",
        "[the rest of a split huge page stays mapped] ok",
        "[a huge map where an empty table was] ok",
        "[unmap of a whole huge page] ok",
        "[a small page where a huge one may go] ok",
        "[huge map over a small page] ok",
        "[huge map over a small page with REPLACE] ok",
        "[fault reply with an unaligned huge frame] ok",
        "[fault reply with a foreign huge frame] ok",
        "[fault reply with a huge page in a batch] ok",
        "[kill the child] ok",
        "[reply after the reply right is used] ok",
        // Capabilities.
        "[copy with fewer rights] ok",
        "[copy with more rights than held] ok",
        "[copy with undefined rights] ok",
        "[grant from a slot without GRANT] ok",
        "[grant into a process we do not page] ok",
        "[grant from an empty slot] ok",
        "[grant a send right] ok",
        "[grant into a full slot] ok",
        "[grant past the table] ok",
        "[fault endpoint without RECV] ok",
        "[drop a capability] ok",
        "[drop an empty slot] ok",
        // A dropped fault reply right kills the faulting process.
        "[a refused fault reply] ok",
        "[the dropped fault killed its process] ok",
        // Slots are reused under new generations.
        "[a new process gets a new pid] ok",
        "[a stale pid names nothing] ok",
        // The Linux personality's forwarding.
        "[its syscall arrives forwarded] ok",
        "[a syscall answered with an unknown label] ok",
        "[a syscall answered with a kernel-half rip] ok",
        "[a syscall answered with a non-canonical FS base] ok",
        "[the call lends the caller's memory] ok",
        "[but not its unmapped memory] ok",
        "[nor beyond the user half] ok",
        // Accessed and dirty bits, for a pager's reclaim.
        "[page bits of a fetched page] ok",
        "[page bits after clearing accessed] ok",
        "[map a data page] ok",
        "[a fresh page is neither accessed nor dirty] ok",
        "[a lease write marks the page dirty] ok",
        "[a new protection for the same frame keeps the bits] ok",
        "[clearing both bits] ok",
        "[unmap-clean leaves a dirty page] ok",
        "[unmap-clean unmaps a clean page] ok",
        "[unmap-clean of no page] ok",
        "[unmap-clean misaligned] ok",
        "[unmap-clean in the kernel half] ok",
        "[unmap-clean of a space we do not page] ok",
        "[page bits of no page] ok",
        "[page bits of 65 pages] ok",
        "[page bits misaligned] ok",
        "[page bits with unknown bits to clear] ok",
        "[page bits in the kernel half] ok",
        "[page bits of a space we do not page] ok",
        "[page bits of no space] ok",
        "[a good answer] ok",
        "[rax was set] ok",
        "[an answer that moves rip] ok",
        "[a sleeping answer parks the caller until its deadline] ok",
        "[park the linux child for 10 s] ok",
        "[end the linux child] ok",
        "[the pager sleeps 30 ms] ok",
    ] {
        assert_line(&r, check);
    }
    assert_line(&r, "hostile_pager: PASS");
}

#[test]
fn a_fault_in_the_pager_is_reported_loudly() {
    // Any program started as the pager: this one reads address 0.
    let r = boot("pager_fault", "log=info pager=fault_null");
    assert_eq!(r.outcome, Outcome::PagerDied, "{}", r.outcome.describe());
    assert_line(&r, "PAGER FAULT");
}

#[test]
fn a_kernel_panic_is_a_distinct_failure() {
    let r = boot("kernel_panic", "log=info pager=no_such_pager");
    assert_eq!(r.outcome, Outcome::KernelPanic, "{}", r.outcome.describe());
    assert_line(
        &r,
        "KERNEL PANIC: pager binary \"no_such_pager\" not found in the ramdisk",
    );
}

#[test]
fn bad_system_call_arguments_get_errors() {
    let r = boot("bad_syscalls", "log=info run=bad_syscalls,hello");
    assert_success(&r);
    for check in [
        "[debug_write kernel-half pointer] ok",
        "[debug_write non-canonical pointer] ok",
        "[debug_write unmapped pointer] ok",
        "[debug_write to the trace channel (the root pager's alone)] ok",
        "[debug_write to the trace channel and the log at once] ok",
        "[call with kernel-half message] ok",
        "[call with non-canonical reply buffer] ok",
        "[call with unmapped reply buffer] ok",
        "[call through an empty slot] ok",
        "[recv on the pager's endpoint (send right only)] ok",
        "[reply-recv on the pager's endpoint] ok",
        "[reply without a reply right] ok",
        "[short reply without a reply right] ok",
        "[lease read without a reply right] ok",
        "[impersonate without a reply right] ok",
        "[impersonate with a bad argument] ok",
        "[revert when not impersonating] ok",
        "[short call through an empty slot] ok",
        "[short call through an out-of-range slot] ok",
        "[pager-only grant] ok",
        "[copy the pager's send right with RECV] ok",
        "[own endpoint in a fresh slot] ok",
        "[drop own endpoint] ok",
        "[short call with an unknown label] ok",
        "[space_create refused] ok",
        "[map refused] ok",
        "[shutdown refused] ok",
        "[segment base non-canonical] ok",
        "[segment base in the kernel half] ok",
        "[segment base at the end of user space] ok",
        "[segment base 2^56 (non-canonical)] ok",
        "[segment base u64::MAX] ok",
        "[unknown segment base] ok",
        "[segment base of the last user page accepted] ok",
        "[segment base reset to 0] ok",
    ] {
        assert_line(&r, check);
    }
    assert_line(&r, "bad_syscalls: PASS");
    // The kernel kept running the next program.
    assert_line(&r, "hello from user mode");
}

#[test]
fn the_timer_preempts_a_spinning_program() {
    // Two programs that never make a system call while they spin: both must
    // have started before either finishes, which only preemption allows.
    let r = boot("preemption", "log=info run=spin+spin");
    assert_success(&r);
    let lines: Vec<&str> = r.serial.lines().collect();
    let starts: Vec<usize> = (0..lines.len()).filter(|&i| lines[i].contains("spin: start")).collect();
    let first_done = lines
        .iter()
        .position(|l| l.contains("spin: done"))
        .expect("a spin finished");
    assert_eq!(starts.len(), 2, "both spinners start");
    assert!(
        starts[1] < first_done,
        "the second spinner started only after the first finished: no preemption"
    );
}

#[test]
fn a_failing_program_fails_the_run() {
    let r = boot("fail", "log=info run=fail,hello");
    assert_eq!(r.outcome, Outcome::Failure, "{}", r.outcome.describe());
    assert_line(&r, "fail: exiting with code 1");
    // The next program still ran; the verdict comes at the end.
    assert_line(&r, "hello from user mode");
    assert_line(&r, "1 exited with an error");
}

#[test]
fn callers_of_a_server_that_dies_get_clear_errors() {
    let r = boot("dying_server", "log=info service=dying_server run=dying_client");
    assert_success(&r);
    for check in [
        "[a dropped call gets NotAnswered] ok",
        "[a call held by a dying server gets ServerGone] ok",
        "[a call after the server died gets ServerGone] ok",
        "[a byte call after the server died gets ServerGone] ok",
        "[a service that was never started is not found] ok",
    ] {
        assert_line(&r, check);
    }
    assert_line(&r, "service dying_server (process");
    assert_line(&r, "dying_client: PASS");
}

#[test]
fn a_page_table_hog_is_killed_and_the_rest_runs_on() {
    // hello runs beside the hog; demand_paging after it, as its checks
    // count the pool's free frames, which the hog's end changes.
    let r = boot("pt_hog", "log=info run=pt_hog+hello,demand_paging");
    assert_success(&r);
    assert_line(
        &r,
        "killed by the kernel: its page tables reached the per-process limit",
    );
    assert_line(
        &r,
        "(pt_hog) killed by the kernel: its page tables reached the per-process limit",
    );
    assert_no_line(&r, "the kernel did not stop it");
    assert_line(&r, "hello from user mode");
    assert_line(&r, "demand_paging: PASS");
}

#[test]
fn no_program_can_stand_in_for_a_server() {
    let r = boot(
        "squatter",
        "log=info service=procfs@system:system:td run=squatter+procfs_self@alice",
    );
    assert_success(&r);
    for check in [
        "[no slot receives] ok",
        "[procfs's send right cannot become a receive right] ok",
        "[no grant to itself] ok",
        "[its own endpoint is its own] ok",
    ] {
        assert_line(&r, check);
    }
    assert_line(&r, "squatter: PASS");
    assert_line(&r, "procfs_self: PASS");
}

#[test]
fn an_impersonating_server_gets_its_clients_rights() {
    let r = boot(
        "impersonation",
        "log=info service=procfs@system:system:td,imp_server@system:high run=imp_client@alice:low",
    );
    assert_success(&r);
    for check in [
        "[reads its own mem as itself] ok",
        "[impersonate the caller] ok",
        "[refused its own mem while acting for a low-integrity client] ok",
        "[revert] ok",
        "[reads its own mem again after reverting] ok",
        "[the server's checks passed] ok",
    ] {
        assert_line(&r, check);
    }
    assert_line(&r, "imp_server: PASS");
    assert_line(&r, "imp_client: PASS");
}

#[test]
fn the_fuzzer_cannot_crash_or_hang_the_kernel() {
    let r = boot("fuzz", "log=info service=procfs run=fuzz,hello");
    assert_success(&r);
    assert_line(&r, "fuzz: 50000 calls made");
    assert_line(&r, "[faults and requests are still served] ok");
    assert_line(&r, "fuzz: PASS");
    assert_line(&r, "hello from user mode");
    assert_no_line(&r, "KERNEL PANIC");
}

/// The kernel's memory is back where it was after 300 programs: process,
/// thread and endpoint slots are reused and every page table is freed.
#[test]
fn three_hundred_programs_leak_no_kernel_memory() {
    let r = boot(
        "leak",
        "log=info aslr=0 service=procfs run=hello*3,leak_probe,hello*300,leak_probe",
    );
    assert_success(&r);
    let probes: Vec<&str> = r
        .serial
        .lines()
        .filter_map(|l| l.split_once("leak_probe: ").map(|(_, rest)| rest))
        .collect();
    assert_eq!(probes.len(), 2, "two probes ran: {probes:?}");
    assert_eq!(probes[0], probes[1], "kernel memory before and after 300 programs");
    assert_eq!(
        r.serial.matches("hello from user mode").count(),
        303,
        "every program ran"
    );
}

#[test]
fn rflags_nt_from_user_mode_does_not_reach_the_kernel() {
    // Both programs set NT and yield to each other: every switch between
    // them leaves the kernel through iretq, which faults in ring 0 if the
    // kernel kept the user's NT.
    let r = boot("entry_nt", "log=info run=entry_nt+entry_nt");
    assert_no_line(&r, "KERNEL PANIC");
    assert_success(&r);
    assert_line(&r, "[NT is cleared on the way back to user mode] ok");
    assert_line(&r, "[AC and DF (user flags) are kept] ok");
}

#[test]
fn the_kernel_does_not_run_with_the_user_direction_flag() {
    // Six copies fault at once, so faults queue while the pager works and
    // the kernel's queues grow on the fault path.
    let r = boot(
        "entry_df",
        "log=info run=entry_df+entry_df+entry_df+entry_df+entry_df+entry_df,hello",
    );
    assert_no_line(&r, "KERNEL PANIC");
    assert_success(&r);
    let passes = r.serial.lines().filter(|l| l.contains("entry_df: PASS"));
    assert_eq!(passes.count(), 6, "every copy passes");
    assert_line(&r, "[every page holds what was written, and zeros] ok");
    assert_line(&r, "[data on the stack intact] ok");
    assert_line(&r, "entry_df: a system call made with DF set");
    assert_line(&r, "hello from user mode");
}

#[test]
fn segment_state_does_not_leak_into_the_next_process() {
    let r = boot("seg_fresh", "log=info run=seg_dirty,seg_fresh");
    assert_success(&r);
    assert_line(&r, "[own selectors and bases survive yields] ok");
    assert_line(&r, "[null selectors at start] ok");
    assert_line(&r, "[zero FS base at start] ok");
    assert_line(&r, "[zero GS base at start] ok");
}

#[test]
fn fs_and_gs_bases_are_per_thread() {
    let r = boot("seg_tls", "log=info run=seg_tls+seg_tls");
    assert_success(&r);
    let passes = r
        .serial
        .lines()
        .filter(|l| l.contains("[own FS and GS base and selectors after every yield] ok"));
    assert_eq!(passes.count(), 2, "both programs keep their own bases");
}
