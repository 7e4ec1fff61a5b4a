//! Loading compiled components.

use crate::abi::{
    ArtifactKind, CanonBuiltinOp, ComponentArg, ComponentMeta, CoreDef, EntityRef, ExportItem,
    HandleOp, ImportPath, Initializer, ModuleIndex, PathRoot, PrimaryMap, ResourceDef,
};
use crate::api::{ArtifactError, Engine, Error, Module};
use crate::artifact::{ArtifactSource, CodeMap, Integrity, LoadedArtifact, check_header};
use crate::canon::{FuncType, InterfaceType, ResourceTypeId};
use std::path::Path;
use std::sync::Arc;

struct ComponentInner {
    engine: Engine,
    /// The plan; `meta.modules` has been moved into `modules`.
    meta: ComponentMeta,
    modules: PrimaryMap<ModuleIndex, Module>,
}

/// A compiled component, ready to instantiate. Cheap to clone.
#[derive(Clone)]
pub struct Component {
    inner: Arc<ComponentInner>,
}

impl Component {
    /// Compiles a component (binary or text) with the engine's compiler.
    pub fn new(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Component, Error> {
        let compiler = engine.compiler().ok_or(Error::NoCompiler)?;
        let artifact = compiler
            .compile_module(bytes.as_ref(), engine.config())
            .map_err(Error::Compile)?;
        // SAFETY: the bytes were just produced by the engine's own compiler.
        unsafe { Component::from_artifact(engine, &artifact) }
    }

    /// Loads a component artifact from bytes.
    ///
    /// # Safety
    ///
    /// As for [`Module::from_artifact`]: an artifact is native code and must
    /// come from a trusted `cmc build`.
    pub unsafe fn from_artifact(engine: &Engine, bytes: &[u8]) -> Result<Component, Error> {
        // SAFETY: forwarded to the caller.
        unsafe { Component::open(engine, ArtifactSource::Bytes(bytes), Integrity::Checked) }
    }

    /// Maps a component artifact file, after checking its checksum.
    ///
    /// # Safety
    ///
    /// As for [`Module::load_file`].
    pub unsafe fn load_file(engine: &Engine, path: impl AsRef<Path>) -> Result<Component, Error> {
        let source = ArtifactSource::File(path.as_ref());
        // SAFETY: forwarded to the caller.
        unsafe { Component::open(engine, source, Integrity::Checked) }
    }

    /// [`Component::load_file`] without the checksum, as
    /// [`Module::load_file_unchecked`].
    ///
    /// # Safety
    ///
    /// As for [`Module::load_file_unchecked`].
    pub unsafe fn load_file_unchecked(
        engine: &Engine,
        path: impl AsRef<Path>,
    ) -> Result<Component, Error> {
        let source = ArtifactSource::File(path.as_ref());
        // SAFETY: forwarded to the caller.
        unsafe { Component::open(engine, source, Integrity::Trusted) }
    }

    /// # Safety
    ///
    /// As for [`Module::load_file`].
    unsafe fn open(
        engine: &Engine,
        source: ArtifactSource<'_>,
        integrity: Integrity,
    ) -> Result<Component, Error> {
        let settings = &engine.config().settings;
        let check = |h: &_| check_header(h, settings, ArtifactKind::Component);
        // SAFETY: forwarded to the caller.
        let code = unsafe { CodeMap::open(source, integrity, check) }?;
        let mut meta: ComponentMeta = code.decode_meta()?;
        validate(&meta)?;
        let modules = std::mem::take(&mut meta.modules)
            .into_iter()
            .map(|(_, image)| {
                let artifact =
                    LoadedArtifact::new_in(code.clone(), image.meta, image.text, image.data)?;
                Ok(Module::from_loaded(engine, artifact))
            })
            .collect::<Result<_, Error>>()?;
        Ok(Component {
            inner: Arc::new(ComponentInner {
                engine: engine.clone(),
                meta,
                modules,
            }),
        })
    }

    /// The engine this component belongs to.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    pub(crate) fn meta(&self) -> &ComponentMeta {
        &self.inner.meta
    }

    pub(crate) fn modules(&self) -> &PrimaryMap<ModuleIndex, Module> {
        &self.inner.modules
    }

    /// The root imports: names and types.
    pub fn imports(&self) -> &[(String, crate::abi::ImportType)] {
        self.inner.meta.imports.as_values_slice()
    }

    /// The resource type the host defines for the root import at `path`
    /// (import name, then export names), for making handles of it.
    pub fn resource_type(&self, path: &[&str]) -> Option<ResourceTypeId> {
        let meta = &self.inner.meta;
        let (first, rest) = path.split_first()?;
        let (import, _) = meta.imports.iter().find(|(_, (name, _))| name == first)?;
        let (id, _) = meta.resources.iter().find(|(_, r)| {
            matches!(r, ResourceDef::Host(p) if p.host_import() == Some(import) && p.names.iter().eq(rest.iter()))
        })?;
        Some(id)
    }

    /// How many calls between the component's components its plan has:
    /// `(fused, runtime)`, compiled into fused adapters or carried by the
    /// runtime's adapter.
    pub fn adapter_counts(&self) -> (usize, usize) {
        self.inner.meta.adapter_counts()
    }

    /// The root exports.
    pub fn exports(&self) -> &[(String, ExportItem)] {
        &self.inner.meta.exports
    }
}

/// Refuses a plan whose indices point nowhere (a tampered artifact).
fn validate(meta: &ComponentMeta) -> Result<(), ArtifactError> {
    let component_instance_ok = |i: crate::abi::ComponentInstanceIndex| meta.parents.is_valid(i);
    // `instances` is the number of core instances created so far: a
    // definition may only name an earlier one.
    let adapter_ok = |i| {
        (meta.adapters.get(i))
            .is_some_and(|a| meta.lifted.is_valid(a.lifted) && component_instance_ok(a.instance))
    };
    let def_ok = |d: &CoreDef, instances: usize| {
        match d {
            CoreDef::Export { instance, .. } => instance.index() < instances,
            CoreDef::Lowered(i) => meta.lowered.is_valid(*i),
            CoreDef::Builtin(i) => meta.builtins.is_valid(*i),
            CoreDef::Adapter(i) => adapter_ok(*i),
            CoreDef::Fused {
                instance, adapter, ..
            } => instance.index() < instances && adapter_ok(*adapter),
            CoreDef::CallCounter | CoreDef::AbiTrap(_) => true,
            CoreDef::Handle(op) => match *op {
                HandleOp::MoveOwn { ty, from, to } | HandleOp::Lend { ty, from, to } => {
                    meta.resources.is_valid(ty)
                        && component_instance_ok(from)
                        && component_instance_ok(to)
                }
                HandleOp::Enter { to } | HandleOp::Exit { to } => component_instance_ok(to),
                HandleOp::EndLends { from } => component_instance_ok(from),
            },
            CoreDef::MayLeave(table) | CoreDef::MayEnter(table) => component_instance_ok(*table),
            // Its memories are exports of earlier core instances.
            CoreDef::Transfer(i) => meta.transfers.get(*i).is_some_and(|t| {
                let into_ok = match t.op {
                    crate::abi::TransferOp::Transcode { into, .. } => component_instance_ok(into),
                    _ => true,
                };
                into_ok
                && [&t.from, &t.to].iter().all(|m| {
                    matches!(m, CoreDef::Export { instance, .. } if instance.index() < instances)
                })
            }),
        }
    };
    // Paths into the host's definitions, and into the instances of the
    // components it gives, which only functions and instances come from.
    let host_path_ok = |p: &ImportPath| p.host_import().is_some_and(|i| meta.imports.is_valid(i));
    let path_ok = |p: &ImportPath| match p.root {
        PathRoot::Import(i) => meta.imports.is_valid(i),
        PathRoot::Instance(i) => meta.imported_instances.is_valid(i),
    };
    let resources_ok = meta.resources.values().all(|r| match r {
        ResourceDef::Guest { dtor, instance } => {
            component_instance_ok(*instance) && dtor.as_ref().is_none_or(|d| def_ok(d, usize::MAX))
        }
        ResourceDef::Host(path) => host_path_ok(path),
    });
    let options_ok = |options: &crate::abi::CanonOptions| {
        [&options.memory, &options.realloc]
            .into_iter()
            .flatten()
            .all(|d| def_ok(d, usize::MAX))
    };
    let copy_type_ok = |ty: &InterfaceType| {
        matches!(ty, InterfaceType::Stream(_) | InterfaceType::Future(_))
            && resources_in_range(ty, meta.resources.len())
    };
    let builtins_ok = (meta.builtins.values()).all(|b| {
        let op_ok = match &b.op {
            CanonBuiltinOp::Resource { resource, .. } => meta.resources.is_valid(*resource),
            CanonBuiltinOp::ContextGet { slot } | CanonBuiltinOp::ContextSet { slot } => *slot < 2,
            CanonBuiltinOp::TaskReturn { result, options } => {
                options_ok(options)
                    && (result.as_ref()).is_none_or(|t| resources_in_range(t, meta.resources.len()))
            }
            CanonBuiltinOp::CopyNew { ty }
            | CanonBuiltinOp::CancelCopy { ty, .. }
            | CanonBuiltinOp::DropEnd { ty, .. } => copy_type_ok(ty),
            CanonBuiltinOp::Copy { ty, options, .. } => copy_type_ok(ty) && options_ok(options),
            CanonBuiltinOp::ErrorContextNew { options }
            | CanonBuiltinOp::ErrorContextDebugMessage { options } => options_ok(options),
            CanonBuiltinOp::ThreadNewIndirect { table } => def_ok(table, usize::MAX),
            CanonBuiltinOp::WaitableSetWait { memory }
            | CanonBuiltinOp::WaitableSetPoll { memory } => def_ok(memory, usize::MAX),
            CanonBuiltinOp::BackpressureInc
            | CanonBuiltinOp::BackpressureDec
            | CanonBuiltinOp::ThreadYield
            | CanonBuiltinOp::WaitableSetNew
            | CanonBuiltinOp::WaitableSetDrop
            | CanonBuiltinOp::WaitableJoin
            | CanonBuiltinOp::SubtaskDrop
            | CanonBuiltinOp::SubtaskCancel { .. }
            | CanonBuiltinOp::TaskCancel
            | CanonBuiltinOp::ThreadIndex
            | CanonBuiltinOp::ThreadResumeLater
            | CanonBuiltinOp::ThreadSuspend
            | CanonBuiltinOp::ThreadSwitch { .. }
            | CanonBuiltinOp::ErrorContextDrop => true,
        };
        op_ok && component_instance_ok(b.instance)
    });
    let tasked_ok = meta.tasked.len() == meta.parents.len();
    // Each instance's parent is an earlier one (the root has none).
    let parents_ok = (meta.parents.iter()).all(|(i, p)| p.is_none_or(|p| p.as_u32() < i.as_u32()));
    if !resources_ok || !builtins_ok || !parents_ok || !tasked_ok {
        return Err(corrupt());
    }
    let mut instances = 0;
    for init in &meta.initializers {
        let shape_ok = match init {
            Initializer::Instantiate { module, imports } => meta
                .modules
                .get(*module)
                .is_some_and(|image| imports.len() == image.meta.imports.len()),
            Initializer::InstantiateImported { import, .. } => host_path_ok(import),
        };
        if !shape_ok || !init.import_defs().all(|d| def_ok(d, instances)) {
            return Err(corrupt());
        }
        instances += 1;
    }
    let types_ok = |f: &FuncType| {
        f.params
            .iter()
            .map(|(_, t)| t)
            .chain(&f.result)
            .all(|t| resources_in_range(t, meta.resources.len()))
    };
    let options_ok = |o: &crate::abi::CanonOptions| {
        [&o.memory, &o.realloc, &o.post_return, &o.callback]
            .into_iter()
            .flatten()
            .all(|d| def_ok(d, instances))
    };
    let transcoders_ok =
        (meta.transfers.values()).all(|t| t.realloc.as_ref().is_none_or(|d| def_ok(d, instances)));
    let lowered_ok = meta.lowered.values().all(|l| {
        options_ok(&l.options)
            && path_ok(&l.import)
            && component_instance_ok(l.instance)
            && types_ok(&l.ty)
    });
    let lifted_ok = meta.lifted.values().all(|l| {
        options_ok(&l.options)
            && def_ok(&l.core, instances)
            && component_instance_ok(l.instance)
            && types_ok(&l.ty)
    });
    let exports_ok = |items: &[(String, ExportItem)]| exports_in_range(items, meta);
    let adapters_ok = meta.adapters.values().all(|a| options_ok(&a.options));
    // An imported instance's arguments name earlier imported instances.
    let imported_ok = meta.imported_instances.iter().all(|(i, imported)| {
        host_path_ok(&imported.component)
            && component_instance_ok(imported.parent)
            && imported.before <= meta.initializers.len()
            && args_in_range(
                &imported.args,
                &|p: &ImportPath| match p.root {
                    PathRoot::Import(import) => meta.imports.is_valid(import),
                    PathRoot::Instance(earlier) => earlier < i,
                },
                meta,
            )
    });
    if lowered_ok
        && transcoders_ok
        && lifted_ok
        && adapters_ok
        && imported_ok
        && exports_ok(&meta.exports)
    {
        Ok(())
    } else {
        Err(corrupt())
    }
}

/// Whether every lifted function the export tree names exists.
fn exports_in_range(items: &[(String, ExportItem)], meta: &ComponentMeta) -> bool {
    items.iter().all(|(_, item)| match item {
        ExportItem::Func(i) => meta.lifted.is_valid(*i),
        ExportItem::Instance(items) => exports_in_range(items, meta),
    })
}

/// Whether every path of `args` is `path_ok` and every lifted function
/// they name exists.
fn args_in_range(
    args: &[(String, ComponentArg)],
    path_ok: &dyn Fn(&ImportPath) -> bool,
    meta: &ComponentMeta,
) -> bool {
    args.iter().all(|(_, arg)| match arg {
        ComponentArg::Path(path) => path_ok(path),
        ComponentArg::Lifted(i) => meta.lifted.is_valid(*i),
        ComponentArg::Instance(args) => args_in_range(args, path_ok, meta),
    })
}

/// Whether every resource type `ty` names is below `count`.
fn resources_in_range(ty: &InterfaceType, count: usize) -> bool {
    !ty.contains(
        &|t| matches!(t, InterfaceType::Own(r) | InterfaceType::Borrow(r) if r.index() >= count),
    )
}

fn corrupt() -> ArtifactError {
    ArtifactError::Corrupt("the component plan refers to items that do not exist".into())
}
