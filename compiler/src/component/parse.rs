//! First pass over a component binary: validate it and record, for every
//! component (root and nested), its definitions in binary order.
//!
//! Every definition that adds an entry to an index space becomes one
//! [`Def`]; the inliner later replays them in order. Core modules and nested
//! components are numbered statically (in the order their sections appear),
//! and outer aliases to modules and components are resolved here, since
//! only those two sorts are needed beyond what the validator's types give.

use super::compat::names::{Renames, rename_conflict};
use crate::error::{CompileError, Result};
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
/// cannot compile yet is refused afterwards with an error naming it.
pub fn component_features() -> WasmFeatures {
    WasmFeatures::all().difference(WasmFeatures::CM_NESTED_NAMES)
}

/// One definition of a component, in binary order.
#[derive(Debug, Clone)]
pub enum Def<'a> {
    /// A core module (static index).
    CoreModule(u32),
    /// `core instance (instantiate $m (with "name" (instance $i))*)`.
    CoreInstantiate {
        module: u32,
        args: Vec<(&'a str, u32)>,
    },
    /// `core instance (export "name" (func $f))*`.
    CoreInstanceFromExports(Vec<(&'a str, ExternalKind, u32)>),
    /// `alias core export $i "name" (sort)`.
    CoreAlias {
        kind: ExternalKind,
        instance: u32,
        name: &'a str,
    },
    /// A `canon` definition.
    Canon(CanonicalFunction),
    /// A nested component (static index).
    Component(u32),
    /// `instance (instantiate $c (with "name" (sort $i))*)`.
    Instantiate {
        component: u32,
        args: Vec<(&'a str, ComponentExternalKind, u32)>,
    },
    /// `instance (export "name" (sort $i))*`.
    InstanceFromExports(Vec<(&'a str, ComponentExternalKind, u32)>),
    /// `alias export $i "name" (sort)`.
    Alias {
        kind: ComponentExternalKind,
        instance: u32,
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
    /// Byte ranges of the core modules, by static index.
    pub modules: Vec<Range<usize>>,
    /// Components by static index; the root comes last.
    pub components: Vec<ComponentBody<'a>>,
    /// Extern names the validator's types spell differently.
    pub renames: Renames,
}

/// A component being parsed, with the static indices of its module and
/// component index spaces (for outer aliases).
struct Frame<'a> {
    defs: Vec<Def<'a>>,
    module_space: Vec<u32>,
    component_space: Vec<u32>,
}

impl<'a> Frame<'a> {
    fn new() -> Frame<'a> {
        Frame {
            defs: Vec::new(),
            module_space: Vec::new(),
            component_space: Vec::new(),
        }
    }
}

/// A module or component index-space entry with no static index (imported,
/// or exported by an instance).
const NOT_STATIC: u32 = u32::MAX;

impl Frame<'_> {
    /// Keeps the module and component spaces aligned with the validator's
    /// when an import or alias adds an entry of unknown identity.
    fn note_dynamic(&mut self, kind: ComponentExternalKind) {
        match kind {
            ComponentExternalKind::Module => self.module_space.push(NOT_STATIC),
            ComponentExternalKind::Component => self.component_space.push(NOT_STATIC),
            _ => {}
        }
    }
}

/// The static index at `index` of an outer module or component space.
fn static_index(space: &[u32], index: u32, what: &str) -> Result<u32> {
    match space[index as usize] {
        NOT_STATIC => Err(CompileError::Unsupported(format!(
            "an outer alias of an imported {what}"
        ))),
        i => Ok(i),
    }
}

enum Nested {
    Module,
    Component,
}

/// Validates `wasm` as a component and records its definitions.
///
/// Where the validator's only objection is a name conflict the
/// specification allows (see [`super::compat::names`]), validation is
/// retried on a respelled copy; any other failure reports the first error.
pub fn parse(wasm: &[u8]) -> Result<Parsed<'_>> {
    let mut renames = Renames::default();
    let mut respelled: Option<Vec<u8>> = None;
    let mut first_error = None;
    loop {
        let validated = respelled.as_deref().unwrap_or(wasm);
        let error = match parse_validating(wasm, validated) {
            Ok(mut parsed) => {
                parsed.renames = renames;
                return Ok(parsed);
            }
            Err(error) => error,
        };
        let copy = match &error {
            CompileError::InvalidWasm { message, .. } => {
                rename_conflict(validated, message, &mut renames)
            }
            _ => None,
        };
        match copy {
            Some(copy) => {
                respelled = Some(copy);
                first_error.get_or_insert(error);
            }
            None => return Err(first_error.unwrap_or(error)),
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
        modules: Vec::new(),
        components: Vec::new(),
        renames: Renames::default(),
    };
    let mut frames: Vec<Frame<'_>> = Vec::new();
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
                    frames.push(Frame::new());
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
                    let frame = frames.pop().expect("a frame per component");
                    parsed.components.push(ComponentBody {
                        defs: frame.defs,
                        types,
                    });
                    if let Some(parent) = frames.last_mut() {
                        let index = parsed.components.len() as u32 - 1;
                        parent.component_space.push(index);
                        parent.defs.push(Def::Component(index));
                    }
                }
                Some(Nested::Module) | None => {}
            },
            _ if in_module => {}
            Payload::ModuleSection {
                unchecked_range, ..
            } => {
                parsed
                    .modules
                    .push(unchecked_range.start as usize..unchecked_range.end as usize);
                let frame = frames.last_mut().expect("inside a component");
                let index = parsed.modules.len() as u32 - 1;
                frame.module_space.push(index);
                frame.defs.push(Def::CoreModule(index));
            }
            Payload::ComponentSection { .. } => {}
            Payload::InstanceSection(reader) => {
                let frame = frames.last_mut().expect("inside a component");
                for instance in reader {
                    frame.defs.push(match instance? {
                        wasmparser::Instance::Instantiate { module_index, args } => {
                            Def::CoreInstantiate {
                                module: module_index,
                                args: args.iter().map(|a| (a.name, a.index)).collect(),
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
                    frame.defs.push(match instance? {
                        wasmparser::ComponentInstance::Instantiate {
                            component_index,
                            args,
                        } => Def::Instantiate {
                            component: component_index,
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
                let depth = frames.len();
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
                        } => {
                            frames[depth - 1].note_dynamic(kind);
                            Def::Alias {
                                kind,
                                instance: instance_index,
                                name,
                            }
                        }
                        ComponentAlias::CoreInstanceExport {
                            kind,
                            instance_index,
                            name,
                        } => Def::CoreAlias {
                            kind,
                            instance: instance_index,
                            name,
                        },
                        ComponentAlias::Outer { kind, count, index } => {
                            let outer = &frames[depth - 1 - count as usize];
                            match kind {
                                ComponentOuterAliasKind::CoreModule => {
                                    let module =
                                        static_index(&outer.module_space, index, "core module")?;
                                    frames[depth - 1].module_space.push(module);
                                    Def::CoreModule(module)
                                }
                                ComponentOuterAliasKind::Component => {
                                    let component =
                                        static_index(&outer.component_space, index, "component")?;
                                    frames[depth - 1].component_space.push(component);
                                    Def::Component(component)
                                }
                                ComponentOuterAliasKind::Type => Def::Type,
                                ComponentOuterAliasKind::CoreType => {
                                    unreachable!("skipped above")
                                }
                            }
                        }
                    };
                    frames[depth - 1].defs.push(def);
                }
            }
            Payload::ComponentCanonicalSection(reader) => {
                let frame = frames.last_mut().expect("inside a component");
                for canon in reader {
                    frame.defs.push(Def::Canon(canon?));
                }
            }
            Payload::ComponentImportSection(reader) => {
                let frame = frames.last_mut().expect("inside a component");
                for import in reader {
                    let import = import?;
                    frame.note_dynamic(import.ty.kind());
                    frame.defs.push(Def::Import {
                        name: import.name.name,
                        ty: import.ty,
                    });
                }
            }
            Payload::ComponentExportSection(reader) => {
                let frame = frames.last_mut().expect("inside a component");
                for export in reader {
                    let export = export?;
                    match export.kind {
                        ComponentExternalKind::Module => {
                            let module = frame.module_space[export.index as usize];
                            frame.module_space.push(module);
                        }
                        ComponentExternalKind::Component => {
                            let component = frame.component_space[export.index as usize];
                            frame.component_space.push(component);
                        }
                        _ => {}
                    }
                    frame.defs.push(Def::Export {
                        name: export.name.name,
                        kind: export.kind,
                        index: export.index,
                    });
                }
            }
            Payload::ComponentTypeSection(reader) => {
                let frame = frames.last_mut().expect("inside a component");
                for ty in reader {
                    frame.defs.push(match ty? {
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
