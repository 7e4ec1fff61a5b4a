//! WASI for cmc: the `wasi:cli/command` world of WASI 0.2 as host functions
//! and host resources on the component [`Linker`], sandboxed with cap-std.
//!
//! This crate depends on `cmc-runtime` only, so a host that runs
//! precompiled artifacts links no compiler:
//!
//! ```no_run
//! use cmc_runtime::component::{Component, Linker};
//! use cmc_runtime::{Config, Engine, Store};
//! use cmc_wasi::{DirPerms, FilePerms, WasiCtx};
//!
//! let engine = Engine::new(Config::default());
//! // SAFETY: the artifact was written by `cmc build`.
//! let component = unsafe { Component::load_file(&engine, "app.cmc")? };
//! let mut linker = Linker::new();
//! cmc_wasi::add_to_linker(&mut linker);
//! let ctx = WasiCtx::builder()
//!     .arg("app")
//!     .inherit_stdio()
//!     .preopened_dir(".", ".", DirPerms::ALL, FilePerms::ALL)?
//!     .build();
//! let mut store = Store::new(&engine, ctx);
//! let instance = linker.instantiate(&mut store, &component)?;
//! let status = cmc_wasi::run(&mut store, &instance)?;
//! std::process::exit(status);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Every interface is defined at version [`WASI_VERSION`]; the runtime's
//! linker matches a component's imports of any `0.2.x` to it.
//!
//! Core modules built for `wasm32-wasip1` get [`preview1`] on the core
//! [`Linker`](cmc_runtime::Linker), on the same [`WasiCtx`]:
//! `cmc_wasi::preview1::add_to_linker(&mut linker)`, then call `_start`;
//! `proc_exit(n)` ends the call with [`I32Exit`]`(n)`.

#![deny(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod cli;
mod clocks;
mod ctx;
mod filesystem;
mod host;
pub mod io;
pub mod preview1;
mod random;
mod run;
mod sockets;
mod stdio;
mod table;
mod val;

pub use cli::I32Exit;
pub use ctx::{DirPerms, FilePerms, NetworkPolicy, WasiCtx, WasiCtxBuilder};
pub use host::{WASI_VERSION, WasiView};
pub use run::run;
pub use stdio::{MemoryOutputPipe, OutputSink, StdinSource};
pub use table::{Rep, ResourceTable};

use cmc_runtime::component::Linker;

/// Adds every interface of the `wasi:cli/command` world's imports to
/// `linker`.
pub fn add_to_linker<T: WasiView>(linker: &mut Linker<T>) {
    cli::add_to_linker(linker);
    io::add_to_linker(linker);
    clocks::add_to_linker(linker);
    random::add_to_linker(linker);
    filesystem::add_to_linker(linker);
    sockets::add_to_linker(linker);
}
