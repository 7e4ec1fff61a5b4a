//! The calls from one core module of a component into another that the
//! plan fixes at compile time, so that the callee can be inlined.
//!
//! The plan binds every import of every core instance. When each
//! instantiation of a module binds an imported function to the same
//! defined function of another module (a fused adapter, or the export a
//! fused adapter calls), the caller is compiled with that function's body
//! inlined behind a test that the import is still bound to it (a store
//! that intercepts calls binds the runtime's adapter instead). A call from
//! one component into another then runs the adapter and, when it is a
//! leaf, the callee in the caller's own code.
//!
//! Callees are compiled before their callers: the modules are compiled in
//! an order where each module's fixed callees come first, as far as the
//! calls allow (a cycle leaves one of its calls through the import).

use cmc_runtime::abi::{
    ComponentMeta, CoreDef, DefinedFuncIndex, EntityIndex, EntityRef, EntityType, FuncIndex,
    Initializer, ModuleIndex, ModuleMeta, PrimaryMap,
};
use std::collections::{HashMap, HashSet};

use crate::translate::ForeignFunc;

/// The fixed calls of a component's modules, and the order to compile
/// them in.
pub struct FixedCalls {
    /// Per module, the callee each of its fixed imported functions is
    /// bound to.
    pub callees: PrimaryMap<ModuleIndex, HashMap<FuncIndex, ForeignFunc>>,
    /// Per module, its functions that other modules' fixed calls reach.
    pub wanted: PrimaryMap<ModuleIndex, HashSet<DefinedFuncIndex>>,
    /// Every module, each after the modules of its callees.
    pub order: Vec<ModuleIndex>,
}

impl FixedCalls {
    /// Finds the fixed calls of the plan `meta` over `modules`.
    pub fn new(meta: &ComponentMeta, modules: &PrimaryMap<ModuleIndex, ModuleMeta>) -> FixedCalls {
        // `None` once two instantiations disagree.
        let mut seen: PrimaryMap<ModuleIndex, HashMap<FuncIndex, Option<ForeignFunc>>> =
            modules.keys().map(|_| HashMap::new()).collect();
        let mut instantiated = HashSet::new();
        for init in &meta.initializers {
            let Initializer::Instantiate { module, imports } = init else {
                continue;
            };
            let first = instantiated.insert(*module);
            let func_imports = (modules[*module].imports.iter().zip(imports))
                .filter(|(import, _)| matches!(import.ty, EntityType::Func(_)));
            let mut bound = HashMap::new();
            for (i, (_, def)) in func_imports.enumerate() {
                if let Some(callee) = resolve(meta, modules, def).filter(|c| c.module != *module) {
                    bound.insert(FuncIndex::from_u32(i as u32), callee);
                }
            }
            let fixed = &mut seen[*module];
            if first {
                fixed.extend(bound.into_iter().map(|(f, c)| (f, Some(c))));
            } else {
                for (f, callee) in fixed.iter_mut() {
                    if *callee != bound.get(f).copied() {
                        *callee = None;
                    }
                }
            }
        }
        let callees: PrimaryMap<ModuleIndex, HashMap<FuncIndex, ForeignFunc>> = (seen.into_iter())
            .map(|(_, fixed)| {
                (fixed.into_iter())
                    .filter_map(|(f, c)| Some((f, c?)))
                    .collect()
            })
            .collect();
        let mut wanted: PrimaryMap<ModuleIndex, HashSet<DefinedFuncIndex>> =
            modules.keys().map(|_| HashSet::new()).collect();
        for callee in callees.values().flat_map(HashMap::values) {
            wanted[callee.module].insert(callee.func);
        }
        let order = compile_order(&callees);
        FixedCalls {
            callees,
            wanted,
            order,
        }
    }
}

/// The defined function of a module instantiated by the plan that `def`
/// names, if it names one.
fn resolve(
    meta: &ComponentMeta,
    modules: &PrimaryMap<ModuleIndex, ModuleMeta>,
    def: &CoreDef,
) -> Option<ForeignFunc> {
    let (instance, name) = match def {
        CoreDef::Export { instance, name } => (*instance, name.as_str()),
        CoreDef::Fused { instance, name, .. } => (*instance, name.as_str()),
        _ => return None,
    };
    let Initializer::Instantiate { module, .. } = meta.initializers.get(instance.index())? else {
        return None;
    };
    let meta = &modules[*module];
    let export = meta.exports.iter().find(|e| e.name == name)?;
    let EntityIndex::Func(f) = export.index else {
        return None;
    };
    Some(ForeignFunc {
        module: *module,
        func: meta.defined_func(f)?,
    })
}

/// The modules in an order where each comes after the modules its fixed
/// calls go to (depth first; a call that closes a cycle is not followed).
fn compile_order(
    callees: &PrimaryMap<ModuleIndex, HashMap<FuncIndex, ForeignFunc>>,
) -> Vec<ModuleIndex> {
    let mut order = Vec::with_capacity(callees.len());
    let mut visited = HashSet::new();
    for root in callees.keys() {
        if !visited.insert(root) {
            continue;
        }
        // Each entry: a module and the callee modules still to visit.
        let mut stack = vec![(root, modules_called(callees, root))];
        while let Some((module, pending)) = stack.last_mut() {
            match pending.pop() {
                Some(next) => {
                    if visited.insert(next) {
                        stack.push((next, modules_called(callees, next)));
                    }
                }
                None => {
                    order.push(*module);
                    stack.pop();
                }
            }
        }
    }
    order
}

/// The modules that `module`'s fixed calls go to, each once.
fn modules_called(
    callees: &PrimaryMap<ModuleIndex, HashMap<FuncIndex, ForeignFunc>>,
    module: ModuleIndex,
) -> Vec<ModuleIndex> {
    let mut modules: Vec<ModuleIndex> = callees[module].values().map(|c| c.module).collect();
    modules.sort_unstable();
    modules.dedup();
    modules
}
