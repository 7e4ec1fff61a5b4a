//! The translation of one value from where it lies on one side of a fused
//! adapter (flat in locals, or in memory) to where it goes on the other:
//! the spec's lift (`lift_flat`, `load`) followed by its lower
//! (`lower_flat`, `store`), written as one recursive walk over the type.
//!
//! Both sides have the same component type; they flatten it and lay it
//! out alike but for pointers and lengths, which take each side's address
//! type (`i32`, or `i64` for a 64-bit memory). The walk normalizes `bool`s, masks or sign-extends narrow integers,
//! canonicalizes NaNs, checks `char`s and discriminants, masks flags,
//! converts a variant's joined payload slots to the active case's types
//! and back (zeros in the slots it does not use), moves resource handles
//! between the two instances' tables (one call of a
//! [`HandleOp`](cmc_runtime::abi::HandleOp) import each), and copies
//! strings and lists into the other side's `realloc`ed memory: as bytes
//! when their bytes are their values, else element by element. An ASCII
//! string between utf8 and utf16 is widened or narrowed in compiled code;
//! other strings in two different encodings are transcoded by the runtime
//! ([`TransferOp::Transcode`]). A check that fails calls an [`AbiTrap`]
//! import, or the host half that repeats it, which raises the runtime's
//! error with the spec's wording.

use super::code::Code;
use super::memory::{self, Ascii, arg};
use cmc_runtime::abi::{AbiTrap, Alloc, CoreDef, Elements, HandleOp, TransferOp};
use cmc_runtime::component::flatten::{flatten_type, variant_payload_types};
use cmc_runtime::component::layout::{field_offsets, layout, variant_layout};
use cmc_runtime::component::lift::{CANONICAL_FLOAT32_NAN, CANONICAL_FLOAT64_NAN};
use cmc_runtime::component::types::{InterfaceType, PtrType, StringEncoding};
use std::borrow::Cow;
use wasm_encoder::{BlockType, Ieee32, Ieee64, Instruction as I, MemArg, ValType};

/// Where a value lies on one side.
#[derive(Clone, Debug)]
pub(super) enum Loc {
    /// Flat: its core values, in these locals.
    Flat(Vec<u32>),
    /// In the side's memory, at the address in local `addr` plus `offset`.
    Memory { addr: u32, offset: u32 },
}

impl Loc {
    /// The place of each of these fields of a record (or tuple) here, on a
    /// side with pointers of type `ptr`.
    fn fields(&self, types: &[&InterfaceType], ptr: PtrType) -> Vec<Loc> {
        match self {
            Loc::Flat(locals) => {
                let mut at = 0;
                types
                    .iter()
                    .map(|t| {
                        let n = core_types(t, ptr).len();
                        at += n;
                        Loc::Flat(locals[at - n..at].to_vec())
                    })
                    .collect()
            }
            Loc::Memory { addr, offset } => field_offsets(types.iter().copied(), ptr)
                .into_iter()
                .map(|o| Loc::Memory {
                    addr: *addr,
                    offset: offset + o,
                })
                .collect(),
        }
    }
}

/// The core types `ty` flattens to on a side with pointers of type `ptr`.
pub(super) fn core_types(ty: &InterfaceType, ptr: PtrType) -> Vec<ValType> {
    flatten_type(ty, ptr)
        .into_iter()
        .map(crate::component::core_type)
        .collect()
}

/// The size of a plain value of type `ty`, whose bytes are its value (see
/// [`Elements::List`]): an integer, or a record or tuple of plain values
/// whose fields fill it without padding; `None` for anything else. (It
/// holds no pointers, so it is laid out alike on both sides.)
pub(super) fn plain_size(ty: &InterfaceType) -> Option<u32> {
    use InterfaceType as T;
    match ty {
        T::U8 | T::S8 => Some(1),
        T::U16 | T::S16 => Some(2),
        T::U32 | T::S32 => Some(4),
        T::U64 | T::S64 => Some(8),
        T::Record(_) | T::Tuple(_) => {
            let fields = ty.record_fields()?;
            let sum = fields.iter().map(|t| plain_size(t)).sum::<Option<u32>>()?;
            (sum == layout(ty, PtrType::I32).size).then_some(sum)
        }
        _ => None,
    }
}

/// Whether a value of type `ty` holds strings or lists, which live in
/// memory.
pub(super) fn holds_pointers(ty: &InterfaceType) -> bool {
    match ty {
        InterfaceType::String | InterfaceType::List(_) => true,
        _ => {
            let fields = ty.record_fields().unwrap_or_default();
            let cases = ty.variant_cases().unwrap_or_default();
            fields.into_iter().any(holds_pointers)
                || cases.iter().flatten().any(|t| holds_pointers(t))
        }
    }
}

/// How one scalar is lifted on one side and lowered on the other.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Scalar {
    /// `bool`: any non-zero value is true, lowered as 1.
    Bool,
    /// `u8`, `u16`, flags: the low bits, under this mask.
    Mask(i32),
    /// `s8`, `s16`: the low 8 or 16 bits, sign-extended.
    Signed,
    /// `u32`, `s32`, `u64`, `s64`: passed as is.
    Int,
    /// `f32`, `f64`: NaNs are canonicalized.
    Float,
    /// `char`: a surrogate or a value past U+10FFFF traps.
    Char,
    /// `own<T>` or `borrow<T>`: the handle moves, or is lent, to the other
    /// instance's table.
    Handle,
}

impl Scalar {
    fn of(ty: &InterfaceType) -> Scalar {
        use InterfaceType as T;
        match ty {
            T::Bool => Scalar::Bool,
            T::U8 => Scalar::Mask(0xff),
            T::U16 => Scalar::Mask(0xffff),
            T::S8 | T::S16 => Scalar::Signed,
            T::F32 | T::F64 => Scalar::Float,
            T::Char => Scalar::Char,
            T::Own(_) | T::Borrow(_) => Scalar::Handle,
            // Bits beyond the labels are ignored when lifted, so never
            // lowered (`unpack_flags_from_int`, `pack_flags_into_int`).
            T::Flags(labels) => Scalar::Mask(match labels.len() {
                n @ 0..32 => ((1u32 << n) - 1) as i32,
                _ => -1,
            }),
            _ => Scalar::Int,
        }
    }
}

/// The load of a value of core type `ty` stored in `bytes` bytes.
fn load(ty: ValType, bytes: u32, signed: bool, offset: u32, memory: u32) -> I<'static> {
    let a = arg(u64::from(offset), bytes.trailing_zeros(), memory);
    match (ty, bytes, signed) {
        (ValType::I32, 1, false) => I::I32Load8U(a),
        (ValType::I32, 1, true) => I::I32Load8S(a),
        (ValType::I32, 2, false) => I::I32Load16U(a),
        (ValType::I32, 2, true) => I::I32Load16S(a),
        (ValType::I64, _, _) => I::I64Load(a),
        (ValType::F32, _, _) => I::F32Load(a),
        (ValType::F64, _, _) => I::F64Load(a),
        _ => I::I32Load(a),
    }
}

/// The store of a value of core type `ty` in `bytes` bytes.
fn store(ty: ValType, bytes: u32, offset: u32, memory: u32) -> I<'static> {
    let a = arg(u64::from(offset), bytes.trailing_zeros(), memory);
    match (ty, bytes) {
        (ValType::I32, 1) => I::I32Store8(a),
        (ValType::I32, 2) => I::I32Store16(a),
        (ValType::I64, _) => I::I64Store(a),
        (ValType::F32, _) => I::F32Store(a),
        (ValType::F64, _) => I::F64Store(a),
        _ => I::I32Store(a),
    }
}

impl Code<'_> {
    /// Translates a value of type `ty` from `src` on the `from` side to
    /// `dst` on the `to` side.
    pub(super) fn translate(&mut self, ty: &InterfaceType, src: &Loc, dst: &Loc) {
        use InterfaceType as T;
        match ty {
            T::Record(_) | T::Tuple(_) => {
                let fields = ty.record_fields().unwrap_or_default();
                let (from, to) = self.ptr_types();
                for ((t, s), d) in fields
                    .iter()
                    .zip(src.fields(&fields, from))
                    .zip(dst.fields(&fields, to))
                {
                    self.translate(t, &s, &d);
                }
            }
            T::Variant(_) | T::Enum(_) | T::Option(_) | T::Result { .. } => {
                self.variant(ty, src, dst)
            }
            T::String => self.string(src, dst),
            T::List(elem) => self.list(elem, src, dst),
            t => self.scalar(t, src, dst),
        }
    }

    /// The pointer types of the `from` and the `to` side.
    fn ptr_types(&self) -> (PtrType, PtrType) {
        (self.from().options.ptr_type, self.to().options.ptr_type)
    }

    /// Pushes the value at `src` (of core type `ty`, `bytes` wide in
    /// memory, sign-extended if `signed`).
    fn read(&mut self, src: &Loc, ty: ValType, bytes: u32, signed: bool) {
        match src {
            Loc::Flat(locals) => self.push(I::LocalGet(locals[0])),
            Loc::Memory { addr, offset } => {
                let memory = self.from().memory;
                self.push(I::LocalGet(*addr));
                self.push(load(ty, bytes, signed, *offset, memory));
            }
        }
    }

    /// What comes before the value written to `dst`: its address.
    fn begin_write(&mut self, dst: &Loc) {
        if let Loc::Memory { addr, .. } = dst {
            self.push(I::LocalGet(*addr));
        }
    }

    /// Writes the value on the stack to `dst` (after [`Self::begin_write`]).
    fn end_write(&mut self, dst: &Loc, ty: ValType, bytes: u32) {
        match dst {
            Loc::Flat(locals) => self.push(I::LocalSet(locals[0])),
            Loc::Memory { offset, .. } => {
                let memory = self.to().memory;
                self.push(store(ty, bytes, *offset, memory));
            }
        }
    }

    fn scalar(&mut self, ty: &InterfaceType, src: &Loc, dst: &Loc) {
        // A scalar holds no pointer.
        let core = core_types(ty, PtrType::I32)[0];
        let bytes = layout(ty, PtrType::I32).size;
        let s = Scalar::of(ty);
        self.begin_write(dst);
        self.read(src, core, bytes, s == Scalar::Signed);
        match s {
            Scalar::Char => {
                // A surrogate (0xD800..0xE000) or past 0x10FFFF traps.
                let c = self.local(ValType::I32);
                self.push(I::LocalTee(c));
                self.push(I::I32Const(0xD800));
                self.push(I::I32Sub);
                self.push(I::I32Const(0x800));
                self.push(I::I32LtU);
                self.push(I::LocalGet(c));
                self.push(I::I32Const(0x11_0000));
                self.push(I::I32GeU);
                self.push(I::I32Or);
                self.push(I::If(BlockType::Empty));
                self.trap(AbiTrap::InvalidChar, I::LocalGet(c));
                self.push(I::End);
                self.push(I::LocalGet(c));
            }
            Scalar::Float => {
                // x == x ? x : the canonical NaN
                let x = self.local(core);
                let (nan, eq) = if core == ValType::F32 {
                    (I::F32Const(Ieee32::new(CANONICAL_FLOAT32_NAN)), I::F32Eq)
                } else {
                    (I::F64Const(Ieee64::new(CANONICAL_FLOAT64_NAN)), I::F64Eq)
                };
                self.push(I::LocalSet(x));
                self.push(I::LocalGet(x));
                self.push(nan);
                self.push(I::LocalGet(x));
                self.push(I::LocalGet(x));
                self.push(eq);
                self.push(I::Select);
            }
            Scalar::Bool => {
                self.push(I::I32Const(0));
                self.push(I::I32Ne);
            }
            Scalar::Mask(mask) => {
                self.push(I::I32Const(mask));
                self.push(I::I32And);
            }
            // Sign-extended by the load from memory, and in flat form.
            Scalar::Signed if matches!(src, Loc::Flat(_)) => self.push(match bytes {
                1 => I::I32Extend8S,
                _ => I::I32Extend16S,
            }),
            Scalar::Signed | Scalar::Int => {}
            Scalar::Handle => {
                let op = self.handle_op(ty);
                let func = self.def(CoreDef::Handle(op), &[ValType::I32], &[ValType::I32]);
                self.push(I::Call(func));
            }
        }
        self.end_write(dst, core, bytes);
    }

    /// The handle operation that carries a handle of type `ty` across.
    fn handle_op(&self, ty: &InterfaceType) -> HandleOp {
        let (from, to) = (self.from().instance, self.to().instance);
        match ty {
            InterfaceType::Borrow(ty) => HandleOp::Lend { ty: *ty, from, to },
            InterfaceType::Own(ty) => HandleOp::MoveOwn { ty: *ty, from, to },
            other => unreachable!("{other} is not a handle"),
        }
    }

    /// A variant: check the discriminant, then, in the active case's block,
    /// translate its payload: out of the joined slots (converted to the
    /// case's types) or from memory, into new locals (converted back into
    /// the joined slots, the others zeroed) or into memory.
    fn variant(&mut self, ty: &InterfaceType, src: &Loc, dst: &Loc) {
        let cases = ty.variant_cases().unwrap_or_default();
        let n = cases.len() as u32;
        let (from, to) = self.ptr_types();
        // Payloads holding pointers sit and flatten differently on sides
        // with different pointer types; discriminants do not.
        let shapes = (variant_layout(&cases, from), variant_layout(&cases, to));
        let disc_bytes = shapes.0.discriminant_size;
        let joined = |ptr| -> Vec<ValType> {
            variant_payload_types(&cases, ptr)
                .into_iter()
                .map(crate::component::core_type)
                .collect()
        };
        let joined = (joined(from), joined(to));
        let disc = self.local(ValType::I32);
        self.read(src, ValType::I32, disc_bytes, false);
        self.push(I::LocalSet(disc));
        self.push(I::LocalGet(disc));
        self.push(I::I32Const(n as i32));
        self.push(I::I32GeU);
        self.push(I::If(BlockType::Empty));
        self.trap(AbiTrap::InvalidDiscriminant { cases: n }, I::LocalGet(disc));
        self.push(I::End);
        self.begin_write(dst);
        self.push(I::LocalGet(disc));
        self.end_write(dst, ValType::I32, disc_bytes);
        let payload = |loc: &Loc, payload_offset| match loc {
            Loc::Flat(locals) => Loc::Flat(locals[1..].to_vec()),
            Loc::Memory { addr, offset } => Loc::Memory {
                addr: *addr,
                offset: offset + payload_offset,
            },
        };
        let src_slots = payload(src, shapes.0.payload_offset);
        let dst_slots = payload(dst, shapes.1.payload_offset);
        // block $done { block $case_{n-1} … { block $case_0 { br_table } case 0 … } … }
        self.push(I::Block(BlockType::Empty));
        for _ in 0..n {
            self.push(I::Block(BlockType::Empty));
        }
        self.push(I::LocalGet(disc));
        let targets: Vec<u32> = (0..n).collect();
        self.push(I::BrTable(Cow::Owned(targets), 0));
        for (i, case) in cases.iter().enumerate() {
            self.push(I::End);
            let used = match case {
                Some(t) => self.payload(t, (&joined.0, &joined.1), &src_slots, &dst_slots),
                None => 0,
            };
            if let Loc::Flat(slots) = &dst_slots {
                for (&slot, &t) in slots.iter().zip(&joined.1).skip(used) {
                    self.push(zero(t));
                    self.push(I::LocalSet(slot));
                }
            }
            // Out of this case's block and the ones after it.
            self.push(I::Br(n - 1 - i as u32));
        }
        self.push(I::End);
    }

    /// Translates the payload of type `ty` between the variant's payload
    /// places, whose joined slot types are `joined` on the `from` and the
    /// `to` side; returns how many joined slots it fills when flat.
    fn payload(
        &mut self,
        ty: &InterfaceType,
        joined: (&[ValType], &[ValType]),
        src: &Loc,
        dst: &Loc,
    ) -> usize {
        let (from, to) = self.ptr_types();
        let (from_types, types) = (core_types(ty, from), core_types(ty, to));
        let src = match src {
            Loc::Flat(slots) => {
                let lifted = self.locals(&from_types);
                for ((&slot, &j), (&local, &t)) in slots
                    .iter()
                    .zip(joined.0)
                    .zip(lifted.iter().zip(&from_types))
                {
                    self.push(I::LocalGet(slot));
                    coerce(self, j, t);
                    self.push(I::LocalSet(local));
                }
                Loc::Flat(lifted)
            }
            memory => memory.clone(),
        };
        match dst {
            Loc::Flat(slots) => {
                let lowered = self.locals(&types);
                self.translate(ty, &src, &Loc::Flat(lowered.clone()));
                for ((&slot, &j), (&local, &t)) in
                    slots.iter().zip(joined.1).zip(lowered.iter().zip(&types))
                {
                    self.push(I::LocalGet(local));
                    coerce(self, t, j);
                    self.push(I::LocalSet(slot));
                }
            }
            memory => self.translate(ty, &src, memory),
        }
        types.len()
    }

    /// The `(ptr, len)` of a string or list at `src`, in locals.
    fn read_pair(&mut self, src: &Loc) -> (u32, u32) {
        match src {
            Loc::Flat(locals) => (locals[0], locals[1]),
            Loc::Memory { addr, offset } => {
                let memory = self.from().memory;
                let ty = self.addr_type(memory);
                let pair = (self.local(ty), self.local(ty));
                let (word, load): (u32, fn(MemArg) -> I<'static>) = match ty {
                    ValType::I64 => (8, I::I64Load),
                    _ => (4, I::I32Load),
                };
                for (local, at) in [(pair.0, *offset), (pair.1, offset + word)] {
                    self.push(I::LocalGet(*addr));
                    self.push(load(arg(u64::from(at), word.trailing_zeros(), memory)));
                    self.push(I::LocalSet(local));
                }
                pair
            }
        }
    }

    /// Writes the `(ptr, len)` in these locals (of the `to` side's address
    /// type) to `dst`.
    fn write_pair(&mut self, dst: &Loc, (ptr, len): (u32, u32)) {
        match dst {
            Loc::Flat(locals) => {
                self.push(I::LocalGet(ptr));
                self.push(I::LocalSet(locals[0]));
                self.push(I::LocalGet(len));
                self.push(I::LocalSet(locals[1]));
            }
            Loc::Memory { addr, offset } => {
                let memory = self.to().memory;
                let (word, store): (u32, fn(MemArg) -> I<'static>) = match self.is64(memory) {
                    true => (8, I::I64Store),
                    false => (4, I::I32Store),
                };
                for (local, at) in [(ptr, *offset), (len, offset + word)] {
                    self.push(I::LocalGet(*addr));
                    self.push(I::LocalGet(local));
                    self.push(store(arg(u64::from(at), word.trailing_zeros(), memory)));
                }
            }
        }
    }

    /// Allocates `len` (a local of the `to` side's address type) elements
    /// of `size` bytes aligned to `align` on the `to` side (`len * size`
    /// already checked to be below 2^28); returns the local holding the
    /// pointer.
    fn allocate(&mut self, len: u32, (size, align): (u32, u32)) -> u32 {
        let memory = self.to().memory;
        let dst = self.local(self.addr_type(memory));
        self.realloc_to(align, |code| {
            code.get_i64(len, memory);
            code.push(I::I64Const(i64::from(size)));
            code.push(I::I64Mul);
            code.narrow_to(memory);
        });
        self.push(I::LocalSet(dst));
        dst
    }

    /// The `from` side's length in local `len` as a local of the `to`
    /// side's address type (checked to be below 2^28 by then).
    fn len_to(&mut self, len: u32) -> u32 {
        let memories = (self.from().memory, self.to().memory);
        self.convert(len, memories)
    }

    /// A string: utf8 to utf8 checked and copied in compiled code (see
    /// [`memory`]); between other encodings, transcoded by the runtime.
    fn string(&mut self, src: &Loc, dst: &Loc) {
        let (ptr, len) = self.read_pair(src);
        let encodings = (self.from().options.encoding, self.to().options.encoding);
        let pair = match encodings {
            (StringEncoding::Utf8, StringEncoding::Utf8) => {
                memory::check_elements(self, Elements::Utf8, (ptr, len));
                let len_to = self.len_to(len);
                let dst = self.allocate(len_to, (1, 1));
                memory::copy(self, Elements::Utf8, (ptr, len), dst);
                (dst, len_to)
            }
            (StringEncoding::Utf8, StringEncoding::Utf16) if self.distinct => {
                self.ascii_or_transcode(Ascii::Widen, (ptr, len))
            }
            (StringEncoding::Utf16, StringEncoding::Utf8) if self.distinct => {
                self.ascii_or_transcode(Ascii::Narrow, (ptr, len))
            }
            _ => {
                let out = self.pair_locals();
                self.transcode(encodings, (ptr, len), out);
                out
            }
        };
        self.write_pair(dst, pair);
    }

    /// New locals for a `(ptr, len)` on the `to` side.
    fn pair_locals(&mut self) -> (u32, u32) {
        let ty = self.addr_type(self.to().memory);
        (self.local(ty), self.local(ty))
    }

    /// A string between utf8 and utf16 (two distinct memories): an ASCII
    /// one in compiled code, with the one `realloc` the spec makes for it;
    /// any other through the runtime's transcoder. Returns the locals of
    /// the new `(ptr, len)`.
    ///
    /// Like the utf8 copy, the units are read again after `realloc` ran.
    fn ascii_or_transcode(&mut self, way: Ascii, (ptr, len): (u32, u32)) -> (u32, u32) {
        let out = self.pair_locals();
        let ok = memory::ascii_transcodable(self, way, (ptr, len));
        self.push(I::LocalGet(ok));
        self.push(I::If(BlockType::Empty));
        let unit = match way {
            Ascii::Widen => 2,
            Ascii::Narrow => 1,
        };
        let len_to = self.len_to(len);
        let dst = self.allocate(len_to, (unit, unit));
        memory::check_alloc(self, dst, len_to, (unit, unit), Alloc::String);
        let memories = (self.from().memory, self.to().memory);
        let units = self.len32(len, memories.0);
        memory::transcode_ascii(self, way, memories, (ptr, units), dst);
        for (local, value) in [(out.0, dst), (out.1, len_to)] {
            self.push(I::LocalGet(value));
            self.push(I::LocalSet(local));
        }
        self.push(I::Else);
        let encodings = (self.from().options.encoding, self.to().options.encoding);
        self.transcode(encodings, (ptr, len), out);
        self.push(I::End);
        out
    }

    /// Calls the runtime's transcoder between these encodings, into the
    /// `to` side: `(ptr, units)` in, the new pair into the locals `out`.
    fn transcode(
        &mut self,
        (from, to): (StringEncoding, StringEncoding),
        (ptr, len): (u32, u32),
        out: (u32, u32),
    ) {
        let (from_ptr, to_ptr) = self.ptr_types();
        let op = TransferOp::Transcode {
            from: (from, from_ptr),
            to: (to, to_ptr),
            into: self.to().instance,
        };
        let memories = (self.from().memory, self.to().memory);
        let i64s = [ValType::I64; 2];
        let host = self.transfer(op, memories.0, &i64s, &i64s);
        self.get_i64(ptr, memories.0);
        self.get_i64(len, memories.0);
        self.push(I::Call(host));
        self.narrow_to(memories.1);
        self.push(I::LocalSet(out.1));
        self.narrow_to(memories.1);
        self.push(I::LocalSet(out.0));
    }

    /// A list: checked where it lies, allocated on the other side, and
    /// copied as bytes (plain elements) or translated element by element.
    fn list(&mut self, elem: &InterfaceType, src: &Loc, dst: &Loc) {
        let (ptr, len) = self.read_pair(src);
        let (from, to) = self.ptr_types();
        let (src_l, dst_l) = (layout(elem, from), layout(elem, to));
        let elements = Elements::List {
            size: src_l.size,
            align: src_l.align,
        };
        memory::check_elements(self, elements, (ptr, len));
        let len_to = self.len_to(len);
        let out = self.allocate(len_to, (dst_l.size, dst_l.align));
        if plain_size(elem).is_some() {
            memory::copy(self, elements, (ptr, len), out);
        } else {
            memory::check_alloc(self, out, len_to, (dst_l.size, dst_l.align), Alloc::List);
            // for (s, d, i) = (ptr, out, len); i != 0; s += size, d += size, i -= 1
            let memories = (self.from().memory, self.to().memory);
            let (s, d) = (
                self.local(self.addr_type(memories.0)),
                self.local(self.addr_type(memories.1)),
            );
            let i = self.len32(len, memories.0);
            for (local, from) in [(s, ptr), (d, out)] {
                self.push(I::LocalGet(from));
                self.push(I::LocalSet(local));
            }
            self.push(I::Block(BlockType::Empty));
            self.push(I::Loop(BlockType::Empty));
            self.push(I::LocalGet(i));
            self.push(I::I32Eqz);
            self.push(I::BrIf(1));
            let at = |addr| Loc::Memory { addr, offset: 0 };
            self.translate(elem, &at(s), &at(d));
            for (local, step, memory) in [(s, src_l.size, memories.0), (d, dst_l.size, memories.1)]
            {
                self.push(I::LocalGet(local));
                if self.is64(memory) {
                    self.push(I::I64Const(i64::from(step)));
                    self.push(I::I64Add);
                } else {
                    self.push(I::I32Const(step as i32));
                    self.push(I::I32Add);
                }
                self.push(I::LocalSet(local));
            }
            self.push(I::LocalGet(i));
            self.push(I::I32Const(1));
            self.push(I::I32Sub);
            self.push(I::LocalSet(i));
            self.push(I::Br(0));
            self.push(I::End);
            self.push(I::End);
        }
        self.write_pair(dst, (out, len_to));
    }
}

/// Converts the value on the stack between a case's type and its joined
/// slot's type, either way (`CoerceValueIter` and `lower_flat_variant`'s
/// conversions): the same bits, widened or narrowed.
fn coerce(code: &mut Code, from: ValType, to: ValType) {
    use ValType::{F32, F64, I32, I64};
    let steps: &[I<'static>] = match (from, to) {
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
fn zero(t: ValType) -> I<'static> {
    match t {
        ValType::I64 => I::I64Const(0),
        ValType::F32 => I::F32Const(Ieee32::new(0)),
        ValType::F64 => I::F64Const(Ieee64::new(0)),
        _ => I::I32Const(0),
    }
}

#[cfg(test)]
mod tests {
    use super::plain_size;
    use cmc_runtime::component::types::InterfaceType as T;

    /// Plain values are copied as bytes, so padding (which lowering leaves
    /// alone) rules a record out, and so does any value that lifting
    /// checks or changes.
    #[test]
    fn plain_values_have_no_padding_and_no_checks() {
        assert_eq!(plain_size(&T::U16), Some(2));
        assert_eq!(plain_size(&T::Tuple(vec![T::U32, T::S32])), Some(8));
        let record = T::Record(vec![
            ("a".into(), T::U8),
            ("b".into(), T::U8),
            ("c".into(), T::U16),
        ]);
        assert_eq!(plain_size(&record), Some(4));
        assert_eq!(plain_size(&T::Tuple(vec![T::U8, T::U32])), None);
        assert_eq!(plain_size(&T::Tuple(vec![T::U32, T::U8])), None);
        for t in [T::Bool, T::Char, T::F32, T::F64, T::String] {
            assert_eq!(plain_size(&t), None, "{t}");
        }
    }
}
