//! The initial stack of a Linux program, byte for byte as Linux lays it out
//! (fs/exec.c copies the strings, fs/binfmt_elf.c `create_elf_tables` adds
//! the rest). From the top down:
//!
//! ```text
//! top     8 zero bytes (the end marker)
//!         AT_EXECFN string, envp strings, argv strings (each NUL-ended,
//!         argv[0] lowest)
//!         the ASLR shift, then down to a 16-byte boundary (arch_align_stack)
//!         AT_PLATFORM string ("x86_64\0"), 16 AT_RANDOM bytes
//!         padding so that sp is 16-byte aligned
//!         auxv pairs ending in AT_NULL
//!         envp pointers, NULL
//!         argv pointers, NULL
//! sp  ->  argc
//! ```
//!
//! Linux's argument limits apply: each string at most MAX_ARG_STRLEN, and
//! the strings plus their pointers at most a quarter of RLIMIT_STACK
//! (between 128 KiB and 6 MiB), else E2BIG. An empty argv gets one empty
//! string, as Linux (since 5.18) gives it.

use alloc::vec::Vec;

use libipc::types::PAGE_SIZE;

use super::{
    auxv::{AuxType, AuxValues, StackAddresses},
    error::ExecError,
};

/// The longest single argument or environment string, NUL included.
pub const MAX_ARG_STRLEN: u64 = 32 * PAGE_SIZE;
/// The least room for arguments whatever RLIMIT_STACK says (ARG_MAX).
pub const ARG_MIN_LIMIT: u64 = 32 * PAGE_SIZE;
/// The most room for arguments: three quarters of the default 8 MiB stack
/// limit (`_STK_LIM / 4 * 3`).
pub const ARG_MAX_LIMIT: u64 = (8 << 20) / 4 * 3;
/// The zero word at the very top of the stack.
const END_MARKER: u64 = 8;
const WORD: u64 = 8;

/// What goes on a new program's stack, and where.
#[derive(Clone, Copy, Debug)]
pub struct StackRequest<'a> {
    pub argv: &'a [&'a [u8]],
    pub envp: &'a [&'a [u8]],
    /// The path the program was executed by (`AT_EXECFN`).
    pub execfn: &'a [u8],
    /// `AT_PLATFORM`'s string ([`super::auxv::PLATFORM`] on x86-64).
    pub platform: Option<&'a [u8]>,
    /// `AT_RANDOM`'s bytes, from the pager's CSPRNG.
    pub random: [u8; 16],
    pub aux: AuxValues,
    /// One past the stack's highest byte (page-aligned).
    pub top: u64,
    /// How far below the strings the tables start (ASLR's sub-page shift;
    /// Linux's `arch_align_stack`), rounded down to 16.
    pub shift: u64,
    /// RLIMIT_STACK's soft value.
    pub stack_limit: u64,
}

/// The built stack: `bytes` go at `[sp, top)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitialStack {
    /// The entry stack pointer (16-byte aligned; `[sp]` is argc).
    pub sp: u64,
    pub top: u64,
    pub bytes: Vec<u8>,
    /// Where the argv strings start and the envp strings start and end
    /// (`/proc/<pid>/cmdline` and `environ` read these ranges).
    pub arg_start: u64,
    pub env_start: u64,
    pub env_end: u64,
    /// The auxiliary vector as written, `AT_NULL` last.
    pub auxv: Vec<(AuxType, u64)>,
}

impl InitialStack {
    /// The image cut at page boundaries: (page address, offset in the
    /// page, bytes), lowest first, for copying into frames.
    pub fn pages(&self) -> impl Iterator<Item = (u64, usize, &[u8])> {
        let mut at = self.sp;
        core::iter::from_fn(move || {
            if at >= self.top {
                return None;
            }
            let page = at & !(PAGE_SIZE - 1);
            let end = (page + PAGE_SIZE).min(self.top);
            let chunk = &self.bytes[(at - self.sp) as usize..(end - self.sp) as usize];
            let offset = (at - page) as usize;
            at = end;
            Some((page, offset, chunk))
        })
    }
}

/// Room for strings and pointers under `stack_limit` (Linux's
/// `bprm_stack_limits`).
pub fn argument_limit(stack_limit: u64) -> u64 {
    (stack_limit / 4).clamp(ARG_MIN_LIMIT, ARG_MAX_LIMIT)
}

/// Lays out the stack `req` describes.
pub fn build(req: &StackRequest) -> Result<InitialStack, ExecError> {
    const EMPTY: &[&[u8]] = &[b""];
    let argv = if req.argv.is_empty() { EMPTY } else { req.argv };
    for s in argv.iter().chain(req.envp).chain([&req.execfn]) {
        if s.contains(&0) {
            return Err(ExecError::NulInArgument);
        }
        let len = s.len() as u64 + 1;
        if len > MAX_ARG_STRLEN {
            return Err(ExecError::ArgumentTooLong { len });
        }
    }
    let strings: u64 = argv
        .iter()
        .chain(req.envp)
        .chain([&req.execfn])
        .map(|s| s.len() as u64 + 1)
        .sum();
    let pointers = (argv.len() + req.envp.len()) as u64 * WORD;
    let limit = argument_limit(req.stack_limit);
    if pointers + strings > limit {
        return Err(ExecError::ArgumentsTooLarge {
            size: pointers + strings,
            limit,
        });
    }

    // Addresses, from the top down; a top too low for the image is refused
    // like arguments too large for the stack.
    let too_large = ExecError::ArgumentsTooLarge { size: strings, limit };
    let below = |at: u64, n: u64| at.checked_sub(n).ok_or(too_large);
    let strings_end = below(req.top, END_MARKER)?;
    let arg_start = below(strings_end, strings)?;
    let execfn = strings_end - (req.execfn.len() as u64 + 1);
    let env_start = arg_start + argv.iter().map(|s| s.len() as u64 + 1).sum::<u64>();
    let mut p = below(arg_start, req.shift)? & !15;
    let platform = match req.platform {
        Some(s) => {
            p = below(p, s.len() as u64 + 1)?;
            Some(p)
        }
        None => None,
    };
    let random = below(p, 16)?;
    let auxv = req.aux.entries(StackAddresses {
        random,
        execfn,
        platform,
    });
    let items = (argv.len() + 1 + req.envp.len() + 1 + 1) as u64;
    let tables = (items + 2 * auxv.len() as u64) * WORD;
    let sp = below(random, tables)? & !15;

    let mut image = Image {
        base: sp,
        bytes: alloc::vec![0; (req.top - sp) as usize],
    };
    // The strings, argv's then envp's, each pointed at from its table.
    let mut at = arg_start;
    let mut pointers = Vec::with_capacity(argv.len() + req.envp.len());
    for s in argv.iter().chain(req.envp) {
        pointers.push(at);
        image.put(at, s);
        at += s.len() as u64 + 1;
    }
    let (argv_ptrs, envp_ptrs) = pointers.split_at(argv.len());
    let env_end = at;
    image.put(execfn, req.execfn);
    if let (Some(addr), Some(s)) = (platform, req.platform) {
        image.put(addr, s);
    }
    image.put(random, &req.random);
    // The tables.
    let mut words = Vec::with_capacity(items as usize + 2 * auxv.len());
    words.push(argv.len() as u64);
    words.extend(argv_ptrs);
    words.push(0);
    words.extend(envp_ptrs);
    words.push(0);
    for &(t, v) in &auxv {
        words.extend([t.number(), v]);
    }
    for (i, w) in words.iter().enumerate() {
        image.put(sp + i as u64 * WORD, &w.to_le_bytes());
    }
    Ok(InitialStack {
        sp,
        top: req.top,
        bytes: image.bytes,
        arg_start,
        env_start,
        env_end,
        auxv,
    })
}

/// The stack's bytes, addressed by virtual address.
struct Image {
    base: u64,
    bytes: Vec<u8>,
}

impl Image {
    fn put(&mut self, addr: u64, data: &[u8]) {
        let at = (addr - self.base) as usize;
        self.bytes[at..at + data.len()].copy_from_slice(data);
    }
}
