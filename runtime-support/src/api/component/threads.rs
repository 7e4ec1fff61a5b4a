//! Cooperative threads inside tasks (the `thread.*` built-ins of
//! `Concurrency.md`): each task's implicit thread, and the threads
//! `thread.new-indirect` makes, each on a fiber of its own
//! (`super::fiber`).
//!
//! Switching nests on the native stack. Switching to a thread parked on
//! its fiber resumes the fiber from the current stack; a thread on a fiber
//! that switches to the thread that resumed it suspends its fiber, which
//! returns there. A thread that waits (in `thread.suspend`, a blocking
//! built-in or after `thread.yield`) is resumed by the event loop once
//! what it waits for has happened, with its task made the current one. A
//! switch to a thread in any other place (one further down the stack) is
//! refused by name.

use super::event_loop::{block_until, may_block, thread_yield, with_task_current};
use super::fiber::{Fiber, Resumed, Until, block_fiber};
use super::instance::{check_may_leave, resolve_core};
use super::tasks::current_task;
use crate::abi::{ComponentInstanceIndex, CoreDef, TrapKind, ValType};
use crate::api::store::StoreOpaque;
use crate::api::{Error, Extern, Trap, Val as CoreVal};

/// A thread of a task.
pub(crate) struct Thread {
    /// The plan component instance whose table numbers it.
    table: ComponentInstanceIndex,
    /// Its task, by number.
    task: u64,
    state: ThreadState,
}

/// Where a thread is.
enum ThreadState {
    /// A task's implicit thread, which runs on the task's stack; `parked`
    /// while it switched away with `thread.suspend-then-resume` or waits in
    /// `thread.suspend`, until another thread resumes it.
    Implicit { parked: bool },
    /// A thread `thread.new-indirect` made, not running: on its fiber,
    /// until `until` (`Until::Suspended` until another thread resumes it).
    Parked { fiber: Fiber<()>, until: Until },
    /// A thread `thread.new-indirect` made, running (its fiber is out);
    /// `parked` while it switched away with `thread.suspend-then-resume`,
    /// until another thread resumes it.
    Running { parked: bool },
}

/// A running thread of a fiber of its own, and the thread that resumed it
/// (none when the event loop did).
#[derive(Clone, Copy)]
pub(crate) struct RunningThread {
    thread: u32,
    resumer: Option<u32>,
}

/// The thread the code of plan component instance `table` runs in: the
/// innermost running thread of a fiber of its own, if it belongs to the
/// current task, else the current task's implicit thread (numbered on first
/// use).
fn current_thread(
    store: &mut StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
    what: &str,
) -> Result<u32, Error> {
    let task = current_task(store, instance, table, what)?;
    let (task_id, implicit) = (task.id, task.thread);
    if let Some(running) = own_running_thread(store, instance) {
        return Ok(running);
    }
    if let Some(thread) = implicit {
        return Ok(thread);
    }
    let data = &mut store.component_instances[instance];
    let thread = data.new_thread(Thread {
        table,
        task: task_id,
        state: ThreadState::Implicit { parked: false },
    });
    current_task(store, instance, table, what)?.thread = Some(thread);
    Ok(thread)
}

impl super::ComponentInstanceData {
    /// Adds `thread` to the threads, under a new number.
    fn new_thread(&mut self, thread: Thread) -> u32 {
        self.next_thread += 1;
        self.threads.insert(self.next_thread, thread);
        self.next_thread
    }

    /// Thread `index` of plan component instance `table`.
    fn thread(&mut self, table: ComponentInstanceIndex, index: u32) -> Result<&mut Thread, Error> {
        match self.threads.get_mut(&index) {
            Some(thread) if thread.table == table => Ok(thread),
            _ => Err(unknown_thread(index)),
        }
    }
}

/// The error of naming thread `index`, which the instance does not have.
fn unknown_thread(index: u32) -> Error {
    Error::Usage(format!("unknown thread {index}"))
}

impl Thread {
    /// Whether it is suspended (neither running nor waiting for anything
    /// but another thread's resume).
    fn suspended(&self) -> bool {
        match &self.state {
            ThreadState::Implicit { parked } => *parked,
            ThreadState::Parked { until, .. } => matches!(until, Until::Suspended),
            ThreadState::Running { parked } => *parked,
        }
    }

    /// Whether it is parked on its fiber and what it waits for has
    /// happened, so that it may run now.
    fn ready(&self, store: &StoreOpaque) -> Result<bool, Error> {
        match &self.state {
            ThreadState::Parked { until, .. } => until.holds(store),
            ThreadState::Implicit { .. } | ThreadState::Running { .. } => Ok(false),
        }
    }

    /// Marks it, if it is implicit or running, switched away from (parked)
    /// or not.
    fn set_parked(&mut self, value: bool) {
        if let ThreadState::Implicit { parked } | ThreadState::Running { parked } = &mut self.state
        {
            *parked = value;
        }
    }
}

/// The innermost running thread of a fiber of its own, if it belongs to
/// the current task (the code then runs in it).
fn own_running_thread(store: &StoreOpaque, instance: usize) -> Option<u32> {
    let data = &store.component_instances[instance];
    let task = data.tasks.last()?;
    let running = data.running_threads.last()?;
    (data.threads.get(&running.thread)?.task == task.id).then_some(running.thread)
}

/// Whether the code runs in a thread of a fiber of its own that belongs to
/// the current task, whose blocking then suspends that fiber.
pub(super) fn in_own_thread(store: &StoreOpaque, instance: usize) -> bool {
    own_running_thread(store, instance).is_some()
}

/// `thread.index`.
pub(super) fn thread_index(
    store: &mut StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
) -> Result<u32, Error> {
    check_may_leave(store, instance, table)?;
    current_thread(store, instance, table, "thread.index")
}

/// `thread.new-indirect`: a suspended thread of the current task that will
/// call element `index` of `funcs` (a `(func (param i32))`) with `arg`.
pub(super) fn thread_new_indirect(
    store: &mut StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
    funcs: &CoreDef,
    (index, arg): (u32, u32),
) -> Result<u32, Error> {
    check_may_leave(store, instance, table)?;
    let task = current_task(store, instance, table, "thread.new-indirect")?.id;
    let Extern::Table(funcs) = resolve_core(store, instance, funcs)? else {
        return Err(Error::Link("`thread.new-indirect` has no table".into()));
    };
    let func = match funcs.get(&*store, index) {
        Some(CoreVal::FuncRef(Some(func))) => func,
        Some(_) => return Err(Trap::new(TrapKind::UninitializedElement).into()),
        None => return Err(Trap::new(TrapKind::TableOutOfBounds).into()),
    };
    let ty = func.ty(&*store);
    if *ty.params != [ValType::I32] || !ty.results.is_empty() {
        return Err(Trap::new(TrapKind::IndirectCallTypeMismatch).into());
    }
    let fiber = Fiber::new(store, move |store| {
        func.call_flat(&mut *store, &[CoreVal::I32(arg as i32)], &mut [])
    })?;
    let until = Until::Suspended;
    let state = ThreadState::Parked { fiber, until };
    let data = &mut store.component_instances[instance];
    Ok(data.new_thread(Thread { table, task, state }))
}

/// Runs parked thread `index` on its fiber, from the current stack, until
/// it waits again or ends; `resumer` is the thread that resumes it.
pub(super) fn run_thread(
    store: &mut StoreOpaque,
    instance: usize,
    index: u32,
    resumer: Option<u32>,
) -> Result<(), Error> {
    let data = &mut store.component_instances[instance];
    let Some(thread) = data.threads.get_mut(&index) else {
        return Err(unknown_thread(index));
    };
    let ThreadState::Parked { mut fiber, .. } =
        std::mem::replace(&mut thread.state, ThreadState::Running { parked: false })
    else {
        return Err(Error::Usage(format!("thread {index} is not parked")));
    };
    data.running_threads.push(RunningThread {
        thread: index,
        resumer,
    });
    let resumed = fiber.resume(store, instance);
    let data = &mut store.component_instances[instance];
    data.running_threads.pop();
    match resumed {
        Ok(Resumed::Blocked(until)) => {
            if let Some(thread) = data.threads.get_mut(&index) {
                thread.state = ThreadState::Parked { fiber, until };
            }
            Ok(())
        }
        Ok(Resumed::Done(())) => {
            data.threads.remove(&index);
            Ok(())
        }
        Err(err) => {
            data.threads.remove(&index);
            Err(err)
        }
    }
}

/// `thread.yield-then-resume` (`yields`) or `thread.suspend-then-resume`
/// of thread `other`, which must be suspended.
pub(super) fn thread_switch(
    store: &mut StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
    other: u32,
    yields: bool,
) -> Result<(), Error> {
    check_may_leave(store, instance, table)?;
    let me = current_thread(store, instance, table, "a thread switch")?;
    let data = &mut store.component_instances[instance];
    let running = data.running_threads.last().copied();
    let resumer = running.filter(|r| r.thread == me).and_then(|r| r.resumer);
    let target = data.thread(table, other)?;
    if resumer == Some(other) {
        // Back to the thread that resumed this one, below on the stack
        // (switched away from, so suspended for this purpose).
        target.set_parked(false);
        let until = if yields {
            Until::Yield
        } else {
            Until::Suspended
        };
        if !block_fiber(store, until) {
            return Err(Error::Usage("a thread switched off its fiber".into()));
        }
        return Ok(());
    }
    if !target.suspended() {
        return Err(not_suspended(other));
    }
    if let ThreadState::Implicit { .. } | ThreadState::Running { .. } = target.state {
        return Err(Error::Unsupported(
            "a switch to a thread further down the native stack than the one that \
             resumed the current thread"
                .into(),
        ));
    }
    let task = target.task;
    set_parked(store, instance, table, me, !yields);
    // The thread runs as part of its own task, which may be another one
    // of the instance's.
    let ran = with_task_current(store, instance, task, |store| {
        run_thread(store, instance, other, Some(me))
    })
    .unwrap_or_else(|| Err(Error::Usage(format!("thread {other}'s task is gone"))));
    // The switch nests on the native stack, so the other thread's first
    // block comes back here: a thread that suspended itself for it stays
    // suspended until another resumes it, as after `thread.suspend`.
    let ran = match ran {
        Ok(()) if is_suspended(store, instance, me) => stay_suspended(store, instance, table, me),
        ran => ran,
    };
    set_parked(store, instance, table, me, false);
    ran
}

/// Whether thread `index` is suspended (see [`Thread::suspended`]).
fn is_suspended(store: &StoreOpaque, instance: usize, index: u32) -> bool {
    let thread = store.component_instances[instance].threads.get(&index);
    thread.is_some_and(Thread::suspended)
}

/// Keeps thread `me`, parked, suspended until another thread resumes it:
/// an implicit thread blocks its task, a thread of a fiber of its own
/// suspends the fiber.
fn stay_suspended(
    store: &mut StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
    me: u32,
) -> Result<(), Error> {
    let thread = store.component_instances[instance].thread(table, me)?;
    if let ThreadState::Implicit { .. } = thread.state {
        return wait_until_resumed(store, instance, table, me);
    }
    if !block_fiber(store, Until::Suspended) {
        return Err(Error::Usage("a thread suspended off its fiber".into()));
    }
    Ok(())
}

/// Blocks the task of implicit thread `me`, parked, until another thread
/// resumes it (a task that may not block traps first).
fn wait_until_resumed(
    store: &mut StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
    me: u32,
) -> Result<(), Error> {
    may_block(store, instance, table)?;
    let resumed = move |store: &StoreOpaque| Ok(!is_suspended(store, instance, me));
    block_until(store, instance, table, "`thread.suspend`", resumed)
}

/// `thread.yield-then-promote` (`yields`) or `thread.suspend-then-promote`
/// of thread `other`: when it waits for something that has happened (a
/// yield, say), it stops waiting and the current thread switches to it, as
/// `thread.*-then-resume` does; otherwise the current thread only yields
/// or suspends. Only a thread on a fiber of its own can be switched to
/// here (an implicit one is further down the native stack), so one that
/// is not falls back the same way.
pub(super) fn thread_promote(
    store: &mut StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
    other: u32,
    yields: bool,
) -> Result<(), Error> {
    check_may_leave(store, instance, table)?;
    let seen: &StoreOpaque = store;
    let ready = match seen.component_instances[instance].threads.get(&other) {
        Some(thread) if thread.table == table => thread.ready(seen)?,
        _ => return Err(unknown_thread(other)),
    };
    if ready {
        if let ThreadState::Parked { until, .. } = &mut store.component_instances[instance]
            .thread(table, other)?
            .state
        {
            *until = Until::Suspended;
        }
        return thread_switch(store, instance, table, other, yields);
    }
    match yields {
        true => thread_yield(store, instance, table),
        false => thread_suspend(store, instance, table),
    }
}

/// Marks thread `index` (see [`Thread::set_parked`]).
fn set_parked(
    store: &mut StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
    index: u32,
    value: bool,
) {
    if let Ok(thread) = store.component_instances[instance].thread(table, index) {
        thread.set_parked(value);
    }
}

/// The error of resuming thread `index`, which is not suspended.
fn not_suspended(index: u32) -> Error {
    Error::Usage(format!(
        "thread {index} is not suspended: only a suspended thread may be resumed"
    ))
}

/// `thread.resume-later` of thread `other`, which must be suspended: it
/// becomes ready, for the event loop (or, for an implicit thread, for the
/// switch below it on the stack) to resume.
pub(super) fn thread_resume_later(
    store: &mut StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
    other: u32,
) -> Result<(), Error> {
    check_may_leave(store, instance, table)?;
    let thread = store.component_instances[instance].thread(table, other)?;
    if !thread.suspended() {
        return Err(not_suspended(other));
    }
    match &mut thread.state {
        ThreadState::Implicit { parked } => *parked = false,
        ThreadState::Parked { until, .. } => *until = Until::Yield,
        ThreadState::Running { parked } => *parked = false,
    }
    Ok(())
}

/// `thread.suspend`: the current thread waits until another resumes it
/// (a task that may not block traps first). An implicit thread blocks its
/// task until then.
pub(super) fn thread_suspend(
    store: &mut StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
) -> Result<(), Error> {
    check_may_leave(store, instance, table)?;
    may_block(store, instance, table)?;
    let me = current_thread(store, instance, table, "thread.suspend")?;
    let data = &mut store.component_instances[instance];
    let ThreadState::Implicit { parked } = &mut data.thread(table, me)?.state else {
        if !block_fiber(store, Until::Suspended) {
            return Err(Error::Usage("a thread suspended off its fiber".into()));
        }
        return Ok(());
    };
    *parked = true;
    wait_until_resumed(store, instance, table, me)
}

/// A parked thread of a fiber of its own that may run now, and its task.
pub(super) fn ready_thread(
    store: &StoreOpaque,
    instance: usize,
) -> Result<Option<(u32, u64)>, Error> {
    let data = &store.component_instances[instance];
    for (&index, thread) in &data.threads {
        if thread.ready(store)? {
            return Ok(Some((index, thread.task)));
        }
    }
    Ok(None)
}

/// Forgets the threads of task `task` (its implicit thread, and those
/// parked on fibers of their own, which cannot run without it).
pub(super) fn end_threads(store: &mut StoreOpaque, instance: usize, task: u64) {
    let data = &mut store.component_instances[instance];
    data.threads.retain(|_, thread| thread.task != task);
}
