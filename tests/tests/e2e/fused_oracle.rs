//! The fused adapters against the runtime's canonical-ABI code, on random
//! signatures and random values: each call runs once through the adapter
//! compiled with the component, and once in a store that intercepts calls,
//! where the runtime's adapter (`canon::lift`/`lower`, which share no code
//! with the generated adapters) carries it. Both must give the same result
//! or the same trap.
//!
//! A caller component forwards raw bits (any bits: invalid discriminants
//! and `char`s, garbage in unused variant slots, NaNs, non-canonical
//! `bool`s) as the flat arguments of a call into a callee, which hashes the
//! flat values it receives; and a callee returns raw bits as a result,
//! which the caller hands to the host. Signatures are flat on both sides
//! (what the fused adapters translate in compiled code); many functions
//! share one component, so the compile cost is paid per batch.

use super::engine;
use cmc_runtime::component::{
    Call, Component, FlatType, Interceptor, InterfaceType as T, Linker, PtrType, Val, flatten_type,
};
use cmc_runtime::{Error, Store};
use std::fmt::Write;

/// xorshift64*: deterministic, so a failure names its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Bits for a flat value: often small (valid discriminants, chars,
    /// bools), sometimes anything.
    fn bits(&mut self) -> u64 {
        match self.below(4) {
            0 => self.below(3),
            1 => self.below(0x11_0000),
            2 => self.next() as u32 as u64,
            _ => self.next(),
        }
    }
}

const PRIMS: [T; 12] = [
    T::Bool,
    T::S8,
    T::U8,
    T::S16,
    T::U16,
    T::S32,
    T::U32,
    T::S64,
    T::U64,
    T::F32,
    T::F64,
    T::Char,
];

/// A random anonymous type (no names needed) of nesting `depth` at most.
fn anonymous(rng: &mut Rng, depth: u32) -> T {
    if depth == 0 || rng.below(3) == 0 {
        return PRIMS[rng.below(PRIMS.len() as u64) as usize].clone();
    }
    match rng.below(4) {
        0 => T::Option(Box::new(anonymous(rng, depth - 1))),
        1 => {
            let ok = (rng.below(3) != 0).then(|| Box::new(anonymous(rng, depth - 1)));
            let err = (rng.below(3) != 0).then(|| Box::new(anonymous(rng, depth - 1)));
            T::Result { ok, err }
        }
        _ => T::Tuple(
            (0..1 + rng.below(3))
                .map(|_| anonymous(rng, depth - 1))
                .collect(),
        ),
    }
}

/// A random parameter type: anonymous, or a named record, variant, enum
/// or flags of anonymous parts.
fn param_type(rng: &mut Rng) -> T {
    let labels = |rng: &mut Rng, n: u64| (0..1 + rng.below(n)).map(|i| format!("l{i}")).collect();
    match rng.below(8) {
        0 => T::Record(
            (0..1 + rng.below(3))
                .map(|i| (format!("f{i}"), anonymous(rng, 1)))
                .collect(),
        ),
        1 => T::Variant(
            (0..1 + rng.below(4))
                .map(|i| {
                    (
                        format!("c{i}"),
                        (rng.below(3) != 0).then(|| anonymous(rng, 1)),
                    )
                })
                .collect(),
        ),
        2 => T::Enum(labels(rng, 5)),
        3 => T::Flags(labels(rng, 32)),
        _ => anonymous(rng, 2),
    }
}

/// WAT for an anonymous type.
fn wat(ty: &T) -> String {
    match ty {
        T::Option(t) => format!("(option {})", wat(t)),
        T::Result { ok, err } => {
            let ok = ok.as_ref().map(|t| wat(t)).unwrap_or_default();
            let err = err.as_ref().map(|t| format!("(error {})", wat(t)));
            format!("(result {ok} {})", err.unwrap_or_default())
        }
        T::Tuple(ts) => format!(
            "(tuple {})",
            ts.iter().map(wat).collect::<Vec<_>>().join(" ")
        ),
        t => t.to_string(),
    }
}

/// WAT for a named type's definition, or `None` for an anonymous one.
fn named_definition(ty: &T) -> Option<String> {
    let quoted = |ls: &[String]| {
        ls.iter()
            .map(|l| format!("\"{l}\""))
            .collect::<Vec<_>>()
            .join(" ")
    };
    Some(match ty {
        T::Record(fields) => format!(
            "(record {})",
            fields
                .iter()
                .map(|(n, t)| format!("(field \"{n}\" {})", wat(t)))
                .collect::<String>()
        ),
        T::Variant(cases) => format!(
            "(variant {})",
            cases
                .iter()
                .map(|(n, t)| match t {
                    Some(t) => format!("(case \"{n}\" {})", wat(t)),
                    None => format!("(case \"{n}\")"),
                })
                .collect::<String>()
        ),
        T::Enum(labels) => format!("(enum {})", quoted(labels)),
        T::Flags(labels) => format!("(flags {})", quoted(labels)),
        _ => return None,
    })
}

fn core(t: FlatType) -> &'static str {
    match t {
        FlatType::I32 => "i32",
        FlatType::I64 => "i64",
        FlatType::F32 => "f32",
        FlatType::F64 => "f64",
    }
}

/// Instructions turning an `i64` on the stack into a `t` with its bits.
fn from_i64(t: FlatType) -> &'static str {
    match t {
        FlatType::I32 => "(i32.wrap_i64)",
        FlatType::I64 => "",
        FlatType::F32 => "(i32.wrap_i64) (f32.reinterpret_i32)",
        FlatType::F64 => "(f64.reinterpret_i64)",
    }
}

/// Instructions turning a `t` on the stack into an `i64` of its bits.
fn to_i64(t: FlatType) -> &'static str {
    match t {
        FlatType::I32 => "(i64.extend_i32_u)",
        FlatType::I64 => "",
        FlatType::F32 => "(i32.reinterpret_f32) (i64.extend_i32_u)",
        FlatType::F64 => "(i64.reinterpret_f64)",
    }
}

/// One call: `f(params) -> u64` hashing its flat arguments, and
/// `g(bits: u64) -> result` returning raw bits.
struct Signature {
    params: Vec<T>,
    result: T,
}

impl Signature {
    fn flat_params(&self) -> Vec<FlatType> {
        self.params
            .iter()
            .flat_map(|t| flatten_type(t, PtrType::I32))
            .collect()
    }

    fn flat_result(&self) -> FlatType {
        flatten_type(&self.result, PtrType::I32)[0]
    }
}

/// A signature whose parameters flatten to at most 16 core values and whose
/// result to one.
fn signature(rng: &mut Rng) -> Signature {
    loop {
        let params: Vec<T> = (0..1 + rng.below(4)).map(|_| param_type(rng)).collect();
        let result = loop {
            let t = match rng.below(3) {
                0 => T::Enum((0..1 + rng.below(4)).map(|i| format!("e{i}")).collect()),
                1 => T::Flags((0..1 + rng.below(32)).map(|i| format!("g{i}")).collect()),
                _ => PRIMS[rng.below(PRIMS.len() as u64) as usize].clone(),
            };
            if flatten_type(&t, PtrType::I32).len() == 1 {
                break t;
            }
        };
        let sig = Signature { params, result };
        if sig.flat_params().len() <= 16 {
            return sig;
        }
    }
}

/// The named types of signature `i`, defined as `$n{i}_{j}` (`j` a
/// parameter, or `r` for the result) and exported or imported by name.
fn type_defs(i: usize, sig: &Signature, import: bool) -> (String, Vec<String>, String) {
    let mut defs = String::new();
    let mut type_of = |name: String, t: &T| match named_definition(t) {
        Some(def) => {
            if import {
                write!(
                    defs,
                    "(type ${name}' {def}) (import \"{name}\" (type ${name} (eq ${name}'))) "
                )
                .unwrap();
            } else {
                write!(
                    defs,
                    "(type ${name}' {def}) (export ${name} \"{name}\" (type ${name}')) "
                )
                .unwrap();
            }
            format!("${name}")
        }
        None => wat(t),
    };
    let params = sig
        .params
        .iter()
        .enumerate()
        .map(|(j, t)| type_of(format!("n{i}-p{j}"), t))
        .collect();
    let result = type_of(format!("n{i}-r"), &sig.result);
    (defs, params, result)
}

/// The component for a batch of signatures: `$callee` hashes and returns
/// bits, `$caller` forwards the host's bits to it, and exports `f{i}` and
/// `g{i}` of the root stand for the caller's.
fn component(sigs: &[Signature]) -> String {
    let mut callee_types = String::new();
    let mut callee_core = String::new();
    let mut callee_funcs = String::new();
    let mut caller_types = String::new();
    let mut caller_core_imports = String::new();
    let mut caller_core = String::new();
    let mut caller_lowers = String::new();
    let mut caller_funcs = String::new();
    let mut with = String::new();
    let mut core_with = String::new();
    for (i, sig) in sigs.iter().enumerate() {
        let flat = sig.flat_params();
        let params: String = flat.iter().map(|t| format!("{} ", core(*t))).collect();
        let hash: String = flat
            .iter()
            .enumerate()
            .map(|(k, t)| {
                format!(
                    "(local.set $h (i64.add (i64.mul (local.get $h) (i64.const 1000003)) (local.get {k}) {}))",
                    to_i64(*t)
                )
            })
            .collect();
        let r = sig.flat_result();
        write!(
            callee_core,
            r#"(func (export "f{i}") (param {params}) (result i64) (local $h i64) {hash} (local.get $h))
               (func (export "g{i}") (param i64) (result {}) (local.get 0) {})
            "#,
            core(r),
            from_i64(r)
        )
        .unwrap();
        let (defs, ptys, rty) = type_defs(i, sig, false);
        callee_types.push_str(&defs);
        let fparams: String = ptys
            .iter()
            .enumerate()
            .map(|(j, t)| format!("(param \"x{j}\" {t}) "))
            .collect();
        write!(
            callee_funcs,
            r#"(func (export "f{i}") {fparams} (result u64) (canon lift (core func $m "f{i}")))
               (func (export "g{i}") (param "bits" u64) (result {rty}) (canon lift (core func $m "g{i}")))
            "#
        )
        .unwrap();

        let (defs, ptys, rty) = type_defs(i, sig, true);
        caller_types.push_str(&defs);
        let fparams: String = ptys
            .iter()
            .enumerate()
            .map(|(j, t)| format!("(param \"x{j}\" {t}) "))
            .collect();
        write!(
            caller_types,
            r#"(import "f{i}" (func $f{i} {fparams} (result u64)))
               (import "g{i}" (func $g{i} (param "bits" u64) (result {rty})))
            "#
        )
        .unwrap();
        for (j, t) in sig.params.iter().enumerate() {
            if named_definition(t).is_some() {
                write!(with, "(with \"n{i}-p{j}\" (type $callee \"n{i}-p{j}\")) ").unwrap();
            }
        }
        if named_definition(&sig.result).is_some() {
            write!(with, "(with \"n{i}-r\" (type $callee \"n{i}-r\")) ").unwrap();
        }
        write!(
            with,
            "(with \"f{i}\" (func $callee \"f{i}\")) (with \"g{i}\" (func $callee \"g{i}\")) "
        )
        .unwrap();
        write!(
            caller_lowers,
            "(core func $f{i} (canon lower (func $f{i}))) (core func $g{i} (canon lower (func $g{i}))) "
        )
        .unwrap();
        write!(
            core_with,
            "(export \"f{i}\" (func $f{i})) (export \"g{i}\" (func $g{i})) "
        )
        .unwrap();
        write!(
            caller_core_imports,
            r#"(import "" "f{i}" (func $f{i} (param {params}) (result i64)))
               (import "" "g{i}" (func $g{i} (param i64) (result {})))
            "#,
            core(r)
        )
        .unwrap();
        let loads: String = flat
            .iter()
            .enumerate()
            .map(|(k, t)| {
                format!(
                    "(i64.load offset={} (local.get 0)) {} ",
                    8 * k,
                    from_i64(*t)
                )
            })
            .collect();
        write!(
            caller_core,
            r#"(func (export "f{i}") (param i32 i32) (result i64) {loads} (call $f{i}))
               (func (export "g{i}") (param i64) (result {}) (call $g{i} (local.get 0)))
            "#,
            core(r)
        )
        .unwrap();
        write!(
            caller_funcs,
            r#"(func (export "f{i}") (param "bits" (list u64)) (result u64)
                 (canon lift (core func $main "f{i}") (memory (core memory $libc "memory"))
                   (realloc (core func $libc "realloc"))))
               (func (export "g{i}") (param "bits" u64) (result {rty}) (canon lift (core func $main "g{i}")))
            "#
        )
        .unwrap();
    }
    format!(
        r#"(component
  (component $callee
    (core module $m {callee_core})
    (core instance $m (instantiate $m))
    {callee_types}
    {callee_funcs})
  (instance $callee (instantiate $callee))
  (component $caller
    {caller_types}
    (core module $libc
      (memory (export "memory") 1)
      (global $next (mut i32) (i32.const 1024))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $ptr i32)
        (local.set $ptr (i32.and (i32.add (global.get $next) (i32.sub (local.get 2) (i32.const 1)))
                                 (i32.sub (i32.const 0) (local.get 2))))
        (global.set $next (i32.add (local.get $ptr) (local.get 3)))
        (local.get $ptr)))
    (core instance $libc (instantiate $libc))
    {caller_lowers}
    (core module $main
      (import "libc" "memory" (memory 1))
      {caller_core_imports}
      {caller_core})
    (core instance $main (instantiate $main
      (with "libc" (instance $libc))
      (with "" (instance {core_with}))))
    {caller_funcs})
  (instance $caller (instantiate $caller {with}))
  (export "callee" (instance $callee))
  (export "caller" (instance $caller)))"#
    )
}

/// Sees nothing: setting it makes the store use the runtime's adapters.
struct Blind;

impl Interceptor for Blind {
    fn before(&mut self, _: Call<'_>, _: &[Val]) {}
    fn after(&mut self, _: Call<'_>, _: Result<Option<&Val>, &Error>) {}
}

/// One call's outcome: the value or the error's text.
fn outcome(store: &mut Store<()>, func: &cmc_runtime::component::Func, args: &[Val]) -> String {
    let mut out = [Val::Bool(false)];
    match func.call(&mut *store, args, &mut out) {
        Ok(()) => format!("{:?}", out[0]),
        Err(e) => format!("error: {e}"),
    }
}

/// Runs `batches` batches of `per_batch` random signatures from `seed`,
/// each with `calls` random argument vectors and results; returns the
/// number of signatures and of traps seen.
fn run(seed: u64, batches: usize, per_batch: usize, calls: usize) -> (usize, usize) {
    let engine = engine();
    let mut rng = Rng(seed);
    let mut traps = 0;
    for batch in 0..batches {
        let sigs: Vec<Signature> = (0..per_batch).map(|_| signature(&mut rng)).collect();
        let source = component(&sigs);
        let component = Component::new(&engine, &source)
            .unwrap_or_else(|e| panic!("seed {seed} batch {batch}: {e}\n{source}"));
        // Every call is fused (or the comparison shows nothing).
        assert_eq!(
            component.adapter_counts(),
            (2 * per_batch, 0),
            "seed {seed} batch {batch}"
        );
        let mut fused = Store::new(&engine, ());
        let mut runtime = Store::new(&engine, ());
        runtime.intercept_calls(Blind);
        let fused_instance = Linker::new().instantiate(&mut fused, &component).unwrap();
        let runtime_instance = Linker::new().instantiate(&mut runtime, &component).unwrap();
        for (i, sig) in sigs.iter().enumerate() {
            let n = sig.flat_params().len();
            for name in [format!("f{i}"), format!("g{i}")] {
                let path = ["caller", name.as_str()];
                let a = fused_instance.get_func(&fused, &path).unwrap();
                let b = runtime_instance.get_func(&runtime, &path).unwrap();
                for _ in 0..calls {
                    let args = if name.starts_with('f') {
                        vec![Val::List((0..n).map(|_| Val::U64(rng.bits())).collect())]
                    } else {
                        vec![Val::U64(rng.bits())]
                    };
                    let (x, y) = (
                        outcome(&mut fused, &a, &args),
                        outcome(&mut runtime, &b, &args),
                    );
                    assert_eq!(
                        x, y,
                        "seed {seed} batch {batch} {name}: params {:?} result {}, args {args:?}",
                        sig.params, sig.result
                    );
                    traps += usize::from(x.starts_with("error"));
                }
            }
        }
    }
    (batches * per_batch, traps)
}

/// 10,000 signatures in batches of 100, four calls of each function.
#[test]
fn fused_adapters_agree_with_the_runtime_on_random_signatures() {
    let (signatures, traps) = run(0x5eed, 100, 100, 4);
    assert_eq!(signatures, 10_000);
    // Random bits trap often (bad discriminants and chars): both outcomes
    // are exercised.
    assert!(traps > 1000 && traps < 70_000, "{traps} traps");
}
