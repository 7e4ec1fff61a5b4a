//! `cmc run`: run a module as a command, or invoke one export.

use crate::values::{format_val, parse_val};
use anyhow::{Context, Result, bail};
use cmc_runtime::{Config, Engine, Error, Linker, Module, OptLevel, Store, Val};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit status of a run that trapped (as wasmtime does).
const TRAP_EXIT: u8 = 134;

/// Arguments of `cmc run`.
#[derive(clap::Args)]
pub struct RunArgs {
    /// Call this export with ARGS instead of running the module's `_start`.
    #[arg(long, value_name = "NAME")]
    invoke: Option<String>,
    /// Optimization level used when compiling a .wasm/.wat in memory (an
    /// artifact must have been built with the same level).
    #[arg(long, default_value = "speed")]
    opt_level: OptLevel,
    /// The module: .wasm, .wat, or a .cmc artifact from `cmc build`.
    file: PathBuf,
    /// Arguments of the invoked function, parsed by its parameter types.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    args: Vec<String>,
}

pub fn run(args: RunArgs) -> Result<ExitCode> {
    let mut config = Config::default();
    config.opt_level(args.opt_level);
    let engine = cmc_compiler::engine(config);
    let module = load(&engine, &args.file)?;
    let mut store = Store::new(&engine, ());
    let instance = match Linker::new().instantiate(&mut store, &module) {
        Ok(instance) => instance,
        Err(e) => return report(e, "cannot instantiate the module"),
    };
    let name = args.invoke.as_deref().unwrap_or("_start");
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
    if args.args.len() != ty.params.len() {
        bail!(
            "`{name}` takes {} argument(s) ({}), {} given",
            ty.params.len(),
            ty.params
                .iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            args.args.len()
        );
    }
    let params = args
        .args
        .iter()
        .zip(ty.params.iter())
        .enumerate()
        .map(|(i, (text, &t))| {
            parse_val(text, t).with_context(|| format!("argument {} of `{name}`", i + 1))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut results: Vec<Val> = ty.results.iter().map(|&t| Val::default_for(t)).collect();
    if let Err(e) = func.call(&mut store, &params, &mut results) {
        return report(e, &format!("`{name}` failed"));
    }
    for r in &results {
        println!("{}", format_val(r));
    }
    Ok(ExitCode::SUCCESS)
}

/// Loads a module: artifacts are mapped, wasm and wat are compiled.
fn load(engine: &Engine, path: &Path) -> Result<Module> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read `{}`", path.display()))?;
    let module = if bytes.starts_with(b"\x7fELF") {
        // SAFETY: running an artifact means running its native code; the
        // user asked for exactly that. The header is checked on load.
        unsafe { Module::load_file(engine, path) }
    } else {
        Module::new(engine, &bytes)
    };
    module.with_context(|| format!("cannot load `{}`", path.display()))
}

/// Prints a failure; traps exit with [`TRAP_EXIT`].
fn report(e: Error, context: &str) -> Result<ExitCode> {
    match e {
        Error::Trap(trap) => {
            eprintln!("error: {context}\n{trap}");
            Ok(ExitCode::from(TRAP_EXIT))
        }
        other => Err(anyhow::Error::new(other).context(context.to_owned())),
    }
}
