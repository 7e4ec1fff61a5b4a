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

pub mod abi;
mod api;
mod artifact;
pub mod component;
mod trap;
mod vm;

pub use abi::{
    CompileSettings, EntityType, FuncType, GlobalType, Limits, MemoryType, OptLevel, TableType,
    TrapKind, ValType,
};
pub use api::*;
