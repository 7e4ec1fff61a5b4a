//! 64-bit tables (memory64): `i64` indices for every table operator,
//! `call_indirect` and element segments, no index ever truncated to 32 bits.

use super::{call, instantiate};
use cmc_runtime::abi::TrapKind;
use cmc_runtime::{Error, Val};

const WAT: &str = r#"(module
    (type $r (func (result i32)))
    (table $t i64 2 10 funcref)
    (func $seven (type $r) (i32.const 7))
    (func $eight (type $r) (i32.const 8))
    (elem (table $t) (i64.const 0) func $seven)
    (elem declare func $eight)
    (func (export "call") (param i64) (result i32)
        (call_indirect $t (type $r) (local.get 0)))
    (func (export "size") (result i64) (table.size $t))
    (func (export "grow") (param i64) (result i64) (table.grow $t (ref.null func) (local.get 0)))
    (func (export "set-eight") (param i64) (table.set $t (local.get 0) (ref.func $eight)))
    (func (export "is-null") (param i64) (result i32) (ref.is_null (table.get $t (local.get 0))))
    (func (export "fill") (param i64 i64) (table.fill $t (local.get 0) (ref.func $eight) (local.get 1))))"#;

fn trap(result: Result<Vec<Val>, Error>) -> TrapKind {
    match result {
        Err(Error::Trap(t)) => t.kind,
        other => panic!("expected a trap, got {other:?}"),
    }
}

#[test]
fn every_table_operator_takes_i64_indices() {
    let (mut store, instance) = instantiate(WAT);
    let mut run = |name: &str, args: &[Val]| call(&mut store, &instance, name, args);
    assert_eq!(run("call", &[Val::I64(0)]).unwrap(), [Val::I32(7)]);
    assert_eq!(run("size", &[]).unwrap(), [Val::I64(2)]);
    assert_eq!(run("is-null", &[Val::I64(1)]).unwrap(), [Val::I32(1)]);
    run("set-eight", &[Val::I64(1)]).unwrap();
    assert_eq!(run("call", &[Val::I64(1)]).unwrap(), [Val::I32(8)]);
    assert_eq!(run("grow", &[Val::I64(3)]).unwrap(), [Val::I64(2)]);
    assert_eq!(run("size", &[]).unwrap(), [Val::I64(5)]);
    run("fill", &[Val::I64(2), Val::I64(3)]).unwrap();
    assert_eq!(run("call", &[Val::I64(4)]).unwrap(), [Val::I32(8)]);
    // Past the maximum, and a delta of more than 2^32 elements: -1.
    assert_eq!(run("grow", &[Val::I64(6)]).unwrap(), [Val::I64(-1)]);
    assert_eq!(run("grow", &[Val::I64(1 << 32)]).unwrap(), [Val::I64(-1)]);
    // Indices past the end, also ones whose low 32 bits are in bounds.
    for index in [5, 1 << 32, -1] {
        assert_eq!(
            trap(run("call", &[Val::I64(index)])),
            TrapKind::UndefinedElement,
            "{index}"
        );
        assert_eq!(
            trap(run("is-null", &[Val::I64(index)])),
            TrapKind::TableOutOfBounds,
            "{index}"
        );
    }
    assert_eq!(
        trap(run("fill", &[Val::I64(1 << 32), Val::I64(1)])),
        TrapKind::TableOutOfBounds
    );
}

/// A 64-bit table nothing changes has a constant bound, compared with the
/// whole `i64` index.
#[test]
fn a_fixed_64_bit_table_checks_the_whole_index() {
    let (mut store, instance) = instantiate(
        r#"(module
            (type $r (func (result i32)))
            (table $t i64 1 1 funcref)
            (func $one (type $r) (i32.const 1))
            (elem (table $t) (i64.const 0) func $one)
            (func (export "call") (param i64) (result i32)
                (call_indirect $t (type $r) (local.get 0))))"#,
    );
    let mut run = |index: i64| call(&mut store, &instance, "call", &[Val::I64(index)]);
    assert_eq!(run(0).unwrap(), [Val::I32(1)]);
    for index in [1, 1 << 32, i64::MIN] {
        assert_eq!(trap(run(index)), TrapKind::UndefinedElement, "{index}");
    }
}
