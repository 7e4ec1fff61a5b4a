//! Tasks of the asynchronous component model (`Concurrency.md`,
//! `CanonicalABI.md`): the spec's `Task` with its implicit thread's
//! storage, kept for the calls into component instances that need them
//! ([`ComponentMeta::tasked`](crate::abi::ComponentMeta)), and the
//! built-ins that act on the current task or on an instance's
//! backpressure. Async calls and the event loop are in `event_loop`.

use super::context::{Cx, Delivery, Options, Relay, RelayedStrings, handle_table};
use super::func::resolve_lift;
use super::instance::check_may_leave;
use crate::abi::{CanonOptions, ComponentInstanceIndex, LiftedIndex};
use crate::api::store::StoreOpaque;
use crate::api::{Error, Val as CoreVal};
use crate::canon::waitables::SubtaskState;
use crate::canon::{
    CanonError, FuncType, InterfaceType, Lowering, Val, lift_params, lower_results_as,
};

/// A call running in a component instance that keeps tasks.
pub(crate) struct Task {
    /// Its number in its instance, which finds it in the instance's task
    /// stack when it ends (fibers take theirs off and put them back).
    pub(super) id: u64,
    /// The plan's component instance it runs in.
    pub(super) instance: ComponentInstanceIndex,
    /// The lifted function it runs.
    pub(super) lifted: LiftedIndex,
    /// The storage of its implicit thread (`context.get`, `context.set`).
    pub(super) context: [u64; 2],
    /// Whether `task.return` (or a synchronous lift's return) resolved it.
    pub(super) resolved: bool,
    /// Whether a synchronous caller waits for its result after it blocked:
    /// the result then goes to the instance's `results` under its `id`.
    pub(super) waited: bool,
    /// Whether it entered its instance (false while it waits for
    /// backpressure to end: its subtask is `STARTING`).
    pub(super) started: bool,
    /// Whether it waits in a synchronous call of an async function (which
    /// keeps its instance's exclusive lock; `event_loop`).
    pub(super) waits_for_call: bool,
    /// How its caller waits for it.
    pub(super) caller: TaskCaller,
    /// Where its caller's request to cancel it stands.
    pub(super) cancel: Cancel,
    /// The number of its implicit thread, once `thread.*` asked for it.
    pub(super) thread: Option<u32>,
    /// The value it resolved with, until its caller takes it.
    pub(super) result: Option<Val>,
    /// The sources of that value's strings.
    pub(super) result_sources: RelayedStrings,
    /// How `task.return` treats where the result's strings come from.
    pub(super) result_strings: Relay,
    /// Where its result goes when it returns after its caller went on,
    /// with the subtask's handle in the caller's table. Boxed: tasks move
    /// between the instance's stack, fibers and records several times a
    /// call, and most calls never need one.
    pub(super) delivery: Option<Box<(u32, Delivery)>>,
}

/// Where a task's code runs, which says what the task does when it
/// blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TaskCaller {
    /// On the stack of whoever runs it, who waits for it: a synchronous
    /// function's task (which cannot block), or a stackless task's
    /// callback that the event loop calls, which blocks at the bottom of
    /// the native stack by running the event loop there.
    Waits,
    /// On a fiber of its own (`super::fiber`), as the first part of every
    /// async function does: blocking suspends the fiber, and its caller
    /// goes on or waits as its lower says.
    OwnFiber,
}

/// Where a caller's request to cancel a task stands (the spec's
/// `PENDING_CANCEL` and `CANCEL_DELIVERED` task states).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Cancel {
    /// None was made.
    None,
    /// Made; delivered when the task next waits in a way that may be
    /// cancelled (a callback's wait or yield).
    Pending,
    /// Delivered (`TASK_CANCELLED`): the task may resolve with
    /// `task.cancel`.
    Delivered,
}

impl Task {
    /// Whether its result goes to subtask `index` of plan component
    /// instance `caller`.
    pub(super) fn delivers_to(&self, caller: ComponentInstanceIndex, index: u32) -> bool {
        (self.delivery.as_deref())
            .is_some_and(|(subtask, d)| *subtask == index && d.table == caller)
    }
}

/// The largest backpressure count (`2^16 - 1`).
const MAX_BACKPRESSURE: u32 = (1 << 16) - 1;

/// Runs `call` as a new task of lifted function `lifted` of the store's
/// component instance `instance`, and returns its result with the task as
/// it ended. The task is gone afterwards, whether `call` failed or not.
pub(super) fn with_task<R>(
    store: &mut StoreOpaque,
    instance: usize,
    lifted: LiftedIndex,
    (result_strings, caller): (Relay, TaskCaller),
    call: impl FnOnce(&mut StoreOpaque) -> Result<R, Error>,
) -> Result<(R, Task), Error> {
    let data = &mut store.component_instances[instance];
    let id = data.next_task;
    data.next_task += 1;
    data.tasks.push(Task {
        id,
        instance: data.component.meta().lifted[lifted].instance,
        lifted,
        context: [0; 2],
        resolved: false,
        result: None,
        result_sources: RelayedStrings::default(),
        result_strings,
        waited: false,
        started: true,
        waits_for_call: false,
        cancel: Cancel::None,
        thread: None,
        caller,
        delivery: None,
    });
    let result = call(store);
    let tasks = &mut store.component_instances[instance].tasks;
    let task = (tasks.iter().rposition(|t| t.id == id)).and_then(|at| tasks.drain(at..).next());
    let task = task.ok_or_else(|| Error::Usage("a task ended twice".into()))?;
    Ok((result?, task))
}

/// The current task of plan component instance `table`, for built-in
/// `what`: the innermost task of the store's component instance, which
/// must run in `table` (calls into an instance that keeps tasks always
/// make one; a core start function or a destructor runs outside any).
pub(super) fn current_task<'s>(
    store: &'s mut StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
    what: &str,
) -> Result<&'s mut Task, Error> {
    match store.component_instances[instance].tasks.last_mut() {
        Some(task) if task.instance == table => Ok(task),
        _ => Err(Error::Unsupported(format!(
            "`{what}` outside a call into its component instance (in a start function or a destructor)"
        ))),
    }
}

/// `context.get` of `slot` for plan component instance `table`.
pub(super) fn context_get(
    store: &mut StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
    slot: u32,
) -> Result<u64, Error> {
    let task = current_task(store, instance, table, "context.get")?;
    Ok(task.context[slot as usize])
}

/// `context.set` of `slot` to `value`.
pub(super) fn context_set(
    store: &mut StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
    slot: u32,
    value: u64,
) -> Result<(), Error> {
    let task = current_task(store, instance, table, "context.set")?;
    task.context[slot as usize] = value;
    Ok(())
}

/// `backpressure.inc` (`by` 1) and `backpressure.dec` (`by` -1): the
/// count stays in `0..2^16`.
pub(super) fn backpressure(
    store: &mut StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
    by: i32,
) -> Result<(), Error> {
    let count = &mut store.component_instances[instance].backpressure[table];
    match count.checked_add_signed(by) {
        Some(next) if next <= MAX_BACKPRESSURE => {
            *count = next;
            Ok(())
        }
        _ => Err(CanonError::Backpressure { increment: by > 0 }.into()),
    }
}

/// What a `task.return` was defined with.
pub(super) struct TaskReturn {
    /// A function type whose parameter is the result: its core
    /// parameters are `task.return`'s.
    pub params: FuncType,
    /// Its options.
    pub options: CanonOptions,
    /// The options resolved in the instance, once, when the built-in is
    /// made (what they name is defined before it).
    pub resolved: Options,
}

impl TaskReturn {
    pub(super) fn new(
        store: &StoreOpaque,
        instance: usize,
        result: Option<InterfaceType>,
        options: CanonOptions,
    ) -> Result<TaskReturn, Error> {
        Ok(TaskReturn {
            params: FuncType {
                params: result.into_iter().map(|t| (String::new(), t)).collect(),
                result: None,
                is_async: false,
            },
            resolved: Options::resolve(store, instance, &options)?,
            options,
        })
    }
}

/// `task.return` with core arguments `flat`, for plan component instance
/// `table`: resolves the current task, which must be an async lift's, of
/// the same result type and options, not resolved yet, with the value
/// lifted from `flat`.
pub(super) fn task_return(
    store: &mut StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
    defined: &TaskReturn,
    flat: &[CoreVal],
) -> Result<(), Error> {
    check_may_leave(store, instance, table)?;
    let task = current_task(store, instance, table, "task.return")?;
    let (lifted, strings) = (task.lifted, task.result_strings);
    let component = store.component_instances[instance].component.clone();
    let lift = &component.meta().lifted[lifted];
    if !lift.options.is_async {
        return Err(CanonError::TaskReturnFromSync.into());
    }
    if !defined.params.param_types().eq(lift.ty.result_types()) {
        return Err(CanonError::TaskReturnMismatch("result type").into());
    }
    // `LiftOptions.equal`: the same string encoding and memory. A
    // `task.return` without a memory reads none, and the reference scripts
    // (`async/cross-abi-calls.wast`) pair one with lifts that have a memory
    // for their parameters: only a memory it has must be the lift's.
    let options = defined.resolved;
    let lift_options = resolve_lift(store, instance, lifted)?.options;
    if !options.same_lift_options(&lift_options, defined.options.memory.is_none()) {
        return Err(CanonError::TaskReturnMismatch("options").into());
    }
    let mut cx = Cx::new(store, instance, table, options);
    cx.strings = strings;
    let value = lift_params(&mut cx, &defined.params, flat)?;
    resolve(
        store,
        instance,
        table,
        Resolution::Value(value.into_iter().next()),
    )
}

/// `task.cancel` for plan component instance `table`: resolves the current
/// task, which must be an async lift's whose cancellation was delivered,
/// without a value.
pub(super) fn task_cancel(
    store: &mut StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
) -> Result<(), Error> {
    check_may_leave(store, instance, table)?;
    let component = store.component_instances[instance].component.clone();
    let task = current_task(store, instance, table, "task.cancel")?;
    if !component.meta().lifted[task.lifted].options.is_async {
        return Err(CanonError::TaskCancelFromSync.into());
    }
    if task.cancel != Cancel::Delivered || task.resolved {
        return Err(CanonError::TaskCancelNotDelivered.into());
    }
    resolve(store, instance, table, Resolution::Cancelled)
}

/// How a task resolved.
pub(super) enum Resolution {
    /// With its result (`task.return`, or a synchronous lift's return).
    Value(Option<Val>),
    /// Without one (`task.cancel`).
    Cancelled,
}

/// Resolves the current task of plan component instance `table`: the
/// result goes to the caller that went on (whose subtask reports
/// `RETURNED` or `CANCELLED_BEFORE_RETURNED`), to the caller that waits
/// after the task blocked, or stays with the task for the caller that gets
/// it when the call returns.
pub(super) fn resolve(
    store: &mut StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
    resolution: Resolution,
) -> Result<(), Error> {
    let task = current_task(store, instance, table, "task.return")?;
    if task.resolved {
        return Err(CanonError::TaskResolvedTwice.into());
    }
    task.resolved = true;
    let Some((subtask, delivery)) = task.delivery.take().map(|d| *d) else {
        // Only an async caller can ask to cancel: a waiting one gets no value.
        let value = match resolution {
            Resolution::Value(value) => value,
            Resolution::Cancelled => None,
        };
        let (waited, id) = (task.waited, task.id);
        // The sources of its strings, just lifted, wait with it.
        let strings = RelayedStrings::take(store, instance);
        if waited {
            (store.component_instances[instance].results).insert(id, (value, strings));
        } else {
            let task = current_task(store, instance, table, "task.return")?;
            task.result = value;
            task.result_sources = strings;
        }
        return Ok(());
    };
    // Its caller went on: the result goes into the caller's memory now and
    // the subtask reports the resolution.
    let state = match resolution {
        Resolution::Value(value) => {
            let mut cx = Cx::new(store, instance, delivery.table, delivery.options);
            cx.strings = Relay::Take;
            let (ty, retptr) = (&delivery.ty, delivery.retptr);
            let flat = &mut Vec::new();
            lower_results_as(&mut cx, ty, value.as_ref(), retptr, flat, Lowering::Async)?;
            SubtaskState::Returned
        }
        Resolution::Cancelled => SubtaskState::CancelledBeforeReturned,
    };
    let subtask = handle_table(store, instance, delivery.table).subtask(subtask)?;
    subtask.state = state;
    subtask.pending_event = true;
    Ok(())
}

/// Whether task (or host task) `id` of the store's component instance
/// `instance`, which a synchronous caller waits for, left its result.
pub(super) fn has_waited_result(store: &StoreOpaque, instance: usize, id: u64) -> bool {
    store.component_instances[instance]
        .results
        .contains_key(&id)
}

/// The result that task (or host task) `id` left for its waiting caller,
/// whose lowering takes the sources of its strings next.
pub(super) fn take_waited_result(store: &mut StoreOpaque, instance: usize, id: u64) -> Option<Val> {
    let results = &mut store.component_instances[instance].results;
    let (value, strings) = results.remove(&id)?;
    strings.restore(store, instance);
    value
}
