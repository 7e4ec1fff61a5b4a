//! Components the host gives for a component's imports
//! ([`LinkerInstance::component`](super::LinkerInstance::component)).
//!
//! The compiler cannot see into such a component, so the plan only says
//! where it is instantiated and with what ([`ImportedInstance`]). The
//! runtime instantiates it as a component instance of its own in the same
//! store, through a linker made of the items the plan passes: host
//! definitions as they are, functions the plan lifted as host functions
//! that call them. The plan then uses the instance's exports as it uses
//! host imports. Both directions go through the runtime's canonical ABI,
//! and each side keeps its own `may_enter` flags, so a call cannot reenter
//! either instance while it runs.

use super::func::call_lifted;
use super::instance::{entering, import_names};
use super::intercept::CallKind;
use super::linker::{Definition, HostFunc, Linker};
use super::{Component, Func};
use crate::abi::{
    ComponentArg, ComponentInstanceIndex, ExportItem, ImportPath, ImportType,
    ImportedInstanceIndex, LiftedIndex, PathRoot,
};
use crate::api::{AsStoreMut, Caller, Error, Store};
use crate::canon::Val;
use std::collections::HashMap;
use std::sync::Arc;

/// Instantiates imported instance `i` of the store's component instance
/// `index`, and records it there.
pub(super) fn instantiate_imported<T: 'static>(
    store: &mut Store<T>,
    linker: &Linker<T>,
    index: usize,
    i: ImportedInstanceIndex,
) -> Result<(), Error> {
    let outer = store.inner.component_instances[index].component.clone();
    let imported = &outer.meta().imported_instances[i];
    let path = import_names(&outer, &imported.component);
    let Some(Definition::Component(component)) = linker.get(&path) else {
        return Err(Error::Link(format!(
            "import `{}` is a component, which the linker does not define",
            path.join("#")
        )));
    };
    let mut defs = HashMap::new();
    for (name, arg) in &imported.args {
        let def = arg_definition(store, linker, index, imported.parent, arg)?;
        defs.insert(name.clone(), def);
    }
    let instance = super::Instance::new(store, component, &Linker::with_root(defs))?;
    store.inner.component_instances[index]
        .imported
        .push(instance.index);
    Ok(())
}

/// What the plan passes as `arg`, from its component instance `parent`, as
/// a definition for the given component's linker.
fn arg_definition<T: 'static>(
    store: &Store<T>,
    linker: &Linker<T>,
    index: usize,
    parent: ComponentInstanceIndex,
    arg: &ComponentArg,
) -> Result<Definition<T>, Error> {
    Ok(match arg {
        ComponentArg::Path(path) => path_definition(store, linker, index, path)?,
        ComponentArg::Lifted(lifted) => {
            let meta = store.inner.component_instances[index].component.meta();
            let callee = meta.lifted[*lifted].instance;
            Definition::Func(lifted_host_func(index, (callee, parent), *lifted))
        }
        ComponentArg::Instance(args) => Definition::Instance(
            args.iter()
                .map(|(name, arg)| {
                    let def = arg_definition(store, linker, index, parent, arg)?;
                    Ok((name.clone(), def))
                })
                .collect::<Result<_, Error>>()?,
        ),
    })
}

/// The definition at `path` as the store's component instance `index`
/// sees it: the host's, or an export of one of its imported instances.
pub(super) fn path_definition<T: 'static>(
    store: &Store<T>,
    linker: &Linker<T>,
    index: usize,
    path: &ImportPath,
) -> Result<Definition<T>, Error> {
    let data = &store.inner.component_instances[index];
    let names = import_names(&data.component, path);
    let not_defined = || {
        Error::Link(format!(
            "unknown import: `{}` has not been defined",
            names.join("#")
        ))
    };
    match path.root {
        PathRoot::Import(_) => linker.get(&names).cloned().ok_or_else(not_defined),
        PathRoot::Instance(i) => {
            let Some(&instance) = data.imported.get(i) else {
                return Err(Error::Link(format!(
                    "`{}` is used before its component is instantiated",
                    names.join("#")
                )));
            };
            let meta = store.inner.component_instances[instance].component.meta();
            // The path names an export of the instance, or the instance.
            let mut item = ExportItem::Instance(meta.exports.clone());
            for name in &path.names {
                let ExportItem::Instance(items) = item else {
                    return Err(not_defined());
                };
                item = (items.into_iter())
                    .find_map(|(n, found)| (n == *name).then_some(found))
                    .ok_or_else(not_defined)?;
            }
            Ok(export_definition(store.inner.id, instance, &item))
        }
    }
}

/// Export `item` of the store's component instance `instance` as a
/// definition: its functions as host functions that call them.
fn export_definition<T: 'static>(
    store_id: u64,
    instance: usize,
    item: &ExportItem,
) -> Definition<T> {
    match item {
        ExportItem::Func(lifted) => {
            let func = Func {
                store_id,
                instance,
                lifted: *lifted,
            };
            Definition::Func(HostFunc::Dynamic(Arc::new(
                move |mut caller: Caller<'_, T>, params: &[Val], results: &mut [Val]| {
                    func.call(&mut caller, params, results)
                },
            )))
        }
        ExportItem::Instance(items) => Definition::Instance(
            items
                .iter()
                .map(|(name, item)| (name.clone(), export_definition(store_id, instance, item)))
                .collect(),
        ),
    }
}

/// Function `lifted` of the store's component instance `index`, which plan
/// component instance `callee` lifted, as a host function for a component
/// that plan component instance `parent` instantiated: a call enters the
/// instances a call from `parent` would.
fn lifted_host_func<T: 'static>(
    index: usize,
    (callee, parent): (ComponentInstanceIndex, ComponentInstanceIndex),
    lifted: LiftedIndex,
) -> HostFunc<T> {
    HostFunc::Dynamic(Arc::new(
        move |mut caller: Caller<'_, T>, params: &[Val], results: &mut [Val]| {
            let store = caller.as_store_mut();
            let result = entering(store, index, (callee, Some(parent)), |store| {
                call_lifted(store, index, lifted, params, CallKind::Export, None)
            })?;
            if let (Some(slot), Some(result)) = (results.first_mut(), result) {
                *slot = result;
            }
            Ok(())
        },
    ))
}

/// Fails unless `component`, given for an import of type `ty` at `name`,
/// fits it: it imports only what the type declares and exports all the
/// type declares, each of the declared type.
pub(super) fn check_component(
    name: &str,
    component: &Component,
    imports: &[(String, ImportType)],
    exports: &[(String, ImportType)],
) -> Result<(), Error> {
    let meta = component.meta();
    let fail = |what: String| Error::Link(format!("the component given for `{name}` {what}"));
    for (import, actual) in meta.imports.values() {
        let Some((_, declared)) = imports.iter().find(|(n, _)| n == import) else {
            return Err(fail(format!(
                "imports `{import}`, which the import's type does not declare"
            )));
        };
        // What the importer passes must do for what the component needs.
        fits(declared, actual)
            .map_err(|e| fail(format!("imports `{import}` of another type: {e}")))?;
    }
    for (export, declared) in exports {
        let Some((_, item)) = meta.exports.iter().find(|(n, _)| n == export) else {
            if matches!(declared, ImportType::Type) {
                continue;
            }
            return Err(fail(format!("has no export `{export}`")));
        };
        fits(&export_type(component, item), declared)
            .map_err(|e| fail(format!("exports `{export}` of another type: {e}")))?;
    }
    Ok(())
}

/// The type of export `item` of `component`.
fn export_type(component: &Component, item: &ExportItem) -> ImportType {
    match item {
        ExportItem::Func(lifted) => ImportType::Func(component.meta().lifted[*lifted].ty.clone()),
        ExportItem::Instance(items) => ImportType::Instance(
            items
                .iter()
                .map(|(name, item)| (name.clone(), export_type(component, item)))
                .collect(),
        ),
    }
}

/// Whether an item of type `actual` may be used where type `expected` is
/// declared: functions of equal types, and instances with at least the
/// expected exports, each fitting. Types carry nothing at run time.
fn fits(actual: &ImportType, expected: &ImportType) -> Result<(), String> {
    match (actual, expected) {
        (ImportType::Func(a), ImportType::Func(e)) if a == e => Ok(()),
        (ImportType::Func(a), ImportType::Func(e)) => Err(format!("`{a}`, not `{e}`")),
        (ImportType::Instance(actual), ImportType::Instance(expected)) => {
            for (name, e) in expected {
                match actual.iter().find(|(n, _)| n == name) {
                    Some((_, a)) => fits(a, e).map_err(|err| format!("`{name}`: {err}"))?,
                    None if matches!(e, ImportType::Type) => {}
                    None => return Err(format!("no export `{name}`")),
                }
            }
            Ok(())
        }
        (ImportType::Type, ImportType::Type) => Ok(()),
        _ => Err("a different kind of item".into()),
    }
}
