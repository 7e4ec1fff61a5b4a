//! Scripts under `tests/wast/regressions/`, each a component that once
//! broke the runtime (its header says how): every directive must pass, with
//! calls between components fused and intercepted alike.

use cmc_spec::ScriptOptions;

#[test]
fn regression_scripts_pass() {
    let scripts = cmc_tests::wast_scripts("wast/regressions");
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
