//! The clock hardware read once at boot: PIT channel 2 as a stopwatch to
//! measure the TSC's rate, the CMOS real-time clock for the wall time, and
//! IA32_TSC_AUX for the CPU number user code reads (`getcpu`).

use x86_64::{instructions::port::Port, registers::model_specific::Msr};

const PIT_BASE_HZ: u64 = 1_193_182;
const PIT_CHANNEL2: u16 = 0x42;
const PIT_COMMAND: u16 = 0x43;
/// Port B of the keyboard controller: bit 0 gates channel 2, bit 1 drives
/// the speaker, bit 5 reads channel 2's output.
const PORT_B: u16 = 0x61;
/// Channel 2, lobyte/hibyte, mode 0 (interrupt on terminal count).
const PIT_CH2_ONE_SHOT: u8 = 0xb0;

const CMOS_INDEX: u16 = 0x70;
const CMOS_DATA: u16 = 0x71;
/// Setting bit 7 of the index keeps NMIs masked while we read.
const CMOS_NMI_OFF: u8 = 0x80;

const IA32_TSC_AUX: u32 = 0xc000_0103;

/// TSC ticks per second, measured against PIT channel 2 over `ms`
/// milliseconds (interrupts are off: nothing else runs meanwhile).
pub fn measure_tsc_hz(ms: u64) -> u64 {
    let count = (PIT_BASE_HZ * ms / 1000).min(0xffff) as u16;
    let (start, end);
    // SAFETY: channel 2 and port B belong to the kernel alone; the speaker
    // stays off. Reading port B and the TSC has no other effect.
    unsafe {
        let mut port_b = Port::<u8>::new(PORT_B);
        let b = port_b.read();
        port_b.write((b & !0x02) & !0x01);
        Port::<u8>::new(PIT_COMMAND).write(PIT_CH2_ONE_SHOT);
        let mut ch2 = Port::<u8>::new(PIT_CHANNEL2);
        ch2.write(count as u8);
        ch2.write((count >> 8) as u8);
        // Raising the gate starts the count.
        port_b.write((b & !0x02) | 0x01);
        start = crate::entropy::tsc();
        while port_b.read() & 0x20 == 0 {
            core::hint::spin_loop();
        }
        end = crate::entropy::tsc();
        port_b.write(b & !0x03);
    }
    (end - start) * PIT_BASE_HZ / u64::from(count)
}

fn cmos(reg: u8) -> u8 {
    // SAFETY: the CMOS index and data ports; reading a register has no
    // effect beyond selecting it.
    unsafe {
        Port::<u8>::new(CMOS_INDEX).write(reg | CMOS_NMI_OFF);
        Port::<u8>::new(CMOS_DATA).read()
    }
}

/// The RTC's date and time: year, month, day, hour, minute, second (UTC
/// under QEMU, which starts the RTC at the host's UTC time).
pub fn read_rtc() -> (i64, u32, u32, u32, u32, u32) {
    let read = || {
        // Not while the RTC updates its registers (at most ~2 ms).
        while cmos(0x0a) & 0x80 != 0 {
            core::hint::spin_loop();
        }
        [
            cmos(0x00),
            cmos(0x02),
            cmos(0x04),
            cmos(0x07),
            cmos(0x08),
            cmos(0x09),
            cmos(0x32),
        ]
    };
    // Two equal reads in a row: no update happened in between.
    let mut raw = read();
    loop {
        let again = read();
        if again == raw {
            break;
        }
        raw = again;
    }
    let status_b = cmos(0x0b);
    let binary = status_b & 0x04 != 0;
    let hours_24 = status_b & 0x02 != 0;
    let decode = |v: u8| {
        if binary {
            u32::from(v)
        } else {
            u32::from(v & 0x0f) + u32::from(v >> 4) * 10
        }
    };
    let [sec, min, hour, day, month, year, century] = raw;
    let pm = hour & 0x80 != 0;
    let mut h = decode(hour & 0x7f);
    if !hours_24 {
        h %= 12;
        if pm {
            h += 12;
        }
    }
    let century = match decode(century) {
        c @ 19..=30 => c,
        _ => 20,
    };
    let year = i64::from(century * 100 + decode(year));
    (year, decode(month), decode(day), h, decode(min), decode(sec))
}

/// How user code can read the CPU number, after storing it (`cpu`) in
/// IA32_TSC_AUX where RDTSCP or RDPID exist (a `vvar::getcpu` value).
pub fn set_cpu_number(cpu: u32) -> u32 {
    let rdpid = core::arch::x86_64::__cpuid_count(7, 0).ecx & (1 << 22) != 0;
    let rdtscp = core::arch::x86_64::__cpuid(0x8000_0001).edx & (1 << 27) != 0;
    if !rdpid && !rdtscp {
        return vvar::getcpu::SINGLE;
    }
    // SAFETY: CPUID reports RDTSCP or RDPID, so IA32_TSC_AUX exists; it
    // only feeds those two instructions.
    unsafe { Msr::new(IA32_TSC_AUX).write(u64::from(cpu)) };
    if rdpid {
        vvar::getcpu::RDPID
    } else {
        vvar::getcpu::RDTSCP
    }
}
