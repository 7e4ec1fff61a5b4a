//! Every trap kind, with its spec wording and a backtrace.

use super::{call, instantiate};
use cmc_runtime::{TrapKind, Val};

/// Runs export `f` of `wat` and returns the trap it raised.
fn trap_of(wat: &str) -> cmc_runtime::Trap {
    let (mut store, instance) = instantiate(wat);
    let err = call(&mut store, &instance, "f", &[]).expect_err("the call traps");
    err.as_trap().expect("the error is a trap").clone()
}

fn assert_trap(wat: &str, kind: TrapKind, message: &str) {
    let trap = trap_of(wat);
    assert_eq!(trap.kind, kind, "for {wat}");
    assert!(
        trap.to_string().contains(message),
        "`{trap}` should mention `{message}`"
    );
}

#[test]
fn unreachable() {
    assert_trap(
        r#"(module (func (export "f") unreachable))"#,
        TrapKind::Unreachable,
        "unreachable",
    );
}

#[test]
fn integer_division() {
    assert_trap(
        r#"(module (func (export "f") (result i32) (i32.div_s (i32.const 1) (i32.const 0))))"#,
        TrapKind::IntegerDivisionByZero,
        "integer divide by zero",
    );
    assert_trap(
        r#"(module (func (export "f") (result i64) (i64.rem_u (i64.const 1) (i64.const 0))))"#,
        TrapKind::IntegerDivisionByZero,
        "integer divide by zero",
    );
    assert_trap(
        r#"(module (func (export "f") (result i32) (i32.div_s (i32.const 0x80000000) (i32.const -1))))"#,
        TrapKind::IntegerOverflow,
        "integer overflow",
    );
}

#[test]
fn float_to_int_conversion() {
    assert_trap(
        r#"(module (func (export "f") (result i32) (i32.trunc_f32_s (f32.const nan))))"#,
        TrapKind::BadConversionToInteger,
        "invalid conversion to integer",
    );
    assert_trap(
        r#"(module (func (export "f") (result i64) (i64.trunc_f64_u (f64.const -1))))"#,
        TrapKind::IntegerOverflow,
        "integer overflow",
    );
}

#[test]
fn out_of_bounds_memory() {
    assert_trap(
        r#"(module (memory 1) (func (export "f") (result i32) (i32.load offset=65533 (i32.const 0))))"#,
        TrapKind::MemoryOutOfBounds,
        "out of bounds memory access",
    );
    assert_trap(
        r#"(module (memory 1) (func (export "f") (i64.store offset=0xffffffff (i32.const 0xffffffff) (i64.const 0))))"#,
        TrapKind::MemoryOutOfBounds,
        "out of bounds memory access",
    );
    assert_trap(
        r#"(module (memory 1) (func (export "f") (memory.fill (i32.const 65530) (i32.const 0) (i32.const 7))))"#,
        TrapKind::MemoryOutOfBounds,
        "out of bounds memory access",
    );
}

#[test]
fn tables_and_indirect_calls() {
    let module = r#"(module (type $t (func (result i32))) (table 2 funcref)
        (func $g (result i64) (i64.const 1)) (elem (i32.const 1) $g)"#;
    assert_trap(
        &format!(
            r#"{module} (func (export "f") (result i32) (call_indirect (type $t) (i32.const 5))))"#
        ),
        TrapKind::UndefinedElement,
        "undefined element",
    );
    assert_trap(
        &format!(
            r#"{module} (func (export "f") (result i32) (call_indirect (type $t) (i32.const 0))))"#
        ),
        TrapKind::UninitializedElement,
        "uninitialized element",
    );
    assert_trap(
        &format!(
            r#"{module} (func (export "f") (result i32) (call_indirect (type $t) (i32.const 1))))"#
        ),
        TrapKind::IndirectCallTypeMismatch,
        "indirect call type mismatch",
    );
    assert_trap(
        &format!(r#"{module} (func (export "f") (drop (table.get (i32.const 2)))))"#),
        TrapKind::TableOutOfBounds,
        "out of bounds table access",
    );
}

#[test]
fn stack_overflow_names_the_recursing_function() {
    let trap = trap_of(r#"(module (func $recurse (export "f") (call $recurse)))"#);
    assert_eq!(trap.kind, TrapKind::StackOverflow);
    assert!(trap.to_string().contains("call stack exhausted"));
    assert_eq!(trap.backtrace[0].func_name.as_deref(), Some("recurse"));
}

#[test]
fn backtrace_lists_callers_innermost_first() {
    let trap = trap_of(
        r#"(module
            (func $inner unreachable)
            (func $middle (call $inner))
            (func $outer (export "f") (call $middle)))"#,
    );
    let names: Vec<_> = trap
        .backtrace
        .iter()
        .map(|f| f.func_name.clone().unwrap_or_default())
        .collect();
    assert_eq!(names, ["inner", "middle", "outer"]);
}

#[test]
fn a_trap_leaves_the_store_usable() {
    let (mut store, instance) = instantiate(
        r#"(module (func (export "f") unreachable) (func (export "ok") (result i32) (i32.const 7)))"#,
    );
    for _ in 0..3 {
        assert!(call(&mut store, &instance, "f", &[]).is_err());
        assert_eq!(
            call(&mut store, &instance, "ok", &[]).unwrap(),
            [Val::I32(7)]
        );
    }
}

#[test]
fn stack_overflow_on_a_small_thread_stack_is_still_a_trap() {
    // The default wasm stack budget (512 KiB) exceeds this thread's stack:
    // the limit must follow the real stack, not run into its guard page.
    let trap = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| trap_of(r#"(module (func $recurse (export "f") (call $recurse)))"#))
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(trap.kind, TrapKind::StackOverflow);
}
