//! Calls between components: the runtime adapters of a plan (lift from the
//! caller, call the lifted callee, lower back) and the host halves of fused
//! adapters (`CoreDef::Transfer`), whose memory work is in `canon::transfer`.

use super::context::{Cx, Delivery, LowerSite, Options, Relay, finish_lowered_call, handle_table};
use super::event_loop::{call_async_lowered, may_block};
use super::func::call_lifted;
use super::instance::{check_may_leave, entering, on_first_use, resolve_core, resolved_options};
use super::intercept::CallKind;
use super::lowered::lowered_core_type;
use crate::abi::{
    AbiTrap, AdapterFunc, AdapterIndex, Elements, HandleOp, ResourceDef, TransferIndex, TransferOp,
};
use crate::api::store::{StoreOpaque, unshared_bytes, unshared_bytes_mut};
use crate::api::{
    AsStoreMut, Caller, Error, Extern, Func as CoreFunc, Memory, Store, Trap, Val as CoreVal,
};
use crate::canon::string::{lift_string, store_string_into_range};
use crate::canon::transfer::{self, Memories, check_alloc, check_block, check_elements};
use crate::canon::{
    CanonError, Lends, Lowering, lift_params_as, lower_results_as, return_pointer_as,
};

/// The core function for adapter `i`, created on first use: lifts the
/// arguments out of the calling component instance, calls the lifted
/// callee with them, and lowers its result back into the caller. Handles
/// travel as representations, as in the spec's `lift_own`/`lower_own`;
/// the caller's borrows stay lent until the callee returns.
pub(super) fn adapter_func<T: 'static>(
    store: &mut Store<T>,
    instance: usize,
    i: AdapterIndex,
) -> Result<CoreFunc, Error> {
    on_first_use(
        store,
        instance,
        |d| &mut d.adapters,
        i,
        |store| {
            let component = store.inner.component_instances[instance].component.clone();
            let adapter = component.meta().adapters[i].clone();
            let site = LowerSite {
                instance,
                table: adapter.instance,
                ty: component.meta().lifted[adapter.lifted].ty.clone(),
                lowering: match adapter.options.is_async {
                    true => Lowering::Async,
                    false => Lowering::Sync,
                },
            };
            let func = CoreFunc::new(
                store,
                lowered_core_type(&site.ty, adapter.options.ptr_type, site.lowering),
                move |mut caller: Caller<'_, T>, params: &[CoreVal], results: &mut [CoreVal]| {
                    let store = caller.as_store_mut();
                    check_may_leave(store, instance, adapter.instance)?;
                    adapt(store, &site, i, &adapter, params, results).map_err(in_adapter_call)
                },
            );
            Ok(func.internal(&mut store.inner))
        },
    )
}

/// A canonical-ABI violation met inside a call between components: a trap
/// where the spec's adapter traps (see [`CanonError::adapter_trap`]).
fn in_adapter(e: CanonError) -> Error {
    match e.adapter_trap() {
        Some(kind) => Error::Trap(Trap::new(kind)),
        None => Error::Canon(e),
    }
}

/// [`in_adapter`] for the canonical-ABI errors among `e`.
fn in_adapter_call(e: Error) -> Error {
    match e {
        Error::Canon(canon) => in_adapter(canon),
        other => other,
    }
}

/// The host function through which a fused adapter raises `trap`: it
/// fails with the error the runtime's adapter gives for the same value.
pub(super) fn abi_trap_func<T: 'static>(store: &mut Store<T>, trap: AbiTrap) -> CoreFunc {
    let func = CoreFunc::wrap(store, move |_: Caller<'_, T>, (value,): (u32,)| {
        Err::<(), _>(match trap {
            AbiTrap::InvalidChar => in_adapter(CanonError::InvalidChar(value)),
            AbiTrap::InvalidDiscriminant { cases } => in_adapter(CanonError::InvalidDiscriminant {
                discriminant: value,
                cases: cases as usize,
            }),
            AbiTrap::CannotLeave => {
                Error::Trap(Trap::new(crate::abi::TrapKind::CannotLeaveComponent))
            }
            AbiTrap::CannotEnter => {
                Error::Trap(Trap::new(crate::abi::TrapKind::CannotEnterComponent))
            }
        })
    });
    func.internal(&mut store.inner)
}

/// The host function of handle operation `op` for the store's component
/// instance `instance` (see [`HandleOp`]).
pub(super) fn handle_func<T: 'static>(
    store: &mut Store<T>,
    instance: usize,
    op: HandleOp,
) -> CoreFunc {
    let func = match op {
        HandleOp::MoveOwn { ty, from, to } => {
            CoreFunc::wrap(store, move |mut caller: Caller<'_, T>, (index,): (u32,)| {
                let store = caller.as_store_mut();
                let rep = handle_table(store, instance, from).take_own(index, ty)?;
                Ok((handle_table(store, instance, to).new_own(ty, rep)?,))
            })
        }
        HandleOp::Lend { ty, from, to } => {
            let component = store.inner.component_instances[instance].component.clone();
            // `lower_borrow`: the implementing instance gets the representation.
            let implements = matches!(
                component.meta().resources.get(ty),
                Some(ResourceDef::Guest { instance, .. }) if *instance == to
            );
            CoreFunc::wrap(store, move |mut caller: Caller<'_, T>, (index,): (u32,)| {
                let store = caller.as_store_mut();
                let data = &mut store.component_instances[instance];
                let Some((scope, lends)) = data.fused_calls.last_mut() else {
                    return Err(Error::Link("a fused adapter lends outside a call".into()));
                };
                let scope = *scope;
                let rep = data.tables[from].lend(index, ty, lends)?;
                if implements {
                    return Ok((rep,));
                }
                Ok((data.tables[to].new_borrow(ty, rep, scope)?,))
            })
        }
        HandleOp::Enter { to } => {
            CoreFunc::wrap(store, move |mut caller: Caller<'_, T>, (): ()| {
                let data = &mut caller.as_store_mut().component_instances[instance];
                let scope = data.tables[to].enter_call()?;
                data.fused_calls.push((scope, Lends::new()));
                Ok(())
            })
        }
        HandleOp::Exit { to } => CoreFunc::wrap(store, move |mut caller: Caller<'_, T>, (): ()| {
            let data = &mut caller.as_store_mut().component_instances[instance];
            let Some(&(scope, _)) = data.fused_calls.last() else {
                return Err(Error::Link("a fused adapter returns outside a call".into()));
            };
            Ok(data.tables[to].exit_call(scope)?)
        }),
        HandleOp::EndLends { from } => {
            CoreFunc::wrap(store, move |mut caller: Caller<'_, T>, (): ()| {
                let data = &mut caller.as_store_mut().component_instances[instance];
                if let Some((_, lends)) = data.fused_calls.pop() {
                    data.tables[from].end_lends(lends);
                }
                Ok(())
            })
        }
    };
    func.internal(&mut store.inner)
}

/// The host half `i` of a fused adapter, for the adapter's instance (made
/// once per instantiation, so it resolves its memories up front).
pub(super) fn transfer_func<T: 'static>(
    store: &mut Store<T>,
    instance: usize,
    i: TransferIndex,
) -> Result<CoreFunc, Error> {
    let component = store.inner.component_instances[instance].component.clone();
    let transfer = &component.meta().transfers[i];
    let memory = |def| match resolve_core(&store.inner, instance, def)? {
        Extern::Memory(m) => Ok(m),
        _ => Err(Error::Link(
            "a fused adapter's memory is not a memory".into(),
        )),
    };
    let (from, to) = (memory(&transfer.from)?, memory(&transfer.to)?);
    let func = match transfer.op {
        TransferOp::Check(elements) => CoreFunc::wrap(
            store,
            move |caller: Caller<'_, T>, (ptr, len): (u64, u64)| {
                check_elements(from.data(&caller), elements, ptr, len).map_err(in_adapter)
            },
        ),
        TransferOp::Copy(elements) => CoreFunc::wrap(
            store,
            move |mut caller: Caller<'_, T>, (ptr, len, dst): (u64, u64, u64)| {
                copy_between(caller.as_store_mut(), from, to, elements, ptr, len, dst)
                    .map_err(in_adapter)
            },
        ),
        TransferOp::CheckBlock { size, align, what } => {
            CoreFunc::wrap(store, move |caller: Caller<'_, T>, (ptr,): (u64,)| {
                let memory_len = from.data(&caller).len();
                check_block(memory_len, ptr, size, align, what).map_err(in_adapter)
            })
        }
        TransferOp::CheckAlloc { size, align, what } => CoreFunc::wrap(
            store,
            move |caller: Caller<'_, T>, (ptr, len): (u64, u64)| {
                let memory_len = to.data(&caller).len();
                check_alloc(memory_len, ptr, (size, align), len, what.name()).map_err(in_adapter)
            },
        ),
        TransferOp::Transcode {
            from: (from_encoding, from_ptr),
            to: (to_encoding, to_ptr),
            into,
        } => {
            let realloc = match &transfer.realloc {
                Some(def) => match resolve_core(&store.inner, instance, def)? {
                    Extern::Func(f) => Some(f),
                    _ => {
                        return Err(Error::Link(
                            "a fused adapter's realloc is not a function".into(),
                        ));
                    }
                },
                None => None,
            };
            let options = Options::new(Some(to), realloc, to_encoding, to_ptr);
            CoreFunc::wrap(
                store,
                move |mut caller: Caller<'_, T>, (ptr, units): (u64, u64)| {
                    let store = caller.as_store_mut();
                    let memory = store.memory_bytes_mut(from.index);
                    let (s, source) = lift_string(memory, from_encoding, from_ptr, ptr, units)
                        .map_err(in_adapter)?;
                    let mut cx = Cx::new(store, instance, into, options);
                    store_string_into_range(&mut cx, &s, source).map_err(in_adapter_call)
                },
            )
        }
    };
    Ok(func.internal(&mut store.inner))
}

/// Copies the `len` elements at `ptr` in memory `from` to `dst` in memory
/// `to` (see [`transfer::copy_between`]).
fn copy_between(
    store: &mut StoreOpaque,
    from: Memory,
    to: Memory,
    elements: Elements,
    ptr: u64,
    len: u64,
    dst: u64,
) -> Result<(), CanonError> {
    let memories = if from.index == to.index {
        Memories::Same(store.memory_bytes_mut(from.index))
    } else {
        // Two distinct memories of the store, borrowed side by side (a
        // memory shared between stores lends no bytes).
        let (low, high) = store.memories.split_at_mut(from.index.max(to.index));
        let (source, dest) = if from.index < to.index {
            (&low[from.index], &mut high[0])
        } else {
            (&high[0], &mut low[to.index])
        };
        Memories::Distinct {
            from: unshared_bytes(source),
            to: unshared_bytes_mut(dest),
        }
    };
    transfer::copy_between(memories, elements, ptr, len, dst)
}

/// One call through `adapter`, the plan's adapter `i`, lowered at `site`:
/// lifts `params` out of the calling instance, calls the lifted callee, and
/// lowers its result into `results`.
fn adapt(
    store: &mut StoreOpaque,
    site: &LowerSite,
    i: AdapterIndex,
    adapter: &AdapterFunc,
    params: &[CoreVal],
    results: &mut [CoreVal],
) -> Result<(), Error> {
    let (instance, table, func_ty) = (site.instance, site.table, &site.ty);
    let options = resolved_options(
        store,
        instance,
        |d| &mut d.adapter_options,
        i,
        &adapter.options,
    )?;
    let mut cx = Cx::new(store, instance, table, options);
    // What an earlier call that failed half-way kept goes.
    cx.store.component_instances[instance]
        .relayed_strings
        .clear();
    cx.strings = Relay::Keep;
    let args = lift_params_as(&mut cx, func_ty, params, site.lowering)?;
    let lends = std::mem::take(&mut cx.lends);
    store.calls.component += 1;
    let lifted = &store.component_instances[instance].component.meta().lifted[adapter.lifted];
    let (callee, callee_async) = (lifted.instance, lifted.ty.is_async);
    // A synchronous call of an async function may block: only a task that
    // may block makes it (checked before the callee runs).
    if func_ty.is_async && site.lowering == Lowering::Sync {
        may_block(store, instance, table)?;
    }
    let mut lends = lends;
    let called = entering(store, instance, (callee, Some(table)), |store| {
        if !(callee_async && site.lowering == Lowering::Async) {
            let kind = CallKind::Component;
            let caller = Some((table, site.lowering));
            return call_lifted(store, instance, adapter.lifted, &args, kind, caller).map(Ok);
        }
        // Both sides async: the callee may suspend, and the caller go on.
        let caller = Delivery {
            table,
            options,
            ty: func_ty.clone(),
            retptr: return_pointer_as(func_ty, params, options.ptr_type(), site.lowering)?,
        };
        let strings = (Relay::Take, Relay::Keep);
        call_async_lowered(
            store,
            instance,
            adapter.lifted,
            &args,
            strings,
            caller,
            &mut lends,
        )
    })?;
    let result = match called {
        Ok(result) => result,
        Err(started) => {
            results[0] = CoreVal::I32(started as i32);
            return Ok(());
        }
    };
    let call = (params, results);
    finish_lowered_call(store, site, options, lends, call, |cx, retptr, flat| {
        cx.strings = Relay::Take;
        lower_results_as(cx, func_ty, result.as_ref(), retptr, flat, site.lowering)
    })
}
