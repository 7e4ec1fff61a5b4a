//! `#[repr(C)]` structs whose layout compiled code relies on. Their offsets
//! are defined in [`crate::abi`] and checked against these structs below.

use crate::abi::{SignatureId, TrapKind};
use std::ffi::c_void;
use std::sync::atomic::AtomicU64;

/// A slot of the array-call convention: 16 bytes so that any value fits.
#[derive(Clone, Copy, Default)]
#[repr(C, align(16))]
pub(crate) struct ValRaw(pub [u8; 16]);

// The accessors are on every host call's path: always inline them.
impl ValRaw {
    #[inline]
    pub(crate) fn from_u32(v: u32) -> ValRaw {
        Self::from_u64(u64::from(v))
    }
    #[inline]
    pub(crate) fn from_u64(v: u64) -> ValRaw {
        let mut raw = ValRaw::default();
        raw.0[..8].copy_from_slice(&v.to_le_bytes());
        raw
    }
    #[inline]
    pub(crate) fn from_u128(v: u128) -> ValRaw {
        ValRaw(v.to_le_bytes())
    }
    #[inline]
    pub(crate) fn get_u32(self) -> u32 {
        u32::from_le_bytes(self.0[..4].try_into().unwrap())
    }
    #[inline]
    pub(crate) fn get_u64(self) -> u64 {
        u64::from_le_bytes(self.0[..8].try_into().unwrap())
    }
    #[inline]
    pub(crate) fn get_u128(self) -> u128 {
        u128::from_le_bytes(self.0)
    }
}

/// The array-call convention: every value in a 16-byte slot of `values`,
/// parameters in, results out. Returns `false` when a host function failed
/// (the error is left in the thread's pending-error slot).
pub(crate) type VMArrayCallFn = unsafe extern "C" fn(
    callee_vmctx: *mut c_void,
    caller_vmctx: *mut c_void,
    values: *mut ValRaw,
    len: usize,
) -> bool;

/// Store-wide state that compiled code reads.
#[repr(C)]
pub(crate) struct VMStoreContext {
    /// Lowest stack address wasm may use; checked in every prologue. Zero
    /// while no wasm runs on the store.
    pub stack_limit: usize,
    /// The `Store<T>` that owns this context (runtime use only), set on every
    /// host→wasm call so host functions can reach it.
    pub store: *mut c_void,
    /// The engine's epoch counter, which outlives every store of the
    /// engine.
    pub epoch: *const AtomicU64,
    /// The epoch at which code built with epoch interruption traps.
    pub epoch_deadline: u64,
    /// Fuel left for code built with fuel metering; it traps when this
    /// drops below zero.
    pub fuel: i64,
}

/// A function as the host and compiled code see it.
#[repr(C)]
pub(crate) struct VMFuncRef {
    pub array_call: Option<VMArrayCallFn>,
    pub wasm_call: *const u8,
    pub vmctx: *mut c_void,
    pub type_id: SignatureId,
    /// The signature itself (runtime use only), owned by the engine's type
    /// registry, which never frees: host calls read it without a lock.
    pub ty: *const crate::abi::FuncType,
}

/// An imported function as the importer's code calls it.
#[repr(C)]
pub(crate) struct VMFuncImport {
    pub wasm_call: *const u8,
    pub vmctx: *mut c_void,
    pub func_ref: *const VMFuncRef,
}

/// Where a linear memory lives and its current length.
///
/// The length is atomic because a shared memory grows while other threads
/// run in it; compiled code reads it with a plain aligned load, which is
/// atomic on every target cmc supports.
#[repr(C)]
pub(crate) struct VMMemoryDefinition {
    pub base: *mut u8,
    pub length: std::sync::atomic::AtomicUsize,
}

/// A table's element array and element count.
#[repr(C)]
pub(crate) struct VMTableDefinition {
    pub base: *mut usize,
    pub length: u32,
}

/// Storage of one global: the value in its low bytes, little-endian.
#[derive(Clone, Copy, Default)]
#[repr(C, align(16))]
pub(crate) struct VMGlobalDefinition(pub ValRaw);

/// What a trap leaves behind for the host: its kind and the native return
/// addresses of the wasm frames it unwound, innermost first.
#[derive(Clone, Copy)]
pub(crate) struct TrapRecord {
    pub kind: TrapKind,
    pub pcs: [usize; MAX_TRAP_FRAMES],
    pub num_pcs: usize,
}

/// How many frames a trap backtrace keeps.
pub(crate) const MAX_TRAP_FRAMES: usize = 64;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::*;
    use std::mem::{offset_of, size_of};

    #[test]
    fn layouts_match_the_abi() {
        assert_eq!(
            offset_of!(VMStoreContext, stack_limit) as u32,
            STORE_CTX_STACK_LIMIT
        );
        assert_eq!(offset_of!(VMStoreContext, epoch) as u32, STORE_CTX_EPOCH);
        assert_eq!(
            offset_of!(VMStoreContext, epoch_deadline) as u32,
            STORE_CTX_EPOCH_DEADLINE
        );
        assert_eq!(offset_of!(VMStoreContext, fuel) as u32, STORE_CTX_FUEL);
        assert_eq!(
            offset_of!(VMFuncRef, array_call) as u32,
            func_ref::ARRAY_CALL
        );
        assert_eq!(offset_of!(VMFuncRef, wasm_call) as u32, func_ref::WASM_CALL);
        assert_eq!(offset_of!(VMFuncRef, vmctx) as u32, func_ref::VMCTX);
        assert_eq!(offset_of!(VMFuncRef, type_id) as u32, func_ref::TYPE_ID);
        assert_eq!(size_of::<VMFuncRef>() as u32, func_ref::SIZE);
        assert_eq!(
            offset_of!(VMFuncImport, wasm_call) as u32,
            func_import::WASM_CALL
        );
        assert_eq!(offset_of!(VMFuncImport, vmctx) as u32, func_import::VMCTX);
        assert_eq!(
            offset_of!(VMFuncImport, func_ref) as u32,
            func_import::FUNC_REF
        );
        assert_eq!(size_of::<VMFuncImport>() as u32, func_import::SIZE);
        assert_eq!(
            offset_of!(VMMemoryDefinition, base) as u32,
            memory_def::BASE
        );
        assert_eq!(
            offset_of!(VMMemoryDefinition, length) as u32,
            memory_def::LENGTH
        );
        assert_eq!(offset_of!(VMTableDefinition, base) as u32, table_def::BASE);
        assert_eq!(
            offset_of!(VMTableDefinition, length) as u32,
            table_def::LENGTH
        );
        assert_eq!(size_of::<VMGlobalDefinition>() as u32, GLOBAL_SIZE);
        assert_eq!(size_of::<ValRaw>() as u32, VAL_RAW_SIZE);
    }
}
