//! Rust types as component values: lifting and lowering straight between
//! Rust values and an instance's flat values and memory, for the typed
//! component API, without building a [`Val`] on the way.
//!
//! A type implements [`ComponentType`] (which component types it stands
//! for), [`Lower`] (host to wasm) and [`Lift`] (wasm to host). The typed
//! API checks every parameter and result type once, when a typed handle is
//! made; the methods then take the (checked) component type along, so
//! aggregates find their field types, layouts and variant joins in it. The
//! rules are those of `lift.rs` and `lower.rs`: the same checks, the same
//! `realloc` calls in the same order, the same trap messages.
//!
//! This module implements the traits for integers, floats, `bool`, `char`,
//! strings, lists, tuples, `Option`, `Result` and resource handles;
//! `#[derive(ComponentType)]` (from `cmc-derive`) implements them for
//! records, variants, enums and flags with the helpers at the end.

pub use super::context::{LiftContext, LowerContext};
pub use super::error::CanonError;
use super::flatten::variant_payload_types;
use super::layout::{field_offsets, layout, variant_layout};
use super::lift::{check_list, coerce_lift, convert_i32_to_char, decode_f32, decode_f64};
use super::lower::{coerce_lower, encode_f32, encode_f64, store_elements, zero};
use super::memory::{ptr_val, read, read_ptr, realloc_checked, write, write_ptr};
use super::string::{StringSource, load_string_from_range, store_string_into_range};
use super::types::FlatType;
pub use super::types::{InterfaceType, PtrType};
use super::values::mismatch;
pub use super::values::{ResourceVal, Val};
/// Core wasm values, which component values flatten to.
pub use crate::vm::Val as CoreVal;

pub use super::memory::FlatReader;

/// A Rust type that stands for component value types.
pub trait ComponentType {
    /// Checks that `ty` is a type this Rust type stands for; the error
    /// says what it stands for instead.
    fn typecheck(ty: &InterfaceType) -> Result<(), String>;

    /// Checks the payload of a variant case: `None` for a case without
    /// one, which only `()` stands for.
    fn typecheck_payload(payload: Option<&InterfaceType>) -> Result<(), String> {
        match payload {
            Some(ty) => Self::typecheck(ty),
            None => Self::typecheck(&InterfaceType::Tuple(Vec::new()))
                .map_err(|e| format!("{e} (the case has no payload; use `()`)")),
        }
    }
}

/// A Rust value that can be lowered into a component instance.
pub trait Lower: ComponentType {
    /// Appends the flat values of `self` as a `ty` (`lower_flat`).
    fn lower_flat<C: LowerContext>(
        &self,
        cx: &mut C,
        ty: &InterfaceType,
        out: &mut Vec<CoreVal>,
    ) -> Result<(), C::Error>;

    /// Stores `self` as a `ty` at `ptr`, which the caller checked for the
    /// type's alignment and size (`store`).
    fn store<C: LowerContext>(
        &self,
        cx: &mut C,
        ty: &InterfaceType,
        ptr: u64,
    ) -> Result<(), C::Error>;

    /// The dynamic value, for an interceptor.
    fn to_val(&self, ty: &InterfaceType) -> Val;
}

/// A Rust value that can be lifted out of a component instance.
pub trait Lift: ComponentType + Sized {
    /// Lifts a `ty` from the flat values at `vi` (`lift_flat`).
    fn lift_flat<C: LiftContext>(
        cx: &mut C,
        ty: &InterfaceType,
        vi: &mut FlatReader<'_>,
    ) -> Result<Self, C::Error>;

    /// Loads a `ty` at `ptr`, which the caller checked for the type's
    /// alignment and size (`load`).
    fn load<C: LiftContext>(cx: &mut C, ty: &InterfaceType, ptr: u64) -> Result<Self, C::Error>;

    /// The Rust value of a dynamic one, from an interceptor.
    fn from_val(v: Val, ty: &InterfaceType) -> Result<Self, CanonError>;
}

/// The error of a dynamic value that is not a `ty`.
fn wrong(ty: &InterfaceType, v: &Val) -> CanonError {
    mismatch("value", ty, v.kind().to_string())
}

/// Checks that `ty` is `expected`, named `what` in the error.
fn exactly(ty: &InterfaceType, expected: &InterfaceType, what: &str) -> Result<(), String> {
    if ty == expected {
        Ok(())
    } else {
        Err(format!("{what} stands for `{expected}`"))
    }
}

macro_rules! integer {
    ($($rust:ty => $it:ident, $flat:ident, $core:ty, $next:ident;)*) => {$(
        impl ComponentType for $rust {
            fn typecheck(ty: &InterfaceType) -> Result<(), String> {
                exactly(ty, &InterfaceType::$it, stringify!($rust))
            }
        }

        impl Lower for $rust {
            #[inline]
            fn lower_flat<C: LowerContext>(
                &self,
                _: &mut C,
                _: &InterfaceType,
                out: &mut Vec<CoreVal>,
            ) -> Result<(), C::Error> {
                // Narrow integers are zero- or sign-extended (`lower_flat_signed`).
                out.push(CoreVal::$flat(<$core>::from(*self) as _));
                Ok(())
            }

            fn store<C: LowerContext>(
                &self,
                cx: &mut C,
                _: &InterfaceType,
                ptr: u64,
            ) -> Result<(), C::Error> {
                Ok(write(cx.memory(), ptr, &self.to_le_bytes())?)
            }

            fn to_val(&self, _: &InterfaceType) -> Val {
                Val::$it(*self)
            }
        }

        impl Lift for $rust {
            #[inline]
            fn lift_flat<C: LiftContext>(
                _: &mut C,
                _: &InterfaceType,
                vi: &mut FlatReader<'_>,
            ) -> Result<Self, C::Error> {
                // The low bits of the flat value (`lift_flat_unsigned`/`_signed`).
                Ok(vi.$next()? as $rust)
            }

            fn load<C: LiftContext>(
                cx: &mut C,
                _: &InterfaceType,
                ptr: u64,
            ) -> Result<Self, C::Error> {
                Ok(<$rust>::from_le_bytes(read(cx.memory(), ptr)?))
            }

            fn from_val(v: Val, ty: &InterfaceType) -> Result<Self, CanonError> {
                match v {
                    Val::$it(x) => Ok(x),
                    other => Err(wrong(ty, &other)),
                }
            }
        }
    )*};
}

integer! {
    u8 => U8, I32, u32, next_u32;
    i8 => S8, I32, i32, next_u32;
    u16 => U16, I32, u32, next_u32;
    i16 => S16, I32, i32, next_u32;
    u32 => U32, I32, u32, next_u32;
    i32 => S32, I32, i32, next_u32;
    u64 => U64, I64, u64, next_u64;
    i64 => S64, I64, i64, next_u64;
}

/// Implements the traits for a type that is one flat value and `$size`
/// bytes in memory, converted by the given functions.
macro_rules! scalar {
    (
        $rust:ty => $it:ident, $bytes:literal,
        lower: $lower:expr, store: $store:expr,
        lift: $lift:expr, load: $load:expr $(,)?
    ) => {
        impl ComponentType for $rust {
            fn typecheck(ty: &InterfaceType) -> Result<(), String> {
                exactly(ty, &InterfaceType::$it, stringify!($rust))
            }
        }

        impl Lower for $rust {
            #[inline]
            fn lower_flat<C: LowerContext>(
                &self,
                _: &mut C,
                _: &InterfaceType,
                out: &mut Vec<CoreVal>,
            ) -> Result<(), C::Error> {
                out.push(($lower)(*self));
                Ok(())
            }

            fn store<C: LowerContext>(
                &self,
                cx: &mut C,
                _: &InterfaceType,
                ptr: u64,
            ) -> Result<(), C::Error> {
                let bytes: [u8; $bytes] = ($store)(*self);
                Ok(write(cx.memory(), ptr, &bytes)?)
            }

            fn to_val(&self, _: &InterfaceType) -> Val {
                Val::$it(*self)
            }
        }

        impl Lift for $rust {
            #[inline]
            fn lift_flat<C: LiftContext>(
                _: &mut C,
                _: &InterfaceType,
                vi: &mut FlatReader<'_>,
            ) -> Result<Self, C::Error> {
                Ok(($lift)(vi)?)
            }

            fn load<C: LiftContext>(
                cx: &mut C,
                _: &InterfaceType,
                ptr: u64,
            ) -> Result<Self, C::Error> {
                let bytes: [u8; $bytes] = read(cx.memory(), ptr)?;
                Ok(($load)(bytes)?)
            }

            fn from_val(v: Val, ty: &InterfaceType) -> Result<Self, CanonError> {
                match v {
                    Val::$it(x) => Ok(x),
                    other => Err(wrong(ty, &other)),
                }
            }
        }
    };
}

scalar! {
    bool => Bool, 1,
    lower: |b: bool| CoreVal::I32(i32::from(b)),
    store: |b: bool| [u8::from(b)],
    lift: |vi: &mut FlatReader<'_>| vi.next_u32().map(|x| x != 0),
    load: |b: [u8; 1]| Ok::<_, CanonError>(b[0] != 0),
}

scalar! {
    f32 => F32, 4,
    lower: |f: f32| CoreVal::F32(encode_f32(f)),
    store: |f: f32| encode_f32(f).to_le_bytes(),
    lift: |vi: &mut FlatReader<'_>| vi.next_f32_bits().map(decode_f32),
    load: |b: [u8; 4]| Ok::<_, CanonError>(decode_f32(u32::from_le_bytes(b))),
}

scalar! {
    f64 => F64, 8,
    lower: |f: f64| CoreVal::F64(encode_f64(f)),
    store: |f: f64| encode_f64(f).to_le_bytes(),
    lift: |vi: &mut FlatReader<'_>| vi.next_f64_bits().map(decode_f64),
    load: |b: [u8; 8]| Ok::<_, CanonError>(decode_f64(u64::from_le_bytes(b))),
}

scalar! {
    char => Char, 4,
    lower: |c: char| CoreVal::I32(u32::from(c) as i32),
    store: |c: char| u32::from(c).to_le_bytes(),
    lift: |vi: &mut FlatReader<'_>| vi.next_u32().and_then(convert_i32_to_char),
    load: |b: [u8; 4]| convert_i32_to_char(u32::from_le_bytes(b)),
}

/// A string's or list's pointer and length, appended flat.
fn push_pair(pt: PtrType, (ptr, len): (u64, u64), out: &mut Vec<CoreVal>) {
    out.extend([ptr_val(pt, ptr), ptr_val(pt, len)]);
}

/// Stores a string's or list's pointer and length at `at`.
fn store_pair<C: LowerContext>(
    cx: &mut C,
    at: u64,
    (ptr, len): (u64, u64),
) -> Result<(), C::Error> {
    let pt = cx.ptr_type();
    let mem = cx.memory();
    write_ptr(mem, at, pt, ptr)?;
    write_ptr(mem, at + u64::from(pt.size()), pt, len)?;
    Ok(())
}

/// Loads a string's or list's pointer and length at `at`.
fn load_pair<C: LiftContext>(cx: &C, at: u64) -> Result<(u64, u64), CanonError> {
    let pt = cx.ptr_type();
    Ok((
        read_ptr(cx.memory(), at, pt)?,
        read_ptr(cx.memory(), at + u64::from(pt.size()), pt)?,
    ))
}

impl ComponentType for str {
    fn typecheck(ty: &InterfaceType) -> Result<(), String> {
        exactly(ty, &InterfaceType::String, "a Rust string")
    }
}

impl Lower for str {
    fn lower_flat<C: LowerContext>(
        &self,
        cx: &mut C,
        _: &InterfaceType,
        out: &mut Vec<CoreVal>,
    ) -> Result<(), C::Error> {
        let pair = store_string_into_range(cx, self, StringSource::host(self))?;
        push_pair(cx.ptr_type(), pair, out);
        Ok(())
    }

    fn store<C: LowerContext>(
        &self,
        cx: &mut C,
        _: &InterfaceType,
        ptr: u64,
    ) -> Result<(), C::Error> {
        let pair = store_string_into_range(cx, self, StringSource::host(self))?;
        store_pair(cx, ptr, pair)
    }

    fn to_val(&self, _: &InterfaceType) -> Val {
        Val::String(self.to_owned())
    }
}

impl ComponentType for String {
    fn typecheck(ty: &InterfaceType) -> Result<(), String> {
        str::typecheck(ty)
    }
}

impl Lower for String {
    fn lower_flat<C: LowerContext>(
        &self,
        cx: &mut C,
        ty: &InterfaceType,
        out: &mut Vec<CoreVal>,
    ) -> Result<(), C::Error> {
        self.as_str().lower_flat(cx, ty, out)
    }

    fn store<C: LowerContext>(
        &self,
        cx: &mut C,
        ty: &InterfaceType,
        ptr: u64,
    ) -> Result<(), C::Error> {
        self.as_str().store(cx, ty, ptr)
    }

    fn to_val(&self, _: &InterfaceType) -> Val {
        Val::String(self.clone())
    }
}

impl Lift for String {
    fn lift_flat<C: LiftContext>(
        cx: &mut C,
        _: &InterfaceType,
        vi: &mut FlatReader<'_>,
    ) -> Result<Self, C::Error> {
        let pt = cx.ptr_type();
        let (ptr, units) = (vi.next_ptr(pt)?, vi.next_ptr(pt)?);
        Ok(load_string_from_range(
            cx.memory(),
            cx.string_encoding(),
            pt,
            ptr,
            units,
        )?)
    }

    fn load<C: LiftContext>(cx: &mut C, _: &InterfaceType, ptr: u64) -> Result<Self, C::Error> {
        let (begin, units) = load_pair(cx, ptr)?;
        let pt = cx.ptr_type();
        Ok(load_string_from_range(
            cx.memory(),
            cx.string_encoding(),
            pt,
            begin,
            units,
        )?)
    }

    fn from_val(v: Val, ty: &InterfaceType) -> Result<Self, CanonError> {
        match v {
            Val::String(s) => Ok(s),
            other => Err(wrong(ty, &other)),
        }
    }
}

/// The element type of a list type (checked).
fn elem(ty: &InterfaceType) -> &InterfaceType {
    match ty {
        InterfaceType::List(elem) => elem,
        _ => ty,
    }
}

impl<T: ComponentType> ComponentType for [T] {
    fn typecheck(ty: &InterfaceType) -> Result<(), String> {
        match ty {
            InterfaceType::List(elem) => {
                T::typecheck(elem).map_err(|e| format!("list element: {e}"))
            }
            _ => Err(format!("a slice or `Vec` stands for a list, not `{ty}`")),
        }
    }
}

/// Allocates room for `items` with `realloc` and stores them there
/// (`store_list_into_range`).
fn store_list<C: LowerContext, T: Lower>(
    cx: &mut C,
    items: &[T],
    elem: &InterfaceType,
) -> Result<(u64, u64), C::Error> {
    store_elements(cx, items, elem, |cx, item, ptr| item.store(cx, elem, ptr))
}

impl<T: Lower> Lower for [T] {
    fn lower_flat<C: LowerContext>(
        &self,
        cx: &mut C,
        ty: &InterfaceType,
        out: &mut Vec<CoreVal>,
    ) -> Result<(), C::Error> {
        let pair = store_list(cx, self, elem(ty))?;
        push_pair(cx.ptr_type(), pair, out);
        Ok(())
    }

    fn store<C: LowerContext>(
        &self,
        cx: &mut C,
        ty: &InterfaceType,
        ptr: u64,
    ) -> Result<(), C::Error> {
        let pair = store_list(cx, self, elem(ty))?;
        store_pair(cx, ptr, pair)
    }

    fn to_val(&self, ty: &InterfaceType) -> Val {
        Val::List(self.iter().map(|v| v.to_val(elem(ty))).collect())
    }
}

impl<T: ComponentType> ComponentType for Vec<T> {
    fn typecheck(ty: &InterfaceType) -> Result<(), String> {
        <[T]>::typecheck(ty)
    }
}

impl<T: Lower> Lower for Vec<T> {
    fn lower_flat<C: LowerContext>(
        &self,
        cx: &mut C,
        ty: &InterfaceType,
        out: &mut Vec<CoreVal>,
    ) -> Result<(), C::Error> {
        self.as_slice().lower_flat(cx, ty, out)
    }

    fn store<C: LowerContext>(
        &self,
        cx: &mut C,
        ty: &InterfaceType,
        ptr: u64,
    ) -> Result<(), C::Error> {
        self.as_slice().store(cx, ty, ptr)
    }

    fn to_val(&self, ty: &InterfaceType) -> Val {
        self.as_slice().to_val(ty)
    }
}

/// Reads the `len` elements at `ptr` (`load_list_from_range`).
fn load_list<C: LiftContext, T: Lift>(
    cx: &mut C,
    elem: &InterfaceType,
    (ptr, len): (u64, u64),
) -> Result<Vec<T>, C::Error> {
    let l = layout(elem, cx.ptr_type());
    check_list(cx.memory().len(), ptr, len, l)?;
    (0..len)
        .map(|i| T::load(cx, elem, ptr + i * u64::from(l.size)))
        .collect()
}

impl<T: Lift> Lift for Vec<T> {
    fn lift_flat<C: LiftContext>(
        cx: &mut C,
        ty: &InterfaceType,
        vi: &mut FlatReader<'_>,
    ) -> Result<Self, C::Error> {
        let pt = cx.ptr_type();
        let pair = (vi.next_ptr(pt)?, vi.next_ptr(pt)?);
        load_list(cx, elem(ty), pair)
    }

    fn load<C: LiftContext>(cx: &mut C, ty: &InterfaceType, ptr: u64) -> Result<Self, C::Error> {
        let pair = load_pair(cx, ptr)?;
        load_list(cx, elem(ty), pair)
    }

    fn from_val(v: Val, ty: &InterfaceType) -> Result<Self, CanonError> {
        match v {
            Val::List(items) => items
                .into_iter()
                .map(|v| T::from_val(v, elem(ty)))
                .collect(),
            Val::Bytes(bytes) => bytes
                .into_iter()
                .map(|b| T::from_val(Val::U8(b), elem(ty)))
                .collect(),
            other => Err(wrong(ty, &other)),
        }
    }
}

impl<T: ComponentType + ?Sized> ComponentType for &T {
    fn typecheck(ty: &InterfaceType) -> Result<(), String> {
        T::typecheck(ty)
    }
}

impl<T: Lower + ?Sized> Lower for &T {
    #[inline]
    fn lower_flat<C: LowerContext>(
        &self,
        cx: &mut C,
        ty: &InterfaceType,
        out: &mut Vec<CoreVal>,
    ) -> Result<(), C::Error> {
        (**self).lower_flat(cx, ty, out)
    }

    fn store<C: LowerContext>(
        &self,
        cx: &mut C,
        ty: &InterfaceType,
        ptr: u64,
    ) -> Result<(), C::Error> {
        (**self).store(cx, ty, ptr)
    }

    fn to_val(&self, ty: &InterfaceType) -> Val {
        (**self).to_val(ty)
    }
}

/// `()` is the payload of a variant case without one.
impl ComponentType for () {
    fn typecheck(ty: &InterfaceType) -> Result<(), String> {
        Err(format!("`()` stands for no payload, not `{ty}`"))
    }

    fn typecheck_payload(payload: Option<&InterfaceType>) -> Result<(), String> {
        match payload {
            None => Ok(()),
            Some(ty) => <Self as ComponentType>::typecheck(ty),
        }
    }
}

impl Lower for () {
    fn lower_flat<C: LowerContext>(
        &self,
        _: &mut C,
        _: &InterfaceType,
        _: &mut Vec<CoreVal>,
    ) -> Result<(), C::Error> {
        Ok(())
    }

    fn store<C: LowerContext>(&self, _: &mut C, _: &InterfaceType, _: u64) -> Result<(), C::Error> {
        Ok(())
    }

    fn to_val(&self, _: &InterfaceType) -> Val {
        Val::Tuple(Vec::new())
    }
}

impl Lift for () {
    fn lift_flat<C: LiftContext>(
        _: &mut C,
        _: &InterfaceType,
        _: &mut FlatReader<'_>,
    ) -> Result<Self, C::Error> {
        Ok(())
    }

    fn load<C: LiftContext>(_: &mut C, _: &InterfaceType, _: u64) -> Result<Self, C::Error> {
        Ok(())
    }

    fn from_val(_: Val, _: &InterfaceType) -> Result<Self, CanonError> {
        Ok(())
    }
}

// Variants: the helpers `Option`, `Result` and derived variants and enums
// share.

/// Lowers case `index` of the variant-like `ty` flat, with `payload` as the
/// case's value (`lower_flat_variant`): the discriminant, the payload's flat
/// values converted to the joined slot types, zeros in the slots it does
/// not use.
pub fn lower_case_flat<C: LowerContext, T: Lower + ?Sized>(
    cx: &mut C,
    ty: &InterfaceType,
    index: u32,
    payload: Option<&T>,
    out: &mut Vec<CoreVal>,
) -> Result<(), C::Error> {
    let cases = ty.variant_cases().unwrap_or_default();
    let joined = variant_payload_types(&cases, cx.ptr_type());
    out.push(CoreVal::I32(index as i32));
    let start = out.len();
    if let (Some(v), Some(Some(case))) = (payload, cases.get(index as usize)) {
        v.lower_flat(cx, case, out)?;
    }
    for (slot, want) in out[start..].iter_mut().zip(&joined) {
        *slot = coerce_lower(*slot, *want);
    }
    let used = out.len() - start;
    out.extend(joined.iter().skip(used).map(|t| zero(*t)));
    Ok(())
}

/// Stores case `index` of the variant-like `ty` at `ptr`: the discriminant,
/// then `payload` at the payload offset.
pub fn store_case<C: LowerContext, T: Lower + ?Sized>(
    cx: &mut C,
    ty: &InterfaceType,
    ptr: u64,
    index: u32,
    payload: Option<&T>,
) -> Result<(), C::Error> {
    let cases = ty.variant_cases().unwrap_or_default();
    let vl = variant_layout(&cases, cx.ptr_type());
    let disc = index.to_le_bytes();
    write(cx.memory(), ptr, &disc[..vl.discriminant_size as usize])?;
    match (payload, cases.get(index as usize)) {
        (Some(v), Some(Some(case))) => v.store(cx, case, ptr + u64::from(vl.payload_offset)),
        _ => Ok(()),
    }
}

/// A variant case read from flat values or memory: its index and where
/// its payload is.
pub struct Case {
    /// The case index (checked against the case count).
    pub index: u32,
    payload: CasePayload,
}

enum CasePayload {
    /// The payload's flat values, converted back from the joined slots.
    Flat(Vec<CoreVal>),
    /// The payload's address.
    Memory(u64),
}

impl Case {
    /// Lifts the payload as a `T` of the case's payload type in `ty`.
    pub fn payload<C: LiftContext, T: Lift>(
        &self,
        cx: &mut C,
        ty: &InterfaceType,
    ) -> Result<T, C::Error> {
        let cases = ty.variant_cases().unwrap_or_default();
        let Some(Some(case)) = cases.get(self.index as usize) else {
            // A case without payload: only `()` typechecks here.
            return T::lift_flat(
                cx,
                &InterfaceType::Tuple(Vec::new()),
                &mut FlatReader::new(&[]),
            );
        };
        match &self.payload {
            CasePayload::Flat(flat) => T::lift_flat(cx, case, &mut FlatReader::new(flat)),
            CasePayload::Memory(ptr) => T::load(cx, case, *ptr),
        }
    }
}

/// Checks a discriminant against the case count.
fn check_case(cases: usize, index: u32) -> Result<(), CanonError> {
    if (index as usize) < cases {
        Ok(())
    } else {
        Err(invalid_case(index, cases))
    }
}

/// The trap of a discriminant `index` beyond a variant's `cases`.
pub fn invalid_case(index: u32, cases: usize) -> CanonError {
    CanonError::InvalidDiscriminant {
        discriminant: index,
        cases,
    }
}

/// Reads a case of the variant-like `ty` from flat values
/// (`lift_flat_variant`): the discriminant, the payload's values converted
/// from the joined slots, the unused slots skipped.
pub fn lift_case_flat<C: LiftContext>(
    cx: &mut C,
    ty: &InterfaceType,
    vi: &mut FlatReader<'_>,
) -> Result<Case, C::Error> {
    let pt = cx.ptr_type();
    let cases = ty.variant_cases().unwrap_or_default();
    let joined = variant_payload_types(&cases, pt);
    let index = vi.next_u32()?;
    check_case(cases.len(), index)?;
    let wants: Vec<FlatType> = match cases[index as usize] {
        Some(case) => super::flatten::flatten_type(case, pt),
        None => Vec::new(),
    };
    let mut flat = Vec::with_capacity(wants.len());
    for (have, want) in joined.iter().zip(&wants) {
        flat.push(coerce_lift(vi.next(*have)?, *have, *want));
    }
    for have in joined.iter().skip(wants.len()) {
        vi.next(*have)?;
    }
    Ok(Case {
        index,
        payload: CasePayload::Flat(flat),
    })
}

/// Reads a case of the variant-like `ty` at `ptr`.
pub fn load_case<C: LiftContext>(
    cx: &mut C,
    ty: &InterfaceType,
    ptr: u64,
) -> Result<Case, C::Error> {
    let cases = ty.variant_cases().unwrap_or_default();
    let vl = variant_layout(&cases, cx.ptr_type());
    let mem = cx.memory();
    let index = match vl.discriminant_size {
        1 => u32::from(read::<1>(mem, ptr)?[0]),
        2 => u32::from(u16::from_le_bytes(read(mem, ptr)?)),
        _ => u32::from_le_bytes(read(mem, ptr)?),
    };
    check_case(cases.len(), index)?;
    Ok(Case {
        index,
        payload: CasePayload::Memory(ptr + u64::from(vl.payload_offset)),
    })
}

/// The payload types of a variant-like type's case `index`, for
/// conversions to and from dynamic values.
fn case_type(ty: &InterfaceType, index: usize) -> InterfaceType {
    let cases = ty.variant_cases().unwrap_or_default();
    cases
        .get(index)
        .copied()
        .flatten()
        .cloned()
        .unwrap_or(InterfaceType::Tuple(Vec::new()))
}

impl<T: ComponentType> ComponentType for Option<T> {
    fn typecheck(ty: &InterfaceType) -> Result<(), String> {
        match ty {
            InterfaceType::Option(t) => T::typecheck(t).map_err(|e| format!("option payload: {e}")),
            _ => Err(format!("`Option` stands for an option, not `{ty}`")),
        }
    }
}

impl<T: Lower> Lower for Option<T> {
    fn lower_flat<C: LowerContext>(
        &self,
        cx: &mut C,
        ty: &InterfaceType,
        out: &mut Vec<CoreVal>,
    ) -> Result<(), C::Error> {
        lower_case_flat(cx, ty, u32::from(self.is_some()), self.as_ref(), out)
    }

    fn store<C: LowerContext>(
        &self,
        cx: &mut C,
        ty: &InterfaceType,
        ptr: u64,
    ) -> Result<(), C::Error> {
        store_case(cx, ty, ptr, u32::from(self.is_some()), self.as_ref())
    }

    fn to_val(&self, ty: &InterfaceType) -> Val {
        Val::Option(self.as_ref().map(|v| Box::new(v.to_val(&case_type(ty, 1)))))
    }
}

impl<T: Lift> Lift for Option<T> {
    fn lift_flat<C: LiftContext>(
        cx: &mut C,
        ty: &InterfaceType,
        vi: &mut FlatReader<'_>,
    ) -> Result<Self, C::Error> {
        let case = lift_case_flat(cx, ty, vi)?;
        option_of(cx, ty, case)
    }

    fn load<C: LiftContext>(cx: &mut C, ty: &InterfaceType, ptr: u64) -> Result<Self, C::Error> {
        let case = load_case(cx, ty, ptr)?;
        option_of(cx, ty, case)
    }

    fn from_val(v: Val, ty: &InterfaceType) -> Result<Self, CanonError> {
        match v {
            Val::Option(v) => v.map(|v| T::from_val(*v, &case_type(ty, 1))).transpose(),
            other => Err(wrong(ty, &other)),
        }
    }
}

fn option_of<C: LiftContext, T: Lift>(
    cx: &mut C,
    ty: &InterfaceType,
    case: Case,
) -> Result<Option<T>, C::Error> {
    match case.index {
        0 => Ok(None),
        _ => case.payload(cx, ty).map(Some),
    }
}

impl<T: ComponentType, E: ComponentType> ComponentType for Result<T, E> {
    fn typecheck(ty: &InterfaceType) -> Result<(), String> {
        match ty {
            InterfaceType::Result { ok, err } => {
                T::typecheck_payload(ok.as_deref()).map_err(|e| format!("result ok: {e}"))?;
                E::typecheck_payload(err.as_deref()).map_err(|e| format!("result error: {e}"))
            }
            _ => Err(format!("`Result` stands for a result, not `{ty}`")),
        }
    }
}

impl<T: Lower, E: Lower> Lower for Result<T, E> {
    fn lower_flat<C: LowerContext>(
        &self,
        cx: &mut C,
        ty: &InterfaceType,
        out: &mut Vec<CoreVal>,
    ) -> Result<(), C::Error> {
        match self {
            Ok(v) => lower_case_flat(cx, ty, 0, Some(v), out),
            Err(e) => lower_case_flat(cx, ty, 1, Some(e), out),
        }
    }

    fn store<C: LowerContext>(
        &self,
        cx: &mut C,
        ty: &InterfaceType,
        ptr: u64,
    ) -> Result<(), C::Error> {
        match self {
            Ok(v) => store_case(cx, ty, ptr, 0, Some(v)),
            Err(e) => store_case(cx, ty, ptr, 1, Some(e)),
        }
    }

    fn to_val(&self, ty: &InterfaceType) -> Val {
        let payload = |index: usize, v: Val| match ty.variant_cases().unwrap_or_default().get(index)
        {
            Some(Some(_)) => Some(Box::new(v)),
            _ => None,
        };
        Val::Result(match self {
            Ok(v) => Ok(payload(0, v.to_val(&case_type(ty, 0)))),
            Err(e) => Err(payload(1, e.to_val(&case_type(ty, 1)))),
        })
    }
}

impl<T: Lift, E: Lift> Lift for Result<T, E> {
    fn lift_flat<C: LiftContext>(
        cx: &mut C,
        ty: &InterfaceType,
        vi: &mut FlatReader<'_>,
    ) -> Result<Self, C::Error> {
        let case = lift_case_flat(cx, ty, vi)?;
        result_of(cx, ty, case)
    }

    fn load<C: LiftContext>(cx: &mut C, ty: &InterfaceType, ptr: u64) -> Result<Self, C::Error> {
        let case = load_case(cx, ty, ptr)?;
        result_of(cx, ty, case)
    }

    fn from_val(v: Val, ty: &InterfaceType) -> Result<Self, CanonError> {
        let payload = |v: Option<Box<Val>>| v.map_or(Val::Tuple(Vec::new()), |v| *v);
        match v {
            Val::Result(Ok(v)) => T::from_val(payload(v), &case_type(ty, 0)).map(Ok),
            Val::Result(Err(e)) => E::from_val(payload(e), &case_type(ty, 1)).map(Err),
            other => Err(wrong(ty, &other)),
        }
    }
}

fn result_of<C: LiftContext, T: Lift, E: Lift>(
    cx: &mut C,
    ty: &InterfaceType,
    case: Case,
) -> Result<Result<T, E>, C::Error> {
    match case.index {
        0 => case.payload(cx, ty).map(Ok),
        _ => case.payload(cx, ty).map(Err),
    }
}

// Records and tuples.

/// The field types of the record-like `ty` (checked).
pub fn fields(ty: &InterfaceType) -> Vec<&InterfaceType> {
    ty.record_fields().unwrap_or_default()
}

/// Checks that `ty` is a record with fields named `names`, in order, and
/// returns their types.
pub fn typecheck_record<'t>(
    ty: &'t InterfaceType,
    rust: &str,
    names: &[&str],
) -> Result<Vec<&'t InterfaceType>, String> {
    let InterfaceType::Record(fields) = ty else {
        return Err(format!("`{rust}` stands for a record, not `{ty}`"));
    };
    let found: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
    if found != names {
        return Err(format!(
            "`{rust}` stands for a record with fields {names:?}, not {found:?}"
        ));
    }
    Ok(fields.iter().map(|(_, t)| t).collect())
}

/// The byte offsets of the fields of the record-like `ty`.
pub fn offsets(ty: &InterfaceType, pt: PtrType) -> Vec<u32> {
    field_offsets(fields(ty), pt)
}

/// Checks that `ty` is a variant with cases named `names`, in order, and
/// returns their payload types.
pub fn typecheck_variant<'t>(
    ty: &'t InterfaceType,
    rust: &str,
    names: &[&str],
) -> Result<Vec<Option<&'t InterfaceType>>, String> {
    let InterfaceType::Variant(cases) = ty else {
        return Err(format!("`{rust}` stands for a variant, not `{ty}`"));
    };
    let found: Vec<&str> = cases.iter().map(|(n, _)| n.as_str()).collect();
    if found != names {
        return Err(format!(
            "`{rust}` stands for a variant with cases {names:?}, not {found:?}"
        ));
    }
    Ok(cases.iter().map(|(_, t)| t.as_ref()).collect())
}

/// Checks that `ty` is an enum with cases named `names`, in order.
pub fn typecheck_enum(ty: &InterfaceType, rust: &str, names: &[&str]) -> Result<(), String> {
    match ty {
        InterfaceType::Enum(labels)
            if labels.iter().map(String::as_str).eq(names.iter().copied()) =>
        {
            Ok(())
        }
        _ => Err(format!(
            "`{rust}` stands for an enum with cases {names:?}, not `{ty}`"
        )),
    }
}

/// Checks that `ty` is a flags type with labels `names`, in order.
pub fn typecheck_flags(ty: &InterfaceType, rust: &str, names: &[&str]) -> Result<(), String> {
    match ty {
        InterfaceType::Flags(labels)
            if labels.iter().map(String::as_str).eq(names.iter().copied()) =>
        {
            Ok(())
        }
        _ => Err(format!("`{rust}` stands for flags {names:?}, not `{ty}`")),
    }
}

/// The case index of a dynamic variant or enum value named `label` in `ty`.
pub fn case_index(ty: &InterfaceType, v: &Val) -> Result<usize, CanonError> {
    let found = match (ty, v) {
        (InterfaceType::Variant(cases), Val::Variant(label, _)) => {
            cases.iter().position(|(l, _)| l == label)
        }
        (InterfaceType::Enum(labels), Val::Enum(label)) => labels.iter().position(|l| l == label),
        _ => None,
    };
    found.ok_or_else(|| wrong(ty, v))
}

/// The label of case `index` of a variant or enum type.
pub fn case_label(ty: &InterfaceType, index: usize) -> String {
    match ty {
        InterfaceType::Variant(cases) => cases[index].0.clone(),
        InterfaceType::Enum(labels) => labels[index].clone(),
        _ => String::new(),
    }
}

/// The payload type of case `index` of a variant-like type, `tuple<>` for
/// none (what `()` converts from).
pub fn payload_type(ty: &InterfaceType, index: usize) -> InterfaceType {
    case_type(ty, index)
}

/// The error of a dynamic value that does not have type `ty`.
pub fn type_error(ty: &InterfaceType, v: &Val) -> CanonError {
    wrong(ty, v)
}

/// Lowers a flags value given as its bits (bit `i` is label `i`).
pub fn lower_flags_flat(bits: u32, out: &mut Vec<CoreVal>) {
    out.push(CoreVal::I32(bits as i32));
}

/// Stores a flags value of `ty` given as its bits.
pub fn store_flags<C: LowerContext>(
    cx: &mut C,
    ty: &InterfaceType,
    ptr: u64,
    bits: u32,
) -> Result<(), C::Error> {
    let size = layout(ty, cx.ptr_type()).size as usize;
    Ok(write(cx.memory(), ptr, &bits.to_le_bytes()[..size])?)
}

/// Loads the bits of a flags value of `ty`.
pub fn load_flags<C: LiftContext>(
    cx: &mut C,
    ty: &InterfaceType,
    ptr: u64,
) -> Result<u32, C::Error> {
    let mem = cx.memory();
    Ok(match layout(ty, cx.ptr_type()).size {
        1 => u32::from(read::<1>(mem, ptr)?[0]),
        2 => u32::from(u16::from_le_bytes(read(mem, ptr)?)),
        _ => u32::from_le_bytes(read(mem, ptr)?),
    })
}

macro_rules! tuple {
    ($($n:tt $t:ident),+) => {
        impl<$($t: ComponentType),+> ComponentType for ($($t,)+) {
            fn typecheck(ty: &InterfaceType) -> Result<(), String> {
                const LEN: usize = [$($n),+].len();
                match ty {
                    InterfaceType::Tuple(types) if types.len() == LEN => {
                        $($t::typecheck(&types[$n]).map_err(|e| format!("tuple element {}: {e}", $n))?;)+
                        Ok(())
                    }
                    _ => Err(format!("a Rust tuple of {LEN} stands for a tuple of {LEN}, not `{ty}`")),
                }
            }
        }

        impl<$($t: Lower),+> Lower for ($($t,)+) {
            fn lower_flat<X: LowerContext>(
                &self,
                cx: &mut X,
                ty: &InterfaceType,
                out: &mut Vec<CoreVal>,
            ) -> Result<(), X::Error> {
                let types = fields(ty);
                $(self.$n.lower_flat(cx, types[$n], out)?;)+
                Ok(())
            }

            fn store<X: LowerContext>(
                &self,
                cx: &mut X,
                ty: &InterfaceType,
                ptr: u64,
            ) -> Result<(), X::Error> {
                let types = fields(ty);
                let offsets = offsets(ty, cx.ptr_type());
                $(self.$n.store(cx, types[$n], ptr + u64::from(offsets[$n]))?;)+
                Ok(())
            }

            fn to_val(&self, ty: &InterfaceType) -> Val {
                let types = fields(ty);
                Val::Tuple(vec![$(self.$n.to_val(types[$n])),+])
            }
        }

        impl<$($t: Lift),+> Lift for ($($t,)+) {
            fn lift_flat<X: LiftContext>(
                cx: &mut X,
                ty: &InterfaceType,
                vi: &mut FlatReader<'_>,
            ) -> Result<Self, X::Error> {
                let types = fields(ty);
                Ok(($($t::lift_flat(cx, types[$n], vi)?,)+))
            }

            fn load<X: LiftContext>(
                cx: &mut X,
                ty: &InterfaceType,
                ptr: u64,
            ) -> Result<Self, X::Error> {
                let types = fields(ty);
                let offsets = offsets(ty, cx.ptr_type());
                Ok(($($t::load(cx, types[$n], ptr + u64::from(offsets[$n]))?,)+))
            }

            fn from_val(v: Val, ty: &InterfaceType) -> Result<Self, CanonError> {
                let types = fields(ty);
                match v {
                    Val::Tuple(items) if items.len() == types.len() => {
                        let mut items = items.into_iter();
                        Ok(($($t::from_val(items.next().unwrap_or(Val::Bool(false)), types[$n])?,)+))
                    }
                    other => Err(wrong(ty, &other)),
                }
            }
        }
    };
}

tuple!(0 A);
tuple!(0 A, 1 B);
tuple!(0 A, 1 B, 2 C);
tuple!(0 A, 1 B, 2 C, 3 D);
tuple!(0 A, 1 B, 2 C, 3 D, 4 E);
tuple!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F);
tuple!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G);
tuple!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H);

// Resources.

impl ComponentType for ResourceVal {
    fn typecheck(ty: &InterfaceType) -> Result<(), String> {
        match ty {
            InterfaceType::Own(_) | InterfaceType::Borrow(_) => Ok(()),
            _ => Err(format!(
                "a resource handle stands for `own` or `borrow`, not `{ty}`"
            )),
        }
    }
}

impl Lower for ResourceVal {
    fn lower_flat<C: LowerContext>(
        &self,
        cx: &mut C,
        ty: &InterfaceType,
        out: &mut Vec<CoreVal>,
    ) -> Result<(), C::Error> {
        let index = lower_handle(cx, ty, *self)?;
        out.push(CoreVal::I32(index as i32));
        Ok(())
    }

    fn store<C: LowerContext>(
        &self,
        cx: &mut C,
        ty: &InterfaceType,
        ptr: u64,
    ) -> Result<(), C::Error> {
        let index = lower_handle(cx, ty, *self)?;
        Ok(write(cx.memory(), ptr, &index.to_le_bytes())?)
    }

    fn to_val(&self, _: &InterfaceType) -> Val {
        Val::Resource(*self)
    }
}

fn lower_handle<C: LowerContext>(
    cx: &mut C,
    ty: &InterfaceType,
    r: ResourceVal,
) -> Result<u32, C::Error> {
    match ty {
        InterfaceType::Own(rt) => cx.lower_own(*rt, r),
        InterfaceType::Borrow(rt) => cx.lower_borrow(*rt, r),
        _ => Err(mismatch("value", ty, "resource".into()).into()),
    }
}

fn lift_handle<C: LiftContext>(
    cx: &mut C,
    ty: &InterfaceType,
    index: u32,
) -> Result<ResourceVal, C::Error> {
    match ty {
        InterfaceType::Own(rt) => cx.lift_own(*rt, index),
        InterfaceType::Borrow(rt) => cx.lift_borrow(*rt, index),
        _ => Err(mismatch("value", ty, "resource".into()).into()),
    }
}

impl Lift for ResourceVal {
    fn lift_flat<C: LiftContext>(
        cx: &mut C,
        ty: &InterfaceType,
        vi: &mut FlatReader<'_>,
    ) -> Result<Self, C::Error> {
        let index = vi.next_u32()?;
        lift_handle(cx, ty, index)
    }

    fn load<C: LiftContext>(cx: &mut C, ty: &InterfaceType, ptr: u64) -> Result<Self, C::Error> {
        let index = u32::from_le_bytes(read(cx.memory(), ptr)?);
        lift_handle(cx, ty, index)
    }

    fn from_val(v: Val, ty: &InterfaceType) -> Result<Self, CanonError> {
        match v {
            Val::Resource(r) => Ok(r),
            other => Err(wrong(ty, &other)),
        }
    }
}

// Whole calls: parameters as a Rust tuple, the result as `()` or `(T,)`.

/// A Rust tuple that stands for a function's parameters.
pub trait ComponentParams: Sized {
    /// Checks the parameter types, in order.
    fn typecheck(params: &[(String, InterfaceType)]) -> Result<(), String>;
}

/// Parameters the host passes to a component export.
pub trait LowerParams: ComponentParams {
    /// Lowers each parameter flat.
    fn lower_each<C: LowerContext>(
        &self,
        cx: &mut C,
        params: &[(String, InterfaceType)],
        out: &mut Vec<CoreVal>,
    ) -> Result<(), C::Error>;

    /// Stores each parameter at `ptr` plus its offset.
    fn store_each<C: LowerContext>(
        &self,
        cx: &mut C,
        params: &[(String, InterfaceType)],
        ptr: u64,
        offsets: &[u32],
    ) -> Result<(), C::Error>;

    /// The dynamic values, for an interceptor.
    fn to_vals(&self, params: &[(String, InterfaceType)]) -> Vec<Val>;
}

/// Parameters a host function receives from wasm.
pub trait LiftParams: ComponentParams {
    /// Lifts each parameter from flat values.
    fn lift_each<C: LiftContext>(
        cx: &mut C,
        params: &[(String, InterfaceType)],
        vi: &mut FlatReader<'_>,
    ) -> Result<Self, C::Error>;

    /// Loads each parameter at `ptr` plus its offset.
    fn load_each<C: LiftContext>(
        cx: &mut C,
        params: &[(String, InterfaceType)],
        ptr: u64,
        offsets: &[u32],
    ) -> Result<Self, C::Error>;

    /// The Rust values of dynamic ones, from an interceptor.
    fn from_vals(vals: Vec<Val>, params: &[(String, InterfaceType)]) -> Result<Self, CanonError>;
}

macro_rules! params {
    ($($n:tt $t:ident),*) => {
        impl<$($t: ComponentType),*> ComponentParams for ($($t,)*) {
            fn typecheck(params: &[(String, InterfaceType)]) -> Result<(), String> {
                const LEN: usize = <[usize]>::len(&[$($n),*]);
                if params.len() != LEN {
                    return Err(format!("{LEN} parameter(s) in Rust, {} in the function", params.len()));
                }
                $($t::typecheck(&params[$n].1).map_err(|e| format!("parameter `{}`: {e}", params[$n].0))?;)*
                Ok(())
            }
        }

        impl<$($t: Lower),*> LowerParams for ($($t,)*) {
            #[allow(unused_variables)]
            #[inline]
            fn lower_each<X: LowerContext>(
                &self,
                cx: &mut X,
                params: &[(String, InterfaceType)],
                out: &mut Vec<CoreVal>,
            ) -> Result<(), X::Error> {
                $(self.$n.lower_flat(cx, &params[$n].1, out)?;)*
                Ok(())
            }

            #[allow(unused_variables)]
            fn store_each<X: LowerContext>(
                &self,
                cx: &mut X,
                params: &[(String, InterfaceType)],
                ptr: u64,
                offsets: &[u32],
            ) -> Result<(), X::Error> {
                $(self.$n.store(cx, &params[$n].1, ptr + u64::from(offsets[$n]))?;)*
                Ok(())
            }

            #[allow(unused_variables)]
            fn to_vals(&self, params: &[(String, InterfaceType)]) -> Vec<Val> {
                vec![$(self.$n.to_val(&params[$n].1)),*]
            }
        }

        impl<$($t: Lift),*> LiftParams for ($($t,)*) {
            #[allow(unused_variables)]
            #[inline]
            fn lift_each<X: LiftContext>(
                cx: &mut X,
                params: &[(String, InterfaceType)],
                vi: &mut FlatReader<'_>,
            ) -> Result<Self, X::Error> {
                Ok(($($t::lift_flat(cx, &params[$n].1, vi)?,)*))
            }

            #[allow(unused_variables)]
            fn load_each<X: LiftContext>(
                cx: &mut X,
                params: &[(String, InterfaceType)],
                ptr: u64,
                offsets: &[u32],
            ) -> Result<Self, X::Error> {
                Ok(($($t::load(cx, &params[$n].1, ptr + u64::from(offsets[$n]))?,)*))
            }

            #[allow(unused_variables, unused_mut)]
            fn from_vals(vals: Vec<Val>, params: &[(String, InterfaceType)]) -> Result<Self, CanonError> {
                let mut vals = vals.into_iter();
                Ok(($($t::from_val(vals.next().unwrap_or(Val::Bool(false)), &params[$n].1)?,)*))
            }
        }
    };
}

params!();
params!(0 A);
params!(0 A, 1 B);
params!(0 A, 1 B, 2 C);
params!(0 A, 1 B, 2 C, 3 D);
params!(0 A, 1 B, 2 C, 3 D, 4 E);
params!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F);
params!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G);
params!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H);
params!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I);
params!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J);

/// Whether values of these types spill to memory beyond `max_flat`.
#[inline]
fn spills(params: &[(String, InterfaceType)], max_flat: usize) -> bool {
    super::flatten::flat_count_all(params.iter().map(|(_, t)| t)) > max_flat
}

/// Lowers `params` for a call of a lifted export of type `ft`: flat, or
/// stored in memory from the callee's `realloc` when they spill
/// (`lower_flat_values`).
pub fn lower_params_typed<C: LowerContext, P: LowerParams>(
    cx: &mut C,
    ft: &super::types::FuncType,
    params: &P,
    out: &mut Vec<CoreVal>,
) -> Result<(), C::Error> {
    if !spills(&ft.params, super::flatten::MAX_FLAT_PARAMS) {
        return params.lower_each(cx, &ft.params, out);
    }
    let pt = cx.ptr_type();
    let tuple = super::layout::record_layout(ft.param_types(), pt);
    let ptr = realloc_checked(cx, "arguments", 0, 0, tuple.align, u64::from(tuple.size))?;
    out.push(ptr_val(pt, ptr));
    let offsets = field_offsets(ft.param_types(), pt);
    params.store_each(cx, &ft.params, ptr, &offsets)
}

/// Lifts the parameters of a call from wasm to a host function of type
/// `ft` from its core arguments (`lift_flat_values`).
pub fn lift_params_typed<C: LiftContext, P: LiftParams>(
    cx: &mut C,
    ft: &super::types::FuncType,
    flat: &[CoreVal],
) -> Result<P, C::Error> {
    let mut vi = FlatReader::new(flat);
    if !spills(&ft.params, super::flatten::MAX_FLAT_PARAMS) {
        return P::lift_each(cx, &ft.params, &mut vi);
    }
    let pt = cx.ptr_type();
    let ptr = vi.next_ptr(pt)?;
    let tuple = super::layout::record_layout(ft.param_types(), pt);
    super::memory::check_block(cx.memory().len(), ptr, tuple, "parameters")?;
    let offsets = field_offsets(ft.param_types(), pt);
    P::load_each(cx, &ft.params, ptr, &offsets)
}

/// What a function returns, in Rust: `()` for no result, `(T,)` for one.
pub trait ComponentResults: Sized {
    /// Checks the result type.
    fn typecheck(result: Option<&InterfaceType>) -> Result<(), String>;
}

/// A result the host receives from a component export.
pub trait LiftResults: ComponentResults {
    /// Lifts the result from the core results of a lifted export: flat, or
    /// through the returned pointer when it spills.
    fn lift<C: LiftContext>(
        cx: &mut C,
        result: Option<&InterfaceType>,
        flat: &[CoreVal],
    ) -> Result<Self, C::Error>;

    /// The Rust value of a dynamic result, from an interceptor.
    fn from_val(v: Option<Val>, result: Option<&InterfaceType>) -> Result<Self, CanonError>;
}

/// A result a host function returns to wasm.
pub trait LowerResults: ComponentResults {
    /// Lowers the result flat, or stores it through `retptr` when it
    /// spills.
    fn lower<C: LowerContext>(
        &self,
        cx: &mut C,
        result: Option<&InterfaceType>,
        retptr: Option<u64>,
        out: &mut Vec<CoreVal>,
    ) -> Result<(), C::Error>;

    /// The dynamic result, for an interceptor.
    fn to_val(&self, result: Option<&InterfaceType>) -> Option<Val>;
}

impl ComponentResults for () {
    fn typecheck(result: Option<&InterfaceType>) -> Result<(), String> {
        match result {
            None => Ok(()),
            Some(ty) => Err(format!("`()` stands for no result, not `{ty}`")),
        }
    }
}

impl LiftResults for () {
    fn lift<C: LiftContext>(
        _: &mut C,
        _: Option<&InterfaceType>,
        _: &[CoreVal],
    ) -> Result<Self, C::Error> {
        Ok(())
    }

    fn from_val(_: Option<Val>, _: Option<&InterfaceType>) -> Result<Self, CanonError> {
        Ok(())
    }
}

impl LowerResults for () {
    fn lower<C: LowerContext>(
        &self,
        _: &mut C,
        _: Option<&InterfaceType>,
        _: Option<u64>,
        _: &mut Vec<CoreVal>,
    ) -> Result<(), C::Error> {
        Ok(())
    }

    fn to_val(&self, _: Option<&InterfaceType>) -> Option<Val> {
        None
    }
}

/// The one result type of a `(T,)`, checked to exist.
fn the_result(result: Option<&InterfaceType>) -> &InterfaceType {
    static NONE: InterfaceType = InterfaceType::Bool;
    result.unwrap_or(&NONE)
}

impl<T: ComponentType> ComponentResults for (T,) {
    fn typecheck(result: Option<&InterfaceType>) -> Result<(), String> {
        match result {
            Some(ty) => T::typecheck(ty).map_err(|e| format!("result: {e}")),
            None => Err("a one-tuple stands for a result; the function has none".into()),
        }
    }
}

impl<T: Lift> LiftResults for (T,) {
    #[inline]
    fn lift<C: LiftContext>(
        cx: &mut C,
        result: Option<&InterfaceType>,
        flat: &[CoreVal],
    ) -> Result<Self, C::Error> {
        let ty = the_result(result);
        let mut vi = FlatReader::new(flat);
        if super::flatten::flat_count(ty) <= super::flatten::MAX_FLAT_RESULTS {
            return Ok((T::lift_flat(cx, ty, &mut vi)?,));
        }
        let ptr = vi.next_ptr(cx.ptr_type())?;
        super::memory::check_block(cx.memory().len(), ptr, layout(ty, cx.ptr_type()), "results")?;
        Ok((T::load(cx, ty, ptr)?,))
    }

    fn from_val(v: Option<Val>, result: Option<&InterfaceType>) -> Result<Self, CanonError> {
        let ty = the_result(result);
        match v {
            Some(v) => Ok((T::from_val(v, ty)?,)),
            None => Err(CanonError::ArityMismatch {
                what: "results",
                expected: 1,
                found: 0,
            }),
        }
    }
}

impl<T: Lower> LowerResults for (T,) {
    #[inline]
    fn lower<C: LowerContext>(
        &self,
        cx: &mut C,
        result: Option<&InterfaceType>,
        retptr: Option<u64>,
        out: &mut Vec<CoreVal>,
    ) -> Result<(), C::Error> {
        let ty = the_result(result);
        if super::flatten::flat_count(ty) <= super::flatten::MAX_FLAT_RESULTS {
            return self.0.lower_flat(cx, ty, out);
        }
        let ptr = retptr.ok_or(CanonError::MissingReturnPointer)?;
        super::memory::check_block(
            cx.memory().len(),
            ptr,
            layout(ty, cx.ptr_type()),
            "return pointer",
        )?;
        self.0.store(cx, ty, ptr)
    }

    fn to_val(&self, result: Option<&InterfaceType>) -> Option<Val> {
        Some(self.0.to_val(the_result(result)))
    }
}
