//! System calls with hostile arguments: kernel-half, non-canonical, unmapped
//! and overflowing pointers, unknown numbers, pager-only calls. Each must be
//! refused with the right error while the kernel keeps running.
#![no_std]
#![no_main]

use libipc::{
    abi::{Rights, SegmentBase, SysError, Syscall, caps},
    pager::{Errno, response_from_short},
    short::ShortMessage,
    sys,
    types::{CapSlot, PageCount, PhysAddr, Pid, VirtAddr},
};
use programs::{check, verdict};

runtime::entry!(main);

const KERNEL_HALF: u64 = 0xffff_8000_0000_0000;
const NON_CANONICAL: u64 = 0xdead_beef_0000_0000;
/// Canonical, user half, never mapped in this program.
const UNMAPPED: u64 = 0x0000_6000_0000_0000;

fn refused(name: &str, result: Result<(u64, u64, u64), SysError>, want: SysError) -> bool {
    let ok = result == Err(want);
    if !ok {
        runtime::println!("  {name}: got {result:?}, want {want:?}");
    }
    check(name, ok)
}

fn raw(call: Syscall, args: [u64; 6]) -> Result<(u64, u64, u64), SysError> {
    sys::raw_syscall(call as u64, args)
}

fn main(_arg: u64) -> i64 {
    let mut ok = true;
    for (name, ptr) in [
        ("debug_write kernel-half pointer", KERNEL_HALF),
        ("debug_write non-canonical pointer", NON_CANONICAL),
        ("debug_write unmapped pointer", UNMAPPED),
    ] {
        ok &= refused(
            name,
            raw(Syscall::DebugWrite, [ptr, 8, 0, 0, 0, 0]),
            SysError::BadAddress,
        );
    }
    ok &= refused(
        "debug_write range wrapping around",
        raw(Syscall::DebugWrite, [u64::MAX - 16, 64, 0, 0, 0, 0]),
        SysError::BadAddress,
    );
    ok &= refused(
        "debug_write huge length",
        raw(Syscall::DebugWrite, [0x40_0000, 1 << 40, 0, 0, 0, 0]),
        SysError::InvalidArgument,
    );
    let text = b"trace";
    ok &= refused(
        "debug_write to the trace channel (the root pager's alone)",
        raw(
            Syscall::DebugWrite,
            [text.as_ptr() as u64, 5, libipc::abi::DEBUG_WRITE_TRACE, 0, 0, 0],
        ),
        SysError::NotPermitted,
    );
    ok &= refused(
        "debug_write to the trace channel and the log at once",
        raw(
            Syscall::DebugWrite,
            [
                text.as_ptr() as u64,
                5,
                libipc::abi::DEBUG_WRITE_TRACE | libipc::abi::DEBUG_WRITE_LOG,
                0,
                0,
                0,
            ],
        ),
        SysError::InvalidArgument,
    );
    let reply = [0u8; 64];
    let ep = u64::from(caps::PAGER.0);
    ok &= refused(
        "call with kernel-half message",
        raw(Syscall::Call, [ep, KERNEL_HALF, 8, reply.as_ptr() as u64, 64, 0]),
        SysError::BadAddress,
    );
    ok &= refused(
        "call with non-canonical reply buffer",
        raw(Syscall::Call, [ep, reply.as_ptr() as u64, 1, NON_CANONICAL, 64, 0]),
        SysError::BadAddress,
    );
    ok &= refused(
        "call with unmapped reply buffer",
        raw(Syscall::Call, [ep, reply.as_ptr() as u64, 1, UNMAPPED, 64, 0]),
        SysError::BadAddress,
    );
    ok &= refused(
        "call with read-only reply buffer",
        raw(
            Syscall::Call,
            [ep, reply.as_ptr() as u64, 1, main as *const () as u64, 64, 0],
        ),
        SysError::BadAddress,
    );
    ok &= refused(
        "call with oversized message",
        raw(
            Syscall::Call,
            [ep, reply.as_ptr() as u64, 4096, reply.as_ptr() as u64, 64, 0],
        ),
        SysError::MessageTooLarge,
    );
    ok &= refused(
        "call through an empty slot",
        raw(
            Syscall::Call,
            [20, reply.as_ptr() as u64, 1, reply.as_ptr() as u64, 64, 0],
        ),
        SysError::NoCapability,
    );
    ok &= refused(
        "recv on the pager's endpoint (send right only)",
        raw(Syscall::Recv, [ep, reply.as_ptr() as u64, 64, 0, 0, 0]),
        SysError::MissingRight,
    );
    ok &= refused(
        "reply-recv on the pager's endpoint",
        raw(Syscall::ReplyRecv, [ep, reply.as_ptr() as u64, 64, 0, 0, 0]),
        SysError::MissingRight,
    );
    ok &= refused(
        "unknown system call",
        sys::raw_syscall(999, [0; 6]),
        SysError::NoSuchCall,
    );
    ok &= refused(
        "reply without a reply right",
        raw(Syscall::Reply, [reply.as_ptr() as u64, 1, 0, 0, 0, 0]),
        SysError::NotWaiting,
    );
    ok &= refused(
        "short reply without a reply right",
        sys::reply_short(&ShortMessage::label(1)).map(|()| (0, 0, 0)),
        SysError::NotWaiting,
    );
    ok &= refused(
        "lease read without a reply right",
        sys::lease_read(0, &mut [0u8; 8]).map(|_| (0, 0, 0)),
        SysError::NotWaiting,
    );
    ok &= refused(
        "impersonate without a reply right",
        sys::impersonate(true).map(|()| (0, 0, 0)),
        SysError::NotWaiting,
    );
    ok &= refused(
        "impersonate with a bad argument",
        raw(Syscall::Impersonate, [7, 0, 0, 0, 0, 0]),
        SysError::InvalidArgument,
    );
    ok &= check("revert when not impersonating", sys::impersonate(false).is_ok());
    ok &= refused(
        "short call through an empty slot",
        sys::call_short(CapSlot(31), &ShortMessage::label(1)).map(|_| (0, 0, 0)),
        SysError::NoCapability,
    );
    ok &= refused(
        "short call through an out-of-range slot",
        sys::call_short(CapSlot(u32::MAX), &ShortMessage::label(1)).map(|_| (0, 0, 0)),
        SysError::NoCapability,
    );
    ok &= refused(
        "pager-only grant",
        sys::cap_grant(Pid(1), caps::PAGER, CapSlot(9), Rights::SEND).map(|()| (0, 0, 0)),
        SysError::NotPermitted,
    );
    ok &= refused(
        "copy the pager's send right with RECV",
        sys::cap_copy(caps::PAGER, Rights::SEND.union(Rights::RECV)).map(|_| (0, 0, 0)),
        SysError::MissingRight,
    );
    // An endpoint of our own: a new slot with every right, usable at once.
    match sys::endpoint_create() {
        Ok(own) => {
            ok &= check("own endpoint in a fresh slot", own != caps::PAGER);
            ok &= check(
                "drop own endpoint",
                sys::cap_drop(own).is_ok() && sys::cap_drop(own) == Err(SysError::NoCapability),
            );
        }
        Err(e) => {
            runtime::println!("  endpoint_create: {e:?}");
            ok &= check("endpoint_create", false);
        }
    }
    // The pager answers a short request it cannot read with EINVAL.
    ok &= check(
        "short call with an unknown label",
        sys::call_short(caps::PAGER, &ShortMessage::label(0xbad))
            .is_ok_and(|m| response_from_short(&m) == Some(Err(Errno::Invalid))),
    );
    // Pager-only calls.
    ok &= check(
        "space_create refused",
        sys::space_create() == Err(SysError::NotPermitted),
    );
    ok &= check(
        "map refused",
        sys::map(Pid(1), VirtAddr(0x1000), PhysAddr(0x1000), Default::default()) == Err(SysError::NotPermitted),
    );
    ok &= check(
        "unmap refused",
        sys::unmap(Pid(1), VirtAddr(0x40_0000), PageCount(1)) == Err(SysError::NotPermitted),
    );
    ok &= check(
        "thread_start refused",
        sys::thread_start(Pid(1), VirtAddr(0x40_0000), VirtAddr(0x1000), 0, caps::PAGER) == Err(SysError::NotPermitted),
    );
    ok &= check(
        "space_destroy refused",
        sys::space_destroy(Pid(1)) == Err(SysError::NotPermitted),
    );
    ok &= check(
        "shutdown refused",
        raw(Syscall::Shutdown, [0, 0, 0, 0, 0, 0]) == Err(SysError::NotPermitted),
    );
    // Segment bases: wrmsr of a non-canonical base would #GP in the kernel.
    for (name, which, base) in [
        ("segment base non-canonical", 0, NON_CANONICAL),
        ("segment base in the kernel half", 1, KERNEL_HALF),
        // Refused with either paging width (2^56 is past the 5-level end).
        (
            "segment base at the end of user space",
            0,
            libipc::types::USER_END_LA57.0,
        ),
        ("segment base 2^56 (non-canonical)", 1, 1 << 56),
        ("segment base u64::MAX", 0, u64::MAX),
        ("unknown segment base", 2, 0x1000),
    ] {
        ok &= refused(
            name,
            raw(Syscall::SetSegmentBase, [which, base, 0, 0, 0, 0]),
            SysError::InvalidArgument,
        );
    }
    ok &= check(
        "segment base of the last user page accepted",
        sys::set_segment_base(SegmentBase::Gs, VirtAddr(libipc::types::USER_END.0 - 4096)) == Ok(()),
    );
    ok &= check(
        "segment base reset to 0",
        sys::set_segment_base(SegmentBase::Gs, VirtAddr(0)) == Ok(()),
    );
    runtime::println!("bad_syscalls: the kernel is still running");
    verdict("bad_syscalls", ok)
}
