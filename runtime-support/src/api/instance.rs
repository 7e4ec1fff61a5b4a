//! Instantiation: linking imports, creating memories, tables and globals,
//! applying segments and running the start function.

use super::store::check_count;
use super::store::{StoreInstance, StoreOpaque};
use super::{
    AsStore, AsStoreMut, Engine, Error, Extern, Func, Global, Memory, Module, Table, Trap,
};
use crate::abi::EntityRef;
use crate::abi::{
    ConstExpr, ConstOp, ElemItems, EntityIndex, EntityType, FuncIndex, GlobalIndex, PrimaryMap,
    SegmentMode, TrapKind, func_ref,
};
use crate::vm::instance::InstanceData;
use crate::vm::{VMFuncImport, VMFuncRef, VMGlobalDefinition, ValRaw};
use std::ptr::NonNull;
use std::sync::Arc;

/// An instance of a module in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Instance {
    pub(crate) store_id: u64,
    pub(crate) index: usize,
}

impl InstanceData {
    /// The API handle of this instance.
    pub(crate) fn handle(&self, store_id: u64) -> Instance {
        Instance {
            store_id,
            index: self.index,
        }
    }
}

impl Instance {
    /// Instantiates `module` with `imports` given in the module's import
    /// order.
    ///
    /// If a segment traps or the start function fails, the error is returned,
    /// but what the instance already wrote to imported tables and memories
    /// stays (as the spec requires).
    pub fn new(
        mut store: impl AsStoreMut,
        module: &Module,
        imports: &[Extern],
    ) -> Result<Instance, Error> {
        let store = store.as_store_mut();
        if !Engine::same(module.engine(), &store.engine) {
            return Err(Error::Usage(
                "the module belongs to another engine than the store".into(),
            ));
        }
        let meta = module.meta();
        if imports.len() != meta.imports.len() {
            return Err(Error::Link(format!(
                "module expects {} import(s), {} given",
                meta.imports.len(),
                imports.len()
            )));
        }
        check_count(store.instances.len(), store.limits.instances, "instances")?;
        let mut data = InstanceData::new(module.runtime_info(), &mut *store.ctx);
        link_imports(store, module, &mut data, imports)?;
        create_definitions(store, module, &mut data)?;

        data.index = store.instances.len();
        let vmctx_data: *mut InstanceData = &mut *data;
        store.instances.push(StoreInstance {
            module: module.clone(),
            data,
        });
        let instance = Instance {
            store_id: store.id,
            index: store.instances.len() - 1,
        };
        // SAFETY: the box was just pushed and is not moved by later pushes.
        let data = unsafe { &mut *vmctx_data };
        initialize_segments(module, data)?;
        if let Some(start) = meta.start {
            let func = Func {
                store_id: store.id,
                func_ref: NonNull::new(data.func_ref(start).cast_mut())
                    .expect("start function ref"),
            };
            func.call(&mut *store, &[], &mut [])?;
        }
        Ok(instance)
    }

    fn data<'a>(&self, store: &'a StoreOpaque) -> &'a InstanceData {
        &self.entry(store).data
    }

    fn entry<'a>(&self, store: &'a StoreOpaque) -> &'a StoreInstance {
        store
            .check(self.store_id)
            .expect("instance used with another store");
        &store.instances[self.index]
    }

    /// The export called `name`.
    ///
    /// # Panics
    ///
    /// If `store` is not the store this instance lives in (as every handle
    /// method does: using a handle with another store is a programming error).
    pub fn get_export(&self, store: impl AsStore, name: &str) -> Option<Extern> {
        let s = store.as_store();
        let data = self.data(s);
        let export = data.module.meta().exports.iter().find(|e| e.name == name)?;
        Some(export_extern(s, data, export.index))
    }

    /// The exported function called `name`.
    pub fn get_func(&self, store: impl AsStore, name: &str) -> Option<Func> {
        self.get_export(store, name)?.into_func()
    }

    /// Every export with its name, in declaration order.
    pub fn exports(&self, store: impl AsStore) -> Vec<(String, Extern)> {
        let s = store.as_store();
        let data = self.data(s);
        data.module
            .meta()
            .exports
            .iter()
            .map(|e| (e.name.clone(), export_extern(s, data, e.index)))
            .collect()
    }

    /// The module this is an instance of.
    pub fn module<'a>(&self, store: &'a impl AsStore) -> &'a Module {
        &self.entry(store.as_store()).module
    }
}

fn export_extern(store: &StoreOpaque, data: &InstanceData, index: EntityIndex) -> Extern {
    match index {
        EntityIndex::Func(index) => Extern::Func(Func {
            store_id: store.id,
            func_ref: NonNull::new(data.func_ref(index).cast_mut())
                .expect("exported function has a func ref"),
        }),
        EntityIndex::Table(index) => Extern::Table(Table {
            store_id: store.id,
            index: data.table_ids[index],
        }),
        EntityIndex::Memory(index) => Extern::Memory(Memory {
            store_id: store.id,
            index: data.memory_ids[index],
        }),
        EntityIndex::Global(index) => Extern::Global(Global {
            store_id: store.id,
            def: NonNull::new(data.global(index)).expect("global storage"),
            ty: data.module.meta().globals[index],
        }),
    }
}

fn link_imports(
    store: &mut StoreOpaque,
    module: &Module,
    data: &mut InstanceData,
    imports: &[Extern],
) -> Result<(), Error> {
    let meta = module.meta();
    let text = module.artifact().text_base();
    let (mut funcs, mut globals) = (FuncIndex::new(0), GlobalIndex::new(0));
    for (import, ext) in meta.imports.iter().zip(imports) {
        let mismatch = |found: String| {
            Error::Link(format!(
                "incompatible import type for `{}::{}`: expected {}, found {found}",
                import.module,
                import.name,
                describe(&import.ty, module.meta())
            ))
        };
        match (&import.ty, ext) {
            (EntityType::Func(ty), Extern::Func(f)) => {
                store.check(f.store_id)?;
                if f.type_id() != module.signature_ids()[*ty] {
                    return Err(mismatch(format!("a function of type {}", f.ty(&*store))));
                }
                let trampoline = meta.import_trampolines[funcs.index()];
                // SAFETY: the trampoline is this module's exit trampoline for
                // this import's signature; the module outlives the store's use.
                unsafe { f.provide_wasm_call((text + trampoline.start as usize) as *const u8) };
                // SAFETY: `f` belongs to this store (checked above), which
                // keeps its func ref alive.
                let r: &VMFuncRef = unsafe { f.func_ref.as_ref() };
                // SAFETY: the slot belongs to this module's layout.
                unsafe {
                    data.func_import(funcs).write(VMFuncImport {
                        wasm_call: r.wasm_call,
                        vmctx: r.vmctx,
                        func_ref: r,
                    })
                };
                funcs = FuncIndex::new(funcs.index() + 1);
            }
            (EntityType::Table(want), Extern::Table(t)) => {
                store.check(t.store_id)?;
                let have = t.ty(&*store);
                if have.element != want.element
                    || have.table64 != want.table64
                    || !have.limits.matches(&want.limits)
                {
                    return Err(mismatch(format!(
                        "a table of {} with limits {:?}",
                        have.element, have.limits
                    )));
                }
                data.tables.push(&mut *store.tables[t.index]);
                data.table_ids.push(t.index);
            }
            (EntityType::Memory(want), Extern::Memory(m)) => {
                store.check(m.store_id)?;
                let have = m.ty(&*store);
                if have.shared != want.shared
                    || have.memory64 != want.memory64
                    || have.page_size_log2 != want.page_size_log2
                    || !have.limits.matches(&want.limits)
                {
                    return Err(mismatch(format!("a memory with limits {:?}", have.limits)));
                }
                data.memories.push(Arc::as_ptr(&store.memories[m.index]));
                data.memory_ids.push(m.index);
            }
            (EntityType::Global(want), Extern::Global(g)) => {
                store.check(g.store_id)?;
                if g.ty != *want {
                    return Err(mismatch(format!("a global of type {:?}", g.ty)));
                }
                // SAFETY: the slot belongs to this module's layout.
                unsafe { data.write(data.offsets.imported_global(globals), g.def.as_ptr()) };
                globals = GlobalIndex::new(globals.index() + 1);
            }
            (_, other) => return Err(mismatch(format!("a {}", other.kind_name()))),
        }
    }
    Ok(())
}

fn describe(ty: &EntityType, meta: &crate::abi::ModuleMeta) -> String {
    match ty {
        EntityType::Func(t) => format!("a function of type {}", meta.types[*t]),
        EntityType::Table(t) => format!("a table of {} with limits {:?}", t.element, t.limits),
        EntityType::Memory(m) => format!("a memory with limits {:?}", m.limits),
        EntityType::Global(g) => format!("a global of type {g:?}"),
    }
}

/// Creates the module's own memories, tables, function references and
/// globals, and points the VM context at everything.
fn create_definitions(
    store: &mut StoreOpaque,
    module: &Module,
    data: &mut InstanceData,
) -> Result<(), Error> {
    let meta = module.meta();
    let defined_memories = meta
        .memories
        .values()
        .skip(meta.num_imported_memories as usize);
    for ty in defined_memories {
        let handle = store.new_memory(*ty)?;
        data.memories
            .push(Arc::as_ptr(&store.memories[handle.index]));
        data.memory_ids.push(handle.index);
    }
    for ty in meta.tables.values().skip(meta.num_imported_tables as usize) {
        let handle = store.new_table(*ty, 0)?;
        data.tables.push(&mut *store.tables[handle.index]);
        data.table_ids.push(handle.index);
    }
    for (i, &table) in &data.tables {
        // SAFETY: the offset comes from this module's layout, and `table`
        // points at a store-owned table.
        unsafe { data.write(data.offsets.table(i), &mut (*table).def as *mut _) };
    }
    for (i, &memory) in &data.memories {
        // SAFETY: the offsets come from this module's layout, and `memory`
        // points at a store-owned memory.
        unsafe {
            // Compiled code only reads the definition; growth changes its
            // atomic length.
            let def = std::ptr::addr_of!((*memory).def).cast_mut();
            data.write(data.offsets.memory(i), def);
            data.write(data.offsets.memory_base(i), (*memory).def.base);
        }
    }
    let text = module.artifact().text_base();
    let vmctx = data.vmctx();
    for &(func, trampoline) in &meta.array_trampolines {
        let slot = meta.func_ref_slots[func].expect("a function with a trampoline has a func ref");
        let code = meta.code[meta.defined_func(func).expect("a defined function")];
        let record = VMFuncRef {
            // SAFETY: the trampoline is array-call code of this artifact.
            array_call: Some(unsafe {
                std::mem::transmute::<usize, crate::vm::VMArrayCallFn>(
                    text + trampoline.start as usize,
                )
            }),
            wasm_call: (text + code.start as usize) as *const u8,
            vmctx,
            type_id: module.signature_ids()[meta.functions[func]],
            ty: Arc::as_ptr(&module.func_types()[meta.functions[func]]),
        };
        const _: () = assert!(func_ref::SIZE as usize == std::mem::size_of::<VMFuncRef>());
        // SAFETY: `slot` is a func-ref slot of this module's layout.
        unsafe { data.write(data.offsets.func_ref(slot), record) };
    }
    for (i, init) in meta.global_inits.iter().enumerate() {
        let value = eval_const(data, init);
        let index = GlobalIndex::new(meta.num_imported_globals as usize + i);
        // SAFETY: `index` is a defined global, whose storage is a slot of
        // this instance's VM context.
        unsafe { data.global(index).write(VMGlobalDefinition(value)) };
    }
    Ok(())
}

/// Evaluates a constant expression (validated by the compiler).
fn eval_const(data: &InstanceData, expr: &ConstExpr) -> ValRaw {
    let mut stack: Vec<ValRaw> = Vec::with_capacity(2);
    for op in &expr.0 {
        let v = match *op {
            ConstOp::I32Const(v) => ValRaw::from_u32(v as u32),
            ConstOp::I64Const(v) => ValRaw::from_u64(v as u64),
            ConstOp::F32Const(v) => ValRaw::from_u32(v),
            ConstOp::F64Const(v) => ValRaw::from_u64(v),
            ConstOp::V128Const(v) => ValRaw::from_u128(v),
            ConstOp::RefNull => ValRaw::from_u64(0),
            ConstOp::RefFunc(f) => ValRaw::from_u64(data.func_ref(f) as u64),
            // SAFETY: validated global indices; storage is initialised.
            ConstOp::GlobalGet(g) => unsafe { (*data.global(g)).0 },
            ConstOp::I32Add | ConstOp::I32Sub | ConstOp::I32Mul => {
                let (b, a) = (
                    stack.pop().unwrap().get_u32(),
                    stack.pop().unwrap().get_u32(),
                );
                ValRaw::from_u32(match op {
                    ConstOp::I32Add => a.wrapping_add(b),
                    ConstOp::I32Sub => a.wrapping_sub(b),
                    _ => a.wrapping_mul(b),
                })
            }
            ConstOp::I64Add | ConstOp::I64Sub | ConstOp::I64Mul => {
                let (b, a) = (
                    stack.pop().unwrap().get_u64(),
                    stack.pop().unwrap().get_u64(),
                );
                ValRaw::from_u64(match op {
                    ConstOp::I64Add => a.wrapping_add(b),
                    ConstOp::I64Sub => a.wrapping_sub(b),
                    _ => a.wrapping_mul(b),
                })
            }
        };
        stack.push(v);
    }
    stack.pop().expect("constant expression yields a value")
}

/// Evaluates element segments, then applies active element and data
/// segments in order; the first out-of-bounds segment traps.
fn initialize_segments(module: &Module, data: &mut InstanceData) -> Result<(), Error> {
    let meta = module.meta();
    data.elements = meta
        .elems
        .values()
        .map(|seg| match &seg.items {
            ElemItems::Funcs(funcs) => funcs.iter().map(|&f| data.func_ref(f) as usize).collect(),
            ElemItems::Exprs(exprs) => exprs
                .iter()
                .map(|e| eval_const(data, e).get_u64() as usize)
                .collect(),
        })
        .collect();
    data.dropped_data = PrimaryMap::from(vec![false; meta.data.len()]);
    for (i, seg) in &meta.elems {
        match &seg.mode {
            SegmentMode::Active { index, offset } => {
                // SAFETY: table pointers refer to store-owned tables.
                let table = unsafe { &mut *data.tables[*index] };
                let offset = eval_const(data, offset);
                let offset = if table.ty.table64 {
                    offset.get_u64()
                } else {
                    u64::from(offset.get_u32())
                };
                let items = std::mem::take(&mut data.elements[i]);
                let end = offset.checked_add(items.len() as u64);
                let Some(end) = end.filter(|&end| end <= u64::from(table.len())) else {
                    return Err(Trap::new(TrapKind::TableOutOfBounds).into());
                };
                table.elements[offset as usize..end as usize].copy_from_slice(&items);
            }
            SegmentMode::Declared => data.elements[i] = Vec::new(),
            SegmentMode::Passive => {}
        }
    }
    for (i, seg) in &meta.data {
        if let SegmentMode::Active { index, offset } = &seg.mode {
            // SAFETY: memory pointers refer to store-owned memories; a shared
            // one is only reached through raw pointers below.
            let memory = unsafe { &*data.memories[*index] };
            let offset = eval_const(data, offset);
            let offset = if memory.ty.memory64 {
                offset.get_u64()
            } else {
                u64::from(offset.get_u32())
            };
            let bytes = module.artifact().data_segment(i);
            let end = offset.checked_add(bytes.len() as u64);
            if end.is_none_or(|end| end > memory.len() as u64) {
                return Err(Trap::new(TrapKind::MemoryOutOfBounds).into());
            }
            // SAFETY: the range was checked against the memory's length; the
            // segment's bytes are in the artifact, not in a linear memory.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    bytes.as_ptr(),
                    memory.def.base.add(offset as usize),
                    bytes.len(),
                )
            };
            data.dropped_data[i] = true;
        }
    }
    Ok(())
}
