//! Console output through the kernel's `DebugWrite`.

use core::fmt::{self, Write};

/// Formats into a line buffer and writes it in as few calls as possible.
pub struct Console {
    buf: [u8; 256],
    len: usize,
    /// To the log (a server's diagnostics) rather than the console.
    log: bool,
}

impl Console {
    pub const fn new() -> Self {
        Console {
            buf: [0; 256],
            len: 0,
            log: false,
        }
    }

    /// A console whose lines go to the log.
    pub const fn log() -> Self {
        Console {
            buf: [0; 256],
            len: 0,
            log: true,
        }
    }

    pub fn flush(&mut self) {
        if self.len > 0 {
            let bytes = &self.buf[..self.len];
            let _ = if self.log {
                libipc::sys::log_write(bytes)
            } else {
                libipc::sys::debug_write(bytes)
            };
            self.len = 0;
        }
    }
}

impl Default for Console {
    fn default() -> Self {
        Self::new()
    }
}

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            if self.len == self.buf.len() {
                self.flush();
            }
            self.buf[self.len] = b;
            self.len += 1;
        }
        Ok(())
    }
}

#[doc(hidden)]
pub fn _print(args: fmt::Arguments) {
    let mut c = Console::new();
    let _ = c.write_fmt(args);
    c.flush();
}

#[doc(hidden)]
pub fn _log(args: fmt::Arguments) {
    let mut c = Console::log();
    let _ = c.write_fmt(args);
    c.flush();
}

/// A line in the log: a server's diagnostics, never mixed with the
/// output of the programs it serves.
#[macro_export]
macro_rules! log {
    ($($arg:tt)*) => { $crate::console::_log(format_args!("{}\n", format_args!($($arg)*))) };
}

#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::console::_print(format_args!($($arg)*)) };
}

#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => { $crate::console::_print(format_args!("{}\n", format_args!($($arg)*))) };
}
