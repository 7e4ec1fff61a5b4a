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
    Component(Wasm),
    /// A core module as a binary, or bytes that are neither a binary nor
    /// valid text: the compiler reports those with its own error.
    Module(Wasm),
}

/// The bytes of a binary: the file mapped in place (a large component is
/// only hashed when the compile cache has it), or the binary made from text.
pub enum Wasm {
    /// The file itself.
    Mapped(memmap2::Mmap),
    /// Read (a file that cannot be mapped, such as a pipe), or converted
    /// from text.
    Owned(Vec<u8>),
}

impl std::ops::Deref for Wasm {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Wasm::Mapped(map) => map,
            Wasm::Owned(bytes) => bytes,
        }
    }
}

/// Reads `path`. Components are told apart from core modules by
/// `wasmparser::Parser::is_component` on the binary (text is converted
/// first), artifacts by their ELF magic.
pub fn read(path: &Path) -> Result<Input> {
    let cannot_read = || format!("cannot read `{}`", path.display());
    let file = std::fs::File::open(path).with_context(cannot_read)?;
    // Mapped, not read: a large binary is only hashed when the compile
    // cache has it, and an artifact only has its header and metadata looked
    // at here before the loader maps it again.
    // SAFETY: cmc only reads the file. One changed by someone else while it
    // is mapped may give inconsistent bytes, which the parser and loader
    // check as they check any bad input, or a fault if it is truncated; the
    // same holds for the loader's own mapping of an artifact.
    let map = match unsafe { memmap2::Mmap::map(&file) } {
        Ok(map) => Wasm::Mapped(map),
        Err(_) => Wasm::Owned(std::fs::read(path).with_context(cannot_read)?),
    };
    if map.starts_with(b"\x7fELF") {
        let info = ArtifactInfo::read(&map)
            .with_context(|| format!("cannot load `{}`", path.display()))?;
        return Ok(Input::Artifact(Box::new(info)));
    }
    let wasm = match wat::parse_bytes(&map) {
        Ok(std::borrow::Cow::Borrowed(_)) | Err(_) => map,
        Ok(std::borrow::Cow::Owned(binary)) => Wasm::Owned(binary),
    };
    Ok(if wasmparser::Parser::is_component(&wasm) {
        Input::Component(wasm)
    } else {
        Input::Module(wasm)
    })
}
