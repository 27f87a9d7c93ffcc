//! The boot ramdisk, mapped read-only by the kernel: the command line and
//! the programs to run. File ids are indices in archive order, used as the
//! file objects of file-backed mappings.

use libipc::abi::{PagerBootInfo, pager_layout::RAMDISK_WINDOW};
use tar_no_std::TarArchiveRef;

pub struct Ramdisk {
    files: alloc::vec::Vec<(&'static str, &'static [u8])>,
}

impl Ramdisk {
    pub fn new(info: &PagerBootInfo) -> Result<Self, &'static str> {
        // SAFETY: the kernel maps the ramdisk read-only at RAMDISK_WINDOW
        // with this length before we run, and never unmaps it.
        let bytes: &'static [u8] =
            unsafe { core::slice::from_raw_parts(RAMDISK_WINDOW as *const u8, info.ramdisk_len as usize) };
        let archive = TarArchiveRef::new(bytes).map_err(|_| "the ramdisk is not a tar archive")?;
        let mut files = alloc::vec::Vec::new();
        for entry in archive.entries() {
            let name = entry.filename();
            let name = name.as_str().map_err(|_| "a ramdisk file name is not UTF-8")?;
            // Entries borrow the archive; the archive borrows 'static bytes.
            let data: &'static [u8] =
                &bytes[entry.data().as_ptr() as usize - bytes.as_ptr() as usize..][..entry.data().len()];
            let name: &'static str = alloc::string::String::from(name).leak();
            files.push((name, data));
        }
        Ok(Ramdisk { files })
    }

    /// The file id and contents of `name`.
    pub fn find(&self, name: &str) -> Option<(usize, &'static [u8])> {
        self.files
            .iter()
            .position(|(n, _)| *n == name)
            .map(|i| (i, self.files[i].1))
    }

    pub fn file(&self, id: usize) -> Option<&'static [u8]> {
        self.files.get(id).map(|(_, d)| *d)
    }

    /// The file bytes of a page filled by `Fill::File { file, offset, len }`
    /// (the rest of the page is zeros), clipped to the file.
    pub fn page_data(&self, file: pager::vma::FileId, offset: u64, len: u64) -> &'static [u8] {
        let data = self.file(file.0 as usize).unwrap_or(&[]);
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(data.len());
        let end = start.saturating_add(len as usize).min(data.len());
        &data[start..end]
    }
}
