//! The microkernel: address spaces, threads, IPC endpoints, page-table
//! entries installed on a pager's validated request, and fault forwarding.
//! Mechanism only: no VMA, no policy. Everything a user program or a pager
//! sends is validated; no user action can panic the kernel.
//!
//! Boot: serial console, GDT/TSS/IDT, memory (heap, frame allocator, the
//! pager's frame pool), then the pager is loaded from the ramdisk as the
//! first user task and the kernel enters it.
#![no_std]
// `extern "rust-preserve-none"`: the syscall dispatcher saves no registers
// of the entry stub, which has none live (`trap_entry::syscall_dispatch`).
#![feature(rust_preserve_none_cc)]
#![no_main]

extern crate alloc;

mod arch;
mod cmdline;
mod entropy;
mod fastpath;
mod fault;
mod ipc;
mod kernel_cell;
mod loader;
mod mapping;
mod memory;
mod object;
mod qemu;
mod ramdisk;
mod sched;
mod serial;
mod syscall;
mod time;
mod trap_entry;

use bootloader_api::{
    BootInfo, BootloaderConfig,
    config::Mapping,
    entry_point,
    info::{MemoryRegionKind, MemoryRegions},
};

use crate::{
    object::{FramePool, Kernel},
    qemu::QemuExit,
};

/// All kernel objects. Locked on every entry; interrupts are off in the
/// kernel and there is one CPU, so the lock is never contended
/// ([`kernel_cell`]).
pub static KERNEL: kernel_cell::KernelCell = kernel_cell::KernelCell::new();

const PAGE: u64 = 4096;
/// The kernel heap: TCBs, queues, page-table bookkeeping.
const HEAP_BYTES: u64 = 16 << 20;
/// Frames the kernel keeps for page tables and the pager's image.
const KERNEL_RESERVE_BYTES: u64 = 96 << 20;

pub static BOOTLOADER_CONFIG: BootloaderConfig = {
    let mut config = BootloaderConfig::new_default();
    config.mappings.physical_memory = Some(Mapping::Dynamic);
    // Keep the whole lower half free for user address spaces.
    config.mappings.kernel_base = Mapping::FixedAddress(0xffff_ffff_8000_0000);
    config.mappings.dynamic_range_start = Some(0xffff_8000_0000_0000);
    config.kernel_stack_size = 256 * 1024;
    config
};

entry_point!(kernel_main, config = &BOOTLOADER_CONFIG);

/// Splits usable memory: the heap first, then the kernel's frames, and the
/// largest remaining range becomes the pager's pool.
fn init_memory(regions: &MemoryRegions) -> FramePool {
    let mut usable = regions
        .iter()
        .filter(|r| r.kind == MemoryRegionKind::Usable)
        .map(|r| (r.start.next_multiple_of(PAGE), r.end & !(PAGE - 1)))
        .filter(|(s, e)| e > s);
    let largest = usable.clone().max_by_key(|(s, e)| e - s).expect("no usable memory");
    let (start, end) = largest;
    assert!(
        end - start > HEAP_BYTES + KERNEL_RESERVE_BYTES,
        "not enough memory: need more than 112 MiB"
    );
    let heap_start = memory::phys_to_virt(x86_64::PhysAddr::new(start)).as_u64();
    // SAFETY: the range is usable RAM from the boot memory map, given to the
    // heap alone.
    unsafe { memory::heap::init(heap_start, HEAP_BYTES) };
    let reserve_end = start + HEAP_BYTES + KERNEL_RESERVE_BYTES;
    memory::frames::add_range(start + HEAP_BYTES, reserve_end);
    for (s, e) in usable.by_ref() {
        if (s, e) != largest {
            memory::frames::add_range(s, e);
        }
    }
    FramePool {
        start: reserve_end,
        frames: (end - reserve_end) / PAGE,
    }
}

fn kernel_main(boot_info: &'static mut BootInfo) -> ! {
    serial::init();
    serial::write_fmt(format_args!("microkernel: booting\n"));
    let offset = boot_info
        .physical_memory_offset
        .into_option()
        .expect("bootloader maps physical memory");
    memory::init_phys_offset(offset);
    arch::gdt::init();
    arch::trap::init();
    arch::segments::init();
    arch::fpu::init();

    let ramdisk_bytes = match boot_info.ramdisk_addr.into_option() {
        // SAFETY: the bootloader mapped the ramdisk at this address with
        // this length, and nothing writes it.
        Some(addr) => unsafe { core::slice::from_raw_parts(addr as *const u8, boot_info.ramdisk_len as usize) },
        None => panic!("no ramdisk: boot with the images `boot` makes"),
    };
    let ramdisk = ramdisk::Ramdisk::new(ramdisk_bytes).unwrap_or_else(|e| panic!("{e}"));
    let cmdline = ramdisk
        .file("cmdline")
        .and_then(|b| core::str::from_utf8(b).ok())
        .unwrap_or("");
    let options = cmdline::KernelOptions::parse(cmdline);
    // Before anything records the root or makes an address space: the
    // switch replaces the root.
    let paging = arch::la57::init(&mut boot_info.memory_regions, options.la57);
    // Whatever the log level: benchmarks and tests check the width.
    serial::write_fmt(format_args!("microkernel: {paging}\n"));
    memory::space::init();
    let pool = init_memory(&boot_info.memory_regions);

    serial::init_logger(options.log_level);
    let (free, total) = memory::frames::stats();
    log::info!("command line: {}", cmdline.trim());
    log::info!(
        "memory: kernel frames {free}/{total} free, pager pool {} frames ({} MiB) at {:#x}",
        pool.frames,
        (pool.frames * PAGE) >> 20,
        pool.start
    );
    log::info!("entropy source: {}", entropy::source());
    time::init();
    memory::zero::init();
    time::init_vsyscall(options.vsyscall);

    let Some(image) = ramdisk.file(options.pager) else {
        panic!("pager binary {:?} not found in the ramdisk", options.pager);
    };
    let mut kernel = Kernel::new(options.page_table_limit);
    let pid = match loader::start_pager(&mut kernel, image, ramdisk_bytes, pool) {
        Ok(pid) => pid,
        Err(e) => panic!("cannot start the pager {:?}: {e}", options.pager),
    };
    log::info!("pager {:?} started as process {}", options.pager, pid.0);
    arch::interrupts::init();

    let first = kernel.run_queue.pop_front().expect("the pager thread is queued");
    let frame = kernel.switch_to(first);
    // Moving the kernel moves the thread table's header, not its heap
    // buffer, where `frame` points.
    KERNEL.init(kernel);
    // SAFETY: `frame` is the pager thread's fresh user context, in its
    // control block, just made the entry frame by `switch_to`.
    unsafe { arch::trap::enter_user(frame) }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    match info.location() {
        Some(at) => serial::force_write_fmt(format_args!("KERNEL PANIC: {} (at {at})\n", info.message())),
        None => serial::force_write_fmt(format_args!("KERNEL PANIC: {}\n", info.message())),
    }
    qemu::exit(QemuExit::KernelPanic)
}
