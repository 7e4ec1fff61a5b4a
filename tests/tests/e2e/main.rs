//! End-to-end tests of the compiler and runtime through the embedding API.

mod artifacts;
mod backpressure;
mod bad_input;
mod component_typed;
mod component_values;
mod components;
mod cross_targets;
mod fibers;
mod fused_oracle;
mod host_async;
mod host_copies;
mod imported_components;
mod intercept;
mod limits;
mod linking;
mod regressions;
mod resources;
mod streams;
mod tables64;
mod threads;
mod traps;

use cmc_runtime::{Config, Engine, Instance, Linker, Module, Store, Val};

/// An engine that compiles for the host.
pub fn engine() -> Engine {
    cmc_compiler::engine(Config::default())
}

/// The error of instantiating `component` with `linker`, which must fail.
pub fn link_error(
    linker: &cmc_runtime::component::Linker<()>,
    component: &cmc_runtime::component::Component,
) -> String {
    let mut store = Store::new(component.engine(), ());
    match linker.instantiate(&mut store, component) {
        Ok(_) => panic!("the linker is refused"),
        Err(err) => err.to_string(),
    }
}

/// Compiles and instantiates `wat` with no imports.
pub fn instantiate(wat: &str) -> (Store<()>, Instance) {
    let engine = engine();
    let module = Module::new(&engine, wat).expect("module compiles");
    let mut store = Store::new(&engine, ());
    let instance = Linker::new()
        .instantiate(&mut store, &module)
        .expect("module instantiates");
    (store, instance)
}

/// Compiles and instantiates the component `wat` with no imports.
pub fn instantiate_component(wat: &str) -> (Store<()>, cmc_runtime::component::Instance) {
    let component =
        cmc_runtime::component::Component::new(&engine(), wat).expect("component compiles");
    let mut store = Store::new(component.engine(), ());
    let instance = cmc_runtime::component::Linker::new()
        .instantiate(&mut store, &component)
        .expect("component instantiates");
    (store, instance)
}

/// Calls component export `name`, a function with one result, and returns
/// that result.
pub fn call_component<T>(
    store: &mut Store<T>,
    instance: &cmc_runtime::component::Instance,
    name: &str,
    args: &[cmc_runtime::component::Val],
) -> Result<cmc_runtime::component::Val, cmc_runtime::Error> {
    let func = instance.get_func(&*store, &[name]).expect("export exists");
    let mut out = [cmc_runtime::component::Val::Bool(false)];
    func.call(&mut *store, args, &mut out)?;
    let [out] = out;
    Ok(out)
}

/// Calls export `name` and returns its results.
pub fn call(
    store: &mut Store<()>,
    instance: &Instance,
    name: &str,
    args: &[Val],
) -> Result<Vec<Val>, cmc_runtime::Error> {
    let func = instance.get_func(&*store, name).expect("export exists");
    let ty = func.ty(&*store);
    let mut results: Vec<Val> = ty.results.iter().map(|&t| Val::default_for(t)).collect();
    func.call(&mut *store, args, &mut results)?;
    Ok(results)
}

#[test]
fn fib_example_runs() {
    let (mut store, instance) = instantiate(include_str!("../../../examples/fib.wat"));
    assert_eq!(
        call(&mut store, &instance, "fib", &[Val::I32(20)]).unwrap(),
        [Val::I32(6765)]
    );
}

/// More results than return registers (a differential-fuzzer finding:
/// Cranelift refused to compile such a function): returned from the host's
/// call, a direct call, a `call_indirect` and back through a host function.
#[test]
fn functions_return_more_values_than_there_are_registers() {
    let results = "i64 ".repeat(20) + &"f64 ".repeat(12) + "i32";
    let body: String = (0..20)
        .map(|i| format!("(i64.add (local.get 0) (i64.const {i}))"))
        .chain((0..12).map(|i| format!("(f64.const {i}.5)")))
        .chain(["(i32.const 33)".to_owned()])
        .collect::<Vec<_>>()
        .join(" ");
    let wat = format!(
        r#"(module
            (type $many (func (param i64) (result {results})))
            (import "host" "many" (func $host (type $many)))
            (func (export "via-host") (param i64) (result {results})
                (call $host (local.get 0)))
            (table 1 funcref) (elem (i32.const 0) $many)
            (func $many (export "many") (type $many) {body})
            (func (export "direct") (param i64) (result {results})
                (call $many (local.get 0)))
            (func (export "indirect") (param i64) (result {results})
                (call_indirect (type $many) (local.get 0) (i32.const 0))))"#
    );
    let many = |base: i64| -> Vec<Val> {
        (0..20)
            .map(|i| Val::I64(base + i))
            .chain((0..12).map(|i| Val::F64((i as f64 + 0.5).to_bits())))
            .chain([Val::I32(33)])
            .collect()
    };
    let expected = many(100);
    let engine = engine();
    let module = Module::new(&engine, &wat).unwrap();
    let ty = module
        .exports()
        .find(|e| e.name == "many")
        .map(|e| e.ty.clone());
    let Some(cmc_runtime::EntityType::Func(ty)) = ty else {
        panic!("`many` is an exported function")
    };
    let ty = module.func_type(ty).clone();
    let mut linker = Linker::new();
    linker.func_new("host", "many", ty, move |_, params, results| {
        let Val::I64(base) = params[0] else {
            panic!("an i64 parameter")
        };
        results.clone_from_slice(&many(base));
        Ok(())
    });
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    for name in ["many", "direct", "indirect", "via-host"] {
        let out = call(&mut store, &instance, name, &[Val::I64(100)]).unwrap();
        assert_eq!(out, expected, "{name}");
    }
}

/// The typed API with as many results as a tuple holds (12, more than the
/// return registers): a typed call into wasm, and a typed host function
/// that wasm calls.
#[test]
fn typed_calls_and_host_functions_return_twelve_values() {
    type Twelve = (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64);
    let results = "i64 ".repeat(12);
    let wat = format!(
        r#"(module
            (import "host" "twelve" (func $twelve (param i64) (result {results})))
            (func (export "via-host") (param i64) (result {results})
                (call $twelve (local.get 0))))"#
    );
    let engine = engine();
    let module = Module::new(&engine, &wat).unwrap();
    let mut linker = Linker::new();
    linker.func_wrap("host", "twelve", |_, (n,): (i64,)| -> Result<Twelve, _> {
        Ok((
            n,
            n + 1,
            n + 2,
            n + 3,
            n + 4,
            n + 5,
            n + 6,
            n + 7,
            n + 8,
            n + 9,
            n + 10,
            n + 11,
        ))
    });
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let func = instance.get_func(&store, "via-host").unwrap();
    let typed = func.typed::<(i64,), Twelve>(&store).unwrap();
    let out = typed.call(&mut store, (10,)).unwrap();
    assert_eq!(out, (10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21));
}

#[test]
fn multi_value_and_every_scalar_type_round_trip() {
    let (mut store, instance) = instantiate(
        r#"(module (func (export "swap") (param i32 i64 f32 f64) (result f64 f32 i64 i32)
             local.get 3 local.get 2 local.get 1 local.get 0))"#,
    );
    let out = call(
        &mut store,
        &instance,
        "swap",
        &[
            Val::I32(-7),
            Val::I64(1 << 40),
            Val::F32(1.5f32.to_bits()),
            Val::F64((-2.25f64).to_bits()),
        ],
    )
    .unwrap();
    assert_eq!(
        out,
        [
            Val::F64((-2.25f64).to_bits()),
            Val::F32(1.5f32.to_bits()),
            Val::I64(1 << 40),
            Val::I32(-7)
        ]
    );
}

#[test]
fn memory_grows_to_its_maximum_and_not_past_it() {
    let (mut store, instance) = instantiate(
        r#"(module (memory (export "mem") 1 3)
             (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
             (func (export "size") (result i32) (memory.size))
             (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
             (func (export "load") (param i32) (result i32) (i32.load (local.get 0))))"#,
    );
    assert_eq!(
        call(&mut store, &instance, "grow", &[Val::I32(2)]).unwrap(),
        [Val::I32(1)]
    );
    assert_eq!(
        call(&mut store, &instance, "size", &[]).unwrap(),
        [Val::I32(3)]
    );
    assert_eq!(
        call(&mut store, &instance, "grow", &[Val::I32(1)]).unwrap(),
        [Val::I32(-1)]
    );
    let last = 3 * 65536 - 4;
    call(
        &mut store,
        &instance,
        "store",
        &[Val::I32(last), Val::I32(42)],
    )
    .unwrap();
    assert_eq!(
        call(&mut store, &instance, "load", &[Val::I32(last)]).unwrap(),
        [Val::I32(42)]
    );
    let memory = instance
        .get_export(&store, "mem")
        .unwrap()
        .into_memory()
        .unwrap();
    assert_eq!(memory.size(&store), 3);
    assert_eq!(
        &memory.data(&store)[last as usize..][..4],
        &42u32.to_le_bytes()
    );
    let err = call(&mut store, &instance, "load", &[Val::I32(3 * 65536)]).unwrap_err();
    assert_eq!(
        err.as_trap().unwrap().kind,
        cmc_runtime::TrapKind::MemoryOutOfBounds
    );
}

#[test]
fn memory_without_maximum_grows_to_the_32_bit_limit() {
    let (mut store, instance) = instantiate(
        r#"(module (memory 0) (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#,
    );
    assert_eq!(
        call(&mut store, &instance, "grow", &[Val::I32(65537)]).unwrap(),
        [Val::I32(-1)]
    );
    assert_eq!(
        call(&mut store, &instance, "grow", &[Val::I32(16)]).unwrap(),
        [Val::I32(0)]
    );
}

#[test]
fn typed_calls_check_the_signature_once() {
    let (mut store, instance) = instantiate(
        r#"(module (func (export "mix") (param i32 i64 f64) (result f64 i32)
             (f64.add (local.get 2) (f64.convert_i64_s (local.get 1))) (local.get 0)))"#,
    );
    let func = instance.get_func(&store, "mix").unwrap();
    let mix = func.typed::<(i32, i64, f64), (f64, i32)>(&store).unwrap();
    assert_eq!(mix.call(&mut store, (-3, 40, 0.5)).unwrap(), (40.5, -3));
    let err = func.typed::<(i32,), (i32,)>(&store).err().unwrap();
    assert!(
        err.to_string()
            .contains("not (func (param i32) (result i32))"),
        "{err}"
    );
}

/// A store for `component`'s engine that carries calls between components
/// through the fused adapters, or (with `runtime_adapters`) through the
/// runtime's, under an [`Unseen`] interceptor.
pub fn store_for(
    component: &cmc_runtime::component::Component,
    runtime_adapters: bool,
) -> cmc_runtime::Store<()> {
    let mut store = cmc_runtime::Store::new(component.engine(), ());
    if runtime_adapters {
        store.intercept_calls(Unseen);
    }
    store
}

/// An interceptor that sees nothing: setting it makes a store take the
/// runtime's adapters for calls between components, the oracle the fused
/// adapters are compared with.
pub struct Unseen;

impl cmc_runtime::component::Interceptor for Unseen {
    fn before(&mut self, _: cmc_runtime::component::Call<'_>, _: &[cmc_runtime::component::Val]) {}

    fn after(
        &mut self,
        _: cmc_runtime::component::Call<'_>,
        _: Result<Option<&cmc_runtime::component::Val>, &cmc_runtime::Error>,
    ) {
    }
}
