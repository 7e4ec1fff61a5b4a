//! Which address ranges hold compiled wasm code, so the signal handler can
//! tell a wasm trap from a crash in the host.

use super::LoadedArtifact;
use std::collections::BTreeMap;
use std::sync::RwLock;

/// End address → (start address, artifact). The pointer stays valid while it
/// is registered: an artifact unregisters itself before it is freed.
static CODE: RwLock<BTreeMap<usize, (usize, usize)>> = RwLock::new(BTreeMap::new());

pub(super) fn register(artifact: &LoadedArtifact) {
    let range = artifact.text_range();
    if range.is_empty() {
        return;
    }
    let ptr = artifact as *const LoadedArtifact as usize;
    CODE.write()
        .unwrap_or_else(|e| e.into_inner())
        .insert(range.end, (range.start, ptr));
}

pub(super) fn unregister(artifact: &LoadedArtifact) {
    let range = artifact.text_range();
    if range.is_empty() {
        return;
    }
    CODE.write()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&range.end);
}

/// The artifact whose code contains `pc`, with `pc`'s offset in its text.
///
/// Called from the signal handler; it only takes a read lock, which cannot be
/// held for writing by the faulting thread (registration never runs wasm).
pub(crate) fn lookup_pc(pc: usize) -> Option<(&'static LoadedArtifact, u32)> {
    let code = CODE.read().unwrap_or_else(|e| e.into_inner());
    let (_, &(start, ptr)) = code.range(pc + 1..).next()?;
    if pc < start {
        return None;
    }
    // SAFETY: registered artifacts are alive (see `CODE`), and callers use the
    // reference only while the artifact's store keeps it alive.
    let artifact = unsafe { &*(ptr as *const LoadedArtifact) };
    Some((artifact, (pc - start) as u32))
}
