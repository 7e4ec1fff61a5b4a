//! Imports and exports between instances and with the host.

use super::{call, engine};
use cmc_runtime::{
    Error, Extern, FuncType, Global, GlobalType, Limits, Linker, Memory, MemoryType, Module, Store,
    Table, TableType, Val, ValType,
};

const PROVIDER: &str = r#"(module
    (memory (export "mem") 1 4)
    (table (export "tab") 2 funcref)
    (global (export "counter") (mut i32) (i32.const 10))
    (global (export "seven") i64 (i64.const 7))
    (func $double (export "double") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))
    (elem (i32.const 0) $double)
    (func (export "bump") (global.set 0 (i32.add (global.get 0) (i32.const 1)))))"#;

const CONSUMER: &str = r#"(module
    (import "p" "mem" (memory 1))
    (import "p" "tab" (table 2 funcref))
    (import "p" "counter" (global $c (mut i32)))
    (import "p" "seven" (global $s i64))
    (import "p" "double" (func $double (param i32) (result i32)))
    (import "p" "bump" (func $bump))
    (type $t (func (param i32) (result i32)))
    (func (export "run") (param i32) (result i32)
      (call $bump)
      (i32.store (i32.const 8) (call $double (local.get 0)))
      (i32.add (i32.load (i32.const 8)) (call_indirect (type $t) (global.get $c) (i32.const 0))))
    (func (export "seven") (result i64) (global.get $s))
    (func (export "grow") (result i32) (memory.grow (i32.const 1))))"#;

#[test]
fn functions_globals_memories_and_tables_cross_instances() {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let provider = Module::new(&engine, PROVIDER).unwrap();
    let consumer = Module::new(&engine, CONSUMER).unwrap();
    let mut linker = Linker::new();
    let p = linker.instantiate(&mut store, &provider).unwrap();
    linker.instance(&mut store, "p", p);
    let c = linker.instantiate(&mut store, &consumer).unwrap();

    // run(5): bump → 11; mem[8] = 10; 10 + double(11) = 32.
    assert_eq!(
        call(&mut store, &c, "run", &[Val::I32(5)]).unwrap(),
        [Val::I32(32)]
    );
    let counter = p
        .get_export(&store, "counter")
        .unwrap()
        .into_global()
        .unwrap();
    assert_eq!(counter.get(&store), Val::I32(11));
    let mem = p.get_export(&store, "mem").unwrap().into_memory().unwrap();
    assert_eq!(&mem.data(&store)[8..12], &10i32.to_le_bytes());
    assert_eq!(call(&mut store, &c, "seven", &[]).unwrap(), [Val::I64(7)]);
    // Growth through the importer is seen by the exporter.
    assert_eq!(call(&mut store, &c, "grow", &[]).unwrap(), [Val::I32(1)]);
    assert_eq!(mem.size(&store), 2);
}

#[test]
fn host_functions_see_arguments_caller_memory_and_store_data() {
    let engine = engine();
    let mut store = Store::new(&engine, Vec::<i32>::new());
    let mut linker: Linker<Vec<i32>> = Linker::new();
    linker.func_new(
        "host",
        "record",
        FuncType::new([ValType::I32], [ValType::I32]),
        |mut caller, params, results| {
            let mem = caller
                .get_export("memory")
                .and_then(Extern::into_memory)
                .unwrap();
            let byte = mem.data(&caller)[0];
            caller.data_mut().push(params[0].i32().unwrap());
            results[0] = Val::I32(i32::from(byte) + 1);
            Ok(())
        },
    );
    let module = Module::new(
        &engine,
        r#"(module (import "host" "record" (func $r (param i32) (result i32)))
             (memory (export "memory") 1) (data (i32.const 0) "\29")
             (func (export "go") (result i32) (call $r (i32.const 5)) (call $r (i32.const 6)) (i32.add)))"#,
    )
    .unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let go = instance.get_func(&store, "go").unwrap();
    let mut out = [Val::I32(0)];
    go.call(&mut store, &[], &mut out).unwrap();
    assert_eq!(out, [Val::I32(84)]);
    assert_eq!(store.data(), &[5, 6]);
}

#[test]
fn host_errors_and_panics_unwind_through_wasm() {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new();
    linker.func_new("host", "fail", FuncType::new([], []), |_, _, _| {
        Err(Error::host("no luck"))
    });
    linker.func_new("host", "panic", FuncType::new([], []), |_, _, _| {
        panic!("host panic")
    });
    let module = Module::new(
        &engine,
        r#"(module (import "host" "fail" (func $fail)) (import "host" "panic" (func $panic))
             (func (export "fail") (call $fail)) (func (export "panic") (call $panic))
             (func (export "ok") (result i32) (i32.const 1)))"#,
    )
    .unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let err = instance
        .get_func(&store, "fail")
        .unwrap()
        .call(&mut store, &[], &mut [])
        .unwrap_err();
    assert!(
        matches!(err, Error::Host(_)) && err.to_string() == "no luck",
        "{err}"
    );
    let panic = instance.get_func(&store, "panic").unwrap();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        panic.call(&mut store, &[], &mut [])
    }));
    assert!(caught.is_err(), "the host panic resumes in the caller");
    let mut out = [Val::I32(0)];
    instance
        .get_func(&store, "ok")
        .unwrap()
        .call(&mut store, &[], &mut out)
        .unwrap();
    assert_eq!(out, [Val::I32(1)]);
}

#[test]
fn host_created_items_can_be_imported() {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let memory = Memory::new(
        &mut store,
        MemoryType {
            limits: Limits {
                min: 1,
                max: Some(2),
            },
            shared: false,
            memory64: false,
            page_size_log2: 16,
        },
    )
    .unwrap();
    let table = Table::new(
        &mut store,
        TableType {
            element: ValType::FuncRef,
            limits: Limits { min: 3, max: None },
            table64: false,
        },
        Val::FuncRef(None),
    )
    .unwrap();
    let global = Global::new(
        &mut store,
        GlobalType {
            content: ValType::F64,
            mutable: true,
        },
        Val::F64(2.5f64.to_bits()),
    )
    .unwrap();
    let mut linker: Linker<()> = Linker::new();
    linker
        .define("env", "mem", memory)
        .define("env", "tab", table)
        .define("env", "g", global);
    let module = Module::new(
        &engine,
        r#"(module (import "env" "mem" (memory 1)) (import "env" "tab" (table 3 funcref))
             (import "env" "g" (global $g (mut f64)))
             (func $f (result i32) (i32.const 9)) (elem (i32.const 2) $f)
             (func (export "go") (result f64)
               (i32.store8 (i32.const 3) (i32.const 200))
               (global.set $g (f64.mul (global.get $g) (f64.const 2)))
               (global.get $g)))"#,
    )
    .unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    assert_eq!(call_f64(&mut store, &instance), 5.0);
    assert_eq!(memory.data(&store)[3], 200);
    assert_eq!(global.get(&store), Val::F64(5.0f64.to_bits()));
    let Some(Val::FuncRef(Some(f))) = table.get(&store, 2) else {
        panic!("element 2 is set")
    };
    let mut out = [Val::I32(0)];
    f.call(&mut store, &[], &mut out).unwrap();
    assert_eq!(out, [Val::I32(9)]);
}

fn call_f64(store: &mut Store<()>, instance: &cmc_runtime::Instance) -> f64 {
    let mut out = [Val::F64(0)];
    instance
        .get_func(&*store, "go")
        .unwrap()
        .call(&mut *store, &[], &mut out)
        .unwrap();
    out[0].f64().unwrap()
}

#[test]
fn import_type_mismatches_are_link_errors() {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new();
    linker.func_new("env", "f", FuncType::new([ValType::I64], []), |_, _, _| {
        Ok(())
    });
    let module = Module::new(&engine, r#"(module (import "env" "f" (func (param i32))))"#).unwrap();
    let err = linker.instantiate(&mut store, &module).unwrap_err();
    assert!(matches!(err, Error::Link(_)), "{err}");
    assert!(err.to_string().contains("env::f"), "{err}");

    let module = Module::new(&engine, r#"(module (import "env" "missing" (func)))"#).unwrap();
    let err = linker.instantiate(&mut store, &module).unwrap_err();
    assert!(
        err.to_string().contains("unknown import: `env::missing`"),
        "{err}"
    );
}

#[test]
fn typed_host_functions() {
    let engine = engine();
    let mut store = Store::new(&engine, 0u32);
    let mut linker: Linker<u32> = Linker::new();
    linker.func_wrap("host", "mix", |mut caller, (a, b): (i32, i64)| {
        *caller.data_mut() += 1;
        Ok((i64::from(a) * b,))
    });
    linker.func_wrap("host", "fail", |_, (): ()| -> Result<(), Error> {
        Err(Error::host("typed failure"))
    });
    let module = Module::new(
        &engine,
        r#"(module (import "host" "mix" (func $mix (param i32 i64) (result i64)))
             (import "host" "fail" (func $fail))
             (func (export "go") (result i64) (call $mix (i32.const -3) (i64.const 5)))
             (func (export "fail") (call $fail)))"#,
    )
    .unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let go = instance
        .get_func(&store, "go")
        .unwrap()
        .typed::<(), (i64,)>(&store)
        .unwrap();
    assert_eq!(go.call(&mut store, ()).unwrap(), (-15,));
    assert_eq!(*store.data(), 1);
    let err = instance
        .get_func(&store, "fail")
        .unwrap()
        .call(&mut store, &[], &mut [])
        .unwrap_err();
    assert_eq!(err.to_string(), "typed failure");
}
