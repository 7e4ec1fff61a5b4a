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
mod progress;
mod trampoline;
pub mod translate;

pub use error::CompileError;
pub use progress::{Progress, Silent};

use cmc_runtime::abi::CompileSettings;
use cmc_runtime::{Config, Engine, Proposals};

/// Compiles wasm (binary or text) for `target` (the host when `None`) into
/// artifact bytes.
pub fn compile(
    wasm: &[u8],
    settings: &CompileSettings,
    target: Option<&str>,
) -> Result<Vec<u8>, CompileError> {
    compile_with(wasm, &Options::new(settings).target(target))
}

/// Like [`compile`], but with a global symbol for every function, so that
/// the file is a relocatable object a system linker accepts as it is.
pub fn compile_object(
    wasm: &[u8],
    settings: &CompileSettings,
    target: Option<&str>,
) -> Result<Vec<u8>, CompileError> {
    compile_with(wasm, &Options::new(settings).target(target).object())
}

/// How [`compile_with`] compiles.
#[derive(Clone, Copy)]
pub struct Options<'a> {
    settings: &'a CompileSettings,
    target: Option<&'a str>,
    symbols: codegen::Symbols,
    progress: &'a dyn Progress,
    proposals: Proposals,
}

impl<'a> Options<'a> {
    /// An artifact for the host with `settings`, reporting no progress.
    pub fn new(settings: &'a CompileSettings) -> Options<'a> {
        Options {
            settings,
            target: None,
            symbols: codegen::Symbols::Local,
            progress: &Silent,
            proposals: Proposals::default(),
        }
    }

    /// For target triple `target` (the host when `None`).
    pub fn target(self, target: Option<&'a str>) -> Options<'a> {
        Options { target, ..self }
    }

    /// A relocatable object with a global symbol for every function.
    pub fn object(self) -> Options<'a> {
        Options {
            symbols: codegen::Symbols::Global,
            ..self
        }
    }

    /// Accepting core modules that use `proposals` (all by default).
    pub fn proposals(self, proposals: Proposals) -> Options<'a> {
        Options { proposals, ..self }
    }

    /// Reporting to `progress` as functions are compiled.
    pub fn progress(self, progress: &'a dyn Progress) -> Options<'a> {
        Options { progress, ..self }
    }
}

/// Compiles wasm (binary or text) as `options` say.
pub fn compile_with(wasm: &[u8], options: &Options<'_>) -> Result<Vec<u8>, CompileError> {
    let wasm = parse_input(wasm)?;
    let isa = codegen::build_isa(options.target, options.settings)?;
    let (settings, symbols, progress) = (options.settings, options.symbols, options.progress);
    if wasmparser::Parser::is_component(&wasm) {
        component::compile_component(&wasm, &*isa, settings, symbols, progress)
    } else {
        let features = module::features(options.proposals);
        codegen::compile_module(&wasm, &*isa, settings, symbols, progress, features)
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
        config: &Config,
    ) -> Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>> {
        let options = Options::new(&config.settings).proposals(config.proposals);
        Ok(compile_with(wasm, &options)?)
    }
}

/// An engine that compiles for the host.
pub fn engine(config: Config) -> Engine {
    Engine::with_compiler(config, Box::new(HostCompiler))
}
