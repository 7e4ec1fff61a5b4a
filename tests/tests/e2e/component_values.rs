//! Every component value type through real components: the host calls an
//! export `echo(x: T) -> T` whose core code forwards its flat arguments to
//! the host import `host#echo` and returns what that wrote. Each value is
//! lowered into the component, lifted out to the host import, lowered back
//! and lifted for the caller, through memory wherever it spills; once with
//! a 32-bit memory and once with a 64-bit one.

use super::engine;
use cmc_runtime::Store;
use cmc_runtime::component::{
    Component, FlatContext, FlatType, FuncType, InterfaceType as T, Linker, PtrType, Val,
    flatten_functype,
};

/// A type as written in WAT (a `$t` definition when `named`), its interface
/// type, and a value of it.
#[derive(Clone)]
pub(super) struct Case {
    pub wat: &'static str,
    pub named: bool,
    pub ty: T,
    pub value: Val,
}

fn flat(t: &FlatType) -> &'static str {
    match t {
        FlatType::I32 => "i32",
        FlatType::I64 => "i64",
        FlatType::F32 => "f32",
        FlatType::F64 => "f64",
    }
}

fn list(tys: &[FlatType]) -> String {
    tys.iter().map(flat).collect::<Vec<_>>().join(" ")
}

/// The echo component for `case`, whose memory has pointers of type `ptr`.
pub(super) fn component_wat(case: &Case, ptr: PtrType) -> String {
    let ty = FuncType {
        params: vec![("x".into(), case.ty.clone())],
        result: Some(case.ty.clone()),
        is_async: false,
    };
    let lift = flatten_functype(&ty, FlatContext::Lift, ptr);
    let lower = flatten_functype(&ty, FlatContext::Lower, ptr);
    let a = flat(&ptr.flat());
    let args: String = (0..lift.params.len())
        .map(|i| format!("(local.get {i}) "))
        .collect();
    // When the result spills, the import writes it at 64 and the export
    // returns that address.
    let body = if lower.results.is_empty() {
        format!("{args} ({a}.const 64) (call $echo) ({a}.const 64)")
    } else {
        format!("{args} (call $echo)")
    };
    let (outer_ty, inner_ty, type_defs, instance_defs) = if case.named {
        (
            "$t".to_owned(),
            "$t".to_owned(),
            format!("(type $t' {}) (export $t \"t\" (type $t'))", case.wat),
            format!("(type $t' {}) (export \"t\" (type $t (eq $t')))", case.wat),
        )
    } else {
        (
            case.wat.to_owned(),
            case.wat.to_owned(),
            String::new(),
            String::new(),
        )
    };
    format!(
        r#"(component
  (import "host" (instance $host {instance_defs}
    (export "echo" (func (param "x" {inner_ty}) (result {inner_ty})))))
  {type_defs}
  (core module $libc
    (memory (export "memory") {a} 1)
    (global $next (mut {a}) ({a}.const 1024))
    (func (export "realloc") (param {a} {a} {a} {a}) (result {a})
      (local $ptr {a})
      (local.set $ptr ({a}.and ({a}.add (global.get $next) ({a}.sub (local.get 2) ({a}.const 1)))
                               ({a}.sub ({a}.const 0) (local.get 2))))
      (global.set $next ({a}.add (local.get $ptr) (local.get 3)))
      (local.get $ptr)))
  (core instance $libc (instantiate $libc))
  (core func $echo (canon lower (func $host "echo")
    (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (core module $main
    (import "libc" "memory" (memory {a} 1))
    (import "host" "echo" (func $echo (param {lower_params}) (result {lower_results})))
    (func (export "echo") (param {lift_params}) (result {lift_results}) {body}))
  (core instance $main (instantiate $main
    (with "libc" (instance $libc))
    (with "host" (instance (export "echo" (func $echo))))))
  (func $f (param "x" {outer_ty}) (result {outer_ty})
    (canon lift (core func $main "echo")
      (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (export "echo" (func $f)))"#,
        lower_params = list(&lower.params),
        lower_results = list(&lower.results),
        lift_params = list(&lift.params),
        lift_results = list(&lift.results),
    )
}

fn s(text: &str) -> Val {
    Val::String(text.into())
}

fn cases() -> Vec<Case> {
    let plain = |wat, ty, value| Case {
        wat,
        named: false,
        ty,
        value,
    };
    let named = |wat, ty, value| Case {
        wat,
        named: true,
        ty,
        value,
    };
    vec![
        plain("bool", T::Bool, Val::Bool(true)),
        plain("s8", T::S8, Val::S8(-7)),
        plain("u8", T::U8, Val::U8(250)),
        plain("s16", T::S16, Val::S16(-30000)),
        plain("u16", T::U16, Val::U16(65000)),
        plain("s32", T::S32, Val::S32(i32::MIN)),
        plain("u32", T::U32, Val::U32(u32::MAX)),
        plain("s64", T::S64, Val::S64(i64::MIN + 1)),
        plain("u64", T::U64, Val::U64(u64::MAX - 1)),
        plain("f32", T::F32, Val::F32(-1.5)),
        plain("f64", T::F64, Val::F64(std::f64::consts::PI)),
        plain("char", T::Char, Val::Char('ß')),
        plain("string", T::String, s("héllo, wörld ✓")),
        plain(
            "(list u32)",
            T::List(Box::new(T::U32)),
            Val::List(vec![Val::U32(1), Val::U32(2), Val::U32(3)]),
        ),
        plain(
            "(list string)",
            T::List(Box::new(T::String)),
            Val::List(vec![s("a"), s(""), s("ccc")]),
        ),
        // A map crosses as the list of its entries (the ABI's
        // despecialization).
        plain(
            "(map string u32)",
            T::List(Box::new(T::Tuple(vec![T::String, T::U32]))),
            Val::List(vec![
                Val::Tuple(vec![s("one"), Val::U32(1)]),
                Val::Tuple(vec![s("two"), Val::U32(2)]),
            ]),
        ),
        plain(
            "(list (list u16))",
            T::List(Box::new(T::List(Box::new(T::U16)))),
            Val::List(vec![
                Val::List(vec![Val::U16(1)]),
                Val::List(vec![]),
                Val::List(vec![Val::U16(2), Val::U16(3)]),
            ]),
        ),
        plain(
            "(tuple u8 f64 char string)",
            T::Tuple(vec![T::U8, T::F64, T::Char, T::String]),
            Val::Tuple(vec![Val::U8(9), Val::F64(0.25), Val::Char('z'), s("tuple")]),
        ),
        plain(
            "(option string)",
            T::Option(Box::new(T::String)),
            Val::Option(Some(Box::new(s("some")))),
        ),
        plain(
            "(option string)",
            T::Option(Box::new(T::String)),
            Val::Option(None),
        ),
        plain(
            "(option (option u8))",
            T::Option(Box::new(T::Option(Box::new(T::U8)))),
            Val::Option(Some(Box::new(Val::Option(None)))),
        ),
        plain(
            "(result u32 (error string))",
            T::Result {
                ok: Some(Box::new(T::U32)),
                err: Some(Box::new(T::String)),
            },
            Val::Result(Err(Some(Box::new(s("failed"))))),
        ),
        plain(
            "(result u32 (error string))",
            T::Result {
                ok: Some(Box::new(T::U32)),
                err: Some(Box::new(T::String)),
            },
            Val::Result(Ok(Some(Box::new(Val::U32(5))))),
        ),
        named(
            r#"(record (field "id" u64) (field "name" string) (field "tags" (list (tuple string u32))) (field "score" (option f32)))"#,
            T::Record(vec![
                ("id".into(), T::U64),
                ("name".into(), T::String),
                (
                    "tags".into(),
                    T::List(Box::new(T::Tuple(vec![T::String, T::U32]))),
                ),
                ("score".into(), T::Option(Box::new(T::F32))),
            ]),
            Val::Record(vec![
                ("id".into(), Val::U64(42)),
                ("name".into(), s("record")),
                (
                    "tags".into(),
                    Val::List(vec![
                        Val::Tuple(vec![s("x"), Val::U32(1)]),
                        Val::Tuple(vec![s("y"), Val::U32(2)]),
                    ]),
                ),
                ("score".into(), Val::Option(Some(Box::new(Val::F32(0.5))))),
            ]),
        ),
        named(
            r#"(variant (case "int" u64) (case "text" string) (case "many" (list string)) (case "none"))"#,
            T::Variant(vec![
                ("int".into(), Some(T::U64)),
                ("text".into(), Some(T::String)),
                ("many".into(), Some(T::List(Box::new(T::String)))),
                ("none".into(), None),
            ]),
            Val::Variant(
                "many".into(),
                Some(Box::new(Val::List(vec![s("p"), s("q")]))),
            ),
        ),
        named(
            r#"(variant (case "int" u64) (case "text" string) (case "many" (list string)) (case "none"))"#,
            T::Variant(vec![
                ("int".into(), Some(T::U64)),
                ("text".into(), Some(T::String)),
                ("many".into(), Some(T::List(Box::new(T::String)))),
                ("none".into(), None),
            ]),
            Val::Variant("int".into(), Some(Box::new(Val::U64(u64::MAX)))),
        ),
        named(
            r#"(enum "red" "green" "blue")"#,
            T::Enum(vec!["red".into(), "green".into(), "blue".into()]),
            Val::Enum("blue".into()),
        ),
        named(
            r#"(flags "read" "write" "exec")"#,
            T::Flags(vec!["read".into(), "write".into(), "exec".into()]),
            Val::Flags(vec!["read".into(), "exec".into()]),
        ),
    ]
}

#[test]
fn every_value_type_round_trips_through_a_component() {
    let engine = engine();
    for (case, ptr) in cases()
        .into_iter()
        .flat_map(|case| [PtrType::I32, PtrType::I64].map(|ptr| (case.clone(), ptr)))
    {
        let wat = component_wat(&case, ptr);
        let component = Component::new(&engine, &wat)
            .unwrap_or_else(|e| panic!("{} ({ptr:?}): {e}\n{wat}", case.wat));
        let mut linker = Linker::new();
        linker
            .instance("host")
            .func_new("echo", |_, params, results| {
                results[0] = params[0].clone();
                Ok(())
            });
        let mut store = Store::new(&engine, ());
        let instance = linker.instantiate(&mut store, &component).unwrap();
        let echo = instance.get_func(&store, &["echo"]).unwrap();
        let mut out = [Val::Bool(false)];
        echo.call(&mut store, std::slice::from_ref(&case.value), &mut out)
            .unwrap_or_else(|e| panic!("{} ({ptr:?}): {e}", case.wat));
        assert_eq!(out[0], case.value, "{} ({ptr:?})", case.wat);
    }
}

/// A component whose exports return invalid values; `post-return` counts
/// calls of `text`.
const BAD_VALUES: &str = r#"(component
  (core module $m
    (memory (export "memory") 1)
    (global $post (mut i32) (i32.const 0))
    (data (i32.const 200) "\ff\fe")
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
    (func (export "char") (result i32) (i32.const 0xD800))
    (func (export "enum") (result i32) (i32.const 7))
    (func (export "far-string") (result i32)
      (i32.store (i32.const 128) (i32.const 0xFFFFFF00))
      (i32.store (i32.const 132) (i32.const 512))
      (i32.const 128))
    (func (export "bad-utf8") (result i32)
      (i32.store (i32.const 128) (i32.const 200))
      (i32.store (i32.const 132) (i32.const 2))
      (i32.const 128))
    (func (export "unaligned-list") (result i32)
      (i32.store (i32.const 128) (i32.const 201))
      (i32.store (i32.const 132) (i32.const 1))
      (i32.const 128))
    (func (export "unaligned-return") (result i32) (i32.const 129))
    (func (export "text") (result i32)
      (i32.store (i32.const 128) (i32.const 300))
      (i32.store (i32.const 132) (i32.const 0))
      (i32.const 128))
    (func (export "post") (param i32) (global.set $post (i32.add (global.get $post) (i32.const 1))))
    (func (export "posts") (result i32) (global.get $post)))
  (core instance $i (instantiate $m))
  (type $e' (enum "a" "b" "c"))
  (export $e "e" (type $e'))
  (func (export "char") (result char) (canon lift (core func $i "char")))
  (func (export "enum") (result $e) (canon lift (core func $i "enum")))
  (func (export "far-string") (result string)
    (canon lift (core func $i "far-string") (memory (core memory $i "memory"))))
  (func (export "bad-utf8") (result string)
    (canon lift (core func $i "bad-utf8") (memory (core memory $i "memory"))))
  (func (export "unaligned-list") (result (list u32))
    (canon lift (core func $i "unaligned-list") (memory (core memory $i "memory"))))
  (func (export "unaligned-return") (result string)
    (canon lift (core func $i "unaligned-return") (memory (core memory $i "memory"))))
  (func (export "text") (result string)
    (canon lift (core func $i "text") (memory (core memory $i "memory"))
      (post-return (core func $i "post"))))
  (func (export "posts") (result u32) (canon lift (core func $i "posts"))))"#;

#[test]
fn invalid_values_from_a_component_trap_with_the_spec_wording() {
    let engine = engine();
    let component = Component::new(&engine, BAD_VALUES).unwrap();
    for (export, message) in [
        ("char", "invalid `char` bit pattern"),
        ("enum", "invalid variant discriminant"),
        (
            "far-string",
            "string pointer/length out of bounds of memory",
        ),
        ("bad-utf8", "invalid utf-8"),
        ("unaligned-list", "unaligned pointer"),
        ("unaligned-return", "unaligned pointer"),
    ] {
        // Each trap poisons its instance: every case gets a fresh one.
        let mut store = Store::new(&engine, ());
        let instance = Linker::new().instantiate(&mut store, &component).unwrap();
        let func = instance.get_func(&store, &[export]).unwrap();
        let mut out = [Val::Bool(false)];
        let err = func.call(&mut store, &[], &mut out).expect_err(export);
        assert!(
            err.to_string().contains(message),
            "{export}: `{err}` should say `{message}`"
        );
        let again = func.call(&mut store, &[], &mut out).expect_err(export);
        assert!(
            again
                .to_string()
                .contains("cannot enter component instance"),
            "{again}"
        );
    }
}

#[test]
fn post_return_runs_after_the_result_is_read() {
    let engine = engine();
    let component = Component::new(&engine, BAD_VALUES).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new().instantiate(&mut store, &component).unwrap();
    let text = instance.get_func(&store, &["text"]).unwrap();
    let posts = instance.get_func(&store, &["posts"]).unwrap();
    let mut out = [Val::Bool(false)];
    for expected in 1..=3 {
        text.call(&mut store, &[], &mut out).unwrap();
        assert_eq!(out[0], Val::String(String::new()));
        posts.call(&mut store, &[], &mut out).unwrap();
        assert_eq!(out[0], Val::U32(expected));
    }
}
