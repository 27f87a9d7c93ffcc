//! The pager's settings: a registry-like key/value store that mirrors the
//! sysctl names. A bad value is refused with a clear error and the old value
//! stays.

use alloc::{format, string::String, vec::Vec};

/// `kernel.randomize_va_space`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum RandomizeVaSpace {
    /// 0: everything at fixed addresses.
    Off = 0,
    /// 1: stack, mmap base and vDSO randomized; not the heap or program base.
    Conservative = 1,
    /// 2: also the heap (brk start) and position-independent program bases.
    Full = 2,
}

/// How much entropy ASLR uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AslrProfile {
    /// The design's ranges: stack over 8 MiB, mmap base over 1 GiB, heap over
    /// 32 MiB, PIE base over 1 GiB.
    Default,
    /// Linux's entropy: mmap base 28 bits of pages, stack over 16 GiB plus a
    /// sub-page shift, heap over 1 GiB.
    Linux,
}

/// When a fault maps a 2 MiB page (Linux's
/// `/sys/kernel/mm/transparent_hugepage/enabled` and its boot option
/// `transparent_hugepage=`): only where the VMA covers the aligned 2 MiB
/// around the fault, anonymous and private, with none of it resident yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HugePages {
    /// 4 KiB pages only (the default: the `huge` policy turns them on).
    Never,
    /// In VMAs advised with MADV_HUGEPAGE.
    Madvise,
    /// Wherever possible, but in VMAs advised with MADV_NOHUGEPAGE.
    Always,
}

impl HugePages {
    const NAMES: [(HugePages, &'static str); 3] = [
        (HugePages::Never, "never"),
        (HugePages::Madvise, "madvise"),
        (HugePages::Always, "always"),
    ];

    fn name(self) -> &'static str {
        Self::NAMES.iter().find(|(h, _)| *h == self).map_or("never", |(_, n)| n)
    }
}

/// Every setting, with Linux's defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub randomize_va_space: RandomizeVaSpace,
    pub aslr_profile: AslrProfile,
    /// `vm.mmap_min_addr`: nothing is mapped below it.
    pub mmap_min_addr: u64,
    /// `vm.max_map_count`.
    pub max_map_count: usize,
    /// The `stack_guard_gap` boot option, in pages.
    pub stack_guard_gap: u64,
    /// Five-level paging (LA57): a 57-bit user range.
    pub la57: bool,
    /// `transparent_hugepage`: when faults map 2 MiB pages.
    pub huge_pages: HugePages,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            randomize_va_space: RandomizeVaSpace::Full,
            aslr_profile: AslrProfile::Default,
            mmap_min_addr: 65_536,
            max_map_count: crate::vma::DEFAULT_MAX_MAP_COUNT,
            stack_guard_gap: 256,
            la57: false,
            huge_pages: HugePages::Never,
        }
    }
}

/// Why a setting was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SettingError {
    UnknownKey(String),
    BadValue {
        key: String,
        value: String,
        why: &'static str,
    },
}

impl core::fmt::Display for SettingError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SettingError::UnknownKey(k) => write!(f, "unknown setting {k:?}"),
            SettingError::BadValue { key, value, why } => write!(f, "{key}={value} refused: {why}"),
        }
    }
}

fn parse_u64(key: &str, value: &str) -> Result<u64, SettingError> {
    let v = value.trim();
    let parsed = match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => v.parse(),
    };
    parsed.map_err(|_| SettingError::BadValue {
        key: key.into(),
        value: value.into(),
        why: "not a number",
    })
}

impl Settings {
    /// The names `set` and `get` accept.
    pub const KEYS: [&'static str; 7] = [
        "kernel.randomize_va_space",
        "vm.mmap_min_addr",
        "vm.max_map_count",
        "stack_guard_gap",
        "aslr_profile",
        "la57",
        "transparent_hugepage",
    ];

    /// Sets `key` to `value`; on error nothing changes. The command-line
    /// short names `aslr` and `randomize_va_space` are accepted too.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), SettingError> {
        let bad = |why| SettingError::BadValue {
            key: key.into(),
            value: value.into(),
            why,
        };
        match key {
            "kernel.randomize_va_space" | "randomize_va_space" | "aslr" => {
                self.randomize_va_space = match parse_u64(key, value)? {
                    0 => RandomizeVaSpace::Off,
                    1 => RandomizeVaSpace::Conservative,
                    2 => RandomizeVaSpace::Full,
                    _ => return Err(bad("must be 0, 1 or 2")),
                }
            }
            "vm.mmap_min_addr" | "mmap_min_addr" => {
                let v = parse_u64(key, value)?;
                if v % libipc::types::PAGE_SIZE != 0 {
                    return Err(bad("must be a multiple of the page size"));
                }
                if v >= 1 << 32 {
                    return Err(bad("must be below 4 GiB"));
                }
                self.mmap_min_addr = v;
            }
            "vm.max_map_count" | "max_map_count" => {
                let v = parse_u64(key, value)?;
                if !(1..=i32::MAX as u64).contains(&v) {
                    return Err(bad("must be between 1 and 2^31-1"));
                }
                self.max_map_count = v as usize;
            }
            "stack_guard_gap" => {
                let v = parse_u64(key, value)?;
                if v > 1 << 20 {
                    return Err(bad("at most 2^20 pages"));
                }
                self.stack_guard_gap = v;
            }
            "aslr_profile" => {
                self.aslr_profile = match value {
                    "default" => AslrProfile::Default,
                    "linux" => AslrProfile::Linux,
                    _ => return Err(bad("must be default or linux")),
                }
            }
            "la57" => {
                self.la57 = match value {
                    "0" | "off" => false,
                    "1" | "on" => true,
                    _ => return Err(bad("must be 0 or 1")),
                }
            }
            "transparent_hugepage" => {
                self.huge_pages = HugePages::NAMES
                    .iter()
                    .find(|(_, n)| *n == value)
                    .map(|(h, _)| *h)
                    .ok_or_else(|| bad("must be always, madvise or never"))?;
            }
            _ => return Err(SettingError::UnknownKey(key.into())),
        }
        Ok(())
    }

    /// The settings whose value differs from `before`, as
    /// `(key, before's value, this value)`: what a policy's
    /// [`crate::policy::Policy::adjust_settings`] overrode, for the pager to
    /// say so rather than silently ignore the command line.
    pub fn changes_from(&self, before: &Settings) -> Vec<(&'static str, String, String)> {
        Self::KEYS
            .iter()
            .filter_map(|&key| {
                let (old, new) = (before.get(key).ok()?, self.get(key).ok()?);
                (old != new).then_some((key, old, new))
            })
            .collect()
    }

    /// Narrows the settings to the paging the kernel runs (`levels`, from
    /// `PagerBootInfo::paging_levels`): `la57=1` asks for 56-bit user
    /// addresses, which only 5-level page tables can map; with 4-level
    /// paging an address above 47 bits is not even canonical. Anything but
    /// 4 or 5 is treated as 4, the narrowest x86-64 long mode has. Returns
    /// the warning to log when a request was dropped.
    pub fn fit_paging_levels(&mut self, levels: u64) -> Option<String> {
        match levels {
            5 => None,
            4 if self.la57 => {
                self.la57 = false;
                Some("la57=1 ignored: the kernel runs 4-level paging (user addresses stay below 2^47)".into())
            }
            4 => None,
            other => {
                let dropped = core::mem::replace(&mut self.la57, false);
                Some(format!(
                    "the kernel reports {other} paging levels; assuming 4{}",
                    if dropped { " (la57=1 ignored)" } else { "" }
                ))
            }
        }
    }

    pub fn get(&self, key: &str) -> Result<String, SettingError> {
        Ok(match key {
            "kernel.randomize_va_space" => format!("{}", self.randomize_va_space as u8),
            "vm.mmap_min_addr" => format!("{}", self.mmap_min_addr),
            "vm.max_map_count" => format!("{}", self.max_map_count),
            "stack_guard_gap" => format!("{}", self.stack_guard_gap),
            "aslr_profile" => match self.aslr_profile {
                AslrProfile::Default => "default".into(),
                AslrProfile::Linux => "linux".into(),
            },
            "la57" => format!("{}", u8::from(self.la57)),
            "transparent_hugepage" => self.huge_pages.name().into(),
            _ => return Err(SettingError::UnknownKey(key.into())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_round_trips() {
        let mut s = Settings::default();
        for key in Settings::KEYS {
            let v = s.get(key).unwrap();
            s.set(key, &v).unwrap();
        }
        assert_eq!(s, Settings::default());
    }

    #[test]
    fn bad_values_are_refused_and_the_old_value_stays() {
        let mut s = Settings::default();
        for (key, value) in [
            ("kernel.randomize_va_space", "3"),
            ("kernel.randomize_va_space", "two"),
            ("vm.mmap_min_addr", "4097"),
            ("vm.mmap_min_addr", "0x100000000"),
            ("vm.max_map_count", "0"),
            ("stack_guard_gap", "99999999"),
            ("aslr_profile", "strong"),
            ("la57", "yes"),
            ("transparent_hugepage", "sometimes"),
        ] {
            let before = s.clone();
            let err = s.set(key, value).unwrap_err();
            assert!(matches!(err, SettingError::BadValue { .. }), "{key}={value}: {err}");
            assert_eq!(s, before, "{key}={value} changed the settings");
        }
        assert_eq!(s.set("vm.nope", "1"), Err(SettingError::UnknownKey("vm.nope".into())));
    }

    #[test]
    fn changes_from_lists_what_differs() {
        let before = Settings::default();
        let mut s = before.clone();
        assert!(s.changes_from(&before).is_empty());
        s.randomize_va_space = RandomizeVaSpace::Off;
        s.la57 = true;
        assert_eq!(
            s.changes_from(&before),
            [
                ("kernel.randomize_va_space", "2".into(), "0".into()),
                ("la57", "0".into(), "1".into())
            ]
        );
    }

    #[test]
    fn la57_is_kept_only_on_a_5_level_kernel() {
        let mut s = Settings::default();
        s.set("la57", "1").unwrap();
        let mut five = s.clone();
        assert_eq!(five.fit_paging_levels(5), None);
        assert!(five.la57);
        let mut four = s.clone();
        let warning = four.fit_paging_levels(4).unwrap();
        assert!(
            warning.starts_with("la57=1 ignored: the kernel runs 4-level paging"),
            "{warning}"
        );
        assert!(!four.la57);
        // Without la57=1 there is nothing to say.
        for levels in [4, 5] {
            let mut plain = Settings::default();
            assert_eq!(plain.fit_paging_levels(levels), None);
            assert!(!plain.la57);
        }
    }

    #[test]
    fn unknown_paging_levels_are_treated_as_4() {
        let mut s = Settings::default();
        s.set("la57", "1").unwrap();
        assert_eq!(
            s.fit_paging_levels(0).as_deref(),
            Some("the kernel reports 0 paging levels; assuming 4 (la57=1 ignored)")
        );
        assert!(!s.la57);
        let mut plain = Settings::default();
        assert_eq!(
            plain.fit_paging_levels(6).as_deref(),
            Some("the kernel reports 6 paging levels; assuming 4")
        );
        assert_eq!(plain, Settings::default());
    }

    #[test]
    fn values_apply() {
        let mut s = Settings::default();
        s.set("kernel.randomize_va_space", "0").unwrap();
        s.set("vm.mmap_min_addr", "0x10000").unwrap();
        s.set("stack_guard_gap", "64").unwrap();
        s.set("transparent_hugepage", "madvise").unwrap();
        assert_eq!(s.huge_pages, HugePages::Madvise);
        assert_eq!(s.get("transparent_hugepage").unwrap(), "madvise");
        assert_eq!(s.randomize_va_space as u8, 0);
        assert_eq!(s.mmap_min_addr, 0x10000);
        assert_eq!(s.stack_guard_gap, 64);
    }
}
