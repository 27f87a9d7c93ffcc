//! The kernel command line: `key=value` words, read from the ramdisk file
//! `cmdline` (the `bootloader` crate has no command line of its own, so the
//! runner packs it into the ramdisk).
//!
//! The kernel reads only what is mechanism: `log=` and `pager=`. Every other
//! word (policy, ASLR mode, which programs to run) belongs to the pager,
//! which reads the same file.

/// Options the kernel understands.
#[derive(Clone, Copy, Debug)]
pub struct KernelOptions<'a> {
    pub log_level: log::LevelFilter,
    /// Name of the pager binary in the ramdisk.
    pub pager: &'a str,
}

impl<'a> KernelOptions<'a> {
    pub fn parse(cmdline: &'a str) -> Self {
        let mut opts = KernelOptions {
            log_level: log::LevelFilter::Info,
            pager: "pager",
        };
        for word in cmdline.split_ascii_whitespace() {
            match word.split_once('=') {
                Some(("log", level)) => match level.parse() {
                    Ok(l) => opts.log_level = l,
                    Err(_) => crate::serial::write_fmt(format_args!("cmdline: bad log level {level:?}, using info\n")),
                },
                Some(("pager", name)) => opts.pager = name,
                _ => {}
            }
        }
        opts
    }
}
