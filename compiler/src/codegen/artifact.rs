//! Writing the artifact: an ELF object whose sections the runtime finds by
//! name (see `cmc_runtime::abi::artifact`).

use super::isa::isa_features;
use crate::error::{CompileError, Result};
use cmc_runtime::abi::{self, ArtifactHeader, ArtifactKind, CodeRange, CompileSettings};
use cranelift_codegen::isa::TargetIsa;
use object::write::{Object, Symbol, SymbolSection};
use object::{
    Architecture, BinaryFormat, Endianness, SectionKind, SymbolFlags, SymbolKind, SymbolScope,
};

/// The alignment of the text section in the file: the largest page size the
/// target may run with, so it can be mapped executable in place.
fn page_align(isa: &dyn TargetIsa) -> u64 {
    match isa.triple().architecture {
        target_lexicon::Architecture::Aarch64(_) => 0x10000,
        _ => 0x1000,
    }
}

/// How function symbols are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Symbols {
    /// Local: for profilers and debuggers only.
    Local,
    /// Global: the object can be linked with a system linker.
    Global,
}

/// The contents of an artifact's raw sections.
pub struct Sections<'a> {
    /// Linked code.
    pub text: &'a [u8],
    /// Data segment bytes.
    pub data: &'a [u8],
    /// Encoded trap tables.
    pub traps: &'a [u8],
}

/// Serializes everything into artifact bytes.
pub fn write_artifact(
    isa: &dyn TargetIsa,
    settings: &CompileSettings,
    kind: ArtifactKind,
    sections: &Sections<'_>,
    meta: &impl serde::Serialize,
    functions: &[(String, CodeRange)],
    symbols: Symbols,
) -> Result<Vec<u8>> {
    let encode = |what: &str, r: postcard::Result<Vec<u8>>| {
        r.map_err(|e| CompileError::Codegen(format!("cannot encode {what}: {e}")))
    };
    let meta = encode("metadata", postcard::to_allocvec(meta))?;
    let arch = match isa.triple().architecture {
        target_lexicon::Architecture::X86_64 => Architecture::X86_64,
        target_lexicon::Architecture::Aarch64(_) => Architecture::Aarch64,
        target_lexicon::Architecture::Riscv64(_) => Architecture::Riscv64,
        other => {
            return Err(CompileError::Target(format!(
                "no artifact format for architecture {other}"
            )));
        }
    };
    let header = ArtifactHeader {
        magic: abi::ARTIFACT_MAGIC,
        format_version: abi::ARTIFACT_FORMAT_VERSION,
        cmc_version: abi::CMC_VERSION.to_owned(),
        target: isa.triple().to_string(),
        isa_features: isa_features(isa),
        cranelift_flags: isa.flags().to_string(),
        settings: settings.clone(),
        meta_digest: abi::meta_digest(&meta),
        kind,
    };
    let header = encode("header", postcard::to_allocvec(&header))?;

    let mut obj = Object::new(BinaryFormat::Elf, arch, Endianness::Little);
    let mut section = |name: &str, kind: SectionKind, bytes: &[u8], align: u64| {
        let id = obj.add_section(Vec::new(), name.as_bytes().to_vec(), kind);
        obj.set_section_data(id, bytes.to_vec(), align);
        id
    };
    section(abi::HEADER_SECTION, SectionKind::ReadOnlyData, &header, 8);
    section(abi::META_SECTION, SectionKind::ReadOnlyData, &meta, 8);
    section(
        abi::DATA_SECTION,
        SectionKind::ReadOnlyData,
        sections.data,
        8,
    );
    section(
        abi::TRAPS_SECTION,
        SectionKind::ReadOnlyData,
        sections.traps,
        4,
    );
    let text_id = section(
        abi::TEXT_SECTION,
        SectionKind::Text,
        sections.text,
        page_align(isa),
    );
    for (name, range) in functions {
        obj.add_symbol(Symbol {
            name: name.as_bytes().to_vec(),
            value: u64::from(range.start),
            size: u64::from(range.len),
            kind: SymbolKind::Text,
            scope: match symbols {
                Symbols::Local => SymbolScope::Compilation,
                Symbols::Global => SymbolScope::Linkage,
            },
            weak: false,
            section: SymbolSection::Section(text_id),
            flags: SymbolFlags::None,
        });
    }
    let mut bytes = obj
        .write()
        .map_err(|e| CompileError::Codegen(format!("cannot write the artifact: {e}")))?;
    let trailer = abi::checksum_trailer(&bytes);
    bytes.extend_from_slice(&trailer);
    Ok(bytes)
}
