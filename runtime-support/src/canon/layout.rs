//! Memory layout of component values: the "Alignment" and "Element Size"
//! sections of `CanonicalABI.md` (`alignment`, `elem_size`,
//! `discriminant_type`, `max_case_alignment`, `alignment_flags`,
//! `elem_size_flags` of `definitions.py`), for either pointer type: only
//! strings and lists (a pointer and a length) depend on it.
//!
//! The compiler lays out values in generated adapters with the same
//! functions, so there is one definition of where every byte goes.

use super::types::{InterfaceType, PtrType};

/// The largest byte length of a list (`MAX_LIST_BYTE_LENGTH`): `2^28 - 1`.
pub const MAX_LIST_BYTE_LENGTH: u32 = (1 << 28) - 1;

/// Size and alignment of a value type in linear memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Layout {
    /// Bytes one value occupies (`elem_size`), a multiple of `align`.
    pub size: u32,
    /// Required alignment of its address (`alignment`), a power of two.
    pub align: u32,
}

/// Where a variant's parts sit, for variant-like types (variant, enum,
/// option, result).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VariantLayout {
    /// Size and alignment of the whole variant.
    pub layout: Layout,
    /// Bytes of the discriminant at offset 0: 1, 2 or 4.
    pub discriminant_size: u32,
    /// Offset of the payload: the discriminant rounded up to the largest
    /// payload alignment.
    pub payload_offset: u32,
}

/// Size and alignment of `ty` in a memory with pointers of type `ptr`,
/// computed in one walk.
pub fn layout(ty: &InterfaceType, ptr: PtrType) -> Layout {
    let scalar = |n| Layout { size: n, align: n };
    match ty {
        InterfaceType::Bool | InterfaceType::S8 | InterfaceType::U8 => scalar(1),
        InterfaceType::S16 | InterfaceType::U16 => scalar(2),
        InterfaceType::S32 | InterfaceType::U32 | InterfaceType::F32 | InterfaceType::Char => {
            scalar(4)
        }
        InterfaceType::S64 | InterfaceType::U64 | InterfaceType::F64 => scalar(8),
        // A pointer and a length.
        InterfaceType::String | InterfaceType::List(_) => Layout {
            size: 2 * ptr.size(),
            align: ptr.size(),
        },
        // Handles: an index into the instance's handle table.
        InterfaceType::Own(_)
        | InterfaceType::Borrow(_)
        | InterfaceType::Stream(_)
        | InterfaceType::Future(_)
        | InterfaceType::ErrorContext => scalar(4),
        InterfaceType::Flags(labels) => scalar(flags_size(labels.len())),
        InterfaceType::Record(fields) => record_layout(fields.iter().map(|(_, t)| t), ptr),
        InterfaceType::Tuple(types) => record_layout(types, ptr),
        InterfaceType::Variant(_)
        | InterfaceType::Enum(_)
        | InterfaceType::Option(_)
        | InterfaceType::Result { .. } => {
            let cases = ty.variant_cases().unwrap_or_default();
            variant_layout(&cases, ptr).layout
        }
    }
}

/// Alignment of `ty` in linear memory (`alignment`).
pub fn alignment(ty: &InterfaceType, ptr: PtrType) -> u32 {
    layout(ty, ptr).align
}

/// Size of `ty` in linear memory (`elem_size`).
pub fn elem_size(ty: &InterfaceType, ptr: PtrType) -> u32 {
    layout(ty, ptr).size
}

/// Rounds `ptr` up to a multiple of `align` (`align_to`).
pub fn align_to(ptr: u32, align: u32) -> u32 {
    ptr.next_multiple_of(align)
}

/// Layout of a record (or tuple, or spilled parameter list) with these field
/// types: fields in order, each at its alignment, the whole rounded up to the
/// largest field alignment.
pub fn record_layout<'a>(
    fields: impl IntoIterator<Item = &'a InterfaceType>,
    ptr: PtrType,
) -> Layout {
    let mut size = 0;
    let mut align = 1;
    for field in fields {
        let l = layout(field, ptr);
        size = align_to(size, l.align) + l.size;
        align = align.max(l.align);
    }
    Layout {
        size: align_to(size, align),
        align,
    }
}

/// Offset of each field of a record with these field types.
pub fn field_offsets<'a>(
    fields: impl IntoIterator<Item = &'a InterfaceType>,
    ptr: PtrType,
) -> Vec<u32> {
    let mut offsets = Vec::new();
    let mut size = 0;
    for field in fields {
        let l = layout(field, ptr);
        size = align_to(size, l.align);
        offsets.push(size);
        size += l.size;
    }
    offsets
}

/// Layout of a variant whose cases carry these payload types.
pub fn variant_layout(cases: &[Option<&InterfaceType>], ptr: PtrType) -> VariantLayout {
    let discriminant_size = discriminant_size(cases.len());
    let mut payload_size = 0;
    let mut payload_align = 1;
    for l in cases.iter().flatten().map(|t| layout(t, ptr)) {
        payload_size = payload_size.max(l.size);
        payload_align = payload_align.max(l.align);
    }
    let payload_offset = align_to(discriminant_size, payload_align);
    let align = discriminant_size.max(payload_align);
    VariantLayout {
        layout: Layout {
            size: align_to(payload_offset + payload_size, align),
            align,
        },
        discriminant_size,
        payload_offset,
    }
}

/// Bytes of the discriminant of a variant with `cases` cases
/// (`discriminant_type`): `u8` up to 256 cases, `u16` up to 65536, else `u32`.
pub fn discriminant_size(cases: usize) -> u32 {
    match cases {
        0..=0x100 => 1,
        0x101..=0x1_0000 => 2,
        _ => 4,
    }
}

/// Bytes of a flags value with `labels` labels (`elem_size_flags`): 1 up to
/// 8 labels, 2 up to 16, else 4 (at most 32 labels are valid).
pub fn flags_size(labels: usize) -> u32 {
    match labels {
        0..=8 => 1,
        9..=16 => 2,
        _ => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::interface::ResourceTypeId;
    use InterfaceType as T;
    use PtrType::{I32, I64};

    fn l(size: u32, align: u32) -> Layout {
        Layout { size, align }
    }

    fn labels(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("l{i}")).collect()
    }

    fn rec(types: &[T]) -> T {
        T::Record(
            types
                .iter()
                .enumerate()
                .map(|(i, t)| (format!("f{i}"), t.clone()))
                .collect(),
        )
    }

    #[test]
    fn primitives() {
        for (t, expect) in [
            (T::Bool, l(1, 1)),
            (T::S8, l(1, 1)),
            (T::U8, l(1, 1)),
            (T::S16, l(2, 2)),
            (T::U16, l(2, 2)),
            (T::S32, l(4, 4)),
            (T::U32, l(4, 4)),
            (T::S64, l(8, 8)),
            (T::U64, l(8, 8)),
            (T::F32, l(4, 4)),
            (T::F64, l(8, 8)),
            (T::Char, l(4, 4)),
            (T::String, l(8, 4)),
            (T::List(Box::new(T::U64)), l(8, 4)),
            (T::Own(ResourceTypeId::from_u32(0)), l(4, 4)),
            (T::Borrow(ResourceTypeId::from_u32(3)), l(4, 4)),
        ] {
            assert_eq!(layout(&t, I32), expect, "{t}");
            assert_eq!(elem_size(&t, I32), expect.size);
            assert_eq!(alignment(&t, I32), expect.align);
        }
    }

    #[test]
    fn flags_sizes() {
        for (n, size) in [(1, 1), (8, 1), (9, 2), (16, 2), (17, 4), (32, 4)] {
            assert_eq!(
                layout(&T::Flags(labels(n)), I32),
                l(size, size),
                "{n} labels"
            );
        }
    }

    #[test]
    fn discriminant_sizes() {
        for (n, size) in [
            (1, 1),
            (2, 1),
            (255, 1),
            (256, 1),
            (257, 2),
            (65536, 2),
            (65537, 4),
        ] {
            assert_eq!(discriminant_size(n), size, "{n} cases");
        }
        assert_eq!(layout(&T::Enum(labels(256)), I32), l(1, 1));
        assert_eq!(layout(&T::Enum(labels(257)), I32), l(2, 2));
        assert_eq!(layout(&T::Enum(labels(70000)), I32), l(4, 4));
    }

    #[test]
    fn records_and_tuples() {
        // u8 @0, u32 @4, u8 @8, then padded to 12.
        assert_eq!(layout(&rec(&[T::U8, T::U32, T::U8]), I32), l(12, 4));
        assert_eq!(field_offsets(&[T::U8, T::U32, T::U8], I32), [0, 4, 8]);
        // u8 @0, u16 @2, u64 @8 → 16, align 8.
        assert_eq!(
            layout(&T::Tuple(vec![T::U8, T::U16, T::U64]), I32),
            l(16, 8)
        );
        // u8 @0, string @4 → 12.
        assert_eq!(layout(&rec(&[T::U8, T::String]), I32), l(12, 4));
        // Nested: record { a: u8, b: tuple<u8, u16> } → a @0, b @2 (size 4) → 6, align 2.
        let inner = T::Tuple(vec![T::U8, T::U16]);
        assert_eq!(layout(&inner, I32), l(4, 2));
        assert_eq!(layout(&rec(&[T::U8, inner]), I32), l(6, 2));
        // Only bytes: no padding.
        assert_eq!(layout(&rec(&[T::U8, T::U8, T::U8]), I32), l(3, 1));
    }

    #[test]
    fn variants() {
        // option<u8>: disc @0, payload @1 → 2.
        assert_eq!(layout(&T::Option(Box::new(T::U8)), I32), l(2, 1));
        // option<u32>: disc @0, payload @4 → 8.
        assert_eq!(layout(&T::Option(Box::new(T::U32)), I32), l(8, 4));
        // option<u64> → 16, align 8.
        assert_eq!(layout(&T::Option(Box::new(T::U64)), I32), l(16, 8));
        // option<string> → 12.
        assert_eq!(layout(&T::Option(Box::new(T::String)), I32), l(12, 4));
        // result (no payloads) → 1 byte.
        assert_eq!(
            layout(
                &T::Result {
                    ok: None,
                    err: None
                },
                I32
            ),
            l(1, 1)
        );
        // result<u16, string>: disc @0, payload @4 (max align 4), max size 8 → 12.
        let r = T::Result {
            ok: Some(Box::new(T::U16)),
            err: Some(Box::new(T::String)),
        };
        assert_eq!(layout(&r, I32), l(12, 4));
        let vl = variant_layout(&r.variant_cases().unwrap(), I32);
        assert_eq!((vl.discriminant_size, vl.payload_offset), (1, 4));
        // variant with 300 cases, one u8 payload: u16 disc, payload @2 → 3, align 2 → 4.
        let mut cases: Vec<(String, Option<T>)> =
            (0..300).map(|i| (format!("c{i}"), None)).collect();
        cases[7].1 = Some(T::U8);
        assert_eq!(layout(&T::Variant(cases), I32), l(4, 2));
        // Nested variant: option<option<u16>>: inner 4 (align 2), outer disc @0, payload @2 → 6.
        let inner = T::Option(Box::new(T::U16));
        assert_eq!(layout(&inner, I32), l(4, 2));
        assert_eq!(layout(&T::Option(Box::new(inner)), I32), l(6, 2));
        // variant { a(u8), b(f64), c } → disc @0, payload @8, size 16, align 8.
        let v = T::Variant(vec![
            ("a".into(), Some(T::U8)),
            ("b".into(), Some(T::F64)),
            ("c".into(), None),
        ]);
        assert_eq!(layout(&v, I32), l(16, 8));
        // record { a: option<u8>, b: variant{…} } → a @0 (2), b @8 (16) → 24, align 8.
        assert_eq!(
            layout(&rec(&[T::Option(Box::new(T::U8)), v]), I32),
            l(24, 8)
        );
    }

    /// With 64-bit pointers only strings and lists change: 16 bytes,
    /// aligned to 8, and everything that holds them with them.
    #[test]
    fn pointers_of_64_bit_memories() {
        let list = T::List(Box::new(T::U8));
        assert_eq!(layout(&T::String, I64), l(16, 8));
        assert_eq!(layout(&list, I64), l(16, 8));
        assert_eq!(layout(&T::U32, I64), l(4, 4));
        // u8 @0, string @8 → 24, align 8.
        assert_eq!(layout(&rec(&[T::U8, T::String]), I64), l(24, 8));
        assert_eq!(field_offsets(&[T::U8, T::String], I64), [0, 8]);
        // option<string>: disc @0, payload @8 → 24.
        assert_eq!(layout(&T::Option(Box::new(T::String)), I64), l(24, 8));
        let vl = variant_layout(&[None, Some(&list)], I64);
        assert_eq!((vl.discriminant_size, vl.payload_offset), (1, 8));
    }
}
