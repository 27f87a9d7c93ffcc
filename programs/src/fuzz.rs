//! The system-call fuzzer behind `fuzz` (in `cargo test`) and `fuzz_soak`
//! (the long run): raw system calls with random numbers and arguments
//! biased to the values that break kernels (0, -1, kernel-half and
//! non-canonical pointers, unmapped memory, its own code and stack, huge
//! lengths, every capability slot), then a check that its faults are still
//! served.
//!
//! It is hostile, not suicidal. It never calls `Exit` (nor sleeps past
//! the first milliseconds after boot); it never sends a
//! request a server would carry out (a payload that decodes as a real pager
//! or procfs request could unmap its own stack: that would be the program
//! hurting itself, not the kernel failing), so payloads to real servers
//! carry an undefined label or variant; it never calls or receives through
//! an endpoint of its own (it has no second thread to answer, so that
//! would wait forever by its own design); and it keeps its pager and procfs
//! send rights so the IPC path stays exercised to the end.

use libipc::{
    abi::{CAP_SLOTS, SysError, Syscall, caps},
    sys,
};

/// A small, fast, seeded generator (xorshift64*): runs are repeatable.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// What the run did.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tally {
    pub calls: u64,
    pub ok: u64,
    pub refused: u64,
}

/// Highest system-call number tried (past the last real one).
const MAX_NUMBER: u64 = 40;

/// Memory of its own it points at: read-write, in `.bss`.
static mut SCRATCH: [u8; 4096] = [0; 4096];

fn scratch() -> u64 {
    core::ptr::addr_of!(SCRATCH) as u64
}

/// A value biased to the interesting ones.
fn interesting(rng: &mut Rng, stack: u64) -> u64 {
    match rng.below(16) {
        0 => 0,
        1 => u64::MAX,
        2 => 1,
        3 => 0xffff_8000_0000_0000,
        4 => 0xffff_ffff_8000_0000 + rng.below(1 << 20),
        5 => 0x0000_8000_0000_0000,
        6 => 0xdead_beef_0000_0000,
        7 => 0x0000_6000_0000_0000,
        8 => interesting as *const () as u64,
        9 => stack.wrapping_sub(rng.below(256)),
        10 => scratch() + rng.below(4096),
        11 => 1 << (20 + rng.below(44)),
        12 | 13 => rng.below(u64::from(CAP_SLOTS) + 2),
        14 => 0x7fff_ffff_f000 - 8 * rng.below(4),
        _ => rng.next_u64(),
    }
}

/// Slots whose endpoint is served by somebody else (a call may go out).
fn served(slot: u64) -> bool {
    slot == u64::from(caps::PAGER.0) || slot == u64::from(caps::PROCFS.0)
}

/// Makes `rng`'s pick safe to issue, or `None` to skip it (see the module
/// doc); `own` marks the slots holding endpoints of its own.
fn tame(number: u64, args: &mut [u64; 6], own: &[bool; CAP_SLOTS as usize], stack: u64) -> Option<()> {
    // The kernel reads a slot as 32 bits.
    let slot = u64::from(args[0] as u32);
    let own_slot = slot < u64::from(CAP_SLOTS) && own[slot as usize];
    const CALL: u64 = Syscall::Call as u64;
    const CALL_SHORT: u64 = Syscall::CallShort as u64;
    const RECVS: [u64; 3] = [
        Syscall::Recv as u64,
        Syscall::ReplyRecv as u64,
        Syscall::ReplyRecvShort as u64,
    ];
    match number {
        n if n == Syscall::Exit as u64 => None,
        n if n == Syscall::SleepUntil as u64 => {
            // A deadline within the first 2 ms after boot: always past, so
            // the call returns at once (a random one would sleep for ages).
            args[0] %= 2_000_000;
            Some(())
        }
        CALL | CALL_SHORT if own_slot => None,
        n if RECVS.contains(&n) && own_slot => None,
        n if n == Syscall::CapDrop as u64 && served(slot) => None,
        CALL if served(slot) => {
            // An undefined postcard variant: no server acts on it; and the
            // reply lands in scratch memory, not on our own stack.
            args[1] = scratch();
            // SAFETY: SCRATCH is ours; nothing else runs in this process.
            unsafe { (*core::ptr::addr_of_mut!(SCRATCH))[0] = 0xff };
            args[2] = args[2].min(64);
            args[3] = scratch() + 2048;
            args[4] = args[4].min(512);
            Some(())
        }
        n if n == Syscall::FaultProfile as u64 && args[0].abs_diff(stack) < 8192 => {
            // The kernel would write the profile over our own stack.
            args[0] = scratch();
            Some(())
        }
        CALL_SHORT if served(slot) => {
            // An undefined label (the label travels in r8 = args[4]).
            args[4] |= 1 << 40;
            Some(())
        }
        n if n == Syscall::DebugWrite as u64 => {
            // Keep the console readable: bytes of its own memory would be
            // garbage on it. Bad pointers keep their random lengths.
            let own_memory = args[0].abs_diff(stack) < 8192
                || args[0].abs_diff(scratch()) < 8192
                || args[0].abs_diff(interesting as *const () as u64) < (1 << 20);
            if own_memory {
                args[1] = 0;
            }
            Some(())
        }
        _ => Some(()),
    }
}

/// Makes `count` calls from `seed`; returns what happened.
pub fn run(seed: u64, count: u64) -> Tally {
    let mut rng = Rng::new(seed);
    let mut own = [false; CAP_SLOTS as usize];
    let mut tally = Tally::default();
    let stack_marker = 0u64;
    let stack = core::ptr::addr_of!(stack_marker) as u64;
    while tally.calls < count {
        let number = if rng.below(4) == 0 {
            interesting(&mut rng, stack)
        } else {
            rng.below(MAX_NUMBER + 1)
        };
        let mut args = [0u64; 6];
        for a in &mut args {
            *a = interesting(&mut rng, stack);
        }
        if tame(number, &mut args, &own, stack).is_none() {
            continue;
        }
        let result = sys::raw_syscall(number, args);
        tally.calls += 1;
        match result {
            Ok((new, _, _)) => {
                tally.ok += 1;
                // Track the slots that now hold endpoints of its own.
                let slot = (args[0] as u32) as usize;
                let created = number == Syscall::EndpointCreate as u64;
                let copied_own = number == Syscall::CapCopy as u64 && slot < own.len() && own[slot];
                if (created || copied_own) && new < u64::from(CAP_SLOTS) {
                    own[new as usize] = true;
                } else if number == Syscall::CapDrop as u64 && slot < own.len() {
                    own[slot] = false;
                }
            }
            Err(_) => tally.refused += 1,
        }
    }
    tally
}

/// After the storm: fresh pages still fault in, the pager still answers.
pub fn faults_still_served() -> bool {
    static mut FRESH: [u64; 16 * 512] = [0; 16 * 512];
    let fresh = core::ptr::addr_of_mut!(FRESH) as *mut u64;
    for page in 0..16 {
        // SAFETY: FRESH is ours and untouched until now: each write faults
        // a new page in through the pager.
        unsafe { fresh.add(page * 512).write_volatile(page as u64 + 1) };
    }
    // SAFETY: as above, reading what we wrote.
    let back = (0..16).all(|page| unsafe { fresh.add(page * 512).read_volatile() } == page as u64 + 1);
    let pager = runtime::pager::mmap_anon(4096, libipc::types::Prot::RW).is_ok();
    let refused_still = sys::raw_syscall(Syscall::Shutdown as u64, [0; 6]) == Err(SysError::NotPermitted);
    back && pager && refused_still
}

/// The whole program: `calls` calls from `seed`, the summary line the
/// tests read, the check, the verdict.
pub fn program(name: &str, seed: u64, calls: u64) -> i64 {
    runtime::println!("{name}: seed {seed:#x}, {calls} calls");
    let t = run(seed, calls);
    runtime::println!(
        "{name}: {} calls made ({} succeeded, {} refused)",
        t.calls,
        t.ok,
        t.refused
    );
    let ok = crate::check("faults and requests are still served", faults_still_served());
    crate::verdict(name, ok)
}
