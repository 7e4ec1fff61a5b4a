//! The sightglass benchmark programs (`../shared/benchmarks/sightglass/`,
//! read in place) run with `cmc run` as sightglass runs them: in their own
//! folder (a scratch copy here), that folder preopened, `bench.start` and
//! `bench.end` from a preloaded module, stdout and stderr equal to the
//! `*.expected` files. When the folder is missing, the test says so and
//! counts its programs as skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Where `cmc run` keeps its compile cache during the tests.
const TEST_CACHE: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/cmc-cache");

/// The preview1 core-module programs of the snapshot.
const PROGRAMS: [&str; 2] = ["bz2", "pulldown-cmark"];

fn sightglass() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/benchmarks/sightglass");
    dir.is_dir().then_some(dir)
}

/// Copies the files of `from` (no subfolders) into a new scratch folder.
fn scratch_copy(from: &Path, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cmc-sightglass-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
        }
    }
    dir
}

#[test]
fn sightglass_programs_print_what_they_expect() {
    let Some(suite) = sightglass() else {
        println!(
            "sightglass benchmarks not found beside the workspace: {} programs skipped",
            PROGRAMS.len()
        );
        return;
    };
    let bench = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sightglass/bench.wat");
    for name in PROGRAMS {
        let dir = scratch_copy(&suite.join(name), name);
        let o = Command::new(env!("CARGO_BIN_EXE_cmc"))
            .env("CMC_CACHE_DIR", TEST_CACHE)
            .current_dir(&dir)
            .args(["run", "--dir", ".", "--preload"])
            .arg(format!("bench={}", bench.display()))
            .arg("benchmark.wasm")
            .output()
            .expect("cmc runs");
        let expected = |stream: &str| {
            std::fs::read_to_string(dir.join(format!("benchmark.{stream}.expected"))).unwrap()
        };
        assert!(
            o.status.success(),
            "{name}: {}\n{}",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&o.stdout),
            expected("stdout"),
            "{name}"
        );
        assert_eq!(
            String::from_utf8_lossy(&o.stderr),
            expected("stderr"),
            "{name}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn a_preload_that_fails_to_instantiate_is_named() {
    let dir = std::env::temp_dir().join(format!("cmc-preload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("needs-env.wat");
    std::fs::write(&bad, r#"(module (import "env" "missing" (func)))"#).unwrap();
    let program = dir.join("main.wat");
    std::fs::write(&program, r#"(module (func (export "_start")))"#).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_cmc"))
        .env("CMC_CACHE_DIR", TEST_CACHE)
        .arg("run")
        .arg("--preload")
        .arg(format!("lib={}", bad.display()))
        .arg(&program)
        .output()
        .expect("cmc runs");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "--preload lib={}: cannot instantiate",
            bad.display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("env::missing"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}
