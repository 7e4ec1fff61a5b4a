//! Calling a component's exported functions with component values.

use super::context::{Cx, Options, handle_table};
use super::instance::{resolve_core, without_leaving};
use super::intercept::{Call, CallKind, intercepted};
use crate::abi::{LiftedIndex, TrapKind};
use crate::api::store::StoreOpaque;
use crate::api::{AsStore, AsStoreMut, Error, Extern, Trap, Val as CoreVal};
use crate::canon::{FuncType, Val, lift_results, lower_params};

/// An exported (lifted) function of a component instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Func {
    pub(crate) store_id: u64,
    pub(crate) instance: usize,
    pub(crate) lifted: LiftedIndex,
}

impl Func {
    /// The function's component type.
    pub fn ty(&self, store: impl AsStore) -> FuncType {
        let store = store.as_store();
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
        // A host function called from inside this component instance may not
        // call back into it (`trap_if(not inst.may_enter_from(caller))`).
        let data = &mut store.component_instances[self.instance];
        if data.entered {
            return Err(Error::Trap(Trap::new(TrapKind::CannotEnterComponent)));
        }
        data.entered = true;
        let result = call_lifted(store, self.instance, self.lifted, params, CallKind::Export);
        store.component_instances[self.instance].entered = false;
        if let (Some(slot), Some(result)) = (results.first_mut(), result?) {
            *slot = result;
        }
        Ok(())
    }
}

/// Calls lifted function `lifted` of the store's component instance
/// `instance` with `params` (already checked against its type): lowers them
/// into the callee inside a borrow scope, runs it, lifts the result, closes
/// the scope and runs `post-return`.
///
/// `kind` says who calls, for the store's interceptor.
pub(super) fn call_lifted(
    store: &mut StoreOpaque,
    instance: usize,
    index: LiftedIndex,
    params: &[Val],
    kind: CallKind,
) -> Result<Option<Val>, Error> {
    if store.interceptor.is_none() {
        return run_lifted(store, instance, index, params);
    }
    let component = store.component_instances[instance].component.clone();
    let name = match component.meta().lifted[index].name.as_str() {
        "" => format!("(lifted function {index})"),
        name => name.to_owned(),
    };
    intercepted(store, Call { kind, name: &name }, params, |store| {
        run_lifted(store, instance, index, params)
    })
}

/// [`call_lifted`], unseen.
fn run_lifted(
    store: &mut StoreOpaque,
    instance: usize,
    index: LiftedIndex,
    params: &[Val],
) -> Result<Option<Val>, Error> {
    let component = store.component_instances[instance].component.clone();
    let lifted = &component.meta().lifted[index];
    let ty = &lifted.ty;
    let (core, options) = match store.component_instances[instance].lifted[index] {
        Some(resolved) => resolved,
        None => {
            let Extern::Func(core) = resolve_core(store, instance, &lifted.core)? else {
                return Err(Error::Link(
                    "a lifted function is not a core function".into(),
                ));
            };
            let resolved = (core, Options::resolve(store, instance, &lifted.options)?);
            store.component_instances[instance].lifted[index] = Some(resolved);
            resolved
        }
    };
    // The call's borrow scope: borrows lowered into it must be dropped
    // before it returns.
    let scope = handle_table(store, instance, lifted.instance).enter_call()?;
    let mut flat = store.take_flat_buf();
    let mut cx = Cx::new(&mut *store, instance, lifted.instance, options);
    cx.scope = Some(scope);
    lower_params(&mut cx, ty, params, &mut flat)?;
    // A lifted function has at most one core result (MAX_FLAT_RESULTS).
    let mut results_buf = [CoreVal::I32(0)];
    let core_results = &mut results_buf[..core.ty_ref().results.len().min(1)];
    if let (Some(slot), Some(&t)) = (core_results.first_mut(), core.ty_ref().results.first()) {
        *slot = CoreVal::default_for(t);
    }
    core.call(&mut *store, &flat, core_results)?;
    store.put_flat_buf(flat);
    let result = lift_results(
        &mut Cx::new(&mut *store, instance, lifted.instance, options),
        ty,
        core_results,
    )?;
    handle_table(store, instance, lifted.instance).exit_call(scope)?;
    if let Some(post_return) = options.post_return {
        without_leaving(store, instance, lifted.instance, |store| {
            post_return.call(store, core_results, &mut [])
        })?;
    }
    Ok(result)
}
