//! Dynamic component values: the abstract values that `lift` produces and
//! `lower` consumes in `CanonicalABI.md` ("Lifting and Lowering Values"), in
//! the shape a Rust host handles them, plus the type check that a host value
//! has a given [`InterfaceType`].

use super::error::CanonError;
use super::types::{InterfaceType, ResourceTypeId};

/// A resource handle on the host side of a call.
///
/// What `handle` identifies is up to the context that lifted it and will
/// lower it again (see [`LiftContext`](super::LiftContext)). The embedding
/// API's context uses the resource's representation: the host keeps no
/// handle table of its own, so an owning handle lifted out of a component
/// is the representation the host now owns, and a host makes a handle of a
/// host-defined resource from the representation it chose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ResourceVal {
    /// The resource type.
    pub ty: ResourceTypeId,
    /// Whether this is an owning handle (else a borrow).
    pub own: bool,
    /// The context's identifier for the resource.
    pub handle: u32,
}

impl ResourceVal {
    /// An owning handle of a host-defined resource with representation
    /// `rep`, to return from a host function: its type is the one the
    /// function's result type has in that place
    /// ([`ResourceTypeId::HOST`]).
    pub fn host(rep: u32) -> ResourceVal {
        ResourceVal {
            ty: ResourceTypeId::HOST,
            own: true,
            handle: rep,
        }
    }
}

/// A stream's readable end, a future's readable end or an error context
/// on the host side of a call: the context's identifier for the object
/// the two sides share (the store keeps streams, futures and error
/// contexts; component instances hold handles to them). Only the runtime
/// makes one, naming its store and component instance, so a host can pass
/// it on but not forge one or hand it to another instance.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SharedVal {
    /// The store's identifier.
    pub(crate) store: u64,
    /// The store's component instance that keeps the object.
    pub(crate) instance: usize,
    /// The object's number there.
    pub(crate) id: u32,
}

impl SharedVal {
    /// Object `id` of the store's component instance `instance` of store
    /// `store`.
    pub(crate) fn new(store: u64, instance: usize, id: u32) -> SharedVal {
        SharedVal {
            store,
            instance,
            id,
        }
    }

    /// Its number among its instance's streams and futures (or error
    /// contexts), as printed.
    pub fn id(&self) -> u32 {
        self.id
    }
}

impl std::fmt::Debug for SharedVal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.id)
    }
}

/// A component value.
///
/// Records and variants carry their labels so that values can be checked
/// against their types and printed; lowering uses the type's order.
///
/// A `list<u8>` is lifted as [`Val::Bytes`], one byte per byte instead of
/// one `Val` per byte (streams and files move such lists by the megabyte);
/// a host may give either form where a `list<u8>` is expected, and the two
/// forms of one list are equal.
#[derive(Clone, Debug)]
pub enum Val {
    /// `bool`.
    Bool(bool),
    /// `s8`.
    S8(i8),
    /// `u8`.
    U8(u8),
    /// `s16`.
    S16(i16),
    /// `u16`.
    U16(u16),
    /// `s32`.
    S32(i32),
    /// `u32`.
    U32(u32),
    /// `s64`.
    S64(i64),
    /// `u64`.
    U64(u64),
    /// `f32`. Lifting gives NaNs the canonical bit pattern.
    F32(f32),
    /// `f64`. Lifting gives NaNs the canonical bit pattern.
    F64(f64),
    /// `char`.
    Char(char),
    /// `string`.
    String(String),
    /// `list<T>`.
    List(Vec<Val>),
    /// `list<u8>`, as bytes.
    Bytes(Vec<u8>),
    /// `record`: fields with their labels, in the type's order.
    Record(Vec<(String, Val)>),
    /// `tuple`.
    Tuple(Vec<Val>),
    /// `variant`: the case label and its payload.
    Variant(String, Option<Box<Val>>),
    /// `enum`: the case label.
    Enum(String),
    /// `option`.
    Option(Option<Box<Val>>),
    /// `result`, each side with its optional payload.
    Result(Result<Option<Box<Val>>, Option<Box<Val>>>),
    /// `flags`: the labels that are set, in any order.
    Flags(Vec<String>),
    /// `own` or `borrow`.
    Resource(ResourceVal),
    /// `stream<T>`: the readable end.
    Stream(SharedVal),
    /// `future<T>`: the readable end.
    Future(SharedVal),
    /// `error-context`.
    ErrorContext(SharedVal),
}

impl PartialEq for Val {
    fn eq(&self, other: &Val) -> bool {
        use Val as V;
        let bytes_eq = |bytes: &[u8], items: &[Val]| {
            bytes.len() == items.len() && bytes.iter().zip(items).all(|(b, v)| *v == Val::U8(*b))
        };
        match (self, other) {
            (V::Bool(a), V::Bool(b)) => a == b,
            (V::S8(a), V::S8(b)) => a == b,
            (V::U8(a), V::U8(b)) => a == b,
            (V::S16(a), V::S16(b)) => a == b,
            (V::U16(a), V::U16(b)) => a == b,
            (V::S32(a), V::S32(b)) => a == b,
            (V::U32(a), V::U32(b)) => a == b,
            (V::S64(a), V::S64(b)) => a == b,
            (V::U64(a), V::U64(b)) => a == b,
            (V::F32(a), V::F32(b)) => a == b,
            (V::F64(a), V::F64(b)) => a == b,
            (V::Char(a), V::Char(b)) => a == b,
            (V::String(a), V::String(b)) => a == b,
            (V::List(a), V::List(b)) | (V::Tuple(a), V::Tuple(b)) => a == b,
            (V::Bytes(a), V::Bytes(b)) => a == b,
            (V::Bytes(a), V::List(b)) | (V::List(b), V::Bytes(a)) => bytes_eq(a, b),
            (V::Record(a), V::Record(b)) => a == b,
            (V::Variant(ca, a), V::Variant(cb, b)) => ca == cb && a == b,
            (V::Enum(a), V::Enum(b)) => a == b,
            (V::Option(a), V::Option(b)) => a == b,
            (V::Result(a), V::Result(b)) => a == b,
            (V::Flags(a), V::Flags(b)) => a == b,
            (V::Resource(a), V::Resource(b)) => a == b,
            (V::Stream(a), V::Stream(b))
            | (V::Future(a), V::Future(b))
            | (V::ErrorContext(a), V::ErrorContext(b)) => a == b,
            _ => false,
        }
    }
}

impl Val {
    /// A short name of the value's kind, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Val::Bool(_) => "bool",
            Val::S8(_) => "s8",
            Val::U8(_) => "u8",
            Val::S16(_) => "s16",
            Val::U16(_) => "u16",
            Val::S32(_) => "s32",
            Val::U32(_) => "u32",
            Val::S64(_) => "s64",
            Val::U64(_) => "u64",
            Val::F32(_) => "f32",
            Val::F64(_) => "f64",
            Val::Char(_) => "char",
            Val::String(_) => "string",
            Val::List(_) | Val::Bytes(_) => "list",
            Val::Record(_) => "record",
            Val::Tuple(_) => "tuple",
            Val::Variant(..) => "variant",
            Val::Enum(_) => "enum",
            Val::Option(_) => "option",
            Val::Result(_) => "result",
            Val::Flags(_) => "flags",
            Val::Resource(r) if r.own => "own handle",
            Val::Resource(_) => "borrow handle",
            Val::Stream(_) => "stream",
            Val::Future(_) => "future",
            Val::ErrorContext(_) => "error-context",
        }
    }

    /// Checks that this value has type `ty`.
    ///
    /// The error names the path to the first mismatch inside the value
    /// (`value.field[3].some`) and what was expected there. An owning handle
    /// passes for a `borrow` of its type, as a host may lend what it owns.
    pub fn matches(&self, ty: &InterfaceType) -> Result<(), CanonError> {
        self.matches_at(ty, "value")
    }

    /// [`Val::matches`] with the root of the path named `root`.
    pub fn matches_at(&self, ty: &InterfaceType, root: &str) -> Result<(), CanonError> {
        self.check(ty, &Path::Root(root))
    }

    fn check(&self, ty: &InterfaceType, path: &Path<'_>) -> Result<(), CanonError> {
        use InterfaceType as T;
        let ok = match (self, ty) {
            (Val::Bool(_), T::Bool)
            | (Val::S8(_), T::S8)
            | (Val::U8(_), T::U8)
            | (Val::S16(_), T::S16)
            | (Val::U16(_), T::U16)
            | (Val::S32(_), T::S32)
            | (Val::U32(_), T::U32)
            | (Val::S64(_), T::S64)
            | (Val::U64(_), T::U64)
            | (Val::F32(_), T::F32)
            | (Val::F64(_), T::F64)
            | (Val::Char(_), T::Char)
            | (Val::String(_), T::String) => true,
            (Val::List(items), T::List(elem)) => {
                for (i, item) in items.iter().enumerate() {
                    item.check(elem, &Path::Index(path, i))?;
                }
                true
            }
            (Val::Bytes(_), T::List(elem)) => **elem == T::U8,
            (Val::Record(fields), T::Record(types)) => {
                if fields.len() != types.len() {
                    return Err(mismatch(
                        path,
                        ty,
                        format!("record with {} fields", fields.len()),
                    ));
                }
                for ((name, v), (want, t)) in fields.iter().zip(types) {
                    if name != want {
                        return Err(mismatch(path, ty, format!("record with field `{name}`")));
                    }
                    v.check(t, &Path::Field(path, name))?;
                }
                true
            }
            (Val::Tuple(items), T::Tuple(types)) => {
                if items.len() != types.len() {
                    return Err(mismatch(path, ty, format!("tuple of {}", items.len())));
                }
                for (i, (v, t)) in items.iter().zip(types).enumerate() {
                    v.check(t, &Path::Position(path, i))?;
                }
                true
            }
            (Val::Variant(label, payload), T::Variant(cases)) => {
                let Some((_, case_ty)) = cases.iter().find(|(l, _)| l == label) else {
                    return Err(mismatch(path, ty, format!("variant case `{label}`")));
                };
                check_payload(path, ty, label, payload.as_deref(), case_ty.as_ref())?;
                true
            }
            (Val::Enum(label), T::Enum(labels)) => {
                if !labels.contains(label) {
                    return Err(mismatch(path, ty, format!("enum case `{label}`")));
                }
                true
            }
            (Val::Option(v), T::Option(t)) => {
                if let Some(v) = v {
                    v.check(t, &Path::Field(path, "some"))?;
                }
                true
            }
            (Val::Result(r), T::Result { ok, err }) => {
                match r {
                    Ok(v) => check_payload(path, ty, "ok", v.as_deref(), ok.as_deref())?,
                    Err(v) => check_payload(path, ty, "error", v.as_deref(), err.as_deref())?,
                }
                true
            }
            (Val::Flags(set), T::Flags(labels)) => {
                if labels.len() > 32 {
                    return Err(CanonError::TooManyFlags(labels.len()));
                }
                for (i, flag) in set.iter().enumerate() {
                    if !labels.contains(flag) {
                        return Err(mismatch(path, ty, format!("flag `{flag}`")));
                    }
                    if set[..i].contains(flag) {
                        return Err(mismatch(path, ty, format!("flag `{flag}` twice")));
                    }
                }
                true
            }
            (Val::Resource(r), T::Own(want)) => {
                r.own && (r.ty == *want || r.ty == ResourceTypeId::HOST)
            }
            (Val::Resource(r), T::Borrow(want)) => r.ty == *want || r.ty == ResourceTypeId::HOST,
            (Val::Stream(_), T::Stream(_))
            | (Val::Future(_), T::Future(_))
            | (Val::ErrorContext(_), T::ErrorContext) => true,
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(mismatch(path, ty, self.describe()))
        }
    }

    fn describe(&self) -> String {
        match self {
            Val::Resource(r) => format!("{} of {}", self.kind(), r.ty),
            _ => self.kind().to_string(),
        }
    }
}

/// Where a check is inside the value being checked: a chain of segments on
/// the stack, spelled out (`value.field[3].some`) only for an error.
#[derive(Clone, Copy)]
enum Path<'a> {
    Root(&'a str),
    /// `[i]`: a list element.
    Index(&'a Path<'a>, usize),
    /// `.i`: a tuple element.
    Position(&'a Path<'a>, usize),
    /// `.name`: a record field, or a case's payload.
    Field(&'a Path<'a>, &'a str),
}

impl std::fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Path::Root(root) => f.write_str(root),
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
            Path::Position(parent, i) => write!(f, "{parent}.{i}"),
            Path::Field(parent, name) => write!(f, "{parent}.{name}"),
        }
    }
}

fn check_payload(
    path: &Path<'_>,
    ty: &InterfaceType,
    label: &str,
    payload: Option<&Val>,
    case_ty: Option<&InterfaceType>,
) -> Result<(), CanonError> {
    match (payload, case_ty) {
        (None, None) => Ok(()),
        (Some(v), Some(t)) => v.check(t, &Path::Field(path, label)),
        (Some(_), None) => Err(mismatch(path, ty, format!("case `{label}` with a payload"))),
        (None, Some(_)) => Err(mismatch(
            path,
            ty,
            format!("case `{label}` without a payload"),
        )),
    }
}

pub(crate) fn mismatch(
    path: impl std::fmt::Display,
    ty: &InterfaceType,
    found: String,
) -> CanonError {
    CanonError::TypeMismatch {
        path: path.to_string(),
        expected: ty.to_string(),
        found,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use InterfaceType as T;

    fn err(v: &Val, t: &T) -> String {
        v.matches(t).unwrap_err().to_string()
    }

    #[test]
    fn matching_values() {
        let t = T::Record(vec![
            ("a".into(), T::List(Box::new(T::Option(Box::new(T::U8))))),
            (
                "b".into(),
                T::Result {
                    ok: None,
                    err: Some(Box::new(T::String)),
                },
            ),
            ("c".into(), T::Flags(vec!["x".into(), "y".into()])),
            ("d".into(), T::Borrow(ResourceTypeId::from_u32(2))),
        ]);
        let v = Val::Record(vec![
            (
                "a".into(),
                Val::List(vec![
                    Val::Option(None),
                    Val::Option(Some(Box::new(Val::U8(1)))),
                ]),
            ),
            (
                "b".into(),
                Val::Result(Err(Some(Box::new(Val::String("e".into()))))),
            ),
            ("c".into(), Val::Flags(vec!["y".into()])),
            (
                "d".into(),
                Val::Resource(ResourceVal {
                    ty: ResourceTypeId::from_u32(2),
                    own: true,
                    handle: 9,
                }),
            ),
        ]);
        v.matches(&t).unwrap();

        let mut bad = v.clone();
        if let Val::Record(fields) = &mut bad {
            fields[0].1 = Val::List(vec![Val::Option(Some(Box::new(Val::U16(1))))]);
        }
        assert_eq!(
            err(&bad, &t),
            "type mismatch at `value.a[0].some`: expected u8, found u16"
        );
    }

    #[test]
    fn mismatch_messages() {
        let v = Val::Variant("b".into(), None);
        let t = T::Variant(vec![("a".into(), None), ("b".into(), Some(T::U32))]);
        assert_eq!(
            err(&v, &t),
            "type mismatch at `value`: expected variant { a, b(u32) }, found case `b` without a payload"
        );
        assert!(err(&Val::Enum("z".into()), &T::Enum(vec!["a".into()])).contains("enum case `z`"));
        assert!(
            err(
                &Val::Flags(vec!["a".into(), "a".into()]),
                &T::Flags(vec!["a".into()])
            )
            .contains("twice")
        );
        assert!(err(&Val::Flags(vec!["q".into()]), &T::Flags(vec!["a".into()])).contains("`q`"));
        let borrow = Val::Resource(ResourceVal {
            ty: ResourceTypeId::from_u32(1),
            own: false,
            handle: 1,
        });
        assert_eq!(
            err(&borrow, &T::Own(ResourceTypeId::from_u32(1))),
            "type mismatch at `value`: expected own<resource 1>, found borrow handle of resource 1"
        );
        assert!(
            borrow
                .matches(&T::Own(ResourceTypeId::from_u32(2)))
                .is_err()
        );
        assert!(
            err(&Val::Tuple(vec![Val::U8(1)]), &T::Tuple(vec![T::U8, T::U8]))
                .contains("tuple of 1")
        );
        assert!(
            err(
                &Val::Record(vec![("b".into(), Val::U8(1))]),
                &T::Record(vec![("a".into(), T::U8)])
            )
            .contains("field `b`")
        );
        assert_eq!(
            Val::Result(Ok(None))
                .matches_at(
                    &T::Result {
                        ok: None,
                        err: None
                    },
                    "result"
                )
                .map_err(|e| e.to_string()),
            Ok(())
        );
        assert_eq!(
            err(&Val::S8(1), &T::U8),
            "type mismatch at `value`: expected u8, found s8"
        );
    }
}
