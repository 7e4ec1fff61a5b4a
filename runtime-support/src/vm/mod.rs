//! The run-time objects compiled code touches: VM context, memories, tables,
//! globals, function references, and the builtins it calls.
//!
//! Raw pointers live here (and in `trap/` and `artifact/`); the `api` module
//! above wraps them in safe handles.

pub(crate) mod builtins;
pub(crate) mod instance;
pub(crate) mod memory;
mod parking;
pub(crate) mod table;
mod values;
mod vmcontext;

pub use values::{ExternRef, Func, Val};

pub(crate) use vmcontext::*;
