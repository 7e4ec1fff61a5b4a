//! Compiling a translated module's functions and trampolines.

use super::artifact::{Sections, Symbols, write_artifact};
use super::inline::Inliner;
use super::link::{CompiledFunction, link};
use crate::error::{CompileError, Result};
use crate::module::ModuleTranslation;
use crate::trampoline::{entry_trampoline, exit_trampoline};
use crate::translate::{ModuleEnv, translate_function};
use cmc_runtime::abi::{
    ArtifactKind, CodeRange, CompileSettings, DefinedFuncIndex, EntityRef, FuncIndex, ModuleMeta,
    PrimaryMap, TrapSite, TrapTable,
};
use cranelift_codegen::isa::TargetIsa;
use cranelift_codegen::{Context, ir};
use cranelift_frontend::FunctionBuilderContext;
use rayon::prelude::*;
use wasmparser::FuncValidatorAllocations;

/// A core module compiled to linked machine code.
pub struct CompiledModule {
    /// Its metadata, with code locations filled in.
    pub meta: ModuleMeta,
    /// Its linked code.
    pub text: Vec<u8>,
    /// The bytes of its data segments.
    pub data: Vec<u8>,
    /// Its trap sites, sorted by offset; the artifact writer encodes them
    /// into the trap section and sets `meta.traps`.
    pub traps: Vec<TrapSite>,
    /// A name for every function and trampoline.
    pub symbols: Vec<(String, CodeRange)>,
}

/// Compiles `wasm` (a core module, binary) into artifact bytes.
pub fn compile_module(
    wasm: &[u8],
    isa: &dyn TargetIsa,
    settings: &CompileSettings,
    symbols: Symbols,
) -> Result<Vec<u8>> {
    let mut module = compile_core(wasm, isa, crate::module::features())?;
    let mut traps = Vec::new();
    module.meta.traps = TrapTable::encode(&module.traps, &mut traps);
    write_artifact(
        isa,
        settings,
        ArtifactKind::Module,
        &Sections {
            text: &module.text,
            data: &module.data,
            traps: &traps,
        },
        &module.meta,
        &module.symbols,
        symbols,
    )
}

/// Validates and compiles a core module: every function in parallel, then
/// the trampolines, linked into one text.
pub fn compile_core(
    wasm: &[u8],
    isa: &dyn TargetIsa,
    features: wasmparser::WasmFeatures,
) -> Result<CompiledModule> {
    let ModuleTranslation {
        mut meta,
        data,
        bodies,
    } = crate::module::translate_module(wasm, features)?;
    let env = ModuleEnv::new(&meta, isa);

    // Translate (and validate) every function first, so that calls can be
    // inlined from any callee while compiling.
    let clif: Vec<ir::Function> = bodies
        .into_par_iter()
        .enumerate()
        .map_init(
            || {
                (
                    FunctionBuilderContext::new(),
                    FuncValidatorAllocations::default(),
                )
            },
            |(builder, allocs), (i, (validate, body))| {
                let mut validator = validate.into_validator(std::mem::take(allocs));
                let index = meta.func_index(DefinedFuncIndex::new(i));
                let func = translate_function(&env, index, &body, &mut validator, builder)?;
                *allocs = validator.into_allocations();
                Ok(func)
            },
        )
        .collect::<Result<_>>()?;
    let clif = PrimaryMap::<DefinedFuncIndex, _>::from(clif);
    let inliner = Inliner::new(&clif);
    let functions: Vec<CompiledFunction> = (clif.as_values_slice().par_iter())
        .map_init(Context::new, |ctx, func| {
            ctx.clear();
            ctx.func = func.clone();
            inliner.inline_into(ctx)?;
            compile_prepared(isa, ctx)
        })
        .collect::<Result<_>>()?;

    let escaping: Vec<FuncIndex> = (meta.func_ref_slots.iter())
        .filter_map(|(f, slot)| slot.map(|_| f))
        .collect();
    let entries: Vec<CompiledFunction> = escaping
        .par_iter()
        .map_init(
            || (FunctionBuilderContext::new(), Context::new()),
            |(builder, ctx), &f| compile(isa, ctx, entry_trampoline(&env, f, builder)),
        )
        .collect::<Result<_>>()?;
    let exits: Vec<CompiledFunction> = (0..meta.num_imported_funcs)
        .into_par_iter()
        .map(FuncIndex::from_u32)
        .map_init(
            || (FunctionBuilderContext::new(), Context::new()),
            |(builder, ctx), i| compile(isa, ctx, exit_trampoline(&env, i, builder)),
        )
        .collect::<Result<_>>()?;

    let linked = link(isa, &PrimaryMap::from(functions), &entries, &exits)?;
    let names = symbol_names(&meta, &escaping, &linked);
    meta.code = linked.functions;
    meta.array_trampolines = escaping.into_iter().zip(linked.entries).collect();
    meta.import_trampolines = linked.exits;
    Ok(CompiledModule {
        meta,
        text: linked.text,
        data,
        traps: linked.traps,
        symbols: names,
    })
}

/// A symbol for every function and trampoline: the name-section name where
/// there is one, so that profilers and debuggers can name code.
fn symbol_names(
    meta: &ModuleMeta,
    escaping: &[FuncIndex],
    linked: &super::link::Linked,
) -> Vec<(String, CodeRange)> {
    let func_name = |i: FuncIndex| match meta.func_name(i) {
        Some(name) => format!("wasm[{i}]::{name}"),
        None => format!("wasm[{i}]"),
    };
    let functions = (linked.functions.iter()).map(|(i, &r)| (func_name(meta.func_index(i)), r));
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
    compile_prepared(isa, ctx)
}

/// Compiles the function already in `ctx`.
fn compile_prepared(isa: &dyn TargetIsa, ctx: &mut Context) -> Result<CompiledFunction> {
    let mut plane = cranelift_codegen::control::ControlPlane::default();
    ctx.compile(isa, &mut plane)
        .map_err(|e| CompileError::Codegen(format!("{:?}", e.inner)))?;
    let compiled = ctx.compiled_code().expect("just compiled");
    CompiledFunction::new(compiled, &ctx.func)
}
