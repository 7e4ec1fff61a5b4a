//! Calling a component's exported functions with component values.

use super::context::{Cx, Options};
use super::instance::resolve_core;
use crate::api::{AsStore, AsStoreMut, Error, Extern, Val as CoreVal};
use crate::component::{FuncType, Val, lift_results, lower_params};

/// An exported (lifted) function of a component instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Func {
    pub(crate) store_id: u64,
    pub(crate) instance: usize,
    pub(crate) lifted: u32,
}

impl Func {
    /// The function's component type.
    pub fn ty(&self, store: impl AsStore) -> FuncType {
        let store = store.as_store();
        store.component_instances[self.instance]
            .component
            .meta()
            .lifted[self.lifted as usize]
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
        let component = store.component_instances[self.instance].component.clone();
        let lifted = &component.meta().lifted[self.lifted as usize];
        let ty = &lifted.ty;
        if params.len() != ty.params.len() {
            return Err(Error::Usage(format!(
                "expected {} argument(s), got {}",
                ty.params.len(),
                params.len()
            )));
        }
        if results.len() != usize::from(ty.result.is_some()) {
            return Err(Error::Usage(format!(
                "expected room for {} result(s), got {}",
                usize::from(ty.result.is_some()),
                results.len()
            )));
        }
        let Extern::Func(core) = resolve_core(store, self.instance, &lifted.core)? else {
            return Err(Error::Link(
                "a lifted function is not a core function".into(),
            ));
        };
        let options = Options::resolve(store, self.instance, &lifted.options)?;
        let flat = lower_params(
            &mut Cx {
                store: &mut *store,
                options,
            },
            ty,
            params,
        )?;
        let core_ty = core.ty(&*store);
        let mut core_results: Vec<CoreVal> = core_ty
            .results
            .iter()
            .map(|&t| CoreVal::default_for(t))
            .collect();
        core.call(&mut *store, &flat, &mut core_results)?;
        let result = lift_results(
            &mut Cx {
                store: &mut *store,
                options,
            },
            ty,
            &core_results,
        )?;
        if let (Some(slot), Some(result)) = (results.first_mut(), result) {
            *slot = result;
        }
        if let Some(post_return) = options.post_return {
            post_return.call(&mut *store, &core_results, &mut [])?;
        }
        Ok(())
    }
}
