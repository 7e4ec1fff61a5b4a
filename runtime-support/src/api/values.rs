//! Values that cross between the host and wasm.

use super::store::StoreOpaque;
use super::{AsStore, AsStoreMut, Error, ExternRef, Func, Val};
use crate::abi::ValType;
use crate::vm::{VMFuncRef, ValRaw};
use std::any::Any;
use std::ptr::NonNull;

impl Val {
    /// Encodes the value for compiled code. By reference, so that only the
    /// variant's own bytes are read: taking the value by value copied all
    /// 32 bytes of it first, the hottest load of a typed call (45 ns a call
    /// by reference, 50 ns by value). Always inlined: as a call, its
    /// `Result` came back through memory and the caller's 16-byte load of
    /// it stalled on the narrower stores that wrote it (typed `inc`: 57 ns
    /// a call as a call, 47–51 ns inlined, same runs).
    #[inline(always)]
    pub(crate) fn encode_raw(&self, store: &StoreOpaque) -> Result<ValRaw, Error> {
        Ok(match *self {
            Val::I32(v) => ValRaw::from_u32(v as u32),
            Val::I64(v) => ValRaw::from_u64(v as u64),
            Val::F32(v) => ValRaw::from_u32(v),
            Val::F64(v) => ValRaw::from_u64(v),
            Val::V128(v) => ValRaw::from_u128(v),
            Val::FuncRef(None) | Val::ExternRef(None) => ValRaw::from_u64(0),
            Val::FuncRef(Some(f)) => {
                store.check(f.store_id)?;
                ValRaw::from_u64(f.func_ref.as_ptr() as u64)
            }
            Val::ExternRef(Some(r)) => {
                store.check(r.store_id)?;
                ValRaw::from_u64(u64::from(r.token))
            }
        })
    }

    /// Decodes a value of type `ty` written by compiled code.
    #[inline]
    pub(crate) fn from_raw(store: &StoreOpaque, raw: ValRaw, ty: ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(raw.get_u32() as i32),
            ValType::I64 => Val::I64(raw.get_u64() as i64),
            ValType::F32 => Val::F32(raw.get_u32()),
            ValType::F64 => Val::F64(raw.get_u64()),
            ValType::V128 => Val::V128(raw.get_u128()),
            ValType::FuncRef => Val::FuncRef(Func::from_ref_bits(store, raw.get_u64() as usize)),
            ValType::ExternRef => {
                Val::ExternRef(ExternRef::from_token(store, raw.get_u64() as usize))
            }
        }
    }

    /// The table-element encoding of a reference value.
    pub(crate) fn to_ref_bits(self, store: &StoreOpaque) -> Result<usize, Error> {
        if !self.ty().is_ref() {
            return Err(Error::Usage(format!(
                "expected a reference, got a value of type {}",
                self.ty()
            )));
        }
        Ok(self.encode_raw(store)?.get_u64() as usize)
    }

    /// A reference value from its table-element encoding.
    pub(crate) fn from_ref_bits(store: &StoreOpaque, bits: usize, ty: ValType) -> Val {
        Val::from_raw(store, ValRaw::from_u64(bits as u64), ty)
    }
}

impl ExternRef {
    /// Wraps `payload` for passing to wasm.
    pub fn new(mut store: impl AsStoreMut, payload: impl Any + Send + Sync) -> ExternRef {
        let store = store.as_store_mut();
        let token = store.new_externref(Box::new(payload));
        ExternRef {
            store_id: store.id,
            token,
        }
    }

    /// The payload.
    pub fn data<'a>(&self, store: &'a impl AsStore) -> Result<&'a (dyn Any + Send + Sync), Error> {
        let store = store.as_store();
        store.check(self.store_id)?;
        Ok(&*store.externrefs[self.token as usize - 1])
    }

    fn from_token(store: &StoreOpaque, token: usize) -> Option<ExternRef> {
        (token != 0).then_some(ExternRef {
            store_id: store.id,
            token: token as u32,
        })
    }
}

impl Func {
    pub(crate) fn from_ref_bits(store: &StoreOpaque, bits: usize) -> Option<Func> {
        NonNull::new(bits as *mut VMFuncRef).map(|func_ref| Func {
            store_id: store.id,
            func_ref,
        })
    }
}
