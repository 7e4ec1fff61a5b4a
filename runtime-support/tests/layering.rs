//! Keeps the runtime's layers one-way: every path into the crate
//! (`use crate::…` and inline `crate::…::` paths alike, and `super::`
//! chains that climb out of a layer) must point at the file's own layer or
//! at one of the layers the table below allows it. Comments and string
//! literals are skipped, so a doc link to a higher layer is fine.
//!
//! The layers, bottom up: `abi` (the contract with the compiler) uses
//! nothing; `vm`, `artifact`, `trap` and `canon` (the canonical ABI) use
//! `abi` and each other downward; `api` (the embedding API) uses them all;
//! the crate root (`lib.rs`) re-exports from every layer.

use std::path::Path;

/// Which layers each layer may use, besides itself.
const ALLOWED: &[(&str, &[&str])] = &[
    ("abi", &[]),
    ("vm", &["abi"]),
    ("artifact", &["abi"]),
    ("trap", &["abi", "vm", "artifact"]),
    ("canon", &["abi", "vm"]),
    ("api", &["abi", "vm", "artifact", "trap", "canon", "root"]),
    ("root", &["abi", "vm", "artifact", "trap", "canon", "api"]),
];

/// Items defined at the crate root by a lower layer (`#[macro_export]`
/// macros land there), with the layer they belong to.
const ROOT_ITEMS: &[(&str, &str)] = &[("foreach_builtin", "abi")];

/// An edge from a file's layer to a layer it may not use.
#[derive(Debug, PartialEq, Eq)]
struct Violation {
    file: String,
    line: usize,
    from: String,
    to: String,
}

/// The module path of `file` (relative to `src/`, `/`-separated).
fn module_path(file: &str) -> Vec<String> {
    let file = file.strip_suffix(".rs").expect("a .rs file");
    let mut parts: Vec<String> = file.split('/').map(str::to_owned).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// The layer of an item at crate-root path `path` (first segment, if any).
fn layer_of(path: &[String]) -> String {
    let Some(first) = path.first() else {
        return "root".into();
    };
    let layers = ALLOWED.iter().map(|(l, _)| *l);
    if let Some(layer) = layers.clone().find(|l| l == first) {
        return layer.into();
    }
    ROOT_ITEMS
        .iter()
        .find(|(name, _)| name == first)
        .map_or("root".into(), |(_, layer)| (*layer).into())
}

/// `source` with comments and the contents of string and char literals
/// replaced by spaces (newlines kept, so line numbers stay right).
fn strip(source: &str) -> String {
    let c: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let blank = |ch: char| if ch == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < c.len() {
        if c[i] == '/' && c.get(i + 1) == Some(&'/') {
            while i < c.len() && c[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c[i] == '/' && c.get(i + 1) == Some(&'*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(c[i]));
                    i += 1;
                }
            }
        } else if c[i] == 'r' && matches!(c.get(i + 1), Some('"' | '#')) && !ident_before(&c, i) {
            // A raw string: r#…#"…"#…#.
            let mut j = i + 1;
            while c.get(j) == Some(&'#') {
                j += 1;
            }
            if c.get(j) != Some(&'"') {
                out.push(c[i]);
                i += 1;
                continue;
            }
            let hashes = j - i - 1;
            out.extend(std::iter::repeat_n(' ', j + 1 - i));
            i = j + 1;
            while i < c.len() {
                if c[i] == '"' && (0..hashes).all(|k| c.get(i + 1 + k) == Some(&'#')) {
                    out.extend(std::iter::repeat_n(' ', hashes + 1));
                    i += hashes + 1;
                    break;
                }
                out.push(blank(c[i]));
                i += 1;
            }
        } else if c[i] == '"' {
            out.push(' ');
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < c.len() {
                    out.push(blank(c[i]));
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if c[i] == '\'' && (c.get(i + 1) == Some(&'\\') || c.get(i + 2) == Some(&'\'')) {
            // A char literal (a lifetime has no closing quote).
            out.push(' ');
            i += 1;
            while i < c.len() && c[i] != '\'' {
                if c[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < c.len() {
                    out.push(' ');
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

fn is_ident(ch: char) -> bool {
    ch.is_alphanumeric() || ch == '_'
}

fn ident_before(c: &[char], i: usize) -> bool {
    i > 0 && is_ident(c[i - 1])
}

/// Reads an identifier at `c[*i..]`, skipping whitespace first.
fn read_ident(c: &[char], i: &mut usize) -> Option<String> {
    while *i < c.len() && c[*i].is_whitespace() {
        *i += 1;
    }
    let start = *i;
    while *i < c.len() && is_ident(c[*i]) {
        *i += 1;
    }
    (*i > start).then(|| c[start..*i].iter().collect())
}

/// Skips `::` (with whitespace around it); false if there is none.
fn eat_path_sep(c: &[char], i: &mut usize) -> bool {
    let mut j = *i;
    while j < c.len() && c[j].is_whitespace() {
        j += 1;
    }
    if c.get(j) == Some(&':') && c.get(j + 1) == Some(&':') {
        *i = j + 2;
        true
    } else {
        false
    }
}

/// The first segments of the items a path continues into at `c[*i..]`:
/// one identifier, or each first-level entry of a `{…}` group.
fn first_segments(c: &[char], i: &mut usize) -> Vec<String> {
    while *i < c.len() && c[*i].is_whitespace() {
        *i += 1;
    }
    if c.get(*i) != Some(&'{') {
        return read_ident(c, i).into_iter().collect();
    }
    let mut out = Vec::new();
    let mut depth = 0;
    let mut expect = true;
    while *i < c.len() {
        match c[*i] {
            '{' => {
                depth += 1;
                expect = depth == 1;
                *i += 1;
            }
            '}' => {
                depth -= 1;
                *i += 1;
                if depth == 0 {
                    break;
                }
            }
            ',' if depth == 1 => {
                expect = true;
                *i += 1;
            }
            ch if expect && is_ident(ch) => {
                out.extend(read_ident(c, i));
                expect = false;
            }
            _ => *i += 1,
        }
    }
    out
}

/// The crate-root paths `source` (the file `file` relative to `src/`)
/// names, each with its line: `crate::` and `$crate::` paths, and `super::`
/// chains resolved against the file's module path.
fn crate_paths(file: &str, source: &str) -> Vec<(usize, Vec<String>)> {
    let text = strip(source);
    let c: Vec<char> = text.chars().collect();
    let module = module_path(file);
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        if !is_ident(c[i]) || ident_before(&c, i) {
            i += 1;
            continue;
        }
        let start = i;
        let word = read_ident(&c, &mut i).expect("an identifier");
        let base: Option<Vec<String>> = match word.as_str() {
            "crate" => Some(Vec::new()),
            "super" if start == 0 || c[start - 1] != ':' => {
                let mut base = module.clone();
                base.pop();
                let mut j = i;
                while eat_path_sep(&c, &mut j) {
                    let mut k = j;
                    if read_ident(&c, &mut k).as_deref() == Some("super") {
                        base.pop();
                        j = k;
                    } else {
                        break;
                    }
                }
                // Back up to before the last `::` we ate, so the common
                // code below reads the rest.
                i = j;
                while i > start && c[i - 1] == ':' {
                    i -= 1;
                }
                Some(base)
            }
            _ => None,
        };
        let Some(base) = base else { continue };
        if !eat_path_sep(&c, &mut i) {
            continue;
        }
        let line = c[..start].iter().filter(|&&ch| ch == '\n').count() + 1;
        for first in first_segments(&c, &mut i) {
            let mut path = base.clone();
            path.push(first);
            out.push((line, path));
        }
    }
    out
}

/// The violations of the layering in `files` (path relative to `src/`,
/// source text).
fn check(files: &[(String, String)]) -> Vec<Violation> {
    let mut out = Vec::new();
    for (file, source) in files {
        let from = layer_of(&module_path(file));
        let allowed = ALLOWED
            .iter()
            .find(|(l, _)| *l == from)
            .map(|(_, a)| *a)
            .unwrap_or_else(|| panic!("`{file}` is in no layer of the table"));
        for (line, path) in crate_paths(file, source) {
            let to = layer_of(&path);
            if to != from && !allowed.contains(&to.as_str()) {
                out.push(Violation {
                    file: file.clone(),
                    line,
                    from: from.clone(),
                    to,
                });
            }
        }
    }
    out
}

/// Every `.rs` file under `dir`, relative to `root`.
fn sources(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read src/")
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            sources(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(root).expect("under src/");
            let rel = rel.to_str().expect("utf-8 path").replace('\\', "/");
            out.push((rel, std::fs::read_to_string(&path).expect("read source")));
        }
    }
}

#[test]
fn runtime_layers_point_one_way() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &root, &mut files);
    assert!(files.len() > 20, "found only {} files", files.len());
    let violations = check(&files);
    assert!(
        violations.is_empty(),
        "upward imports (a layer may use only those below it):\n{violations:#?}"
    );
}

#[cfg(test)]
fn one(file: &str, source: &str) -> Vec<Violation> {
    check(&[(file.to_owned(), source.to_owned())])
}

#[test]
fn checker_catches_upward_paths() {
    let up = |file: &str, source: &str, to: &str| {
        let v = one(file, source);
        assert_eq!(v.len(), 1, "{source}: {v:?}");
        assert_eq!(v[0].to, to, "{source}");
    };
    // `use` paths, grouped, inline, through `super::` chains and the root.
    up("vm/instance.rs", "use crate::api::Module;", "api");
    up(
        "abi/component.rs",
        "use crate::{abi::X, canon::types::Y};",
        "canon",
    );
    up(
        "artifact/mod.rs",
        "fn f() { let e = crate::api::Error::NoCompiler; }",
        "api",
    );
    up("canon/lift.rs", "use super::super::api::Val;", "api");
    up("trap/mod.rs", "use super::api::Trap;", "api");
    up("canon/call.rs", "use crate::Val;", "root");
    up(
        "abi/mod.rs",
        "pub use crate::vm::{\n    ValRaw,\n    VMFuncRef,\n};",
        "vm",
    );
    // The line of a violation.
    assert_eq!(one("vm/a.rs", "\n\nuse crate::trap;")[0].line, 3);
}

#[test]
fn checker_allows_downward_paths_comments_and_strings() {
    let fine = |file: &str, source: &str| assert_eq!(one(file, source), [], "{source}");
    fine(
        "api/func.rs",
        "use crate::vm::{Val, ValRaw};\nuse crate::trap;",
    );
    fine(
        "vm/memory.rs",
        "use super::VMFuncRef;\nuse crate::abi::MemoryType;",
    );
    fine(
        "canon/layout.rs",
        "use super::types::X;\nuse crate::foreach_builtin;",
    );
    fine(
        "vm/a.rs",
        "// use crate::api::Store;\n/// [`x`](crate::api::X)",
    );
    fine("vm/a.rs", "/* crate::api::X /* nested */ crate::api::Y */");
    fine(
        "vm/a.rs",
        "let s = \"crate::api::X\"; let r = r#\"crate::api\"#;",
    );
    fine(
        "vm/a.rs",
        "let q = '\"'; fn f<'a>(x: &'a u8) {} use crate::abi::X;",
    );
    fine(
        "lib.rs",
        "pub use crate::api::*;\npub mod component { pub use crate::canon::*; }",
    );
    fine(
        "api/component/instance.rs",
        "use super::super::store::StoreOpaque;",
    );
}
