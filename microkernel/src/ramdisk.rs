//! The boot ramdisk: a ustar archive packed by `boot`, holding `cmdline`,
//! the pager and the programs.

use tar_no_std::TarArchiveRef;

pub struct Ramdisk<'a> {
    archive: TarArchiveRef<'a>,
}

impl<'a> Ramdisk<'a> {
    pub fn new(bytes: &'a [u8]) -> Result<Self, &'static str> {
        TarArchiveRef::new(bytes)
            .map(|archive| Ramdisk { archive })
            .map_err(|_| "the ramdisk is not a tar archive")
    }

    /// The contents of the file `name`.
    pub fn file(&self, name: &str) -> Option<&'a [u8]> {
        self.archive
            .entries()
            .find(|e| e.filename().as_str().is_ok_and(|n| n == name))
            .map(|e| e.data())
    }
}
