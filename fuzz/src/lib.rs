//! Fuzz targets for cmc, on stable Rust.
//!
//! Each target takes bytes and says whether cmc behaved
//! ([`Outcome`]) or what it got wrong ([`Finding`]):
//!
//! * [`differential`]: a module wasm-smith generates from the bytes, made to
//!   terminate, runs on cmc and on wasmi; the results, trap kinds, exported
//!   globals and memories must agree.
//! * [`inputs`]: the bytes, and wasm-smith modules with bytes changed, are
//!   given to the compiler and the loader, which must answer with a result
//!   or an error, never a panic.
//! * [`artifacts`]: an artifact of a generated module, damaged anywhere,
//!   must be refused; with only its metadata changed and its checksum made
//!   to match again, it must be refused or run, never panic.
//! * [`wasi`]: a module calls WASI preview1 functions with arguments from
//!   the bytes, in a fresh directory: errnos, traps or an exit, never a
//!   panic, and nothing created outside the directory.
//!
//! The bytes come from [`seeds::bytes`], so a case is named by its seed and
//! replays exactly: `cargo test` runs a few hundred of each, and
//! `cargo run --release -p cmc-fuzz -- TARGET --cases N` runs as many as
//! asked (see `fuzz/README.md`).

pub mod artifacts;
pub mod differential;
pub mod inputs;
pub mod seeds;
pub mod smith;
pub mod wasi;

use std::fmt;

/// What a case showed when cmc behaved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The case ran and everything checked held.
    Checked,
    /// The case could not be checked, for the reason given (too few bytes
    /// for a module, a feature cmc does not support yet, a limit one engine
    /// reached before the other); counted apart from the checked ones.
    Skipped(&'static str),
}

/// Something cmc got wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding(pub String);

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Runs `check` on `case`, turning a panic into a finding.
pub fn without_panics(case: impl FnOnce() -> Result<Outcome, Finding>) -> Result<Outcome, Finding> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(case)).unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("(no message)");
        Err(Finding(format!("panicked: {message}")))
    })
}

/// The zero (or null) value of each of `types`, for arguments and result
/// slots.
pub(crate) fn zeros(types: &[cmc_runtime::ValType]) -> Vec<cmc_runtime::Val> {
    types
        .iter()
        .map(|&t| cmc_runtime::Val::default_for(t))
        .collect()
}

/// A fuzz target: a name and a function of bytes.
#[derive(Clone, Copy)]
pub struct Target {
    pub name: &'static str,
    pub run: fn(&[u8]) -> Result<Outcome, Finding>,
}

/// Every target.
pub const TARGETS: [Target; 4] = [
    Target {
        name: "differential",
        run: differential::check,
    },
    Target {
        name: "inputs",
        run: inputs::check,
    },
    Target {
        name: "artifacts",
        run: artifacts::check,
    },
    Target {
        name: "wasi",
        run: wasi::check,
    },
];

/// The counts of a run of many cases.
#[derive(Debug, Default)]
pub struct Tally {
    pub checked: u64,
    /// Skipped cases by reason.
    pub skipped: Vec<(&'static str, u64)>,
    /// Each finding with the seed that shows it.
    pub findings: Vec<(u64, Finding)>,
}

impl Tally {
    pub fn add(&mut self, seed: u64, result: Result<Outcome, Finding>) {
        match result {
            Ok(Outcome::Checked) => self.checked += 1,
            Ok(Outcome::Skipped(why)) => match self.skipped.iter_mut().find(|(w, _)| *w == why) {
                Some((_, n)) => *n += 1,
                None => self.skipped.push((why, 1)),
            },
            Err(finding) => self.findings.push((seed, finding)),
        }
    }

    /// All skipped cases.
    pub fn skipped_total(&self) -> u64 {
        self.skipped.iter().map(|(_, n)| n).sum()
    }
}

/// The native stack a case runs on: wasm may use 512 KiB of it, and the
/// compiler and wasmi recurse on deeply nested code (more so in a debug
/// build) beyond the 2 MiB of a test thread.
pub const CASE_STACK: usize = 16 << 20;

/// Runs `target` on the cases of seeds `first..first + count`, on a thread
/// with a [`CASE_STACK`] stack.
pub fn run(target: Target, first: u64, count: u64) -> Tally {
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new().stack_size(CASE_STACK);
        let cases = worker.spawn_scoped(scope, || {
            let mut tally = Tally::default();
            for seed in first..first + count {
                let data = seeds::bytes(seed);
                tally.add(seed, without_panics(|| (target.run)(&data)));
            }
            tally
        });
        cases
            .expect("a worker thread starts")
            .join()
            .expect("cases do not unwind past `without_panics`")
    })
}
