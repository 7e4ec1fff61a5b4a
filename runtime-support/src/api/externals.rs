//! Memories, tables and globals as host handles, and [`Extern`].

use super::store::{StoreOpaque, check_count};
use super::{AsStore, AsStoreMut, Error, Func, Store, Val};
use crate::abi::{FuncType, GlobalType, MemoryType, TableType, ValType};
use crate::vm::memory::Memory as VmMemory;
use crate::vm::table::Table as VmTable;
use crate::vm::{VMGlobalDefinition, ValRaw};
use std::ptr::NonNull;
use std::sync::Arc;

/// The type of an [`Extern`].
#[derive(Clone, Debug, PartialEq)]
pub enum ExternType {
    /// A function's signature.
    Func(Arc<FuncType>),
    /// A table's.
    Table(TableType),
    /// A memory's.
    Memory(MemoryType),
    /// A global's.
    Global(GlobalType),
}

/// Anything an instance can import or export.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Extern {
    /// A function.
    Func(Func),
    /// A table.
    Table(Table),
    /// A memory.
    Memory(Memory),
    /// A global.
    Global(Global),
}

impl Extern {
    /// The function, if this is one.
    pub fn into_func(self) -> Option<Func> {
        if let Extern::Func(f) = self {
            Some(f)
        } else {
            None
        }
    }
    /// The table, if this is one.
    pub fn into_table(self) -> Option<Table> {
        if let Extern::Table(t) = self {
            Some(t)
        } else {
            None
        }
    }
    /// The memory, if this is one.
    pub fn into_memory(self) -> Option<Memory> {
        if let Extern::Memory(m) = self {
            Some(m)
        } else {
            None
        }
    }
    /// The global, if this is one.
    pub fn into_global(self) -> Option<Global> {
        if let Extern::Global(g) = self {
            Some(g)
        } else {
            None
        }
    }

    /// Its type, with current sizes as minimums (what import matching uses).
    pub fn ty(&self, store: &impl AsStore) -> ExternType {
        let s = store.as_store();
        match self {
            Extern::Func(f) => ExternType::Func(f.ty(s)),
            Extern::Table(t) => ExternType::Table(t.ty(s)),
            Extern::Memory(m) => ExternType::Memory(m.ty(s)),
            Extern::Global(g) => ExternType::Global(g.ty),
        }
    }

    /// A short name of the kind, for errors.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Extern::Func(_) => "function",
            Extern::Table(_) => "table",
            Extern::Memory(_) => "memory",
            Extern::Global(_) => "global",
        }
    }
}

/// A linear memory in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Memory {
    pub(crate) store_id: u64,
    pub(crate) index: usize,
}

impl Memory {
    /// A new memory of type `ty`.
    pub fn new(mut store: impl AsStoreMut, ty: MemoryType) -> Result<Memory, Error> {
        let store = store.as_store_mut();
        store.new_memory(ty)
    }

    fn get<'a>(&self, store: &'a StoreOpaque) -> &'a VmMemory {
        store
            .check(self.store_id)
            .expect("memory used with another store");
        &store.memories[self.index]
    }

    /// Whether the memory is shared with other stores (made from a
    /// [`SharedMemory`]): then [`Memory::data`] and [`Memory::data_mut`]
    /// give no bytes, and [`SharedMemory::data`] gives them as cells.
    pub fn is_shared_between_stores(&self, store: &impl AsStore) -> bool {
        let store = store.as_store();
        store.check(self.store_id).is_ok() && Arc::strong_count(&store.memories[self.index]) > 1
    }

    /// The type, with the current size as minimum.
    pub fn ty(&self, store: &impl AsStore) -> MemoryType {
        let m = self.get(store.as_store());
        let mut ty = m.ty;
        ty.limits.min = m.pages();
        ty
    }

    /// Current size in pages.
    pub fn size(&self, store: &impl AsStore) -> u64 {
        self.get(store.as_store()).pages()
    }

    /// The memory's bytes (none for a memory shared between stores).
    pub fn data<'a>(&self, store: &'a impl AsStore) -> &'a [u8] {
        let store = store.as_store();
        store
            .check(self.store_id)
            .expect("memory used with another store");
        store.memory_bytes(self.index)
    }

    /// The memory's bytes, mutably (none for a memory shared between
    /// stores).
    pub fn data_mut<'a>(&self, store: &'a mut impl AsStoreMut) -> &'a mut [u8] {
        let store = store.as_store_mut();
        store
            .check(self.store_id)
            .expect("memory used with another store");
        store.memory_bytes_mut(self.index)
    }

    /// The memory's bytes and the store's embedder data at once, for host
    /// functions that read guest memory while updating their own state.
    pub fn data_and_store_mut<'a, T>(&self, store: &'a mut Store<T>) -> (&'a mut [u8], &'a mut T) {
        let (inner, data) = store.split_mut();
        inner
            .check(self.store_id)
            .expect("memory used with another store");
        (inner.memory_bytes_mut(self.index), data)
    }

    /// Grows by `delta` pages; returns the old size.
    pub fn grow(&self, mut store: impl AsStoreMut, delta: u64) -> Result<u64, Error> {
        let store = store.as_store_mut();
        store.check(self.store_id)?;
        store.memories[self.index]
            .grow(delta)
            .ok_or_else(|| Error::Usage(format!("cannot grow memory by {delta} pages")))
    }
}

/// A linear memory that several stores share, so that their threads run in
/// it at once (the threads proposal). Its type must be `shared`, with a
/// maximum; [`Memory::from_shared`] makes it a memory of a store, to define
/// in a linker. It lives as long as any store or handle holds it.
#[derive(Clone)]
pub struct SharedMemory {
    memory: Arc<VmMemory>,
    engine: super::Engine,
}

impl SharedMemory {
    /// A new shared memory of type `ty` for stores of `engine`.
    pub fn new(engine: &super::Engine, ty: MemoryType) -> Result<SharedMemory, Error> {
        if !ty.shared || ty.limits.max.is_none() {
            return Err(Error::Usage(
                "a shared memory needs a `shared` memory type with a maximum".into(),
            ));
        }
        let guarded = !engine.config().settings.explicit_bounds_checks;
        let memory =
            VmMemory::new(ty, crate::vm::memory::MAX_PAGES, guarded).map_err(Error::Resource)?;
        Ok(SharedMemory {
            memory: Arc::new(memory),
            engine: engine.clone(),
        })
    }

    /// The type, with the current size as minimum.
    pub fn ty(&self) -> MemoryType {
        let mut ty = self.memory.ty;
        ty.limits.min = self.memory.pages();
        ty
    }

    /// Current size in pages.
    pub fn size(&self) -> u64 {
        self.memory.pages()
    }

    /// Grows by `delta` pages; returns the old size. Threads running in the
    /// memory see the new pages at once.
    pub fn grow(&self, delta: u64) -> Result<u64, Error> {
        (self.memory.grow(delta))
            .ok_or_else(|| Error::Usage(format!("cannot grow memory by {delta} pages")))
    }

    /// The memory's bytes, as cells: other threads may change them at any
    /// moment, so they are read and written without references (e.g.
    /// `cell.get()` with `Cell`-like care, or atomics on aligned words).
    pub fn data(&self) -> &[std::cell::UnsafeCell<u8>] {
        let len = self.memory.len();
        // SAFETY: `len` bytes from the base are mapped read-write for as
        // long as `self` holds the memory; `UnsafeCell<u8>` has the layout
        // of `u8` and asserts nothing about other writers.
        unsafe { std::slice::from_raw_parts(self.memory.def.base.cast(), len) }
    }
}

impl Memory {
    /// A handle to this memory for other stores, if its type is `shared`.
    pub fn to_shared(&self, store: &impl AsStore) -> Option<SharedMemory> {
        let store = store.as_store();
        store.check(self.store_id).ok()?;
        let memory = &store.memories[self.index];
        memory.ty.shared.then(|| SharedMemory {
            memory: memory.clone(),
            engine: store.engine.clone(),
        })
    }

    /// `shared` as a memory of `store`, counted against its memory limit.
    pub fn from_shared(mut store: impl AsStoreMut, shared: &SharedMemory) -> Result<Memory, Error> {
        let store = store.as_store_mut();
        if !super::Engine::same(&store.engine, &shared.engine) {
            return Err(Error::Usage(
                "the shared memory belongs to another engine than the store".into(),
            ));
        }
        store.push_memory(shared.memory.clone())
    }
}

/// A table in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Table {
    pub(crate) store_id: u64,
    pub(crate) index: usize,
}

/// Fails when `val` is a host function compiled code cannot call yet.
fn check_callable(store: &StoreOpaque, val: &Val) -> Result<(), Error> {
    if let Val::FuncRef(Some(f)) = val
        && !f.has_wasm_call()
        && f.is_host(store)
    {
        return Err(Error::Usage(
            "a host function can be stored in a table or global only after a module importing it was instantiated".into(),
        ));
    }
    Ok(())
}

fn check_type(val: &Val, want: ValType) -> Result<(), Error> {
    if val.ty() == want {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "value of type {} where {want} was expected",
            val.ty()
        )))
    }
}

impl Table {
    /// A new table of type `ty`, every element `init`.
    pub fn new(mut store: impl AsStoreMut, ty: TableType, init: Val) -> Result<Table, Error> {
        let store = store.as_store_mut();
        check_type(&init, ty.element)?;
        check_callable(store, &init)?;
        let bits = init.to_ref_bits(store)?;
        store.new_table(ty, bits)
    }

    fn get_vm<'a>(&self, store: &'a StoreOpaque) -> &'a VmTable {
        store
            .check(self.store_id)
            .expect("table used with another store");
        &store.tables[self.index]
    }

    /// The type, with the current size as minimum.
    pub fn ty(&self, store: &impl AsStore) -> TableType {
        let t = self.get_vm(store.as_store());
        let mut ty = t.ty;
        ty.limits.min = u64::from(t.len());
        ty
    }

    /// Current size in elements.
    pub fn size(&self, store: &impl AsStore) -> u32 {
        self.get_vm(store.as_store()).len()
    }

    /// Element `index`, or `None` when out of bounds.
    pub fn get(&self, store: &impl AsStore, index: u32) -> Option<Val> {
        let s = store.as_store();
        let t = self.get_vm(s);
        t.get(index)
            .map(|bits| Val::from_ref_bits(s, bits, t.ty.element))
    }

    /// Sets element `index`.
    pub fn set(&self, mut store: impl AsStoreMut, index: u32, val: Val) -> Result<(), Error> {
        let store = store.as_store_mut();
        store.check(self.store_id)?;
        check_type(&val, store.tables[self.index].ty.element)?;
        check_callable(store, &val)?;
        let bits = val.to_ref_bits(store)?;
        if store.tables[self.index].set(index, bits) {
            Ok(())
        } else {
            Err(Error::Usage(format!("table index {index} out of bounds")))
        }
    }

    /// Grows by `delta` elements set to `init`; returns the old size.
    pub fn grow(&self, mut store: impl AsStoreMut, delta: u32, init: Val) -> Result<u32, Error> {
        let store = store.as_store_mut();
        store.check(self.store_id)?;
        check_type(&init, store.tables[self.index].ty.element)?;
        check_callable(store, &init)?;
        let bits = init.to_ref_bits(store)?;
        store.tables[self.index]
            .grow(delta, bits)
            .ok_or_else(|| Error::Usage(format!("cannot grow table by {delta} elements")))
    }
}

/// A global in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Global {
    pub(crate) store_id: u64,
    pub(crate) def: NonNull<VMGlobalDefinition>,
    pub(crate) ty: GlobalType,
}

// SAFETY: a handle; only dereferenced through its store (checked by id).
unsafe impl Send for Global {}
// SAFETY: as above.
unsafe impl Sync for Global {}

impl Global {
    /// A new global of type `ty` holding `val`.
    pub fn new(mut store: impl AsStoreMut, ty: GlobalType, val: Val) -> Result<Global, Error> {
        let store = store.as_store_mut();
        check_type(&val, ty.content)?;
        check_callable(store, &val)?;
        let mut def = Box::new(VMGlobalDefinition(val.encode_raw(store)?));
        let ptr = NonNull::from(&mut *def);
        store.globals.push(def);
        Ok(Global {
            store_id: store.id,
            def: ptr,
            ty,
        })
    }

    /// The type.
    pub fn ty(&self) -> GlobalType {
        self.ty
    }

    /// The current value.
    pub fn get(&self, store: &impl AsStore) -> Val {
        let store = store.as_store();
        store
            .check(self.store_id)
            .expect("global used with another store");
        // SAFETY: the definition is owned by this store (checked).
        let raw: ValRaw = unsafe { self.def.as_ref().0 };
        Val::from_raw(store, raw, self.ty.content)
    }

    /// The value of an `i32` global of the store `_store`, without checks:
    /// for the runtime's own globals on hot paths.
    #[inline]
    pub(crate) fn get_i32(&self, _store: &StoreOpaque) -> i32 {
        // SAFETY: the runtime only calls this on globals it made in this
        // store (borrowed, so alive), whose first four bytes are the `i32`.
        unsafe { self.def.as_ref().0.get_u32() as i32 }
    }

    /// Sets an `i32` global of the store `_store` to `value`, without
    /// checks: for the runtime's own mutable globals.
    #[inline]
    pub(crate) fn set_i32(&self, _store: &mut StoreOpaque, value: i32) {
        // SAFETY: as for `get_i32`; the store is borrowed mutably, so no
        // other reference to the definition is in use.
        unsafe { (*self.def.as_ptr()).0 = ValRaw::from_u32(value as u32) };
    }

    /// Sets the value of a mutable global.
    pub fn set(&self, mut store: impl AsStoreMut, val: Val) -> Result<(), Error> {
        let store = store.as_store_mut();
        store.check(self.store_id)?;
        if !self.ty.mutable {
            return Err(Error::Usage("cannot set an immutable global".into()));
        }
        check_type(&val, self.ty.content)?;
        check_callable(store, &val)?;
        let raw = val.encode_raw(store)?;
        // SAFETY: the definition is owned by this store (checked).
        unsafe { (*self.def.as_ptr()).0 = raw };
        Ok(())
    }
}

impl StoreOpaque {
    /// A new memory of type `ty`, within the store's limits.
    pub(crate) fn new_memory(&mut self, ty: MemoryType) -> Result<Memory, Error> {
        // Code of an engine with explicit bounds checks needs no guard
        // region (every artifact it loads has the same setting).
        let guarded = !self.engine.config().settings.explicit_bounds_checks;
        let memory =
            VmMemory::new(ty, self.limits.memory_pages, guarded).map_err(Error::Resource)?;
        self.push_memory(Arc::new(memory))
    }

    /// Adds `memory` to the store, within its count limit.
    pub(crate) fn push_memory(&mut self, memory: Arc<VmMemory>) -> Result<Memory, Error> {
        check_count(self.memories.len(), self.limits.memories, "memories")?;
        self.memories.push(memory);
        Ok(Memory {
            store_id: self.id,
            index: self.memories.len() - 1,
        })
    }

    /// A new table of type `ty`, every element the reference `bits`, within
    /// the store's limits.
    pub(crate) fn new_table(&mut self, ty: TableType, bits: usize) -> Result<Table, Error> {
        check_count(self.tables.len(), self.limits.tables, "tables")?;
        let table = VmTable::new(ty, bits, self.limits.table_elements).map_err(Error::Resource)?;
        self.tables.push(Box::new(table));
        Ok(Table {
            store_id: self.id,
            index: self.tables.len() - 1,
        })
    }
}
