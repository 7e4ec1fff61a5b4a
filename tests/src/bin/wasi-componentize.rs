//! Wraps a WASI preview1 core module into a WASI 0.2 command component.
//!
//! ```text
//! cargo run -p cmc-tests --bin wasi-componentize -- IN.wasm OUT.component.wasm
//! cargo run -p cmc-tests --bin wasi-componentize -- --no-adapter IN.wasm OUT.component.wasm
//! cargo run -p cmc-tests --bin wasi-componentize -- --adapter OUT.wasm
//! ```
//!
//! The first form does what `wasm-tools component new IN --adapt
//! wasi_snapshot_preview1=ADAPTER -o OUT` does, with the command adapter of
//! wasmtime 48.0.8 (the `wasi-preview1-component-adapter-provider` crate, so
//! the components import exactly what wasmtime 48's own adapter imports).
//! The second is `wasm-tools component new IN -o OUT`, for a module that
//! already carries its component type (from wit-bindgen) and imports no
//! preview1 function: it fails if one slipped in. The third writes the
//! adapter module itself, for use with `wasm-tools`. `tests/guests/build.sh`
//! uses the first two.

use std::process::ExitCode;

use wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.as_slice() {
        [flag, out] if flag == "--adapter" => {
            std::fs::write(out, WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER)
                .map_err(|e| format!("writing {out}: {e}"))
        }
        [flag, input, out] if flag == "--no-adapter" => componentize(input, out, false),
        [input, out] if !input.starts_with('-') => componentize(input, out, true),
        _ => Err(
            "usage: wasi-componentize [--no-adapter] IN.wasm OUT.wasm | --adapter OUT.wasm".into(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wasi-componentize: {e}");
            ExitCode::FAILURE
        }
    }
}

fn componentize(input: &str, out: &str, adapt: bool) -> Result<(), String> {
    let module = std::fs::read(input).map_err(|e| format!("reading {input}: {e}"))?;
    let component = cmc_tests::componentize(&module, adapt).map_err(|e| format!("{input}: {e}"))?;
    // Write beside the target, then rename: a failed run leaves no output.
    let tmp = format!("{out}.tmp");
    std::fs::write(&tmp, &component).map_err(|e| format!("writing {tmp}: {e}"))?;
    std::fs::rename(&tmp, out).map_err(|e| format!("renaming {tmp} to {out}: {e}"))
}
