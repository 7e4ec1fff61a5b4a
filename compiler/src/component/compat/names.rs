//! Import and export names that only wasmparser's comparison confuses.
//!
//! The specification makes the extern names of one component or type unique
//! up to ASCII case (`a` and `A` conflict). wasmparser 0.263 compares them
//! with hyphens removed as well, so it also rejects `a1` beside `a-1`. When
//! that is the validator's only objection, [`rename_conflict`] gives the
//! later plain name a fresh spelling of the same length throughout the
//! binary, and validation runs again on that copy. The renaming is
//! consistent (every extern-name position holding the name changes), so
//! instantiation arguments, aliases and type checks still match as before;
//! [`Renames`] maps the spelling back wherever the validator's types name
//! an import or export. Anything that still fails is reported with the
//! validator's first error, so renaming can only turn a wrong rejection
//! into an acceptance, never hide a real error.

use wasmparser::{
    ComponentAlias, ComponentExternName, ComponentInstance, ComponentType,
    ComponentTypeDeclaration, InstanceTypeDeclaration, Parser, Payload,
};

/// Names the validator saw under another spelling: `(original, fresh)`.
#[derive(Debug, Default)]
pub struct Renames(Vec<(String, String)>);

impl Renames {
    /// The spelling the validator knows `name` by.
    pub fn validator_spelling<'n>(&'n self, name: &'n str) -> &'n str {
        self.0
            .iter()
            .find(|(original, _)| original == name)
            .map_or(name, |(_, fresh)| fresh)
    }

    /// The original spelling of a name from the validator's types.
    pub fn original<'n>(&'n self, name: &'n str) -> &'n str {
        self.0
            .iter()
            .find(|(_, fresh)| fresh == name)
            .map_or(name, |(original, _)| original)
    }
}

/// If `message` is a name conflict that the specification allows, `wasm`
/// with the later name respelled, and the renaming recorded in `renames`.
pub fn rename_conflict(wasm: &[u8], message: &str, renames: &mut Renames) -> Option<Vec<u8>> {
    let (name, previous) = conflicting_names(message)?;
    let plain = |n: &str| n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if name.eq_ignore_ascii_case(previous) || !plain(name) || !plain(previous) {
        return None;
    }
    let names = extern_names(wasm).ok()?;
    let fresh = fresh_spelling(name, &names)?;
    let mut copy = wasm.to_vec();
    for (at, n) in &names {
        if *n == name {
            copy[*at..*at + n.len()].copy_from_slice(fresh.as_bytes());
        }
    }
    renames.0.push((name.to_owned(), fresh));
    Some(copy)
}

/// The two names of wasmparser's "name `x` conflicts with previous name
/// `y`" error.
fn conflicting_names(message: &str) -> Option<(&str, &str)> {
    let (head, previous) = message.split_once(" conflicts with previous name `")?;
    let (_, name) = head.rsplit_once(" name `")?;
    Some((name.strip_suffix('`')?, previous.strip_suffix('`')?))
}

/// A kebab name as long as `name`, with the same words and case, that no
/// name of the binary equals even when hyphens and case are ignored.
fn fresh_spelling(name: &str, names: &[(usize, &str)]) -> Option<String> {
    let key = |n: &str| -> String {
        n.chars()
            .filter(|c| *c != '-')
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let taken: Vec<String> = names.iter().map(|(_, n)| key(n)).collect();
    // Respell the letters only: every candidate keeps the hyphens, digits
    // and case of `name`, so it is kebab-case exactly when `name` is.
    (1..26 * 26).find_map(|seed: u32| {
        let mut seed = seed;
        let candidate: String = name
            .chars()
            .map(|c| {
                if !c.is_ascii_alphabetic() {
                    return c;
                }
                let letter = (b'a' + (seed % 26) as u8) as char;
                seed /= 26;
                if c.is_ascii_uppercase() {
                    letter.to_ascii_uppercase()
                } else {
                    letter
                }
            })
            .collect();
        (!taken.contains(&key(&candidate))).then_some(candidate)
    })
}

/// Every component-level extern name of `wasm` (imports, exports,
/// instantiation arguments, instance-export aliases, and the declarations
/// of component and instance types) with its byte offset.
fn extern_names(wasm: &[u8]) -> wasmparser::Result<Vec<(usize, &str)>> {
    let mut names = Names {
        wasm,
        found: Vec::new(),
    };
    for payload in Parser::new(0).parse_all(wasm) {
        match payload? {
            Payload::ComponentImportSection(s) => {
                for import in s {
                    names.extern_name(&import?.name);
                }
            }
            Payload::ComponentExportSection(s) => {
                for export in s {
                    names.extern_name(&export?.name);
                }
            }
            Payload::ComponentInstanceSection(s) => {
                for instance in s {
                    match instance? {
                        ComponentInstance::Instantiate { args, .. } => {
                            args.iter().for_each(|a| names.add(a.name));
                        }
                        ComponentInstance::FromExports(exports) => {
                            exports.iter().for_each(|e| names.extern_name(&e.name));
                        }
                    }
                }
            }
            Payload::ComponentAliasSection(s) => {
                for alias in s {
                    names.alias(&alias?);
                }
            }
            Payload::ComponentTypeSection(s) => {
                for ty in s {
                    names.ty(&ty?);
                }
            }
            _ => {}
        }
    }
    Ok(names.found)
}

/// Collects names borrowed from `wasm` with their offsets.
struct Names<'a> {
    wasm: &'a [u8],
    found: Vec<(usize, &'a str)>,
}

impl<'a> Names<'a> {
    fn add(&mut self, name: &'a str) {
        // Readers hand out names as slices of the input, so the offset is
        // the distance between the two addresses.
        let at = name.as_ptr() as usize - self.wasm.as_ptr() as usize;
        self.found.push((at, name));
    }

    fn extern_name(&mut self, name: &ComponentExternName<'a>) {
        self.add(name.name);
    }

    fn alias(&mut self, alias: &ComponentAlias<'a>) {
        if let ComponentAlias::InstanceExport { name, .. } = alias {
            self.add(name);
        }
    }

    fn ty(&mut self, ty: &ComponentType<'a>) {
        match ty {
            ComponentType::Component(decls) => {
                for decl in decls {
                    match decl {
                        ComponentTypeDeclaration::Type(t) => self.ty(t),
                        ComponentTypeDeclaration::Alias(a) => self.alias(a),
                        ComponentTypeDeclaration::Export { name, .. } => self.extern_name(name),
                        ComponentTypeDeclaration::Import(i) => self.extern_name(&i.name),
                        ComponentTypeDeclaration::CoreType(_) => {}
                    }
                }
            }
            ComponentType::Instance(decls) => {
                for decl in decls {
                    match decl {
                        InstanceTypeDeclaration::Type(t) => self.ty(t),
                        InstanceTypeDeclaration::Alias(a) => self.alias(a),
                        InstanceTypeDeclaration::Export { name, .. } => self.extern_name(name),
                        InstanceTypeDeclaration::CoreType(_) => {}
                    }
                }
            }
            _ => {}
        }
    }
}
