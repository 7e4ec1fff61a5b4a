//! What lifting and lowering need from the outside world: the `LiftLowerContext`
//! of `CanonicalABI.md` ("Lifting and Lowering Context"), split in the part
//! that reads (lifting) and the part that writes and allocates (lowering).
//!
//! The runtime implements these over an instance's linear memory, its
//! `realloc` export and its handle table; tests implement them over a byte
//! vector with a bump allocator. Keeping them as traits leaves this code free
//! of raw pointers and of any knowledge of stores or calls.

use super::error::CanonError;
use super::string::StringSource;
use super::types::{InterfaceType, PtrType, ResourceTypeId, StringEncoding};
use super::values::{ResourceVal, SharedVal, Val};

/// Read access for lifting values out of a component instance.
pub trait LiftContext {
    /// Errors of the context's own operations (a trap in wasm, a host
    /// failure); canonical-ABI traps convert into it.
    type Error: From<CanonError>;

    /// The linear memory of the `memory` canonical option; empty if there is
    /// none (then any pointer traps as out of bounds).
    fn memory(&self) -> &[u8];

    /// The `string-encoding` canonical option.
    fn string_encoding(&self) -> StringEncoding;

    /// The address type of the `memory` option.
    fn ptr_type(&self) -> PtrType;

    /// Lifts an `own<ty>` from handle `index` (spec `lift_own`): removes the
    /// handle from the instance's table, checking its type, that it is owned
    /// and not lent (see [`HandleTable::take_own`](super::HandleTable::take_own)),
    /// and gives the host a value for the resource.
    fn lift_own(&mut self, ty: ResourceTypeId, index: u32) -> Result<ResourceVal, Self::Error>;

    /// Lifts a `borrow<ty>` from handle `index` (spec `lift_borrow`): checks
    /// the handle and lends it for the duration of the call (see
    /// [`HandleTable::lend`](super::HandleTable::lend)).
    fn lift_borrow(&mut self, ty: ResourceTypeId, index: u32) -> Result<ResourceVal, Self::Error>;

    /// Lifts a `stream<T>` or `future<T>` (spec `lift_stream`,
    /// `lift_future`: moves the readable end at `index` out of the
    /// instance's table) or an `error-context` (`lift_error_context`: the
    /// handle stays), of type `ty`. A context that cannot hold them (one
    /// without a store) refuses them by name.
    fn lift_shared(&mut self, ty: &InterfaceType, index: u32) -> Result<Val, Self::Error> {
        let _ = index;
        Err(CanonError::SharedValueUnsupported(ty.to_string()).into())
    }

    /// Sees where each string lifted came from, in lifting order: a
    /// context that passes its values on to another component's lowering
    /// keeps them for it ([`LowerContext::string_source`]).
    fn lifted_string(&mut self, _source: StringSource) {}
}

/// Write access and allocation for lowering values into a component instance.
pub trait LowerContext {
    /// Errors of the context's own operations (a trap in `realloc`, a host
    /// failure); canonical-ABI traps convert into it.
    type Error: From<CanonError>;

    /// The linear memory of the `memory` canonical option; empty if there is
    /// none. Fetched again after every `realloc`, which may grow it.
    fn memory(&mut self) -> &mut [u8];

    /// The `string-encoding` canonical option.
    fn string_encoding(&self) -> StringEncoding;

    /// The address type of the `memory` option: of `realloc`'s parameters
    /// and result too.
    fn ptr_type(&self) -> PtrType;

    /// Calls the instance's `realloc(old_ptr, old_size, align, new_size)`
    /// and returns its result unchecked; the caller checks alignment and
    /// bounds as the spec requires. `realloc(0, 0, align, size)` allocates.
    /// A context without a `realloc` option returns an error naming it.
    fn realloc(
        &mut self,
        old_ptr: u64,
        old_size: u64,
        align: u32,
        new_size: u64,
    ) -> Result<u64, Self::Error>;

    /// Lowers an owning handle (spec `lower_own`): adds an owned handle for
    /// the resource to the instance's table and returns its index.
    fn lower_own(&mut self, ty: ResourceTypeId, resource: ResourceVal) -> Result<u32, Self::Error>;

    /// Lowers a borrow (spec `lower_borrow`): returns the representation if
    /// the instance implements `ty`, else adds a borrow handle scoped to the
    /// current call and returns its index.
    fn lower_borrow(
        &mut self,
        ty: ResourceTypeId,
        resource: ResourceVal,
    ) -> Result<u32, Self::Error>;

    /// Lowers a `stream<T>`, `future<T>` or `error-context` of type `ty`
    /// (spec `lower_stream`, `lower_future`, `lower_error_context`): adds a
    /// handle to it to the instance's table and returns its index.
    fn lower_shared(&mut self, ty: &InterfaceType, value: SharedVal) -> Result<u32, Self::Error> {
        let _ = value;
        Err(CanonError::SharedValueUnsupported(ty.to_string()).into())
    }

    /// Where the string `s` being lowered came from, in lowering order: a
    /// host string unless the context lowers what another component's
    /// lifting saw ([`LiftContext::lifted_string`]).
    fn string_source(&mut self, s: &str) -> StringSource {
        StringSource::host(s)
    }
}
