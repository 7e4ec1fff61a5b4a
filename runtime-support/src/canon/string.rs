//! Strings across the boundary: `load_string_from_range` and the
//! `store_string_into_range` family of `CanonicalABI.md` ("Loading" and
//! "Storing" of strings), for the three `string-encoding` options.
//!
//! Lifting decodes utf8, utf16 or latin1+utf16 from linear memory into a Rust
//! `String`, trapping on misaligned or out-of-bounds ranges and on invalid
//! code units. Lowering transcodes the string into the instance's encoding
//! with the spec's allocation pattern: allocate the worst case or the
//! optimistic case with `realloc`, write, then shrink (or grow, for a
//! character the optimistic case cannot hold) with `realloc` again. The
//! sequence of `realloc` calls is observable by wasm, so it follows
//! `definitions.py` call for call; it depends on where the string came
//! from (its [`StringSource`]: a host string is utf8, a string passed
//! between components keeps the encoding and length it had in the caller).

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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Simple {
    Utf8,
    Utf16,
    Latin1,
}

/// Where a string being lowered was lifted from: its encoding there and its
/// length in that encoding's code units, which decide how
/// `store_string_into_range` allocates for it, and the utf8 length of the
/// text lifted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StringSource {
    encoding: StringEncoding,
    simple: Simple,
    code_units: u64,
    text_len: usize,
}

impl StringSource {
    /// A string of the host's: utf8.
    pub fn host(s: &str) -> StringSource {
        StringSource {
            encoding: StringEncoding::Utf8,
            simple: Simple::Utf8,
            code_units: s.len() as u64,
            text_len: s.len(),
        }
    }

    /// Whether `s` can be the text lifted from this source: as long in
    /// utf8, and as many code units in the source's encoding (latin1 only
    /// when every character fits). The storing functions size their
    /// buffers from the code units, so a source that does not hold the
    /// text is never used (the text is then stored as the host's).
    pub fn holds(&self, s: &str) -> bool {
        s.len() == self.text_len
            && match self.simple {
                Simple::Utf8 => self.code_units == s.len() as u64,
                Simple::Utf16 => self.code_units == s.encode_utf16().count() as u64,
                Simple::Latin1 => {
                    s.chars().all(|c| u32::from(c) < 0x100)
                        && self.code_units == s.chars().count() as u64
                }
            }
    }
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
    lift_string(mem, encoding, pt, ptr, tagged_code_units).map(|(s, _)| s)
}

/// [`load_string_from_range`], with where the string came from.
pub fn lift_string(
    mem: &[u8],
    encoding: StringEncoding,
    pt: PtrType,
    ptr: u64,
    tagged_code_units: u64,
) -> Result<(String, StringSource), CanonError> {
    let units = tagged_code_units;
    // Two bytes per unit, saturating: anything that large is too long.
    let utf16_bytes = |units: u64| units.saturating_mul(2);
    let tag = pt.utf16_tag();
    let (align, byte_len, simple, code_units) = match encoding {
        StringEncoding::Utf8 => (1, units, Simple::Utf8, units),
        StringEncoding::Utf16 => (2, utf16_bytes(units), Simple::Utf16, units),
        StringEncoding::Latin1Utf16 if units & tag != 0 => {
            (2, utf16_bytes(units ^ tag), Simple::Utf16, units ^ tag)
        }
        StringEncoding::Latin1Utf16 => (2, units, Simple::Latin1, units),
    };
    let bytes = string_bytes(mem, ptr, byte_len, align)?;
    let s = match simple {
        Simple::Utf8 => utf8(bytes)?.to_owned(),
        Simple::Utf16 => decode_utf16(bytes)?,
        Simple::Latin1 => bytes.iter().map(|&b| char::from(b)).collect(),
    };
    let source = StringSource {
        encoding,
        simple,
        code_units,
        text_len: s.len(),
    };
    Ok((s, source))
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

/// Copies `s`, lifted from `source` (a host string's is
/// [`StringSource::host`]), into freshly `realloc`ed memory in the
/// context's encoding (`store_string_into_range`) and returns the pointer
/// and the (tagged) code-unit count to store beside it. A source that
/// cannot hold `s` is taken for the host's.
pub fn store_string_into_range<C: LowerContext>(
    cx: &mut C,
    s: &str,
    source: StringSource,
) -> Result<(u64, u64), C::Error> {
    let source = match source.holds(s) {
        true => source,
        false => StringSource::host(s),
    };
    let units = source.code_units;
    if units > MAX_BYTES {
        return Err(CanonError::StringTooLong { byte_len: units }.into());
    }
    match (cx.string_encoding(), source.simple) {
        (StringEncoding::Utf8, Simple::Utf8) => store_copy(cx, s.as_bytes(), units, 1),
        (StringEncoding::Utf8, Simple::Utf16) => store_string_to_utf8(cx, s, units, 3 * units),
        (StringEncoding::Utf8, Simple::Latin1) => store_string_to_utf8(cx, s, units, 2 * units),
        (StringEncoding::Utf16, Simple::Utf8) => store_utf8_to_utf16(cx, s, units),
        (StringEncoding::Utf16, Simple::Utf16 | Simple::Latin1) => {
            let mut utf16 = vec![0; 2 * units as usize];
            encode_utf16_into(&mut utf16, s, 0);
            store_copy(cx, &utf16, units, 2)
        }
        (StringEncoding::Latin1Utf16, simple) => match (source.encoding, simple) {
            (StringEncoding::Latin1Utf16, Simple::Latin1) => {
                let latin1: Vec<u8> = s.chars().map(|c| u32::from(c) as u8).collect();
                store_copy(cx, &latin1, units, 2)
            }
            (StringEncoding::Latin1Utf16, _) => {
                store_probably_utf16_to_latin1_or_utf16(cx, s, units)
            }
            _ => store_string_to_latin1_or_utf16(cx, s, units),
        },
    }
}

/// The same code units in the same encoding (`store_string_copy`): one
/// allocation aligned to `align`, one copy of `bytes`.
fn store_copy<C: LowerContext>(
    cx: &mut C,
    bytes: &[u8],
    code_units: u64,
    align: u32,
) -> Result<(u64, u64), C::Error> {
    let ptr = realloc_checked(cx, "string", 0, 0, align, bytes.len() as u64)?;
    write(cx.memory(), ptr, bytes)?;
    Ok((ptr, code_units))
}

/// utf16 or latin1 to utf8 (`store_string_to_utf8`): allocate one byte per
/// source code unit and copy the ASCII prefix; at the first character
/// beyond ASCII, grow to `worst_case_size`, write the rest, and shrink to
/// the encoded size.
fn store_string_to_utf8<C: LowerContext>(
    cx: &mut C,
    s: &str,
    src_code_units: u64,
    worst_case_size: u64,
) -> Result<(u64, u64), C::Error> {
    let mut ptr = realloc_checked(cx, "string", 0, 0, 1, src_code_units)?;
    let bytes = s.as_bytes();
    let ascii = bytes.iter().take_while(|b| b.is_ascii()).count();
    write(cx.memory(), ptr, &bytes[..ascii])?;
    if ascii == bytes.len() {
        return Ok((ptr, src_code_units));
    }
    ptr = realloc_checked(cx, "string", ptr, src_code_units, 1, worst_case_size)?;
    // The ASCII prefix has as many bytes as code units.
    write(cx.memory(), ptr + ascii as u64, &bytes[ascii..])?;
    let len = bytes.len() as u64;
    if worst_case_size > len {
        ptr = realloc_checked(cx, "string", ptr, worst_case_size, 1, len)?;
    }
    Ok((ptr, len))
}

/// utf16 (from a latin1+utf16 source) to latin1+utf16
/// (`store_probably_utf16_to_latin1_or_utf16`): allocate and write utf16;
/// if every character is latin1 after all, narrow to latin1 in place and
/// shrink.
fn store_probably_utf16_to_latin1_or_utf16<C: LowerContext>(
    cx: &mut C,
    s: &str,
    src_code_units: u64,
) -> Result<(u64, u64), C::Error> {
    let src_byte_length = 2 * src_code_units;
    let ptr = realloc_checked(cx, "string", 0, 0, 2, src_byte_length)?;
    let dst = slice_mut(cx.memory(), ptr, src_byte_length)?;
    encode_utf16_into(dst, s, 0);
    if s.chars().any(|c| u32::from(c) >= 0x100) {
        return Ok((ptr, src_code_units | cx.ptr_type().utf16_tag()));
    }
    for i in 0..src_code_units as usize {
        dst[i] = dst[2 * i];
    }
    let ptr = realloc_checked(cx, "string", ptr, src_byte_length, 1, src_code_units)?;
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

/// utf8 or utf16 to latin1+utf16 (`store_string_to_latin1_or_utf16`):
/// optimistically allocate one byte per source code unit and write latin1;
/// at the first character
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
/// `dst` always has room: a string has no more UTF-16 code units than
/// its source has code units.
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
