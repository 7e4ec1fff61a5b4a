//! Async host functions ([`LinkerInstance::func_new_async`]): host imports
//! whose result is a Rust future, which the store's event loop polls.
//!
//! The host function runs when the component calls it, with the store in
//! hand, and returns a future that completes without it (a timer, a reply
//! from another thread, a channel). If the future is ready when first
//! polled, the call returns at once, however it was lowered. Otherwise:
//! - an async lower gets a subtask (`STARTED`); the result is lowered into
//!   the caller's memory when the future completes, and the subtask reports
//!   `RETURNED`. `subtask.cancel` drops the future (`CANCELLED_BEFORE_
//!   RETURNED`), which is how Rust cancels work.
//! - a synchronous lower from a task that may block blocks that task:
//!   others run meanwhile, as for a synchronous lower of an async guest
//!   function.
//! - a synchronous lower from a task that may not block (a synchronous
//!   function's) waits on the thread: no other guest code runs, as when a
//!   synchronous host function takes long.
//!
//! The event loop polls the futures whose waker fired. When nothing else
//! can run it parks the thread until a waker fires, so a future that
//! another thread completes is waited for without spinning; with no future
//! pending either, nothing can ever run and the loop reports the deadlock.
//!
//! [`LinkerInstance::func_new_async`]: super::LinkerInstance::func_new_async

use super::context::{Cx, Delivery, RelayedStrings};
use super::event_loop::next_turn;
use super::intercept::{Call, CallKind};
use crate::api::Error;
use crate::api::store::StoreOpaque;
use crate::canon::waitables::SubtaskState;
use crate::canon::{CanonError, Lowering, Val, lower_results_as};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;

/// What an async host function returns: the future of its result (`None`
/// for a function without one).
///
/// The event loop parks the thread until the waker it gives the future
/// fires. A future that returns `Pending` without keeping the waker (as
/// `std::future::pending` does) can never be woken: a wait for it is a
/// deadlock, the error the spec's `waitable-set.wait` gives when nothing
/// can happen. A future that panics is never polled again: the panic goes
/// on to the host, and the component instance refuses every call after it,
/// as after a trap.
pub type HostFuture = Pin<Box<dyn Future<Output = Result<Option<Val>, Error>> + Send + 'static>>;

/// An async host call whose future was not ready yet.
pub(crate) struct HostTask {
    /// Its number, from the instance's task numbers: a waiting caller
    /// finds its result under it in the instance's `results`.
    id: u64,
    future: HostFuture,
    /// Set when the future's waker fires: it may have progressed.
    wakeup: Arc<Wakeup>,
    /// Where the result goes.
    target: Target,
    /// The import's path, for the store's interceptor, which saw the call
    /// start and sees it end when the future completes.
    name: Arc<str>,
    /// When it was polled last, in turns of the instance's suspensions:
    /// woken host calls take turns with the tasks that yielded, so a future
    /// that wakes itself at once starves no guest task.
    since: u64,
}

/// Where a host task's result goes.
pub(super) enum Target {
    /// Into the memory of the async lower's caller, whose subtask (its
    /// handle) then reports `RETURNED`.
    Subtask(u32, Delivery),
    /// To the synchronous caller that waits for it, through the instance's
    /// `results`.
    Waiter,
}

/// A waker's state: whether it fired, and the thread to unpark (the one
/// that runs the event loop: a store may move between threads).
struct Wakeup {
    woken: AtomicBool,
    thread: Mutex<Thread>,
}

impl Wake for Wakeup {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.thread
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .unpark();
    }
}

/// Polls `future` once with a new waker for this thread, which it returns.
fn poll(future: &mut HostFuture) -> (Poll<Result<Option<Val>, Error>>, Arc<Wakeup>) {
    let wakeup = Arc::new(Wakeup {
        woken: AtomicBool::new(false),
        thread: Mutex::new(std::thread::current()),
    });
    let waker = Waker::from(wakeup.clone());
    let poll = future.as_mut().poll(&mut Context::from_waker(&waker));
    (poll, wakeup)
}

/// Polls `future` until it completes, parking the thread between polls:
/// the wait of a caller that may not let other tasks run.
pub(super) fn block_on(mut future: HostFuture) -> Result<Option<Val>, Error> {
    loop {
        let (poll, wakeup) = poll(&mut future);
        if let Poll::Ready(result) = poll {
            return result;
        }
        while !wakeup.woken.load(Ordering::Acquire) {
            if !may_wake(&wakeup) {
                return Err(CanonError::Deadlock.into());
            }
            std::thread::park();
        }
    }
}

/// Whether a future that returned `Pending` with this waker can still be
/// woken: it fired, or something beside the runtime keeps the waker (a
/// future that dropped it, as `std::future::pending` does, never wakes).
fn may_wake(wakeup: &Arc<Wakeup>) -> bool {
    wakeup.woken.load(Ordering::Acquire) || Arc::strong_count(wakeup) > 1
}

/// How a host call's future did when first polled.
pub(super) enum FirstPoll {
    /// It completed.
    Ready(Result<Option<Val>, Error>),
    /// It did not, and waits with its waker.
    Pending(Pending),
}

/// A future not ready when first polled, with the waker it was given.
pub(super) struct Pending {
    future: HostFuture,
    wakeup: Arc<Wakeup>,
}

/// Polls a host call's future for the first time.
pub(super) fn first_poll(mut future: HostFuture) -> FirstPoll {
    match poll(&mut future) {
        (Poll::Ready(result), _) => FirstPoll::Ready(result),
        (Poll::Pending, wakeup) => FirstPoll::Pending(Pending { future, wakeup }),
    }
}

/// Keeps host call `name`'s `pending` future as a host task of the store's
/// component instance `instance`, which delivers its result to `target`
/// when it completes; returns the task's number.
pub(super) fn keep(
    store: &mut StoreOpaque,
    instance: usize,
    Pending { future, wakeup }: Pending,
    target: Target,
    name: &str,
) -> u64 {
    let since = next_turn(store, instance);
    let data = &mut store.component_instances[instance];
    let id = data.next_task;
    data.next_task += 1;
    data.host_tasks.push(HostTask {
        id,
        future,
        wakeup,
        target,
        name: name.into(),
        since,
    });
    id
}

/// The host tasks of the store's component instance `instance` whose
/// wakers fired: (when each was polled last, its number).
pub(super) fn woken(store: &StoreOpaque, instance: usize) -> impl Iterator<Item = (u64, u64)> {
    let tasks = &store.component_instances[instance].host_tasks;
    let woken = tasks
        .iter()
        .filter(|t| t.wakeup.woken.load(Ordering::Acquire));
    woken.map(|t| (t.since, t.id))
}

/// Whether the store's component instance `instance` has host tasks in
/// progress that can still wake (see [`may_wake`]): the others can never
/// make progress, so waiting for them is a deadlock.
pub(super) fn pending(store: &StoreOpaque, instance: usize) -> bool {
    let tasks = &store.component_instances[instance].host_tasks;
    tasks.iter().any(|t| may_wake(&t.wakeup))
}

/// Parks the thread until the waker of one of the host tasks of the store's
/// component instance `instance` fires.
pub(super) fn park_until_woken(store: &StoreOpaque, instance: usize) {
    let current = std::thread::current();
    for task in &store.component_instances[instance].host_tasks {
        *task.wakeup.thread.lock().unwrap_or_else(|e| e.into_inner()) = current.clone();
    }
    while woken(store, instance).next().is_none() {
        std::thread::park();
    }
}

/// Polls host task `id` again, and delivers its result if it completed.
pub(super) fn poll_again(store: &mut StoreOpaque, instance: usize, id: u64) -> Result<(), Error> {
    let since = next_turn(store, instance);
    let tasks = &mut store.component_instances[instance].host_tasks;
    let Some(at) = tasks.iter().position(|t| t.id == id) else {
        return Ok(());
    };
    // A future that panics is never polled again: it goes, the instance is
    // poisoned (as when a host function panics in a call), and the panic
    // goes on to the host.
    let polled =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| poll(&mut tasks[at].future)));
    let polled = match polled {
        Ok(polled) => polled,
        Err(panic) => {
            tasks.remove(at);
            super::instance::poison(store, instance);
            std::panic::resume_unwind(panic);
        }
    };
    let result = match polled {
        (Poll::Pending, wakeup) => {
            tasks[at].wakeup = wakeup;
            tasks[at].since = since;
            return Ok(());
        }
        (Poll::Ready(result), _) => result,
    };
    let task = tasks.remove(at);
    if let Target::Subtask(..) = task.target {
        // A waiting caller shows its call's end itself.
        report_end(store, &task.name, result.as_ref().map(Option::as_ref));
    }
    let value = result?;
    match task.target {
        Target::Waiter => {
            let results = &mut store.component_instances[instance].results;
            results.insert(task.id, (value, RelayedStrings::default()));
        }
        Target::Subtask(subtask, delivery) => {
            let mut cx = Cx::new(store, instance, delivery.table, delivery.options);
            let (ty, retptr) = (&delivery.ty, delivery.retptr);
            let flat = &mut Vec::new();
            lower_results_as(&mut cx, ty, value.as_ref(), retptr, flat, Lowering::Async)?;
            let handles = &mut store.component_instances[instance].tables[delivery.table];
            let subtask = handles.subtask(subtask)?;
            subtask.state = SubtaskState::Returned;
            subtask.pending_event = true;
        }
    }
    Ok(())
}

/// Shows the store's interceptor, if any, the end of async host call
/// `name` after its caller went on.
fn report_end(store: &mut StoreOpaque, name: &str, result: Result<Option<&Val>, &Error>) {
    if let Some(interceptor) = store.interceptor.as_mut() {
        let call = Call {
            kind: CallKind::Import,
            name,
        };
        interceptor.after(call, result);
    }
}

/// Cancels the host task whose result goes to subtask `index` of plan
/// component instance `caller`, if there is one: its future is dropped,
/// and the subtask reports `CANCELLED_BEFORE_RETURNED`.
pub(super) fn cancel(
    store: &mut StoreOpaque,
    instance: usize,
    caller: crate::abi::ComponentInstanceIndex,
    index: u32,
) -> Result<bool, Error> {
    let data = &mut store.component_instances[instance];
    let owns = |t: &HostTask| matches!(&t.target, Target::Subtask(s, d) if *s == index && d.table == caller);
    let Some(at) = data.host_tasks.iter().position(owns) else {
        return Ok(false);
    };
    let task = data.host_tasks.remove(at);
    drop(task.future);
    let cancelled = Error::Usage("the call was cancelled".into());
    report_end(store, &task.name, Err(&cancelled));
    let data = &mut store.component_instances[instance];
    let subtask = data.tables[caller].subtask(index)?;
    subtask.state = SubtaskState::CancelledBeforeReturned;
    subtask.pending_event = true;
    Ok(true)
}
