//! The runtime helpers listed in [`foreach_builtin!`](crate::foreach_builtin).
//!
//! Each returns a status instead of unwinding, so that the trap is raised by
//! compiled code (see `abi/builtins.rs`). None can panic (a panic cannot
//! cross `extern "C"`, so it would abort the process): an index the module
//! does not have, which compiled code never passes but a damaged artifact
//! could, is a trap like an out-of-bounds access.

use super::instance::InstanceData;
use super::memory::Memory;
use super::table::Table;
use crate::abi::{DataIndex, ElemIndex, MemoryIndex, TableIndex};
use std::ffi::c_void;

type VmCtx = *mut c_void;

/// Bounds check for `start..start+len` within `size`.
fn in_bounds(start: impl Into<u64>, len: impl Into<u64>, size: usize) -> bool {
    (start.into().checked_add(len.into())).is_some_and(|end| end <= size as u64)
}

const OK: u32 = 0;
const TRAP: u32 = 1;

macro_rules! builtin_table {
    ($( $(#[$attr:meta])* $name:ident($($pname:ident: $pty:ident),*) -> $rty:ident;)*) => {
        static TABLE: BuiltinTable = BuiltinTable([$({
            let f: unsafe extern "C" fn($(builtin_table!(@ty $pty)),*) -> builtin_table!(@ty $rty) = $name;
            f as *const ()
        }),*]);
    };
    (@ty vmctx) => { VmCtx };
    (@ty i32) => { u32 };
    (@ty i64) => { u64 };
    (@ty ptr) => { usize };
    (@ty memory) => { MemoryIndex };
    (@ty table) => { TableIndex };
    (@ty data) => { DataIndex };
    (@ty elem) => { ElemIndex };
}
crate::foreach_builtin!(builtin_table);

/// Function pointers in `foreach_builtin!` order.
struct BuiltinTable([*const (); crate::abi::BUILTIN_NAMES.len()]);

// SAFETY: immutable code addresses.
unsafe impl Sync for BuiltinTable {}

/// The table whose address every VM context holds.
pub(crate) fn table() -> *const *const () {
    TABLE.0.as_ptr()
}

/// # Safety
/// `vmctx` must be the context of a live instance (true for every call from
/// compiled code).
unsafe fn instance<'a>(vmctx: VmCtx) -> &'a mut InstanceData {
    // SAFETY: see above.
    unsafe { InstanceData::from_vmctx(vmctx) }
}

/// Memory `index` of `inst`, if its module has it. Shared: a shared memory
/// may be in use by other threads, so its bytes are only ever reached
/// through raw pointers.
fn memory_of(inst: &InstanceData, index: MemoryIndex) -> Option<&Memory> {
    // SAFETY: memory pointers refer to memories the store keeps alive
    // (shared ones through their `Arc`), which outlive the instance.
    inst.memories.get(index).map(|&m| unsafe { &*m })
}

/// Table `index` of `inst`, if its module has it.
fn table_of(inst: &mut InstanceData, index: TableIndex) -> Option<&mut Table> {
    // SAFETY: as in `memory_of`, for store-owned tables.
    inst.tables.get(index).map(|&t| unsafe { &mut *t })
}

unsafe extern "C" fn memory_grow(vmctx: VmCtx, memory: MemoryIndex, delta: u64) -> u64 {
    // SAFETY: called from compiled code with its own vmctx.
    let Some(mem) = memory_of(unsafe { instance(vmctx) }, memory) else {
        return u64::MAX;
    };
    mem.grow(delta).unwrap_or(u64::MAX)
}

unsafe extern "C" fn memory_fill(
    vmctx: VmCtx,
    memory: MemoryIndex,
    dst: u64,
    val: u32,
    len: u64,
) -> u32 {
    // SAFETY: as in `memory_grow`.
    let Some(mem) = memory_of(unsafe { instance(vmctx) }, memory) else {
        return TRAP;
    };
    if !in_bounds(dst, len, mem.len()) {
        return TRAP;
    }
    // SAFETY: the range was checked against the memory's length.
    unsafe {
        mem.def
            .base
            .add(dst as usize)
            .write_bytes(val as u8, len as usize)
    };
    OK
}

unsafe extern "C" fn memory_copy(
    vmctx: VmCtx,
    dst_mem: MemoryIndex,
    src_mem: MemoryIndex,
    dst: u64,
    src: u64,
    len: u64,
) -> u32 {
    // SAFETY: as in `memory_grow`; the two memories may be the same, so
    // only raw pointers are used for the copy.
    let inst = unsafe { instance(vmctx) };
    let (Some(&d), Some(&s)) = (inst.memories.get(dst_mem), inst.memories.get(src_mem)) else {
        return TRAP;
    };
    // SAFETY: memory pointers refer to store-owned memories; both are only
    // read here.
    let (d, s) = unsafe { (&*d, &*s) };
    if !in_bounds(dst, len, d.len()) || !in_bounds(src, len, s.len()) {
        return TRAP;
    }
    // SAFETY: both ranges were checked against their memories; `copy`
    // allows overlap.
    unsafe {
        std::ptr::copy(
            s.def.base.add(src as usize),
            d.def.base.add(dst as usize),
            len as usize,
        )
    };
    OK
}

unsafe extern "C" fn memory_init(
    vmctx: VmCtx,
    memory: MemoryIndex,
    data: DataIndex,
    dst: u64,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: as in `memory_grow`.
    let inst = unsafe { instance(vmctx) };
    let bytes: &[u8] = match inst.dropped_data.get(data) {
        Some(true) => &[],
        Some(false) => inst.module.data_segment(data),
        None => return TRAP,
    };
    let Some(mem) = memory_of(inst, memory) else {
        return TRAP;
    };
    let (src, len) = (u64::from(src), u64::from(len));
    if !in_bounds(src, len, bytes.len()) || !in_bounds(dst, len, mem.len()) {
        return TRAP;
    }
    // SAFETY: both ranges were checked; the segment's bytes are not in a
    // linear memory.
    unsafe {
        std::ptr::copy_nonoverlapping(
            bytes.as_ptr().add(src as usize),
            mem.def.base.add(dst as usize),
            len as usize,
        )
    };
    OK
}

unsafe extern "C" fn data_drop(vmctx: VmCtx, data: DataIndex) -> u32 {
    // SAFETY: as in `memory_grow`.
    match unsafe { instance(vmctx) }.dropped_data.get_mut(data) {
        Some(dropped) => {
            *dropped = true;
            OK
        }
        None => TRAP,
    }
}

/// The native address of the `size`-byte atomic at effective address
/// `addr` of `memory`, if it is aligned and in bounds (compiled code checked
/// both; a bad value still never reaches memory).
fn atomic_address(memory: &Memory, addr: u64, size: u64) -> Option<usize> {
    let aligned = addr.is_multiple_of(size);
    (aligned && in_bounds(addr, size, memory.len()))
        .then(|| memory.def.base as usize + addr as usize)
}

unsafe extern "C" fn memory_atomic_notify(
    vmctx: VmCtx,
    memory: MemoryIndex,
    addr: u64,
    count: u32,
) -> u32 {
    // SAFETY: as in `memory_grow`.
    let Some(mem) = memory_of(unsafe { instance(vmctx) }, memory) else {
        return 0;
    };
    // An unshared memory has no other thread to wake.
    match atomic_address(mem, addr, 4) {
        Some(native) if mem.ty.shared => super::parking::notify(native, count),
        _ => 0,
    }
}

unsafe extern "C" fn memory_atomic_wait(
    vmctx: VmCtx,
    memory: MemoryIndex,
    addr: u64,
    expected: u64,
    timeout: u64,
    wide: u32,
) -> u32 {
    // SAFETY: as in `memory_grow`.
    let Some(mem) = memory_of(unsafe { instance(vmctx) }, memory) else {
        return u32::MAX;
    };
    let wide = wide != 0;
    let size = if wide { 8 } else { 4 };
    let (true, Some(native)) = (mem.ty.shared, atomic_address(mem, addr, size)) else {
        return u32::MAX;
    };
    // A negative timeout waits forever.
    let timeout = i64::try_from(timeout)
        .ok()
        .map(|ns| std::time::Duration::from_nanos(ns as u64));
    // SAFETY: aligned and in bounds of a live memory (checked above).
    unsafe { super::parking::wait(native, expected, wide, timeout) as u32 }
}

unsafe extern "C" fn table_grow(vmctx: VmCtx, table: TableIndex, delta: u64, init: usize) -> u64 {
    // SAFETY: as in `memory_grow`.
    let Some(t) = table_of(unsafe { instance(vmctx) }, table) else {
        return u64::MAX;
    };
    // No table holds 2^32 elements: a larger delta fails like any other.
    let Ok(delta) = u32::try_from(delta) else {
        return u64::MAX;
    };
    t.grow(delta, init).map_or(u64::MAX, u64::from)
}

unsafe extern "C" fn table_fill(
    vmctx: VmCtx,
    table: TableIndex,
    dst: u64,
    val: usize,
    len: u64,
) -> u32 {
    // SAFETY: as in `memory_grow`.
    let Some(t) = table_of(unsafe { instance(vmctx) }, table) else {
        return TRAP;
    };
    if !in_bounds(dst, len, t.elements.len()) {
        return TRAP;
    }
    t.elements[dst as usize..][..len as usize].fill(val);
    OK
}

unsafe extern "C" fn table_copy(
    vmctx: VmCtx,
    dst_table: TableIndex,
    src_table: TableIndex,
    dst: u64,
    src: u64,
    len: u64,
) -> u32 {
    // SAFETY: as in `table_grow`; the tables may be the same one.
    let inst = unsafe { instance(vmctx) };
    let (Some(&d), Some(&s)) = (inst.tables.get(dst_table), inst.tables.get(src_table)) else {
        return TRAP;
    };
    // SAFETY: table pointers refer to store-owned tables.
    let (dlen, slen) = unsafe { ((*d).elements.len(), (*s).elements.len()) };
    if !in_bounds(dst, len, dlen) || !in_bounds(src, len, slen) {
        return TRAP;
    }
    // SAFETY: ranges checked; `copy` allows overlap within one table.
    unsafe {
        std::ptr::copy(
            (*s).elements.as_ptr().add(src as usize),
            (*d).elements.as_mut_ptr().add(dst as usize),
            len as usize,
        )
    };
    OK
}

unsafe extern "C" fn table_init(
    vmctx: VmCtx,
    table: TableIndex,
    elem: ElemIndex,
    dst: u64,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: as in `table_grow`.
    let inst = unsafe { instance(vmctx) };
    let (Some(items), Some(&t)) = (inst.elements.get(elem), inst.tables.get(table)) else {
        return TRAP;
    };
    // SAFETY: table pointers refer to store-owned tables.
    let t = unsafe { &mut *t };
    let (src, len) = (u64::from(src), u64::from(len));
    if !in_bounds(src, len, items.len()) || !in_bounds(dst, len, t.elements.len()) {
        return TRAP;
    }
    t.elements[dst as usize..][..len as usize]
        .copy_from_slice(&items[src as usize..][..len as usize]);
    OK
}

unsafe extern "C" fn elem_drop(vmctx: VmCtx, elem: ElemIndex) -> u32 {
    // SAFETY: as in `memory_grow`.
    match unsafe { instance(vmctx) }.elements.get_mut(elem) {
        Some(items) => {
            *items = Vec::new();
            OK
        }
        None => TRAP,
    }
}
