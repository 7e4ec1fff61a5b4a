//! Where an artifact's bytes come from, and the one way both kinds of
//! artifact (core modules and components) get into memory: a private,
//! writable mapping that loading then makes partly executable.

use super::ArtifactError;
use memmap2::{MmapMut, MmapOptions};
use std::path::Path;

/// Whether loading checks an artifact's integrity trailer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Integrity {
    /// Hash every byte and compare with the trailer before anything is used.
    Checked,
    /// Skip the hash, for a host that trusts its storage (the load then
    /// touches only the pages it uses).
    Trusted,
}

/// The bytes of an artifact, in a buffer or in a file.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ArtifactSource<'a> {
    /// Copied into fresh anonymous memory.
    Bytes(&'a [u8]),
    /// Mapped copy-on-write, so nothing is read until it is used.
    File(&'a Path),
}

impl ArtifactSource<'_> {
    /// A private mapping of the artifact.
    ///
    /// # Safety
    ///
    /// For a file: it must not be modified while it is mapped.
    pub(crate) unsafe fn map(self) -> Result<MmapMut, ArtifactError> {
        match self {
            ArtifactSource::Bytes(bytes) => {
                let mut map = MmapMut::map_anon(bytes.len().max(1)).map_err(ArtifactError::Map)?;
                map[..bytes.len()].copy_from_slice(bytes);
                Ok(map)
            }
            ArtifactSource::File(path) => {
                let io = |source| ArtifactError::Io {
                    path: path.display().to_string(),
                    source,
                };
                let file = std::fs::File::open(path).map_err(io)?;
                if file.metadata().map_err(io)?.len() == 0 {
                    return Err(ArtifactError::NotAnArtifact(format!(
                        "`{}` is empty",
                        path.display()
                    )));
                }
                // SAFETY: a private copy-on-write mapping; the caller
                // promises the file is not modified meanwhile.
                unsafe { MmapOptions::new().map_copy(&file) }.map_err(io)
            }
        }
    }
}
