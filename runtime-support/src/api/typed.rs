//! Statically typed calls into wasm: no per-call type checks or allocation.

use super::func::{caller_instance, host_context, host_outcome};
use super::{AsStoreMut, Caller, Error, Func, Store};
use crate::abi::ValType;
use crate::vm::ValRaw;
use std::any::Any;
use std::marker::PhantomData;

/// A Rust type that is a wasm value type.
pub trait WasmTy: Copy + sealed::RawValue {
    /// The wasm type.
    const TY: ValType;
}

/// The conversions behind the public traits, hidden from other crates.
mod sealed {
    /// A value's bits in the low bytes of a 16-byte slot.
    pub trait RawValue {
        fn to_bits(self) -> u128;
        fn from_bits(bits: u128) -> Self;
    }

    /// Element `i` of a tuple goes to, or comes from, slot `i`; the slot
    /// accessors are closures so that nothing is staged in between.
    pub trait RawTuple {
        fn store(self, slot: impl FnMut(usize, u128));
        fn load(slot: impl Fn(usize) -> u128) -> Self;
    }
}
use sealed::{RawTuple, RawValue};

macro_rules! wasm_ty {
    ($($t:ty => $ty:ident, $to:expr, $from:expr;)*) => {$(
        impl WasmTy for $t {
            const TY: ValType = ValType::$ty;
        }
        impl RawValue for $t {
            #[inline]
            fn to_bits(self) -> u128 {
                ($to)(self)
            }
            #[inline]
            fn from_bits(bits: u128) -> Self {
                ($from)(bits)
            }
        }
    )*};
}

wasm_ty! {
    i32 => I32, |v: i32| u128::from(v as u32), |b: u128| b as u32 as i32;
    u32 => I32, u128::from, |b: u128| b as u32;
    i64 => I64, |v: i64| u128::from(v as u64), |b: u128| b as u64 as i64;
    u64 => I64, u128::from, |b: u128| b as u64;
    f32 => F32, |v: f32| u128::from(v.to_bits()), |b: u128| f32::from_bits(b as u32);
    f64 => F64, |v: f64| u128::from(v.to_bits()), |b: u128| f64::from_bits(b as u64);
}

/// A tuple of wasm values: parameters or results of a [`TypedFunc`].
pub trait WasmTuple: Sized + sealed::RawTuple {
    /// The wasm types, in order.
    const TYPES: &'static [ValType];
}

macro_rules! wasm_tuple {
    ($($n:tt $t:ident),*) => {
        impl<$($t: WasmTy),*> WasmTuple for ($($t,)*) {
            const TYPES: &'static [ValType] = &[$($t::TY),*];
        }
        impl<$($t: WasmTy),*> RawTuple for ($($t,)*) {
            #[allow(unused_variables, unused_mut)]
            #[inline]
            fn store(self, mut slot: impl FnMut(usize, u128)) {
                $(slot($n, self.$n.to_bits());)*
            }
            #[allow(unused_variables, clippy::unused_unit)]
            #[inline]
            fn load(slot: impl Fn(usize) -> u128) -> Self {
                ($($t::from_bits(slot($n)),)*)
            }
        }
    };
}

wasm_tuple!();
wasm_tuple!(0 A);
wasm_tuple!(0 A, 1 B);
wasm_tuple!(0 A, 1 B, 2 C);
wasm_tuple!(0 A, 1 B, 2 C, 3 D);
wasm_tuple!(0 A, 1 B, 2 C, 3 D, 4 E);
wasm_tuple!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F);
wasm_tuple!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G);
wasm_tuple!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H);
wasm_tuple!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I);
wasm_tuple!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J);
wasm_tuple!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J, 10 K);
wasm_tuple!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J, 10 K, 11 L);

/// The most values a [`WasmTuple`] holds: the arity of the largest impl
/// above (WASI preview1's `path_open` alone takes 9 parameters).
const MAX_TUPLE: usize = 12;

/// A function whose signature was checked once, when it was made typed.
pub struct TypedFunc<P, R> {
    func: Func,
    _marker: PhantomData<fn(P) -> R>,
}

impl<P, R> Clone for TypedFunc<P, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P, R> Copy for TypedFunc<P, R> {}

impl Func {
    /// Checks that this function has signature `P -> R` and returns a handle
    /// that calls it without further checks.
    pub fn typed<P: WasmTuple, R: WasmTuple>(
        &self,
        store: &impl super::AsStore,
    ) -> Result<TypedFunc<P, R>, Error> {
        store.as_store().check(self.store_id)?;
        let ty = self.ty(store);
        if &*ty.params != P::TYPES || &*ty.results != R::TYPES {
            return Err(Error::Usage(format!(
                "function has type {ty}, not {}",
                crate::abi::FuncType::new(P::TYPES.iter().copied(), R::TYPES.iter().copied())
            )));
        }
        Ok(TypedFunc {
            func: *self,
            _marker: PhantomData,
        })
    }
}

impl<P: WasmTuple, R: WasmTuple> TypedFunc<P, R> {
    /// Calls the function.
    pub fn call(&self, mut store: impl AsStoreMut, params: P) -> Result<R, Error> {
        let store = store.as_store_mut();
        store.check(self.func.store_id)?;
        let len = P::TYPES.len().max(R::TYPES.len());
        let mut values = [ValRaw::default(); MAX_TUPLE];
        params.store(|i, bits| values[i] = ValRaw::from_u128(bits));
        // SAFETY: the signature was checked when this handle was made, the
        // store matches, and `values` holds the parameters with room for the
        // results.
        unsafe { store.call_raw(self.func.func_ref.as_ptr(), &mut values[..len])? };
        Ok(R::load(|i| values[i].get_u128()))
    }

    /// The untyped function.
    pub fn func(&self) -> Func {
        self.func
    }
}

impl Func {
    /// A host function with a static signature: `func` receives the
    /// parameters as a tuple of Rust values and returns the results as one.
    /// Calls from wasm convert nothing dynamically and allocate nothing.
    pub fn wrap<T: 'static, P: WasmTuple + 'static, R: WasmTuple + 'static>(
        store: &mut Store<T>,
        func: impl Fn(Caller<'_, T>, P) -> Result<R, Error> + Send + Sync + 'static,
    ) -> Func {
        let ty = crate::abi::FuncType::new(P::TYPES.iter().copied(), R::TYPES.iter().copied());
        // SAFETY: `typed_shim_for(&func)` reads its closure as the type of
        // `func`, which is what is boxed.
        unsafe { Func::from_shim(store, ty, typed_shim_for(&func), Box::new(func)) }
    }
}

/// The array-call entry for a typed host function of closure type `F`.
fn typed_shim_for<T: 'static, P: WasmTuple, R: WasmTuple, F>(_: &F) -> crate::vm::VMArrayCallFn
where
    F: Fn(Caller<'_, T>, P) -> Result<R, Error> + Send + Sync + 'static,
{
    typed_shim::<T, P, R, F>
}

unsafe extern "C" fn typed_shim<T: 'static, P: WasmTuple, R: WasmTuple, F>(
    callee: *mut std::ffi::c_void,
    caller: *mut std::ffi::c_void,
    values: *mut ValRaw,
    len: usize,
) -> bool
where
    F: Fn(Caller<'_, T>, P) -> Result<R, Error> + Send + Sync + 'static,
{
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: `callee` is the context this shim was installed with by
        // `Func::wrap` for a `Store<T>` running wasm; `values` has `len`
        // slots, enough for the parameters and the results.
        let (ctx, store, values) = unsafe {
            let (ctx, store) = host_context::<T>(callee);
            (ctx, store, std::slice::from_raw_parts_mut(values, len))
        };
        // SAFETY: `Func::wrap` installs this shim only beside a `Box<F>`,
        // so the box's data is an `F` (a checked downcast would cost a
        // virtual call on every call from wasm).
        let func = unsafe { &*std::ptr::from_ref::<dyn Any + Send + Sync>(&*ctx.func).cast::<F>() };
        // SAFETY: the caller vmctx is null or an instance of this store.
        let instance = unsafe { caller_instance(caller, store.inner.id) };
        let params = P::load(|i| values[i].get_u128());
        let results = func(Caller { store, instance }, params)?;
        results.store(|i, bits| values[i] = ValRaw::from_u128(bits));
        Ok(())
    }));
    host_outcome(outcome)
}
