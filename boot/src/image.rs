//! Disk images made with the `bootloader` crate.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Which firmware boots the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Firmware {
    Bios,
    Uefi,
}

/// Makes the image for `firmware` next to the kernel and returns its path.
pub fn make(kernel: &Path, ramdisk: &Path, firmware: Firmware) -> Result<PathBuf> {
    let out = kernel.with_extension(match firmware {
        Firmware::Bios => "bios.img",
        Firmware::Uefi => "uefi.img",
    });
    let made = match firmware {
        Firmware::Bios => bootloader::BiosBoot::new(kernel).set_ramdisk(ramdisk).create_disk_image(&out),
        Firmware::Uefi => bootloader::UefiBoot::new(kernel).set_ramdisk(ramdisk).create_disk_image(&out),
    };
    made.map_err(|e| Error(format!("making the {firmware:?} image failed: {e:#}")))?;
    Ok(out)
}
