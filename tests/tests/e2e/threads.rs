//! A shared memory driven from two host threads: each thread has its own
//! store and instance, both run in the same memory at once, atomic
//! read-modify-writes lose no update, and `memory.atomic.wait` in one thread
//! is woken by `memory.atomic.notify` in the other.

use super::engine;
use cmc_runtime::abi::{Limits, MemoryType};
use cmc_runtime::{Linker, Memory, Module, SharedMemory, Store, Val};
use std::sync::atomic::{AtomicU32, Ordering};

const WAT: &str = r#"(module
    (import "env" "memory" (memory 1 1 shared))
    (func (export "add") (param $n i32)
        (loop $l
            (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
            (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
    (func (export "wait") (result i32)
        (memory.atomic.wait32 (i32.const 8) (i32.const 0) (i64.const -1)))
    (func (export "notify") (result i32)
        (memory.atomic.notify (i32.const 8) (i32.const 1))))"#;

/// Runs `export` with `args` in a new store of `module` that imports
/// `shared`, on its own thread.
fn spawn(
    module: &Module,
    shared: &SharedMemory,
    export: &'static str,
    args: Vec<Val>,
) -> std::thread::JoinHandle<Vec<Val>> {
    let (module, shared) = (module.clone(), shared.clone());
    std::thread::spawn(move || {
        let mut store = Store::new(module.engine(), ());
        let memory = Memory::from_shared(&mut store, &shared).unwrap();
        let mut linker = Linker::new();
        linker.define("env", "memory", memory);
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let func = instance.get_func(&store, export).unwrap();
        let mut results = vec![Val::I32(0); func.ty(&store).results.len()];
        func.call(&mut store, &args, &mut results).unwrap();
        results
    })
}

fn shared_memory() -> (Module, SharedMemory) {
    let engine = engine();
    let module = Module::new(&engine, WAT).unwrap();
    let ty = MemoryType {
        limits: Limits {
            min: 1,
            max: Some(1),
        },
        shared: true,
        memory64: false,
        page_size_log2: 16,
    };
    (module, SharedMemory::new(&engine, ty).unwrap())
}

/// The `u32` at `offset` of `shared`, read atomically.
fn word(shared: &SharedMemory, offset: usize) -> u32 {
    let cells = &shared.data()[offset..offset + 4];
    // SAFETY: the four cells are in bounds and 4-aligned (offset is), and
    // every access to them is atomic.
    unsafe { AtomicU32::from_ptr(cells.as_ptr().cast_mut().cast()) }.load(Ordering::SeqCst)
}

#[test]
fn two_threads_add_atomically_to_one_shared_memory() {
    let (module, shared) = shared_memory();
    let n = 2_000_000;
    let threads: Vec<_> = (0..2)
        .map(|_| spawn(&module, &shared, "add", vec![Val::I32(n)]))
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(word(&shared, 0), 2 * n as u32);
}

#[test]
fn a_wait_in_one_thread_is_woken_by_a_notify_in_another() {
    let (module, shared) = shared_memory();
    let waiter = spawn(&module, &shared, "wait", Vec::new());
    // Notify until the waiter has queued and been woken (0: "ok").
    let notifier = spawn(&module, &shared, "notify", Vec::new());
    let mut woken = notifier.join().unwrap();
    while woken == [Val::I32(0)] {
        std::thread::yield_now();
        woken = spawn(&module, &shared, "notify", Vec::new())
            .join()
            .unwrap();
    }
    assert_eq!(woken, [Val::I32(1)]);
    assert_eq!(waiter.join().unwrap(), [Val::I32(0)]);
}

#[test]
fn a_shared_memory_needs_a_shared_type_and_lends_no_slice() {
    let (module, shared) = shared_memory();
    let unshared = MemoryType {
        shared: false,
        ..shared.ty()
    };
    assert!(SharedMemory::new(module.engine(), unshared).is_err());
    let mut store = Store::new(module.engine(), ());
    let memory = Memory::from_shared(&mut store, &shared).unwrap();
    assert!(memory.is_shared_between_stores(&store));
    assert!(memory.data(&store).is_empty());
    assert_eq!(shared.data().len(), 65536);
}
