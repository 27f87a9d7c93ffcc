//! The legacy vsyscall page (Linux's, at a fixed address in the kernel
//! half): three entry points old static binaries call directly. The boot
//! word `vsyscall=` picks Linux's mode; the kernel maps the page's code
//! (readable, never executable) in `emulate` mode, and the pager emulates
//! the calls that fault on it in `emulate` and `xonly` modes.

/// The page's address and size.
pub const START: u64 = 0xffff_ffff_ff60_0000;
pub const END: u64 = START + 4096;

/// The entry points' offsets and the Linux system calls they make.
pub const GETTIMEOFDAY: u64 = 0x000;
pub const TIME: u64 = 0x400;
pub const GETCPU: u64 = 0x800;

/// Linux's `vsyscall=` modes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Mode {
    /// The page is readable (it holds the entry points' code) and calls
    /// into it are emulated.
    Emulate,
    /// Calls are emulated; the page cannot be read (Linux's default).
    #[default]
    XOnly,
    /// No vsyscall page: any use kills.
    None,
}

impl Mode {
    pub fn parse(word: &str) -> Option<Mode> {
        Some(match word {
            "emulate" => Mode::Emulate,
            "xonly" => Mode::XOnly,
            "none" => Mode::None,
            _ => return None,
        })
    }

    /// Calls into the page are emulated.
    pub const fn emulates(self) -> bool {
        matches!(self, Mode::Emulate | Mode::XOnly)
    }
}

/// The page's bytes in `emulate` mode, as Linux's: at each entry point
/// `mov rax, NR; syscall; ret`, and `int3` everywhere else. Nobody runs
/// them (the page is not executable: a call faults and is emulated); a
/// program may read them.
pub fn page_image() -> [u8; 4096] {
    let mut page = [0xcc; 4096];
    for (offset, nr) in [(GETTIMEOFDAY, 96u32), (TIME, 201), (GETCPU, 309)] {
        let at = offset as usize;
        page[at..at + 3].copy_from_slice(&[0x48, 0xc7, 0xc0]);
        page[at + 3..at + 7].copy_from_slice(&nr.to_le_bytes());
        page[at + 7..at + 10].copy_from_slice(&[0x0f, 0x05, 0xc3]);
    }
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_and_the_page_holds_the_entry_points() {
        assert_eq!(Mode::parse("emulate"), Some(Mode::Emulate));
        assert_eq!(Mode::parse("xonly"), Some(Mode::XOnly));
        assert_eq!(Mode::parse("none"), Some(Mode::None));
        assert_eq!(Mode::parse("native"), None);
        assert_eq!(Mode::default(), Mode::XOnly);
        let page = page_image();
        assert_eq!(
            &page[0x400..0x40a],
            &[0x48, 0xc7, 0xc0, 0xc9, 0, 0, 0, 0x0f, 0x05, 0xc3]
        );
        assert_eq!(page[0x40a], 0xcc);
    }
}
