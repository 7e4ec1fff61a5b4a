//! The component value type model: the `valtype`s of `CanonicalABI.md`
//! ("Type definitions" and "Despecialization" of `definitions.py`) that the
//! synchronous canonical ABI lifts and lowers, function types, string
//! encodings, and the four core value types values flatten to.
//!
//! These types are stored in compiled artifacts (hence serde) and are already
//! validated by `wasmparser` when the compiler writes them. Type names and
//! resource types are resolved: `own`/`borrow` name a resource type by its
//! index in the component's resource table ([`ResourceTypeId`]).

pub use super::ResourceTypeId;
use super::ValType;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A component value type (`valtype`), with type names resolved.
///
/// The specialized types (tuple, enum, option, result) are kept as such,
/// because host values and error messages distinguish them; the layout and
/// flattening code treats them exactly as their despecialized record or
/// variant, as the spec does.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InterfaceType {
    /// `bool`.
    Bool,
    /// `s8`.
    S8,
    /// `u8`.
    U8,
    /// `s16`.
    S16,
    /// `u16`.
    U16,
    /// `s32`.
    S32,
    /// `u32`.
    U32,
    /// `s64`.
    S64,
    /// `u64`.
    U64,
    /// `f32`.
    F32,
    /// `f64`.
    F64,
    /// `char`: a Unicode scalar value.
    Char,
    /// `string`.
    String,
    /// `list<T>`.
    List(Box<InterfaceType>),
    /// `record { label: T, … }`, fields in declaration order.
    Record(Vec<(String, InterfaceType)>),
    /// `tuple<T, …>`: a record with fields named `0`, `1`, ….
    Tuple(Vec<InterfaceType>),
    /// `variant { label(T), label, … }`, cases in declaration order.
    Variant(Vec<(String, Option<InterfaceType>)>),
    /// `enum { label, … }`: a variant without payloads.
    Enum(Vec<String>),
    /// `option<T>`: `variant { none, some(T) }`.
    Option(Box<InterfaceType>),
    /// `result<T, E>`: `variant { ok(T), error(E) }`, either payload optional.
    Result {
        /// The `ok` payload.
        ok: Option<Box<InterfaceType>>,
        /// The `error` payload.
        err: Option<Box<InterfaceType>>,
    },
    /// `flags { label, … }`: at most 32 labels, bit `i` is label `i`.
    Flags(Vec<String>),
    /// `own<R>`: an owning handle.
    Own(ResourceTypeId),
    /// `borrow<R>`: a handle lent for the duration of a call.
    Borrow(ResourceTypeId),
    /// `stream<T>`: the readable end of a stream of `T`s, or of values
    /// without payload (`stream`) when `None`.
    Stream(Option<Box<InterfaceType>>),
    /// `future<T>`: the readable end of a future of one `T`, or of a
    /// value without payload (`future`) when `None`.
    Future(Option<Box<InterfaceType>>),
    /// `error-context`: a handle to an error's debug message.
    ErrorContext,
}

/// The case types of an enum of up to 256 cases: all `None`.
static NO_PAYLOADS: [Option<&InterfaceType>; 256] = [None; 256];

/// The payload types of a variant-like type's cases
/// ([`InterfaceType::variant_cases`]), read as a slice.
#[derive(Clone, Debug)]
pub enum VariantCases<'a> {
    /// Up to four cases, held in place.
    Inline {
        /// The cases; only the first `len` count.
        cases: [Option<&'a InterfaceType>; 4],
        /// How many cases there are.
        len: usize,
    },
    /// The cases of an enum: no payloads.
    NoPayloads(&'static [Option<&'static InterfaceType>]),
    /// More cases.
    Heap(Vec<Option<&'a InterfaceType>>),
}

impl<'a> VariantCases<'a> {
    fn collect(cases: impl IntoIterator<Item = Option<&'a InterfaceType>>) -> VariantCases<'a> {
        let mut inline = [None; 4];
        let mut len = 0;
        let mut cases = cases.into_iter();
        for case in cases.by_ref() {
            if len == inline.len() {
                let mut heap = inline.to_vec();
                heap.push(case);
                heap.extend(cases);
                return VariantCases::Heap(heap);
            }
            inline[len] = case;
            len += 1;
        }
        VariantCases::Inline { cases: inline, len }
    }
}

impl Default for VariantCases<'_> {
    fn default() -> Self {
        VariantCases::Inline {
            cases: [None; 4],
            len: 0,
        }
    }
}

impl<'a> std::ops::Deref for VariantCases<'a> {
    type Target = [Option<&'a InterfaceType>];

    fn deref(&self) -> &Self::Target {
        match self {
            VariantCases::Inline { cases, len } => &cases[..*len],
            VariantCases::NoPayloads(cases) => cases,
            VariantCases::Heap(cases) => cases,
        }
    }
}

impl InterfaceType {
    /// The payload types of the variant this type despecializes to, one per
    /// case in case order, or `None` if it is not variant-like.
    ///
    /// Layout and flattening of enums, options and results are defined
    /// through this view, exactly as `despecialize` does in the spec. The
    /// common shapes (options, results, small variants, enums) need no
    /// allocation: host calls walk these types on every call.
    pub fn variant_cases(&self) -> Option<VariantCases<'_>> {
        Some(match self {
            InterfaceType::Variant(cases) => {
                VariantCases::collect(cases.iter().map(|(_, t)| t.as_ref()))
            }
            InterfaceType::Enum(labels) if labels.len() <= NO_PAYLOADS.len() => {
                VariantCases::NoPayloads(&NO_PAYLOADS[..labels.len()])
            }
            InterfaceType::Enum(labels) => VariantCases::Heap(vec![None; labels.len()]),
            InterfaceType::Option(t) => VariantCases::collect([None, Some(&**t)]),
            InterfaceType::Result { ok, err } => {
                VariantCases::collect([ok.as_deref(), err.as_deref()])
            }
            _ => return None,
        })
    }

    /// Whether a value of this type holds a stream, a future or an
    /// error context: the runtime's adapter moves them between handle
    /// tables, fused adapters do not.
    pub fn contains_async_value(&self) -> bool {
        self.contains(&|t| {
            matches!(
                t,
                InterfaceType::Stream(_) | InterfaceType::Future(_) | InterfaceType::ErrorContext
            )
        })
    }

    /// Whether a value of this type can hold a `borrow` handle.
    pub fn contains_borrow(&self) -> bool {
        self.contains(&|t| matches!(t, InterfaceType::Borrow(_)))
    }

    /// Whether this type, or a type inside it, is one `matches` picks.
    pub fn contains(&self, matches: &impl Fn(&InterfaceType) -> bool) -> bool {
        let inner = |t: &InterfaceType| t.contains(matches);
        matches(self)
            || match self {
                InterfaceType::List(t) | InterfaceType::Option(t) => inner(t),
                InterfaceType::Stream(t) | InterfaceType::Future(t) => {
                    t.as_deref().is_some_and(inner)
                }
                InterfaceType::Record(fields) => fields.iter().any(|(_, t)| inner(t)),
                InterfaceType::Tuple(types) => types.iter().any(inner),
                InterfaceType::Variant(cases) => {
                    cases.iter().any(|(_, t)| t.as_ref().is_some_and(inner))
                }
                InterfaceType::Result { ok, err } => [ok, err]
                    .into_iter()
                    .any(|t| t.as_deref().is_some_and(inner)),
                _ => false,
            }
    }

    /// The field types of the record this type despecializes to, in order,
    /// or `None` if it is not record-like.
    pub fn record_fields(&self) -> Option<Vec<&InterfaceType>> {
        Some(match self {
            InterfaceType::Record(fields) => fields.iter().map(|(_, t)| t).collect(),
            InterfaceType::Tuple(types) => types.iter().collect(),
            _ => return None,
        })
    }

    /// Checks the constraints validation puts on a type: records, tuples,
    /// variants and enums are not empty, and flags have 1 to 32 labels.
    ///
    /// Types in artifacts were validated by the compiler; this is for types
    /// built by hand. The layout functions give an answer for every type, but
    /// it is only meaningful for valid ones.
    pub fn validate(&self) -> Result<(), String> {
        let empty = |what: &str| Err(format!("{what} with no {}", self.part_name()));
        match self {
            InterfaceType::Record(fields) if fields.is_empty() => empty("record"),
            InterfaceType::Tuple(types) if types.is_empty() => empty("tuple"),
            InterfaceType::Variant(cases) if cases.is_empty() => empty("variant"),
            InterfaceType::Enum(labels) if labels.is_empty() => empty("enum"),
            InterfaceType::Flags(labels) if labels.is_empty() => empty("flags"),
            InterfaceType::Flags(labels) if labels.len() > 32 => Err(format!(
                "flags with {} labels: at most 32 are allowed",
                labels.len()
            )),
            InterfaceType::List(t) | InterfaceType::Option(t) => t.validate(),
            InterfaceType::Stream(t) | InterfaceType::Future(t) => {
                t.as_deref().map_or(Ok(()), InterfaceType::validate)
            }
            InterfaceType::Record(fields) => fields.iter().try_for_each(|(_, t)| t.validate()),
            InterfaceType::Tuple(types) => types.iter().try_for_each(InterfaceType::validate),
            InterfaceType::Variant(cases) => cases
                .iter()
                .filter_map(|(_, t)| t.as_ref())
                .try_for_each(InterfaceType::validate),
            InterfaceType::Result { ok, err } => {
                ok.iter().chain(err.iter()).try_for_each(|t| t.validate())
            }
            _ => Ok(()),
        }
    }

    fn part_name(&self) -> &'static str {
        match self {
            InterfaceType::Record(_) => "fields",
            InterfaceType::Tuple(_) => "types",
            InterfaceType::Variant(_) => "cases",
            _ => "labels",
        }
    }
}

/// Writes the type in WIT syntax, for error messages.
impl fmt::Display for InterfaceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn list<T>(
            f: &mut fmt::Formatter<'_>,
            items: &[T],
            each: impl Fn(&mut fmt::Formatter<'_>, &T) -> fmt::Result,
        ) -> fmt::Result {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                each(f, item)?;
            }
            Ok(())
        }
        match self {
            InterfaceType::Bool => f.write_str("bool"),
            InterfaceType::S8 => f.write_str("s8"),
            InterfaceType::U8 => f.write_str("u8"),
            InterfaceType::S16 => f.write_str("s16"),
            InterfaceType::U16 => f.write_str("u16"),
            InterfaceType::S32 => f.write_str("s32"),
            InterfaceType::U32 => f.write_str("u32"),
            InterfaceType::S64 => f.write_str("s64"),
            InterfaceType::U64 => f.write_str("u64"),
            InterfaceType::F32 => f.write_str("f32"),
            InterfaceType::F64 => f.write_str("f64"),
            InterfaceType::Char => f.write_str("char"),
            InterfaceType::String => f.write_str("string"),
            InterfaceType::List(t) => write!(f, "list<{t}>"),
            InterfaceType::Record(fields) => {
                f.write_str("record { ")?;
                list(f, fields, |f, (name, t)| write!(f, "{name}: {t}"))?;
                f.write_str(" }")
            }
            InterfaceType::Tuple(types) => {
                f.write_str("tuple<")?;
                list(f, types, |f, t| write!(f, "{t}"))?;
                f.write_str(">")
            }
            InterfaceType::Variant(cases) => {
                f.write_str("variant { ")?;
                list(f, cases, |f, (name, t)| match t {
                    Some(t) => write!(f, "{name}({t})"),
                    None => f.write_str(name),
                })?;
                f.write_str(" }")
            }
            InterfaceType::Enum(labels) => {
                f.write_str("enum { ")?;
                list(f, labels, |f, l| f.write_str(l))?;
                f.write_str(" }")
            }
            InterfaceType::Option(t) => write!(f, "option<{t}>"),
            InterfaceType::Result { ok, err } => match (ok, err) {
                (None, None) => f.write_str("result"),
                (Some(ok), None) => write!(f, "result<{ok}>"),
                (None, Some(err)) => write!(f, "result<_, {err}>"),
                (Some(ok), Some(err)) => write!(f, "result<{ok}, {err}>"),
            },
            InterfaceType::Flags(labels) => {
                f.write_str("flags { ")?;
                list(f, labels, |f, l| f.write_str(l))?;
                f.write_str(" }")
            }
            InterfaceType::Own(r) => write!(f, "own<{r}>"),
            InterfaceType::Borrow(r) => write!(f, "borrow<{r}>"),
            InterfaceType::Stream(None) => f.write_str("stream"),
            InterfaceType::Stream(Some(t)) => write!(f, "stream<{t}>"),
            InterfaceType::Future(None) => f.write_str("future"),
            InterfaceType::Future(Some(t)) => write!(f, "future<{t}>"),
            InterfaceType::ErrorContext => f.write_str("error-context"),
        }
    }
}

/// A component function type: named parameters and at most one result.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FuncType {
    /// Parameters in order, with their names.
    pub params: Vec<(String, InterfaceType)>,
    /// The result, if any.
    pub result: Option<InterfaceType>,
    /// An `async` function type: its callers may go on while it runs
    /// (`Concurrency.md`).
    pub is_async: bool,
}

impl FuncType {
    /// The parameter types in order (`param_types()` of the spec).
    pub fn param_types(&self) -> impl ExactSizeIterator<Item = &InterfaceType> + Clone {
        self.params.iter().map(|(_, t)| t)
    }

    /// The result types: none or one (`result_type()` of the spec).
    pub fn result_types(&self) -> &[InterfaceType] {
        self.result.as_slice()
    }
}

/// The `string-encoding` canonical option: how strings sit in linear memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StringEncoding {
    /// UTF-8; the length counts bytes. The default.
    #[default]
    Utf8,
    /// UTF-16 little-endian; the length counts 16-bit code units.
    Utf16,
    /// `latin1+utf16`: Latin-1 when every character fits in a byte, else
    /// UTF-16 with the pointer type's [`utf16_tag`](PtrType::utf16_tag)
    /// set in the length.
    Latin1Utf16,
}

/// The address type of the `memory` canonical option (`ptr_type` of the
/// spec): strings and lists are an `i32` pointer and length in a 32-bit
/// memory and an `i64` pair in a 64-bit one, and `realloc` takes and returns
/// the same type. Options without a memory count as 32-bit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PtrType {
    /// A 32-bit memory. The default.
    #[default]
    I32,
    /// A 64-bit memory (the `memory64` proposal).
    I64,
}

impl PtrType {
    /// Bytes of a pointer (`ptr_size`): 4 or 8.
    pub fn size(self) -> u32 {
        match self {
            PtrType::I32 => 4,
            PtrType::I64 => 8,
        }
    }

    /// The core type pointers flatten to.
    pub fn flat(self) -> FlatType {
        match self {
            PtrType::I32 => FlatType::I32,
            PtrType::I64 => FlatType::I64,
        }
    }

    /// The bit set in a latin1+utf16 string's length when its code units
    /// are UTF-16 (`utf16_tag`): the pointer's top bit.
    pub fn utf16_tag(self) -> u64 {
        1 << (self.size() * 8 - 1)
    }

    /// The largest value a pointer or length of this type holds.
    pub fn max(self) -> u64 {
        match self {
            PtrType::I32 => u64::from(u32::MAX),
            PtrType::I64 => u64::MAX,
        }
    }
}

/// A core wasm value type that component values flatten to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FlatType {
    /// `i32`.
    I32,
    /// `i64`.
    I64,
    /// `f32`.
    F32,
    /// `f64`.
    F64,
}

impl FlatType {
    /// The smallest type both `self` and `other` fit in, for variant payloads
    /// that share a flat slot (`join` of the spec): equal types stay, `i32`
    /// and `f32` share an `i32`, everything else an `i64`.
    pub fn join(self, other: FlatType) -> FlatType {
        match (self, other) {
            (a, b) if a == b => a,
            (FlatType::I32, FlatType::F32) | (FlatType::F32, FlatType::I32) => FlatType::I32,
            _ => FlatType::I64,
        }
    }
}

impl From<FlatType> for ValType {
    fn from(t: FlatType) -> ValType {
        match t {
            FlatType::I32 => ValType::I32,
            FlatType::I64 => ValType::I64,
            FlatType::F32 => ValType::F32,
            FlatType::F64 => ValType::F64,
        }
    }
}

/// WIT's spelling: `func(a: u32, b: string) -> string`.
impl fmt::Display for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_async {
            "async func("
        } else {
            "func("
        })?;
        for (i, (name, ty)) in self.params.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{name}: {ty}")?;
        }
        f.write_str(")")?;
        match &self.result {
            Some(ty) => write!(f, " -> {ty}"),
            None => Ok(()),
        }
    }
}

impl fmt::Display for FlatType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FlatType::I32 => "i32",
            FlatType::I64 => "i64",
            FlatType::F32 => "f32",
            FlatType::F64 => "f64",
        })
    }
}

#[cfg(test)]
mod variant_case_tests {
    use super::{InterfaceType as T, VariantCases};

    #[test]
    fn every_shape_reads_as_its_cases() {
        let u8_ = T::U8;
        let opt = T::Option(Box::new(T::U8));
        assert!(matches!(
            opt.variant_cases(),
            Some(VariantCases::Inline { len: 2, .. })
        ));
        assert_eq!(*opt.variant_cases().unwrap(), [None, Some(&u8_)]);
        let res = T::Result {
            ok: None,
            err: Some(Box::new(T::U8)),
        };
        assert_eq!(*res.variant_cases().unwrap(), [None, Some(&u8_)]);
        let wide = T::Variant(
            (0..5)
                .map(|i| (format!("c{i}"), (i == 4).then_some(T::U8)))
                .collect(),
        );
        let cases = wide.variant_cases().unwrap();
        assert!(matches!(cases, VariantCases::Heap(_)));
        assert_eq!(*cases, [None, None, None, None, Some(&u8_)]);
        for n in [3, 256, 300] {
            let e = T::Enum((0..n).map(|i| format!("e{i}")).collect());
            let cases = e.variant_cases().unwrap();
            assert_eq!(cases.len(), n);
            assert!(cases.iter().all(Option::is_none));
        }
        assert!(T::U32.variant_cases().is_none());
    }
}
