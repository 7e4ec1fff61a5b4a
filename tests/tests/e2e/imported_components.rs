//! Components that import a component, which the host gives
//! (`LinkerInstance::component`) and the importer instantiates with its own
//! items: the given component runs as an instance of its own, called
//! through the canonical ABI both ways.

use super::engine;
use cmc_runtime::Store;
use cmc_runtime::abi::TrapKind;
use cmc_runtime::component::{Component, Instance, Linker, Val};

/// Imports a component `adder`, instantiates it twice with a host function
/// and a function of its own, calls the instance's `add` from its core
/// code and re-exports the other instance's `echo` and the instance itself.
const IMPORTER: &str = r#"(component
  (import "host" (instance $host (export "double" (func (param "x" u32) (result u32)))))
  (import "adder" (component $Adder
    (import "double" (func (param "x" u32) (result u32)))
    (import "offset" (func (result u32)))
    (export "add" (func (param "a" u32) (param "b" u32) (result u32)))
    (export "echo" (func (param "s" string) (result string)))))
  (core module $offsets
    (func (export "thousand") (result i32) (i32.const 1000))
    (func (export "million") (result i32) (i32.const 1000000)))
  (core instance $offsets (instantiate $offsets))
  (func $thousand (result u32) (canon lift (core func $offsets "thousand")))
  (func $million (result u32) (canon lift (core func $offsets "million")))
  (alias export $host "double" (func $double))
  (instance $a (instantiate $Adder (with "double" (func $double)) (with "offset" (func $thousand))))
  (instance $b (instantiate $Adder (with "double" (func $double)) (with "offset" (func $million))))
  (alias export $a "add" (func $add_a))
  (alias export $b "add" (func $add_b))
  (core func $add_a (canon lower (func $add_a)))
  (core func $add_b (canon lower (func $add_b)))
  (core module $user
    (import "" "a" (func $a (param i32 i32) (result i32)))
    (import "" "b" (func $b (param i32 i32) (result i32)))
    (func (export "run") (param i32) (result i32)
      (i32.add (call $a (local.get 0) (i32.const 1)) (call $b (local.get 0) (i32.const 2)))))
  (core instance $user (instantiate $user
    (with "" (instance (export "a" (func $add_a)) (export "b" (func $add_b))))))
  (func (export "run") (param "x" u32) (result u32) (canon lift (core func $user "run")))
  (export "echo" (func $a "echo"))
  (export "b" (instance $b)))"#;

/// The component given for `adder`: `add(a, b)` is
/// `offset() + double(a) + b`, `echo` returns its string.
const ADDER: &str = r#"(component
  (import "double" (func $double (param "x" u32) (result u32)))
  (import "offset" (func $offset (result u32)))
  (core func $double (canon lower (func $double)))
  (core func $offset (canon lower (func $offset)))
  (core module $m
    (import "" "double" (func $double (param i32) (result i32)))
    (import "" "offset" (func $offset (result i32)))
    (memory (export "memory") 1)
    (global $next (mut i32) (i32.const 1024))
    (func (export "add") (param i32 i32) (result i32)
      (i32.add (call $offset) (i32.add (call $double (local.get 0)) (local.get 1))))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $at i32)
      (local.set $at (global.get $next))
      (global.set $next (i32.add (global.get $next) (local.get 3)))
      (local.get $at))
    (func (export "echo") (param i32 i32) (result i32)
      (i32.store (i32.const 0) (local.get 0))
      (i32.store (i32.const 4) (local.get 1))
      (i32.const 0)))
  (core instance $m (instantiate $m
    (with "" (instance (export "double" (func $double)) (export "offset" (func $offset))))))
  (func (export "add") (param "a" u32) (param "b" u32) (result u32)
    (canon lift (core func $m "add")))
  (func (export "echo") (param "s" string) (result string)
    (canon lift (core func $m "echo") (memory (core memory $m "memory"))
      (realloc (core func $m "realloc")))))"#;

fn linker_with(adder: &Component) -> Linker<()> {
    let mut linker = Linker::new();
    linker
        .instance("host")
        .func_wrap("double", |_, (x,): (u32,)| Ok((2 * x,)));
    linker.root().component("adder", adder);
    linker
}

fn call(store: &mut Store<()>, instance: &Instance, path: &[&str], args: &[Val]) -> Val {
    let func = instance.get_func(&*store, path).expect("export exists");
    let mut results = [Val::Bool(false)];
    func.call(&mut *store, args, &mut results)
        .expect("call succeeds");
    results[0].clone()
}

#[test]
fn an_imported_component_is_instantiated_with_what_the_importer_gives() {
    let engine = engine();
    let importer = Component::new(&engine, IMPORTER).unwrap();
    let adder = Component::new(&engine, ADDER).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker_with(&adder)
        .instantiate(&mut store, &importer)
        .unwrap();
    // (1000 + 2*5 + 1) + (1000000 + 2*5 + 2): each instance calls the
    // function it was given.
    assert_eq!(
        call(&mut store, &instance, &["run"], &[Val::U32(5)]),
        Val::U32(1011 + 1_000_012)
    );
    // Re-exported: a function of one instance, the other instance whole.
    assert_eq!(
        call(
            &mut store,
            &instance,
            &["echo"],
            &[Val::String("wörld".into())]
        ),
        Val::String("wörld".into())
    );
    assert_eq!(
        call(
            &mut store,
            &instance,
            &["b", "add"],
            &[Val::U32(1), Val::U32(1)]
        ),
        Val::U32(1_000_003)
    );
    // A second importer in the same store gets instances of its own.
    let again = linker_with(&adder)
        .instantiate(&mut store, &importer)
        .unwrap();
    assert_eq!(
        call(&mut store, &again, &["run"], &[Val::U32(0)]),
        Val::U32(1001 + 1_000_002)
    );
}

/// A component given for the import must fit its type: import only what
/// the type declares and export all it declares, of the declared types.
#[test]
fn a_component_that_does_not_fit_the_import_is_a_link_error() {
    let engine = engine();
    let importer = Component::new(&engine, IMPORTER).unwrap();
    let link_error = |linker: &Linker<()>| super::link_error(linker, &importer);
    let mut linker = Linker::new();
    linker
        .instance("host")
        .func_wrap("double", |_, (x,): (u32,)| Ok((2 * x,)));
    let err = link_error(&linker);
    assert!(err.contains("unknown import: `adder`"), "{err}");

    // Each a change to the component given, and the error it makes.
    let misfits = [
        (
            r#"(func (export "echo") (param "s""#,
            r#"(func (export "other") (param "s""#,
            "the component given for `adder` has no export `echo`",
        ),
        (
            r#"(export "add") (param "a" u32)"#,
            r#"(export "add") (param "a" s32)"#,
            "the component given for `adder` exports `add` of another type",
        ),
        (
            r#"(import "offset" (func $offset (result u32)))"#,
            r#"(import "offset" (func $offset (result u32)))
               (import "extra" (func (result u32)))"#,
            "imports `extra`, which the import's type does not declare",
        ),
    ];
    for (from, to, expected) in misfits {
        let given = Component::new(&engine, ADDER.replace(from, to)).unwrap();
        let err = link_error(&linker_with(&given));
        assert!(err.contains(expected), "{err}");
    }
    let adder = Component::new(&engine, ADDER).unwrap();
    let mut linker = linker_with(&adder);
    linker.root().func_new("adder", |_, _, _| Ok(()));
    let err = link_error(&linker);
    assert!(
        err.contains("import `adder` is a component, but the linker defines a function"),
        "{err}"
    );
}

/// The given component runs as an instance of its own: a call that
/// reaches it again while it runs traps, as `may_enter` says.
#[test]
fn an_imported_instance_cannot_be_reentered() {
    let engine = engine();
    let importer = Component::new(
        &engine,
        r#"(component
          (import "adder" (component $Adder
            (import "double" (func (param "x" u32) (result u32)))
            (import "offset" (func (result u32)))
            (export "add" (func (param "a" u32) (param "b" u32) (result u32)))))
          (import "host" (instance $host (export "double" (func (param "x" u32) (result u32)))))
          (core module $table (table (export "t") 1 funcref))
          (core instance $table (instantiate $table))
          (core module $offset
            (import "" "t" (table 1 funcref))
            (type $add (func (param i32 i32) (result i32)))
            (func (export "offset") (result i32)
              (call_indirect (type $add) (i32.const 0) (i32.const 0) (i32.const 0))))
          (core instance $offset (instantiate $offset (with "" (instance $table))))
          (func $offset (result u32) (canon lift (core func $offset "offset")))
          (instance $a (instantiate $Adder
            (with "double" (func $host "double")) (with "offset" (func $offset))))
          (core func $add (canon lower (func $a "add")))
          (core module $fill
            (import "" "t" (table 1 funcref))
            (import "" "add" (func $add (param i32 i32) (result i32)))
            (elem (i32.const 0) func $add)
            (func (export "run") (result i32) (call $add (i32.const 1) (i32.const 2))))
          (core instance $fill (instantiate $fill
            (with "" (instance (export "t" (table $table "t")) (export "add" (func $add))))))
          (func (export "run") (result u32) (canon lift (core func $fill "run"))))"#,
    )
    .unwrap();
    let adder = Component::new(&engine, ADDER).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker_with(&adder)
        .instantiate(&mut store, &importer)
        .unwrap();
    let run = instance.get_func(&store, &["run"]).unwrap();
    let err = run
        .call(&mut store, &[], &mut [Val::Bool(false)])
        .expect_err("add calls offset, which calls add again");
    assert_eq!(
        err.as_trap().map(|t| t.kind),
        Some(TrapKind::CannotEnterComponent),
        "{err}"
    );
}

/// Resource types cannot cross into an imported component: the plan's
/// resource ids cannot name the given component's types. Such a
/// component still compiles until it instantiates the import.
#[test]
fn resource_types_of_an_imported_component_are_refused_by_name() {
    let importer = |body: &str| {
        format!(
            r#"(component
              (import "c" (component $C
                (export "r" (type $r (sub resource)))
                (export "make" (func (result (own $r))))))
              {body})"#
        )
    };
    Component::new(&engine(), importer("")).expect("compiles while unused");
    let Err(err) = Component::new(&engine(), importer("(instance (instantiate $C))")) else {
        panic!("an instantiation of the import is refused");
    };
    assert!(
        err.to_string()
            .contains("unsupported: a component whose type has a resource type"),
        "{err}"
    );
}
