//! Leveled logging of the pager on the kernel console.

use core::sync::atomic::{AtomicU8, Ordering};

use crate::options::LogLevel;

static LEVEL: AtomicU8 = AtomicU8::new(LogLevel::Info as u8);

pub fn set_level(level: LogLevel) {
    LEVEL.store(level as u8, Ordering::Relaxed);
}

pub fn enabled(level: LogLevel) -> bool {
    level as u8 <= LEVEL.load(Ordering::Relaxed)
}

/// `plog!(Info, "...")`: one line prefixed like the kernel's.
macro_rules! plog {
    ($level:ident, $($arg:tt)*) => {
        if $crate::log::enabled($crate::options::LogLevel::$level) {
            runtime::println!("[{:5} pager ] {}", $crate::options::LogLevel::$level.label(), format_args!($($arg)*));
        }
    };
}
pub(crate) use plog;
