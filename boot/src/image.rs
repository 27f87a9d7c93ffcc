//! Disk images made with the `bootloader` crate.

use std::path::{Path, PathBuf};

use bootloader_boot_config::LevelFilter;

use crate::{Error, Result};

/// Which firmware boots the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Firmware {
    Bios,
    Uefi,
}

/// Makes the image for `firmware` in `dir` and returns its path.
pub fn make(kernel: &Path, ramdisk: &Path, firmware: Firmware, dir: &Path) -> Result<PathBuf> {
    let out = dir.join(match firmware {
        Firmware::Bios => "bios.img",
        Firmware::Uefi => "uefi.img",
    });
    // The bootloader's own log is noise unless something goes wrong.
    let mut config = bootloader::BootConfig::default();
    config.log_level = LevelFilter::Warn;
    config.frame_buffer_logging = false;
    let made = match firmware {
        Firmware::Bios => bootloader::BiosBoot::new(kernel)
            .set_ramdisk(ramdisk)
            .set_boot_config(&config)
            .create_disk_image(&out),
        Firmware::Uefi => bootloader::UefiBoot::new(kernel)
            .set_ramdisk(ramdisk)
            .set_boot_config(&config)
            .create_disk_image(&out),
    };
    made.map_err(|e| Error(format!("making the {firmware:?} image failed: {e:#}")))?;
    Ok(out)
}
