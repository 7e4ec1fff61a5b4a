//! `cmc inspect`: what a binary is and what it contains.

use anyhow::{Context, Result};
use cmc_runtime::ArtifactInfo;
use cmc_runtime::abi::{EntityType, ModuleMeta};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `cmc inspect`.
#[derive(clap::Args)]
pub struct InspectArgs {
    /// A .wasm, .wat or .cmc file.
    file: PathBuf,
}

pub fn run(args: InspectArgs) -> Result<ExitCode> {
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read `{}`", args.file.display()))?;
    if bytes.starts_with(b"\x7fELF") {
        let info = ArtifactInfo::read(&bytes)
            .with_context(|| format!("cannot inspect `{}`", args.file.display()))?;
        print_artifact(&info);
    } else {
        let wasm = wat::parse_bytes(&bytes)
            .with_context(|| format!("cannot parse `{}`", args.file.display()))?;
        let translation = cmc_compiler::module::translate_module(&wasm)
            .with_context(|| format!("cannot inspect `{}`", args.file.display()))?;
        println!("core module ({} bytes)", wasm.len());
        print_items(&translation.meta, None);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_artifact(info: &ArtifactInfo) {
    let h = &info.header;
    println!("cmc artifact ({} bytes)", info.size);
    println!("  kind:            {}", h.kind);
    println!("  format version:  {}", h.format_version);
    println!("  cmc version:     {}", h.cmc_version);
    println!("  target:          {}", h.target);
    println!("  opt level:       {}", h.settings.opt_level);
    println!(
        "  cpu features:    {}",
        if h.isa_features.is_empty() {
            "-".into()
        } else {
            h.isa_features.join(", ")
        }
    );
    println!("sections:");
    for (name, size) in &info.sections {
        println!("  {name:<16} {size:>10} bytes");
    }
    print_items(&info.meta, Some(&info.meta));
}

/// Prints imports, exports and functions; with code sizes when compiled.
fn print_items(meta: &ModuleMeta, compiled: Option<&ModuleMeta>) {
    println!("imports ({}):", meta.imports.len());
    for i in &meta.imports {
        println!("  {}::{}: {}", i.module, i.name, describe(&i.ty, meta));
    }
    println!("exports ({}):", meta.exports.len());
    for e in &meta.exports {
        println!("  {}: {}", e.name, describe(&meta.export_type(e), meta));
    }
    let defined = meta.functions.len() - meta.num_imported_funcs as usize;
    println!("functions ({defined} defined):");
    for i in 0..defined {
        let index = meta.num_imported_funcs + i as u32;
        let name = meta.func_name(index).unwrap_or("");
        let ty = meta.func_type(index);
        match compiled.and_then(|m| m.code.get(i)) {
            Some(code) => println!("  {index:>5} {name:<24} {ty} {:>8} bytes", code.len),
            None => println!("  {index:>5} {name:<24} {ty}"),
        }
    }
}

fn describe(ty: &EntityType, meta: &ModuleMeta) -> String {
    match ty {
        EntityType::Func(t) => format!("func {}", meta.types[*t as usize]),
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
