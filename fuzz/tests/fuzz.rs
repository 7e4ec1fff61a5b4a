//! A few hundred cases of every fuzz target, on every `cargo test`. Longer
//! runs: `cargo run --release -p cmc-fuzz -- --cases N` (fuzz/README.md).

use cmc_fuzz::{TARGETS, Target};

/// Cases per target in a test run.
const CASES: u64 = 300;

/// Runs `CASES` cases of `target` and fails on any finding; prints the
/// counts, skipped cases apart.
fn run(name: &str) {
    let target: Target = *TARGETS.iter().find(|t| t.name == name).unwrap();
    let tally = cmc_fuzz::run(target, 0, CASES);
    println!(
        "{name}: {} checked, {} skipped {:?}, {} findings",
        tally.checked,
        tally.skipped_total(),
        tally.skipped,
        tally.findings.len()
    );
    let findings: Vec<String> = (tally.findings.iter())
        .map(|(seed, f)| format!("seed {seed}: {f}"))
        .collect();
    assert!(findings.is_empty(), "{}", findings.join("\n"));
    // Most cases must be real checks, or the target tests nothing.
    assert!(
        tally.checked >= CASES / 2,
        "only {} of {CASES} cases were checked: {:?}",
        tally.checked,
        tally.skipped
    );
}

#[test]
fn differential() {
    run("differential");
}

#[test]
fn inputs() {
    run("inputs");
}

#[test]
fn artifacts() {
    run("artifacts");
}

#[test]
fn wasi() {
    run("wasi");
}
