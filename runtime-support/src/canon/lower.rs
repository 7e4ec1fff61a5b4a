//! Lowering: writing component values into a component instance, into
//! linear memory (`store` and its helpers in "Storing" of `CanonicalABI.md`)
//! and into flat core values (`lower_flat`, "Flat Lowering"), including
//! `lower_flat_values` which spills values to memory beyond the flat limits.
//!
//! Lowered NaNs get the canonical bit pattern: the spec lets an
//! implementation scramble NaN payloads nondeterministically and defines
//! the deterministic profile as always choosing the canonical NaN, which is
//! what cmc does. Values are checked against their type as they are written;
//! the call entry points check the whole value first to report a full path.

use super::context::LowerContext;
use super::error::CanonError;
use super::flatten::{flat_count_all, variant_payload_types};
use super::layout::{
    MAX_LIST_BYTE_LENGTH, field_offsets, flags_size, layout, record_layout, variant_layout,
};
use super::lift::{CANONICAL_FLOAT32_NAN, CANONICAL_FLOAT64_NAN};
use super::memory::{check_block, ptr_val, realloc_checked, write, write_ptr};
use super::string::store_string_into_range;
use super::types::{FlatType, InterfaceType};
use super::values::{Val, mismatch};
use crate::vm::Val as CoreVal;

/// `encode_float_as_i32` in the deterministic profile: the bits of `f`, with
/// NaNs canonicalized.
pub fn encode_f32(f: f32) -> u32 {
    if f.is_nan() {
        CANONICAL_FLOAT32_NAN
    } else {
        f.to_bits()
    }
}

/// `encode_float_as_i64` in the deterministic profile.
pub fn encode_f64(f: f64) -> u64 {
    if f.is_nan() {
        CANONICAL_FLOAT64_NAN
    } else {
        f.to_bits()
    }
}

/// Writes `v` of type `ty` at `ptr` (`store`), allocating strings and lists
/// with `realloc`.
///
/// The spec only calls `store` on checked pointers; this entry point checks
/// alignment and bounds itself.
pub fn store<C: LowerContext>(
    cx: &mut C,
    v: &Val,
    ty: &InterfaceType,
    ptr: u64,
) -> Result<(), C::Error> {
    check_block(cx.memory().len(), ptr, layout(ty, cx.ptr_type()), "value")?;
    store_at(cx, v, ty, ptr)
}

/// Lowers `v` of type `ty` to the core values it flattens to (`lower_flat`).
pub fn lower_flat<C: LowerContext>(
    cx: &mut C,
    v: &Val,
    ty: &InterfaceType,
) -> Result<Vec<CoreVal>, C::Error> {
    let mut out = Vec::new();
    lower_flat_into(cx, v, ty, &mut out)?;
    Ok(out)
}

/// `store` at a pointer the caller has checked.
pub(crate) fn store_at<C: LowerContext>(
    cx: &mut C,
    v: &Val,
    ty: &InterfaceType,
    ptr: u64,
) -> Result<(), C::Error> {
    use InterfaceType as T;
    let pt = cx.ptr_type();
    let bytes = |b: &[u8], cx: &mut C| -> Result<(), C::Error> { Ok(write(cx.memory(), ptr, b)?) };
    match (ty, v) {
        (T::Bool, Val::Bool(b)) => bytes(&[u8::from(*b)], cx),
        (T::U8, Val::U8(x)) => bytes(&[*x], cx),
        (T::S8, Val::S8(x)) => bytes(&x.to_le_bytes(), cx),
        (T::U16, Val::U16(x)) => bytes(&x.to_le_bytes(), cx),
        (T::S16, Val::S16(x)) => bytes(&x.to_le_bytes(), cx),
        (T::U32, Val::U32(x)) => bytes(&x.to_le_bytes(), cx),
        (T::S32, Val::S32(x)) => bytes(&x.to_le_bytes(), cx),
        (T::U64, Val::U64(x)) => bytes(&x.to_le_bytes(), cx),
        (T::S64, Val::S64(x)) => bytes(&x.to_le_bytes(), cx),
        (T::F32, Val::F32(f)) => bytes(&encode_f32(*f).to_le_bytes(), cx),
        (T::F64, Val::F64(f)) => bytes(&encode_f64(*f).to_le_bytes(), cx),
        (T::Char, Val::Char(c)) => bytes(&u32::from(*c).to_le_bytes(), cx),
        (T::String, Val::String(s)) => {
            let source = cx.string_source(s);
            let (begin, units) = store_string_into_range(cx, s, source)?;
            store_pair(cx, ptr, begin, units)
        }
        (T::List(elem), Val::List(items)) => {
            let (begin, len) = store_list_into_range(cx, items, elem)?;
            store_pair(cx, ptr, begin, len)
        }
        (T::List(elem), Val::Bytes(data)) if **elem == T::U8 => {
            let (begin, len) = store_bytes_into_range(cx, data)?;
            store_pair(cx, ptr, begin, len)
        }
        (T::Record(fields), Val::Record(vals)) => {
            check_record(ty, fields, vals)?;
            let offsets = field_offsets(fields.iter().map(|(_, t)| t), pt);
            for (((_, t), (_, v)), off) in fields.iter().zip(vals).zip(offsets) {
                store_at(cx, v, t, ptr + u64::from(off))?;
            }
            Ok(())
        }
        (T::Tuple(types), Val::Tuple(vals)) => {
            if types.len() != vals.len() {
                return Err(mismatch("value", ty, format!("tuple of {}", vals.len())).into());
            }
            let offsets = field_offsets(types, pt);
            for ((t, v), off) in types.iter().zip(vals).zip(offsets) {
                store_at(cx, v, t, ptr + u64::from(off))?;
            }
            Ok(())
        }
        (T::Variant(_) | T::Enum(_) | T::Option(_) | T::Result { .. }, _) => {
            let cases = ty.variant_cases().unwrap_or_default();
            let (index, payload) = match_case(ty, &cases, v)?;
            let vl = variant_layout(&cases, pt);
            let disc = (index as u32).to_le_bytes();
            bytes(&disc[..vl.discriminant_size as usize], cx)?;
            match (payload, cases[index]) {
                (Some(v), Some(t)) => store_at(cx, v, t, ptr + u64::from(vl.payload_offset)),
                _ => Ok(()),
            }
        }
        (T::Flags(labels), Val::Flags(set)) => {
            let packed = pack_flags(ty, labels, set)?.to_le_bytes();
            bytes(&packed[..flags_size(labels.len()) as usize], cx)
        }
        (T::Own(rt), Val::Resource(r)) => {
            let index = cx.lower_own(*rt, *r)?;
            bytes(&index.to_le_bytes(), cx)
        }
        (T::Borrow(rt), Val::Resource(r)) => {
            let index = cx.lower_borrow(*rt, *r)?;
            bytes(&index.to_le_bytes(), cx)
        }
        (T::Stream(_), Val::Stream(v))
        | (T::Future(_), Val::Future(v))
        | (T::ErrorContext, Val::ErrorContext(v)) => {
            let index = cx.lower_shared(ty, *v)?;
            bytes(&index.to_le_bytes(), cx)
        }
        _ => Err(mismatch("value", ty, v.kind().to_string()).into()),
    }
}

/// Writes a pointer/length pair (a string or list) at `ptr`.
fn store_pair<C: LowerContext>(cx: &mut C, ptr: u64, begin: u64, len: u64) -> Result<(), C::Error> {
    let pt = cx.ptr_type();
    let mem = cx.memory();
    write_ptr(mem, ptr, pt, begin)?;
    write_ptr(mem, ptr + u64::from(pt.size()), pt, len)?;
    Ok(())
}

/// Allocates room for `items` with `realloc` and stores them there
/// (`store_list_into_range`); returns the pointer and the length.
pub fn store_list_into_range<C: LowerContext>(
    cx: &mut C,
    items: &[Val],
    elem: &InterfaceType,
) -> Result<(u64, u64), C::Error> {
    store_elements(cx, items, elem, |cx, item, ptr| {
        store_at(cx, item, elem, ptr)
    })
}

/// `store_list_into_range` with `store(cx, item, ptr)` storing each item:
/// checks the byte length, allocates with `realloc`, stores the items in
/// order; returns the pointer and the length.
pub(crate) fn store_elements<C: LowerContext, T>(
    cx: &mut C,
    items: &[T],
    elem: &InterfaceType,
    mut store: impl FnMut(&mut C, &T, u64) -> Result<(), C::Error>,
) -> Result<(u64, u64), C::Error> {
    let l = layout(elem, cx.ptr_type());
    let len = items.len() as u64;
    let byte_len = len * u64::from(l.size);
    if byte_len > u64::from(MAX_LIST_BYTE_LENGTH) || len > u64::from(u32::MAX) {
        return Err(CanonError::ListTooLong {
            len,
            elem_size: l.size,
        }
        .into());
    }
    let ptr = realloc_checked(cx, "list", 0, 0, l.align, byte_len)?;
    for (i, item) in items.iter().enumerate() {
        store(cx, item, ptr + i as u64 * u64::from(l.size))?;
    }
    Ok((ptr, len))
}

/// `store_list_into_range` of a `list<u8>` given as bytes: one `realloc`
/// and one copy.
pub fn store_bytes_into_range<C: LowerContext>(
    cx: &mut C,
    data: &[u8],
) -> Result<(u64, u64), C::Error> {
    let len = data.len() as u64;
    if len > u64::from(MAX_LIST_BYTE_LENGTH) {
        return Err(CanonError::ListTooLong { len, elem_size: 1 }.into());
    }
    let ptr = realloc_checked(cx, "list", 0, 0, 1, len)?;
    write(cx.memory(), ptr, data)?;
    Ok((ptr, len))
}

/// Checks that a record value has the type's fields, in order.
fn check_record(
    ty: &InterfaceType,
    fields: &[(String, InterfaceType)],
    vals: &[(String, Val)],
) -> Result<(), CanonError> {
    if fields.len() != vals.len() {
        return Err(mismatch(
            "value",
            ty,
            format!("record with {} fields", vals.len()),
        ));
    }
    match fields
        .iter()
        .zip(vals)
        .find(|((want, _), (name, _))| want != name)
    {
        Some((_, (name, _))) => Err(mismatch("value", ty, format!("record with field `{name}`"))),
        None => Ok(()),
    }
}

/// The case index and payload of a variant-like value (`match_case`),
/// checking that the payload is present exactly when the case has a type.
fn match_case<'v>(
    ty: &InterfaceType,
    cases: &[Option<&InterfaceType>],
    v: &'v Val,
) -> Result<(usize, Option<&'v Val>), CanonError> {
    use InterfaceType as T;
    let found = match (ty, v) {
        (T::Variant(named), Val::Variant(label, payload)) => named
            .iter()
            .position(|(l, _)| l == label)
            .map(|i| (i, payload.as_deref())),
        (T::Enum(labels), Val::Enum(label)) => {
            labels.iter().position(|l| l == label).map(|i| (i, None))
        }
        (T::Option(_), Val::Option(o)) => Some(match o {
            None => (0, None),
            Some(v) => (1, Some(&**v)),
        }),
        (T::Result { .. }, Val::Result(r)) => Some(match r {
            Ok(p) => (0, p.as_deref()),
            Err(p) => (1, p.as_deref()),
        }),
        _ => None,
    };
    match found {
        Some((index, payload)) if cases[index].is_some() == payload.is_some() => {
            Ok((index, payload))
        }
        _ => Err(mismatch("value", ty, v.kind().to_string())),
    }
}

/// `pack_flags_into_int`: bit `i` set for each label `i` in `set`.
fn pack_flags(ty: &InterfaceType, labels: &[String], set: &[String]) -> Result<u32, CanonError> {
    if labels.len() > 32 {
        return Err(CanonError::TooManyFlags(labels.len()));
    }
    let mut bits = 0u32;
    for flag in set {
        let Some(i) = labels.iter().position(|l| l == flag) else {
            return Err(mismatch("value", ty, format!("flag `{flag}`")));
        };
        bits |= 1 << i;
    }
    Ok(bits)
}

/// `lower_flat` appending to `out`.
pub(crate) fn lower_flat_into<C: LowerContext>(
    cx: &mut C,
    v: &Val,
    ty: &InterfaceType,
    out: &mut Vec<CoreVal>,
) -> Result<(), C::Error> {
    use InterfaceType as T;
    let pt = cx.ptr_type();
    // Narrow integers are zero- or sign-extended to i32 (`lower_flat_signed`).
    let flat = match (ty, v) {
        (T::Bool, Val::Bool(b)) => CoreVal::I32(i32::from(*b)),
        (T::U8, Val::U8(x)) => CoreVal::I32(i32::from(*x)),
        (T::S8, Val::S8(x)) => CoreVal::I32(i32::from(*x)),
        (T::U16, Val::U16(x)) => CoreVal::I32(i32::from(*x)),
        (T::S16, Val::S16(x)) => CoreVal::I32(i32::from(*x)),
        (T::U32, Val::U32(x)) => CoreVal::I32(*x as i32),
        (T::S32, Val::S32(x)) => CoreVal::I32(*x),
        (T::U64, Val::U64(x)) => CoreVal::I64(*x as i64),
        (T::S64, Val::S64(x)) => CoreVal::I64(*x),
        (T::F32, Val::F32(f)) => CoreVal::F32(encode_f32(*f)),
        (T::F64, Val::F64(f)) => CoreVal::F64(encode_f64(*f)),
        (T::Char, Val::Char(c)) => CoreVal::I32(u32::from(*c) as i32),
        (T::String, Val::String(s)) => {
            let source = cx.string_source(s);
            let (ptr, units) = store_string_into_range(cx, s, source)?;
            out.extend([ptr_val(pt, ptr), ptr_val(pt, units)]);
            return Ok(());
        }
        (T::List(elem), Val::List(items)) => {
            let (ptr, len) = store_list_into_range(cx, items, elem)?;
            out.extend([ptr_val(pt, ptr), ptr_val(pt, len)]);
            return Ok(());
        }
        (T::List(elem), Val::Bytes(data)) if **elem == T::U8 => {
            let (ptr, len) = store_bytes_into_range(cx, data)?;
            out.extend([ptr_val(pt, ptr), ptr_val(pt, len)]);
            return Ok(());
        }
        (T::Record(fields), Val::Record(vals)) => {
            check_record(ty, fields, vals)?;
            for ((_, t), (_, v)) in fields.iter().zip(vals) {
                lower_flat_into(cx, v, t, out)?;
            }
            return Ok(());
        }
        (T::Tuple(types), Val::Tuple(vals)) => {
            if types.len() != vals.len() {
                return Err(mismatch("value", ty, format!("tuple of {}", vals.len())).into());
            }
            for (t, v) in types.iter().zip(vals) {
                lower_flat_into(cx, v, t, out)?;
            }
            return Ok(());
        }
        (T::Variant(_) | T::Enum(_) | T::Option(_) | T::Result { .. }, _) => {
            return lower_flat_variant(cx, v, ty, out);
        }
        (T::Flags(labels), Val::Flags(set)) => CoreVal::I32(pack_flags(ty, labels, set)? as i32),
        (T::Own(rt), Val::Resource(r)) => CoreVal::I32(cx.lower_own(*rt, *r)? as i32),
        (T::Borrow(rt), Val::Resource(r)) => CoreVal::I32(cx.lower_borrow(*rt, *r)? as i32),
        (T::Stream(_), Val::Stream(v))
        | (T::Future(_), Val::Future(v))
        | (T::ErrorContext, Val::ErrorContext(v)) => CoreVal::I32(cx.lower_shared(ty, *v)? as i32),
        _ => return Err(mismatch("value", ty, v.kind().to_string()).into()),
    };
    out.push(flat);
    Ok(())
}

/// `lower_flat_variant`: the discriminant, the case's payload converted to
/// the joined slot types, and zeros in the slots the case does not use.
fn lower_flat_variant<C: LowerContext>(
    cx: &mut C,
    v: &Val,
    ty: &InterfaceType,
    out: &mut Vec<CoreVal>,
) -> Result<(), C::Error> {
    let cases = ty.variant_cases().unwrap_or_default();
    let (index, payload) = match_case(ty, &cases, v)?;
    let joined = variant_payload_types(&cases, cx.ptr_type());
    out.push(CoreVal::I32(index as i32));
    let mut flat = Vec::new();
    if let (Some(v), Some(t)) = (payload, cases[index]) {
        lower_flat_into(cx, v, t, &mut flat)?;
    }
    let used = flat.len();
    out.extend(
        flat.into_iter()
            .zip(&joined)
            .map(|(v, want)| coerce_lower(v, *want)),
    );
    out.extend(joined.iter().skip(used).map(|t| zero(*t)));
    Ok(())
}

/// Converts a payload value to the joined slot type `want`.
pub(crate) fn coerce_lower(v: CoreVal, want: FlatType) -> CoreVal {
    match (v, want) {
        (CoreVal::F32(b), FlatType::I32) => CoreVal::I32(b as i32),
        (CoreVal::I32(x), FlatType::I64) => CoreVal::I64(i64::from(x as u32)),
        (CoreVal::F32(b), FlatType::I64) => CoreVal::I64(i64::from(b)),
        (CoreVal::F64(b), FlatType::I64) => CoreVal::I64(b as i64),
        (v, _) => v,
    }
}

/// The zero of a flat type, for unused variant slots.
pub(crate) fn zero(t: FlatType) -> CoreVal {
    match t {
        FlatType::I32 => CoreVal::I32(0),
        FlatType::I64 => CoreVal::I64(0),
        FlatType::F32 => CoreVal::F32(0),
        FlatType::F64 => CoreVal::F64(0),
    }
}

/// Where spilled values go when they exceed the flat limit.
pub(crate) enum SpillTo {
    /// Allocate with `realloc` and return the pointer as the only flat value
    /// (parameters of a lifted export, called by the host).
    Allocate,
    /// Store through this pointer from wasm and return no flat values
    /// (results of a lowered import).
    Pointer(u64),
}

/// `lower_flat_values`: values flat, or, if they flatten to more than
/// `max_flat` core values, stored as a tuple in memory.
///
/// The core values are appended to `out`.
pub(crate) fn lower_flat_values<'v, C: LowerContext>(
    cx: &mut C,
    max_flat: usize,
    values: impl Iterator<Item = (&'v Val, &'v InterfaceType)> + Clone,
    spill: SpillTo,
    out: &mut Vec<CoreVal>,
) -> Result<(), C::Error> {
    let types = values.clone().map(|(_, t)| t);
    if flat_count_all(types.clone()) <= max_flat {
        for (v, t) in values {
            lower_flat_into(cx, v, t, out)?;
        }
        return Ok(());
    }
    let pt = cx.ptr_type();
    let tuple = record_layout(types.clone(), pt);
    let ptr = match spill {
        SpillTo::Allocate => {
            let size = u64::from(tuple.size);
            let ptr = realloc_checked(cx, "arguments", 0, 0, tuple.align, size)?;
            out.push(ptr_val(pt, ptr));
            ptr
        }
        SpillTo::Pointer(ptr) => {
            check_block(cx.memory().len(), ptr, tuple, "return pointer")?;
            ptr
        }
    };
    for ((v, t), off) in values.zip(field_offsets(types, pt)) {
        store_at(cx, v, t, ptr + u64::from(off))?;
    }
    Ok(())
}
