//! Recording the run (`record=1`, the runner's `--record-trace`): the
//! lines of `pager::record` go into a buffer of one `DebugWrite`'s size and
//! out on the trace channel when it fills and when the run ends. Off, it
//! costs one test per event; on, formatting a fault allocates nothing.

use core::fmt::{self, Write};

use libipc::{abi::MAX_DEBUG_WRITE, sys};

use crate::log::plog;

/// The trace's buffer.
pub struct Recorder {
    on: bool,
    buf: [u8; MAX_DEBUG_WRITE as usize],
    len: usize,
    /// The channel refused a write: stop, and say so once.
    failed: bool,
}

impl Recorder {
    pub fn new(on: bool) -> Recorder {
        Recorder {
            on,
            buf: [0; MAX_DEBUG_WRITE as usize],
            len: 0,
            failed: false,
        }
    }

    pub fn on(&self) -> bool {
        self.on && !self.failed
    }

    /// Writes one record through `write`, which formats into the buffer.
    pub fn record(&mut self, write: impl FnOnce(&mut Recorder) -> fmt::Result) {
        if self.on() && write(self).is_err() {
            plog!(Error, "trace: a record did not format");
        }
    }

    /// Sends what the buffer holds.
    pub fn flush(&mut self) {
        if self.len == 0 || self.failed {
            return;
        }
        if let Err(e) = sys::trace_write(&self.buf[..self.len]) {
            plog!(
                Error,
                "trace: the kernel refused the trace channel: {e:?}; recording stops"
            );
            self.failed = true;
        }
        self.len = 0;
    }
}

impl Write for Recorder {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut bytes = s.as_bytes();
        while !bytes.is_empty() {
            if self.len == self.buf.len() {
                self.flush();
            }
            let n = bytes.len().min(self.buf.len() - self.len);
            self.buf[self.len..self.len + n].copy_from_slice(&bytes[..n]);
            self.len += n;
            bytes = &bytes[n..];
        }
        Ok(())
    }
}
