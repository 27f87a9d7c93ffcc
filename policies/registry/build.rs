//! Writes the policy table: one entry per dependency of this crate but
//! `pager`, in the order of Cargo.toml (the first is the one listed first
//! in messages). Cargo cannot add a dependency by itself, so the one line
//! in Cargo.toml is the registration; this script turns it into the table
//! and refuses a crate under `policies/` that was forgotten there.

use std::{env, fs, path::Path};

#[path = "manifest.rs"]
mod manifest;

fn main() {
    let dir = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&dir);
    let registry = fs::read_to_string(dir.join("Cargo.toml")).expect("Cargo.toml is readable");
    let parent = dir.parent().expect("the registry lives in policies/");
    let siblings: Vec<(String, String)> = fs::read_dir(parent)
        .expect("policies/ is readable")
        .flatten()
        .filter_map(|e| {
            let text = fs::read_to_string(e.path().join("Cargo.toml")).ok()?;
            Some((e.file_name().to_string_lossy().into_owned(), text))
        })
        .collect();
    let policies = manifest::policies(&registry, &siblings).unwrap_or_else(|e| panic!("{e}"));
    let entries: String = policies
        .iter()
        .map(|p| format!("    {}::REGISTRATION,\n", p.replace('-', "_")))
        .collect();
    let table = format!(
        "/// Every registered policy, in the order of the registry's Cargo.toml.\n\
         pub static POLICIES: &[pager::policy::Registration] = &[\n{entries}];\n"
    );
    let out = env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    fs::write(Path::new(&out).join("table.rs"), table).expect("OUT_DIR is writable");
    println!("cargo::rerun-if-changed=Cargo.toml");
    println!("cargo::rerun-if-changed=manifest.rs");
    println!("cargo::rerun-if-changed=..");
}
