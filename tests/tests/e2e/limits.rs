//! Bounding a guest: epoch interruption stops one that never returns at its
//! store's deadline, and fuel stops one after a number of instructions, the
//! same number on every run.

use cmc_runtime::abi::{Limits, MemoryType};
use cmc_runtime::{Config, Error, Linker, Memory, Module, Store, TrapKind, Val};
use std::time::{Duration, Instant};

const WAT: &str = r#"(module
    (func (export "spin") (loop $l (br $l)))
    (func $down (param i32) (result i32)
        (if (result i32) (i32.eqz (local.get 0))
            (then (i32.const 0))
            (else (call $down (i32.sub (local.get 0) (i32.const 1))))))
    (func (export "count") (param i32) (result i32) (call $down (local.get 0))))"#;

/// The test module, compiled with `configure` applied to the engine's
/// configuration, and instantiated.
fn instance(configure: impl FnOnce(&mut Config)) -> (Store<()>, cmc_runtime::Instance) {
    let mut config = Config::default();
    configure(&mut config);
    let engine = cmc_compiler::engine(config);
    let module = Module::new(&engine, WAT).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new().instantiate(&mut store, &module).unwrap();
    (store, instance)
}

fn with_epochs(on: bool) -> (Store<()>, cmc_runtime::Instance) {
    instance(|c| {
        c.epoch_interruption(on);
    })
}

fn fueled() -> (Store<()>, cmc_runtime::Instance) {
    instance(|c| {
        c.consume_fuel(true);
    })
}

#[test]
fn an_infinite_loop_stops_at_the_deadline() {
    let (mut store, instance) = with_epochs(true);
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
        let (mut store, instance) = with_epochs(epochs);
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
    let (mut store, instance) = with_epochs(true);
    store.set_epoch_deadline(0);
    let count = instance.get_func(&store, "count").unwrap();
    let err = count
        .call(&mut store, &[Val::I32(3)], &mut [Val::I32(0)])
        .unwrap_err();
    assert!(matches!(err, Error::Trap(t) if t.kind == TrapKind::Interrupt));
}

#[test]
fn fuel_is_spent_the_same_on_every_run_and_runs_out() {
    let used = |n: i32| {
        let (mut store, instance) = fueled();
        store.set_fuel(1_000_000);
        let count = instance.get_func(&store, "count").unwrap();
        let mut out = [Val::I32(-1)];
        count.call(&mut store, &[Val::I32(n)], &mut out).unwrap();
        assert_eq!(out, [Val::I32(0)]);
        1_000_000 - store.get_fuel()
    };
    assert_eq!(used(100), used(100));
    assert!(used(200) > used(100), "more work spends more fuel");

    let (mut store, instance) = fueled();
    store.set_fuel(used(100) - 1);
    let count = instance.get_func(&store, "count").unwrap();
    let err = count
        .call(&mut store, &[Val::I32(100)], &mut [Val::I32(0)])
        .unwrap_err();
    assert!(
        matches!(&err, Error::Trap(t) if t.kind == TrapKind::OutOfFuel),
        "{err}"
    );
    assert_eq!(store.get_fuel(), 0);
    assert_eq!(TrapKind::OutOfFuel.to_string(), "all fuel consumed");

    // An infinite loop ends too.
    store.set_fuel(10_000);
    let spin = instance.get_func(&store, "spin").unwrap();
    let err = spin.call(&mut store, &[], &mut []).unwrap_err();
    assert!(
        matches!(&err, Error::Trap(t) if t.kind == TrapKind::OutOfFuel),
        "{err}"
    );
}

#[test]
fn memories_stay_within_the_store_limit() {
    let wat = r#"(module (memory (export "m") 1)
        (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#;
    let engine = cmc_compiler::engine(Config::default());
    let module = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    store.limit_memory_size(2 * 65536 + 100);
    let instance = Linker::new().instantiate(&mut store, &module).unwrap();
    let grow = instance.get_func(&store, "grow").unwrap();
    let mut out = [Val::I32(0)];
    grow.call(&mut store, &[Val::I32(1)], &mut out).unwrap();
    assert_eq!(out, [Val::I32(1)], "1 → 2 pages fits");
    grow.call(&mut store, &[Val::I32(1)], &mut out).unwrap();
    assert_eq!(out, [Val::I32(-1)], "a third page is over the limit");
    grow.call(&mut store, &[Val::I32(0)], &mut out).unwrap();
    assert_eq!(out, [Val::I32(2)]);

    let big = Module::new(&engine, "(module (memory 3))").unwrap();
    let err = Linker::new().instantiate(&mut store, &big).err().unwrap();
    assert!(
        err.to_string()
            .contains("over the store's limit of 131072 bytes"),
        "{err}"
    );
}

#[test]
fn tables_stay_within_the_store_limit() {
    let wat = r#"(module (table 1 funcref)
        (func (export "grow") (param i32) (result i32)
            (table.grow (ref.null func) (local.get 0))))"#;
    let engine = cmc_compiler::engine(Config::default());
    let module = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    store.limit_table_elements(3);
    let instance = Linker::new().instantiate(&mut store, &module).unwrap();
    let grow = instance.get_func(&store, "grow").unwrap();
    let mut out = [Val::I32(0)];
    grow.call(&mut store, &[Val::I32(2)], &mut out).unwrap();
    assert_eq!(out, [Val::I32(1)], "1 → 3 elements fits");
    grow.call(&mut store, &[Val::I32(1)], &mut out).unwrap();
    assert_eq!(out, [Val::I32(-1)], "a fourth is over the limit");

    let big = Module::new(&engine, "(module (table 4 funcref))").unwrap();
    let err = Linker::new().instantiate(&mut store, &big).err().unwrap();
    assert!(
        err.to_string().contains("over the store's limit of 3"),
        "{err}"
    );
}

#[test]
fn stores_hold_no_more_instances_memories_and_tables_than_allowed() {
    let engine = cmc_compiler::engine(Config::default());
    let module = Module::new(&engine, "(module (memory 1) (table 1 funcref))").unwrap();
    let limited = |limit: Limit| {
        let mut store = Store::new(&engine, ());
        limit(&mut store);
        store
    };
    type Limit = fn(&mut Store<()>);
    let cases: [(Limit, &str); 3] = [
        (|s| s.limit_instances(2), "at most 2 instances"),
        (|s| s.limit_memories(2), "at most 2 memories"),
        (|s| s.limit_tables(2), "at most 2 tables"),
    ];
    for (limit, message) in cases {
        let mut store = limited(limit);
        for _ in 0..2 {
            Linker::new().instantiate(&mut store, &module).unwrap();
        }
        let err = Linker::new()
            .instantiate(&mut store, &module)
            .err()
            .unwrap();
        assert!(err.to_string().contains(message), "{err}");
    }
    // The host's own memories and tables count too.
    let mut store = limited(|s| s.limit_memories(1));
    let ty = MemoryType {
        limits: Limits { min: 1, max: None },
        shared: false,
        memory64: false,
        page_size_log2: 16,
    };
    Memory::new(&mut store, ty).unwrap();
    let err = Memory::new(&mut store, ty).err().unwrap();
    assert!(err.to_string().contains("at most 1 memories"), "{err}");
}

/// A guest that grows its memory for as long as it can: the store's limit
/// stops it (`memory.grow` returns -1), and it ends.
#[test]
fn a_guest_growing_memory_forever_stops_at_the_limit() {
    let wat = r#"(module (memory 1)
        (func (export "grow-forever") (result i32)
            (loop $more (br_if $more (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
            (memory.size)))"#;
    let engine = cmc_compiler::engine(Config::default());
    let module = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    store.limit_memory_size(64 << 20);
    let instance = Linker::new().instantiate(&mut store, &module).unwrap();
    let grow = instance.get_func(&store, "grow-forever").unwrap();
    let mut out = [Val::I32(0)];
    grow.call(&mut store, &[], &mut out).unwrap();
    assert_eq!(out, [Val::I32(1024)], "64 MiB is 1024 pages");
}

/// `Config::explicit_bounds_checks` puts a check in the code of every
/// access (the code grows), and the accesses still trap exactly past the
/// end. (The memory spec scripts also run in this mode, in `tests/spec.rs`.)
#[test]
fn explicit_bounds_checks_are_in_the_code_and_trap_past_the_end() {
    let wat = r#"(module (memory 1)
        (func (export "load") (param i32) (result i32) (i32.load (local.get 0))))"#;
    let size = |explicit: bool| {
        let mut config = Config::default();
        config.explicit_bounds_checks(explicit);
        let engine = cmc_compiler::engine(config);
        let module = Module::new(&engine, wat).unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Linker::new().instantiate(&mut store, &module).unwrap();
        let load = instance.get_func(&store, "load").unwrap();
        let mut out = [Val::I32(0)];
        load.call(&mut store, &[Val::I32(65532)], &mut out).unwrap();
        let err = load
            .call(&mut store, &[Val::I32(65533)], &mut out)
            .unwrap_err();
        assert!(
            matches!(&err, Error::Trap(t) if t.kind == TrapKind::MemoryOutOfBounds),
            "{err}"
        );
        module.code_size()
    };
    assert!(size(true) > size(false));
}

/// With explicit bounds checks a memory needs no guard region: it reserves
/// only its largest size, so far more memories fit in the address space
/// than the 8 GiB reservations of guarded ones would allow (20,000 of those
/// would need 160 TiB, more than a process has).
#[test]
fn explicit_bounds_checks_let_memories_reserve_only_their_size() {
    let mut config = Config::default();
    config.explicit_bounds_checks(true);
    let engine = cmc_compiler::engine(config);
    let module = Module::new(
        &engine,
        r#"(module (import "env" "m" (memory 1 1))
            (func (export "last") (result i32) (i32.load8_u (i32.const 65535)))
            (func (export "past") (result i32) (i32.load8_u (i32.const 65536))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let ty = MemoryType {
        limits: Limits {
            min: 1,
            max: Some(1),
        },
        shared: false,
        memory64: false,
        page_size_log2: 16,
    };
    let memories: Vec<Memory> = (0..20_000)
        .map(|_| Memory::new(&mut store, ty).unwrap())
        .collect();
    let last = memories.last().unwrap();
    last.data_mut(&mut store)[65535] = 9;
    let mut linker = Linker::new();
    linker.define("env", "m", *last);
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let mut out = [Val::I32(0)];
    let f = instance.get_func(&store, "last").unwrap();
    f.call(&mut store, &[], &mut out).unwrap();
    assert_eq!(out, [Val::I32(9)]);
    let f = instance.get_func(&store, "past").unwrap();
    let err = f.call(&mut store, &[], &mut out).unwrap_err();
    assert!(
        matches!(&err, Error::Trap(t) if t.kind == TrapKind::MemoryOutOfBounds),
        "{err}"
    );
}
