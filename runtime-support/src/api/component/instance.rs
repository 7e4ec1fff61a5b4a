//! Instantiating a component: running its plan against a linker.

use super::context::{Cx, Options, handle_table};
use super::func::call_lifted;
use super::linker::{Definition, HostDtor, HostFunc, Linker};
use super::{Component, Func};
use crate::abi::{
    AdapterFunc, CoreDef, Elements, ExportItem, ImportPath, ImportType, Initializer, ResourceDef,
    ResourceOp, TransferOp, TrapKind, ValType,
};
use crate::api::store::StoreOpaque;
use crate::api::{
    AsStore, AsStoreMut, Caller, Error, Extern, Func as CoreFunc, Instance as CoreInstance, Memory,
    Store, Trap, Val as CoreVal,
};
use crate::canon::transfer::{self, Memories, check_elements, check_retptr, load_pair, store_pair};
use crate::canon::{
    CanonError, Dropped, FlatContext, FlatType, FuncType, HandleTable, ResourceTypeId, ResourceVal,
    Val, flatten_functype, lift_params, lower_results, return_pointer,
};

/// A component instance's state in its store.
pub(crate) struct ComponentInstanceData {
    pub component: Component,
    /// Core instances created by the plan, in order.
    pub core: Vec<CoreInstance>,
    /// Core functions made for lowered host imports.
    pub lowered: Vec<Option<CoreFunc>>,
    /// Core functions made for resource built-ins.
    pub builtins: Vec<Option<CoreFunc>>,
    /// Core functions made for calls into other component instances.
    pub adapters: Vec<Option<CoreFunc>>,
    /// The handle table of each of the plan's component instances.
    pub tables: Vec<HandleTable>,
    /// Each lifted function's core callee and options, resolved on its
    /// first call so later calls look nothing up by name.
    pub lifted: Vec<Option<(CoreFunc, super::context::Options)>>,
    /// The spec's `may_leave` of each of the plan's component instances:
    /// false while its `realloc` or `post-return` runs, which may not call
    /// out of it.
    pub may_leave: Vec<bool>,
    /// Whether a call from the host is inside this instance. The root
    /// component instance is an ancestor of every component instance of
    /// the plan, so the spec's `may_enter` for a call from the host is this
    /// one flag.
    pub entered: bool,
}

/// An instance of a component in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Instance {
    pub(crate) store_id: u64,
    pub(crate) index: usize,
}

impl Instance {
    pub(super) fn new<T: 'static>(
        store: &mut Store<T>,
        component: &Component,
        linker: &Linker<T>,
    ) -> Result<Instance, Error> {
        if !crate::api::Engine::same(component.engine(), store.engine()) {
            return Err(Error::Usage(
                "the component belongs to another engine than the store".into(),
            ));
        }
        let meta = component.meta();
        for (name, ty) in &meta.imports {
            check_import(linker, component, &mut vec![name.as_str()], ty)?;
        }
        let index = store.inner.component_instances.len();
        let mut table = HandleTable::new();
        for (i, def) in meta.resources.iter().enumerate() {
            if let ResourceDef::Host(_) = def {
                table.set_host_defined(ResourceTypeId(i as u32));
            }
        }
        store.inner.component_instances.push(ComponentInstanceData {
            component: component.clone(),
            core: Vec::new(),
            lowered: vec![None; meta.lowered.len()],
            builtins: vec![None; meta.builtins.len()],
            adapters: vec![None; meta.adapters.len()],
            tables: vec![table; meta.instances as usize],
            lifted: vec![None; meta.lifted.len()],
            may_leave: vec![true; meta.instances as usize],
            entered: false,
        });
        for init in &meta.initializers {
            let Initializer::Instantiate { module, imports } = init;
            let externs = imports
                .iter()
                .map(|def| match def {
                    CoreDef::Lowered(i) => {
                        lowered_func(store, linker, index, *i as usize).map(Extern::Func)
                    }
                    CoreDef::Builtin(i) => {
                        builtin_func(store, linker, index, *i as usize).map(Extern::Func)
                    }
                    CoreDef::Adapter(i) => {
                        Ok(Extern::Func(adapter_func(store, index, *i as usize)))
                    }
                    CoreDef::Transfer(i) => {
                        transfer_func(store, index, *i as usize).map(Extern::Func)
                    }
                    other => resolve_core(&store.inner, index, other),
                })
                .collect::<Result<Vec<_>, _>>()?;
            let module = &component.modules()[*module as usize];
            let core = CoreInstance::new(&mut *store, module, &externs)?;
            store.inner.component_instances[index].core.push(core);
        }
        Ok(Instance {
            store_id: store.inner.id,
            index,
        })
    }

    /// Drops an owning handle the host holds (one an export returned or a
    /// host function received): runs the destructor of a guest-defined
    /// resource. A host-defined resource's representation is the host's
    /// own, so for those there is nothing to do here.
    pub fn resource_drop(
        &self,
        mut store: impl AsStoreMut,
        resource: ResourceVal,
    ) -> Result<(), Error> {
        let store = store.as_store_mut();
        store.check(self.store_id)?;
        if !resource.own {
            return Err(Error::Usage(
                "only an owning handle can be dropped; a borrow ends with its call".into(),
            ));
        }
        let component = store.component_instances[self.index].component.clone();
        match component.meta().resources.get(resource.ty.0 as usize) {
            Some(ResourceDef::Guest { dtor, .. }) => {
                run_dtor(store, self.index, dtor.as_ref(), resource.handle)
            }
            Some(ResourceDef::Host(_)) => Ok(()),
            None => Err(Error::Usage(format!(
                "the component has no {}",
                resource.ty
            ))),
        }
    }

    /// The names of the instance's root exports, in the component's order.
    pub fn export_names(&self, store: impl AsStore) -> Vec<String> {
        let store = store.as_store();
        if store.check(self.store_id).is_err() {
            return Vec::new();
        }
        let meta = store.component_instances[self.index].component.meta();
        meta.exports.iter().map(|(name, _)| name.clone()).collect()
    }

    /// The exported function at `path`: a root export name, then names
    /// inside exported instances (`["wasi:cli/run@0.2.6", "run"]`).
    pub fn get_func(&self, store: impl AsStore, path: &[&str]) -> Option<Func> {
        let store = store.as_store();
        store.check(self.store_id).ok()?;
        let meta = store.component_instances[self.index].component.meta();
        let mut items = &meta.exports;
        let (last, init) = path.split_last()?;
        for name in init {
            match items.iter().find(|(n, _)| n == name)? {
                (_, ExportItem::Instance(inner)) => items = inner,
                _ => return None,
            }
        }
        match items.iter().find(|(n, _)| n == last)? {
            (_, ExportItem::Func(lifted)) => Some(Func {
                store_id: self.store_id,
                instance: self.index,
                lifted: *lifted,
            }),
            _ => None,
        }
    }
}

/// Fails unless `linker` defines the import at `path` with a matching kind.
///
/// A resource type is the host's to define only where the plan says it is
/// defined: an interface that re-exports another's resource (`wasi:io/
/// streams` exporting `wasi:io/error`'s `error`) names the same type, not a
/// new one.
fn check_import<'a, T: 'static>(
    linker: &Linker<T>,
    component: &'a Component,
    path: &mut Vec<&'a str>,
    ty: &'a ImportType,
) -> Result<(), Error> {
    if let ImportType::Resource(id) = ty
        && let Some(ResourceDef::Host(defined_at)) = component.meta().resources.get(id.0 as usize)
        && import_names(component, defined_at) != *path
    {
        return Ok(());
    }
    let missing = |path: &[&str]| {
        let mut message = format!("unknown import: `{}` has not been defined", path.join("#"));
        if let [name] = path {
            let others = linker.other_versions(name);
            if !others.is_empty() {
                message += &format!(
                    " (the host has `{}`, which is not semver-compatible)",
                    others.join("`, `")
                );
            }
        }
        Error::Link(message)
    };
    match (ty, linker.get(path)) {
        (ImportType::Func(_), Some(Definition::Func(_))) => Ok(()),
        (ImportType::Instance(exports), Some(Definition::Instance(_))) => {
            for (name, ty) in exports {
                path.push(name);
                check_import(linker, component, path, ty)?;
                path.pop();
            }
            Ok(())
        }
        (ImportType::Resource(_), Some(Definition::Resource(_))) | (ImportType::Type, _) => Ok(()),
        (ImportType::Other(what), _) => Err(Error::Link(format!(
            "import `{}` is {what}, which cmc cannot link yet",
            path.join("#")
        ))),
        (_, None) => Err(missing(path)),
        (ty, Some(def)) => Err(Error::Link(format!(
            "import `{}` is {}, but the linker defines {}",
            path.join("#"),
            match ty {
                ImportType::Func(_) => "a function",
                ImportType::Instance(_) => "an instance",
                _ => "a resource type",
            },
            def.kind()
        ))),
    }
}

/// Runs destructor `dtor` (a core function of store component instance
/// `instance`), if any, on `rep`.
fn run_dtor(
    store: &mut StoreOpaque,
    instance: usize,
    dtor: Option<&CoreDef>,
    rep: u32,
) -> Result<(), Error> {
    let Some(dtor) = dtor else { return Ok(()) };
    let Extern::Func(f) = resolve_core(store, instance, dtor)? else {
        return Err(Error::Link(
            "a resource destructor is not a function".into(),
        ));
    };
    f.call(store, &[CoreVal::I32(rep as i32)], &mut [])
}

/// The import path of host resource `path` as linker names.
fn import_names<'m>(component: &'m Component, path: &'m ImportPath) -> Vec<&'m str> {
    let (name, _) = &component.meta().imports[path.import as usize];
    let mut names = vec![name.as_str()];
    names.extend(path.names.iter().map(String::as_str));
    names
}

/// The core function for adapter `i`, created on first use: lifts the
/// arguments out of the calling component instance, calls the lifted
/// callee with them, and lowers its result back into the caller. Handles
/// travel as representations, as in the spec's `lift_own`/`lower_own`;
/// the caller's borrows stay lent until the callee returns.
fn adapter_func<T: 'static>(store: &mut Store<T>, instance: usize, i: usize) -> CoreFunc {
    if let Some(f) = store.inner.component_instances[instance].adapters[i] {
        return f;
    }
    let component = store.inner.component_instances[instance].component.clone();
    let adapter = component.meta().adapters[i].clone();
    let func_ty = component.meta().lifted[adapter.lifted as usize].ty.clone();
    let func = CoreFunc::new(
        store,
        lowered_core_type(&func_ty),
        move |mut caller: Caller<'_, T>, params: &[CoreVal], results: &mut [CoreVal]| {
            let store = caller.as_store_mut();
            check_may_leave(store, instance, adapter.instance)?;
            adapt(store, instance, &adapter, &func_ty, params, results).map_err(|e| match e {
                Error::Canon(canon) => in_adapter(canon),
                other => other,
            })
        },
    );
    store.inner.component_instances[instance].adapters[i] = Some(func);
    func
}

/// Traps unless plan component instance `table` may call out of itself
/// (`trap_if(not inst.may_leave)`).
fn check_may_leave(store: &StoreOpaque, instance: usize, table: u32) -> Result<(), Error> {
    if store.component_instances[instance].may_leave[table as usize] {
        Ok(())
    } else {
        Err(Error::Trap(Trap::new(TrapKind::CannotLeaveComponent)))
    }
}

/// Runs `f` with plan component instance `table`'s `may_leave` cleared, as
/// the spec runs `realloc` and `post-return`.
pub(super) fn without_leaving<R>(
    store: &mut StoreOpaque,
    instance: usize,
    table: u32,
    f: impl FnOnce(&mut StoreOpaque) -> R,
) -> R {
    let flag = |store: &mut StoreOpaque, value| {
        store.component_instances[instance].may_leave[table as usize] = value;
    };
    flag(store, false);
    let result = f(store);
    flag(store, true);
    result
}

/// A canonical-ABI violation met inside a call between components: a trap
/// where the spec's adapter traps (see [`CanonError::adapter_trap`]).
fn in_adapter(e: CanonError) -> Error {
    match e.adapter_trap() {
        Some(kind) => Error::Trap(Trap::new(kind)),
        None => Error::Canon(e),
    }
}

/// The host half `i` of a fused adapter, for the adapter's instance (made
/// once per instantiation, so it resolves its memories up front).
fn transfer_func<T: 'static>(
    store: &mut Store<T>,
    instance: usize,
    i: usize,
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
    Ok(match transfer.op {
        TransferOp::Check(elements) => CoreFunc::wrap(
            store,
            move |caller: Caller<'_, T>, (ptr, len): (u32, u32)| {
                check_elements(from.data(&caller), elements, ptr, len).map_err(in_adapter)
            },
        ),
        TransferOp::Copy(elements) => CoreFunc::wrap(
            store,
            move |mut caller: Caller<'_, T>, (ptr, len, dst): (u32, u32, u32)| {
                copy_between(caller.as_store_mut(), from, to, elements, ptr, len, dst)
                    .map_err(in_adapter)
            },
        ),
        TransferOp::LoadResult(elements) => {
            CoreFunc::wrap(store, move |caller: Caller<'_, T>, (retptr,): (u32,)| {
                let memory = from.data(&caller);
                let (ptr, len) = load_pair(memory, retptr).map_err(in_adapter)?;
                check_elements(memory, elements, ptr, len).map_err(in_adapter)?;
                Ok((ptr, len))
            })
        }
        TransferOp::CheckRetptr => {
            CoreFunc::wrap(store, move |caller: Caller<'_, T>, (retptr,): (u32,)| {
                check_retptr(to.data(&caller).len(), retptr).map_err(in_adapter)
            })
        }
        TransferOp::StoreResult => CoreFunc::wrap(
            store,
            move |mut caller: Caller<'_, T>, (retptr, ptr, len): (u32, u32, u32)| {
                store_pair(to.data_mut(&mut caller), retptr, ptr, len).map_err(in_adapter)
            },
        ),
    })
}

/// Copies the `len` elements at `ptr` in memory `from` to `dst` in memory
/// `to` (see [`transfer::copy_between`]).
fn copy_between(
    store: &mut StoreOpaque,
    from: Memory,
    to: Memory,
    elements: Elements,
    ptr: u32,
    len: u32,
    dst: u32,
) -> Result<(), CanonError> {
    let memories = if from.index == to.index {
        Memories::Same(store.memories[from.index].data_mut())
    } else {
        // Two distinct memories of the store, borrowed side by side.
        let (low, high) = store.memories.split_at_mut(from.index.max(to.index));
        let (source, dest) = if from.index < to.index {
            (&low[from.index], &mut high[0])
        } else {
            (&high[0], &mut low[to.index])
        };
        Memories::Distinct {
            from: source.data(),
            to: dest.data_mut(),
        }
    };
    transfer::copy_between(memories, elements, ptr, len, dst)
}

/// One call through `adapter`: lifts `params` out of the calling instance,
/// calls the lifted callee, and lowers its result into `results`.
fn adapt(
    store: &mut StoreOpaque,
    instance: usize,
    adapter: &AdapterFunc,
    func_ty: &FuncType,
    params: &[CoreVal],
    results: &mut [CoreVal],
) -> Result<(), Error> {
    let table = adapter.instance;
    let options = Options::resolve(store, instance, &adapter.options)?;
    let mut cx = Cx::new(store, instance, table, options);
    let args = lift_params(&mut cx, func_ty, params)?;
    let lends = std::mem::take(&mut cx.lends);
    let result = call_lifted(store, instance, adapter.lifted, &args)?;
    handle_table(store, instance, table).end_lends(lends);
    let retptr = return_pointer(func_ty, params)?;
    let mut flat = store.take_flat_buf();
    lower_results(
        &mut Cx::new(store, instance, table, options),
        func_ty,
        result.as_ref(),
        retptr,
        &mut flat,
    )?;
    results.copy_from_slice(&flat);
    store.put_flat_buf(flat);
    Ok(())
}

/// The core type of a `canon lower` of `ty`.
fn lowered_core_type(ty: &crate::canon::FuncType) -> crate::abi::FuncType {
    let sig = flatten_functype(ty, FlatContext::Lower);
    crate::abi::FuncType::new(
        sig.params.iter().map(|t| core_type(*t)),
        sig.results.iter().map(|t| core_type(*t)),
    )
}

/// What `resource.drop` runs for an owned resource.
enum Destructor<T> {
    /// The linker's destructor of a host resource type.
    Host(HostDtor<T>),
    /// A guest-defined type's destructor function, if it has one.
    Guest(Option<CoreDef>),
}

/// The core function for resource built-in `i`, created on first use.
fn builtin_func<T: 'static>(
    store: &mut Store<T>,
    linker: &Linker<T>,
    instance: usize,
    i: usize,
) -> Result<CoreFunc, Error> {
    if let Some(f) = store.inner.component_instances[instance].builtins[i] {
        return Ok(f);
    }
    let component = store.inner.component_instances[instance].component.clone();
    let builtin = component.meta().builtins[i];
    let (ty, table) = (builtin.resource, builtin.instance);
    let i32_ty = || crate::abi::FuncType::new([ValType::I32], [ValType::I32]);
    let func = match builtin.op {
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
            let dtor = match &component.meta().resources[ty.0 as usize] {
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
    };
    store.inner.component_instances[instance].builtins[i] = Some(func);
    Ok(func)
}

/// The first (only) `i32` argument of a built-in, as the handle or
/// representation it is.
fn arg(params: &[CoreVal]) -> u32 {
    params[0].i32().unwrap_or_default() as u32
}

/// The core item `def` names in component instance `instance`.
pub(super) fn resolve_core(
    store: &StoreOpaque,
    instance: usize,
    def: &CoreDef,
) -> Result<Extern, Error> {
    let data = &store.component_instances[instance];
    match def {
        CoreDef::Export {
            instance: core,
            name,
        } => data.core[*core as usize]
            .get_export(store, name)
            .ok_or_else(|| Error::Link(format!("core instance {core} has no export `{name}`"))),
        CoreDef::Lowered(i) => data.lowered[*i as usize]
            .map(Extern::Func)
            .ok_or_else(|| Error::Link(format!("lowered function {i} used before it was created"))),
        CoreDef::Builtin(i) => data.builtins[*i as usize].map(Extern::Func).ok_or_else(|| {
            Error::Link(format!("resource built-in {i} used before it was created"))
        }),
        CoreDef::Adapter(i) => data.adapters[*i as usize]
            .map(Extern::Func)
            .ok_or_else(|| Error::Link(format!("adapter {i} used before it was created"))),
        CoreDef::Transfer(i) => Err(Error::Link(format!(
            "the host half {i} of a fused adapter is only ever an adapter's import"
        ))),
    }
}

/// The core function for lowered import `i`, created on first use.
fn lowered_func<T: 'static>(
    store: &mut Store<T>,
    linker: &Linker<T>,
    instance: usize,
    i: usize,
) -> Result<CoreFunc, Error> {
    if let Some(f) = store.inner.component_instances[instance].lowered[i] {
        return Ok(f);
    }
    let component = store.inner.component_instances[instance].component.clone();
    let lowered = &component.meta().lowered[i];
    let (import_name, ty) = &component.meta().imports[lowered.import.import as usize];
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
    let func_ty = lowered.ty.clone();
    let options = lowered.options.clone();
    let table = lowered.instance;
    let core_ty = lowered_core_type(&func_ty);
    let func = CoreFunc::new(
        store,
        core_ty,
        move |mut caller: Caller<'_, T>, params: &[CoreVal], results: &mut [CoreVal]| {
            let store = caller.as_store_mut();
            check_may_leave(store, instance, table)?;
            let options = Options::resolve(store, instance, &options)?;
            let mut cx = Cx::new(store, instance, table, options);
            let args = lift_params(&mut cx, &func_ty, params)?;
            // Borrows lifted for the call stay lent until the host returns.
            let lends = std::mem::take(&mut cx.lends);
            let mut out: Vec<Val> = func_ty.result.iter().map(|_| Val::Bool(false)).collect();
            host(caller.reborrow(), &args, &mut out)?;
            let store = caller.as_store_mut();
            handle_table(store, instance, table).end_lends(lends);
            let retptr = return_pointer(&func_ty, params)?;
            let mut flat = store.take_flat_buf();
            lower_results(
                &mut Cx::new(store, instance, table, options),
                &func_ty,
                out.first(),
                retptr,
                &mut flat,
            )?;
            results.copy_from_slice(&flat);
            store.put_flat_buf(flat);
            Ok(())
        },
    );
    store.inner.component_instances[instance].lowered[i] = Some(func);
    Ok(func)
}

fn core_type(t: FlatType) -> ValType {
    match t {
        FlatType::I32 => ValType::I32,
        FlatType::I64 => ValType::I64,
        FlatType::F32 => ValType::F32,
        FlatType::F64 => ValType::F64,
    }
}
