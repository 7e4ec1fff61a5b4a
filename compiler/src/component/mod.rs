//! Components: validation, compile-time flattening of the instance graph,
//! and compilation of every core module they contain into one artifact.

mod adapter;
mod compat;
mod fixed_calls;
mod flatten;
mod forwarder;
mod parse;
mod types;

pub use parse::component_features;

use crate::codegen::{
    CompiledModule, CrossModule, ForeignBodies, Sections, Symbols, compile_core, patch_foreign,
    write_artifact,
};
use crate::error::Result;
use crate::module::translate_module;
use crate::progress::Progress;
use crate::translate::ForeignFunc;
use cmc_runtime::abi::{
    ArtifactKind, CodeRange, CompileSettings, EntityRef, ModuleImage, ModuleIndex, PrimaryMap,
    TrapTable,
};
use cranelift_codegen::isa::TargetIsa;
use fixed_calls::FixedCalls;
use wasmparser::WasmFeatures;

/// The `wasm-encoder` type of a flat core type, for the modules the
/// compiler generates (adapters, forwarders).
fn core_type(t: cmc_runtime::component::types::FlatType) -> wasm_encoder::ValType {
    use cmc_runtime::component::types::FlatType;
    match t {
        FlatType::I32 => wasm_encoder::ValType::I32,
        FlatType::I64 => wasm_encoder::ValType::I64,
        FlatType::F32 => wasm_encoder::ValType::F32,
        FlatType::F64 => wasm_encoder::ValType::F64,
    }
}

/// Alignment of each module's code within the artifact's text.
const MODULE_TEXT_ALIGN: usize = 64;

/// Compiles a component binary into artifact bytes.
pub fn compile_component(
    wasm: &[u8],
    isa: &dyn TargetIsa,
    settings: &CompileSettings,
    symbols: Symbols,
    progress: &dyn Progress,
) -> Result<Vec<u8>> {
    let wasm = compat::cancel::normalize(wasm);
    let parsed = parse::parse(&wasm)?;
    // Validate every module first: flattening needs their imports, and the
    // number of functions to compile is then known up front.
    let translations = (parsed.modules.values())
        .map(|range| translate_module(&wasm[range.clone()], component_features()))
        .collect::<Result<Vec<_>>>()?;
    let mut metas: PrimaryMap<ModuleIndex, _> =
        translations.iter().map(|t| t.meta.clone()).collect();
    let (mut meta, fused_wasm) = flatten::flatten(&parsed, &metas)?;
    let fused = (fused_wasm.iter())
        .map(|wasm| translate_module(wasm, WasmFeatures::default()))
        .collect::<Result<Vec<_>>>()?;
    let work = translations.iter().chain(&fused).map(|t| t.code_size());
    progress.add_work(work.sum());
    let generated = ModuleIndex::new(translations.len());
    metas.extend(fused.iter().map(|t| t.meta.clone()));
    let mut translations: PrimaryMap<ModuleIndex, _> =
        translations.into_iter().chain(fused).map(Some).collect();
    let mut fixed = FixedCalls::new(&meta, &metas);
    let mut bodies = ForeignBodies::new();
    let mut compiled: PrimaryMap<ModuleIndex, Option<CompiledModule>> =
        translations.keys().map(|_| None).collect();
    for &index in &fixed.order {
        let translation = translations[index]
            .take()
            .expect("each module compiled once");
        let cross = CrossModule {
            callees: std::mem::take(&mut fixed.callees[index]),
            bodies: Some(&bodies),
            wanted: std::mem::take(&mut fixed.wanted[index]),
            generated: index >= generated,
        };
        let mut module = compile_core(translation, isa, settings, progress, cross)?;
        for (func, body) in std::mem::take(&mut module.inlinable) {
            bodies.insert(
                ForeignFunc {
                    module: index,
                    func,
                },
                body,
            );
        }
        compiled[index] = Some(module);
    }
    drop(bodies);

    let (mut text, mut data, mut traps, mut names, mut foreign) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (index, module) in compiled.into_iter() {
        let mut module = module.expect("every module compiled");
        let i = index.index();
        module.meta.traps = TrapTable::encode(&module.traps, &mut traps);
        text.resize(text.len().next_multiple_of(MODULE_TEXT_ALIGN), 0);
        let text_range = CodeRange {
            start: text.len() as u32,
            len: module.text.len() as u32,
        };
        let data_range = CodeRange {
            start: data.len() as u32,
            len: module.data.len() as u32,
        };
        names.extend(module.symbols.into_iter().map(|(name, r)| {
            let r = CodeRange {
                start: r.start + text_range.start,
                len: r.len,
            };
            (format!("module[{i}]::{name}"), r)
        }));
        foreign.extend(module.foreign.drain(..).map(|r| (text_range.start, r)));
        text.extend_from_slice(&module.text);
        data.extend_from_slice(&module.data);
        meta.modules.push(ModuleImage {
            meta: module.meta,
            text: text_range,
            data: data_range,
        });
    }
    let modules = &meta.modules;
    patch_foreign(&mut text, foreign, |f: ForeignFunc| {
        let image = modules.get(f.module)?;
        Some(image.text.start + image.meta.code.get(f.func)?.start)
    })?;
    let sections = Sections {
        text: &text,
        data: &data,
        traps: &traps,
    };
    write_artifact(
        isa,
        settings,
        ArtifactKind::Component,
        &sections,
        &meta,
        &names,
        symbols,
    )
}
