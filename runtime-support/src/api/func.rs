//! Functions: calling wasm from the host, and host functions wasm can call.

use super::store::StoreOpaque;
use super::{AsStore, AsStoreMut, Error, Extern, Func, Instance, Store, Val};
use crate::abi::{FuncType, HOST_CTX_ARRAY_CALL, SignatureId};
use crate::vm::instance::InstanceData;
use crate::vm::{VMArrayCallFn, VMFuncRef, VMStoreContext, ValRaw};
use std::any::Any;
use std::cell::RefCell;
use std::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::NonNull;
use std::sync::Arc;

/// The closure behind a host function.
pub(crate) type HostFn<T> =
    dyn Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<(), Error> + Send + Sync;

/// How a host function failed.
pub(crate) enum HostFailure {
    /// It returned an error.
    Error(Error),
    /// It panicked; the panic resumes in the host→wasm caller.
    Panic(Box<dyn Any + Send>),
}

thread_local! {
    /// The error of a failed host function, waiting for the host→wasm call
    /// that will report it.
    static PENDING_ERROR: RefCell<Option<HostFailure>> = const { RefCell::new(None) };
}

/// Leaves a host function's error for the host→wasm call to pick up.
pub(crate) fn set_pending_error(err: HostFailure) {
    PENDING_ERROR.with(|p| *p.borrow_mut() = Some(err));
}

/// Takes the error a host function left behind.
pub(crate) fn take_pending_error() -> Option<HostFailure> {
    PENDING_ERROR.with(|p| p.borrow_mut().take())
}

/// A host function's context; plays the role of the callee vmctx when
/// compiled code calls it.
#[repr(C)]
pub(crate) struct VMHostFuncContext {
    /// Must be at offset `HOST_CTX_ARRAY_CALL`: exit trampolines load it.
    array_call: VMArrayCallFn,
    pub(crate) func_ref: VMFuncRef,
    store_ctx: *mut VMStoreContext,
    ty: Arc<FuncType>,
    /// Whether a call counts as a host call in the store's stats: not for
    /// the functions the runtime makes for itself ([`Func::internal`]).
    counted: bool,
    /// The closure; its type is known to the shim in `array_call`.
    pub(crate) func: Box<dyn Any + Send + Sync>,
}

const _: () =
    assert!(std::mem::offset_of!(VMHostFuncContext, array_call) == HOST_CTX_ARRAY_CALL as usize);

/// What a host function sees of its caller: the store's data and the calling
/// instance's exports.
pub struct Caller<'a, T> {
    pub(crate) store: &'a mut Store<T>,
    pub(crate) instance: Option<Instance>,
}

impl<T> Caller<'_, T> {
    /// The embedder data.
    pub fn data(&self) -> &T {
        self.store.data()
    }

    /// The embedder data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        self.store.data_mut()
    }

    /// A shorter-lived handle to the same caller, so it can be passed on and
    /// used again afterwards.
    pub fn reborrow(&mut self) -> Caller<'_, T> {
        Caller {
            store: &mut *self.store,
            instance: self.instance,
        }
    }

    /// The store the call runs in (to pass to [`Memory::data_and_store_mut`](super::Memory::data_and_store_mut)).
    pub fn store_mut(&mut self) -> &mut Store<T> {
        self.store
    }

    /// An export of the calling instance (e.g. its `memory`).
    pub fn get_export(&mut self, name: &str) -> Option<Extern> {
        let instance = self.instance?;
        instance.get_export(&mut *self.store, name)
    }
}

impl<T> AsStore for Caller<'_, T> {
    fn as_store(&self) -> &StoreOpaque {
        &self.store.inner
    }
}

impl<T> AsStoreMut for Caller<'_, T> {
    fn as_store_mut(&mut self) -> &mut StoreOpaque {
        &mut self.store.inner
    }
}

impl Func {
    /// A host function of type `ty`.
    pub fn new<T: 'static>(
        store: &mut Store<T>,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<(), Error> + Send + Sync + 'static,
    ) -> Func {
        Func::from_host_fn(store, ty, Arc::new(func))
    }

    pub(crate) fn from_host_fn<T: 'static>(
        store: &mut Store<T>,
        ty: FuncType,
        func: Arc<HostFn<T>>,
    ) -> Func {
        // SAFETY: `host_shim::<T>` reads its closure as an `Arc<HostFn<T>>`,
        // which is what is boxed.
        unsafe { Func::from_shim(store, ty, host_shim::<T>, Box::new(func)) }
    }

    /// A host function whose array-call entry is `shim`, which finds its
    /// closure in `func`.
    ///
    /// # Safety
    ///
    /// `shim` must treat the data of `func` as the very type boxed here (the
    /// shims cast it without a check).
    pub(crate) unsafe fn from_shim<T>(
        store: &mut Store<T>,
        ty: FuncType,
        shim: VMArrayCallFn,
        func: Box<dyn Any + Send + Sync>,
    ) -> Func {
        let inner = &mut store.inner;
        let type_id = inner.engine.register_type(&ty);
        let ty = inner.engine.func_type(type_id);
        let mut ctx = Box::new(VMHostFuncContext {
            array_call: shim,
            func_ref: VMFuncRef {
                array_call: Some(shim),
                wasm_call: std::ptr::null(),
                vmctx: std::ptr::null_mut(),
                type_id,
                ty: Arc::as_ptr(&ty),
            },
            store_ctx: &mut *inner.ctx,
            ty,
            counted: true,
            func,
        });
        ctx.func_ref.vmctx = (&mut *ctx as *mut VMHostFuncContext).cast();
        let func_ref = NonNull::from(&ctx.func_ref);
        inner.host_funcs.push(ctx);
        Func {
            store_id: inner.id,
            func_ref,
        }
    }

    /// The signature, without the registry lock [`Func::ty`] takes.
    ///
    /// The caller must have checked that this handle belongs to its store.
    pub(crate) fn ty_ref(&self) -> &FuncType {
        // SAFETY: the signature is owned by the engine's registry, which the
        // store keeps alive and which never frees.
        unsafe { &*self.func_ref.as_ref().ty }
    }

    /// The engine-wide signature id.
    pub(crate) fn type_id(&self) -> SignatureId {
        // SAFETY: handles are only created for live func refs of a store, and
        // callers checked the store.
        unsafe { self.func_ref.as_ref().type_id }
    }

    /// The function's signature.
    pub fn ty(&self, store: &impl AsStore) -> Arc<FuncType> {
        store.as_store().engine.func_type(self.type_id())
    }

    /// Calls the function with `params`, writing `results`.
    pub fn call(
        &self,
        mut store: impl AsStoreMut,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<(), Error> {
        let store = store.as_store_mut();
        store.check(self.store_id)?;
        let ty = self.ty_ref();
        if params.len() != ty.params.len() {
            return Err(Error::Usage(format!(
                "expected {} argument(s), got {}",
                ty.params.len(),
                params.len()
            )));
        }
        if results.len() != ty.results.len() {
            return Err(Error::Usage(format!(
                "expected room for {} result(s), got {}",
                ty.results.len(),
                results.len()
            )));
        }
        // Most signatures fit on the stack: no allocation per call.
        let len = params.len().max(results.len());
        let mut inline = [ValRaw::default(); 16];
        let mut heap = Vec::new();
        let values: &mut [ValRaw] = if len <= inline.len() {
            &mut inline[..len]
        } else {
            heap.resize(len, ValRaw::default());
            &mut heap
        };
        for (i, (param, &want)) in params.iter().zip(ty.params.iter()).enumerate() {
            if param.ty() != want {
                return Err(Error::Usage(format!(
                    "argument {i} has type {}, expected {want}",
                    param.ty()
                )));
            }
            values[i] = param.encode_raw(store)?;
        }
        // SAFETY: the func ref belongs to this store (checked), and `values`
        // holds correctly typed parameters with room for the results.
        unsafe { store.call_raw(self.func_ref.as_ptr(), values)? };
        for (i, (result, &ty)) in results.iter_mut().zip(ty.results.iter()).enumerate() {
            *result = Val::from_raw(store, values[i], ty);
        }
        Ok(())
    }

    /// Calls the function with the flat values of a canonical-ABI call,
    /// which match its type (numbers only) unless an artifact was tampered
    /// with: the counts are checked, the types are not (a wrong one only
    /// gives wrong bits). `results` receive their values by the type.
    pub(crate) fn call_flat(
        &self,
        store: &mut StoreOpaque,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<(), Error> {
        let mut values = [ValRaw::default(); crate::canon::MAX_FLAT_PARAMS];
        let values = &mut values[..params.len().max(results.len())];
        for (slot, param) in values.iter_mut().zip(params) {
            *slot = param.encode_raw(store)?;
        }
        self.call_raw_values(store, values, params.len(), results.len())?;
        let ty = self.ty_ref();
        for (result, (raw, &t)) in results.iter_mut().zip(values.iter().zip(ty.results.iter())) {
            *result = Val::from_raw(store, *raw, t);
        }
        Ok(())
    }

    /// Calls the function with the raw values of a call the runtime makes
    /// itself (a canonical-ABI call, `realloc`): `values` holds `params`
    /// parameters and receives `results` results. The counts are checked
    /// against the function's type, the types are not (a wrong one only
    /// gives wrong bits).
    pub(crate) fn call_raw_values(
        &self,
        store: &mut StoreOpaque,
        values: &mut [ValRaw],
        params: usize,
        results: usize,
    ) -> Result<(), Error> {
        let ty = self.ty_ref();
        if params != ty.params.len()
            || results != ty.results.len()
            || values.len() < params.max(results)
        {
            return Err(Error::Usage(format!(
                "a canonical-ABI call passes {params} core value(s) and expects {results}, the core function has type {ty}"
            )));
        }
        // SAFETY: the func ref belongs to this store (the caller's
        // component instance's), and `values` has one slot per parameter
        // and result of its type.
        unsafe { store.call_raw(self.func_ref.as_ptr(), values) }
    }

    /// Records that compiled code may call this host function through
    /// `trampoline` (an exit trampoline of a module that imports it), so the
    /// function can also be called through tables.
    ///
    /// # Safety
    ///
    /// `trampoline` must be an exit trampoline for this function's signature
    /// in code that lives as long as the store.
    pub(crate) unsafe fn provide_wasm_call(&self, trampoline: *const u8) {
        // SAFETY: the func ref is alive (store-owned).
        let r = unsafe { &mut *self.func_ref.as_ptr() };
        if r.wasm_call.is_null() {
            r.wasm_call = trampoline;
        }
    }

    /// Whether compiled code can call this function directly.
    pub(crate) fn has_wasm_call(&self) -> bool {
        // SAFETY: the func ref is alive (store-owned).
        unsafe { !self.func_ref.as_ref().wasm_call.is_null() }
    }

    /// Marks a host function the runtime made for itself (a half of a call
    /// between components, a resource built-in): calls to it are not
    /// counted as host calls.
    pub(crate) fn internal(self, store: &mut StoreOpaque) -> Func {
        // It was made just now: the last host function of the store.
        if let Some(ctx) = store.host_funcs.last_mut()
            && std::ptr::eq(&ctx.func_ref, self.func_ref.as_ptr())
        {
            ctx.counted = false;
        }
        self
    }

    /// Whether this is a host function (its context is a host context).
    pub(crate) fn is_host(&self, store: &StoreOpaque) -> bool {
        store
            .host_funcs
            .iter()
            .any(|h| std::ptr::eq(&h.func_ref, self.func_ref.as_ptr()))
    }
}

/// The array-call entry of every host function of a `Store<T>`.
unsafe extern "C" fn host_shim<T: 'static>(
    callee: *mut c_void,
    caller: *mut c_void,
    values: *mut ValRaw,
    len: usize,
) -> bool {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `callee` is the context this shim was installed with; its
        // store context points at the `Store<T>` that is running wasm (set by
        // `call_raw`), and `values` has `len` slots.
        unsafe {
            let (ctx, store) = host_context::<T>(callee);
            // The context outlives the call: the store owns it and never
            // drops host functions while wasm runs. `Func::new` installs this
            // shim only beside an `Arc<HostFn<T>>`, so no checked downcast
            // (a virtual call) is needed.
            let func =
                &*std::ptr::from_ref::<dyn Any + Send + Sync>(&*ctx.func).cast::<Arc<HostFn<T>>>();
            let instance = caller_instance(caller, store.inner.id);
            call_host(
                store,
                instance,
                &**func,
                &ctx.ty,
                std::slice::from_raw_parts_mut(values, len),
            )
        }
    }));
    host_outcome(outcome)
}

/// Converts a host function's outcome to the array-call status, leaving an
/// error or panic for the host→wasm call to report.
#[inline]
pub(crate) fn host_outcome(outcome: std::thread::Result<Result<(), Error>>) -> bool {
    match outcome {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            set_pending_error(HostFailure::Error(e));
            false
        }
        Err(panic) => {
            set_pending_error(HostFailure::Panic(panic));
            false
        }
    }
}

/// The calling instance of a host function, from its caller vmctx.
///
/// # Safety
///
/// `caller` must be null or the vmctx of a live instance of store `store_id`.
pub(crate) unsafe fn caller_instance(caller: *mut c_void, store_id: u64) -> Option<Instance> {
    // SAFETY: per the contract.
    (!caller.is_null()).then(|| unsafe { InstanceData::from_vmctx(caller) }.handle(store_id))
}

/// The context and store a host function shim runs with; counts the call
/// in the store's stats.
///
/// # Safety
///
/// `callee` must be a `VMHostFuncContext` of a `Store<T>` that is running
/// wasm (so its store pointer is set).
pub(crate) unsafe fn host_context<'a, T>(
    callee: *mut c_void,
) -> (&'a VMHostFuncContext, &'a mut Store<T>) {
    // SAFETY: per the contract.
    let (ctx, store) = unsafe {
        let ctx = &*(callee as *const VMHostFuncContext);
        let store = &mut *((*ctx.store_ctx).store as *mut Store<T>);
        (ctx, store)
    };
    if ctx.counted {
        store.inner.calls.host += 1;
    }
    (ctx, store)
}

fn call_host<T>(
    store: &mut Store<T>,
    instance: Option<Instance>,
    func: &HostFn<T>,
    ty: &FuncType,
    values: &mut [ValRaw],
) -> Result<(), Error> {
    // Most signatures fit on the stack: no allocation per call.
    let (np, nr) = (ty.params.len(), ty.results.len());
    let mut inline = [Val::I32(0); 16];
    let mut heap = Vec::new();
    let buf: &mut [Val] = if np + nr <= inline.len() {
        &mut inline[..np + nr]
    } else {
        heap.resize(np + nr, Val::I32(0));
        &mut heap
    };
    let (params, results) = buf.split_at_mut(np);
    for ((param, &t), &raw) in params.iter_mut().zip(ty.params.iter()).zip(values.iter()) {
        *param = Val::from_raw(&store.inner, raw, t);
    }
    for (result, &t) in results.iter_mut().zip(ty.results.iter()) {
        *result = Val::default_for(t);
    }
    func(
        Caller {
            store: &mut *store,
            instance,
        },
        params,
        results,
    )?;
    for (i, (result, &want)) in results.iter().zip(ty.results.iter()).enumerate() {
        if result.ty() != want {
            return Err(Error::Usage(format!(
                "host function returned a {} as result {i}, expected {want}",
                result.ty()
            )));
        }
        values[i] = result.encode_raw(&store.inner)?;
    }
    Ok(())
}
