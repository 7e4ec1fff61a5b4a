//! Native stacks of their own for tasks, so that a task can block while
//! its caller goes on.
//!
//! The first part of every async function, and each thread
//! `thread.new-indirect` makes, runs on a fiber: a `corosensei` coroutine
//! with a stack of its own behind a guard page. When the code blocks in a
//! nested frame (`waitable-set.wait`, a synchronous lower of an async
//! function, a synchronous copy, `thread.yield`), the fiber suspends with
//! its frames, wasm and host, kept on its stack, and whoever resumed it
//! goes on (an async lower returns to its caller, as the spec says). The
//! event loop resumes the fiber once what it waits for has happened.
//!
//! A fiber's frames reach the store through the pointer each resume
//! passes in; the store's per-call stacks that are innermost-last (its
//! tasks and the fused calls' borrow scopes) are taken off while the fiber
//! is suspended and put back on top when it resumes, so that the code
//! that runs meanwhile sees only its own. Its calls into wasm get the
//! fiber's stack limit and trap catch while it runs, and the caller's back
//! when it suspends.

use super::tasks::Task;
use crate::api::Error;
use crate::api::store::StoreOpaque;
use crate::canon::{Lends, ScopeId};
use crate::trap::{STACK_RESERVE, swap_catch};
use corosensei::stack::{DefaultStack, Stack};
use corosensei::{Coroutine, CoroutineResult, Yielder};
use std::ffi::c_void;

/// A condition on the store that a blocked task waits for.
pub(crate) type Condition = Box<dyn Fn(&StoreOpaque) -> Result<bool, Error>>;

/// What a blocked fiber waits for before the event loop resumes it.
pub(crate) enum Until {
    /// Nothing: it yielded, and runs after the others that are ready.
    Yield,
    /// This condition.
    Holds(Condition),
    /// Another thread's resume (`thread.*`): the event loop never runs it.
    Suspended,
}

impl Until {
    /// Whether the fiber may run now (a yielded one always may).
    pub(super) fn holds(&self, store: &StoreOpaque) -> Result<bool, Error> {
        match self {
            Until::Yield => Ok(true),
            Until::Holds(condition) => condition(store),
            Until::Suspended => Ok(false),
        }
    }
}

/// What a fiber passes back when it suspends: what it waits for, and the
/// store it ran with (the same store; passing it makes every frame of the
/// fiber treat the store as changed while it was suspended).
type Suspension = (Until, *mut StoreOpaque);

/// The way back out of a running fiber.
pub(crate) type FiberYielder = Yielder<*mut StoreOpaque, Suspension>;

/// The stacks of ended fibers a store keeps for the next ones (mapping a
/// stack and faulting its pages in again costs more than the switches of
/// a short async call).
const POOLED_STACKS: usize = 16;

/// A fiber running the first part of a task, or a thread, `R` its result.
pub(crate) struct Fiber<R> {
    /// Its coroutine, until it ends and its stack goes back to the store.
    body: Option<Coroutine<*mut StoreOpaque, Suspension, Result<R, Error>, DefaultStack>>,
    /// The lowest address wasm may use on its stack.
    stack_limit: usize,
    /// Its yielder, once it started: it lives on the fiber's stack.
    yielder: *const FiberYielder,
    /// Its innermost trap catch while it is suspended.
    catch: *mut c_void,
    /// Its tasks, innermost last, while it is suspended.
    pub(super) tasks: Vec<Task>,
    /// Its fused calls' borrow scopes while it is suspended.
    fused_calls: Vec<(ScopeId, Lends)>,
}

/// How a resume of a fiber ended.
pub(crate) enum Resumed<R> {
    /// Its body returned this.
    Done(R),
    /// It blocked until this.
    Blocked(Until),
}

impl<R: 'static> Fiber<R> {
    /// A fiber that runs `body` when first resumed, with a stack for
    /// `store`'s `max_wasm_stack` and the host's reserve above it (one an
    /// ended fiber left, if the store keeps one).
    pub(super) fn new(
        store: &mut StoreOpaque,
        body: impl FnOnce(&mut StoreOpaque) -> Result<R, Error> + 'static,
    ) -> Result<Fiber<R>, Error> {
        let stack = match store.fiber_stacks.pop() {
            Some(stack) => stack,
            None => {
                let size = store.engine.config().max_wasm_stack + STACK_RESERVE;
                DefaultStack::new(size)
                    .map_err(|e| Error::Resource(format!("a task's stack of {size} bytes: {e}")))?
            }
        };
        let stack_limit = stack.limit().get() + STACK_RESERVE;
        let body = Coroutine::with_stack(stack, move |yielder: &FiberYielder, store| {
            // SAFETY: each resume passes the store it was called with and
            // leaves it alone until the fiber returns or suspends.
            let store: &mut StoreOpaque = unsafe { &mut *store };
            *store.running_fibers.last_mut().expect("pushed by resume") = yielder;
            body(store)
        });
        Ok(Fiber {
            body: Some(body),
            stack_limit,
            yielder: std::ptr::null(),
            catch: std::ptr::null_mut(),
            tasks: Vec::new(),
            fused_calls: Vec::new(),
        })
    }

    /// Runs the fiber, for the store's component instance `instance`,
    /// until it returns or blocks.
    pub(super) fn resume(
        &mut self,
        store: &mut StoreOpaque,
        instance: usize,
    ) -> Result<Resumed<R>, Error> {
        let Some(body) = &mut self.body else {
            return Err(Error::Usage("a fiber resumed after it ended".into()));
        };
        let data = &mut store.component_instances[instance];
        let bases = (data.tasks.len(), data.fused_calls.len());
        data.tasks.append(&mut self.tasks);
        data.fused_calls.append(&mut self.fused_calls);
        let outer_limit = std::mem::replace(&mut store.ctx.stack_limit, self.stack_limit);
        let outer_catch = swap_catch(self.catch);
        store.running_fibers.push(self.yielder);
        let store_ptr = store as *mut StoreOpaque;
        // A panic on the fiber comes out here: the caller's stack limit and
        // trap catch are put back before it goes on unwinding.
        let resumed =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body.resume(store_ptr)));
        self.yielder = store.running_fibers.pop().unwrap_or(std::ptr::null());
        self.catch = swap_catch(outer_catch);
        store.ctx.stack_limit = outer_limit;
        let take_back = |store: &mut StoreOpaque| {
            let data = &mut store.component_instances[instance];
            let tasks = data.tasks.drain(bases.0.min(data.tasks.len())..).collect();
            let fused = (data
                .fused_calls
                .drain(bases.1.min(data.fused_calls.len())..))
            .collect();
            (tasks, fused)
        };
        let resumed = resumed.unwrap_or_else(|panic| {
            take_back(store);
            std::panic::resume_unwind(panic)
        });
        match resumed {
            CoroutineResult::Return(result) => {
                if let Some(body) = self.body.take()
                    && store.fiber_stacks.len() < POOLED_STACKS
                {
                    store.fiber_stacks.push(body.into_stack());
                }
                result.map(Resumed::Done)
            }
            CoroutineResult::Yield((until, _)) => {
                (self.tasks, self.fused_calls) = take_back(store);
                Ok(Resumed::Blocked(until))
            }
        }
    }
}

impl<R> Drop for Fiber<R> {
    fn drop(&mut self) {
        if let Some(body) = &mut self.body
            && body.started()
            && !body.done()
        {
            // SAFETY: the frames on a suspended fiber's stack are the
            // runtime's and wasm's, which own nothing that must be dropped
            // for the store to stay sound (what they hold is leaked), and
            // nothing refers into the stack once the fiber is gone. They
            // cannot be unwound: compiled code has no unwind tables.
            unsafe { body.force_reset() };
        }
    }
}

/// Blocks the fiber the code runs on, if it runs on one, until `until`:
/// returns `false` at once when it runs on no fiber (the caller then
/// blocks at the bottom of the native stack instead).
pub(super) fn block_fiber(store: &mut StoreOpaque, until: Until) -> bool {
    let Some(&yielder) = store.running_fibers.last() else {
        return false;
    };
    // SAFETY: the innermost running fiber is the one this code runs on
    // (fibers start and resume nested, and suspend innermost first), and
    // its yielder lives on its stack.
    let yielder = unsafe { &*yielder };
    yielder.suspend((until, store as *mut StoreOpaque));
    true
}
