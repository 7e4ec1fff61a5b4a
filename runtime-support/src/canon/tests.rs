//! Round trips lower → lift for every type through a test memory with a bump
//! allocator, the whole-call entry points with spilling, the three string
//! encodings, and the traps of lifting and lowering. Expected bytes, sizes
//! and flat values were worked out by hand from `definitions.py`.

use super::*;
use crate::vm::Val as CoreVal;
use InterfaceType as T;
use layout::align_to;

/// [`lower_params`] into a fresh vector.
fn lower_params_vec<C: LowerContext>(
    cx: &mut C,
    ft: &FuncType,
    args: &[Val],
) -> Result<Vec<CoreVal>, C::Error> {
    let mut out = Vec::new();
    lower_params(cx, ft, args, &mut out)?;
    Ok(out)
}

/// [`lower_results`] into a fresh vector.
fn lower_results_vec<C: LowerContext>(
    cx: &mut C,
    ft: &FuncType,
    result: Option<&Val>,
    retptr: Option<u32>,
) -> Result<Vec<CoreVal>, C::Error> {
    let mut out = Vec::new();
    lower_results(cx, ft, result, retptr.map(u64::from), &mut out)?;
    Ok(out)
}

/// The latin1+utf16 tag of a 32-bit memory, which most tests use.
const UTF16_TAG: u32 = 1 << 31;

/// A component instance for tests: 64 KiB of memory, a bump allocator from
/// 1024 on (which shrinks in place and copies when growing), a log of
/// `realloc` calls, and a handle table with one open call. Its memory is
/// 32-bit unless `ptr` says otherwise; addresses stay below 64 KiB either
/// way, so the log keeps them as `u32`.
struct Cx {
    mem: Vec<u8>,
    ptr: PtrType,
    next: u32,
    encoding: StringEncoding,
    reallocs: Vec<(u32, u32, u32, u32)>,
    /// Makes `realloc` return this pointer, for trap tests.
    forced: Option<u32>,
    table: HandleTable,
    scope: ScopeId,
    lends: Lends,
}

impl Cx {
    fn new(encoding: StringEncoding) -> Cx {
        let mut table = HandleTable::new();
        let scope = table.enter_call().unwrap();
        Cx {
            mem: vec![0; 65536],
            ptr: PtrType::I32,
            next: 1024,
            encoding,
            reallocs: Vec::new(),
            forced: None,
            table,
            scope,
            lends: Lends::new(),
        }
    }

    fn utf8() -> Cx {
        Cx::new(StringEncoding::Utf8)
    }

    fn put(&mut self, ptr: u32, bytes: &[u8]) {
        self.mem[ptr as usize..ptr as usize + bytes.len()].copy_from_slice(bytes);
    }

    fn put_u32s(&mut self, ptr: u32, words: &[u32]) {
        for (i, w) in words.iter().enumerate() {
            self.put(ptr + 4 * i as u32, &w.to_le_bytes());
        }
    }

    fn bytes(&self, ptr: u32, len: u32) -> &[u8] {
        &self.mem[ptr as usize..(ptr + len) as usize]
    }
}

impl LowerContext for Cx {
    type Error = CanonError;

    fn memory(&mut self) -> &mut [u8] {
        &mut self.mem
    }

    fn string_encoding(&self) -> StringEncoding {
        self.encoding
    }

    fn ptr_type(&self) -> PtrType {
        self.ptr
    }

    fn realloc(
        &mut self,
        old_ptr: u64,
        old_size: u64,
        align: u32,
        new_size: u64,
    ) -> Result<u64, CanonError> {
        let small = |v: u64| u32::try_from(v).expect("test addresses fit in u32");
        let (old_ptr, old_size, new_size) = (small(old_ptr), small(old_size), small(new_size));
        self.reallocs.push((old_ptr, old_size, align, new_size));
        if let Some(ptr) = self.forced {
            return Ok(u64::from(ptr));
        }
        if old_ptr != 0 && new_size <= old_size {
            return Ok(u64::from(old_ptr));
        }
        let ptr = align_to(self.next, align);
        let end = ptr + new_size;
        assert!(end as usize <= self.mem.len(), "test heap exhausted");
        let keep = old_size.min(new_size) as usize;
        self.mem
            .copy_within(old_ptr as usize..old_ptr as usize + keep, ptr as usize);
        self.next = end;
        Ok(u64::from(ptr))
    }

    fn lower_own(&mut self, ty: ResourceTypeId, r: ResourceVal) -> Result<u32, CanonError> {
        self.table.new_own(ty, r.handle)
    }

    fn lower_borrow(&mut self, ty: ResourceTypeId, r: ResourceVal) -> Result<u32, CanonError> {
        self.table.new_borrow(ty, r.handle, self.scope)
    }
}

impl LiftContext for Cx {
    type Error = CanonError;

    fn memory(&self) -> &[u8] {
        &self.mem
    }

    fn string_encoding(&self) -> StringEncoding {
        self.encoding
    }

    fn ptr_type(&self) -> PtrType {
        self.ptr
    }

    fn lift_own(&mut self, ty: ResourceTypeId, index: u32) -> Result<ResourceVal, CanonError> {
        let rep = self.table.take_own(index, ty)?;
        Ok(ResourceVal {
            ty,
            own: true,
            handle: rep,
        })
    }

    fn lift_borrow(&mut self, ty: ResourceTypeId, index: u32) -> Result<ResourceVal, CanonError> {
        let rep = self.table.lend(index, ty, &mut self.lends)?;
        Ok(ResourceVal {
            ty,
            own: false,
            handle: rep,
        })
    }
}

fn labels(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn n_labels(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("f{i}")).collect()
}

fn some(v: Val) -> Option<Box<Val>> {
    Some(Box::new(v))
}

fn b(t: T) -> Box<T> {
    Box::new(t)
}

fn s(x: &str) -> Val {
    Val::String(x.to_string())
}

fn flat_type(v: &CoreVal) -> FlatType {
    match v {
        CoreVal::I32(_) => FlatType::I32,
        CoreVal::I64(_) => FlatType::I64,
        CoreVal::F32(_) => FlatType::F32,
        CoreVal::F64(_) => FlatType::F64,
        other => panic!("not a flat value: {other:?}"),
    }
}

/// Lowers `v` flat and into memory, lifts both back, and expects `expect`.
fn roundtrip_as(cx: &mut Cx, ty: &T, v: &Val, expect: &Val) {
    v.matches(ty).unwrap();
    let flat = lower::lower_flat(cx, v, ty).unwrap();
    let types: Vec<FlatType> = flat.iter().map(flat_type).collect();
    assert_eq!(types, flatten_type(ty, cx.ptr), "flat types of {ty}");
    assert_eq!(
        &lift::lift_flat(cx, &flat, ty).unwrap(),
        expect,
        "flat {ty}"
    );

    let ptr = align_to(cx.next, alignment(ty, cx.ptr));
    cx.next = ptr + elem_size(ty, cx.ptr);
    lower::store(cx, v, ty, u64::from(ptr)).unwrap();
    assert_eq!(
        &lift::load(cx, u64::from(ptr), ty).unwrap(),
        expect,
        "memory {ty}"
    );
}

/// [`roundtrip_as`] in every string encoding, with 32-bit and with 64-bit
/// pointers.
fn roundtrip(ty: T, v: Val) {
    for encoding in [
        StringEncoding::Utf8,
        StringEncoding::Utf16,
        StringEncoding::Latin1Utf16,
    ] {
        for ptr in [PtrType::I32, PtrType::I64] {
            let mut cx = Cx::new(encoding);
            cx.ptr = ptr;
            roundtrip_as(&mut cx, &ty, &v, &v);
        }
    }
}

#[test]
fn scalars_round_trip() {
    for (ty, v) in [
        (T::Bool, Val::Bool(true)),
        (T::Bool, Val::Bool(false)),
        (T::S8, Val::S8(i8::MIN)),
        (T::S8, Val::S8(-1)),
        (T::U8, Val::U8(u8::MAX)),
        (T::S16, Val::S16(-300)),
        (T::U16, Val::U16(u16::MAX)),
        (T::S32, Val::S32(i32::MIN)),
        (T::U32, Val::U32(u32::MAX)),
        (T::S64, Val::S64(i64::MIN)),
        (T::U64, Val::U64(u64::MAX)),
        (T::F32, Val::F32(1.5)),
        (T::F32, Val::F32(f32::NEG_INFINITY)),
        (T::F32, Val::F32(-0.0)),
        (T::F64, Val::F64(-2.25e300)),
        (T::F64, Val::F64(f64::MIN_POSITIVE)),
        (T::Char, Val::Char('a')),
        (T::Char, Val::Char('é')),
        (T::Char, Val::Char('\u{D7FF}')),
        (T::Char, Val::Char('\u{E000}')),
        (T::Char, Val::Char('😀')),
        (T::Char, Val::Char('\u{10FFFF}')),
    ] {
        roundtrip(ty, v);
    }
}

#[test]
fn flat_representation_of_scalars() {
    let mut cx = Cx::utf8();
    let flat = |cx: &mut Cx, t: T, v: Val| lower::lower_flat(cx, &v, &t).unwrap();
    // Narrow signed integers are sign-extended, unsigned ones zero-extended.
    assert_eq!(flat(&mut cx, T::S8, Val::S8(-1)), [CoreVal::I32(-1)]);
    assert_eq!(flat(&mut cx, T::U8, Val::U8(255)), [CoreVal::I32(255)]);
    assert_eq!(flat(&mut cx, T::S16, Val::S16(-2)), [CoreVal::I32(-2)]);
    assert_eq!(
        flat(&mut cx, T::U16, Val::U16(0xffff)),
        [CoreVal::I32(0xffff)]
    );
    assert_eq!(
        flat(&mut cx, T::U32, Val::U32(u32::MAX)),
        [CoreVal::I32(-1)]
    );
    assert_eq!(
        flat(&mut cx, T::U64, Val::U64(u64::MAX)),
        [CoreVal::I64(-1)]
    );
    assert_eq!(flat(&mut cx, T::Bool, Val::Bool(true)), [CoreVal::I32(1)]);
    assert_eq!(
        flat(&mut cx, T::Char, Val::Char('😀')),
        [CoreVal::I32(0x1F600)]
    );
    assert_eq!(
        flat(&mut cx, T::F32, Val::F32(1.5)),
        [CoreVal::F32(1.5f32.to_bits())]
    );

    // Lifting keeps only the low bits of narrow integers; any non-zero is true.
    let lift = |cx: &mut Cx, t: T, v: CoreVal| lift::lift_flat(cx, &[v], &t).unwrap();
    assert_eq!(lift(&mut cx, T::U8, CoreVal::I32(0x1ff)), Val::U8(0xff));
    assert_eq!(lift(&mut cx, T::S8, CoreVal::I32(0x80)), Val::S8(-128));
    assert_eq!(lift(&mut cx, T::S8, CoreVal::I32(0x17f)), Val::S8(127));
    assert_eq!(lift(&mut cx, T::U16, CoreVal::I32(-1)), Val::U16(0xffff));
    assert_eq!(
        lift(&mut cx, T::S16, CoreVal::I32(0x8000)),
        Val::S16(i16::MIN)
    );
    assert_eq!(lift(&mut cx, T::Bool, CoreVal::I32(2)), Val::Bool(true));
    assert_eq!(lift(&mut cx, T::Bool, CoreVal::I32(0)), Val::Bool(false));

    // In memory a bool is any non-zero byte.
    cx.put(16, &[7]);
    assert_eq!(lift::load(&mut cx, 16, &T::Bool).unwrap(), Val::Bool(true));
}

#[test]
fn nans_are_canonicalized() {
    let mut cx = Cx::utf8();
    let snan32: u32 = 0x7fa0_0001;
    let neg_nan64: u64 = 0xfff0_0000_0000_0001;
    // Lifting, flat and from memory.
    let v = lift::lift_flat(&mut cx, &[CoreVal::F32(snan32)], &T::F32).unwrap();
    let Val::F32(f) = v else { panic!() };
    assert_eq!(f.to_bits(), lift::CANONICAL_FLOAT32_NAN);
    cx.put(8, &neg_nan64.to_le_bytes());
    let Val::F64(f) = lift::load(&mut cx, 8, &T::F64).unwrap() else {
        panic!()
    };
    assert_eq!(f.to_bits(), lift::CANONICAL_FLOAT64_NAN);
    // Lowering (deterministic profile).
    let flat = lower::lower_flat(&mut cx, &Val::F32(f32::from_bits(0xffc0_1234)), &T::F32);
    assert_eq!(flat.unwrap(), [CoreVal::F32(0x7fc0_0000)]);
    lower::store(&mut cx, &Val::F64(f64::from_bits(neg_nan64)), &T::F64, 16).unwrap();
    assert_eq!(cx.bytes(16, 8), 0x7ff8_0000_0000_0000u64.to_le_bytes());
    // A NaN travelling through a joined variant slot is canonicalized too.
    let ty = T::Variant(vec![("f".into(), Some(T::F32)), ("i".into(), Some(T::U64))]);
    let v = lift::lift_flat(
        &mut cx,
        &[CoreVal::I32(0), CoreVal::I64(i64::from(snan32))],
        &ty,
    )
    .unwrap();
    let Val::Variant(_, Some(p)) = v else {
        panic!()
    };
    let Val::F32(f) = *p else { panic!() };
    assert_eq!(f.to_bits(), lift::CANONICAL_FLOAT32_NAN);
}

fn resource(ty: u32, own: bool, handle: u32) -> Val {
    Val::Resource(ResourceVal {
        ty: ResourceTypeId::from_u32(ty),
        own,
        handle,
    })
}

#[test]
fn aggregates_round_trip() {
    let rec = T::Record(vec![
        ("a".into(), T::U8),
        ("b".into(), T::String),
        ("c".into(), T::F64),
        ("d".into(), T::Char),
    ]);
    let rec_v = Val::Record(vec![
        ("a".into(), Val::U8(9)),
        ("b".into(), s("café 😀")),
        ("c".into(), Val::F64(0.5)),
        ("d".into(), Val::Char('ÿ')),
    ]);
    roundtrip(rec.clone(), rec_v.clone());
    roundtrip(
        T::Tuple(vec![T::U16, T::S64, T::Bool]),
        Val::Tuple(vec![Val::U16(3), Val::S64(-4), Val::Bool(true)]),
    );
    let var = T::Variant(vec![
        ("none".into(), None),
        ("small".into(), Some(T::U8)),
        ("float".into(), Some(T::F32)),
        ("big".into(), Some(T::Tuple(vec![T::F64, T::String]))),
        ("rec".into(), Some(rec.clone())),
    ]);
    for v in [
        Val::Variant("none".into(), None),
        Val::Variant("small".into(), some(Val::U8(200))),
        Val::Variant("float".into(), some(Val::F32(-7.5))),
        Val::Variant(
            "big".into(),
            some(Val::Tuple(vec![Val::F64(1e-3), s("日本語")])),
        ),
        Val::Variant("rec".into(), some(rec_v.clone())),
    ] {
        roundtrip(var.clone(), v);
    }
    let en = T::Enum(labels(&["red", "green", "blue"]));
    for l in ["red", "green", "blue"] {
        roundtrip(en.clone(), Val::Enum(l.into()));
    }
    // An enum with a u16 discriminant.
    let big_enum = T::Enum(n_labels(300));
    roundtrip(big_enum.clone(), Val::Enum("f299".into()));
    roundtrip(big_enum, Val::Enum("f0".into()));
    let opt = T::Option(b(T::Option(b(T::S32))));
    roundtrip(opt.clone(), Val::Option(None));
    roundtrip(opt.clone(), Val::Option(some(Val::Option(None))));
    roundtrip(opt, Val::Option(some(Val::Option(some(Val::S32(-5))))));
    let res = T::Result {
        ok: Some(b(T::F32)),
        err: Some(b(T::String)),
    };
    roundtrip(res.clone(), Val::Result(Ok(some(Val::F32(2.0)))));
    roundtrip(res, Val::Result(Err(some(s("bad")))));
    let bare = T::Result {
        ok: None,
        err: None,
    };
    roundtrip(bare.clone(), Val::Result(Ok(None)));
    roundtrip(bare, Val::Result(Err(None)));
    let half = T::Result {
        ok: None,
        err: Some(b(T::U64)),
    };
    roundtrip(half.clone(), Val::Result(Ok(None)));
    roundtrip(half, Val::Result(Err(some(Val::U64(1 << 40)))));
}

#[test]
fn byte_lists_lift_as_bytes_and_lower_from_either_form() {
    let ty = T::List(b(T::U8));
    let data: Vec<u8> = (0..=255).collect();
    let as_vals = Val::List(data.iter().map(|&x| Val::U8(x)).collect());
    let mut cx = Cx::new(StringEncoding::Utf8);
    // Both forms lower to the same bytes and lift as `Bytes`, which equals
    // the one-`Val`-per-byte form.
    for v in [Val::Bytes(data.clone()), as_vals.clone()] {
        let flat = lower::lower_flat(&mut cx, &v, &ty).unwrap();
        let lifted = lift::lift_flat(&mut cx, &flat, &ty).unwrap();
        assert!(matches!(&lifted, Val::Bytes(b) if *b == data));
        assert_eq!(lifted, as_vals);
    }
    assert_ne!(Val::Bytes(vec![1]), Val::List(vec![Val::U8(2)]));
    assert!(Val::Bytes(vec![]).matches(&T::List(b(T::U16))).is_err());
}

#[test]
fn lists_round_trip() {
    roundtrip(T::List(b(T::U8)), Val::List(vec![]));
    roundtrip(
        T::List(b(T::U16)),
        Val::List((0..100).map(Val::U16).collect()),
    );
    roundtrip(
        T::List(b(T::String)),
        Val::List(vec![s(""), s("a"), s("ÿé"), s("😀x")]),
    );
    roundtrip(
        T::List(b(T::List(b(T::U64)))),
        Val::List(vec![
            Val::List(vec![]),
            Val::List(vec![Val::U64(1), Val::U64(u64::MAX)]),
        ]),
    );
    // Nested: list<record { a: option<variant { x(f32), y(string) }>, b: flags }>.
    let v_ty = T::Variant(vec![
        ("x".into(), Some(T::F32)),
        ("y".into(), Some(T::String)),
    ]);
    let elem = T::Record(vec![
        ("a".into(), T::Option(b(v_ty))),
        ("b".into(), T::Flags(labels(&["p", "q"]))),
    ]);
    let item = |a: Option<Val>, flags: &[&str]| {
        Val::Record(vec![
            ("a".into(), Val::Option(a.map(Box::new))),
            ("b".into(), Val::Flags(labels(flags))),
        ])
    };
    roundtrip(
        T::List(b(elem)),
        Val::List(vec![
            item(None, &[]),
            item(Some(Val::Variant("x".into(), some(Val::F32(0.25)))), &["q"]),
            item(Some(Val::Variant("y".into(), some(s("ünï")))), &["p", "q"]),
        ]),
    );
}

#[test]
fn list_memory_layout() {
    let mut cx = Cx::utf8();
    let ty = T::List(b(T::Tuple(vec![T::U8, T::U32])));
    let v = Val::List(vec![
        Val::Tuple(vec![Val::U8(1), Val::U32(0x0a0b0c0d)]),
        Val::Tuple(vec![Val::U8(2), Val::U32(7)]),
    ]);
    let flat = lower::lower_flat(&mut cx, &v, &ty).unwrap();
    // One allocation of 2 × 8 bytes, 4-aligned.
    assert_eq!(cx.reallocs, [(0, 0, 4, 16)]);
    assert_eq!(flat, [CoreVal::I32(1024), CoreVal::I32(2)]);
    assert_eq!(
        cx.bytes(1024, 16),
        [1, 0, 0, 0, 0x0d, 0x0c, 0x0b, 0x0a, 2, 0, 0, 0, 7, 0, 0, 0]
    );
}

#[test]
fn record_and_variant_memory_layout() {
    let mut cx = Cx::utf8();
    let ty = T::Record(vec![
        ("a".into(), T::U8),
        ("b".into(), T::U32),
        ("c".into(), T::Option(b(T::U16))),
        ("d".into(), T::Flags(n_labels(9))),
    ]);
    let v = Val::Record(vec![
        ("a".into(), Val::U8(0xaa)),
        ("b".into(), Val::U32(0x11223344)),
        ("c".into(), Val::Option(some(Val::U16(0x5566)))),
        ("d".into(), Val::Flags(labels(&["f0", "f8"]))),
    ]);
    // a @0, b @4, c @8 (disc @8, payload @10), d @12 (2 bytes) → 14, align 4 → 16.
    assert_eq!(elem_size(&ty, PtrType::I32), 16);
    lower::store(&mut cx, &v, &ty, 32).unwrap();
    assert_eq!(
        cx.bytes(32, 14),
        [
            0xaa, 0, 0, 0, 0x44, 0x33, 0x22, 0x11, 1, 0, 0x66, 0x55, 0x01, 0x01
        ]
    );
    assert_eq!(lift::load(&mut cx, 32, &ty).unwrap(), v);
}

#[test]
fn variant_flat_joins() {
    let mut cx = Cx::utf8();
    let ty = T::Variant(vec![
        ("a".into(), Some(T::F32)),
        ("b".into(), Some(T::U64)),
        ("c".into(), Some(T::Tuple(vec![T::U8, T::F64]))),
        ("d".into(), None),
    ]);
    // Slots: disc i32, join(f32, i64, i32) = i64, join(f64) = f64.
    assert_eq!(
        flatten_type(&ty, PtrType::I32),
        [FlatType::I32, FlatType::I64, FlatType::F64]
    );
    let lower = |cx: &mut Cx, v: Val| lower::lower_flat(cx, &v, &ty).unwrap();
    assert_eq!(
        lower(&mut cx, Val::Variant("a".into(), some(Val::F32(1.5)))),
        [
            CoreVal::I32(0),
            CoreVal::I64(i64::from(1.5f32.to_bits())),
            CoreVal::F64(0)
        ]
    );
    assert_eq!(
        lower(
            &mut cx,
            Val::Variant(
                "c".into(),
                some(Val::Tuple(vec![Val::U8(255), Val::F64(2.0)]))
            )
        ),
        [
            CoreVal::I32(2),
            CoreVal::I64(255),
            CoreVal::F64(2.0f64.to_bits())
        ]
    );
    assert_eq!(
        lower(&mut cx, Val::Variant("d".into(), None)),
        [CoreVal::I32(3), CoreVal::I64(0), CoreVal::F64(0)]
    );
    // i32 slot shared with f32: result<f32, u32>.
    let r = T::Result {
        ok: Some(b(T::F32)),
        err: Some(b(T::U32)),
    };
    assert_eq!(
        lower::lower_flat(&mut cx, &Val::Result(Ok(some(Val::F32(-1.0)))), &r).unwrap(),
        [CoreVal::I32(0), CoreVal::I32((-1.0f32).to_bits() as i32)]
    );
    // Lifting a u8 payload from an i64 slot wraps to 32 bits, then to 8.
    let v = lift::lift_flat(
        &mut cx,
        &[
            CoreVal::I32(2),
            CoreVal::I64(0x1_0000_01ff),
            CoreVal::F64(0),
        ],
        &ty,
    )
    .unwrap();
    assert_eq!(
        v,
        Val::Variant(
            "c".into(),
            some(Val::Tuple(vec![Val::U8(0xff), Val::F64(0.0)]))
        )
    );
}

#[test]
fn flags_round_trip_and_ignore_unused_bits() {
    for n in [1, 8, 9, 16, 17, 32] {
        let ty = T::Flags(n_labels(n));
        roundtrip(ty.clone(), Val::Flags(vec![]));
        roundtrip(ty.clone(), Val::Flags(n_labels(n)));
        roundtrip(ty, Val::Flags(vec![format!("f{}", n - 1)]));
    }
    let mut cx = Cx::utf8();
    let ty = T::Flags(labels(&["a", "b", "c"]));
    // Order of the host's labels does not matter when lowering.
    let flat = lower::lower_flat(&mut cx, &Val::Flags(labels(&["c", "a"])), &ty).unwrap();
    assert_eq!(flat, [CoreVal::I32(0b101)]);
    // Unused bits are ignored when lifting, flat and from memory.
    let v = lift::lift_flat(&mut cx, &[CoreVal::I32(-1)], &ty).unwrap();
    assert_eq!(v, Val::Flags(labels(&["a", "b", "c"])));
    cx.put(8, &[0xfa]);
    let v = lift::load(&mut cx, 8, &ty).unwrap();
    assert_eq!(v, Val::Flags(labels(&["b"])));
    let nine = T::Flags(n_labels(9));
    cx.put(10, &[0x00, 0xff]);
    assert_eq!(
        lift::load(&mut cx, 10, &nine).unwrap(),
        Val::Flags(labels(&["f8"]))
    );
    // More than 32 labels is an error, not a silent truncation.
    let too_many = T::Flags(n_labels(33));
    assert_eq!(
        lower::lower_flat(&mut cx, &Val::Flags(vec![]), &too_many),
        Err(CanonError::TooManyFlags(33))
    );
}

#[test]
fn resources_round_trip_through_the_handle_table() {
    let mut cx = Cx::utf8();
    let own = T::Own(ResourceTypeId::from_u32(1));
    let borrow = T::Borrow(ResourceTypeId::from_u32(1));
    roundtrip_as(
        &mut cx,
        &own,
        &resource(1, true, 77),
        &resource(1, true, 77),
    );
    assert!(cx.table.is_empty());
    // A borrow becomes a borrow handle in the callee's scope, lifted as a lend.
    roundtrip_as(
        &mut cx,
        &borrow,
        &resource(1, true, 5),
        &resource(1, false, 5),
    );
    assert_eq!(cx.table.borrows_in(cx.scope), Ok(2));
    assert_eq!(cx.lends.len(), 2);
    // Flat: the handle index is the core value.
    let flat = lower::lower_flat(&mut cx, &resource(1, true, 8), &own).unwrap();
    let CoreVal::I32(index) = flat[0] else {
        panic!()
    };
    assert_eq!(
        cx.table.rep(index as u32, ResourceTypeId::from_u32(1)),
        Ok(8)
    );
    // Lifting it twice: the second time the index is gone.
    lift::lift_flat(&mut cx, &flat, &own).unwrap();
    assert_eq!(
        lift::lift_flat(&mut cx, &flat, &own)
            .unwrap_err()
            .to_string(),
        format!("unknown handle index {index}")
    );
}

fn ft(params: Vec<T>, result: Option<T>) -> FuncType {
    FuncType {
        params: params
            .into_iter()
            .enumerate()
            .map(|(i, t)| (format!("p{i}"), t))
            .collect(),
        result,
        is_async: false,
    }
}

#[test]
fn flat_params_and_results() {
    let mut cx = Cx::utf8();
    let f = ft(vec![T::U8, T::String, T::F64], Some(T::S32));
    let args = [Val::U8(1), s("hé"), Val::F64(3.0)];
    let flat = lower_params_vec(&mut cx, &f, &args).unwrap();
    assert_eq!(
        flat,
        [
            CoreVal::I32(1),
            CoreVal::I32(1024),
            CoreVal::I32(3),
            CoreVal::F64(3.0f64.to_bits())
        ]
    );
    assert_eq!(lift_params(&mut cx, &f, &flat).unwrap(), args);
    assert_eq!(return_pointer(&f, &flat, PtrType::I32), Ok(None));
    let out = lower_results_vec(&mut cx, &f, Some(&Val::S32(-9)), None).unwrap();
    assert_eq!(out, [CoreVal::I32(-9)]);
    assert_eq!(lift_results(&mut cx, &f, &out).unwrap(), Some(Val::S32(-9)));
    // No result.
    let g = ft(vec![], None);
    assert_eq!(lower_results_vec(&mut cx, &g, None, None).unwrap(), []);
    assert_eq!(lift_results(&mut cx, &g, &[]).unwrap(), None);
    assert_eq!(lower_params_vec(&mut cx, &g, &[]).unwrap(), []);
}

#[test]
fn params_spill_over_sixteen() {
    // 16 flat values stay flat.
    let mut cx = Cx::utf8();
    let f16 = ft(vec![T::U32; 16], None);
    let args16: Vec<Val> = (0..16).map(Val::U32).collect();
    let flat = lower_params_vec(&mut cx, &f16, &args16).unwrap();
    assert_eq!(flat.len(), 16);
    assert!(cx.reallocs.is_empty());

    // 17 spill: one allocation of the tuple (17 × 4 bytes, align 4).
    let f17 = ft(vec![T::U32; 17], None);
    let args17: Vec<Val> = (0..17).map(|i| Val::U32(i * 3)).collect();
    let flat = lower_params_vec(&mut cx, &f17, &args17).unwrap();
    assert_eq!(cx.reallocs, [(0, 0, 4, 68)]);
    assert_eq!(flat, [CoreVal::I32(1024)]);
    assert_eq!(cx.bytes(1024 + 8, 4), 6u32.to_le_bytes());
    assert_eq!(lift_params(&mut cx, &f17, &flat).unwrap(), args17);

    // Mixed types spill with their alignment: u8 @0, u64 @8, string @16, …
    let mut cx = Cx::new(StringEncoding::Utf16);
    let mut types = vec![T::U8, T::U64, T::String];
    types.extend(vec![T::F32; 14]);
    let f = ft(types, None);
    let mut args = vec![Val::U8(7), Val::U64(u64::MAX - 1), s("ñ😀")];
    args.extend((0..14).map(|i| Val::F32(i as f32)));
    let flat = lower_params_vec(&mut cx, &f, &args).unwrap();
    // The tuple is allocated first (8-aligned, 24 + 14 × 4 = 80 bytes), then the string.
    assert_eq!(cx.reallocs[0], (0, 0, 8, 80));
    assert_eq!(cx.reallocs[1], (0, 0, 2, 12));
    let CoreVal::I32(ptr) = flat[0] else { panic!() };
    let ptr = ptr as u32;
    assert_eq!(cx.bytes(ptr, 1), [7]);
    assert_eq!(cx.bytes(ptr + 8, 8), (u64::MAX - 1).to_le_bytes());
    assert_eq!(lift_params(&mut cx, &f, &flat).unwrap(), args);

    // Nine strings are 18 flat values: spilled too.
    let mut cx = Cx::utf8();
    let f9 = ft(vec![T::String; 9], Some(T::U8));
    let args9: Vec<Val> = (0..9).map(|i| s(&"x".repeat(i))).collect();
    let flat = lower_params_vec(&mut cx, &f9, &args9).unwrap();
    assert_eq!(flat.len(), 1);
    assert_eq!(lift_params(&mut cx, &f9, &flat).unwrap(), args9);
}

#[test]
fn results_spill_over_one() {
    let mut cx = Cx::utf8();
    let f = ft(vec![T::U32], Some(T::Tuple(vec![T::U32, T::U32])));
    let result = Val::Tuple(vec![Val::U32(5), Val::U32(6)]);
    // Lowered import: the caller passes a return pointer as the last argument.
    let args = [CoreVal::I32(1), CoreVal::I32(64)];
    assert_eq!(lift_params(&mut cx, &f, &args).unwrap(), [Val::U32(1)]);
    assert_eq!(return_pointer(&f, &args, PtrType::I32), Ok(Some(64)));
    assert_eq!(
        lower_results_vec(&mut cx, &f, Some(&result), Some(64)).unwrap(),
        []
    );
    assert_eq!(cx.bytes(64, 8), [5, 0, 0, 0, 6, 0, 0, 0]);
    // Lifted export: the core function returns the pointer.
    assert_eq!(
        lift_results(&mut cx, &f, &[CoreVal::I32(64)]).unwrap(),
        Some(result)
    );
    // A string result spills; its bytes are allocated by realloc.
    let g = ft(vec![], Some(T::String));
    lower_results_vec(&mut cx, &g, Some(&s("ok")), Some(96)).unwrap();
    assert_eq!(cx.reallocs, [(0, 0, 1, 2)]);
    assert_eq!(
        lift_results(&mut cx, &g, &[CoreVal::I32(96)]).unwrap(),
        Some(s("ok"))
    );
    // option<u8> is two flat values: spilled.
    let h = ft(vec![], Some(T::Option(b(T::U8))));
    lower_results_vec(&mut cx, &h, Some(&Val::Option(some(Val::U8(3)))), Some(200)).unwrap();
    assert_eq!(cx.bytes(200, 2), [1, 3]);
    // A single f32 does not spill.
    let k = ft(vec![], Some(T::F32));
    assert_eq!(
        lower_results_vec(&mut cx, &k, Some(&Val::F32(1.0)), None).unwrap(),
        [CoreVal::F32(1.0f32.to_bits())]
    );
    // Missing return pointer.
    assert_eq!(
        lower_results_vec(&mut cx, &g, Some(&s("x")), None),
        Err(CanonError::MissingReturnPointer)
    );
    assert_eq!(
        return_pointer(&g, &[], PtrType::I32),
        Err(CanonError::MissingReturnPointer)
    );
}

/// Lowers `text`, checks the (tagged) length, the bytes and the realloc
/// calls, then lifts it back.
fn check_string(
    encoding: StringEncoding,
    text: &str,
    units: u32,
    bytes: &[u8],
    reallocs: &[(u32, u32, u32, u32)],
) {
    let mut cx = Cx::new(encoding);
    let flat = lower::lower_flat(&mut cx, &s(text), &T::String).unwrap();
    let [CoreVal::I32(ptr), CoreVal::I32(len)] = flat[..] else {
        panic!()
    };
    assert_eq!(len as u32, units, "{encoding:?} {text:?}");
    assert_eq!(
        cx.bytes(ptr as u32, bytes.len() as u32),
        bytes,
        "{encoding:?} {text:?}"
    );
    assert_eq!(cx.reallocs, reallocs, "{encoding:?} {text:?}");
    assert_eq!(
        lift::lift_flat(&mut cx, &flat, &T::String).unwrap(),
        s(text)
    );
}

fn utf16le(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

#[test]
fn strings_in_utf8() {
    use StringEncoding::Utf8;
    check_string(Utf8, "", 0, &[], &[(0, 0, 1, 0)]);
    check_string(Utf8, "hello", 5, b"hello", &[(0, 0, 1, 5)]);
    let text = "café 日本 😀";
    let n = text.len() as u32;
    check_string(Utf8, text, n, text.as_bytes(), &[(0, 0, 1, n)]);
}

#[test]
fn strings_in_utf16() {
    use StringEncoding::Utf16;
    check_string(Utf16, "", 0, &[], &[(0, 0, 2, 0)]);
    // ASCII: worst case exactly fits, no shrink.
    check_string(Utf16, "hi", 2, &utf16le("hi"), &[(0, 0, 2, 4)]);
    // "café": 5 utf8 bytes → worst case 10, 4 units → shrink to 8.
    check_string(
        Utf16,
        "café",
        4,
        &utf16le("café"),
        &[(0, 0, 2, 10), (1024, 10, 2, 8)],
    );
    // A surrogate pair: "a😀" is 5 bytes, 3 units.
    check_string(
        Utf16,
        "a😀",
        3,
        &[0x61, 0, 0x3d, 0xd8, 0x00, 0xde],
        &[(0, 0, 2, 10), (1024, 10, 2, 6)],
    );
}

#[test]
fn strings_in_latin1_or_utf16() {
    use StringEncoding::Latin1Utf16;
    check_string(Latin1Utf16, "", 0, &[], &[(0, 0, 2, 0)]);
    // Pure ASCII: latin1, no shrink.
    check_string(Latin1Utf16, "hello", 5, b"hello", &[(0, 0, 2, 5)]);
    // Latin-1 representable non-ASCII: 7 utf8 bytes, 5 latin1 bytes → shrink.
    check_string(
        Latin1Utf16,
        "ñaïve",
        5,
        &[0xf1, b'a', 0xef, b'v', b'e'],
        &[(0, 0, 2, 7), (1024, 7, 2, 5)],
    );
    check_string(
        Latin1Utf16,
        "ÿ",
        1,
        &[0xff],
        &[(0, 0, 2, 2), (1024, 2, 2, 1)],
    );
    // Not representable: grow to 2 × 9 (the test allocator moves the block
    // on growth), inflate, shrink to 6, tag.
    check_string(
        Latin1Utf16,
        "日本語",
        3 | UTF16_TAG,
        &utf16le("日本語"),
        &[(0, 0, 2, 9), (1024, 9, 2, 18), (1034, 18, 2, 6)],
    );
    // Latin-1 prefix inflated in place: "aé日" = 6 utf8 bytes; 'a', 'é' written
    // as latin1, then grown to 12 and inflated, then shrunk to 6.
    check_string(
        Latin1Utf16,
        "aé日",
        3 | UTF16_TAG,
        &[0x61, 0, 0xe9, 0, 0xe5, 0x65],
        &[(0, 0, 2, 6), (1024, 6, 2, 12), (1030, 12, 2, 6)],
    );
    // Surrogate pairs: "é😀" = 6 bytes, 3 units: worst case exactly fits.
    check_string(
        Latin1Utf16,
        "é😀",
        3 | UTF16_TAG,
        &utf16le("é😀"),
        &[(0, 0, 2, 6), (1024, 6, 2, 12), (1030, 12, 2, 6)],
    );
}

/// Stores `text`, lifted from `bytes` (`units` code units, tagged) in
/// `from`, into a context with encoding `to`, and checks the pointer and
/// (tagged) length, the bytes stored and the `realloc` calls, which the
/// spec makes depend on the source.
fn check_transcoded(
    (from, bytes, units): (StringEncoding, &[u8], u32),
    to: StringEncoding,
    text: &str,
    stored: (u32, u32, &[u8]),
    reallocs: &[(u32, u32, u32, u32)],
) {
    let (lifted, source) =
        string::lift_string(bytes, from, PtrType::I32, 0, u64::from(units)).unwrap();
    assert_eq!(lifted, text);
    let mut cx = Cx::new(to);
    let (ptr, len) = string::store_string_into_range(&mut cx, &lifted, source).unwrap();
    let (expected_ptr, expected_len, expected_bytes) = stored;
    let case = format!("{from:?} → {to:?} {text:?}");
    assert_eq!(
        (ptr, len),
        (u64::from(expected_ptr), u64::from(expected_len)),
        "{case}"
    );
    assert_eq!(
        cx.bytes(ptr as u32, expected_bytes.len() as u32),
        expected_bytes,
        "{case}"
    );
    assert_eq!(cx.reallocs, reallocs, "{case}");
}

#[test]
fn strings_between_encodings_are_stored_as_their_source_decides() {
    use StringEncoding::{Latin1Utf16, Utf8, Utf16};
    let utf16 = |text: &str| (Utf16, utf16le(text), text.encode_utf16().count() as u32);
    // utf16 to utf8: one byte per unit, grown to three per unit at the
    // first character beyond ASCII, shrunk to the encoded size.
    let (e, b, n) = utf16("café");
    check_transcoded(
        (e, &b, n),
        Utf8,
        "café",
        (1028, 5, "café".as_bytes()),
        &[(0, 0, 1, 4), (1024, 4, 1, 12), (1028, 12, 1, 5)],
    );
    let (e, b, n) = utf16("hi");
    check_transcoded((e, &b, n), Utf8, "hi", (1024, 2, b"hi"), &[(0, 0, 1, 2)]);
    // latin1 to utf8: grown to two bytes per unit, which fits "ñ" exactly.
    check_transcoded(
        (Latin1Utf16, &[0xf1], 1),
        Utf8,
        "ñ",
        (1025, 2, "ñ".as_bytes()),
        &[(0, 0, 1, 1), (1024, 1, 1, 2)],
    );
    // To utf16 from utf16 or latin1: one copy of as many units.
    let (e, b, n) = utf16("日");
    check_transcoded((e, &b, n), Utf16, "日", (1024, 1, &b), &[(0, 0, 2, 2)]);
    check_transcoded(
        (Latin1Utf16, &[0xf1], 1),
        Utf16,
        "ñ",
        (1024, 1, &[0xf1, 0]),
        &[(0, 0, 2, 2)],
    );
    // latin1+utf16 to itself: latin1 is copied; utf16 is written as utf16
    // and narrowed (then shrunk, aligned to 1) if it is all latin1.
    check_transcoded(
        (Latin1Utf16, &[0xf1], 1),
        Latin1Utf16,
        "ñ",
        (1024, 1, &[0xf1]),
        &[(0, 0, 2, 1)],
    );
    check_transcoded(
        (Latin1Utf16, &[0xf1, 0], 1 | UTF16_TAG),
        Latin1Utf16,
        "ñ",
        (1024, 1, &[0xf1]),
        &[(0, 0, 2, 2), (1024, 2, 1, 1)],
    );
    check_transcoded(
        (Latin1Utf16, &utf16le("日"), 1 | UTF16_TAG),
        Latin1Utf16,
        "日",
        (1024, 1 | UTF16_TAG, &utf16le("日")),
        &[(0, 0, 2, 2)],
    );
    // Plain utf16 to latin1+utf16: one byte per unit first, which "ñ"
    // fits without a shrink (from utf8, its two bytes would shrink to one).
    let (e, b, n) = utf16("ñ");
    check_transcoded(
        (e, &b, n),
        Latin1Utf16,
        "ñ",
        (1024, 1, &[0xf1]),
        &[(0, 0, 2, 1)],
    );
}

#[test]
fn a_source_that_cannot_hold_the_string_is_taken_for_the_hosts() {
    let (_, source) =
        string::lift_string(&utf16le("ab"), StringEncoding::Utf16, PtrType::I32, 0, 2).unwrap();
    assert!(source.holds("ab") && !source.holds("abc") && !source.holds("日"));
    let mut cx = Cx::new(StringEncoding::Utf8);
    let stored = string::store_string_into_range(&mut cx, "日", source).unwrap();
    assert_eq!(stored, (1024, 3));
    assert_eq!(cx.reallocs, [(0, 0, 1, 3)]);
}

#[test]
fn growing_realloc_moves_latin1_prefix() {
    // An allocator that moves on growth: the latin1 prefix must be carried
    // over by realloc and then inflated at the new place.
    let mut cx = Cx::new(StringEncoding::Latin1Utf16);
    cx.next = 2000;
    let flat = lower::lower_flat(&mut cx, &s("ab日"), &T::String).unwrap();
    assert_eq!(cx.reallocs[0], (0, 0, 2, 5));
    assert_eq!(cx.reallocs[1], (2000, 5, 2, 10));
    let [CoreVal::I32(ptr), _] = flat[..] else {
        panic!()
    };
    assert_eq!(ptr, 2006);
    assert_eq!(cx.bytes(2006, 6), utf16le("ab日"));
}

#[test]
fn lifting_strings_of_each_encoding() {
    let mut cx = Cx::new(StringEncoding::Latin1Utf16);
    // Untagged: latin1 bytes.
    cx.put(100, &[b'a', 0xe9, 0xff]);
    assert_eq!(
        lift::lift_flat(&mut cx, &[CoreVal::I32(100), CoreVal::I32(3)], &T::String).unwrap(),
        s("aéÿ")
    );
    // Tagged: utf16.
    cx.put(200, &utf16le("z😀"));
    let tagged = (3 | UTF16_TAG) as i32;
    assert_eq!(
        lift::lift_flat(
            &mut cx,
            &[CoreVal::I32(200), CoreVal::I32(tagged)],
            &T::String
        )
        .unwrap(),
        s("z😀")
    );
    // The same bytes as utf16 with the length in code units.
    let mut cx16 = Cx::new(StringEncoding::Utf16);
    cx16.put(200, &utf16le("z😀"));
    assert_eq!(
        lift::lift_flat(&mut cx16, &[CoreVal::I32(200), CoreVal::I32(3)], &T::String).unwrap(),
        s("z😀")
    );
    // A string ending exactly at the end of memory.
    let mut cx = Cx::utf8();
    cx.put(65534, b"ok");
    assert_eq!(
        lift::lift_flat(&mut cx, &[CoreVal::I32(65534), CoreVal::I32(2)], &T::String).unwrap(),
        s("ok")
    );
}

fn lift_err(cx: &mut Cx, flat: &[i32], ty: &T) -> String {
    let flat: Vec<CoreVal> = flat.iter().map(|&x| CoreVal::I32(x)).collect();
    lift::lift_flat(cx, &flat, ty).unwrap_err().to_string()
}

#[test]
fn bad_chars_trap() {
    let mut cx = Cx::utf8();
    for bad in [0xD800u32, 0xDFFF, 0x110000, u32::MAX] {
        let e = lift_err(&mut cx, &[bad as i32], &T::Char);
        assert!(e.starts_with("invalid `char` bit pattern"), "{e}");
        cx.put(0, &bad.to_le_bytes());
        assert_eq!(
            lift::load(&mut cx, 0, &T::Char),
            Err(CanonError::InvalidChar(bad))
        );
    }
}

#[test]
fn bad_discriminants_trap() {
    let mut cx = Cx::utf8();
    let option = T::Option(b(T::U8));
    let e = lift_err(&mut cx, &[2, 0], &option);
    assert!(e.starts_with("invalid variant discriminant"), "{e}");
    let en = T::Enum(labels(&["a", "b", "c"]));
    assert!(lift_err(&mut cx, &[3], &en).starts_with("invalid variant discriminant"));
    assert!(lift_err(&mut cx, &[-1], &en).starts_with("invalid variant discriminant"));
    cx.put(0, &[3]);
    assert_eq!(
        lift::load(&mut cx, 0, &en),
        Err(CanonError::InvalidDiscriminant {
            discriminant: 3,
            cases: 3
        })
    );
    let res = T::Result {
        ok: None,
        err: None,
    };
    cx.put(0, &[2]);
    assert!(lift::load(&mut cx, 0, &res).is_err());
    // u16 discriminant read in full.
    let big = T::Enum(n_labels(300));
    cx.put(0, &300u16.to_le_bytes());
    assert!(matches!(
        lift::load(&mut cx, 0, &big),
        Err(CanonError::InvalidDiscriminant {
            discriminant: 300,
            ..
        })
    ));
}

#[test]
fn out_of_bounds_pointers_trap() {
    let mut cx = Cx::utf8();
    // String pointer out of bounds, even with length 0.
    let e = lift_err(&mut cx, &[0xdeadbeefu32 as i32, 0], &T::String);
    assert!(
        e.starts_with("string pointer/length out of bounds of memory"),
        "{e}"
    );
    // One byte past the end.
    let e = lift_err(&mut cx, &[65535, 2], &T::String);
    assert!(
        e.starts_with("string pointer/length out of bounds of memory"),
        "{e}"
    );
    // Through a string stored in memory.
    cx.put_u32s(0, &[65000, 1000]);
    assert!(matches!(
        lift::load(&mut cx, 0, &T::String),
        Err(CanonError::StringOutOfBounds { .. })
    ));
    // Lists.
    let list = T::List(b(T::U32));
    let e = lift_err(&mut cx, &[65532, 2], &list);
    assert!(
        e.starts_with("list pointer/length out of bounds of memory"),
        "{e}"
    );
    assert!(lift_err(&mut cx, &[-4, 0], &list).starts_with("list pointer/length out of bounds"));
    // Spilled params and results.
    let f = ft(vec![T::U32; 17], Some(T::String));
    let e = lift_params(&mut cx, &f, &[CoreVal::I32(65532), CoreVal::I32(0)]).unwrap_err();
    assert!(
        e.to_string().starts_with("out of bounds memory access"),
        "{e}"
    );
    let e = lift_results(&mut cx, &f, &[CoreVal::I32(65532)]).unwrap_err();
    assert!(
        matches!(
            e,
            CanonError::OutOfBounds {
                what: "results",
                ..
            }
        ),
        "{e}"
    );
    // The return pointer of a lowered import.
    let e = lower_results_vec(&mut cx, &f, Some(&s("x")), Some(65532)).unwrap_err();
    assert!(
        matches!(
            e,
            CanonError::OutOfBounds {
                what: "return pointer",
                ..
            }
        ),
        "{e}"
    );
    // Plain loads and stores.
    assert!(lift::load(&mut cx, 65534, &T::U32).is_err());
    assert!(lower::store(&mut cx, &Val::U64(0), &T::U64, 65536).is_err());
}

#[test]
fn misaligned_pointers_trap() {
    let mut cx = Cx::new(StringEncoding::Utf16);
    // utf16 string pointers must be 2-aligned, even when empty.
    let e = lift_err(&mut cx, &[1, 0], &T::String);
    assert!(e.starts_with("unaligned pointer"), "{e}");
    let mut cx = Cx::new(StringEncoding::Latin1Utf16);
    assert!(lift_err(&mut cx, &[1, 1], &T::String).starts_with("unaligned pointer"));
    let tagged = (1 | UTF16_TAG) as i32;
    assert!(lift_err(&mut cx, &[1, tagged], &T::String).starts_with("unaligned pointer"));
    // utf8 strings have no alignment.
    let mut cx = Cx::utf8();
    cx.put(1, b"x");
    assert_eq!(
        lift::lift_flat(&mut cx, &[CoreVal::I32(1), CoreVal::I32(1)], &T::String),
        Ok(s("x"))
    );
    // Lists by element alignment.
    let e = lift_err(&mut cx, &[2, 1], &T::List(b(T::U32)));
    assert!(e.starts_with("unaligned pointer"), "{e}");
    assert!(lift_err(&mut cx, &[4, 1], &T::List(b(T::U64))).starts_with("unaligned pointer"));
    // Spilled params, spilled results, return pointers.
    let f = ft(vec![T::U32; 17], Some(T::Tuple(vec![T::U32, T::U32])));
    let e = lift_params(&mut cx, &f, &[CoreVal::I32(2), CoreVal::I32(8)]).unwrap_err();
    assert!(e.to_string().starts_with("unaligned pointer"), "{e}");
    let e = lift_results(&mut cx, &f, &[CoreVal::I32(1)]).unwrap_err();
    assert!(e.to_string().starts_with("unaligned pointer"), "{e}");
    let v = Val::Tuple(vec![Val::U32(1), Val::U32(2)]);
    let e = lower_results_vec(&mut cx, &f, Some(&v), Some(1)).unwrap_err();
    assert!(e.to_string().starts_with("unaligned pointer"), "{e}");
    // Direct loads and stores.
    assert!(lift::load(&mut cx, 2, &T::U32).is_err());
    assert!(lower::store(&mut cx, &Val::U16(1), &T::U16, 3).is_err());
}

#[test]
fn invalid_utf8_traps() {
    let mut cx = Cx::utf8();
    cx.put(8, &[0xff]);
    let e = lift_err(&mut cx, &[8, 1], &T::String);
    assert!(e.starts_with("invalid utf-8"), "{e}");
    cx.put(8, &[0xc3]);
    let e = lift_err(&mut cx, &[8, 1], &T::String);
    assert!(e.starts_with("incomplete utf-8 byte sequence"), "{e}");
    // An encoded surrogate is invalid utf-8.
    cx.put(8, &[b'a', 0xed, 0xa0, 0x80]);
    assert_eq!(
        lift_err(&mut cx, &[8, 4], &T::String),
        "invalid utf-8 sequence of 1 bytes from index 1"
    );
}

#[test]
fn invalid_utf16_traps() {
    let mut cx = Cx::new(StringEncoding::Utf16);
    // Lone high surrogate followed by 'a'.
    cx.put(8, &[0x00, 0xd8, 0x61, 0x00]);
    let e = lift_err(&mut cx, &[8, 2], &T::String);
    assert_eq!(
        e,
        "invalid utf-16: unpaired surrogate 0xd800 at code unit 0"
    );
    // Lone low surrogate after a character.
    cx.put(8, &[0x61, 0x00, 0x00, 0xdc]);
    assert_eq!(
        lift_err(&mut cx, &[8, 2], &T::String),
        "invalid utf-16: unpaired surrogate 0xdc00 at code unit 1"
    );
    // High surrogate at the very end.
    cx.put(8, &[0x3d, 0xd8]);
    assert!(lift_err(&mut cx, &[8, 1], &T::String).starts_with("invalid utf-16"));
    // The same through latin1+utf16's tagged form.
    let mut cx = Cx::new(StringEncoding::Latin1Utf16);
    cx.put(8, &[0x00, 0xdc]);
    let tagged = (1 | UTF16_TAG) as i32;
    assert!(lift_err(&mut cx, &[8, tagged], &T::String).starts_with("invalid utf-16"));
}

#[test]
fn length_limits_trap() {
    let mut cx = Cx::utf8();
    // list<u64> of 2^25 elements is 2^28 bytes: one more than allowed.
    let e = lift_err(&mut cx, &[0, 1 << 25], &T::List(b(T::U64)));
    assert!(e.starts_with("list too long"), "{e}");
    assert!(lift_err(&mut cx, &[0, -1], &T::List(b(T::U32))).starts_with("list too long"));
    // The length check comes before the bounds check, as in the spec.
    assert!(lift_err(&mut cx, &[1, -1], &T::List(b(T::U8))).starts_with("list too long"));
    // utf16 length in code units is doubled.
    let mut cx = Cx::new(StringEncoding::Utf16);
    assert!(lift_err(&mut cx, &[0, 1 << 27], &T::String).starts_with("string too long"));
    let mut cx = Cx::utf8();
    assert!(lift_err(&mut cx, &[0, 1 << 28], &T::String).starts_with("string too long"));
    let mut cx = Cx::new(StringEncoding::Latin1Utf16);
    let tagged = ((1 << 27) | UTF16_TAG) as i32;
    assert!(lift_err(&mut cx, &[0, tagged], &T::String).starts_with("string too long"));
}

#[test]
fn bad_realloc_results_trap() {
    // Misaligned: checked before bounds.
    let mut cx = Cx::utf8();
    cx.forced = Some(u32::MAX);
    let list = Val::List(vec![Val::U32(1), Val::U32(2)]);
    let e = lower::lower_flat(&mut cx, &list, &T::List(b(T::U32))).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("realloc return: result not aligned"),
        "{e}"
    );
    // Out of bounds, even for an empty list.
    cx.forced = Some(u32::MAX - 3);
    let e = lower::lower_flat(&mut cx, &Val::List(vec![]), &T::List(b(T::U32))).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("realloc return: beyond end of memory"),
        "{e}"
    );
    // Strings, and the spilled-parameter block.
    cx.forced = Some(65535);
    let e = lower::lower_flat(&mut cx, &s("ab"), &T::String).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("realloc return: beyond end of memory"),
        "{e}"
    );
    cx.forced = Some(2);
    let f = ft(vec![T::U32; 17], None);
    let args: Vec<Val> = (0..17).map(Val::U32).collect();
    let e = lower_params_vec(&mut cx, &f, &args).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("realloc return: result not aligned"),
        "{e}"
    );
    let mut cx = Cx::new(StringEncoding::Utf16);
    cx.forced = Some(1);
    let e = lower::lower_flat(&mut cx, &s("ab"), &T::String).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("realloc return: result not aligned"),
        "{e}"
    );
}

#[test]
fn handle_misuse_traps() {
    let mut cx = Cx::utf8();
    let r = ResourceTypeId::from_u32(1);
    // Passing the same handle as borrow and then as own: the own lift sees
    // the lend (the reference test's `lend-trap`).
    let h = cx.table.new_own(r, 0x41).unwrap();
    let f = ft(vec![T::Borrow(r), T::Own(r)], None);
    let flat = [CoreVal::I32(h as i32), CoreVal::I32(h as i32)];
    let e = lift_params(&mut cx, &f, &flat).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("cannot remove owned resource while borrowed"),
        "{e}"
    );
    cx.table.end_lends(std::mem::take(&mut cx.lends));
    // Wrong type.
    let f2 = ft(vec![T::Own(ResourceTypeId::from_u32(2))], None);
    let e = lift_params(&mut cx, &f2, &[CoreVal::I32(h as i32)]).unwrap_err();
    assert!(
        e.to_string()
            .starts_with(&format!("handle index {h} used with the wrong type"))
    );
    // Unknown index.
    let e = lift_params(&mut cx, &f2, &[CoreVal::I32(3)]).unwrap_err();
    assert_eq!(e.to_string(), "unknown handle index 3");
    // A borrow cannot be lifted as an own.
    let bh = cx.table.new_borrow(r, 5, cx.scope).unwrap();
    let f3 = ft(vec![T::Own(r)], None);
    let e = lift_params(&mut cx, &f3, &[CoreVal::I32(bh as i32)]).unwrap_err();
    assert_eq!(e, CanonError::NotOwned(bh));
    // And the call may not return while the borrow is held.
    assert_eq!(
        cx.table.exit_call(cx.scope),
        Err(CanonError::BorrowsRemain(1))
    );
}

#[test]
fn host_value_errors() {
    let mut cx = Cx::utf8();
    let f = FuncType {
        params: vec![
            ("name".into(), T::String),
            (
                "opts".into(),
                T::Record(vec![("depth".into(), T::List(b(T::U8)))]),
            ),
        ],
        result: Some(T::U32),
        is_async: false,
    };
    let e = lower_params_vec(&mut cx, &f, &[s("a")]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "wrong number of arguments: expected 2, found 1"
    );
    let bad = Val::Record(vec![(
        "depth".into(),
        Val::List(vec![Val::U8(1), Val::U32(2)]),
    )]);
    let e = lower_params_vec(&mut cx, &f, &[s("a"), bad]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "type mismatch at `opts.depth[1]`: expected u8, found u32"
    );
    let e = lower_results_vec(&mut cx, &f, Some(&Val::S32(1)), None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "type mismatch at `result`: expected u32, found s32"
    );
    assert!(lower_results_vec(&mut cx, &f, None, None).is_err());
    // Nothing was allocated for the rejected calls.
    assert!(cx.reallocs.is_empty());
    // Core values of the wrong type or number.
    let e = lift_params(&mut cx, &f, &[CoreVal::I32(0)]).unwrap_err();
    assert!(
        e.to_string().starts_with("wrong number of core arguments"),
        "{e}"
    );
    let flat = [
        CoreVal::I32(0),
        CoreVal::F32(0),
        CoreVal::I32(0),
        CoreVal::I32(0),
    ];
    let e = lift_params(&mut cx, &f, &flat).unwrap_err();
    assert_eq!(e.to_string(), "core value 1 has type f32, expected i32");
    let e = lift_results(&mut cx, &f, &[]).unwrap_err();
    assert!(
        e.to_string().starts_with("wrong number of core results"),
        "{e}"
    );
    // Internal lowering helpers reject mismatched values without panicking.
    assert!(lower::lower_flat(&mut cx, &Val::U8(1), &T::String).is_err());
    assert!(lower::store(&mut cx, &Val::Enum("z".into()), &T::Enum(labels(&["a"])), 0).is_err());
    assert!(
        lower::lower_flat(
            &mut cx,
            &Val::Variant("a".into(), None),
            &T::Variant(vec![("a".into(), Some(T::U8))])
        )
        .is_err()
    );
}

#[test]
fn types_serialize() {
    let f = FuncType {
        params: vec![(
            "x".into(),
            T::Result {
                ok: Some(b(T::List(b(T::Own(ResourceTypeId::from_u32(3)))))),
                err: None,
            },
        )],
        result: Some(T::Variant(vec![
            ("a".into(), None),
            ("b".into(), Some(T::Char)),
        ])),
        is_async: false,
    };
    let bytes = postcard::to_allocvec(&f).unwrap();
    let back: FuncType = postcard::from_bytes(&bytes).unwrap();
    assert_eq!(back, f);
    let enc: StringEncoding =
        postcard::from_bytes(&postcard::to_allocvec(&StringEncoding::Latin1Utf16).unwrap())
            .unwrap();
    assert_eq!(enc, StringEncoding::Latin1Utf16);
    assert_eq!(
        T::Result {
            ok: None,
            err: Some(b(T::U8))
        }
        .to_string(),
        "result<_, u8>"
    );
    assert!(T::Flags(vec![]).validate().is_err());
    assert!(T::Flags(n_labels(33)).validate().is_err());
    assert!(T::List(b(T::Record(vec![]))).validate().is_err());
    assert!(T::Option(b(T::Flags(n_labels(32)))).validate().is_ok());
}

/// A 64-bit context.
fn cx64(encoding: StringEncoding) -> Cx {
    let mut cx = Cx::new(encoding);
    cx.ptr = PtrType::I64;
    cx
}

#[test]
fn pointers_of_64_bit_memories() {
    // A string is an `i64` pair, flat and in memory (16 bytes, 8-aligned).
    let mut cx = cx64(StringEncoding::Utf8);
    let flat = lower::lower_flat(&mut cx, &s("hey"), &T::String).unwrap();
    assert_eq!(flat, [CoreVal::I64(1024), CoreVal::I64(3)]);
    lower::store(&mut cx, &s("hey"), &T::String, 64).unwrap();
    assert_eq!(
        cx.bytes(64, 16),
        [1027u64.to_le_bytes(), 3u64.to_le_bytes()].concat()
    );
    assert_eq!(lift::load(&mut cx, 64, &T::String).unwrap(), s("hey"));
    let e = lift::load(&mut cx, 68, &T::String).unwrap_err();
    assert!(e.to_string().starts_with("unaligned pointer"), "{e}");
    // `i32` values where the type says `i64` are refused.
    let e = lift::lift_flat(&mut cx, &[CoreVal::I32(1024), CoreVal::I32(3)], &T::String);
    assert!(e.unwrap_err().to_string().contains("i64"));
    // A length beyond `u32` is too long, not wrapped.
    let huge = CoreVal::I64(1 << 32);
    let e = lift::lift_flat(&mut cx, &[CoreVal::I64(0), huge], &T::List(b(T::U8)));
    assert!(e.unwrap_err().to_string().starts_with("list too long"));

    // latin1+utf16 tags bit 63; bit 31 is just a (too large) length.
    let mut cx = cx64(StringEncoding::Latin1Utf16);
    let flat = lower::lower_flat(&mut cx, &s("日本"), &T::String).unwrap();
    let tagged = 2 | (1u64 << 63);
    assert_eq!(flat[1], CoreVal::I64(tagged as i64));
    assert_eq!(
        lift::lift_flat(&mut cx, &flat, &T::String).unwrap(),
        s("日本")
    );
    let old_tag = [flat[0], CoreVal::I64(i64::from(2 | UTF16_TAG))];
    let e = lift::lift_flat(&mut cx, &old_tag, &T::String).unwrap_err();
    assert!(e.to_string().starts_with("string too long"), "{e}");

    // Spilled parameters: `realloc` and the argument pointer are 64-bit; the
    // return pointer of a lowered import must be an `i64`.
    let mut cx = cx64(StringEncoding::Utf8);
    let f = ft(vec![T::String; 9], Some(T::String));
    let args: Vec<Val> = (0..9).map(|i| s(&"y".repeat(i))).collect();
    let flat = lower_params_vec(&mut cx, &f, &args).unwrap();
    assert_eq!(cx.reallocs[0], (0, 0, 8, 9 * 16));
    assert_eq!(flat, [CoreVal::I64(1024)]);
    assert_eq!(
        lift_params(&mut cx, &f, &[flat[0], CoreVal::I64(0)]).unwrap(),
        args
    );
    let retptr = [flat[0], CoreVal::I64(48)];
    assert_eq!(return_pointer(&f, &retptr, PtrType::I64), Ok(Some(48)));
    let e = return_pointer(&f, &[flat[0], CoreVal::I32(48)], PtrType::I64).unwrap_err();
    assert!(e.to_string().contains("i64"), "{e}");
    lower_results_vec(&mut cx, &f, Some(&s("ok")), Some(48)).unwrap();
    assert_eq!(
        lift_results(&mut cx, &f, &[CoreVal::I64(48)]).unwrap(),
        Some(s("ok"))
    );
}
