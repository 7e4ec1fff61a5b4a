//! Tables and reference values.
//!
//! Table elements are pointer-sized: `*const VMFuncRef` for funcref tables
//! and externref tokens for externref tables, 0 being null. `table.get`,
//! `table.set` and `call_indirect` check bounds inline against the current
//! length; the bulk operations go through runtime builtins.

use super::func::{FuncTranslator, readonly};
use cmc_runtime::abi::{
    Builtin, ElemIndex, FuncIndex, TableIndex, TrapKind, func_import, table_def,
};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value, types};

impl FuncTranslator<'_, '_> {
    /// The address of element `index` of `table`, trapping with `oob` when
    /// the index is out of bounds. A table nothing changes keeps its length
    /// and its storage: the bound is a constant and the base a load that
    /// can be hoisted.
    pub(super) fn table_elem_addr(
        &mut self,
        table: TableIndex,
        index: Value,
        oob: TrapKind,
    ) -> Value {
        let def = self.vmctx_load(self.env.offsets.table(table));
        // A 64-bit table's index is compared as it is, a 32-bit one's
        // widened first (a table never has 2^32 elements).
        let index = self.uextend_to(index, types::I64);
        let (out, base_flags) = match &self.env.fixed_tables[table] {
            Some(fixed) => {
                let (ge, len) = (IntCC::UnsignedGreaterThanOrEqual, i64::from(fixed.len));
                (self.b.ins().icmp_imm_u(ge, index, len), readonly())
            }
            None => {
                let len = self.b.ins().load(
                    types::I32,
                    MemFlagsData::trusted(),
                    def,
                    table_def::LENGTH as i32,
                );
                let len = self.b.ins().uextend(types::I64, len);
                let ge = IntCC::UnsignedGreaterThanOrEqual;
                (self.b.ins().icmp(ge, index, len), MemFlagsData::trusted())
            }
        };
        self.trapnz(out, oob);
        let base = (self.b.ins()).load(types::I64, base_flags, def, table_def::BASE as i32);
        let offset = self.b.ins().ishl_imm_u(index, 3);
        self.b.ins().iadd(base, offset)
    }

    pub(super) fn translate_table_get(&mut self, table: TableIndex) {
        let index = self.pop();
        let addr = self.table_elem_addr(table, index, TrapKind::TableOutOfBounds);
        let v = self
            .b
            .ins()
            .load(types::I64, MemFlagsData::trusted(), addr, 0);
        self.push(v);
    }

    pub(super) fn translate_table_set(&mut self, table: TableIndex) {
        let (index, value) = self.pop2();
        let addr = self.table_elem_addr(table, index, TrapKind::TableOutOfBounds);
        self.b.ins().store(MemFlagsData::trusted(), value, addr, 0);
    }

    pub(super) fn translate_table_size(&mut self, table: TableIndex) {
        let def = self.vmctx_load(self.env.offsets.table(table));
        let len = self.b.ins().load(
            types::I32,
            MemFlagsData::trusted(),
            def,
            table_def::LENGTH as i32,
        );
        let len = if self.env.meta.tables[table].table64 {
            self.b.ins().uextend(types::I64, len)
        } else {
            len
        };
        self.push(len);
    }

    pub(super) fn translate_table_grow(&mut self, table: TableIndex) {
        let (init, delta) = self.pop2();
        let delta = self.uextend_to(delta, types::I64);
        let table64 = self.env.meta.tables[table].table64;
        let table = self.index_arg(table);
        let old = self.call_builtin(Builtin::table_grow, &[table, delta, init]);
        let old = if table64 {
            old
        } else {
            // -1 (all ones) stays -1.
            self.b.ins().ireduce(types::I32, old)
        };
        self.push(old);
    }

    pub(super) fn translate_table_fill(&mut self, table: TableIndex) {
        let (dst, val, len) = self.pop3();
        let (dst, len) = (
            self.uextend_to(dst, types::I64),
            self.uextend_to(len, types::I64),
        );
        let table = self.index_arg(table);
        self.checked_builtin(
            Builtin::table_fill,
            &[table, dst, val, len],
            TrapKind::TableOutOfBounds,
        );
    }

    pub(super) fn translate_table_copy(&mut self, dst_table: TableIndex, src_table: TableIndex) {
        let (dst, src, len) = self.pop3();
        let (dst, src) = (
            self.uextend_to(dst, types::I64),
            self.uextend_to(src, types::I64),
        );
        let len = self.uextend_to(len, types::I64);
        let dst_table = self.index_arg(dst_table);
        let src_table = self.index_arg(src_table);
        self.checked_builtin(
            Builtin::table_copy,
            &[dst_table, src_table, dst, src, len],
            TrapKind::TableOutOfBounds,
        );
    }

    pub(super) fn translate_table_init(&mut self, elem: ElemIndex, table: TableIndex) {
        let (dst, src, len) = self.pop3();
        let dst = self.uextend_to(dst, types::I64);
        let table = self.index_arg(table);
        let elem = self.index_arg(elem);
        self.checked_builtin(
            Builtin::table_init,
            &[table, elem, dst, src, len],
            TrapKind::TableOutOfBounds,
        );
    }

    pub(super) fn translate_elem_drop(&mut self, elem: ElemIndex) {
        let elem = self.index_arg(elem);
        self.call_builtin(Builtin::elem_drop, &[elem]);
    }

    /// The `VMFuncRef` pointer of function `index` (for `ref.func`).
    pub(super) fn func_ref_address(&mut self, index: FuncIndex) -> Value {
        if self.env.meta.is_imported_func(index) {
            let offset = self.env.offsets.func_import(index) + func_import::FUNC_REF;
            self.b
                .ins()
                .load(types::I64, readonly(), self.vmctx, offset as i32)
        } else {
            let slot = self.env.meta.func_ref_slots[index];
            let slot = slot.expect("validated: ref.func target is declared");
            self.b
                .ins()
                .iadd_imm_u(self.vmctx, i64::from(self.env.offsets.func_ref(slot)))
        }
    }
}
