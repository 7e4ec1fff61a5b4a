//! The report: criterion's estimates from this run, as one table of every
//! engine per workload, the ratios cmc/peer, and the project's goals.
//!
//! Criterion keeps its statistics on disk (`<dir>/<group>/<bench>/new/`:
//! `benchmark.json` names the benchmark, `estimates.json` holds the
//! bootstrap estimates). Only files written since this run started are
//! read, so every ratio compares figures measured in the same run, and a
//! filtered run reports just what it measured.

use crate::engines::{Api, Peer};
use crate::workloads::{COMPOSE_CALLS, COMPUTE, HOST, MEMORY64, SIMD};
use anyhow::{Context, Result};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Criterion group names shared by the benchmarks and the report.
pub mod group {
    /// Empty export called from the host.
    pub const HOST_TO_WASM: &str = "host_to_wasm";
    /// Loop in wasm calling an empty host import.
    pub const WASM_TO_HOST: &str = "wasm_to_host";
    /// New store plus instantiation.
    pub const INSTANTIATE: &str = "instantiate";
    /// `Module::new` from wasm bytes.
    pub const COMPILE: &str = "compile";
    /// Precompiled code from a file, instantiated and called once.
    pub const LOAD: &str = "load";
    /// The name of cmc's row of [`LOAD`] without the artifact's checksum.
    pub const UNCHECKED_LOAD: &str = "cmc-unchecked";
    /// Host→component calls and the core-export baseline.
    pub const COMPONENT: &str = "component";
    /// Calls from one component into another, in a loop in wasm.
    pub const COMPOSE: &str = "compose";
    /// The compute workloads with fuel metering or epoch interruption on:
    /// the group `bounded-WORKLOAD`, ids `PEER-BOUND` (see [`bounded_id`]).
    pub const BOUNDED: &str = "bounded";
}

/// How the bounded benchmarks bound the guest: fuel, epochs, or (not a
/// bound, but a cost of the same kind) memory accesses checked explicitly
/// instead of by a guard region.
pub const BOUNDS: [&str; 3] = ["fuel", "epochs", "checks"];

/// The criterion group of workload `workload` bounded.
pub fn bounded_group(workload: &str) -> String {
    format!("{}-{workload}", group::BOUNDED)
}

/// The criterion id of `peer` with `bound` on.
pub fn bounded_id(peer: Peer, bound: &str) -> String {
    format!("{}-{bound}", peer.name())
}

/// The criterion benchmark id of a call-overhead variant.
pub fn call_id(peer: Peer, api: Api) -> String {
    format!("{}-{}", peer.name(), api.name())
}

/// Mean time of one benchmark iteration with its confidence interval, in
/// nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// Mean.
    pub mean: f64,
    /// Lower bound of the confidence interval of the mean.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
}

impl Estimate {
    fn scaled(self, per: f64) -> Estimate {
        Estimate {
            mean: self.mean / per,
            lower: self.lower / per,
            upper: self.upper / per,
        }
    }
}

/// This run's estimates by (group, benchmark id).
#[derive(Debug, Default)]
pub struct Results {
    map: HashMap<(String, String), Estimate>,
}

impl Results {
    /// Reads the estimates written under `dir` since `since`.
    pub fn collect(dir: &Path, since: SystemTime) -> Result<Results> {
        let mut results = Results::default();
        let mut pending = vec![dir.to_path_buf()];
        while let Some(dir) = pending.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries {
                let path = entry?.path();
                if path.file_name().is_some_and(|n| n == "new") {
                    results.read_one(&path, since)?;
                } else if path.is_dir() {
                    pending.push(path);
                }
            }
        }
        Ok(results)
    }

    fn read_one(&mut self, new: &Path, since: SystemTime) -> Result<()> {
        let estimates = new.join("estimates.json");
        let Ok(meta) = std::fs::metadata(&estimates) else {
            return Ok(());
        };
        if meta.modified()? < since {
            return Ok(());
        }
        let read = |path: &Path| -> Result<Value> {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
        };
        let id = read(&new.join("benchmark.json"))?;
        let est = read(&estimates)?;
        let text = |v: &Value| v.as_str().map(str::to_owned);
        let num = |v: &Value| v.as_f64().context("malformed estimates.json");
        let (Some(group), Some(function)) = (text(&id["group_id"]), text(&id["function_id"]))
        else {
            return Ok(());
        };
        let mean = &est["mean"];
        self.insert(
            &group,
            &function,
            Estimate {
                mean: num(&mean["point_estimate"])?,
                lower: num(&mean["confidence_interval"]["lower_bound"])?,
                upper: num(&mean["confidence_interval"]["upper_bound"])?,
            },
        );
        Ok(())
    }

    /// Records one estimate.
    pub fn insert(&mut self, group: &str, id: &str, estimate: Estimate) {
        self.map.insert((group.to_owned(), id.to_owned()), estimate);
    }

    /// The estimate of benchmark `id` in `group`.
    pub fn get(&self, group: &str, id: &str) -> Option<Estimate> {
        self.map.get(&(group.to_owned(), id.to_owned())).copied()
    }

    /// Whether nothing was measured.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Mean time of `a` over mean time of `b`, both in `group`.
    fn ratio(&self, group: &str, a: &str, b: &str) -> Option<f64> {
        Some(self.get(group, a)?.mean / self.get(group, b)?.mean)
    }
}

/// Where criterion writes: `$CRITERION_HOME`, else `criterion/` in the
/// cargo target directory, found (as criterion does) from
/// `$CARGO_TARGET_DIR` or else from where this benchmark binary was built
/// (`<target>/<profile>/deps/<bench>`).
pub fn criterion_dir() -> Result<PathBuf> {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return Ok(home.into());
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return Ok(Path::new(&target).join("criterion"));
    }
    let exe = std::env::current_exe()?;
    let target = exe
        .ancestors()
        .nth(3)
        .context("benchmark binary is not inside a cargo target directory")?;
    Ok(target.join("criterion"))
}

/// Sizes of the large module in each engine's precompiled form, in bytes.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    /// The wasm binary.
    pub wasm: usize,
    /// cmc's artifact.
    pub cmc: usize,
    /// wasmtime's `.cwasm`, native.
    pub wasmtime: usize,
    /// wasmtime's `.cwasm`, Pulley bytecode.
    pub pulley: usize,
}

/// One table row: a workload and which benchmark fills each engine column.
struct Row {
    label: String,
    group: String,
    ids: [String; 4],
    /// Each figure is divided by this (e.g. calls per iteration).
    per: f64,
}

fn rows(sizes: &Sizes) -> Vec<Row> {
    let plain = |label: String, group: &str| Row {
        label,
        group: group.to_owned(),
        ids: Peer::ALL.map(|p| p.name().to_owned()),
        per: 1.0,
    };
    let mut rows: Vec<Row> = COMPUTE
        .iter()
        .chain(&SIMD)
        .chain([&MEMORY64])
        .map(|w| plain(format!("`{}` {}", w.name, w.about), w.name))
        .collect();
    for api in Api::BOTH {
        rows.push(Row {
            label: format!("host→wasm call, empty export (peers {})", api.name()),
            group: group::HOST_TO_WASM.to_owned(),
            ids: Peer::ALL.map(|p| call_id(p, api)),
            per: 1.0,
        });
    }
    for api in Api::BOTH {
        rows.push(Row {
            label: format!(
                "wasm→host call, empty import, per call (peers {})",
                api.name()
            ),
            group: group::WASM_TO_HOST.to_owned(),
            ids: Peer::ALL.map(|p| call_id(p, api)),
            per: f64::from(HOST.arg),
        });
    }
    // Each engine's typed component API against the others', and the
    // untyped ones; wasmi has no components.
    for (what, label) in [
        ("u32", "`inc(u32) -> u32`"),
        ("string", "`len(string) -> u32`, 1 KiB string"),
    ] {
        for api in Api::BOTH {
            rows.push(Row {
                label: format!("host→component call {label} ({})", api.name()),
                group: group::COMPONENT.to_owned(),
                ids: Peer::ALL.map(|p| match p {
                    Peer::Wasmi => "none".to_owned(),
                    _ => format!("{}-{what}-{}", p.name(), api.name()),
                }),
                per: 1.0,
            });
        }
    }
    rows.push(Row {
        label: "the same `inc` as a core export (typed)".into(),
        group: group::COMPONENT.to_owned(),
        ids: Peer::ALL.map(|p| format!("{}-core", p.name())),
        per: 1.0,
    });
    for (what, label) in [
        ("u32", "`inc(u32) -> u32`"),
        ("string", "`len(string) -> u32`, 64-byte string"),
        (
            "utf16",
            "`len16(string) -> u32`, 64-byte utf8 string to utf16",
        ),
        (
            "from-utf16",
            "`len(string) -> u32`, 32 utf16 code units to utf8",
        ),
        (
            "records",
            "`count(list<record { a: u32, b: u32 }>) -> u32`, 8 records",
        ),
    ] {
        rows.push(Row {
            label: format!("component→component call {label}, per call"),
            group: group::COMPOSE.to_owned(),
            ids: Peer::ALL.map(|p| match p {
                Peer::Wasmi => "none".to_owned(),
                _ => format!("{}-{what}", p.name()),
            }),
            per: f64::from(COMPOSE_CALLS),
        });
    }
    rows.push(plain(
        "instantiate: new store + memory, table, globals, data".into(),
        group::INSTANTIATE,
    ));
    rows.push(plain(
        format!(
            "compile {:.1} MB module from wasm (wasmi: eager translation)",
            mb(sizes.wasm)
        ),
        group::COMPILE,
    ));
    rows.push(plain(
        "load precompiled file + instantiate + first call (wasmi: from wasm, lazy)".into(),
        group::LOAD,
    ));
    rows
}

/// Renders the whole report as Markdown.
pub fn render(results: &Results, sizes: &Sizes) -> String {
    let mut out = String::new();
    let peers = &Peer::ALL[1..];
    out.push_str("| workload |");
    for p in Peer::ALL {
        let _ = write!(out, " {} |", p.name());
    }
    for p in peers {
        let _ = write!(out, " cmc/{} |", p.name());
    }
    out.push_str("\n|---|");
    out.push_str(&"---:|".repeat(Peer::ALL.len() + peers.len()));
    out.push('\n');
    for row in rows(sizes) {
        let figures = row
            .ids
            .each_ref()
            .map(|id| results.get(&row.group, id).map(|e| e.scaled(row.per)));
        let _ = write!(out, "| {} |", row.label);
        for figure in &figures {
            let _ = write!(out, " {} |", figure.map_or("—".into(), cell));
        }
        for other in &figures[1..] {
            let ratio = figures[0].zip(*other).map(|(c, p)| c.mean / p.mean);
            let _ = write!(
                out,
                " {} |",
                ratio.map_or("—".into(), |r| format!("{r:.2}"))
            );
        }
        out.push('\n');
    }
    out.push_str(
        "\nTimes are criterion's mean per call (per iteration) with the half-width of its \
         95% confidence interval; ratios are of means measured in this run (below 1: cmc faster).\n",
    );
    out.push_str(&goals(results));
    out.push_str(&bounded(results));
    out.push_str(&sizes_and_throughput(results, sizes));
    out
}

/// The table of bounded runs: each compute workload with fuel metering on,
/// then with epoch interruption on, on cmc and wasmtime, with their ratio
/// and each engine's cost over its own unbounded run.
fn bounded(results: &Results) -> String {
    let (cmc, wasmtime) = (Peer::Cmc, Peer::Wasmtime);
    let mut out = String::from(
        "\nBounded guests, same run: fuel metering on (a store with all the fuel there is), \
         then epoch interruption on (a deadline never reached), then explicit bounds checks \
         on every memory access instead of the guard region (wasmtime without memory \
         reservation or guard); `/off` is an engine's time over its own default run \
         above.\n\n| workload |",
    );
    for bound in BOUNDS {
        let _ = write!(
            out,
            " cmc {bound} | wasmtime {bound} | cmc/wasmtime | cmc {bound}/off | wasmtime {bound}/off |"
        );
    }
    out.push_str("\n|---|");
    out.push_str(&"---:|".repeat(5 * BOUNDS.len()));
    out.push('\n');
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); BOUNDS.len()];
    let ratio = |r: Option<f64>| r.map_or("—".into(), |r| format!("{r:.2}"));
    for w in COMPUTE {
        let group = bounded_group(w.name);
        if results.get(&group, &bounded_id(cmc, BOUNDS[0])).is_none() {
            continue;
        }
        let _ = write!(out, "| `{}` |", w.name);
        for (i, bound) in BOUNDS.iter().enumerate() {
            let get = |peer: Peer| results.get(&group, &bounded_id(peer, bound));
            let over_off =
                |peer: Peer| Some(get(peer)?.mean / results.get(w.name, peer.name())?.mean);
            let vs = get(cmc).zip(get(wasmtime)).map(|(a, b)| a.mean / b.mean);
            ratios[i].extend(vs);
            let _ = write!(
                out,
                " {} | {} | {} | {} | {} |",
                get(cmc).map_or("—".into(), cell),
                get(wasmtime).map_or("—".into(), cell),
                ratio(vs),
                ratio(over_off(cmc)),
                ratio(over_off(wasmtime)),
            );
        }
        out.push('\n');
    }
    for (bound, ratios) in BOUNDS.iter().zip(&ratios) {
        let _ = writeln!(
            out,
            "\nGeometric mean cmc/wasmtime with {bound} on: {}.",
            ratio(geomean(ratios))
        );
    }
    out
}

/// The project's performance goals, reported (never asserted).
fn goals(results: &Results) -> String {
    let (cmc, wasmtime, wasmi) = (Peer::Cmc.name(), Peer::Wasmtime.name(), Peer::Wasmi.name());
    let compute = |a: &str, b: &str| -> Vec<f64> {
        COMPUTE
            .iter()
            .filter_map(|w| results.ratio(w.name, a, b))
            .collect()
    };
    let mut lines = Vec::new();
    let mut goal = |text: String, value: Option<f64>, met: &dyn Fn(f64) -> bool| {
        let verdict = match value {
            Some(v) if met(v) => format!("{v:.2} — met"),
            Some(v) => format!("{v:.2} — **missed**"),
            None => "not measured".into(),
        };
        lines.push(format!("- {text}: {verdict}"));
    };
    let vs_wasmtime = compute(cmc, wasmtime);
    goal(
        format!(
            "geometric mean cmc/wasmtime over the {} compute workloads ≤ 0.9",
            vs_wasmtime.len()
        ),
        geomean(&vs_wasmtime),
        &|v| v <= 0.9,
    );
    let speedup = compute(wasmi, cmc);
    goal(
        "cmc ≥ 6× faster than wasmi (geometric mean of wasmi/cmc)".into(),
        geomean(&speedup),
        &|v| v >= 6.0,
    );
    goal(
        "cmc ≥ 6× faster than wasmi (slowest workload, wasmi/cmc)".into(),
        speedup.iter().copied().reduce(f64::min),
        &|v| v >= 6.0,
    );
    let simd: Vec<f64> = (SIMD.iter())
        .filter_map(|w| results.ratio(w.name, cmc, wasmtime))
        .collect();
    goal(
        format!(
            "geometric mean cmc/wasmtime over the {} SIMD workloads ≤ 1.0",
            simd.len()
        ),
        geomean(&simd),
        &|v| v <= 1.0,
    );
    goal(
        "call-heavy (`calls`) cmc/wasmtime ≤ 0.7".into(),
        results.ratio("calls", cmc, wasmtime),
        &|v| v <= 0.7,
    );
    for (group, what) in [
        (group::HOST_TO_WASM, "host→wasm"),
        (group::WASM_TO_HOST, "wasm→host"),
    ] {
        for api in Api::BOTH {
            goal(
                format!("{what} call cmc/wasmtime ({}) ≤ 1.0", api.name()),
                results.ratio(
                    group,
                    &call_id(Peer::Cmc, api),
                    &call_id(Peer::Wasmtime, api),
                ),
                &|v| v <= 1.0,
            );
        }
    }
    for peer in [cmc, wasmtime] {
        lines.push(format!(
            "- memory64's cost on {peer} (`{}` over `fnv1a`): {}",
            MEMORY64.name,
            results
                .get(MEMORY64.name, peer)
                .zip(results.get("fnv1a", peer))
                .map_or("not measured".into(), |(m64, m32)| format!(
                    "{:.2}",
                    m64.mean / m32.mean
                ))
        ));
    }
    format!("\nGoals:\n\n{}\n", lines.join("\n"))
}

fn sizes_and_throughput(results: &Results, sizes: &Sizes) -> String {
    let mut out = format!(
        "\nLarge module: {} bytes of wasm; cmc artifact {} bytes, wasmtime .cwasm {} bytes \
         (cmc/wasmtime {:.2}), Pulley .cwasm {} bytes.\n",
        sizes.wasm,
        sizes.cmc,
        sizes.wasmtime,
        sizes.cmc as f64 / sizes.wasmtime as f64,
        sizes.pulley
    );
    let throughput: Vec<String> = Peer::ALL
        .iter()
        .filter_map(|p| {
            let e = results.get(group::COMPILE, p.name())?;
            Some(format!(
                "{} {:.2} MB/s",
                p.name(),
                mb(sizes.wasm) / (e.mean * 1e-9)
            ))
        })
        .collect();
    if !throughput.is_empty() {
        let _ = writeln!(out, "Compile throughput: {}.", throughput.join(", "));
    }
    let cmc = Peer::Cmc.name();
    if let (Some(compile), Some(load)) = (
        results.get(group::COMPILE, cmc),
        results.get(group::LOAD, cmc),
    ) {
        let _ = writeln!(
            out,
            "cmc: loading the artifact file, instantiating and calling once takes {} against \
             {} to compile from wasm ({:.0}× faster).",
            time(load.mean),
            time(compile.mean),
            compile.mean / load.mean
        );
        if let Some(unchecked) = results.get(group::LOAD, group::UNCHECKED_LOAD) {
            let _ = writeln!(
                out,
                "Of that, checking the artifact's checksum takes {}: {} with \
                 `Module::load_file_unchecked`.",
                time(load.mean - unchecked.mean),
                time(unchecked.mean),
            );
        }
    }
    out
}

fn mb(bytes: usize) -> f64 {
    bytes as f64 / 1e6
}

fn geomean(values: &[f64]) -> Option<f64> {
    (!values.is_empty())
        .then(|| (values.iter().map(|v| v.ln()).sum::<f64>() / values.len() as f64).exp())
}

/// `1.23 ms ±0.8%`.
pub fn cell(e: Estimate) -> String {
    let spread = (e.upper - e.lower) / 2.0 / e.mean * 100.0;
    format!("{} ±{spread:.1}%", time(e.mean))
}

/// Nanoseconds with three significant digits and a fitting unit.
fn time(ns: f64) -> String {
    let (value, unit) = match ns {
        n if n < 1e3 => (n, "ns"),
        n if n < 1e6 => (n / 1e3, "µs"),
        n if n < 1e9 => (n / 1e6, "ms"),
        n => (n / 1e9, "s"),
    };
    let digits = match value {
        v if v < 10.0 => 2,
        v if v < 100.0 => 1,
        _ => 0,
    };
    format!("{value:.digits$} {unit}")
}

/// The machine, for the report's header: processor count and CPU model.
pub fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cpus} CPUs (nproc), {model}")
}

/// Prints the report of `cargo bench -p cmc-benches --bench BENCH`,
/// `tables` and `notes` under a line naming the machine, the date and the
/// command, and writes it to `<criterion>/FILE`.
pub fn publish(bench: &str, file: &str, tables: &str, notes: &[String]) -> Result<()> {
    let text = format!(
        "Machine: {}. Date: {}. Command: `cargo bench -p cmc-benches --bench {bench}`.\n\n{tables}\n{}\n",
        machine(),
        today(),
        notes.join("\n"),
    );
    println!("\n{text}");
    let path = criterion_dir()?.join(file);
    std::fs::write(&path, &text).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("report written to {}", path.display());
    Ok(())
}

/// Today's date (UTC) as `YYYY-MM-DD`, from the days since 1970 by the
/// usual civil-calendar conversion (no date library needed for one line).
pub fn today() -> String {
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_spread() {
        assert_eq!(time(12.345), "12.3 ns");
        assert_eq!(time(1_234_567.0), "1.23 ms");
        let e = Estimate {
            mean: 100.0,
            lower: 99.0,
            upper: 101.0,
        };
        assert_eq!(cell(e), "100 ns ±1.0%");
    }

    #[test]
    fn ratios_and_goals() {
        let mut r = Results::default();
        let e = |mean| Estimate {
            mean,
            lower: mean * 0.99,
            upper: mean * 1.01,
        };
        r.insert("calls", "cmc", e(60.0));
        r.insert("calls", "wasmtime", e(100.0));
        r.insert("calls", "wasmi", e(1000.0));
        let sizes = Sizes {
            wasm: 1,
            cmc: 1,
            wasmtime: 1,
            pulley: 1,
        };
        let text = render(&r, &sizes);
        assert!(text.contains("| 0.60 |"), "{text}");
        assert!(text.contains("call-heavy (`calls`) cmc/wasmtime ≤ 0.7: 0.60 — met"));
        assert!(text.contains("geometric mean of wasmi/cmc): 16.67 — met"));
    }
}
