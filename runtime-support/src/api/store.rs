//! Stores: the owner of every instance, memory, table, global and host
//! function created while running, plus the embedder's data `T`.

use super::func::VMHostFuncContext;
use super::{Engine, Error, Module, Trap};
use crate::abi::TrapKind;
use crate::trap;
use crate::vm::instance::InstanceData;
use crate::vm::memory::Memory as VmMemory;
use crate::vm::table::Table as VmTable;
use crate::vm::{VMFuncRef, VMGlobalDefinition, VMStoreContext, ValRaw};
use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// An instance the store owns: the module it instantiates (for the API)
/// and its runtime state (for compiled code).
pub(crate) struct StoreInstance {
    pub module: Module,
    pub data: Box<InstanceData>,
}

/// The resources a store may hold (`Store::limit_*`); unlimited by default.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StoreLimits {
    /// The most pages each memory may have.
    pub memory_pages: u64,
    /// The most elements each table may have.
    pub table_elements: u64,
    /// The most core instances.
    pub instances: usize,
    /// The most memories.
    pub memories: usize,
    /// The most tables.
    pub tables: usize,
}

impl Default for StoreLimits {
    fn default() -> StoreLimits {
        StoreLimits {
            memory_pages: crate::vm::memory::MAX_PAGES,
            table_elements: u64::MAX,
            instances: usize::MAX,
            memories: usize::MAX,
            tables: usize::MAX,
        }
    }
}

/// Calls the runtime counts as they happen; fused adapters count theirs
/// in [`StoreOpaque::call_counter`].
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct CallCounts {
    /// Calls into host functions.
    pub host: u64,
    /// Calls between components that the runtime adapted.
    pub component: u64,
}

/// What the guests of a store have done so far (`cmc run --stats`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Calls from wasm into functions the host defines: a component's host
    /// imports, a module's imported host functions.
    pub host_calls: u64,
    /// Calls from one component into another.
    pub component_calls: u64,
    /// The linear memories in the store.
    pub memories: usize,
    /// Their total size in bytes; memories never shrink, so this is also
    /// the most they held.
    pub memory_bytes: u64,
}

/// Fails when a store that holds `count` of `what` may not hold one more.
pub(crate) fn check_count(count: usize, limit: usize, what: &str) -> Result<(), Error> {
    if count < limit {
        Ok(())
    } else {
        Err(Error::Resource(format!(
            "resource limit exceeded: the store may hold at most {limit} {what}"
        )))
    }
}

static NEXT_STORE_ID: AtomicU64 = AtomicU64::new(1);

/// The part of a store that does not depend on `T`.
///
/// Everything compiled code or another object points at is boxed, so that
/// its address stays fixed while the vectors grow.
#[allow(clippy::vec_box)]
pub struct StoreOpaque {
    pub(crate) id: u64,
    pub(crate) engine: Engine,
    pub(crate) ctx: Box<VMStoreContext>,
    pub(crate) instances: Vec<StoreInstance>,
    /// The store's memories; one shared with other stores (a
    /// [`SharedMemory`](super::SharedMemory)) has other owners too.
    pub(crate) memories: Vec<Arc<VmMemory>>,
    pub(crate) tables: Vec<Box<VmTable>>,
    pub(crate) globals: Vec<Box<VMGlobalDefinition>>,
    pub(crate) host_funcs: Vec<Box<VMHostFuncContext>>,
    pub(crate) externrefs: Vec<Box<dyn Any + Send + Sync>>,
    pub(crate) component_instances: Vec<super::component::ComponentInstanceData>,
    /// What this store may hold.
    pub(crate) limits: StoreLimits,
    /// Calls counted so far (see [`StoreStats`]).
    pub(crate) calls: CallCounts,
    /// The global fused adapters count their calls in, made on first use.
    pub(crate) call_counter: Option<super::Global>,
    /// Sees the calls that cross component boundaries, if set.
    pub(crate) interceptor: Option<Box<dyn super::component::Interceptor>>,
    /// The fibers running now, innermost (the current stack) last: the way
    /// back out of each (see `component::fiber`).
    pub(crate) running_fibers: Vec<*const super::component::FiberYielder>,
    /// The stacks of ended fibers, for the next ones.
    pub(crate) fiber_stacks: Vec<corosensei::stack::DefaultStack>,
    /// Core values of the current component call, kept between calls so
    /// that lowering allocates nothing (see [`StoreOpaque::take_flat_buf`]).
    flat_buf: Vec<super::Val>,
}

// SAFETY: every raw pointer in the store points into allocations the store
// owns; a store is used by one thread at a time (`&mut` for every call).
// The stacks of its suspended fibers (the coroutines in its component
// instances, which are not `Send` themselves) hold the runtime's and wasm's
// frames of calls into this store, which refer to nothing but the store and
// their own stack, so they move with it; a host function (`Send + Sync`)
// that calls back into the store from a fiber leaves its frame there too,
// which is sound as long as it keeps no thread-bound value across the call.
unsafe impl Send for StoreOpaque {}

/// A store with embedder data `T`. Everything created in it lives until it
/// is dropped.
#[repr(C)]
pub struct Store<T> {
    // Must stay the first field: host functions recover `&mut Store<T>` from
    // the `*mut StoreOpaque` published in the store context.
    pub(crate) inner: StoreOpaque,
    data: T,
}

impl<T> Store<T> {
    /// A new, empty store.
    pub fn new(engine: &Engine, data: T) -> Store<T> {
        Store {
            inner: StoreOpaque {
                id: NEXT_STORE_ID.fetch_add(1, Ordering::Relaxed),
                engine: engine.clone(),
                ctx: Box::new(VMStoreContext {
                    stack_limit: 0,
                    store: std::ptr::null_mut(),
                    epoch: engine.epoch(),
                    epoch_deadline: u64::MAX,
                    fuel: 0,
                }),
                limits: StoreLimits::default(),
                calls: CallCounts::default(),
                call_counter: None,
                interceptor: None,
                running_fibers: Vec::new(),
                fiber_stacks: Vec::new(),
                instances: Vec::new(),
                memories: Vec::new(),
                tables: Vec::new(),
                globals: Vec::new(),
                host_funcs: Vec::new(),
                externrefs: Vec::new(),
                component_instances: Vec::new(),
                flat_buf: Vec::new(),
            },
            data,
        }
    }

    /// The embedder data.
    pub fn data(&self) -> &T {
        &self.data
    }

    /// The embedder data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.data
    }

    /// The store's own state and the embedder data, borrowed apart.
    pub(crate) fn split_mut(&mut self) -> (&mut StoreOpaque, &mut T) {
        (&mut self.inner, &mut self.data)
    }

    /// Consumes the store, returning the embedder data.
    pub fn into_data(self) -> T {
        self.data
    }

    /// Limits every linear memory created in this store from now on to
    /// `bytes` (rounded down to whole 64 KiB pages): `memory.grow` past it
    /// returns -1, as when a memory's own maximum is reached, and a module
    /// whose memory starts larger fails to instantiate with an error that
    /// says so.
    pub fn limit_memory_size(&mut self, bytes: u64) {
        let pages = bytes / crate::vm::memory::WASM_PAGE as u64;
        self.inner.limits.memory_pages = pages.min(crate::vm::memory::MAX_PAGES);
    }

    /// Limits every table created in this store from now on to `elements`:
    /// `table.grow` past it returns -1, and a module whose table starts
    /// larger fails to instantiate with an error that says so.
    pub fn limit_table_elements(&mut self, elements: u64) {
        self.inner.limits.table_elements = elements;
    }

    /// Limits how many core instances the store may hold (those of a
    /// component's core modules count): instantiating one more fails with
    /// an error that says so.
    pub fn limit_instances(&mut self, count: usize) {
        self.inner.limits.instances = count;
    }

    /// Limits how many linear memories the store may hold, whether modules
    /// define them or the host creates them.
    pub fn limit_memories(&mut self, count: usize) {
        self.inner.limits.memories = count;
    }

    /// Limits how many tables the store may hold, whether modules define
    /// them or the host creates them.
    pub fn limit_tables(&mut self, count: usize) {
        self.inner.limits.tables = count;
    }

    /// Gives the store `fuel` units: code built with fuel metering
    /// (`Config::consume_fuel`) spends one per wasm instruction and traps
    /// with "all fuel consumed" when it has run out. A store starts with
    /// none, as in wasmtime.
    pub fn set_fuel(&mut self, fuel: u64) {
        self.inner.ctx.fuel = i64::try_from(fuel).unwrap_or(i64::MAX);
    }

    /// The fuel left (0 once it ran out).
    pub fn get_fuel(&self) -> u64 {
        u64::try_from(self.inner.ctx.fuel).unwrap_or(0)
    }

    /// Sets the epoch deadline `ticks` increments of the engine's epoch
    /// from now: code built with epoch interruption traps ("interrupt")
    /// once [`Engine::increment_epoch`] has been called that many times.
    /// Without a deadline, code never traps on the epoch.
    pub fn set_epoch_deadline(&mut self, ticks: u64) {
        let now = self
            .inner
            .engine
            .epoch()
            .load(std::sync::atomic::Ordering::Relaxed);
        self.inner.ctx.epoch_deadline = now.saturating_add(ticks);
    }

    /// What the store's guests have done so far.
    pub fn stats(&self) -> StoreStats {
        let inner = &self.inner;
        let fused = inner
            .call_counter
            .map_or(0, |counter| match counter.get(self) {
                super::Val::I64(n) => n as u64,
                _ => 0,
            });
        StoreStats {
            host_calls: inner.calls.host,
            component_calls: inner.calls.component + fused,
            memories: inner.memories.len(),
            memory_bytes: inner.memories.iter().map(|m| m.len() as u64).sum(),
        }
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }
}

/// Read access to a store (a [`Store`] or a host function's
/// [`Caller`](super::Caller)).
pub trait AsStore {
    /// The store.
    fn as_store(&self) -> &StoreOpaque;
}

/// Write access to a store.
pub trait AsStoreMut: AsStore {
    /// The store, mutably.
    fn as_store_mut(&mut self) -> &mut StoreOpaque;
}

impl<T> AsStore for Store<T> {
    fn as_store(&self) -> &StoreOpaque {
        &self.inner
    }
}

impl<T> AsStoreMut for Store<T> {
    fn as_store_mut(&mut self) -> &mut StoreOpaque {
        &mut self.inner
    }
}

impl AsStore for StoreOpaque {
    fn as_store(&self) -> &StoreOpaque {
        self
    }
}

impl AsStoreMut for StoreOpaque {
    fn as_store_mut(&mut self) -> &mut StoreOpaque {
        self
    }
}

impl<S: AsStore + ?Sized> AsStore for &S {
    fn as_store(&self) -> &StoreOpaque {
        (**self).as_store()
    }
}

impl<S: AsStore + ?Sized> AsStore for &mut S {
    fn as_store(&self) -> &StoreOpaque {
        (**self).as_store()
    }
}

impl<S: AsStoreMut + ?Sized> AsStoreMut for &mut S {
    fn as_store_mut(&mut self) -> &mut StoreOpaque {
        (**self).as_store_mut()
    }
}

impl StoreOpaque {
    /// The bytes of memory `index`, or none for a memory shared with other
    /// stores, whose threads may write them at any time (its bytes are
    /// reached through [`SharedMemory::data`](super::SharedMemory::data)).
    pub(crate) fn memory_bytes(&self, index: usize) -> &[u8] {
        unshared_bytes(&self.memories[index])
    }

    /// [`StoreOpaque::memory_bytes`], mutably.
    pub(crate) fn memory_bytes_mut(&mut self, index: usize) -> &mut [u8] {
        unshared_bytes_mut(&mut self.memories[index])
    }

    /// An empty buffer for the core values of a component call; give it
    /// back with [`StoreOpaque::put_flat_buf`]. A nested call (a host
    /// function calling back in) finds it taken and starts a new one.
    pub(crate) fn take_flat_buf(&mut self) -> Vec<super::Val> {
        let mut buf = std::mem::take(&mut self.flat_buf);
        buf.clear();
        buf
    }

    /// Returns the buffer of [`StoreOpaque::take_flat_buf`] for reuse.
    pub(crate) fn put_flat_buf(&mut self, buf: Vec<super::Val>) {
        self.flat_buf = buf;
    }

    /// Fails unless a handle created in store `id` is used with this store.
    pub(crate) fn check(&self, id: u64) -> Result<(), Error> {
        if id == self.id {
            Ok(())
        } else {
            Err(Error::Usage(
                "a handle from another store was used with this store".into(),
            ))
        }
    }

    /// Calls `func_ref` through its array-call entry with `values` holding
    /// the parameters; on success `values` holds the results.
    ///
    /// # Safety
    ///
    /// `func_ref` must belong to this store and `values` must have room for
    /// its parameters and results, with parameters of the right types.
    pub(crate) unsafe fn call_raw(
        &mut self,
        func_ref: *const VMFuncRef,
        values: &mut [ValRaw],
    ) -> Result<(), Error> {
        // SAFETY: per the contract, `func_ref` is alive in this store.
        let (array_call, callee) = unsafe { ((*func_ref).array_call, (*func_ref).vmctx) };
        let array_call = array_call.expect("every function has an array-call entry");
        self.ctx.store = (self as *mut StoreOpaque).cast();
        let prev_limit = self.ctx.stack_limit;
        if prev_limit == 0 {
            let here = &prev_limit as *const usize as usize;
            let budget = here.saturating_sub(self.engine.config().max_wasm_stack);
            // Never let wasm run into the thread's guard page: keep room
            // for the trap handler and host functions above the stack's end.
            self.ctx.stack_limit = budget.max(trap::stack_floor());
        }
        let mut ok = true;
        let (ptr, len) = (values.as_mut_ptr(), values.len());
        let caught = trap::catch_traps(&mut || {
            // SAFETY: the entry point, its context and the value buffer are
            // valid per this function's contract.
            ok = unsafe { array_call(callee, std::ptr::null_mut(), ptr, len) };
        });
        self.ctx.stack_limit = prev_limit;
        match caught {
            Err(record) if record.kind == TrapKind::HostError => Err(take_host_failure()),
            Err(record) => Err(Error::Trap(Trap {
                kind: record.kind,
                backtrace: trap::symbolize(&record),
            })),
            Ok(()) if !ok => Err(take_host_failure()),
            Ok(()) => Ok(()),
        }
    }

    /// Stores an externref payload and returns its token (index + 1).
    pub(crate) fn new_externref(&mut self, payload: Box<dyn Any + Send + Sync>) -> u32 {
        self.externrefs.push(payload);
        self.externrefs.len() as u32
    }
}

/// The bytes of a memory of a store, if the store holds its only handle (a
/// memory shared between stores lends none).
pub(crate) fn unshared_bytes(memory: &Arc<crate::vm::memory::Memory>) -> &[u8] {
    match Arc::strong_count(memory) {
        1 => memory.data(),
        _ => &[],
    }
}

/// [`unshared_bytes`], mutably.
///
/// `Arc::get_mut` would say the same with a locked compare-exchange on
/// every call, and the runtime asks for a component's memory several times
/// per call into it.
pub(crate) fn unshared_bytes_mut(memory: &mut Arc<crate::vm::memory::Memory>) -> &mut [u8] {
    if Arc::strong_count(memory) == 1 {
        // SAFETY: the store holds the only `Arc` of the memory (the runtime
        // never makes a `Weak` one), so no other store or thread reaches its
        // bytes, and the `Arc` is borrowed mutably for as long as the slice
        // lives.
        unsafe { memory.data_unshared_mut() }
    } else {
        &mut []
    }
}

/// The error a failed host function left, re-raising a host panic.
fn take_host_failure() -> Error {
    match super::func::take_pending_error() {
        Some(super::HostFailure::Error(e)) => e,
        Some(super::HostFailure::Panic(p)) => std::panic::resume_unwind(p),
        None => Error::Trap(Trap::new(TrapKind::HostError)),
    }
}
