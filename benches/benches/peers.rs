//! cmc against wasmtime (same Cranelift), wasmtime's Pulley interpreter and
//! wasmi, in one run: `cargo bench -p cmc-benches` measures everything with
//! criterion, then prints the report table (also written to
//! `<criterion dir>/cmc-report.md`).
//!
//! Before anything is timed, every workload runs once on every engine and
//! the answers must agree; otherwise the run stops without a report.
//! Measurement times are short (2 s per benchmark, 20 samples; the compile
//! benchmark 10 samples of one compile each) so the whole suite takes about
//! five minutes on two cores; pass criterion's own flags (e.g.
//! `-- --measurement-time 5`) for tighter intervals.

use anyhow::{Context, Result};
use cmc_benches::engines::{self, Api, Engines, Peer};
use cmc_benches::report::{self, Results, Sizes, call_id, group};
use cmc_benches::workloads::{
    COMPOSE_CALLS, COMPUTE, HOST, INSTANTIATE, LARGE_ARG, LARGE_BYTES, LARGE_SEED, MEMORY64, SIMD,
};
use cmc_benches::{check, check_all, large};
use criterion::{Criterion, SamplingMode};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

fn main() -> Result<()> {
    let started = SystemTime::now();
    let engines = Engines::new()?;
    for (name, answer) in check_all(&engines)? {
        eprintln!("checked `{name}`: every engine answers {answer}");
    }
    let large = Large::prepare(&engines)?;

    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
        .nresamples(20_000)
        .configure_from_args();
    compute(&mut c, &engines)?;
    bounded(&mut c, &engines)?;
    host_to_wasm(&mut c, &engines)?;
    wasm_to_host(&mut c, &engines)?;
    component_calls(&mut c, &engines)?;
    compose(&mut c, &engines)?;
    instantiate(&mut c, &engines)?;
    compile(&mut c, &engines, &large);
    load(&mut c, &engines, &large);
    c.final_summary();
    std::fs::remove_dir_all(&large.dir).ok();

    let dir = report::criterion_dir()?;
    let results = Results::collect(&dir, started)?;
    if results.is_empty() {
        // `cargo test` runs each benchmark once without measuring.
        eprintln!("no measurements in this run: no report");
        return Ok(());
    }
    let text = format!(
        "Machine: {}. Date: {}. Command: `cargo bench -p cmc-benches`.\n\n{}",
        report::machine(),
        report::today(),
        report::render(&results, &large.sizes)
    );
    println!("\n{text}");
    let path = dir.join("cmc-report.md");
    std::fs::write(&path, &text).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("report written to {}", path.display());
    Ok(())
}

/// Host→component calls (`inc(u32) -> u32`, `len(string) -> u32` with a
/// 1 KiB string) and the same `inc` as a plain core export, through each
/// engine's typed and untyped component APIs. wasmi has no components (its
/// cells stay empty).
fn component_calls(c: &mut Criterion, engines: &Engines) -> Result<()> {
    use cmc_runtime::component::{Component, Linker, Val};
    let component_wasm = wat::parse_str(include_str!("../wat/component.wat"))?;
    let core_wasm = wat::parse_str(include_str!("../wat/inc.wat"))?;
    let text = "x".repeat(1024);
    let mut g = c.benchmark_group(group::COMPONENT);

    let component = Component::new(&engines.cmc, &component_wasm)?;
    let mut store = cmc_runtime::Store::new(&engines.cmc, ());
    let instance = Linker::new().instantiate(&mut store, &component)?;
    let inc = instance.get_func(&store, &["inc"]).context("no `inc`")?;
    let len = instance.get_func(&store, &["len"]).context("no `len`")?;
    let mut out = [Val::U32(0)];
    inc.call(&mut store, &[Val::U32(41)], &mut out)?;
    same("cmc component inc", &out[0], &Val::U32(42))?;
    len.call(&mut store, &[Val::String(text.clone())], &mut out)?;
    same("cmc component len", &out[0], &Val::U32(1024))?;
    g.bench_function(format!("{}-u32-untyped", Peer::Cmc.name()), |b| {
        b.iter(|| {
            inc.call(&mut store, &[Val::U32(black_box(41))], &mut out)
                .unwrap()
        })
    });
    let arg = [Val::String(text.clone())];
    g.bench_function(format!("{}-string-untyped", Peer::Cmc.name()), |b| {
        b.iter(|| len.call(&mut store, black_box(&arg), &mut out).unwrap())
    });
    let inc = inc.typed::<(u32,), (u32,)>(&store)?;
    let len = len.typed::<(&str,), (u32,)>(&store)?;
    same("cmc typed inc", &inc.call(&mut store, (41,))?.0, &42)?;
    same("cmc typed len", &len.call(&mut store, (&text,))?.0, &1024)?;
    g.bench_function(format!("{}-u32-typed", Peer::Cmc.name()), |b| {
        b.iter(|| inc.call(&mut store, (black_box(41),)).unwrap())
    });
    g.bench_function(format!("{}-string-typed", Peer::Cmc.name()), |b| {
        b.iter(|| len.call(&mut store, (black_box(text.as_str()),)).unwrap())
    });
    let module = cmc_runtime::Module::new(&engines.cmc, &core_wasm)?;
    let (mut store, instance) = engines::cmc_instance(&engines::cmc_linker(Api::Typed), &module)?;
    let core_inc = instance
        .get_func(&store, "inc")
        .context("no `inc`")?
        .typed::<(i32,), (i32,)>(&store)?;
    g.bench_function(format!("{}-core", Peer::Cmc.name()), |b| {
        b.iter(|| core_inc.call(&mut store, (black_box(41),)).unwrap())
    });

    for peer in [Peer::Wasmtime, Peer::Pulley] {
        use wasmtime::component::{Component, Linker, Val};
        let engine = engines.wasmtime_for(peer);
        let component = Component::new(engine, &component_wasm)?;
        let mut store = wasmtime::Store::new(engine, ());
        let instance = Linker::new(engine).instantiate(&mut store, &component)?;
        let inc = instance.get_typed_func::<(u32,), (u32,)>(&mut store, "inc")?;
        let len = instance.get_typed_func::<(&str,), (u32,)>(&mut store, "len")?;
        same(
            "wasmtime component inc",
            &inc.call(&mut store, (41,))?.0,
            &42,
        )?;
        g.bench_function(format!("{}-u32-typed", peer.name()), |b| {
            b.iter(|| inc.call(&mut store, (black_box(41),)).unwrap())
        });
        g.bench_function(format!("{}-string-typed", peer.name()), |b| {
            b.iter(|| len.call(&mut store, (black_box(text.as_str()),)).unwrap())
        });
        let inc = instance.get_func(&mut store, "inc").context("no `inc`")?;
        let len = instance.get_func(&mut store, "len").context("no `len`")?;
        let mut out = [Val::U32(0)];
        g.bench_function(format!("{}-u32-untyped", peer.name()), |b| {
            b.iter(|| {
                inc.call(&mut store, &[Val::U32(black_box(41))], &mut out)
                    .unwrap();
            })
        });
        let arg = [Val::String(text.clone())];
        g.bench_function(format!("{}-string-untyped", peer.name()), |b| {
            b.iter(|| {
                len.call(&mut store, black_box(&arg), &mut out).unwrap();
            })
        });
        let module = wasmtime::Module::new(engine, &core_wasm)?;
        let mut store = wasmtime::Store::new(engine, ());
        let instance = wasmtime::Instance::new(&mut store, &module, &[])?;
        let core_inc = instance.get_typed_func::<i32, i32>(&mut store, "inc")?;
        g.bench_function(format!("{}-core", peer.name()), |b| {
            b.iter(|| core_inc.call(&mut store, black_box(41)).unwrap())
        });
    }
    let module = wasmi::Module::new(&engines.wasmi, &core_wasm)?;
    let mut store = wasmi::Store::new(&engines.wasmi, ());
    let instance = wasmi::Linker::new(&engines.wasmi).instantiate_and_start(&mut store, &module)?;
    let core_inc = instance.get_typed_func::<i32, i32>(&store, "inc")?;
    g.bench_function(format!("{}-core", Peer::Wasmi.name()), |b| {
        b.iter(|| core_inc.call(&mut store, black_box(41)).unwrap())
    });
    g.finish();
    Ok(())
}

/// Calls from one component into another (`wat/compose.wat`): the caller's
/// loop makes [`COMPOSE_CALLS`] calls per iteration through each engine's
/// component-to-component path. wasmi has no components.
fn compose(c: &mut Criterion, engines: &Engines) -> Result<()> {
    let wasm = wat::parse_str(include_str!("../wat/compose.wat"))?;
    let n = COMPOSE_CALLS;
    let expected = [
        ("u32", "run-inc", n),
        ("string", "run-len", 64 * n),
        ("utf16", "run-len16", 64 * n),
        ("from-utf16", "run-from16", 32 * n),
        ("records", "run-count", 8 * n),
    ];
    let mut g = c.benchmark_group(group::COMPOSE);
    {
        use cmc_runtime::component::{Component, Linker, Val};
        let component = Component::new(&engines.cmc, &wasm)?;
        let mut store = cmc_runtime::Store::new(&engines.cmc, ());
        let instance = Linker::new().instantiate(&mut store, &component)?;
        for (what, export, answer) in expected {
            let run = instance.get_func(&store, &[export]).context(export)?;
            let mut out = [Val::U32(0)];
            run.call(&mut store, &[Val::U32(n)], &mut out)?;
            same(&format!("cmc {export}"), &out[0], &Val::U32(answer))?;
            g.bench_function(format!("{}-{what}", Peer::Cmc.name()), |b| {
                b.iter(|| {
                    run.call(&mut store, &[Val::U32(black_box(n))], &mut out)
                        .unwrap()
                })
            });
        }
    }
    for peer in [Peer::Wasmtime, Peer::Pulley] {
        use wasmtime::component::{Component, Linker};
        let engine = engines.wasmtime_for(peer);
        let component = Component::new(engine, &wasm)?;
        let mut store = wasmtime::Store::new(engine, ());
        let instance = Linker::new(engine).instantiate(&mut store, &component)?;
        for (what, export, answer) in expected {
            let run = instance.get_typed_func::<(u32,), (u32,)>(&mut store, export)?;
            same(
                &format!("{} {export}", peer.name()),
                &run.call(&mut store, (n,))?.0,
                &answer,
            )?;
            g.bench_function(format!("{}-{what}", peer.name()), |b| {
                b.iter(|| run.call(&mut store, (black_box(n),)).unwrap())
            });
        }
    }
    g.finish();
    Ok(())
}

/// Fails unless an engine's answer is the expected one.
fn same<T: PartialEq + std::fmt::Debug>(what: &str, got: &T, want: &T) -> Result<()> {
    anyhow::ensure!(got == want, "{what}: got {got:?}, expected {want:?}");
    Ok(())
}

/// Compute kernels: one instance per engine, `run(arg)` timed.
fn compute(c: &mut Criterion, engines: &Engines) -> Result<()> {
    for w in COMPUTE.into_iter().chain(SIMD).chain([MEMORY64]) {
        let wasm = w.wasm()?;
        let mut g = c.benchmark_group(w.name);
        // Interpreters take tens of milliseconds per call: equal-sized
        // samples keep their runs short.
        g.sampling_mode(SamplingMode::Flat);
        for peer in Peer::ALL {
            let mut run = engines.compile(peer, &wasm)?.instantiate_run(Api::Typed)?;
            g.bench_function(peer.name(), |b| b.iter(|| run(black_box(w.arg)).unwrap()));
        }
        g.finish();
    }
    Ok(())
}

/// The compute workloads on cmc and wasmtime built with fuel metering, then
/// with epoch interruption, then with explicit bounds checks, each checked
/// against the default answer.
fn bounded(c: &mut Criterion, engines: &Engines) -> Result<()> {
    for bound in report::BOUNDS {
        let mut cmc_config = cmc_runtime::Config::default();
        let mut wasmtime_config = wasmtime::Config::new();
        match bound {
            "fuel" => {
                cmc_config.consume_fuel(true);
                wasmtime_config.consume_fuel(true);
            }
            "epochs" => {
                cmc_config.epoch_interruption(true);
                wasmtime_config.epoch_interruption(true);
            }
            _ => {
                cmc_config.explicit_bounds_checks(true);
                wasmtime_config.memory_reservation(0).memory_guard_size(0);
            }
        }
        let cmc = cmc_compiler::engine(cmc_config);
        let wasmtime = wasmtime::Engine::new(&wasmtime_config)?;
        for w in COMPUTE {
            let wasm = w.wasm()?;
            let expected = engines
                .compile(Peer::Cmc, &wasm)?
                .instantiate_run(Api::Typed)?(w.arg)?;
            let mut g = c.benchmark_group(report::bounded_group(w.name));
            g.sampling_mode(SamplingMode::Flat);
            let runs = [
                (
                    Peer::Cmc,
                    engines::Compiled::Cmc(cmc_runtime::Module::new(&cmc, &wasm)?),
                ),
                (
                    Peer::Wasmtime,
                    engines::Compiled::Wasmtime(wasmtime::Module::new(&wasmtime, &wasm)?),
                ),
            ];
            for (peer, compiled) in runs {
                let mut run = compiled.instantiate_run(Api::Typed)?;
                let answer = run(w.arg)?;
                anyhow::ensure!(
                    answer == expected,
                    "`{}` with {bound} on {} answers {answer}, unbounded {expected}",
                    w.name,
                    peer.name()
                );
                let id = report::bounded_id(peer, bound);
                g.bench_function(id, |b| b.iter(|| run(black_box(w.arg)).unwrap()));
            }
            g.finish();
        }
    }
    Ok(())
}

/// The host calls the empty export `nop`, typed (`TypedFunc`) and untyped
/// (`Func::call` with dynamic values) on every engine.
fn host_to_wasm(c: &mut Criterion, engines: &Engines) -> Result<()> {
    let wasm = HOST.wasm()?;
    let mut g = c.benchmark_group(group::HOST_TO_WASM);

    let module = cmc_runtime::Module::new(&engines.cmc, &wasm)?;
    let (mut store, instance) = engines::cmc_instance(&engines::cmc_linker(Api::Untyped), &module)?;
    let nop = instance.get_func(&store, "nop").context("no `nop`")?;
    let typed = nop.typed::<(), ()>(&store)?;
    g.bench_function(call_id(Peer::Cmc, Api::Typed), |b| {
        b.iter(|| typed.call(&mut store, ()).unwrap())
    });
    g.bench_function(call_id(Peer::Cmc, Api::Untyped), |b| {
        b.iter(|| nop.call(&mut store, &[], &mut []).unwrap())
    });

    for peer in [Peer::Wasmtime, Peer::Pulley] {
        let engine = engines.wasmtime_for(peer);
        let module = wasmtime::Module::new(engine, &wasm)?;
        let linker = engines::wasmtime_linker(engine, Api::Typed)?;
        let mut store = wasmtime::Store::new(engine, ());
        let instance = linker.instantiate(&mut store, &module)?;
        let typed = instance.get_typed_func::<(), ()>(&mut store, "nop")?;
        g.bench_function(call_id(peer, Api::Typed), |b| {
            b.iter(|| typed.call(&mut store, ()).unwrap())
        });
        let untyped = instance.get_func(&mut store, "nop").context("no `nop`")?;
        g.bench_function(call_id(peer, Api::Untyped), |b| {
            b.iter(|| untyped.call(&mut store, &[], &mut []).unwrap())
        });
    }

    let module = wasmi::Module::new(&engines.wasmi, &wasm)?;
    let linker = engines::wasmi_linker(&engines.wasmi, Api::Typed)?;
    let mut store = wasmi::Store::new(&engines.wasmi, ());
    let instance = linker.instantiate_and_start(&mut store, &module)?;
    let typed = instance.get_typed_func::<(), ()>(&store, "nop")?;
    g.bench_function(call_id(Peer::Wasmi, Api::Typed), |b| {
        b.iter(|| typed.call(&mut store, ()).unwrap())
    });
    let untyped = instance.get_func(&store, "nop").context("no `nop`")?;
    g.bench_function(call_id(Peer::Wasmi, Api::Untyped), |b| {
        b.iter(|| untyped.call(&mut store, &[], &mut []).unwrap())
    });
    g.finish();
    Ok(())
}

/// wasm calls the empty host import `HOST.arg` times per iteration; the
/// report divides by that.
fn wasm_to_host(c: &mut Criterion, engines: &Engines) -> Result<()> {
    let wasm = HOST.wasm()?;
    let mut g = c.benchmark_group(group::WASM_TO_HOST);
    for peer in Peer::ALL {
        let compiled = engines.compile(peer, &wasm)?;
        for api in Api::BOTH {
            let mut run = compiled.instantiate_run(api)?;
            g.bench_function(call_id(peer, api), |b| {
                b.iter(|| run(black_box(HOST.arg)).unwrap())
            });
        }
    }
    g.finish();
    Ok(())
}

/// A new store and an instance of a module with memory, table, globals and
/// data, dropped again: the whole life of a short-lived instance.
fn instantiate(c: &mut Criterion, engines: &Engines) -> Result<()> {
    let wasm = INSTANTIATE.wasm()?;
    let mut g = c.benchmark_group(group::INSTANTIATE);

    let module = cmc_runtime::Module::new(&engines.cmc, &wasm)?;
    let linker = engines::cmc_linker(Api::Untyped);
    g.bench_function(Peer::Cmc.name(), |b| {
        b.iter(|| engines::cmc_instance(&linker, &module).unwrap())
    });

    for peer in [Peer::Wasmtime, Peer::Pulley] {
        let engine = engines.wasmtime_for(peer);
        let module = wasmtime::Module::new(engine, &wasm)?;
        let linker = engines::wasmtime_linker(engine, Api::Typed)?;
        g.bench_function(peer.name(), |b| {
            b.iter(|| {
                let mut store = wasmtime::Store::new(engine, ());
                let instance = linker.instantiate(&mut store, &module).unwrap();
                (store, instance)
            })
        });
    }

    let module = wasmi::Module::new(&engines.wasmi, &wasm)?;
    let linker = engines::wasmi_linker(&engines.wasmi, Api::Typed)?;
    g.bench_function(Peer::Wasmi.name(), |b| {
        b.iter(|| {
            let mut store = wasmi::Store::new(&engines.wasmi, ());
            let instance = linker.instantiate_and_start(&mut store, &module).unwrap();
            (store, instance)
        })
    });
    g.finish();
    Ok(())
}

/// The generated large module in every engine's precompiled form, written
/// to files for the load benchmark.
struct Large {
    wasm: Vec<u8>,
    dir: PathBuf,
    cmc: PathBuf,
    wasmtime: PathBuf,
    pulley: PathBuf,
    sizes: Sizes,
}

impl Large {
    /// Generates and precompiles the module, and checks that every form of
    /// it gives the same answer as every engine compiling from wasm.
    fn prepare(engines: &Engines) -> Result<Large> {
        let wasm = large::module(LARGE_SEED, LARGE_BYTES);
        let expected = check(engines, "large", &wasm, LARGE_ARG)?;
        let dir = report::criterion_dir()?.join("cmc-benches-files");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let write = |name: &str, bytes: &[u8]| -> Result<PathBuf> {
            let path = dir.join(name);
            std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
            Ok(path)
        };
        let artifact = cmc_compiler::compile(&wasm, &engines.cmc.config().settings, None)?;
        let cwasm = engines.wasmtime.precompile_module(&wasm)?;
        let pulley_cwasm = engines.pulley.precompile_module(&wasm)?;
        let large = Large {
            sizes: Sizes {
                wasm: wasm.len(),
                cmc: artifact.len(),
                wasmtime: cwasm.len(),
                pulley: pulley_cwasm.len(),
            },
            cmc: write("large.cmc", &artifact)?,
            wasmtime: write("large.cwasm", &cwasm)?,
            pulley: write("large.pulley.cwasm", &pulley_cwasm)?,
            wasm,
            dir: dir.clone(),
        };
        for peer in [Peer::Cmc, Peer::Wasmtime, Peer::Pulley, Peer::Wasmi] {
            let answer = large.load_and_run(engines, peer)?;
            anyhow::ensure!(
                answer == expected,
                "{} from its precompiled file answers {answer}, from wasm {expected}",
                peer.name()
            );
        }
        eprintln!(
            "checked `large` ({} bytes): every engine answers {expected}",
            large.wasm.len()
        );
        Ok(large)
    }

    /// What the load benchmark times: the precompiled file (wasmi: the wasm,
    /// translated lazily, its fastest start) to the first call's answer.
    fn load_and_run(&self, engines: &Engines, peer: Peer) -> Result<i64> {
        use cmc_benches::engines::Compiled;
        let compiled = match peer {
            // SAFETY: the artifact was written by this process's compiler
            // just now and is not modified while mapped.
            Peer::Cmc => Compiled::Cmc(unsafe {
                cmc_runtime::Module::load_file(&engines.cmc_loader, &self.cmc)
            }?),
            // SAFETY: as above, written by `precompile_module` of this very
            // engine configuration.
            Peer::Wasmtime | Peer::Pulley => Compiled::Wasmtime(unsafe {
                wasmtime::Module::deserialize_file(
                    engines.wasmtime_for(peer),
                    self.cwasm_path(peer),
                )
            }?),
            Peer::Wasmi => Compiled::Wasmi(wasmi::Module::new(&engines.wasmi, &self.wasm)?),
        };
        compiled.instantiate_run(Api::Typed)?(LARGE_ARG)
    }

    fn cwasm_path(&self, peer: Peer) -> &Path {
        if peer == Peer::Pulley {
            &self.pulley
        } else {
            &self.wasmtime
        }
    }
}

/// `Module::new` from wasm bytes of the large module (wasmi translating
/// eagerly, so it does the whole job too).
fn compile(c: &mut Criterion, engines: &Engines, large: &Large) {
    let mut g = c.benchmark_group(group::COMPILE);
    // Seconds per iteration: the minimum of ten samples, one iteration each.
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    let wasm = &large.wasm;
    g.bench_function(Peer::Cmc.name(), |b| {
        b.iter(|| cmc_runtime::Module::new(&engines.cmc, wasm).unwrap())
    });
    for peer in [Peer::Wasmtime, Peer::Pulley] {
        let engine = engines.wasmtime_for(peer);
        g.bench_function(peer.name(), |b| {
            b.iter(|| wasmtime::Module::new(engine, wasm).unwrap())
        });
    }
    g.bench_function(Peer::Wasmi.name(), |b| {
        b.iter(|| wasmi::Module::new(&engines.wasmi_eager, wasm).unwrap())
    });
    g.finish();
}

/// From a precompiled file to the answer of a first call.
fn load(c: &mut Criterion, engines: &Engines, large: &Large) {
    let mut g = c.benchmark_group(group::LOAD);
    g.sampling_mode(SamplingMode::Flat);
    for peer in Peer::ALL {
        g.bench_function(peer.name(), |b| {
            b.iter(|| large.load_and_run(engines, peer).unwrap())
        });
    }
    // The same load without the artifact's checksum, to show what the
    // check costs (`Module::load_file_unchecked`).
    g.bench_function(group::UNCHECKED_LOAD, |b| {
        b.iter(|| {
            use cmc_benches::engines::Compiled;
            // SAFETY: as in `load_and_run`; the file is intact.
            let module = unsafe {
                cmc_runtime::Module::load_file_unchecked(&engines.cmc_loader, &large.cmc)
            }
            .unwrap();
            Compiled::Cmc(module).instantiate_run(Api::Typed).unwrap()(LARGE_ARG).unwrap()
        })
    });
    g.finish();
}
