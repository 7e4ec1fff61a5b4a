//! Helpers shared by the end-to-end tests and the tools of `src/bin`.

use wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER;

/// Wraps a WASI preview1 command module into a WASI 0.2 command component
/// with wasmtime 48's preview1 adapter (what `wasm-tools component new
/// --adapt` does), so the component imports exactly what wasmtime's own
/// adapter imports.
pub fn wasi_command_component(module: &[u8]) -> Result<Vec<u8>, String> {
    wit_component::ComponentEncoder::default()
        .module(module)
        .and_then(|e| {
            e.validate(true).adapter(
                "wasi_snapshot_preview1",
                WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER,
            )
        })
        .and_then(|e| e.encode())
        .map_err(|e| format!("{e:#}"))
}
