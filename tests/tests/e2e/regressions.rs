//! Scripts under `tests/wast/regressions/`, each a component that once
//! broke the runtime (its header says how): every directive must pass, with
//! calls between components fused and intercepted alike.

use cmc_spec::ScriptOptions;
use std::path::Path;

#[test]
fn regression_scripts_pass() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("wast/regressions");
    let mut scripts: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "wast"))
        .collect();
    scripts.sort();
    assert!(scripts.len() >= 3, "regression scripts are missing");
    for path in scripts {
        let source = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy();
        for intercept in [false, true] {
            let options = ScriptOptions {
                intercept_calls: intercept,
                ..ScriptOptions::default()
            };
            let report = cmc_spec::run_script_with(&name, &source, &options);
            assert!(
                report.failed == 0 && report.skipped == 0 && report.passed > 0,
                "{name} (intercepted: {intercept}): {report:?}"
            );
        }
    }
}
