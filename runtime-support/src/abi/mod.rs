//! The contract between the compiler and the runtime.
//!
//! Everything compiled code and the loader must agree on is defined here,
//! once: the VM context layout ([`VMOffsets`]), the runtime helper calls
//! ([`foreach_builtin!`](crate::foreach_builtin)), trap codes ([`TrapKind`]), the metadata that
//! describes a compiled module ([`ModuleMeta`]) and the artifact header,
//! and the component interface types plans and the canonical ABI share
//! ([`interface`]).
//! The compiler imports these; it never hard-codes an offset of its own.

mod artifact;
mod builtins;
mod component;
mod index;
pub mod interface;
mod meta;
mod offsets;
mod trap;

pub use artifact::*;
pub use builtins::{BUILTIN_NAMES, Builtin};
pub use component::*;
pub use index::*;
pub use meta::*;
pub use offsets::*;
pub use trap::TrapKind;
