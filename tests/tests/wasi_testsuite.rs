//! The WASI test suite (`../shared/testsuite/wasi/`, read in place): the
//! precompiled preview1 programs of its C, Rust and AssemblyScript suites,
//! each run as its `.json` says (arguments, environment, the `root` folder
//! preopened as `/` in a scratch copy, expected exit code and stdout), with
//! an empty stdin.
//!
//! Each program runs twice: as a core module on cmc's preview1 (trials
//! `core::…`), and as a component (`component::…`), wrapped here with
//! wasmtime 48's preview1 adapter and run on cmc's WASI 0.2. Every core
//! run must pass. [`KNOWN_ADAPTER_FAILURES`] lists the component runs where
//! the adapter itself gives up, as it does on wasmtime; they count as
//! failed and are printed apart, they must end as a trap or with status 1,
//! and one that starts passing fails the run (the list is then out of
//! date). The totals are printed per suite and mode; the last line is `N
//! passed, M failed, K skipped`. When the suite is missing, the run says
//! so and counts both runs of its [`SNAPSHOT_TESTS`] programs as skipped.

use cmc_runtime::component::{self, Component};
use cmc_runtime::{Config, Engine, Error, Linker, Module, Store};
use cmc_wasi::{DirPerms, FilePerms, I32Exit, MemoryOutputPipe, OutputSink, WasiCtx};
use libtest_mimic::{Arguments, Failed, Trial};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Programs in the snapshot of the suite (commit 9f80ca3, `SOURCE.md`).
const SNAPSHOT_TESTS: usize = 72;

/// Runs as components that fail inside wasmtime 48's preview1 adapter, on
/// wasmtime as on cmc, with the reason.
const KNOWN_ADAPTER_FAILURES: &[(&str, &str)] = &[
    (
        "assemblyscript/args_get-multiple-arguments",
        "the adapter's args_get asserts on these arguments",
    ),
    (
        "assemblyscript/environ_get-multiple-variables",
        "the adapter's environ_get asserts on these variables",
    ),
    (
        "assemblyscript/fd_write-to-invalid-fd",
        "the adapter's own descriptor table gives another errno",
    ),
    (
        "assemblyscript/proc_exit-failure",
        "proc_exit(33) cannot travel through wasi:cli/exit, which carries ok or err",
    ),
];

/// A test's `.json` (the suite's legacy specification; defaults when absent).
#[derive(Default)]
struct Spec {
    args: Vec<String>,
    env: Vec<(String, String)>,
    root: Option<String>,
    exit_code: i32,
    stdout: Option<String>,
}

/// How a program runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Mode {
    /// As a core module, on preview1.
    Core,
    /// Wrapped as a component, on WASI 0.2.
    Component,
}

impl Mode {
    /// The trial name's prefix.
    fn name(self) -> &'static str {
        match self {
            Mode::Core => "core",
            Mode::Component => "component",
        }
    }

    /// How the summary says it.
    fn runs_as(self) -> &'static str {
        match self {
            Mode::Core => "as core modules",
            Mode::Component => "as components",
        }
    }
}

/// How a run ended.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Passed,
    Failed,
    /// Failed, as [`KNOWN_ADAPTER_FAILURES`] expects.
    KnownFailure,
}

fn main() {
    let args = Arguments::from_args();
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate is inside the workspace");
    let suite = workspace
        .parent()
        .unwrap_or(workspace)
        .join("shared/testsuite/wasi");
    if !suite.is_dir() {
        let runs = 2 * SNAPSHOT_TESTS;
        println!(
            "WASI testsuite not found at {}: {runs} runs (core modules and components) skipped",
            suite.display()
        );
        let conclusion = libtest_mimic::run(&args, Vec::new());
        println!("0 passed, 0 failed, {runs} skipped");
        conclusion.exit()
    }
    let engine = cmc_compiler::engine(Config::default());
    let outcomes: Arc<Mutex<BTreeMap<(Mode, String), Outcome>>> = Arc::default();
    let mut trials = Vec::new();
    for (name, wasm) in programs(&suite) {
        for mode in [Mode::Core, Mode::Component] {
            trials.push(trial(&engine, &outcomes, mode, &name, &wasm));
        }
    }
    let conclusion = libtest_mimic::run(&args, trials);
    summarize(&outcomes.lock().unwrap());
    conclusion.exit()
}

/// The trial of running program `name` in `mode`, recording its outcome.
fn trial(
    engine: &Engine,
    outcomes: &Arc<Mutex<BTreeMap<(Mode, String), Outcome>>>,
    mode: Mode,
    name: &str,
    wasm: &Path,
) -> Trial {
    let (engine, outcomes) = (engine.clone(), outcomes.clone());
    let (name, wasm) = (name.to_owned(), wasm.to_owned());
    let known = KNOWN_ADAPTER_FAILURES
        .iter()
        .find(|(n, _)| *n == name && mode == Mode::Component)
        .map(|(_, why)| *why);
    Trial::test(format!("{}::{name}", mode.name()), move || {
        let result = run(&engine, &wasm, mode);
        let outcome = match (&result, known) {
            (Ok(()), None) => Outcome::Passed,
            (Err(_), None) => Outcome::Failed,
            (Err(RunFailure::Trapped | RunFailure::Exit1), Some(_)) => Outcome::KnownFailure,
            (Err(RunFailure::Other(_)), Some(_)) | (Ok(()), Some(_)) => Outcome::Failed,
        };
        outcomes
            .lock()
            .unwrap()
            .insert((mode, name.clone()), outcome);
        match (result, known) {
            (Ok(()), None) => Ok(()),
            (Err(e), None) => Err(Failed::from(e.to_string())),
            (Ok(()), Some(_)) => Err(Failed::from(
                "passes now: remove it from KNOWN_ADAPTER_FAILURES",
            )),
            (Err(RunFailure::Trapped | RunFailure::Exit1), Some(_)) => Ok(()),
            (Err(e), Some(why)) => Err(Failed::from(format!(
                "a known adapter failure ({why}) must trap or exit with status 1: {e}"
            ))),
        }
    })
}

/// Every `(suite/name, path of NAME.wasm)` of the three suites, sorted.
fn programs(suite: &Path) -> Vec<(String, PathBuf)> {
    let mut programs = Vec::new();
    for lang in ["assemblyscript", "c", "rust"] {
        let dir = suite.join(lang).join("testsuite/wasm32-wasip1");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "wasm") {
                let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
                programs.push((format!("{lang}/{stem}"), path));
            }
        }
    }
    programs.sort();
    programs
}

/// Why a run did not pass.
enum RunFailure {
    /// It trapped (or a host function failed).
    Trapped,
    /// It exited with status 1 where the test expects another.
    Exit1,
    /// Anything else: wrong status or output, or cmc refused the program.
    Other(String),
}

impl std::fmt::Display for RunFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunFailure::Trapped => write!(f, "trapped"),
            RunFailure::Exit1 => write!(f, "exited with status 1"),
            RunFailure::Other(why) => write!(f, "{why}"),
        }
    }
}

fn run(engine: &Engine, wasm: &Path, mode: Mode) -> Result<(), RunFailure> {
    let other = |what: &str, e: &dyn std::fmt::Display| RunFailure::Other(format!("{what}: {e}"));
    let spec = read_spec(&wasm.with_extension("json")).map_err(|e| other("the .json", &e))?;
    let module = std::fs::read(wasm).map_err(|e| other("reading", &e))?;
    let scratch = Scratch::new(wasm, spec.root.as_deref()).map_err(|e| other("scratch", &e))?;
    let stdout = MemoryOutputPipe::new();
    let mut b = WasiCtx::builder();
    let program = wasm.file_name().unwrap().to_string_lossy().into_owned();
    b.arg(program)
        .args(spec.args.iter().cloned())
        .stdout(OutputSink::Pipe(stdout.clone()))
        .stderr(OutputSink::Inherit);
    for (name, value) in &spec.env {
        b.env(name.as_str(), value.as_str());
    }
    if let Some(root) = &scratch.root {
        b.preopened_dir(root, "/", DirPerms::ALL, FilePerms::ALL)
            .map_err(|e| other("preopening the root", &e))?;
    }
    let ctx = b.build();
    let status = match mode {
        Mode::Core => run_core(engine, &module, ctx),
        Mode::Component => run_component(engine, &module, ctx),
    }?;
    if status != spec.exit_code {
        return Err(if status == 1 {
            RunFailure::Exit1
        } else {
            RunFailure::Other(format!("exit status {status}, expected {}", spec.exit_code))
        });
    }
    if let Some(expected) = &spec.stdout {
        let got = String::from_utf8_lossy(&stdout.contents()).into_owned();
        if got != *expected {
            return Err(RunFailure::Other(format!(
                "stdout {got:?}, expected {expected:?}"
            )));
        }
    }
    Ok(())
}

/// Runs `_start` of the core module on preview1; its exit status.
fn run_core(engine: &Engine, module: &[u8], ctx: WasiCtx) -> Result<i32, RunFailure> {
    let other = |what: &str, e: &dyn std::fmt::Display| RunFailure::Other(format!("{what}: {e}"));
    let module = Module::new(engine, module).map_err(|e| other("compiling", &e))?;
    let mut linker = Linker::new();
    cmc_wasi::preview1::add_to_linker(&mut linker);
    let mut store = Store::new(engine, ctx);
    let instance = linker
        .instantiate(&mut store, &module)
        .map_err(|e| other("instantiating", &e))?;
    let start = instance
        .get_func(&store, "_start")
        .ok_or_else(|| RunFailure::Other("no `_start` export".into()))?
        .typed::<(), ()>(&store)
        .map_err(|e| other("`_start`", &e))?;
    match start.call(&mut store, ()) {
        Ok(()) => Ok(0),
        Err(e) => match I32Exit::of(&e) {
            Some(I32Exit(status)) => Ok(status),
            None => Err(failure(e)),
        },
    }
}

/// Runs the program wrapped as a component on WASI 0.2; its exit status.
fn run_component(engine: &Engine, module: &[u8], ctx: WasiCtx) -> Result<i32, RunFailure> {
    let other = |what: &str, e: &dyn std::fmt::Display| RunFailure::Other(format!("{what}: {e}"));
    let component = cmc_tests::componentize(module, true).map_err(|e| other("wrapping", &e))?;
    let component = Component::new(engine, component).map_err(|e| other("compiling", &e))?;
    let mut linker = component::Linker::new();
    cmc_wasi::add_to_linker(&mut linker);
    let mut store = Store::new(engine, ctx);
    let instance = linker
        .instantiate(&mut store, &component)
        .map_err(|e| other("instantiating", &e))?;
    cmc_wasi::run(&mut store, &instance).map_err(failure)
}

/// A run that ended with an error instead of an exit status.
fn failure(e: Error) -> RunFailure {
    match e {
        Error::Trap(_) | Error::Canon(_) | Error::Host(_) => RunFailure::Trapped,
        e => RunFailure::Other(format!("running: {e}")),
    }
}

fn read_spec(path: &Path) -> Result<Spec, String> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(Spec::default());
    };
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let strings = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    Ok(Spec {
        args: strings(&json["args"]),
        env: json["env"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    .collect()
            })
            .unwrap_or_default(),
        root: json["root"].as_str().map(str::to_owned),
        exit_code: json["exit_code"].as_i64().unwrap_or(0) as i32,
        stdout: json["stdout"].as_str().map(str::to_owned),
    })
}

/// A scratch copy of a test's `root` folder, so no run changes the suite,
/// with the `*.cleanup` files the specification says to remove removed.
struct Scratch {
    dir: PathBuf,
    root: Option<PathBuf>,
}

impl Scratch {
    fn new(wasm: &Path, root: Option<&str>) -> std::io::Result<Scratch> {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("cmc-wasi-testsuite-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let root = match root {
            Some(root) => {
                let to = dir.join(root);
                copy_tree(&wasm.parent().unwrap().join(root), &to)?;
                Some(to)
            }
            None => None,
        };
        Ok(Scratch { dir, root })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Copies `from` to `to`, symlinks as symlinks, leaving out `*.cleanup`.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let ty = entry.file_type()?;
        if src.extension().is_some_and(|e| e == "cleanup") {
            continue;
        }
        if ty.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&src)?, &dst)?;
        } else if ty.is_dir() {
            copy_tree(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}

/// Prints the known failures, the totals per mode and suite, and the
/// total.
fn summarize(outcomes: &BTreeMap<(Mode, String), Outcome>) {
    for (name, why) in KNOWN_ADAPTER_FAILURES {
        let key = (Mode::Component, name.to_string());
        if outcomes.get(&key) == Some(&Outcome::KnownFailure) {
            println!("known adapter failure (counted as failed): component {name}: {why}");
        }
    }
    let mut totals: BTreeMap<(Mode, &str), (usize, usize)> = BTreeMap::new();
    for ((mode, name), outcome) in outcomes {
        let suite = name.split('/').next().unwrap_or(name);
        let t = totals.entry((*mode, suite)).or_default();
        match outcome {
            Outcome::Passed => t.0 += 1,
            Outcome::Failed | Outcome::KnownFailure => t.1 += 1,
        }
    }
    let (mut passed, mut failed) = (0, 0);
    for ((mode, suite), (p, f)) in &totals {
        println!(
            "WASI testsuite {suite} {}: {p} passed, {f} failed",
            mode.runs_as()
        );
        passed += p;
        failed += f;
    }
    println!("{passed} passed, {failed} failed, 0 skipped");
}
