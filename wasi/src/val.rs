//! Reading and building the component values of WASI's interfaces.
//!
//! The runtime has type-checked every argument against the function's
//! import type before the host sees it, so a value of the wrong shape here
//! is a bug of the host; it is reported as an error, never a panic.

use crate::table::Rep;
use cmc_runtime::Error;
use cmc_runtime::component::{ResourceVal, Val};

fn shape(what: &str, v: &Val) -> Error {
    Error::host(format!("WASI host: expected {what}, got {}", v.kind()))
}

/// The arguments of one host call, read in order.
pub(crate) struct Args<'a> {
    vals: std::slice::Iter<'a, Val>,
}

impl<'a> Args<'a> {
    pub(crate) fn new(vals: &'a [Val]) -> Args<'a> {
        Args { vals: vals.iter() }
    }

    /// The next argument.
    pub(crate) fn next(&mut self) -> Result<&'a Val, Error> {
        self.vals
            .next()
            .ok_or_else(|| Error::host("WASI host: too few arguments"))
    }

    /// A handle (`own` or `borrow`): its representation.
    pub(crate) fn rep(&mut self) -> Result<Rep, Error> {
        rep(self.next()?)
    }

    pub(crate) fn bool(&mut self) -> Result<bool, Error> {
        match self.next()? {
            Val::Bool(b) => Ok(*b),
            v => Err(shape("bool", v)),
        }
    }

    pub(crate) fn u8(&mut self) -> Result<u8, Error> {
        match self.next()? {
            Val::U8(n) => Ok(*n),
            v => Err(shape("u8", v)),
        }
    }

    pub(crate) fn u32(&mut self) -> Result<u32, Error> {
        u32(self.next()?)
    }

    pub(crate) fn u64(&mut self) -> Result<u64, Error> {
        u64(self.next()?)
    }

    pub(crate) fn string(&mut self) -> Result<&'a str, Error> {
        string(self.next()?)
    }

    /// A `list<u8>` (lifted as [`Val::Bytes`]).
    pub(crate) fn bytes(&mut self) -> Result<&'a [u8], Error> {
        byte_list(self.next()?)
    }

    pub(crate) fn list(&mut self) -> Result<&'a [Val], Error> {
        list(self.next()?)
    }

    /// A `flags` value: the labels that are set.
    pub(crate) fn flags(&mut self) -> Result<&'a [String], Error> {
        match self.next()? {
            Val::Flags(set) => Ok(set),
            v => Err(shape("flags", v)),
        }
    }

    /// An `enum` value: its case label.
    pub(crate) fn enum_case(&mut self) -> Result<&'a str, Error> {
        enum_case(self.next()?)
    }
}

/// A handle's representation.
pub(crate) fn rep(v: &Val) -> Result<Rep, Error> {
    match v {
        Val::Resource(r) => Ok(Rep(r.handle)),
        v => Err(shape("a handle", v)),
    }
}

pub(crate) fn u32(v: &Val) -> Result<u32, Error> {
    match v {
        Val::U32(n) => Ok(*n),
        v => Err(shape("u32", v)),
    }
}

pub(crate) fn u64(v: &Val) -> Result<u64, Error> {
    match v {
        Val::U64(n) => Ok(*n),
        v => Err(shape("u64", v)),
    }
}

pub(crate) fn string(v: &Val) -> Result<&str, Error> {
    match v {
        Val::String(s) => Ok(s),
        v => Err(shape("string", v)),
    }
}

/// A `list<u8>` (lifted as [`Val::Bytes`]).
pub(crate) fn byte_list(v: &Val) -> Result<&[u8], Error> {
    match v {
        Val::Bytes(bytes) => Ok(bytes),
        v => Err(shape("a list<u8>", v)),
    }
}

pub(crate) fn list(v: &Val) -> Result<&[Val], Error> {
    match v {
        Val::List(items) => Ok(items),
        v => Err(shape("list", v)),
    }
}

pub(crate) fn enum_case(v: &Val) -> Result<&str, Error> {
    match v {
        Val::Enum(case) => Ok(case),
        v => Err(shape("enum", v)),
    }
}

/// A `variant` value: its case label and payload.
pub(crate) fn variant(v: &Val) -> Result<(&str, Option<&Val>), Error> {
    match v {
        Val::Variant(case, payload) => Ok((case, payload.as_deref())),
        v => Err(shape("variant", v)),
    }
}

/// An `option` value.
pub(crate) fn option(v: &Val) -> Result<Option<&Val>, Error> {
    match v {
        Val::Option(o) => Ok(o.as_deref()),
        v => Err(shape("option", v)),
    }
}

/// Field `name` of a `record` value.
pub(crate) fn field<'v>(v: &'v Val, name: &str) -> Result<&'v Val, Error> {
    match v {
        Val::Record(fields) => fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
            .ok_or_else(|| Error::host(format!("WASI host: record has no field `{name}`"))),
        v => Err(shape("record", v)),
    }
}

/// The elements of a `tuple` value.
pub(crate) fn tuple(v: &Val) -> Result<&[Val], Error> {
    match v {
        Val::Tuple(items) => Ok(items),
        v => Err(shape("tuple", v)),
    }
}

/// `ok(v)`.
pub(crate) fn ok(v: Val) -> Val {
    Val::Result(Ok(Some(Box::new(v))))
}

/// `ok` of a `result<_, E>`.
pub(crate) fn ok_unit() -> Val {
    Val::Result(Ok(None))
}

/// `err(v)`.
pub(crate) fn err(v: Val) -> Val {
    Val::Result(Err(Some(Box::new(v))))
}

/// `some(v)`.
pub(crate) fn some(v: Val) -> Val {
    Val::Option(Some(Box::new(v)))
}

/// `none`.
pub(crate) fn none() -> Val {
    Val::Option(None)
}

/// A `list<u8>`.
pub(crate) fn bytes(data: Vec<u8>) -> Val {
    Val::Bytes(data)
}

/// A `string`.
pub(crate) fn string_val(s: impl Into<String>) -> Val {
    Val::String(s.into())
}

/// A `record` with these fields, in the type's order.
pub(crate) fn record<const N: usize>(fields: [(&str, Val); N]) -> Val {
    Val::Record(fields.into_iter().map(|(n, v)| (n.to_owned(), v)).collect())
}

/// A `variant` case.
pub(crate) fn variant_val(case: &str, payload: Option<Val>) -> Val {
    Val::Variant(case.to_owned(), payload.map(Box::new))
}

/// An `enum` case.
pub(crate) fn enum_val(case: &str) -> Val {
    Val::Enum(case.to_owned())
}

/// A `flags` value with these labels set.
pub(crate) fn flags_val<'s>(set: impl IntoIterator<Item = &'s str>) -> Val {
    Val::Flags(set.into_iter().map(str::to_owned).collect())
}

/// An owning handle of a host resource.
pub(crate) fn own(rep: Rep) -> Val {
    Val::Resource(ResourceVal::host(rep.0))
}
