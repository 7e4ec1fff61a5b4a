//! Async host functions (`LinkerInstance::func_new_async`) called from a
//! component every way it can lower them (`tests/components/host_async.wat`):
//! futures completed by another thread while the event loop parks, futures
//! ready at once, a synchronous caller that waits on the thread, a task
//! that blocks, a cancelled subtask whose future is dropped, a synchronous
//! host function lowered `async`, and futures that fail.

use super::engine;
use cmc_runtime::component::{Component, HostFuture, Instance, Linker, Val};
use cmc_runtime::{Error, Store};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// A reply that another thread sends later, and the waker to tell.
#[derive(Default)]
struct Slot {
    value: Option<u32>,
    waker: Option<Waker>,
}

/// The future of a reply that a thread sends after a short sleep.
struct Reply(Arc<Mutex<Slot>>);

impl Future for Reply {
    type Output = Result<Option<Val>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut slot = self.0.lock().unwrap();
        match slot.value {
            Some(value) => Poll::Ready(Ok(Some(Val::U32(value)))),
            None => {
                slot.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// `value`, sent by another thread in a millisecond.
fn reply_later(value: u32) -> HostFuture {
    let slot = Arc::new(Mutex::new(Slot::default()));
    let sender = slot.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1));
        let mut slot = sender.lock().unwrap();
        slot.value = Some(value);
        if let Some(waker) = slot.waker.take() {
            waker.wake();
        }
    });
    Box::pin(Reply(slot))
}

/// Sets its flag when dropped.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// What the host saw: how many calls of `slow` started, and whether the
/// future of `never` was dropped.
#[derive(Clone, Default)]
struct Seen {
    slow_calls: Arc<AtomicUsize>,
    never_dropped: Arc<AtomicBool>,
}

/// `slow(x)`: `x * 10`, sent by another thread, except that `slow(0)` is
/// ready at once with 100, `slow(13)` fails at once, `slow(15)` fails
/// after waiting, `slow(14)` returns a string, `slow(16)` never completes
/// (and drops its waker) and `slow(17)` panics after waiting. `never` never completes; `now(x)` is a synchronous `x + 5`.
fn linker(seen: &Seen) -> Linker<()> {
    let mut linker = Linker::new();
    let slow = |seen: Seen| {
        move |_: cmc_runtime::Caller<'_, ()>, args: &[Val]| -> Result<HostFuture, Error> {
            seen.slow_calls.fetch_add(1, Ordering::SeqCst);
            let [Val::U32(x)] = args else {
                panic!("slow takes a u32, got {args:?}")
            };
            Ok(match *x {
                0 => Box::pin(std::future::ready(Ok(Some(Val::U32(100))))),
                13 => Box::pin(async { Err(Error::Host("thirteen".into())) }),
                15 => Box::pin(async {
                    reply_later(1).await?;
                    Err(Error::Host("fifteen, late".into()))
                }),
                14 => Box::pin(std::future::ready(Ok(Some(Val::String("no".into()))))),
                16 => Box::pin(std::future::pending()),
                17 => Box::pin(async {
                    reply_later(1).await?;
                    panic!("seventeen")
                }),
                x => reply_later(x * 10),
            })
        }
    };
    let never = seen.never_dropped.clone();
    let mut root = linker.root();
    root.func_new_async("slow", slow(seen.clone()))
        .func_new_async("slow-async", slow(seen.clone()))
        .func_new_async("never", move |_, _| {
            let flag = DropFlag(never.clone());
            Ok(Box::pin(async move {
                let _flag = flag;
                std::future::pending::<()>().await;
                Ok(None)
            }))
        })
        .func_new("now", |_, args, results| {
            let [Val::U32(x)] = args else {
                panic!("now takes a u32, got {args:?}")
            };
            results[0] = Val::U32(x + 5);
            Ok(())
        });
    linker
}

fn instance(seen: &Seen) -> (Store<()>, Instance) {
    let wat = include_str!("../../components/host_async.wat");
    let component = Component::new(&engine(), wat).expect("component compiles");
    let mut store = Store::new(component.engine(), ());
    let instance = linker(seen)
        .instantiate(&mut store, &component)
        .expect("component instantiates");
    (store, instance)
}

fn call(
    store: &mut Store<()>,
    instance: &Instance,
    name: &str,
    args: &[Val],
) -> Result<Val, Error> {
    super::call_component(store, instance, name, args)
}

#[test]
fn an_async_lower_waits_for_a_future_another_thread_completes() {
    let seen = Seen::default();
    let (mut store, instance) = instance(&seen);
    for x in [3, 4, 5] {
        let got = call(&mut store, &instance, "run-async", &[Val::U32(x)]).unwrap();
        // It waited: the call returned `STARTED`.
        assert_eq!(got, Val::U32(1000 + x * 10 + 1));
    }
    assert_eq!(seen.slow_calls.load(Ordering::SeqCst), 3);
}

#[test]
fn two_host_calls_in_flight_complete_in_any_order() {
    let seen = Seen::default();
    let (mut store, instance) = instance(&seen);
    for _ in 0..20 {
        let got = call(&mut store, &instance, "run-two", &[Val::U32(6)]).unwrap();
        assert_eq!(got, Val::U32(60 + 70));
    }
    assert_eq!(seen.slow_calls.load(Ordering::SeqCst), 40);
}

#[test]
fn typed_calls_of_async_exports_run_through_the_event_loop() {
    let (mut store, instance) = instance(&Seen::default());
    let func = instance.get_func(&store, &["run-async"]).unwrap();
    let typed = func.typed::<(u32,), (u32,)>(&store).unwrap();
    assert_eq!(typed.call(&mut store, (8,)).unwrap(), (1081,));
    let wrong = func.typed::<(u32,), (String,)>(&store).err().unwrap();
    assert!(wrong.to_string().contains("has type"), "{wrong}");
}

#[test]
fn a_future_ready_at_once_returns_without_a_subtask() {
    let (mut store, instance) = instance(&Seen::default());
    let got = call(&mut store, &instance, "run-async", &[Val::U32(0)]).unwrap();
    assert_eq!(got, Val::U32(101));
}

#[test]
fn a_synchronous_function_waits_for_the_future_on_the_thread() {
    let (mut store, instance) = instance(&Seen::default());
    for x in [0, 7] {
        let got = call(&mut store, &instance, "run-sync", &[Val::U32(x)]).unwrap();
        let expected = if x == 0 { 101 } else { x * 10 + 1 };
        assert_eq!(got, Val::U32(expected));
    }
}

#[test]
fn an_async_task_blocks_in_a_synchronous_lower_of_an_async_host_function() {
    let (mut store, instance) = instance(&Seen::default());
    let got = call(&mut store, &instance, "run-blocking", &[Val::U32(9)]).unwrap();
    assert_eq!(got, Val::U32(91));
}

#[test]
fn cancelling_the_subtask_drops_the_future() {
    let seen = Seen::default();
    let (mut store, instance) = instance(&seen);
    let got = call(&mut store, &instance, "cancel-never", &[]).unwrap();
    // CANCELLED_BEFORE_RETURNED.
    assert_eq!(got, Val::U32(4));
    assert!(seen.never_dropped.load(Ordering::SeqCst));
}

#[test]
fn a_synchronous_host_function_lowered_async_returns_at_once() {
    let (mut store, instance) = instance(&Seen::default());
    let got = call(&mut store, &instance, "now-async", &[Val::U32(2)]).unwrap();
    assert_eq!(got, Val::U32(7));
}

#[test]
fn a_failing_or_ill_typed_future_is_the_calls_error() {
    for export in ["run-async", "run-sync", "run-blocking"] {
        let (mut store, component) = instance(&Seen::default());
        let err = call(&mut store, &component, export, &[Val::U32(13)]).unwrap_err();
        assert_eq!(err.to_string(), "thirteen", "{export}");
        let (mut store, component) = instance(&Seen::default());
        let err = call(&mut store, &component, export, &[Val::U32(14)]).unwrap_err();
        assert!(err.to_string().contains("string"), "{export}: {err}");
        let (mut store, component) = instance(&Seen::default());
        let err = call(&mut store, &component, export, &[Val::U32(15)]).unwrap_err();
        assert_eq!(err.to_string(), "fifteen, late", "{export}");
        // The failed call poisoned the instance.
        let err = call(&mut store, &component, export, &[Val::U32(3)]).unwrap_err();
        assert!(err.to_string().contains("cannot enter"), "{export}: {err}");
    }
}

/// Counts each call's `before` and `after` by callee.
#[derive(Clone, Default)]
struct Counter(Arc<Mutex<Vec<String>>>);

impl cmc_runtime::component::Interceptor for Counter {
    fn before(&mut self, call: cmc_runtime::component::Call<'_>, _: &[Val]) {
        self.0.lock().unwrap().push(format!("before {}", call.name));
    }

    fn after(
        &mut self,
        call: cmc_runtime::component::Call<'_>,
        result: Result<Option<&Val>, &Error>,
    ) {
        let outcome = match result {
            Ok(v) => format!("{v:?}"),
            Err(e) => e.to_string(),
        };
        self.0
            .lock()
            .unwrap()
            .push(format!("after {} {outcome}", call.name));
    }
}

#[test]
fn an_interceptor_sees_async_host_calls_end_when_their_futures_do() {
    let wat = include_str!("../../components/host_async.wat");
    let component = Component::new(&engine(), wat).unwrap();
    let mut store = Store::new(component.engine(), ());
    let counter = Counter::default();
    store.intercept_calls(counter.clone());
    let instance = linker(&Seen::default())
        .instantiate(&mut store, &component)
        .unwrap();
    call(&mut store, &instance, "run-async", &[Val::U32(2)]).unwrap();
    call(&mut store, &instance, "cancel-never", &[]).unwrap();
    // A synchronous caller that waits shows its call's end once.
    call(&mut store, &instance, "run-blocking", &[Val::U32(2)]).unwrap();
    let events = counter.0.lock().unwrap().clone();
    assert_eq!(
        events,
        [
            "before run-async",
            "before slow-async",
            "after slow-async Some(U32(20))",
            "after run-async Some(U32(1021))",
            "before cancel-never",
            "before never",
            "after never the call was cancelled",
            "after cancel-never Some(U32(4))",
            "before run-blocking",
            "before slow-async",
            "after slow-async Some(U32(20))",
            "after run-blocking Some(U32(21))",
        ]
    );
}

/// The linker of [`linker`] with `slow` and `slow-async` defined with Rust
/// types (`func_wrap_async`).
fn typed_linker() -> Linker<()> {
    let mut linker = linker(&Seen::default());
    let slow = |_: cmc_runtime::Caller<'_, ()>, (x,): (u32,)| {
        Ok(async move {
            match reply_later(x * 10).await? {
                Some(Val::U32(v)) => Ok((v,)),
                other => panic!("reply_later sends a u32, got {other:?}"),
            }
        })
    };
    linker
        .root()
        .func_wrap_async("slow", slow)
        .func_wrap_async("slow-async", slow);
    linker
}

#[test]
fn typed_async_host_functions_are_checked_at_instantiation_and_called() {
    let wat = include_str!("../../components/host_async.wat");
    let component = Component::new(&engine(), wat).unwrap();
    let mut store = Store::new(component.engine(), ());
    let instance = typed_linker().instantiate(&mut store, &component).unwrap();
    for (export, expected) in [("run-async", 1031), ("run-sync", 31), ("run-blocking", 31)] {
        let got = call(&mut store, &instance, export, &[Val::U32(3)]).unwrap();
        assert_eq!(got, Val::U32(expected), "{export}");
    }
    // Rust types that do not fit the import's are a link error.
    let mut linker = linker(&Seen::default());
    let wrong =
        |_: cmc_runtime::Caller<'_, ()>, (s,): (String,)| Ok(async move { Ok((s.len() as u32,)) });
    linker.root().func_wrap_async("slow", wrong);
    let mut store = Store::new(component.engine(), ());
    let err = linker
        .instantiate(&mut store, &component)
        .unwrap_err()
        .to_string();
    assert!(err.contains("import `slow`"), "{err}");
}

/// A wait for a future that can never complete (it kept no waker, as
/// `std::future::pending` does) is a deadlock, not a hang: whether the
/// guest waits on the thread (a synchronous lower) or in the event loop.
#[test]
fn a_wait_for_a_future_that_cannot_wake_is_a_deadlock() {
    for export in ["run-sync", "run-async"] {
        let (mut store, instance) = instance(&Seen::default());
        let err = call(&mut store, &instance, export, &[Val::U32(16)]).unwrap_err();
        assert!(err.to_string().contains("deadlock"), "{export}: {err}");
    }
}

/// A future that panics when polled again goes on panicking into the host
/// once, and the instance refuses every call after it (the future is
/// never polled again).
#[test]
fn a_future_that_panics_later_poisons_the_instance() {
    let (mut store, instance) = instance(&Seen::default());
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        call(&mut store, &instance, "run-async", &[Val::U32(17)])
    }));
    let panic = panicked.expect_err("the future's panic reaches the host");
    assert_eq!(panic.downcast_ref::<&str>(), Some(&"seventeen"));
    for export in ["run-async", "run-sync"] {
        let err = call(&mut store, &instance, export, &[Val::U32(2)]).unwrap_err();
        assert!(
            err.to_string().contains("cannot enter component instance"),
            "{export}: {err}"
        );
    }
}
