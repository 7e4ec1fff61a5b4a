//! Threads: atomic loads, stores, read-modify-writes and compare-exchanges
//! as Cranelift's atomic operations (sequentially consistent), `atomic.fence`,
//! and `memory.atomic.wait`/`notify` through the runtime.
//!
//! Every atomic access traps with "unaligned atomic" unless its effective
//! address is a multiple of its size (memories are page-aligned, so the
//! native address is aligned exactly when the effective one is), after the
//! same bounds handling as any other access.

use super::func::FuncTranslator;
use crate::error::Result;
use cmc_runtime::abi::{Builtin, TrapKind};
use cranelift_codegen::ir::{self, AtomicRmwOp, InstBuilder, MemFlagsData, Value, types};
use wasmparser::{MemArg, Operator};

/// The flags of an atomic access: it may trap, as out of bounds, and is
/// little-endian like every wasm access.
fn atomic_flags() -> MemFlagsData {
    MemFlagsData::new().with_endianness(ir::Endianness::Little)
}

impl FuncTranslator<'_, '_> {
    /// The native address of the atomic access `memarg` at `index` (its
    /// offset folded in), after the bounds handling of every access and the
    /// alignment check of atomics.
    fn atomic_addr(&mut self, memarg: &MemArg, index: Value) -> Value {
        let (addr, offset) = self.heap_addr(memarg, index);
        let addr = match offset {
            0 => addr,
            offset => self.b.ins().iadd_imm_u(addr, i64::from(offset)),
        };
        let size = 1i64 << memarg.max_align;
        if size > 1 {
            let misaligned = self.b.ins().band_imm_u(addr, size - 1);
            self.trapnz(misaligned, TrapKind::UnalignedAtomic);
        }
        addr
    }

    /// An atomic load of `width` bits into `ty` (zero-extended).
    fn atomic_load(&mut self, memarg: &MemArg, ty: ir::Type, width: ir::Type) {
        let index = self.pop();
        let addr = self.atomic_addr(memarg, index);
        let v = self.b.ins().atomic_load(width, atomic_flags(), addr);
        let v = self.uextend_to(v, ty);
        self.push(v);
    }

    /// An atomic store of the low `width` bits of the value on top.
    fn atomic_store(&mut self, memarg: &MemArg, width: ir::Type) {
        let (index, value) = self.pop2();
        let addr = self.atomic_addr(memarg, index);
        let value = self.ireduce_to(value, width);
        self.b.ins().atomic_store(atomic_flags(), value, addr);
    }

    /// An atomic read-modify-write `op` of `width` bits; pushes the old
    /// value, zero-extended to `ty`.
    fn atomic_rmw(&mut self, memarg: &MemArg, op: AtomicRmwOp, ty: ir::Type, width: ir::Type) {
        let (index, value) = self.pop2();
        let addr = self.atomic_addr(memarg, index);
        let value = self.ireduce_to(value, width);
        let old = self
            .b
            .ins()
            .atomic_rmw(width, atomic_flags(), op, addr, value);
        let old = self.uextend_to(old, ty);
        self.push(old);
    }

    /// An atomic compare-exchange of `width` bits (the expected value
    /// wrapped to them); pushes the old value, zero-extended to `ty`.
    fn atomic_cmpxchg(&mut self, memarg: &MemArg, ty: ir::Type, width: ir::Type) {
        let (index, expected, replacement) = self.pop3();
        let addr = self.atomic_addr(memarg, index);
        let expected = self.ireduce_to(expected, width);
        let replacement = self.ireduce_to(replacement, width);
        let old = self
            .b
            .ins()
            .atomic_cas(atomic_flags(), addr, expected, replacement);
        let old = self.uextend_to(old, ty);
        self.push(old);
    }

    /// The effective address of a wait or notify, checked like an atomic
    /// access's, as the `i64` the builtins take.
    fn waiter_address(&mut self, memarg: &MemArg, index: Value) -> Value {
        let addr = self.atomic_addr(memarg, index);
        let mem = Self::memory_index(memarg);
        let base = self.vmctx_load(self.env.offsets.memory_base(mem));
        self.b.ins().isub(addr, base)
    }

    /// `memory.atomic.wait32` (`wide` false) or `wait64`.
    fn atomic_wait(&mut self, memarg: &MemArg, wide: bool) {
        let (index, expected, timeout) = self.pop3();
        let addr = self.waiter_address(memarg, index);
        let expected = self.uextend_to(expected, types::I64);
        let mem = self.index_arg(Self::memory_index(memarg));
        let wide = self.b.ins().iconst(types::I32, i64::from(wide));
        let result = self.call_builtin(
            Builtin::memory_atomic_wait,
            &[mem, addr, expected, timeout, wide],
        );
        // -1: the memory is not shared.
        let unshared = (self.b.ins()).icmp_imm_s(ir::condcodes::IntCC::Equal, result, -1);
        self.trapnz(unshared, TrapKind::WaitOnUnsharedMemory);
        self.push(result);
    }

    /// Translates `op` if it is an operator of the threads proposal;
    /// `false` if it is not one.
    pub(super) fn translate_atomic(&mut self, op: &Operator<'_>) -> Result<bool> {
        use AtomicRmwOp as R;
        use Operator as O;
        use types::{I8, I16, I32, I64};
        match *op {
            O::AtomicFence { .. } => {
                self.b.ins().fence();
            }
            O::MemoryAtomicNotify { memarg } => {
                let (index, count) = self.pop2();
                let addr = self.waiter_address(&memarg, index);
                let mem = self.index_arg(Self::memory_index(&memarg));
                let woken = self.call_builtin(Builtin::memory_atomic_notify, &[mem, addr, count]);
                self.push(woken);
            }
            O::MemoryAtomicWait32 { memarg } => self.atomic_wait(&memarg, false),
            O::MemoryAtomicWait64 { memarg } => self.atomic_wait(&memarg, true),

            O::I32AtomicLoad { memarg } => self.atomic_load(&memarg, I32, I32),
            O::I64AtomicLoad { memarg } => self.atomic_load(&memarg, I64, I64),
            O::I32AtomicLoad8U { memarg } => self.atomic_load(&memarg, I32, I8),
            O::I32AtomicLoad16U { memarg } => self.atomic_load(&memarg, I32, I16),
            O::I64AtomicLoad8U { memarg } => self.atomic_load(&memarg, I64, I8),
            O::I64AtomicLoad16U { memarg } => self.atomic_load(&memarg, I64, I16),
            O::I64AtomicLoad32U { memarg } => self.atomic_load(&memarg, I64, I32),
            O::I32AtomicStore { memarg } => self.atomic_store(&memarg, I32),
            O::I64AtomicStore { memarg } => self.atomic_store(&memarg, I64),
            O::I32AtomicStore8 { memarg } | O::I64AtomicStore8 { memarg } => {
                self.atomic_store(&memarg, I8)
            }
            O::I32AtomicStore16 { memarg } | O::I64AtomicStore16 { memarg } => {
                self.atomic_store(&memarg, I16)
            }
            O::I64AtomicStore32 { memarg } => self.atomic_store(&memarg, I32),

            O::I32AtomicRmwAdd { memarg } => self.atomic_rmw(&memarg, R::Add, I32, I32),
            O::I64AtomicRmwAdd { memarg } => self.atomic_rmw(&memarg, R::Add, I64, I64),
            O::I32AtomicRmw8AddU { memarg } => self.atomic_rmw(&memarg, R::Add, I32, I8),
            O::I32AtomicRmw16AddU { memarg } => self.atomic_rmw(&memarg, R::Add, I32, I16),
            O::I64AtomicRmw8AddU { memarg } => self.atomic_rmw(&memarg, R::Add, I64, I8),
            O::I64AtomicRmw16AddU { memarg } => self.atomic_rmw(&memarg, R::Add, I64, I16),
            O::I64AtomicRmw32AddU { memarg } => self.atomic_rmw(&memarg, R::Add, I64, I32),
            O::I32AtomicRmwSub { memarg } => self.atomic_rmw(&memarg, R::Sub, I32, I32),
            O::I64AtomicRmwSub { memarg } => self.atomic_rmw(&memarg, R::Sub, I64, I64),
            O::I32AtomicRmw8SubU { memarg } => self.atomic_rmw(&memarg, R::Sub, I32, I8),
            O::I32AtomicRmw16SubU { memarg } => self.atomic_rmw(&memarg, R::Sub, I32, I16),
            O::I64AtomicRmw8SubU { memarg } => self.atomic_rmw(&memarg, R::Sub, I64, I8),
            O::I64AtomicRmw16SubU { memarg } => self.atomic_rmw(&memarg, R::Sub, I64, I16),
            O::I64AtomicRmw32SubU { memarg } => self.atomic_rmw(&memarg, R::Sub, I64, I32),
            O::I32AtomicRmwAnd { memarg } => self.atomic_rmw(&memarg, R::And, I32, I32),
            O::I64AtomicRmwAnd { memarg } => self.atomic_rmw(&memarg, R::And, I64, I64),
            O::I32AtomicRmw8AndU { memarg } => self.atomic_rmw(&memarg, R::And, I32, I8),
            O::I32AtomicRmw16AndU { memarg } => self.atomic_rmw(&memarg, R::And, I32, I16),
            O::I64AtomicRmw8AndU { memarg } => self.atomic_rmw(&memarg, R::And, I64, I8),
            O::I64AtomicRmw16AndU { memarg } => self.atomic_rmw(&memarg, R::And, I64, I16),
            O::I64AtomicRmw32AndU { memarg } => self.atomic_rmw(&memarg, R::And, I64, I32),
            O::I32AtomicRmwOr { memarg } => self.atomic_rmw(&memarg, R::Or, I32, I32),
            O::I64AtomicRmwOr { memarg } => self.atomic_rmw(&memarg, R::Or, I64, I64),
            O::I32AtomicRmw8OrU { memarg } => self.atomic_rmw(&memarg, R::Or, I32, I8),
            O::I32AtomicRmw16OrU { memarg } => self.atomic_rmw(&memarg, R::Or, I32, I16),
            O::I64AtomicRmw8OrU { memarg } => self.atomic_rmw(&memarg, R::Or, I64, I8),
            O::I64AtomicRmw16OrU { memarg } => self.atomic_rmw(&memarg, R::Or, I64, I16),
            O::I64AtomicRmw32OrU { memarg } => self.atomic_rmw(&memarg, R::Or, I64, I32),
            O::I32AtomicRmwXor { memarg } => self.atomic_rmw(&memarg, R::Xor, I32, I32),
            O::I64AtomicRmwXor { memarg } => self.atomic_rmw(&memarg, R::Xor, I64, I64),
            O::I32AtomicRmw8XorU { memarg } => self.atomic_rmw(&memarg, R::Xor, I32, I8),
            O::I32AtomicRmw16XorU { memarg } => self.atomic_rmw(&memarg, R::Xor, I32, I16),
            O::I64AtomicRmw8XorU { memarg } => self.atomic_rmw(&memarg, R::Xor, I64, I8),
            O::I64AtomicRmw16XorU { memarg } => self.atomic_rmw(&memarg, R::Xor, I64, I16),
            O::I64AtomicRmw32XorU { memarg } => self.atomic_rmw(&memarg, R::Xor, I64, I32),
            O::I32AtomicRmwXchg { memarg } => self.atomic_rmw(&memarg, R::Xchg, I32, I32),
            O::I64AtomicRmwXchg { memarg } => self.atomic_rmw(&memarg, R::Xchg, I64, I64),
            O::I32AtomicRmw8XchgU { memarg } => self.atomic_rmw(&memarg, R::Xchg, I32, I8),
            O::I32AtomicRmw16XchgU { memarg } => self.atomic_rmw(&memarg, R::Xchg, I32, I16),
            O::I64AtomicRmw8XchgU { memarg } => self.atomic_rmw(&memarg, R::Xchg, I64, I8),
            O::I64AtomicRmw16XchgU { memarg } => self.atomic_rmw(&memarg, R::Xchg, I64, I16),
            O::I64AtomicRmw32XchgU { memarg } => self.atomic_rmw(&memarg, R::Xchg, I64, I32),
            O::I32AtomicRmwCmpxchg { memarg } => self.atomic_cmpxchg(&memarg, I32, I32),
            O::I64AtomicRmwCmpxchg { memarg } => self.atomic_cmpxchg(&memarg, I64, I64),
            O::I32AtomicRmw8CmpxchgU { memarg } => self.atomic_cmpxchg(&memarg, I32, I8),
            O::I32AtomicRmw16CmpxchgU { memarg } => self.atomic_cmpxchg(&memarg, I32, I16),
            O::I64AtomicRmw8CmpxchgU { memarg } => self.atomic_cmpxchg(&memarg, I64, I8),
            O::I64AtomicRmw16CmpxchgU { memarg } => self.atomic_cmpxchg(&memarg, I64, I16),
            O::I64AtomicRmw32CmpxchgU { memarg } => self.atomic_cmpxchg(&memarg, I64, I32),
            _ => return Ok(false),
        }
        self.used.threads = true;
        Ok(true)
    }
}
