//! The engines under comparison, each set up once and the same way for every
//! workload.
//!
//! Peers run with their default configuration (what an embedder gets without
//! tuning), except where a benchmark needs otherwise and says so: wasmtime is
//! retargeted to Pulley for the interpreter column, and wasmi translates
//! eagerly for the compile benchmark so that it does the whole job there.
//!
//! Every module the benchmarks use may import `env.host: (i32) -> ()`, an
//! empty host function; each engine's linker defines it, typed or untyped
//! per [`Api`].

use anyhow::{Context, Result};

/// One column of the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Peer {
    /// cmc: ahead-of-time Cranelift.
    Cmc,
    /// wasmtime on the same Cranelift.
    Wasmtime,
    /// wasmtime's Pulley bytecode interpreter.
    Pulley,
    /// The wasmi interpreter.
    Wasmi,
}

impl Peer {
    /// Every engine, in column order.
    pub const ALL: [Peer; 4] = [Peer::Cmc, Peer::Wasmtime, Peer::Pulley, Peer::Wasmi];

    /// The column heading, also the criterion benchmark id.
    pub fn name(self) -> &'static str {
        match self {
            Peer::Cmc => "cmc",
            Peer::Wasmtime => "wasmtime",
            Peer::Pulley => "wasmtime-pulley",
            Peer::Wasmi => "wasmi",
        }
    }
}

/// Which embedding API crosses the host↔wasm boundary. cmc has only the
/// dynamic one (`Val` slices), so peers are measured both ways to tell the
/// cost of the API from the cost of the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    /// Statically typed: `TypedFunc` calls, `func_wrap` host functions.
    Typed,
    /// Dynamic: `Func::call` with `Val` slices, `func_new` host functions.
    Untyped,
}

impl Api {
    /// Both, typed first.
    pub const BOTH: [Api; 2] = [Api::Typed, Api::Untyped];

    /// Suffix for benchmark ids.
    pub fn name(self) -> &'static str {
        match self {
            Api::Typed => "typed",
            Api::Untyped => "untyped",
        }
    }
}

/// Runs a module's `run(i32) -> i64` export on one instance.
pub type Run = Box<dyn FnMut(i32) -> Result<i64>>;

/// The configured engines.
pub struct Engines {
    /// cmc with its compiler.
    pub cmc: cmc_runtime::Engine,
    /// cmc without a compiler: loads artifacts only, as a deployed host does.
    pub cmc_loader: cmc_runtime::Engine,
    /// wasmtime, native code.
    pub wasmtime: wasmtime::Engine,
    /// wasmtime targeting the Pulley interpreter.
    pub pulley: wasmtime::Engine,
    /// wasmi as configured by default (lazy translation).
    pub wasmi: wasmi::Engine,
    /// wasmi translating every function up front.
    pub wasmi_eager: wasmi::Engine,
}

impl Engines {
    /// Sets up every engine.
    pub fn new() -> Result<Engines> {
        let mut pulley = wasmtime::Config::new();
        pulley.target("pulley64")?;
        let mut eager = wasmi::Config::default();
        eager.compilation_mode(wasmi::CompilationMode::Eager);
        Ok(Engines {
            cmc: cmc_compiler::engine(cmc_runtime::Config::default()),
            cmc_loader: cmc_runtime::Engine::new(cmc_runtime::Config::default()),
            wasmtime: wasmtime::Engine::default(),
            pulley: wasmtime::Engine::new(&pulley)?,
            wasmi: wasmi::Engine::default(),
            wasmi_eager: wasmi::Engine::new(&eager),
        })
    }

    /// The wasmtime engine behind `peer` (native or Pulley).
    pub fn wasmtime_for(&self, peer: Peer) -> &wasmtime::Engine {
        if peer == Peer::Pulley {
            &self.pulley
        } else {
            &self.wasmtime
        }
    }

    /// Compiles (or, for wasmi, translates) `wasm` with `peer`.
    pub fn compile(&self, peer: Peer, wasm: &[u8]) -> Result<Compiled> {
        Ok(match peer {
            Peer::Cmc => Compiled::Cmc(cmc_runtime::Module::new(&self.cmc, wasm)?),
            Peer::Wasmtime | Peer::Pulley => {
                Compiled::Wasmtime(wasmtime::Module::new(self.wasmtime_for(peer), wasm)?)
            }
            Peer::Wasmi => Compiled::Wasmi(wasmi::Module::new(&self.wasmi, wasm)?),
        })
    }
}

/// A module compiled by one of the engines.
pub enum Compiled {
    /// cmc.
    Cmc(cmc_runtime::Module),
    /// wasmtime, native or Pulley.
    Wasmtime(wasmtime::Module),
    /// wasmi.
    Wasmi(wasmi::Module),
}

impl Compiled {
    /// Instantiates in a fresh store and returns a caller of `run`.
    pub fn instantiate_run(&self, api: Api) -> Result<Run> {
        Ok(match self {
            Compiled::Cmc(module) => {
                let (mut store, instance) = cmc_instance(&cmc_linker(api), module)?;
                let run = instance
                    .get_func(&store, "run")
                    .context("no export `run`")?;
                match api {
                    Api::Typed => {
                        let run = run.typed::<(i32,), (i64,)>(&store)?;
                        Box::new(move |n| Ok(run.call(&mut store, (n,))?.0))
                    }
                    Api::Untyped => Box::new(move |n| {
                        let mut out = [cmc_runtime::Val::I64(0)];
                        run.call(&mut store, &[cmc_runtime::Val::I32(n)], &mut out)?;
                        out[0].i64().context("`run` returned no i64")
                    }),
                }
            }
            Compiled::Wasmtime(module) => {
                let linker = wasmtime_linker(module.engine(), api)?;
                let mut store = wasmtime::Store::new(module.engine(), ());
                // As for cmc: all the fuel (an error when fuel is off), and a
                // deadline never reached (wasmtime's default is the next tick).
                let _ = store.set_fuel(u64::MAX);
                store.set_epoch_deadline(1 << 40);
                let instance = linker.instantiate(&mut store, module)?;
                match api {
                    Api::Typed => {
                        let run = instance.get_typed_func::<i32, i64>(&mut store, "run")?;
                        Box::new(move |n| Ok(run.call(&mut store, n)?))
                    }
                    Api::Untyped => {
                        let run = instance
                            .get_func(&mut store, "run")
                            .context("no export `run`")?;
                        Box::new(move |n| {
                            let mut out = [wasmtime::Val::I64(0)];
                            run.call(&mut store, &[wasmtime::Val::I32(n)], &mut out)?;
                            out[0].i64().context("`run` returned no i64")
                        })
                    }
                }
            }
            Compiled::Wasmi(module) => {
                let linker = wasmi_linker(module.engine(), api)?;
                let mut store = wasmi::Store::new(module.engine(), ());
                let instance = linker.instantiate_and_start(&mut store, module)?;
                match api {
                    Api::Typed => {
                        let run = instance.get_typed_func::<i32, i64>(&store, "run")?;
                        Box::new(move |n| Ok(run.call(&mut store, n)?))
                    }
                    Api::Untyped => {
                        let run = instance
                            .get_func(&store, "run")
                            .context("no export `run`")?;
                        Box::new(move |n| {
                            let mut out = [wasmi::Val::I64(0)];
                            run.call(&mut store, &[wasmi::Val::I32(n)], &mut out)?;
                            out[0].i64().context("`run` returned no i64")
                        })
                    }
                }
            }
        })
    }
}

/// A cmc linker defining `env.host`, typed (`func_wrap`) or untyped.
pub fn cmc_linker(api: Api) -> cmc_runtime::Linker<()> {
    use cmc_runtime::{FuncType, ValType};
    let mut linker = cmc_runtime::Linker::new();
    match api {
        Api::Typed => linker.func_wrap("env", "host", |_caller, (_n,): (i32,)| Ok(())),
        Api::Untyped => linker.func_new(
            "env",
            "host",
            FuncType::new([ValType::I32], []),
            |_caller, _params, _results| Ok(()),
        ),
    };
    linker
}

/// Instantiates `module` with `linker` in a fresh store.
pub fn cmc_instance(
    linker: &cmc_runtime::Linker<()>,
    module: &cmc_runtime::Module,
) -> Result<(cmc_runtime::Store<()>, cmc_runtime::Instance)> {
    let mut store = cmc_runtime::Store::new(module.engine(), ());
    // An engine that meters fuel gives the guest all there is (a store
    // starts with none); one with epoch checks has no deadline by default.
    store.set_fuel(u64::MAX);
    let instance = linker.instantiate(&mut store, module)?;
    Ok((store, instance))
}

/// A wasmtime linker defining `env.host` with `api`.
pub fn wasmtime_linker(engine: &wasmtime::Engine, api: Api) -> Result<wasmtime::Linker<()>> {
    let mut linker = wasmtime::Linker::new(engine);
    match api {
        Api::Typed => linker.func_wrap("env", "host", |_: i32| {})?,
        Api::Untyped => linker.func_new(
            "env",
            "host",
            wasmtime::FuncType::new(engine, [wasmtime::ValType::I32], []),
            |_caller, _params, _results| Ok(()),
        )?,
    };
    Ok(linker)
}

/// A wasmi linker defining `env.host` with `api`.
pub fn wasmi_linker(engine: &wasmi::Engine, api: Api) -> Result<wasmi::Linker<()>> {
    let mut linker = wasmi::Linker::new(engine);
    match api {
        Api::Typed => linker.func_wrap("env", "host", |_: i32| {})?,
        Api::Untyped => linker.func_new(
            "env",
            "host",
            wasmi::FuncType::new([wasmi::ValType::I32], []),
            |_caller, _params, _results| Ok(()),
        )?,
    };
    Ok(linker)
}
