//! Real programs: the sightglass programs of `../shared/benchmarks/sightglass/`
//! (`bz2`, `pulldown-cmark` as preview1 core modules, `cm-online-stats` as
//! a component) and the project's own C programs of `benches/programs/`
//! (`lz`, `json`, `lu`, `vm`), each timed between its `bench.start` and
//! `bench.end` calls, on cmc, wasmtime 48.0.8 and wasmi 2.0 (core modules
//! only, with `wasmi_wasi`), and natively (the C programs, built with `cc
//! -O2`, or `$CC`, when present). Then the whole process: `cmc run` against
//! `wasmtime run --allow-precompiled`, both on precompiled files.
//!
//! Every engine's stdout and stderr are compared with the program's
//! `*.stdout.expected`/`*.stderr.expected` (no `.stderr.expected`: empty)
//! before anything is timed. Each
//! program runs as sightglass runs it: its folder preopened as `.`, read in
//! place. One iteration in process is a new WASI context, store and
//! instance plus the run (compiling is not timed); the figure is the time
//! between `bench.start` and `bench.end` only (criterion's `iter_custom`).
//!
//! `cargo build --release -p cmc && cargo bench -p cmc-benches --bench programs`
//! (`cmc` and `wasmtime` are found as in `benches/wasi.rs`). The table is
//! printed and written to `<criterion dir>/cmc-programs-report.md`.

use anyhow::{Context, Result, bail, ensure};
use cmc_benches::find_exe;
use cmc_benches::report::{self, Results, cell};
use criterion::{Criterion, SamplingMode};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

const GROUP: &str = "programs";
/// The stand-in for sightglass's timing hooks in whole-process runs (the
/// CLIs time the whole run, so these do nothing).
const BENCH_WAT: &str = r#"(module (func (export "start")) (func (export "end")))"#;

/// One program: where it lives and what it is.
struct Program {
    name: &'static str,
    dir: PathBuf,
    wasm: PathBuf,
    component: bool,
    /// The C source, for a native build.
    source: Option<PathBuf>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

fn programs() -> Result<Vec<Program>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sightglass = std::env::var_os("SIGHTGLASS").map_or_else(
        || root.join("../../shared/benchmarks/sightglass"),
        PathBuf::from,
    );
    let mut list = Vec::new();
    for (name, file, component) in [
        ("bz2", "benchmark", false),
        ("pulldown-cmark", "benchmark", false),
        ("cm-online-stats", "cm-online-stats", true),
    ] {
        let dir = sightglass.join(name);
        list.push(program(name, &dir, file, component, None)?);
    }
    for name in ["lz", "json", "lu", "vm"] {
        let dir = root.join("programs").join(name);
        let source = Some(dir.join(format!("{name}.c")));
        list.push(program(name, &dir, name, false, source)?);
    }
    Ok(list)
}

fn program(
    name: &'static str,
    dir: &Path,
    file: &str,
    component: bool,
    source: Option<PathBuf>,
) -> Result<Program> {
    let read = |suffix: &str| {
        let path = dir.join(format!("{file}{suffix}"));
        std::fs::read(&path).with_context(|| format!("reading {}", path.display()))
    };
    Ok(Program {
        name,
        dir: dir.to_owned(),
        wasm: dir.join(format!("{file}.wasm")),
        component,
        source,
        stdout: read(".stdout.expected")?,
        // Our own programs print nothing to stderr and carry no
        // `.stderr.expected`; the sightglass ones do.
        stderr: match dir.join(format!("{file}.stderr.expected")) {
            path if path.exists() => read(".stderr.expected")?,
            _ => Vec::new(),
        },
    })
}

fn main() -> Result<()> {
    let started = SystemTime::now();
    let programs = programs()?;
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(10)
        .configure_from_args();
    let mut notes = Vec::new();
    let files = report::criterion_dir()?.join("cmc-programs-files");
    std::fs::create_dir_all(&files).with_context(|| format!("creating {}", files.display()))?;
    let mut g = c.benchmark_group(GROUP);
    g.sampling_mode(SamplingMode::Flat);
    for p in &programs {
        let wasm =
            std::fs::read(&p.wasm).with_context(|| format!("reading {}", p.wasm.display()))?;
        let mut runs: Vec<(&str, Run)> = Vec::new();
        if p.component {
            runs.push(("cmc", cmc_component(&wasm, &p.dir)?));
            runs.push(("wasmtime", wasmtime_component(&wasm, &p.dir)?));
        } else {
            runs.push(("cmc", cmc_core(&wasm, &p.dir)?));
            runs.push(("wasmtime", wasmtime_core(&wasm, &p.dir)?));
            runs.push(("wasmi", wasmi_core(&wasm, &p.dir)?));
        }
        if let Some(source) = &p.source {
            match native_build(source, &files.join(p.name)) {
                Ok(exe) => runs.push(("native", native(exe, p.dir.clone()))),
                Err(e) => notes.push(format!("{}: no native build ({e:#}).", p.name)),
            }
        }
        // Every engine's output, checked before any is timed.
        for (engine, run) in &mut runs {
            let out = run(true).with_context(|| format!("{engine} {}", p.name))?;
            same(
                &format!("{engine} {} stdout", p.name),
                &out.stdout,
                &p.stdout,
            )?;
            if *engine != "native" {
                same(
                    &format!("{engine} {} stderr", p.name),
                    &out.stderr,
                    &p.stderr,
                )?;
            }
        }
        for (engine, mut run) in runs {
            g.bench_function(format!("{engine}-{}", p.name), |b| {
                b.iter_custom(|iters| (0..iters).map(|_| run(false).unwrap().timed).sum())
            });
        }
    }
    whole_process(&mut g, &programs, &files, &mut notes)?;
    g.finish();
    c.final_summary();

    let results = Results::collect(&report::criterion_dir()?, started)?;
    if results.is_empty() {
        eprintln!("no measurements in this run: no report");
        return Ok(());
    }
    report::publish(
        "programs",
        "cmc-programs-report.md",
        &render(&results, &programs),
        &notes,
    )
}

/// One engine's way to run a program once: `keep` asks for its output.
type Run = Box<dyn FnMut(bool) -> Result<Outcome>>;

/// What one run gave: the time between `bench.start` and `bench.end`, and
/// (when asked to keep them) stdout and stderr.
struct Outcome {
    timed: Duration,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// The instants the `bench.start`/`bench.end` host functions record.
#[derive(Default)]
struct Timer {
    start: Option<Instant>,
    end: Option<Instant>,
}

impl Timer {
    fn elapsed(&self) -> Result<Duration> {
        match (self.start, self.end) {
            (Some(s), Some(e)) => Ok(e - s),
            _ => bail!("the program did not call both bench.start and bench.end"),
        }
    }
}

// ---- cmc ----

struct CmcHost {
    wasi: cmc_wasi::WasiCtx,
    timer: Timer,
}

impl cmc_wasi::WasiView for CmcHost {
    fn wasi(&mut self) -> &mut cmc_wasi::WasiCtx {
        &mut self.wasi
    }
}

/// A context with `dir` preopened as `.` and stdout/stderr kept or dropped.
fn cmc_ctx(dir: &Path, keep: bool) -> Result<(cmc_wasi::WasiCtx, [cmc_wasi::MemoryOutputPipe; 2])> {
    use cmc_wasi::{DirPerms, FilePerms, MemoryOutputPipe, OutputSink};
    let pipes = [MemoryOutputPipe::new(), MemoryOutputPipe::new()];
    let sink = |i: usize| {
        if keep {
            OutputSink::Pipe(pipes[i].clone())
        } else {
            OutputSink::Null
        }
    };
    let ctx = cmc_wasi::WasiCtx::builder()
        .arg("benchmark")
        .stdout(sink(0))
        .stderr(sink(1))
        .preopened_dir(dir, ".", DirPerms::ALL, FilePerms::ALL)?
        .build();
    Ok((ctx, pipes))
}

fn cmc_outcome(timer: &Timer, pipes: &[cmc_wasi::MemoryOutputPipe; 2]) -> Result<Outcome> {
    Ok(Outcome {
        timed: timer.elapsed()?,
        stdout: pipes[0].contents(),
        stderr: pipes[1].contents(),
    })
}

fn cmc_core(wasm: &[u8], dir: &Path) -> Result<Run> {
    use cmc_runtime::{Caller, Linker, Module, Store};
    let engine = cmc_compiler::engine(cmc_runtime::Config::default());
    let module = Module::new(&engine, wasm)?;
    let mut linker = Linker::new();
    cmc_wasi::preview1::add_to_linker(&mut linker);
    linker.func_wrap("bench", "start", |mut c: Caller<'_, CmcHost>, (): ()| {
        c.data_mut().timer.start = Some(Instant::now());
        Ok(())
    });
    linker.func_wrap("bench", "end", |mut c: Caller<'_, CmcHost>, (): ()| {
        c.data_mut().timer.end = Some(Instant::now());
        Ok(())
    });
    let dir = dir.to_owned();
    Ok(Box::new(move |keep| {
        let (wasi, pipes) = cmc_ctx(&dir, keep)?;
        let mut store = Store::new(
            &engine,
            CmcHost {
                wasi,
                timer: Timer::default(),
            },
        );
        let instance = linker.instantiate(&mut store, &module)?;
        let start = instance.get_func(&store, "_start").context("no `_start`")?;
        if let Err(e) = start.call(&mut store, &[], &mut []) {
            ensure!(
                cmc_wasi::I32Exit::of(&e).is_some_and(|x| x.0 == 0),
                "cmc: {e}"
            );
        }
        cmc_outcome(&store.data().timer, &pipes)
    }))
}

fn cmc_component(wasm: &[u8], dir: &Path) -> Result<Run> {
    use cmc_runtime::Store;
    use cmc_runtime::component::{Component, Linker};
    let engine = cmc_compiler::engine(cmc_runtime::Config::default());
    let component = Component::new(&engine, wasm)?;
    let mut linker = Linker::<CmcHost>::new();
    cmc_wasi::add_to_linker(&mut linker);
    linker
        .instance("bench")
        .func_new("start", |mut c, _, _| {
            c.data_mut().timer.start = Some(Instant::now());
            Ok(())
        })
        .func_new("end", |mut c, _, _| {
            c.data_mut().timer.end = Some(Instant::now());
            Ok(())
        });
    let dir = dir.to_owned();
    Ok(Box::new(move |keep| {
        let (wasi, pipes) = cmc_ctx(&dir, keep)?;
        let mut store = Store::new(
            &engine,
            CmcHost {
                wasi,
                timer: Timer::default(),
            },
        );
        let instance = linker.instantiate(&mut store, &component)?;
        let status = cmc_wasi::run(&mut store, &instance)?;
        ensure!(status == 0, "cmc: exit status {status}");
        cmc_outcome(&store.data().timer, &pipes)
    }))
}

// ---- wasmtime ----

struct WasmtimeCore {
    wasi: wasmtime_wasi::p1::WasiP1Ctx,
    timer: Timer,
}

struct WasmtimeComponent {
    ctx: wasmtime_wasi::WasiCtx,
    table: wasmtime_wasi::ResourceTable,
    timer: Timer,
}

impl wasmtime_wasi::WasiView for WasmtimeComponent {
    fn ctx(&mut self) -> wasmtime_wasi::WasiCtxView<'_> {
        wasmtime_wasi::WasiCtxView {
            ctx: &mut self.ctx,
            table: &mut self.table,
        }
    }
}

type Pipes = [wasmtime_wasi::p2::pipe::MemoryOutputPipe; 2];

fn wasmtime_ctx(dir: &Path, keep: bool) -> Result<(wasmtime_wasi::WasiCtxBuilder, Pipes)> {
    use wasmtime_wasi::p2::pipe::{MemoryOutputPipe, SinkOutputStream};
    let pipes = [(); 2].map(|()| MemoryOutputPipe::new(usize::MAX));
    let mut b = wasmtime_wasi::WasiCtxBuilder::new();
    b.arg("benchmark");
    b.preopened_dir(dir, ".", wasmtime_wasi::FsPerms::ReadWrite)?;
    if keep {
        b.stdout(pipes[0].clone()).stderr(pipes[1].clone());
    } else {
        b.stdout(SinkOutputStream).stderr(SinkOutputStream);
    }
    Ok((b, pipes))
}

fn wasmtime_outcome(timer: &Timer, pipes: &Pipes) -> Result<Outcome> {
    Ok(Outcome {
        timed: timer.elapsed()?,
        stdout: pipes[0].contents().to_vec(),
        stderr: pipes[1].contents().to_vec(),
    })
}

/// Whether a wasmtime error is a clean `proc_exit(0)`.
fn exit_zero(e: &wasmtime::Error) -> bool {
    matches!(
        e.downcast_ref::<wasmtime_wasi::I32Exit>(),
        Some(wasmtime_wasi::I32Exit(0))
    )
}

fn wasmtime_core(wasm: &[u8], dir: &Path) -> Result<Run> {
    use wasmtime::{Caller, Engine, Linker, Module, Store};
    let engine = Engine::default();
    let module = Module::new(&engine, wasm)?;
    let mut linker = Linker::<WasmtimeCore>::new(&engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |h| &mut h.wasi)?;
    linker.func_wrap("bench", "start", |mut c: Caller<'_, WasmtimeCore>| {
        c.data_mut().timer.start = Some(Instant::now());
    })?;
    linker.func_wrap("bench", "end", |mut c: Caller<'_, WasmtimeCore>| {
        c.data_mut().timer.end = Some(Instant::now());
    })?;
    let pre = linker.instantiate_pre(&module)?;
    let dir = dir.to_owned();
    Ok(Box::new(move |keep| {
        let (mut b, pipes) = wasmtime_ctx(&dir, keep)?;
        let host = WasmtimeCore {
            wasi: b.build_p1(),
            timer: Timer::default(),
        };
        let mut store = Store::new(&engine, host);
        let instance = pre.instantiate(&mut store)?;
        let start = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
        if let Err(e) = start.call(&mut store, ()) {
            ensure!(exit_zero(&e), "wasmtime: {e:?}");
        }
        wasmtime_outcome(&store.data().timer, &pipes)
    }))
}

fn wasmtime_component(wasm: &[u8], dir: &Path) -> Result<Run> {
    use wasmtime::component::{Component, Linker};
    use wasmtime::{Engine, Store, StoreContextMut};
    let engine = Engine::default();
    let component = Component::new(&engine, wasm)?;
    let mut linker = Linker::<WasmtimeComponent>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    let mut bench = linker.instance("bench")?;
    bench.func_wrap(
        "start",
        |mut s: StoreContextMut<'_, WasmtimeComponent>, (): ()| {
            s.data_mut().timer.start = Some(Instant::now());
            Ok(())
        },
    )?;
    bench.func_wrap(
        "end",
        |mut s: StoreContextMut<'_, WasmtimeComponent>, (): ()| {
            s.data_mut().timer.end = Some(Instant::now());
            Ok(())
        },
    )?;
    let pre =
        wasmtime_wasi::p2::bindings::sync::CommandPre::new(linker.instantiate_pre(&component)?)?;
    let dir = dir.to_owned();
    Ok(Box::new(move |keep| {
        let (mut b, pipes) = wasmtime_ctx(&dir, keep)?;
        let host = WasmtimeComponent {
            ctx: b.build(),
            table: wasmtime_wasi::ResourceTable::new(),
            timer: Timer::default(),
        };
        let mut store = Store::new(&engine, host);
        let command = pre.instantiate(&mut store)?;
        match command.wasi_cli_run().call_run(&mut store) {
            Ok(Ok(())) => {}
            Ok(Err(())) => bail!("wasmtime: run returned err"),
            Err(e) => ensure!(exit_zero(&e), "wasmtime: {e:?}"),
        }
        wasmtime_outcome(&store.data().timer, &pipes)
    }))
}

// ---- wasmi ----

struct WasmiHost {
    wasi: wasmi_wasi::WasiCtx,
    timer: Timer,
}

fn wasmi_core(wasm: &[u8], dir: &Path) -> Result<Run> {
    use wasmi::{Caller, Engine, Linker, Module, Store};
    use wasmi_wasi::wasi_common::pipe::WritePipe;
    let engine = Engine::default();
    let module = Module::new(&engine, wasm)?;
    let mut linker = Linker::<WasmiHost>::new(&engine);
    wasmi_wasi::add_to_linker(&mut linker, |h| &mut h.wasi)?;
    linker.func_wrap("bench", "start", |mut c: Caller<'_, WasmiHost>| {
        c.data_mut().timer.start = Some(Instant::now());
    })?;
    linker.func_wrap("bench", "end", |mut c: Caller<'_, WasmiHost>| {
        c.data_mut().timer.end = Some(Instant::now());
    })?;
    let dir = dir.to_owned();
    Ok(Box::new(move |keep| {
        let pipes = [(); 2].map(|()| WritePipe::new_in_memory());
        let mut b = wasmi_wasi::WasiCtxBuilder::new();
        b.arg("benchmark")?;
        let preopen = wasmi_wasi::Dir::open_ambient_dir(&dir, wasmi_wasi::ambient_authority())?;
        b.preopened_dir(preopen, ".")?;
        if keep {
            b.stdout(Box::new(pipes[0].clone()))
                .stderr(Box::new(pipes[1].clone()));
        } else {
            b.stdout(Box::new(WritePipe::new(std::io::sink())))
                .stderr(Box::new(WritePipe::new(std::io::sink())));
        }
        let mut store = Store::new(
            &engine,
            WasmiHost {
                wasi: b.build(),
                timer: Timer::default(),
            },
        );
        let instance = linker.instantiate_and_start(&mut store, &module)?;
        let start = instance.get_typed_func::<(), ()>(&store, "_start")?;
        if let Err(e) = start.call(&mut store, ()) {
            let exit = e.i32_exit_status();
            ensure!(exit == Some(0), "wasmi: {e}");
        }
        let timed = store.data().timer.elapsed()?;
        drop(store);
        let [out, err] = pipes.map(|p| {
            p.try_into_inner()
                .map(|c| c.into_inner())
                .unwrap_or_default()
        });
        Ok(Outcome {
            timed,
            stdout: out,
            stderr: err,
        })
    }))
}

// ---- native ----

/// Builds `source` with `cc -O2` (or `$CC -O2`) into `exe`, on every run so
/// it follows the source.
fn native_build(source: &Path, exe: &Path) -> Result<PathBuf> {
    let cc = std::env::var_os("CC").unwrap_or_else(|| "cc".into());
    output(
        Command::new(cc)
            .args(["-O2", "-o"])
            .arg(exe)
            .arg(source)
            .arg("-lm"),
    )?;
    Ok(exe.to_owned())
}

/// Runs the native build in `dir`; its `bench_end` prints `bench-ns N` to
/// stderr, which is the time.
fn native(exe: PathBuf, dir: PathBuf) -> Run {
    Box::new(move |_| {
        let out = output(Command::new(&exe).current_dir(&dir))?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        let ns = stderr
            .lines()
            .find_map(|l| l.strip_prefix("bench-ns "))
            .context("no `bench-ns` line on stderr")?
            .trim()
            .parse()?;
        Ok(Outcome {
            timed: Duration::from_nanos(ns),
            stdout: out.stdout,
            stderr: out.stderr,
        })
    })
}

// ---- whole process ----

/// `cmc run X.cmc` against `wasmtime run --allow-precompiled X.cwasm`, in
/// the program's folder with it preopened (`--dir .`) and `bench` preloaded
/// from [`BENCH_WAT`]. A component cannot take a preloaded `bench` on either
/// CLI, so `cm-online-stats` has no whole-process row.
fn whole_process(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    programs: &[Program],
    files: &Path,
    notes: &mut Vec<String>,
) -> Result<()> {
    let bench = files.join("bench.wat");
    std::fs::write(&bench, BENCH_WAT)?;
    for engine in ["cmc", "wasmtime"] {
        let Some(exe) = find_exe(engine) else {
            notes.push(format!(
                "{engine}: binary not found, its whole-process cells are empty."
            ));
            continue;
        };
        let version = output(Command::new(&exe).arg("--version"))?;
        notes.push(format!(
            "Whole process, {engine}: `{}` ({}).",
            exe.display(),
            String::from_utf8_lossy(&version.stdout).trim()
        ));
        for p in programs.iter().filter(|p| !p.component) {
            let compiled = files.join(format!(
                "{}.{}",
                p.name,
                if engine == "cmc" { "cmc" } else { "cwasm" }
            ));
            let verb = if engine == "cmc" { "build" } else { "compile" };
            output(
                Command::new(&exe)
                    .arg(verb)
                    .arg(&p.wasm)
                    .arg("-o")
                    .arg(&compiled),
            )?;
            let command = || {
                let mut cmd = Command::new(&exe);
                cmd.arg("run");
                if engine == "wasmtime" {
                    cmd.arg("--allow-precompiled");
                }
                cmd.args(["--dir", "."])
                    .arg("--preload")
                    .arg(format!("bench={}", bench.display()))
                    .arg(&compiled)
                    .current_dir(&p.dir);
                cmd
            };
            let out = output(&mut command())?;
            same(
                &format!("{engine} run {} stdout", p.name),
                &out.stdout,
                &p.stdout,
            )?;
            same(
                &format!("{engine} run {} stderr", p.name),
                &out.stderr,
                &p.stderr,
            )?;
            g.bench_function(format!("{engine}-{}-process", p.name), |b| {
                b.iter(|| {
                    let status = command()
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .status()
                        .unwrap();
                    assert!(status.success());
                })
            });
        }
    }
    Ok(())
}

/// Runs `cmd` to completion; fails with its stderr unless it exits with 0.
fn output(cmd: &mut Command) -> Result<std::process::Output> {
    let out = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    ensure!(
        out.status.success(),
        "{cmd:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(out)
}

fn same(what: &str, got: &[u8], want: &[u8]) -> Result<()> {
    if got != want {
        let at = got.iter().zip(want).position(|(a, b)| a != b);
        bail!(
            "{what}: {} bytes, expected {}; first difference at {at:?}\ngot: {}",
            got.len(),
            want.len(),
            String::from_utf8_lossy(&got[..got.len().min(300)])
        );
    }
    eprintln!("checked `{what}`: the expected {} bytes", want.len());
    Ok(())
}

// ---- report ----

const ENGINES: [&str; 4] = ["cmc", "wasmtime", "wasmi", "native"];

fn ratio(a: Option<report::Estimate>, b: Option<report::Estimate>) -> Option<f64> {
    Some(a?.mean / b?.mean)
}

fn geomean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| (xs.iter().map(|x| x.ln()).sum::<f64>() / xs.len() as f64).exp())
}

fn render(results: &Results, programs: &[Program]) -> String {
    let two = |r: Option<f64>| r.map_or("—".to_owned(), |r| format!("{r:.2}"));
    let mut out = String::from(
        "| program | cmc | wasmtime | wasmi | native | cmc/wasmtime | cmc/wasmi | cmc/native |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let (mut vs_wasmtime, mut vs_wasmi) = (Vec::new(), Vec::new());
    for p in programs {
        let [cmc, wasmtime, wasmi, native] =
            ENGINES.map(|e| results.get(GROUP, &format!("{e}-{}", p.name)));
        let cells = [cmc, wasmtime, wasmi, native].map(|e| e.map_or("—".to_owned(), cell));
        let (w, i, n) = (ratio(cmc, wasmtime), ratio(cmc, wasmi), ratio(cmc, native));
        if !p.component {
            vs_wasmtime.extend(w);
            vs_wasmi.extend(i);
        }
        let label = if p.component {
            format!("`{}` (component; not in the geomean)", p.name)
        } else {
            format!("`{}`", p.name)
        };
        out.push_str(&format!(
            "| {label} | {} | {} | {} | {} | {} | {} | {} |\n",
            cells[0],
            cells[1],
            if p.component {
                "— (no components)".into()
            } else {
                cells[2].clone()
            },
            cells[3],
            two(w),
            two(i),
            two(n)
        ));
    }
    out.push_str(&format!(
        "\nGeomean over the {} core programs: cmc/wasmtime {}, cmc/wasmi {} (wasmi/cmc {}).\n",
        vs_wasmtime.len(),
        two(geomean(&vs_wasmtime)),
        two(geomean(&vs_wasmi)),
        two(geomean(&vs_wasmi).map(|g| 1.0 / g)),
    ));
    out.push_str(
        "\n| program, whole process | `cmc run` | `wasmtime run --allow-precompiled` | cmc/wasmtime |\n\
         |---|---:|---:|---:|\n",
    );
    let mut whole = Vec::new();
    for p in programs.iter().filter(|p| !p.component) {
        let [cmc, wasmtime] =
            ["cmc", "wasmtime"].map(|e| results.get(GROUP, &format!("{e}-{}-process", p.name)));
        let r = ratio(cmc, wasmtime);
        whole.extend(r);
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            p.name,
            cmc.map_or("—".into(), cell),
            wasmtime.map_or("—".into(), cell),
            two(r)
        ));
    }
    out.push_str(&format!(
        "\nGeomean whole process cmc/wasmtime: {}.\n\nIn process, a figure is criterion's mean \
         of the time between `bench.start` and `bench.end` with the half-width of its 95% \
         confidence interval; whole process, of the run of the command. Ratios are of means \
         measured in this run (below 1: cmc faster).\n",
        two(geomean(&whole))
    ));
    out
}
