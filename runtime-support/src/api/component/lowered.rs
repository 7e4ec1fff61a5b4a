//! Lowered host imports: core functions that lift their arguments out of
//! the calling component instance, call the host function the linker
//! defines, and lower its results back.

use super::context::{Cx, LowerSite, Options, finish_lowered_call};
use super::imported::path_definition;
use super::instance::{check_may_leave, import_names, on_first_use, resolved_options};
use super::intercept::{Call, CallKind, intercepted};
use super::linker::{Definition, HostFunc, Linker};
use crate::abi::{LoweredIndex, ValType};
use crate::api::{AsStoreMut, Caller, Error, Func as CoreFunc, Store, Val as CoreVal};
use crate::canon::typed::{LiftParams, LowerResults, lift_params_typed};
use crate::canon::{
    FlatContext, FlatType, FuncType, Lowering, PtrType, Val, flatten_functype, lift_params,
    lower_results,
};
use std::marker::PhantomData;

/// The core type of a `canon lower` of `ty` whose memory has pointers of
/// type `ptr`.
pub(super) fn lowered_core_type(
    ty: &crate::canon::FuncType,
    ptr: PtrType,
    lowering: Lowering,
) -> crate::abi::FuncType {
    let context = match lowering {
        Lowering::Sync => FlatContext::Lower,
        Lowering::Async => FlatContext::LowerAsync,
    };
    let sig = flatten_functype(ty, context, ptr);
    crate::abi::FuncType::new(
        sig.params.iter().map(|t| core_type(*t)),
        sig.results.iter().map(|t| core_type(*t)),
    )
}

/// The core function for lowered import `i`, created on first use.
pub(super) fn lowered_func<T: 'static>(
    store: &mut Store<T>,
    linker: &Linker<T>,
    instance: usize,
    i: LoweredIndex,
) -> Result<CoreFunc, Error> {
    on_first_use(
        store,
        instance,
        |d| &mut d.lowered,
        i,
        |store| {
            let component = store.inner.component_instances[instance].component.clone();
            let lowered = &component.meta().lowered[i];
            let path = import_names(&component, &lowered.import);
            let host: HostFunc<T> = match path_definition(store, linker, instance, &lowered.import)?
            {
                Definition::Func(f) => f,
                other => {
                    return Err(Error::Link(format!(
                        "import `{}` is defined as {}, not a function",
                        path.join("#"),
                        other.kind()
                    )));
                }
            };
            let name = path.join("#");
            if let HostFunc::Typed(typed) = &host {
                typed
                    .typecheck(&lowered.ty)
                    .map_err(|e| Error::Link(format!("import `{name}`: {e}")))?;
            }
            if lowered.options.is_async {
                return Err(Error::Unsupported(format!(
                    "`canon lower async` of the host function `{name}`"
                )));
            }
            let site = LowerSite {
                instance,
                table: lowered.instance,
                ty: lowered.ty.clone(),
                lowering: Lowering::Sync,
            };
            let options = lowered.options.clone();
            let core_ty = lowered_core_type(&site.ty, options.ptr_type, site.lowering);
            let func = CoreFunc::new(
                store,
                core_ty,
                move |mut caller: Caller<'_, T>, params: &[CoreVal], results: &mut [CoreVal]| {
                    let store = caller.as_store_mut();
                    check_may_leave(store, instance, site.table)?;
                    let options =
                        resolved_options(store, instance, |d| &mut d.lowered_options, i, &options)?;
                    match &host {
                        HostFunc::Typed(typed) if store.interceptor.is_none() => {
                            typed.call(caller, &site, options, params, results)
                        }
                        _ => call_dynamic(caller, &site, &name, &host, options, params, results),
                    }
                },
            );
            Ok(func)
        },
    )
}

/// A call of a host import with component values: lifts the arguments,
/// calls the host (through the store's interceptor, if any) and lowers the
/// result.
fn call_dynamic<T: 'static>(
    mut caller: Caller<'_, T>,
    site: &LowerSite,
    name: &str,
    host: &HostFunc<T>,
    options: Options,
    params: &[CoreVal],
    results: &mut [CoreVal],
) -> Result<(), Error> {
    let (instance, table, ty) = (site.instance, site.table, &site.ty);
    let store = caller.as_store_mut();
    let mut cx = Cx::new(store, instance, table, options);
    let args = lift_params(&mut cx, ty, params)?;
    // Borrows lifted for the call stay lent until the host returns.
    let lends = std::mem::take(&mut cx.lends);
    let call = Call {
        kind: CallKind::Import,
        name,
    };
    let result = intercepted(&mut caller, call, &args, |caller| match host {
        HostFunc::Dynamic(f) => {
            let mut out: Vec<Val> = ty.result.iter().map(|_| Val::Bool(false)).collect();
            f(caller.reborrow(), &args, &mut out)?;
            Ok(out.pop())
        }
        HostFunc::Typed(f) => f.call_vals(caller.reborrow(), ty, &args),
    })?;
    let store = caller.as_store_mut();
    let call = (params, results);
    finish_lowered_call(store, site, options, lends, call, |cx, retptr, flat| {
        lower_results(cx, ty, result.as_ref(), retptr, flat)
    })
}

/// A host function with Rust parameter and result types, behind
/// [`HostFunc::Typed`].
pub(crate) trait TypedHostFunc<T>: Send + Sync {
    /// Checks the Rust types against the import's type.
    fn typecheck(&self, ty: &FuncType) -> Result<(), String>;

    /// A call from wasm: lifts the arguments straight into Rust values,
    /// calls the function and lowers its result.
    fn call(
        &self,
        caller: Caller<'_, T>,
        site: &LowerSite,
        options: Options,
        params: &[CoreVal],
        results: &mut [CoreVal],
    ) -> Result<(), Error>;

    /// A call with component values, for a store that intercepts calls.
    fn call_vals(
        &self,
        caller: Caller<'_, T>,
        ty: &FuncType,
        args: &[Val],
    ) -> Result<Option<Val>, Error>;
}

/// The closure of [`LinkerInstance::func_wrap`](super::LinkerInstance::func_wrap).
pub(crate) struct TypedHost<F, P, R> {
    func: F,
    _marker: PhantomData<fn(P) -> R>,
}

impl<F, P, R> TypedHost<F, P, R> {
    pub(crate) fn new(func: F) -> Self {
        TypedHost {
            func,
            _marker: PhantomData,
        }
    }
}

impl<T: 'static, F, P, R> TypedHostFunc<T> for TypedHost<F, P, R>
where
    F: Fn(Caller<'_, T>, P) -> Result<R, Error> + Send + Sync + 'static,
    P: LiftParams + 'static,
    R: LowerResults + 'static,
{
    fn typecheck(&self, ty: &FuncType) -> Result<(), String> {
        P::typecheck(&ty.params)
            .and_then(|()| R::typecheck(ty.result.as_ref()))
            .map_err(|e| format!("the function has type {ty}: {e}"))
    }

    fn call(
        &self,
        mut caller: Caller<'_, T>,
        site: &LowerSite,
        options: Options,
        params: &[CoreVal],
        results: &mut [CoreVal],
    ) -> Result<(), Error> {
        let (instance, table, ty) = (site.instance, site.table, &site.ty);
        let mut cx = Cx::new(caller.as_store_mut(), instance, table, options);
        let args: P = lift_params_typed(&mut cx, ty, params)?;
        let lends = std::mem::take(&mut cx.lends);
        let result = (self.func)(caller.reborrow(), args)?;
        let store = caller.as_store_mut();
        let call = (params, results);
        finish_lowered_call(store, site, options, lends, call, |cx, retptr, flat| {
            result.lower(cx, ty.result.as_ref(), retptr, flat)
        })
    }

    fn call_vals(
        &self,
        caller: Caller<'_, T>,
        ty: &FuncType,
        args: &[Val],
    ) -> Result<Option<Val>, Error> {
        let args = P::from_vals(args.to_vec(), &ty.params)?;
        let result = (self.func)(caller, args)?;
        Ok(result.to_val(ty.result.as_ref()))
    }
}

fn core_type(t: FlatType) -> ValType {
    match t {
        FlatType::I32 => ValType::I32,
        FlatType::I64 => ValType::I64,
        FlatType::F32 => ValType::F32,
        FlatType::F64 => ValType::F64,
    }
}
