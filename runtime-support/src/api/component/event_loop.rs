//! Async calls and the event loop.
//!
//! An async lift with a `callback` keeps no native frame between its
//! callback's calls, so cmc can leave it suspended in the store after it
//! returns `YIELD` or `WAIT`, and call its callback again later. Its caller
//! then goes on: an async lower gets a subtask, a synchronous caller (the
//! host, a sync lower) runs the event loop until the task resolves.
//!
//! The first part of an async lift (its core function's call) runs on a
//! fiber of its own (`super::fiber`). A task that blocks in a nested frame
//! (`waitable-set.wait`, a synchronous lower of an async function, a
//! synchronous copy) suspends its fiber: an async lower then returns and
//! its caller goes on, and a synchronous caller gets its result if the
//! task resolved before it blocked, or else waits for it. The event loop
//! resumes the fiber once what it waits for has happened. A stackless
//! task's callback, which the event loop calls on its own stack, blocks
//! "at the bottom" instead, running the event loop there: everything below
//! it waits for it anyway. The first part of every async function, however
//! it is lifted, runs so; a synchronous function's task cannot block.

use super::context::{Delivery, Options, Relay, RelayedStrings, handle_table};
use super::copies::BLOCKED;
use super::fiber::{Fiber, Resumed, Until, block_fiber};
use super::func::{call_context, resolve_lift, run_lifted};
use super::host_tasks;
use super::instance::{check_may_leave, entering, may_enter_from, set_entered};
use super::intercept::{Resumption, report_resumed};
use super::tasks::{
    Cancel, Resolution, Task, TaskCaller, current_task, has_waited_result, resolve,
    take_waited_result, with_task,
};
use super::threads::{end_threads, in_own_thread, ready_thread, run_thread};
use crate::abi::{ComponentInstanceIndex, LiftedIndex};
use crate::api::store::StoreOpaque;
use crate::api::{Error, Func, Val as CoreVal};
use crate::canon::handles::{Entry, ScopeId};
use crate::canon::waitables::{Event, Subtask, SubtaskState, event};
use crate::canon::{CanonError, Lends, Val, lower_params};

/// The callback codes (`CallbackCode`).
mod callback_code {
    pub const EXIT: u32 = 0;
    pub const YIELD: u32 = 1;
    pub const WAIT: u32 = 2;
}

/// What a suspended task waits for before its callback is called again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wait {
    /// Nothing: it yielded.
    Yield,
    /// An event in the waitable set at this index of its instance's table.
    Set(u32),
}

/// A stackless task between two calls of its callback.
pub(crate) struct Suspended {
    task: Task,
    callback: Func,
    wait: Wait,
    /// The borrow scope of its call, closed when it exits.
    scope: Option<ScopeId>,
    /// When it was suspended last, in suspensions of its instance: of the
    /// tasks that yielded, the one suspended longest ago runs first, so
    /// none starves the others.
    since: u64,
}

/// A task blocked on a fiber of its own while its caller went on.
pub(crate) struct Blocked {
    /// The fiber, which holds the task.
    fiber: Fiber<FirstPart>,
    /// What it waits for.
    until: Until,
    /// When it blocked last, as [`Suspended::since`].
    since: u64,
    /// The instance whose exclusive lock it gave up when it blocked, to
    /// take back before it resumes (see [`release_while_blocked`]).
    relock: Option<ComponentInstanceIndex>,
}

/// How the first part of an async call (the core function's call) ended:
/// the callback code it returned, if it has a callback, the borrow scope
/// of the call, and the task.
type FirstPart = ((Option<u32>, Option<ScopeId>), Task);

/// A suspended or blocked task's key in its instance's maps: the number of
/// the suspension that first suspended it.
type SuspendedId = u64;

/// A task the event loop can run now.
#[derive(Clone, Copy)]
enum Ready {
    /// A stackless task, whose callback it calls.
    Callback(SuspendedId),
    /// A blocked task, whose fiber it resumes.
    Fiber(SuspendedId),
    /// A thread of a fiber of its own (its number), with its task's.
    Thread(u32, u64),
    /// An async host call whose future's waker fired (its number), which
    /// it polls.
    Host(u64),
}

/// How the first part of an async call ended.
enum Outcome {
    /// The task resolved with this value (it may still run on, suspended),
    /// and the sources of its strings.
    Returned(Option<Val>, RelayedStrings),
    /// The task suspended before it resolved, `Started` or, when it waits
    /// to enter its instance, `Starting`.
    Started(SuspendedId, SubtaskState),
}

/// Calls async-lifted function `index` for a caller that waits for it
/// (the host, `caller` `None`, or a synchronous lower in plan component
/// instance `caller`) and returns its result, running the event loop while
/// the task is suspended: the caller's task blocks.
pub(super) fn call_async_lifted(
    store: &mut StoreOpaque,
    instance: usize,
    index: LiftedIndex,
    params: &[Val],
    strings: (Relay, Relay),
    caller: Option<ComponentInstanceIndex>,
) -> Result<Option<Val>, Error> {
    let id = match start(store, instance, index, params, strings)? {
        Outcome::Returned(result, strings) => {
            strings.restore(store, instance);
            return Ok(result);
        }
        Outcome::Started(id, _) => id,
    };
    let task = waiting_task(store, instance, id)?;
    task.waited = true;
    let task = task.id;
    let resolved = move |store: &StoreOpaque| Ok(has_waited_result(store, instance, task));
    let callee = store.component_instances[instance].component.meta().lifted[index].instance;
    set_entered(store, instance, (callee, caller), 1);
    let waits = |store: &mut StoreOpaque, value| {
        if let Some(task) = store.component_instances[instance].tasks.last_mut() {
            task.waits_for_call = value;
        }
    };
    waits(store, caller.is_some());
    let waited = match caller {
        Some(caller) => {
            let what = "a synchronous lower of an async function";
            block_until(store, instance, caller, what, resolved)
        }
        None => run_until(store, instance, resolved),
    };
    waits(store, false);
    set_entered(store, instance, (callee, caller), 0);
    waited?;
    Ok(take_waited_result(store, instance, task))
}

/// An async lower's call of async-lifted function `index`: returns the
/// lower's core result, `RETURNED` when the callee resolved before the
/// lower returns (its result then written through `retptr` by the
/// caller's usual path, from the returned value), or `STARTED` with a new
/// subtask in the caller's table `caller`, which receives the result when
/// the task resolves later.
pub(super) fn call_async_lowered(
    store: &mut StoreOpaque,
    instance: usize,
    index: LiftedIndex,
    params: &[Val],
    strings: (Relay, Relay),
    caller: Delivery,
    lends: &mut Lends,
) -> Result<Result<Option<Val>, u32>, Error> {
    let (id, state) = match start(store, instance, index, params, strings)? {
        Outcome::Returned(result, strings) => {
            strings.restore(store, instance);
            return Ok(Ok(result));
        }
        Outcome::Started(id, state) => (id, state),
    };
    let subtask = handle_table(store, instance, caller.table).add(
        crate::canon::handles::Entry::Subtask(Subtask::new(state, std::mem::take(lends))),
    )?;
    waiting_task(store, instance, id)?.delivery = Some(Box::new((subtask, caller)));
    Ok(Err(state as u32 | subtask << 4))
}

/// Starts a call of async-lifted function `index`, on a fiber of its own:
/// if the task blocks, the fiber is kept aside, and the call counts as
/// started unless the task resolved before it blocked.
fn start(
    store: &mut StoreOpaque,
    instance: usize,
    index: LiftedIndex,
    params: &[Val],
    strings: (Relay, Relay),
) -> Result<Outcome, Error> {
    let params = params.to_vec();
    // The sources of the parameters' strings wait with them: the task may
    // wait to enter its instance, while other calls relay strings.
    let relayed = match strings.0 {
        Relay::Take => RelayedStrings::take(store, instance),
        Relay::Host | Relay::Keep => RelayedStrings::default(),
    };
    let mut fiber = Fiber::new(store, move |store| {
        first_part(store, instance, index, (&params, relayed), strings)
    })?;
    let until = match fiber.resume(store, instance)? {
        Resumed::Done(first) => return after_first_part(store, instance, index, first),
        Resumed::Blocked(until) => until,
    };
    let task = (fiber.tasks.first_mut())
        .ok_or_else(|| Error::Usage("a fiber blocked outside its task".into()))?;
    let (resolved, result) = (task.resolved, task.result.take());
    let strings = std::mem::take(&mut task.result_sources);
    let state = match task.started {
        true => SubtaskState::Started,
        false => SubtaskState::Starting,
    };
    let since = next_turn(store, instance);
    let relock = release_while_blocked(store, instance, &fiber);
    let record = Blocked {
        fiber,
        until,
        since,
        relock,
    };
    store.component_instances[instance]
        .blocked
        .insert(since, record);
    Ok(match resolved {
        true => Outcome::Returned(result, strings),
        false => Outcome::Started(since, state),
    })
}

/// Gives up the exclusive lock that the task of `fiber`, blocked, holds
/// if it is a callback lift's first part blocked in a built-in (a copy, a
/// wait), and returns its instance. A synchronous lift keeps the lock while
/// it blocks, and so does a callback lift blocked in a synchronous call.
///
/// `definitions.py` keeps the lock in every case; the reference scripts,
/// which follow wasmtime, tell the cases apart: `sync-streams` starts a
/// second callback task while the first is blocked in a synchronous
/// `stream.write`, and `async-calls-sync` holds callers back while a
/// callback task waits in a synchronous call.
fn release_while_blocked(
    store: &mut StoreOpaque,
    instance: usize,
    fiber: &Fiber<FirstPart>,
) -> Option<ComponentInstanceIndex> {
    let task = fiber.tasks.first()?;
    let in_call = fiber.tasks.last().is_some_and(|t| t.waits_for_call);
    let data = &mut store.component_instances[instance];
    let callback = data.component.meta().lifted[task.lifted]
        .options
        .callback
        .is_some();
    if in_call || !(callback && task.started && data.exclusive[task.instance]) {
        return None;
    }
    data.exclusive[task.instance] = false;
    Some(task.instance)
}

/// The first part of a call of async-lifted function `index`: lowers the
/// parameters and runs the core function, as a task.
fn first_part(
    store: &mut StoreOpaque,
    instance: usize,
    index: LiftedIndex,
    (params, relayed): (&[Val], RelayedStrings),
    (lower, lift): (Relay, Relay),
) -> Result<FirstPart, Error> {
    let component = store.component_instances[instance].component.clone();
    let lifted = &component.meta().lifted[index];
    let resolved = resolve_lift(store, instance, index)?;
    let (core, options) = (resolved.core, resolved.options);
    let table = lifted.instance;
    with_task(
        store,
        instance,
        index,
        (lift, TaskCaller::OwnFiber),
        |store| {
            let sync_lift = !lifted.options.is_async;
            wait_to_enter(
                store,
                instance,
                table,
                sync_lift || options.callback.is_some(),
            )?;
            relayed.restore(store, instance);
            if sync_lift {
                // A synchronous lift of an async function: called as any
                // synchronous lift is, it resolves with its result, holding
                // the instance's exclusive lock throughout.
                let value = run_lifted(store, instance, index, params, (lower, lift))?;
                resolve(store, instance, table, Resolution::Value(value))?;
                store.component_instances[instance].exclusive[table] = false;
                return Ok((None, None));
            }
            let mut flat = Vec::new();
            let mut cx = call_context(store, instance, table, resolved)?;
            let scope = cx.scope;
            cx.strings = lower;
            lower_params(&mut cx, &lifted.ty, params, &mut flat)?;
            store.component_instances[instance].guest_ran = true;
            let code = match options.callback {
                None => {
                    core.call_flat(&mut *store, &flat, &mut [])?;
                    None
                }
                Some(_) => {
                    let mut code = [CoreVal::I32(0)];
                    core.call_flat(&mut *store, &flat, &mut code)?;
                    Some(code[0].i32().unwrap_or_default() as u32)
                }
            };
            Ok((code, scope))
        },
    )
}

/// Waits, as a task not started yet, while plan component instance `table`
/// has backpressure, or its exclusive lock is held and the task needs it
/// (`exclusive`, a callback or synchronous lift), or other tasks wait to
/// enter it (`enter_implicit_thread`); then takes the lock if it needs it.
/// A subtask of a caller that went on meanwhile reports the start.
fn wait_to_enter(
    store: &mut StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
    exclusive: bool,
) -> Result<(), Error> {
    let backpressure = move |store: &StoreOpaque| {
        let data = &store.component_instances[instance];
        data.backpressure[table] > 0 || (exclusive && data.exclusive[table])
    };
    let data = &store.component_instances[instance];
    if data.waiting_to_enter[table] == 0 && !backpressure(store) {
        store.component_instances[instance].exclusive[table] |= exclusive;
        return Ok(());
    }
    let waiting = |store: &mut StoreOpaque, by: i32| {
        let count = &mut store.component_instances[instance].waiting_to_enter[table];
        *count = count.saturating_add_signed(by);
    };
    waiting(store, 1);
    current_task(store, instance, table, "a call")?.started = false;
    // The spec's `wait_until` suspends even when its condition holds: the
    // tasks waiting before this one go first.
    loop {
        let until = Until::Holds(Box::new(move |store| Ok(!backpressure(store))));
        if !block_fiber(store, until) {
            waiting(store, -1);
            return Err(Error::Usage("a task waited to enter off its fiber".into()));
        }
        if !backpressure(store) {
            break;
        }
    }
    waiting(store, -1);
    store.component_instances[instance].exclusive[table] |= exclusive;
    let task = current_task(store, instance, table, "a call")?;
    task.started = true;
    if let Some((subtask, delivery)) = task.delivery.as_deref() {
        let (subtask, caller) = (*subtask, delivery.table);
        let subtask = handle_table(store, instance, caller).subtask(subtask)?;
        subtask.state = SubtaskState::Started;
        subtask.pending_event = true;
    }
    Ok(())
}

/// What follows the first part of a call of async-lifted function
/// `index`: a stackful task has ended; a stackless one whose code asks to
/// yield or wait is suspended.
fn after_first_part(
    store: &mut StoreOpaque,
    instance: usize,
    index: LiftedIndex,
    ((code, scope), mut task): FirstPart,
) -> Result<Outcome, Error> {
    let table = task.instance;
    let Some(callback) = resolve_lift(store, instance, index)?.options.callback else {
        // A stackful task ends with its core function.
        finish(store, instance, &task, scope)?;
        return Ok(Outcome::Returned(task.result, task.result_sources));
    };
    let Some(code) = code else {
        unreachable!("a callback lift's core function returns a code")
    };
    // Between its callbacks' calls a stackless task lets others in.
    store.component_instances[instance].exclusive[table] = false;
    let wait = match code_wait(store, instance, table, code)? {
        None => {
            finish(store, instance, &task, scope)?;
            return Ok(Outcome::Returned(task.result, task.result_sources));
        }
        Some(wait) => wait,
    };
    // Its caller went on, or takes its result from the record: from now on
    // its callbacks run from the event loop.
    task.caller = TaskCaller::Waits;
    let resolved = task.resolved;
    let result = task.result.take();
    let strings = std::mem::take(&mut task.result_sources);
    let record = Suspended {
        task,
        callback,
        wait,
        scope,
        since: next_turn(store, instance),
    };
    let id = record.since;
    store.component_instances[instance]
        .suspended
        .insert(id, record);
    Ok(match resolved {
        true => Outcome::Returned(result, strings),
        false => Outcome::Started(id, SubtaskState::Started),
    })
}

/// The next suspension's turn (see [`Suspended::since`]).
pub(super) fn next_turn(store: &mut StoreOpaque, instance: usize) -> u64 {
    let turns = &mut store.component_instances[instance].suspensions;
    *turns += 1;
    *turns
}

/// What callback code `code` of a task of plan component instance `table`
/// asks for: `None` for `EXIT`, else what to wait for (counted as a
/// waiter of its set).
fn code_wait(
    store: &mut StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
    code: u32,
) -> Result<Option<Wait>, Error> {
    Ok(Some(match code & 0xf {
        callback_code::EXIT => return Ok(None),
        callback_code::YIELD => Wait::Yield,
        callback_code::WAIT => {
            let set = code >> 4;
            handle_table(store, instance, table)
                .waitable_set(set)?
                .num_waiting += 1;
            Wait::Set(set)
        }
        other => return Err(CanonError::UnsupportedCallbackCode(other).into()),
    }))
}

/// Ends `task`, whose core function or callback exited: it must have
/// resolved, and its borrow scope closes.
fn finish(
    store: &mut StoreOpaque,
    instance: usize,
    task: &Task,
    scope: Option<ScopeId>,
) -> Result<(), Error> {
    if !task.resolved {
        return Err(CanonError::TaskNeverReturned.into());
    }
    if let Some(scope) = scope {
        handle_table(store, instance, task.instance).exit_call(scope)?;
    }
    end_threads(store, instance, task.id);
    Ok(())
}

/// The task of the suspended or blocked task `id`, whose caller waits for
/// it.
fn waiting_task(
    store: &mut StoreOpaque,
    instance: usize,
    id: SuspendedId,
) -> Result<&mut Task, Error> {
    let data = &mut store.component_instances[instance];
    let task = match data.suspended.get_mut(&id) {
        Some(record) => Some(&mut record.task),
        None => (data.blocked.get_mut(&id)).and_then(|record| record.fiber.tasks.first_mut()),
    };
    task.ok_or_else(|| Error::Usage(format!("suspended task {id} is gone")))
}

/// Runs suspended tasks of the store's component instance `instance`,
/// those with an event first, until `done`; traps when none can run
/// before it is. When only async host calls can make progress, it parks
/// the thread until one of their wakers fires.
pub(super) fn run_until(
    store: &mut StoreOpaque,
    instance: usize,
    done: impl Fn(&StoreOpaque) -> Result<bool, Error>,
) -> Result<(), Error> {
    match run_until_stalled(store, instance, done)? {
        true => Ok(()),
        false => Err(CanonError::Deadlock.into()),
    }
}

/// [`run_until`], but a loop that stalls (nothing can run, and no host
/// future is pending) returns `false` instead of trapping: the host that
/// runs it may still make progress possible. A deadlock inside a task it
/// runs is still a trap.
pub(super) fn run_until_stalled(
    store: &mut StoreOpaque,
    instance: usize,
    done: impl Fn(&StoreOpaque) -> Result<bool, Error>,
) -> Result<bool, Error> {
    while !done(store)? {
        let ready = match ready(store, instance, u64::MAX)? {
            Some(ready) => ready,
            None if host_tasks::pending(store, instance) => {
                host_tasks::park_until_woken(store, instance);
                continue;
            }
            None => return Ok(false),
        };
        run_ready(store, instance, ready)?;
    }
    Ok(true)
}

/// Runs every task of the store's component instance `instance` that can
/// run now, until none can without waiting (for a host future, say);
/// returns whether any ran. A task that yields, or a host future that
/// wakes itself, runs once: only those that yielded before the call are
/// taken, so the call returns however often they yield.
pub(super) fn run_pending(store: &mut StoreOpaque, instance: usize) -> Result<bool, Error> {
    let before = store.component_instances[instance].suspensions + 1;
    let mut ran = false;
    while let Some(ready) = ready(store, instance, before)? {
        run_ready(store, instance, ready)?;
        ran = true;
    }
    Ok(ran)
}

/// A task that can run: a stackless one whose set has an event, else a
/// blocked one whose condition holds, else, of the tasks that yielded and
/// the async host calls whose waker fired, the one that waited longest.
///
/// Of those that yielded (and the woken host calls), only the ones whose
/// turn is before `before` are taken.
fn ready(store: &StoreOpaque, instance: usize, before: u64) -> Result<Option<Ready>, Error> {
    let data = &store.component_instances[instance];
    let mut yielded: Option<(u64, Ready)> = None;
    let mut consider = |since: u64, ready: Ready| {
        if since < before && yielded.is_none_or(|(earliest, _)| since < earliest) {
            yielded = Some((since, ready));
        }
    };
    // A callback runs holding its instance's exclusive lock.
    let free = |record: &&Suspended| !data.exclusive[record.task.instance];
    for (&id, record) in data.suspended.iter().filter(|(_, r)| free(r)) {
        if record.task.cancel == Cancel::Pending {
            return Ok(Some(Ready::Callback(id)));
        }
        match record.wait {
            Wait::Yield => consider(record.since, Ready::Callback(id)),
            Wait::Set(set) => {
                if data.tables[record.task.instance].has_event(set)? {
                    return Ok(Some(Ready::Callback(id)));
                }
            }
        }
    }
    let relockable = |record: &&Blocked| record.relock.is_none_or(|t| !data.exclusive[t]);
    for (&id, record) in data.blocked.iter().filter(|(_, r)| relockable(r)) {
        match &record.until {
            Until::Yield => consider(record.since, Ready::Fiber(id)),
            until => {
                if until.holds(store)? {
                    return Ok(Some(Ready::Fiber(id)));
                }
            }
        }
    }
    if let Some((thread, task)) = ready_thread(store, instance)? {
        return Ok(Some(Ready::Thread(thread, task)));
    }
    for (since, id) in host_tasks::woken(store, instance) {
        consider(since, Ready::Host(id));
    }
    Ok(yielded.map(|(_, ready)| ready))
}

/// Runs task `ready`.
fn run_ready(store: &mut StoreOpaque, instance: usize, ready: Ready) -> Result<(), Error> {
    match ready {
        Ready::Callback(id) => resume(store, instance, id),
        Ready::Fiber(id) => resume_fiber(store, instance, id),
        Ready::Host(id) => host_tasks::poll_again(store, instance, id),
        Ready::Thread(thread, task) => with_task_current(store, instance, task, |store| {
            run_thread(store, instance, thread, None)
        })
        .unwrap_or_else(|| {
            // Its task is gone: so is the thread.
            end_threads(store, instance, task);
            Ok(())
        }),
    }
}

/// Runs `f` with task `task` the current one, moved to the top of the
/// instance's task stack from wherever it is (lower on the stack, in a
/// stackless task's record, with a blocked fiber) and put back after;
/// `None` when the task is gone.
pub(super) fn with_task_current(
    store: &mut StoreOpaque,
    instance: usize,
    task: u64,
    f: impl FnOnce(&mut StoreOpaque) -> Result<(), Error>,
) -> Option<Result<(), Error>> {
    let data = &mut store.component_instances[instance];
    let pop = |store: &mut StoreOpaque| {
        let tasks = &mut store.component_instances[instance].tasks;
        let at = tasks.iter().rposition(|t| t.id == task)?;
        Some(tasks.remove(at))
    };
    if let Some(at) = data.tasks.iter().position(|t| t.id == task) {
        let moved = data.tasks.remove(at);
        data.tasks.push(moved);
        let ran = f(store);
        if let Some(moved) = pop(store) {
            let tasks = &mut store.component_instances[instance].tasks;
            tasks.insert(at.min(tasks.len()), moved);
        }
        return Some(ran);
    }
    let stackless = data.suspended.iter().find(|(_, r)| r.task.id == task);
    if let Some(id) = stackless.map(|(&id, _)| id) {
        let mut record = data.suspended.remove(&id)?;
        data.tasks.push(record.task);
        let ran = f(store);
        let Some(task) = pop(store) else {
            return Some(ran);
        };
        record.task = task;
        store.component_instances[instance]
            .suspended
            .insert(id, record);
        return Some(ran);
    }
    let blocked = (data.blocked.iter())
        .find_map(|(&id, r)| Some((id, r.fiber.tasks.iter().position(|t| t.id == task)?)));
    let (id, at) = blocked?;
    let mut record = data.blocked.remove(&id)?;
    data.tasks.push(record.fiber.tasks.remove(at));
    let ran = f(store);
    let Some(task) = pop(store) else {
        return Some(ran);
    };
    record.fiber.tasks.insert(at, task);
    store.component_instances[instance]
        .blocked
        .insert(id, record);
    Some(ran)
}

/// Resumes the fiber of blocked task `id` until it blocks again or its
/// first part ends.
fn resume_fiber(store: &mut StoreOpaque, instance: usize, id: SuspendedId) -> Result<(), Error> {
    let mut record = (store.component_instances[instance].blocked.remove(&id))
        .ok_or_else(|| Error::Usage(format!("blocked task {id} is gone")))?;
    if let Some(table) = record.relock.take() {
        store.component_instances[instance].exclusive[table] = true;
    }
    if let Some(task) = record.fiber.tasks.first() {
        report_resumed(store, instance, task.lifted, Resumption::Fiber);
    }
    match record.fiber.resume(store, instance)? {
        Resumed::Blocked(until) => {
            record.until = until;
            record.since = next_turn(store, instance);
            record.relock = release_while_blocked(store, instance, &record.fiber);
            store.component_instances[instance]
                .blocked
                .insert(id, record);
        }
        Resumed::Done(first) => {
            // Its caller went on long ago: a result is delivered already.
            after_first_part(store, instance, first.1.lifted, first)?;
        }
    }
    Ok(())
}

/// Calls the callback of suspended task `id` with its event, and keeps it
/// suspended, or ends it, as the callback's code says.
fn resume(store: &mut StoreOpaque, instance: usize, id: SuspendedId) -> Result<(), Error> {
    let mut record = (store.component_instances[instance].suspended.remove(&id))
        .ok_or_else(|| Error::Usage(format!("suspended task {id} is gone")))?;
    let table = record.task.instance;
    if let Wait::Set(set) = record.wait {
        handle_table(store, instance, table)
            .waitable_set(set)?
            .num_waiting -= 1;
    }
    // A callback's wait or yield may be cancelled: a pending request is
    // delivered first.
    let event: Event = match record.wait {
        _ if record.task.cancel == Cancel::Pending => {
            record.task.cancel = Cancel::Delivered;
            [event::TASK_CANCELLED, 0, 0]
        }
        Wait::Yield => [event::NONE, 0, 0],
        Wait::Set(set) => {
            (handle_table(store, instance, table).take_event(set)?).unwrap_or([event::NONE, 0, 0])
        }
    };
    let [code, index, payload] = event;
    let how = Resumption::Callback {
        code,
        index,
        payload,
    };
    report_resumed(store, instance, record.task.lifted, how);
    let data = &mut store.component_instances[instance];
    data.tasks.push(record.task);
    data.exclusive[table] = true;
    let mut code = [CoreVal::I32(0)];
    let called = record.callback.call_flat(
        &mut *store,
        &event.map(|v| CoreVal::I32(v as i32)),
        &mut code,
    );
    let data = &mut store.component_instances[instance];
    data.exclusive[table] = false;
    record.task = (data.tasks)
        .pop()
        .ok_or_else(|| Error::Usage("a task ended twice".into()))?;
    called?;
    let code = code[0].i32().unwrap_or_default() as u32;
    match code_wait(store, instance, table, code)? {
        Some(wait) => {
            record.wait = wait;
            record.since = next_turn(store, instance);
        }
        None => {
            return finish(store, instance, &record.task, record.scope);
        }
    }
    store.component_instances[instance]
        .suspended
        .insert(id, record);
    Ok(())
}

/// How the current task blocks.
enum Blocking {
    /// By suspending the fiber it runs on.
    OnFiber,
    /// By running the event loop on its stack.
    AtBottom,
}

/// The current task of plan component instance `table`, if it may block:
/// a task of an async-typed function (a synchronous one, or code outside
/// any task such as a start function, cannot block before it returns).
fn blockable_task(
    store: &StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
) -> Result<&Task, Error> {
    let data = &store.component_instances[instance];
    match data.tasks.last() {
        Some(task)
            if task.instance == table && data.component.meta().lifted[task.lifted].ty.is_async =>
        {
            Ok(task)
        }
        _ => Err(CanonError::CannotBlockSync.into()),
    }
}

/// Traps unless the current task of plan component instance `table` may
/// block (see [`blockable_task`]).
pub(super) fn may_block(
    store: &StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
) -> Result<(), Error> {
    blockable_task(store, instance, table).map(|_| ())
}

/// How the current task of plan component instance `table` blocks: it
/// must be one that may block; it suspends the fiber it runs on, if any
/// task between it and the bottom of the stack has one of its own.
fn blocking(
    store: &StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
) -> Result<Blocking, Error> {
    blockable_task(store, instance, table)?;
    let tasks = &store.component_instances[instance].tasks;
    let on_fiber = tasks.iter().any(|t| t.caller == TaskCaller::OwnFiber);
    Ok(match on_fiber || in_own_thread(store, instance) {
        true => Blocking::OnFiber,
        false => Blocking::AtBottom,
    })
}

/// Blocks the current task of plan component instance `table` in `what`
/// until `done`, letting other tasks run meanwhile.
pub(super) fn block_until(
    store: &mut StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
    what: &str,
    done: impl Fn(&StoreOpaque) -> Result<bool, Error> + Clone + 'static,
) -> Result<(), Error> {
    match blocking(store, instance, table)? {
        Blocking::AtBottom => run_until(store, instance, done),
        Blocking::OnFiber => {
            while !done(store)? {
                if !block_fiber(store, Until::Holds(Box::new(done.clone()))) {
                    return Err(Error::Usage(format!("{what} blocked off its fiber")));
                }
            }
            Ok(())
        }
    }
}

/// `thread.yield` for plan component instance `table`: lets one other
/// ready task run when the current task may block at the bottom of the
/// stack. Otherwise it goes on at once, which the spec allows (a yield
/// may complete without switching).
pub(super) fn thread_yield(
    store: &mut StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
) -> Result<(), Error> {
    match blocking(store, instance, table) {
        Ok(Blocking::OnFiber) => {
            block_fiber(store, Until::Yield);
        }
        Ok(Blocking::AtBottom) => {
            if let Some(ready) = ready(store, instance, u64::MAX)? {
                run_ready(store, instance, ready)?;
            }
        }
        // A task that cannot block goes on at once.
        Err(_) => {}
    }
    Ok(())
}

/// `subtask.cancel` of subtask `index` of plan component instance `table`
/// (`is_async` if it may return `BLOCKED`): returns the subtask's state
/// once its resolution is delivered. A call still waiting to enter its
/// instance is cancelled before it starts; a callee that started is asked
/// to cancel ([`request_cancellation`]).
pub(super) fn subtask_cancel(
    store: &mut StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
    index: u32,
    is_async: bool,
) -> Result<u32, Error> {
    check_may_leave(store, instance, table)?;
    if !is_async {
        may_block(store, instance, table)?;
    }
    let subtask = handle_table(store, instance, table).subtask(index)?;
    if subtask.lends.is_none() {
        return Err(CanonError::SubtaskResolveDelivered.into());
    }
    if subtask.cancellation_requested {
        return Err(CanonError::SubtaskCancelledTwice.into());
    }
    if subtask.wset.is_some() && !is_async {
        return Err(CanonError::Copy(crate::canon::error::CopyTrap::SyncInWaitableSet).into());
    }
    if subtask.state == SubtaskState::Started {
        subtask.cancellation_requested = true;
        if !host_tasks::cancel(store, instance, table, index)? {
            request_cancellation(store, instance, table, index)?;
        }
        let resolved = move |store: &StoreOpaque| {
            let handles = &store.component_instances[instance].tables[table];
            Ok(matches!(handles.entry(index), Ok(Entry::Subtask(s)) if s.resolved()))
        };
        if !resolved(store)? {
            if is_async {
                return Ok(BLOCKED);
            }
            let what = "a synchronous `subtask.cancel`";
            block_until(store, instance, table, what, resolved)?;
        }
    } else if !subtask.resolved() {
        subtask.cancellation_requested = true;
        // Still waiting to enter: the call goes, its fiber with it.
        let data = &mut store.component_instances[instance];
        let waiting = data.blocked.iter().find_map(|(&id, record)| {
            let task = record.fiber.tasks.first()?;
            task.delivers_to(table, index)
                .then_some((id, task.instance))
        });
        let (id, callee) =
            waiting.ok_or_else(|| Error::Usage(format!("subtask {index} has no call waiting")))?;
        data.blocked.remove(&id);
        data.waiting_to_enter[callee] = data.waiting_to_enter[callee].saturating_sub(1);
        let subtask = handle_table(store, instance, table).subtask(index)?;
        subtask.state = SubtaskState::CancelledBeforeStarted;
        subtask.pending_event = true;
    }
    let event = handle_table(store, instance, table).take_subtask_event(index)?;
    Ok(event.map_or(0, |[_, _, state]| state))
}

/// Asks the callee of subtask `index` of plan component instance `caller`,
/// which started, to cancel (`request_cancellation`). A stackless task
/// between its callback's calls gets `TASK_CANCELLED` at once, if its
/// instance may be entered and its lock is free; otherwise, and for a task
/// blocked on its fiber (whose waits cannot be cancelled), the request
/// stays pending until its next callback.
fn request_cancellation(
    store: &mut StoreOpaque,
    instance: usize,
    caller: ComponentInstanceIndex,
    index: u32,
) -> Result<(), Error> {
    let data = &mut store.component_instances[instance];
    let owns = |task: &Task| task.delivers_to(caller, index);
    let stackless = data.suspended.iter_mut().find(|(_, r)| owns(&r.task));
    if let Some((&id, record)) = stackless {
        record.task.cancel = Cancel::Pending;
        let callee = record.task.instance;
        if !data.exclusive[callee] && may_enter_from(store, instance, (callee, Some(caller))) {
            return entering(store, instance, (callee, Some(caller)), |store| {
                resume(store, instance, id)
            });
        }
        return Ok(());
    }
    let blocked = data.blocked.values_mut();
    if let Some(task) = blocked
        .filter_map(|r| r.fiber.tasks.first_mut())
        .find(|t| owns(t))
    {
        task.cancel = Cancel::Pending;
    }
    Ok(())
}

/// `waitable-set.wait` (`block`) or `waitable-set.poll` on set `set` of
/// plan component instance `table`: the event, its payload stored at
/// `ptr` in `memory`.
pub(super) fn wait_or_poll(
    store: &mut StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
    (set, ptr): (u32, u64),
    memory: Options,
    block: bool,
) -> Result<u32, Error> {
    check_may_leave(store, instance, table)?;
    let what = if block {
        "`waitable-set.wait`"
    } else {
        "`waitable-set.poll`"
    };
    if block {
        may_block(store, instance, table)?;
    }
    handle_table(store, instance, table).waitable_set(set)?;
    if block {
        handle_table(store, instance, table)
            .waitable_set(set)?
            .num_waiting += 1;
        let waited = block_until(store, instance, table, what, move |store| {
            Ok(store.component_instances[instance].tables[table].has_event(set)?)
        });
        handle_table(store, instance, table)
            .waitable_set(set)?
            .num_waiting -= 1;
        waited?;
    }
    let [code, p1, p2] = handle_table(store, instance, table)
        .take_event(set)?
        .unwrap_or([event::NONE, 0, 0]);
    let Some(memory) = memory.memory() else {
        return Err(Error::Link(format!("`{what}` has no memory")));
    };
    if ptr % 4 != 0 {
        let (what, align) = ("event payload", 4);
        return Err(CanonError::UnalignedPointer { what, ptr, align }.into());
    }
    let mut payload = [0; 8];
    payload[..4].copy_from_slice(&p1.to_le_bytes());
    payload[4..].copy_from_slice(&p2.to_le_bytes());
    let bytes = store.memory_bytes_mut(memory.index);
    crate::canon::memory::write(bytes, ptr, &payload)?;
    Ok(code)
}
