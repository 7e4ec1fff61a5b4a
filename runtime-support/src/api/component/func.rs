//! Calling a component's exported functions with component values.

use super::context::{Cx, Options, Relay, handle_table};
use super::instance::{entering, resolve_core, without_leaving};
use super::intercept::{Call, CallKind, intercepted, lifted_name};
use super::tasks::TaskCaller;
use crate::abi::{ComponentInstanceIndex, ComponentMeta, LiftedFunc, LiftedIndex};
use crate::api::store::StoreOpaque;
use crate::api::{AsStore, AsStoreMut, Error, Extern, Val as CoreVal};
use crate::canon::{FuncType, InterfaceType, Lowering, Val, lift_results, lower_params};

/// An exported (lifted) function of a component instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Func {
    pub(crate) store_id: u64,
    pub(crate) instance: usize,
    pub(crate) lifted: LiftedIndex,
}

impl Func {
    /// The function's component type.
    ///
    /// # Panics
    ///
    /// When `store` is not the store of the function's instance, as the
    /// core handles' accessors do.
    pub fn ty(&self, store: impl AsStore) -> FuncType {
        let store = store.as_store();
        (store.check(self.store_id)).expect("component function used with another store");
        store.component_instances[self.instance]
            .component
            .meta()
            .lifted[self.lifted]
            .ty
            .clone()
    }

    /// Calls the function: lowers `params` into the instance, runs it, lifts
    /// the result into `results` (empty, or one element) and runs the
    /// function's `post-return`.
    pub fn call(
        &self,
        mut store: impl AsStoreMut,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<(), Error> {
        let store = store.as_store_mut();
        store.check(self.store_id)?;
        // Argument count and types are checked by `lower_params`.
        let has_result = store.component_instances[self.instance]
            .component
            .meta()
            .lifted[self.lifted]
            .ty
            .result
            .is_some();
        if results.len() != usize::from(has_result) {
            return Err(Error::Usage(format!(
                "expected room for {} result(s), got {}",
                usize::from(has_result),
                results.len()
            )));
        }
        let result = entered(store, self.instance, self.lifted, |store| {
            call_lifted(
                store,
                self.instance,
                self.lifted,
                params,
                CallKind::Export,
                None,
            )
        })?;
        if let (Some(slot), Some(result)) = (results.first_mut(), result) {
            *slot = result;
        }
        Ok(())
    }
}

/// Runs `call` as the host's call of lifted function `lifted` of the
/// store's component instance `instance`, which enters the lifting
/// instance and its ancestors: none may be running already (a host
/// function called from inside one may not call back into it).
#[inline(always)]
pub(super) fn entered<R>(
    store: &mut StoreOpaque,
    instance: usize,
    lifted: LiftedIndex,
    call: impl FnOnce(&mut StoreOpaque) -> Result<R, Error>,
) -> Result<R, Error> {
    let callee = store.component_instances[instance].component.meta().lifted[lifted].instance;
    entering(store, instance, (callee, None), call)
}

/// Calls lifted function `lifted` of the store's component instance
/// `instance` with `params` (already checked against its type): lowers them
/// into the callee inside a borrow scope, runs it, lifts the result, closes
/// the scope and runs `post-return`.
///
/// `kind` says who calls, for the store's interceptor, and `caller` which
/// of the plan's component instances and through which kind of lower
/// (`None` for the host). The caller waits for the result (an async lower
/// of an async callee goes through `event_loop::call_async_lowered`
/// instead).
pub(super) fn call_lifted(
    store: &mut StoreOpaque,
    instance: usize,
    index: LiftedIndex,
    params: &[Val],
    kind: CallKind,
    caller: Option<(ComponentInstanceIndex, Lowering)>,
) -> Result<Option<Val>, Error> {
    // A call between components relays where its strings came from.
    let strings = match kind {
        CallKind::Component => (Relay::Take, Relay::Keep),
        CallKind::Export | CallKind::Import => (Relay::Host, Relay::Host),
    };
    let is_async = (store.component_instances[instance].component.meta().lifted[index])
        .ty
        .is_async;
    let run = |store: &mut StoreOpaque| match is_async {
        true => {
            let caller = caller.map(|(table, _)| table);
            super::event_loop::call_async_lifted(store, instance, index, params, strings, caller)
        }
        false => run_lifted(store, instance, index, params, strings),
    };
    if store.interceptor.is_none() {
        return run(store);
    }
    let name = lifted_name(store, instance, index);

    intercepted(store, Call { kind, name: &name }, params, run)
}

/// A lifted function's core function and options, resolved on its first
/// call, and whether its calls need a borrow scope.
#[derive(Clone, Copy)]
pub(crate) struct ResolvedLift {
    pub core: crate::api::Func,
    pub options: Options,
    pub scoped: bool,
}

/// The core callee and options of lifted function `index` of the store's
/// component instance `instance`, resolved on its first call.
#[inline(always)]
pub(super) fn resolve_lift(
    store: &mut StoreOpaque,
    instance: usize,
    index: LiftedIndex,
) -> Result<ResolvedLift, Error> {
    if let Some(resolved) = store.component_instances[instance].lifted[index] {
        return Ok(resolved);
    }
    let component = store.component_instances[instance].component.clone();
    let lifted = &component.meta().lifted[index];
    let Extern::Func(core) = resolve_core(store, instance, &lifted.core)? else {
        return Err(Error::Link(
            "a lifted function is not a core function".into(),
        ));
    };
    let resolved = ResolvedLift {
        core,
        options: Options::resolve(store, instance, &lifted.options)?,
        scoped: lifted.ty.param_types().any(InterfaceType::contains_borrow),
    };
    store.component_instances[instance].lifted[index] = Some(resolved);
    Ok(resolved)
}

/// A context for lowering the arguments of a call of a lifted function
/// with `resolved` options into plan component instance `table`, with the
/// call's borrow scope open when its parameters hold borrows (they must
/// be dropped before it returns).
#[inline(always)]
pub(super) fn call_context(
    store: &mut StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
    resolved: ResolvedLift,
) -> Result<Cx<'_>, Error> {
    let scope = match resolved.scoped {
        true => Some(handle_table(store, instance, table).enter_call()?),
        false => None,
    };
    let mut cx = Cx::new(store, instance, table, resolved.options);
    cx.scope = scope;
    Ok(cx)
}

/// [`call_lifted`], unseen.
/// `strings` says how the lowering of the parameters and the lifting of
/// the result treat where strings come from.
pub(super) fn run_lifted(
    store: &mut StoreOpaque,
    instance: usize,
    index: LiftedIndex,
    params: &[Val],
    (lower, lift): (Relay, Relay),
) -> Result<Option<Val>, Error> {
    run_lifted_with(
        store,
        instance,
        index,
        |cx, ty, flat| {
            cx.strings = lower;
            lower_params(cx, ty, params, flat)
        },
        |cx, ty, flat| {
            cx.strings = lift;
            lift_results(cx, ty, flat)
        },
    )
}

/// Calls lifted function `index` of the store's component instance
/// `instance`: `lower` writes the core arguments into the callee inside a
/// borrow scope, the core function runs, `lift` reads the result out of
/// its core results, the scope closes and `post-return` runs. Dynamic and
/// typed calls differ only in `lower` and `lift`. Only synchronous
/// functions are called so (async ones go through `event_loop`).
///
/// Always inlined, as are [`entered`] and `entering`: the call's `Result`
/// would otherwise come back through memory at each of the three layers,
/// and each reload stalls on store forwarding (benches/README.md).
#[inline(always)]
pub(super) fn run_lifted_with<R>(
    store: &mut StoreOpaque,
    instance: usize,
    index: LiftedIndex,
    lower: impl FnOnce(&mut Cx<'_>, &FuncType, &mut Vec<CoreVal>) -> Result<(), Error>,
    lift: impl FnOnce(&mut Cx<'_>, &FuncType, &[CoreVal]) -> Result<R, Error>,
) -> Result<R, Error> {
    let meta: *const ComponentMeta = store.component_instances[instance].component.meta();
    // SAFETY: the metadata lives behind the instance's `Component`, shared
    // and immutable, which the store holds until it is dropped (it never
    // removes a component instance): it outlives this call, whatever the
    // call does to the store. Cloning the `Component` instead would cost
    // two atomic operations a call.
    let lifted = unsafe { &(&*meta).lifted[index] };
    // SAFETY: as above.
    if unsafe { (&*meta).tasked[lifted.instance] } {
        // A synchronous function (an async one goes through `event_loop`):
        // its task cannot block, and its result comes from its core results.
        let strings = (Relay::Host, TaskCaller::Waits);
        let (result, task) = super::tasks::with_task(store, instance, index, strings, |store| {
            run_lifted_body(store, instance, (index, lifted), lower, lift)
        })?;
        if task.thread.is_some() {
            super::threads::end_threads(store, instance, task.id);
        }
        return Ok(result);
    }
    run_lifted_body(store, instance, (index, lifted), lower, lift)
}

/// [`run_lifted_with`] without the task the instance may keep (or with one
/// its caller made: `event_loop`, for a synchronous lift of an async
/// function).
#[inline(always)]
pub(super) fn run_lifted_body<R>(
    store: &mut StoreOpaque,
    instance: usize,
    (index, lifted): (LiftedIndex, &LiftedFunc),
    lower: impl FnOnce(&mut Cx<'_>, &FuncType, &mut Vec<CoreVal>) -> Result<(), Error>,
    lift: impl FnOnce(&mut Cx<'_>, &FuncType, &[CoreVal]) -> Result<R, Error>,
) -> Result<R, Error> {
    let ty = &lifted.ty;
    let resolved = resolve_lift(store, instance, index)?;
    let (core, options) = (resolved.core, resolved.options);
    let mut flat = store.take_flat_buf();
    let mut cx = call_context(store, instance, lifted.instance, resolved)?;
    let scope = cx.scope;
    lower(&mut cx, ty, &mut flat)?;
    // A lifted function has at most one core result (MAX_FLAT_RESULTS).
    let mut results_buf = [CoreVal::I32(0)];
    let core_results = &mut results_buf[..core.ty_ref().results.len().min(1)];
    store.component_instances[instance].guest_ran = true;
    core.call_flat(&mut *store, &flat, core_results)?;
    store.put_flat_buf(flat);
    let result = lift(
        &mut Cx::new(&mut *store, instance, lifted.instance, options),
        ty,
        core_results,
    )?;
    if let Some(scope) = scope {
        handle_table(store, instance, lifted.instance).exit_call(scope)?;
    }
    if let Some(post_return) = options.post_return {
        without_leaving(store, instance, lifted.instance, |store| {
            post_return.call(store, core_results, &mut [])
        })?;
    }
    Ok(result)
}
