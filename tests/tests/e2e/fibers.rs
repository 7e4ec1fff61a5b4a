//! Async tasks on fibers of their own, seen from the host: a task that
//! resolves and then blocks hands its result back and stays blocked, a
//! store dropped with blocked tasks goes quietly, and a trap in a task
//! resumed on its fiber is the call's error and poisons the instance.

use super::instantiate_component;
use cmc_runtime::Store;
use cmc_runtime::component::{Instance, Val};

/// `park` resolves with 7 and then waits on a waitable set nothing will
/// ever fill; `yield-then-trap` yields and traps when resumed; `overflow`
/// recurses without end; `add` is a plain function of the same instance.
const TASKS: &str = r#"
(component
  (core module $Memory (memory (export "mem") 1))
  (core instance $memory (instantiate $Memory))
  (core module $M
    (import "" "mem" (memory 1))
    (import "" "task.return" (func $task.return (param i32)))
    (import "" "waitable-set.new" (func $waitable-set.new (result i32)))
    (import "" "waitable-set.wait" (func $waitable-set.wait (param i32 i32) (result i32)))
    (import "" "thread.yield" (func $thread.yield (result i32)))
    (func (export "park")
      (call $task.return (i32.const 7))
      (drop (call $waitable-set.wait (call $waitable-set.new) (i32.const 0)))
      unreachable)
    (func (export "yield-then-trap")
      (drop (call $thread.yield))
      unreachable)
    (func (export "add") (param i32 i32) (result i32)
      (i32.add (local.get 0) (local.get 1)))
    (func $recurse (param i32) (result i32)
      (i32.add (call $recurse (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
    (func (export "overflow")
      (drop (call $recurse (i32.const 0))))
  )
  (canon task.return (result u32) (core func $task.return))
  (canon waitable-set.new (core func $waitable-set.new))
  (canon waitable-set.wait (memory (core memory $memory "mem")) (core func $waitable-set.wait))
  (canon thread.yield (core func $thread.yield))
  (core instance $m (instantiate $M (with "" (instance
    (export "mem" (memory $memory "mem"))
    (export "task.return" (func $task.return))
    (export "waitable-set.new" (func $waitable-set.new))
    (export "waitable-set.wait" (func $waitable-set.wait))
    (export "thread.yield" (func $thread.yield))
  ))))
  (func (export "park") async (result u32) (canon lift (core func $m "park") async))
  (func (export "yield-then-trap") async (canon lift (core func $m "yield-then-trap") async))
  (func (export "add") (param "a" u32) (param "b" u32) (result u32)
    (canon lift (core func $m "add")))
  (func (export "overflow") async (canon lift (core func $m "overflow") async))
)
"#;

fn instance() -> (Store<()>, Instance) {
    instantiate_component(TASKS)
}

fn call(
    store: &mut Store<()>,
    instance: &Instance,
    name: &str,
    args: &[Val],
    results: usize,
) -> Result<Vec<Val>, cmc_runtime::Error> {
    let func = instance.get_func(&*store, &[name]).expect("export exists");
    let mut out = vec![Val::Bool(false); results];
    func.call(&mut *store, args, &mut out)?;
    Ok(out)
}

#[test]
fn a_task_that_blocks_after_resolving_returns_and_stays_blocked() {
    let (mut store, instance) = instance();
    for _ in 0..3 {
        assert_eq!(
            call(&mut store, &instance, "park", &[], 1).unwrap(),
            [Val::U32(7)]
        );
    }
    let sum = call(&mut store, &instance, "add", &[Val::U32(2), Val::U32(3)], 1).unwrap();
    assert_eq!(sum, [Val::U32(5)]);
    // The three blocked tasks' stacks go with the store.
    drop(store);
}

#[test]
fn a_trap_in_a_resumed_task_is_the_calls_error() {
    let (mut store, instance) = instance();
    let err = call(&mut store, &instance, "yield-then-trap", &[], 0).unwrap_err();
    assert!(err.to_string().contains("unreachable"), "{err}");
    assert_poisoned(&mut store, &instance);
}

/// Asserts that a trap poisoned `instance`, and that a new instance in the
/// same store works.
fn assert_poisoned(store: &mut Store<()>, instance: &Instance) {
    let err = call(store, instance, "add", &[Val::U32(1), Val::U32(1)], 1).unwrap_err();
    assert!(
        err.to_string().contains("cannot enter component instance"),
        "{err}"
    );
    let (mut fresh, instance) = super::instantiate_component(TASKS);
    let sum = call(&mut fresh, &instance, "add", &[Val::U32(1), Val::U32(1)], 1).unwrap();
    assert_eq!(sum, [Val::U32(2)]);
    assert_eq!(
        call(&mut fresh, &instance, "park", &[], 1).unwrap(),
        [Val::U32(7)]
    );
}

#[test]
fn a_task_that_exhausts_its_fibers_stack_traps() {
    let (mut store, instance) = instance();
    let err = call(&mut store, &instance, "overflow", &[], 0).unwrap_err();
    assert!(err.to_string().contains("stack"), "{err}");
    assert_poisoned(&mut store, &instance);
}

/// `run` makes thread T (which sets `$g` to 1, yields, then sets it to 2)
/// and promotes it three times with `thread.yield-then-promote`: while T
/// is suspended (never resumed yet) the promote only yields, and T does
/// not run; once `thread.resume-later` made it ready, the promote switches
/// to it (to its yield), and once more (to its end). The result is the
/// three values of `$g` seen after each promote, as decimal digits.
const PROMOTE: &str = r#"
(component
  (core module $Table (table (export "t") 1 funcref))
  (core instance $table (instantiate $Table))
  (core module $M
    (import "" "t" (table 1 funcref))
    (import "" "task.return" (func $task.return (param i32)))
    (import "" "new" (func $new (param i32 i32) (result i32)))
    (import "" "resume-later" (func $resume-later (param i32)))
    (import "" "yield" (func $yield (result i32)))
    (import "" "promote" (func $promote (param i32) (result i32)))
    (global $g (mut i32) (i32.const 0))
    (func $t (param i32)
      (global.set $g (i32.const 1))
      (drop (call $yield))
      (global.set $g (i32.const 2)))
    (elem (table 0) (i32.const 0) func $t)
    (func (export "run")
      (local $t i32) (local $seen i32)
      (local.set $t (call $new (i32.const 0) (i32.const 0)))
      (drop (call $promote (local.get $t)))
      (local.set $seen (global.get $g))
      (call $resume-later (local.get $t))
      (drop (call $promote (local.get $t)))
      (local.set $seen (i32.add (i32.mul (local.get $seen) (i32.const 10)) (global.get $g)))
      (drop (call $promote (local.get $t)))
      (local.set $seen (i32.add (i32.mul (local.get $seen) (i32.const 10)) (global.get $g)))
      (call $task.return (local.get $seen))))
  (core type $start (func (param i32)))
  (alias core export $table "t" (core table $t))
  (core func $new (canon thread.new-indirect $start (core table $t)))
  (canon task.return (result u32) (core func $task.return))
  (canon thread.resume-later (core func $resume-later))
  (canon thread.yield (core func $yield))
  (canon thread.yield-then-promote (core func $promote))
  (core instance $m (instantiate $M (with "" (instance
    (export "t" (table $t))
    (export "task.return" (func $task.return))
    (export "new" (func $new))
    (export "resume-later" (func $resume-later))
    (export "yield" (func $yield))
    (export "promote" (func $promote))))))
  (func (export "run") async (result u32) (canon lift (core func $m "run") async))
)
"#;

#[test]
fn a_promote_switches_to_a_ready_thread_and_only_yields_otherwise() {
    let (mut store, instance) = instantiate_component(PROMOTE);
    let out = call(&mut store, &instance, "run", &[], 1).unwrap();
    assert_eq!(out, [Val::U32(12)]);
}
