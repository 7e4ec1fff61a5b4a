//! The workloads: wasm modules written as WAT beside the benchmarks
//! (`benches/wat/`), each exporting `run(i32) -> i64` that returns a
//! checksum, so every engine's answer can be compared before it is timed.

use anyhow::{Context, Result};

/// One module and the argument its `run` export is benchmarked with.
#[derive(Clone, Copy, Debug)]
pub struct Workload {
    /// Short name, also the criterion group.
    pub name: &'static str,
    /// What is measured, for the report.
    pub about: &'static str,
    /// The module's text.
    pub wat: &'static str,
    /// Argument of `run` when benchmarked.
    pub arg: i32,
}

impl Workload {
    /// The module's binary.
    pub fn wasm(&self) -> Result<Vec<u8>> {
        wat::parse_str(self.wat).with_context(|| format!("parsing {}.wat", self.name))
    }
}

/// Compute kernels: the geometric mean of their ratios is the headline.
/// Arguments are sized so cmc takes around a millisecond per call, which
/// keeps the interpreters' runs short enough for the whole suite.
pub const COMPUTE: [Workload; 6] = [
    Workload {
        name: "fib",
        about: "recursive fib(25)",
        wat: include_str!("../wat/fib.wat"),
        arg: 25,
    },
    Workload {
        name: "sieve",
        about: "sieve of Eratosthenes below 1,000,000",
        wat: include_str!("../wat/sieve.wat"),
        arg: 1_000_000,
    },
    Workload {
        name: "matmul",
        about: "f64 matrix multiply 96×96",
        wat: include_str!("../wat/matmul.wat"),
        arg: 96,
    },
    Workload {
        name: "fnv1a",
        about: "FNV-1a 64 over 1 MiB",
        wat: include_str!("../wat/fnv.wat"),
        arg: 1 << 20,
    },
    Workload {
        name: "memops",
        about: "memory.copy + memory.fill, 20,000 rounds",
        wat: include_str!("../wat/memops.wat"),
        arg: 20_000,
    },
    Workload {
        name: "calls",
        about: "call_indirect + direct calls, 250,000 rounds",
        wat: include_str!("../wat/calls.wat"),
        arg: 250_000,
    },
];

/// SIMD kernels written with `v128`, kept apart from [`COMPUTE`] so that
/// the headline stays comparable across runs; the goal is cmc at least as
/// fast as wasmtime on them.
pub const SIMD: [Workload; 3] = [
    Workload {
        name: "simd-dot",
        about: "i32x4 dot product of 16,384 elements, 100 rounds",
        wat: include_str!("../wat/simd_dot.wat"),
        arg: 100,
    },
    Workload {
        name: "simd-search",
        about: "i8x16 byte search over 1 MiB, 16 needles",
        wat: include_str!("../wat/simd_search.wat"),
        arg: 16,
    },
    Workload {
        name: "simd-hash",
        about: "i32x4 multiply-rotate hash of 1 MiB",
        wat: include_str!("../wat/simd_hash.wat"),
        arg: 1 << 20,
    },
];

/// `fnv1a` on a 64-bit memory, beside the compute workloads: what memory64's
/// explicitly checked `i64` addresses cost over the guard region of
/// [`COMPUTE`]'s `fnv1a` (the report gives the ratio per engine).
pub const MEMORY64: Workload = Workload {
    name: "fnv1a-memory64",
    about: "FNV-1a 64 over 1 MiB of a 64-bit memory",
    wat: include_str!("../wat/fnv64.wat"),
    arg: 1 << 20,
};

/// The host↔wasm module: `nop` for host→wasm, `run(n)` makes n calls to the
/// empty host import for wasm→host.
pub const HOST: Workload = Workload {
    name: "host",
    about: "host↔wasm calls",
    wat: include_str!("../wat/host.wat"),
    arg: 10_000,
};

/// Calls one component makes into another in each `run-inc`/`run-len` of
/// `wat/compose.wat`.
pub const COMPOSE_CALLS: u32 = 1000;

/// A module with a memory, a table, globals and data segments.
pub const INSTANTIATE: Workload = Workload {
    name: "instantiate",
    about: "new store + instantiate",
    wat: include_str!("../wat/instantiate.wat"),
    arg: 5,
};

/// Seed and minimum size of the generated module for compile and load.
pub const LARGE_SEED: u64 = 0x00c0_ffee;
/// Several megabytes, as a mid-sized real application.
pub const LARGE_BYTES: usize = 3 << 20;
/// Argument of `run` on the generated module.
pub const LARGE_ARG: i32 = 12345;
