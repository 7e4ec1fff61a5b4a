//! Async calls and the event loop, for stackless (`callback`) tasks.
//!
//! An async lift with a `callback` keeps no native frame between its
//! callback's calls, so cmc can leave it suspended in the store after it
//! returns `YIELD` or `WAIT`, and call its callback again later. Its caller
//! then goes on: an async lower gets a subtask, a synchronous caller (the
//! host, a sync lower) runs the event loop until the task resolves. The
//! waitable-set built-ins block the same way, "at the bottom": the loop
//! runs on the native stack of the blocked call, which is why a blocked
//! task whose caller is an async lower below it on the stack (the spec
//! would let that caller go on) is refused: that needs stack switching
//! (`docs/async-plan.md`).

use super::context::{Delivery, Options, Relay, handle_table};
use super::func::{call_context, resolve_lift};
use super::instance::check_may_leave;
use super::tasks::{Task, with_task};
use crate::abi::{ComponentInstanceIndex, LiftedIndex};
use crate::api::store::StoreOpaque;
use crate::api::{Error, Func, Val as CoreVal};
use crate::canon::handles::ScopeId;
use crate::canon::waitables::{Event, Subtask, SubtaskState, event};
use crate::canon::{CanonError, Lends, Lowering, Val, lower_params};

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
    /// Whether a synchronous caller waits for its result (and takes the
    /// record once it exited).
    waited: bool,
    /// Whether its callback returned `EXIT`.
    exited: bool,
    /// When it was suspended last, in suspensions of its instance: of the
    /// tasks that yielded, the one suspended longest ago runs first, so
    /// none starves the others.
    since: u64,
}

/// A suspended task's key in its instance's map: the number of the
/// suspension that first suspended it.
type SuspendedId = u64;

/// How the first part of an async call ended.
enum Outcome {
    /// The task resolved with this value (it may still run on, suspended).
    Returned(Option<Val>),
    /// The task suspended before it resolved.
    Started(SuspendedId),
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
    let id = match start(store, instance, index, params, strings, Lowering::Sync)? {
        Outcome::Returned(result) => return Ok(result),
        Outcome::Started(id) => id,
    };
    if let Some(caller) = caller {
        check_may_block(
            store,
            instance,
            caller,
            "a synchronous lower of an async function",
        )?;
    }
    suspended(store, instance, id)?.waited = true;
    run_until(store, instance, |store| {
        Ok(suspended_ref(store, instance, id)?.task.resolved)
    })?;
    let record = suspended(store, instance, id)?;
    let result = record.task.result.take();
    record.waited = false;
    if record.exited {
        store.component_instances[instance].suspended.remove(&id);
    }
    Ok(result)
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
    let id = match start(store, instance, index, params, strings, Lowering::Async)? {
        Outcome::Returned(result) => return Ok(Ok(result)),
        Outcome::Started(id) => id,
    };
    let subtask = handle_table(store, instance, caller.table).add(
        crate::canon::handles::Entry::Subtask(Subtask {
            state: SubtaskState::Started,
            pending_event: false,
            wset: None,
            lends: Some(std::mem::take(lends)),
        }),
    )?;
    suspended(store, instance, id)?.task.delivery = Some((subtask, caller));
    Ok(Err(SubtaskState::Started as u32 | subtask << 4))
}

/// The first part of a call of async-lifted function `index`: lowers the
/// parameters and runs the core function; a stackless task whose code
/// asks to yield or wait is then suspended.
fn start(
    store: &mut StoreOpaque,
    instance: usize,
    index: LiftedIndex,
    params: &[Val],
    (lower, lift): (Relay, Relay),
    caller: Lowering,
) -> Result<Outcome, Error> {
    let component = store.component_instances[instance].component.clone();
    let lifted = &component.meta().lifted[index];
    let resolved = resolve_lift(store, instance, index)?;
    let (core, options) = (resolved.core, resolved.options);
    let table = lifted.instance;
    let (first, mut task) = with_task(store, instance, index, (lift, caller), |store| {
        let mut flat = Vec::new();
        let mut cx = call_context(store, instance, table, resolved)?;
        let scope = cx.scope;
        cx.strings = lower;
        lower_params(&mut cx, &lifted.ty, params, &mut flat)?;
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
    })?;
    let (code, scope) = first;
    let Some(callback) = options.callback else {
        // A stackful task ends with its core function.
        finish(store, instance, &task, scope)?;
        return Ok(Outcome::Returned(task.result));
    };
    let Some(code) = code else {
        unreachable!("a callback lift's core function returns a code")
    };
    let wait = match code_wait(store, instance, table, code)? {
        None => {
            finish(store, instance, &task, scope)?;
            return Ok(Outcome::Returned(task.result));
        }
        Some(wait) => wait,
    };
    task.caller_goes_on = false;
    let resolved = task.resolved;
    let result = task.result.take();
    let record = Suspended {
        task,
        callback,
        wait,
        scope,
        waited: false,
        exited: false,
        since: next_turn(store, instance),
    };
    let id = record.since;
    store.component_instances[instance]
        .suspended
        .insert(id, record);
    Ok(match resolved {
        true => Outcome::Returned(result),
        false => Outcome::Started(id),
    })
}

/// The next suspension's turn (see [`Suspended::since`]).
fn next_turn(store: &mut StoreOpaque, instance: usize) -> u64 {
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
    Ok(())
}

/// The suspended task `id`.
fn suspended(
    store: &mut StoreOpaque,
    instance: usize,
    id: SuspendedId,
) -> Result<&mut Suspended, Error> {
    (store.component_instances[instance].suspended.get_mut(&id))
        .ok_or_else(|| Error::Usage(format!("suspended task {id} is gone")))
}

/// [`suspended`], read only.
fn suspended_ref(
    store: &StoreOpaque,
    instance: usize,
    id: SuspendedId,
) -> Result<&Suspended, Error> {
    (store.component_instances[instance].suspended.get(&id))
        .ok_or_else(|| Error::Usage(format!("suspended task {id} is gone")))
}

/// Runs suspended tasks of the store's component instance `instance`,
/// those with an event first, until `done`; traps when none can run
/// before it is.
fn run_until(
    store: &mut StoreOpaque,
    instance: usize,
    done: impl Fn(&StoreOpaque) -> Result<bool, Error>,
) -> Result<(), Error> {
    while !done(store)? {
        let ready = ready(store, instance)?.ok_or(CanonError::Deadlock)?;
        resume(store, instance, ready)?;
    }
    Ok(())
}

/// A suspended task that can run: one whose set has an event, else one
/// that yielded.
fn ready(store: &mut StoreOpaque, instance: usize) -> Result<Option<SuspendedId>, Error> {
    let data = &mut store.component_instances[instance];
    let mut yielded: Option<(u64, SuspendedId)> = None;
    for (&id, record) in data.suspended.iter().filter(|(_, r)| !r.exited) {
        match record.wait {
            Wait::Yield => {
                if yielded.is_none_or(|(since, _)| record.since < since) {
                    yielded = Some((record.since, id));
                }
            }
            Wait::Set(set) => {
                if data.tables[record.task.instance].has_event(set)? {
                    return Ok(Some(id));
                }
            }
        }
    }
    Ok(yielded.map(|(_, id)| id))
}

/// Calls the callback of suspended task `id` with its event, and keeps it
/// suspended, or ends it, as the callback's code says.
fn resume(store: &mut StoreOpaque, instance: usize, id: SuspendedId) -> Result<(), Error> {
    let mut record = (store.component_instances[instance].suspended.remove(&id))
        .ok_or_else(|| Error::Usage(format!("suspended task {id} is gone")))?;
    let table = record.task.instance;
    let event: Event = match record.wait {
        Wait::Yield => [event::NONE, 0, 0],
        Wait::Set(set) => {
            let handles = handle_table(store, instance, table);
            handles.waitable_set(set)?.num_waiting -= 1;
            handles.take_event(set)?.unwrap_or([event::NONE, 0, 0])
        }
    };
    store.component_instances[instance].tasks.push(record.task);
    let mut code = [CoreVal::I32(0)];
    let called = record.callback.call_flat(
        &mut *store,
        &event.map(|v| CoreVal::I32(v as i32)),
        &mut code,
    );
    let tasks = &mut store.component_instances[instance].tasks;
    record.task = tasks
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
            finish(store, instance, &record.task, record.scope)?;
            if !record.waited {
                return Ok(());
            }
            record.exited = true;
        }
    }
    store.component_instances[instance]
        .suspended
        .insert(id, record);
    Ok(())
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

/// Checks that the current task of plan component instance `table` may
/// block in `what` at the bottom of the native stack: it may block, and
/// its caller is not an async lower below it, which the spec would let go
/// on meanwhile (that needs stack switching, not built yet).
fn check_may_block(
    store: &StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
    what: &str,
) -> Result<(), Error> {
    if blockable_task(store, instance, table)?.caller_goes_on {
        return Err(Error::Unsupported(format!(
            "{what} blocking a task whose caller, an async lower, could go on meanwhile \
             (stack switching)"
        )));
    }
    Ok(())
}

/// Blocks the current task of plan component instance `table` in `what`
/// until `done`, running other tasks meanwhile: the task must be one that
/// may block at the bottom of the native stack.
pub(super) fn block_until(
    store: &mut StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
    what: &str,
    done: impl Fn(&StoreOpaque) -> Result<bool, Error>,
) -> Result<(), Error> {
    check_may_block(store, instance, table, what)?;
    run_until(store, instance, done)
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
    let may_switch = blockable_task(store, instance, table).is_ok_and(|t| !t.caller_goes_on);
    if may_switch && let Some(ready) = ready(store, instance)? {
        resume(store, instance, ready)?;
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
    (set, ptr): (u32, u32),
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
        check_may_block(store, instance, table, what)?;
    }
    handle_table(store, instance, table).waitable_set(set)?;
    if block {
        handle_table(store, instance, table)
            .waitable_set(set)?
            .num_waiting += 1;
        let waited = run_until(store, instance, |store| {
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
        let (what, ptr, align) = ("event payload", u64::from(ptr), 4);
        return Err(CanonError::UnalignedPointer { what, ptr, align }.into());
    }
    let mut payload = [0; 8];
    payload[..4].copy_from_slice(&p1.to_le_bytes());
    payload[4..].copy_from_slice(&p2.to_le_bytes());
    let bytes = store.memory_bytes_mut(memory.index);
    crate::canon::memory::write(bytes, u64::from(ptr), &payload)?;
    Ok(code)
}
