//! The kernel command line: `key=value` words, read from the ramdisk file
//! `cmdline` (the `bootloader` crate has no command line of its own, so the
//! runner packs it into the ramdisk).
//!
//! The kernel reads only what is mechanism: `log=`, `pager=`,
//! `pt_limit=`, `vsyscall=` (whether to map the vsyscall page's code)
//! and `la57=` (which the pager reads too). Every other
//! word (policy, ASLR mode, which programs to run) belongs to the pager,
//! which reads the same file.

/// Options the kernel understands.
#[derive(Clone, Copy, Debug)]
pub struct KernelOptions<'a> {
    pub log_level: log::LevelFilter,
    /// Name of the pager binary in the ramdisk.
    pub pager: &'a str,
    /// Page-table frames each paged process may use (`pt_limit=`).
    pub page_table_limit: u32,
    /// The vsyscall page's mode (`vsyscall=`): the kernel maps its code
    /// in `emulate` mode; the pager emulates the calls.
    pub vsyscall: libipc::vsyscall::Mode,
    /// 5-level paging when the CPU has it (`la57=off` or `la57=0` keeps 4
    /// levels, e.g. to compare the two on one CPU).
    pub la57: bool,
}

/// The default per-process page-table limit: 2,048 frames (8 MiB of page
/// tables, enough to map 4 GiB densely with 4 KiB pages), so no process
/// can take the kernel's frames from the others.
pub const DEFAULT_PAGE_TABLE_LIMIT: u32 = 2048;

impl<'a> KernelOptions<'a> {
    pub fn parse(cmdline: &'a str) -> Self {
        let mut opts = KernelOptions {
            log_level: log::LevelFilter::Info,
            pager: "pager",
            page_table_limit: DEFAULT_PAGE_TABLE_LIMIT,
            vsyscall: libipc::vsyscall::Mode::default(),
            la57: true,
        };
        for word in cmdline.split_ascii_whitespace() {
            match word.split_once('=') {
                Some(("log", level)) => match level.parse() {
                    Ok(l) => opts.log_level = l,
                    Err(_) => crate::serial::write_fmt(format_args!("cmdline: bad log level {level:?}, using info\n")),
                },
                Some(("pager", name)) => opts.pager = name,
                Some(("vsyscall", mode)) => match libipc::vsyscall::Mode::parse(mode) {
                    Some(m) => opts.vsyscall = m,
                    None => crate::serial::write_fmt(format_args!(
                        "cmdline: bad vsyscall {mode:?} (emulate, xonly or none), using xonly\n"
                    )),
                },
                Some(("pt_limit", n)) => match n.parse() {
                    Ok(n) if n >= 8 => opts.page_table_limit = n,
                    _ => crate::serial::write_fmt(format_args!(
                        "cmdline: bad pt_limit {n:?} (at least 8 frames), using {DEFAULT_PAGE_TABLE_LIMIT}\n"
                    )),
                },
                Some(("la57", value)) => match value {
                    "off" | "0" => opts.la57 = false,
                    "on" | "1" => opts.la57 = true,
                    _ => crate::serial::write_fmt(format_args!(
                        "cmdline: bad la57 {value:?} (on or off), using 5-level paging when the CPU has it\n"
                    )),
                },
                _ => {}
            }
        }
        opts
    }
}
