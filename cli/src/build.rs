//! `cmc build`: compile to an artifact file, atomically.

use crate::compile::compile;
use crate::wasi::on_off;
use anyhow::{Context, Result, bail};
use cmc_compiler::Options;
use cmc_runtime::{CompileSettings, OptLevel};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `cmc build`.
#[derive(clap::Args)]
pub struct BuildArgs {
    /// Input core module or component (.wasm or .wat).
    input: PathBuf,
    /// Output artifact.
    #[arg(short, long)]
    output: PathBuf,
    /// Target triple to compile for (default: this host), e.g.
    /// x86_64-unknown-linux-gnu, aarch64-unknown-linux-gnu,
    /// riscv64gc-unknown-linux-gnu.
    #[arg(long)]
    target: Option<String>,
    /// Cranelift optimization level: none, speed or speed_and_size.
    #[arg(long, default_value = "speed")]
    opt_level: OptLevel,
    /// What to write: a cmc artifact, or the same relocatable object with a
    /// global symbol per function, for a system linker.
    #[arg(long, value_enum, default_value = "artifact")]
    emit: Emit,
    /// Code options, as wasmtime's: epoch-interruption=y|n (checks that let
    /// `cmc run -W timeout=…` or a host's epoch deadline stop the guest),
    /// consume-fuel=y|n (metering that `cmc run -W fuel=N` needs).
    #[arg(short = 'W', value_name = "KEY=VAL[,..]")]
    wasm: Vec<String>,
}

/// Output kinds of `cmc build`.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Emit {
    /// A cmc artifact, for `cmc run` and `cmc-runtime`.
    Artifact,
    /// A relocatable object whose function symbols are global.
    Obj,
}

pub fn run(args: BuildArgs) -> Result<ExitCode> {
    let wasm = std::fs::read(&args.input)
        .with_context(|| format!("cannot read `{}`", args.input.display()))?;
    let mut settings = CompileSettings {
        opt_level: args.opt_level,
        epoch_interruption: false,
        consume_fuel: false,
        explicit_bounds_checks: false,
    };
    for option in args.wasm.iter().flat_map(|o| o.split(',')) {
        let (key, value) = match option.split_once('=') {
            Some((key, value)) => (key, Some(value)),
            None => (option, None),
        };
        match key {
            "epoch-interruption" => {
                settings.epoch_interruption = on_off("-W epoch-interruption", value)?;
            }
            "consume-fuel" => settings.consume_fuel = on_off("-W consume-fuel", value)?,
            "explicit-bounds-checks" => {
                settings.explicit_bounds_checks = on_off("-W explicit-bounds-checks", value)?;
            }
            _ => bail!(
                "unknown -W option `{option}` for build (known: epoch-interruption=y|n, consume-fuel=y|n, explicit-bounds-checks=y|n)"
            ),
        }
    }
    let name = args.input.display();
    let options = Options::new(&settings).target(args.target.as_deref());
    let options = match args.emit {
        Emit::Artifact => options,
        Emit::Obj => options.object(),
    };
    let artifact =
        compile(&name, &wasm, options).with_context(|| format!("cannot compile `{name}`"))?;
    write_atomically(&args.output, &artifact)
        .with_context(|| format!("cannot write `{}`", args.output.display()))?;
    Ok(ExitCode::SUCCESS)
}

/// Writes `bytes` to a temporary file beside `path` and renames it into
/// place, so a failed build never leaves a partial output.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().context("the output path names no file")?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        // No `sync_all`: the rename is what keeps a failed or concurrent
        // build from leaving a partial output, and a file torn by a system
        // crash fails the loader's checksum instead of running. Syncing
        // took 90 ms of the 3 s build of an 18 MB component.
        file.write_all(bytes)?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    Ok(result?)
}
