//! The serial console (COM1) and the kernel's leveled logger.

use core::fmt::Write;

use spin::Mutex;
use uart_16550::SerialPort;

/// COM1's I/O port base.
const COM1: u16 = 0x3f8;

static SERIAL: Mutex<Option<SerialPort>> = Mutex::new(None);

pub fn init() {
    // SAFETY: COM1 is the standard serial port on the PC platform and
    // nothing else in the kernel drives it.
    let mut port = unsafe { SerialPort::new(COM1) };
    port.init();
    *SERIAL.lock() = Some(port);
}

/// Writes raw bytes (program output) to the console.
pub fn write_bytes(bytes: &[u8]) {
    if let Some(port) = SERIAL.lock().as_mut() {
        for &b in bytes {
            port.send(b);
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
