//! Modules: compiled code plus metadata, shared by all their instances.

use super::{ArtifactError, Engine, Error};
use crate::abi::{
    ArtifactKind, ComponentMeta, DataIndex, EntityType, FuncType, ModuleMeta, PrimaryMap,
    SignatureId, TypeIndex,
};
use crate::artifact::{ArtifactSource, CodeMap, Integrity, LoadedArtifact, check_header};
use crate::vm::instance::ModuleRuntimeInfo;
use std::path::Path;
use std::sync::Arc;

struct ModuleInner {
    engine: Engine,
    artifact: Box<LoadedArtifact>,
    /// Engine-wide signature id per type index (read by compiled code).
    signature_ids: PrimaryMap<TypeIndex, SignatureId>,
    /// The registered signatures, by type index.
    func_types: PrimaryMap<TypeIndex, Arc<FuncType>>,
}

impl ModuleRuntimeInfo for ModuleInner {
    fn meta(&self) -> &ModuleMeta {
        &self.artifact.meta
    }

    fn signature_ids(&self) -> &[SignatureId] {
        self.signature_ids.as_values_slice()
    }

    fn data_segment(&self, index: DataIndex) -> &[u8] {
        self.artifact.data_segment(index)
    }
}

/// A compiled core module, ready to instantiate. Cheap to clone.
#[derive(Clone)]
pub struct Module {
    inner: Arc<ModuleInner>,
}

/// An import of a module, as reported by [`Module::imports`].
#[derive(Clone, Debug)]
pub struct ImportType<'a> {
    /// Module name.
    pub module: &'a str,
    /// Field name.
    pub name: &'a str,
    /// What is expected.
    pub ty: EntityType,
}

/// An export of a module, as reported by [`Module::exports`].
#[derive(Clone, Debug)]
pub struct ExportType<'a> {
    /// Export name.
    pub name: &'a str,
    /// What is exported.
    pub ty: EntityType,
}

impl Module {
    /// Compiles wasm (binary or text) with the engine's compiler.
    pub fn new(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Module, Error> {
        let bytes = bytes.as_ref();
        if bytes.starts_with(b"\x7fELF") {
            return Err(Error::Usage(
                "this looks like a precompiled artifact: load it with Module::from_artifact or Module::load_file".into(),
            ));
        }
        let compiler = engine.compiler().ok_or(Error::NoCompiler)?;
        let artifact = compiler
            .compile_module(bytes, engine.config())
            .map_err(Error::Compile)?;
        // SAFETY: the bytes were just produced by the engine's own compiler.
        unsafe { Module::from_artifact(engine, &artifact) }
    }

    /// Loads an artifact from bytes (copied into fresh executable memory).
    ///
    /// # Safety
    ///
    /// An artifact is native code: the bytes must come from `cmc build` (or
    /// [`Compiler::compile_module`](super::Compiler)) of a trusted source.
    /// Its checksum and header are checked, which catches a damaged file,
    /// but not one forged with a valid checksum: code cannot be verified.
    pub unsafe fn from_artifact(engine: &Engine, bytes: &[u8]) -> Result<Module, Error> {
        // SAFETY: forwarded to the caller.
        unsafe { Module::open(engine, ArtifactSource::Bytes(bytes), Integrity::Checked) }
    }

    /// Maps an artifact file and makes its code executable in place, after
    /// checking its checksum (which reads the whole file once).
    ///
    /// # Safety
    ///
    /// As for [`Module::from_artifact`]; in addition the file must not be
    /// modified while mapped.
    pub unsafe fn load_file(engine: &Engine, path: impl AsRef<Path>) -> Result<Module, Error> {
        // SAFETY: forwarded to the caller.
        unsafe {
            Module::open(
                engine,
                ArtifactSource::File(path.as_ref()),
                Integrity::Checked,
            )
        }
    }

    /// [`Module::load_file`] without the checksum, for a host that trusts
    /// its storage: only the pages the module uses are read. A damaged file
    /// may then crash the process.
    ///
    /// # Safety
    ///
    /// As for [`Module::load_file`], and the file must be intact.
    pub unsafe fn load_file_unchecked(
        engine: &Engine,
        path: impl AsRef<Path>,
    ) -> Result<Module, Error> {
        // SAFETY: forwarded to the caller.
        unsafe {
            Module::open(
                engine,
                ArtifactSource::File(path.as_ref()),
                Integrity::Trusted,
            )
        }
    }

    /// # Safety
    ///
    /// As for [`Module::load_file`].
    unsafe fn open(
        engine: &Engine,
        source: ArtifactSource<'_>,
        integrity: Integrity,
    ) -> Result<Module, Error> {
        let settings = &engine.config().settings;
        let check = |h: &_| check_header(h, settings, ArtifactKind::Module);
        // SAFETY: forwarded to the caller.
        let code = unsafe { CodeMap::open(source, integrity, check) }?;
        Ok(Module::from_loaded(engine, LoadedArtifact::whole(code)?))
    }

    /// A module over loaded code; registers its signatures with `engine`.
    pub(crate) fn from_loaded(engine: &Engine, artifact: Box<LoadedArtifact>) -> Module {
        let signature_ids: PrimaryMap<TypeIndex, SignatureId> = (artifact.meta.types.values())
            .map(|t| engine.register_type(t))
            .collect();
        let func_types = signature_ids
            .values()
            .map(|&id| engine.func_type(id))
            .collect();
        Module {
            inner: Arc::new(ModuleInner {
                engine: engine.clone(),
                artifact,
                signature_ids,
                func_types,
            }),
        }
    }

    /// The engine this module belongs to.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    pub(crate) fn artifact(&self) -> &LoadedArtifact {
        &self.inner.artifact
    }

    pub(crate) fn meta(&self) -> &ModuleMeta {
        &self.inner.artifact.meta
    }

    pub(crate) fn signature_ids(&self) -> &PrimaryMap<TypeIndex, SignatureId> {
        &self.inner.signature_ids
    }

    /// The engine's shared copies of the signatures, by type index.
    pub(crate) fn func_types(&self) -> &PrimaryMap<TypeIndex, Arc<FuncType>> {
        &self.inner.func_types
    }

    /// What its instances keep of it.
    pub(crate) fn runtime_info(&self) -> Arc<dyn ModuleRuntimeInfo> {
        self.inner.clone()
    }

    /// The imports, in order.
    pub fn imports(&self) -> impl ExactSizeIterator<Item = ImportType<'_>> {
        self.meta().imports.iter().map(|i| ImportType {
            module: &i.module,
            name: &i.name,
            ty: i.ty.clone(),
        })
    }

    /// The exports, in order.
    pub fn exports(&self) -> impl ExactSizeIterator<Item = ExportType<'_>> {
        let meta = self.meta();
        meta.exports.iter().map(move |e| ExportType {
            name: &e.name,
            ty: meta.export_type(e),
        })
    }

    /// The signature of a type index.
    pub fn func_type(&self, type_index: TypeIndex) -> &FuncType {
        &self.meta().types[type_index]
    }

    /// Size of the compiled code in bytes.
    pub fn code_size(&self) -> usize {
        self.inner.artifact.text_len()
    }

    /// Size of the artifact in bytes.
    pub fn artifact_size(&self) -> usize {
        self.inner.artifact.file_len()
    }
}

/// An artifact's header, metadata and sections, read without loading or
/// checking it against this host (for `cmc inspect`, including artifacts for
/// other targets).
#[derive(Clone, Debug)]
pub struct ArtifactInfo {
    /// The header.
    pub header: crate::abi::ArtifactHeader,
    /// The metadata, of the kind the header names.
    pub meta: ArtifactMeta,
    /// Every section's name and size in bytes.
    pub sections: Vec<(String, u64)>,
    /// Size of the whole artifact in bytes.
    pub size: usize,
}

/// What an artifact's metadata section holds, by [`ArtifactKind`].
#[derive(Clone, Debug)]
pub enum ArtifactMeta {
    /// A core module's metadata (boxed, as the plan is, to keep the enum
    /// small).
    Module(Box<ModuleMeta>),
    /// A component's plan, with the metadata of every core module in it.
    Component(Box<ComponentMeta>),
}

impl ArtifactInfo {
    /// Reads `bytes` as an artifact of either kind. The metadata is checked
    /// against the sections (so code ranges can be trusted), but a
    /// component's plan is not: its indices may point nowhere in a tampered
    /// file.
    pub fn read(bytes: &[u8]) -> Result<ArtifactInfo, ArtifactError> {
        crate::artifact::check_integrity(bytes)?;
        let parsed = crate::artifact::ParsedArtifact::parse(bytes)?;
        parsed.check_meta_digest()?;
        let meta = match parsed.header.kind {
            ArtifactKind::Module => ArtifactMeta::Module(Box::new(parsed.meta()?)),
            ArtifactKind::Component => ArtifactMeta::Component(Box::new(parsed.component_meta()?)),
        };
        Ok(ArtifactInfo {
            meta,
            header: parsed.header.clone(),
            sections: parsed.sections.clone(),
            size: bytes.len(),
        })
    }
}
