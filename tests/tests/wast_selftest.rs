//! The `.wast` runner's own tests: scripts under `tests/wast/selftest/`
//! with deliberately wrong expectations. Each directive whose line ends in
//! `;; FAIL` must be reported as a failure, and every other directive must
//! pass, so a runner that silently passes what it cannot check is caught.

use cmc_compiler::Silent;
use std::path::{Path, PathBuf};

fn selftest_scripts() -> Vec<PathBuf> {
    cmc_tests::wast_scripts("wast/selftest")
}

/// The 1-based lines marked `;; FAIL`.
fn marked_lines(source: &str) -> Vec<usize> {
    source
        .lines()
        .enumerate()
        .filter(|(_, line)| line.trim_end().ends_with(";; FAIL"))
        .map(|(i, _)| i + 1)
        .collect()
}

#[test]
fn runner_reports_exactly_the_marked_failures() {
    let scripts = selftest_scripts();
    assert!(scripts.len() >= 5, "selftest scripts are missing");
    for path in scripts {
        let source = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy();
        let report = cmc_spec::run_script(&name, &source);
        let mut failed: Vec<usize> = report.failures.iter().map(|(line, _)| *line).collect();
        failed.sort_unstable();
        assert_eq!(
            failed,
            marked_lines(&source),
            "{name}: failures reported: {:#?}",
            report.failures
        );
        assert_eq!(report.failed, report.failures.len(), "{name}");
        assert_eq!(report.skipped, 0, "{name}");
        assert!(report.passed > 0 || name == "unparsable.wast", "{name}");
    }
}

#[test]
fn correct_script_has_no_failures() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("wast/selftest/correct.wast");
    let report = cmc_spec::run_script("correct.wast", &std::fs::read_to_string(&path).unwrap());
    assert_eq!(report.failures, Vec::new());
    assert!(report.passed >= 35, "{report:?}");
    assert!(cmc_spec::wast_command(&[path], &Silent));
}

#[test]
fn wast_command_fails_on_wrong_expectations_and_missing_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("wast/selftest");
    assert!(!cmc_spec::wast_command(
        &[dir.join("wrong-results.wast")],
        &Silent
    ));
    assert!(!cmc_spec::wast_command(
        &[dir.join("no-such-script.wast")],
        &Silent
    ));
}

#[test]
fn skipped_scripts_are_counted_not_run() {
    let report = cmc_spec::skipped_script(
        "(module (func (export \"f\")))\n(assert_return (invoke \"f\"))\n",
    );
    assert_eq!((report.passed, report.failed, report.skipped), (0, 0, 2));
}
