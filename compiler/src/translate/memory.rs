//! Linear memory access.
//!
//! ****************************************************************
//! Bounds checks are the safety of the sandbox: review with care.
//! ****************************************************************
//!
//! Every 32-bit memory reserves 8 GiB of address space plus a guard page
//! (see the runtime's `vm/memory.rs`), and only its current length is
//! accessible. An effective address is `base + zext(index) + offset` with
//! index and offset both below 2^32, so it always falls inside the
//! reservation: an out-of-bounds access faults on an inaccessible page and
//! the load or store's trap-table entry turns the fault into "out of bounds
//! memory access". No explicit check is emitted. The base never moves, so its
//! load is marked read-only and movable, letting Cranelift hoist it.
//!
//! A 64-bit memory (memory64) has the same reservation, but an `i64` index
//! and offset reach far beyond it; a memory of one-byte pages
//! (custom-page-sizes) ends inside a system page, where no fault comes.
//! Their accesses check `index + offset + access size <= length` explicitly
//! (the sum trapping on overflow), against the current length, which
//! `memory.grow` changes; so do every memory's with
//! `CompileSettings::explicit_bounds_checks`.

use super::func::FuncTranslator;
use super::trap_code;
use cmc_runtime::abi::{Builtin, DataIndex, MemoryIndex, TrapKind, memory_def};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value, types};
use cranelift_frontend::FunctionBuilder;
use wasmparser::{MemArg, MemArgTarget};

/// Flags of a wasm heap access: may trap (as out of bounds), may be
/// unaligned.
fn heap_flags() -> MemFlagsData {
    MemFlagsData::new()
}

impl FuncTranslator<'_, '_> {
    pub(super) fn memory_index(memarg: &MemArg) -> MemoryIndex {
        match memarg.target {
            MemArgTarget::Memory(m) => MemoryIndex::from_u32(m),
            MemArgTarget::Array(_) => unreachable!("validated: GC is not enabled"),
        }
    }

    /// The native address of a wasm access and the immediate offset to use.
    pub(super) fn heap_addr(&mut self, memarg: &MemArg, index: Value) -> (Value, i32) {
        let mem = Self::memory_index(memarg);
        let base = self.vmctx_load(self.env.offsets.memory_base(mem));
        let checked =
            self.env.explicit_bounds_checks || self.env.meta.memories[mem].needs_bounds_checks();
        let index = if checked {
            let index = self.uextend_to(index, types::I64);
            self.bounds_check(mem, memarg, index);
            index
        } else {
            self.b.ins().uextend(types::I64, index)
        };
        let addr = self.b.ins().iadd(base, index);
        match i32::try_from(memarg.offset) {
            Ok(offset) => (addr, offset),
            Err(_) => (self.b.ins().iadd_imm_u(addr, memarg.offset as i64), 0),
        }
    }

    /// Traps unless the access `memarg` at `index` (an `i64`) lies within
    /// memory `mem`'s current length. The access size is the natural
    /// alignment wasm gives the instruction.
    fn bounds_check(&mut self, mem: MemoryIndex, memarg: &MemArg, index: Value) {
        let access = 1u64 << memarg.max_align;
        // An offset so large that the sum overflows is always out of bounds:
        // adding `u64::MAX` overflows, or leaves an end past any length.
        let reach = memarg.offset.saturating_add(access);
        let reach = self.b.ins().iconst(types::I64, reach as i64);
        let end =
            self.b
                .ins()
                .uadd_overflow_trap(index, reach, trap_code(TrapKind::MemoryOutOfBounds));
        let len = self.memory_length(mem);
        let out = self.b.ins().icmp(IntCC::UnsignedGreaterThan, end, len);
        self.trapnz(out, TrapKind::MemoryOutOfBounds);
    }

    /// Whether memory `mem` has `i64` addresses.
    fn is_memory64(&self, mem: MemoryIndex) -> bool {
        self.env.meta.memories[mem].memory64
    }

    pub(super) fn load(
        &mut self,
        memarg: &MemArg,
        emit: impl FnOnce(&mut FunctionBuilder<'_>, MemFlagsData, Value, i32) -> Value,
    ) {
        let index = self.pop();
        let (addr, offset) = self.heap_addr(memarg, index);
        let v = emit(&mut self.b, heap_flags(), addr, offset);
        self.push(v);
    }

    pub(super) fn store(
        &mut self,
        memarg: &MemArg,
        emit: impl FnOnce(&mut FunctionBuilder<'_>, MemFlagsData, Value, Value, i32),
    ) {
        let (index, value) = self.pop2();
        let (addr, offset) = self.heap_addr(memarg, index);
        emit(&mut self.b, heap_flags(), value, addr, offset);
    }

    /// The current length of memory `mem` in bytes, which `memory.grow`
    /// changes (so never loaded as read-only).
    fn memory_length(&mut self, mem: MemoryIndex) -> Value {
        let def = self.vmctx_load(self.env.offsets.memory(mem));
        self.b.ins().load(
            types::I64,
            MemFlagsData::trusted(),
            def,
            memory_def::LENGTH as i32,
        )
    }

    pub(super) fn translate_memory_size(&mut self, mem: MemoryIndex) {
        let len = self.memory_length(mem);
        let shift = self.env.meta.memories[mem].page_size_log2;
        let pages = self.b.ins().ushr_imm_u(len, i64::from(shift));
        let pages = if self.is_memory64(mem) {
            pages
        } else {
            self.b.ins().ireduce(types::I32, pages)
        };
        self.push(pages);
    }

    pub(super) fn translate_memory_grow(&mut self, mem: MemoryIndex) {
        let delta = self.pop();
        let delta = self.uextend_to(delta, types::I64);
        let memory64 = self.is_memory64(mem);
        let mem = self.index_arg(mem);
        let old = self.call_builtin(Builtin::memory_grow, &[mem, delta]);
        let old = if memory64 {
            old
        } else {
            // -1 (all ones) stays -1.
            self.b.ins().ireduce(types::I32, old)
        };
        self.push(old);
    }

    pub(super) fn translate_memory_fill(&mut self, mem: MemoryIndex) {
        let (dst, val, len) = self.pop3();
        let (dst, len) = (
            self.uextend_to(dst, types::I64),
            self.uextend_to(len, types::I64),
        );
        let mem = self.index_arg(mem);
        self.checked_builtin(
            Builtin::memory_fill,
            &[mem, dst, val, len],
            TrapKind::MemoryOutOfBounds,
        );
    }

    pub(super) fn translate_memory_copy(&mut self, dst_mem: MemoryIndex, src_mem: MemoryIndex) {
        let (dst, src, len) = self.pop3();
        let (dst, src) = (
            self.uextend_to(dst, types::I64),
            self.uextend_to(src, types::I64),
        );
        let len = self.uextend_to(len, types::I64);
        let dst_mem = self.index_arg(dst_mem);
        let src_mem = self.index_arg(src_mem);
        self.checked_builtin(
            Builtin::memory_copy,
            &[dst_mem, src_mem, dst, src, len],
            TrapKind::MemoryOutOfBounds,
        );
    }

    pub(super) fn translate_memory_init(&mut self, data: DataIndex, mem: MemoryIndex) {
        let (dst, src, len) = self.pop3();
        let dst = self.uextend_to(dst, types::I64);
        let mem = self.index_arg(mem);
        let data = self.index_arg(data);
        self.checked_builtin(
            Builtin::memory_init,
            &[mem, data, dst, src, len],
            TrapKind::MemoryOutOfBounds,
        );
    }

    pub(super) fn translate_data_drop(&mut self, data: DataIndex) {
        let data = self.index_arg(data);
        self.call_builtin(Builtin::data_drop, &[data]);
    }
}
