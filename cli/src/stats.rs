//! `cmc run --stats`: after a run, what it cost, on stderr.

use cmc_runtime::Store;
use std::time::{Duration, Instant};

/// How the program was made ready to run.
#[derive(Clone, Copy)]
pub enum Prepared {
    /// Compiled from `.wasm`/`.wat` now.
    Compiled,
    /// Loaded from an artifact the user gave.
    Loaded,
    /// Loaded from the compile cache.
    Cached,
}

/// The times of one run's stages, as they pass.
pub struct RunStats {
    prepared: Prepared,
    prepare: Duration,
    instantiate: Duration,
    run: Duration,
    /// The fuel the store was given, when metered.
    fuel: Option<u64>,
}

impl RunStats {
    pub fn new(prepared: Prepared, prepare: Duration, fuel: Option<u64>) -> RunStats {
        RunStats {
            prepared,
            prepare,
            instantiate: Duration::ZERO,
            run: Duration::ZERO,
            fuel,
        }
    }

    /// Runs `f` as the instantiation stage, adding its time.
    pub fn instantiate<R>(&mut self, f: impl FnOnce() -> R) -> R {
        time(&mut self.instantiate, f)
    }

    /// Runs `f` as the run stage, adding its time.
    pub fn run<R>(&mut self, f: impl FnOnce() -> R) -> R {
        time(&mut self.run, f)
    }

    /// Prints the stats of a run in `store`.
    pub fn print<T>(&self, store: &Store<T>) {
        let stats = store.stats();
        let stage = match self.prepared {
            Prepared::Compiled => "compile",
            Prepared::Loaded => "load",
            Prepared::Cached => "load (cached)",
        };
        let mut lines = vec![
            (stage.to_owned(), ms(self.prepare)),
            ("instantiate".to_owned(), ms(self.instantiate)),
            ("run".to_owned(), ms(self.run)),
        ];
        if let Some(given) = self.fuel {
            let used = given - store.get_fuel().min(given);
            lines.push(("fuel used".to_owned(), used.to_string()));
        }
        lines.push((
            "linear memory".to_owned(),
            format!(
                "{} peak, in {} memor{}",
                bytes(stats.memory_bytes),
                stats.memories,
                if stats.memories == 1 { "y" } else { "ies" }
            ),
        ));
        lines.push(("host calls".to_owned(), stats.host_calls.to_string()));
        lines.push((
            "component calls".to_owned(),
            stats.component_calls.to_string(),
        ));
        let mut text = String::from("stats:\n");
        for (name, value) in lines {
            text.push_str(&format!("  {name:<16} {value}\n"));
        }
        eprint!("{text}");
    }
}

/// Runs `f`, adding the time it took to `total`.
fn time<R>(total: &mut Duration, f: impl FnOnce() -> R) -> R {
    let start = Instant::now();
    let result = f();
    *total += start.elapsed();
    result
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

fn bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / (1 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / (1 << 10) as f64),
        n => format!("{n} bytes"),
    }
}
