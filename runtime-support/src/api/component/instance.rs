//! Instantiating a component: running its plan against a linker. The core
//! functions the plan binds are made in `adapters` (calls between
//! components), `builtins` (the resource built-ins) and `lowered` (host
//! imports), each on first use.

use super::adapters::{abi_trap_func, adapter_func, handle_func, transfer_func};
use super::builtins::builtin_func;
use super::imported::{check_component, instantiate_imported};
use super::linker::{Definition, Linker};
use super::lowered::lowered_func;
use super::{Component, Func};
use crate::abi::{
    AdapterIndex, CanonBuiltinIndex, ComponentInstanceIndex, CoreDef, CoreInstanceIndex, EntityRef,
    ExportItem, GlobalType, ImportPath, ImportType, ImportedInstanceIndex, Initializer,
    LiftedIndex, LoweredIndex, PathRoot, PrimaryMap, ResourceDef, TrapKind, ValType,
};
use crate::api::store::StoreOpaque;
use crate::api::{
    AsStore, AsStoreMut, Error, Extern, Func as CoreFunc, Global, Instance as CoreInstance, Store,
    Trap, Val as CoreVal,
};
use crate::canon::{HandleTable, ResourceVal};
use smallvec::SmallVec;

/// A component instance's state in its store.
pub(crate) struct ComponentInstanceData {
    pub component: Component,
    /// Core instances created by the plan, in order.
    pub core: PrimaryMap<CoreInstanceIndex, CoreInstance>,
    /// Core functions made for lowered host imports.
    pub lowered: PrimaryMap<LoweredIndex, Option<CoreFunc>>,
    /// Core functions made for canonical built-ins.
    pub builtins: PrimaryMap<CanonBuiltinIndex, Option<CoreFunc>>,
    /// Core functions made for calls into other component instances.
    pub adapters: PrimaryMap<AdapterIndex, Option<CoreFunc>>,
    /// The canonical options of each lowered import and adapter, resolved
    /// on its first call (when the instances they name exist) so later
    /// calls look nothing up by name.
    pub lowered_options: PrimaryMap<LoweredIndex, Option<super::context::Options>>,
    pub adapter_options: PrimaryMap<AdapterIndex, Option<super::context::Options>>,
    /// The handle table of each of the plan's component instances.
    pub tables: PrimaryMap<ComponentInstanceIndex, HandleTable>,
    /// Each lifted function's core callee and options, resolved on its
    /// first call so later calls look nothing up by name.
    pub lifted: PrimaryMap<LiftedIndex, Option<super::func::ResolvedLift>>,
    /// The spec's `may_leave` of each of the plan's component instances, an
    /// `i32` global (1 or 0) that fused adapters read and write too: 0
    /// while its `realloc` or `post-return` runs, which may not call out
    /// of it (`CoreDef::MayLeave`).
    pub may_leave: PrimaryMap<ComponentInstanceIndex, Global>,
    /// The calls between components in progress that pass borrows through
    /// fused adapters: the callee's borrow scope and the caller's lends,
    /// innermost last ([`HandleOp`](crate::abi::HandleOp)).
    pub fused_calls: Vec<(crate::canon::ScopeId, crate::canon::Lends)>,
    /// The spec's `may_enter` of each of the plan's component instances, an
    /// `i32` global (1 or 0) that fused adapters read and write too: 0
    /// while a call into it, or into an instance inside it, runs
    /// (`CoreDef::MayEnter`).
    pub may_enter: PrimaryMap<ComponentInstanceIndex, Global>,
    /// Where the strings the runtime's adapter lifted for the call between
    /// components in progress came from, for its lowering on the other
    /// side ([`Relay`](super::context::Relay)).
    pub relayed_strings: std::collections::VecDeque<crate::canon::StringSource>,
    /// Its streams, futures and error contexts.
    pub shared: super::copies::SharedObjects,
    /// The store's component instance of each imported instance the plan
    /// has made so far (see `imported`).
    pub imported: PrimaryMap<ImportedInstanceIndex, usize>,
    /// The tasks in progress in the instances that keep them, innermost
    /// last (`super::tasks`).
    pub tasks: Vec<super::tasks::Task>,
    /// The stackless tasks between two calls of their callbacks
    /// (`super::event_loop`), by the number of the suspension that made
    /// each (never reused: a task resumed is out of the map while its
    /// callback runs, and may suspend others meanwhile).
    pub suspended: std::collections::BTreeMap<u64, super::event_loop::Suspended>,
    /// The tasks blocked on fibers of their own while their callers went
    /// on (`super::fiber`), keyed as `suspended` is.
    pub blocked: std::collections::BTreeMap<u64, super::event_loop::Blocked>,
    /// Whether a task holds the exclusive lock of each of the plan's
    /// component instances (the spec's `exclusive_thread`): a callback or
    /// synchronous lift of an async function, while its code runs.
    pub exclusive: PrimaryMap<ComponentInstanceIndex, bool>,
    /// How many tasks wait to enter each of the plan's component instances
    /// (the spec's `num_waiting_to_enter`).
    pub waiting_to_enter: PrimaryMap<ComponentInstanceIndex, u32>,
    /// The threads of its tasks (`super::threads`), by number.
    pub threads: std::collections::BTreeMap<u32, super::threads::Thread>,
    /// The last thread number given.
    pub next_thread: u32,
    /// The threads of fibers of their own running now, innermost last.
    pub running_threads: Vec<super::threads::RunningThread>,
    /// Whether guest code ran in the host's call in progress (a `realloc`
    /// or the lifted function's core function): a failure then poisons the
    /// instances it entered (`entering`).
    pub guest_ran: bool,
    /// Whether a trap poisoned the instance (the Explainer's lockdown):
    /// its `may_enter` flags stay clear, and the host's streams and
    /// futures refuse to touch it.
    pub poisoned: bool,
    /// How many of the host's calls into the instance, or drives of its
    /// event loop, are in progress: while one is, the host's functions run
    /// inside it (its `may_enter` flags may be set again while a call
    /// waits for an async callee).
    pub host_entries: u32,
    /// The number the next task gets (`Task::id`).
    pub next_task: u64,
    /// The results of the tasks that resolved while a synchronous caller
    /// waited for them, with the sources of their strings, by task number,
    /// until the caller takes them.
    pub results: std::collections::BTreeMap<
        u64,
        (Option<crate::canon::Val>, super::context::RelayedStrings),
    >,
    /// The async host calls whose futures are not ready yet
    /// (`host_tasks`).
    pub host_tasks: Vec<super::host_tasks::HostTask>,
    /// How many times a task of the instance was suspended.
    pub suspensions: u64,
    /// The backpressure count of each of the plan's component instances
    /// (`backpressure.inc`, `backpressure.dec`).
    pub backpressure: PrimaryMap<ComponentInstanceIndex, u32>,
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
        for (name, ty) in meta.imports.values() {
            check_import(linker, component, &mut vec![name.as_str()], ty)?;
        }
        let index = store.inner.component_instances.len();
        let mut table = HandleTable::new();
        for (id, def) in &meta.resources {
            if let ResourceDef::Host(_) = def {
                table.set_host_defined(id);
            }
        }
        let instances = meta.parents.len();
        let flag = GlobalType {
            content: ValType::I32,
            mutable: true,
        };
        let mut flags = || {
            (0..instances)
                .map(|_| Global::new(&mut store.inner, flag, CoreVal::I32(1)))
                .collect::<Result<Vec<_>, _>>()
        };
        let (may_leave, may_enter) = (flags()?, flags()?);
        store.inner.component_instances.push(ComponentInstanceData {
            component: component.clone(),
            core: PrimaryMap::new(),
            lowered: PrimaryMap::from(vec![None; meta.lowered.len()]),
            builtins: PrimaryMap::from(vec![None; meta.builtins.len()]),
            adapters: PrimaryMap::from(vec![None; meta.adapters.len()]),
            lowered_options: PrimaryMap::from(vec![None; meta.lowered.len()]),
            adapter_options: PrimaryMap::from(vec![None; meta.adapters.len()]),
            tables: PrimaryMap::from(vec![table; instances]),
            lifted: PrimaryMap::from(vec![None; meta.lifted.len()]),
            may_leave: PrimaryMap::from(may_leave),
            fused_calls: Vec::new(),
            may_enter: PrimaryMap::from(may_enter),
            relayed_strings: std::collections::VecDeque::new(),
            shared: Default::default(),
            imported: PrimaryMap::new(),
            tasks: Vec::new(),
            suspended: Default::default(),
            blocked: Default::default(),
            waiting_to_enter: PrimaryMap::from(vec![0; instances]),
            exclusive: PrimaryMap::from(vec![false; instances]),
            next_task: 0,
            guest_ran: false,
            poisoned: false,
            host_entries: 0,
            threads: Default::default(),
            next_thread: 0,
            running_threads: Vec::new(),
            results: Default::default(),
            host_tasks: Vec::new(),
            suspensions: 0,
            backpressure: PrimaryMap::from(vec![0; instances]),
        });
        // Imported instances run between the core instantiations, in order.
        let mut imported = meta.imported_instances.iter().peekable();
        for (made, init) in meta.initializers.iter().enumerate() {
            while let Some((i, _)) = imported.next_if(|(_, c)| c.before <= made) {
                instantiate_imported(store, linker, index, i)?;
            }
            let core = match init {
                Initializer::Instantiate { module, imports } => {
                    let externs = imports
                        .iter()
                        .map(|def| extern_for(store, linker, index, def))
                        .collect::<Result<Vec<_>, _>>()?;
                    CoreInstance::new(&mut *store, &component.modules()[*module], &externs)?
                }
                Initializer::InstantiateImported { import, imports } => {
                    let path = import_names(component, import);
                    let Some(Definition::Module(module)) = linker.get(&path) else {
                        return Err(Error::Link(format!(
                            "import `{}` is a core module, which the linker does not define",
                            path.join("#")
                        )));
                    };
                    let externs = module
                        .imports()
                        .map(|i| {
                            let def = imports
                                .iter()
                                .find(|(m, n, _)| *m == i.module && *n == i.name)
                                .map(|(_, _, def)| def)
                                .ok_or_else(|| {
                                    Error::Link(format!(
                                        "the core module given for `{}` imports `{}` `{}`, \
                                         which the component does not provide",
                                        path.join("#"),
                                        i.module,
                                        i.name
                                    ))
                                })?;
                            extern_for(store, linker, index, def)
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    let module = module.clone();
                    CoreInstance::new(&mut *store, &module, &externs)?
                }
            };
            store.inner.component_instances[index].core.push(core);
        }
        for (i, _) in imported {
            instantiate_imported(store, linker, index, i)?;
        }
        // A lift of a function the runtime provides (`canon lift` of a
        // `canon resource.new`, say) calls it with no core instance
        // importing it: make it now.
        for lifted in meta.lifted.values() {
            if !matches!(lifted.core, CoreDef::Export { .. }) {
                extern_for(store, linker, index, &lifted.core)?;
            }
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
        match component.meta().resources.get(resource.ty) {
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

/// What the core import `def` of the store's component instance `index`
/// is bound to, made now for the items the runtime provides.
fn extern_for<T: 'static>(
    store: &mut Store<T>,
    linker: &Linker<T>,
    index: usize,
    def: &CoreDef,
) -> Result<Extern, Error> {
    match def {
        CoreDef::Lowered(i) => lowered_func(store, linker, index, *i).map(Extern::Func),
        CoreDef::Builtin(i) => builtin_func(store, linker, index, *i).map(Extern::Func),
        CoreDef::Adapter(i) => adapter_func(store, index, *i).map(Extern::Func),
        CoreDef::Transfer(i) => transfer_func(store, index, *i).map(Extern::Func),
        // Intercepted calls need the values, which only the runtime's
        // adapter has.
        CoreDef::Fused { adapter, .. } if store.inner.interceptor.is_some() => {
            adapter_func(store, index, *adapter).map(Extern::Func)
        }
        CoreDef::CallCounter => call_counter(&mut store.inner).map(Extern::Global),
        CoreDef::AbiTrap(trap) => Ok(Extern::Func(abi_trap_func(store, *trap))),
        CoreDef::Handle(op) => Ok(Extern::Func(handle_func(store, index, *op))),
        other => resolve_core(&store.inner, index, other),
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
        && let Some(ResourceDef::Host(defined_at)) = component.meta().resources.get(*id)
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
        (ImportType::Component { imports, exports }, Some(Definition::Component(given))) => {
            check_component(&path.join("#"), given, imports, exports)
        }
        (ImportType::Module { exports, .. }, Some(Definition::Module(module))) => {
            match exports
                .iter()
                .find(|e| !module.exports().any(|x| x.name == e.as_str()))
            {
                Some(missing) => Err(Error::Link(format!(
                    "import `{}`: the core module has no export `{missing}`",
                    path.join("#")
                ))),
                None => Ok(()),
            }
        }
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
                ImportType::Module { .. } => "a core module",
                ImportType::Component { .. } => "a component",
                _ => "a resource type",
            },
            def.kind()
        ))),
    }
}

/// Runs destructor `dtor` (a core function of store component instance
/// `instance`), if any, on `rep`.
pub(super) fn run_dtor(
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

/// `path` as linker names: the import's name, then the export names. A
/// path into an imported instance starts with the path of its component.
pub(super) fn import_names<'m>(component: &'m Component, path: &'m ImportPath) -> Vec<&'m str> {
    let meta = component.meta();
    let mut names = match path.root {
        PathRoot::Import(import) => vec![meta.imports[import].0.as_str()],
        PathRoot::Instance(i) => import_names(component, &meta.imported_instances[i].component),
    };
    names.extend(path.names.iter().map(String::as_str));
    names
}

/// Traps unless plan component instance `table` may call out of itself
/// (`trap_if(not inst.may_leave)`).
pub(super) fn check_may_leave(
    store: &StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
) -> Result<(), Error> {
    if store.component_instances[instance].may_leave[table].get_i32(store) != 0 {
        Ok(())
    } else {
        Err(Error::Trap(Trap::new(TrapKind::CannotLeaveComponent)))
    }
}

/// Runs `call` as a call from plan component instance `caller` (`None` for
/// the host) into `callee`, both of the store's component instance
/// `instance`: it traps unless every instance it enters may be entered
/// (`trap_if(not inst.may_enter_from(caller))`), and keeps them from being
/// entered again while it runs (`enter_from`, `leave_to`). When a call
/// from the host traps, the instances it entered stay unenterable (the
/// Explainer's "lockdown": a trap poisons them), and the fused calls'
/// borrow scopes and the tasks in progress go; an error found before any
/// guest code ran (in the host's arguments) poisons nothing.
#[inline(always)]
pub(super) fn entering<R>(
    store: &mut StoreOpaque,
    instance: usize,
    (callee, caller): (ComponentInstanceIndex, Option<ComponentInstanceIndex>),
    call: impl FnOnce(&mut StoreOpaque) -> Result<R, Error>,
) -> Result<R, Error> {
    // The flags, copied out of the store (the set is the nesting depth:
    // a few instances).
    let data = &store.component_instances[instance];
    let mut set = SmallVec::<[Global; 2]>::new();
    for i in data.component.meta().entering_set(callee, caller) {
        match data.may_enter.get(i) {
            Some(&flag) if flag.get_i32(store) != 0 => set.push(flag),
            _ => return Err(Error::Trap(Trap::new(TrapKind::CannotEnterComponent))),
        }
    }
    let set_all = |store: &mut StoreOpaque, value| {
        for flag in set.iter() {
            flag.set_i32(store, value);
        }
    };
    set_all(store, 0);
    if caller.is_none() {
        let data = &mut store.component_instances[instance];
        data.guest_ran = false;
        data.host_entries += 1;
    }
    let result = call(store);
    if caller.is_none() {
        store.component_instances[instance].host_entries -= 1;
    }
    match (&result, caller) {
        // The host's own mistake (an argument of the wrong type, say),
        // found before any guest code ran: nothing to poison, and the
        // tasks in progress go on.
        (Err(_), None) if !store.component_instances[instance].guest_ran => set_all(store, 1),
        // A failed call from the host unwound every frame of the instance,
        // and with them the fused adapters that would have set their
        // flags again: the instances it had entered stay unenterable (a
        // trap poisons them, as the spec and the reference scripts say).
        (Err(_), None) => {
            let data = &mut store.component_instances[instance];
            data.forget_calls();
            data.poisoned = true;
        }
        _ => set_all(store, 1),
    }
    result
}

/// Runs `run`, in which the host drives the event loop of the store's
/// component instance `instance` outside any call into it (a read of a
/// stream, say). It traps unless no call is in progress in the instance
/// and no trap poisoned it. A failure poisons every component instance of
/// it, as a failed call from the host poisons those it entered.
pub(super) fn driving<R>(
    store: &mut StoreOpaque,
    instance: usize,
    run: impl FnOnce(&mut StoreOpaque) -> Result<R, Error>,
) -> Result<R, Error> {
    if in_call_or_poisoned(store, instance) {
        return Err(Error::Trap(Trap::new(TrapKind::CannotEnterComponent)));
    }
    store.component_instances[instance].host_entries += 1;
    let result = run(store);
    store.component_instances[instance].host_entries -= 1;
    if result.is_err() {
        poison(store, instance);
    }
    result
}

/// Whether the host is inside a call into the store's component instance
/// `instance` or drives its event loop (a host function runs within), or
/// a trap poisoned it.
pub(super) fn in_call_or_poisoned(store: &StoreOpaque, instance: usize) -> bool {
    let data = &store.component_instances[instance];
    data.poisoned
        || data.host_entries > 0
        || data.may_enter.values().any(|flag| flag.get_i32(store) == 0)
}

/// Poisons every component instance of the store's component instance
/// `instance` after a trap outside any call into it.
pub(super) fn poison(store: &mut StoreOpaque, instance: usize) {
    let data = &mut store.component_instances[instance];
    data.forget_calls();
    data.poisoned = true;
    let flags: SmallVec<[Global; 4]> = data.may_enter.values().copied().collect();
    flags.iter().for_each(|flag| flag.set_i32(store, 0));
}

impl ComponentInstanceData {
    /// Forgets every call in progress in the instance, after a failed call
    /// from the host unwound them all: the fused calls' borrow scopes, the
    /// tasks (their fibers and threads with them), their results and what
    /// they held of the instances' locks.
    fn forget_calls(&mut self) {
        self.fused_calls.clear();
        self.tasks.clear();
        self.suspended.clear();
        self.blocked.clear();
        self.results.clear();
        self.host_tasks.clear();
        self.threads.clear();
        self.running_threads.clear();
        self.waiting_to_enter
            .values_mut()
            .for_each(|count| *count = 0);
        self.exclusive.values_mut().for_each(|held| *held = false);
    }
}

/// Sets the `may_enter` flags of a call from `caller` into `callee` (its
/// entering set) to `value`: a call that waits for an async callee that
/// blocked lets others in while it waits, as the spec's call returns from
/// `enter_from`/`leave_to` before its caller waits.
pub(super) fn set_entered(
    store: &mut StoreOpaque,
    instance: usize,
    (callee, caller): (ComponentInstanceIndex, Option<ComponentInstanceIndex>),
    value: i32,
) {
    let data = &store.component_instances[instance];
    let flags: SmallVec<[Global; 2]> = (data.component.meta().entering_set(callee, caller))
        .filter_map(|i| data.may_enter.get(i).copied())
        .collect();
    for flag in flags {
        flag.set_i32(store, value);
    }
}

/// Whether a call from `caller` into `callee` may enter now (every flag of
/// its entering set is set).
pub(super) fn may_enter_from(
    store: &StoreOpaque,
    instance: usize,
    (callee, caller): (ComponentInstanceIndex, Option<ComponentInstanceIndex>),
) -> bool {
    let data = &store.component_instances[instance];
    (data.component.meta().entering_set(callee, caller)).all(|i| {
        data.may_enter
            .get(i)
            .is_some_and(|flag| flag.get_i32(store) != 0)
    })
}

/// Runs `f` with plan component instance `table`'s `may_leave` cleared, as
/// the spec runs `realloc` and `post-return`.
pub(super) fn without_leaving<R>(
    store: &mut StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
    f: impl FnOnce(&mut StoreOpaque) -> R,
) -> R {
    let flag = store.component_instances[instance].may_leave[table];
    flag.set_i32(store, 0);
    let result = f(store);
    flag.set_i32(store, 1);
    result
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
        } => data.core[*core]
            .get_export(store, name)
            .ok_or_else(|| Error::Link(format!("core instance {core} has no export `{name}`"))),
        CoreDef::Lowered(i) => data.lowered[*i]
            .map(Extern::Func)
            .ok_or_else(|| Error::Link(format!("lowered function {i} used before it was created"))),
        CoreDef::Builtin(i) => data.builtins[*i].map(Extern::Func).ok_or_else(|| {
            Error::Link(format!("resource built-in {i} used before it was created"))
        }),
        CoreDef::Adapter(i) => data.adapters[*i]
            .map(Extern::Func)
            .ok_or_else(|| Error::Link(format!("adapter {i} used before it was created"))),
        CoreDef::Fused {
            instance: core,
            name,
            ..
        } => data.core[*core]
            .get_export(store, name)
            .ok_or_else(|| Error::Link(format!("core instance {core} has no adapter `{name}`"))),
        CoreDef::Transfer(i) => Err(Error::Link(format!(
            "the host half {i} of a fused adapter is only ever an adapter's import"
        ))),
        CoreDef::AbiTrap(trap) => Err(Error::Link(format!(
            "the trap {trap:?} of a fused adapter is only ever an adapter's import"
        ))),
        CoreDef::Handle(op) => Err(Error::Link(format!(
            "the handle operation {op:?} of a fused adapter is only ever an adapter's import"
        ))),
        CoreDef::MayLeave(table) => data
            .may_leave
            .get(*table)
            .map(|flag| Extern::Global(*flag))
            .ok_or_else(|| Error::Link(format!("no component instance {table}"))),
        CoreDef::MayEnter(table) => data
            .may_enter
            .get(*table)
            .map(|flag| Extern::Global(*flag))
            .ok_or_else(|| Error::Link(format!("no component instance {table}"))),
        CoreDef::CallCounter => store
            .call_counter
            .map(Extern::Global)
            .ok_or_else(|| Error::Link("the call counter used before it was created".into())),
    }
}

/// The store's count of calls between components, which fused adapters
/// increment: a mutable `i64` global, made on first use.
fn call_counter(store: &mut StoreOpaque) -> Result<Global, Error> {
    if let Some(counter) = store.call_counter {
        return Ok(counter);
    }
    let ty = GlobalType {
        content: ValType::I64,
        mutable: true,
    };
    let counter = Global::new(&mut *store, ty, CoreVal::I64(0))?;
    store.call_counter = Some(counter);
    Ok(counter)
}

/// Canonical options `options` of entry `i` of `slot` in store component
/// instance `instance`, resolved on first use and kept.
pub(super) fn resolved_options<K: EntityRef>(
    store: &mut StoreOpaque,
    instance: usize,
    slot: fn(&mut ComponentInstanceData) -> &mut PrimaryMap<K, Option<super::context::Options>>,
    i: K,
    options: &crate::abi::CanonOptions,
) -> Result<super::context::Options, Error> {
    if let Some(resolved) = slot(&mut store.component_instances[instance])[i] {
        return Ok(resolved);
    }
    let resolved = super::context::Options::resolve(store, instance, options)?;
    slot(&mut store.component_instances[instance])[i] = Some(resolved);
    Ok(resolved)
}

/// The core function in `slot`'s entry `i` of store component instance
/// `instance`, made by `make` on first use and kept for later uses.
pub(super) fn on_first_use<T, K: EntityRef, E>(
    store: &mut Store<T>,
    instance: usize,
    slot: fn(&mut ComponentInstanceData) -> &mut PrimaryMap<K, Option<CoreFunc>>,
    i: K,
    make: impl FnOnce(&mut Store<T>) -> Result<CoreFunc, E>,
) -> Result<CoreFunc, E> {
    if let Some(f) = slot(&mut store.inner.component_instances[instance])[i] {
        return Ok(f);
    }
    let func = make(store)?;
    slot(&mut store.inner.component_instances[instance])[i] = Some(func);
    Ok(func)
}
