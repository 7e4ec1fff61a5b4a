//! `cmc inspect`: what a binary is and what it contains.

use crate::input::{self, Input};
use crate::wave::signature;
use anyhow::{Context, Result};
use cmc_runtime::abi::{ComponentMeta, EntityType, ExportItem, ImportType, ModuleMeta};
use cmc_runtime::{ArtifactInfo, ArtifactMeta};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `cmc inspect`.
#[derive(clap::Args)]
pub struct InspectArgs {
    /// A .wasm, .wat or .cmc file.
    file: PathBuf,
}

pub fn run(args: InspectArgs) -> Result<ExitCode> {
    let path = &args.file;
    let context = || format!("cannot inspect `{}`", path.display());
    match input::read(path)? {
        Input::Artifact(info) => print_artifact(&info),
        Input::Component(wasm) => {
            outln!("component ({} bytes)", wasm.len());
            out!("{}", wit_world(&wasm).with_context(context)?);
        }
        Input::Module(bytes) => {
            let wasm = wat::parse_bytes(&bytes)
                .with_context(|| format!("cannot parse `{}`", path.display()))?;
            let translation = cmc_compiler::module::translate_module(
                &wasm,
                cmc_compiler::module::features(cmc_runtime::Proposals::default()),
            )
            .with_context(context)?;
            outln!("core module ({} bytes)", wasm.len());
            print_items(&translation.meta, None, "");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The WIT world of a component binary, as `wit-component` decodes and
/// prints it: a package `root:component` with a world `root` holding the
/// component's imports and exports, followed by the packages of the
/// interfaces it names (`package wasi:cli { … }`).
fn wit_world(wasm: &[u8]) -> Result<String> {
    let decoded = wit_component::decode(wasm).context("cannot decode the component's WIT")?;
    let (resolve, main) = (decoded.resolve(), decoded.package());
    let others: Vec<_> = resolve
        .packages
        .iter()
        .map(|(id, _)| id)
        .filter(|&id| id != main)
        .collect();
    let mut printer = wit_component::WitPrinter::default();
    printer
        .print(resolve, main, &others)
        .context("cannot print the component's WIT")?;
    Ok(printer.output.to_string())
}

fn print_artifact(info: &ArtifactInfo) {
    let h = &info.header;
    outln!("cmc artifact ({} bytes)", info.size);
    outln!("  kind:            {}", h.kind);
    outln!("  format version:  {}", h.format_version);
    outln!("  cmc version:     {}", h.cmc_version);
    outln!("  target:          {}", h.target);
    outln!("  opt level:       {}", h.settings.opt_level);
    outln!(
        "  cpu features:    {}",
        if h.isa_features.is_empty() {
            "-".into()
        } else {
            h.isa_features.join(", ")
        }
    );
    outln!("sections:");
    for (name, size) in &info.sections {
        outln!("  {name:<16} {size:>10} bytes");
    }
    match &info.meta {
        ArtifactMeta::Module(meta) => print_items(meta, Some(meta), ""),
        ArtifactMeta::Component(meta) => print_component(meta),
    }
}

/// Prints a compiled component's imports and exports with their types, and
/// the core modules it contains.
fn print_component(meta: &ComponentMeta) {
    outln!("imports ({}):", meta.imports.len());
    for (name, ty) in meta.imports.values() {
        print_import(name, ty, 1);
    }
    outln!("exports ({}):", meta.exports.len());
    print_exports(&meta.exports, meta, 1);
    let (fused, runtime) = meta.adapter_counts();
    if fused + runtime > 0 {
        outln!("calls between components: {fused} fused, {runtime} through the runtime's adapter");
    }
    outln!("core modules ({}):", meta.modules.len());
    for (i, image) in &meta.modules {
        outln!(
            "  module {i}: {} bytes of code, {} bytes of data",
            image.text.len,
            image.data.len
        );
        print_items(&image.meta, Some(&image.meta), "    ");
    }
}

fn print_import(name: &str, ty: &ImportType, depth: usize) {
    let indent = "  ".repeat(depth);
    match ty {
        ImportType::Func(f) => outln!("{indent}{name}: {}", signature(f)),
        ImportType::Instance(items) => {
            outln!("{indent}{name}: instance {{");
            for (name, ty) in items {
                print_import(name, ty, depth + 1);
            }
            outln!("{indent}}}");
        }
        ImportType::Type => outln!("{indent}{name}: type"),
        ImportType::Resource(_) => outln!("{indent}{name}: resource"),
        ImportType::Module { exports, .. } => {
            outln!(
                "{indent}{name}: core module exporting {}",
                exports.join(", ")
            )
        }
        ImportType::Component { imports, exports } => {
            outln!("{indent}{name}: component {{");
            for (label, items) in [("import", imports), ("export", exports)] {
                for (name, ty) in items {
                    print_import(&format!("{label} {name}"), ty, depth + 1);
                }
            }
            outln!("{indent}}}");
        }
        ImportType::Other(what) => outln!("{indent}{name}: {what}"),
    }
}

fn print_exports(items: &[(String, ExportItem)], meta: &ComponentMeta, depth: usize) {
    let indent = "  ".repeat(depth);
    for (name, item) in items {
        match item {
            // The plan of an artifact is not checked by `ArtifactInfo`, so
            // an index may point nowhere in a damaged file.
            ExportItem::Func(i) => match meta.lifted.get(*i) {
                Some(lifted) => outln!("{indent}{name}: {}", signature(&lifted.ty)),
                None => outln!("{indent}{name}: func (invalid index {i})"),
            },
            ExportItem::Instance(inner) => {
                outln!("{indent}{name}: instance {{");
                print_exports(inner, meta, depth + 1);
                outln!("{indent}}}");
            }
        }
    }
}

/// Prints imports, exports and functions, each line after `indent`; with
/// code sizes when compiled.
fn print_items(meta: &ModuleMeta, compiled: Option<&ModuleMeta>, indent: &str) {
    if let Some(compiled) = compiled {
        let names = compiled.features.names();
        let names = if names.is_empty() {
            "-".to_owned()
        } else {
            names.join(", ")
        };
        outln!("{indent}features: {names}");
    }
    outln!("{indent}imports ({}):", meta.imports.len());
    for i in &meta.imports {
        outln!(
            "{indent}  {}::{}: {}",
            i.module,
            i.name,
            describe(&i.ty, meta)
        );
    }
    outln!("{indent}exports ({}):", meta.exports.len());
    for e in &meta.exports {
        outln!(
            "{indent}  {}: {}",
            e.name,
            describe(&meta.export_type(e), meta)
        );
    }
    let defined = meta.functions.len() - meta.num_imported_funcs as usize;
    outln!("{indent}functions ({defined} defined):");
    for index in meta.functions.keys().skip(meta.num_imported_funcs as usize) {
        let name = meta.func_name(index).unwrap_or("");
        let ty = meta.func_type(index);
        let defined = meta.defined_func(index);
        match compiled.zip(defined).and_then(|(m, i)| m.code.get(i)) {
            Some(code) => outln!("{indent}  {index:>5} {name:<24} {ty} {:>8} bytes", code.len),
            None => outln!("{indent}  {index:>5} {name:<24} {ty}"),
        }
    }
}

fn describe(ty: &EntityType, meta: &ModuleMeta) -> String {
    match ty {
        EntityType::Func(t) => format!("func {}", meta.types[*t]),
        EntityType::Table(t) => format!(
            "table {} {}..{}",
            t.element,
            t.limits.min,
            max(t.limits.max)
        ),
        EntityType::Memory(m) => format!("memory {}..{} pages", m.limits.min, max(m.limits.max)),
        EntityType::Global(g) => format!(
            "global {}{}",
            if g.mutable { "mut " } else { "" },
            g.content
        ),
    }
}

fn max(m: Option<u64>) -> String {
    m.map_or_else(String::new, |m| m.to_string())
}
