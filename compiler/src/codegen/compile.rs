//! Compiling a translated module's functions and trampolines.

use super::artifact::{Sections, Symbols, write_artifact};
use super::inline::{ForeignBodies, Inliner, inlinable_elsewhere};
use super::isa::supports_fixed_calls;
use super::link::{CompiledFunction, ForeignReloc, link};
use crate::error::{CompileError, Result};
use crate::module::{
    FunctionToCompile, ModuleTranslation, body_size, fixed_tables, translate_module,
};
use crate::progress::Progress;
use crate::trampoline::{entry_trampoline, exit_trampoline};
use crate::translate::{ForeignFunc, ModuleEnv, translate_function};
use cmc_runtime::abi::{
    ArtifactKind, CodeRange, CompileSettings, DefinedFuncIndex, EntityRef, FuncIndex, ModuleMeta,
    PrimaryMap, TrapSite, TrapTable,
};
use cranelift_codegen::isa::TargetIsa;
use cranelift_codegen::{Context, ir};
use cranelift_frontend::FunctionBuilderContext;
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use wasmparser::FuncValidatorAllocations;
use wasmparser::WasmFeatures;

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
    /// The references to other modules' functions in `text`.
    pub foreign: Vec<ForeignReloc>,
    /// The bodies of the functions [`CrossModule::wanted`] asked for that
    /// can be inlined into other modules.
    pub inlinable: Vec<(DefinedFuncIndex, ir::Function)>,
}

/// What the compile of one core module of a component knows of the
/// others: which of its calls go to functions of theirs, and which of its
/// functions they call.
#[derive(Default)]
pub struct CrossModule<'a> {
    /// The imported functions the plan binds to another module's function;
    /// where its body is in `bodies` (and the target can refer to its
    /// address), calls to them inline it behind a test of the binding.
    pub callees: HashMap<FuncIndex, ForeignFunc>,
    /// The bodies of the other modules' functions to inline.
    pub bodies: Option<&'a ForeignBodies>,
    /// The functions of this module that other modules call through fixed
    /// imports, whose bodies to keep if they can be inlined.
    pub wanted: HashSet<DefinedFuncIndex>,
    /// Whether the compiler generated the module (fused adapters): its
    /// functions may be inlined elsewhere even when they call or trap.
    pub generated: bool,
}

/// Compiles `wasm` (a core module, binary) into artifact bytes.
pub fn compile_module(
    wasm: &[u8],
    isa: &dyn TargetIsa,
    settings: &CompileSettings,
    symbols: Symbols,
    progress: &dyn Progress,
    features: WasmFeatures,
) -> Result<Vec<u8>> {
    let translation = translate_module(wasm, features)?;
    progress.add_work(translation.code_size());
    let mut module = compile_core(translation, isa, settings, progress, CrossModule::default())?;
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

/// Per-thread state for translating functions.
type TranslateState = (FunctionBuilderContext, FuncValidatorAllocations);

/// Compiles a translated core module: every function in parallel, then the
/// trampolines, linked into one text. Reports the bytes of each function
/// body compiled to `progress` (the caller announced them).
///
/// The small functions are translated first, to find the leaves that are
/// inlined into their callers ([`Inliner`]); each of the others is then
/// translated, inlined into and compiled in one step, so that the IR of a
/// large module is never all in memory at once.
pub fn compile_core(
    translation: ModuleTranslation<'_>,
    isa: &dyn TargetIsa,
    settings: &CompileSettings,
    progress: &dyn Progress,
    cross: CrossModule<'_>,
) -> Result<CompiledModule> {
    let ModuleTranslation {
        mut meta,
        data,
        bodies,
    } = translation;
    let no_bodies = ForeignBodies::new();
    let foreign = cross.bodies.unwrap_or(&no_bodies);
    let mut callees = cross.callees;
    callees.retain(|_, callee| supports_fixed_calls(isa) && foreign.contains_key(callee));
    let env = ModuleEnv::new(&meta, isa, fixed_tables(&meta, &bodies), settings, callees);
    let sizes: PrimaryMap<DefinedFuncIndex, u64> =
        bodies.iter().map(|(_, body)| body_size(body)).collect();
    let translate = |(builder, allocs): &mut TranslateState,
                     (i, (validate, body)): (usize, FunctionToCompile<'_>)|
     -> Result<(DefinedFuncIndex, ir::Function)> {
        let mut validator = validate.into_validator(std::mem::take(allocs));
        let index = DefinedFuncIndex::new(i);
        let func =
            translate_function(&env, meta.func_index(index), &body, &mut validator, builder)?;
        *allocs = validator.into_allocations();
        Ok((index, func))
    };

    let (small, large): (Vec<_>, Vec<_>) =
        (bodies.into_iter().enumerate()).partition(|(_, (_, body))| Inliner::may_inline(body));
    let mut small: Vec<(DefinedFuncIndex, ir::Function)> = (small.into_par_iter())
        .map_init(TranslateState::default, translate)
        .collect::<Result<_>>()?;
    let inliner = Inliner::new(&mut small, foreign)?;
    let inline_and_compile = |ctx: &mut Context, (index, func)| -> Result<_> {
        ctx.clear();
        ctx.func = func;
        inliner.inline_into(ctx)?;
        let inlinable = (cross.wanted.contains(&index)
            && inlinable_elsewhere(&ctx.func, cross.generated))
        .then(|| ctx.func.clone());
        if is_small_leaf(&ctx.func) {
            ctx.func.stack_limit = None;
        }
        let compiled = compile_prepared(isa, ctx)?;
        progress.advance(sizes[index]);
        Ok((index, (compiled, inlinable)))
    };
    let mut functions: Vec<(DefinedFuncIndex, (CompiledFunction, Option<ir::Function>))> = (small
        .into_par_iter())
    .map_init(Context::new, inline_and_compile)
    .collect::<Result<_>>()?;
    functions.par_extend(
        (large.into_par_iter())
            .map_init(
                || (TranslateState::default(), Context::new()),
                |(state, ctx), item| inline_and_compile(ctx, translate(state, item)?),
            )
            .collect::<Result<Vec<_>>>()?,
    );
    functions.sort_unstable_by_key(|(index, _)| *index);
    let mut inlinable = Vec::new();
    let functions: PrimaryMap<DefinedFuncIndex, CompiledFunction> = (functions.into_iter())
        .map(|(index, (f, body))| {
            inlinable.extend(body.map(|body| (index, body)));
            f
        })
        .collect();

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

    let features = env.features();
    let linked = link(isa, &functions, &entries, &exits)?;
    let names = symbol_names(&meta, &escaping, &linked);
    meta.features = features;
    meta.code = linked.functions;
    meta.array_trampolines = escaping.into_iter().zip(linked.entries).collect();
    meta.import_trampolines = linked.exits;
    Ok(CompiledModule {
        meta,
        text: linked.text,
        data,
        traps: linked.traps,
        symbols: names,
        foreign: linked.foreign,
        inlinable,
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

/// The most instructions a function may have to go without a stack-limit
/// check when it calls nothing: its frame (spill slots, at most one per
/// value) then stays far below the stack the runtime keeps free under the
/// limit (`STACK_RESERVE` in the runtime's `trap` module, 128 KiB).
const MAX_UNCHECKED_LEAF_INSTS: usize = 1000;

/// Whether `func` calls nothing (no builtin either) and is small, so that
/// it can skip the stack-limit check of its prologue: a function that
/// makes no call cannot recurse, and its small frame fits in the reserve
/// below the limit. The check of its caller already covered the caller's
/// frame.
fn is_small_leaf(func: &ir::Function) -> bool {
    let mut insts = 0;
    for block in func.layout.blocks() {
        for inst in func.layout.block_insts(block) {
            insts += 1;
            if insts > MAX_UNCHECKED_LEAF_INSTS || func.dfg.insts[inst].opcode().is_call() {
                return false;
            }
        }
    }
    true
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
