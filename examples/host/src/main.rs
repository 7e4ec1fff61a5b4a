//! A minimal embedder: `cmc-host ARTIFACT EXPORT [I32 ARGS…]` loads an
//! artifact written by `cmc build`, calls one export with `i32` arguments and
//! prints its results. It depends on `cmc-runtime` only, so no compiler is
//! linked into it.

use cmc_runtime::{Config, Engine, Linker, Module, Store, Val};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let [artifact, export, rest @ ..] = args else {
        return Err("usage: cmc-host ARTIFACT EXPORT [I32 ARGS…]".into());
    };
    let engine = Engine::new(Config::default());
    // SAFETY: the artifact is native code written by `cmc build`; running it
    // is the point of this program.
    let module = unsafe { Module::load_file(&engine, artifact)? };
    let mut store = Store::new(&engine, ());
    let instance = Linker::new().instantiate(&mut store, &module)?;
    let func = instance
        .get_func(&store, export)
        .ok_or_else(|| format!("no exported function `{export}`"))?;
    let params = rest
        .iter()
        .map(|a| a.parse().map(Val::I32))
        .collect::<Result<Vec<_>, _>>()?;
    let mut results: Vec<Val> = func
        .ty(&store)
        .results
        .iter()
        .map(|&t| Val::default_for(t))
        .collect();
    func.call(&mut store, &params, &mut results)?;
    for r in results {
        println!("{r:?}");
    }
    Ok(())
}
