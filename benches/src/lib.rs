//! Benchmarks of cmc against its peers, in one run: wasmtime on the same
//! Cranelift, wasmtime's Pulley interpreter, and the wasmi interpreter.
//!
//! The benchmark binary (`benches/peers.rs`) drives criterion; this library
//! holds what it and its tests share: the workloads ([`workloads`], WAT in
//! `wat/`, plus the generated [`large`] module), the engines set up alike
//! ([`engines`]), the agreement check every result must pass before it is
//! timed ([`check`]), and the [`report`] table. See `README.md` for the
//! command and the latest figures.

pub mod engines;
pub mod large;
pub mod report;
pub mod workloads;

use anyhow::{Result, bail};
use engines::{Api, Engines, Peer};
use std::path::{Path, PathBuf};
use workloads::{COMPUTE, HOST, INSTANTIATE, MEMORY64, SIMD};

/// Runs `run(arg)` of `wasm` once on a fresh instance of every engine (and
/// through both APIs) and returns the common answer, or fails listing every
/// engine's answer if they differ. A benchmark whose engines disagree
/// measures nothing comparable, so the suite refuses to run then.
pub fn check(engines: &Engines, name: &str, wasm: &[u8], arg: i32) -> Result<i64> {
    let mut answers = Vec::new();
    for peer in Peer::ALL {
        let compiled = engines.compile(peer, wasm)?;
        for api in Api::BOTH {
            let answer = compiled.instantiate_run(api)?(arg)?;
            answers.push((format!("{}/{}", peer.name(), api.name()), answer));
        }
    }
    let first = answers[0].1;
    if answers.iter().any(|&(_, a)| a != first) {
        bail!("engines disagree on `{name}` run({arg}): {answers:?}");
    }
    Ok(first)
}

/// [`check`]s every WAT workload (compute kernels, the host-call module and
/// the instantiation module), returning each answer.
pub fn check_all(engines: &Engines) -> Result<Vec<(&'static str, i64)>> {
    COMPUTE
        .into_iter()
        .chain(SIMD)
        .chain([MEMORY64, HOST, INSTANTIATE])
        .map(|w| Ok((w.name, check(engines, w.name, &w.wasm()?, w.arg)?)))
        .collect()
}

/// The executable `name` (`cmc` or `wasmtime`) the whole-process benchmarks
/// run: `$CMC`/`$WASMTIME`, else cmc in this build's target directory
/// (`<target>/release/cmc`, beside `deps/` where the benchmark runs) and
/// wasmtime on `$PATH` or in `~/.cargo/bin`.
pub fn find_exe(name: &str) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(name.to_uppercase()) {
        return Some(PathBuf::from(path)).filter(|p| p.is_file());
    }
    let candidates: Vec<PathBuf> = if name == "cmc" {
        let exe = std::env::current_exe().ok()?;
        vec![exe.ancestors().nth(2)?.join("cmc")]
    } else {
        let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect())
            .unwrap_or_default();
        dirs.extend(std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo/bin")));
        dirs.into_iter().map(|d| d.join(name)).collect()
    };
    candidates.into_iter().find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every engine agrees on every workload, with answers known from
    /// outside wasm where there is one.
    #[test]
    fn engines_agree() {
        let engines = Engines::new().unwrap();
        let answers: std::collections::HashMap<_, _> =
            check_all(&engines).unwrap().into_iter().collect();
        assert_eq!(answers["fib"], 75025);
        assert_eq!(answers["sieve"], 78498);
        assert_eq!(answers["host"], i64::from(HOST.arg));
    }

    #[test]
    fn large_module_agrees() {
        let engines = Engines::new().unwrap();
        let wasm = large::module(workloads::LARGE_SEED, 300_000);
        check(&engines, "large", &wasm, workloads::LARGE_ARG).unwrap();
    }
}
