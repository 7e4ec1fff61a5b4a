//! Lowered host imports: core functions that lift their arguments out of
//! the calling component instance, call the host function the linker
//! defines, and lower its results back.

use super::context::{Cx, handle_table};
use super::instance::{check_may_leave, on_first_use, resolved_options};
use super::intercept::{Call, CallKind, intercepted};
use super::linker::{Definition, HostFunc, Linker};
use crate::abi::{LoweredIndex, ValType};
use crate::api::{AsStoreMut, Caller, Error, Func as CoreFunc, Store, Val as CoreVal};
use crate::canon::{
    FlatContext, FlatType, PtrType, Val, flatten_functype, lift_params, lower_results,
    return_pointer,
};

/// The core type of a `canon lower` of `ty` whose memory has pointers of
/// type `ptr`.
pub(super) fn lowered_core_type(ty: &crate::canon::FuncType, ptr: PtrType) -> crate::abi::FuncType {
    let sig = flatten_functype(ty, FlatContext::Lower, ptr);
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
            let (import_name, ty) = &component.meta().imports[lowered.import.import];
            let mut path = vec![import_name.as_str()];
            path.extend(lowered.import.names.iter().map(String::as_str));
            let host: HostFunc<T> = match linker.get(&path) {
                Some(Definition::Func(f)) => f.clone(),
                Some(other) => {
                    return Err(Error::Link(format!(
                        "import `{}` is defined as {}, not a function",
                        path.join("#"),
                        other.kind()
                    )));
                }
                None => {
                    let _ = ty;
                    return Err(Error::Link(format!(
                        "unknown import: `{}` has not been defined",
                        path.join("#")
                    )));
                }
            };
            let name = path.join("#");
            let func_ty = lowered.ty.clone();
            let options = lowered.options.clone();
            let table = lowered.instance;
            let core_ty = lowered_core_type(&func_ty, options.ptr_type);
            let func = CoreFunc::new(
                store,
                core_ty,
                move |mut caller: Caller<'_, T>, params: &[CoreVal], results: &mut [CoreVal]| {
                    let store = caller.as_store_mut();
                    check_may_leave(store, instance, table)?;
                    let options =
                        resolved_options(store, instance, |d| &mut d.lowered_options, i, &options)?;
                    let mut cx = Cx::new(store, instance, table, options);
                    let args = lift_params(&mut cx, &func_ty, params)?;
                    // Borrows lifted for the call stay lent until the host returns.
                    let lends = std::mem::take(&mut cx.lends);
                    let call = Call {
                        kind: CallKind::Import,
                        name: &name,
                    };
                    let result = intercepted(&mut caller, call, &args, |caller| {
                        let mut out: Vec<Val> =
                            func_ty.result.iter().map(|_| Val::Bool(false)).collect();
                        host(caller.reborrow(), &args, &mut out)?;
                        Ok(out.pop())
                    })?;
                    let store = caller.as_store_mut();
                    handle_table(store, instance, table).end_lends(lends);
                    let retptr = return_pointer(&func_ty, params, options.ptr_type())?;
                    let mut flat = store.take_flat_buf();
                    lower_results(
                        &mut Cx::new(store, instance, table, options),
                        &func_ty,
                        result.as_ref(),
                        retptr,
                        &mut flat,
                    )?;
                    results.copy_from_slice(&flat);
                    store.put_flat_buf(flat);
                    Ok(())
                },
            );
            Ok(func)
        },
    )
}

fn core_type(t: FlatType) -> ValType {
    match t {
        FlatType::I32 => ValType::I32,
        FlatType::I64 => ValType::I64,
        FlatType::F32 => ValType::F32,
        FlatType::F64 => ValType::F64,
    }
}
