//! Lowered host imports: core functions that lift their arguments out of
//! the calling component instance, call the host function the linker
//! defines, and lower its results back.

use super::context::{Cx, Delivery, LowerSite, Options, finish_lowered_call, handle_table};
use super::event_loop::{block_until, may_block};
use super::host_tasks::{self, FirstPoll, Target};
use super::imported::path_definition;
use super::instance::{check_may_leave, import_names, on_first_use, resolved_options};
use super::intercept::{Call, CallKind, intercepted};
use super::linker::{AsyncHostFunc, Definition, HostFunc, Linker};
use super::tasks::{has_waited_result, take_waited_result};
use crate::abi::{LoweredIndex, ValType};
use crate::api::store::StoreOpaque;
use crate::api::{AsStoreMut, Caller, Error, Func as CoreFunc, Store, Val as CoreVal};
use crate::canon::handles::Entry;
use crate::canon::typed::{LiftParams, LowerResults, lift_params_typed};
use crate::canon::waitables::{Subtask, SubtaskState};
use crate::canon::{
    FlatContext, FlatType, FuncType, Lends, Lowering, PtrType, Val, flatten_functype,
    lift_params_as, lower_results_as, return_pointer_as,
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
            let typecheck = match &host {
                HostFunc::Typed(typed) => typed.typecheck(&lowered.ty),
                HostFunc::Async(f) => f.typecheck.map_or(Ok(()), |check| check(&lowered.ty)),
                HostFunc::Dynamic(_) => Ok(()),
            };
            typecheck.map_err(|e| Error::Link(format!("import `{name}`: {e}")))?;
            let site = LowerSite {
                instance,
                table: lowered.instance,
                ty: lowered.ty.clone(),
                lowering: match lowered.options.is_async {
                    true => Lowering::Async,
                    false => Lowering::Sync,
                },
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
                        HostFunc::Typed(typed)
                            if store.interceptor.is_none() && site.lowering == Lowering::Sync =>
                        {
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
/// result, or, for an async lower of an async host function whose future
/// is not ready, returns `STARTED` with a new subtask.
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
    let args = lift_params_as(&mut cx, ty, params, site.lowering)?;
    // Borrows lifted for the call stay lent until the host returns.
    let mut lends = std::mem::take(&mut cx.lends);
    let call = Call {
        kind: CallKind::Import,
        name,
    };
    let result = match host {
        HostFunc::Async(f) => {
            let call = (call, params);
            match call_async(
                &mut caller,
                site,
                call,
                f.as_ref(),
                &args,
                options,
                &mut lends,
            )? {
                Ok(result) => result,
                Err(started) => {
                    results[0] = CoreVal::I32(started as i32);
                    return Ok(());
                }
            }
        }
        HostFunc::Dynamic(_) | HostFunc::Typed(_) => {
            intercepted(&mut caller, call, &args, |caller| match host {
                HostFunc::Dynamic(f) => {
                    let mut out: Vec<Val> = ty.result.iter().map(|_| Val::Bool(false)).collect();
                    f(caller.reborrow(), &args, &mut out)?;
                    Ok(out.pop())
                }
                HostFunc::Typed(f) => f.call_vals(caller.reborrow(), ty, &args),
                HostFunc::Async(_) => unreachable!("async host functions are called above"),
            })?
        }
    };
    let store = caller.as_store_mut();
    let call = (params, results);
    finish_lowered_call(store, site, options, lends, call, |cx, retptr, flat| {
        lower_results_as(cx, ty, result.as_ref(), retptr, flat, site.lowering)
    })
}

/// A call of async host function `f` (see `host_tasks`): its result once
/// its future completed, or, for an async lower whose future is not ready
/// at once, the lower's status (`STARTED` and the new subtask, which holds
/// the call's `lends` from then on).
fn call_async<T: 'static>(
    caller: &mut Caller<'_, T>,
    site: &LowerSite,
    (call, params): (Call<'_>, &[CoreVal]),
    f: &AsyncHostFunc<T>,
    args: &[Val],
    options: Options,
    lends: &mut Lends,
) -> Result<Result<Option<Val>, u32>, Error> {
    let (instance, table, ty) = (site.instance, site.table, &site.ty);
    let store = caller.as_store_mut();
    // A synchronous call of an async function may block: only a task that
    // may block makes it (checked before the host runs), and it lets the
    // task's others run meanwhile. A synchronous function's call never
    // lets other guest code run: it waits on the thread.
    let lets_others_run = ty.is_async && site.lowering == Lowering::Sync;
    if lets_others_run {
        may_block(store, instance, table)?;
    }
    let retptr = return_pointer_as(ty, params, options.ptr_type(), site.lowering)?;
    if let Some(interceptor) = store.interceptor.as_mut() {
        interceptor.before(call, args);
    }
    let called = (|| {
        let future = (f.call)(caller.reborrow(), ty, args)?;
        let store = caller.as_store_mut();
        if site.lowering == Lowering::Sync && !lets_others_run {
            return host_tasks::block_on(future).map(Ok);
        }
        let pending = match host_tasks::first_poll(future) {
            FirstPoll::Ready(result) => return result.map(Ok),
            FirstPoll::Pending(pending) => pending,
        };
        if site.lowering == Lowering::Async {
            let delivery = Delivery {
                table,
                options,
                ty: ty.clone(),
                retptr,
            };
            let lends = std::mem::take(lends);
            let entry = Entry::Subtask(Subtask::new(SubtaskState::Started, lends));
            let subtask = handle_table(store, instance, table).add(entry)?;
            let target = Target::Subtask(subtask, delivery);
            host_tasks::keep(store, instance, pending, target, call.name);
            return Ok(Err(SubtaskState::Started as u32 | subtask << 4));
        }
        let id = host_tasks::keep(store, instance, pending, Target::Waiter, call.name);
        let what = "a synchronous call of an async host function";
        let done = move |store: &StoreOpaque| Ok(has_waited_result(store, instance, id));
        block_until(store, instance, table, what, done)?;
        Ok(Ok(take_waited_result(store, instance, id)))
    })();
    // The call ended here, unless its subtask goes on: the interceptor
    // then sees it end when the future completes.
    let store = caller.as_store_mut();
    if let Some(interceptor) = store.interceptor.as_mut() {
        match &called {
            Ok(Err(_started)) => {}
            Ok(Ok(value)) => interceptor.after(call, Ok(value.as_ref())),
            Err(e) => interceptor.after(call, Err(e)),
        }
    }
    called
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
