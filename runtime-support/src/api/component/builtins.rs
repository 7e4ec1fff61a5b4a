//! The canonical built-ins other than lift and lower as core functions:
//! the resource built-ins (`resource.new`, `resource.rep`,
//! `resource.drop`) over a component instance's handle table, and those of
//! the asynchronous component model (`super::tasks`).

use super::context::{Options, handle_table};
use super::copies::{self, CopyOp};
use super::event_loop::{subtask_cancel, thread_yield, wait_or_poll};
use super::instance::{check_may_leave, import_names, on_first_use, resolve_core, run_dtor};
use super::linker::{Definition, HostDtor, Linker};
use super::tasks::{self, TaskReturn};
use super::threads;
use crate::abi::{
    CanonBuiltinIndex, CanonBuiltinOp, ComponentInstanceIndex, CoreDef, ResourceDef, ResourceOp,
    ResourceTypeId, ValType,
};
use crate::api::{AsStoreMut, Caller, Error, Extern, Func as CoreFunc, Store, Val as CoreVal};
use crate::canon::{Dropped, PtrType, StringEncoding};

/// What `resource.drop` runs for an owned resource.
enum Destructor<T> {
    /// The linker's destructor of a host resource type.
    Host(HostDtor<T>),
    /// A guest-defined type's destructor function, if it has one.
    Guest(Option<CoreDef>),
}

/// The core function for built-in `i`, created on first use.
pub(super) fn builtin_func<T: 'static>(
    store: &mut Store<T>,
    linker: &Linker<T>,
    instance: usize,
    i: CanonBuiltinIndex,
) -> Result<CoreFunc, Error> {
    on_first_use(
        store,
        instance,
        |d| &mut d.builtins,
        i,
        |store| {
            let component = store.inner.component_instances[instance].component.clone();
            let builtin = &component.meta().builtins[i];
            let (table, core_ty) = (builtin.instance, builtin.ty.clone());
            let func = match &builtin.op {
                CanonBuiltinOp::Resource { op, resource } => {
                    resource_func(store, linker, instance, table, *op, *resource)?
                }
                CanonBuiltinOp::ContextGet { slot } => {
                    let slot = *slot;
                    let wide = core_ty.results.first() == Some(&ValType::I64);
                    CoreFunc::new(store, core_ty, move |mut caller, _, results| {
                        let value =
                            tasks::context_get(caller.as_store_mut(), instance, table, slot)?;
                        results[0] = match wide {
                            true => CoreVal::I64(value as i64),
                            false => CoreVal::I32(value as i32),
                        };
                        Ok(())
                    })
                }
                CanonBuiltinOp::ContextSet { slot } => {
                    let slot = *slot;
                    CoreFunc::new(store, core_ty, move |mut caller, params, _| {
                        let value = match params[0] {
                            CoreVal::I64(v) => v as u64,
                            ref v => u64::from(v.i32().unwrap_or_default() as u32),
                        };
                        tasks::context_set(caller.as_store_mut(), instance, table, slot, value)
                    })
                }
                CanonBuiltinOp::BackpressureInc | CanonBuiltinOp::BackpressureDec => {
                    let by = match builtin.op {
                        CanonBuiltinOp::BackpressureInc => 1,
                        _ => -1,
                    };
                    CoreFunc::new(store, core_ty, move |mut caller, _, _| {
                        tasks::backpressure(caller.as_store_mut(), instance, table, by)
                    })
                }
                CanonBuiltinOp::TaskReturn { result, options } => {
                    let defined =
                        TaskReturn::new(&store.inner, instance, result.clone(), options.clone())?;
                    CoreFunc::new(store, core_ty, move |mut caller, params, _| {
                        let store = caller.as_store_mut();
                        tasks::task_return(store, instance, table, &defined, params)
                    })
                }
                CanonBuiltinOp::ThreadIndex => {
                    CoreFunc::new(store, core_ty, move |mut caller, _, results| {
                        let index = threads::thread_index(caller.as_store_mut(), instance, table)?;
                        results[0] = CoreVal::I32(index as i32);
                        Ok(())
                    })
                }
                CanonBuiltinOp::ThreadNewIndirect { table: funcs } => {
                    let funcs = funcs.clone();
                    CoreFunc::new(store, core_ty, move |mut caller, params, results| {
                        let store = caller.as_store_mut();
                        let start = (arg(params), arg(&params[1..]));
                        let index =
                            threads::thread_new_indirect(store, instance, table, &funcs, start)?;
                        results[0] = CoreVal::I32(index as i32);
                        Ok(())
                    })
                }
                CanonBuiltinOp::ThreadResumeLater => {
                    CoreFunc::new(store, core_ty, move |mut caller, params, _| {
                        let store = caller.as_store_mut();
                        threads::thread_resume_later(store, instance, table, arg(params))
                    })
                }
                CanonBuiltinOp::ThreadSuspend => {
                    CoreFunc::new(store, core_ty, move |mut caller, _, results| {
                        threads::thread_suspend(caller.as_store_mut(), instance, table)?;
                        // Not cancelled: these suspensions cannot be.
                        results[0] = CoreVal::I32(0);
                        Ok(())
                    })
                }
                CanonBuiltinOp::ThreadSwitch { yields, promote } => {
                    let (yields, promote) = (*yields, *promote);
                    let switch = match promote {
                        true => threads::thread_promote,
                        false => threads::thread_switch,
                    };
                    CoreFunc::new(store, core_ty, move |mut caller, params, results| {
                        let store = caller.as_store_mut();
                        switch(store, instance, table, arg(params), yields)?;
                        // Not cancelled: `cancellable` is gone (#716).
                        results[0] = CoreVal::I32(0);
                        Ok(())
                    })
                }
                CanonBuiltinOp::TaskCancel => {
                    CoreFunc::new(store, core_ty, move |mut caller, _, _| {
                        tasks::task_cancel(caller.as_store_mut(), instance, table)
                    })
                }
                CanonBuiltinOp::WaitableSetNew => {
                    CoreFunc::new(store, core_ty, move |mut caller, _, results| {
                        let store = caller.as_store_mut();
                        check_may_leave(store, instance, table)?;
                        let set = handle_table(store, instance, table).new_waitable_set()?;
                        results[0] = CoreVal::I32(set as i32);
                        Ok(())
                    })
                }
                CanonBuiltinOp::WaitableSetWait { memory }
                | CanonBuiltinOp::WaitableSetPoll { memory } => {
                    let block = matches!(builtin.op, CanonBuiltinOp::WaitableSetWait { .. });
                    let Extern::Memory(memory) = resolve_core(&store.inner, instance, memory)?
                    else {
                        return Err(Error::Link("a built-in's memory is not a memory".into()));
                    };
                    // The payload's pointer has the memory's address type.
                    let ptr_type = match core_ty.params.get(1) {
                        Some(ValType::I64) => PtrType::I64,
                        _ => PtrType::I32,
                    };
                    let memory = Options::new(Some(memory), None, StringEncoding::Utf8, ptr_type);
                    CoreFunc::new(store, core_ty, move |mut caller, params, results| {
                        let store = caller.as_store_mut();
                        let at = (arg(params), ptr_arg(&params[1]));
                        let code = wait_or_poll(store, instance, table, at, memory, block)?;
                        results[0] = CoreVal::I32(code as i32);
                        Ok(())
                    })
                }
                CanonBuiltinOp::WaitableSetDrop => {
                    CoreFunc::new(store, core_ty, move |mut caller, params, _| {
                        let store = caller.as_store_mut();
                        check_may_leave(store, instance, table)?;
                        Ok(handle_table(store, instance, table).drop_waitable_set(arg(params))?)
                    })
                }
                CanonBuiltinOp::WaitableJoin => {
                    CoreFunc::new(store, core_ty, move |mut caller, params, _| {
                        let store = caller.as_store_mut();
                        check_may_leave(store, instance, table)?;
                        let (waitable, set) = (arg(params), arg(&params[1..]));
                        Ok(handle_table(store, instance, table).join(waitable, set)?)
                    })
                }
                CanonBuiltinOp::SubtaskDrop => {
                    CoreFunc::new(store, core_ty, move |mut caller, params, _| {
                        let store = caller.as_store_mut();
                        check_may_leave(store, instance, table)?;
                        Ok(handle_table(store, instance, table).drop_subtask(arg(params))?)
                    })
                }
                CanonBuiltinOp::SubtaskCancel { is_async } => {
                    let is_async = *is_async;
                    CoreFunc::new(store, core_ty, move |mut caller, params, results| {
                        let store = caller.as_store_mut();
                        let code = subtask_cancel(store, instance, table, arg(params), is_async)?;
                        results[0] = CoreVal::I32(code as i32);
                        Ok(())
                    })
                }
                CanonBuiltinOp::CopyNew { ty } => {
                    let ty = ty.clone();
                    CoreFunc::new(store, core_ty, move |mut caller, _, results| {
                        let store = caller.as_store_mut();
                        let ends = copies::copy_new(store, instance, table, &ty)?;
                        results[0] = CoreVal::I64(ends as i64);
                        Ok(())
                    })
                }
                CanonBuiltinOp::Copy { ty, write, options } => {
                    let op = CopyOp {
                        ty: ty.clone(),
                        write: *write,
                        options: Options::resolve(&store.inner, instance, options)?,
                        is_async: options.is_async,
                    };
                    // A stream's copy of a 64-bit memory returns an `i64`.
                    let wide = core_ty.results.first() == Some(&ValType::I64);
                    CoreFunc::new(store, core_ty, move |mut caller, params, results| {
                        let store = caller.as_store_mut();
                        let index = arg(params);
                        // A future's copy has no length parameter. A length
                        // beyond `u32` is beyond the largest buffer too, and
                        // traps as one.
                        let n = params
                            .get(2)
                            .map_or(1, |n| u32::try_from(ptr_arg(n)).unwrap_or(u32::MAX));
                        let buffer = (ptr_arg(&params[1]), n);
                        let code = copies::copy(store, instance, table, &op, index, buffer)?;
                        results[0] = match wide {
                            true => CoreVal::I64(i64::from(code)),
                            false => CoreVal::I32(code as i32),
                        };
                        Ok(())
                    })
                }
                CanonBuiltinOp::CancelCopy {
                    ty,
                    write,
                    is_async,
                } => {
                    let (ty, write, is_async) = (ty.clone(), *write, *is_async);
                    CoreFunc::new(store, core_ty, move |mut caller, params, results| {
                        let store = caller.as_store_mut();
                        let op = (&ty, write, is_async);
                        let code = copies::cancel_copy(store, instance, table, op, arg(params))?;
                        results[0] = CoreVal::I32(code as i32);
                        Ok(())
                    })
                }
                CanonBuiltinOp::DropEnd { ty, writable } => {
                    let (ty, writable) = (ty.clone(), *writable);
                    CoreFunc::new(store, core_ty, move |mut caller, params, _| {
                        let store = caller.as_store_mut();
                        copies::drop_end(store, instance, table, (&ty, writable), arg(params))
                    })
                }
                CanonBuiltinOp::ErrorContextNew { options } => {
                    let options = Options::resolve(&store.inner, instance, options)?;
                    CoreFunc::new(store, core_ty, move |mut caller, params, results| {
                        let store = caller.as_store_mut();
                        let message = (ptr_arg(&params[0]), ptr_arg(&params[1]));
                        let index =
                            copies::error_context_new(store, instance, table, options, message)?;
                        results[0] = CoreVal::I32(index as i32);
                        Ok(())
                    })
                }
                CanonBuiltinOp::ErrorContextDebugMessage { options } => {
                    let options = Options::resolve(&store.inner, instance, options)?;
                    CoreFunc::new(store, core_ty, move |mut caller, params, _| {
                        let store = caller.as_store_mut();
                        let at = (arg(params), ptr_arg(&params[1]));
                        copies::error_context_debug_message(store, instance, table, options, at)
                    })
                }
                CanonBuiltinOp::ErrorContextDrop => {
                    CoreFunc::new(store, core_ty, move |mut caller, params, _| {
                        let store = caller.as_store_mut();
                        copies::error_context_drop(store, instance, table, arg(params))
                    })
                }
                CanonBuiltinOp::ThreadYield => {
                    CoreFunc::new(store, core_ty, move |mut caller, _, results| {
                        let store = caller.as_store_mut();
                        check_may_leave(store, instance, table)?;
                        thread_yield(store, instance, table)?;
                        // Not cancelled: cancellation is not built yet.
                        results[0] = CoreVal::I32(0);
                        Ok(())
                    })
                }
            };
            Ok(func.internal(&mut store.inner))
        },
    )
}

/// The core function of resource built-in `op` of resource type `ty`,
/// over the handle table of plan component instance `table`.
fn resource_func<T: 'static>(
    store: &mut Store<T>,
    linker: &Linker<T>,
    instance: usize,
    table: ComponentInstanceIndex,
    op: ResourceOp,
    ty: ResourceTypeId,
) -> Result<CoreFunc, Error> {
    let component = store.inner.component_instances[instance].component.clone();
    let i32_ty = || crate::abi::FuncType::new([ValType::I32], [ValType::I32]);
    Ok(match op {
        ResourceOp::New => CoreFunc::new(store, i32_ty(), move |mut caller, params, results| {
            let store = caller.as_store_mut();
            check_may_leave(store, instance, table)?;
            let handle = handle_table(store, instance, table).new_own(ty, arg(params))?;
            results[0] = CoreVal::I32(handle as i32);
            Ok(())
        }),
        ResourceOp::Rep => CoreFunc::new(store, i32_ty(), move |mut caller, params, results| {
            let store = caller.as_store_mut();
            let rep = handle_table(store, instance, table).rep(arg(params), ty)?;
            results[0] = CoreVal::I32(rep as i32);
            Ok(())
        }),
        ResourceOp::Drop => {
            let dtor = match &component.meta().resources[ty] {
                ResourceDef::Host(path) => match linker.get(&import_names(&component, path)) {
                    Some(Definition::Resource(dtor)) => Destructor::Host(dtor.clone()),
                    _ => {
                        return Err(Error::Link(format!(
                            "unknown import: resource `{}` has not been defined",
                            import_names(&component, path).join("#")
                        )));
                    }
                },
                ResourceDef::Guest { dtor, .. } => Destructor::Guest(dtor.clone()),
            };
            let drop_ty = crate::abi::FuncType::new([ValType::I32], []);
            CoreFunc::new(
                store,
                drop_ty,
                move |mut caller: Caller<'_, T>, params, _| {
                    let store = caller.as_store_mut();
                    check_may_leave(store, instance, table)?;
                    let Dropped::Own { rep } =
                        handle_table(store, instance, table).drop(arg(params), ty)?
                    else {
                        return Ok(());
                    };
                    match &dtor {
                        Destructor::Host(dtor) => dtor(caller.reborrow(), rep),
                        Destructor::Guest(dtor) => run_dtor(store, instance, dtor.as_ref(), rep),
                    }
                },
            )
        }
    })
}

/// The first (only) `i32` argument of a built-in, as the handle or
/// representation it is.
fn arg(params: &[CoreVal]) -> u32 {
    u32_of(&params[0])
}

/// An `i32` argument, as the unsigned handle, length or pointer it is.
fn u32_of(v: &CoreVal) -> u32 {
    v.i32().unwrap_or_default() as u32
}

/// A pointer or length argument, of a 32- or 64-bit memory.
fn ptr_arg(v: &CoreVal) -> u64 {
    match *v {
        CoreVal::I64(v) => v as u64,
        ref v => u64::from(u32_of(v)),
    }
}
