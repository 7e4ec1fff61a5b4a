//! Loading compiled components.

use crate::abi::{ArtifactKind, ComponentMeta, CoreDef, ExportItem, Initializer, ResourceDef};
use crate::api::{ArtifactError, Engine, Error, Module};
use crate::artifact::{CodeMap, LoadedArtifact, check_header};
use crate::canon::{FuncType, InterfaceType, ResourceTypeId};
use memmap2::{MmapMut, MmapOptions};
use std::path::Path;
use std::sync::Arc;

struct ComponentInner {
    engine: Engine,
    /// The plan; `meta.modules` has been moved into `modules`.
    meta: ComponentMeta,
    modules: Vec<Module>,
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
            .compile_module(bytes.as_ref(), &engine.config().settings)
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
        let mut map =
            MmapMut::map_anon(bytes.len().max(1)).map_err(|e| Error::Resource(e.to_string()))?;
        map[..bytes.len()].copy_from_slice(bytes);
        Component::from_map(engine, map)
    }

    /// Maps a component artifact file.
    ///
    /// # Safety
    ///
    /// As for [`Module::load_file`].
    pub unsafe fn load_file(engine: &Engine, path: impl AsRef<Path>) -> Result<Component, Error> {
        let path = path.as_ref();
        let io = |source| ArtifactError::Io {
            path: path.display().to_string(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        // SAFETY: a private copy-on-write mapping; the caller promises the
        // file is not modified meanwhile.
        let map = unsafe { MmapOptions::new().map_copy(&file) }.map_err(io)?;
        Component::from_map(engine, map)
    }

    fn from_map(engine: &Engine, map: MmapMut) -> Result<Component, Error> {
        let settings = &engine.config().settings;
        let code = CodeMap::new(map, |h| check_header(h, settings, ArtifactKind::Component))?;
        let mut meta: ComponentMeta = code.decode_meta()?;
        validate(&meta)?;
        let modules = std::mem::take(&mut meta.modules)
            .into_iter()
            .map(|image| {
                let artifact =
                    LoadedArtifact::new_in(code.clone(), image.meta, image.text, image.data)?;
                Ok(Module::from_loaded(engine, artifact))
            })
            .collect::<Result<Vec<_>, Error>>()?;
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

    pub(crate) fn modules(&self) -> &[Module] {
        &self.inner.modules
    }

    /// The root imports: names and types.
    pub fn imports(&self) -> &[(String, crate::abi::ImportType)] {
        &self.inner.meta.imports
    }

    /// The resource type the host defines for the root import at `path`
    /// (import name, then export names), for making handles of it.
    pub fn resource_type(&self, path: &[&str]) -> Option<ResourceTypeId> {
        let meta = &self.inner.meta;
        let (first, rest) = path.split_first()?;
        let import = meta.imports.iter().position(|(name, _)| name == first)?;
        meta.resources
            .iter()
            .position(|r| {
                matches!(r, ResourceDef::Host(p)
                    if p.import as usize == import && p.names.iter().eq(rest.iter()))
            })
            .map(|i| ResourceTypeId(i as u32))
    }

    /// The root exports.
    pub fn exports(&self) -> &[(String, ExportItem)] {
        &self.inner.meta.exports
    }
}

/// Refuses a plan whose indices point nowhere (a tampered artifact).
fn validate(meta: &ComponentMeta) -> Result<(), ArtifactError> {
    let mut instances = 0u32;
    let def_ok = |d: &CoreDef, instances: u32| match d {
        CoreDef::Export { instance, .. } => instance.0 < instances,
        CoreDef::Lowered(i) => (*i as usize) < meta.lowered.len(),
        CoreDef::Builtin(i) => (*i as usize) < meta.builtins.len(),
        CoreDef::Adapter(i) => meta.adapters.get(*i as usize).is_some_and(|a| {
            (a.lifted as usize) < meta.lifted.len() && a.instance.0 < meta.instances
        }),
        // Its memories are exports of earlier core instances.
        CoreDef::Transfer(i) => meta.transfers.get(*i as usize).is_some_and(|t| {
            [&t.from, &t.to]
                .iter()
                .all(|m| matches!(m, CoreDef::Export { instance, .. } if instance.0 < instances))
        }),
    };
    let resources_ok = meta.resources.iter().all(|r| match r {
        ResourceDef::Guest { dtor, instance } => {
            instance.0 < meta.instances && dtor.as_ref().is_none_or(|d| def_ok(d, u32::MAX))
        }
        ResourceDef::Host(path) => (path.import as usize) < meta.imports.len(),
    });
    let builtins_ok = meta
        .builtins
        .iter()
        .all(|b| (b.resource.0 as usize) < meta.resources.len() && b.instance.0 < meta.instances);
    if !resources_ok || !builtins_ok {
        return Err(corrupt());
    }
    for init in &meta.initializers {
        let Initializer::Instantiate { module, imports } = init;
        let Some(image) = meta.modules.get(*module as usize) else {
            return Err(corrupt());
        };
        if imports.len() != image.meta.imports.len()
            || !imports.iter().all(|d| def_ok(d, instances))
        {
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
        [&o.memory, &o.realloc, &o.post_return]
            .into_iter()
            .flatten()
            .all(|d| def_ok(d, instances))
    };
    let lowered_ok = meta.lowered.iter().all(|l| {
        options_ok(&l.options)
            && (l.import.import as usize) < meta.imports.len()
            && l.instance.0 < meta.instances
            && types_ok(&l.ty)
    });
    let lifted_ok = meta.lifted.iter().all(|l| {
        options_ok(&l.options)
            && def_ok(&l.core, instances)
            && l.instance.0 < meta.instances
            && types_ok(&l.ty)
    });
    fn exports_ok(items: &[(String, ExportItem)], lifted: usize) -> bool {
        items.iter().all(|(_, item)| match item {
            ExportItem::Func(i) => (*i as usize) < lifted,
            ExportItem::Instance(items) => exports_ok(items, lifted),
        })
    }
    let adapters_ok = meta.adapters.iter().all(|a| options_ok(&a.options));
    if lowered_ok && lifted_ok && adapters_ok && exports_ok(&meta.exports, meta.lifted.len()) {
        Ok(())
    } else {
        Err(corrupt())
    }
}

/// Whether every resource type `ty` names is below `count`.
fn resources_in_range(ty: &InterfaceType, count: usize) -> bool {
    let ok = |t: &InterfaceType| resources_in_range(t, count);
    match ty {
        InterfaceType::Own(r) | InterfaceType::Borrow(r) => (r.0 as usize) < count,
        InterfaceType::List(t) | InterfaceType::Option(t) => ok(t),
        InterfaceType::Record(fields) => fields.iter().all(|(_, t)| ok(t)),
        InterfaceType::Tuple(types) => types.iter().all(ok),
        InterfaceType::Variant(cases) => cases.iter().filter_map(|(_, t)| t.as_ref()).all(ok),
        InterfaceType::Result { ok: o, err } => o.iter().chain(err).all(|t| ok(t)),
        _ => true,
    }
}

fn corrupt() -> ArtifactError {
    ArtifactError::Corrupt("the component plan refers to items that do not exist".into())
}
