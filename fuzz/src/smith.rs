//! The modules the targets generate: wasm-smith, limited to what cmc
//! compiles and wasmi runs alike (WebAssembly 2.0 with SIMD, and the
//! deterministic proposals), and made to terminate.

use arbitrary::Unstructured;

/// The fuel wasm-smith's termination pass gives a module: each function
/// entry and loop iteration spends one, and the module traps with
/// `unreachable` when none is left. The same count on every engine, unlike
/// their own fuel, so outcomes stay comparable.
pub const FUEL: u32 = 2000;

/// wasm-smith's configuration: WebAssembly 2.0 (multi-value, bulk memory,
/// reference types, sign extension, saturating conversions, SIMD),
/// extended-const, memory64 (its memories take explicit bounds checks) and
/// up to two memories, one table, no imports, everything exported,
/// NaNs canonicalized (their bits are otherwise up to the engine). Relaxed
/// SIMD is left out: engines may differ on it by design.
pub fn config() -> wasm_smith::Config {
    wasm_smith::Config {
        simd_enabled: true,
        relaxed_simd_enabled: false,
        threads_enabled: false,
        exceptions_enabled: false,
        gc_enabled: false,
        tail_call_enabled: false,
        wide_arithmetic_enabled: false,
        extended_const_enabled: true,
        custom_page_sizes_enabled: false,
        memory64_enabled: true,
        max_memories: 2,
        max_tables: 1,
        max_imports: 0,
        export_everything: true,
        min_funcs: 1,
        canonicalize_nans: true,
        // Memories of at most 16 pages, so that thousands of cases run in
        // minutes.
        max_memory32_bytes: 16 << 16,
        max_memory64_bytes: 16 << 16,
        max_table_elements: 1000,
        ..wasm_smith::Config::default()
    }
}

/// A module generated from `u`, made to terminate, as bytes; `None` when
/// the bytes run out first.
pub fn module(u: &mut Unstructured<'_>) -> Option<Vec<u8>> {
    let mut module = wasm_smith::Module::new(config(), u).ok()?;
    module.ensure_termination(FUEL).ok()?;
    Some(module.to_bytes())
}
