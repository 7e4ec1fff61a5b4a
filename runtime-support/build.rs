//! Builds the tiny C helper that owns `setjmp`/`longjmp`: Rust cannot call
//! `setjmp` soundly, so the jump buffer lives in a C frame.
fn main() {
    println!("cargo:rerun-if-changed=csrc/unwind.c");
    cc::Build::new().file("csrc/unwind.c").compile("cmc_unwind");
}
