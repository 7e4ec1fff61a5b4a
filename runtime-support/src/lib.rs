//! The cmc runtime: loads artifacts written by the cmc compiler and runs them.
//!
//! This crate never depends on a compiler. An [`Engine`] built with
//! [`Engine::new`] loads precompiled artifacts only; give it a
//! [`Compiler`] (as `cmc-compiler` does) to also accept `.wasm`/`.wat`.
//!
//! ```no_run
//! use cmc_runtime::{Config, Engine, Linker, Module, Store, Val};
//! let engine = Engine::new(Config::default());
//! // SAFETY: `fib.cmc` was written by `cmc build` from a trusted module.
//! let module = unsafe { Module::load_file(&engine, "fib.cmc") }?;
//! let mut store = Store::new(&engine, ());
//! let instance = Linker::new().instantiate(&mut store, &module)?;
//! let fib = instance.get_func(&store, "fib").expect("export `fib`");
//! let mut result = [Val::I32(0)];
//! fib.call(&mut store, &[Val::I32(20)], &mut result)?;
//! # Ok::<(), cmc_runtime::Error>(())
//! ```

#![deny(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]

// The layers, bottom up; nothing imports upward (`tests/layering.rs`
// checks it): `abi` is the contract with the compiler; `vm`, `artifact`,
// `trap` and `canon` (the canonical ABI) build on it; `api` is the
// embedding API on top.
pub mod abi;
mod api;
mod artifact;
mod canon;
mod trap;
mod vm;

/// Components: the canonical ABI (value types, layout, flattening, lifting
/// and lowering, handle tables) and the component embedding API.
///
/// The canonical ABI follows `CanonicalABI.md`'s `definitions.py`; see the
/// `canon` layer's module docs. The embedding API ([`Component`],
/// [`Linker`], [`Instance`], [`Func`]) loads components, links host
/// functions by interface name, instantiates and calls exports.
pub mod component {
    pub use crate::api::component::{
        Call, CallKind, Component, Func, HostFuture, HostReader, HostWriter, Instance, Interceptor,
        Linker, LinkerInstance, Resumption, TypedFunc,
    };
    pub use crate::canon::*;
    /// `#[derive(ComponentType)]` for records, variants, enums and flags
    /// (see the `cmc-derive` crate).
    pub use cmc_derive::ComponentType;
}

pub use abi::{
    CompileSettings, EntityType, FuncType, GlobalType, Limits, MemoryType, OptLevel, TableType,
    TrapKind, ValType,
};
pub use api::*;
