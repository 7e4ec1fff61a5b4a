//! Components through the embedding API: lifted exports called by the host,
//! and host imports lowered into the component.

use super::engine;
use cmc_runtime::Store;
use cmc_runtime::component::{Component, Linker, Val};

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
