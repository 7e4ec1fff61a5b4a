//! First pass over a component binary: validate it and record, for every
//! component (root and nested), its definitions in binary order.
//!
//! Every definition that adds an entry to an index space becomes one
//! [`Def`]; the inliner later replays them in order. Core modules and nested
//! components are numbered statically (in the order their sections appear):
//! [`ModuleIndex`] and [`StaticComponentIndex`]. Positions in a component's
//! own index spaces mean something only within the one component whose
//! definitions are being replayed: those of its core modules, core
//! instances, components and instances have `Local…` types; the others
//! (functions, core functions, types, and the `(sort, index)` pairs whose
//! space depends on the sort) stay the binary's `u32`s.

use super::compat::names::{Renames, rename_conflict};
use crate::error::{CompileError, Result};
use cmc_runtime::abi::{ModuleIndex, PrimaryMap};
use cranelift_codegen::entity::entity_impl;
use std::ops::Range;
use wasmparser::types::Types;
use wasmparser::{
    CanonicalFunction, ComponentAlias, ComponentExternalKind, ComponentOuterAliasKind,
    ComponentType, ComponentTypeRef, ExternalKind, Parser, Payload, ValidPayload, Validator,
    WasmFeatures,
};

/// The features components are validated with.
///
/// The reference scripts are written against the whole current component
/// model, so validation accepts every proposal wasmparser knows (except
/// nested `ns:pkg/iface/x` names, which the current spec rejects); what cmc
/// cannot compile yet is refused afterwards with an error naming it (of
/// `cm64`, 64-bit canonical options are compiled and resources with an
/// `i64` representation are refused).
pub fn component_features() -> WasmFeatures {
    WasmFeatures::all().difference(WasmFeatures::CM_NESTED_NAMES)
}

/// A component definition of the binary (the root or a nested one), in
/// the order their sections end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StaticComponentIndex(u32);
entity_impl!(StaticComponentIndex);

/// A position in one component's core module index space.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LocalModuleIndex(u32);
entity_impl!(LocalModuleIndex);

/// A position in one component's core instance index space.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LocalCoreInstanceIndex(u32);
entity_impl!(LocalCoreInstanceIndex);

/// A position in one component's component index space.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LocalComponentIndex(u32);
entity_impl!(LocalComponentIndex);

/// A position in one component's (component) instance index space.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LocalInstanceIndex(u32);
entity_impl!(LocalInstanceIndex);

/// One definition of a component, in binary order.
#[derive(Debug, Clone)]
pub enum Def<'a> {
    /// A core module.
    CoreModule(ModuleIndex),
    /// `alias outer $count $index` of a core module or component: the
    /// entry of an enclosing component's index space, which depends on how
    /// that component was instantiated.
    OuterAlias {
        kind: ComponentOuterAliasKind,
        count: u32,
        index: u32,
    },
    /// `core instance (instantiate $m (with "name" (instance $i))*)`.
    CoreInstantiate {
        module: LocalModuleIndex,
        args: Vec<(&'a str, LocalCoreInstanceIndex)>,
    },
    /// `core instance (export "name" (func $f))*`.
    CoreInstanceFromExports(Vec<(&'a str, ExternalKind, u32)>),
    /// `alias core export $i "name" (sort)`.
    CoreAlias {
        kind: ExternalKind,
        instance: LocalCoreInstanceIndex,
        name: &'a str,
    },
    /// A `canon` definition.
    Canon(CanonicalFunction),
    /// A nested component.
    Component(StaticComponentIndex),
    /// `instance (instantiate $c (with "name" (sort $i))*)`.
    Instantiate {
        component: LocalComponentIndex,
        args: Vec<(&'a str, ComponentExternalKind, u32)>,
    },
    /// `instance (export "name" (sort $i))*`.
    InstanceFromExports(Vec<(&'a str, ComponentExternalKind, u32)>),
    /// `alias export $i "name" (sort)`.
    Alias {
        kind: ComponentExternalKind,
        instance: LocalInstanceIndex,
        name: &'a str,
    },
    /// An import.
    Import { name: &'a str, ty: ComponentTypeRef },
    /// An export, which also adds to its sort's index space.
    Export {
        name: &'a str,
        kind: ComponentExternalKind,
        index: u32,
    },
    /// A type definition or outer type alias, other than a resource (types
    /// are resolved through the validator).
    Type,
    /// `type (resource (rep i32) (dtor $f)?)`: a new resource type.
    Resource {
        /// The destructor's core function index.
        dtor: Option<u32>,
    },
}

/// A parsed component.
pub struct ComponentBody<'a> {
    /// Definitions in binary order.
    pub defs: Vec<Def<'a>>,
    /// The validator's types for this component's index spaces.
    pub types: Types,
}

/// A parsed component binary.
pub struct Parsed<'a> {
    /// Byte ranges of the core modules.
    pub modules: PrimaryMap<ModuleIndex, Range<usize>>,
    /// The components; the root comes last.
    pub components: PrimaryMap<StaticComponentIndex, ComponentBody<'a>>,
    /// Extern names the validator's types spell differently.
    pub renames: Renames,
}

enum Nested {
    Module,
    Component,
}

/// Validates `wasm` as a component and records its definitions.
///
/// Where the validator's only objection is a name conflict the
/// specification allows (see [`super::compat::names`]), validation is
/// retried on a respelled copy; a failure after that is reported with the
/// names spelled as in `wasm`.
pub fn parse(wasm: &[u8]) -> Result<Parsed<'_>> {
    let mut renames = Renames::default();
    let mut respelled: Option<Vec<u8>> = None;
    loop {
        let validated = respelled.as_deref().unwrap_or(wasm);
        match parse_validating(wasm, validated) {
            Ok(mut parsed) => {
                parsed.renames = renames;
                return Ok(parsed);
            }
            Err(CompileError::InvalidWasm { message, offset }) => {
                match rename_conflict(validated, &message, &mut renames) {
                    Some(copy) => respelled = Some(copy),
                    None => {
                        return Err(CompileError::InvalidWasm {
                            message: renames.restore(&message),
                            offset,
                        });
                    }
                }
            }
            Err(other) => return Err(other),
        }
    }
}

fn parser() -> Parser {
    let mut parser = Parser::new(0);
    parser.set_features(component_features());
    parser
}

/// Records the definitions of `wasm` while validating `validated`, which is
/// `wasm` itself or a copy of the same layout with respelled names.
fn parse_validating<'a>(wasm: &'a [u8], validated: &[u8]) -> Result<Parsed<'a>> {
    let mut validator = Validator::new_with_features(component_features());
    let mut checked = (!std::ptr::eq(wasm, validated)).then(|| parser().parse_all(validated));
    let mut parsed = Parsed {
        modules: PrimaryMap::new(),
        components: PrimaryMap::new(),
        renames: Renames::default(),
    };
    // The definitions of each component being parsed, innermost last.
    let mut frames: Vec<Vec<Def<'_>>> = Vec::new();
    // What each nesting level is, innermost last.
    let mut nesting: Vec<Nested> = Vec::new();
    for payload in parser().parse_all(wasm) {
        let payload = payload?;
        let valid = match checked.as_mut() {
            None => validator.payload(&payload)?,
            Some(checked) => {
                let twin = checked
                    .next()
                    .expect("a respelled copy has the same payloads")?;
                validator.payload(&twin)?
            }
        };
        let in_module = matches!(nesting.last(), Some(Nested::Module));
        match payload {
            Payload::Version { encoding, .. } => match encoding {
                wasmparser::Encoding::Component => {
                    nesting.push(Nested::Component);
                    frames.push(Vec::new());
                }
                wasmparser::Encoding::Module => {
                    if nesting.is_empty() {
                        return Err(CompileError::Unsupported(
                            "a core module where a component was expected".into(),
                        ));
                    }
                    nesting.push(Nested::Module);
                }
            },
            Payload::End(_) => match nesting.pop() {
                Some(Nested::Component) => {
                    let ValidPayload::End(types) = valid else {
                        unreachable!("the validator ends every component");
                    };
                    let defs = frames.pop().expect("a frame per component");
                    let component = parsed.components.push(ComponentBody { defs, types });
                    if let Some(parent) = frames.last_mut() {
                        parent.push(Def::Component(component));
                    }
                }
                Some(Nested::Module) | None => {}
            },
            _ if in_module => {}
            Payload::ModuleSection {
                unchecked_range, ..
            } => {
                let module = (parsed.modules)
                    .push(unchecked_range.start as usize..unchecked_range.end as usize);
                let frame = frames.last_mut().expect("inside a component");
                frame.push(Def::CoreModule(module));
            }
            Payload::ComponentSection { .. } => {}
            Payload::InstanceSection(reader) => {
                let frame = frames.last_mut().expect("inside a component");
                for instance in reader {
                    frame.push(match instance? {
                        wasmparser::Instance::Instantiate { module_index, args } => {
                            Def::CoreInstantiate {
                                module: LocalModuleIndex::from_u32(module_index),
                                args: (args.iter())
                                    .map(|a| (a.name, LocalCoreInstanceIndex::from_u32(a.index)))
                                    .collect(),
                            }
                        }
                        wasmparser::Instance::FromExports(exports) => Def::CoreInstanceFromExports(
                            exports.iter().map(|e| (e.name, e.kind, e.index)).collect(),
                        ),
                    });
                }
            }
            Payload::ComponentInstanceSection(reader) => {
                let frame = frames.last_mut().expect("inside a component");
                for instance in reader {
                    frame.push(match instance? {
                        wasmparser::ComponentInstance::Instantiate {
                            component_index,
                            args,
                        } => Def::Instantiate {
                            component: LocalComponentIndex::from_u32(component_index),
                            args: args.iter().map(|a| (a.name, a.kind, a.index)).collect(),
                        },
                        wasmparser::ComponentInstance::FromExports(exports) => {
                            Def::InstanceFromExports(
                                exports
                                    .iter()
                                    .map(|e| (e.name.name, e.kind, e.index))
                                    .collect(),
                            )
                        }
                    });
                }
            }
            Payload::ComponentAliasSection(reader) => {
                let frame = frames.last_mut().expect("inside a component");
                for alias in reader {
                    let def = match alias? {
                        // Core types live in their own index space, which
                        // the inliner does not track.
                        ComponentAlias::Outer {
                            kind: ComponentOuterAliasKind::CoreType,
                            ..
                        } => continue,
                        ComponentAlias::InstanceExport {
                            kind,
                            instance_index,
                            name,
                        } => Def::Alias {
                            kind,
                            instance: LocalInstanceIndex::from_u32(instance_index),
                            name,
                        },
                        ComponentAlias::CoreInstanceExport {
                            kind,
                            instance_index,
                            name,
                        } => Def::CoreAlias {
                            kind,
                            instance: LocalCoreInstanceIndex::from_u32(instance_index),
                            name,
                        },
                        ComponentAlias::Outer {
                            kind: ComponentOuterAliasKind::Type,
                            ..
                        } => Def::Type,
                        ComponentAlias::Outer { kind, count, index } => {
                            Def::OuterAlias { kind, count, index }
                        }
                    };
                    frame.push(def);
                }
            }
            Payload::ComponentCanonicalSection(reader) => {
                let frame = frames.last_mut().expect("inside a component");
                for canon in reader {
                    frame.push(Def::Canon(canon?));
                }
            }
            Payload::ComponentImportSection(reader) => {
                let frame = frames.last_mut().expect("inside a component");
                for import in reader {
                    let import = import?;
                    frame.push(Def::Import {
                        name: import.name.name,
                        ty: import.ty,
                    });
                }
            }
            Payload::ComponentExportSection(reader) => {
                let frame = frames.last_mut().expect("inside a component");
                for export in reader {
                    let export = export?;
                    frame.push(Def::Export {
                        name: export.name.name,
                        kind: export.kind,
                        index: export.index,
                    });
                }
            }
            Payload::ComponentTypeSection(reader) => {
                let frame = frames.last_mut().expect("inside a component");
                for ty in reader {
                    frame.push(match ty? {
                        ComponentType::Resource {
                            rep: wasmparser::ValType::I64,
                            ..
                        } => {
                            // The spec's handles and borrows are `i32`
                            // everywhere; a 64-bit representation has no
                            // defined lowering of `borrow` yet.
                            return Err(CompileError::Unsupported(
                                "resources with an `i64` representation (cm64)".into(),
                            ));
                        }
                        ComponentType::Resource { dtor, .. } => Def::Resource { dtor },
                        _ => Def::Type,
                    });
                }
            }
            Payload::ComponentStartSection { .. } => {
                return Err(CompileError::Unsupported(
                    "component start functions (value imports)".into(),
                ));
            }
            _ => {}
        }
    }
    Ok(parsed)
}
