//! Instantiating a component: running its plan against a linker.

use super::context::{Cx, Options};
use super::linker::{Definition, HostFunc, Linker};
use super::{Component, Func};
use crate::abi::{CoreDef, ExportItem, ImportType, Initializer, ValType};
use crate::api::store::StoreOpaque;
use crate::api::{
    AsStore, Caller, Error, Extern, Func as CoreFunc, Instance as CoreInstance, Store,
    Val as CoreVal,
};
use crate::component::{
    FlatContext, FlatType, Val, flatten_functype, lift_params, lower_results, return_pointer,
};

/// A component instance's state in its store.
pub(crate) struct ComponentInstanceData {
    pub component: Component,
    /// Core instances created by the plan, in order.
    pub core: Vec<CoreInstance>,
    /// Core functions made for lowered host imports.
    pub lowered: Vec<Option<CoreFunc>>,
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
            check_import(linker, &mut vec![name.as_str()], ty)?;
        }
        let index = store.inner.component_instances.len();
        store.inner.component_instances.push(ComponentInstanceData {
            component: component.clone(),
            core: Vec::new(),
            lowered: vec![None; meta.lowered.len()],
        });
        for init in &meta.initializers {
            let Initializer::Instantiate { module, imports } = init;
            let externs = imports
                .iter()
                .map(|def| match def {
                    CoreDef::Lowered(i) => {
                        lowered_func(store, linker, index, *i as usize).map(Extern::Func)
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
fn check_import<'a, T: 'static>(
    linker: &Linker<T>,
    path: &mut Vec<&'a str>,
    ty: &'a ImportType,
) -> Result<(), Error> {
    let missing = |path: &[&str]| {
        Error::Link(format!(
            "unknown import: `{}` has not been defined",
            path.join("#")
        ))
    };
    match (ty, linker.get(path)) {
        (ImportType::Func(_), Some(Definition::Func(_))) => Ok(()),
        (ImportType::Instance(exports), Some(Definition::Instance(_))) => {
            for (name, ty) in exports {
                path.push(name);
                check_import(linker, path, ty)?;
                path.pop();
            }
            Ok(())
        }
        (ImportType::Type, _) => Ok(()),
        (ImportType::Other(what), _) => Err(Error::Link(format!(
            "import `{}` is {what}, which cmc cannot link yet",
            path.join("#")
        ))),
        (_, None) => Err(missing(path)),
        (ImportType::Func(_), Some(Definition::Instance(_))) => Err(Error::Link(format!(
            "import `{}` is a function, but the linker defines an instance",
            path.join("#")
        ))),
        (ImportType::Instance(_), Some(Definition::Func(_))) => Err(Error::Link(format!(
            "import `{}` is an instance, but the linker defines a function",
            path.join("#")
        ))),
    }
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
        Some(Definition::Instance(_)) => {
            return Err(Error::Link(format!(
                "import `{}` is defined as an instance, not a function",
                path.join("#")
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
    let core_sig = flatten_functype(&func_ty, FlatContext::Lower);
    let core_ty = crate::abi::FuncType::new(
        core_sig.params.iter().map(|t| core_type(*t)),
        core_sig.results.iter().map(|t| core_type(*t)),
    );
    let func = CoreFunc::new(
        store,
        core_ty,
        move |mut caller: Caller<'_, T>, params: &[CoreVal], results: &mut [CoreVal]| {
            let store = crate::api::AsStoreMut::as_store_mut(&mut caller);
            let options = Options::resolve(store, instance, &options)?;
            let args = lift_params(
                &mut Cx {
                    store: &mut *store,
                    options,
                },
                &func_ty,
                params,
            )?;
            let mut out: Vec<Val> = func_ty.result.iter().map(|_| Val::Bool(false)).collect();
            host(caller.reborrow(), &args, &mut out)?;
            let store = crate::api::AsStoreMut::as_store_mut(&mut caller);
            let retptr = return_pointer(&func_ty, params)?;
            let flat = lower_results(&mut Cx { store, options }, &func_ty, out.first(), retptr)?;
            results.copy_from_slice(&flat);
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
