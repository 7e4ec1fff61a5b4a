//! The host loads an artifact with no compiler in its dependency graph.

use std::process::Command;

#[test]
fn loads_an_artifact_and_calls_an_export() {
    let dir = std::env::temp_dir().join(format!("cmc-host-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let artifact = dir.join("fib.cmc");
    let wat = include_str!("../../fib.wat");
    let bytes = cmc_compiler::compile(wat.as_bytes(), &Default::default(), None).unwrap();
    std::fs::write(&artifact, bytes).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cmc-host"))
        .args([artifact.to_str().unwrap(), "fib", "20"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "I32(6765)\n");
}

#[test]
fn links_no_compiler() {
    let out = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "-e",
            "normal",
            "--prefix",
            "none",
            "-p",
            "cmc-host-example",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(tree.contains("cmc-runtime"), "{tree}");
    // `cranelift-entity` (typed indices and the maps keyed by them, shared
    // with the compiler) is a data-structure crate; the code generator is
    // what must stay out.
    let compiler_crates = [
        "cranelift-codegen",
        "cranelift-frontend",
        "cranelift-native",
        "cmc-compiler",
        "wasmparser",
    ];
    for compiler_crate in compiler_crates {
        assert!(
            !tree.contains(compiler_crate),
            "`{compiler_crate}` in the host's graph:\n{tree}"
        );
    }
}
