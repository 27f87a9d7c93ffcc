//! Links the server binary like every user program: static, non-PIE, at
//! 0x400000 (see `runtime/user.ld`). Host binaries are unaffected.
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    if std::env::var("TARGET").is_ok_and(|t| t == "x86_64-unknown-none") {
        println!("cargo:rustc-link-arg-bin=pager-server=-T{dir}/../runtime/user.ld");
        println!("cargo:rustc-link-arg-bin=pager-server=--no-pie");
    }
    println!("cargo:rerun-if-changed=../runtime/user.ld");
}
