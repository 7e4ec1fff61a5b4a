//! Layout of the VM context and of the small structs compiled code reads.
//!
//! A VM context (`vmctx`) is one allocation per instance. Compiled code gets
//! a pointer to it as its first argument and reaches everything the instance
//! owns or imports from it. Its layout depends only on the counts in the
//! module's [`ModuleMeta`](super::ModuleMeta):
//!
//! ```text
//! 0   *mut VMStoreContext            store-wide state (stack limit)
//! 8   *const builtins                table of runtime helper pointers
//! 16  *const u32                     engine-wide signature id per type index
//! 24  *mut Instance                  back-pointer for the runtime helpers
//! 32  [VMFuncImport; imported funcs]
//!     [*mut VMTableDefinition; tables]
//!     [*mut VMMemoryDefinition; memories]
//!     [*mut u8; memories]            memory base addresses (never move)
//!     [*mut VMGlobalDefinition; imported globals]
//!     [VMGlobalDefinition; defined globals]   (16-byte aligned)
//!     [VMFuncRef; escaping functions]
//! ```
//!
//! Only 64-bit targets are supported, so every pointer is 8 bytes.

use super::{FuncIndex, FuncRefIndex, GlobalIndex, MemoryIndex, TableIndex};

/// Size of a pointer on every supported target.
pub const PTR_SIZE: u32 = 8;

/// Offset of the stack limit in `VMStoreContext`.
pub const STORE_CTX_STACK_LIMIT: u32 = 0;

/// Offset of the pointer to the engine's epoch counter (a `u64`) in
/// `VMStoreContext`.
pub const STORE_CTX_EPOCH: u32 = 16;

/// Offset of the store's epoch deadline (a `u64`) in `VMStoreContext`:
/// code built with epoch interruption traps once the counter reaches it.
pub const STORE_CTX_EPOCH_DEADLINE: u32 = 24;

/// Offset of the store's remaining fuel (an `i64`) in `VMStoreContext`:
/// code built with fuel metering subtracts what it runs and traps below 0.
pub const STORE_CTX_FUEL: u32 = 32;

/// `VMFuncRef`: how to call a function from the host (`array_call`), from
/// compiled code (`wasm_call`), with which context, and its signature id.
pub mod func_ref {
    /// Offset of the array-call entry point.
    pub const ARRAY_CALL: u32 = 0;
    /// Offset of the native wasm-convention entry point.
    pub const WASM_CALL: u32 = 8;
    /// Offset of the callee's context pointer.
    pub const VMCTX: u32 = 16;
    /// Offset of the engine-wide signature id (`u32`).
    pub const TYPE_ID: u32 = 24;
    /// Size of the struct (a runtime-only signature pointer follows the id).
    pub const SIZE: u32 = 40;
}

/// `VMFuncImport`: an imported function as its importer calls it.
pub mod func_import {
    /// Offset of the native wasm-convention entry point.
    pub const WASM_CALL: u32 = 0;
    /// Offset of the callee's context pointer.
    pub const VMCTX: u32 = 8;
    /// Offset of the pointer to the callee's `VMFuncRef` (for `ref.func`).
    pub const FUNC_REF: u32 = 16;
    /// Size of the struct.
    pub const SIZE: u32 = 24;
}

/// `VMMemoryDefinition`: where a linear memory is and how long it is now.
pub mod memory_def {
    /// Offset of the base address.
    pub const BASE: u32 = 0;
    /// Offset of the current length in bytes (`usize`).
    pub const LENGTH: u32 = 8;
}

/// `VMTableDefinition`: a table's element array and its length.
pub mod table_def {
    /// Offset of the element array pointer.
    pub const BASE: u32 = 0;
    /// Offset of the element count (`u32`).
    pub const LENGTH: u32 = 8;
    /// Size of one element (a pointer or an externref token).
    pub const ELEM_SIZE: u32 = 8;
}

/// Size of one global's storage.
pub const GLOBAL_SIZE: u32 = 16;

/// Offset of the host function pointer in a host function's context, which
/// plays the role of the callee vmctx when compiled code calls the host.
pub const HOST_CTX_ARRAY_CALL: u32 = 0;

/// Size of one value slot in the array-call convention.
pub const VAL_RAW_SIZE: u32 = 16;

/// Offsets into the VM context of one module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VMOffsets {
    /// Imported functions.
    pub num_imported_funcs: u32,
    /// All tables, imported first.
    pub num_tables: u32,
    /// All memories, imported first.
    pub num_memories: u32,
    /// Imported globals.
    pub num_imported_globals: u32,
    /// Globals defined by the module.
    pub num_defined_globals: u32,
    /// Functions whose `VMFuncRef` the instance must provide.
    pub num_func_refs: u32,
    func_imports: u32,
    tables: u32,
    memories: u32,
    memory_bases: u32,
    imported_globals: u32,
    defined_globals: u32,
    func_refs: u32,
    size: u32,
}

impl VMOffsets {
    /// Offset of the `*mut VMStoreContext`.
    pub const STORE_CTX: u32 = 0;
    /// Offset of the builtins table pointer.
    pub const BUILTINS: u32 = 8;
    /// Offset of the signature-id array pointer.
    pub const TYPE_IDS: u32 = 16;
    /// Offset of the instance back-pointer.
    pub const INSTANCE: u32 = 24;

    /// Computes the layout for the given counts.
    pub fn new(
        num_imported_funcs: u32,
        num_tables: u32,
        num_memories: u32,
        num_imported_globals: u32,
        num_defined_globals: u32,
        num_func_refs: u32,
    ) -> VMOffsets {
        let func_imports = 32;
        let tables = func_imports + num_imported_funcs * func_import::SIZE;
        let memories = tables + num_tables * PTR_SIZE;
        let memory_bases = memories + num_memories * PTR_SIZE;
        let imported_globals = memory_bases + num_memories * PTR_SIZE;
        let defined_globals =
            (imported_globals + num_imported_globals * PTR_SIZE).next_multiple_of(16);
        let func_refs = defined_globals + num_defined_globals * GLOBAL_SIZE;
        let size = func_refs + num_func_refs * func_ref::SIZE;
        VMOffsets {
            num_imported_funcs,
            num_tables,
            num_memories,
            num_imported_globals,
            num_defined_globals,
            num_func_refs,
            func_imports,
            tables,
            memories,
            memory_bases,
            imported_globals,
            defined_globals,
            func_refs,
            size,
        }
    }

    /// Offset of the `VMFuncImport` of imported function `index`.
    pub fn func_import(&self, index: FuncIndex) -> u32 {
        debug_assert!(index.as_u32() < self.num_imported_funcs);
        self.func_imports + index.as_u32() * func_import::SIZE
    }

    /// Offset of the `*mut VMTableDefinition` of table `index`.
    pub fn table(&self, index: TableIndex) -> u32 {
        debug_assert!(index.as_u32() < self.num_tables);
        self.tables + index.as_u32() * PTR_SIZE
    }

    /// Offset of the `*mut VMMemoryDefinition` of memory `index`.
    pub fn memory(&self, index: MemoryIndex) -> u32 {
        debug_assert!(index.as_u32() < self.num_memories);
        self.memories + index.as_u32() * PTR_SIZE
    }

    /// Offset of the cached base address of memory `index`.
    pub fn memory_base(&self, index: MemoryIndex) -> u32 {
        debug_assert!(index.as_u32() < self.num_memories);
        self.memory_bases + index.as_u32() * PTR_SIZE
    }

    /// Offset of the `*mut VMGlobalDefinition` of imported global `index`.
    pub fn imported_global(&self, index: GlobalIndex) -> u32 {
        debug_assert!(index.as_u32() < self.num_imported_globals);
        self.imported_globals + index.as_u32() * PTR_SIZE
    }

    /// Offset of the storage of defined global `index`.
    pub fn defined_global(&self, index: GlobalIndex) -> u32 {
        let defined = index.as_u32() - self.num_imported_globals;
        debug_assert!(defined < self.num_defined_globals);
        self.defined_globals + defined * GLOBAL_SIZE
    }

    /// Offset of the `VMFuncRef` in slot `slot`.
    pub fn func_ref(&self, slot: FuncRefIndex) -> u32 {
        debug_assert!(slot.as_u32() < self.num_func_refs);
        self.func_refs + slot.as_u32() * func_ref::SIZE
    }

    /// Total size of the VM context in bytes.
    pub fn size(&self) -> u32 {
        self.size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_do_not_overlap() {
        let o = VMOffsets::new(2, 1, 1, 1, 3, 2);
        let (t0, m0) = (TableIndex::from_u32(0), MemoryIndex::from_u32(0));
        let global = GlobalIndex::from_u32;
        let slot = FuncRefIndex::from_u32;
        assert_eq!(o.func_import(FuncIndex::from_u32(0)), 32);
        assert_eq!(o.table(t0), 32 + 2 * 24);
        assert_eq!(o.memory(m0), o.table(t0) + 8);
        assert_eq!(o.memory_base(m0), o.memory(m0) + 8);
        assert_eq!(o.imported_global(global(0)), o.memory_base(m0) + 8);
        assert_eq!(o.defined_global(global(1)) % 16, 0);
        assert!(o.defined_global(global(1)) >= o.imported_global(global(0)) + 8);
        assert_eq!(o.func_ref(slot(0)), o.defined_global(global(3)) + 16);
        assert_eq!(o.size(), o.func_ref(slot(1)) + func_ref::SIZE);
    }
}
