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
