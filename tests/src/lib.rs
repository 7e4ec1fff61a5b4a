//! Helpers shared by the end-to-end tests and the tools of `src/bin`.

use wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER;

/// Wraps a core module into a component (what `wasm-tools component new`
/// does). With `adapt`, its WASI preview1 imports are served by wasmtime
/// 48's preview1 command adapter, so the component imports exactly what
/// wasmtime's own adapter imports; without, the module must carry its
/// component type (from wit-bindgen) and import no preview1 function.
pub fn componentize(module: &[u8], adapt: bool) -> Result<Vec<u8>, String> {
    wit_component::ComponentEncoder::default()
        .module(module)
        .and_then(|e| {
            let e = e.validate(true);
            if adapt {
                e.adapter(
                    "wasi_snapshot_preview1",
                    WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER,
                )
            } else {
                Ok(e)
            }
        })
        .and_then(|e| e.encode())
        .map_err(|e| format!("{e:#}"))
}

/// The `.wast` scripts in folder `dir` of this crate, sorted by name.
///
/// # Panics
///
/// When the folder cannot be listed: the scripts are part of the tests.
pub fn wast_scripts(dir: &str) -> Vec<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut scripts: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "wast"))
        .collect();
    scripts.sort();
    scripts
}
