//! cmc-compiler: compiles WebAssembly to native code with Cranelift and
//! writes it as a cmc artifact that `cmc-runtime` loads.
//!
//! Most users want [`engine`], which gives a runtime [`Engine`] able to
//! compile `.wasm`/`.wat` in memory, or [`compile`], which returns artifact
//! bytes for `cmc build`.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod codegen;
pub mod component;
mod error;
pub mod module;
mod trampoline;
pub mod translate;

pub use error::CompileError;

use cmc_runtime::abi::CompileSettings;
use cmc_runtime::{Config, Engine};

/// Compiles wasm (binary or text) for `target` (the host when `None`) into
/// artifact bytes.
pub fn compile(
    wasm: &[u8],
    settings: &CompileSettings,
    target: Option<&str>,
) -> Result<Vec<u8>, CompileError> {
    compile_as(wasm, settings, target, codegen::Symbols::Local)
}

/// Like [`compile`], but with a global symbol for every function, so that
/// the file is a relocatable object a system linker accepts as it is.
pub fn compile_object(
    wasm: &[u8],
    settings: &CompileSettings,
    target: Option<&str>,
) -> Result<Vec<u8>, CompileError> {
    compile_as(wasm, settings, target, codegen::Symbols::Global)
}

fn compile_as(
    wasm: &[u8],
    settings: &CompileSettings,
    target: Option<&str>,
    symbols: codegen::Symbols,
) -> Result<Vec<u8>, CompileError> {
    let wasm = parse_input(wasm)?;
    let isa = codegen::build_isa(target, settings)?;
    if wasmparser::Parser::is_component(&wasm) {
        component::compile_component(&wasm, &*isa, settings, symbols)
    } else {
        codegen::compile_module(&wasm, &*isa, settings, symbols)
    }
}

/// Accepts a binary module as is and converts the text format to binary.
fn parse_input(bytes: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, CompileError> {
    if bytes.starts_with(b"\0asm") {
        return Ok(bytes.into());
    }
    let text = std::str::from_utf8(bytes).map_err(|_| {
        CompileError::Wat(
            "the input is neither a WebAssembly binary (no `\\0asm` magic) nor UTF-8 text".into(),
        )
    })?;
    let binary = wat::parse_str(text)
        .map_err(|e| CompileError::Wat(format!("invalid WebAssembly text: {e}")))?;
    Ok(binary.into())
}

/// The host compiler, as the runtime's [`cmc_runtime::Compiler`].
#[derive(Clone, Copy, Debug, Default)]
pub struct HostCompiler;

impl cmc_runtime::Compiler for HostCompiler {
    fn compile_module(
        &self,
        wasm: &[u8],
        settings: &CompileSettings,
    ) -> Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>> {
        Ok(compile(wasm, settings, None)?)
    }
}

/// An engine that compiles for the host.
pub fn engine(config: Config) -> Engine {
    Engine::with_compiler(config, Box::new(HostCompiler))
}
