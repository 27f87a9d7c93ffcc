//! Links every program as a static, non-relocatable executable at the
//! classic base 0x400000 (see `runtime/user.ld`), so the pager can load it without
//! applying relocations.
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    println!("cargo:rustc-link-arg-bins=-T{dir}/../runtime/user.ld");
    println!("cargo:rustc-link-arg-bins=--no-pie");
    println!("cargo:rerun-if-changed=../runtime/user.ld");
}
