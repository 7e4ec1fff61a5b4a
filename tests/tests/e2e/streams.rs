//! Streams through the embedding API: a readable end the host received
//! from one export and passes into another, the copy that meets the write
//! pending behind it, and the errors of misusing stream values; and
//! between two components: ten MiB in chunks, and a subtask cancelled
//! while its read is in progress.

use super::instantiate_component;
use cmc_runtime::Store;
use cmc_runtime::component::{Component, Instance, Linker, Val};

/// `new` makes a stream of bytes whose write of `0x12345678` waits for a
/// reader and returns the readable end; `take` reads four bytes from the
/// stream it is given and returns them as a `u32` (or traps unless the
/// read completed with all four).
const STREAMS: &str = r#"
(component
  (core module $Memory (memory (export "mem") 1))
  (core instance $memory (instantiate $Memory))
  (core module $M
    (import "" "mem" (memory 1))
    (import "" "stream.new" (func $stream.new (result i64)))
    (import "" "stream.read" (func $stream.read (param i32 i32 i32) (result i32)))
    (import "" "stream.write" (func $stream.write (param i32 i32 i32) (result i32)))
    (func (export "new") (result i32)
      (local $ends i64)
      (local.set $ends (call $stream.new))
      (i32.store (i32.const 8) (i32.const 0x12345678))
      (if (i32.ne (i32.const -1 (; BLOCKED ;))
            (call $stream.write (i32.wrap_i64 (i64.shr_u (local.get $ends) (i64.const 32)))
              (i32.const 8) (i32.const 4)))
        (then unreachable))
      (i32.wrap_i64 (local.get $ends)))
    (func (export "take") (param $rx i32) (result i32)
      (if (i32.ne (i32.const 0x40 (; COMPLETED | 4 << 4 ;))
            (call $stream.read (local.get $rx) (i32.const 16) (i32.const 4)))
        (then unreachable))
      (i32.load (i32.const 16)))
  )
  (type $ST (stream u8))
  (canon stream.new $ST (core func $stream.new))
  (canon stream.read $ST async (memory (core memory $memory "mem")) (core func $stream.read))
  (canon stream.write $ST async (memory (core memory $memory "mem")) (core func $stream.write))
  (core instance $m (instantiate $M (with "" (instance
    (export "mem" (memory $memory "mem"))
    (export "stream.new" (func $stream.new))
    (export "stream.read" (func $stream.read))
    (export "stream.write" (func $stream.write))
  ))))
  (func (export "new") (result (stream u8)) (canon lift (core func $m "new")))
  (func (export "take") (param "s" (stream u8)) (result u32) (canon lift (core func $m "take")))
)
"#;

fn instance() -> (Store<()>, Instance) {
    instantiate_component(STREAMS)
}

fn call(
    store: &mut Store<()>,
    instance: &Instance,
    name: &str,
    args: &[Val],
) -> Result<Val, cmc_runtime::Error> {
    let func = instance.get_func(&*store, &[name]).expect("export exists");
    let mut results = vec![Val::Bool(false)];
    func.call(&mut *store, args, &mut results)?;
    Ok(results.remove(0))
}

#[test]
fn a_readable_end_passed_through_the_host_reads_the_pending_write() {
    let (mut store, instance) = instance();
    let stream = call(&mut store, &instance, "new", &[]).unwrap();
    assert!(matches!(stream, Val::Stream(_)), "got {stream:?}");
    let read = call(&mut store, &instance, "take", &[stream]).unwrap();
    assert_eq!(read, Val::U32(0x1234_5678));
}

#[test]
fn a_readable_end_is_lowered_once_and_only_into_its_own_instance() {
    let (mut store, instance) = instance();
    let stream = call(&mut store, &instance, "new", &[]).unwrap();
    call(&mut store, &instance, "take", std::slice::from_ref(&stream)).unwrap();
    // The component holds the end now: the host's copy of the value no
    // longer names an end in flight.
    let again = call(&mut store, &instance, "take", &[stream]).unwrap_err();
    assert!(again.to_string().contains("not a readable end"), "{again}");
    // A stream of another instance (of the same component, in the same
    // store) is refused: a value names its instance.
    let component = Component::new(store.engine(), STREAMS).unwrap();
    let other = Linker::new().instantiate(&mut store, &component).unwrap();
    let theirs = call(&mut store, &other, "new", &[]).unwrap();
    let err = call(&mut store, &instance, "take", std::slice::from_ref(&theirs)).unwrap_err();
    assert!(
        err.to_string().contains("another component instance"),
        "{err}"
    );
    // A future is not a stream.
    let Val::Stream(shared) = call(&mut store, &instance, "new", &[]).unwrap() else {
        panic!("`new` returns a stream")
    };
    let wrong = call(&mut store, &instance, "take", &[Val::Future(shared)]).unwrap_err();
    assert!(wrong.to_string().contains("stream"), "{wrong}");
}

/// Ten MiB through a `stream<u8>` between two components, in reads that
/// split the writer's chunks (partial copies) and in reads of a whole
/// chunk: every byte arrives, in order (their sum checks the pattern).
#[test]
fn ten_mebibytes_stream_between_two_components_in_chunks() {
    let (mut store, instance) =
        super::instantiate_component(include_str!("../../components/stream_chunks.wat"));
    let chunks = 160u32;
    let pattern: u64 = (0..65536u64).map(|k| k % 251).sum();
    let expected = (u64::from(chunks) * 65536) << 32 | (u64::from(chunks) * pattern);
    for size in [10_007u32, 65_536] {
        let got = call(
            &mut store,
            &instance,
            "run",
            &[Val::U32(chunks), Val::U32(size)],
        )
        .unwrap();
        assert_eq!(got, Val::U64(expected), "reads of {size} bytes");
    }
}

/// A subtask cancelled while its stream read is in progress: it gets
/// `TASK_CANCELLED`, cancels the read, and the caller's `subtask.cancel`
/// reports `CANCELLED_BEFORE_RETURNED`; the caller's write then finds the
/// stream dropped. The run can be repeated in the same instance.
#[test]
fn a_subtask_cancelled_mid_copy_cancels_its_read_and_resolves_cancelled() {
    let (mut store, instance) =
        super::instantiate_component(include_str!("../../components/cancel_mid_copy.wat"));
    for _ in 0..3 {
        assert_eq!(
            call(&mut store, &instance, "run", &[]).unwrap(),
            Val::U32(4)
        );
    }
}
