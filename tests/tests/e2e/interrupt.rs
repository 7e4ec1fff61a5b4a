//! Epoch interruption: a guest that never returns is stopped by its store's
//! deadline, and one that returns is not disturbed.

use cmc_runtime::{Config, Error, Linker, Module, Store, TrapKind, Val};
use std::time::{Duration, Instant};

const WAT: &str = r#"(module
    (func (export "spin") (loop $l (br $l)))
    (func $down (param i32) (result i32)
        (if (result i32) (i32.eqz (local.get 0))
            (then (i32.const 0))
            (else (call $down (i32.sub (local.get 0) (i32.const 1))))))
    (func (export "count") (param i32) (result i32) (call $down (local.get 0))))"#;

fn instance(epochs: bool) -> (Store<()>, cmc_runtime::Instance) {
    let mut config = Config::default();
    config.epoch_interruption(epochs);
    let engine = cmc_compiler::engine(config);
    let module = Module::new(&engine, WAT).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new().instantiate(&mut store, &module).unwrap();
    (store, instance)
}

#[test]
fn an_infinite_loop_stops_at_the_deadline() {
    let (mut store, instance) = instance(true);
    store.set_epoch_deadline(1);
    let engine = store.engine().clone();
    let started = Instant::now();
    let timer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        engine.increment_epoch();
    });
    let spin = instance.get_func(&store, "spin").unwrap();
    let err = spin.call(&mut store, &[], &mut []).unwrap_err();
    timer.join().unwrap();
    match err {
        Error::Trap(trap) => assert_eq!(trap.kind, TrapKind::Interrupt, "{trap}"),
        other => panic!("expected an interrupt, got {other}"),
    }
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(TrapKind::Interrupt.to_string(), "interrupt");
}

#[test]
fn without_a_deadline_or_before_it_code_runs_to_the_end() {
    for epochs in [false, true] {
        let (mut store, instance) = instance(epochs);
        let count = instance.get_func(&store, "count").unwrap();
        let mut out = [Val::I32(-1)];
        count.call(&mut store, &[Val::I32(1000)], &mut out).unwrap();
        assert_eq!(out, [Val::I32(0)]);
        // A deadline far away: the epoch never reaches it.
        store.set_epoch_deadline(1_000_000);
        store.engine().increment_epoch();
        count.call(&mut store, &[Val::I32(1000)], &mut out).unwrap();
        assert_eq!(out, [Val::I32(0)]);
    }
}

#[test]
fn a_deadline_already_reached_traps_at_the_first_check() {
    let (mut store, instance) = instance(true);
    store.set_epoch_deadline(0);
    let count = instance.get_func(&store, "count").unwrap();
    let err = count
        .call(&mut store, &[Val::I32(3)], &mut [Val::I32(0)])
        .unwrap_err();
    assert!(matches!(err, Error::Trap(t) if t.kind == TrapKind::Interrupt));
}
