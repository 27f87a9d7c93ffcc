//! A hostile pager (boot with `pager=hostile_pager`): asks the kernel to map
//! kernel frames, kernel-half addresses, writable+executable pages and
//! misaligned addresses, and answers a fault with garbage. Every request must
//! be refused with nothing mapped, and the kernel must keep running.
#![no_std]
#![no_main]

use libipc::{
    abi::{MapFlags, MessageKind, PagerBootInfo, Rights, SysError, SyscallRoutes, caps, pager_layout},
    kernel::{
        FaultReply, KernelEvent, KernelKill, KillReason, MAX_FAULT_MAPPINGS, Mapping, SegmentBaseSet, SyscallReply,
        reply_label,
    },
    short::ShortMessage,
    sys,
    types::{CapSlot, PageCount, PhysAddr, Pid, VirtAddr},
};
use programs::check;

runtime::entry!(main);

/// The clock page the kernel maps into every root pager.
fn clock_page() -> &'static vvar::VvarData {
    // SAFETY: the kernel maps its clock page read-only at VVAR before the
    // pager starts; VvarData is all atomics, written under its counter.
    unsafe { &*(pager_layout::VVAR as *const vvar::VvarData) }
}

/// The user address the child is started at (nothing is mapped there).
const CHILD_ENTRY: u64 = 0x40_0000;
const CHILD_STACK: u64 = 0x7fff_0000;

fn refused(name: &str, got: Result<(), SysError>, want: SysError) -> bool {
    if got != Err(want) {
        runtime::println!("  {name}: got {got:?}, want {want:?}");
    }
    check(name, got == Err(want))
}

fn main(arg: u64) -> i64 {
    // SAFETY: the kernel maps the boot information read-only at the address
    // it passes as our argument, before we run.
    let info = unsafe { (arg as *const PagerBootInfo).read() };
    let mut ok = check(
        "boot info magic",
        info.magic == PagerBootInfo::MAGIC && arg == pager_layout::BOOT_INFO,
    );
    let pool = PhysAddr(info.pool_phys);
    // The frame just below the pool is the kernel's own (its frame reserve).
    let kernel_frame = PhysAddr(info.pool_phys - 4096);
    let Ok(endpoint) = sys::endpoint_create() else {
        return programs::verdict("hostile_pager", false);
    };
    let Ok(child) = sys::space_create() else {
        return programs::verdict("hostile_pager", false);
    };
    ok &= capability_checks(child, endpoint);
    ok &= huge_checks(&info, child);
    let user = VirtAddr(0x1000_0000);
    ok &= refused(
        "map a kernel frame",
        sys::map(child, user, kernel_frame, MapFlags::WRITE),
        SysError::FrameNotOwned,
    );
    ok &= refused(
        "map physical page 0",
        sys::map(child, user, PhysAddr(0), MapFlags::WRITE),
        SysError::FrameNotOwned,
    );
    ok &= refused(
        "map at a kernel-half address",
        sys::map(child, VirtAddr(0xffff_8000_0000_0000), pool, MapFlags::WRITE),
        SysError::BadAddress,
    );
    // The user range ends where the kernel's paging width says: 2^47 or,
    // with 5 levels, 2^56 (less a page).
    let user_end = libipc::types::user_end(info.paging_levels).0;
    ok &= refused(
        "map at the first non-canonical address",
        sys::map(child, VirtAddr(user_end + 4096), pool, MapFlags::WRITE),
        SysError::BadAddress,
    );
    ok &= refused(
        "map at a non-canonical address with either width",
        sys::map(child, VirtAddr(0x0100_0000_0000_0000), pool, MapFlags::WRITE),
        SysError::BadAddress,
    );
    ok &= refused(
        "map the last page of the lower half",
        sys::map(child, VirtAddr(user_end), pool, MapFlags::EXEC),
        SysError::BadAddress,
    );
    ok &= refused(
        "map writable+executable without asking",
        sys::map(child, user, pool, MapFlags::WRITE.union(MapFlags::EXEC)),
        SysError::WritableExecutable,
    );
    // The kernel's zero frame: any pager may map it, never writable.
    match sys::zero_frame() {
        Ok(zero) => {
            ok &= refused(
                "map the zero frame writable",
                sys::map(child, user, zero, MapFlags::WRITE),
                SysError::NotPermitted,
            );
            ok &= refused(
                "map the zero frame writable and executable, asking",
                sys::map(
                    child,
                    user,
                    zero,
                    MapFlags::WRITE.union(MapFlags::EXEC).union(MapFlags::ALLOW_WX),
                ),
                SysError::NotPermitted,
            );
            ok &= check(
                "map the zero frame read-only",
                sys::map(child, user, zero, MapFlags::default()).is_ok(),
            );
            ok &= check(
                "unmap the zero frame",
                sys::unmap(child, user, PageCount(1)) == Ok(PageCount(1)),
            );
        }
        Err(e) => {
            runtime::println!("  the zero frame: {e:?}");
            ok &= check("the zero frame", false);
        }
    }
    ok &= refused(
        "map misaligned virtual",
        sys::map(child, VirtAddr(0x1000_0008), pool, MapFlags::WRITE),
        SysError::InvalidArgument,
    );
    ok &= refused(
        "map misaligned frame",
        sys::map(child, user, PhysAddr(pool.0 + 8), MapFlags::WRITE),
        SysError::InvalidArgument,
    );
    ok &= refused(
        "map unknown flag bits",
        sys::map(child, user, pool, MapFlags(1 << 40)),
        SysError::InvalidArgument,
    );
    ok &= refused(
        "map into a space we do not page",
        sys::map(Pid(1), user, pool, MapFlags::WRITE),
        SysError::NotPermitted,
    );
    ok &= refused(
        "map into a missing space",
        sys::map(Pid(9999), user, pool, MapFlags::WRITE),
        SysError::NoSuchObject,
    );
    ok &= check(
        "writable+executable when asked explicitly",
        sys::map(
            child,
            user,
            pool,
            MapFlags::WRITE.union(MapFlags::EXEC).union(MapFlags::ALLOW_WX),
        )
        .is_ok(),
    );
    let other = PhysAddr(pool.0 + 3 * 4096);
    ok &= refused(
        "map over a page mapped to another frame",
        sys::map(child, user, other, MapFlags::WRITE),
        SysError::AlreadyMapped,
    );
    ok &= check(
        "re-map with REPLACE",
        sys::map(child, user, other, MapFlags::WRITE.union(MapFlags::REPLACE)).is_ok(),
    );
    ok &= check(
        "unmap reports the pages that were present",
        sys::unmap(child, user, libipc::types::PageCount(4)) == Ok(libipc::types::PageCount(1)),
    );
    ok &= refused(
        "unmap a misaligned address",
        sys::unmap(child, VirtAddr(user.0 + 1), libipc::types::PageCount(1)).map(|_| ()),
        SysError::InvalidArgument,
    );
    ok &= refused(
        "unmap into the kernel half",
        sys::unmap(child, VirtAddr(user_end), libipc::types::PageCount(2)).map(|_| ()),
        SysError::BadAddress,
    );

    // A child that faults at once: nothing is mapped at its entry point.
    let started = sys::thread_start(child, VirtAddr(CHILD_ENTRY), VirtAddr(CHILD_STACK), 0, endpoint);
    ok &= check("thread start", started.is_ok());
    let mut buf = [0u8; 512];
    let Ok(msg) = sys::recv(endpoint, &mut buf) else {
        return programs::verdict("hostile_pager", false);
    };
    let event = KernelEvent::from_message(msg.kind, &msg.short);
    ok &= check(
        "fault event from the child",
        msg.kind == MessageKind::Fault && matches!(event, Some(KernelEvent::Fault(_))),
    );
    runtime::println!("hostile_pager: child fault {:?}", event);
    ok &= refused(
        "fault reply with an unknown label",
        sys::reply_short(&ShortMessage::label(0xdead)),
        SysError::Malformed,
    );
    ok &= refused(
        "byte reply to a fault",
        sys::reply(&[0xff, 0xff, 0xff]),
        SysError::Malformed,
    );
    ok &= refused(
        "an emulated fault reply with a kernel-half rip",
        sys::reply_short(
            &libipc::kernel::FaultReply::Emulate {
                rax: 0,
                rip: 0xffff_8000_0000_0000,
                rsp: 0,
            }
            .to_message(),
        ),
        SysError::BadAddress,
    );
    ok &= refused(
        "batch larger than the limit",
        sys::reply_short(&ShortMessage::new(
            reply_label::RESUME_BATCH,
            [buf.as_ptr() as u64, MAX_FAULT_MAPPINGS as u64 + 1, 0, 0],
        )),
        SysError::Malformed,
    );
    ok &= refused(
        "batch in kernel memory",
        sys::reply_short(&ShortMessage::new(
            reply_label::RESUME_BATCH,
            [0xffff_ffff_8000_0000, 1, 0, 0],
        )),
        SysError::BadAddress,
    );
    ok &= refused(
        "kill with an unknown reason",
        sys::reply_short(&ShortMessage::new(reply_label::KILL, [99, 0, 0, 0])),
        SysError::Malformed,
    );
    let kernel_page = [Mapping {
        virt: VirtAddr(CHILD_ENTRY),
        phys: kernel_frame,
        flags: MapFlags::EXEC,
    }];
    ok &= refused(
        "fault reply mapping a kernel frame",
        sys::reply_short(&FaultReply::Resume(&kernel_page).to_message()),
        SysError::FrameNotOwned,
    );
    // 2 MiB pages in a fault reply: validated as `Map` validates them.
    let huge_frame = PhysAddr(first_huge_frame(&info));
    let huge_reply = |phys: PhysAddr, flags: MapFlags| Mapping {
        virt: VirtAddr(CHILD_ENTRY),
        phys,
        flags: flags.union(MapFlags::HUGE),
    };
    ok &= refused(
        "fault reply with an unaligned huge frame",
        sys::reply_short(
            &FaultReply::Resume(&[huge_reply(PhysAddr(huge_frame.0 + 4096), MapFlags::EXEC)]).to_message(),
        ),
        SysError::InvalidArgument,
    );
    ok &= refused(
        "fault reply with a foreign huge frame",
        sys::reply_short(
            &FaultReply::Resume(&[huge_reply(PhysAddr(below_pool_huge(&info)), MapFlags::EXEC)]).to_message(),
        ),
        SysError::FrameNotOwned,
    );
    let huge_and_small = [
        huge_reply(huge_frame, MapFlags::EXEC),
        Mapping {
            virt: VirtAddr(CHILD_ENTRY + HUGE),
            phys: PhysAddr(pool.0 + 4096),
            flags: MapFlags::WRITE,
        },
    ];
    ok &= refused(
        "fault reply with a huge page in a batch",
        sys::reply_short(&FaultReply::Resume(&huge_and_small).to_message()),
        SysError::InvalidArgument,
    );
    let half_bad = [
        Mapping {
            virt: VirtAddr(CHILD_ENTRY),
            phys: PhysAddr(pool.0 + 4096),
            flags: MapFlags::EXEC,
        },
        Mapping {
            virt: VirtAddr(0xffff_ffff_8000_0000),
            phys: PhysAddr(pool.0 + 8192),
            flags: MapFlags::WRITE,
        },
    ];
    ok &= refused(
        "fault reply with one kernel-half mapping",
        sys::reply_short(&FaultReply::Resume(&half_bad).to_message()),
        SysError::BadAddress,
    );
    // The refused batch mapped nothing: the good half must not be there.
    ok &= refused(
        "nothing of a refused batch was mapped",
        sys::unmap(child, VirtAddr(CHILD_ENTRY), libipc::types::PageCount(1))
            .and_then(|n| if n.0 == 0 { Err(SysError::NoSuchObject) } else { Ok(()) }),
        SysError::NoSuchObject,
    );
    let kill = FaultReply::Kill(KillReason::NoMapping).to_message();
    ok &= check("kill the child", sys::reply_short(&kill).is_ok());
    ok &= refused(
        "reply after the reply right is used",
        sys::reply_short(&kill),
        SysError::NotWaiting,
    );
    ok &= dropped_fault_kills(endpoint, child);
    ok &= linux_forwarding(endpoint, pool);
    runtime::println!("hostile_pager: every hostile request was refused; the kernel is still running");
    let verdict = programs::verdict("hostile_pager", ok);
    sys::shutdown(if verdict == 0 {
        libipc::abi::ExitStatus::Success
    } else {
        libipc::abi::ExitStatus::Failure
    })
}

/// Bytes of a 2 MiB page.
const HUGE: u64 = libipc::types::HUGE_PAGE_SIZE;

/// The second 2 MiB-aligned frame of the pool (the first may hold the
/// pool frames the other checks use).
fn first_huge_frame(info: &PagerBootInfo) -> u64 {
    info.pool_phys.next_multiple_of(HUGE) + HUGE
}

/// A 2 MiB-aligned frame starting below the pool: the kernel's.
fn below_pool_huge(info: &PagerBootInfo) -> u64 {
    (info.pool_phys - 1) & !(HUGE - 1)
}

/// 2 MiB pages (`MapFlags::HUGE`): virtual address and frame 2 MiB-aligned,
/// all 512 frames the pager's, inside the user half, no W+X unasked; a
/// 4 KiB unmap inside one splits it, and the rest stays mapped.
fn huge_checks(info: &PagerBootInfo, child: Pid) -> bool {
    use libipc::types::PageCount;
    let frame = PhysAddr(first_huge_frame(info));
    let pool_end = info.pool_phys + info.pool_frames * 4096;
    let at = VirtAddr(0x4000_0000);
    let huge = |flags: MapFlags| flags.union(MapFlags::HUGE);
    let mut ok = refused(
        "huge map at an unaligned address",
        sys::map(child, VirtAddr(at.0 + 4096), frame, huge(MapFlags::WRITE)),
        SysError::InvalidArgument,
    );
    ok &= refused(
        "huge map of an unaligned frame",
        sys::map(child, at, PhysAddr(frame.0 + 4096), huge(MapFlags::WRITE)),
        SysError::InvalidArgument,
    );
    ok &= refused(
        "huge map of a kernel frame",
        sys::map(child, at, PhysAddr(below_pool_huge(info)), huge(MapFlags::WRITE)),
        SysError::FrameNotOwned,
    );
    ok &= refused(
        "huge map running past the pool",
        sys::map(child, at, PhysAddr(pool_end & !(HUGE - 1)), huge(MapFlags::WRITE)),
        SysError::FrameNotOwned,
    );
    let user_end = libipc::types::user_end(info.paging_levels).0;
    ok &= refused(
        "huge map over the end of the user half",
        sys::map(child, VirtAddr(user_end & !(HUGE - 1)), frame, huge(MapFlags::WRITE)),
        SysError::BadAddress,
    );
    ok &= refused(
        "huge map writable+executable without asking",
        sys::map(child, at, frame, huge(MapFlags::WRITE.union(MapFlags::EXEC))),
        SysError::WritableExecutable,
    );
    ok &= check("a huge map", sys::map(child, at, frame, huge(MapFlags::WRITE)).is_ok());
    ok &= refused(
        "huge map over a huge page of another frame",
        sys::map(child, at, PhysAddr(frame.0 + HUGE), huge(MapFlags::WRITE)),
        SysError::AlreadyMapped,
    );
    ok &= check(
        "unmap of one page of a huge page splits it",
        sys::unmap(child, VirtAddr(at.0 + 5 * 4096), PageCount(1)) == Ok(PageCount(1)),
    );
    ok &= check(
        "the rest of a split huge page stays mapped",
        sys::unmap(child, at, PageCount(512)) == Ok(PageCount(511)),
    );
    ok &= check(
        "a huge map where an empty table was",
        sys::map(child, at, frame, huge(MapFlags::WRITE)).is_ok(),
    );
    ok &= check(
        "unmap of a whole huge page",
        sys::unmap(child, at, PageCount(512)) == Ok(PageCount(512)),
    );
    let small = VirtAddr(at.0 + HUGE);
    ok &= check(
        "a small page where a huge one may go",
        sys::map(child, small, PhysAddr(info.pool_phys), MapFlags::WRITE).is_ok(),
    );
    ok &= refused(
        "huge map over a small page",
        sys::map(child, small, frame, huge(MapFlags::WRITE)),
        SysError::AlreadyMapped,
    );
    ok &= check(
        "huge map over a small page with REPLACE",
        sys::map(child, small, frame, huge(MapFlags::WRITE.union(MapFlags::REPLACE))).is_ok()
            && sys::unmap(child, small, PageCount(512)) == Ok(PageCount(512)),
    );
    ok
}

/// Capabilities: a pager grants only what it holds, only into a process it
/// pages, only into an empty slot; a fault endpoint needs `RECV`.
fn capability_checks(child: Pid, endpoint: CapSlot) -> bool {
    let send_only = sys::cap_copy(endpoint, Rights::SEND);
    let mut ok = check("copy with fewer rights", send_only.is_ok());
    let send_only = send_only.unwrap_or(CapSlot(u32::MAX));
    ok &= refused(
        "copy with more rights than held",
        sys::cap_copy(send_only, Rights::ALL).map(|_| ()),
        SysError::MissingRight,
    );
    ok &= refused(
        "copy with undefined rights",
        sys::cap_copy(endpoint, Rights(0x80)).map(|_| ()),
        SysError::InvalidArgument,
    );
    ok &= refused(
        "grant from a slot without GRANT",
        sys::cap_grant(child, send_only, CapSlot(5), Rights::SEND),
        SysError::MissingRight,
    );
    ok &= refused(
        "grant into a process we do not page",
        sys::cap_grant(Pid(1), endpoint, CapSlot(5), Rights::SEND),
        SysError::NotPermitted,
    );
    ok &= refused(
        "grant from an empty slot",
        sys::cap_grant(child, CapSlot(30), CapSlot(5), Rights::SEND),
        SysError::NoCapability,
    );
    ok &= check(
        "grant a send right",
        sys::cap_grant(child, endpoint, caps::PAGER, Rights::SEND).is_ok(),
    );
    ok &= refused(
        "grant into a full slot",
        sys::cap_grant(child, endpoint, caps::PAGER, Rights::SEND),
        SysError::AlreadyExists,
    );
    ok &= refused(
        "grant past the table",
        sys::cap_grant(child, endpoint, CapSlot(libipc::abi::CAP_SLOTS), Rights::SEND),
        SysError::NoCapability,
    );
    ok &= refused(
        "fault endpoint without RECV",
        sys::thread_start(child, VirtAddr(CHILD_ENTRY), VirtAddr(CHILD_STACK), 0, send_only).map(|_| ()),
        SysError::MissingRight,
    );
    ok &= check("drop a capability", sys::cap_drop(send_only).is_ok());
    ok &= refused("drop an empty slot", sys::cap_drop(send_only), SysError::NoCapability);
    ok
}

/// A pager that receives again without answering a fault drops it: the
/// kernel kills the faulting process and says so, and nothing waits
/// forever.
fn dropped_fault_kills(endpoint: CapSlot, dead: Pid) -> bool {
    let Ok(child) = sys::space_create() else {
        return check("second child", false);
    };
    // The second child takes the dead one's table slot under a new
    // generation: the old pid must not reach it.
    let mut ok = check("a new process gets a new pid", child != dead);
    ok &= refused(
        "a stale pid names nothing",
        sys::unmap(dead, VirtAddr(CHILD_ENTRY), libipc::types::PageCount(1)).map(|_| ()),
        SysError::NoSuchObject,
    );
    ok &= check(
        "second child started",
        sys::thread_start(child, VirtAddr(CHILD_ENTRY), VirtAddr(CHILD_STACK), 0, endpoint).is_ok(),
    );
    let mut buf = [0u8; 512];
    ok &= check(
        "second child faults",
        sys::recv(endpoint, &mut buf).is_ok_and(|m| m.kind == MessageKind::Fault),
    );
    ok &= refused(
        "a refused fault reply",
        sys::reply_short(&ShortMessage::label(0xdead)),
        SysError::Malformed,
    );
    // Receive again, holding the fault's reply right: the kernel kills the
    // child and its end report is the next message.
    let report = sys::recv(endpoint, &mut buf).map(|m| KernelEvent::from_message(m.kind, &m.short));
    runtime::println!("hostile_pager: after the dropped fault: {report:?}");
    ok &= check(
        "the dropped fault killed its process",
        report
            == Ok(Some(KernelEvent::Killed {
                pid: child,
                cause: KernelKill::FaultNotAnswered,
            })),
    );
    ok
}

/// A Linux-personality child: its `syscall`s arrive here as forwarded
/// calls; bad answers are refused and change nothing, the call's reply
/// right lends the child's memory, and a good answer sets rax, the FS base
/// and rip.
fn linux_forwarding(endpoint: CapSlot, pool: PhysAddr) -> bool {
    // Its code: `syscall; syscall; jmp $`, in a pool frame we fill through
    // our window of the pool.
    const CODE: [u8; 6] = [0x0f, 0x05, 0x0f, 0x05, 0xeb, 0xfe];
    const CODE_FRAME: u64 = 20;
    let frame = PhysAddr(pool.0 + CODE_FRAME * 4096);
    let window = (pager_layout::POOL_WINDOW + CODE_FRAME * 4096) as *mut u8;
    // SAFETY: pool frame CODE_FRAME is ours, mapped writable at this window
    // address, and no other mapping uses it yet.
    unsafe { core::ptr::copy_nonoverlapping(CODE.as_ptr(), window, CODE.len()) };
    let Ok(child) = sys::space_create_linux(&SyscallRoutes([u64::MAX; 8])) else {
        return check("linux child", false);
    };
    let mut ok = check(
        "map the linux child's code",
        sys::map(child, VirtAddr(CHILD_ENTRY), frame, MapFlags::EXEC).is_ok(),
    );
    ok &= check(
        "start the linux child",
        sys::thread_start(child, VirtAddr(CHILD_ENTRY), VirtAddr(CHILD_STACK), 0, endpoint).is_ok(),
    );
    let mut buf = [0u8; 512];
    let first = sys::recv(endpoint, &mut buf).ok().and_then(|m| m.syscall());
    ok &= check(
        "its syscall arrives forwarded",
        first.is_some_and(|c| c.number == 0 && c.args == [0; 6]),
    );
    ok &= refused(
        "a syscall answered with an unknown label",
        sys::reply_short(&ShortMessage::label(0xdead)),
        SysError::Malformed,
    );
    ok &= refused(
        "a syscall answered with a kernel-half rip",
        sys::reply_short(
            &SyscallReply {
                rip: Some(0xffff_8000_0000_0000),
                ..SyscallReply::value(0)
            }
            .to_message(),
        ),
        SysError::BadAddress,
    );
    ok &= refused(
        "a syscall answered with a non-canonical FS base",
        sys::reply_short(
            &SyscallReply {
                base: Some(SegmentBaseSet::Fs(0x8000_0000_0000_0000)),
                ..SyscallReply::value(0)
            }
            .to_message(),
        ),
        SysError::InvalidArgument,
    );
    let mut code = [0u8; 2];
    ok &= check(
        "the call lends the caller's memory",
        sys::lease_read(CHILD_ENTRY, &mut code) == Ok(2) && code == [0x0f, 0x05],
    );
    ok &= refused(
        "but not its unmapped memory",
        sys::lease_read(0x5000_0000, &mut code).map(|_| ()),
        SysError::BadAddress,
    );
    ok &= refused(
        "nor beyond the user half",
        sys::lease_read(0xffff_8000_0000_0000, &mut code).map(|_| ()),
        SysError::LeaseBounds,
    );
    ok &= page_bits_checks(child, pool);
    ok &= check(
        "a good answer",
        sys::reply_short(
            &SyscallReply {
                base: Some(SegmentBaseSet::Fs(0x1234_0000)),
                ..SyscallReply::value(42)
            }
            .to_message(),
        )
        .is_ok(),
    );
    // The second syscall's number is the rax we answered.
    let second = sys::recv(endpoint, &mut buf).ok().and_then(|m| m.syscall());
    ok &= check("rax was set", second.is_some_and(|c| c.number == 42));
    // Resume at the first `syscall` again, after sleeping 50 ms: its next
    // call (number 7, the rax we answer) arrives no sooner.
    let clock = clock_page();
    let now = || clock.clock_ns(vvar::ClockId::Monotonic).unwrap_or(0);
    let asleep = now();
    ok &= check(
        "an answer that moves rip",
        sys::reply_short(
            &SyscallReply {
                rip: Some(CHILD_ENTRY),
                ..SyscallReply::sleep(7, asleep + 50_000_000)
            }
            .to_message(),
        )
        .is_ok(),
    );
    let third = sys::recv(endpoint, &mut buf).ok().and_then(|m| m.syscall());
    let slept = now() - asleep;
    runtime::println!("hostile_pager: the linux child slept {} ms", slept / 1_000_000);
    ok &= check(
        "a sleeping answer parks the caller until its deadline",
        third.is_some_and(|c| c.number == 7) && slept >= 50_000_000,
    );
    // Park it for 10 s and end it meanwhile: the kernel drops the sleeper.
    ok &= check(
        "park the linux child for 10 s",
        sys::reply_short(&SyscallReply::sleep(0, now() + 10_000_000_000).to_message()).is_ok(),
    );
    ok &= check("end the linux child", sys::space_destroy(child).is_ok());
    // Nothing else runs now: the kernel halts until the tick that wakes us.
    let start = now();
    sys::sleep_until(start + 30_000_000);
    ok &= check("the pager sleeps 30 ms", now() - start >= 30_000_000);
    ok
}

/// `PageBits` while the Linux child is stopped in its first `syscall`:
/// what the CPU recorded (its code page was fetched, not written), that
/// clearing works, that the kernel's own copies into a page mark it dirty,
/// that a new protection for the same frame keeps the bits, and that bad
/// arguments are refused.
fn page_bits_checks(child: Pid, pool: PhysAddr) -> bool {
    use libipc::{
        abi::PageBitsClear,
        sys::{PageBits, Unmapped},
        types::PageCount,
    };
    const DATA: u64 = 0x6000_0000;
    const DATA_FRAME: u64 = 21;
    let code = VirtAddr(CHILD_ENTRY);
    let one = PageCount(1);
    let mut ok = check(
        "page bits of a fetched page",
        sys::page_bits(child, code, one, PageBitsClear::ACCESSED)
            == Ok(PageBits {
                present: 1,
                accessed: 1,
                dirty: 0,
            }),
    );
    ok &= check(
        "page bits after clearing accessed",
        sys::page_bits(child, code, PageCount(2), PageBitsClear::NONE)
            == Ok(PageBits {
                present: 1,
                accessed: 0,
                dirty: 0,
            }),
    );
    let data = VirtAddr(DATA);
    ok &= check(
        "map a data page",
        sys::map(child, data, PhysAddr(pool.0 + DATA_FRAME * 4096), MapFlags::WRITE).is_ok(),
    );
    ok &= check(
        "a fresh page is neither accessed nor dirty",
        sys::page_bits(child, data, one, PageBitsClear::NONE)
            == Ok(PageBits {
                present: 1,
                accessed: 0,
                dirty: 0,
            }),
    );
    let written = sys::lease_write(DATA + 8, &[1, 2, 3]) == Ok(3);
    let dirty = PageBits {
        present: 1,
        accessed: 1,
        dirty: 1,
    };
    ok &= check(
        "a lease write marks the page dirty",
        written && sys::page_bits(child, data, one, PageBitsClear::NONE) == Ok(dirty),
    );
    ok &= check(
        "a new protection for the same frame keeps the bits",
        sys::map(
            child,
            data,
            PhysAddr(pool.0 + DATA_FRAME * 4096),
            MapFlags::WRITE.union(MapFlags::REPLACE),
        )
        .is_ok()
            && sys::page_bits(child, data, one, PageBitsClear::ACCESSED.union(PageBitsClear::DIRTY)) == Ok(dirty),
    );
    ok &= check(
        "clearing both bits",
        sys::page_bits(child, data, one, PageBitsClear::NONE)
            == Ok(PageBits {
                present: 1,
                ..PageBits::default()
            }),
    );
    let rewritten = sys::lease_write(DATA + 8, &[4]) == Ok(1);
    ok &= check(
        "unmap-clean leaves a dirty page",
        rewritten && sys::unmap_clean(child, data, 1) == Ok(Unmapped { unmapped: 0, dirty: 1 }),
    );
    let cleaned = sys::page_bits(child, data, one, PageBitsClear::DIRTY).is_ok();
    ok &= check(
        "unmap-clean unmaps a clean page",
        cleaned
            && sys::unmap_clean(child, data, 0b11) == Ok(Unmapped { unmapped: 1, dirty: 0 })
            && sys::page_bits(child, data, one, PageBitsClear::NONE) == Ok(PageBits::default()),
    );
    for (name, got, want) in [
        (
            "unmap-clean of no page",
            sys::unmap_clean(child, data, 0),
            SysError::InvalidArgument,
        ),
        (
            "unmap-clean misaligned",
            sys::unmap_clean(child, VirtAddr(DATA + 8), 1),
            SysError::InvalidArgument,
        ),
        (
            "unmap-clean in the kernel half",
            sys::unmap_clean(child, VirtAddr(0xffff_8000_0000_0000), 1),
            SysError::BadAddress,
        ),
        (
            "unmap-clean of a space we do not page",
            sys::unmap_clean(Pid(1), data, 1),
            SysError::NotPermitted,
        ),
    ] {
        ok &= refused(name, got.map(|_| ()), want);
    }
    let clear = PageBitsClear::NONE;
    for (name, got, want) in [
        (
            "page bits of no page",
            sys::page_bits(child, data, PageCount(0), clear),
            SysError::InvalidArgument,
        ),
        (
            "page bits of 65 pages",
            sys::page_bits(child, data, PageCount(65), clear),
            SysError::InvalidArgument,
        ),
        (
            "page bits misaligned",
            sys::page_bits(child, VirtAddr(DATA + 8), one, clear),
            SysError::InvalidArgument,
        ),
        (
            "page bits with unknown bits to clear",
            sys::page_bits(child, data, one, PageBitsClear(4)),
            SysError::InvalidArgument,
        ),
        (
            "page bits in the kernel half",
            sys::page_bits(child, VirtAddr(0xffff_8000_0000_0000), one, clear),
            SysError::BadAddress,
        ),
        (
            "page bits of a space we do not page",
            sys::page_bits(Pid(1), data, one, clear),
            SysError::NotPermitted,
        ),
        (
            "page bits of no space",
            sys::page_bits(Pid(9999), data, one, clear),
            SysError::NoSuchObject,
        ),
    ] {
        ok &= refused(name, got.map(|_| ()), want);
    }
    ok
}
