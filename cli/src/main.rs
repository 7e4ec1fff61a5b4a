//! The `cmc` command: build, run, wast, inspect.

#[macro_use]
mod output;
mod build;
mod cache;
mod compile;
mod input;
mod inspect;
mod progress;
mod run;
mod stats;
mod trace;
mod values;
mod wasi;
mod wave;

use clap::{Parser, Subcommand};

use std::process::ExitCode;

/// cmc: an ahead-of-time WebAssembly compiler and runtime.
#[derive(Parser)]
#[command(name = "cmc", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile a module or component (.wasm or .wat) into a native artifact.
    Build(build::BuildArgs),
    /// Run a module or component (.wasm, .wat or a .cmc artifact).
    Run(run::RunArgs),
    /// Run WebAssembly spec scripts (.wast), core and component-model.
    Wast {
        /// Scripts to run.
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
    },
    /// Show what a .wasm, .wat or .cmc file contains.
    Inspect(inspect::InspectArgs),
}

/// `cmc wast`, with a progress bar over the scripts' directives.
fn run_scripts(files: &[std::path::PathBuf]) -> bool {
    let what = match files {
        [one] => format!("running {}", one.display()),
        _ => format!("running {} scripts", files.len()),
    };
    progress::with_bar(&what, progress::Unit::Count("directives"), |progress| {
        cmc_spec::wast_command(files, progress)
    })
}

/// Exit status of an internal error, a bug in cmc (Rust's status for a
/// panic). A guest's trap exits with 134 instead, so scripts can tell a
/// failing program from a failing cmc.
const INTERNAL_ERROR_EXIT: u8 = 101;

/// Reports a panic anywhere in cmc, on any thread (a host function's panic
/// is caught at the wasm boundary, then resumed on the main thread), as an
/// internal error. The process then ends with [`INTERNAL_ERROR_EXIT`].
fn report_internal_errors() {
    std::panic::set_hook(Box::new(|info| {
        eprintln!(
            "internal error: {info}\nThis is a bug in cmc {}; please report it.",
            env!("CARGO_PKG_VERSION")
        );
    }));
}

fn main() -> ExitCode {
    report_internal_errors();
    match std::panic::catch_unwind(run_command) {
        Ok(code) => code,
        Err(_) => ExitCode::from(INTERNAL_ERROR_EXIT),
    }
}

/// Parses the command line and runs the command.
fn run_command() -> ExitCode {
    // Lets the tests see an internal error as a user would (nothing else in
    // cmc panics on purpose).
    if std::env::var_os("CMC_TEST_INTERNAL_ERROR").is_some() {
        panic!("CMC_TEST_INTERNAL_ERROR is set");
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Build(args) => build::run(args),
        Command::Run(args) => run::run(args),
        Command::Wast { files } => Ok(if run_scripts(&files) {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }),
        Command::Inspect(args) => inspect::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
