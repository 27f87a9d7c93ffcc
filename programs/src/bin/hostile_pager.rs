//! A hostile pager (boot with `pager=hostile_pager`): asks the kernel to map
//! kernel frames, kernel-half addresses, writable+executable pages and
//! misaligned addresses, and answers a fault with garbage. Every request must
//! be refused with nothing mapped, and the kernel must keep running.
#![no_std]
#![no_main]

use libipc::{
    abi::{MapFlags, MessageKind, PAGER_ENDPOINT, PagerBootInfo, SysError, pager_layout},
    kernel::{FaultReply, KernelEvent, KillReason, MAX_FAULT_MAPPINGS, Mapping, reply_label},
    short::ShortMessage,
    sys,
    types::{PhysAddr, Pid, VirtAddr},
};
use programs::check;

runtime::entry!(main);

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
    ok &= check("endpoint", sys::endpoint_create(PAGER_ENDPOINT).is_ok());
    let Ok(child) = sys::space_create() else {
        return programs::verdict("hostile_pager", false);
    };
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
    ok &= refused(
        "map at a non-canonical address",
        sys::map(child, VirtAddr(0x0000_8000_0000_0000), pool, MapFlags::WRITE),
        SysError::BadAddress,
    );
    ok &= refused(
        "map the last page of the lower half",
        sys::map(child, VirtAddr(0x7fff_ffff_f000), pool, MapFlags::EXEC),
        SysError::BadAddress,
    );
    ok &= refused(
        "map writable+executable without asking",
        sys::map(child, user, pool, MapFlags::WRITE.union(MapFlags::EXEC)),
        SysError::WritableExecutable,
    );
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
        sys::unmap(child, VirtAddr(0x7fff_ffff_f000), libipc::types::PageCount(2)).map(|_| ()),
        SysError::BadAddress,
    );

    // A child that faults at once: nothing is mapped at its entry point.
    let started = sys::thread_start(child, VirtAddr(CHILD_ENTRY), VirtAddr(CHILD_STACK), 0, PAGER_ENDPOINT);
    ok &= check("thread start", started.is_ok());
    let mut buf = [0u8; 512];
    let Ok(msg) = sys::recv(PAGER_ENDPOINT, &mut buf) else {
        return programs::verdict("hostile_pager", false);
    };
    let event = KernelEvent::from_message(msg.kind, &msg.short);
    ok &= check(
        "fault event from the child",
        msg.kind == MessageKind::Fault && matches!(event, Some(KernelEvent::Fault(_))),
    );
    runtime::println!("hostile_pager: child fault {:?}", event);
    let to = msg.sender.tid;
    ok &= refused(
        "fault reply with an unknown label",
        sys::reply_short(to, &ShortMessage::label(0xdead)),
        SysError::Malformed,
    );
    ok &= refused(
        "byte reply to a fault",
        sys::reply(to, &[0xff, 0xff, 0xff]),
        SysError::Malformed,
    );
    ok &= refused(
        "batch larger than the limit",
        sys::reply_short(
            to,
            &ShortMessage::new(
                reply_label::RESUME_BATCH,
                [buf.as_ptr() as u64, MAX_FAULT_MAPPINGS as u64 + 1, 0, 0],
            ),
        ),
        SysError::Malformed,
    );
    ok &= refused(
        "batch in kernel memory",
        sys::reply_short(
            to,
            &ShortMessage::new(reply_label::RESUME_BATCH, [0xffff_ffff_8000_0000, 1, 0, 0]),
        ),
        SysError::BadAddress,
    );
    ok &= refused(
        "kill with an unknown reason",
        sys::reply_short(to, &ShortMessage::new(reply_label::KILL, [99, 0, 0, 0])),
        SysError::Malformed,
    );
    let kernel_page = [Mapping {
        virt: VirtAddr(CHILD_ENTRY),
        phys: kernel_frame,
        flags: MapFlags::EXEC,
    }];
    ok &= refused(
        "fault reply mapping a kernel frame",
        sys::reply_short(to, &FaultReply::Resume(&kernel_page).to_message()),
        SysError::FrameNotOwned,
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
        sys::reply_short(to, &FaultReply::Resume(&half_bad).to_message()),
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
    ok &= check("kill the child", sys::reply_short(to, &kill).is_ok());
    ok &= refused(
        "reply to a dead thread",
        sys::reply_short(to, &kill),
        SysError::NoSuchObject,
    );
    runtime::println!("hostile_pager: every hostile request was refused; the kernel is still running");
    let verdict = programs::verdict("hostile_pager", ok);
    sys::shutdown(if verdict == 0 {
        libipc::abi::ExitStatus::Success
    } else {
        libipc::abi::ExitStatus::Failure
    })
}
