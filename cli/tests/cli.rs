//! The `cmc` command as a user runs it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Where `cmc run` keeps its compile cache during the tests.
const TEST_CACHE: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/cmc-cache");

fn cmc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cmc"))
        .env("CMC_CACHE_DIR", TEST_CACHE)
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

/// A bug in cmc (a panic) is told apart from a guest's trap: "internal
/// error" and status 101, never 134.
#[test]
fn an_internal_error_exits_101_and_says_so() {
    let o = Command::new(env!("CARGO_BIN_EXE_cmc"))
        .args(["run", "--invoke", "main", &example("trap.wat")])
        .env("CMC_TEST_INTERNAL_ERROR", "1")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(101));
    let err = stderr(&o);
    assert!(err.contains("internal error:"), "{err}");
    assert!(err.contains("CMC_TEST_INTERNAL_ERROR is set"), "{err}");
    assert!(err.contains("please report it"), "{err}");
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

    // One flipped bit anywhere: `run` and `inspect` say the file is
    // damaged, exit 1, and run nothing.
    let mut bytes = std::fs::read(&artifact).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x10;
    let damaged = dir.join("damaged.cmc");
    std::fs::write(&damaged, &bytes).unwrap();
    for args in [
        &["run", "--invoke", "fib", damaged.to_str().unwrap(), "20"][..],
        &["inspect", damaged.to_str().unwrap()],
    ] {
        let o = cmc(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("the file is damaged"), "{}", stderr(&o));
        assert_eq!(stdout(&o), "");
    }
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

/// Writes `text` to `name` in `dir` and returns its path as a string.
fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn component_exports_take_and_return_wave_values() {
    let greet = example("greet.wat");
    let cases = [
        (r#"greet("cmc")"#, "\"Hello, cmc!\"\n"),
        (
            "cmc:example/text#summarize([3, 1, 4])",
            "{count: 3, sum: 8, max: 4}\n",
        ),
        (r#"cmc:example/text#shout("wave ✓")"#, "\"WAVE ✓\"\n"),
        (
            "cmc:example/text#summarize([])",
            "{count: 0, sum: 0, max: 0}\n",
        ),
    ];
    for (call, expected) in cases {
        let o = cmc(&["run", "--invoke", call, &greet]);
        assert!(o.status.success(), "{call}: {}", stderr(&o));
        assert_eq!(stdout(&o), expected, "{call}");
    }
}

#[test]
fn component_binaries_and_artifacts_build_run_and_inspect() {
    let dir = scratch("component-artifact");
    let binary = dir.join("greet.wasm");
    std::fs::write(&binary, wat::parse_file(example("greet.wat")).unwrap()).unwrap();
    let o = cmc(&[
        "run",
        "--invoke",
        r#"greet("wasm")"#,
        binary.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "\"Hello, wasm!\"\n");
    let artifact = dir.join("greet.cmc");
    let artifact = artifact.to_str().unwrap();
    let o = cmc(&["build", &example("greet.wat"), "-o", artifact]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = cmc(&["run", "--invoke", r#"greet("artifact")"#, artifact]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "\"Hello, artifact!\"\n");
    let o = cmc(&["inspect", artifact]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for expected in [
        "kind:            component",
        ".text",
        "greet: func(name: string) -> string",
        "cmc:example/text: instance {",
        "summarize: func(values: list<u32>) -> record { count: u32, sum: u64, max: u32 }",
        "core modules (1):",
    ] {
        assert!(out.contains(expected), "{expected}: {out}");
    }
}

#[test]
fn inspect_prints_a_components_wit_world() {
    let o = cmc(&["inspect", &example("greet.wat")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for expected in [
        "world root {",
        "export cmc:example/text;",
        "export greet: func(name: string) -> string;",
        "interface text {",
        "record stats {",
        "summarize: func(values: list<u32>) -> stats;",
    ] {
        assert!(out.contains(expected), "{expected}: {out}");
    }
}

#[test]
fn components_run_wasi_cli_run_by_default() {
    let dir = scratch("command");
    let command = |code: i32| {
        format!(
            r#"(component
                 (core module $m (func (export "run") (result i32) (i32.const {code})))
                 (core instance $i (instantiate $m))
                 (func $run (result (result)) (canon lift (core func $i "run")))
                 (instance $r (export "run" (func $run)))
                 (export "wasi:cli/run@0.2.6" (instance $r)))"#
        )
    };
    let ok = write(&dir, "ok.wat", &command(0));
    let o = cmc(&["run", &ok]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
    let o = cmc(&["run", "--invoke", "wasi:cli/run@0.2.6#run()", &ok]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "ok\n");
    let failing = write(&dir, "err.wat", &command(1));
    let o = cmc(&["run", &failing]);
    // As wasmtime: status 1, and nothing said (the program has spoken).
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o), "");
}

#[test]
fn a_component_trap_exits_134() {
    let dir = scratch("component-trap");
    let wat = write(
        &dir,
        "trap.wat",
        r#"(component
             (core module $m (func (export "boom") unreachable))
             (core instance $i (instantiate $m))
             (func (export "boom") (canon lift (core func $i "boom"))))"#,
    );
    let o = cmc(&["run", "--invoke", "boom()", &wat]);
    assert_eq!(o.status.code(), Some(134));
    assert!(stderr(&o).contains("`boom` failed"), "{}", stderr(&o));
    assert!(stderr(&o).contains("unreachable"), "{}", stderr(&o));
}

#[test]
fn bad_component_invocations_get_clear_errors() {
    let greet = example("greet.wat");
    let strings = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/components/strings.wat")
        .display()
        .to_string();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["run", &greet], "exports no `wasi:cli/run` interface"),
        (vec!["run", &greet], "greet: func(name: string) -> string"),
        (
            vec!["run", "--invoke", r#"greet("cmc"#, &greet],
            "the arguments are not valid WAVE",
        ),
        (
            vec!["run", "--invoke", "greet(1)", &greet],
            "argument `name` is not a string",
        ),
        (
            vec!["run", "--invoke", r#"greet("a", "b")"#, &greet],
            "`greet` takes 1 argument(s), 2 given: func(name: string) -> string",
        ),
        (
            vec!["run", "--invoke", "greet()", &greet],
            "`greet` takes 1 argument(s), 0 given",
        ),
        (
            vec![
                "run",
                "--invoke",
                "cmc:example/text#summarize([-1])",
                &greet,
            ],
            "argument `values` is not a list<u32>",
        ),
        (
            vec!["run", "--invoke", "nope()", &greet],
            "no exported function `nope` (exported functions: ",
        ),
        (
            vec!["run", "--invoke", "cmc:example/text#nope()", &greet],
            "no exported function `cmc:example/text#nope`",
        ),
        (vec!["run", "--invoke", "(1)", &greet], "names no function"),
        (
            vec!["run", "--invoke", "greet", &greet, "extra"],
            "an invoked function's arguments go inside --invoke",
        ),
        (
            vec!["run", "--invoke", r#"api#hello("x")"#, &strings],
            "unknown import: `host` has not been defined",
        ),
    ];
    for (args, expected) in cases {
        let o = cmc(&args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(expected), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{args:?}");
    }
}

#[test]
fn wast_runs_component_scripts() {
    let dir = scratch("component-wast");
    let script = write(
        &dir,
        "c.wast",
        r#"(component
             (core module $m (func (export "f") (param i32) (result i32) (local.get 0)))
             (core instance $i (instantiate $m))
             (func (export "id") (param "x" u8) (result u8) (canon lift (core func $i "f"))))
           (assert_return (invoke "id" (u8.const 255)) (u8.const 255))
           (assert_invalid (component (export "a" (func 0))) "function index out of bounds")"#,
    );
    let o = cmc(&["wast", &script]);
    assert!(o.status.success(), "{}", stdout(&o));
    assert!(
        stdout(&o).ends_with("3 passed, 0 failed, 0 skipped\n"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_reactor_is_initialized_before_invoke() {
    let dir = scratch("reactor");
    let reactor = dir.join("reactor.wat");
    std::fs::write(
        &reactor,
        r#"(module
            (global $g (mut i32) (i32.const 0))
            (func (export "_initialize") (global.set $g (i32.const 42)))
            (func (export "get") (result i32) (global.get $g)))"#,
    )
    .unwrap();
    let o = cmc(&["run", "--invoke", "get", reactor.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "42\n");
}

#[test]
fn a_core_command_gets_wasi_and_its_exit_status() {
    let dir = scratch("core-command");
    let command = dir.join("exit7.wat");
    std::fs::write(
        &command,
        r#"(module
            (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
            (memory (export "memory") 1)
            (func (export "_start") (call $exit (i32.const 7))))"#,
    )
    .unwrap();
    let o = cmc(&["run", command.to_str().unwrap(), "ignored", "args"]);
    assert_eq!(o.status.code(), Some(7), "{}", stderr(&o));
    assert_eq!(stderr(&o), "");
}

/// Every command that prints ends quietly when its stdout is a pipe whose
/// reader is already gone (`cmc inspect app.cmc | head -0`), instead of
/// panicking with "failed printing to stdout".
#[test]
fn a_closed_stdout_ends_every_command_quietly() {
    let dir = scratch("closed-stdout");
    let artifact = dir.join("fib.cmc").display().to_string();
    let o = cmc(&["build", &example("fib.wat"), "-o", &artifact]);
    assert!(o.status.success(), "{}", stderr(&o));
    let script = dir.join("ok.wast");
    std::fs::write(&script, "(module (func (export \"f\") (result i32) (i32.const 1)))\n(assert_return (invoke \"f\") (i32.const 1))\n").unwrap();
    let script = script.display().to_string();
    let fib = example("fib.wat");
    let greet = example("greet.wat");
    for args in [
        vec!["inspect", artifact.as_str()],
        vec!["inspect", greet.as_str()],
        vec!["run", "--invoke", "fib", fib.as_str(), "20"],
        vec!["run", "--invoke", r#"greet("x")"#, greet.as_str()],
        vec!["wast", script.as_str()],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_cmc"))
            .env("CMC_CACHE_DIR", TEST_CACHE)
            .args(&args)
            .stdout(writer)
            .output()
            .expect("cmc runs");
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        assert_eq!(stderr(&o), "", "{args:?}");
    }
}

/// Writes `wat` to `NAME.wat` in `dir`; its path.
fn write_wat(dir: &std::path::Path, name: &str, wat: &str) -> String {
    let path = dir.join(format!("{name}.wat"));
    std::fs::write(&path, wat).unwrap();
    path.display().to_string()
}

/// Runs an infinite loop under `-W limit` (a `.wat`, then an artifact built
/// with `-W build_option` and one built without it): the first two trap
/// with `message`, the last is refused with the command that rebuilds it.
/// `bad` is a malformed spelling of the limit, refused with `bad_message`.
fn a_limit_stops_an_infinite_loop(
    name: &str,
    limit: &str,
    message: &str,
    build_option: &str,
    bad: (&str, &str),
) {
    let dir = scratch(name);
    let spin = &write_wat(
        &dir,
        "spin",
        r#"(module (func (export "spin") (loop $l (br $l))))"#,
    );
    let (plain, checked) = (dir.join("plain.cmc"), dir.join("checked.cmc"));
    let (plain, checked) = (plain.to_str().unwrap(), checked.to_str().unwrap());
    for (args, ok) in [
        (&["build", spin, "-o", plain][..], true),
        (&["build", "-W", build_option, spin, "-o", checked], true),
    ] {
        let o = cmc(args);
        assert_eq!(o.status.success(), ok, "{args:?}: {}", stderr(&o));
    }
    let started = std::time::Instant::now();
    for file in [spin, checked] {
        let o = cmc(&["run", "-W", limit, "--invoke", "spin", file]);
        assert_eq!(o.status.code(), Some(134), "{file}: {}", stderr(&o));
        assert!(stderr(&o).contains(message), "{}", stderr(&o));
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    // An artifact keeps the checks it was built with: one built without
    // them cannot honour the limit, and says how to rebuild it.
    let o = cmc(&["run", "-W", limit, "--invoke", "spin", plain]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let rebuild = format!("cmc build -W {build_option}");
    assert!(stderr(&o).contains(&rebuild), "{}", stderr(&o));
    let o = cmc(&["run", "-W", bad.0, "--invoke", "spin", spin]);
    assert!(stderr(&o).contains(bad.1), "{}", stderr(&o));
}

#[test]
fn a_timeout_stops_an_infinite_loop() {
    a_limit_stops_an_infinite_loop(
        "timeout",
        "timeout=300ms",
        "interrupt",
        "epoch-interruption=y",
        ("timeout=soon", "is not a duration"),
    );
}

#[test]
fn fuel_bounds_what_a_guest_runs() {
    a_limit_stops_an_infinite_loop(
        "fuel",
        "fuel=100000",
        "all fuel consumed",
        "consume-fuel=y",
        ("fuel=lots", "is not a number of instructions"),
    );
    // `--fuel N` is the short spelling, and the fuel a run used is the same
    // on every run.
    let dir = scratch("fuel-alias");
    let wat = &write_wat(
        &dir,
        "count",
        r#"(module (func (export "count") (param i32) (result i32)
            (loop $l (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
            (local.get 0)))"#,
    );
    let used = || {
        let o = cmc(&[
            "run", "--stats", "--fuel", "1000000", "--invoke", "count", wat, "1000",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let err = stderr(&o);
        err.lines()
            .find(|l| l.contains("fuel used"))
            .unwrap()
            .to_owned()
    };
    assert_eq!(used(), used());
    let o = cmc(&["run", "--fuel", "10", "--invoke", "count", wat, "1000"]);
    assert!(stderr(&o).contains("all fuel consumed"), "{}", stderr(&o));
    let o = cmc(&[
        "run", "--fuel", "10", "-W", "fuel=20", "--invoke", "count", wat, "1",
    ]);
    assert!(stderr(&o).contains("give the fuel once"), "{}", stderr(&o));
}

#[test]
fn memory_and_table_limits_cap_growth() {
    let dir = scratch("max-sizes");
    let cases = [
        (
            "memory",
            r#"(module (memory 1) (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#,
            "max-memory-size=131072",
        ),
        (
            "table",
            r#"(module (table 1 funcref) (func (export "grow") (param i32) (result i32) (table.grow (ref.null func) (local.get 0))))"#,
            "max-table-elements=2",
        ),
    ];
    for (name, wat, limit) in cases {
        let grow = &write_wat(&dir, name, wat);
        // Two pages or elements allowed: from one, growing by one gives
        // the old size, by two gives -1.
        for (delta, old) in [("1", "1\n"), ("2", "-1\n")] {
            let o = cmc(&["run", "-W", limit, "--invoke", "grow", grow, delta]);
            assert_eq!(stdout(&o), old, "{name} +{delta}: {}", stderr(&o));
        }
    }
}

#[test]
fn instance_memory_and_table_counts_are_limited() {
    let dir = scratch("max-counts");
    let wat = &write_wat(
        &dir,
        "two",
        r#"(module (memory 1) (table 1 funcref) (func (export "f")))"#,
    );
    for (limit, message) in [
        ("max-instances=0", "at most 0 instances"),
        ("max-memories=0", "at most 0 memories"),
        ("max-tables=0", "at most 0 tables"),
    ] {
        let o = cmc(&["run", "-W", limit, "--invoke", "f", wat]);
        assert_eq!(o.status.code(), Some(1), "{limit}");
        assert!(stderr(&o).contains(message), "{limit}: {}", stderr(&o));
        let o = cmc(&["run", "-W", &limit.replace('0', "1"), "--invoke", "f", wat]);
        assert!(o.status.success(), "{limit}: {}", stderr(&o));
    }
    let o = cmc(&["run", "-W", "max-tables=many", "--invoke", "f", wat]);
    assert!(
        stderr(&o).contains("`many` is not a number"),
        "{}",
        stderr(&o)
    );
}

/// A line of `--trace` or `--stats` output without what varies between
/// runs (durations, the clock's reading).
fn steady(line: &str) -> String {
    let line = match line.rfind(" (") {
        Some(at) if line.ends_with("s)") => &line[..at],
        _ => line,
    };
    match line.split_once("now = ") {
        Some((start, _)) => format!("{start}now = N"),
        None => line.to_owned(),
    }
}

#[test]
fn trace_shows_every_call_across_component_boundaries() {
    let o = cmc(&[
        "run",
        "--trace",
        "--invoke",
        "sum-of-squares(3, 4)",
        &example("squares.wat"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "25\n");
    let trace: Vec<String> = stderr(&o).lines().map(steady).collect();
    assert_eq!(
        trace,
        [
            "→ export sum-of-squares(3, 4)",
            "  → import wasi:clocks/monotonic-clock@0.2.0#now()",
            "  ← import wasi:clocks/monotonic-clock@0.2.0#now = N",
            "  → component square(3)",
            "  ← component square = 9",
            "  → component square(4)",
            "  ← component square = 16",
            "← export sum-of-squares = 25",
        ]
    );
    // A core module has no component boundaries.
    let o = cmc(&["run", "--trace", "--invoke", "main", &example("fib.wat")]);
    assert!(
        stderr(&o).contains("a core module has none"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn stats_show_what_a_run_cost() {
    let squares = example("squares.wat");
    let o = cmc(&[
        "run",
        "--stats",
        "--no-cache",
        "--invoke",
        "sum-of-squares(3, 4)",
        &squares,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    let names: Vec<&str> = err
        .lines()
        .map(|l| l.trim_start().split("  ").next().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "stats:",
            "compile",
            "instantiate",
            "run",
            "linear memory",
            "host calls",
            "component calls"
        ],
        "{err}"
    );
    assert!(err.contains("host calls       1\n"), "{err}");
    assert!(err.contains("component calls  2\n"), "{err}");
    assert!(err.contains("0 bytes peak, in 0 memories"), "{err}");

    // An artifact is loaded, and metered fuel shows; a trap still reports.
    let dir = scratch("stats");
    let artifact = dir.join("trap.cmc").display().to_string();
    let o = cmc(&[
        "build",
        "-W",
        "consume-fuel=y",
        &example("trap.wat"),
        "-o",
        &artifact,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = cmc(&[
        "run",
        "--stats",
        "-W",
        "fuel=1000",
        "--invoke",
        "main",
        &artifact,
    ]);
    assert_eq!(o.status.code(), Some(134), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("  load    "), "{err}");
    assert!(err.contains("  fuel used    "), "{err}");
}

/// A guest growing its memory forever ends at `-W max-memory-size`.
#[test]
fn a_guest_growing_memory_forever_stops_at_max_memory_size() {
    let dir = scratch("grow-forever");
    let wat = &write_wat(
        &dir,
        "grow",
        r#"(module (memory 1)
            (func (export "grow-forever") (result i32)
                (loop $more (br_if $more (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
                (memory.size)))"#,
    );
    let o = cmc(&[
        "run",
        "-W",
        "max-memory-size=1048576",
        "--invoke",
        "grow-forever",
        wat,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "16\n");
}

/// An artifact records the features beyond WebAssembly 2.0's scalar core
/// that its module uses, and `cmc inspect` shows them.
#[test]
fn inspect_shows_the_features_a_module_uses() {
    let dir = scratch("features");
    let cases = [
        ("plain", "(module (func (export \"f\")))", "features: -"),
        (
            "vector",
            r#"(module (memory 1) (memory 1)
                (global i32 (i32.add (i32.const 1) (i32.const 2)))
                (func (export "f") (result i32)
                    (i32x4.extract_lane 0 (i32x4.relaxed_trunc_f32x4_s (v128.const f32x4 1 2 3 4)))))"#,
            "features: simd, relaxed-simd, multi-memory, extended-const",
        ),
    ];
    for (name, wat, expected) in cases {
        let wat = write_wat(&dir, name, wat);
        let artifact = dir.join(format!("{name}.cmc")).display().to_string();
        let o = cmc(&["build", &wat, "-o", &artifact]);
        assert!(o.status.success(), "{}", stderr(&o));
        let o = cmc(&["inspect", &artifact]);
        assert!(stdout(&o).contains(expected), "{name}: {}", stdout(&o));
    }
}
