//! The typed component API: exports called with Rust values through
//! `Func::typed`, host functions written with Rust types through
//! `func_wrap`, and records, variants, enums and flags with
//! `#[derive(ComponentType)]`. Each type goes through the echo component of
//! `component_values` (the host calls `echo(x)`, which calls the host's
//! `echo(x)`), with 32-bit and 64-bit memories.

use super::component_values::{Case, component_wat};
use super::engine;
use cmc_runtime::Store;
use cmc_runtime::abi::ImportType;
use cmc_runtime::component::{
    Call, Component, ComponentType, Interceptor, InterfaceType as T, Lift, Linker, Lower, PtrType,
    Val,
};
use std::fmt::Debug;
use std::sync::{Arc, Mutex};

#[derive(ComponentType, Clone, Debug, PartialEq)]
struct Entry {
    id: u64,
    display_name: String,
    tags: Vec<(String, u32)>,
    score: Option<f32>,
}

#[derive(ComponentType, Clone, Debug, PartialEq)]
enum Shape {
    Point,
    Circle(f64),
    Named(String),
    Many(Vec<(u16, u16)>),
}

#[derive(ComponentType, Clone, Copy, Debug, PartialEq)]
enum Color {
    Red,
    DarkGreen,
    #[component(name = "blue")]
    Azure,
}

#[derive(ComponentType, Clone, Copy, Debug, PartialEq)]
#[component(flags)]
struct Perms {
    read: bool,
    write: bool,
    exec: bool,
}

/// Echoes `value` as a `wat` through the component, typed on both sides,
/// for each pointer type.
fn echo<V>(wat: &'static str, named: bool, value: V)
where
    V: Lower + Lift + Clone + Debug + PartialEq + Send + Sync + 'static,
{
    let engine = engine();
    for ptr in [PtrType::I32, PtrType::I64] {
        let case = Case {
            wat,
            named,
            // The dynamic type and value are unused: the Rust types stand for them.
            ty: T::Bool,
            value: Val::Bool(false),
        };
        let source = component_wat_typed(&case, ptr, &value);
        let component = Component::new(&engine, &source)
            .unwrap_or_else(|e| panic!("{wat} ({ptr:?}): {e}\n{source}"));
        let mut linker = Linker::new();
        linker
            .instance("host")
            .func_wrap("echo", |_, (x,): (V,)| Ok((x,)));
        let mut store = Store::new(&engine, ());
        let instance = linker.instantiate(&mut store, &component).unwrap();
        let func = instance.get_func(&store, &["echo"]).unwrap();
        let typed = func
            .typed::<(V,), (V,)>(&store)
            .unwrap_or_else(|e| panic!("{wat}: {e}"));
        let (out,) = typed
            .call(&mut store, (value.clone(),))
            .unwrap_or_else(|e| panic!("{wat} ({ptr:?}): {e}"));
        assert_eq!(out, value, "{wat} ({ptr:?})");
    }
}

/// The echo component's WAT for the type `wat`; the flat signature comes
/// from the component type, which the dynamic value of `value` gives.
fn component_wat_typed<V: Lower>(case: &Case, ptr: PtrType, value: &V) -> String {
    let ty = interface_type(case.wat);
    let _ = value;
    let case = Case { ty, ..case.clone() };
    component_wat(&case, ptr)
}

/// The interface type a WAT type stands for, from a component that uses it.
fn interface_type(wat: &str) -> T {
    let source = format!(
        r#"(component
          (type $t' {wat}) (import "t" (type $t (eq $t')))
          (import "f" (func (param "x" $t))))"#
    );
    let component = Component::new(&engine(), &source).unwrap_or_else(|e| panic!("{wat}: {e}"));
    match &component.imports()[1].1 {
        ImportType::Func(ty) => ty.params[0].1.clone(),
        other => panic!("{wat}: import {other:?}"),
    }
}

#[test]
fn every_rust_type_round_trips_typed() {
    echo("bool", false, true);
    echo("s8", false, -7i8);
    echo("u8", false, 250u8);
    echo("s16", false, -30000i16);
    echo("u16", false, 65000u16);
    echo("s32", false, i32::MIN);
    echo("u32", false, u32::MAX);
    echo("s64", false, i64::MIN + 1);
    echo("u64", false, u64::MAX - 1);
    echo("f32", false, -1.5f32);
    echo("f64", false, std::f64::consts::PI);
    echo("char", false, 'ß');
    echo("string", false, String::from("héllo, wörld ✓"));
    echo("(list u32)", false, vec![1u32, 2, 3]);
    echo("(list u8)", false, b"bytes".to_vec());
    echo(
        "(list string)",
        false,
        vec![String::from("a"), String::new()],
    );
    echo(
        "(list (list u16))",
        false,
        vec![vec![1u16], vec![], vec![2, 3]],
    );
    echo(
        "(tuple u8 f64 char string)",
        false,
        (9u8, 0.25f64, 'z', String::from("tuple")),
    );
    echo("(option string)", false, Some(String::from("some")));
    echo("(option string)", false, None::<String>);
    echo("(option (option u8))", false, Some(None::<u8>));
    echo(
        "(result u32 (error string))",
        false,
        Err::<u32, String>("failed".into()),
    );
    echo("(result u32 (error string))", false, Ok::<u32, String>(5));
    echo("(result (error u8))", false, Ok::<(), u8>(()));
    echo("(result (error u8))", false, Err::<(), u8>(4));
    echo("(result)", false, Err::<(), ()>(()));
    echo(
        r#"(record (field "id" u64) (field "display-name" string) (field "tags" (list (tuple string u32))) (field "score" (option f32)))"#,
        true,
        Entry {
            id: 42,
            display_name: "record".into(),
            tags: vec![("x".into(), 1), ("y".into(), 2)],
            score: Some(0.5),
        },
    );
    let shape = r#"(variant (case "point") (case "circle" f64) (case "named" string) (case "many" (list (tuple u16 u16))))"#;
    for value in [
        Shape::Point,
        Shape::Circle(2.5),
        Shape::Named("n".into()),
        Shape::Many(vec![(1, 2), (3, 4)]),
    ] {
        echo(shape, true, value);
    }
    for value in [Color::Red, Color::DarkGreen, Color::Azure] {
        echo(r#"(enum "red" "dark-green" "blue")"#, true, value);
    }
    echo(
        r#"(flags "read" "write" "exec")"#,
        true,
        Perms {
            read: true,
            write: false,
            exec: true,
        },
    );
}

/// A component exporting `echo: func(x: string) -> string` through the host.
fn string_echo() -> Component {
    let case = Case {
        wat: "string",
        named: false,
        ty: T::String,
        value: Val::Bool(false),
    };
    Component::new(&engine(), component_wat(&case, PtrType::I32)).unwrap()
}

#[test]
fn rust_types_that_are_not_the_function_type_are_refused_once() {
    let component = string_echo();
    let mut linker = Linker::new();
    linker
        .instance("host")
        .func_wrap("echo", |_, (s,): (String,)| Ok((s,)));
    let mut store = Store::new(component.engine(), ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let func = instance.get_func(&store, &["echo"]).unwrap();
    let err = func.typed::<(u32,), (String,)>(&store).err().unwrap();
    assert!(
        err.to_string()
            .contains("parameter `x`: u32 stands for `u32`"),
        "{err}"
    );
    let err = func.typed::<(&str,), ()>(&store).err().unwrap();
    assert!(err.to_string().contains("stands for no result"), "{err}");
    let err = func.typed::<(&str, u8), (String,)>(&store).err().unwrap();
    assert!(
        err.to_string()
            .contains("2 parameter(s) in Rust, 1 in the function"),
        "{err}"
    );
    // A borrowed string works as a parameter.
    let typed = func.typed::<(&str,), (String,)>(&store).unwrap();
    assert_eq!(typed.call(&mut store, ("hi",)).unwrap(), ("hi".to_owned(),));

    // A host function with the wrong Rust types is a link error.
    let mut linker = Linker::new();
    linker
        .instance("host")
        .func_wrap("echo", |_, (n,): (u64,)| Ok((n,)));
    let mut store = Store::new(component.engine(), ());
    let err = linker.instantiate(&mut store, &component).err().unwrap();
    assert!(err.to_string().contains("import `host#echo`"), "{err}");
    assert!(err.to_string().contains("u64 stands for `u64`"), "{err}");
}

/// Records the calls it sees.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<String>>>);

impl Interceptor for Seen {
    fn before(&mut self, call: Call<'_>, params: &[Val]) {
        let line = format!("{:?} {} {params:?}", call.kind, call.name);
        self.0.lock().unwrap().push(line);
    }

    fn after(&mut self, _: Call<'_>, _: Result<Option<&Val>, &cmc_runtime::Error>) {}
}

#[test]
fn typed_calls_are_seen_by_an_interceptor() {
    let component = string_echo();
    let mut linker = Linker::new();
    linker
        .instance("host")
        .func_wrap("echo", |_, (s,): (String,)| Ok((s.to_uppercase(),)));
    let mut store = Store::new(component.engine(), ());
    let seen = Seen::default();
    store.intercept_calls(seen.clone());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let func = instance.get_func(&store, &["echo"]).unwrap();
    let typed = func.typed::<(&str,), (String,)>(&store).unwrap();
    assert_eq!(
        typed.call(&mut store, ("abc",)).unwrap(),
        ("ABC".to_owned(),)
    );
    let seen = seen.0.lock().unwrap();
    assert_eq!(
        *seen,
        [
            r#"Export echo [String("abc")]"#,
            r#"Import host#echo [String("abc")]"#
        ],
        "{seen:?}"
    );
}

/// Nine strings are 18 flat values: the typed call stores them in memory
/// from the callee's `realloc` and passes a pointer, as the spec says.
#[test]
fn typed_parameters_spill_to_memory() {
    let params: String = (0..9)
        .map(|i| format!(r#"(param "p{i}" string) "#))
        .collect();
    let sum: String = (0..9)
        .map(|i| format!("(i32.load offset={} (local.get 0)) ", 8 * i + 4))
        .collect();
    let source = format!(
        r#"(component
          (core module $m
            (memory (export "memory") 1)
            (global $next (mut i32) (i32.const 1024))
            (func (export "realloc") (param i32 i32 i32 i32) (result i32)
              (local $ptr i32)
              (local.set $ptr (i32.and (i32.add (global.get $next) (i32.sub (local.get 2) (i32.const 1)))
                                       (i32.sub (i32.const 0) (local.get 2))))
              (global.set $next (i32.add (local.get $ptr) (local.get 3)))
              (local.get $ptr))
            (func (export "lengths") (param i32) (result i32)
              {sum} {adds}))
          (core instance $i (instantiate $m))
          (func (export "lengths") {params} (result u32)
            (canon lift (core func $i "lengths")
              (memory (core memory $i "memory")) (realloc (core func $i "realloc")))))"#,
        adds = "(i32.add) ".repeat(8),
    );
    let component = Component::new(&engine(), &source).unwrap_or_else(|e| panic!("{e}\n{source}"));
    let mut store = Store::new(component.engine(), ());
    let instance = Linker::new().instantiate(&mut store, &component).unwrap();
    let func = instance.get_func(&store, &["lengths"]).unwrap();
    type Nine<'a> = (
        &'a str,
        &'a str,
        &'a str,
        &'a str,
        &'a str,
        &'a str,
        &'a str,
        &'a str,
        &'a str,
    );
    let typed = func.typed::<Nine<'_>, (u32,)>(&store).unwrap();
    let args = ("a", "bb", "ccc", "", "e", "ff", "ggg", "hhhh", "é");
    assert_eq!(
        typed.call(&mut store, args).unwrap(),
        (1 + 2 + 3 + 1 + 2 + 3 + 4 + 2,)
    );
}

/// README.md's typed-API example, run.
#[test]
fn the_readme_example_runs() {
    #[derive(ComponentType, Debug, PartialEq)]
    struct Entry {
        id: u64,
        display_name: String,
    }

    #[derive(ComponentType)]
    enum Level {
        Info,
        Warn,
    }

    let component = Component::new(&engine(), include_str!("../../components/readme_typed.wat"))
        .expect("component compiles");
    let logged = Arc::new(Mutex::new(Vec::new()));
    let mut linker = Linker::new();
    let log = logged.clone();
    linker.instance("example:log/sink").func_wrap(
        "write",
        move |_, (level, text): (Level, String)| {
            let level = match level {
                Level::Info => "info",
                Level::Warn => "warn",
            };
            log.lock().unwrap().push(format!("{level}: {text}"));
            Ok(())
        },
    );
    let mut store = Store::new(component.engine(), ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let lookup = instance
        .get_func(&store, &["example:db/query", "lookup"])
        .unwrap()
        .typed::<(&str,), (Option<Entry>,)>(&store)
        .unwrap();
    let (entry,) = lookup.call(&mut store, ("alice",)).unwrap();
    let alice = Entry {
        id: 7,
        display_name: "alice".into(),
    };
    assert_eq!(entry, Some(alice));
    assert_eq!(lookup.call(&mut store, ("bob",)).unwrap(), (None,));
    assert_eq!(*logged.lock().unwrap(), ["info: found", "warn: missing"]);
}
