//! Flattening a component's instance graph at compile time.
//!
//! A component's structure is static except for its root imports, so the
//! compiler can "run" the component definitions symbolically: core modules
//! become static indices, core instantiations become [`Initializer`]s in
//! the order they happen, core items become [`CoreDef`]s (an export of an
//! earlier runtime instance, or a lowered host import), component functions
//! are either lifted core functions or paths into the root imports, and a
//! nested component's instantiation is the same walk over its definitions
//! with its imports bound to the arguments. What remains is a flat list of
//! core instantiations plus the lifted and lowered functions that connect
//! them to the host, and the adapters ([`AdapterFunc`]) where one component
//! instance lowers a function another one lifted.
//!
//! Resource types are generative: every time the walk meets a resource type
//! definition it adds a fresh [`ResourceDef`] to the plan, so two
//! instantiations of one component define two distinct types. The
//! validator names resource types by [`ResourceId`]s; each instantiation
//! keeps a map from the ids it can see to the plan's [`ResourceTypeId`]s.
//! A nested component's resource imports are bound to the argument's
//! resource types (walking the import's type and the argument together),
//! and a resource type reached through a root import is a host resource
//! type, one per import path. Every instantiation is also numbered (its
//! *component instance*), because each has its own handle table at run time.

use super::adapter;
use super::parse::{
    ComponentBody, Def, LocalComponentIndex, LocalCoreInstanceIndex, LocalInstanceIndex,
    LocalModuleIndex, Parsed, StaticComponentIndex,
};
use super::types::{ResourceMap, TypeConverter};
use crate::error::{CompileError, Result};
use cmc_runtime::abi::{
    AdapterFunc, CanonBuiltin, CanonBuiltinOp, CanonOptions, ComponentArg, ComponentInstanceIndex,
    ComponentMeta, CoreDef, CoreInstanceIndex, EntityRef, ExportItem, ImportPath, ImportType,
    ImportedInstance, Initializer, LiftedFunc, LiftedIndex, LoweredFunc, LoweredIndex, ModuleIndex,
    ModuleMeta, PathRoot, PrimaryMap, ResourceDef, ResourceOp,
};
use cmc_runtime::component::types::{InterfaceType, PtrType, ResourceTypeId, StringEncoding};
use std::collections::HashMap;
use std::rc::Rc;
use wasmparser::component_types::{ComponentAnyTypeId, ComponentEntityType, ResourceId};
use wasmparser::types::Types;
use wasmparser::{
    CanonicalFunction, CanonicalOption, ComponentExternalKind, ComponentOuterAliasKind,
    ExternalKind,
};

/// A core instance: created at run time, or a bag of existing items.
#[derive(Clone)]
enum CoreInstance {
    Runtime(CoreInstanceIndex),
    Bag(Rc<HashMap<String, Core>>),
}

/// A core item: a definition for the plan, or a canonical built-in cmc
/// cannot compile yet. The latter is an error only once the plan needs it,
/// so a component may define built-ins (async ones, say) it never uses.
#[derive(Clone)]
enum Core {
    Def(CoreDef),
    Unsupported(Rc<str>),
}

impl Core {
    /// The plan's definition, or the error naming the missing feature.
    fn def(&self) -> Result<CoreDef> {
        match self {
            Core::Def(def) => Ok(def.clone()),
            Core::Unsupported(what) => Err(unsupported(what)),
        }
    }
}

/// A component function.
#[derive(Clone)]
enum Func {
    /// Index into `ComponentMeta::lifted`.
    Lifted(LiftedIndex),
    /// A function of the host.
    Import(ImportPath),
    /// A function cmc cannot compile yet; an error once the plan needs it.
    Unsupported(Rc<str>),
}

/// Splits the "not supported yet" errors of `result` from the others, for
/// definitions whose error is deferred until something uses them.
fn deferred<T>(result: Result<T>) -> Result<Result<T, Rc<str>>> {
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(CompileError::Unsupported(what)) => Ok(Err(what.into())),
        Err(other) => Err(other),
    }
}

/// A component instance.
#[derive(Clone)]
enum Instance {
    Import(ImportPath),
    Exports(Rc<Vec<(String, Item)>>),
}

/// A component definition with what its outer aliases can reach: the
/// index spaces of the components around it as they were where it was
/// defined. A component is a closure over those, so a copy exported and
/// instantiated elsewhere still sees the modules its parent was given.
#[derive(Clone)]
struct Closure {
    source: ComponentSource,
    outer: Option<Rc<Env>>,
}

/// Where a component's definition is.
#[derive(Clone)]
enum ComponentSource {
    /// In the component being compiled.
    Own(StaticComponentIndex),
    /// With the host, which gives it for the import at this path: the plan
    /// instantiates it without seeing into it ([`ImportedInstance`]).
    Host(ImportPath),
}

/// A component's index spaces that nested components can alias, captured
/// where a nested component is defined.
struct Env {
    core_modules: PrimaryMap<LocalModuleIndex, ModuleRef>,
    components: PrimaryMap<LocalComponentIndex, Closure>,
    resources: ResourceMap,
    outer: Option<Rc<Env>>,
}

/// Anything a component index space holds.
#[derive(Clone)]
enum Item {
    Func(Func),
    Instance(Instance),
    Module(ModuleRef),
    Component(Closure),
    /// A type; for a resource type, the plan's id (`None` for other types
    /// and for resource types reached through root imports, which the
    /// scope's resource map already knows).
    Type(Option<ResourceTypeId>),
}

/// A core module: one of the component's own, or the one the host gives
/// for the import at a path (see `Linker::module`).
#[derive(Clone)]
enum ModuleRef {
    Own(ModuleIndex),
    Host(ImportPath),
}

/// What a component import is bound to, for finding its resource types.
enum Source<'i> {
    /// The host item at this path.
    Host(ImportPath),
    /// An argument of a nested instantiation.
    Item(&'i Item),
}

/// Index spaces of one component instantiation.
struct Scope {
    /// This instantiation's component instance number.
    instance: ComponentInstanceIndex,
    /// Resource types the validator's ids stand for here.
    resources: ResourceMap,
    /// The index spaces of the enclosing components, for outer aliases.
    outer: Option<Rc<Env>>,
    /// The type index space: the plan's id of each resource type.
    types: Vec<Option<ResourceTypeId>>,
    core_modules: PrimaryMap<LocalModuleIndex, ModuleRef>,
    core_instances: PrimaryMap<LocalCoreInstanceIndex, CoreInstance>,
    core_funcs: Vec<Core>,
    core_memories: Vec<Core>,
    core_tables: Vec<Core>,
    core_globals: Vec<Core>,
    components: PrimaryMap<LocalComponentIndex, Closure>,
    instances: PrimaryMap<LocalInstanceIndex, Instance>,
    funcs: Vec<Func>,
    exports: Vec<(String, Item)>,
}

impl Scope {
    /// Adds `item` to its index space; `types` are the validator's types of
    /// this component, which say whether a new type index is a resource.
    fn push(&mut self, item: Item, types: &Types) -> Result<()> {
        match item {
            Item::Func(f) => self.funcs.push(f),
            Item::Instance(i) => {
                self.instances.push(i);
            }
            Item::Module(m) => {
                self.core_modules.push(m);
            }
            Item::Component(c) => {
                self.components.push(c);
            }
            Item::Type(resource) => {
                let index = self.types.len() as u32;
                let resource = match types.as_ref().component_any_type_at(index) {
                    ComponentAnyTypeId::Resource(r) => {
                        let id = r.resource();
                        match resource {
                            Some(rt) => {
                                self.resources.insert(id, rt);
                                Some(rt)
                            }
                            None => {
                                Some(self.resources.get(&id).copied().ok_or_else(|| {
                                    unsupported("a resource type of unknown origin")
                                })?)
                            }
                        }
                    }
                    _ => None,
                };
                self.types.push(resource);
            }
        }
        Ok(())
    }

    /// The plan's resource type at type index `index`.
    fn resource_at(&self, index: u32) -> ResourceTypeId {
        self.types[index as usize].expect("validated: the type is a resource")
    }

    fn item(&self, kind: ComponentExternalKind, index: u32) -> Result<Item> {
        let i = index as usize;
        Ok(match kind {
            ComponentExternalKind::Func => Item::Func(self.funcs[i].clone()),
            ComponentExternalKind::Instance => {
                Item::Instance(self.instances[LocalInstanceIndex::from_u32(index)].clone())
            }
            ComponentExternalKind::Module => {
                Item::Module(self.core_modules[LocalModuleIndex::from_u32(index)].clone())
            }
            ComponentExternalKind::Component => {
                Item::Component(self.components[LocalComponentIndex::from_u32(index)].clone())
            }
            ComponentExternalKind::Type => Item::Type(self.types[i]),
            ComponentExternalKind::Value => return Err(unsupported("component values")),
        })
    }

    /// What nested components defined from here on can alias.
    fn capture(&self) -> Rc<Env> {
        Rc::new(Env {
            core_modules: self.core_modules.clone(),
            components: self.components.clone(),
            resources: self.resources.clone(),
            outer: self.outer.clone(),
        })
    }

    /// The item of `alias outer $count $index` (a core module or a
    /// component).
    fn outer_alias(&self, kind: ComponentOuterAliasKind, count: u32, index: u32) -> Item {
        let (modules, components) = if count == 0 {
            (&self.core_modules, &self.components)
        } else {
            let mut env = self.outer.as_ref();
            for _ in 1..count {
                env = env.and_then(|e| e.outer.as_ref());
            }
            let env = env.expect("validated: the outer component exists");
            (&env.core_modules, &env.components)
        };
        match kind {
            ComponentOuterAliasKind::CoreModule => {
                Item::Module(modules[LocalModuleIndex::from_u32(index)].clone())
            }
            ComponentOuterAliasKind::Component => {
                Item::Component(components[LocalComponentIndex::from_u32(index)].clone())
            }
            ComponentOuterAliasKind::CoreType | ComponentOuterAliasKind::Type => {
                unreachable!("the parser keeps only module and component outer aliases")
            }
        }
    }

    fn core_space(&mut self, kind: ExternalKind) -> Result<&mut Vec<Core>> {
        Ok(match kind {
            ExternalKind::Func | ExternalKind::FuncExact => &mut self.core_funcs,
            ExternalKind::Memory => &mut self.core_memories,
            ExternalKind::Table => &mut self.core_tables,
            ExternalKind::Global => &mut self.core_globals,
            ExternalKind::Tag => return Err(unsupported("exception tags in components")),
        })
    }
}

fn unsupported(what: &str) -> CompileError {
    CompileError::Unsupported(what.to_owned())
}

/// Builds the flat plan of the root component of `parsed`; `modules` gives
/// the metadata of every core module (for their import lists). Also returns
/// the fused adapter modules the plan instantiates, which are numbered after
/// `modules` in the plan.
pub fn flatten(
    parsed: &Parsed<'_>,
    modules: &PrimaryMap<ModuleIndex, ModuleMeta>,
) -> Result<(ComponentMeta, Vec<Vec<u8>>)> {
    let root = parsed
        .components
        .last()
        .map(|(index, _)| index)
        .expect("the parser gives the root component last");
    let mut inliner = Inliner {
        parsed,
        modules,
        meta: ComponentMeta::default(),
        host_resources: HashMap::new(),
        fused: Vec::new(),
        pending: Vec::new(),
        adapters_made: Vec::new(),
        reexports: Vec::new(),
        forwarder: None,
    };
    let root = Closure {
        source: ComponentSource::Own(root),
        outer: None,
    };
    let exports = inliner.instantiate(&root, None, None)?;
    let mut root_exports = Vec::new();
    for (name, item) in &exports {
        if let Some(e) = inliner.export_item(name, item)? {
            root_exports.push((name.clone(), e));
        }
    }
    inliner.meta.exports = root_exports;
    inliner.instantiate_adapters();
    inliner.instantiate_forwarder();
    Ok((inliner.meta, inliner.fused))
}

struct Inliner<'p, 'a> {
    parsed: &'p Parsed<'a>,
    modules: &'p PrimaryMap<ModuleIndex, ModuleMeta>,
    meta: ComponentMeta,
    /// Host resource types by import path.
    host_resources: HashMap<ImportPath, ResourceTypeId>,
    /// Fused adapter modules, in plan order after `modules`.
    fused: Vec<Vec<u8>>,
    /// The adapters lowered since the last core instantiation: their
    /// module (more than one only past the limit on memories) and the
    /// core instance each will be, the plan's next ones.
    pending: Vec<(CoreInstanceIndex, adapter::AdapterModule)>,
    /// The adapter of each lowering of a lifted function met so far.
    adapters_made: Vec<(AdapterKey, CoreDef)>,
    /// The root's re-exported imports: each lowering and its type, for the
    /// forwarder module, and the core instance the forwarder will be.
    reexports: Vec<(LoweredIndex, cmc_runtime::component::types::FuncType)>,
    forwarder: Option<CoreInstanceIndex>,
}

/// What makes two lowerings of lifted functions the same adapter: the
/// callee, the caller's options and the caller.
type AdapterKey = (LiftedIndex, CanonOptions, ComponentInstanceIndex);

impl Inliner<'_, '_> {
    /// Walks the definitions of `component`, instantiated in component
    /// instance `parent`. `args` binds a nested component's imports; `None`
    /// means the root, whose imports come from the host.
    fn instantiate(
        &mut self,
        component: &Closure,
        args: Option<&HashMap<String, Item>>,
        parent: Option<ComponentInstanceIndex>,
    ) -> Result<Vec<(String, Item)>> {
        let index = match &component.source {
            ComponentSource::Own(index) => *index,
            ComponentSource::Host(path) => {
                let parent = parent.expect("the root is the component being compiled");
                let args = args.expect("a nested instantiation has arguments");
                return self.instantiate_imported(path, args, parent);
            }
        };
        let body: &ComponentBody<'_> = &self.parsed.components[index];
        let types = &body.types;
        let mut s = Scope {
            instance: self.meta.parents.next_key(),
            // Outer type aliases reach the resource types of the enclosing
            // component.
            resources: component
                .outer
                .as_ref()
                .map(|env| env.resources.clone())
                .unwrap_or_default(),
            outer: component.outer.clone(),
            types: Vec::new(),
            core_modules: PrimaryMap::new(),
            core_instances: PrimaryMap::new(),
            core_funcs: Vec::new(),
            core_memories: Vec::new(),
            core_tables: Vec::new(),
            core_globals: Vec::new(),
            components: PrimaryMap::new(),
            instances: PrimaryMap::new(),
            funcs: Vec::new(),
            exports: Vec::new(),
        };
        self.meta.parents.push(parent);
        self.meta.tasked.push(body.defs.iter().any(|def| match def {
            Def::Canon(canon) => keeps_tasks(canon),
            _ => false,
        }));
        for def in &body.defs {
            match def {
                Def::CoreModule(m) => {
                    s.core_modules.push(ModuleRef::Own(*m));
                }
                Def::CoreInstantiate { module, args } => {
                    let arg = |module: &str, name: &str| -> Result<CoreDef> {
                        let (_, instance) = args
                            .iter()
                            .find(|(m, _)| *m == module)
                            .expect("validated: every import module is an argument");
                        core_export(&s.core_instances[*instance], name).def()
                    };
                    let init = match &s.core_modules[*module] {
                        ModuleRef::Own(module) => Initializer::Instantiate {
                            module: *module,
                            imports: (self.modules[*module].imports.iter())
                                .map(|import| arg(&import.module, &import.name))
                                .collect::<Result<_>>()?,
                        },
                        // Bound by the names its type declares.
                        ModuleRef::Host(import) => {
                            let Some(ImportType::Module { imports, .. }) = self.import_type(import)
                            else {
                                unreachable!("validated: a module import has a module type")
                            };
                            Initializer::InstantiateImported {
                                import: import.clone(),
                                imports: (imports.iter())
                                    .map(|(m, n)| Ok((m.clone(), n.clone(), arg(m, n)?)))
                                    .collect::<Result<_>>()?,
                            }
                        }
                    };
                    let runtime = self.initialize(init);
                    s.core_instances.push(CoreInstance::Runtime(runtime));
                }
                Def::CoreInstanceFromExports(items) => {
                    let mut bag = HashMap::new();
                    for (name, kind, index) in items {
                        let def = s.core_space(*kind)?[*index as usize].clone();
                        bag.insert((*name).to_owned(), def);
                    }
                    s.core_instances.push(CoreInstance::Bag(Rc::new(bag)));
                }
                Def::CoreAlias {
                    kind,
                    instance,
                    name,
                } => {
                    let def = core_export(&s.core_instances[*instance], name);
                    s.core_space(*kind)?.push(def);
                }
                Def::Canon(canon) => self.canon(&mut s, types, canon)?,
                Def::Component(c) => {
                    let closure = Closure {
                        source: ComponentSource::Own(*c),
                        outer: Some(s.capture()),
                    };
                    s.components.push(closure);
                }
                Def::OuterAlias { kind, count, index } => {
                    let item = s.outer_alias(*kind, *count, *index);
                    s.push(item, types)?;
                }
                Def::Instantiate { component, args } => {
                    let mut bound = HashMap::new();
                    for (name, kind, index) in args {
                        bound.insert((*name).to_owned(), s.item(*kind, *index)?);
                    }
                    let component = s.components[*component].clone();
                    let exports = self.instantiate(&component, Some(&bound), Some(s.instance))?;
                    s.instances.push(Instance::Exports(Rc::new(exports)));
                }
                Def::InstanceFromExports(items) => {
                    let exports = items
                        .iter()
                        .map(|(name, kind, index)| Ok(((*name).to_owned(), s.item(*kind, *index)?)))
                        .collect::<Result<Vec<_>>>()?;
                    s.instances.push(Instance::Exports(Rc::new(exports)));
                }
                Def::Alias {
                    kind,
                    instance,
                    name,
                } => {
                    let item = match (&s.instances[*instance], kind) {
                        // A core module the host gives inside an instance.
                        (Instance::Import(path), ComponentExternalKind::Module) => {
                            if path.host_import().is_none() {
                                return Err(unsupported(
                                    "a core module exported by an imported component",
                                ));
                            }
                            Item::Module(ModuleRef::Host(path.join(name)))
                        }
                        (instance, kind) => instance_export(instance, name, *kind)?,
                    };
                    s.push(item, types)?;
                }
                Def::Import { name, ty } => {
                    let entity = types
                        .as_ref()
                        .component_item_for_import(self.parsed.renames.validator_spelling(name))
                        .expect("validated: the import exists")
                        .ty;
                    let item = match args {
                        Some(args) => {
                            let item = args
                                .get(*name)
                                .cloned()
                                .expect("validated: every import is an argument");
                            self.bind(&mut s.resources, types, &entity, Source::Item(&item))?;
                            item
                        }
                        None => {
                            let path = ImportPath::import(self.meta.imports.next_key());
                            self.bind(
                                &mut s.resources,
                                types,
                                &entity,
                                Source::Host(path.clone()),
                            )?;
                            let import_ty =
                                TypeConverter::new(types, &s.resources, &self.parsed.renames)
                                    .import_type(name)?;
                            self.meta.imports.push(((*name).to_owned(), import_ty));
                            match ty.kind() {
                                ComponentExternalKind::Func => Item::Func(Func::Import(path)),
                                ComponentExternalKind::Instance => {
                                    Item::Instance(Instance::Import(path))
                                }
                                ComponentExternalKind::Type => Item::Type(None),
                                ComponentExternalKind::Module => {
                                    Item::Module(ModuleRef::Host(path))
                                }
                                ComponentExternalKind::Component => Item::Component(Closure {
                                    source: ComponentSource::Host(path),
                                    outer: None,
                                }),
                                ComponentExternalKind::Value => {
                                    return Err(unsupported("importing a value"));
                                }
                            }
                        }
                    };
                    s.push(item, types)?;
                }
                Def::Export { name, kind, index } => {
                    let item = s.item(*kind, *index)?;
                    self.name_lifted(name, &item);
                    s.exports.push(((*name).to_owned(), item.clone()));
                    s.push(item, types)?;
                }
                Def::Type => s.push(Item::Type(None), types)?,
                Def::Resource { dtor } => {
                    let rt = self.meta.resources.push(ResourceDef::Guest {
                        dtor: dtor.map(|f| s.core_funcs[f as usize].def()).transpose()?,
                        instance: s.instance,
                    });
                    s.push(Item::Type(Some(rt)), types)?;
                }
            }
        }
        Ok(s.exports)
    }

    /// Instantiates the component the host gives for the import at `path`,
    /// in component instance `parent`, with its imports bound to `args`.
    /// The plan cannot see into it: its exports are paths into the
    /// imported instance, of the types the import declares.
    fn instantiate_imported(
        &mut self,
        path: &ImportPath,
        args: &HashMap<String, Item>,
        parent: ComponentInstanceIndex,
    ) -> Result<Vec<(String, Item)>> {
        let (imports, exports) = match self.import_type(path) {
            Some(ImportType::Component { imports, exports }) => (imports, exports.clone()),
            Some(ImportType::Other(what)) => return Err(unsupported(what)),
            _ => unreachable!("validated: a component import has a component type"),
        };
        let handle =
            |t: &InterfaceType| matches!(t, InterfaceType::Own(_) | InterfaceType::Borrow(_));
        if imports.iter().chain(&exports).any(|(_, ty)| {
            ty.any_func(&|f| {
                f.param_types()
                    .chain(&f.result)
                    .any(|t| t.contains(&handle))
            })
        }) {
            return Err(unsupported(
                "resource handles passed to or from an imported component",
            ));
        }
        let mut names: Vec<&String> = args.keys().collect();
        names.sort();
        let mut bound = Vec::new();
        for name in names {
            if let Some(arg) = component_arg(&args[name])? {
                bound.push((name.clone(), arg));
            }
        }
        let instance = self.meta.imported_instances.push(ImportedInstance {
            component: path.clone(),
            args: bound,
            parent,
            before: self.meta.initializers.len(),
        });
        let root = ImportPath {
            root: PathRoot::Instance(instance),
            names: Vec::new(),
        };
        Ok(exports
            .iter()
            .filter_map(|(name, ty)| {
                let path = root.join(name);
                let item = match ty {
                    ImportType::Func(_) => Item::Func(Func::Import(path)),
                    ImportType::Instance(_) => Item::Instance(Instance::Import(path)),
                    ImportType::Type => Item::Type(None),
                    _ => return None,
                };
                Some((name.clone(), item))
            })
            .collect())
    }

    /// Maps the resource types in the type `ty` of an import to those of
    /// what the import is bound to: the argument's, or host resource types.
    fn bind(
        &mut self,
        resources: &mut ResourceMap,
        types: &Types,
        ty: &ComponentEntityType,
        source: Source<'_>,
    ) -> Result<()> {
        let source = match source {
            Source::Item(Item::Instance(Instance::Import(path))) => Source::Host(path.clone()),
            other => other,
        };
        match ty {
            ComponentEntityType::Type {
                referenced,
                created,
            } => {
                let ids: Vec<ResourceId> = [referenced, created]
                    .into_iter()
                    .filter_map(|t| match t {
                        ComponentAnyTypeId::Resource(r) => Some(r.resource()),
                        _ => None,
                    })
                    .collect();
                if ids.is_empty() {
                    return Ok(());
                }
                let rt = match source {
                    // An interface that re-exports a resource of an earlier
                    // import (`wasi:io/streams` using `wasi:io/error`'s
                    // `error`) names that same type.
                    Source::Host(path) => match ids.iter().find_map(|id| resources.get(id)) {
                        Some(rt) => *rt,
                        None => self.host_resource(path),
                    },
                    Source::Item(Item::Type(Some(rt))) => *rt,
                    Source::Item(_) => {
                        return Err(unsupported(
                            "a resource import bound to something that is not a resource type",
                        ));
                    }
                };
                for id in ids {
                    resources.insert(id, rt);
                }
            }
            ComponentEntityType::Instance(id) => {
                for (name, export) in &types[*id].exports {
                    let name = self.parsed.renames.original(name);
                    let source = match &source {
                        Source::Host(path) => {
                            let mut path = path.clone();
                            path.names.push(name.to_owned());
                            Source::Host(path)
                        }
                        Source::Item(Item::Instance(Instance::Exports(items))) => {
                            match items.iter().find(|(n, _)| n == name) {
                                Some((_, item)) => Source::Item(item),
                                None => continue,
                            }
                        }
                        Source::Item(_) => continue,
                    };
                    self.bind(resources, types, &export.ty, source)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The host resource type imported at `path`, created on first sight.
    fn host_resource(&mut self, path: ImportPath) -> ResourceTypeId {
        if let Some(rt) = self.host_resources.get(&path) {
            return *rt;
        }
        let rt = self.meta.resources.push(ResourceDef::Host(path.clone()));
        self.host_resources.insert(path, rt);
        rt
    }

    /// The core function through which component instance `instance`,
    /// lowering with `options`, calls lifted function `lifted`: a fused
    /// adapter compiled with the component where the signature allows, or
    /// else the runtime's adapter.
    ///
    /// The same lowering twice is one adapter. The fused adapters lowered
    /// between two core instantiations (in a component, typically all
    /// those its core instance imports) are one module, instantiated just
    /// before the next core instance (see [`Self::initialize`]); equal
    /// modules are compiled once.
    fn adapter(
        &mut self,
        lifted: LiftedIndex,
        options: CanonOptions,
        instance: ComponentInstanceIndex,
    ) -> CoreDef {
        let key = (lifted, options, instance);
        if let Some((_, def)) = self.adapters_made.iter().find(|(k, _)| *k == key) {
            return def.clone();
        }
        let (lifted, options, instance) = key.clone();
        let def = self.new_adapter(lifted, options, instance);
        self.adapters_made.push((key, def.clone()));
        def
    }

    /// [`Self::adapter`] for a lowering not met before.
    fn new_adapter(
        &mut self,
        lifted: LiftedIndex,
        options: CanonOptions,
        instance: ComponentInstanceIndex,
    ) -> CoreDef {
        let callee = &self.meta.lifted[lifted];
        let entering: Vec<_> = (self.meta)
            .entering_set(callee.instance, Some(instance))
            .collect();
        let next = self.next_instance();
        if !self.pending.last().is_some_and(|(_, m)| m.has_room()) {
            self.pending.push((next, Default::default()));
        }
        let (at, module) = self.pending.last_mut().expect("pushed if none");
        // Tasks and async calls are the runtime's (`ComponentMeta::tasked`).
        let fusable = !self.meta.tasked[callee.instance]
            && !options.is_async
            && !callee.options.is_async
            && !callee.ty.is_async
            // Streams, futures and error contexts move between the
            // runtime's tables.
            && !(callee.ty.param_types().chain(&callee.ty.result)).any(|t| t.contains_async_value());
        let name = match fusable {
            true => module.fuse(callee, &options, instance, &entering),
            false => None,
        };
        let at = *at;
        if module.is_empty() {
            self.pending.pop();
        }
        let adapter = self.meta.adapters.push(AdapterFunc {
            lifted,
            options,
            instance,
        });
        match name {
            Some(name) => CoreDef::Fused {
                instance: at,
                name,
                adapter,
            },
            None => CoreDef::Adapter(adapter),
        }
    }

    /// Adds the pending adapters' modules to the plan, as the core
    /// instances their definitions name.
    fn instantiate_adapters(&mut self) {
        for (at, module) in std::mem::take(&mut self.pending) {
            self.instantiate_adapter_module(at, module);
        }
    }

    /// Adds adapter module `module` to the plan as core instance `at`.
    fn instantiate_adapter_module(
        &mut self,
        at: CoreInstanceIndex,
        module: adapter::AdapterModule,
    ) {
        let fused = module.finish();
        let imports = fused
            .imports
            .into_iter()
            .map(|import| match import {
                adapter::Import::Def(def) => def,
                adapter::Import::Transfer(transfer) => {
                    CoreDef::Transfer(self.meta.transfers.push(transfer))
                }
                adapter::Import::CallCounter => CoreDef::CallCounter,
            })
            .collect();
        let module = self.generated_module(fused.wasm);
        self.meta
            .initializers
            .push(Initializer::Instantiate { module, imports });
        debug_assert_eq!(at.index(), self.meta.initializers.len() - 1);
    }

    /// The plan's next core instance, once pending adapters have theirs.
    fn next_instance(&self) -> CoreInstanceIndex {
        CoreInstanceIndex::new(self.meta.initializers.len() + self.pending.len())
    }

    /// The plan's module for `wasm`, a module the compiler generated: one
    /// module for equal bytes, after the component's own.
    fn generated_module(&mut self, wasm: Vec<u8>) -> ModuleIndex {
        let at = match self.fused.iter().position(|w| *w == wasm) {
            Some(at) => at,
            None => {
                self.fused.push(wasm);
                self.fused.len() - 1
            }
        };
        ModuleIndex::new(self.modules.len() + at)
    }

    /// The type of the item at `path`: a host import, or an export of an
    /// imported instance as its component's type declares it.
    fn import_type(&self, path: &ImportPath) -> Option<&ImportType> {
        let mut ty = match path.root {
            PathRoot::Import(import) => &self.meta.imports.get(import)?.1,
            PathRoot::Instance(i) => {
                let component = &self.meta.imported_instances.get(i)?.component;
                let ImportType::Component { exports, .. } = self.import_type(component)? else {
                    return None;
                };
                return exports_type(exports, &path.names);
            }
        };
        for name in &path.names {
            let ImportType::Instance(exports) = ty else {
                return None;
            };
            ty = &exports.iter().find(|(n, _)| n == name)?.1;
        }
        Some(ty)
    }

    /// The root's export, as `name`, of the host function imported at
    /// `path`: `canon lift` of its `canon lower`, through the
    /// [`forwarder`](super::forwarder) module whose memory holds the values
    /// in between. The module, one for all re-exports, is instantiated by
    /// [`Self::instantiate_forwarder`] after the root's exports, as the
    /// plan's next core instance.
    fn reexport(&mut self, path: &ImportPath, name: String) -> Result<LiftedIndex> {
        use super::forwarder::{MEMORY, REALLOC, call, reset};
        let Some(ImportType::Func(ty)) = self.import_type(path) else {
            return Err(unsupported(&format!(
                "re-exporting `{name}`, an import cmc cannot link"
            )));
        };
        let ty = ty.clone();
        let next = self.next_instance();
        let shim = *self.forwarder.get_or_insert(next);
        let export = |name: &str| CoreDef::Export {
            instance: shim,
            name: name.to_owned(),
        };
        let root = ComponentInstanceIndex::from_u32(0);
        let options = CanonOptions {
            memory: Some(export(MEMORY)),
            ptr_type: PtrType::I32,
            page_size_log2: 16,
            realloc: Some(export(REALLOC)),
            post_return: None,
            encoding: StringEncoding::Utf8,
            is_async: false,
            callback: None,
        };
        let lowered = self.meta.lowered.push(LoweredFunc {
            import: path.clone(),
            options: options.clone(),
            ty: ty.clone(),
            instance: root,
        });
        let k = self.reexports.len();
        self.reexports.push((lowered, ty.clone()));
        Ok(self.meta.lifted.push(LiftedFunc {
            core: export(&call(k)),
            options: CanonOptions {
                post_return: Some(export(&reset(k))),
                ..options
            },
            ty,
            instance: root,
            name,
        }))
    }

    /// Instantiates the forwarder of the re-exports made, if any, as the
    /// core instance [`Self::reexport`] named.
    fn instantiate_forwarder(&mut self) {
        let Some(named) = self.forwarder else {
            return;
        };
        let (lowered, types): (Vec<_>, Vec<_>) = std::mem::take(&mut self.reexports)
            .into_iter()
            .map(|(lowered, ty)| (CoreDef::Lowered(lowered), ty))
            .unzip();
        let module = self.generated_module(super::forwarder::forwarder(&types));
        let instance = self.initialize(Initializer::Instantiate {
            module,
            imports: lowered,
        });
        assert_eq!(
            instance, named,
            "nothing is instantiated while the root exports"
        );
    }

    /// Names the lifted functions that exporting `item` as `name` exports
    /// (itself, or an instance's functions as `name#func`). The last export
    /// names it: the outermost, which the host sees (a nested component's
    /// exports are all walked before its parent's).
    fn name_lifted(&mut self, name: &str, item: &Item) {
        let mut name_one = |path: String, item: &Item| {
            if let Item::Func(Func::Lifted(i)) = item {
                self.meta.lifted[*i].name = path;
            }
        };
        match item {
            Item::Instance(Instance::Exports(exports)) => {
                for (func, item) in exports.iter() {
                    name_one(format!("{name}#{func}"), item);
                }
            }
            item => name_one(name.to_owned(), item),
        }
    }

    /// Adds `init` to the plan (after the pending adapters, which it may
    /// import) and returns the core instance it makes.
    fn initialize(&mut self, init: Initializer) -> CoreInstanceIndex {
        self.instantiate_adapters();
        self.meta.initializers.push(init);
        CoreInstanceIndex::new(self.meta.initializers.len() - 1)
    }

    /// Adds built-in `op` to the plan and its core function to `s`; its
    /// core type is the validator's type of the core function it defines.
    fn builtin(&mut self, s: &mut Scope, types: &Types, op: CanonBuiltinOp) -> Result<()> {
        let ty = types.as_ref().core_function_at(s.core_funcs.len() as u32);
        let ty = crate::module::core_func_type(types, ty)?;
        let builtin = self.meta.builtins.push(CanonBuiltin {
            op,
            instance: s.instance,
            ty,
        });
        s.core_funcs.push(Core::Def(CoreDef::Builtin(builtin)));
        Ok(())
    }

    fn canon(&mut self, s: &mut Scope, types: &Types, canon: &CanonicalFunction) -> Result<()> {
        let renames = &self.parsed.renames;
        match canon {
            CanonicalFunction::Lift {
                core_func_index,
                options,
                ..
            } => {
                let lifted = deferred((|| {
                    Ok(LiftedFunc {
                        core: s.core_funcs[*core_func_index as usize].def()?,
                        options: canon_options(s, types, options)?,
                        ty: TypeConverter::new(types, &s.resources, renames)
                            .func_type_at(s.funcs.len() as u32)?,
                        instance: s.instance,
                        name: String::new(),
                    })
                })())?;
                s.funcs.push(match lifted {
                    Ok(lifted) => {
                        // Its calls may block: the runtime keeps their tasks.
                        if lifted.ty.is_async {
                            self.meta.tasked[s.instance] = true;
                        }
                        Func::Lifted(self.meta.lifted.push(lifted))
                    }
                    Err(what) => Func::Unsupported(what),
                });
            }
            CanonicalFunction::Lower {
                func_index,
                options,
            } => {
                let core = match &s.funcs[*func_index as usize] {
                    Func::Import(path) => deferred((|| {
                        Ok(LoweredFunc {
                            import: path.clone(),
                            options: canon_options(s, types, options)?,
                            ty: TypeConverter::new(types, &s.resources, renames)
                                .func_type_at(*func_index)?,
                            instance: s.instance,
                        })
                    })())?
                    .map(|lowered| CoreDef::Lowered(self.meta.lowered.push(lowered))),
                    Func::Lifted(lifted) => deferred(canon_options(s, types, options))?
                        .map(|options| self.adapter(*lifted, options, s.instance)),
                    Func::Unsupported(what) => Err(what.clone()),
                };
                s.core_funcs.push(match core {
                    Ok(def) => Core::Def(def),
                    Err(what) => Core::Unsupported(what),
                });
            }
            CanonicalFunction::ResourceNew { resource } => {
                self.resource_builtin(s, types, ResourceOp::New, *resource)?
            }
            CanonicalFunction::ResourceRep { resource } => {
                self.resource_builtin(s, types, ResourceOp::Rep, *resource)?
            }
            CanonicalFunction::ResourceDrop { resource } => {
                self.resource_builtin(s, types, ResourceOp::Drop, *resource)?
            }
            CanonicalFunction::ContextGet { slot, .. } => {
                self.builtin(s, types, CanonBuiltinOp::ContextGet { slot: *slot })?
            }
            CanonicalFunction::ContextSet { slot, .. } => {
                self.builtin(s, types, CanonBuiltinOp::ContextSet { slot: *slot })?
            }
            CanonicalFunction::BackpressureInc => {
                self.builtin(s, types, CanonBuiltinOp::BackpressureInc)?
            }
            CanonicalFunction::BackpressureDec => {
                self.builtin(s, types, CanonBuiltinOp::BackpressureDec)?
            }
            CanonicalFunction::TaskReturn { result, options } => {
                let op = deferred((|| {
                    let converter = TypeConverter::new(types, &s.resources, renames);
                    Ok(CanonBuiltinOp::TaskReturn {
                        result: result
                            .as_ref()
                            .map(|t| converter.val_type_at(t))
                            .transpose()?,
                        options: canon_options(s, types, options)?,
                    })
                })())?;
                match op {
                    Ok(op) => self.builtin(s, types, op)?,
                    Err(what) => s.core_funcs.push(Core::Unsupported(what)),
                }
            }
            CanonicalFunction::ThreadYield => {
                self.builtin(s, types, CanonBuiltinOp::ThreadYield)?
            }
            CanonicalFunction::WaitableSetNew => {
                self.builtin(s, types, CanonBuiltinOp::WaitableSetNew)?
            }
            CanonicalFunction::WaitableSetWait { memory } => {
                let memory = s.core_memories[*memory as usize].def()?;
                self.builtin(s, types, CanonBuiltinOp::WaitableSetWait { memory })?
            }
            CanonicalFunction::WaitableSetPoll { memory } => {
                let memory = s.core_memories[*memory as usize].def()?;
                self.builtin(s, types, CanonBuiltinOp::WaitableSetPoll { memory })?
            }
            CanonicalFunction::WaitableSetDrop => {
                self.builtin(s, types, CanonBuiltinOp::WaitableSetDrop)?
            }
            CanonicalFunction::WaitableJoin => {
                self.builtin(s, types, CanonBuiltinOp::WaitableJoin)?
            }
            CanonicalFunction::SubtaskDrop => {
                self.builtin(s, types, CanonBuiltinOp::SubtaskDrop)?
            }
            CanonicalFunction::TaskCancel => self.builtin(s, types, CanonBuiltinOp::TaskCancel)?,
            CanonicalFunction::ThreadIndex => {
                self.builtin(s, types, CanonBuiltinOp::ThreadIndex)?
            }
            CanonicalFunction::ThreadNewIndirect { table_index, .. } => {
                let table = s.core_tables[*table_index as usize].def()?;
                self.builtin(s, types, CanonBuiltinOp::ThreadNewIndirect { table })?
            }
            CanonicalFunction::ThreadResumeLater => {
                self.builtin(s, types, CanonBuiltinOp::ThreadResumeLater)?
            }
            CanonicalFunction::ThreadSuspend => {
                self.builtin(s, types, CanonBuiltinOp::ThreadSuspend)?
            }
            CanonicalFunction::ThreadYieldThenResume
            | CanonicalFunction::ThreadSuspendThenResume
            | CanonicalFunction::ThreadYieldThenPromote
            | CanonicalFunction::ThreadSuspendThenPromote => {
                use CanonicalFunction as C;
                let op = CanonBuiltinOp::ThreadSwitch {
                    yields: matches!(canon, C::ThreadYieldThenResume | C::ThreadYieldThenPromote),
                    promote: matches!(
                        canon,
                        C::ThreadYieldThenPromote | C::ThreadSuspendThenPromote
                    ),
                };
                self.builtin(s, types, op)?
            }
            CanonicalFunction::SubtaskCancel { async_ } => {
                let op = CanonBuiltinOp::SubtaskCancel { is_async: *async_ };
                self.builtin(s, types, op)?
            }
            other if copy_builtin(other).is_some() => {
                let op = deferred(self.copy_op(s, types, other))?;
                match op {
                    Ok(op) => self.builtin(s, types, op)?,
                    Err(what) => s.core_funcs.push(Core::Unsupported(what)),
                }
            }
            // Shared-everything threads, a proposal of its own.
            other => {
                let name = format!("{other:?}");
                let name = name.split([' ', '{', '(']).next().unwrap_or("?");
                s.core_funcs.push(Core::Unsupported(
                    format!("the canonical built-in `{name}` (shared-everything threads)").into(),
                ));
            }
        }
        Ok(())
    }

    /// The plan item of stream, future or error-context built-in `canon`
    /// (one [`copy_builtin`] knows).
    fn copy_op(
        &self,
        s: &Scope,
        types: &Types,
        canon: &CanonicalFunction,
    ) -> Result<CanonBuiltinOp> {
        use CanonicalFunction as C;
        let converter = TypeConverter::new(types, &s.resources, &self.parsed.renames);
        let ty = |index: u32| converter.val_type_at(&wasmparser::ComponentValType::Type(index));
        let (kind, index) =
            copy_builtin(canon).expect("a stream, future or error-context built-in");
        Ok(match (kind, canon) {
            (CopyBuiltin::New, _) => CanonBuiltinOp::CopyNew { ty: ty(index)? },
            (
                CopyBuiltin::Read | CopyBuiltin::Write,
                C::StreamRead { options, .. }
                | C::StreamWrite { options, .. }
                | C::FutureRead { options, .. }
                | C::FutureWrite { options, .. },
            ) => CanonBuiltinOp::Copy {
                ty: ty(index)?,
                write: kind == CopyBuiltin::Write,
                options: canon_options(s, types, options)?,
            },
            (
                CopyBuiltin::CancelRead | CopyBuiltin::CancelWrite,
                C::StreamCancelRead { async_, .. }
                | C::StreamCancelWrite { async_, .. }
                | C::FutureCancelRead { async_, .. }
                | C::FutureCancelWrite { async_, .. },
            ) => CanonBuiltinOp::CancelCopy {
                ty: ty(index)?,
                write: kind == CopyBuiltin::CancelWrite,
                is_async: *async_,
            },
            (CopyBuiltin::DropReadable | CopyBuiltin::DropWritable, _) => CanonBuiltinOp::DropEnd {
                ty: ty(index)?,
                writable: kind == CopyBuiltin::DropWritable,
            },
            (CopyBuiltin::ErrorContextNew, C::ErrorContextNew { options }) => {
                CanonBuiltinOp::ErrorContextNew {
                    options: canon_options(s, types, options)?,
                }
            }
            (CopyBuiltin::ErrorContextDebugMessage, C::ErrorContextDebugMessage { options }) => {
                CanonBuiltinOp::ErrorContextDebugMessage {
                    options: canon_options(s, types, options)?,
                }
            }
            (CopyBuiltin::ErrorContextDrop, _) => CanonBuiltinOp::ErrorContextDrop,
            _ => unreachable!("copy_builtin pairs each built-in with its kind"),
        })
    }

    /// Adds resource built-in `op` of the resource type at type index
    /// `resource` (see [`Self::builtin`]).
    fn resource_builtin(
        &mut self,
        s: &mut Scope,
        types: &Types,
        op: ResourceOp,
        resource: u32,
    ) -> Result<()> {
        let resource = s.resource_at(resource);
        self.builtin(s, types, CanonBuiltinOp::Resource { op, resource })
    }

    /// The export-tree entry of an instance of `items`, exported as `name`.
    fn export_instance(
        &mut self,
        name: &str,
        items: impl IntoIterator<Item = (String, Item)>,
    ) -> Result<ExportItem> {
        let mut exports = Vec::new();
        for (export, item) in items {
            if let Some(e) = self.export_item(&format!("{name}#{export}"), &item)? {
                exports.push((export, e));
            }
        }
        Ok(ExportItem::Instance(exports))
    }

    /// The export-tree entry of `item`, exported as `name`; `None` for
    /// items that are not exported to the host (types).
    fn export_item(&mut self, name: &str, item: &Item) -> Result<Option<ExportItem>> {
        Ok(match item {
            Item::Func(Func::Lifted(i)) => Some(ExportItem::Func(*i)),
            Item::Func(Func::Import(path)) => {
                Some(ExportItem::Func(self.reexport(path, name.to_owned())?))
            }
            Item::Func(Func::Unsupported(what)) => return Err(unsupported(what)),
            Item::Instance(Instance::Exports(exports)) => {
                Some(self.export_instance(name, exports.iter().cloned())?)
            }
            // Its functions and instances, as the imports they are.
            Item::Instance(Instance::Import(path)) => {
                let Some(ImportType::Instance(exports)) = self.import_type(path) else {
                    return Err(unsupported(&format!(
                        "re-exporting `{name}`, an import cmc cannot link"
                    )));
                };
                let items: Vec<_> = (exports.iter())
                    .filter_map(|(export, ty)| {
                        let inner = path.join(export);
                        let item = match ty {
                            ImportType::Func(_) => Item::Func(Func::Import(inner)),
                            ImportType::Instance(_) => Item::Instance(Instance::Import(inner)),
                            _ => return None,
                        };
                        Some((export.clone(), item))
                    })
                    .collect();
                Some(self.export_instance(name, items)?)
            }
            // The host API hands out functions and instances only; an
            // exported module or component stays inside.
            Item::Module(_) | Item::Component(_) => None,
            Item::Type(_) => None,
        })
    }
}

/// What an imported component's import is bound to when `item` is passed
/// for it; `None` for types, which carry nothing at run time.
fn component_arg(item: &Item) -> Result<Option<ComponentArg>> {
    Ok(Some(match item {
        Item::Func(Func::Lifted(lifted)) => ComponentArg::Lifted(*lifted),
        Item::Func(Func::Import(path)) | Item::Instance(Instance::Import(path)) => {
            ComponentArg::Path(path.clone())
        }
        Item::Func(Func::Unsupported(what)) => return Err(unsupported(what)),
        Item::Instance(Instance::Exports(items)) => {
            let mut args = Vec::new();
            for (name, item) in items.iter() {
                if let Some(arg) = component_arg(item)? {
                    args.push((name.clone(), arg));
                }
            }
            ComponentArg::Instance(args)
        }
        Item::Type(None) => return Ok(None),
        Item::Type(Some(_)) => {
            return Err(unsupported(
                "passing a resource type to an imported component",
            ));
        }
        Item::Module(_) => {
            return Err(unsupported(
                "passing a core module to an imported component",
            ));
        }
        Item::Component(_) => {
            return Err(unsupported("passing a component to an imported component"));
        }
    }))
}

/// The type of the export at `names` among `exports`.
fn exports_type<'t>(
    exports: &'t [(String, ImportType)],
    names: &[String],
) -> Option<&'t ImportType> {
    let (first, rest) = names.split_first()?;
    let ty = &exports.iter().find(|(n, _)| n == first)?.1;
    match (ty, rest) {
        (ty, []) => Some(ty),
        (ImportType::Instance(inner), rest) => exports_type(inner, rest),
        _ => None,
    }
}

fn core_export(instance: &CoreInstance, name: &str) -> Core {
    match instance {
        CoreInstance::Runtime(i) => Core::Def(CoreDef::Export {
            instance: *i,
            name: name.to_owned(),
        }),
        CoreInstance::Bag(bag) => bag
            .get(name)
            .cloned()
            .expect("validated: the export exists"),
    }
}

fn instance_export(instance: &Instance, name: &str, kind: ComponentExternalKind) -> Result<Item> {
    Ok(match instance {
        Instance::Exports(exports) => exports
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, item)| item.clone())
            .expect("validated: the export exists"),
        Instance::Import(path) => {
            let path = path.join(name);
            match kind {
                ComponentExternalKind::Func => Item::Func(Func::Import(path)),
                ComponentExternalKind::Instance => Item::Instance(Instance::Import(path)),
                ComponentExternalKind::Type => Item::Type(None),
                ComponentExternalKind::Component if path.host_import().is_some() => {
                    Item::Component(Closure {
                        source: ComponentSource::Host(path),
                        outer: None,
                    })
                }
                other => {
                    return Err(unsupported(&format!(
                        "a {} exported by an imported instance",
                        other.desc()
                    )));
                }
            }
        }
    })
}

/// The canonical options `options`; `types` are the validator's types of
/// the component, for the address type of the memory.
fn canon_options(s: &Scope, types: &Types, options: &[CanonicalOption]) -> Result<CanonOptions> {
    let mut out = CanonOptions {
        memory: None,
        ptr_type: PtrType::I32,
        page_size_log2: 16,
        realloc: None,
        post_return: None,
        encoding: StringEncoding::Utf8,
        is_async: false,
        callback: None,
    };
    for option in options {
        match *option {
            CanonicalOption::UTF8 => out.encoding = StringEncoding::Utf8,
            CanonicalOption::UTF16 => out.encoding = StringEncoding::Utf16,
            CanonicalOption::CompactUTF16 => out.encoding = StringEncoding::Latin1Utf16,
            CanonicalOption::Memory(m) => {
                out.memory = Some(s.core_memories[m as usize].def()?);
                let ty = types.as_ref().memory_at(m);
                if ty.memory64 {
                    out.ptr_type = PtrType::I64;
                }
                out.page_size_log2 = ty.page_size_log2.unwrap_or(16) as u8;
            }
            CanonicalOption::Realloc(f) => out.realloc = Some(s.core_funcs[f as usize].def()?),
            CanonicalOption::PostReturn(f) => {
                out.post_return = Some(s.core_funcs[f as usize].def()?)
            }
            CanonicalOption::Async => out.is_async = true,
            CanonicalOption::Callback(f) => out.callback = Some(s.core_funcs[f as usize].def()?),
            CanonicalOption::CoreType(_) | CanonicalOption::Gc => {
                return Err(unsupported("GC-based canonical options"));
            }
        }
    }
    Ok(out)
}

/// Whether `canon` makes its component instance keep tasks at run time
/// (see `ComponentMeta::tasked`): a built-in that acts on the current task
/// or thread, or an `async` lift.
fn keeps_tasks(canon: &CanonicalFunction) -> bool {
    match canon {
        CanonicalFunction::Lift { options, .. } => {
            options.iter().any(|o| matches!(o, CanonicalOption::Async))
        }
        CanonicalFunction::Lower { .. }
        | CanonicalFunction::ResourceNew { .. }
        | CanonicalFunction::ResourceRep { .. }
        | CanonicalFunction::ResourceDrop { .. } => false,
        _ => true,
    }
}

/// The built-ins of streams, futures and error contexts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CopyBuiltin {
    New,
    Read,
    Write,
    CancelRead,
    CancelWrite,
    DropReadable,
    DropWritable,
    ErrorContextNew,
    ErrorContextDebugMessage,
    ErrorContextDrop,
}

/// Which stream, future or error-context built-in `canon` is, with the
/// type index of its stream or future type (0 for error contexts).
fn copy_builtin(canon: &CanonicalFunction) -> Option<(CopyBuiltin, u32)> {
    use CanonicalFunction as C;
    use CopyBuiltin as B;
    Some(match *canon {
        C::StreamNew { ty } | C::FutureNew { ty } => (B::New, ty),
        C::StreamRead { ty, .. } | C::FutureRead { ty, .. } => (B::Read, ty),
        C::StreamWrite { ty, .. } | C::FutureWrite { ty, .. } => (B::Write, ty),
        C::StreamCancelRead { ty, .. } | C::FutureCancelRead { ty, .. } => (B::CancelRead, ty),
        C::StreamCancelWrite { ty, .. } | C::FutureCancelWrite { ty, .. } => (B::CancelWrite, ty),
        C::StreamDropReadable { ty } | C::FutureDropReadable { ty } => (B::DropReadable, ty),
        C::StreamDropWritable { ty } | C::FutureDropWritable { ty } => (B::DropWritable, ty),
        C::ErrorContextNew { .. } => (B::ErrorContextNew, 0),
        C::ErrorContextDebugMessage { .. } => (B::ErrorContextDebugMessage, 0),
        C::ErrorContextDrop => (B::ErrorContextDrop, 0),
        _ => return None,
    })
}
