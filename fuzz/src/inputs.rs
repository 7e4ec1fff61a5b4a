//! The compile/load target: bytes that are rarely wasm, and wasm-smith
//! modules with a few bytes changed, go to the compiler and the loader.
//! Each must answer with a result or an error, never panic; a module that
//! validates must compile (or be refused as unsupported), one that does not
//! must be refused; what compiles must load and run (under fuel, since a
//! changed module may loop).

use crate::{Finding, Outcome, smith};
use arbitrary::Unstructured;
use cmc_compiler::CompileError;
use cmc_runtime::{self as cmc, CompileSettings};

/// The fuel a changed module may burn: it may loop forever.
const RUN_FUEL: u64 = 200_000;

/// The wasm header, so that random bytes get past the magic number.
const WASM_HEADER: &[u8] = b"\0asm\x01\0\0\0";

/// Checks one case.
pub fn check(data: &[u8]) -> Result<Outcome, Finding> {
    let Some((&choice, rest)) = data.split_first() else {
        return Ok(Outcome::Skipped("no bytes"));
    };
    let wasm = match choice % 3 {
        // Random bytes, as they are.
        0 => rest.to_vec(),
        // Random bytes after a wasm header.
        1 => [WASM_HEADER, rest].concat(),
        // A generated module with a few bytes changed.
        _ => {
            let mut u = Unstructured::new(rest);
            let Some(mut wasm) = smith::module(&mut u) else {
                return Ok(Outcome::Skipped("too few bytes for a module"));
            };
            let changes = u.int_in_range(1..=4).unwrap_or(1);
            for _ in 0..changes {
                let at = u.choose_index(wasm.len()).unwrap_or(0);
                wasm[at] = u.arbitrary().unwrap_or(0);
            }
            wasm
        }
    };
    compile_load_run(&wasm)
}

/// Compiles `wasm`, checks the answer against the validator, and loads and
/// runs what compiled.
fn compile_load_run(wasm: &[u8]) -> Result<Outcome, Finding> {
    let settings = CompileSettings {
        consume_fuel: true,
        ..CompileSettings::default()
    };
    // Valid as cmc reads it: WebAssembly 2.0 for a core module, and for a
    // component what its parser accepts.
    let features = if wasmparser::Parser::is_component(wasm) {
        cmc_compiler::component::component_features()
    } else {
        cmc_compiler::module::features(cmc::Proposals::default())
    };
    let valid = (wasmparser::Validator::new_with_features(features))
        .validate_all(wasm)
        .is_ok();
    let artifact = match cmc_compiler::compile(wasm, &settings, None) {
        Ok(artifact) => artifact,
        Err(CompileError::Unsupported(_)) => return Ok(Outcome::Skipped("unsupported feature")),
        Err(e) if valid => {
            return Err(Finding(format!(
                "a valid module was refused: {e}\nmodule: {}",
                crate::differential::hex(wasm)
            )));
        }
        Err(_) => return Ok(Outcome::Checked),
    };
    if !valid {
        return Err(Finding(format!(
            "an invalid module compiled\nmodule: {}",
            crate::differential::hex(wasm)
        )));
    }
    let mut config = cmc::Config::default();
    config.consume_fuel(true);
    let engine = cmc::Engine::new(config);
    let loaded = if wasmparser::Parser::is_component(wasm) {
        // SAFETY: the artifact was compiled just now by this cmc.
        unsafe { cmc::component::Component::from_artifact(&engine, &artifact) }.map(|_| None)
    } else {
        // SAFETY: as above.
        unsafe { cmc::Module::from_artifact(&engine, &artifact) }.map(Some)
    };
    match loaded {
        Ok(Some(module)) => run_exports(&module, RUN_FUEL),
        Ok(None) => Ok(Outcome::Checked),
        Err(e) => Err(Finding(format!("a fresh artifact did not load: {e}"))),
    }
}

/// Instantiates `module` without imports (a module with some is refused
/// with an error) and calls each exported function with zeros, under
/// `fuel`; any outcome but a panic is fine.
pub fn run_exports(module: &cmc::Module, fuel: u64) -> Result<Outcome, Finding> {
    let mut store = cmc::Store::new(module.engine(), ());
    store.set_fuel(fuel);
    let Ok(instance) = cmc::Linker::new().instantiate(&mut store, module) else {
        return Ok(Outcome::Checked);
    };
    for (_, export) in instance.exports(&store) {
        if let Some(func) = export.into_func() {
            let ty = func.ty(&store);
            let args = crate::zeros(&ty.params);
            let mut results = crate::zeros(&ty.results);
            let _ = func.call(&mut store, &args, &mut results);
        }
    }
    Ok(Outcome::Checked)
}
