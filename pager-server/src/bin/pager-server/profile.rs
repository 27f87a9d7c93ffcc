//! The pager's share of the fault path, for the benchmark's breakdown:
//! TSC stamps (guest instructions under `-icount shift=0`) around the
//! policy decision, the frame work and the reply, summed over the faults it
//! resolved, printed beside the kernel's own figures.

use libipc::abi::FaultProfile;

fn rdtsc() -> u64 {
    // SAFETY: RDTSC is allowed in user mode and has no side effects.
    unsafe { core::arch::x86_64::_rdtsc() }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct PagerProfile {
    received_at: u64,
    decided_at: u64,
    filled_at: u64,
    /// A fault is between `filled` and its reply.
    resolving: bool,
    faults: u64,
    lookup: u64,
    frames: u64,
    reply: u64,
}

impl PagerProfile {
    /// A fault has arrived.
    pub fn received(&mut self) {
        self.received_at = rdtsc();
        self.resolving = false;
    }

    /// The policy has decided a fault.
    pub fn decided(&mut self) {
        self.decided_at = rdtsc();
    }

    /// Frames are allocated, filled and recorded.
    pub fn filled(&mut self) {
        self.filled_at = rdtsc();
        self.resolving = true;
    }

    /// The reply is encoded; the pager enters the kernel next.
    pub fn replying(&mut self) {
        if self.resolving {
            let now = rdtsc();
            self.faults += 1;
            self.lookup += self.decided_at - self.received_at;
            self.frames += self.filled_at - self.decided_at;
            self.reply += now - self.filled_at;
            self.resolving = false;
        }
    }

    /// Prints the breakdown per fault, the pager's figures inside the
    /// kernel's "in pager" share.
    pub fn report(&self, kernel: &FaultProfile) {
        let per = |total: u64, n: u64| (total + n / 2).checked_div(n).unwrap_or(0);
        let (k, p) = (kernel.faults, self.faults);
        let pager_work = per(self.lookup + self.frames + self.reply, p);
        let in_pager = per(kernel.in_pager, k);
        runtime::println!("breakdown faults={k} (ticks per fault; under -icount, instructions)");
        runtime::println!(
            "breakdown  kernel entry, fault message into the pager : {:>6}",
            per(kernel.entry_to_pager, k)
        );
        runtime::println!(
            "breakdown  IPC: switch into the pager and back         : {:>6}",
            in_pager.saturating_sub(pager_work)
        );
        runtime::println!(
            "breakdown  pager: policy lookup (fault decision)      : {:>6}",
            per(self.lookup, p)
        );
        runtime::println!(
            "breakdown  pager: frame allocation, zeroing, commit   : {:>6}",
            per(self.frames, p)
        );
        runtime::println!(
            "breakdown  pager: reply encoding                      : {:>6}",
            per(self.reply, p)
        );
        runtime::println!(
            "breakdown  kernel: reply decode, checks, PTE install  : {:>6}",
            per(kernel.install, k)
        );
        runtime::println!(
            "breakdown  kernel: return to the program              : {:>6}",
            per(kernel.return_to_program, k)
        );
    }
}
