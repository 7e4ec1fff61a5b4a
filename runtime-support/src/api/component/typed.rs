//! The typed component API: exports called with Rust values
//! ([`TypedFunc`]) and host functions written with Rust types
//! ([`LinkerInstance::func_wrap`](super::LinkerInstance::func_wrap)).
//!
//! The Rust types are checked against the component function's type once,
//! when the handle is made or the component is instantiated; calls then
//! lower and lift Rust values directly (`canon::typed`), without `Val`s.
//! A store that intercepts calls sees typed calls too: they then take the
//! dynamic path, converting to and from `Val`s, as calls of async
//! functions always do (they run through the event loop, whose tasks
//! keep their values as `Val`s).

use super::func::{Func, call_lifted, entered, run_lifted_with};
use super::intercept::CallKind;
use crate::api::{AsStore, AsStoreMut, Error};
use crate::canon::FuncType;
use crate::canon::typed::{LiftResults, LowerParams, lower_params_typed};
use std::marker::PhantomData;

/// An export of a component instance whose type was checked against the
/// Rust parameter tuple `P` and result `R` (`()` or `(T,)`).
pub struct TypedFunc<P, R> {
    func: Func,
    /// Whether the function is async: its calls take the dynamic path.
    is_async: bool,
    _marker: PhantomData<fn(P) -> R>,
}

impl<P, R> Clone for TypedFunc<P, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P, R> Copy for TypedFunc<P, R> {}

/// The error of a Rust signature that is not the function's type `ty`.
pub(super) fn signature_error(ty: &FuncType, e: String) -> Error {
    Error::Usage(format!("the function has type {ty}: {e}"))
}

impl Func {
    /// Checks that the function's type is `P -> R` and returns a handle
    /// that calls it with Rust values.
    ///
    /// `P` is a tuple of [`Lower`](crate::component::Lower) types, one per
    /// parameter; `R` is `()` for no result or `(T,)` for a result of a
    /// [`Lift`](crate::component::Lift) type `T`. Records, variants, enums
    /// and flags are Rust types with `#[derive(ComponentType)]`.
    pub fn typed<P: LowerParams, R: LiftResults>(
        &self,
        store: impl AsStore,
    ) -> Result<TypedFunc<P, R>, Error> {
        let store = store.as_store();
        store.check(self.store_id)?;
        let ty = self.ty(store);
        P::typecheck(&ty.params)
            .and_then(|()| R::typecheck(ty.result.as_ref()))
            .map_err(|e| signature_error(&ty, e))?;
        Ok(TypedFunc {
            func: *self,
            is_async: ty.is_async,
            _marker: PhantomData,
        })
    }
}

impl<P: LowerParams, R: LiftResults> TypedFunc<P, R> {
    /// Calls the function: lowers `params` into the instance, runs it,
    /// lifts the result and runs the function's `post-return`.
    pub fn call(&self, mut store: impl AsStoreMut, params: P) -> Result<R, Error> {
        let store = store.as_store_mut();
        store.check(self.func.store_id)?;
        let (instance, lifted) = (self.func.instance, self.func.lifted);
        if store.interceptor.is_some() || self.is_async {
            let ty = self.func.ty(&*store);
            let args = params.to_vals(&ty.params);
            let result = entered(store, instance, lifted, |store| {
                call_lifted(store, instance, lifted, &args, CallKind::Export, None)
            })?;
            return Ok(R::from_val(result, ty.result.as_ref())?);
        }
        entered(store, instance, lifted, |store| {
            run_lifted_with(
                store,
                instance,
                lifted,
                |cx, ty, flat| lower_params_typed(cx, ty, &params, flat),
                |cx, ty, flat| R::lift(cx, ty.result.as_ref(), flat),
            )
        })
    }

    /// The dynamic function.
    pub fn func(&self) -> Func {
        self.func
    }
}
