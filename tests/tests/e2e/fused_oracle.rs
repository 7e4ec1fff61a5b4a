//! The fused adapters against the runtime's canonical-ABI code, on random
//! signatures and random values: each call runs once through the adapter
//! compiled with the component, and once in a store that intercepts calls,
//! where the runtime's adapter (`canon::lift`/`lower`, which share no code
//! with the generated adapters) carries it. Both must give the same result
//! or the same trap.
//!
//! A caller component forwards raw bits (any bits: invalid discriminants
//! and `char`s, garbage in unused variant slots, NaNs, non-canonical
//! `bool`s) as the flat arguments of a call into a callee (or, when they
//! spill, as the bytes of the tuple they point to), which hashes the flat
//! values it receives and every byte its `realloc` handed out for the call
//! (strings, lists, nested lists, spilled arguments); and a callee returns
//! raw bits as a result, which the caller hands to the host. Strings and
//! lists point into a stretch of bytes at the end of each memory (ASCII,
//! other utf8, invalid utf8), often far enough to cross the end. Each batch
//! has its own pair of string encodings. Many functions share one
//! component, so the compile cost is paid per batch.

use super::{Unseen, engine};
use cmc_runtime::Store;
use cmc_runtime::component::{
    Component, FlatType, InterfaceType as T, Linker, PtrType, Val, flatten_type, layout,
};
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
        return match rng.below(8) {
            0 => T::String,
            _ => PRIMS[rng.below(PRIMS.len() as u64) as usize].clone(),
        };
    }
    match rng.below(6) {
        4 => T::List(Box::new(anonymous(rng, depth - 1))),
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

/// A string, or a list of integers or of tuples of them without padding
/// (which fused adapters copy as bytes), or of anything else.
fn in_memory(rng: &mut Rng) -> T {
    const INTS: [T; 8] = [T::U8, T::S8, T::U16, T::S16, T::U32, T::S32, T::U64, T::S64];
    let elem = match rng.below(5) {
        0 => T::Tuple(vec![T::U32, T::S32]),
        1 => T::Tuple(vec![T::U8, T::S8, T::U16]),
        2 => anonymous(rng, 2),
        _ => INTS[rng.below(8) as usize].clone(),
    };
    match rng.below(3) {
        0 => T::String,
        _ => T::List(Box::new(elem)),
    }
}

/// A random parameter type: anonymous, a string or list, or a named
/// record (of anonymous parts, strings and lists), variant, enum or flags
/// (of anonymous parts).
fn param_type(rng: &mut Rng) -> T {
    let labels = |rng: &mut Rng, n: u64| (0..1 + rng.below(n)).map(|i| format!("l{i}")).collect();
    match rng.below(9) {
        0 => T::Record(
            (0..1 + rng.below(3))
                .map(|i| {
                    let t = match rng.below(3) {
                        0 => in_memory(rng),
                        _ => anonymous(rng, 1),
                    };
                    (format!("f{i}"), t)
                })
                .collect(),
        ),
        4 => in_memory(rng),
        1 => T::Variant(
            (0..1 + rng.below(4))
                .map(|i| {
                    (
                        format!("c{i}"),
                        match rng.below(4) {
                            0 => None,
                            1 => Some(in_memory(rng)),
                            _ => Some(anonymous(rng, 1)),
                        },
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
        T::List(t) => format!("(list {})", wat(t)),
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

/// What a flat argument slot holds, for the caller to make bits for it.
#[derive(Clone, Copy)]
enum Slot {
    /// A flat value: any bits.
    Bits,
    /// A string's or list's pointer; elements of this size follow.
    Ptr(u32),
    /// Its length.
    Len,
}

/// The slots `ty` flattens to on a side with pointers of type `ptr`.
fn slots(ty: &T, ptr: PtrType, out: &mut Vec<Slot>) {
    match ty {
        T::String => out.extend([Slot::Ptr(1), Slot::Len]),
        T::List(e) => out.extend([Slot::Ptr(layout(e, ptr).size), Slot::Len]),
        T::Record(fields) => fields.iter().for_each(|(_, t)| slots(t, ptr, out)),
        t => out.extend(flatten_type(t, ptr).iter().map(|_| Slot::Bits)),
    }
}

impl Signature {
    /// The flat parameters on a side with pointers of type `ptr`.
    fn flat_params(&self, ptr: PtrType) -> Vec<FlatType> {
        self.params
            .iter()
            .flat_map(|t| flatten_type(t, ptr))
            .collect()
    }

    /// Whether the parameters spill: passed as a pointer to a tuple (the
    /// same on both sides: pointer types do not change the count).
    fn spills(&self) -> bool {
        self.flat_params(PtrType::I32).len() > 16
    }

    /// The core parameters a side with pointers of type `ptr` passes or
    /// receives.
    fn core_params(&self, ptr: PtrType) -> Vec<FlatType> {
        match self.spills() {
            true => vec![ptr.flat()],
            false => self.flat_params(ptr),
        }
    }

    /// The bits the host passes to a caller with pointers of type `ptr`:
    /// the flat slots, or (when the parameters spill) the bytes of the
    /// tuple, which the caller points to.
    fn slots(&self, ptr: PtrType) -> Vec<Slot> {
        if self.spills() {
            let tuple = T::Tuple(self.params.clone());
            let words = layout(&tuple, ptr).size.div_ceil(8);
            return vec![Slot::Bits; words as usize];
        }
        let mut out = Vec::new();
        self.params.iter().for_each(|t| slots(t, ptr, &mut out));
        out
    }

    /// The result's core type, when it is flat.
    fn flat_result(&self) -> Option<FlatType> {
        match flatten_type(&self.result, PtrType::I32)[..] {
            [t] => Some(t),
            _ => None,
        }
    }
}

/// A signature of up to five parameters (which may spill) and a result
/// (flat, or returned through memory).
fn signature(rng: &mut Rng) -> Signature {
    let params: Vec<T> = (0..1 + rng.below(5)).map(|_| param_type(rng)).collect();
    let result = match rng.below(6) {
        3 => in_memory(rng),
        4 => anonymous(rng, 2),
        0 => T::Enum((0..1 + rng.below(4)).map(|i| format!("e{i}")).collect()),
        1 => T::Flags((0..1 + rng.below(32)).map(|i| format!("g{i}")).collect()),
        _ => PRIMS[rng.below(PRIMS.len() as u64) as usize].clone(),
    };
    Signature { params, result }
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

/// Where the bytes that strings and lists point into begin, in both
/// memories (four pages): the last 1 KiB.
const DATA: u32 = 4 * 65536 - 1024;

/// The bytes at [`DATA`]: ASCII in utf16, then ASCII text, other utf8 and
/// invalid utf8, as a WAT string.
fn data() -> String {
    // First a quarter of ASCII as utf16 code units.
    let mut bytes: Vec<u8> = "utf-16 ascii "
        .repeat(10)
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    bytes.truncate(256);
    while bytes.len() < 1024 {
        bytes.extend(b"plain ascii text, ");
        bytes.extend("\u{e9}t\u{e9} \u{65e5}\u{672c} \u{1f600} ".as_bytes());
        bytes.extend(b"ok ");
        bytes.extend([0xff, 0xc3, 0x28, 0xe2, 0x82, b' ']);
    }
    bytes.truncate(1024);
    bytes.iter().map(|b| format!("\\{b:02x}")).collect()
}

/// A bump allocator that starts over at 1024 before it reaches [`DATA`],
/// and `reset`, which zeroes what it handed out and starts over (called
/// before every call, so that the calls are independent: a call that traps
/// in one store after some allocations, and before them in the other, does
/// not change the next one).
///
/// `a` is the memory's address type (`i32` or `i64`), as in the WAT below.
fn realloc(a: &str) -> String {
    format!(
        r#"
      (global $next (mut {a}) ({a}.const 1024))
      (func (export "reset")
        (memory.fill ({a}.const 1024) (i32.const 0) ({a}.sub (global.get $next) ({a}.const 1024)))
        (global.set $next ({a}.const 1024)))
      (func (export "realloc") (param {a} {a} {a} {a}) (result {a})
        (local $ptr {a})
        (if ({a}.gt_u ({a}.add (global.get $next) (local.get 3)) ({a}.const 200000))
          (then (global.set $next ({a}.const 1024))))
        (local.set $ptr ({a}.and ({a}.add (global.get $next) ({a}.sub (local.get 2) ({a}.const 1)))
                                 ({a}.sub ({a}.const 0) (local.get 2))))
        (global.set $next ({a}.add (local.get $ptr) (local.get 3)))
        (local.get $ptr))"#
    )
}

/// The address type of memories with pointers of type `ptr`, in WAT.
fn addr(ptr: PtrType) -> &'static str {
    match ptr {
        PtrType::I32 => "i32",
        PtrType::I64 => "i64",
    }
}

/// Mixes the `i64` that `value` pushes into the callee's hash `$h`.
fn mix(value: &str) -> String {
    format!("(local.set $h (i64.add (i64.mul (local.get $h) (i64.const 1000003)) {value}))")
}

/// The callee's code hashing its flat parameters `params`, then every byte
/// its `realloc` handed out since the last `reset` (`a` is its memory's
/// address type).
fn hash(params: &[FlatType], a: &str) -> String {
    let mut code: String = params
        .iter()
        .enumerate()
        .map(|(k, t)| mix(&format!("(local.get {k}) {}", to_i64(*t))))
        .collect();
    let byte = mix("(i64.load8_u (local.get $i))");
    write!(
        code,
        r#"(local.set $i ({a}.const 1024))
           (block $done (loop $bytes
             (br_if $done ({a}.ge_u (local.get $i) (global.get $next)))
             {byte}
             (local.set $i ({a}.add (local.get $i) ({a}.const 1)))
             (br $bytes)))"#
    )
    .unwrap();
    code
}

/// The string encodings a batch's caller and callee use.
const ENCODINGS: [&str; 3] = ["utf8", "utf16", "latin1+utf16"];

/// The component for a batch of signatures: `$callee` hashes and returns
/// bits, `$caller` forwards the host's bits to it, and the root exports
/// both (the caller's `f{i}` and `g{i}` are what the host calls). The two
/// use the string encodings `(caller, callee)` and memories with pointers
/// of types `ptrs`.
fn component(
    sigs: &[Signature],
    (caller_encoding, callee_encoding): (&str, &str),
    ptrs: (PtrType, PtrType),
) -> String {
    let (ca, ce) = (addr(ptrs.0), addr(ptrs.1));
    let memory_type = |ptr| match ptr {
        PtrType::I32 => "4",
        PtrType::I64 => "i64 4",
    };
    let (caller_memory, callee_memory) = (memory_type(ptrs.0), memory_type(ptrs.1));
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
    let options = |memory: &str, encoding: &str| {
        format!(
            r#"(memory (core memory {memory} "memory")) (realloc (core func {memory} "realloc")) string-encoding={encoding}"#
        )
    };
    for (i, sig) in sigs.iter().enumerate() {
        let callee_params = sig.core_params(ptrs.1);
        let types = |params: &[FlatType]| -> String {
            params.iter().map(|t| format!("{} ", core(*t))).collect()
        };
        let hash = hash(&callee_params, ce);
        let callee_params = types(&callee_params);
        let params = types(&sig.core_params(ptrs.0));
        write!(
            callee_core,
            r#"(func (export "f{i}") (param {callee_params}) (result i64) (local $h i64) (local $i {ce})
                 {hash} (local.get $h))
            "#
        )
        .unwrap();
        // `g` returns the bits as the result; a string or list as a pair at
        // 16 (or, for one bits pattern, at the unaligned 17) pointing near
        // the end of memory.
        let (g_result, caller_g_params, caller_g_results, caller_g_body) = match sig.flat_result() {
            None => {
                // The pair `(ptr, len)` in the callee's address type.
                let (word, wrap) = match ptrs.1 {
                    PtrType::I32 => (4, "(i32.wrap_i64 (local.get 0))"),
                    PtrType::I64 => (8, "(local.get 0)"),
                };
                let shifted = |bits: u32| match ptrs.1 {
                    PtrType::I32 => {
                        format!("(i32.wrap_i64 (i64.shr_u (local.get 0) (i64.const {bits})))")
                    }
                    PtrType::I64 => format!("(i64.shr_u (local.get 0) (i64.const {bits}))"),
                };
                let unaligned = match ptrs.1 {
                    PtrType::I32 => format!("(i32.eqz (i32.and {} (i32.const 0x3f)))", shifted(24)),
                    PtrType::I64 => format!(
                        "(i64.extend_i32_u (i64.eqz (i64.and {} (i64.const 0x3f))))",
                        shifted(24)
                    ),
                };
                write!(
                    callee_core,
                    r#"(func (export "g{i}") (param i64) (result {ce})
                         ({ce}.store ({ce}.const 16) ({ce}.add ({ce}.const {start})
                           ({ce}.and {wrap} ({ce}.const 0x3ff))))
                         ({ce}.store ({ce}.const {len_at})
                           ({ce}.and {len} ({ce}.const 0xff)))
                         ({ce}.add ({ce}.const 16) {unaligned}))
                    "#,
                    start = DATA - 64,
                    len_at = 16 + word,
                    len = shifted(12),
                )
                .unwrap();
                (
                    ca,
                    format!("i64 {ca}"),
                    "",
                    format!("(call $g{i} (local.get 0) ({ca}.const 32)) ({ca}.const 32)"),
                )
            }
            Some(r) => {
                write!(
                    callee_core,
                    r#"(func (export "g{i}") (param i64) (result {}) (local.get 0) {})
                        "#,
                    core(r),
                    from_i64(r)
                )
                .unwrap();
                (
                    core(r),
                    "i64".to_owned(),
                    core(r),
                    format!("(call $g{i} (local.get 0))"),
                )
            }
        };
        let (defs, ptys, rty) = type_defs(i, sig, false);
        callee_types.push_str(&defs);
        let fparams: String = ptys
            .iter()
            .enumerate()
            .map(|(j, t)| format!("(param \"x{j}\" {t}) "))
            .collect();
        let callee_options = options("$m", callee_encoding);
        write!(
            callee_funcs,
            r#"(func (export "f{i}") {fparams} (result u64) (canon lift (core func $m "f{i}") {callee_options}))
               (func (export "g{i}") (param "bits" u64) (result {rty}) (canon lift (core func $m "g{i}") {callee_options}))
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
        let caller_options = options("$libc", caller_encoding);
        write!(
            caller_lowers,
            "(core func $f{i} (canon lower (func $f{i}) {caller_options}))
             (core func $g{i} (canon lower (func $g{i}) {caller_options})) "
        )
        .unwrap();
        write!(
            core_with,
            "(export \"f{i}\" (func $f{i})) (export \"g{i}\" (func $g{i})) "
        )
        .unwrap();
        let g_results = match caller_g_results {
            "" => String::new(),
            r => format!("(result {r})"),
        };
        write!(
            caller_core_imports,
            r#"(import "" "f{i}" (func $f{i} (param {params}) (result i64)))
               (import "" "g{i}" (func $g{i} (param {caller_g_params}) {g_results}))
            "#
        )
        .unwrap();
        // The flat arguments from the bits, or the bits as the spilled
        // tuple.
        let args: String = match sig.spills() {
            true => "(local.get 0)".into(),
            false => sig
                .flat_params(ptrs.0)
                .iter()
                .enumerate()
                .map(|(k, t)| {
                    format!(
                        "(i64.load offset={} (local.get 0)) {} ",
                        8 * k,
                        from_i64(*t)
                    )
                })
                .collect(),
        };
        write!(
            caller_core,
            r#"(func (export "f{i}") (param {ca} {ca}) (result i64) (call $reset) (call $reset-libc) (call $f{i} {args}))
               (func (export "g{i}") (param i64) (result {g_result}) (call $reset) (call $reset-libc) {caller_g_body})
            "#
        )
        .unwrap();
        write!(
            caller_funcs,
            r#"(func (export "f{i}") (param "bits" (list u64)) (result u64)
                 (canon lift (core func $main "f{i}") {caller_options}))
               (func (export "g{i}") (param "bits" u64) (result {rty})
                 (canon lift (core func $main "g{i}") {caller_options}))
            "#
        )
        .unwrap();
    }
    let data = data();
    let (caller_realloc, callee_realloc) = (realloc(ca), realloc(ce));
    format!(
        r#"(component
  (component $callee
    (core module $m
      (memory (export "memory") {callee_memory})
      (data ({ce}.const {DATA}) "{data}")
      {callee_realloc}
      {callee_core})
    (core instance $m (instantiate $m))
    {callee_types}
    (func (export "reset") (canon lift (core func $m "reset")))
    {callee_funcs})
  (instance $callee (instantiate $callee))
  (component $caller
    (import "reset" (func $reset))
    {caller_types}
    (core module $libc
      (memory (export "memory") {caller_memory})
      (data ({ca}.const {DATA}) "{data}")
      {caller_realloc})
    (core instance $libc (instantiate $libc))
    {caller_lowers}
    (core func $reset (canon lower (func $reset)))
    (core module $main
      (import "libc" "memory" (memory {caller_memory}))
      (import "libc" "reset" (func $reset-libc))
      (import "" "reset" (func $reset))
      {caller_core_imports}
      {caller_core})
    (core instance $main (instantiate $main
      (with "libc" (instance $libc))
      (with "" (instance (export "reset" (func $reset)) {core_with}))))
    {caller_funcs})
  (instance $caller (instantiate $caller (with "reset" (func $callee "reset")) {with}))
  (export "callee" (instance $callee))
  (export "caller" (instance $caller)))"#
    )
}

/// Bits for flat slot `slot`: for a string or list, a pointer near
/// [`DATA`] (aligned or not) or anywhere, and a length that often crosses
/// the end of memory.
fn slot_bits(rng: &mut Rng, slot: Slot) -> u64 {
    match slot {
        Slot::Bits => rng.bits(),
        Slot::Ptr(size) => match rng.below(4) {
            0 => rng.next() as u32 as u64,
            1 => u64::from(DATA) + rng.below(1024),
            _ => u64::from(DATA) + rng.below(1024 / u64::from(size)) * u64::from(size),
        },
        Slot::Len => match rng.below(8) {
            0 => rng.next() as u32 as u64,
            1 => rng.below(1024),
            _ => rng.below(48),
        },
    }
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
        let encodings = (ENCODINGS[batch % 3], ENCODINGS[batch / 3 % 3]);
        // One batch in four with 32-bit memories on both sides, the others
        // with a 64-bit one on either or both.
        const PTRS: [PtrType; 2] = [PtrType::I32, PtrType::I64];
        let ptrs = (PTRS[batch / 9 % 2], PTRS[batch / 18 % 2]);
        let source = component(&sigs, encodings, ptrs);
        let component = Component::new(&engine, &source)
            .unwrap_or_else(|e| panic!("seed {seed} batch {batch}: {e}\n{source}"));
        // Every call is fused (or the comparison shows nothing).
        assert_eq!(
            component.adapter_counts(),
            (2 * per_batch + 1, 0),
            "seed {seed} batch {batch}"
        );
        // Both sides, fresh: a trap poisons the instances it entered.
        let fresh = || {
            let mut fused = Store::new(&engine, ());
            let mut runtime = Store::new(&engine, ());
            runtime.intercept_calls(Unseen);
            let fused_instance = Linker::new().instantiate(&mut fused, &component).unwrap();
            let runtime_instance = Linker::new().instantiate(&mut runtime, &component).unwrap();
            (fused, fused_instance, runtime, runtime_instance)
        };
        let (mut fused, mut fused_instance, mut runtime, mut runtime_instance) = fresh();
        for (i, sig) in sigs.iter().enumerate() {
            let slots = sig.slots(ptrs.0);
            for name in [format!("f{i}"), format!("g{i}")] {
                let path = ["caller", name.as_str()];
                for _ in 0..calls {
                    let a = fused_instance.get_func(&fused, &path).unwrap();
                    let b = runtime_instance.get_func(&runtime, &path).unwrap();
                    let args = if name.starts_with('f') {
                        let bits = slots.iter().map(|&s| Val::U64(slot_bits(&mut rng, s)));
                        vec![Val::List(bits.collect())]
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
                    if x.starts_with("error") {
                        traps += 1;
                        (fused, fused_instance, runtime, runtime_instance) = fresh();
                    }
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
