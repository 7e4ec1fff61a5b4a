//! Per-instance runtime state and its VM context.

use super::memory::Memory;
use super::table::Table;
use super::{VMFuncImport, VMFuncRef, VMGlobalDefinition, VMStoreContext};
use crate::abi::{
    DataIndex, ElemIndex, EntityRef, FuncIndex, GlobalIndex, MemoryIndex, ModuleMeta, PrimaryMap,
    SignatureId, TableIndex, VMOffsets,
};
use std::alloc::Layout;
use std::ffi::c_void;
use std::ptr::NonNull;
use std::sync::Arc;

/// What an instance needs of the module it instantiates: the embedding
/// API's `Module` provides it, so that this layer does not depend on the
/// API (nor on how artifacts are loaded).
pub(crate) trait ModuleRuntimeInfo: Send + Sync {
    /// The module's metadata.
    fn meta(&self) -> &ModuleMeta;
    /// The engine-wide signature id of each of the module's types, by type
    /// index (compiled code reads them for `call_indirect`).
    fn signature_ids(&self) -> &[SignatureId];
    /// The bytes of data segment `index`.
    fn data_segment(&self, index: DataIndex) -> &[u8];
}

/// The zeroed, 16-byte aligned allocation a VM context lives in.
pub(crate) struct VMContextAlloc {
    ptr: NonNull<u8>,
    layout: Layout,
}

impl VMContextAlloc {
    fn new(size: usize) -> VMContextAlloc {
        let layout = Layout::from_size_align(size.max(16), 16).expect("vmctx layout");
        // SAFETY: the layout has a non-zero size.
        let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
        let ptr = NonNull::new(ptr).unwrap_or_else(|| std::alloc::handle_alloc_error(layout));
        VMContextAlloc { ptr, layout }
    }
}

impl Drop for VMContextAlloc {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { std::alloc::dealloc(self.ptr.as_ptr(), self.layout) }
    }
}

/// Everything an instance owns beyond what the store owns for it.
pub(crate) struct InstanceData {
    pub module: Arc<dyn ModuleRuntimeInfo>,
    pub offsets: VMOffsets,
    vmctx: VMContextAlloc,
    /// Every memory by index (imported first), owned by the store.
    pub memories: PrimaryMap<MemoryIndex, *const Memory>,
    /// Every table by index (imported first), owned by the store.
    pub tables: PrimaryMap<TableIndex, *mut Table>,
    /// Store indices of the memories and tables, for exports.
    pub memory_ids: PrimaryMap<MemoryIndex, usize>,
    pub table_ids: PrimaryMap<TableIndex, usize>,
    /// Passive data segments dropped so far.
    pub dropped_data: PrimaryMap<DataIndex, bool>,
    /// Evaluated element segments; emptied when dropped.
    pub elements: PrimaryMap<ElemIndex, Vec<usize>>,
    /// Position in the store's instance list.
    pub index: usize,
}

impl InstanceData {
    /// Allocates the VM context and fills its header.
    pub(crate) fn new(
        module: Arc<dyn ModuleRuntimeInfo>,
        store_ctx: *mut VMStoreContext,
    ) -> Box<InstanceData> {
        let offsets = module.meta().offsets();
        let vmctx = VMContextAlloc::new(offsets.size() as usize);
        let mut data = Box::new(InstanceData {
            module,
            offsets,
            vmctx,
            memories: PrimaryMap::new(),
            tables: PrimaryMap::new(),
            memory_ids: PrimaryMap::new(),
            table_ids: PrimaryMap::new(),
            dropped_data: PrimaryMap::new(),
            elements: PrimaryMap::new(),
            index: usize::MAX,
        });
        let me: *mut InstanceData = &mut *data;
        // SAFETY: the header slots are inside the allocation and suitably
        // aligned; the pointers stored outlive the instance (the store owns
        // the context, the module owns the type ids, builtins are static).
        unsafe {
            data.write(VMOffsets::STORE_CTX, store_ctx);
            data.write(VMOffsets::BUILTINS, super::builtins::table());
            data.write(VMOffsets::TYPE_IDS, data.module.signature_ids().as_ptr());
            data.write(VMOffsets::INSTANCE, me);
        }
        data
    }

    /// The VM context pointer compiled code receives.
    pub(crate) fn vmctx(&self) -> *mut c_void {
        self.vmctx.ptr.as_ptr().cast()
    }

    /// Writes `value` at `offset` in the VM context.
    ///
    /// # Safety
    ///
    /// `offset` must be a slot of type `T` in this module's layout.
    pub(crate) unsafe fn write<T>(&self, offset: u32, value: T) {
        // SAFETY: per the contract, in bounds and aligned.
        unsafe {
            self.vmctx
                .ptr
                .as_ptr()
                .add(offset as usize)
                .cast::<T>()
                .write(value)
        }
    }

    /// A pointer to the slot at `offset`.
    pub(crate) fn slot<T>(&self, offset: u32) -> *mut T {
        debug_assert!(offset < self.offsets.size());
        // SAFETY: offsets come from this module's layout, inside the allocation.
        unsafe { self.vmctx.ptr.as_ptr().add(offset as usize).cast() }
    }

    /// The import record of imported function `index`.
    pub(crate) fn func_import(&self, index: FuncIndex) -> *mut VMFuncImport {
        self.slot(self.offsets.func_import(index))
    }

    /// The `VMFuncRef` of function `index`, imported or defined.
    pub(crate) fn func_ref(&self, index: FuncIndex) -> *const VMFuncRef {
        let meta = self.module.meta();
        if meta.is_imported_func(index) {
            // SAFETY: import records are filled before any code runs.
            unsafe { (*self.func_import(index)).func_ref }
        } else {
            let slot = meta.func_ref_slots[index];
            let slot = slot.unwrap_or_else(|| panic!("function {index} has no func ref"));
            self.slot(self.offsets.func_ref(slot))
        }
    }

    /// The storage of global `index`, imported or defined.
    pub(crate) fn global(&self, index: GlobalIndex) -> *mut VMGlobalDefinition {
        if index.index() < self.offsets.num_imported_globals as usize {
            // SAFETY: imported global pointers are filled at instantiation.
            unsafe { *self.slot::<*mut VMGlobalDefinition>(self.offsets.imported_global(index)) }
        } else {
            self.slot(self.offsets.defined_global(index))
        }
    }

    /// Recovers the instance from a VM context pointer.
    ///
    /// # Safety
    ///
    /// `vmctx` must be the context of a live instance.
    pub(crate) unsafe fn from_vmctx<'a>(vmctx: *mut c_void) -> &'a mut InstanceData {
        // SAFETY: the back-pointer was written in `new`.
        unsafe {
            &mut **vmctx
                .cast::<u8>()
                .add(VMOffsets::INSTANCE as usize)
                .cast::<*mut InstanceData>()
        }
    }
}
