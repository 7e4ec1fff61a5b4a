//! The memory work of a fused adapter's host halves (`CoreDef::Transfer`):
//! checking a string or list where it lies, copying it between the two
//! instances' memories into the bytes the callee's `realloc` returned, and
//! loading a returned `(ptr, len)` pair: what a fused adapter calls when
//! its own checks fail, to fail with the spec's error (or to do the work,
//! for utf8 strings that are not ASCII).
//!
//! The adapter is compiled code and calls these through host functions the
//! embedding API makes (`api/component`), which only resolve the memories;
//! the checks follow the spec's order (see `lift_string`/`lift_list` and
//! `realloc`'s result checks in `definitions.py`).

use super::error::CanonError;
use super::layout::Layout;
use super::lift::check_list;
use super::memory::check_block;
use super::string::check_utf8;
use crate::abi::Elements;

/// The layout of a string's or list's `(ptr, len)` pair in a 32-bit memory
/// (fused adapters carry strings and lists between 32-bit memories only).
const PAIR: Layout = Layout { size: 8, align: 4 };

/// The two memories a copy reads and writes: one memory, or two distinct
/// ones borrowed side by side.
pub(crate) enum Memories<'a> {
    /// Source and destination are the same memory.
    Same(&'a mut [u8]),
    /// Two distinct memories.
    Distinct {
        /// The memory read.
        from: &'a [u8],
        /// The memory written.
        to: &'a mut [u8],
    },
}

/// The checks of lifting `len` elements at `ptr` from `memory`.
pub(crate) fn check_elements(
    memory: &[u8],
    elements: Elements,
    ptr: u32,
    len: u32,
) -> Result<(), CanonError> {
    match elements {
        Elements::Utf8 => check_utf8(memory, u64::from(ptr), u64::from(len)),
        Elements::Plain { size, align } => check_list(
            memory.len(),
            u64::from(ptr),
            u64::from(len),
            Layout { size, align },
        ),
    }
}

/// The `(ptr, len)` pair at `at` in `memory`, checked as the spec checks a
/// pointer to a returned tuple.
pub(crate) fn load_pair(memory: &[u8], at: u32) -> Result<(u32, u32), CanonError> {
    check_block(memory.len(), u64::from(at), PAIR, "return pointer")?;
    let word = |i: usize| u32::from_le_bytes(memory[i..i + 4].try_into().expect("4 bytes"));
    Ok((word(at as usize), word(at as usize + 4)))
}

/// Checks `retptr` as the place of a returned `(ptr, len)` pair in a memory
/// of `memory_len` bytes.
pub(crate) fn check_retptr(memory_len: usize, retptr: u32) -> Result<(), CanonError> {
    check_block(memory_len, u64::from(retptr), PAIR, "return pointer")
}

/// Copies the `len` elements at `ptr` in the source memory (checked by
/// `TransferOp::Check`) to `dst` in the destination memory, which the
/// callee's `realloc` returned for them: `realloc`'s result is checked as
/// the spec checks it.
pub(crate) fn copy_between(
    memories: Memories<'_>,
    elements: Elements,
    ptr: u32,
    len: u32,
    dst: u32,
) -> Result<(), CanonError> {
    let (from, to_len) = match &memories {
        Memories::Same(memory) => (&**memory, memory.len()),
        Memories::Distinct { from, to } => (*from, to.len()),
    };
    // The lift checks again: `realloc` ran since `Check`, and could have
    // changed the source (through an import or a shared memory). They also
    // bound the byte length below 2^28.
    check_elements(from, elements, ptr, len)?;
    let (size, align) = elements.layout();
    let bytes = len * size;
    if !dst.is_multiple_of(align) {
        return Err(CanonError::ReallocUnaligned {
            ptr: u64::from(dst),
            align,
        });
    }
    if u64::from(dst) + u64::from(bytes) > to_len as u64 {
        return Err(CanonError::ReallocOutOfBounds {
            what: match elements {
                Elements::Utf8 => "string",
                Elements::Plain { .. } => "list",
            },
            ptr: u64::from(dst),
            size: u64::from(bytes),
            memory_len: to_len,
        });
    }
    let (src, dst, bytes) = (ptr as usize, dst as usize, bytes as usize);
    match memories {
        Memories::Same(memory) => memory.copy_within(src..src + bytes, dst),
        Memories::Distinct { from, to } => {
            to[dst..dst + bytes].copy_from_slice(&from[src..src + bytes]);
        }
    }
    Ok(())
}
