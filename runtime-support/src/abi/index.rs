//! Typed indices: one `u32` newtype per kind of entity the compiler and the
//! runtime number, so that passing a memory index where a table index is
//! due, or a core instance where a component instance is due, is a compile
//! error. Maps keyed by them are [`PrimaryMap`]s.
//!
//! Core-module indices number the module's own index spaces, imported items
//! first, as the core spec does. Plan indices number the entries of a
//! [`ComponentMeta`](super::ComponentMeta).

use cranelift_entity::entity_impl;
pub use cranelift_entity::{EntityRef, PrimaryMap};
use serde::{Deserialize, Serialize};

/// Defines each index type: a `u32` newtype with the `EntityRef`
/// conversions, stored in artifacts as its number and shown as it.
macro_rules! indices {
    ($($(#[$attr:meta])* $name:ident;)*) => {$(
        index_type!($(#[$attr])* $name);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    )*};
}

/// One index type, without `Display`.
macro_rules! index_type {
    ($(#[$attr:meta])* $name:ident) => {
        $(#[$attr])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[repr(transparent)]
        pub struct $name(u32);
        entity_impl!($name);
    };
}

indices! {
    /// A function type of a core module's type section.
    TypeIndex;
    /// A core function, imported or defined.
    FuncIndex;
    /// A function the module defines: its position among the defined
    /// functions (function index minus the imported count).
    DefinedFuncIndex;
    /// A core table, imported or defined.
    TableIndex;
    /// A core memory, imported or defined.
    MemoryIndex;
    /// A core global, imported or defined.
    GlobalIndex;
    /// A data segment.
    DataIndex;
    /// An element segment.
    ElemIndex;
    /// A `VMFuncRef` slot of the VM context: the functions that can escape
    /// as references have one.
    FuncRefIndex;
    /// A signature registered with an engine: equal ids are equal types, in
    /// every module of the engine (what `call_indirect` compares).
    SignatureId;
    /// A core module of a component artifact.
    ModuleIndex;
    /// A core instance of the plan: its position among the instances the
    /// [`Initializer`](super::Initializer)s create, in order.
    CoreInstanceIndex;
    /// A component instance of the plan (the root is 0, then nested
    /// instantiations in the order the flattening walk meets them).
    ComponentInstanceIndex;
    /// A root import of a component.
    RootImportIndex;
    /// An instance the plan makes of a component the host gives for an
    /// import (`Linker::component`).
    ImportedInstanceIndex;
    /// A host import lowered to a core function.
    LoweredIndex;
    /// A core function lifted to a component function.
    LiftedIndex;
    /// A canonical built-in (`resource.new`, `task.return`, …) lowered to
    /// a core function.
    CanonBuiltinIndex;
    /// A call into another component instance that the runtime adapts.
    AdapterIndex;
    /// The host half of a fused adapter.
    TransferIndex;
}

index_type! {
    /// A resource type, by index in the component's table of resource types.
    ///
    /// Two handles have the same resource type exactly when their ids are
    /// equal; the compiler gives every resource type definition (and every
    /// host-defined resource the component imports) its own id.
    ResourceTypeId
}

impl ResourceTypeId {
    /// The type of a handle the host makes of a resource type it defines
    /// itself ([`ResourceVal::host`](crate::canon::ResourceVal::host)). The
    /// host does not know the ids a component gave the types it imports;
    /// when such a handle is lowered, it takes the type its position in the
    /// function's type requires, which must be a host-defined type.
    pub const HOST: ResourceTypeId = ResourceTypeId(u32::MAX);
}

impl std::fmt::Display for ResourceTypeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "resource {}", self.0)
    }
}
