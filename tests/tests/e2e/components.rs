//! Components through the embedding API: lifted exports called by the host,
//! and host imports lowered into the component.

use super::{engine, store_for};
use cmc_runtime::Store;
use cmc_runtime::abi::TrapKind;
use cmc_runtime::component::{Component, Linker, Val};

/// Asserts that `err` is a trap of `kind` (`context` says which call).
fn assert_trap(err: &cmc_runtime::Error, kind: TrapKind, context: &str) {
    assert_eq!(
        err.as_trap().map(|t| t.kind),
        Some(kind),
        "{context}: {err}"
    );
}

fn strings_component() -> Component {
    Component::new(&engine(), include_str!("../../components/strings.wat"))
        .expect("component compiles")
}

fn linker() -> Linker<()> {
    let mut linker = Linker::new();
    linker
        .instance("host")
        .func_new("greet", |_, params, results| {
            let Val::String(name) = &params[0] else {
                panic!("greet takes a string")
            };
            results[0] = Val::String(format!("hello, {name}!"));
            Ok(())
        });
    linker
}

fn call(
    store: &mut Store<()>,
    instance: &cmc_runtime::component::Instance,
    path: &[&str],
    args: &[Val],
) -> Val {
    let func = instance.get_func(&*store, path).expect("export exists");
    let mut results = [Val::Bool(false)];
    func.call(&mut *store, args, &mut results)
        .expect("call succeeds");
    results[0].clone()
}

#[test]
fn scalar_and_string_exports() {
    let component = strings_component();
    let mut store = Store::new(component.engine(), ());
    let instance = linker().instantiate(&mut store, &component).unwrap();
    assert_eq!(
        call(
            &mut store,
            &instance,
            &["add"],
            &[Val::U32(40), Val::U32(2)]
        ),
        Val::U32(42)
    );
    assert_eq!(
        call(
            &mut store,
            &instance,
            &["count"],
            &[Val::String("héllo".into())]
        ),
        Val::U32(6)
    );
    assert_eq!(
        call(
            &mut store,
            &instance,
            &["echo"],
            &[Val::String("round trip ✓".into())]
        ),
        Val::String("round trip ✓".into())
    );
}

#[test]
fn host_imports_receive_and_return_strings() {
    let component = strings_component();
    let mut store = Store::new(component.engine(), ());
    let instance = linker().instantiate(&mut store, &component).unwrap();
    assert_eq!(
        call(
            &mut store,
            &instance,
            &["api", "hello"],
            &[Val::String("cmc".into())]
        ),
        Val::String("hello, cmc!".into())
    );
}

#[test]
fn missing_imports_and_bad_arguments_are_errors() {
    let component = strings_component();
    let mut store = Store::new(component.engine(), ());
    let err = Linker::new()
        .instantiate(&mut store, &component)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("unknown import: `host` has not been defined"),
        "{err}"
    );

    let instance = linker().instantiate(&mut store, &component).unwrap();
    let add = instance.get_func(&store, &["add"]).unwrap();
    let mut out = [Val::Bool(false)];
    let err = add.call(&mut store, &[Val::U32(1)], &mut out).unwrap_err();
    assert!(err.to_string().contains("argument"), "{err}");
    let err = add
        .call(
            &mut store,
            &[Val::U32(1), Val::String("x".into())],
            &mut out,
        )
        .unwrap_err();
    assert!(err.to_string().contains("string"), "{err}");
    assert!(instance.get_func(&store, &["nope"]).is_none());
}

#[test]
fn names_that_differ_only_by_hyphens_stay_distinct() {
    let component = Component::new(&engine(), include_str!("../../components/hyphen_names.wat"))
        .expect("component compiles");
    let mut linker = Linker::new();
    let constant = |n: u32| {
        move |_: cmc_runtime::Caller<'_, ()>, _: &[Val], results: &mut [Val]| {
            results[0] = Val::U32(n);
            Ok(())
        }
    };
    linker.root().func_new("x1", constant(1));
    linker
        .instance("x-1")
        .func_new("v1", constant(7))
        .func_new("v-1", constant(2));
    let mut store = Store::new(component.engine(), ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    assert_eq!(call(&mut store, &instance, &["sum"], &[]), Val::U32(21));
    assert_eq!(
        call(&mut store, &instance, &["n", "g-1"], &[]),
        Val::U32(21)
    );
    assert_eq!(call(&mut store, &instance, &["n", "g1"], &[]), Val::U32(21));
}

#[test]
fn names_that_differ_only_by_case_conflict() {
    let Err(err) = Component::new(
        &engine(),
        r#"(component (import "a-b" (func)) (import "A-B" (func)))"#,
    ) else {
        panic!("names that differ only by case must conflict")
    };
    assert!(
        err.to_string()
            .contains("import name `A-B` conflicts with previous name `a-b`"),
        "{err}"
    );
}

/// Strings and lists cross between components whose memories have
/// different address types (`memory64` canonical options), in both
/// directions, with the latin1+utf16 tag of a 64-bit memory; a 64-bit
/// pointer beyond the memory traps. The calls are fused, and the runtime's
/// adapters (under an interceptor) agree.
#[test]
fn canonical_options_with_64_bit_memories() {
    let component = Component::new(&engine(), include_str!("../../components/memory64.wat"))
        .expect("component compiles");
    assert_eq!(component.adapter_counts().1, 0, "every call is fused");
    for intercept in [false, true] {
        let mut store = store_for(&component, intercept);
        let instance = Linker::new().instantiate(&mut store, &component).unwrap();
        assert_eq!(
            call(&mut store, &instance, &["caller64", "greet-world"], &[]),
            Val::String("hi world".into())
        );
        assert_eq!(
            call(&mut store, &instance, &["caller64", "sum"], &[]),
            Val::U64(3 + (1 << 32))
        );
        assert_eq!(
            call(&mut store, &instance, &["caller32", "echo"], &[]),
            Val::String("日本".into())
        );
        assert_eq!(
            call(&mut store, &instance, &["last-len"], &[]),
            Val::U64(2 | 1 << 63)
        );
        let far = instance
            .get_func(&store, &["caller64", "greet-far"])
            .unwrap();
        let err = far.call(&mut store, &[], &mut [Val::U32(0)]).unwrap_err();
        assert_trap(&err, TrapKind::StringOutOfBounds, "the call");
    }
}

/// Resources with an `i64` representation (the rest of `cm64`) are refused
/// by name.
#[test]
fn resources_with_64_bit_representations_are_refused_by_name() {
    let wat = r#"(component (type (resource (rep i64))))"#;
    let err = Component::new(&engine(), wat).err().expect("refused");
    assert!(err.to_string().contains("`i64` representation"), "{err}");
}

/// A promote of a thread that does not exist fails, naming it.
#[test]
fn a_promote_of_an_unknown_thread_fails() {
    let wat = r#"(component
        (core func $promote (canon thread.yield-then-promote))
        (core module $m
          (import "" "promote" (func $promote (param i32) (result i32)))
          (func (export "f") (drop (call $promote (i32.const 1)))))
        (core instance $i (instantiate $m
          (with "" (instance (export "promote" (func $promote))))))
        (func (export "f") (canon lift (core func $i "f"))))"#;
    let engine = engine();
    let component = Component::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new().instantiate(&mut store, &component).unwrap();
    let f = instance.get_func(&store, &["f"]).unwrap();
    let err = f.call(&mut store, &[], &mut []).unwrap_err();
    assert!(err.to_string().contains("unknown thread 1"), "{err}");
}

/// A call from component `$d` into `$c`, whose `realloc` returns `ptr` for
/// the `(list u32)` argument.
fn list_call_with_realloc_result(ptr: i32) -> String {
    format!(
        r#"(component
  (component $c
    (core module $m
      (memory (export "mem") 1)
      (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const {ptr}))
      (func (export "f") (param i32 i32)))
    (core instance $m (instantiate $m))
    (func (export "f") (param "a" (list u32))
      (canon lift (core func $m "f") (memory (core memory $m "mem"))
        (realloc (core func $m "realloc")))))
  (component $d
    (import "f" (func $f (param "a" (list u32))))
    (core module $mem (memory (export "mem") 1))
    (core instance $mem (instantiate $mem))
    (core func $f (canon lower (func $f) (memory (core memory $mem "mem"))))
    (core module $main
      (import "" "f" (func $f (param i32 i32)))
      (func (export "run") (call $f (i32.const 8) (i32.const 2))))
    (core instance $main (instantiate $main (with "" (instance (export "f" (func $f))))))
    (func (export "run") (canon lift (core func $main "run"))))
  (instance $c (instantiate $c))
  (instance $d (instantiate $d (with "f" (func $c "f"))))
  (export "run" (func $d "run")))"#
    )
}

#[test]
fn abi_violations_between_components_are_traps() {
    for (ptr, kind) in [
        (2, TrapKind::UnalignedPointer),
        (65532, TrapKind::ListOutOfBounds),
    ] {
        let component = Component::new(&engine(), list_call_with_realloc_result(ptr)).unwrap();
        let mut store = Store::new(component.engine(), ());
        let instance = Linker::new().instantiate(&mut store, &component).unwrap();
        let run = instance.get_func(&store, &["run"]).unwrap();
        let err = run.call(&mut store, &[], &mut []).unwrap_err();
        assert_trap(&err, kind, "the call");
        assert!(
            err.to_string().starts_with(&format!("wasm trap: {kind}")),
            "{err}"
        );
    }
}

#[test]
fn a_nested_component_keeps_the_module_its_parent_was_given() {
    // `$inner` outer-aliases the module `$parent` imports; each exported copy
    // of `$inner` must instantiate the module of its own `$parent`.
    let wat = r#"(component
      (component $parent
        (import "m" (core module $m (export "get" (func (result i32)))))
        (component $inner
          (core instance $i (instantiate $m))
          (func (export "get") (result u32) (canon lift (core func $i "get"))))
        (export "inner" (component $inner)))
      (core module $one (func (export "get") (result i32) (i32.const 1)))
      (core module $two (func (export "get") (result i32) (i32.const 2)))
      (instance $p1 (instantiate $parent (with "m" (core module $one))))
      (instance $p2 (instantiate $parent (with "m" (core module $two))))
      (alias export $p1 "inner" (component $inner1))
      (alias export $p2 "inner" (component $inner2))
      (instance $i1 (instantiate $inner1))
      (instance $i2 (instantiate $inner2))
      (export "get-1" (func $i1 "get"))
      (export "get-2" (func $i2 "get")))"#;
    let component = Component::new(&engine(), wat).unwrap();
    let mut store = Store::new(component.engine(), ());
    let instance = Linker::new().instantiate(&mut store, &component).unwrap();
    assert_eq!(call(&mut store, &instance, &["get-1"], &[]), Val::U32(1));
    assert_eq!(call(&mut store, &instance, &["get-2"], &[]), Val::U32(2));
}

/// Calls between components are inlined into the caller where the plan
/// fixes the callee; a module instantiated twice with different callees
/// calls each instance's own, and under an interceptor every call takes the
/// runtime's adapter.
#[test]
fn a_module_instantiated_twice_calls_what_each_instance_was_given() {
    let wat = r#"(component
      (component $callee
        (core module $m
          (func (export "one") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
          (func (export "two") (param i32) (result i32) (i32.add (local.get 0) (i32.const 2))))
        (core instance $i (instantiate $m))
        (func (export "one") (param "x" u32) (result u32) (canon lift (core func $i "one")))
        (func (export "two") (param "x" u32) (result u32) (canon lift (core func $i "two"))))
      (instance $c (instantiate $callee))
      (core func $one (canon lower (func $c "one")))
      (core func $two (canon lower (func $c "two")))
      (core module $main
        (import "" "f" (func $f (param i32) (result i32)))
        (func (export "run") (param i32) (result i32) (call $f (local.get 0))))
      (core instance $a (instantiate $main (with "" (instance (export "f" (func $one))))))
      (core instance $b (instantiate $main (with "" (instance (export "f" (func $two))))))
      (core module $same
        (import "" "f" (func $f (param i32) (result i32)))
        (func (export "run") (param i32) (result i32) (call $f (local.get 0))))
      (core instance $c1 (instantiate $same (with "" (instance (export "f" (func $two))))))
      (core instance $c2 (instantiate $same (with "" (instance (export "f" (func $two))))))
      (func (export "a") (param "x" u32) (result u32) (canon lift (core func $a "run")))
      (func (export "b") (param "x" u32) (result u32) (canon lift (core func $b "run")))
      (func (export "c1") (param "x" u32) (result u32) (canon lift (core func $c1 "run")))
      (func (export "c2") (param "x" u32) (result u32) (canon lift (core func $c2 "run"))))"#;
    let component = Component::new(&engine(), wat).expect("component compiles");
    for intercept in [false, true] {
        let mut store = store_for(&component, intercept);
        let instance = Linker::new().instantiate(&mut store, &component).unwrap();
        for (name, expected) in [("a", 11), ("b", 12), ("c1", 12), ("c2", 12)] {
            assert_eq!(
                call(&mut store, &instance, &[name], &[Val::U32(10)]),
                Val::U32(expected),
                "{name}, intercepted: {intercept}"
            );
        }
        assert_eq!(store.stats().component_calls, 4, "intercepted: {intercept}");
    }
}

/// A string passed between components in different encodings is
/// allocated in the callee as the spec allocates it from the caller's
/// encoding and length (its `realloc` calls are seen by the callee), fused
/// and through the runtime's adapter alike.
#[test]
fn transcoded_strings_are_allocated_as_their_source_decides() {
    /// The caller's encoding, its string (wat data) and length, the
    /// callee's encoding, the callee's `realloc` calls as (old ptr, old
    /// size, align, new size), and the length it receives.
    type Case = (
        &'static str,
        &'static str,
        u32,
        &'static str,
        &'static [u32],
        u32,
    );
    let cases: [Case; 4] = [
        (
            "utf16",
            r"c\00a\00f\00\e9\00",
            4,
            "utf8",
            &[0, 0, 1, 4, 1024, 4, 1, 12, 1028, 12, 1, 5],
            5,
        ),
        (
            "latin1+utf16",
            r"\f1",
            1,
            "utf8",
            &[0, 0, 1, 1, 1024, 1, 1, 2],
            2,
        ),
        ("utf16", r"\f1\00", 1, "latin1+utf16", &[0, 0, 2, 1], 1),
        ("utf16", r"\e5\65", 1, "utf16", &[0, 0, 2, 2], 1),
    ];
    for (from, data, units, to, reallocs, len) in cases {
        let wat = format!(
            r#"(component
          (component $callee
            (core module $m
              (memory (export "memory") 1)
              (global $next (mut i32) (i32.const 1024))
              (global $n (mut i32) (i32.const 0))
              (func $log (param i32)
                (i32.store (i32.add (i32.const 64) (i32.shl (global.get $n) (i32.const 2)))
                  (local.get 0))
                (global.set $n (i32.add (global.get $n) (i32.const 1))))
              (func (export "realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
                (call $log (local.get 0)) (call $log (local.get 1))
                (call $log (local.get 2)) (call $log (local.get 3))
                (local.set $p (global.get $next))
                (memory.copy (local.get $p) (local.get 0) (local.get 1))
                (global.set $next (i32.add (local.get $p) (local.get 3)))
                (local.get $p))
              (func (export "take") (param i32 i32) (result i32) (local.get 1))
              (func (export "log") (result i32)
                (i32.store (i32.const 32) (i32.const 64))
                (i32.store (i32.const 36) (global.get $n))
                (i32.const 32)))
            (core instance $i (instantiate $m))
            (func (export "take") (param "s" string) (result u32)
              (canon lift (core func $i "take") string-encoding={to}
                (memory (core memory $i "memory")) (realloc (core func $i "realloc"))))
            (func (export "log") (result (list u32))
              (canon lift (core func $i "log") (memory (core memory $i "memory")))))
          (component $caller
            (import "take" (func $take (param "s" string) (result u32)))
            (core module $mem (memory (export "memory") 1) (data (i32.const 0) "{data}"))
            (core instance $mem (instantiate $mem))
            (core func $take (canon lower (func $take) string-encoding={from}
              (memory (core memory $mem "memory"))))
            (core module $main
              (import "" "take" (func $take (param i32 i32) (result i32)))
              (func (export "run") (result i32) (call $take (i32.const 0) (i32.const {units}))))
            (core instance $main (instantiate $main (with "" (instance (export "take" (func $take))))))
            (func (export "run") (result u32) (canon lift (core func $main "run"))))
          (instance $callee (instantiate $callee))
          (instance $caller (instantiate $caller (with "take" (func $callee "take"))))
          (export "run" (func $caller "run"))
          (export "log" (func $callee "log")))"#
        );
        let component = Component::new(&engine(), &wat).expect("component compiles");
        for intercept in [false, true] {
            let case = format!("{from} → {to}, intercepted: {intercept}");
            let mut store = store_for(&component, intercept);
            let instance = Linker::new().instantiate(&mut store, &component).unwrap();
            let received = call(&mut store, &instance, &["run"], &[]);
            assert_eq!(received, Val::U32(len), "{case}");
            let log = call(&mut store, &instance, &["log"], &[]);
            let expected = reallocs.iter().map(|&x| Val::U32(x)).collect();
            assert_eq!(log, Val::List(expected), "{case}");
        }
    }
}

#[test]
fn fused_adapters_convert_every_number_as_the_spec_lifts_and_lowers_it() {
    let component = Component::new(&engine(), include_str!("../../components/fused.wat"))
        .expect("component compiles");
    let mut store = Store::new(component.engine(), ());
    let instance = Linker::new().instantiate(&mut store, &component).unwrap();
    let canonical_nan32 = 0x7fc0_0000;
    for (name, expected) in [
        ("u8", Val::U32(0xff)),
        ("s8", Val::S32(-1)),
        ("u16", Val::U32(0x2345)),
        ("s16", Val::S32(-0x8000)),
        ("bool", Val::U32(1)),
        ("to-u8", Val::U32(0xff)),
        ("u64", Val::U64(u64::MAX - 1)),
        ("f32", Val::U32(canonical_nan32)),
        ("f64", Val::U64(0x7ff8_0000_0000_0000)),
        ("nan", Val::U32(canonical_nan32)),
        // Two calls, each followed by the callee's post-return.
        ("counted", Val::U32(2)),
    ] {
        assert_eq!(
            call(&mut store, &instance, &["caller", name], &[]),
            expected,
            "{name}"
        );
    }

    // A trap in the callee unwinds through the adapter, which is inlined
    // into the caller: the backtrace has the callee's frame and the
    // caller's, and none of glue.
    let fail = instance.get_func(&store, &["caller", "fail"]).unwrap();
    let err = fail.call(&mut store, &[], &mut []).unwrap_err();
    let trap = err.as_trap().expect("a trap");
    assert_eq!(trap.kind, TrapKind::Unreachable);
    let frames: Vec<_> = trap.backtrace.iter().map(|f| f.to_string()).collect();
    assert_eq!(frames.len(), 2, "{frames:?}");
    assert!(
        !frames.iter().any(|f| f.starts_with("fused-adapter")),
        "{frames:?}"
    );
}

#[test]
fn fused_adapters_check_and_copy_strings_and_lists() {
    let component = Component::new(
        &engine(),
        include_str!("../../components/fused_strings.wat"),
    )
    .expect("component compiles");
    let mut store = Store::new(component.engine(), ());
    let instance = Linker::new().instantiate(&mut store, &component).unwrap();
    let hello: u32 = "hello".bytes().map(u32::from).sum();
    assert_eq!(
        call(&mut store, &instance, &["caller", "hello"], &[]),
        Val::U32(hello)
    );
    // "hello", then 0x107 as a u8, then "el".
    let el: u32 = "el".bytes().map(u32::from).sum();
    assert_eq!(
        call(&mut store, &instance, &["caller", "mix"], &[]),
        Val::U32(5 * 1000 + el * 10 + 7)
    );

    // A trap poisons the instance: each failing call gets a fresh one.
    let fails = |name: &str| {
        let mut store = Store::new(component.engine(), ());
        let instance = Linker::new().instantiate(&mut store, &component).unwrap();
        let f = instance.get_func(&store, &["caller", name]).unwrap();
        f.call(&mut store, &[], &mut [Val::U32(0)]).unwrap_err()
    };
    let err = fails("out-of-bounds");
    assert_trap(&err, TrapKind::StringOutOfBounds, "the call");
    let err = fails("invalid");
    assert!(err.to_string().contains("invalid utf-8"), "{err}");

    // [1, 2, 0x103], copied to 2-aligned memory of the callee.
    assert_eq!(
        call(&mut store, &instance, &["caller", "list"], &[]),
        Val::U32(100_000 + 1 + 2 + 0x103)
    );
    // A string result comes back into the caller's allocation.
    assert_eq!(
        call(&mut store, &instance, &["caller", "echo"], &[]),
        Val::U32(100_000 + 5 * 1000 + u32::from(b'h'))
    );
    for name in ["unaligned-list", "bad-retptr", "bad-result"] {
        assert_trap(&fails(name), TrapKind::UnalignedPointer, name);
    }
}

#[test]
fn the_host_cannot_reenter_a_running_component() {
    let wat = r#"(component
      (import "callback" (func $cb))
      (core func $cb (canon lower (func $cb)))
      (core module $m
        (import "" "cb" (func $cb))
        (func (export "run") (call $cb))
        (func (export "inc") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1))))
      (core instance $i (instantiate $m (with "" (instance (export "cb" (func $cb))))))
      (func (export "run") (canon lift (core func $i "run")))
      (func (export "inc") (param "x" u32) (result u32) (canon lift (core func $i "inc"))))"#;
    let component = Component::new(&engine(), wat).unwrap();
    // The store's data is the instance, for the callback to call back into.
    let mut store = Store::new(component.engine(), None);
    let mut linker = Linker::new();
    linker.root().func_new(
        "callback",
        |mut caller: cmc_runtime::Caller<'_, Option<cmc_runtime::component::Instance>>, _, _| {
            let instance = caller.data().expect("instantiated");
            let inc = instance.get_func(&caller, &["inc"]).unwrap();
            inc.call(&mut caller, &[Val::U32(1)], &mut [Val::U32(0)])
        },
    );
    let instance = linker.instantiate(&mut store, &component).unwrap();
    *store.data_mut() = Some(instance);
    let run = instance.get_func(&store, &["run"]).unwrap();
    let err = run.call(&mut store, &[], &mut []).unwrap_err();
    assert!(
        err.to_string().contains("cannot enter component instance"),
        "{err}"
    );
    // The trap poisoned the instance.
    let inc = instance.get_func(&store, &["inc"]).unwrap();
    let mut out = [Val::U32(0)];
    let err = inc.call(&mut store, &[Val::U32(41)], &mut out).unwrap_err();
    assert!(
        err.to_string().contains("cannot enter component instance"),
        "{err}"
    );
}

#[test]
fn realloc_and_post_return_cannot_call_out() {
    let wat = r#"(component
      (import "log" (func $log))
      (core func $log (canon lower (func $log)))
      (core module $m
        (import "" "log" (func $log))
        (memory (export "mem") 1)
        (func (export "realloc") (param i32 i32 i32 i32) (result i32)
          (call $log) (i32.const 64))
        (func (export "take") (param i32 i32))
        (func (export "noisy") (call $log))
        (func (export "quiet"))
        (func (export "post-return") (call $log)))
      (core instance $i (instantiate $m (with "" (instance (export "log" (func $log))))))
      (func (export "take") (param "s" string)
        (canon lift (core func $i "take") (memory (core memory $i "mem"))
          (realloc (core func $i "realloc"))))
      (func (export "noisy") (canon lift (core func $i "noisy")))
      (func (export "quiet")
        (canon lift (core func $i "quiet") (post-return (core func $i "post-return")))))"#;
    let component = Component::new(&engine(), wat).unwrap();
    let mut linker = Linker::new();
    linker.root().func_new("log", |_, _, _| Ok(()));
    // A trap poisons the instance: each call gets a fresh one.
    let run = |name: &str, args: &[Val]| {
        let mut store = Store::new(component.engine(), ());
        let instance = linker.instantiate(&mut store, &component).unwrap();
        let f = instance.get_func(&store, &[name]).unwrap();
        f.call(&mut store, args, &mut [])
    };
    // Calling out from the function itself is fine.
    run("noisy", &[]).unwrap();
    for (name, args) in [("take", vec![Val::String("x".into())]), ("quiet", vec![])] {
        let err = run(name, &args).unwrap_err();
        assert_trap(&err, TrapKind::CannotLeaveComponent, name);
    }
}

/// A component instance that lowers a function it lifted itself, with the
/// same memory on both sides: the fused adapter copies within one memory
/// (`memory.copy`, which allows overlap) and gives what the runtime's
/// adapter gives.
#[test]
fn a_fused_adapter_within_one_memory() {
    let wat = r#"(component
      (core module $libc
        (memory (export "memory") 1)
        (global $next (mut i32) (i32.const 1024))
        (func (export "realloc") (param i32 i32 i32 i32) (result i32)
          (local $ptr i32)
          (local.set $ptr (global.get $next))
          (global.set $next (i32.add (local.get $ptr) (local.get 3)))
          (local.get $ptr))
        (func (export "sum") (param $ptr i32) (param $len i32) (result i32)
          (local $acc i32)
          (block $done (loop $l
            (br_if $done (i32.eqz (local.get $len)))
            (local.set $acc (i32.add (local.get $acc) (i32.load8_u (local.get $ptr))))
            (local.set $ptr (i32.add (local.get $ptr) (i32.const 1)))
            (local.set $len (i32.sub (local.get $len) (i32.const 1)))
            (br $l)))
          (local.get $acc))
        (data (i32.const 16) "hello, world"))
      (core instance $libc (instantiate $libc))
      (func $sum (param "s" string) (result u32)
        (canon lift (core func $libc "sum")
          (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
      (core func $lowered (canon lower (func $sum) (memory (core memory $libc "memory"))))
      (core module $m
        (import "" "sum" (func $sum (param i32 i32) (result i32)))
        (func (export "run") (param i32) (result i32) (call $sum (i32.const 16) (local.get 0))))
      (core instance $m (instantiate $m (with "" (instance (export "sum" (func $lowered))))))
      (func (export "run") (param "n" u32) (result u32) (canon lift (core func $m "run"))))"#;
    let component = Component::new(&engine(), wat).expect("component compiles");
    assert_eq!(component.adapter_counts(), (1, 0));
    let hello: u32 = "hello, world".bytes().map(u32::from).sum();
    for intercept in [false, true] {
        let mut store = store_for(&component, intercept);
        let instance = Linker::new().instantiate(&mut store, &component).unwrap();
        assert_eq!(
            call(&mut store, &instance, &["run"], &[Val::U32(12)]),
            Val::U32(hello)
        );
        let run = instance.get_func(&store, &["run"]).unwrap();
        let err = run
            .call(&mut store, &[Val::U32(70_000)], &mut [Val::U32(0)])
            .unwrap_err();
        assert_trap(&err, TrapKind::StringOutOfBounds, "the call");
    }
}

/// A callee's `realloc` and `post-return` may not call out in a call from
/// another component either: the fused adapter clears the callee's
/// `may_leave` around them, and the lowered import checks it, as the
/// runtime's adapter does.
#[test]
fn realloc_and_post_return_cannot_call_out_between_components() {
    let wat = r#"(component
      (import "log" (func $log))
      (component $callee
        (import "log" (func $log))
        (core func $log (canon lower (func $log)))
        (core module $m
          (import "" "log" (func $log))
          (memory (export "mem") 1)
          (func (export "realloc") (param i32 i32 i32 i32) (result i32)
            (call $log) (i32.const 64))
          (func (export "take") (param i32 i32))
          (func (export "quiet"))
          (func (export "post-return") (call $log)))
        (core instance $i (instantiate $m (with "" (instance (export "log" (func $log))))))
        (func (export "take") (param "s" string)
          (canon lift (core func $i "take") (memory (core memory $i "mem"))
            (realloc (core func $i "realloc"))))
        (func (export "quiet")
          (canon lift (core func $i "quiet") (post-return (core func $i "post-return")))))
      (instance $callee (instantiate $callee (with "log" (func $log))))
      (component $caller
        (import "take" (func $take (param "s" string)))
        (import "quiet" (func $quiet))
        (core module $libc (memory (export "mem") 1))
        (core instance $libc (instantiate $libc))
        (core func $take (canon lower (func $take) (memory (core memory $libc "mem"))))
        (core func $quiet (canon lower (func $quiet)))
        (core module $m
          (import "" "take" (func $take (param i32 i32)))
          (import "" "quiet" (func $quiet))
          (func (export "take") (call $take (i32.const 0) (i32.const 1)))
          (func (export "quiet") (call $quiet)))
        (core instance $m (instantiate $m (with "" (instance
          (export "take" (func $take)) (export "quiet" (func $quiet))))))
        (func (export "take") (canon lift (core func $m "take")))
        (func (export "quiet") (canon lift (core func $m "quiet"))))
      (instance $caller (instantiate $caller
        (with "take" (func $callee "take")) (with "quiet" (func $callee "quiet"))))
      (export "take" (func $caller "take"))
      (export "quiet" (func $caller "quiet")))"#;
    let component = Component::new(&engine(), wat).unwrap();
    assert_eq!(component.adapter_counts(), (2, 0));
    for intercept in [false, true] {
        let mut linker = Linker::new();
        linker.root().func_new("log", |_, _, _| Ok(()));
        for name in ["take", "quiet"] {
            // A trap poisons the instance: each call gets a fresh one.
            let mut store = store_for(&component, intercept);
            let instance = linker.instantiate(&mut store, &component).unwrap();
            let f = instance.get_func(&store, &[name]).unwrap();
            let err = f.call(&mut store, &[], &mut []).unwrap_err();
            assert_trap(
                &err,
                TrapKind::CannotLeaveComponent,
                &format!("{name} (intercepted: {intercept})"),
            );
        }
    }
}

/// A component may export what it imports: a function (here through a
/// nested component too) and an instance. The host calls its own
/// functions back through the component, with strings and a spilled
/// result in between.
#[test]
fn imported_functions_and_instances_can_be_exported_again() {
    let wat = r#"(component
      (import "greet" (func $greet (param "name" string) (result string)))
      (import "math" (instance $math
        (export "pair" (func (param "x" u32) (result (tuple u32 string))))
        (export "inner" (instance (export "twice" (func (param "x" u32) (result u32)))))))
      (component $child
        (import "greet" (func $g (param "name" string) (result string)))
        (export "hello" (func $g)))
      (instance $child (instantiate $child (with "greet" (func $greet))))
      (export "greet-again" (func $greet))
      (export "hello" (func $child "hello"))
      (export "math" (instance $math)))"#;
    let component = Component::new(&engine(), wat).unwrap();
    let mut store = Store::new(component.engine(), ());
    // The re-exports share one forwarder, whose memory is the only one.
    store.limit_memories(1);
    let mut linker = Linker::new();
    linker.root().func_new("greet", |_, params, results| {
        let Val::String(name) = &params[0] else {
            unreachable!("typed")
        };
        results[0] = Val::String(format!("hello, {name}!"));
        Ok(())
    });
    let mut math = linker.instance("math");
    math.func_new("pair", |_, params, results| {
        let Val::U32(x) = params[0] else {
            unreachable!("typed")
        };
        results[0] = Val::Tuple(vec![Val::U32(x + 1), Val::String(format!("{x}"))]);
        Ok(())
    });
    math.instance("inner")
        .func_new("twice", |_, params, results| {
            let Val::U32(x) = params[0] else {
                unreachable!("typed")
            };
            results[0] = Val::U32(2 * x);
            Ok(())
        });
    let instance = linker.instantiate(&mut store, &component).unwrap();
    for name in ["greet-again", "hello"] {
        let f = instance.get_func(&store, &[name]).unwrap();
        let mut out = [Val::Bool(false)];
        for _ in 0..3 {
            f.call(&mut store, &[Val::String("wörld".into())], &mut out)
                .unwrap();
            assert_eq!(out[0], Val::String("hello, wörld!".into()), "{name}");
        }
    }
    let pair = instance.get_func(&store, &["math", "pair"]).unwrap();
    let mut out = [Val::Bool(false)];
    pair.call(&mut store, &[Val::U32(41)], &mut out).unwrap();
    assert_eq!(
        out[0],
        Val::Tuple(vec![Val::U32(42), Val::String("41".into())])
    );
    let twice = instance
        .get_func(&store, &["math", "inner", "twice"])
        .unwrap();
    twice.call(&mut store, &[Val::U32(21)], &mut out).unwrap();
    assert_eq!(out[0], Val::U32(42));
}

/// A component may import a core module (at the root, or inside an
/// imported instance), which the host provides and the component
/// instantiates (twice here) with imports from its own core instances. A module that is missing, lacks an export the component
/// uses, or imports what the component does not give is a link error.
#[test]
fn an_imported_core_module_is_instantiated_with_what_the_component_gives() {
    let wat = r#"(component
      (import "m" (core module $m
        (import "env" "base" (global i32))
        (export "add" (func (param i32) (result i32)))))
      (core module $env (global (export "base") i32 (i32.const 100)))
      (core module $env2 (global (export "base") i32 (i32.const 200)))
      (core instance $env (instantiate $env))
      (core instance $env2 (instantiate $env2))
      (core instance $a (instantiate $m (with "env" (instance $env))))
      (core instance $b (instantiate $m (with "env" (instance $env2))))
      (func (export "a") (param "x" u32) (result u32) (canon lift (core func $a "add")))
      (func (export "b") (param "x" u32) (result u32) (canon lift (core func $b "add")))
      (import "lib" (instance $lib
        (export "m" (core module
          (import "env" "base" (global i32))
          (export "add" (func (param i32) (result i32)))))))
      (alias export $lib "m" (core module $m2))
      (core instance $c (instantiate $m2 (with "env" (instance $env))))
      (func (export "c") (param "x" u32) (result u32) (canon lift (core func $c "add"))))"#;
    let engine = engine();
    let component = Component::new(&engine, wat).unwrap();
    let module = |wat: &str| cmc_runtime::Module::new(&engine, wat).unwrap();
    let good = module(
        r#"(module (import "env" "base" (global i32))
             (func (export "add") (param i32) (result i32) (i32.add (local.get 0) (global.get 0))))"#,
    );
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new();
    linker.root().module("m", &good);
    linker.instance("lib").module("m", &good);
    let instance = linker.instantiate(&mut store, &component).unwrap();
    assert_eq!(
        call(&mut store, &instance, &["c"], &[Val::U32(2)]),
        Val::U32(102)
    );
    assert_eq!(
        call(&mut store, &instance, &["a"], &[Val::U32(1)]),
        Val::U32(101)
    );
    assert_eq!(
        call(&mut store, &instance, &["b"], &[Val::U32(1)]),
        Val::U32(201)
    );

    let link_error = |linker: &Linker<()>| super::link_error(linker, &component);
    let err = link_error(&Linker::new());
    assert!(err.contains("unknown import: `m`"), "{err}");
    let mut linker = Linker::new();
    linker.instance("lib").module("m", &good);
    linker.root().module(
        "m",
        &module(r#"(module (func (export "sub") (param i32) (result i32) (local.get 0)))"#),
    );
    let err = link_error(&linker);
    assert!(err.contains("has no export `add`"), "{err}");
    let mut linker = Linker::new();
    linker.instance("lib").module("m", &good);
    linker.root().module(
        "m",
        &module(
            r#"(module (import "env" "other" (global i32))
                 (func (export "add") (param i32) (result i32) (local.get 0)))"#,
        ),
    );
    let err = link_error(&linker);
    assert!(
        err.contains("imports `env` `other`, which the component does not provide"),
        "{err}"
    );
}

/// A call into a component instance that a call in progress has entered
/// traps, as `may_enter` says: here the root calls back into `$d` from
/// inside `$d`'s own call to it (through a table the root fills after
/// instantiating `$d`), while calling `$d` from the root alone is fine.
#[test]
fn a_call_cannot_reenter_an_instance_that_is_running() {
    let wat = r#"(component
      (core module $pm
        (type $void (func))
        (table (export "t") 1 funcref)
        (func (export "f") (call_indirect (type $void) (i32.const 0))))
      (core instance $pm (instantiate $pm))
      (func $f (canon lift (core func $pm "f")))
      (component $d
        (import "f" (func $f))
        (core func $f (canon lower (func $f)))
        (core module $m
          (import "" "f" (func $f))
          (func (export "g"))
          (func (export "h") (call $f)))
        (core instance $m (instantiate $m (with "" (instance (export "f" (func $f))))))
        (func (export "g") (canon lift (core func $m "g")))
        (func (export "h") (canon lift (core func $m "h"))))
      (instance $d (instantiate $d (with "f" (func $f))))
      (core func $g (canon lower (func $d "g")))
      (core module $fill
        (import "" "t" (table 1 funcref))
        (import "" "g" (func $g))
        (elem declare func $g)
        (func $start (table.set (i32.const 0) (ref.func $g)))
        (start $start))
      (core instance (instantiate $fill (with "" (instance
        (export "t" (table $pm "t")) (export "g" (func $g))))))
      (component $c
        (import "h" (func $h))
        (core func $h (canon lower (func $h)))
        (core module $m
          (import "" "h" (func $h))
          (func (export "run") (call $h)))
        (core instance $m (instantiate $m (with "" (instance (export "h" (func $h))))))
        (func (export "run") (canon lift (core func $m "run"))))
      (instance $c (instantiate $c (with "h" (func $d "h"))))
      (export "direct" (func $f))
      (export "reenter" (func $c "run")))"#;
    let component = Component::new(&engine(), wat).unwrap();
    assert_eq!(component.adapter_counts(), (3, 0));
    for intercept in [false, true] {
        let mut store = store_for(&component, intercept);
        let instance = Linker::new().instantiate(&mut store, &component).unwrap();
        let call = |store: &mut Store<()>, name| {
            let f = instance.get_func(&*store, &[name]).unwrap();
            f.call(store, &[], &mut [])
        };
        call(&mut store, "direct").unwrap();
        call(&mut store, "direct").unwrap();
        let err = call(&mut store, "reenter").unwrap_err();
        let context = format!("intercepted: {intercept}");
        assert_trap(&err, TrapKind::CannotEnterComponent, &context);
        // The trap poisoned the instances the call entered.
        let err = call(&mut store, "direct").unwrap_err();
        assert_trap(&err, TrapKind::CannotEnterComponent, &context);
    }
}

/// Lowering the same function twice makes one adapter; the adapters a
/// component's core instance imports are one module, instantiated once for
/// it, and equal modules (here those of two instances of the caller) are
/// compiled once.
#[test]
fn the_adapters_of_a_component_are_one_module() {
    use cmc_runtime::abi::Initializer;
    use cmc_runtime::{ArtifactInfo, ArtifactMeta, CompileSettings};
    let wat = r#"(component
      (component $callee
        (core module $m
          (func (export "f") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
          (func (export "g") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2))))
        (core instance $i (instantiate $m))
        (func (export "f") (param "x" u32) (result u32) (canon lift (core func $i "f")))
        (func (export "g") (param "x" u32) (result u32) (canon lift (core func $i "g"))))
      (instance $callee (instantiate $callee))
      (component $caller
        (import "f" (func $f (param "x" u32) (result u32)))
        (import "g" (func $g (param "x" u32) (result u32)))
        (core func $f1 (canon lower (func $f)))
        (core func $f2 (canon lower (func $f)))
        (core func $g (canon lower (func $g)))
        (core module $m
          (import "" "f1" (func $f1 (param i32) (result i32)))
          (import "" "f2" (func $f2 (param i32) (result i32)))
          (import "" "g" (func $g (param i32) (result i32)))
          (func (export "run") (param i32) (result i32)
            (call $g (call $f2 (call $f1 (local.get 0))))))
        (core instance $m (instantiate $m (with "" (instance
          (export "f1" (func $f1)) (export "f2" (func $f2)) (export "g" (func $g))))))
        (func (export "run") (param "x" u32) (result u32) (canon lift (core func $m "run"))))
      (instance $caller (instantiate $caller
        (with "f" (func $callee "f")) (with "g" (func $callee "g"))))
      (instance $again (instantiate $caller
        (with "f" (func $callee "f")) (with "g" (func $callee "g"))))
      (export "run" (func $caller "run"))
      (export "again" (func $again "run")))"#;
    let bytes = cmc_compiler::compile(wat.as_bytes(), &CompileSettings::default(), None).unwrap();
    let ArtifactMeta::Component(meta) = ArtifactInfo::read(&bytes).unwrap().meta else {
        panic!("a component artifact")
    };
    // The callee's and the caller's modules, and one adapter module.
    assert_eq!(meta.modules.len(), 3);
    let adapter_instances = meta
        .initializers
        .iter()
        .filter(
            |init| matches!(init, Initializer::Instantiate { module, .. } if module.as_u32() == 2),
        )
        .count();
    assert_eq!(adapter_instances, 2, "one instance for each caller");
    assert_eq!(meta.adapter_counts(), (6, 0));
    let component = Component::new(&engine(), wat).unwrap();
    let mut store = Store::new(component.engine(), ());
    let instance = Linker::new().instantiate(&mut store, &component).unwrap();
    for name in ["run", "again"] {
        assert_eq!(
            call(&mut store, &instance, &[name], &[Val::U32(3)]),
            Val::U32(10)
        );
    }
}

/// A component function's type read through another store is refused
/// with a message that says so (as the core handles' accessors do), not
/// an index out of bounds or another instance's type.
#[test]
#[should_panic(expected = "component function used with another store")]
fn a_function_type_read_through_another_store_is_refused() {
    let (store, instance) = super::instantiate_component(
        r#"(component
          (core module $m (func (export "f")))
          (core instance $i (instantiate $m))
          (func (export "f") (canon lift (core func $i "f"))))"#,
    );
    let f = instance.get_func(&store, &["f"]).unwrap();
    let other = Store::new(&engine(), ());
    let _ = f.ty(&other);
}
