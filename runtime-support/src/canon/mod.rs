//! The component model's canonical ABI, as the runtime needs it for host calls.
//!
//! This folder implements the synchronous core of
//! [`design/mvp/CanonicalABI.md`](https://github.com/WebAssembly/component-model/blob/main/design/mvp/CanonicalABI.md)
//! and its executable reference `design/mvp/canonical-abi/definitions.py`:
//! the component value types ([`types`]), their memory layout ([`layout`](mod@layout)) and
//! flattening to core values ([`flatten`]), dynamic component values
//! ([`values`]), lifting ([`lift`]) and lowering ([`lower`]) through linear
//! memory and core values, strings in the three encodings ([`string`]), the
//! four whole-call entry points a host call needs ([`call`]), and the
//! per-instance resource handle tables ([`handles`]), and the memory work of
//! fused adapters' host halves (`transfer`).
//!
//! Pointers follow the options' memory ([`PtrType`]): `i32` in 32-bit
//! memories, `i64` in 64-bit ones; in this code they are `u64` either way.
//! Memory, `realloc` and the resource hooks are reached through
//! the [`LiftContext`] and [`LowerContext`] traits ([`context`]), so this code
//! never touches raw pointers and has no `unsafe`. Compiled fused adapters
//! (component-to-component calls) implement the same rules in generated code;
//! the layout and flattening functions here are the single source of truth
//! both sides share.
//!
//! Not covered yet, because the value type model has no case for them: the
//! async value types (`stream`, `future`, `error-context`), fixed-length lists
//! (`list<T, N>`) and `map`.

pub mod call;
pub mod context;
pub mod copies;
pub mod error;
pub mod flatten;
pub mod handles;
pub mod layout;
pub mod lift;
pub mod lower;
pub(crate) mod memory;
pub mod string;
pub(crate) mod transfer;
pub mod typed;
pub mod values;
pub mod waitables;

/// The interface types live with the contract (`abi`), since plans store them.
pub use crate::abi::interface as types;

#[cfg(test)]
mod tests;

pub use call::{
    Lowering, lift_params, lift_params_as, lift_results, lower_params, lower_results,
    lower_results_as, return_pointer, return_pointer_as,
};
pub use context::{LiftContext, LowerContext};
pub use error::{CanonError, ResourceDefiner};
pub use flatten::{
    CoreSignature, FlatContext, MAX_FLAT_ASYNC_PARAMS, MAX_FLAT_PARAMS, MAX_FLAT_RESULTS,
    flat_count, flatten_functype, flatten_type, flatten_types,
};
pub use handles::{Dropped, HandleTable, Lends, ResourceHandle, ScopeId, Table};
pub use layout::{Layout, alignment, elem_size, layout};
pub use string::{MAX_STRING_BYTE_LENGTH, StringSource};
pub use typed::{ComponentType, Lift, Lower};
pub use types::{FlatType, FuncType, InterfaceType, PtrType, ResourceTypeId, StringEncoding};
pub use values::{ResourceVal, SharedVal, Val};
