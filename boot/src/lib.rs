//! Builds the system and runs it in QEMU.
//!
//! - [`build`]: compiles the microkernel, the pager server and every user
//!   program for `x86_64-unknown-none` (in `target/kernel`, a separate
//!   target directory, so it can run from inside `cargo test`).
//! - [`ramdisk`]: packs `cmdline`, the pager (as `pager`), the programs
//!   and the `--exec` programs with their list ([`exec`]) into a ustar
//!   archive, the bootloader's ramdisk.
//! - [`image`]: BIOS and UEFI disk images with the `bootloader` crate.
//! - [`qemu`]: runs an image, reads its log (COM1) and program output
//!   (COM2), and turns the guest's `isa-debug-exit` code into an
//!   [`qemu::Outcome`]; [`exit`] turns the programs' exit reports into the
//!   runner's status.
//! - [`workspace`]: finds the checkout at run time.
//! - [`linux_guest`]: Debian's Linux in the same QEMU with a program as
//!   `/init`, for the benchmark's same-binary comparison.

pub mod build;
pub mod exec;
pub mod exit;
pub mod image;
pub mod linux_guest;
pub mod qemu;
pub mod ramdisk;
pub mod workspace;

use std::path::PathBuf;

/// The workspace root, found at run time ([`workspace::root`]).
pub fn workspace_root() -> Result<PathBuf> {
    Ok(workspace::root()?)
}

/// A failure of the runner itself, with a message for a person.
#[derive(Debug)]
pub struct Error(pub String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error(e.to_string())
    }
}

impl From<workspace::WorkspaceError> for Error {
    fn from(e: workspace::WorkspaceError) -> Self {
        Error(e.to_string())
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// Everything one boot needs: what to build, how to boot, what to run.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Names the directory its ramdisk and image go to, so scenarios can
    /// run side by side.
    pub name: String,
    pub release: bool,
    pub firmware: image::Firmware,
    /// The kernel command line (see the README for the words).
    pub cmdline: String,
    /// Host programs to pack and run (`--exec`), in order.
    pub exec: Vec<exec::ExecProgram>,
    pub qemu: qemu::QemuOptions,
}

/// Checks QEMU is there, builds, packs, makes the image and runs it.
pub fn run(scenario: &Scenario) -> Result<qemu::RunResult> {
    qemu::check_installed(scenario.firmware, &scenario.qemu)?;
    let artifacts = build::build(scenario.release)?;
    run_built(&artifacts, scenario)
}

/// Packs, makes the image and runs it, with the guest already built. The
/// ramdisk and image live in a directory of this process and scenario, so
/// runs side by side (even from two `cargo test`s) never share files; it is
/// removed afterwards.
pub fn run_built(artifacts: &build::Artifacts, scenario: &Scenario) -> Result<qemu::RunResult> {
    let dir = artifacts
        .kernel
        .with_file_name("scenarios")
        .join(format!("{}-{}", scenario.name, std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = (|| {
        let cmdline = if scenario.exec.is_empty() {
            scenario.cmdline.clone()
        } else {
            exec::with_personality(&scenario.cmdline)
        };
        let ramdisk = ramdisk::pack(artifacts, &cmdline, &scenario.exec, &dir)?;
        let image = image::make(&artifacts.kernel, &ramdisk, scenario.firmware, &dir)?;
        qemu::run(&image, scenario.firmware, &scenario.qemu)
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}
