//! Resources through the embedding API: a guest-defined resource created,
//! borrowed, passed back and dropped from the host (with its destructor);
//! a host-defined resource passed into a guest as borrows and owning
//! handles; generative resource types with one handle table per component
//! instance; calls from one component into another; and the traps for
//! misusing handles.

use super::{engine, store_for};
use cmc_runtime::Store;
use cmc_runtime::component::{Component, Instance, Linker, ResourceTypeId, ResourceVal, Val};
use std::sync::{Arc, Mutex};

fn compile(wat: &str) -> Component {
    Component::new(&engine(), wat).expect("component compiles")
}

/// Calls root export `name`; the result, if the function has one.
fn call(
    store: &mut Store<()>,
    instance: &Instance,
    name: &str,
    args: &[Val],
) -> Result<Option<Val>, cmc_runtime::Error> {
    call_at(store, instance, &[name], args)
}

/// Calls the export at `path`; the result, if the function has one.
fn call_at(
    store: &mut Store<()>,
    instance: &Instance,
    path: &[&str],
    args: &[Val],
) -> Result<Option<Val>, cmc_runtime::Error> {
    let func = instance.get_func(&*store, path).expect("export exists");
    let mut results = vec![Val::Bool(false); usize::from(func.ty(&*store).result.is_some())];
    func.call(&mut *store, args, &mut results)?;
    Ok(results.pop())
}

fn guest() -> (Store<()>, Instance) {
    let component = compile(include_str!("../../components/guest_resources.wat"));
    let mut store = Store::new(component.engine(), ());
    let instance = Linker::new().instantiate(&mut store, &component).unwrap();
    (store, instance)
}

fn resource(val: Option<Val>) -> ResourceVal {
    match val {
        Some(Val::Resource(r)) => r,
        other => panic!("expected a resource, got {other:?}"),
    }
}

#[test]
fn guest_resource_lifecycle() {
    let (mut store, instance) = guest();
    let c = resource(call(&mut store, &instance, "make", &[Val::U32(10)]).unwrap());
    assert!(c.own);
    // The host holds the representation the guest chose.
    assert_eq!(c.handle, 10);
    let borrow = Val::Resource(ResourceVal { own: false, ..c });
    assert_eq!(
        call(&mut store, &instance, "get", &[borrow]).unwrap(),
        Some(Val::U32(10))
    );
    assert_eq!(
        call(&mut store, &instance, "drops", &[]).unwrap(),
        Some(Val::U32(0))
    );
    // Passing the owning handle back moves it into the guest, which drops it.
    assert_eq!(
        call(&mut store, &instance, "consume", &[Val::Resource(c)]).unwrap(),
        Some(Val::U32(10))
    );
    assert_eq!(
        call(&mut store, &instance, "drops", &[]).unwrap(),
        Some(Val::U32(1))
    );
    // The host drops one it holds: the guest's destructor runs.
    let d = resource(call(&mut store, &instance, "make", &[Val::U32(20)]).unwrap());
    instance.resource_drop(&mut store, d).unwrap();
    assert_eq!(
        call(&mut store, &instance, "drops", &[]).unwrap(),
        Some(Val::U32(2))
    );
    assert_eq!(
        call(&mut store, &instance, "last", &[]).unwrap(),
        Some(Val::U32(20))
    );
    let e = instance
        .resource_drop(&mut store, ResourceVal { own: false, ..d })
        .unwrap_err();
    assert!(e.to_string().contains("only an owning handle"), "{e}");
}

#[test]
fn guest_handle_misuse_traps() {
    let cases = [
        ("drop-unknown", "unknown handle index 7"),
        (
            "wrong-type",
            "handle index 1 used with the wrong type, expected guest-defined resource but found a different guest-defined resource",
        ),
        ("double-drop", "unknown handle index 1"),
        ("return-bogus", "unknown handle index 99"),
    ];
    for (name, message) in cases {
        let (mut store, instance) = guest();
        let e = call(&mut store, &instance, name, &[]).unwrap_err();
        assert!(e.to_string().contains(message), "{name}: {e}");
    }
}

#[test]
fn handles_of_another_type_are_refused_before_the_call() {
    let (mut store, instance) = guest();
    let wrong = Val::Resource(ResourceVal {
        ty: ResourceTypeId::from_u32(1),
        own: true,
        handle: 1,
    });
    let e = call(&mut store, &instance, "consume", &[wrong]).unwrap_err();
    assert!(e.to_string().contains("type mismatch"), "{e}");
}

#[test]
fn each_instantiation_defines_its_own_type_and_table() {
    let component = compile(include_str!("../../components/nested_resources.wat"));
    let mut store = Store::new(component.engine(), ());
    let instance = Linker::new().instantiate(&mut store, &component).unwrap();
    let mut call = |path: &[&str], args: &[Val]| call_at(&mut store, &instance, path, args);
    let a1 = resource(call(&["a", "make"], &[Val::U32(1)]).unwrap());
    let b1 = resource(call(&["b", "make"], &[Val::U32(2)]).unwrap());
    assert_ne!(a1.ty, b1.ty, "resource types are generative");
    // Separate tables: both instances hand out index 1 first.
    assert_eq!(
        call(&["a", "hold"], &[Val::Resource(a1)]).unwrap(),
        Some(Val::U32(1))
    );
    assert_eq!(
        call(&["b", "hold"], &[Val::Resource(b1)]).unwrap(),
        Some(Val::U32(1))
    );
    let a2 = resource(call(&["a", "make"], &[Val::U32(3)]).unwrap());
    assert_eq!(
        call(&["a", "hold"], &[Val::Resource(a2)]).unwrap(),
        Some(Val::U32(2))
    );
    let a3 = resource(call(&["a", "make"], &[Val::U32(4)]).unwrap());
    let e = call(&["b", "hold"], &[Val::Resource(a3)]).unwrap_err();
    assert!(e.to_string().contains("type mismatch"), "{e}");
    // Dropping `a`'s resource runs `a`'s destructor only.
    instance.resource_drop(&mut store, a3).unwrap();
    let mut call = |path: &[&str], args: &[Val]| call_at(&mut store, &instance, path, args);
    assert_eq!(call(&["a", "drops"], &[]).unwrap(), Some(Val::U32(1)));
    assert_eq!(call(&["b", "drops"], &[]).unwrap(), Some(Val::U32(0)));
    // `d` imports `a`'s type: its handle table is its own, and dropping the
    // handle there runs `a`'s destructor.
    let a4 = call(&["a", "make"], &[Val::U32(5)]).unwrap().unwrap();
    assert_eq!(call(&["d", "take"], &[a4]).unwrap(), Some(Val::U32(1)));
    assert_eq!(call(&["a", "drops"], &[]).unwrap(), Some(Val::U32(2)));
    let b2 = call(&["b", "make"], &[Val::U32(6)]).unwrap().unwrap();
    assert!(call(&["d", "take"], &[b2]).is_err(), "`d` takes `a#r` only");
}

/// The host side of `host_resources.wat`: `host#file` with a destructor that
/// records what it freed.
struct Host {
    component: Component,
    linker: Linker<()>,
    file: ResourceTypeId,
    freed: Arc<Mutex<Vec<u32>>>,
}

fn host() -> Host {
    let component = compile(include_str!("../../components/host_resources.wat"));
    let file = component
        .resource_type(&["host", "file"])
        .expect("the component imports host#file");
    let freed = Arc::new(Mutex::new(Vec::new()));
    let mut linker = Linker::new();
    let log = freed.clone();
    linker
        .instance("host")
        .resource("file", move |_, rep| {
            log.lock().unwrap().push(rep);
            Ok(())
        })
        .func_new("read", |_, params, results| {
            let Val::Resource(f) = &params[0] else {
                panic!("read takes a file")
            };
            assert!(!f.own);
            results[0] = Val::U32(f.handle * 2);
            Ok(())
        })
        .func_new("both", |_, _, _| Ok(()))
        .func_new("open", move |_, params, results| {
            let Val::U32(n) = params[0] else {
                panic!("open takes a u32")
            };
            results[0] = Val::Resource(ResourceVal {
                ty: file,
                own: true,
                handle: n * 100,
            });
            Ok(())
        });
    Host {
        component,
        linker,
        file,
        freed,
    }
}

impl Host {
    fn instantiate(&self) -> (Store<()>, Instance) {
        let mut store = Store::new(self.component.engine(), ());
        let instance = self
            .linker
            .instantiate(&mut store, &self.component)
            .unwrap();
        (store, instance)
    }

    fn file(&self, own: bool, rep: u32) -> Val {
        Val::Resource(ResourceVal {
            ty: self.file,
            own,
            handle: rep,
        })
    }
}

#[test]
fn host_resource_in_a_guest() {
    let host = host();
    let (mut store, instance) = host.instantiate();
    // A borrow becomes a handle in the guest's table, which the guest lends
    // back to the host and then drops.
    assert_eq!(
        call(&mut store, &instance, "process", &[host.file(false, 21)]).unwrap(),
        Some(Val::U32(42))
    );
    // An owning handle moves into the guest's table (index 1, the borrow's
    // index having been freed).
    assert_eq!(
        call(&mut store, &instance, "keep", &[host.file(true, 7)]).unwrap(),
        Some(Val::U32(1))
    );
    assert_eq!(
        call(&mut store, &instance, "read-kept", &[]).unwrap(),
        Some(Val::U32(14))
    );
    assert!(host.freed.lock().unwrap().is_empty());
    // Dropping it in the guest runs the host's destructor.
    call(&mut store, &instance, "discard", &[]).unwrap();
    assert_eq!(*host.freed.lock().unwrap(), [7]);
    // A host function returns an owning handle the guest then drops.
    assert_eq!(
        call(&mut store, &instance, "open-and-drop", &[Val::U32(3)]).unwrap(),
        Some(Val::U32(1))
    );
    assert_eq!(*host.freed.lock().unwrap(), [7, 300]);
}

#[test]
fn host_resource_misuse_traps() {
    let host = host();
    let (mut store, instance) = host.instantiate();
    let e = call(&mut store, &instance, "forget", &[host.file(false, 5)]).unwrap_err();
    assert!(
        e.to_string()
            .contains("borrow handles still remain at the end of the call"),
        "{e}"
    );

    let (mut store, instance) = host.instantiate();
    call(&mut store, &instance, "keep", &[host.file(true, 8)]).unwrap();
    let e = call(&mut store, &instance, "move-while-lent", &[]).unwrap_err();
    assert!(
        e.to_string()
            .contains("cannot remove owned resource while borrowed"),
        "{e}"
    );
    // The trap poisoned the instance.
    let e = call(&mut store, &instance, "read-kept", &[]).unwrap_err();
    assert!(
        e.to_string().contains("cannot enter component instance"),
        "{e}"
    );
    assert!(host.freed.lock().unwrap().is_empty());
}

#[test]
fn host_resource_must_be_defined() {
    let host = host();
    let mut store = Store::new(host.component.engine(), ());
    let mut linker = Linker::new();
    linker.instance("host").func_new("file", |_, _, _| Ok(()));
    let e = linker
        .instantiate(&mut store, &host.component)
        .expect_err("instantiation fails");
    assert!(
        e.to_string()
            .contains("import `host#file` is a resource type, but the linker defines a function"),
        "{e}"
    );
}

#[test]
fn host_resource_through_a_nested_component() {
    let component = compile(
        r#"(component
          (import "host" (instance $host (export "file" (type (sub resource)))))
          (alias export $host "file" (type $file))
          (component $inner
            (import "file" (type $f (sub resource)))
            (core func $drop (canon resource.drop $f))
            (core module $m
              (import "" "drop" (func $drop (param i32)))
              (func (export "close") (param i32) (call $drop (local.get 0))))
            (core instance $m (instantiate $m (with "" (instance (export "drop" (func $drop))))))
            (func (export "close") (param "f" (own $f)) (canon lift (core func $m "close"))))
          (instance $i (instantiate $inner (with "file" (type $file))))
          (export "close" (func $i "close")))"#,
    );
    let file = component.resource_type(&["host", "file"]).unwrap();
    let freed = Arc::new(Mutex::new(Vec::new()));
    let log = freed.clone();
    let mut linker = Linker::new();
    linker.instance("host").resource("file", move |_, rep| {
        log.lock().unwrap().push(rep);
        Ok(())
    });
    let mut store = Store::new(component.engine(), ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let own = Val::Resource(ResourceVal {
        ty: file,
        own: true,
        handle: 9,
    });
    call(&mut store, &instance, "close", &[own]).unwrap();
    assert_eq!(*freed.lock().unwrap(), [9]);
}

#[test]
fn calls_between_components_move_handles_and_strings() {
    let component = compile(include_str!("../../components/component_calls.wat"));
    let mut store = Store::new(component.engine(), ());
    let instance = Linker::new().instantiate(&mut store, &component).unwrap();
    assert_eq!(
        call(&mut store, &instance, "run", &[]).unwrap(),
        Some(Val::U32(40 + 5 + u32::from(b'h') + 1))
    );
}

/// A host resource made by the host (`ResourceVal::host`) in one interface
/// and taken by a function of another interface that re-exports its type:
/// the two imports name one type, and both link to the host's definitions
/// of semver-compatible versions.
#[test]
fn host_resource_shared_by_two_interfaces_of_other_versions() {
    let component = compile(
        r#"(component
            (import "a:b/types@1.0.0" (instance $types
                (export "r" (type $r (sub resource)))
                (export "make" (func (param "v" u32) (result (own $r))))))
            (alias export $types "r" (type $r))
            (type $user_t (instance
                (alias outer 1 $r (type $outer_r))
                (export "r" (type $ur (eq $outer_r)))
                (export "take" (func (param "x" (own $ur)) (result u32)))))
            (import "a:b/user@1.0.0" (instance $user (type $user_t)))
            (core func $make (canon lower (func $types "make")))
            (core func $take (canon lower (func $user "take")))
            (core module $m
                (import "h" "make" (func $make (param i32) (result i32)))
                (import "h" "take" (func $take (param i32) (result i32)))
                (func (export "run") (result i32) (call $take (call $make (i32.const 7)))))
            (core instance $i (instantiate $m
                (with "h" (instance (export "make" (func $make)) (export "take" (func $take))))))
            (func (export "run") (result u32) (canon lift (core func $i "run"))))"#,
    );
    let mut linker = Linker::new();
    linker
        .instance("a:b/types@1.2.0")
        .resource("r", |_, _| Ok(()))
        .func_new("make", |_, params, results| {
            let Val::U32(v) = params[0] else {
                panic!("make takes a u32")
            };
            results[0] = Val::Resource(ResourceVal::host(v + 100));
            Ok(())
        });
    linker
        .instance("a:b/user@1.1.0")
        .func_new("take", |_, params, results| {
            let Val::Resource(r) = &params[0] else {
                panic!("take takes a handle")
            };
            results[0] = Val::U32(r.handle);
            Ok(())
        });
    let mut store = Store::new(component.engine(), ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    assert_eq!(
        call(&mut store, &instance, "run", &[]).unwrap(),
        Some(Val::U32(107))
    );
}

/// An import of an incompatible version is an instantiation error that
/// names it and the version the host has.
#[test]
fn incompatible_interface_versions_do_not_link() {
    let component = compile(
        r#"(component
            (import "a:b/f@0.3.0" (instance $f (export "f" (func))))
            (core func $f (canon lower (func $f "f")))
            (core module $m (import "h" "f" (func)))
            (core instance (instantiate $m (with "h" (instance (export "f" (func $f)))))))"#,
    );
    let mut linker = Linker::<()>::new();
    linker
        .instance("a:b/f@0.2.5")
        .func_new("f", |_, _, _| Ok(()));
    let mut store = Store::new(component.engine(), ());
    let err = linker
        .instantiate(&mut store, &component)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "unknown import: `a:b/f@0.3.0` has not been defined (the host has `a:b/f@0.2.5`, which is not semver-compatible)"
    );
}

/// Handles passed between components go through fused adapters: owning
/// handles move between the handle tables, borrows are lent for the call
/// (and become borrow handles of their own in an instance that does not
/// implement the type), with the same results and traps as the runtime's
/// adapters give.
#[test]
fn fused_adapters_move_and_lend_handles() {
    let component = compile(include_str!("../../components/fused_handles.wat"));
    // new, get, bump, drops and the two calls of `$mid` from `$user`, and
    // `get` from `$mid`.
    assert_eq!(component.adapter_counts(), (7, 0));
    let run = |intercepted: bool| {
        ["counters", "leak", "use-after-move"].map(|name| {
            // A trap poisons the instance: each call gets a fresh one.
            let mut store = store_for(&component, intercepted);
            let instance = Linker::new().instantiate(&mut store, &component).unwrap();
            let f = instance.get_func(&store, &["user", name]).unwrap();
            let mut out = [Val::U32(0)];
            f.call(&mut store, &[], &mut out)
                .map(|()| out[0].clone())
                .map_err(|e| e.to_string())
        })
    };
    let fused = run(false);
    assert_eq!(fused[0], Ok(Val::U32(506062)));
    let leak = fused[1].clone().unwrap_err();
    assert!(leak.contains("borrow handles still remain"), "{leak}");
    let moved = fused[2].clone().unwrap_err();
    assert!(moved.contains("unknown handle index"), "{moved}");
    assert_eq!(fused, run(true), "the runtime's adapters agree");
}
