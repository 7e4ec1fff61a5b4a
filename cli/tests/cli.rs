//! The `cmc` command as a user runs it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn cmc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cmc"))
        .args(args)
        .output()
        .expect("cmc runs")
}

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name)
        .display()
        .to_string()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cmc-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn run_invokes_an_export_with_typed_arguments() {
    let o = cmc(&["run", "--invoke", "fib", &example("fib.wat"), "20"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "6765\n");
}

#[test]
fn negative_numbers_are_arguments_and_results_print_by_type() {
    let dir = scratch("values");
    let wat = dir.join("values.wat");
    std::fs::write(
        &wat,
        r#"(module (func (export "f") (param i32 i64 f32 f64) (result i32 i64 f32 f64)
             local.get 0 local.get 1 local.get 2 local.get 3))"#,
    )
    .unwrap();
    let o = cmc(&[
        "run",
        "--invoke",
        "f",
        wat.to_str().unwrap(),
        "-5",
        "-9000000000",
        "0.1",
        "-1.5",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "-5\n-9000000000\n0.1\n-1.5\n");
}

#[test]
fn a_trap_prints_kind_and_backtrace_and_exits_134() {
    let o = cmc(&["run", "--invoke", "main", &example("trap.wat")]);
    assert_eq!(o.status.code(), Some(134));
    let err = stderr(&o);
    assert!(err.contains("integer divide by zero"), "{err}");
    assert!(err.contains("divide") && err.contains("compute"), "{err}");
}

#[test]
fn bad_inputs_get_clear_errors() {
    let dir = scratch("bad");
    let garbage = dir.join("garbage.wasm");
    std::fs::write(&garbage, [0xde, 0xad, 0xbe, 0xef]).unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["run".into(), garbage.display().to_string()],
            "neither a WebAssembly binary",
        ),
        (
            vec!["run".into(), dir.join("missing.wasm").display().to_string()],
            "cannot read",
        ),
        (
            vec![
                "run".into(),
                "--invoke".into(),
                "nope".into(),
                example("fib.wat"),
            ],
            "no exported function `nope`",
        ),
        (
            vec![
                "run".into(),
                "--invoke".into(),
                "fib".into(),
                example("fib.wat"),
            ],
            "takes 1 argument",
        ),
        (
            vec![
                "run".into(),
                "--invoke".into(),
                "fib".into(),
                example("fib.wat"),
                "x".into(),
            ],
            "is not an integer",
        ),
        (vec!["run".into(), example("fib.wat")], "no `_start` export"),
    ];
    for (args, expected) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = cmc(&args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert!(stderr(&o).contains(expected), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{args:?}");
    }
}

#[test]
fn build_then_run_the_artifact() {
    let dir = scratch("build");
    let artifact = dir.join("fib.cmc");
    let o = cmc(&[
        "build",
        &example("fib.wat"),
        "-o",
        artifact.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = cmc(&["run", "--invoke", "fib", artifact.to_str().unwrap(), "20"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "6765\n");
    let o = cmc(&["inspect", artifact.to_str().unwrap()]);
    let out = stdout(&o);
    assert!(
        out.contains("core module") && out.contains("fib") && out.contains(".text"),
        "{out}"
    );
}

#[test]
fn a_failed_build_leaves_no_output() {
    let dir = scratch("failed");
    let bad = dir.join("bad.wat");
    std::fs::write(&bad, "(module (func (result i32)))").unwrap();
    let out = dir.join("bad.cmc");
    let o = cmc(&["build", bad.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("type mismatch"), "{}", stderr(&o));
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "no temporary file is left behind"
    );
}

#[test]
fn emit_obj_is_accepted_by_the_system_linker() {
    let dir = scratch("obj");
    let obj = dir.join("fib.o");
    let o = cmc(&[
        "build",
        "--emit",
        "obj",
        &example("fib.wat"),
        "-o",
        obj.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let linked = dir.join("linked.o");
    // binutils come with the C toolchain that builds cmc-runtime's helper.
    let ld = Command::new("ld")
        .args(["-r", obj.to_str().unwrap(), "-o", linked.to_str().unwrap()])
        .output()
        .expect("the system linker `ld` runs");
    assert!(
        ld.status.success(),
        "ld: {}",
        String::from_utf8_lossy(&ld.stderr)
    );
    let nm = Command::new("nm")
        .arg(linked.to_str().unwrap())
        .output()
        .expect("nm comes with ld");
    let symbols = String::from_utf8_lossy(&nm.stdout);
    assert!(symbols.contains(" T wasm[0]::fib"), "{symbols}");
}

#[test]
fn cross_compiled_artifacts_are_inspectable_but_not_runnable_here() {
    let dir = scratch("cross");
    for target in [
        "x86_64-unknown-linux-gnu",
        "aarch64-unknown-linux-gnu",
        "riscv64gc-unknown-linux-gnu",
    ] {
        let out = dir.join(format!("{target}.cmc"));
        let o = cmc(&[
            "build",
            "--target",
            target,
            &example("fib.wat"),
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{target}: {}", stderr(&o));
        let o = cmc(&["inspect", out.to_str().unwrap()]);
        assert!(
            stdout(&o).contains(&format!("target:          {target}")),
            "{}",
            stdout(&o)
        );
    }
    let host = if cfg!(target_arch = "x86_64") {
        "aarch64"
    } else {
        "x86_64"
    };
    let foreign = dir.join(format!("{host}-unknown-linux-gnu.cmc"));
    let o = cmc(&["run", "--invoke", "fib", foreign.to_str().unwrap(), "3"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("built for target"), "{}", stderr(&o));
}
