//! The asynchronous component model on cmc and on wasmtime with its
//! `component-model-async` support, in one run:
//!
//! - an async call round trip from the host: an async export that calls
//!   `task.return` at once, lifted stackful (`async`) and with a
//!   `callback`;
//! - the same export yielding once (`thread.yield`) before it returns, so
//!   its task suspends and the host's event loop resumes it;
//! - a call between two components through an async lower, into a
//!   callee that returns at once, in a loop in wasm;
//! - stream throughput: 10 MiB through a `stream<u8>` between two
//!   components (`tests/components/stream_chunks.wat`), read in reads of
//!   64 KiB and of 4 KiB, the reader summing every byte.
//!
//! Every export's result is checked on both engines before anything is
//! timed. cmc calls with `Func::call` (the typed API refuses async
//! functions), wasmtime with `TypedFunc::call_async`, polled to its end
//! on this thread.

use anyhow::{Result, bail, ensure};
use cmc_benches::report::{Estimate, Results, cell, criterion_dir, machine};
use criterion::{BatchSize, Criterion};
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::SystemTime;

/// Two components: `$Outer` exports async functions (`direct` and
/// `direct-cb` return 7 at once, stackful and with a callback, `yield`
/// yields once first, and `loop(n)` calls `$Inner`'s async `inc` `n`
/// times through an async lower, each call returning at once, and returns
/// the sum).
const CALLS: &str = r#"
(component
  (component $Inner
    (core module $M
      (import "" "task.return" (func $task.return (param i32)))
      (func (export "inc") (param i32) (call $task.return (i32.add (local.get 0) (i32.const 1)))))
    (core func $task.return (canon task.return (result u32)))
    (core instance $m (instantiate $M (with "" (instance (export "task.return" (func $task.return))))))
    (func (export "inc") async (param "x" u32) (result u32) (canon lift (core func $m "inc") async)))
  (component $Outer
    (import "inc" (func $inc async (param "x" u32) (result u32)))
    (core module $Memory (memory (export "mem") 1))
    (core instance $memory (instantiate $Memory))
    (core func $inc (canon lower (func $inc) async (memory (core memory $memory "mem"))))
    (core func $task.return (canon task.return (result u32)))
    (core func $thread.yield (canon thread.yield))
    (core module $M
      (import "" "mem" (memory 1))
      (import "" "inc" (func $inc (param i32 i32) (result i32)))
      (import "" "task.return" (func $task.return (param i32)))
      (import "" "thread.yield" (func $thread.yield (result i32)))
      (func (export "direct") (call $task.return (i32.const 7)))
      (func (export "direct-cb") (result i32) (call $task.return (i32.const 7)) (i32.const 0))
      (func (export "direct-cb-callback") (param i32 i32 i32) (result i32) unreachable)
      (func (export "yield") (drop (call $thread.yield)) (call $task.return (i32.const 7)))
      (func (export "loop") (param $n i32)
        (local $sum i32)
        (block $done
          (loop $call
            (br_if $done (i32.eqz (local.get $n)))
            ;; RETURNED (2), the result at 0.
            (if (i32.ne (call $inc (local.get $n) (i32.const 0)) (i32.const 2)) (then unreachable))
            (local.set $sum (i32.add (local.get $sum) (i32.load (i32.const 0))))
            (local.set $n (i32.sub (local.get $n) (i32.const 1)))
            (br $call)))
        (call $task.return (local.get $sum))))
    (core instance $m (instantiate $M (with "" (instance
      (export "mem" (memory $memory "mem"))
      (export "inc" (func $inc))
      (export "task.return" (func $task.return))
      (export "thread.yield" (func $thread.yield))))))
    (func (export "direct") async (result u32) (canon lift (core func $m "direct") async))
    (func (export "direct-cb") async (result u32)
      (canon lift (core func $m "direct-cb") async (callback (core func $m "direct-cb-callback"))))
    (func (export "yield") async (result u32) (canon lift (core func $m "yield") async))
    (func (export "loop") async (param "n" u32) (result u32) (canon lift (core func $m "loop") async)))
  (instance $inner (instantiate $Inner))
  (instance $outer (instantiate $Outer (with "inc" (func $inner "inc"))))
  (export "direct" (func $outer "direct"))
  (export "direct-cb" (func $outer "direct-cb"))
  (export "yield" (func $outer "yield"))
  (export "loop" (func $outer "loop"))
)
"#;

/// Calls between components per `loop` iteration.
const LOOP_CALLS: u32 = 1000;

/// 64 KiB chunks written to the stream: 10 MiB.
const CHUNKS: u32 = 160;

/// The criterion groups.
const GROUPS: [(&str, &str); 6] = [
    (
        "async-direct",
        "host→component async call, stackful lift, returns at once",
    ),
    (
        "async-direct-cb",
        "host→component async call, callback lift, returns at once",
    ),
    (
        "async-yield",
        "host→component async call, stackful lift, yields once",
    ),
    (
        "async-compose",
        "component→component async call, returns at once, per call",
    ),
    (
        "stream-64k",
        "10 MiB through a `stream<u8>` between components, 64 KiB reads",
    ),
    (
        "stream-4k",
        "10 MiB through a `stream<u8>` between components, 4 KiB reads",
    ),
];

/// Polls `future` on this thread until it completes (wasmtime's calls
/// need no reactor here: nothing they wait for is outside the store).
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

/// One export called with `args`, and the result it must give.
struct Case {
    group: &'static str,
    export: &'static str,
    args: Vec<u32>,
    expected: u64,
    /// Calls per iteration, to report a time per call.
    per: u32,
    /// Whether each iteration gets a new store and instance (outside the
    /// timing): wasmtime 48 keeps a record of every async call between
    /// components until its store goes, and runs out of table slots
    /// after a few hundred thousand.
    fresh_instance: bool,
}

fn cases() -> [Case; 6] {
    // (bytes read) << 32 | (their sum mod 2^32), whatever the reads' size.
    let total = u64::from(CHUNKS) * 65536;
    let chunk_sum: u64 = (0..65536u64).map(|k| k % 251).sum();
    let stream_result = (total << 32) | ((chunk_sum * u64::from(CHUNKS)) & 0xffff_ffff);
    let loop_sum = u64::from(LOOP_CALLS * (LOOP_CALLS + 1) / 2 + LOOP_CALLS);
    let case = |group: usize, export, args: &[u32], expected| Case {
        group: GROUPS[group].0,
        export,
        args: args.to_vec(),
        expected,
        per: 1,
        fresh_instance: false,
    };
    [
        case(0, "direct", &[], 7),
        case(1, "direct-cb", &[], 7),
        case(2, "yield", &[], 7),
        Case {
            per: LOOP_CALLS,
            fresh_instance: true,
            ..case(3, "loop", &[LOOP_CALLS], loop_sum)
        },
        case(4, "run", &[CHUNKS, 65536], stream_result),
        case(5, "run", &[CHUNKS, 4096], stream_result),
    ]
}

/// A call of one export on one engine: returns its result.
type Call = Box<dyn FnMut() -> Result<u64>>;

/// A new store and instance of a compiled component, and the call of the
/// case's export in it.
type Instantiate = Box<dyn FnMut() -> Result<Call>>;

fn cmc_instantiate(wat: &str, case: &Case) -> Result<Instantiate> {
    use cmc_runtime::component::{Component, Linker, Val};
    let engine = cmc_compiler::engine(cmc_runtime::Config::default());
    let component = Component::new(&engine, wat)?;
    let export = case.export;
    let args: Vec<Val> = case.args.iter().map(|&a| Val::U32(a)).collect();
    let read = |out: &[Val; 1]| match out {
        [Val::U32(v)] => Ok(u64::from(*v)),
        [Val::U64(v)] => Ok(*v),
        other => bail!("unexpected result {other:?}"),
    };
    Ok(Box::new(move || {
        let mut store = cmc_runtime::Store::new(&engine, ());
        let instance = Linker::new().instantiate(&mut store, &component)?;
        let Some(func) = instance.get_func(&store, &[export]) else {
            bail!("no export {export}");
        };
        let args = args.clone();
        Ok(Box::new(move || {
            let mut out = [Val::Bool(false)];
            func.call(&mut store, &args, &mut out)?;
            read(&out)
        }) as Call)
    }))
}

fn wasmtime_instantiate(wat: &str, case: &Case) -> Result<Instantiate> {
    use wasmtime::component::{Component, Linker, Val};
    let mut config = wasmtime::Config::new();
    config
        .wasm_component_model_async(true)
        .wasm_component_model_async_stackful(true)
        // Synchronous `stream.read`/`write`, which `stream_chunks.wat` uses.
        .wasm_component_model_more_async_builtins(true);
    let engine = wasmtime::Engine::new(&config)?;
    let component = Component::new(&engine, wat)?;
    let linker = Linker::<()>::new(&engine);
    let export = case.export;
    let args: Vec<Val> = case.args.iter().map(|&a| Val::U32(a)).collect();
    let read = |out: &[Val; 1]| match out {
        [Val::U32(v)] => Ok(u64::from(*v)),
        [Val::U64(v)] => Ok(*v),
        other => bail!("unexpected result {other:?}"),
    };
    Ok(Box::new(move || {
        let mut store = wasmtime::Store::new(&engine, ());
        let instance = block_on(linker.instantiate_async(&mut store, &component))?;
        let Some(func) = instance.get_func(&mut store, export) else {
            bail!("no export {export}");
        };
        let args = args.clone();
        Ok(Box::new(move || {
            let mut out = [Val::Bool(false)];
            block_on(func.call_async(&mut store, &args, &mut out))?;
            read(&out)
        }) as Call)
    }))
}

fn main() -> Result<()> {
    let started = SystemTime::now();
    let stream_wat = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/components/stream_chunks.wat"
    ))?;
    let mut criterion = Criterion::default().configure_from_args();
    for case in cases() {
        let wat = if case.export == "run" {
            stream_wat.as_str()
        } else {
            CALLS
        };
        let mut engines = [
            ("cmc", cmc_instantiate(wat, &case)?),
            ("wasmtime", wasmtime_instantiate(wat, &case)?),
        ];
        for (name, instantiate) in &mut engines {
            let got = instantiate()?()?;
            ensure!(
                got == case.expected,
                "{name} {}: {got:#x}, expected {:#x}",
                case.group,
                case.expected
            );
        }
        let mut g = criterion.benchmark_group(case.group);
        for (name, instantiate) in &mut engines {
            if case.fresh_instance {
                g.bench_function(*name, |b| {
                    b.iter_batched(
                        || instantiate().unwrap(),
                        |mut call| black_box(call().unwrap()),
                        BatchSize::SmallInput,
                    )
                });
            } else {
                let mut call = instantiate()?;
                g.bench_function(*name, |b| b.iter(|| black_box(call().unwrap())));
            }
        }
        g.finish();
    }
    criterion.final_summary();
    report(&Results::collect(&criterion_dir()?, started)?)
}

/// Prints the table of this run: each row's times and cmc/wasmtime.
fn report(results: &Results) -> Result<()> {
    let per_call = |e: Estimate, per: u32| Estimate {
        mean: e.mean / f64::from(per),
        lower: e.lower / f64::from(per),
        upper: e.upper / f64::from(per),
    };
    let mut table =
        String::from("| workload | cmc | wasmtime | cmc/wasmtime |\n|---|---:|---:|---:|\n");
    for (case, (group, label)) in cases().iter().zip(GROUPS) {
        let (Some(cmc), Some(wasmtime)) =
            (results.get(group, "cmc"), results.get(group, "wasmtime"))
        else {
            continue;
        };
        let (cmc, wasmtime) = (per_call(cmc, case.per), per_call(wasmtime, case.per));
        table += &format!(
            "| {label} | {} | {} | {:.2} |\n",
            cell(cmc),
            cell(wasmtime),
            cmc.mean / wasmtime.mean
        );
    }
    let text = format!(
        "Machine: {}. Command: `cargo bench -p cmc-benches-async`.\n\n{table}\nTimes are criterion's mean per call with the half-width of its 95% confidence interval; ratios are of means measured in this run (below 1: cmc faster).\n",
        machine()
    );
    println!("\n{text}");
    std::fs::write(criterion_dir()?.join("cmc-async-report.md"), text)?;
    Ok(())
}
