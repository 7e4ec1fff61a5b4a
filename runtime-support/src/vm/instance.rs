//! Per-instance runtime state and its VM context.

use super::memory::Memory;
use super::table::Table;
use super::{VMFuncImport, VMFuncRef, VMGlobalDefinition, VMStoreContext};
use crate::abi::VMOffsets;
use crate::api::Module;
use std::alloc::Layout;
use std::ffi::c_void;
use std::ptr::NonNull;

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
    pub module: Module,
    pub offsets: VMOffsets,
    vmctx: VMContextAlloc,
    /// Every memory by index (imported first), owned by the store.
    pub memories: Vec<*mut Memory>,
    /// Every table by index (imported first), owned by the store.
    pub tables: Vec<*mut Table>,
    /// Store indices of the memories and tables, for exports.
    pub memory_ids: Vec<usize>,
    pub table_ids: Vec<usize>,
    /// Passive data segments dropped so far.
    pub dropped_data: Vec<bool>,
    /// Evaluated element segments; emptied when dropped.
    pub elements: Vec<Vec<usize>>,
    /// Position in the store's instance list.
    pub index: usize,
}

impl InstanceData {
    /// Allocates the VM context and fills its header.
    pub(crate) fn new(module: Module, store_ctx: *mut VMStoreContext) -> Box<InstanceData> {
        let offsets = module.artifact().meta.offsets();
        let vmctx = VMContextAlloc::new(offsets.size() as usize);
        let mut data = Box::new(InstanceData {
            module,
            offsets,
            vmctx,
            memories: Vec::new(),
            tables: Vec::new(),
            memory_ids: Vec::new(),
            table_ids: Vec::new(),
            dropped_data: Vec::new(),
            elements: Vec::new(),
            index: usize::MAX,
        });
        let me: *mut InstanceData = &mut *data;
        // SAFETY: the header slots are inside the allocation and suitably
        // aligned; the pointers stored outlive the instance (the store owns
        // the context, the module owns the type ids, builtins are static).
        unsafe {
            data.write(VMOffsets::STORE_CTX, store_ctx);
            data.write(VMOffsets::BUILTINS, super::builtins::table());
            data.write(VMOffsets::TYPE_IDS, data.module.type_ids().as_ptr());
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
    pub(crate) fn func_import(&self, index: u32) -> *mut VMFuncImport {
        self.slot(self.offsets.func_import(index))
    }

    /// The `VMFuncRef` of function `index`, imported or defined.
    pub(crate) fn func_ref(&self, index: u32) -> *const VMFuncRef {
        let meta = &self.module.artifact().meta;
        if index < meta.num_imported_funcs {
            // SAFETY: import records are filled before any code runs.
            unsafe { (*self.func_import(index)).func_ref }
        } else {
            let slot = meta.func_ref_slots[index as usize];
            debug_assert_ne!(
                slot,
                crate::abi::NO_FUNC_REF,
                "function {index} has no func ref"
            );
            self.slot(self.offsets.func_ref(slot))
        }
    }

    /// The storage of global `index`, imported or defined.
    pub(crate) fn global(&self, index: u32) -> *mut VMGlobalDefinition {
        let imported = self.offsets.num_imported_globals;
        if index < imported {
            // SAFETY: imported global pointers are filled at instantiation.
            unsafe { *self.slot::<*mut VMGlobalDefinition>(self.offsets.imported_global(index)) }
        } else {
            self.slot(self.offsets.defined_global(index - imported))
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
