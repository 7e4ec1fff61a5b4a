//! Bad input gets a clear error, never a panic.

use super::{call, engine, instantiate};
use cmc_runtime::{Config, Engine, Error, Module, Val};

fn compile_error(bytes: &[u8]) -> String {
    match Module::new(&engine(), bytes) {
        Ok(_) => panic!("expected a compile error"),
        Err(e @ Error::Compile(_)) => e.to_string(),
        Err(other) => panic!("expected a compile error, got {other}"),
    }
}

#[test]
fn garbage_bytes() {
    let msg = compile_error(&[0xff, 0x00, 0x13, 0x37]);
    assert!(msg.contains("neither a WebAssembly binary"), "{msg}");
    let msg = compile_error(b"not wasm at all");
    assert!(msg.contains("invalid WebAssembly text"), "{msg}");
}

#[test]
fn truncated_module_names_the_offset() {
    let wasm =
        wat::parse_str(r#"(module (func (export "f") (result i32) (i32.const 1)))"#).unwrap();
    for len in [4, 6, 9, 12, wasm.len() - 1] {
        let msg = compile_error(&wasm[..len]);
        assert!(msg.contains("byte offset"), "{len}: {msg}");
    }
}

#[test]
fn type_invalid_module() {
    let msg = compile_error(br#"(module (func (result i32) (i64.const 1)))"#);
    assert!(msg.contains("type mismatch"), "{msg}");
}

#[test]
fn missing_export_and_wrong_arguments() {
    let (mut store, instance) =
        instantiate(r#"(module (func (export "f") (param i32) (result i32) (local.get 0)))"#);
    assert!(instance.get_func(&store, "g").is_none());
    let f = instance.get_func(&store, "f").unwrap();
    let mut out = [Val::I32(0)];
    let err = f.call(&mut store, &[], &mut out).unwrap_err();
    assert!(err.to_string().contains("expected 1 argument"), "{err}");
    let err = f.call(&mut store, &[Val::I64(1)], &mut out).unwrap_err();
    assert!(
        err.to_string()
            .contains("argument 0 has type i64, expected i32"),
        "{err}"
    );
    let err = f.call(&mut store, &[Val::I32(1)], &mut []).unwrap_err();
    assert!(err.to_string().contains("result"), "{err}");
    assert_eq!(
        call(&mut store, &instance, "f", &[Val::I32(3)]).unwrap(),
        [Val::I32(3)]
    );
}

/// Modules using a proposal cmc does not compile are refused with an error
/// that names it.
#[test]
fn unsupported_features_are_named() {
    for (wat, named) in [
        ("(module (func $f (return_call $f)))", "tail calls"),
        ("(module (type (struct)))", "gc"),
        ("(module (tag))", "exceptions"),
        (
            "(module (type $f (func)) (type $c (cont $f)))",
            "stack switching",
        ),
    ] {
        let msg = compile_error(wat.as_bytes());
        assert!(msg.contains(named), "{wat}: {msg}");
    }
}

#[test]
fn an_engine_without_compiler_refuses_wasm() {
    let engine = Engine::new(Config::default());
    let err = Module::new(&engine, "(module)").err().expect("no compiler");
    assert!(matches!(err, Error::NoCompiler), "{err}");
}
