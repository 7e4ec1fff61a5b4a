//! `cmc run`: run a module or component as a command, or invoke one export.

use crate::cache::Cache;
use crate::compile::compile;
use crate::input::{self, Input};
use crate::stats::{Prepared, RunStats};
use crate::trace::Tracer;
use crate::values::{format_val as format_core_val, parse_val};
use crate::wasi::{WasiArgs, on_off};
use crate::wave::{Call, export_names, format_val, signature};
use anyhow::{Context, Result, bail};
use cmc_compiler::Options;
use cmc_runtime::abi::ArtifactKind;
use cmc_runtime::component::{self, Component, Val as ComponentVal};
use cmc_runtime::{CompileSettings, Config, Engine, Error, Linker, Module, OptLevel, Store, Val};
use cmc_wasi::{I32Exit, WasiCtx};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Exit status of a run that trapped (as wasmtime does).
const TRAP_EXIT: u8 = 134;

/// The interface a component exports to be run as a command (any version).
const RUN_INTERFACE: &str = "wasi:cli/run";

/// Arguments of `cmc run`.
#[derive(clap::Args)]
pub struct RunArgs {
    /// Call this export instead of running the program as a command. For a
    /// core module, NAME with ARGS after FILE; for a component, a call in
    /// WAVE syntax, e.g. 'greet("you")' or 'api#hello("cmc")'.
    #[arg(long, value_name = "CALL")]
    invoke: Option<String>,
    /// Optimization level used when compiling a .wasm/.wat in memory
    /// (default: speed); an artifact runs at the level it was built with.
    #[arg(long)]
    opt_level: Option<OptLevel>,
    /// Compile a .wasm/.wat afresh instead of reusing the compile cache
    /// (also: `-C cache=n`, or the environment variable CMC_NO_CACHE=1).
    #[arg(long)]
    no_cache: bool,
    /// Compilation options, as wasmtime's: cache=y|n.
    #[arg(short = 'C', value_name = "KEY=VAL[,..]")]
    compile: Vec<String>,
    /// Wasm execution options, as wasmtime's: max-wasm-stack=BYTES,
    /// timeout=DURATION (e.g. 2s, 500ms: then the guest traps with
    /// "interrupt"), fuel=N (the guest may run N wasm instructions, then
    /// traps with "all fuel consumed"), max-memory-size=BYTES and
    /// max-table-elements=N (memory.grow and table.grow past them return
    /// -1), max-instances=N, max-memories=N and max-tables=N (how many
    /// the program may create), epoch-interruption=y|n,
    /// explicit-bounds-checks=y|n (a check in the code of every memory
    /// access instead of the guard region; several separated by commas).
    #[arg(short = 'W', value_name = "KEY=VAL[,..]")]
    wasm: Vec<String>,
    /// The guest may run N wasm instructions, then traps with "all fuel
    /// consumed" (the same as -W fuel=N).
    #[arg(long, value_name = "N")]
    fuel: Option<u64>,
    /// After the run, print to stderr what it cost: compile or load,
    /// instantiate and run times, fuel used, peak linear memory, and the
    /// number of host calls and of calls between components.
    #[arg(long)]
    stats: bool,
    /// Print to stderr every call that crosses a component boundary (an
    /// export called, a host import, a call into another component) with
    /// its arguments and result in WAVE and its duration.
    #[arg(long)]
    trace: bool,
    #[command(flatten)]
    wasi: WasiArgs,
    /// Instantiate a core module (.wasm, .wat or artifact) first and give
    /// its exports to the program as imports from NAME; repeatable.
    #[arg(long = "preload", value_name = "NAME=PATH")]
    preloads: Vec<String>,
    /// The program: .wasm, .wat, or a .cmc artifact from `cmc build`.
    file: PathBuf,
    /// Arguments: of the program (a WASI command gets them after its
    /// name), or of an invoked core-module function, parsed by its
    /// parameter types.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    args: Vec<String>,
}

pub fn run(args: RunArgs) -> Result<ExitCode> {
    let input = input::read(&args.file)?;
    // An artifact runs at the level it was built with, unless one is asked.
    let opt_level = match (&input, args.opt_level) {
        (Input::Artifact(info), None) => info.header.settings.opt_level,
        (_, level) => level.unwrap_or_default(),
    };
    let mut options = WasmOptions::parse(&args.wasm)?;
    if let Some(fuel) = args.fuel {
        if options.fuel.is_some_and(|given| given != fuel) {
            bail!("--fuel {fuel} and -W fuel disagree: give the fuel once");
        }
        options.fuel = Some(fuel);
    }
    // An artifact runs with the checks it was built with; a timeout or fuel
    // needs them (the loader says how to rebuild an artifact without them).
    let built = match &input {
        Input::Artifact(info) => info.header.settings.clone(),
        _ => CompileSettings::default(),
    };
    let mut config = Config::default();
    config.opt_level(opt_level);
    config.epoch_interruption(
        options.timeout.is_some() || options.epoch_interruption || built.epoch_interruption,
    );
    config.consume_fuel(options.fuel.is_some() || built.consume_fuel);
    config.explicit_bounds_checks(options.explicit_bounds_checks || built.explicit_bounds_checks);
    if let Some(bytes) = options.max_wasm_stack {
        config.max_wasm_stack(bytes);
    }
    let engine = cmc_compiler::engine(config);
    let cache = Cache::open(compile_options(&args.compile)? && !args.no_cache);
    let start = Instant::now();
    let (program, prepared) = load(&engine, cache.as_ref(), &args.file, input)?;
    let mut stats = RunStats::new(prepared, start.elapsed(), options.fuel);
    match program {
        Program::Module(module) => run_module(&args, &options, &module, &mut stats),
        Program::Component(component) => run_component(&args, &options, &component, &mut stats),
    }
}

/// What a file given to `cmc run` (or `--preload`) holds, loaded.
enum Program {
    Module(Module),
    Component(Component),
}

/// Loads `input`, read from `path`: an artifact, or a `.wasm`/`.wat`
/// compiled in memory (through `cache`, if any).
fn load(
    engine: &Engine,
    cache: Option<&Cache>,
    path: &Path,
    input: Input,
) -> Result<(Program, Prepared)> {
    let loaded =
        |e: Error| anyhow::Error::new(e).context(format!("cannot load `{}`", path.display()));
    let (wasm, is_component) = match input {
        Input::Artifact(info) => {
            let program = match info.header.kind {
                // SAFETY: running an artifact means running its native code;
                // the user asked for exactly that. The header is checked on
                // load.
                ArtifactKind::Module => {
                    Program::Module(unsafe { Module::load_file(engine, path) }.map_err(loaded)?)
                }
                // SAFETY: as for a module artifact.
                ArtifactKind::Component => Program::Component(
                    unsafe { Component::load_file(engine, path) }.map_err(loaded)?,
                ),
            };
            return Ok((program, Prepared::Loaded));
        }
        Input::Component(wasm) => (wasm, true),
        Input::Module(bytes) => (bytes, false),
    };
    let settings = engine.config().settings.clone();
    let key = Cache::key(&wasm, &settings);
    if let Some(cache) = cache
        && let Some(entry) = cache.get(&key)
    {
        // SAFETY: the entry was compiled by a cmc with the same key (this
        // executable), and its checksum matched.
        let program = unsafe {
            if is_component {
                Component::load_file(engine, &entry).map(Program::Component)
            } else {
                Module::load_file(engine, &entry).map(Program::Module)
            }
        };
        match program {
            Ok(program) => return Ok((program, Prepared::Cached)),
            // Built for another CPU, say: compile it again below.
            Err(_) => cache.remove(&key),
        }
    }
    let name = path.display().to_string();
    let artifact = compile(&name, &wasm, Options::new(&settings))
        .with_context(|| format!("cannot load `{name}`"))?;
    if let Some(cache) = cache {
        cache.put(&key, &artifact);
    }
    // SAFETY: the bytes were compiled just now by this cmc.
    let program = unsafe {
        if is_component {
            Component::from_artifact(engine, &artifact).map(Program::Component)
        } else {
            Module::from_artifact(engine, &artifact).map(Program::Module)
        }
    };
    Ok((program.map_err(loaded)?, Prepared::Compiled))
}

/// Instantiates each `--preload NAME=PATH` module in order, offering its
/// exports to the later ones (and to the program) as imports from NAME.
fn preload(args: &RunArgs, store: &mut Store<WasiCtx>, linker: &mut Linker<WasiCtx>) -> Result<()> {
    for preload in &args.preloads {
        let Some((name, path)) = preload.split_once('=') else {
            bail!("--preload {preload}: expected NAME=PATH");
        };
        let input =
            input::read(Path::new(path)).with_context(|| format!("--preload {name}={path}"))?;
        let (program, _) = load(store.engine(), None, Path::new(path), input)
            .with_context(|| format!("--preload {name}={path}"))?;
        let Program::Module(module) = program else {
            bail!("--preload {name}={path}: a component cannot be preloaded, only a core module");
        };
        let instance = linker
            .instantiate(store, &module)
            .with_context(|| format!("--preload {name}={path}: cannot instantiate"))?;
        linker.instance(store, name, instance);
    }
    Ok(())
}

/// Runs a core module's `_start` with WASI preview1, or calls export
/// `--invoke NAME` with ARGS (after `_initialize`, if the module is a
/// reactor).
fn run_module(
    args: &RunArgs,
    options: &WasmOptions,
    module: &Module,
    stats: &mut RunStats,
) -> Result<ExitCode> {
    if args.trace {
        bail!(
            "--trace shows calls across component boundaries, and a core module has none; run a component"
        );
    }
    let switches = args.wasi.switches()?;
    let program_args: &[String] = if args.invoke.is_some() {
        &[]
    } else {
        &args.args
    };
    let ctx = args.wasi.ctx(&switches, &args.file, program_args)?;
    let mut store = Store::new(module.engine(), ctx);
    start_limits(&mut store, options);
    let outcome = module_main(args, module, &mut store, stats);
    if args.stats {
        stats.print(&store);
    }
    outcome
}

/// [`run_module`] once the store exists.
fn module_main(
    args: &RunArgs,
    module: &Module,
    store: &mut Store<WasiCtx>,
    stats: &mut RunStats,
) -> Result<ExitCode> {
    let mut linker = Linker::new();
    cmc_wasi::preview1::add_to_linker(&mut linker);
    let instance = stats.instantiate(|| {
        preload(args, store, &mut linker)?;
        Ok::<_, anyhow::Error>(linker.instantiate(&mut *store, module))
    })?;
    let instance = match instance {
        Ok(instance) => instance,
        Err(e) => return report(e, "cannot instantiate the module"),
    };
    let name = args.invoke.as_deref().unwrap_or("_start");
    if args.invoke.is_some()
        && let Some(init) = instance.get_func(&store, "_initialize")
        && let Err(e) = init.call(&mut *store, &[], &mut [])
    {
        return report(e, "`_initialize` failed");
    }
    let Some(func) = instance.get_func(&store, name) else {
        let exports: Vec<String> = module
            .exports()
            .filter(|e| matches!(e.ty, cmc_runtime::EntityType::Func(_)))
            .map(|e| e.name.to_owned())
            .collect();
        if args.invoke.is_none() {
            bail!(
                "the module has no `_start` export to run; use --invoke NAME (exported functions: {})",
                exports.join(", ")
            );
        }
        bail!(
            "no exported function `{name}` (exported functions: {})",
            exports.join(", ")
        );
    };
    let ty = func.ty(&store);
    // A command's arguments are the program's; an invoked function's are
    // its parameters.
    let invoked_args: &[String] = if args.invoke.is_some() {
        &args.args
    } else {
        &[]
    };
    if invoked_args.len() != ty.params.len() {
        bail!(
            "`{name}` takes {} argument(s) ({}), {} given",
            ty.params.len(),
            ty.params
                .iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            invoked_args.len()
        );
    }
    let params = invoked_args
        .iter()
        .zip(ty.params.iter())
        .enumerate()
        .map(|(i, (text, &t))| {
            parse_val(text, t).with_context(|| format!("argument {} of `{name}`", i + 1))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut results: Vec<Val> = ty.results.iter().map(|&t| Val::default_for(t)).collect();
    if let Err(e) = stats.run(|| func.call(&mut *store, &params, &mut results)) {
        return report(e, &format!("`{name}` failed"));
    }
    for r in &results {
        outln!("{}", format_core_val(r));
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs a component's `wasi:cli/run#run`, or calls the `--invoke` call with
/// its WAVE arguments and prints the result in WAVE.
fn run_component(
    args: &RunArgs,
    options: &WasmOptions,
    component: &Component,
    stats: &mut RunStats,
) -> Result<ExitCode> {
    if args.invoke.is_some() && !args.args.is_empty() {
        bail!(
            "an invoked function's arguments go inside --invoke, in WAVE syntax, e.g. --invoke 'f(1, \"x\")'; unexpected: {}",
            args.args.join(" ")
        );
    }
    let switches = args.wasi.switches()?;
    let ctx = args.wasi.ctx(&switches, &args.file, &args.args)?;
    let mut store = Store::new(component.engine(), ctx);
    start_limits(&mut store, options);
    if args.trace {
        store.intercept_calls(Tracer::default());
    }
    let outcome = component_main(args, component, &mut store, stats);
    if args.stats {
        stats.print(&store);
    }
    outcome
}

/// [`run_component`] once the store exists.
fn component_main(
    args: &RunArgs,
    component: &Component,
    store: &mut Store<WasiCtx>,
    stats: &mut RunStats,
) -> Result<ExitCode> {
    let mut linker = component::Linker::new();
    cmc_wasi::add_to_linker(&mut linker);
    let instance = match stats.instantiate(|| linker.instantiate(&mut *store, component)) {
        Ok(instance) => instance,
        Err(e) => return report(e, "cannot instantiate the component"),
    };
    let funcs: Vec<(String, component::Func)> = export_names(component.exports())
        .into_iter()
        .filter_map(|name| {
            let func = instance.get_func(&store, &name.split('#').collect::<Vec<_>>())?;
            Some((name, func))
        })
        .collect();
    let listing = || {
        let list: Vec<String> = funcs
            .iter()
            .map(|(name, f)| format!("{name}: {}", signature(&f.ty(&store))))
            .collect();
        if list.is_empty() {
            "none".to_owned()
        } else {
            list.join(", ")
        }
    };
    let (name, func, params) = match &args.invoke {
        Some(text) => {
            let call = Call::parse(text)?;
            let Some(func) = instance.get_func(&store, &call.path()) else {
                bail!(
                    "no exported function `{}` (exported functions: {})",
                    call.name,
                    listing()
                );
            };
            let params = call.args(&func.ty(&store))?;
            (call.name.to_owned(), func, params)
        }
        None => {
            let Some((name, func)) = funcs.iter().find(|(name, _)| is_command_run(name)) else {
                bail!(
                    "the component exports no `{RUN_INTERFACE}` interface to run; use --invoke 'NAME(ARGS…)' (exported functions: {})",
                    listing()
                );
            };
            (name.clone(), *func, Vec::new())
        }
    };
    let mut results: Vec<ComponentVal> = func
        .ty(&store)
        .result
        .iter()
        .map(|_| ComponentVal::Bool(false))
        .collect();
    if let Err(e) = stats.run(|| func.call(&mut *store, &params, &mut results)) {
        return report(e, &format!("`{name}` failed"));
    }
    match results.pop() {
        // A command reports failure with `err`, as `wasi:cli/run` defines;
        // like wasmtime, cmc then exits with status 1 and says nothing.
        Some(ComponentVal::Result(Err(_))) if args.invoke.is_none() => Ok(ExitCode::FAILURE),
        Some(result) if args.invoke.is_some() => {
            outln!("{}", format_val(result)?);
            Ok(ExitCode::SUCCESS)
        }
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// Whether export path `name` is `run` in `wasi:cli/run` (of any version).
fn is_command_run(name: &str) -> bool {
    name.split_once('#').is_some_and(|(interface, func)| {
        func == "run" && interface.split('@').next() == Some(RUN_INTERFACE)
    })
}

/// Whether the `-C` options leave the compile cache on.
fn compile_options(options: &[String]) -> Result<bool> {
    let mut cache = true;
    for option in options.iter().flat_map(|o| o.split(',')) {
        match option.split_once('=').unwrap_or((option, "y")) {
            ("cache", "y" | "yes" | "true") => cache = true,
            ("cache", "n" | "no" | "false") => cache = false,
            _ => bail!("unknown -C option `{option}` (known: cache=y|n)"),
        }
    }
    Ok(cache)
}

/// The `-W` options.
#[derive(Default)]
struct WasmOptions {
    max_wasm_stack: Option<usize>,
    /// How long the guest may run before it traps with "interrupt".
    timeout: Option<Duration>,
    /// Compile with epoch-interruption checks even without a timeout.
    epoch_interruption: bool,
    /// Compile every memory access with an explicit bounds check.
    explicit_bounds_checks: bool,
    /// How many wasm instructions the guest may run.
    fuel: Option<u64>,
    /// The most bytes each linear memory may have.
    max_memory_size: Option<u64>,
    /// The most elements each table may have.
    max_table_elements: Option<u64>,
    /// The most core instances, memories and tables the program may create.
    max_instances: Option<usize>,
    max_memories: Option<usize>,
    max_tables: Option<usize>,
}

impl WasmOptions {
    fn parse(options: &[String]) -> Result<WasmOptions> {
        let mut parsed = WasmOptions::default();
        for option in options.iter().flat_map(|o| o.split(',')) {
            let (key, value) = match option.split_once('=') {
                Some((key, value)) => (key, Some(value)),
                None => (option, None),
            };
            match (key, value) {
                ("max-wasm-stack", Some(bytes)) => {
                    let bytes = bytes.parse().with_context(|| {
                        format!("-W max-wasm-stack: `{bytes}` is not a byte count")
                    })?;
                    parsed.max_wasm_stack = Some(bytes);
                }
                ("timeout", Some(duration)) => {
                    let duration = humantime::parse_duration(duration).with_context(|| {
                        format!("-W timeout: `{duration}` is not a duration (e.g. 2s, 500ms)")
                    })?;
                    parsed.timeout = Some(duration);
                }
                ("max-memory-size", Some(bytes)) => {
                    let bytes = bytes.parse().with_context(|| {
                        format!("-W max-memory-size: `{bytes}` is not a byte count")
                    })?;
                    parsed.max_memory_size = Some(bytes);
                }
                ("max-table-elements", Some(elements)) => {
                    let elements = elements.parse().with_context(|| {
                        format!("-W max-table-elements: `{elements}` is not a number")
                    })?;
                    parsed.max_table_elements = Some(elements);
                }
                ("max-instances", Some(count)) => {
                    parsed.max_instances = Some(count_of("max-instances", count)?);
                }
                ("max-memories", Some(count)) => {
                    parsed.max_memories = Some(count_of("max-memories", count)?);
                }
                ("max-tables", Some(count)) => {
                    parsed.max_tables = Some(count_of("max-tables", count)?);
                }
                ("fuel", Some(fuel)) => {
                    let fuel = fuel.parse().with_context(|| {
                        format!("-W fuel: `{fuel}` is not a number of instructions")
                    })?;
                    parsed.fuel = Some(fuel);
                }
                ("epoch-interruption", on) => {
                    parsed.epoch_interruption = on_off("-W epoch-interruption", on)?;
                }
                ("explicit-bounds-checks", on) => {
                    parsed.explicit_bounds_checks = on_off("-W explicit-bounds-checks", on)?;
                }
                _ => bail!(
                    "unknown -W option `{option}` (known: max-wasm-stack=BYTES, max-memory-size=BYTES, max-table-elements=N, max-instances=N, max-memories=N, max-tables=N, timeout=DURATION, fuel=N, epoch-interruption=y|n, explicit-bounds-checks=y|n)"
                ),
            }
        }
        Ok(parsed)
    }
}

/// A `-W` option's count.
fn count_of(option: &str, text: &str) -> Result<usize> {
    text.parse()
        .with_context(|| format!("-W {option}: `{text}` is not a number"))
}

/// Gives `store` the `-W` fuel and limits, and with `-W timeout=D` a
/// deadline one epoch away and a thread that advances the engine's epoch
/// after `D`.
fn start_limits<T>(store: &mut Store<T>, options: &WasmOptions) {
    if let Some(fuel) = options.fuel {
        store.set_fuel(fuel);
    }
    if let Some(bytes) = options.max_memory_size {
        store.limit_memory_size(bytes);
    }
    if let Some(elements) = options.max_table_elements {
        store.limit_table_elements(elements);
    }
    if let Some(count) = options.max_instances {
        store.limit_instances(count);
    }
    if let Some(count) = options.max_memories {
        store.limit_memories(count);
    }
    if let Some(count) = options.max_tables {
        store.limit_tables(count);
    }
    let Some(timeout) = options.timeout else {
        return;
    };
    store.set_epoch_deadline(1);
    let engine = store.engine().clone();
    std::thread::spawn(move || {
        std::thread::sleep(timeout);
        engine.increment_epoch();
    });
}

/// Prints a failure; traps (of core wasm or of the canonical ABI) exit with
/// [`TRAP_EXIT`], and a guest's `wasi:cli/exit` with the status it gave.
fn report(e: Error, context: &str) -> Result<ExitCode> {
    if let Some(I32Exit(status)) = I32Exit::of(&e) {
        // As a process exit status, only the low 8 bits count.
        return Ok(ExitCode::from(status as u8));
    }
    match e {
        Error::Trap(_) | Error::Canon(_) => {
            eprintln!("error: {context}\n{e}");
            Ok(ExitCode::from(TRAP_EXIT))
        }
        other => Err(anyhow::Error::new(other).context(context.to_owned())),
    }
}
