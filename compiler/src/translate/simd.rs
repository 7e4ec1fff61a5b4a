//! SIMD (`v128`) operators, as Cranelift vector operations.
//!
//! A `v128` has no lane type in wasm; on the operand stack, in locals and
//! across calls it is an `i8x16`. Each operator bitcasts its operands to the
//! lane type it works on and its result back (Cranelift folds the chains of
//! bitcasts this leaves). Lanes are little-endian, as in wasm, on every
//! target cmc builds for.
//!
//! Relaxed SIMD gets one lowering per operator, the same on every target,
//! so a program computes the same on every run and every machine: each
//! operator is its strict counterpart (`relaxed_swizzle` is `swizzle`, the
//! relaxed truncations saturate, `relaxed_min`/`max` are `min`/`max`,
//! `relaxed_q15mulr` is `q15mulr_sat`, `relaxed_laneselect` is `bitselect`),
//! `relaxed_madd`/`nmadd` multiply then add, rounding twice (unfused), and
//! the `i7` dot products multiply as signed bytes with wrapping sums.

use super::func::FuncTranslator;
use crate::error::Result;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{self, Endianness, InstBuilder, MemFlagsData, Value, types};
use cranelift_frontend::FunctionBuilder;
use wasmparser::{MemArg, Operator};

/// The type a `v128` has between operators.
const V128: ir::Type = types::I8X16;

/// Flags of a bitcast between vector types: lanes in little-endian order.
fn lanes() -> MemFlagsData {
    MemFlagsData::new().with_endianness(Endianness::Little)
}

/// The `i16x8` sums of adjacent products of the signed bytes of `x` and `y`
/// (wrapping), as the relaxed `i7` dot products compute them.
fn dot_i8x16(b: &mut FunctionBuilder<'_>, x: Value, y: Value) -> Value {
    let low = {
        let (x, y) = (b.ins().swiden_low(x), b.ins().swiden_low(y));
        b.ins().imul(x, y)
    };
    let high = {
        let (x, y) = (b.ins().swiden_high(x), b.ins().swiden_high(y));
        b.ins().imul(x, y)
    };
    b.ins().iadd_pairwise(low, high)
}

/// `v` as a vector of type `ty`.
fn cast(b: &mut FunctionBuilder<'_>, ty: ir::Type, v: Value) -> Value {
    if b.func.dfg.value_type(v) == ty {
        v
    } else {
        b.ins().bitcast(ty, lanes(), v)
    }
}

impl FuncTranslator<'_, '_> {
    /// Pops a `v128` as a vector of type `ty`.
    fn pop_v(&mut self, ty: ir::Type) -> Value {
        let v = self.pop();
        cast(&mut self.b, ty, v)
    }

    /// Pushes a vector as a `v128`.
    fn push_v(&mut self, v: Value) {
        let v = cast(&mut self.b, V128, v);
        self.push(v);
    }

    fn unary_v(&mut self, ty: ir::Type, f: impl FnOnce(&mut FunctionBuilder<'_>, Value) -> Value) {
        let a = self.pop_v(ty);
        let v = f(&mut self.b, a);
        self.push_v(v);
    }

    fn binary_v(
        &mut self,
        ty: ir::Type,
        f: impl FnOnce(&mut FunctionBuilder<'_>, Value, Value) -> Value,
    ) {
        let b = self.pop_v(ty);
        let a = self.pop_v(ty);
        let v = f(&mut self.b, a, b);
        self.push_v(v);
    }

    /// A lane-wise integer comparison: all ones where it holds.
    fn icmp_v(&mut self, ty: ir::Type, cc: IntCC) {
        self.binary_v(ty, |b, x, y| b.ins().icmp(cc, x, y));
    }

    /// A lane-wise float comparison: all ones where it holds.
    fn fcmp_v(&mut self, ty: ir::Type, cc: FloatCC) {
        self.binary_v(ty, |b, x, y| b.ins().fcmp(cc, x, y));
    }

    /// A vector shift by the scalar `i32` on top (taken modulo the lane
    /// width, as both wasm and Cranelift define it).
    fn shift_v(
        &mut self,
        ty: ir::Type,
        f: impl FnOnce(&mut FunctionBuilder<'_>, Value, Value) -> Value,
    ) {
        let amount = self.pop();
        let a = self.pop_v(ty);
        let v = f(&mut self.b, a, amount);
        self.push_v(v);
    }

    /// A test over all lanes, as an `i32` 0 or 1.
    fn test_v(&mut self, ty: ir::Type, f: impl FnOnce(&mut FunctionBuilder<'_>, Value) -> Value) {
        let a = self.pop_v(ty);
        let t = f(&mut self.b, a);
        let v = self.b.ins().uextend(types::I32, t);
        self.push(v);
    }

    /// Broadcasts the scalar on top (an `i32` narrowed to the lane, for
    /// 8- and 16-bit lanes) to every lane of `ty`.
    fn splat_v(&mut self, ty: ir::Type) {
        let x = self.pop();
        let x = self.ireduce_to(x, ty.lane_type());
        let v = self.b.ins().splat(ty, x);
        self.push_v(v);
    }

    /// Lane `lane` of a vector of type `ty`, widened to `i32` (sign- or
    /// zero-extended) for 8- and 16-bit lanes.
    fn extract_lane(&mut self, ty: ir::Type, lane: u8, signed: bool) {
        let v = self.pop_v(ty);
        let x = self.b.ins().extractlane(v, lane);
        let x = match (ty.lane_bits() < 32, signed) {
            (false, _) => x,
            (true, true) => self.b.ins().sextend(types::I32, x),
            (true, false) => self.b.ins().uextend(types::I32, x),
        };
        self.push(x);
    }

    /// Replaces lane `lane` of a vector of type `ty` with the scalar on top.
    fn replace_lane(&mut self, ty: ir::Type, lane: u8) {
        let x = self.pop();
        let v = self.pop_v(ty);
        let x = self.ireduce_to(x, ty.lane_type());
        let r = self.b.ins().insertlane(v, x, lane);
        self.push_v(r);
    }

    /// Loads a `scalar` and makes the vector of type `ty` that `place`
    /// puts it in.
    fn load_v(
        &mut self,
        memarg: &MemArg,
        scalar: ir::Type,
        place: impl FnOnce(&mut FunctionBuilder<'_>, Value) -> Value,
    ) {
        self.load(memarg, |b, flags, addr, offset| {
            let x = b.ins().load(scalar, flags, addr, offset);
            let v = place(b, x);
            cast(b, V128, v)
        });
    }

    /// A load of 64 bits widened to a vector (`v128.load8x8_s` and the
    /// like) by `load`.
    fn load_extended(
        &mut self,
        memarg: &MemArg,
        load: impl FnOnce(&mut FunctionBuilder<'_>, MemFlagsData, Value, i32) -> Value,
    ) {
        self.load(memarg, |b, flags, addr, offset| {
            let v = load(b, flags, addr, offset);
            cast(b, V128, v)
        });
    }

    /// `v128.loadN_lane`: loads lane `lane` of a vector of type `ty`.
    fn load_lane(&mut self, memarg: &MemArg, ty: ir::Type, lane: u8) {
        let v = self.pop_v(ty);
        self.load_v(memarg, ty.lane_type(), |b, x| {
            b.ins().insertlane(v, x, lane)
        });
    }

    /// `v128.storeN_lane`: stores lane `lane` of a vector of type `ty`.
    fn store_lane(&mut self, memarg: &MemArg, ty: ir::Type, lane: u8) {
        self.store(memarg, |b, flags, v, addr, offset| {
            let v = cast(b, ty, v);
            let x = b.ins().extractlane(v, lane);
            b.ins().store(flags, x, addr, offset);
        });
    }

    /// `extmul`: the products of the low or high halves, widened.
    fn extmul(&mut self, narrow: ir::Type, high: bool, signed: bool) {
        self.binary_v(narrow, |b, x, y| {
            let widen = |b: &mut FunctionBuilder<'_>, v| match (high, signed) {
                (false, true) => b.ins().swiden_low(v),
                (true, true) => b.ins().swiden_high(v),
                (false, false) => b.ins().uwiden_low(v),
                (true, false) => b.ins().uwiden_high(v),
            };
            let (x, y) = (widen(b, x), widen(b, y));
            b.ins().imul(x, y)
        });
    }

    /// `extadd_pairwise`: sums of adjacent lanes, widened.
    fn extadd_pairwise(&mut self, narrow: ir::Type, signed: bool) {
        self.unary_v(narrow, |b, v| {
            let (low, high) = if signed {
                (b.ins().swiden_low(v), b.ins().swiden_high(v))
            } else {
                (b.ins().uwiden_low(v), b.ins().uwiden_high(v))
            };
            b.ins().iadd_pairwise(low, high)
        });
    }

    /// `pmin` / `pmax`: `b < a ? b : a` and `a < b ? b : a`, lane by lane,
    /// with no special case for NaNs or zeros.
    fn pseudo_min_max(&mut self, ty: ir::Type, max: bool) {
        self.binary_v(ty, |b, x, y| {
            let int = ty.as_int();
            let take_y = if max {
                b.ins().fcmp(FloatCC::LessThan, x, y)
            } else {
                b.ins().fcmp(FloatCC::LessThan, y, x)
            };
            let (x, y) = (cast(b, int, x), cast(b, int, y));
            let r = b.ins().bitselect(take_y, y, x);
            cast(b, ty, r)
        });
    }

    /// Translates `op` if it is a SIMD operator; `false` if it is not one.
    pub(super) fn translate_simd(&mut self, op: &Operator<'_>) -> Result<bool> {
        use Operator as O;
        use types::{F32X4, F64X2, I8X16, I16X8, I32X4, I64X2};
        match *op {
            // Memory.
            O::V128Load { memarg } => {
                self.load(&memarg, |b, f, a, o| b.ins().load(V128, f, a, o));
            }
            O::V128Store { memarg } => {
                self.store(&memarg, |b, f, v, a, o| {
                    b.ins().store(f, v, a, o);
                });
            }
            O::V128Load8x8S { memarg } => {
                self.load_extended(&memarg, |b, f, a, o| b.ins().sload8x8(f, a, o))
            }
            O::V128Load8x8U { memarg } => {
                self.load_extended(&memarg, |b, f, a, o| b.ins().uload8x8(f, a, o))
            }
            O::V128Load16x4S { memarg } => {
                self.load_extended(&memarg, |b, f, a, o| b.ins().sload16x4(f, a, o))
            }
            O::V128Load16x4U { memarg } => {
                self.load_extended(&memarg, |b, f, a, o| b.ins().uload16x4(f, a, o))
            }
            O::V128Load32x2S { memarg } => {
                self.load_extended(&memarg, |b, f, a, o| b.ins().sload32x2(f, a, o))
            }
            O::V128Load32x2U { memarg } => {
                self.load_extended(&memarg, |b, f, a, o| b.ins().uload32x2(f, a, o))
            }
            O::V128Load8Splat { memarg } => {
                self.load_v(&memarg, types::I8, |b, x| b.ins().splat(I8X16, x))
            }
            O::V128Load16Splat { memarg } => {
                self.load_v(&memarg, types::I16, |b, x| b.ins().splat(I16X8, x))
            }
            O::V128Load32Splat { memarg } => {
                self.load_v(&memarg, types::I32, |b, x| b.ins().splat(I32X4, x))
            }
            O::V128Load64Splat { memarg } => {
                self.load_v(&memarg, types::I64, |b, x| b.ins().splat(I64X2, x))
            }
            O::V128Load32Zero { memarg } => self.load_v(&memarg, types::I32, |b, x| {
                b.ins().scalar_to_vector(I32X4, x)
            }),
            O::V128Load64Zero { memarg } => self.load_v(&memarg, types::I64, |b, x| {
                b.ins().scalar_to_vector(I64X2, x)
            }),
            O::V128Load8Lane { memarg, lane } => self.load_lane(&memarg, I8X16, lane),
            O::V128Load16Lane { memarg, lane } => self.load_lane(&memarg, I16X8, lane),
            O::V128Load32Lane { memarg, lane } => self.load_lane(&memarg, I32X4, lane),
            O::V128Load64Lane { memarg, lane } => self.load_lane(&memarg, I64X2, lane),
            O::V128Store8Lane { memarg, lane } => self.store_lane(&memarg, I8X16, lane),
            O::V128Store16Lane { memarg, lane } => self.store_lane(&memarg, I16X8, lane),
            O::V128Store32Lane { memarg, lane } => self.store_lane(&memarg, I32X4, lane),
            O::V128Store64Lane { memarg, lane } => self.store_lane(&memarg, I64X2, lane),

            // Constants, shuffles, lanes.
            O::V128Const { value } => {
                let c = (self.b.func.dfg.constants).insert(value.bytes().to_vec().into());
                let v = self.b.ins().vconst(V128, c);
                self.push(v);
            }
            O::I8x16Shuffle { lanes } => {
                let mask = self.b.func.dfg.immediates.push(lanes.to_vec().into());
                self.binary_v(I8X16, |b, x, y| b.ins().shuffle(x, y, mask));
            }
            O::I8x16Swizzle => self.binary_v(I8X16, |b, x, y| b.ins().swizzle(x, y)),
            O::I8x16Splat => self.splat_v(I8X16),
            O::I16x8Splat => self.splat_v(I16X8),
            O::I32x4Splat => self.splat_v(I32X4),
            O::I64x2Splat => self.splat_v(I64X2),
            O::F32x4Splat => self.splat_v(F32X4),
            O::F64x2Splat => self.splat_v(F64X2),
            O::I8x16ExtractLaneS { lane } => self.extract_lane(I8X16, lane, true),
            O::I8x16ExtractLaneU { lane } => self.extract_lane(I8X16, lane, false),
            O::I16x8ExtractLaneS { lane } => self.extract_lane(I16X8, lane, true),
            O::I16x8ExtractLaneU { lane } => self.extract_lane(I16X8, lane, false),
            O::I32x4ExtractLane { lane } => self.extract_lane(I32X4, lane, false),
            O::I64x2ExtractLane { lane } => self.extract_lane(I64X2, lane, false),
            O::F32x4ExtractLane { lane } => self.extract_lane(F32X4, lane, false),
            O::F64x2ExtractLane { lane } => self.extract_lane(F64X2, lane, false),
            O::I8x16ReplaceLane { lane } => self.replace_lane(I8X16, lane),
            O::I16x8ReplaceLane { lane } => self.replace_lane(I16X8, lane),
            O::I32x4ReplaceLane { lane } => self.replace_lane(I32X4, lane),
            O::I64x2ReplaceLane { lane } => self.replace_lane(I64X2, lane),
            O::F32x4ReplaceLane { lane } => self.replace_lane(F32X4, lane),
            O::F64x2ReplaceLane { lane } => self.replace_lane(F64X2, lane),

            // Comparisons.
            O::I8x16Eq => self.icmp_v(I8X16, IntCC::Equal),
            O::I8x16Ne => self.icmp_v(I8X16, IntCC::NotEqual),
            O::I8x16LtS => self.icmp_v(I8X16, IntCC::SignedLessThan),
            O::I8x16LtU => self.icmp_v(I8X16, IntCC::UnsignedLessThan),
            O::I8x16GtS => self.icmp_v(I8X16, IntCC::SignedGreaterThan),
            O::I8x16GtU => self.icmp_v(I8X16, IntCC::UnsignedGreaterThan),
            O::I8x16LeS => self.icmp_v(I8X16, IntCC::SignedLessThanOrEqual),
            O::I8x16LeU => self.icmp_v(I8X16, IntCC::UnsignedLessThanOrEqual),
            O::I8x16GeS => self.icmp_v(I8X16, IntCC::SignedGreaterThanOrEqual),
            O::I8x16GeU => self.icmp_v(I8X16, IntCC::UnsignedGreaterThanOrEqual),
            O::I16x8Eq => self.icmp_v(I16X8, IntCC::Equal),
            O::I16x8Ne => self.icmp_v(I16X8, IntCC::NotEqual),
            O::I16x8LtS => self.icmp_v(I16X8, IntCC::SignedLessThan),
            O::I16x8LtU => self.icmp_v(I16X8, IntCC::UnsignedLessThan),
            O::I16x8GtS => self.icmp_v(I16X8, IntCC::SignedGreaterThan),
            O::I16x8GtU => self.icmp_v(I16X8, IntCC::UnsignedGreaterThan),
            O::I16x8LeS => self.icmp_v(I16X8, IntCC::SignedLessThanOrEqual),
            O::I16x8LeU => self.icmp_v(I16X8, IntCC::UnsignedLessThanOrEqual),
            O::I16x8GeS => self.icmp_v(I16X8, IntCC::SignedGreaterThanOrEqual),
            O::I16x8GeU => self.icmp_v(I16X8, IntCC::UnsignedGreaterThanOrEqual),
            O::I32x4Eq => self.icmp_v(I32X4, IntCC::Equal),
            O::I32x4Ne => self.icmp_v(I32X4, IntCC::NotEqual),
            O::I32x4LtS => self.icmp_v(I32X4, IntCC::SignedLessThan),
            O::I32x4LtU => self.icmp_v(I32X4, IntCC::UnsignedLessThan),
            O::I32x4GtS => self.icmp_v(I32X4, IntCC::SignedGreaterThan),
            O::I32x4GtU => self.icmp_v(I32X4, IntCC::UnsignedGreaterThan),
            O::I32x4LeS => self.icmp_v(I32X4, IntCC::SignedLessThanOrEqual),
            O::I32x4LeU => self.icmp_v(I32X4, IntCC::UnsignedLessThanOrEqual),
            O::I32x4GeS => self.icmp_v(I32X4, IntCC::SignedGreaterThanOrEqual),
            O::I32x4GeU => self.icmp_v(I32X4, IntCC::UnsignedGreaterThanOrEqual),
            O::I64x2Eq => self.icmp_v(I64X2, IntCC::Equal),
            O::I64x2Ne => self.icmp_v(I64X2, IntCC::NotEqual),
            O::I64x2LtS => self.icmp_v(I64X2, IntCC::SignedLessThan),
            O::I64x2GtS => self.icmp_v(I64X2, IntCC::SignedGreaterThan),
            O::I64x2LeS => self.icmp_v(I64X2, IntCC::SignedLessThanOrEqual),
            O::I64x2GeS => self.icmp_v(I64X2, IntCC::SignedGreaterThanOrEqual),
            O::F32x4Eq => self.fcmp_v(F32X4, FloatCC::Equal),
            O::F32x4Ne => self.fcmp_v(F32X4, FloatCC::NotEqual),
            O::F32x4Lt => self.fcmp_v(F32X4, FloatCC::LessThan),
            O::F32x4Gt => self.fcmp_v(F32X4, FloatCC::GreaterThan),
            O::F32x4Le => self.fcmp_v(F32X4, FloatCC::LessThanOrEqual),
            O::F32x4Ge => self.fcmp_v(F32X4, FloatCC::GreaterThanOrEqual),
            O::F64x2Eq => self.fcmp_v(F64X2, FloatCC::Equal),
            O::F64x2Ne => self.fcmp_v(F64X2, FloatCC::NotEqual),
            O::F64x2Lt => self.fcmp_v(F64X2, FloatCC::LessThan),
            O::F64x2Gt => self.fcmp_v(F64X2, FloatCC::GreaterThan),
            O::F64x2Le => self.fcmp_v(F64X2, FloatCC::LessThanOrEqual),
            O::F64x2Ge => self.fcmp_v(F64X2, FloatCC::GreaterThanOrEqual),

            // Bitwise.
            O::V128Not => self.unary_v(V128, |b, x| b.ins().bnot(x)),
            O::V128And => self.binary_v(V128, |b, x, y| b.ins().band(x, y)),
            O::V128AndNot => self.binary_v(V128, |b, x, y| b.ins().band_not(x, y)),
            O::V128Or => self.binary_v(V128, |b, x, y| b.ins().bor(x, y)),
            O::V128Xor => self.binary_v(V128, |b, x, y| b.ins().bxor(x, y)),
            O::V128Bitselect => {
                let c = self.pop_v(V128);
                let (x, y) = self.pop2();
                let v = self.b.ins().bitselect(c, x, y);
                self.push(v);
            }
            O::V128AnyTrue => self.test_v(V128, |b, v| b.ins().vany_true(v)),

            // i8x16.
            O::I8x16Abs => self.unary_v(I8X16, |b, x| b.ins().iabs(x)),
            O::I8x16Neg => self.unary_v(I8X16, |b, x| b.ins().ineg(x)),
            O::I8x16Popcnt => self.unary_v(I8X16, |b, x| b.ins().popcnt(x)),
            O::I8x16AllTrue => self.test_v(I8X16, |b, v| b.ins().vall_true(v)),
            O::I8x16Bitmask => self.test_bits(I8X16),
            O::I8x16NarrowI16x8S => self.binary_v(I16X8, |b, x, y| b.ins().snarrow(x, y)),
            O::I8x16NarrowI16x8U => self.binary_v(I16X8, |b, x, y| b.ins().unarrow(x, y)),
            O::I8x16Shl => self.shift_v(I8X16, |b, x, n| b.ins().ishl(x, n)),
            O::I8x16ShrS => self.shift_v(I8X16, |b, x, n| b.ins().sshr(x, n)),
            O::I8x16ShrU => self.shift_v(I8X16, |b, x, n| b.ins().ushr(x, n)),
            O::I8x16Add => self.binary_v(I8X16, |b, x, y| b.ins().iadd(x, y)),
            O::I8x16AddSatS => self.binary_v(I8X16, |b, x, y| b.ins().sadd_sat(x, y)),
            O::I8x16AddSatU => self.binary_v(I8X16, |b, x, y| b.ins().uadd_sat(x, y)),
            O::I8x16Sub => self.binary_v(I8X16, |b, x, y| b.ins().isub(x, y)),
            O::I8x16SubSatS => self.binary_v(I8X16, |b, x, y| b.ins().ssub_sat(x, y)),
            O::I8x16SubSatU => self.binary_v(I8X16, |b, x, y| b.ins().usub_sat(x, y)),
            O::I8x16MinS => self.binary_v(I8X16, |b, x, y| b.ins().smin(x, y)),
            O::I8x16MinU => self.binary_v(I8X16, |b, x, y| b.ins().umin(x, y)),
            O::I8x16MaxS => self.binary_v(I8X16, |b, x, y| b.ins().smax(x, y)),
            O::I8x16MaxU => self.binary_v(I8X16, |b, x, y| b.ins().umax(x, y)),
            O::I8x16AvgrU => self.binary_v(I8X16, |b, x, y| b.ins().avg_round(x, y)),

            // i16x8.
            O::I16x8ExtAddPairwiseI8x16S => self.extadd_pairwise(I8X16, true),
            O::I16x8ExtAddPairwiseI8x16U => self.extadd_pairwise(I8X16, false),
            O::I16x8Abs => self.unary_v(I16X8, |b, x| b.ins().iabs(x)),
            O::I16x8Neg => self.unary_v(I16X8, |b, x| b.ins().ineg(x)),
            O::I16x8Q15MulrSatS => self.binary_v(I16X8, |b, x, y| b.ins().sqmul_round_sat(x, y)),
            O::I16x8AllTrue => self.test_v(I16X8, |b, v| b.ins().vall_true(v)),
            O::I16x8Bitmask => self.test_bits(I16X8),
            O::I16x8NarrowI32x4S => self.binary_v(I32X4, |b, x, y| b.ins().snarrow(x, y)),
            O::I16x8NarrowI32x4U => self.binary_v(I32X4, |b, x, y| b.ins().unarrow(x, y)),
            O::I16x8ExtendLowI8x16S => self.unary_v(I8X16, |b, x| b.ins().swiden_low(x)),
            O::I16x8ExtendHighI8x16S => self.unary_v(I8X16, |b, x| b.ins().swiden_high(x)),
            O::I16x8ExtendLowI8x16U => self.unary_v(I8X16, |b, x| b.ins().uwiden_low(x)),
            O::I16x8ExtendHighI8x16U => self.unary_v(I8X16, |b, x| b.ins().uwiden_high(x)),
            O::I16x8Shl => self.shift_v(I16X8, |b, x, n| b.ins().ishl(x, n)),
            O::I16x8ShrS => self.shift_v(I16X8, |b, x, n| b.ins().sshr(x, n)),
            O::I16x8ShrU => self.shift_v(I16X8, |b, x, n| b.ins().ushr(x, n)),
            O::I16x8Add => self.binary_v(I16X8, |b, x, y| b.ins().iadd(x, y)),
            O::I16x8AddSatS => self.binary_v(I16X8, |b, x, y| b.ins().sadd_sat(x, y)),
            O::I16x8AddSatU => self.binary_v(I16X8, |b, x, y| b.ins().uadd_sat(x, y)),
            O::I16x8Sub => self.binary_v(I16X8, |b, x, y| b.ins().isub(x, y)),
            O::I16x8SubSatS => self.binary_v(I16X8, |b, x, y| b.ins().ssub_sat(x, y)),
            O::I16x8SubSatU => self.binary_v(I16X8, |b, x, y| b.ins().usub_sat(x, y)),
            O::I16x8Mul => self.binary_v(I16X8, |b, x, y| b.ins().imul(x, y)),
            O::I16x8MinS => self.binary_v(I16X8, |b, x, y| b.ins().smin(x, y)),
            O::I16x8MinU => self.binary_v(I16X8, |b, x, y| b.ins().umin(x, y)),
            O::I16x8MaxS => self.binary_v(I16X8, |b, x, y| b.ins().smax(x, y)),
            O::I16x8MaxU => self.binary_v(I16X8, |b, x, y| b.ins().umax(x, y)),
            O::I16x8AvgrU => self.binary_v(I16X8, |b, x, y| b.ins().avg_round(x, y)),
            O::I16x8ExtMulLowI8x16S => self.extmul(I8X16, false, true),
            O::I16x8ExtMulHighI8x16S => self.extmul(I8X16, true, true),
            O::I16x8ExtMulLowI8x16U => self.extmul(I8X16, false, false),
            O::I16x8ExtMulHighI8x16U => self.extmul(I8X16, true, false),

            // i32x4.
            O::I32x4ExtAddPairwiseI16x8S => self.extadd_pairwise(I16X8, true),
            O::I32x4ExtAddPairwiseI16x8U => self.extadd_pairwise(I16X8, false),
            O::I32x4Abs => self.unary_v(I32X4, |b, x| b.ins().iabs(x)),
            O::I32x4Neg => self.unary_v(I32X4, |b, x| b.ins().ineg(x)),
            O::I32x4AllTrue => self.test_v(I32X4, |b, v| b.ins().vall_true(v)),
            O::I32x4Bitmask => self.test_bits(I32X4),
            O::I32x4ExtendLowI16x8S => self.unary_v(I16X8, |b, x| b.ins().swiden_low(x)),
            O::I32x4ExtendHighI16x8S => self.unary_v(I16X8, |b, x| b.ins().swiden_high(x)),
            O::I32x4ExtendLowI16x8U => self.unary_v(I16X8, |b, x| b.ins().uwiden_low(x)),
            O::I32x4ExtendHighI16x8U => self.unary_v(I16X8, |b, x| b.ins().uwiden_high(x)),
            O::I32x4Shl => self.shift_v(I32X4, |b, x, n| b.ins().ishl(x, n)),
            O::I32x4ShrS => self.shift_v(I32X4, |b, x, n| b.ins().sshr(x, n)),
            O::I32x4ShrU => self.shift_v(I32X4, |b, x, n| b.ins().ushr(x, n)),
            O::I32x4Add => self.binary_v(I32X4, |b, x, y| b.ins().iadd(x, y)),
            O::I32x4Sub => self.binary_v(I32X4, |b, x, y| b.ins().isub(x, y)),
            O::I32x4Mul => self.binary_v(I32X4, |b, x, y| b.ins().imul(x, y)),
            O::I32x4MinS => self.binary_v(I32X4, |b, x, y| b.ins().smin(x, y)),
            O::I32x4MinU => self.binary_v(I32X4, |b, x, y| b.ins().umin(x, y)),
            O::I32x4MaxS => self.binary_v(I32X4, |b, x, y| b.ins().smax(x, y)),
            O::I32x4MaxU => self.binary_v(I32X4, |b, x, y| b.ins().umax(x, y)),
            O::I32x4DotI16x8S => self.binary_v(I16X8, |b, x, y| {
                let low = {
                    let (x, y) = (b.ins().swiden_low(x), b.ins().swiden_low(y));
                    b.ins().imul(x, y)
                };
                let high = {
                    let (x, y) = (b.ins().swiden_high(x), b.ins().swiden_high(y));
                    b.ins().imul(x, y)
                };
                b.ins().iadd_pairwise(low, high)
            }),
            O::I32x4ExtMulLowI16x8S => self.extmul(I16X8, false, true),
            O::I32x4ExtMulHighI16x8S => self.extmul(I16X8, true, true),
            O::I32x4ExtMulLowI16x8U => self.extmul(I16X8, false, false),
            O::I32x4ExtMulHighI16x8U => self.extmul(I16X8, true, false),

            // i64x2.
            O::I64x2Abs => self.unary_v(I64X2, |b, x| b.ins().iabs(x)),
            O::I64x2Neg => self.unary_v(I64X2, |b, x| b.ins().ineg(x)),
            O::I64x2AllTrue => self.test_v(I64X2, |b, v| b.ins().vall_true(v)),
            O::I64x2Bitmask => self.test_bits(I64X2),
            O::I64x2ExtendLowI32x4S => self.unary_v(I32X4, |b, x| b.ins().swiden_low(x)),
            O::I64x2ExtendHighI32x4S => self.unary_v(I32X4, |b, x| b.ins().swiden_high(x)),
            O::I64x2ExtendLowI32x4U => self.unary_v(I32X4, |b, x| b.ins().uwiden_low(x)),
            O::I64x2ExtendHighI32x4U => self.unary_v(I32X4, |b, x| b.ins().uwiden_high(x)),
            O::I64x2Shl => self.shift_v(I64X2, |b, x, n| b.ins().ishl(x, n)),
            O::I64x2ShrS => self.shift_v(I64X2, |b, x, n| b.ins().sshr(x, n)),
            O::I64x2ShrU => self.shift_v(I64X2, |b, x, n| b.ins().ushr(x, n)),
            O::I64x2Add => self.binary_v(I64X2, |b, x, y| b.ins().iadd(x, y)),
            O::I64x2Sub => self.binary_v(I64X2, |b, x, y| b.ins().isub(x, y)),
            O::I64x2Mul => self.binary_v(I64X2, |b, x, y| b.ins().imul(x, y)),
            O::I64x2ExtMulLowI32x4S => self.extmul(I32X4, false, true),
            O::I64x2ExtMulHighI32x4S => self.extmul(I32X4, true, true),
            O::I64x2ExtMulLowI32x4U => self.extmul(I32X4, false, false),
            O::I64x2ExtMulHighI32x4U => self.extmul(I32X4, true, false),

            // f32x4 and f64x2.
            O::F32x4Ceil => self.unary_v(F32X4, |b, x| b.ins().ceil(x)),
            O::F32x4Floor => self.unary_v(F32X4, |b, x| b.ins().floor(x)),
            O::F32x4Trunc => self.unary_v(F32X4, |b, x| b.ins().trunc(x)),
            O::F32x4Nearest => self.unary_v(F32X4, |b, x| b.ins().nearest(x)),
            O::F32x4Abs => self.unary_v(F32X4, |b, x| b.ins().fabs(x)),
            O::F32x4Neg => self.unary_v(F32X4, |b, x| b.ins().fneg(x)),
            O::F32x4Sqrt => self.unary_v(F32X4, |b, x| b.ins().sqrt(x)),
            O::F32x4Add => self.binary_v(F32X4, |b, x, y| b.ins().fadd(x, y)),
            O::F32x4Sub => self.binary_v(F32X4, |b, x, y| b.ins().fsub(x, y)),
            O::F32x4Mul => self.binary_v(F32X4, |b, x, y| b.ins().fmul(x, y)),
            O::F32x4Div => self.binary_v(F32X4, |b, x, y| b.ins().fdiv(x, y)),
            O::F32x4Min => self.binary_v(F32X4, |b, x, y| b.ins().fmin(x, y)),
            O::F32x4Max => self.binary_v(F32X4, |b, x, y| b.ins().fmax(x, y)),
            O::F32x4PMin => self.pseudo_min_max(F32X4, false),
            O::F32x4PMax => self.pseudo_min_max(F32X4, true),
            O::F64x2Ceil => self.unary_v(F64X2, |b, x| b.ins().ceil(x)),
            O::F64x2Floor => self.unary_v(F64X2, |b, x| b.ins().floor(x)),
            O::F64x2Trunc => self.unary_v(F64X2, |b, x| b.ins().trunc(x)),
            O::F64x2Nearest => self.unary_v(F64X2, |b, x| b.ins().nearest(x)),
            O::F64x2Abs => self.unary_v(F64X2, |b, x| b.ins().fabs(x)),
            O::F64x2Neg => self.unary_v(F64X2, |b, x| b.ins().fneg(x)),
            O::F64x2Sqrt => self.unary_v(F64X2, |b, x| b.ins().sqrt(x)),
            O::F64x2Add => self.binary_v(F64X2, |b, x, y| b.ins().fadd(x, y)),
            O::F64x2Sub => self.binary_v(F64X2, |b, x, y| b.ins().fsub(x, y)),
            O::F64x2Mul => self.binary_v(F64X2, |b, x, y| b.ins().fmul(x, y)),
            O::F64x2Div => self.binary_v(F64X2, |b, x, y| b.ins().fdiv(x, y)),
            O::F64x2Min => self.binary_v(F64X2, |b, x, y| b.ins().fmin(x, y)),
            O::F64x2Max => self.binary_v(F64X2, |b, x, y| b.ins().fmax(x, y)),
            O::F64x2PMin => self.pseudo_min_max(F64X2, false),
            O::F64x2PMax => self.pseudo_min_max(F64X2, true),

            // Conversions.
            O::I32x4TruncSatF32x4S => {
                self.unary_v(F32X4, |b, x| b.ins().fcvt_to_sint_sat(I32X4, x))
            }
            O::I32x4TruncSatF32x4U => {
                self.unary_v(F32X4, |b, x| b.ins().fcvt_to_uint_sat(I32X4, x))
            }
            O::I32x4TruncSatF64x2SZero => self.unary_v(F64X2, |b, x| {
                let wide = b.ins().fcvt_to_sint_sat(I64X2, x);
                let zero = b.ins().iconst(types::I64, 0);
                let zero = b.ins().splat(I64X2, zero);
                b.ins().snarrow(wide, zero)
            }),
            O::I32x4TruncSatF64x2UZero => self.unary_v(F64X2, |b, x| {
                let wide = b.ins().fcvt_to_uint_sat(I64X2, x);
                let zero = b.ins().iconst(types::I64, 0);
                let zero = b.ins().splat(I64X2, zero);
                b.ins().uunarrow(wide, zero)
            }),
            O::F32x4ConvertI32x4S => self.unary_v(I32X4, |b, x| b.ins().fcvt_from_sint(F32X4, x)),
            O::F32x4ConvertI32x4U => self.unary_v(I32X4, |b, x| b.ins().fcvt_from_uint(F32X4, x)),
            O::F64x2ConvertLowI32x4S => self.unary_v(I32X4, |b, x| {
                let wide = b.ins().swiden_low(x);
                b.ins().fcvt_from_sint(F64X2, wide)
            }),
            O::F64x2ConvertLowI32x4U => self.unary_v(I32X4, |b, x| {
                let wide = b.ins().uwiden_low(x);
                b.ins().fcvt_from_uint(F64X2, wide)
            }),
            O::F32x4DemoteF64x2Zero => self.unary_v(F64X2, |b, x| b.ins().fvdemote(x)),
            O::F64x2PromoteLowF32x4 => self.unary_v(F32X4, |b, x| b.ins().fvpromote_low(x)),

            ref op => {
                if !self.translate_relaxed_simd(op)? {
                    return Ok(false);
                }
                self.used.relaxed_simd = true;
            }
        }
        self.used.simd = true;
        Ok(true)
    }

    /// Translates `op` if it is a relaxed SIMD operator (each lowered as
    /// the module's documentation says); `false` if it is not one.
    fn translate_relaxed_simd(&mut self, op: &Operator<'_>) -> Result<bool> {
        use Operator as O;
        use types::{F32X4, F64X2, I8X16, I16X8, I32X4};
        match *op {
            O::I8x16RelaxedSwizzle => self.binary_v(I8X16, |b, x, y| b.ins().swizzle(x, y)),
            O::I32x4RelaxedTruncF32x4S => {
                self.translate_simd(&O::I32x4TruncSatF32x4S)?;
            }
            O::I32x4RelaxedTruncF32x4U => {
                self.translate_simd(&O::I32x4TruncSatF32x4U)?;
            }
            O::I32x4RelaxedTruncF64x2SZero => {
                self.translate_simd(&O::I32x4TruncSatF64x2SZero)?;
            }
            O::I32x4RelaxedTruncF64x2UZero => {
                self.translate_simd(&O::I32x4TruncSatF64x2UZero)?;
            }
            O::F32x4RelaxedMadd => self.multiply_add(F32X4, false),
            O::F32x4RelaxedNmadd => self.multiply_add(F32X4, true),
            O::F64x2RelaxedMadd => self.multiply_add(F64X2, false),
            O::F64x2RelaxedNmadd => self.multiply_add(F64X2, true),
            O::I8x16RelaxedLaneselect
            | O::I16x8RelaxedLaneselect
            | O::I32x4RelaxedLaneselect
            | O::I64x2RelaxedLaneselect => {
                self.translate_simd(&O::V128Bitselect)?;
            }
            O::F32x4RelaxedMin => self.binary_v(F32X4, |b, x, y| b.ins().fmin(x, y)),
            O::F32x4RelaxedMax => self.binary_v(F32X4, |b, x, y| b.ins().fmax(x, y)),
            O::F64x2RelaxedMin => self.binary_v(F64X2, |b, x, y| b.ins().fmin(x, y)),
            O::F64x2RelaxedMax => self.binary_v(F64X2, |b, x, y| b.ins().fmax(x, y)),
            O::I16x8RelaxedQ15mulrS => {
                self.binary_v(I16X8, |b, x, y| b.ins().sqmul_round_sat(x, y))
            }
            O::I16x8RelaxedDotI8x16I7x16S => self.binary_v(I8X16, dot_i8x16),
            O::I32x4RelaxedDotI8x16I7x16AddS => {
                let acc = self.pop_v(I32X4);
                self.binary_v(I8X16, |b, x, y| {
                    let dot = dot_i8x16(b, x, y);
                    let (low, high) = (b.ins().swiden_low(dot), b.ins().swiden_high(dot));
                    let sums = b.ins().iadd_pairwise(low, high);
                    b.ins().iadd(sums, acc)
                });
            }

            _ => return Ok(false),
        }
        Ok(true)
    }

    /// `relaxed_madd` (`a * b + c`) or `relaxed_nmadd` (`-(a * b) + c`),
    /// rounding after the multiplication and after the addition.
    fn multiply_add(&mut self, ty: ir::Type, negate: bool) {
        let c = self.pop_v(ty);
        self.binary_v(ty, |b, x, y| {
            let product = b.ins().fmul(x, y);
            let product = if negate {
                b.ins().fneg(product)
            } else {
                product
            };
            b.ins().fadd(product, c)
        });
    }

    /// `bitmask`: the high bit of every lane of a vector of type `ty`, as
    /// the low bits of an `i32`.
    fn test_bits(&mut self, ty: ir::Type) {
        let v = self.pop_v(ty);
        let bits = self.b.ins().vhigh_bits(types::I32, v);
        self.push(bits);
    }
}
