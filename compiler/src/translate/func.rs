//! The per-function translator and its operator dispatch.

use super::control::ControlFrame;
use super::{ModuleEnv, NS_WASM_FUNC, clif_type, trap_code, wasm_signature};
use crate::error::{CompileError, Result};
use crate::module::val_type;
use cmc_runtime::abi::{
    DataIndex, ElemIndex, EntityRef, Features, FuncIndex, GlobalIndex, MemoryIndex,
    STORE_CTX_EPOCH, STORE_CTX_EPOCH_DEADLINE, STORE_CTX_FUEL, STORE_CTX_STACK_LIMIT, TableIndex,
    TrapKind, TypeIndex, VMOffsets, ValType,
};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    self, BlockArg, GlobalValueData, InstBuilder, MemFlagsData, SourceLoc, UserExternalName,
    UserFuncName, Value, types,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use std::collections::HashMap;
use wasmparser::{FuncValidator, FunctionBody, Operator, ValidatorResources};

/// Translates defined function `func_index` to Cranelift IR, validating it
/// on the way.
pub fn translate_function(
    env: &ModuleEnv<'_>,
    func_index: FuncIndex,
    body: &FunctionBody<'_>,
    validator: &mut FuncValidator<ValidatorResources>,
    builder_ctx: &mut FunctionBuilderContext,
) -> Result<ir::Function> {
    let ty = env.meta.func_type(func_index);
    let defined = env
        .meta
        .defined_func(func_index)
        .expect("a defined function");
    let mut func = ir::Function::with_name_signature(
        UserFuncName::User(UserExternalName::new(NS_WASM_FUNC, defined.as_u32())),
        wasm_signature(ty),
    );
    let mut b = FunctionBuilder::new(&mut func, builder_ctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let vmctx = b.block_params(entry)[0];
    let mut t = FuncTranslator {
        env,
        b,
        stack: Vec::new(),
        control: Vec::new(),
        locals: Vec::new(),
        reachable: true,
        unreachable_depth: 0,
        vmctx,
        sig_refs: HashMap::new(),
        func_refs: HashMap::new(),
        builtin_sigs: HashMap::new(),
        unpaid_fuel: 0,
        used: Features::default(),
    };
    t.prologue(entry, ty.params.as_ref(), ty.results.as_ref());
    let mut locals = body.get_locals_reader()?;
    for _ in 0..locals.get_count() {
        let offset = locals.original_position();
        let (count, ty) = locals.read()?;
        validator.define_locals(offset, count, ty)?;
        t.declare_locals(count, val_type(ty)?);
    }
    let mut ops = body.get_operators_reader()?;
    while !ops.eof() {
        let offset = ops.original_position();
        let op = ops.read()?;
        validator.op(offset, &op)?;
        t.b.set_srcloc(SourceLoc::new(offset as u32));
        if env.consume_fuel && t.reachable {
            t.unpaid_fuel += 1;
            if ends_straight_line(&op) {
                t.charge_fuel();
            }
        }
        t.translate(&op)?;
    }
    ops.finish()?;
    env.record(t.used);
    t.b.finalize(env.isa.frontend_config());
    Ok(func)
}

/// State of one function's translation.
pub(super) struct FuncTranslator<'a, 'f> {
    pub env: &'a ModuleEnv<'a>,
    pub b: FunctionBuilder<'f>,
    /// The wasm operand stack.
    pub stack: Vec<Value>,
    /// The wasm control stack; the function body is the outermost frame.
    pub control: Vec<ControlFrame>,
    locals: Vec<Variable>,
    /// Whether the current position can be reached.
    pub reachable: bool,
    /// Blocks opened inside unreachable code, to skip to their `end`.
    pub unreachable_depth: u32,
    /// The callee VM context parameter.
    pub vmctx: Value,
    pub sig_refs: HashMap<TypeIndex, ir::SigRef>,
    pub func_refs: HashMap<FuncIndex, ir::FuncRef>,
    pub builtin_sigs: HashMap<usize, ir::SigRef>,
    /// Instructions translated since fuel was last charged (fuel metering).
    pub unpaid_fuel: i64,
    /// The features the function uses.
    pub used: Features,
}

/// Whether `op` ends a stretch of straight-line code (it branches, calls or
/// starts or ends a block), where fuel metering charges the stretch.
fn ends_straight_line(op: &Operator<'_>) -> bool {
    use Operator as O;
    matches!(
        op,
        O::Block { .. }
            | O::Loop { .. }
            | O::If { .. }
            | O::Else
            | O::End
            | O::Br { .. }
            | O::BrIf { .. }
            | O::BrTable { .. }
            | O::Return
            | O::Unreachable
            | O::Call { .. }
            | O::CallIndirect { .. }
            | O::ReturnCall { .. }
            | O::ReturnCallIndirect { .. }
    )
}

/// Flags for loads of VM context fields that never change while code runs.
pub(super) fn readonly() -> MemFlagsData {
    MemFlagsData::trusted().with_readonly().with_can_move()
}

impl FuncTranslator<'_, '_> {
    /// Binds parameters to locals, sets up the stack-limit check and the
    /// function's outermost frame.
    fn prologue(&mut self, entry: ir::Block, params: &[ValType], results: &[ValType]) {
        let args = self.b.block_params(entry).to_vec();
        for (i, &ty) in params.iter().enumerate() {
            let var = self.b.declare_var(clif_type(ty));
            self.b.def_var(var, args[2 + i]);
            self.locals.push(var);
        }
        // The stack limit lives in the store context, one load away.
        let vmctx_gv = self.b.func.create_global_value(GlobalValueData::VMContext);
        let flags = self.b.func.dfg.mem_flags.insert_unchecked(readonly());
        let store_ctx = self.b.func.create_global_value(GlobalValueData::Load {
            base: vmctx_gv,
            offset: (VMOffsets::STORE_CTX as i32).into(),
            global_type: types::I64,
            flags,
        });
        let limit = self.b.func.create_global_value(GlobalValueData::Load {
            base: store_ctx,
            offset: (STORE_CTX_STACK_LIMIT as i32).into(),
            global_type: types::I64,
            flags,
        });
        self.b.func.stack_limit = Some(limit);

        let exit = self.b.create_block();
        for &ty in results {
            self.b.append_block_param(exit, clif_type(ty));
        }
        self.control
            .push(ControlFrame::function(exit, results.len()));
        if self.env.epoch_interruption {
            self.check_epoch();
        }
    }

    /// Subtracts the instructions translated since the last charge from the
    /// store's fuel, and traps with "all fuel consumed" if it drops below
    /// zero. Kept in memory, not a register, so that callees and the host
    /// see what is left.
    pub(super) fn charge_fuel(&mut self) {
        let amount = std::mem::take(&mut self.unpaid_fuel);
        if amount == 0 {
            return;
        }
        let store_ctx = self.vmctx_load(VMOffsets::STORE_CTX);
        let flags = MemFlagsData::trusted();
        let offset = STORE_CTX_FUEL as i32;
        let fuel = self.b.ins().load(types::I64, flags, store_ctx, offset);
        let left = self.b.ins().iadd_imm_s(fuel, -amount);
        self.b.ins().store(flags, left, store_ctx, offset);
        let out = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, left, 0);
        self.trapnz(out, TrapKind::OutOfFuel);
    }

    /// Traps with "interrupt" once the engine's epoch has reached the
    /// store's deadline (function entries and loop headers, so that no
    /// code runs unboundedly without passing one).
    pub(super) fn check_epoch(&mut self) {
        let store_ctx = self.vmctx_load(VMOffsets::STORE_CTX);
        let counter =
            (self.b.ins()).load(types::I64, readonly(), store_ctx, STORE_CTX_EPOCH as i32);
        // Another thread advances the epoch while code runs: an atomic load,
        // so that no check reuses an earlier one's value (the deadline only
        // changes between calls from the host).
        let flags = MemFlagsData::trusted();
        let now = self.b.ins().atomic_load(types::I64, flags, counter);
        let deadline = (self.b.ins()).load(
            types::I64,
            flags,
            store_ctx,
            STORE_CTX_EPOCH_DEADLINE as i32,
        );
        let reached = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, now, deadline);
        self.trapnz(reached, TrapKind::Interrupt);
    }

    fn declare_locals(&mut self, count: u32, ty: ValType) {
        for _ in 0..count {
            let var = self.b.declare_var(clif_type(ty));
            let zero = self.zero(ty);
            self.b.def_var(var, zero);
            self.locals.push(var);
        }
    }

    fn zero(&mut self, ty: ValType) -> Value {
        match ty {
            ValType::F32 => self.b.ins().f32const(0.0),
            ValType::F64 => self.b.ins().f64const(0.0),
            ValType::V128 => {
                let c = self.b.func.dfg.constants.insert(vec![0u8; 16].into());
                self.b.ins().vconst(types::I8X16, c)
            }
            other => self.b.ins().iconst(clif_type(other), 0),
        }
    }

    pub(super) fn pop(&mut self) -> Value {
        self.stack
            .pop()
            .expect("validated: operand stack underflow")
    }

    pub(super) fn pop2(&mut self) -> (Value, Value) {
        let b = self.pop();
        let a = self.pop();
        (a, b)
    }

    pub(super) fn pop3(&mut self) -> (Value, Value, Value) {
        let c = self.pop();
        let (a, b) = self.pop2();
        (a, b, c)
    }

    pub(super) fn popn(&mut self, n: usize) -> Vec<Value> {
        let at = self.stack.len() - n;
        self.stack.split_off(at)
    }

    pub(super) fn peekn(&self, n: usize) -> &[Value] {
        &self.stack[self.stack.len() - n..]
    }

    pub(super) fn push(&mut self, v: Value) {
        self.stack.push(v);
    }

    /// Raises `kind` unconditionally; the rest of the block is unreachable.
    pub(super) fn trap(&mut self, kind: TrapKind) {
        self.b.ins().trap(trap_code(kind));
        self.reachable = false;
    }

    /// Raises `kind` when `cond` is non-zero.
    pub(super) fn trapnz(&mut self, cond: Value, kind: TrapKind) {
        self.b.ins().trapnz(cond, trap_code(kind));
    }

    /// Raises `kind` when `cond` is zero.
    pub(super) fn trapz(&mut self, cond: Value, kind: TrapKind) {
        self.b.ins().trapz(cond, trap_code(kind));
    }

    /// Loads a pointer-sized VM context field that never changes.
    pub(super) fn vmctx_load(&mut self, offset: u32) -> Value {
        self.b
            .ins()
            .load(types::I64, readonly(), self.vmctx, offset as i32)
    }

    fn bool_to_i32(&mut self, cond: Value) -> Value {
        self.b.ins().uextend(types::I32, cond)
    }

    fn icmp(&mut self, cc: IntCC) {
        let (a, b) = self.pop2();
        let c = self.b.ins().icmp(cc, a, b);
        let v = self.bool_to_i32(c);
        self.push(v);
    }

    fn fcmp(&mut self, cc: FloatCC) {
        let (a, b) = self.pop2();
        let c = self.b.ins().fcmp(cc, a, b);
        let v = self.bool_to_i32(c);
        self.push(v);
    }

    fn unary(&mut self, f: impl FnOnce(&mut FunctionBuilder<'_>, Value) -> Value) {
        let a = self.pop();
        let v = f(&mut self.b, a);
        self.push(v);
    }

    fn binary(&mut self, f: impl FnOnce(&mut FunctionBuilder<'_>, Value, Value) -> Value) {
        let (a, b) = self.pop2();
        let v = f(&mut self.b, a, b);
        self.push(v);
    }

    /// `v` zero-extended to `ty` (as it is if it has that type already):
    /// 32-bit addresses, indices and lengths as `i64`, narrow atomics.
    pub(super) fn uextend_to(&mut self, v: Value, ty: ir::Type) -> Value {
        if self.b.func.dfg.value_type(v) == ty {
            v
        } else {
            self.b.ins().uextend(ty, v)
        }
    }

    /// The low `ty` bits of `v` (as it is if it has that type already):
    /// lanes and narrow atomics taken from an `i32` or `i64`.
    pub(super) fn ireduce_to(&mut self, v: Value, ty: ir::Type) -> Value {
        if self.b.func.dfg.value_type(v) == ty {
            v
        } else {
            self.b.ins().ireduce(ty, v)
        }
    }

    /// Pushes a 128-bit value as wasm sees it: its low, then its high i64.
    fn push_i128(&mut self, v: Value) {
        let (lo, hi) = self.b.ins().isplit(v);
        self.push(lo);
        self.push(hi);
    }

    /// Sign-extends the low `from` bits of the top value in place.
    fn sign_extend_low(&mut self, from: ir::Type, to: ir::Type) {
        self.unary(|b, v| {
            let low = b.ins().ireduce(from, v);
            b.ins().sextend(to, low)
        });
    }

    /// An index as the `i32` argument of a builtin.
    pub(super) fn index_arg(&mut self, index: impl EntityRef) -> Value {
        self.b.ins().iconst(types::I32, index.index() as i64)
    }

    fn global_addr(&mut self, index: GlobalIndex) -> (Value, i32) {
        if self.env.meta.is_imported_global(index) {
            let ptr = self.vmctx_load(self.env.offsets.imported_global(index));
            (ptr, 0)
        } else {
            (self.vmctx, self.env.offsets.defined_global(index) as i32)
        }
    }

    /// Translates one operator.
    fn translate(&mut self, op: &Operator<'_>) -> Result<()> {
        if !self.reachable {
            return self.translate_unreachable(op);
        }
        use Operator as O;
        match *op {
            // Control flow.
            O::Nop => {}
            O::Unreachable => self.trap(TrapKind::Unreachable),
            O::Block { blockty } => self.translate_block(blockty)?,
            O::Loop { blockty } => self.translate_loop(blockty)?,
            O::If { blockty } => self.translate_if(blockty)?,
            O::Else => self.translate_else(),
            O::End => self.translate_end(),
            O::Br { relative_depth } => self.translate_br(relative_depth),
            O::BrIf { relative_depth } => self.translate_br_if(relative_depth),
            O::BrTable { ref targets } => self.translate_br_table(targets)?,
            O::Return => self.translate_return(),
            O::Call { function_index } => self.translate_call(FuncIndex::from_u32(function_index)),
            O::CallIndirect {
                type_index,
                table_index,
            } => self.translate_call_indirect(
                TypeIndex::from_u32(type_index),
                TableIndex::from_u32(table_index),
            ),
            O::Drop => {
                self.pop();
            }
            O::Select | O::TypedSelect { .. } => {
                let (a, b, c) = self.pop3();
                let v = self.b.ins().select(c, a, b);
                self.push(v);
            }

            // Variables.
            O::LocalGet { local_index } => {
                let v = self.b.use_var(self.locals[local_index as usize]);
                self.push(v);
            }
            O::LocalSet { local_index } => {
                let v = self.pop();
                self.b.def_var(self.locals[local_index as usize], v);
            }
            O::LocalTee { local_index } => {
                let v = *self.stack.last().expect("validated");
                self.b.def_var(self.locals[local_index as usize], v);
            }
            O::GlobalGet { global_index } => {
                let global = GlobalIndex::from_u32(global_index);
                let gt = self.env.meta.globals[global];
                let (base, offset) = self.global_addr(global);
                let flags = if gt.mutable {
                    MemFlagsData::trusted()
                } else {
                    readonly()
                };
                let v = self
                    .b
                    .ins()
                    .load(clif_type(gt.content), flags, base, offset);
                self.push(v);
            }
            O::GlobalSet { global_index } => {
                let global_index = GlobalIndex::from_u32(global_index);
                let v = self.pop();
                let (base, offset) = self.global_addr(global_index);
                self.b.ins().store(MemFlagsData::trusted(), v, base, offset);
            }

            // Memory.
            O::I32Load { memarg } => {
                self.load(&memarg, |b, f, a, o| b.ins().load(types::I32, f, a, o))
            }
            O::I64Load { memarg } => {
                self.load(&memarg, |b, f, a, o| b.ins().load(types::I64, f, a, o))
            }
            O::F32Load { memarg } => {
                self.load(&memarg, |b, f, a, o| b.ins().load(types::F32, f, a, o))
            }
            O::F64Load { memarg } => {
                self.load(&memarg, |b, f, a, o| b.ins().load(types::F64, f, a, o))
            }
            O::I32Load8S { memarg } => {
                self.load(&memarg, |b, f, a, o| b.ins().sload8(types::I32, f, a, o))
            }
            O::I32Load8U { memarg } => {
                self.load(&memarg, |b, f, a, o| b.ins().uload8(types::I32, f, a, o))
            }
            O::I32Load16S { memarg } => {
                self.load(&memarg, |b, f, a, o| b.ins().sload16(types::I32, f, a, o))
            }
            O::I32Load16U { memarg } => {
                self.load(&memarg, |b, f, a, o| b.ins().uload16(types::I32, f, a, o))
            }
            O::I64Load8S { memarg } => {
                self.load(&memarg, |b, f, a, o| b.ins().sload8(types::I64, f, a, o))
            }
            O::I64Load8U { memarg } => {
                self.load(&memarg, |b, f, a, o| b.ins().uload8(types::I64, f, a, o))
            }
            O::I64Load16S { memarg } => {
                self.load(&memarg, |b, f, a, o| b.ins().sload16(types::I64, f, a, o))
            }
            O::I64Load16U { memarg } => {
                self.load(&memarg, |b, f, a, o| b.ins().uload16(types::I64, f, a, o))
            }
            O::I64Load32S { memarg } => self.load(&memarg, |b, f, a, o| b.ins().sload32(f, a, o)),
            O::I64Load32U { memarg } => self.load(&memarg, |b, f, a, o| b.ins().uload32(f, a, o)),
            O::I32Store { memarg }
            | O::I64Store { memarg }
            | O::F32Store { memarg }
            | O::F64Store { memarg } => self.store(&memarg, |b, f, v, a, o| {
                b.ins().store(f, v, a, o);
            }),
            O::I32Store8 { memarg } | O::I64Store8 { memarg } => {
                self.store(&memarg, |b, f, v, a, o| {
                    b.ins().istore8(f, v, a, o);
                })
            }
            O::I32Store16 { memarg } | O::I64Store16 { memarg } => {
                self.store(&memarg, |b, f, v, a, o| {
                    b.ins().istore16(f, v, a, o);
                })
            }
            O::I64Store32 { memarg } => self.store(&memarg, |b, f, v, a, o| {
                b.ins().istore32(f, v, a, o);
            }),
            O::MemorySize { mem } => self.translate_memory_size(MemoryIndex::from_u32(mem)),
            O::MemoryGrow { mem } => self.translate_memory_grow(MemoryIndex::from_u32(mem)),
            O::MemoryFill { mem } => self.translate_memory_fill(MemoryIndex::from_u32(mem)),
            O::MemoryCopy { dst_mem, src_mem } => self.translate_memory_copy(
                MemoryIndex::from_u32(dst_mem),
                MemoryIndex::from_u32(src_mem),
            ),
            O::MemoryInit { data_index, mem } => self
                .translate_memory_init(DataIndex::from_u32(data_index), MemoryIndex::from_u32(mem)),
            O::DataDrop { data_index } => self.translate_data_drop(DataIndex::from_u32(data_index)),

            // Tables and references.
            O::TableGet { table } => self.translate_table_get(TableIndex::from_u32(table)),
            O::TableSet { table } => self.translate_table_set(TableIndex::from_u32(table)),
            O::TableSize { table } => self.translate_table_size(TableIndex::from_u32(table)),
            O::TableGrow { table } => self.translate_table_grow(TableIndex::from_u32(table)),
            O::TableFill { table } => self.translate_table_fill(TableIndex::from_u32(table)),
            O::TableCopy {
                dst_table,
                src_table,
            } => self.translate_table_copy(
                TableIndex::from_u32(dst_table),
                TableIndex::from_u32(src_table),
            ),
            O::TableInit { elem_index, table } => self
                .translate_table_init(ElemIndex::from_u32(elem_index), TableIndex::from_u32(table)),
            O::ElemDrop { elem_index } => self.translate_elem_drop(ElemIndex::from_u32(elem_index)),
            O::RefNull { .. } => {
                let v = self.b.ins().iconst(types::I64, 0);
                self.push(v);
            }
            O::RefIsNull => self.unary(|b, v| {
                let c = b.ins().icmp_imm_u(IntCC::Equal, v, 0);
                b.ins().uextend(types::I32, c)
            }),
            O::RefFunc { function_index } => {
                let v = self.func_ref_address(FuncIndex::from_u32(function_index));
                self.push(v);
            }

            // Constants.
            O::I32Const { value } => {
                let v = self.b.ins().iconst(types::I32, i64::from(value));
                self.push(v);
            }
            O::I64Const { value } => {
                let v = self.b.ins().iconst(types::I64, value);
                self.push(v);
            }
            O::F32Const { value } => {
                let v = self
                    .b
                    .ins()
                    .f32const(ir::immediates::Ieee32::with_bits(value.bits()));
                self.push(v);
            }
            O::F64Const { value } => {
                let v = self
                    .b
                    .ins()
                    .f64const(ir::immediates::Ieee64::with_bits(value.bits()));
                self.push(v);
            }

            // Integer comparisons.
            O::I32Eqz | O::I64Eqz => self.unary(|b, v| {
                let c = b.ins().icmp_imm_u(IntCC::Equal, v, 0);
                b.ins().uextend(types::I32, c)
            }),
            O::I32Eq | O::I64Eq => self.icmp(IntCC::Equal),
            O::I32Ne | O::I64Ne => self.icmp(IntCC::NotEqual),
            O::I32LtS | O::I64LtS => self.icmp(IntCC::SignedLessThan),
            O::I32LtU | O::I64LtU => self.icmp(IntCC::UnsignedLessThan),
            O::I32GtS | O::I64GtS => self.icmp(IntCC::SignedGreaterThan),
            O::I32GtU | O::I64GtU => self.icmp(IntCC::UnsignedGreaterThan),
            O::I32LeS | O::I64LeS => self.icmp(IntCC::SignedLessThanOrEqual),
            O::I32LeU | O::I64LeU => self.icmp(IntCC::UnsignedLessThanOrEqual),
            O::I32GeS | O::I64GeS => self.icmp(IntCC::SignedGreaterThanOrEqual),
            O::I32GeU | O::I64GeU => self.icmp(IntCC::UnsignedGreaterThanOrEqual),

            // Float comparisons.
            O::F32Eq | O::F64Eq => self.fcmp(FloatCC::Equal),
            O::F32Ne | O::F64Ne => self.fcmp(FloatCC::NotEqual),
            O::F32Lt | O::F64Lt => self.fcmp(FloatCC::LessThan),
            O::F32Gt | O::F64Gt => self.fcmp(FloatCC::GreaterThan),
            O::F32Le | O::F64Le => self.fcmp(FloatCC::LessThanOrEqual),
            O::F32Ge | O::F64Ge => self.fcmp(FloatCC::GreaterThanOrEqual),

            // Integer arithmetic. Cranelift's division traps exactly where
            // wasm's does (zero divisor; signed overflow), and its shifts and
            // rotates take the amount modulo the width, as wasm does.
            O::I32Clz | O::I64Clz => self.unary(|b, v| b.ins().clz(v)),
            O::I32Ctz | O::I64Ctz => self.unary(|b, v| b.ins().ctz(v)),
            O::I32Popcnt | O::I64Popcnt => self.unary(|b, v| b.ins().popcnt(v)),
            O::I32Add | O::I64Add => self.binary(|b, x, y| b.ins().iadd(x, y)),
            O::I32Sub | O::I64Sub => self.binary(|b, x, y| b.ins().isub(x, y)),
            O::I32Mul | O::I64Mul => self.binary(|b, x, y| b.ins().imul(x, y)),
            O::I32DivS | O::I64DivS => self.binary(|b, x, y| b.ins().sdiv(x, y)),
            O::I32DivU | O::I64DivU => self.binary(|b, x, y| b.ins().udiv(x, y)),
            O::I32RemS | O::I64RemS => self.binary(|b, x, y| b.ins().srem(x, y)),
            O::I32RemU | O::I64RemU => self.binary(|b, x, y| b.ins().urem(x, y)),
            O::I32And | O::I64And => self.binary(|b, x, y| b.ins().band(x, y)),
            O::I32Or | O::I64Or => self.binary(|b, x, y| b.ins().bor(x, y)),
            O::I32Xor | O::I64Xor => self.binary(|b, x, y| b.ins().bxor(x, y)),
            O::I32Shl | O::I64Shl => self.binary(|b, x, y| b.ins().ishl(x, y)),
            O::I32ShrS | O::I64ShrS => self.binary(|b, x, y| b.ins().sshr(x, y)),
            O::I32ShrU | O::I64ShrU => self.binary(|b, x, y| b.ins().ushr(x, y)),
            O::I32Rotl | O::I64Rotl => self.binary(|b, x, y| b.ins().rotl(x, y)),
            O::I32Rotr | O::I64Rotr => self.binary(|b, x, y| b.ins().rotr(x, y)),

            // Float arithmetic. Cranelift's fmin/fmax/nearest follow wasm.
            O::F32Abs | O::F64Abs => self.unary(|b, v| b.ins().fabs(v)),
            O::F32Neg | O::F64Neg => self.unary(|b, v| b.ins().fneg(v)),
            O::F32Ceil | O::F64Ceil => self.unary(|b, v| b.ins().ceil(v)),
            O::F32Floor | O::F64Floor => self.unary(|b, v| b.ins().floor(v)),
            O::F32Trunc | O::F64Trunc => self.unary(|b, v| b.ins().trunc(v)),
            O::F32Nearest | O::F64Nearest => self.unary(|b, v| b.ins().nearest(v)),
            O::F32Sqrt | O::F64Sqrt => self.unary(|b, v| b.ins().sqrt(v)),
            O::F32Add | O::F64Add => self.binary(|b, x, y| b.ins().fadd(x, y)),
            O::F32Sub | O::F64Sub => self.binary(|b, x, y| b.ins().fsub(x, y)),
            O::F32Mul | O::F64Mul => self.binary(|b, x, y| b.ins().fmul(x, y)),
            O::F32Div | O::F64Div => self.binary(|b, x, y| b.ins().fdiv(x, y)),
            O::F32Min | O::F64Min => self.binary(|b, x, y| b.ins().fmin(x, y)),
            O::F32Max | O::F64Max => self.binary(|b, x, y| b.ins().fmax(x, y)),
            O::F32Copysign | O::F64Copysign => self.binary(|b, x, y| b.ins().fcopysign(x, y)),

            // Conversions.
            O::I32WrapI64 => self.unary(|b, v| b.ins().ireduce(types::I32, v)),
            O::I64ExtendI32S => self.unary(|b, v| b.ins().sextend(types::I64, v)),
            O::I64ExtendI32U => self.unary(|b, v| b.ins().uextend(types::I64, v)),
            O::I32Extend8S => self.sign_extend_low(types::I8, types::I32),
            O::I32Extend16S => self.sign_extend_low(types::I16, types::I32),
            O::I64Extend8S => self.sign_extend_low(types::I8, types::I64),
            O::I64Extend16S => self.sign_extend_low(types::I16, types::I64),
            O::I64Extend32S => self.sign_extend_low(types::I32, types::I64),
            O::I32TruncF32S | O::I32TruncF64S => {
                self.unary(|b, v| b.ins().fcvt_to_sint(types::I32, v))
            }
            O::I32TruncF32U | O::I32TruncF64U => {
                self.unary(|b, v| b.ins().fcvt_to_uint(types::I32, v))
            }
            O::I64TruncF32S | O::I64TruncF64S => {
                self.unary(|b, v| b.ins().fcvt_to_sint(types::I64, v))
            }
            O::I64TruncF32U | O::I64TruncF64U => {
                self.unary(|b, v| b.ins().fcvt_to_uint(types::I64, v))
            }
            O::I32TruncSatF32S | O::I32TruncSatF64S => {
                self.unary(|b, v| b.ins().fcvt_to_sint_sat(types::I32, v))
            }
            O::I32TruncSatF32U | O::I32TruncSatF64U => {
                self.unary(|b, v| b.ins().fcvt_to_uint_sat(types::I32, v))
            }
            O::I64TruncSatF32S | O::I64TruncSatF64S => {
                self.unary(|b, v| b.ins().fcvt_to_sint_sat(types::I64, v))
            }
            O::I64TruncSatF32U | O::I64TruncSatF64U => {
                self.unary(|b, v| b.ins().fcvt_to_uint_sat(types::I64, v))
            }
            O::F32ConvertI32S | O::F32ConvertI64S => {
                self.unary(|b, v| b.ins().fcvt_from_sint(types::F32, v))
            }
            O::F32ConvertI32U | O::F32ConvertI64U => {
                self.unary(|b, v| b.ins().fcvt_from_uint(types::F32, v))
            }
            O::F64ConvertI32S | O::F64ConvertI64S => {
                self.unary(|b, v| b.ins().fcvt_from_sint(types::F64, v))
            }
            O::F64ConvertI32U | O::F64ConvertI64U => {
                self.unary(|b, v| b.ins().fcvt_from_uint(types::F64, v))
            }
            O::F32DemoteF64 => self.unary(|b, v| b.ins().fdemote(types::F32, v)),
            O::F64PromoteF32 => self.unary(|b, v| b.ins().fpromote(types::F64, v)),
            O::I32ReinterpretF32 => {
                self.unary(|b, v| b.ins().bitcast(types::I32, MemFlagsData::new(), v))
            }
            O::I64ReinterpretF64 => {
                self.unary(|b, v| b.ins().bitcast(types::I64, MemFlagsData::new(), v))
            }
            O::F32ReinterpretI32 => {
                self.unary(|b, v| b.ins().bitcast(types::F32, MemFlagsData::new(), v))
            }
            O::F64ReinterpretI64 => {
                self.unary(|b, v| b.ins().bitcast(types::F64, MemFlagsData::new(), v))
            }

            // wide-arithmetic: 128-bit results as (low, high) pairs of i64.
            O::I64Add128 | O::I64Sub128 => {
                self.used.wide_arithmetic = true;
                let (b_hi, b_lo) = (self.pop(), self.pop());
                let (a_hi, a_lo) = (self.pop(), self.pop());
                let a = self.b.ins().iconcat(a_lo, a_hi);
                let b = self.b.ins().iconcat(b_lo, b_hi);
                let sum = if matches!(op, O::I64Add128) {
                    self.b.ins().iadd(a, b)
                } else {
                    self.b.ins().isub(a, b)
                };
                self.push_i128(sum);
            }
            O::I64MulWideS | O::I64MulWideU => {
                self.used.wide_arithmetic = true;
                let (a, b) = self.pop2();
                let widen = |b: &mut FunctionBuilder<'_>, v| {
                    if matches!(op, O::I64MulWideS) {
                        b.ins().sextend(types::I128, v)
                    } else {
                        b.ins().uextend(types::I128, v)
                    }
                };
                let (a, b) = (widen(&mut self.b, a), widen(&mut self.b, b));
                let product = self.b.ins().imul(a, b);
                self.push_i128(product);
            }

            ref other if self.translate_simd(other)? => {}
            ref other if self.translate_atomic(other)? => {}
            ref other => {
                return Err(CompileError::Unsupported(format!(
                    "instruction `{}`",
                    operator_name(other)
                )));
            }
        }
        Ok(())
    }
}

/// The instruction's name for errors, e.g. `v128.load`.
fn operator_name(op: &Operator<'_>) -> String {
    let debug = format!("{op:?}");
    let name = debug.split([' ', '{', '(']).next().unwrap_or("?");
    if name.starts_with('V')
        || name.starts_with("I8x16")
        || name.starts_with("I16x8")
        || name.starts_with("I32x4")
        || name.starts_with("I64x2")
        || name.starts_with("F32x4")
        || name.starts_with("F64x2")
    {
        format!("{name} (SIMD is not supported yet)")
    } else {
        name.to_owned()
    }
}

/// Block arguments from values.
pub(super) fn block_args(values: &[Value]) -> Vec<BlockArg> {
    values.iter().map(|&v| BlockArg::Value(v)).collect()
}
