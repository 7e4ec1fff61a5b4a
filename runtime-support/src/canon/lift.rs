//! Lifting: reading component values out of a component instance, from
//! linear memory (`load` and its helpers in "Loading" of `CanonicalABI.md`)
//! and from flat core values (`lift_flat`, "Flat Lifting"), including
//! `lift_flat_values` which reads spilled values through a pointer.
//!
//! Every check that `definitions.py` performs with `trap_if` is an error
//! here: `char` ranges, discriminants, string and list ranges, alignment.
//! Lifted floats have their NaNs canonicalized, as the spec requires; bools
//! are any non-zero value; flags ignore bits beyond their labels.

use super::context::LiftContext;
use super::error::CanonError;
use super::flatten::{flat_count_all, flatten_type, variant_payload_types};
use super::layout::{
    Layout, MAX_LIST_BYTE_LENGTH, field_offsets, flags_size, layout, record_layout, variant_layout,
};
use super::memory::{FlatReader, check_block, in_bounds, read, read_ptr};
use super::string::lift_string;
use super::types::{FlatType, InterfaceType, PtrType};
use super::values::Val;
use crate::vm::Val as CoreVal;

/// The `f32` NaN that lifting turns every NaN into (`CANONICAL_FLOAT32_NAN`).
pub const CANONICAL_FLOAT32_NAN: u32 = 0x7fc0_0000;
/// The `f64` NaN that lifting turns every NaN into (`CANONICAL_FLOAT64_NAN`).
pub const CANONICAL_FLOAT64_NAN: u64 = 0x7ff8_0000_0000_0000;

/// `decode_i32_as_float`: the float with these bits, NaNs canonicalized.
pub fn decode_f32(bits: u32) -> f32 {
    let f = f32::from_bits(bits);
    if f.is_nan() {
        f32::from_bits(CANONICAL_FLOAT32_NAN)
    } else {
        f
    }
}

/// `decode_i64_as_float`: the float with these bits, NaNs canonicalized.
pub fn decode_f64(bits: u64) -> f64 {
    let f = f64::from_bits(bits);
    if f.is_nan() {
        f64::from_bits(CANONICAL_FLOAT64_NAN)
    } else {
        f
    }
}

/// `convert_i32_to_char`: traps on surrogates and values beyond U+10FFFF.
pub fn convert_i32_to_char(i: u32) -> Result<char, CanonError> {
    char::from_u32(i).ok_or(CanonError::InvalidChar(i))
}

/// Reads a value of type `ty` stored at `ptr` (`load`).
///
/// The spec only calls `load` on checked pointers; this entry point checks
/// alignment and bounds itself, so any pointer is safe to pass.
pub fn load<C: LiftContext>(cx: &mut C, ptr: u64, ty: &InterfaceType) -> Result<Val, C::Error> {
    check_block(cx.memory().len(), ptr, layout(ty, cx.ptr_type()), "value")?;
    load_at(cx, ptr, ty)
}

/// Lifts a value of type `ty` from exactly the core values it flattens to
/// (`lift_flat`).
pub fn lift_flat<C: LiftContext>(
    cx: &mut C,
    flat: &[CoreVal],
    ty: &InterfaceType,
) -> Result<Val, C::Error> {
    let expected = flatten_type(ty, cx.ptr_type()).len();
    if flat.len() != expected {
        return Err(CanonError::ArityMismatch {
            what: "core values",
            expected,
            found: flat.len(),
        }
        .into());
    }
    lift_flat_from(cx, &mut FlatReader::new(flat), ty)
}

/// A string's or list's pointer and length at `ptr`.
fn read_pair(mem: &[u8], ptr: u64, pt: PtrType) -> Result<(u64, u64), CanonError> {
    Ok((
        read_ptr(mem, ptr, pt)?,
        read_ptr(mem, ptr + u64::from(pt.size()), pt)?,
    ))
}

fn u16_at(mem: &[u8], ptr: u64) -> Result<u16, CanonError> {
    Ok(u16::from_le_bytes(read(mem, ptr)?))
}

fn u32_at(mem: &[u8], ptr: u64) -> Result<u32, CanonError> {
    Ok(u32::from_le_bytes(read(mem, ptr)?))
}

fn u64_at(mem: &[u8], ptr: u64) -> Result<u64, CanonError> {
    Ok(u64::from_le_bytes(read(mem, ptr)?))
}

/// `load` at a pointer the caller has checked.
pub(crate) fn load_at<C: LiftContext>(
    cx: &mut C,
    ptr: u64,
    ty: &InterfaceType,
) -> Result<Val, C::Error> {
    use InterfaceType as T;
    let pt = cx.ptr_type();
    let mem = cx.memory();
    Ok(match ty {
        T::Bool => Val::Bool(read::<1>(mem, ptr)?[0] != 0),
        T::U8 => Val::U8(read::<1>(mem, ptr)?[0]),
        T::S8 => Val::S8(read::<1>(mem, ptr)?[0] as i8),
        T::U16 => Val::U16(u16_at(mem, ptr)?),
        T::S16 => Val::S16(u16_at(mem, ptr)? as i16),
        T::U32 => Val::U32(u32_at(mem, ptr)?),
        T::S32 => Val::S32(u32_at(mem, ptr)? as i32),
        T::U64 => Val::U64(u64_at(mem, ptr)?),
        T::S64 => Val::S64(u64_at(mem, ptr)? as i64),
        T::F32 => Val::F32(decode_f32(u32_at(mem, ptr)?)),
        T::F64 => Val::F64(decode_f64(u64_at(mem, ptr)?)),
        T::Char => Val::Char(convert_i32_to_char(u32_at(mem, ptr)?)?),
        T::String => {
            let (begin, units) = read_pair(mem, ptr, pt)?;
            let (s, source) = lift_string(mem, cx.string_encoding(), pt, begin, units)?;
            cx.lifted_string(source);
            Val::String(s)
        }
        T::List(elem) => {
            let (begin, len) = read_pair(mem, ptr, pt)?;
            load_list_from_range(cx, begin, len, elem)?
        }
        T::Record(fields) => {
            let offsets = field_offsets(fields.iter().map(|(_, t)| t), pt);
            let mut out = Vec::with_capacity(fields.len());
            for ((name, t), off) in fields.iter().zip(offsets) {
                out.push((name.clone(), load_at(cx, ptr + u64::from(off), t)?));
            }
            Val::Record(out)
        }
        T::Tuple(types) => {
            let offsets = field_offsets(types, pt);
            let mut out = Vec::with_capacity(types.len());
            for (t, off) in types.iter().zip(offsets) {
                out.push(load_at(cx, ptr + u64::from(off), t)?);
            }
            Val::Tuple(out)
        }
        T::Variant(_) | T::Enum(_) | T::Option(_) | T::Result { .. } => {
            let cases = ty.variant_cases().unwrap_or_default();
            let vl = variant_layout(&cases, pt);
            let disc = match vl.discriminant_size {
                1 => u32::from(read::<1>(mem, ptr)?[0]),
                2 => u32::from(u16_at(mem, ptr)?),
                _ => u32_at(mem, ptr)?,
            };
            let case = check_discriminant(disc, &cases)?;
            let payload = match case {
                Some(t) => Some(load_at(cx, ptr + u64::from(vl.payload_offset), t)?),
                None => None,
            };
            make_variant(ty, disc as usize, payload)
        }
        T::Flags(labels) => {
            let bits = match flags_size(labels.len()) {
                1 => u32::from(read::<1>(mem, ptr)?[0]),
                2 => u32::from(u16_at(mem, ptr)?),
                _ => u32_at(mem, ptr)?,
            };
            unpack_flags(bits, labels)?
        }
        T::Own(rt) => {
            let index = u32_at(mem, ptr)?;
            Val::Resource(cx.lift_own(*rt, index)?)
        }
        T::Borrow(rt) => {
            let index = u32_at(mem, ptr)?;
            Val::Resource(cx.lift_borrow(*rt, index)?)
        }
        T::Stream(_) | T::Future(_) | T::ErrorContext => {
            let index = u32_at(mem, ptr)?;
            cx.lift_shared(ty, index)?
        }
    })
}

/// Reads `len` elements of type `elem` at `ptr` (`load_list_from_range`):
/// traps if the byte length exceeds [`MAX_LIST_BYTE_LENGTH`], if `ptr` is
/// misaligned for the element, or if the range leaves memory.
///
/// A `list<u8>` comes out as [`Val::Bytes`], copied in one piece.
pub fn load_list_from_range<C: LiftContext>(
    cx: &mut C,
    ptr: u64,
    len: u64,
    elem: &InterfaceType,
) -> Result<Val, C::Error> {
    let l = layout(elem, cx.ptr_type());
    check_list(cx.memory().len(), ptr, len, l)?;
    // The checks bound `len` by the memory size and `MAX_LIST_BYTE_LENGTH`.
    let (start, count) = (ptr as usize, len as usize);
    if *elem == InterfaceType::U8 {
        return Ok(Val::Bytes(cx.memory()[start..start + count].to_vec()));
    }
    let mut out = Vec::with_capacity(count);
    for i in 0..len {
        out.push(load_at(cx, ptr + i * u64::from(l.size), elem)?);
    }
    Ok(Val::List(out))
}

/// The checks of `load_list_from_range` for `len` elements of layout `l`
/// at `ptr` in a memory of `memory_len` bytes.
pub fn check_list(memory_len: usize, ptr: u64, len: u64, l: Layout) -> Result<(), CanonError> {
    // A zero-sized element (only possible for invalid types) counts as one
    // byte here so that a huge length cannot make us loop for ever. In
    // `u128`, since a 64-bit memory's length can be anything.
    if u128::from(len) * u128::from(l.size.max(1)) > u128::from(MAX_LIST_BYTE_LENGTH) {
        return Err(CanonError::ListTooLong {
            len,
            elem_size: l.size,
        });
    }
    let byte_len = len * u64::from(l.size);
    if !ptr.is_multiple_of(u64::from(l.align)) {
        return Err(CanonError::UnalignedPointer {
            what: "list",
            ptr,
            align: l.align,
        });
    }
    if !in_bounds(memory_len, ptr, byte_len) {
        return Err(CanonError::ListOutOfBounds {
            ptr,
            byte_len,
            memory_len,
        });
    }
    Ok(())
}

/// The payload type of case `disc`, or a trap if there is no such case.
fn check_discriminant<'t>(
    disc: u32,
    cases: &[Option<&'t InterfaceType>],
) -> Result<Option<&'t InterfaceType>, CanonError> {
    cases
        .get(disc as usize)
        .copied()
        .ok_or(CanonError::InvalidDiscriminant {
            discriminant: disc,
            cases: cases.len(),
        })
}

/// Builds the host value of case `index` of a variant-like type (the
/// discriminant was checked against the case count).
fn make_variant(ty: &InterfaceType, index: usize, payload: Option<Val>) -> Val {
    let payload = payload.map(Box::new);
    match ty {
        InterfaceType::Variant(cases) => Val::Variant(cases[index].0.clone(), payload),
        InterfaceType::Enum(labels) => Val::Enum(labels[index].clone()),
        InterfaceType::Option(_) => Val::Option(payload),
        _ if index == 0 => Val::Result(Ok(payload)),
        _ => Val::Result(Err(payload)),
    }
}

/// `unpack_flags_from_int`: bit `i` is label `i`; bits beyond the labels are
/// ignored.
fn unpack_flags(bits: u32, labels: &[String]) -> Result<Val, CanonError> {
    if labels.len() > 32 {
        return Err(CanonError::TooManyFlags(labels.len()));
    }
    Ok(Val::Flags(
        labels
            .iter()
            .enumerate()
            .filter(|(i, _)| bits >> i & 1 == 1)
            .map(|(_, l)| l.clone())
            .collect(),
    ))
}

/// `lift_flat` reading from a shared cursor.
pub(crate) fn lift_flat_from<C: LiftContext>(
    cx: &mut C,
    vi: &mut FlatReader<'_>,
    ty: &InterfaceType,
) -> Result<Val, C::Error> {
    use InterfaceType as T;
    let pt = cx.ptr_type();
    Ok(match ty {
        T::Bool => Val::Bool(vi.next_u32()? != 0),
        // Narrow integers keep the low bits of their i32 (`lift_flat_unsigned`
        // / `lift_flat_signed`).
        T::U8 => Val::U8(vi.next_u32()? as u8),
        T::S8 => Val::S8(vi.next_u32()? as u8 as i8),
        T::U16 => Val::U16(vi.next_u32()? as u16),
        T::S16 => Val::S16(vi.next_u32()? as u16 as i16),
        T::U32 => Val::U32(vi.next_u32()?),
        T::S32 => Val::S32(vi.next_u32()? as i32),
        T::U64 => Val::U64(vi.next_u64()?),
        T::S64 => Val::S64(vi.next_u64()? as i64),
        T::F32 => Val::F32(decode_f32(vi.next_f32_bits()?)),
        T::F64 => Val::F64(decode_f64(vi.next_f64_bits()?)),
        T::Char => Val::Char(convert_i32_to_char(vi.next_u32()?)?),
        T::String => {
            let (ptr, units) = (vi.next_ptr(pt)?, vi.next_ptr(pt)?);
            let (s, source) = lift_string(cx.memory(), cx.string_encoding(), pt, ptr, units)?;
            cx.lifted_string(source);
            Val::String(s)
        }
        T::List(elem) => {
            let (ptr, len) = (vi.next_ptr(pt)?, vi.next_ptr(pt)?);
            load_list_from_range(cx, ptr, len, elem)?
        }
        T::Record(fields) => {
            let mut out = Vec::with_capacity(fields.len());
            for (name, t) in fields {
                out.push((name.clone(), lift_flat_from(cx, vi, t)?));
            }
            Val::Record(out)
        }
        T::Tuple(types) => {
            let mut out = Vec::with_capacity(types.len());
            for t in types {
                out.push(lift_flat_from(cx, vi, t)?);
            }
            Val::Tuple(out)
        }
        T::Variant(_) | T::Enum(_) | T::Option(_) | T::Result { .. } => {
            lift_flat_variant(cx, vi, ty)?
        }
        T::Flags(labels) => unpack_flags(vi.next_u32()?, labels)?,
        T::Own(rt) => {
            let index = vi.next_u32()?;
            Val::Resource(cx.lift_own(*rt, index)?)
        }
        T::Borrow(rt) => {
            let index = vi.next_u32()?;
            Val::Resource(cx.lift_borrow(*rt, index)?)
        }
        T::Stream(_) | T::Future(_) | T::ErrorContext => {
            let index = vi.next_u32()?;
            cx.lift_shared(ty, index)?
        }
    })
}

/// `lift_flat_variant`: the discriminant, then the case's payload read from
/// the joined slots with each slot converted back to the type the case
/// flattens to, then the unused slots skipped.
fn lift_flat_variant<C: LiftContext>(
    cx: &mut C,
    vi: &mut FlatReader<'_>,
    ty: &InterfaceType,
) -> Result<Val, C::Error> {
    let cases = ty.variant_cases().unwrap_or_default();
    let joined = variant_payload_types(&cases, cx.ptr_type());
    let disc = vi.next_u32()?;
    let case = check_discriminant(disc, &cases)?;
    let mut used = 0;
    let payload = match case {
        None => None,
        Some(case_ty) => {
            let wants = flatten_type(case_ty, cx.ptr_type());
            used = wants.len();
            let mut coerced = Vec::with_capacity(wants.len());
            for (have, want) in joined.iter().zip(&wants) {
                coerced.push(coerce_lift(vi.next(*have)?, *have, *want));
            }
            Some(lift_flat_from(cx, &mut FlatReader::new(&coerced), case_ty)?)
        }
    };
    for have in joined.iter().skip(used) {
        vi.next(*have)?;
    }
    Ok(make_variant(ty, disc as usize, payload))
}

/// The raw bits of a flat value.
fn bits(v: CoreVal) -> u64 {
    match v {
        CoreVal::I32(x) => u64::from(x as u32),
        CoreVal::I64(x) => x as u64,
        CoreVal::F32(b) => u64::from(b),
        CoreVal::F64(b) => b,
        _ => 0,
    }
}

/// Converts a value read from a joined slot of type `have` to the type
/// `want` the case's payload flattens to (`CoerceValueIter.next`).
pub(crate) fn coerce_lift(v: CoreVal, have: FlatType, want: FlatType) -> CoreVal {
    match (have, want) {
        (FlatType::I32, FlatType::F32) | (FlatType::I64, FlatType::F32) => {
            // `wrap_i64_to_i32` then `decode_i32_as_float`.
            CoreVal::F32(bits(v) as u32)
        }
        (FlatType::I64, FlatType::I32) => CoreVal::I32(bits(v) as u32 as i32),
        (FlatType::I64, FlatType::F64) => CoreVal::F64(bits(v)),
        _ => v,
    }
}

/// `lift_flat_values`: values flat from `vi`, or, if they flatten to more
/// than `max_flat` core values, loaded as a tuple through one pointer read
/// from `vi`, which must be aligned and in bounds.
///
/// Each value is handed to `sink` in order.
pub(crate) fn lift_flat_values<'t, C: LiftContext>(
    cx: &mut C,
    max_flat: usize,
    vi: &mut FlatReader<'_>,
    types: impl Iterator<Item = &'t InterfaceType> + Clone,
    what: &'static str,
    mut sink: impl FnMut(Val),
) -> Result<(), C::Error> {
    if flat_count_all(types.clone()) <= max_flat {
        for t in types {
            sink(lift_flat_from(cx, vi, t)?);
        }
        return Ok(());
    }
    let pt = cx.ptr_type();
    let ptr = vi.next_ptr(pt)?;
    check_block(
        cx.memory().len(),
        ptr,
        record_layout(types.clone(), pt),
        what,
    )?;
    for (t, off) in types.clone().zip(field_offsets(types, pt)) {
        sink(load_at(cx, ptr + u64::from(off), t)?);
    }
    Ok(())
}
