//! Watching the calls that cross component boundaries: an export the host
//! calls, a host import a component calls, a call from one component into
//! another. An embedder sees each one, with its values, through an
//! [`Interceptor`] on the store (`cmc run --trace` prints them).
//!
//! Without an interceptor nothing here runs but one test of an `Option` on
//! paths that already leave compiled code; calls between components stay
//! in their fused adapters. With one, such calls take the runtime's
//! adapters, which have the values in hand, so the interceptor must be set
//! before the component is instantiated.

use crate::abi::LiftedIndex;
use crate::api::store::StoreOpaque;
use crate::api::{AsStoreMut, Error, Store};
use crate::canon::Val;

/// Which boundary a call crosses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallKind {
    /// The host calls a component's export.
    Export,
    /// A component calls a function the host defines.
    Import,
    /// A component calls a function another component exports.
    Component,
}

/// One intercepted call.
#[derive(Clone, Copy, Debug)]
pub struct Call<'a> {
    /// The boundary it crosses.
    pub kind: CallKind,
    /// The callee: its export path (`interface#func`) for an export or a
    /// call between components, its import path for a host import.
    pub name: &'a str,
}

/// How a suspended task goes on ([`Interceptor::resumed`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resumption {
    /// Its callback is called with an event: the spec's event code (0
    /// none, 1 subtask, 2 stream read, 3 stream write, 4 future read, 5
    /// future write, 6 task cancelled) and its two payloads.
    Callback {
        /// The event code.
        code: u32,
        /// The waitable's index (or 0).
        index: u32,
        /// The event's payload.
        payload: u32,
    },
    /// It was blocked on its fiber (a stackful task, or a synchronous call
    /// it made) and its fiber runs again.
    Fiber,
}

/// Sees every call that crosses a component boundary, before and after it
/// runs. Calls nest: a host import or a call into another component comes
/// between the `before` and `after` of the export that made it. The one
/// exception is an async host function whose future was not ready at
/// once: its `after` comes when the future completes (or, cancelled, with
/// an error), which may be after its caller's, and two such calls in
/// flight end in any order.
pub trait Interceptor: Send {
    /// The call is about to run with these arguments.
    fn before(&mut self, call: Call<'_>, params: &[Val]);
    /// The call returned this result (`None` for a function without one),
    /// or failed.
    fn after(&mut self, call: Call<'_>, result: Result<Option<&Val>, &Error>);
    /// The task of an async call to `task` (named as in its `before`) that
    /// had suspended goes on, as `how` says. Resumptions come between the
    /// `before` and `after` of the call that drives the event loop, or of
    /// the call the task made. Nothing by default.
    fn resumed(&mut self, task: &str, how: Resumption) {
        let _ = (task, how);
    }
}

/// The name a call of lifted function `index` of the store's component
/// instance `instance` goes by in an interceptor's view.
pub(super) fn lifted_name(store: &StoreOpaque, instance: usize, index: LiftedIndex) -> String {
    let meta = store.component_instances[instance].component.meta();
    match meta.lifted[index].name.as_str() {
        "" => format!("(lifted function {index})"),
        name => name.to_owned(),
    }
}

/// Shows the store's interceptor, if there is one, that a task of lifted
/// function `index` goes on.
pub(super) fn report_resumed(
    store: &mut StoreOpaque,
    instance: usize,
    index: LiftedIndex,
    how: Resumption,
) {
    if store.interceptor.is_none() {
        return;
    }
    let name = lifted_name(store, instance, index);
    if let Some(interceptor) = store.interceptor.as_mut() {
        interceptor.resumed(&name, how);
    }
}

impl<T> Store<T> {
    /// Shows every call that crosses a component boundary in this store to
    /// `interceptor`. Set it before instantiating: the components of an
    /// instance created earlier call each other without being seen.
    pub fn intercept_calls(&mut self, interceptor: impl Interceptor + 'static) {
        self.inner.interceptor = Some(Box::new(interceptor));
    }
}

/// Runs `call_it`, the call `call` with `params`, showing it to the
/// store's interceptor if there is one.
pub(super) fn intercepted<S: AsStoreMut>(
    store: &mut S,
    call: Call<'_>,
    params: &[Val],
    call_it: impl FnOnce(&mut S) -> Result<Option<Val>, Error>,
) -> Result<Option<Val>, Error> {
    let Some(interceptor) = store.as_store_mut().interceptor.as_mut() else {
        return call_it(store);
    };
    interceptor.before(call, params);
    let result = call_it(store);
    if let Some(interceptor) = store.as_store_mut().interceptor.as_mut() {
        interceptor.after(call, result.as_ref().map(Option::as_ref));
    }
    result
}
