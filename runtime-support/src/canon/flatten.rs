//! Flattening of component types to core wasm value types: the "Flattening"
//! section of `CanonicalABI.md` (`flatten_functype`, `flatten_type`,
//! `flatten_variant`, `join` of `definitions.py`) for synchronous functions,
//! with the pointers of strings, lists and spilled values of the options'
//! [`PtrType`].
//!
//! A function whose parameters flatten to more than [`MAX_FLAT_PARAMS`] core
//! values takes one pointer to them instead; results beyond
//! [`MAX_FLAT_RESULTS`] go through memory too, returned as a pointer by a
//! lifted function or written through a pointer parameter by a lowered one.

pub use super::types::FlatType;
use super::types::{FuncType, InterfaceType, PtrType};

/// Most core parameters a synchronous function passes flat.
pub const MAX_FLAT_PARAMS: usize = 16;
/// Most core results a synchronous function returns flat.
pub const MAX_FLAT_RESULTS: usize = 1;

/// Which side of the boundary a core signature is for: results that spill
/// are returned as a pointer by a `canon lift`ed core function, and written
/// through an extra pointer parameter by a `canon lower`ed one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FlatContext {
    /// The core function that a `canon lift` wraps (the callee's export).
    Lift,
    /// The core function that a `canon lower` produces (the caller's import).
    Lower,
    /// The core function that a `canon lower … async` produces: at most
    /// [`MAX_FLAT_ASYNC_PARAMS`] flat parameters, the result always
    /// through a trailing pointer, and an `i32` result (the subtask's
    /// state and index).
    LowerAsync,
}

/// The most core parameters an async lower passes flat
/// (`MAX_FLAT_ASYNC_PARAMS`); more go through one pointer.
pub const MAX_FLAT_ASYNC_PARAMS: usize = 4;

/// A core function signature.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct CoreSignature {
    /// Core parameter types.
    pub params: Vec<FlatType>,
    /// Core result types.
    pub results: Vec<FlatType>,
}

/// The core signature of a synchronous component function whose options'
/// memory has pointers of type `ptr` (`flatten_functype`).
pub fn flatten_functype(ft: &FuncType, context: FlatContext, ptr: PtrType) -> CoreSignature {
    let mut params = flatten_types(ft.param_types(), ptr);
    let mut results = flatten_types(ft.result_types(), ptr);
    if context == FlatContext::LowerAsync {
        if params.len() > MAX_FLAT_ASYNC_PARAMS {
            params = vec![ptr.flat()];
        }
        if !results.is_empty() {
            params.push(ptr.flat());
        }
        return CoreSignature {
            params,
            results: vec![FlatType::I32],
        };
    }
    if params.len() > MAX_FLAT_PARAMS {
        params = vec![ptr.flat()];
    }
    if results.len() > MAX_FLAT_RESULTS {
        match context {
            FlatContext::Lift => results = vec![ptr.flat()],
            FlatContext::Lower | FlatContext::LowerAsync => {
                params.push(ptr.flat());
                results = Vec::new();
            }
        }
    }
    CoreSignature { params, results }
}

/// The core types a sequence of values flattens to (`flatten_types`).
pub fn flatten_types<'a>(
    types: impl IntoIterator<Item = &'a InterfaceType>,
    ptr: PtrType,
) -> Vec<FlatType> {
    let mut out = Vec::new();
    for t in types {
        flatten_into(t, ptr, &mut out);
    }
    out
}

/// The core types one value flattens to (`flatten_type`).
pub fn flatten_type(ty: &InterfaceType, ptr: PtrType) -> Vec<FlatType> {
    let mut out = Vec::new();
    flatten_into(ty, ptr, &mut out);
    out
}

/// Appends the flattening of `ty` to `out`.
pub fn flatten_into(ty: &InterfaceType, ptr: PtrType, out: &mut Vec<FlatType>) {
    match ty {
        InterfaceType::Bool
        | InterfaceType::S8
        | InterfaceType::U8
        | InterfaceType::S16
        | InterfaceType::U16
        | InterfaceType::S32
        | InterfaceType::U32
        | InterfaceType::Char
        | InterfaceType::Flags(_)
        | InterfaceType::Own(_)
        | InterfaceType::Borrow(_)
        | InterfaceType::Stream(_)
        | InterfaceType::Future(_)
        | InterfaceType::ErrorContext => out.push(FlatType::I32),
        InterfaceType::S64 | InterfaceType::U64 => out.push(FlatType::I64),
        InterfaceType::F32 => out.push(FlatType::F32),
        InterfaceType::F64 => out.push(FlatType::F64),
        InterfaceType::String | InterfaceType::List(_) => {
            out.extend([ptr.flat(), ptr.flat()]);
        }
        InterfaceType::Record(fields) => fields.iter().for_each(|(_, t)| flatten_into(t, ptr, out)),
        InterfaceType::Tuple(types) => types.iter().for_each(|t| flatten_into(t, ptr, out)),
        InterfaceType::Variant(_)
        | InterfaceType::Enum(_)
        | InterfaceType::Option(_)
        | InterfaceType::Result { .. } => {
            let cases = ty.variant_cases().unwrap_or_default();
            // Every discriminant type (u8, u16, u32) flattens to one i32.
            out.push(FlatType::I32);
            out.extend(variant_payload_types(&cases, ptr));
        }
    }
}

/// The joined core types of a variant's payload slots: slot `i` holds the
/// join of the `i`-th flat type of every case that has one
/// (`flatten_variant` without the discriminant).
pub fn variant_payload_types(cases: &[Option<&InterfaceType>], ptr: PtrType) -> Vec<FlatType> {
    let mut joined: Vec<FlatType> = Vec::new();
    for case in cases.iter().flatten() {
        for (i, t) in flatten_type(case, ptr).into_iter().enumerate() {
            match joined.get_mut(i) {
                Some(slot) => *slot = slot.join(t),
                None => joined.push(t),
            }
        }
    }
    joined
}

/// How many core values `ty` flattens to, without building the list.
/// Inlined: every call meets it, mostly for scalar types.
#[inline]
pub fn flat_count(ty: &InterfaceType) -> usize {
    match ty {
        InterfaceType::String | InterfaceType::List(_) => 2,
        InterfaceType::Record(fields) => fields.iter().map(|(_, t)| flat_count(t)).sum(),
        InterfaceType::Tuple(types) => types.iter().map(flat_count).sum(),
        InterfaceType::Variant(_)
        | InterfaceType::Enum(_)
        | InterfaceType::Option(_)
        | InterfaceType::Result { .. } => {
            let cases = ty.variant_cases().unwrap_or_default();
            1 + cases
                .iter()
                .flatten()
                .map(|t| flat_count(t))
                .max()
                .unwrap_or(0)
        }
        _ => 1,
    }
}

/// How many core values a sequence of types flattens to.
pub(crate) fn flat_count_all<'a>(types: impl IntoIterator<Item = &'a InterfaceType>) -> usize {
    types.into_iter().map(flat_count).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::interface::ResourceTypeId;
    use FlatType::{F32, F64, I32, I64};
    use InterfaceType as T;

    fn check(t: T, expect: &[FlatType]) {
        assert_eq!(flatten_type(&t, PtrType::I32), expect, "{t}");
        assert_eq!(flat_count(&t), expect.len(), "{t}");
    }

    fn var(cases: &[Option<T>]) -> T {
        T::Variant(
            cases
                .iter()
                .enumerate()
                .map(|(i, t)| (format!("c{i}"), t.clone()))
                .collect(),
        )
    }

    #[test]
    fn joins() {
        assert_eq!(I32.join(I32), I32);
        assert_eq!(I32.join(F32), I32);
        assert_eq!(F32.join(I32), I32);
        assert_eq!(F32.join(F32), F32);
        assert_eq!(I32.join(I64), I64);
        assert_eq!(F32.join(F64), I64);
        assert_eq!(F64.join(F64), F64);
        assert_eq!(I32.join(F64), I64);
        assert_eq!(I64.join(F32), I64);
    }

    #[test]
    fn primitives() {
        for t in [
            T::Bool,
            T::S8,
            T::U8,
            T::S16,
            T::U16,
            T::S32,
            T::U32,
            T::Char,
        ] {
            check(t, &[I32]);
        }
        check(T::S64, &[I64]);
        check(T::U64, &[I64]);
        check(T::F32, &[F32]);
        check(T::F64, &[F64]);
        check(T::String, &[I32, I32]);
        check(T::List(Box::new(T::String)), &[I32, I32]);
        check(T::Flags(vec!["a".into(); 32]), &[I32]);
        check(T::Own(ResourceTypeId::from_u32(1)), &[I32]);
        check(T::Borrow(ResourceTypeId::from_u32(1)), &[I32]);
    }

    #[test]
    fn aggregates() {
        check(
            T::Record(vec![
                ("a".into(), T::U8),
                ("b".into(), T::String),
                ("c".into(), T::F64),
            ]),
            &[I32, I32, I32, F64],
        );
        check(T::Tuple(vec![T::U64, T::F32]), &[I64, F32]);
        check(T::Enum(vec!["a".into(), "b".into()]), &[I32]);
        check(T::Option(Box::new(T::F32)), &[I32, F32]);
        check(
            T::Result {
                ok: None,
                err: None,
            },
            &[I32],
        );
        check(
            T::Result {
                ok: Some(Box::new(T::F32)),
                err: Some(Box::new(T::U32)),
            },
            &[I32, I32],
        );
        check(
            T::Result {
                ok: Some(Box::new(T::F64)),
                err: Some(Box::new(T::F32)),
            },
            &[I32, I64],
        );
        // variant { a(u8), b(tuple<f32, f64>), c(string), d } → disc, join(i32, f32, i32)=i32,
        // join(f64, i32)=i64.
        check(
            var(&[
                Some(T::U8),
                Some(T::Tuple(vec![T::F32, T::F64])),
                Some(T::String),
                None,
            ]),
            &[I32, I32, I64],
        );
        // Nested: option<variant { a(f32), b(u64) }> → disc, disc, join(f32, u64)=i64.
        check(
            T::Option(Box::new(var(&[Some(T::F32), Some(T::U64)]))),
            &[I32, I32, I64],
        );
        // variant { a(f32), b(f32) } keeps f32.
        check(var(&[Some(T::F32), Some(T::F32)]), &[I32, F32]);
    }

    fn params(n: usize, t: T) -> Vec<(String, T)> {
        (0..n).map(|i| (format!("p{i}"), t.clone())).collect()
    }

    #[test]
    fn functypes() {
        let ft = FuncType {
            params: params(16, T::U32),
            result: Some(T::U32),
            is_async: false,
        };
        for cx in [FlatContext::Lift, FlatContext::Lower] {
            let sig = flatten_functype(&ft, cx, PtrType::I32);
            assert_eq!(sig.params, vec![I32; 16]);
            assert_eq!(sig.results, [I32]);
        }
        // 17 flat params spill to one pointer.
        let ft = FuncType {
            params: params(17, T::U32),
            result: None,
            is_async: false,
        };
        let sig = flatten_functype(&ft, FlatContext::Lift, PtrType::I32);
        assert_eq!((sig.params, sig.results), (vec![I32], vec![]));
        // 8 strings = 16 flat values: no spill.
        let ft = FuncType {
            params: params(8, T::String),
            result: Some(T::String),
            is_async: false,
        };
        let sig = flatten_functype(&ft, FlatContext::Lift, PtrType::I32);
        assert_eq!((sig.params.len(), sig.results), (16, vec![I32]));
        let sig = flatten_functype(&ft, FlatContext::Lower, PtrType::I32);
        assert_eq!((sig.params.len(), sig.results), (17, vec![]));
        // Both spill when lowered: the argument pointer and the return pointer.
        let ft = FuncType {
            params: params(9, T::String),
            result: Some(T::Tuple(vec![T::U8, T::U8])),
            is_async: false,
        };
        let sig = flatten_functype(&ft, FlatContext::Lower, PtrType::I32);
        assert_eq!((sig.params, sig.results), (vec![I32, I32], vec![]));
        let sig = flatten_functype(&ft, FlatContext::Lift, PtrType::I32);
        assert_eq!((sig.params, sig.results), (vec![I32], vec![I32]));
    }

    /// A 64-bit memory's pointers and lengths are `i64`, also the spilled
    /// argument and return pointers; other values flatten as before.
    #[test]
    fn pointers_of_64_bit_memories() {
        let ptr = PtrType::I64;
        assert_eq!(flatten_type(&T::String, ptr), [I64, I64]);
        assert_eq!(
            flatten_type(&T::Option(Box::new(T::List(Box::new(T::U8)))), ptr),
            [I32, I64, I64]
        );
        // variant { a(f32), b(string) } → disc, join(f32, i64)=i64, i64.
        assert_eq!(
            flatten_type(&var(&[Some(T::F32), Some(T::String)]), ptr),
            [I32, I64, I64]
        );
        let ft = FuncType {
            params: params(9, T::String),
            result: Some(T::String),
            is_async: false,
        };
        let sig = flatten_functype(&ft, FlatContext::Lower, ptr);
        assert_eq!((sig.params, sig.results), (vec![I64, I64], vec![]));
        let sig = flatten_functype(&ft, FlatContext::Lift, ptr);
        assert_eq!((sig.params, sig.results), (vec![I64], vec![I64]));
        let ft = FuncType {
            params: params(2, T::U32),
            result: Some(T::U32),
            is_async: false,
        };
        let sig = flatten_functype(&ft, FlatContext::Lift, ptr);
        assert_eq!((sig.params, sig.results), (vec![I32, I32], vec![I32]));
    }
}
