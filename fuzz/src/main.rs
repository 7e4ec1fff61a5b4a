//! `cmc-fuzz`: runs the fuzz targets over a range of seeds, on every core,
//! and prints what they found. See `fuzz/README.md`.

use clap::Parser;
use cmc_fuzz::{TARGETS, Tally, Target};
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Runs cmc's fuzz targets.
#[derive(Parser)]
#[command(name = "cmc-fuzz")]
struct Args {
    /// Targets to run (differential, inputs, artifacts, wasi); all by
    /// default.
    targets: Vec<String>,
    /// Cases per target.
    #[arg(long, default_value_t = 10_000)]
    cases: u64,
    /// The first seed.
    #[arg(long, default_value_t = 0)]
    first: u64,
    /// Threads (default: one per core).
    #[arg(long)]
    jobs: Option<usize>,
    /// Instead of running, write the module that the `differential` and
    /// `artifacts` targets generate from seed `--first` to this file (to
    /// look at a finding with other tools).
    #[arg(long, value_name = "FILE")]
    dump_module: Option<std::path::PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(path) = &args.dump_module {
        let data = cmc_fuzz::seeds::bytes(args.first);
        let Some(wasm) = cmc_fuzz::smith::module(&mut arbitrary::Unstructured::new(&data)) else {
            eprintln!("seed {}: too few bytes for a module", args.first);
            return ExitCode::FAILURE;
        };
        if let Err(e) = std::fs::write(path, wasm) {
            eprintln!("cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        return ExitCode::SUCCESS;
    }
    let targets: Vec<Target> = if args.targets.is_empty() {
        TARGETS.to_vec()
    } else {
        let mut chosen = Vec::new();
        for name in &args.targets {
            match TARGETS.iter().find(|t| t.name == name) {
                Some(t) => chosen.push(*t),
                None => {
                    eprintln!(
                        "unknown target `{name}` (known: differential, inputs, artifacts, wasi)"
                    );
                    return ExitCode::FAILURE;
                }
            }
        }
        chosen
    };
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let mut found = false;
    for target in targets {
        let tally = run_parallel(target, args.first, args.cases, jobs);
        report(target, &tally);
        found |= !tally.findings.is_empty();
    }
    if found {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Runs `count` cases of `target` from seed `first` on `jobs` threads,
/// printing progress every few seconds.
fn run_parallel(target: Target, first: u64, count: u64, jobs: usize) -> Tally {
    let next = AtomicU64::new(first);
    let end = first + count;
    let total = Mutex::new(Tally::default());
    let start = Instant::now();
    let last_report = Mutex::new(Instant::now());
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let builder = std::thread::Builder::new().stack_size(cmc_fuzz::CASE_STACK);
            builder
                .spawn_scoped(scope, || {
                    loop {
                        let seed = next.fetch_add(1, Ordering::Relaxed);
                        if seed >= end {
                            break;
                        }
                        let data = cmc_fuzz::seeds::bytes(seed);
                        let result = cmc_fuzz::without_panics(|| (target.run)(&data));
                        if let Err(finding) = &result {
                            eprintln!("{} seed {seed}: {finding}", target.name);
                        }
                        let mut tally = total.lock().unwrap();
                        tally.add(seed, result);
                        let mut last = last_report.lock().unwrap();
                        if last.elapsed().as_secs() >= 10 {
                            *last = Instant::now();
                            let done =
                                tally.checked + tally.skipped_total() + tally.findings.len() as u64;
                            eprintln!(
                                "{}: {done}/{count} cases, {} findings, {:.0} s",
                                target.name,
                                tally.findings.len(),
                                start.elapsed().as_secs_f64()
                            );
                        }
                    }
                })
                .expect("a worker thread starts");
        }
    });
    let tally = total.into_inner().unwrap();
    eprintln!("{}: {:.1} s", target.name, start.elapsed().as_secs_f64());
    tally
}

fn report(target: Target, tally: &Tally) {
    println!(
        "{}: {} checked, {} skipped, {} findings",
        target.name,
        tally.checked,
        tally.skipped_total(),
        tally.findings.len()
    );
    for (why, n) in &tally.skipped {
        println!("  skipped {n}: {why}");
    }
    for (seed, finding) in &tally.findings {
        println!("  seed {seed}: {finding}");
    }
}
