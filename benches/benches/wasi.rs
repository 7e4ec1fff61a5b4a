//! WASI 0.2: cmc (`cmc-wasi`) against wasmtime (`wasmtime-wasi`, and the
//! `wasmtime` CLI) in one run, with the C guests of `tests/guests/`
//! (`hello.component.wasm`, `cat.component.wasm`: preview1 programs wrapped
//! with wasmtime 48.0.8's command adapter):
//!
//! - `hello`, whole process: `cmc run hello.cmc` (from `cmc build`) against
//!   `wasmtime run --allow-precompiled hello.cwasm` (from `wasmtime
//!   compile`); and in process: new store, instantiate, `wasi:cli/run`.
//! - `cat`, 100 MB from stdin to stdout in 64 KiB reads: in process (stdin
//!   from bytes in memory, stdout to a sink) and whole process (a pipe in,
//!   `/dev/null` out).
//!
//! `cargo build --release -p cmc && cargo bench -p cmc-benches --bench wasi`
//! (the `cmc` binary is looked for beside this benchmark's target directory,
//! `<target>/release/cmc`, or at `$CMC`; `wasmtime` on `$PATH`, in
//! `~/.cargo/bin`, or at `$WASMTIME`; a missing binary skips its rows and
//! says so). Before anything is timed each engine's output is compared with
//! the expected bytes. The table is printed and written to
//! `<criterion dir>/cmc-wasi-report.md`.

use anyhow::{Context, Result, bail, ensure};
use cmc_benches::find_exe;
use cmc_benches::report::{self, Results, cell};
use criterion::{Criterion, SamplingMode};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Bytes copied through `cat`.
const INPUT_BYTES: usize = 100_000_000;
const HELLO_OUT: &[u8] = b"Hello, world!\n";
const GROUP: &str = "wasi";

fn main() -> Result<()> {
    let started = SystemTime::now();
    let guests = std::env::var_os("WASI_GUESTS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/guests/bin"),
        PathBuf::from,
    );
    let read = |name: &str| {
        let path = guests.join(name);
        std::fs::read(&path).with_context(|| format!("reading {}", path.display()))
    };
    let hello = read("hello.component.wasm")?;
    let cat = read("cat.component.wasm")?;
    let input: &'static [u8] = Box::leak(input_bytes(INPUT_BYTES).into_boxed_slice());

    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20)
        .configure_from_args();
    let mut notes = Vec::new();
    in_process(&mut c, &hello, &cat, input)?;
    whole_process(&mut c, &guests, input, &mut notes)?;
    c.final_summary();

    let results = Results::collect(&report::criterion_dir()?, started)?;
    if results.is_empty() {
        eprintln!("no measurements in this run: no report");
        return Ok(());
    }
    report::publish("wasi", "cmc-wasi-report.md", &render(&results), &notes)
}

/// Deterministic bytes that do not compress to nothing (xorshift64).
fn input_bytes(len: usize) -> Vec<u8> {
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    let mut bytes = Vec::with_capacity(len + 8);
    while bytes.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}

/// The table rows: label, benchmark id suffix, bytes moved (for MB/s).
const ROWS: [(&str, &str, usize); 4] = [
    (
        "`hello`, whole process: `run` of the precompiled file",
        "hello-process",
        0,
    ),
    (
        "`hello`, in process: new store + instantiate + `wasi:cli/run`",
        "hello-embedded",
        0,
    ),
    (
        "`cat` 100 MB stdin→stdout, in process (memory → sink)",
        "cat-embedded",
        INPUT_BYTES,
    ),
    (
        "`cat` 100 MB stdin→stdout, whole process (pipe → /dev/null)",
        "cat-process",
        INPUT_BYTES,
    ),
];

fn render(results: &Results) -> String {
    let mut out =
        String::from("| workload | cmc | wasmtime | cmc/wasmtime |\n|---|---:|---:|---:|\n");
    for (label, id, bytes) in ROWS {
        let [cmc, wasmtime] = ["cmc", "wasmtime"].map(|e| results.get(GROUP, &format!("{e}-{id}")));
        let figure = |e: Option<report::Estimate>| match e {
            None => "—".to_owned(),
            Some(e) if bytes > 0 => {
                format!(
                    "{} ({:.0} MB/s)",
                    cell(e),
                    bytes as f64 / 1e6 / (e.mean * 1e-9)
                )
            }
            Some(e) => cell(e),
        };
        let ratio = cmc
            .zip(wasmtime)
            .map_or("—".into(), |(c, w)| format!("{:.2}", c.mean / w.mean));
        out.push_str(&format!(
            "| {label} | {} | {} | {ratio} |\n",
            figure(cmc),
            figure(wasmtime)
        ));
    }
    out.push_str(
        "\nTimes are criterion's mean per iteration with the half-width of its 95% confidence \
         interval; the ratio is of means measured in this run (below 1: cmc faster).\n",
    );
    out
}

/// The embedding APIs: cmc's `Component` + `cmc_wasi`, wasmtime's
/// `Component` + `wasmtime_wasi::p2` (synchronous). Compiling and filling the
/// linker are not timed; each iteration makes a new WASI context, store and
/// instance (imports resolved by name) and runs `wasi:cli/run` to its end.
fn in_process(c: &mut Criterion, hello: &[u8], cat: &[u8], input: &'static [u8]) -> Result<()> {
    let cmc_engine = cmc_compiler::engine(cmc_runtime::Config::default());
    let mut cmc_linker = cmc_runtime::component::Linker::new();
    cmc_wasi::add_to_linker(&mut cmc_linker);
    let wasmtime_engine = wasmtime::Engine::default();
    let mut wasmtime_linker = wasmtime::component::Linker::new(&wasmtime_engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut wasmtime_linker)?;
    let mut g = c.benchmark_group(GROUP);
    g.sampling_mode(SamplingMode::Flat);
    for (name, wasm, stdin, expected, samples) in [
        ("hello", hello, &[][..], HELLO_OUT, 20),
        ("cat", cat, input, input, 10),
    ] {
        g.sample_size(samples);
        let cmc = cmc_runtime::component::Component::new(&cmc_engine, wasm)?;
        // Shared, not copied, by every iteration (as wasmtime's `Bytes`).
        let cmc_stdin: Arc<[u8]> = stdin.into();
        let out = cmc_embedded(&cmc_engine, &cmc_linker, &cmc, &cmc_stdin, true)?;
        same(&format!("cmc {name}"), &out, expected)?;
        g.bench_function(format!("cmc-{name}-embedded"), |b| {
            b.iter(|| cmc_embedded(&cmc_engine, &cmc_linker, &cmc, &cmc_stdin, false).unwrap())
        });
        let wt = wasmtime::component::Component::new(&wasmtime_engine, wasm)?;
        let out = wasmtime_embedded(&wasmtime_engine, &wasmtime_linker, &wt, stdin, true)?;
        same(&format!("wasmtime {name}"), &out, expected)?;
        g.bench_function(format!("wasmtime-{name}-embedded"), |b| {
            b.iter(|| {
                wasmtime_embedded(&wasmtime_engine, &wasmtime_linker, &wt, stdin, false).unwrap()
            })
        });
    }
    g.finish();
    Ok(())
}

/// Runs a command component on cmc with `stdin` and returns its stdout
/// (when `keep`; otherwise stdout goes to a sink and nothing is returned).
fn cmc_embedded(
    engine: &cmc_runtime::Engine,
    linker: &cmc_runtime::component::Linker<cmc_wasi::WasiCtx>,
    component: &cmc_runtime::component::Component,
    stdin: &Arc<[u8]>,
    keep: bool,
) -> Result<Vec<u8>> {
    use cmc_wasi::{MemoryOutputPipe, OutputSink, StdinSource, WasiCtx};
    let pipe = MemoryOutputPipe::new();
    let ctx = WasiCtx::builder()
        .arg("guest")
        .stdin(StdinSource::Bytes(stdin.clone()))
        .stdout(if keep {
            OutputSink::Pipe(pipe.clone())
        } else {
            OutputSink::Null
        })
        .build();
    let mut store = cmc_runtime::Store::new(engine, ctx);
    let instance = linker.instantiate(&mut store, component)?;
    let status = cmc_wasi::run(&mut store, &instance)?;
    ensure!(status == 0, "cmc: exit status {status}");
    Ok(pipe.contents())
}

struct WasmtimeHost {
    ctx: wasmtime_wasi::WasiCtx,
    table: wasmtime_wasi::ResourceTable,
}

impl wasmtime_wasi::WasiView for WasmtimeHost {
    fn ctx(&mut self) -> wasmtime_wasi::WasiCtxView<'_> {
        wasmtime_wasi::WasiCtxView {
            ctx: &mut self.ctx,
            table: &mut self.table,
        }
    }
}

/// [`cmc_embedded`] on wasmtime.
fn wasmtime_embedded(
    engine: &wasmtime::Engine,
    linker: &wasmtime::component::Linker<WasmtimeHost>,
    component: &wasmtime::component::Component,
    stdin: &'static [u8],
    keep: bool,
) -> Result<Vec<u8>> {
    use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe, SinkOutputStream};
    let pipe = MemoryOutputPipe::new(stdin.len().max(HELLO_OUT.len()));
    let mut ctx = wasmtime_wasi::WasiCtx::builder();
    ctx.arg("guest").stdin(MemoryInputPipe::new(stdin));
    if keep {
        ctx.stdout(pipe.clone());
    } else {
        ctx.stdout(SinkOutputStream);
    }
    let host = WasmtimeHost {
        ctx: ctx.build(),
        table: wasmtime_wasi::ResourceTable::new(),
    };
    let mut store = wasmtime::Store::new(engine, host);
    let command =
        wasmtime_wasi::p2::bindings::sync::Command::instantiate(&mut store, component, linker)?;
    match command.wasi_cli_run().call_run(&mut store) {
        Ok(Ok(())) => {}
        Ok(Err(())) => bail!("wasmtime: run returned err"),
        Err(e) => match e.downcast_ref::<wasmtime_wasi::I32Exit>() {
            Some(wasmtime_wasi::I32Exit(0)) => {}
            _ => return Err(e.into()),
        },
    }
    Ok(pipe.contents().to_vec())
}

/// The engines' command lines on their precompiled files.
fn whole_process(
    c: &mut Criterion,
    guests: &Path,
    input: &'static [u8],
    notes: &mut Vec<String>,
) -> Result<()> {
    let dir = report::criterion_dir()?.join("cmc-wasi-files");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut g = c.benchmark_group(GROUP);
    g.sampling_mode(SamplingMode::Flat);
    for engine in ["cmc", "wasmtime"] {
        let Some(exe) = find_exe(engine) else {
            let note = format!(
                "{engine}: binary not found, its whole-process rows are skipped ({})",
                if engine == "cmc" {
                    "`cargo build --release -p cmc`, or set CMC"
                } else {
                    "`cargo install wasmtime-cli@48.0.8 --locked`, or set WASMTIME"
                }
            ) + ".";
            eprintln!("{note}");
            notes.push(note);
            continue;
        };
        let version = output(Command::new(&exe).arg("--version"))?;
        let version = String::from_utf8_lossy(&version).trim().to_owned();
        notes.push(format!(
            "Whole process, {engine}: `{}` ({version}).",
            exe.display()
        ));
        for (name, stdin, expected, samples) in [
            ("hello", None, HELLO_OUT, 20),
            ("cat", Some(input), input, 10),
        ] {
            let wasm = guests.join(format!("{name}.component.wasm"));
            let compiled = dir.join(format!(
                "{name}.{}",
                if engine == "cmc" { "cmc" } else { "cwasm" }
            ));
            let mut compile = Command::new(&exe);
            match engine {
                "cmc" => compile.arg("build").arg(&wasm).arg("-o").arg(&compiled),
                _ => compile.arg("compile").arg(&wasm).arg("-o").arg(&compiled),
            };
            output(&mut compile)?;
            let command = || {
                let mut cmd = Command::new(&exe);
                match engine {
                    "cmc" => cmd.arg("run"),
                    _ => cmd.args(["run", "--allow-precompiled"]),
                };
                cmd.arg(&compiled);
                cmd
            };
            let out = run_process(command(), stdin, true)?;
            same(&format!("{engine} run {name}"), &out, expected)?;
            g.sample_size(samples);
            g.bench_function(format!("{engine}-{name}-process"), |b| {
                b.iter(|| run_process(command(), stdin, false).unwrap())
            });
        }
    }
    g.finish();
    Ok(())
}

/// Runs `cmd` with `stdin` written into a pipe (or no stdin), and returns
/// what it wrote to stdout (when `keep`; otherwise stdout is `/dev/null`).
/// Fails unless the process exits with status 0.
fn run_process(mut cmd: Command, stdin: Option<&'static [u8]>, keep: bool) -> Result<Vec<u8>> {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    cmd.stdout(if keep {
        Stdio::piped()
    } else {
        std::fs::File::create("/dev/null")?.into()
    });
    let mut child = cmd.spawn().context("spawning the engine")?;
    let writer = child
        .stdin
        .take()
        .zip(stdin)
        .map(|(mut pipe, bytes)| std::thread::spawn(move || pipe.write_all(bytes)));
    let mut out = Vec::new();
    if let Some(mut stdout) = child.stdout.take() {
        stdout.read_to_end(&mut out)?;
    }
    let status = child.wait()?;
    if let Some(writer) = writer {
        writer.join().expect("stdin writer panicked")?;
    }
    ensure!(status.success(), "{cmd:?}: {status}");
    Ok(out)
}

/// Runs `cmd` to completion and returns its stdout; fails with its stderr.
fn output(cmd: &mut Command) -> Result<Vec<u8>> {
    let out = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    ensure!(
        out.status.success(),
        "{cmd:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(out.stdout)
}

/// Fails unless an engine's output is the expected one (by length and
/// first difference, not by printing 100 MB).
fn same(what: &str, got: &[u8], want: &[u8]) -> Result<()> {
    if got != want {
        let at = got.iter().zip(want).position(|(a, b)| a != b);
        bail!(
            "{what}: wrote {} bytes to stdout, expected {}; first difference at {at:?}",
            got.len(),
            want.len()
        );
    }
    eprintln!(
        "checked `{what}`: stdout is the expected {} bytes",
        want.len()
    );
    Ok(())
}
