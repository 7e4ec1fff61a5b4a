//! The artifact file format.
//!
//! An artifact is an ELF object. The loader finds its sections by name:
//!
//! | section | contents |
//! | --- | --- |
//! | [`HEADER_SECTION`] | [`ArtifactHeader`], checked before anything else |
//! | `.text` | all compiled code, page-aligned, already linked |
//! | [`META_SECTION`] | [`ModuleMeta`](super::ModuleMeta), postcard-encoded |
//! | [`DATA_SECTION`] | the bytes of every data segment |
//! | [`TRAPS_SECTION`] | trap tables, searched in place (see [`TrapTable`](super::TrapTable)) |
//!
//! Code is position independent and fully linked when written, so loading is
//! a header check, a map of the file and one `mprotect` of the text.
//!
//! The file ends with an integrity trailer after the ELF data:
//! [`CHECKSUM_MAGIC`] and the 128-bit xxh3 of every byte before the trailer
//! ([`checksum_trailer`]). It catches damage (truncation, flipped bits, a
//! half-written file), not a forger, who can recompute it: an artifact is
//! native code, and loading one trusts whoever built it.

use serde::{Deserialize, Serialize};
use std::fmt;
use xxhash_rust::xxh3::xxh3_128;

/// What an artifact's integrity trailer starts with.
pub const CHECKSUM_MAGIC: [u8; 8] = *b"cmc-xxh3";

/// The length of the integrity trailer: the magic and the checksum.
pub const CHECKSUM_TRAILER_LEN: usize = CHECKSUM_MAGIC.len() + 16;

/// The integrity trailer to append to `contents`, an artifact's bytes.
pub fn checksum_trailer(contents: &[u8]) -> [u8; CHECKSUM_TRAILER_LEN] {
    let mut trailer = [0; CHECKSUM_TRAILER_LEN];
    trailer[..CHECKSUM_MAGIC.len()].copy_from_slice(&CHECKSUM_MAGIC);
    trailer[CHECKSUM_MAGIC.len()..].copy_from_slice(&xxh3_128(contents).to_le_bytes());
    trailer
}

/// The digest of a metadata section recorded in the header
/// ([`ArtifactHeader::meta_digest`]).
pub fn meta_digest(meta: &[u8]) -> u128 {
    xxh3_128(meta)
}

/// Why an artifact's bytes fail their integrity check, if they do.
pub fn integrity_problem(artifact: &[u8]) -> Option<&'static str> {
    let Some(split) = artifact.len().checked_sub(CHECKSUM_TRAILER_LEN) else {
        return Some("it is too short to hold its checksum (truncated?)");
    };
    let (contents, trailer) = artifact.split_at(split);
    if trailer[..CHECKSUM_MAGIC.len()] != CHECKSUM_MAGIC {
        return Some(
            "it does not end with its checksum (truncated, extended, or not built by this cmc)",
        );
    }
    if trailer[CHECKSUM_MAGIC.len()..] != xxh3_128(contents).to_le_bytes() {
        return Some("its checksum does not match its contents (changed after it was built)");
    }
    None
}

/// Name of the header section.
pub const HEADER_SECTION: &str = ".cmc.header";
/// Name of the metadata section.
pub const META_SECTION: &str = ".cmc.meta";
/// Name of the data-segment section.
pub const DATA_SECTION: &str = ".cmc.data";
/// Name of the code section.
pub const TEXT_SECTION: &str = ".text";
/// Name of the trap-table section.
pub const TRAPS_SECTION: &str = ".cmc.traps";

/// First bytes of the header section.
pub const ARTIFACT_MAGIC: [u8; 8] = *b"\0cmc-art";

/// Version of the artifact layout; bump on any change to the format, to the
/// VM layout or to the builtins list.
pub const ARTIFACT_FORMAT_VERSION: u32 = 18;

/// The cmc version that writes and expects artifacts.
pub const CMC_VERSION: &str = env!("CARGO_PKG_VERSION");

/// What an artifact holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ArtifactKind {
    /// A core wasm module.
    Module,
    /// A component.
    Component,
}

impl fmt::Display for ArtifactKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ArtifactKind::Module => "core module",
            ArtifactKind::Component => "component",
        })
    }
}

/// Cranelift optimization level.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OptLevel {
    /// No optimizations.
    None,
    /// Optimize for speed.
    #[default]
    Speed,
    /// Optimize for speed and size.
    SpeedAndSize,
}

impl OptLevel {
    /// The Cranelift setting value.
    pub fn as_str(self) -> &'static str {
        match self {
            OptLevel::None => "none",
            OptLevel::Speed => "speed",
            OptLevel::SpeedAndSize => "speed_and_size",
        }
    }
}

impl fmt::Display for OptLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for OptLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" | "0" => Ok(OptLevel::None),
            "speed" | "2" => Ok(OptLevel::Speed),
            "speed_and_size" | "s" => Ok(OptLevel::SpeedAndSize),
            _ => Err(format!(
                "unknown optimization level `{s}` (expected none, speed or speed_and_size)"
            )),
        }
    }
}

/// Every setting that changes the code the compiler generates.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CompileSettings {
    /// Cranelift optimization level.
    pub opt_level: OptLevel,
    /// Whether code checks the store's epoch deadline at every function
    /// entry and loop header (see `Engine::increment_epoch`).
    pub epoch_interruption: bool,
    /// Whether code charges the store's fuel for every wasm instruction it
    /// runs (see `Store::set_fuel`).
    pub consume_fuel: bool,
    /// Whether every memory access checks its bounds explicitly, instead of
    /// relying on the guard region of a 32-bit memory of 64 KiB pages.
    pub explicit_bounds_checks: bool,
}

/// The header every artifact starts its metadata with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactHeader {
    /// [`ARTIFACT_MAGIC`].
    pub magic: [u8; 8],
    /// [`ARTIFACT_FORMAT_VERSION`] of the writer.
    pub format_version: u32,
    /// [`CMC_VERSION`] of the writer.
    pub cmc_version: String,
    /// Target triple the code is for.
    pub target: String,
    /// CPU features the code was compiled to use (Cranelift ISA flags that
    /// are enabled, by name, e.g. `has_sse41`).
    pub isa_features: Vec<String>,
    /// Every Cranelift setting, as `name=value`, for `cmc inspect`.
    pub cranelift_flags: String,
    /// Settings that change generated code.
    pub settings: CompileSettings,
    /// The xxh3-128 of the metadata section, which binds the metadata to
    /// the code it describes: a metadata section changed after the build
    /// (even with the file's checksum made to match again) is refused
    /// before it is decoded, since where code starts cannot be checked
    /// against the code itself.
    pub meta_digest: u128,
    /// Module or component.
    pub kind: ArtifactKind,
}
