// Link the `rudder` binary as a position-dependent executable.
//
// A PIE of this size carries ~75,000 relative relocations in `.data.rel.ro`; the dynamic
// loader writes every one at start-up, copy-on-write faulting ~450 pages (about 1 ms of a
// `rudder template` run). Linked without PIE the addresses are fixed at link time and only
// the pages a run touches are ever mapped. Only the binaries get the flag: tests, benches
// and proc-macro dylibs link as before.
fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
