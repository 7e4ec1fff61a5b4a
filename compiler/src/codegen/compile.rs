//! Compiling a translated module's functions and trampolines.

use super::artifact::{Symbols, write_artifact};
use super::link::{CompiledFunction, link};
use crate::error::{CompileError, Result};
use crate::module::ModuleTranslation;
use crate::trampoline::{entry_trampoline, exit_trampoline};
use crate::translate::{ModuleEnv, translate_function};
use cmc_runtime::abi::{ArtifactKind, CompileSettings};
use cranelift_codegen::isa::TargetIsa;
use cranelift_codegen::{Context, ir};
use cranelift_frontend::FunctionBuilderContext;
use rayon::prelude::*;
use wasmparser::FuncValidatorAllocations;

/// Compiles `wasm` (a core module, binary) into artifact bytes.
pub fn compile_module(
    wasm: &[u8],
    isa: &dyn TargetIsa,
    settings: &CompileSettings,
    symbols: Symbols,
) -> Result<Vec<u8>> {
    let ModuleTranslation {
        mut meta,
        data,
        bodies,
    } = crate::module::translate_module(wasm)?;
    let env = ModuleEnv::new(&meta, isa);
    let imported = meta.num_imported_funcs;

    let functions: Vec<CompiledFunction> = bodies
        .into_par_iter()
        .enumerate()
        .map_init(
            || {
                (
                    FunctionBuilderContext::new(),
                    Context::new(),
                    FuncValidatorAllocations::default(),
                )
            },
            |(builder, ctx, allocs), (i, (validate, body))| {
                let mut validator = validate.into_validator(std::mem::take(allocs));
                let func =
                    translate_function(&env, imported + i as u32, &body, &mut validator, builder)?;
                *allocs = validator.into_allocations();
                compile(isa, ctx, func)
            },
        )
        .collect::<Result<_>>()?;

    let escaping: Vec<u32> = (imported..meta.functions.len() as u32)
        .filter(|&f| meta.func_ref_slots[f as usize] != cmc_runtime::abi::NO_FUNC_REF)
        .collect();
    let entries: Vec<CompiledFunction> = escaping
        .par_iter()
        .map_init(
            || (FunctionBuilderContext::new(), Context::new()),
            |(builder, ctx), &f| compile(isa, ctx, entry_trampoline(&env, f, builder)),
        )
        .collect::<Result<_>>()?;
    let exits: Vec<CompiledFunction> = (0..imported)
        .into_par_iter()
        .map_init(
            || (FunctionBuilderContext::new(), Context::new()),
            |(builder, ctx), i| compile(isa, ctx, exit_trampoline(&env, i, builder)),
        )
        .collect::<Result<_>>()?;

    let linked = link(isa, &functions, &entries, &exits)?;
    let names = symbol_names(&meta, &escaping, &linked);
    meta.code = linked.functions;
    meta.array_trampolines = escaping.into_iter().zip(linked.entries).collect();
    meta.import_trampolines = linked.exits;
    meta.traps = linked.traps;
    write_artifact(
        isa,
        settings,
        ArtifactKind::Module,
        &linked.text,
        &meta,
        &data,
        &names,
        symbols,
    )
}

/// A symbol for every function and trampoline: the name-section name where
/// there is one, so that profilers and debuggers can name code.
fn symbol_names(
    meta: &cmc_runtime::abi::ModuleMeta,
    escaping: &[u32],
    linked: &super::link::Linked,
) -> Vec<(String, cmc_runtime::abi::CodeRange)> {
    let func_name = |i: u32| match meta.func_name(i) {
        Some(name) => format!("wasm[{i}]::{name}"),
        None => format!("wasm[{i}]"),
    };
    let imported = meta.num_imported_funcs;
    let functions = linked
        .functions
        .iter()
        .enumerate()
        .map(|(i, &r)| (func_name(imported + i as u32), r));
    let entries = escaping
        .iter()
        .zip(&linked.entries)
        .map(|(&f, &r)| (format!("array_call[{f}]"), r));
    let exits = linked
        .exits
        .iter()
        .enumerate()
        .map(|(i, &r)| (format!("host_call[{i}]"), r));
    functions.chain(entries).chain(exits).collect()
}

/// Compiles one Cranelift function.
fn compile(isa: &dyn TargetIsa, ctx: &mut Context, func: ir::Function) -> Result<CompiledFunction> {
    ctx.clear();
    ctx.func = func;
    let mut plane = cranelift_codegen::control::ControlPlane::default();
    ctx.compile(isa, &mut plane)
        .map_err(|e| CompileError::Codegen(format!("{:?}", e.inner)))?;
    let compiled = ctx.compiled_code().expect("just compiled");
    CompiledFunction::new(compiled, &ctx.func)
}
