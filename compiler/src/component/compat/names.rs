//! Import and export names that only wasmparser's comparison confuses.
//!
//! The specification makes the extern names of one component or type unique
//! up to ASCII case (`a` and `A` conflict). wasmparser 0.263 compares them
//! with hyphens removed as well, so it also rejects `a1` beside `a-1`. When
//! that is the validator's only objection, [`rename_conflict`] gives the
//! later plain name a fresh spelling of the same length throughout the
//! binary, and validation runs again on that copy. The renaming is
//! consistent (every extern-name position holding the name, in any case,
//! changes, and each keeps its case), so instantiation arguments, aliases,
//! type checks and the conflicts the specification does see stay as they
//! were. [`Renames`] maps the spellings back wherever the validator's types
//! name an import or export, and in the message of an error that remains.
//! A name that structured names refer to (`[method]a1.f`) is not respelled,
//! and at most [`MAX_RENAMES`] names are (each costs a validation).

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

    /// A validator message with the names it quotes spelled as in the
    /// input.
    pub fn restore(&self, message: &str) -> String {
        self.0
            .iter()
            .fold(message.to_owned(), |message, (original, fresh)| {
                message.replace(&format!("`{fresh}`"), &format!("`{original}`"))
            })
    }
}

/// How many names one component may have respelled; past that, the first
/// error stands (each respelling costs a validation of the whole binary).
const MAX_RENAMES: usize = 16;

/// If `message` is a name conflict that the specification allows, `wasm`
/// with the later name respelled, and the renaming recorded in `renames`.
///
/// Every extern name equal to it up to ASCII case is respelled, each
/// keeping its own case, so that conflicts the specification does see
/// (`a1` beside `A1`, elsewhere) remain. A name that also appears inside a
/// structured name (`[method]a1.f`) is left alone, as is a binary past
/// [`MAX_RENAMES`].
pub fn rename_conflict(wasm: &[u8], message: &str, renames: &mut Renames) -> Option<Vec<u8>> {
    let (name, previous) = conflicting_names(message)?;
    if name.eq_ignore_ascii_case(previous)
        || !is_word(name)
        || !is_word(previous)
        || renames.0.len() >= MAX_RENAMES
    {
        return None;
    }
    let names = extern_names(wasm).ok()?;
    let embedded = names
        .iter()
        .filter(|(_, n)| !is_word(n))
        .flat_map(|(_, n)| words(n))
        .any(|w| w.eq_ignore_ascii_case(name));
    if embedded {
        return None;
    }
    let fresh = fresh_letters(name, &names)?;
    let mut copy = wasm.to_vec();
    let mut changed = false;
    for (at, n) in &names {
        if n.eq_ignore_ascii_case(name) {
            let respelled = respell(n, &fresh);
            copy[*at..*at + n.len()].copy_from_slice(respelled.as_bytes());
            if renames.0.iter().all(|(original, _)| original != n) {
                renames.0.push((n.to_string(), respelled));
            }
            changed = true;
        }
    }
    changed.then_some(copy)
}

/// Whether `name` is one kebab-case word sequence (no `:`, `/`, `[`, `.`,
/// `@`): the only names respelled.
fn is_word(name: &str) -> bool {
    name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The kebab-case parts of a structured name (`[method]r.m` gives `r` and
/// `m`; `ns:pkg/iface@1.0.0` gives `ns`, `pkg`, `iface`, …).
fn words(name: &str) -> impl Iterator<Item = &str> {
    name.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|w| !w.is_empty())
}

/// The two names of wasmparser's "name `x` conflicts with previous name
/// `y`" error.
fn conflicting_names(message: &str) -> Option<(&str, &str)> {
    let (head, previous) = message.split_once(" conflicts with previous name `")?;
    let (_, name) = head.rsplit_once(" name `")?;
    Some((name.strip_suffix('`')?, previous.strip_suffix('`')?))
}

/// Names compared as wasmparser 0.263 compares them: without hyphens, in
/// lowercase.
fn key(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// New lowercase letters for the letters of `name`, such that the
/// respelled name is no name (nor part of a structured name) of the binary,
/// even with hyphens and case ignored.
fn fresh_letters(name: &str, names: &[(usize, &str)]) -> Option<String> {
    let taken: Vec<String> = names.iter().flat_map(|(_, n)| words(n)).map(key).collect();
    let letters = name.chars().filter(char::is_ascii_alphabetic).count();
    (1..26 * 26).find_map(|seed: u32| {
        let mut seed = seed;
        let fresh: String = (0..letters)
            .map(|_| {
                let letter = (b'a' + (seed % 26) as u8) as char;
                seed /= 26;
                letter
            })
            .collect();
        (!taken.contains(&key(&respell(name, &fresh)))).then_some(fresh)
    })
}

/// `name` with its letters replaced, in order, by `letters`, each taking the
/// case of the letter it replaces. Hyphens and digits stay, so the result
/// is kebab-case exactly when `name` is.
fn respell(name: &str, letters: &str) -> String {
    let mut letters = letters.chars();
    name.chars()
        .map(|c| match c {
            'a'..='z' => letters.next().unwrap_or(c),
            'A'..='Z' => letters.next().map_or(c, |l| l.to_ascii_uppercase()),
            other => other,
        })
        .collect()
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

#[cfg(test)]
mod tests {
    use crate::component::parse::parse;

    fn check(wat: &str) -> Result<(), String> {
        let wasm = wat::parse_str(wat).unwrap();
        parse(&wasm).map(drop).map_err(|e| e.to_string())
    }

    #[test]
    fn names_that_differ_by_a_hyphen_are_distinct() {
        check(r#"(component (import "a1" (func)) (import "a-1" (func)))"#).unwrap();
        check(r#"(component (import "a-1" (func)) (import "A1" (func)))"#).unwrap();
    }

    #[test]
    fn respelling_keeps_conflicts_of_case() {
        // The first component's conflict is wasmparser's only; the second's
        // is real, and must survive the respelling of `a1`.
        let err = check(
            r#"(component
                 (component (import "a-1" (func)) (import "a1" (func)))
                 (component (import "A1" (func)) (import "a1" (func))))"#,
        )
        .unwrap_err();
        assert!(
            err.contains("import name `a1` conflicts with previous name `A1`"),
            "{err}"
        );
    }
}
