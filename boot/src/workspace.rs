//! Finding the workspace at run time. A path fixed when the runner was
//! built would make a copied checkout silently boot the original tree's
//! programs, so the root is looked up from the current directory instead.

use std::path::{Path, PathBuf};

/// Names the workspace explicitly, e.g. when running from outside it.
pub const OVERRIDE_VAR: &str = "BOOT_WORKSPACE";

/// Why the workspace was not found.
#[derive(Debug, PartialEq, Eq)]
pub enum WorkspaceError {
    /// No ancestor of the start directory holds the workspace's Cargo.toml.
    NotFound { start: PathBuf },
    /// The override names a directory that is not this project's workspace.
    BadOverride { path: PathBuf },
}

impl std::fmt::Display for WorkspaceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WorkspaceError::NotFound { start } => write!(
                f,
                "no workspace Cargo.toml (one listing `microkernel` and `boot`) in {} or above it: \
                 run from inside the checkout or set {OVERRIDE_VAR}=/path/to/checkout",
                start.display()
            ),
            WorkspaceError::BadOverride { path } => write!(
                f,
                "{OVERRIDE_VAR}={} is not this project's workspace (no Cargo.toml listing `microkernel` and `boot`)",
                path.display()
            ),
        }
    }
}

impl std::error::Error for WorkspaceError {}

/// Whether `dir` is this project's workspace root: its Cargo.toml has a
/// `[workspace]` table naming the kernel and the runner.
fn is_root(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("Cargo.toml")).is_ok_and(|toml| {
        toml.lines().any(|l| l.trim() == "[workspace]") && toml.contains("\"microkernel\"") && toml.contains("\"boot\"")
    })
}

/// The workspace: `override_dir` when given (it must be the workspace),
/// else the nearest ancestor of `start` (itself included) that is.
pub fn find(start: &Path, override_dir: Option<&Path>) -> Result<PathBuf, WorkspaceError> {
    if let Some(dir) = override_dir {
        return if is_root(dir) {
            Ok(dir.to_path_buf())
        } else {
            Err(WorkspaceError::BadOverride {
                path: dir.to_path_buf(),
            })
        };
    }
    start
        .ancestors()
        .find(|dir| is_root(dir))
        .map(Path::to_path_buf)
        .ok_or_else(|| WorkspaceError::NotFound {
            start: start.to_path_buf(),
        })
}

/// The workspace of this process: `$BOOT_WORKSPACE`, or found upward from
/// the current directory.
pub fn root() -> Result<PathBuf, WorkspaceError> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let over = std::env::var_os(OVERRIDE_VAR).map(PathBuf::from);
    find(&cwd, over.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory under the system's temporary directory.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("boot-workspace-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("a/b")).unwrap();
        dir
    }

    const ROOT_TOML: &str = "[workspace]\nmembers = [\n    \"microkernel\",\n    \"boot\",\n]\n";

    #[test]
    fn found_from_a_subdirectory_of_a_copy() {
        let dir = scratch("copy");
        std::fs::write(dir.join("Cargo.toml"), ROOT_TOML).unwrap();
        // A member's own Cargo.toml on the way up is not the root.
        std::fs::write(dir.join("a/Cargo.toml"), "[package]\nname = \"a\"\n").unwrap();
        assert_eq!(find(&dir.join("a/b"), None), Ok(dir.clone()));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn this_checkout_is_found_from_the_crate_directory() {
        let here = Path::new(env!("CARGO_MANIFEST_DIR"));
        assert_eq!(find(here, None), Ok(here.parent().unwrap().to_path_buf()));
    }

    #[test]
    fn another_workspace_is_not_ours() {
        let dir = scratch("other");
        std::fs::write(dir.join("Cargo.toml"), "[workspace]\nmembers = [\"x\"]\n").unwrap();
        let err = find(&dir.join("a"), None).unwrap_err();
        assert!(matches!(err, WorkspaceError::NotFound { .. }), "{err}");
        assert!(err.to_string().contains(OVERRIDE_VAR), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_override_wins_and_is_checked() {
        let dir = scratch("override");
        std::fs::write(dir.join("Cargo.toml"), ROOT_TOML).unwrap();
        let here = Path::new(env!("CARGO_MANIFEST_DIR"));
        assert_eq!(find(here, Some(&dir)), Ok(dir.clone()));
        let err = find(here, Some(&dir.join("a"))).unwrap_err();
        assert_eq!(err, WorkspaceError::BadOverride { path: dir.join("a") });
        assert!(err.to_string().contains("is not this project's workspace"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
