//! Watching a component run: an interceptor on the store sees every call
//! that crosses a component boundary, with its values, and the store counts
//! host calls and calls between components whether or not one is set.

use super::engine;
use cmc_runtime::component::{Call, Component, Interceptor, Linker, Resumption, Val};
use cmc_runtime::{Error, Store};
use std::sync::{Arc, Mutex};

/// `examples/squares.wat`: `sum-of-squares` calls the host's clock once and
/// the other component's `square` twice.
fn squares() -> Component {
    Component::new(&engine(), include_str!("../../../examples/squares.wat"))
        .expect("component compiles")
}

fn linker() -> Linker<()> {
    let mut linker = Linker::new();
    linker
        .instance("wasi:clocks/monotonic-clock@0.2.0")
        .func_new("now", |_, _, results| {
            results[0] = Val::U64(7);
            Ok(())
        });
    linker
}

/// Records each event as a line of text.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<String>>>);

impl Interceptor for Recorder {
    fn before(&mut self, call: Call<'_>, params: &[Val]) {
        let line = format!("before {:?} {} {params:?}", call.kind, call.name);
        self.0.lock().unwrap().push(line);
    }

    fn after(&mut self, call: Call<'_>, result: Result<Option<&Val>, &Error>) {
        let result = result.map_err(|e| e.to_string());
        let line = format!("after {:?} {} {result:?}", call.kind, call.name);
        self.0.lock().unwrap().push(line);
    }

    fn resumed(&mut self, task: &str, how: Resumption) {
        self.0
            .lock()
            .unwrap()
            .push(format!("resumed {task} {how:?}"));
    }
}

/// Calls `sum-of-squares(3, 4)`.
fn sum_of_squares(store: &mut Store<()>, component: &Component) -> Val {
    let instance = linker().instantiate(&mut *store, component).unwrap();
    let func = instance.get_func(&*store, &["sum-of-squares"]).unwrap();
    let mut results = [Val::Bool(false)];
    func.call(&mut *store, &[Val::U32(3), Val::U32(4)], &mut results)
        .unwrap();
    results[0].clone()
}

#[test]
fn an_interceptor_sees_every_boundary_crossing_in_order_with_its_values() {
    let component = squares();
    let mut store = Store::new(component.engine(), ());
    let recorder = Recorder::default();
    store.intercept_calls(recorder.clone());
    assert_eq!(sum_of_squares(&mut store, &component), Val::U32(25));
    assert_eq!(
        *recorder.0.lock().unwrap(),
        [
            "before Export sum-of-squares [U32(3), U32(4)]",
            "before Import wasi:clocks/monotonic-clock@0.2.0#now []",
            "after Import wasi:clocks/monotonic-clock@0.2.0#now Ok(Some(U64(7)))",
            "before Component square [U32(3)]",
            "after Component square Ok(Some(U32(9)))",
            "before Component square [U32(4)]",
            "after Component square Ok(Some(U32(16)))",
            "after Export sum-of-squares Ok(Some(U32(25)))",
        ]
    );
}

#[test]
fn a_failing_call_reaches_the_interceptor_as_an_error() {
    let component = squares();
    let mut store = Store::new(component.engine(), ());
    let recorder = Recorder::default();
    store.intercept_calls(recorder.clone());
    let mut linker = Linker::new();
    linker
        .instance("wasi:clocks/monotonic-clock@0.2.0")
        .func_new("now", |_, _, _| Err(Error::host("the clock broke")));
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let func = instance.get_func(&store, &["sum-of-squares"]).unwrap();
    let err = func
        .call(
            &mut store,
            &[Val::U32(3), Val::U32(4)],
            &mut [Val::Bool(false)],
        )
        .unwrap_err();
    assert!(err.to_string().contains("the clock broke"), "{err}");
    let events = recorder.0.lock().unwrap();
    assert_eq!(
        events.last().map(String::as_str),
        Some("after Export sum-of-squares Err(\"the clock broke\")"),
        "{events:?}"
    );
}

#[test]
fn stores_count_host_calls_and_calls_between_components_with_or_without_an_interceptor() {
    let component = squares();
    for intercepted in [false, true] {
        let mut store = Store::new(component.engine(), ());
        if intercepted {
            store.intercept_calls(Recorder::default());
        }
        sum_of_squares(&mut store, &component);
        let stats = store.stats();
        assert_eq!(stats.host_calls, 1, "intercepted: {intercepted}");
        assert_eq!(stats.component_calls, 2, "intercepted: {intercepted}");
        assert_eq!((stats.memories, stats.memory_bytes), (0, 0));
    }
}

#[test]
fn stats_report_a_modules_memory_and_host_calls() {
    let engine = engine();
    let wat = r#"(module (import "host" "tick" (func $tick))
        (memory (export "m") 2)
        (func (export "run") (call $tick) (call $tick) (drop (memory.grow (i32.const 1)))))"#;
    let module = cmc_runtime::Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    let mut linker = cmc_runtime::Linker::new();
    linker.func_wrap("host", "tick", |_: cmc_runtime::Caller<'_, ()>, (): ()| {
        Ok(())
    });
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let run = instance.get_func(&store, "run").unwrap();
    run.call(&mut store, &[], &mut []).unwrap();
    let stats = store.stats();
    assert_eq!(stats.host_calls, 2);
    assert_eq!(stats.component_calls, 0);
    assert_eq!((stats.memories, stats.memory_bytes), (1, 3 * 65536));
}

/// An async export whose core function yields and whose callback then
/// returns 5: the interceptor sees the callback's resumption, with its
/// event (none, after a yield), between the call's `before` and `after`.
#[test]
fn an_interceptor_sees_a_suspended_task_resume() {
    let wat = r#"(component
      (core module $m
        (import "" "task.return" (func $task.return (param i32)))
        (func (export "tick") (result i32) (i32.const 1 (; YIELD ;)))
        (func (export "cb") (param i32 i32 i32) (result i32)
          (call $task.return (i32.const 5))
          (i32.const 0 (; EXIT ;))))
      (canon task.return (result u32) (core func $task.return))
      (core instance $i (instantiate $m (with "" (instance
        (export "task.return" (func $task.return))))))
      (func (export "tick") async (result u32)
        (canon lift (core func $i "tick") async (callback (core func $i "cb")))))"#;
    let component = Component::new(&engine(), wat).unwrap();
    let mut store = Store::new(component.engine(), ());
    let recorder = Recorder::default();
    store.intercept_calls(recorder.clone());
    let instance = Linker::new().instantiate(&mut store, &component).unwrap();
    let tick = instance.get_func(&store, &["tick"]).unwrap();
    let mut out = [Val::Bool(false)];
    tick.call(&mut store, &[], &mut out).unwrap();
    assert_eq!(out, [Val::U32(5)]);
    assert_eq!(
        *recorder.0.lock().unwrap(),
        [
            "before Export tick []",
            "resumed tick Callback { code: 0, index: 0, payload: 0 }",
            "after Export tick Ok(Some(U32(5)))",
        ]
    );
}
