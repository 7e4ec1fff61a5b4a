//! The compile cache of `cmc run`: a `.wasm` or `.wat` compiled once is
//! loaded from the cache on the next run instead of being compiled again.
//!
//! An entry is keyed by a hash of the wasm bytes, the compile settings, the
//! target and the `cmc` executable itself (so a rebuilt `cmc` never reuses
//! another's code); CPU features and everything else the artifact header
//! records are checked again when the entry is loaded, and an entry that
//! fails that is compiled anew. Each entry is an artifact as `cmc build`
//! writes it, whose integrity trailer the loader checks before it maps any
//! code, so a damaged entry is detected and replaced. Entries are written to
//! a temporary file and renamed into place, so concurrent runs never see
//! half an entry; the folder is kept under a size bound by removing the
//! least recently used entries.

use cmc_runtime::CompileSettings;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;
use xxhash_rust::xxh3::Xxh3;
/// The default size bound of the cache folder.
const DEFAULT_MAX_BYTES: u64 = 1 << 30;

/// A cache folder.
pub struct Cache {
    dir: PathBuf,
    max_bytes: u64,
}

impl Cache {
    /// The cache `cmc run` uses: `$CMC_CACHE_DIR`, else `$XDG_CACHE_HOME/cmc`,
    /// else `~/.cache/cmc`, bounded by `$CMC_CACHE_MAX_BYTES` (default 1 GiB).
    /// `None` when `enabled` is false, `$CMC_NO_CACHE` is set, or there is no
    /// folder to use.
    pub fn open(enabled: bool) -> Option<Cache> {
        if !enabled || std::env::var_os("CMC_NO_CACHE").is_some_and(|v| !v.is_empty()) {
            return None;
        }
        let var = |name| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let dir = var("CMC_CACHE_DIR")
            .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("cmc")))
            .or_else(|| var("HOME").map(|h| h.join(".cache/cmc")))?;
        let max_bytes = std::env::var("CMC_CACHE_MAX_BYTES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(DEFAULT_MAX_BYTES);
        Some(Cache { dir, max_bytes })
    }

    /// The key of `wasm` compiled with `settings` for this host by this
    /// `cmc`.
    pub fn key(wasm: &[u8], settings: &CompileSettings) -> String {
        // Hashed as a stream: the wasm (tens of MB) is not copied.
        let mut id = Xxh3::new();
        id.update(wasm);
        id.update(
            format!(
                "\0{}\0{}\0{:?}\0{}",
                cmc_runtime::abi::CMC_VERSION,
                cmc_runtime::abi::ARTIFACT_FORMAT_VERSION,
                settings,
                target_lexicon::HOST
            )
            .as_bytes(),
        );
        // The executable's size and time change with every rebuild.
        if let Some(m) = std::env::current_exe().ok().and_then(|e| e.metadata().ok()) {
            id.update(&m.len().to_le_bytes());
            if let Some(t) = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
            {
                id.update(&t.as_nanos().to_le_bytes());
            }
        }
        format!("{:032x}", id.digest128())
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.cmc"))
    }

    /// The file of the entry stored under `key`, if there is one; loading
    /// it checks that it is intact (the caller removes an entry that does
    /// not load). A hit marks the entry as recently used.
    pub fn get(&self, key: &str) -> Option<PathBuf> {
        let path = self.path(key);
        if !path.is_file() {
            return None;
        }
        if let Ok(file) = std::fs::File::options().append(true).open(&path) {
            let _ = file.set_modified(SystemTime::now());
        }
        Some(path)
    }

    /// Removes the entry `key` (one that did not load).
    pub fn remove(&self, key: &str) {
        let _ = std::fs::remove_file(self.path(key));
    }

    /// Stores `artifact` under `key`, atomically, then keeps the folder
    /// within its bound. A cache that cannot be written is no error: the
    /// run goes on without it.
    pub fn put(&self, key: &str, artifact: &[u8]) {
        if self.write(key, artifact).is_ok() {
            self.evict();
        }
    }

    fn write(&self, key: &str, artifact: &[u8]) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let tmp = self.dir.join(format!(".{key}.{}.tmp", std::process::id()));
        let result = (|| {
            let mut file = std::fs::File::create(&tmp)?;
            file.write_all(artifact)?;
            std::fs::rename(&tmp, self.path(key))
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }

    /// Removes the least recently used entries until the folder's entries
    /// fit the bound.
    fn evict(&self) {
        let Ok(dir) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut entries: Vec<(SystemTime, u64, PathBuf)> = dir
            .flatten()
            .filter(|e| is_entry(&e.path()))
            .filter_map(|e| {
                let m = e.metadata().ok()?;
                Some((m.modified().ok()?, m.len(), e.path()))
            })
            .collect();
        let mut total: u64 = entries.iter().map(|(_, len, _)| len).sum();
        entries.sort();
        for (_, len, path) in entries {
            if total <= self.max_bytes {
                break;
            }
            if std::fs::remove_file(&path).is_ok() {
                total -= len;
            }
        }
    }
}

/// Whether `path` is a cache entry (not a temporary file or anything else).
fn is_entry(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "cmc")
        && path.file_stem().is_some_and(|s| {
            s.len() == 32 && s.to_string_lossy().bytes().all(|b| b.is_ascii_hexdigit())
        })
}
