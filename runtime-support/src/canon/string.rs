//! Strings across the boundary: `load_string_from_range` and the
//! `store_string_into_range` family of `CanonicalABI.md` ("Loading" and
//! "Storing" of strings), for the three `string-encoding` options.
//!
//! Lifting decodes utf8, utf16 or latin1+utf16 from linear memory into a Rust
//! `String`, trapping on misaligned or out-of-bounds ranges and on invalid
//! code units. Lowering transcodes a host string (always UTF-8 in Rust) into
//! the instance's encoding with the spec's allocation pattern: allocate the
//! worst case or the optimistic case with `realloc`, write, then shrink (or
//! grow, for latin1+utf16 meeting its first non-latin1 character) with
//! `realloc` again. The sequence of `realloc` calls is observable by wasm, so
//! it follows `definitions.py` call for call.

use super::context::LowerContext;
use super::error::CanonError;
use super::memory::{in_bounds, realloc_checked, slice, slice_mut, write};
use super::types::{PtrType, StringEncoding};

/// The largest byte length of a string in memory (`MAX_STRING_BYTE_LENGTH`):
/// `2^28 - 1`, so that every worst-case transcoding size fits in `u32`.
pub const MAX_STRING_BYTE_LENGTH: u32 = (1 << 28) - 1;

/// [`MAX_STRING_BYTE_LENGTH`] as a length.
const MAX_BYTES: u64 = MAX_STRING_BYTE_LENGTH as u64;

/// How a string's bytes are encoded once the latin1+utf16 tag is resolved.
#[derive(Clone, Copy)]
enum Simple {
    Utf8,
    Utf16,
    Latin1,
}

/// Decodes the string at `ptr` with `tagged_code_units` code units in
/// `encoding` (`load_string_from_range`), in a memory whose pointers have
/// type `pt` (which places the latin1+utf16 tag).
pub fn load_string_from_range(
    mem: &[u8],
    encoding: StringEncoding,
    pt: PtrType,
    ptr: u64,
    tagged_code_units: u64,
) -> Result<String, CanonError> {
    let units = tagged_code_units;
    // Two bytes per unit, saturating: anything that large is too long.
    let utf16_bytes = |units: u64| units.saturating_mul(2);
    let tag = pt.utf16_tag();
    let (align, byte_len, simple) = match encoding {
        StringEncoding::Utf8 => (1, units, Simple::Utf8),
        StringEncoding::Utf16 => (2, utf16_bytes(units), Simple::Utf16),
        StringEncoding::Latin1Utf16 if units & tag != 0 => {
            (2, utf16_bytes(units ^ tag), Simple::Utf16)
        }
        StringEncoding::Latin1Utf16 => (2, units, Simple::Latin1),
    };
    let bytes = string_bytes(mem, ptr, byte_len, align)?;
    match simple {
        Simple::Utf8 => Ok(utf8(bytes)?.to_owned()),
        Simple::Utf16 => decode_utf16(bytes),
        Simple::Latin1 => Ok(bytes.iter().map(|&b| char::from(b)).collect()),
    }
}

/// A utf8 string's checks of `load_string_from_range` without building the
/// string: what a fused adapter runs before it copies the bytes as they are.
pub fn check_utf8(mem: &[u8], ptr: u64, len: u64) -> Result<(), CanonError> {
    utf8(string_bytes(mem, ptr, len, 1)?).map(drop)
}

/// The `byte_len` bytes of a string at `ptr`, after the length, alignment
/// and bounds checks of lifting it.
fn string_bytes(mem: &[u8], ptr: u64, byte_len: u64, align: u32) -> Result<&[u8], CanonError> {
    if byte_len > MAX_BYTES {
        return Err(CanonError::StringTooLong { byte_len });
    }
    if !ptr.is_multiple_of(u64::from(align)) {
        return Err(CanonError::UnalignedPointer {
            what: "string",
            ptr,
            align,
        });
    }
    if !in_bounds(mem.len(), ptr, byte_len) {
        return Err(CanonError::StringOutOfBounds {
            ptr,
            byte_len,
            memory_len: mem.len(),
        });
    }
    slice(mem, ptr, byte_len)
}

fn utf8(bytes: &[u8]) -> Result<&str, CanonError> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s),
        Err(e) => Err(match e.error_len() {
            Some(len) => CanonError::InvalidUtf8 {
                index: e.valid_up_to(),
                len: len as u8,
            },
            None => CanonError::IncompleteUtf8 {
                index: e.valid_up_to(),
            },
        }),
    }
}

fn decode_utf16(bytes: &[u8]) -> Result<String, CanonError> {
    let units = bytes
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]));
    let mut out = String::with_capacity(bytes.len() / 2);
    let mut index = 0;
    for c in char::decode_utf16(units) {
        match c {
            Ok(c) => {
                index += c.len_utf16();
                out.push(c);
            }
            Err(e) => {
                return Err(CanonError::InvalidUtf16 {
                    unit: e.unpaired_surrogate(),
                    index,
                });
            }
        }
    }
    Ok(out)
}

/// Copies a host string into freshly `realloc`ed memory in the context's
/// encoding (`store_string_into_range` with a utf8 source) and returns the
/// pointer and the (tagged) code-unit count to store beside it.
pub fn store_string_into_range<C: LowerContext>(
    cx: &mut C,
    s: &str,
) -> Result<(u64, u64), C::Error> {
    let src_code_units = s.len() as u64;
    if src_code_units > MAX_BYTES {
        return Err(CanonError::StringTooLong {
            byte_len: src_code_units,
        }
        .into());
    }
    match cx.string_encoding() {
        StringEncoding::Utf8 => store_utf8_copy(cx, s, src_code_units),
        StringEncoding::Utf16 => store_utf8_to_utf16(cx, s, src_code_units),
        StringEncoding::Latin1Utf16 => store_string_to_latin1_or_utf16(cx, s, src_code_units),
    }
}

/// utf8 to utf8: one allocation, one copy (`store_string_copy`).
fn store_utf8_copy<C: LowerContext>(
    cx: &mut C,
    s: &str,
    src_code_units: u64,
) -> Result<(u64, u64), C::Error> {
    let ptr = realloc_checked(cx, "string", 0, 0, 1, src_code_units)?;
    write(cx.memory(), ptr, s.as_bytes())?;
    Ok((ptr, src_code_units))
}

/// utf8 to utf16 (`store_utf8_to_utf16`): allocate the worst case of two
/// bytes per source byte, encode, shrink to the encoded size.
fn store_utf8_to_utf16<C: LowerContext>(
    cx: &mut C,
    s: &str,
    src_code_units: u64,
) -> Result<(u64, u64), C::Error> {
    let worst_case_size = 2 * src_code_units;
    let mut ptr = realloc_checked(cx, "string", 0, 0, 2, worst_case_size)?;
    let dst = slice_mut(cx.memory(), ptr, worst_case_size)?;
    let code_units = encode_utf16_into(dst, s, 0);
    let byte_len = 2 * code_units;
    if byte_len < worst_case_size {
        ptr = realloc_checked(cx, "string", ptr, worst_case_size, 2, byte_len)?;
    }
    Ok((ptr, code_units))
}

/// utf8 to latin1+utf16 (`store_string_to_latin1_or_utf16`): optimistically
/// allocate one byte per source byte and write latin1; at the first character
/// beyond U+00FF, grow to the utf16 worst case, inflate the latin1 written so
/// far to utf16 in place, encode the rest, shrink, and tag the length.
fn store_string_to_latin1_or_utf16<C: LowerContext>(
    cx: &mut C,
    s: &str,
    src_code_units: u64,
) -> Result<(u64, u64), C::Error> {
    let mut ptr = realloc_checked(cx, "string", 0, 0, 2, src_code_units)?;
    let mut dst_byte_length: u64 = 0;
    for c in s.chars() {
        if let Ok(byte) = u8::try_from(c) {
            write(cx.memory(), ptr + dst_byte_length, &[byte])?;
            dst_byte_length += 1;
            continue;
        }
        let worst_case_size = 2 * src_code_units;
        ptr = realloc_checked(cx, "string", ptr, src_code_units, 2, worst_case_size)?;
        let dst = slice_mut(cx.memory(), ptr, worst_case_size)?;
        // Inflate latin1 byte j to utf16 unit j, from the end so nothing is
        // overwritten before it is read; 2*j+1 < 2*dst_byte_length <= dst.len().
        for j in (0..dst_byte_length as usize).rev() {
            dst[2 * j] = dst[j];
            dst[2 * j + 1] = 0;
        }
        let code_units = encode_utf16_into(dst, s, dst_byte_length as usize);
        let byte_len = 2 * code_units;
        if worst_case_size > byte_len {
            ptr = realloc_checked(cx, "string", ptr, worst_case_size, 2, byte_len)?;
        }
        return Ok((ptr, code_units | cx.ptr_type().utf16_tag()));
    }
    if dst_byte_length < src_code_units {
        ptr = realloc_checked(cx, "string", ptr, src_code_units, 2, dst_byte_length)?;
    }
    Ok((ptr, dst_byte_length))
}

/// Writes the UTF-16 code units of `s` from unit `skip` on into `dst` (which
/// holds two bytes per unit) and returns the total number of units of `s`.
/// `dst` always has room: a UTF-8 string never has more UTF-16 code units
/// than bytes.
fn encode_utf16_into(dst: &mut [u8], s: &str, skip: usize) -> u64 {
    let mut count = 0;
    for (i, (pair, unit)) in dst.chunks_exact_mut(2).zip(s.encode_utf16()).enumerate() {
        if i >= skip {
            pair.copy_from_slice(&unit.to_le_bytes());
        }
        count += 1;
    }
    count
}
