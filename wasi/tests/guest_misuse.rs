//! A broken or hostile guest against the WASI host: dead handles and bad
//! pointers are canonical-ABI traps, huge requests do not make the host
//! allocate what was asked, `poll` reports only what is ready, and imports
//! the host does not serve fail to link with their names.

use cmc_runtime::component::{Component, Instance, Linker, Val};
use cmc_runtime::{Config, Error, Store};
use cmc_wasi::{MemoryOutputPipe, OutputSink, StdinSource, WasiCtx};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn guest(stdin: &[u8], stdout: &MemoryOutputPipe) -> (Store<WasiCtx>, Instance) {
    let engine = cmc_compiler::engine(Config::default());
    let component =
        Component::new(&engine, include_str!("guests/misuse.wat")).expect("the guest compiles");
    let mut linker = Linker::new();
    cmc_wasi::add_to_linker(&mut linker);
    let ctx = WasiCtx::builder()
        .stdin(StdinSource::Bytes(Arc::from(stdin)))
        .stdout(OutputSink::Pipe(stdout.clone()))
        .build();
    let mut store = Store::new(&engine, ctx);
    let instance = linker
        .instantiate(&mut store, &component)
        .expect("it links");
    (store, instance)
}

fn call(store: &mut Store<WasiCtx>, instance: &Instance, name: &str) -> Result<Option<Val>, Error> {
    let func = instance
        .get_func(&*store, &[name])
        .expect("the export exists");
    let mut results = vec![Val::Bool(false); usize::from(func.ty(&*store).result.is_some())];
    func.call(&mut *store, &[], &mut results)?;
    Ok(results.pop())
}

#[test]
fn a_good_write_arrives() {
    let out = MemoryOutputPipe::new();
    let (mut store, instance) = guest(b"", &out);
    // Result discriminant 0: `ok`.
    assert_eq!(
        call(&mut store, &instance, "write-ok").unwrap(),
        Some(Val::U32(0))
    );
    assert_eq!(out.contents(), b"hi\n");
}

#[test]
fn a_dead_handle_traps() {
    let out = MemoryOutputPipe::new();
    let (mut store, instance) = guest(b"", &out);
    let err = call(&mut store, &instance, "write-dead").unwrap_err();
    assert!(matches!(err, Error::Canon(_)), "{err}");
    assert!(err.to_string().contains("handle"), "{err}");
    assert!(out.contents().is_empty());
}

#[test]
fn bytes_outside_memory_trap() {
    let out = MemoryOutputPipe::new();
    let (mut store, instance) = guest(b"", &out);
    let err = call(&mut store, &instance, "write-out-of-bounds").unwrap_err();
    assert!(matches!(err, Error::Canon(_)), "{err}");
    assert!(out.contents().is_empty());
}

#[test]
fn a_huge_read_returns_what_the_host_bounds() {
    let input = vec![7; 200_000];
    let (mut store, instance) = guest(&input, &MemoryOutputPipe::new());
    let Some(Val::U32(n)) = call(&mut store, &instance, "read-huge").unwrap() else {
        panic!("read-huge returns a u32")
    };
    assert_eq!(n as usize, cmc_wasi::io::streams::MAX_READ);
}

#[test]
fn a_huge_random_request_fails_without_allocating() {
    let (mut store, instance) = guest(b"", &MemoryOutputPipe::new());
    let err = call(&mut store, &instance, "random-huge").unwrap_err();
    assert!(err.to_string().contains("bytes requested"), "{err}");
}

#[test]
fn poll_reports_only_the_ready_pollable() {
    let (mut store, instance) = guest(b"", &MemoryOutputPipe::new());
    let started = Instant::now();
    let result = call(&mut store, &instance, "poll-two").unwrap();
    let took = started.elapsed();
    // One ready, and it is the first (the 10 ms sleep).
    assert_eq!(result, Some(Val::U32(1 << 8)));
    assert!(took >= Duration::from_millis(10), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[test]
fn unserved_versions_and_interfaces_are_named() {
    let engine = cmc_compiler::engine(Config::default());
    let mut linker = Linker::<WasiCtx>::new();
    cmc_wasi::add_to_linker(&mut linker);
    for (import, expected) in [
        (
            "wasi:cli/environment@0.3.0",
            "unknown import: `wasi:cli/environment@0.3.0` has not been defined (the host has `wasi:cli/environment@0.2.12`, which is not semver-compatible)",
        ),
        (
            "wasi:http/types@0.2.0",
            "unknown import: `wasi:http/types@0.2.0` has not been defined",
        ),
    ] {
        let wat = format!(
            r#"(component (import "{import}" (instance (export "get-arguments" (func (result (list string)))))))"#
        );
        let component = Component::new(&engine, wat).unwrap();
        let mut store = Store::new(&engine, WasiCtx::builder().build());
        let err = linker.instantiate(&mut store, &component).unwrap_err();
        assert_eq!(err.to_string(), expected);
    }
}
