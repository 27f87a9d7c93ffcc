//! The serial ports and the kernel's leveled logger: COM1 carries the log
//! (the kernel's and the root pager's), COM2 the programs' output, so a
//! runner can hand a program's output on as if it ran on the host.

use core::fmt::Write;

use spin::Mutex;
use uart_16550::SerialPort;

/// COM1's I/O port base: the log.
const COM1: u16 = 0x3f8;
/// COM2's I/O port base: program output.
const COM2: u16 = 0x2f8;

static SERIAL: Mutex<Option<SerialPort>> = Mutex::new(None);
static CONSOLE: Mutex<Option<SerialPort>> = Mutex::new(None);

/// Where a `DebugWrite` goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    /// COM1, shared with the kernel's log.
    Log,
    /// COM2, program output only.
    Console,
    /// QEMU's debugcon: the root pager's recorded trace.
    Trace,
}

/// QEMU's debugcon port (`-debugcon`): the trace channel. Without the
/// device, writes to it are dropped.
const DEBUGCON: u16 = 0xe9;

pub fn init() {
    // SAFETY: COM1 and COM2 are the standard serial ports on the PC
    // platform and nothing else in the kernel drives them.
    let (mut log, mut console) = unsafe { (SerialPort::new(COM1), SerialPort::new(COM2)) };
    log.init();
    console.init();
    *SERIAL.lock() = Some(log);
    *CONSOLE.lock() = Some(console);
}

/// Writes a program's bytes unchanged (`send_raw`: `send` would rewrite
/// backspace and DEL) to `channel`.
pub fn write_bytes(channel: Channel, bytes: &[u8]) {
    let port = match channel {
        Channel::Log => &SERIAL,
        Channel::Console => &CONSOLE,
        Channel::Trace => {
            let mut port = x86_64::instructions::port::PortWriteOnly::<u8>::new(DEBUGCON);
            for &b in bytes {
                // SAFETY: 0xe9 is QEMU's debugcon, a write-only byte sink;
                // on a machine without it the port is unused and the
                // write has no effect.
                unsafe { port.write(b) };
            }
            return;
        }
    };
    if let Some(port) = port.lock().as_mut() {
        for &b in bytes {
            port.send_raw(b);
        }
    }
}

pub fn write_fmt(args: core::fmt::Arguments) {
    if let Some(port) = SERIAL.lock().as_mut() {
        let _ = port.write_fmt(args);
    }
}

/// Writes even if the lock is held: the panic path must always print.
pub fn force_write_fmt(args: core::fmt::Arguments) {
    // SAFETY: used only on the panic path with interrupts off on a single
    // CPU; whoever held the lock will never run again.
    unsafe { SERIAL.force_unlock() };
    write_fmt(args);
}

struct SerialLogger;

impl log::Log for SerialLogger {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record) {
        if self.enabled(record.metadata()) {
            write_fmt(format_args!("[{:5} kernel] {}\n", record.level(), record.args()));
        }
    }

    fn flush(&self) {}
}

static LOGGER: SerialLogger = SerialLogger;

pub fn init_logger(level: log::LevelFilter) {
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(level);
}
