//! Values that are flat on both sides of a fused adapter: lifted from the
//! caller's core values and lowered into the callee's (or back, for a
//! result) by a recursive translation, with every check lifting makes.
//!
//! Both sides have the same component type, so they flatten to the same
//! core types; what the translation does is the spec's `lift_flat` followed
//! by `lower_flat` on each value: normalize `bool`s, mask or sign-extend
//! narrow integers, canonicalize NaNs, check `char`s and discriminants,
//! mask flags, and for a variant convert the joined payload slots of the
//! active case to the case's own types and back, with zeros in the slots
//! it does not use. A check that fails calls an [`AbiTrap`] import, which
//! raises the runtime's error with the spec's wording. Resource handles
//! move between the two instances' handle tables, which the runtime keeps:
//! each is one call of a [`HandleOp`](cmc_runtime::abi::HandleOp) import.

use cmc_runtime::abi::{AbiTrap, ResourceTypeId};
use cmc_runtime::component::flatten::{flatten_type, variant_payload_types};
use cmc_runtime::component::lift::{CANONICAL_FLOAT32_NAN, CANONICAL_FLOAT64_NAN};
use cmc_runtime::component::types::{FlatType, InterfaceType, PtrType};
use std::borrow::Cow;
use wasm_encoder::{BlockType, Ieee32, Ieee64, Instruction, ValType};

/// How one flat value is carried: its core type and the instructions that
/// lift it on one side and lower it on the other.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Scalar {
    /// `bool`: any non-zero `i32` is true, lowered as 1.
    Bool,
    /// `u8`, `u16`, flags: the low bits of an `i32`, under this mask.
    Mask(i32),
    /// `s8`: the low 8 bits, sign-extended.
    Extend8,
    /// `s16`: the low 16 bits, sign-extended.
    Extend16,
    /// `u32`, `s32`, `u64`, `s64`: passed as is.
    Int(ValType),
    /// `f32`, `f64`: NaNs are canonicalized.
    Float(ValType),
    /// `char`: a surrogate or a value past U+10FFFF traps.
    Char,
    /// `own<T>`: the handle moves to the other instance's table.
    Own(ResourceTypeId),
    /// `borrow<T>`: the handle is lent to the callee for the call.
    Borrow(ResourceTypeId),
}

impl Scalar {
    fn of(ty: &InterfaceType) -> Option<Scalar> {
        use InterfaceType as T;
        Some(match ty {
            T::Bool => Scalar::Bool,
            T::U8 => Scalar::Mask(0xff),
            T::U16 => Scalar::Mask(0xffff),
            T::S8 => Scalar::Extend8,
            T::S16 => Scalar::Extend16,
            T::U32 | T::S32 => Scalar::Int(ValType::I32),
            T::U64 | T::S64 => Scalar::Int(ValType::I64),
            T::F32 => Scalar::Float(ValType::F32),
            T::F64 => Scalar::Float(ValType::F64),
            T::Char => Scalar::Char,
            T::Own(ty) => Scalar::Own(*ty),
            T::Borrow(ty) => Scalar::Borrow(*ty),
            // Bits beyond the labels are ignored when lifted, so never
            // lowered (`unpack_flags_from_int`, `pack_flags_into_int`).
            T::Flags(labels) => Scalar::Mask(match labels.len() {
                n @ 0..32 => ((1u32 << n) - 1) as i32,
                _ => -1,
            }),
            _ => return None,
        })
    }

    fn core_type(self) -> ValType {
        match self {
            Scalar::Int(t) | Scalar::Float(t) => t,
            _ => ValType::I32,
        }
    }
}

/// A value that is flat on both sides.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Flat {
    /// One core value.
    Scalar(Scalar),
    /// A record or tuple: its fields' values in order.
    Fields(Vec<Flat>),
    /// A variant, enum, option or result: the discriminant, then the
    /// joined payload slots.
    Variant(Variant),
}

/// The cases of a variant-like type.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Variant {
    /// Each case's payload, with the core types it flattens to.
    cases: Vec<Option<(Flat, Vec<ValType>)>>,
    /// The joined core types of the payload slots.
    joined: Vec<ValType>,
}

fn core(t: FlatType) -> ValType {
    match t {
        FlatType::I32 => ValType::I32,
        FlatType::I64 => ValType::I64,
        FlatType::F32 => ValType::F32,
        FlatType::F64 => ValType::F64,
    }
}

/// The core types `ty` flattens to (no pointers: `Flat` has none).
fn core_types(ty: &InterfaceType) -> Vec<ValType> {
    flatten_type(ty, PtrType::I32)
        .into_iter()
        .map(core)
        .collect()
}

impl Flat {
    /// The translation of `ty`, or `None` if it holds a string or list,
    /// which need memory.
    pub(super) fn of(ty: &InterfaceType) -> Option<Flat> {
        use InterfaceType as T;
        Some(match ty {
            T::Record(_) | T::Tuple(_) => Flat::Fields(
                ty.record_fields()
                    .unwrap_or_default()
                    .into_iter()
                    .map(Flat::of)
                    .collect::<Option<_>>()?,
            ),
            T::Variant(_) | T::Enum(_) | T::Option(_) | T::Result { .. } => {
                let cases = ty.variant_cases().unwrap_or_default();
                Flat::Variant(Variant {
                    cases: cases
                        .iter()
                        .map(|case| match case {
                            Some(t) => Flat::of(t).map(|flat| Some((flat, core_types(t)))),
                            None => Some(None),
                        })
                        .collect::<Option<_>>()?,
                    joined: variant_payload_types(&cases, PtrType::I32)
                        .into_iter()
                        .map(core)
                        .collect(),
                })
            }
            t => Flat::Scalar(Scalar::of(t)?),
        })
    }

    /// The core types, in order.
    pub(super) fn core_types(&self) -> Vec<ValType> {
        match self {
            Flat::Scalar(s) => vec![s.core_type()],
            Flat::Fields(fields) => fields.iter().flat_map(Flat::core_types).collect(),
            Flat::Variant(v) => [ValType::I32]
                .into_iter()
                .chain(v.joined.iter().copied())
                .collect(),
        }
    }

    /// Adds the imports the translation calls to `out`; `into_callee`
    /// says which way it goes (arguments, or the result).
    pub(super) fn needs(&self, into_callee: bool, out: &mut Vec<Need>) {
        let mut add = |n| {
            if !out.contains(&n) {
                out.push(n);
            }
        };
        match self {
            Flat::Scalar(Scalar::Char) => add(Need::Trap(AbiTrap::InvalidChar)),
            Flat::Scalar(Scalar::Own(ty)) => add(Need::Own {
                ty: *ty,
                into_callee,
            }),
            Flat::Scalar(Scalar::Borrow(ty)) => add(Need::Borrow(*ty)),
            Flat::Scalar(_) => {}
            Flat::Fields(fields) => fields.iter().for_each(|f| f.needs(into_callee, out)),
            Flat::Variant(v) => {
                add(Need::Trap(AbiTrap::InvalidDiscriminant {
                    cases: v.cases.len() as u32,
                }));
                v.cases
                    .iter()
                    .flatten()
                    .for_each(|(f, _)| f.needs(into_callee, out));
            }
        }
    }
}

/// An import a translation calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Need {
    /// Raising a trap.
    Trap(AbiTrap),
    /// Moving an owning handle of `ty`, into the callee or back.
    Own {
        ty: ResourceTypeId,
        into_callee: bool,
    },
    /// Lending a handle of `ty` to the callee.
    Borrow(ResourceTypeId),
}

/// An adapter function's code under construction: its instructions and the
/// locals it adds after the fixed ones.
pub(super) struct Code {
    pub instrs: Vec<Instruction<'static>>,
    /// Index of the first added local.
    first_local: u32,
    /// Types of the added locals.
    locals: Vec<ValType>,
    /// The function index of each import the translations call.
    imports: Vec<(Need, u32)>,
    /// Whether values go into the callee (arguments) or back (the result).
    pub into_callee: bool,
}

impl Code {
    /// Code whose added locals start at `first_local`, calling the
    /// imported functions `imports`.
    pub(super) fn new(first_local: u32, imports: Vec<(Need, u32)>) -> Code {
        Code {
            instrs: Vec::new(),
            first_local,
            locals: Vec::new(),
            imports,
            into_callee: true,
        }
    }

    /// The function index of import `need`.
    fn import(&self, need: Need) -> u32 {
        self.imports
            .iter()
            .find(|(n, _)| *n == need)
            .map(|&(_, f)| f)
            .expect("the adapter imports every function its translations call")
    }

    pub(super) fn push(&mut self, i: Instruction<'static>) {
        self.instrs.push(i);
    }

    /// A new local of type `ty`.
    pub(super) fn local(&mut self, ty: ValType) -> u32 {
        self.locals.push(ty);
        self.first_local + self.locals.len() as u32 - 1
    }

    /// New locals of these types.
    pub(super) fn locals(&mut self, types: &[ValType]) -> Vec<u32> {
        types.iter().map(|&t| self.local(t)).collect()
    }

    /// The added locals, for `Function::new`.
    pub(super) fn added_locals(&self) -> Vec<(u32, ValType)> {
        self.locals.iter().map(|&t| (1, t)).collect()
    }

    /// Calls the import raising `trap` with the value `value` pushes.
    pub(super) fn trap(&mut self, trap: AbiTrap, value: Instruction<'static>) {
        let func = self.import(Need::Trap(trap));
        self.push(value);
        self.push(Instruction::Call(func));
        self.push(Instruction::Unreachable);
    }

    /// Translates `flat` from the values in locals `from` to locals `to`
    /// (as many as its core types each).
    pub(super) fn translate(&mut self, flat: &Flat, from: &[u32], to: &[u32]) {
        match flat {
            Flat::Scalar(s) => self.scalar(*s, from[0], to[0]),
            Flat::Fields(fields) => {
                let mut at = 0;
                for field in fields {
                    let n = field.core_types().len();
                    self.translate(field, &from[at..at + n], &to[at..at + n]);
                    at += n;
                }
            }
            Flat::Variant(v) => self.variant(v, from, to),
        }
    }

    fn scalar(&mut self, s: Scalar, from: u32, to: u32) {
        use Instruction as I;
        match s {
            Scalar::Char => {
                // A surrogate (0xD800..0xE000) or past 0x10FFFF traps.
                self.push(I::LocalGet(from));
                self.push(I::I32Const(0xD800));
                self.push(I::I32Sub);
                self.push(I::I32Const(0x800));
                self.push(I::I32LtU);
                self.push(I::LocalGet(from));
                self.push(I::I32Const(0x11_0000));
                self.push(I::I32GeU);
                self.push(I::I32Or);
                self.push(I::If(BlockType::Empty));
                self.trap(AbiTrap::InvalidChar, I::LocalGet(from));
                self.push(I::End);
                self.push(I::LocalGet(from));
            }
            Scalar::Float(t) => {
                // x == x ? x : the canonical NaN
                let (nan, eq) = if t == ValType::F32 {
                    (I::F32Const(Ieee32::new(CANONICAL_FLOAT32_NAN)), I::F32Eq)
                } else {
                    (I::F64Const(Ieee64::new(CANONICAL_FLOAT64_NAN)), I::F64Eq)
                };
                self.push(I::LocalGet(from));
                self.push(nan);
                self.push(I::LocalGet(from));
                self.push(I::LocalGet(from));
                self.push(eq);
                self.push(I::Select);
            }
            Scalar::Bool => {
                self.push(I::LocalGet(from));
                self.push(I::I32Const(0));
                self.push(I::I32Ne);
            }
            Scalar::Mask(mask) => {
                self.push(I::LocalGet(from));
                self.push(I::I32Const(mask));
                self.push(I::I32And);
            }
            Scalar::Extend8 => {
                self.push(I::LocalGet(from));
                self.push(I::I32Extend8S);
            }
            Scalar::Extend16 => {
                self.push(I::LocalGet(from));
                self.push(I::I32Extend16S);
            }
            Scalar::Int(_) => self.push(I::LocalGet(from)),
            Scalar::Own(ty) => {
                let func = self.import(Need::Own {
                    ty,
                    into_callee: self.into_callee,
                });
                self.push(I::LocalGet(from));
                self.push(I::Call(func));
            }
            Scalar::Borrow(ty) => {
                let func = self.import(Need::Borrow(ty));
                self.push(I::LocalGet(from));
                self.push(I::Call(func));
            }
        }
        self.push(I::LocalSet(to));
    }

    /// A variant: check the discriminant, then, in the active case's block,
    /// convert its payload out of the joined slots, translate it, convert it
    /// back and zero the slots it does not use.
    fn variant(&mut self, v: &Variant, from: &[u32], to: &[u32]) {
        use Instruction as I;
        let (disc, slots_in, slots_out) = (from[0], &from[1..], &to[1..]);
        let cases = v.cases.len() as u32;
        self.push(I::LocalGet(disc));
        self.push(I::I32Const(cases as i32));
        self.push(I::I32GeU);
        self.push(I::If(BlockType::Empty));
        self.trap(AbiTrap::InvalidDiscriminant { cases }, I::LocalGet(disc));
        self.push(I::End);
        self.push(I::LocalGet(disc));
        self.push(I::LocalSet(to[0]));
        // block $done { block $case_{n-1} … { block $case_0 { br_table } case 0 … } … }
        self.push(I::Block(BlockType::Empty));
        for _ in 0..cases {
            self.push(I::Block(BlockType::Empty));
        }
        self.push(I::LocalGet(disc));
        let targets: Vec<u32> = (0..cases).collect();
        self.push(I::BrTable(Cow::Owned(targets), 0));
        for (i, case) in v.cases.iter().enumerate() {
            self.push(I::End);
            let used = match case {
                Some((flat, types)) => {
                    let lifted = self.locals(types);
                    let lowered = self.locals(types);
                    for ((&slot, &joined), (&local, &ty)) in
                        slots_in.iter().zip(&v.joined).zip(lifted.iter().zip(types))
                    {
                        self.push(I::LocalGet(slot));
                        coerce(self, joined, ty);
                        self.push(I::LocalSet(local));
                    }
                    self.translate(flat, &lifted, &lowered);
                    for ((&slot, &joined), (&local, &ty)) in slots_out
                        .iter()
                        .zip(&v.joined)
                        .zip(lowered.iter().zip(types))
                    {
                        self.push(I::LocalGet(local));
                        coerce(self, ty, joined);
                        self.push(I::LocalSet(slot));
                    }
                    types.len()
                }
                None => 0,
            };
            for (&slot, &joined) in slots_out.iter().zip(&v.joined).skip(used) {
                self.push(zero(joined));
                self.push(I::LocalSet(slot));
            }
            // Out of this case's block and the ones after it.
            self.push(I::Br(cases - 1 - i as u32));
        }
        self.push(I::End);
    }
}

/// Converts the value on the stack between a case's type and its joined
/// slot's type, either way (`CoerceValueIter` and `lower_flat_variant`'s
/// conversions): the same bits, widened or narrowed.
fn coerce(code: &mut Code, from: ValType, to: ValType) {
    use Instruction as I;
    use ValType::{F32, F64, I32, I64};
    let steps: &[Instruction<'static>] = match (from, to) {
        (I32, F32) => &[I::F32ReinterpretI32],
        (F32, I32) => &[I::I32ReinterpretF32],
        (I64, I32) => &[I::I32WrapI64],
        (I32, I64) => &[I::I64ExtendI32U],
        (I64, F32) => &[I::I32WrapI64, I::F32ReinterpretI32],
        (F32, I64) => &[I::I32ReinterpretF32, I::I64ExtendI32U],
        (I64, F64) => &[I::F64ReinterpretI64],
        (F64, I64) => &[I::I64ReinterpretF64],
        _ => &[],
    };
    for step in steps {
        code.push(step.clone());
    }
}

/// The zero of a core type.
fn zero(t: ValType) -> Instruction<'static> {
    match t {
        ValType::I64 => Instruction::I64Const(0),
        ValType::F32 => Instruction::F32Const(Ieee32::new(0)),
        ValType::F64 => Instruction::F64Const(Ieee64::new(0)),
        _ => Instruction::I32Const(0),
    }
}
