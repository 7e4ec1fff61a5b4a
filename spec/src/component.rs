//! Component values in scripts: arguments and expected results written with
//! the `wast` crate's component value syntax (`(u32.const 1)`,
//! `(str.const "x")`, `(record.const (field "a" …))`, …), turned into
//! component [`Val`]s, compared with what a call returned, and printed back
//! in the same syntax for failure messages.
//!
//! Plus `register` for component instances: their exported functions become
//! host functions of the script's component linker that call into the
//! registered instance, so later components can import them by name.

use cmc_runtime::abi::ExportItem;
use cmc_runtime::component::{Instance, LinkerInstance, Val};
use cmc_runtime::{Caller, Error};
use wast::component::WastVal;
use wast::core::{NanPattern, WastArgCore, WastRetCore};
use wast::{WastArg, WastRet};

/// The component value a script argument stands for. `f32.const` and
/// `f64.const` parse as core arguments (the two syntaxes share them), so
/// those are accepted as component floats.
pub(crate) fn arg(arg: &WastArg<'_>) -> Result<Val, String> {
    match arg {
        WastArg::Component(val) => val_of(val),
        WastArg::Core(WastArgCore::F32(v)) => Ok(Val::F32(f32::from_bits(v.bits))),
        WastArg::Core(WastArgCore::F64(v)) => Ok(Val::F64(f64::from_bits(v.bits))),
        other => Err(format!("{other:?} is not a component value")),
    }
}

/// Converts a script value. Types are checked when the value is passed,
/// by the runtime, against the function's parameter types.
fn val_of(val: &WastVal<'_>) -> Result<Val, String> {
    let boxed = |v: &Option<Box<WastVal<'_>>>| -> Result<Option<Box<Val>>, String> {
        v.as_deref().map(|v| val_of(v).map(Box::new)).transpose()
    };
    let all = |vals: &[WastVal<'_>]| vals.iter().map(val_of).collect::<Result<Vec<_>, _>>();
    Ok(match val {
        WastVal::Bool(v) => Val::Bool(*v),
        WastVal::U8(v) => Val::U8(*v),
        WastVal::S8(v) => Val::S8(*v),
        WastVal::U16(v) => Val::U16(*v),
        WastVal::S16(v) => Val::S16(*v),
        WastVal::U32(v) => Val::U32(*v),
        WastVal::S32(v) => Val::S32(*v),
        WastVal::U64(v) => Val::U64(*v),
        WastVal::S64(v) => Val::S64(*v),
        WastVal::F32(v) => Val::F32(f32::from_bits(v.bits)),
        WastVal::F64(v) => Val::F64(f64::from_bits(v.bits)),
        WastVal::Char(v) => Val::Char(*v),
        WastVal::String(v) => Val::String((*v).to_owned()),
        WastVal::List(vals) => Val::List(all(vals)?),
        WastVal::Record(fields) => Val::Record(
            fields
                .iter()
                .map(|(name, v)| Ok(((*name).to_owned(), val_of(v)?)))
                .collect::<Result<_, String>>()?,
        ),
        WastVal::Tuple(vals) => Val::Tuple(all(vals)?),
        WastVal::Variant(case, payload) => Val::Variant((*case).to_owned(), boxed(payload)?),
        WastVal::Enum(case) => Val::Enum((*case).to_owned()),
        WastVal::Option(payload) => Val::Option(boxed(payload)?),
        WastVal::Result(Ok(payload)) => Val::Result(Ok(boxed(payload)?)),
        WastVal::Result(Err(payload)) => Val::Result(Err(boxed(payload)?)),
        WastVal::Flags(names) => Val::Flags(names.iter().map(|n| (*n).to_owned()).collect()),
        WastVal::Map(_) => return Err("`map` values are not supported by cmc".into()),
    })
}

/// Whether `actual` is the expected result `want`.
pub(crate) fn matches_ret(want: &WastRet<'_>, actual: &Val) -> bool {
    match (want, actual) {
        (WastRet::Component(want), _) => val_of(want).is_ok_and(|want| same(&want, actual)),
        (WastRet::Core(WastRetCore::F32(pattern)), Val::F32(v)) => match pattern {
            NanPattern::Value(w) => same(&Val::F32(f32::from_bits(w.bits)), actual),
            NanPattern::CanonicalNan | NanPattern::ArithmeticNan => v.is_nan(),
        },
        (WastRet::Core(WastRetCore::F64(pattern)), Val::F64(v)) => match pattern {
            NanPattern::Value(w) => same(&Val::F64(f64::from_bits(w.bits)), actual),
            NanPattern::CanonicalNan | NanPattern::ArithmeticNan => v.is_nan(),
        },
        _ => false,
    }
}

/// Value equality as the component model sees it: there is one NaN per
/// float type (lifting canonicalizes it), zeros keep their sign, and flags
/// are a set.
fn same(a: &Val, b: &Val) -> bool {
    let all = |a: &[Val], b: &[Val]| a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same(a, b));
    let payload = |a: &Option<Box<Val>>, b: &Option<Box<Val>>| match (a, b) {
        (Some(a), Some(b)) => same(a, b),
        (None, None) => true,
        _ => false,
    };
    match (a, b) {
        (Val::F32(a), Val::F32(b)) => a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
        (Val::F64(a), Val::F64(b)) => a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
        (Val::List(a), Val::List(b)) | (Val::Tuple(a), Val::Tuple(b)) => all(a, b),
        (Val::Record(a), Val::Record(b)) => {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|((na, a), (nb, b))| na == nb && same(a, b))
        }
        (Val::Variant(ca, a), Val::Variant(cb, b)) => ca == cb && payload(a, b),
        (Val::Option(a), Val::Option(b)) => payload(a, b),
        (Val::Result(Ok(a)), Val::Result(Ok(b))) | (Val::Result(Err(a)), Val::Result(Err(b))) => {
            payload(a, b)
        }
        (Val::Flags(a), Val::Flags(b)) => {
            let (mut a, mut b) = (a.clone(), b.clone());
            a.sort();
            b.sort();
            a == b
        }
        _ => a == b,
    }
}

/// An expected component value, in script syntax.
pub(crate) fn describe_expected(val: &WastVal<'_>) -> String {
    match val_of(val) {
        Ok(val) => describe(&val),
        Err(_) => format!("{val:?}"),
    }
}

/// Actual results, in script syntax.
pub(crate) fn describe_vals(vals: &[Val]) -> String {
    crate::values::list(vals.iter().map(describe))
}

fn describe(val: &Val) -> String {
    let all = |vals: &[Val]| {
        vals.iter()
            .map(|v| format!(" {}", describe(v)))
            .collect::<String>()
    };
    let payload = |p: &Option<Box<Val>>| {
        p.as_deref()
            .map_or(String::new(), |v| format!(" {}", describe(v)))
    };
    match val {
        Val::Bool(v) => format!("(bool.const {v})"),
        Val::S8(v) => format!("(s8.const {v})"),
        Val::U8(v) => format!("(u8.const {v})"),
        Val::S16(v) => format!("(s16.const {v})"),
        Val::U16(v) => format!("(u16.const {v})"),
        Val::S32(v) => format!("(s32.const {v})"),
        Val::U32(v) => format!("(u32.const {v})"),
        Val::S64(v) => format!("(s64.const {v})"),
        Val::U64(v) => format!("(u64.const {v})"),
        Val::F32(v) => format!("(f32.const {})", crate::values::f32_text(v.to_bits())),
        Val::F64(v) => format!("(f64.const {})", crate::values::f64_text(v.to_bits())),
        Val::Char(v) => format!("(char.const {:?})", v.to_string()),
        Val::String(v) => format!("(str.const {v:?})"),
        Val::List(vals) => format!("(list.const{})", all(vals)),
        Val::Bytes(bytes) => {
            let vals: Vec<Val> = bytes.iter().map(|&b| Val::U8(b)).collect();
            format!("(list.const{})", all(&vals))
        }
        Val::Tuple(vals) => format!("(tuple.const{})", all(vals)),
        Val::Record(fields) => format!(
            "(record.const{})",
            fields
                .iter()
                .map(|(name, v)| format!(" (field {name:?} {})", describe(v)))
                .collect::<String>()
        ),
        Val::Variant(case, p) => format!("(variant.const {case:?}{})", payload(p)),
        Val::Enum(case) => format!("(enum.const {case:?})"),
        Val::Option(None) => "(option.none)".into(),
        Val::Option(Some(v)) => format!("(option.some {})", describe(v)),
        Val::Result(Ok(p)) => format!("(result.ok{})", payload(p)),
        Val::Result(Err(p)) => format!("(result.err{})", payload(p)),
        Val::Flags(names) => format!(
            "(flags.const{})",
            names.iter().map(|n| format!(" {n:?}")).collect::<String>()
        ),
        Val::Resource(r) => format!(
            "({} handle {})",
            if r.own { "own" } else { "borrow" },
            r.handle
        ),
        Val::Stream(v) => format!("(stream {})", v.id()),
        Val::Future(v) => format!("(future {})", v.id()),
        Val::ErrorContext(v) => format!("(error-context {})", v.id()),
    }
}

/// Defines every function `instance` exports (`items`, its export tree) in
/// `into`, each as a host function that calls the export.
pub(crate) fn register(
    into: &mut LinkerInstance<'_, ()>,
    items: &[(String, ExportItem)],
    instance: Instance,
    prefix: &[String],
) {
    for (name, item) in items {
        let mut path = prefix.to_vec();
        path.push(name.clone());
        match item {
            ExportItem::Func(_) => {
                into.func_new(name, move |mut caller: Caller<'_, ()>, params, results| {
                    let names: Vec<&str> = path.iter().map(String::as_str).collect();
                    let func = instance.get_func(&caller, &names).ok_or_else(|| {
                        Error::Link(format!("registered export `{}` is gone", names.join("#")))
                    })?;
                    func.call(&mut caller, params, results)
                });
            }
            ExportItem::Instance(inner) => {
                register(&mut into.instance(name), inner, instance, &path)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equality_follows_the_component_model() {
        assert!(same(&Val::F32(f32::NAN), &Val::F32(-f32::NAN)));
        assert!(!same(&Val::F64(0.0), &Val::F64(-0.0)));
        assert!(same(
            &Val::Flags(vec!["a".into(), "b".into()]),
            &Val::Flags(vec!["b".into(), "a".into()])
        ));
        assert!(!same(
            &Val::Option(Some(Box::new(Val::U8(1)))),
            &Val::Option(None)
        ));
        assert!(!same(&Val::U8(1), &Val::U16(1)));
    }

    #[test]
    fn values_print_in_script_syntax() {
        let val = Val::Record(vec![
            ("a".into(), Val::List(vec![Val::U8(1), Val::U8(2)])),
            ("b".into(), Val::Result(Err(None))),
        ]);
        assert_eq!(
            describe(&val),
            r#"(record.const (field "a" (list.const (u8.const 1) (u8.const 2))) (field "b" (result.err)))"#
        );
    }
}
