//! Script values: null references of arguments, matching results against
//! expected patterns, and printing both for failure messages.

use cmc_runtime::{Store, Val};
use wast::WastRet;
use wast::core::{AbstractHeapType, HeapType, NanPattern, V128Pattern, WastRetCore};
use wast::token::{F32, F64};

/// The null reference of heap type `heap`, for the types cmc supports.
pub(crate) fn null_of(heap: &HeapType<'_>) -> Option<Val> {
    match heap {
        HeapType::Abstract {
            shared: false,
            ty: AbstractHeapType::Func,
        } => Some(Val::FuncRef(None)),
        HeapType::Abstract {
            shared: false,
            ty: AbstractHeapType::Extern,
        } => Some(Val::ExternRef(None)),
        _ => None,
    }
}

/// Whether `actual` matches the expected result `want`. Patterns cmc cannot
/// produce (GC references) never match.
pub(crate) fn matches_ret(store: &Store<()>, want: &WastRet<'_>, actual: &Val) -> bool {
    match want {
        WastRet::Core(core) => matches_core(store, core, actual),
        _ => false,
    }
}

fn matches_core(store: &Store<()>, want: &WastRetCore<'_>, actual: &Val) -> bool {
    match (want, actual) {
        (WastRetCore::I32(w), Val::I32(a)) => w == a,
        (WastRetCore::I64(w), Val::I64(a)) => w == a,
        (WastRetCore::F32(w), Val::F32(a)) => matches_f32(w, *a),
        (WastRetCore::F64(w), Val::F64(a)) => matches_f64(w, *a),
        (WastRetCore::V128(w), Val::V128(a)) => matches_v128(w, *a),
        (WastRetCore::RefNull(None), Val::FuncRef(None) | Val::ExternRef(None)) => true,
        (WastRetCore::RefNull(Some(heap)), _) => null_of(heap).as_ref() == Some(actual),
        (WastRetCore::RefExtern(None), Val::ExternRef(Some(_))) => true,
        (WastRetCore::RefExtern(Some(n)), Val::ExternRef(Some(r))) => r
            .data(store)
            .is_ok_and(|payload| payload.downcast_ref::<u32>() == Some(n)),
        // Which function a `ref.func N` names cannot be told from outside
        // the module, so only the unindexed form is supported.
        (WastRetCore::RefFunc(None), Val::FuncRef(Some(_))) => true,
        (WastRetCore::Either(options), _) => options.iter().any(|w| matches_core(store, w, actual)),
        _ => false,
    }
}

fn matches_f32(want: &NanPattern<F32>, bits: u32) -> bool {
    match want {
        NanPattern::Value(w) => w.bits == bits,
        NanPattern::CanonicalNan => (bits & 0x7fff_ffff) == 0x7fc0_0000,
        NanPattern::ArithmeticNan => (bits & 0x7fc0_0000) == 0x7fc0_0000,
    }
}

fn matches_f64(want: &NanPattern<F64>, bits: u64) -> bool {
    match want {
        NanPattern::Value(w) => w.bits == bits,
        NanPattern::CanonicalNan => (bits & 0x7fff_ffff_ffff_ffff) == 0x7ff8_0000_0000_0000,
        NanPattern::ArithmeticNan => (bits & 0x7ff8_0000_0000_0000) == 0x7ff8_0000_0000_0000,
    }
}

/// Whether the lanes of `bits` (little-endian) match `want`, lane by lane.
fn matches_v128(want: &V128Pattern, bits: u128) -> bool {
    let bytes = bits.to_le_bytes();
    let lane = |i: usize, n: usize| {
        let mut b = [0u8; 8];
        b[..n].copy_from_slice(&bytes[i * n..(i + 1) * n]);
        u64::from_le_bytes(b)
    };
    match want {
        V128Pattern::I8x16(w) => (0..16).all(|i| lane(i, 1) as u8 == w[i] as u8),
        V128Pattern::I16x8(w) => (0..8).all(|i| lane(i, 2) as u16 == w[i] as u16),
        V128Pattern::I32x4(w) => (0..4).all(|i| lane(i, 4) as u32 == w[i] as u32),
        V128Pattern::I64x2(w) => (0..2).all(|i| lane(i, 8) == w[i] as u64),
        V128Pattern::F32x4(w) => (0..4).all(|i| matches_f32(&w[i], lane(i, 4) as u32)),
        V128Pattern::F64x2(w) => (0..2).all(|i| matches_f64(&w[i], lane(i, 8))),
    }
}

/// Expected results, as the script writes them.
pub(crate) fn describe_rets(rets: &[WastRet<'_>]) -> String {
    list(rets.iter().map(|r| match r {
        WastRet::Core(core) => describe_core(core),
        WastRet::Component(val) => crate::component::describe_expected(val),
        other => format!("{other:?}"),
    }))
}

fn describe_core(ret: &WastRetCore<'_>) -> String {
    match ret {
        WastRetCore::I32(v) => format!("(i32.const {v})"),
        WastRetCore::I64(v) => format!("(i64.const {v})"),
        WastRetCore::F32(p) => format!(
            "(f32.const {})",
            describe_nan(p, |v: &F32| f32_text(v.bits))
        ),
        WastRetCore::F64(p) => format!(
            "(f64.const {})",
            describe_nan(p, |v: &F64| f64_text(v.bits))
        ),
        WastRetCore::RefNull(_) => "(ref.null)".into(),
        WastRetCore::RefExtern(Some(n)) => format!("(ref.extern {n})"),
        WastRetCore::RefExtern(None) => "(ref.extern)".into(),
        WastRetCore::RefFunc(None) => "(ref.func)".into(),
        WastRetCore::Either(options) => format!(
            "(either {})",
            options
                .iter()
                .map(describe_core)
                .collect::<Vec<_>>()
                .join(" ")
        ),
        other => format!("{other:?}"),
    }
}

fn describe_nan<T>(pattern: &NanPattern<T>, value: impl Fn(&T) -> String) -> String {
    match pattern {
        NanPattern::CanonicalNan => "nan:canonical".into(),
        NanPattern::ArithmeticNan => "nan:arithmetic".into(),
        NanPattern::Value(v) => value(v),
    }
}

/// Actual results, in script syntax.
pub(crate) fn describe_vals(store: &Store<()>, vals: &[Val]) -> String {
    list(vals.iter().map(|v| match v {
        Val::I32(v) => format!("(i32.const {v})"),
        Val::I64(v) => format!("(i64.const {v})"),
        Val::F32(bits) => format!("(f32.const {})", f32_text(*bits)),
        Val::F64(bits) => format!("(f64.const {})", f64_text(*bits)),
        Val::V128(bits) => format!(
            "(v128.const i64x2 {} {})",
            *bits as u64,
            (*bits >> 64) as u64
        ),
        Val::FuncRef(None) | Val::ExternRef(None) => "(ref.null)".into(),
        Val::FuncRef(Some(_)) => "(ref.func)".into(),
        Val::ExternRef(Some(r)) => match r.data(store).ok().and_then(|p| p.downcast_ref::<u32>()) {
            Some(n) => format!("(ref.extern {n})"),
            None => "(ref.extern)".into(),
        },
    }))
}

/// A float's value and its bits, so that NaN payloads and signed zeros show.
pub(crate) fn f32_text(bits: u32) -> String {
    format!("{:?} (0x{bits:08x})", f32::from_bits(bits))
}

pub(crate) fn f64_text(bits: u64) -> String {
    format!("{:?} (0x{bits:016x})", f64::from_bits(bits))
}

pub(crate) fn list(items: impl Iterator<Item = String>) -> String {
    let items: Vec<String> = items.collect();
    if items.is_empty() {
        "no values".into()
    } else {
        items.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> Store<()> {
        Store::new(&cmc_compiler::engine(cmc_runtime::Config::default()), ())
    }

    #[test]
    fn nan_patterns() {
        let s = store();
        let canonical = WastRet::Core(WastRetCore::F32(NanPattern::CanonicalNan));
        let arithmetic = WastRet::Core(WastRetCore::F32(NanPattern::ArithmeticNan));
        assert!(matches_ret(&s, &canonical, &Val::F32(0x7fc0_0000)));
        assert!(matches_ret(&s, &canonical, &Val::F32(0xffc0_0000)));
        assert!(!matches_ret(&s, &canonical, &Val::F32(0x7fc0_0001)));
        assert!(matches_ret(&s, &arithmetic, &Val::F32(0x7fc0_0001)));
        assert!(!matches_ret(&s, &arithmetic, &Val::F32(0x7f80_0001)));
        assert!(!matches_ret(&s, &arithmetic, &Val::F32(0x3f80_0000)));
        let canonical = WastRet::Core(WastRetCore::F64(NanPattern::CanonicalNan));
        assert!(matches_ret(
            &s,
            &canonical,
            &Val::F64(0xfff8_0000_0000_0000)
        ));
        assert!(!matches_ret(
            &s,
            &canonical,
            &Val::F64(0x7ff8_0000_0000_0001)
        ));
    }

    #[test]
    fn references() {
        let mut s = store();
        let r = cmc_runtime::ExternRef::new(&mut s, 7u32);
        let want = |n| WastRet::Core(WastRetCore::RefExtern(n));
        assert!(matches_ret(&s, &want(Some(7)), &Val::ExternRef(Some(r))));
        assert!(!matches_ret(&s, &want(Some(8)), &Val::ExternRef(Some(r))));
        assert!(!matches_ret(&s, &want(None), &Val::ExternRef(None)));
        let null = WastRet::Core(WastRetCore::RefNull(None));
        assert!(matches_ret(&s, &null, &Val::FuncRef(None)));
        assert!(!matches_ret(&s, &null, &Val::ExternRef(Some(r))));
    }
}
