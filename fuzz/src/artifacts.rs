//! The artifact target: a generated module's artifact, damaged.
//!
//! Changed anywhere (one byte, or cut short), it must be refused: the
//! checksum covers every byte. With a byte of its metadata changed and the
//! checksum made to match again (what a forger, not a disk, would do), the
//! loader's own checks are what stand: it must be refused, or load and run,
//! never panic or crash.

use crate::{Finding, Outcome, smith};
use arbitrary::Unstructured;
use cmc_runtime::abi::{CHECKSUM_TRAILER_LEN, checksum_trailer};
use cmc_runtime::{self as cmc, CompileSettings};
use object::{Object, ObjectSection};

/// The fuel a run of a changed artifact may burn: its metadata may have
/// lost the module's own bound.
const RUN_FUEL: u64 = 200_000;

/// Checks one case.
pub fn check(data: &[u8]) -> Result<Outcome, Finding> {
    let mut u = Unstructured::new(data);
    let Some(wasm) = smith::module(&mut u) else {
        return Ok(Outcome::Skipped("too few bytes for a module"));
    };
    let settings = CompileSettings {
        consume_fuel: true,
        ..CompileSettings::default()
    };
    let artifact = match cmc_compiler::compile(&wasm, &settings, None) {
        Ok(artifact) => artifact,
        Err(_) => return Ok(Outcome::Skipped("the module did not compile")),
    };
    let engine = {
        let mut config = cmc::Config::default();
        config.consume_fuel(true);
        cmc::Engine::new(config)
    };

    // Damage: one byte anywhere, or the end cut off.
    let mut damaged = artifact.clone();
    if u.ratio(1, 8).unwrap_or(false) {
        let keep = u.choose_index(artifact.len()).unwrap_or(0);
        damaged.truncate(keep);
    } else {
        let at = u.choose_index(artifact.len()).unwrap_or(0);
        let flip = u.int_in_range(1..=255u8).unwrap_or(1);
        damaged[at] ^= flip;
    }
    // SAFETY: the bytes are an artifact of this cmc, damaged on purpose:
    // the checksum must refuse them before anything is mapped.
    match unsafe { cmc::Module::from_artifact(&engine, &damaged) } {
        Err(cmc::Error::Artifact(_)) => {}
        Err(e) => {
            return Err(Finding(format!(
                "damage refused with a non-artifact error: {e}"
            )));
        }
        Ok(_) => return Err(Finding("a damaged artifact loaded".into())),
    }

    // Tampering: a metadata byte changed, the checksum recomputed.
    let Some(meta) = section_range(&artifact, ".cmc.meta") else {
        return Err(Finding("an artifact without a `.cmc.meta` section".into()));
    };
    let mut tampered = artifact.clone();
    let at = meta.start + u.choose_index(meta.len()).unwrap_or(0);
    tampered[at] = u.arbitrary().unwrap_or(0);
    reseal(&mut tampered);
    // SAFETY: a forged artifact; the metadata checks must refuse it or
    // leave a module that runs safely (its code is untouched).
    match unsafe { cmc::Module::from_artifact(&engine, &tampered) } {
        Err(cmc::Error::Artifact(_)) => Ok(Outcome::Checked),
        Err(e) => Err(Finding(format!(
            "tampering refused with a non-artifact error: {e}"
        ))),
        Ok(module) => crate::inputs::run_exports(&module, RUN_FUEL),
    }
}

/// The file range of section `name`.
fn section_range(artifact: &[u8], name: &str) -> Option<std::ops::Range<usize>> {
    let file = object::File::parse(artifact).ok()?;
    let (offset, len) = file.section_by_name(name)?.file_range()?;
    Some(offset as usize..(offset + len) as usize)
}

/// Recomputes the checksum of `artifact` after a change.
fn reseal(artifact: &mut Vec<u8>) {
    artifact.truncate(artifact.len() - CHECKSUM_TRAILER_LEN);
    let trailer = checksum_trailer(artifact);
    artifact.extend_from_slice(&trailer);
}
