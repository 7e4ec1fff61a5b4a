//! Reading the file `cmc run` or `cmc inspect` is given and telling what it
//! holds: an artifact (of either kind, by its header), a component, or a
//! core module.

use anyhow::{Context, Result};
use cmc_runtime::ArtifactInfo;
use std::path::Path;

/// What a file holds.
pub enum Input {
    /// A cmc artifact: its header says whether of a module or a component.
    Artifact(Box<ArtifactInfo>),
    /// A component, as a binary (text already converted).
    Component(Vec<u8>),
    /// A core module as a binary, or bytes that are neither a binary nor
    /// valid text: the compiler reports those with its own error.
    Module(Vec<u8>),
}

/// Reads `path`. Components are told apart from core modules by
/// `wasmparser::Parser::is_component` on the binary (text is converted
/// first), artifacts by their ELF magic.
pub fn read(path: &Path) -> Result<Input> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read `{}`", path.display()))?;
    if bytes.starts_with(b"\x7fELF") {
        let info = ArtifactInfo::read(&bytes)
            .with_context(|| format!("cannot load `{}`", path.display()))?;
        return Ok(Input::Artifact(Box::new(info)));
    }
    Ok(match wat::parse_bytes(&bytes) {
        Ok(wasm) if wasmparser::Parser::is_component(&wasm) => Input::Component(wasm.into_owned()),
        Ok(wasm) => Input::Module(wasm.into_owned()),
        Err(_) => Input::Module(bytes),
    })
}
