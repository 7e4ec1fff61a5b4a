//! The memory work of a fused adapter's host halves (`CoreDef::Transfer`):
//! checking a string or list where it lies, copying it between the two
//! instances' memories into the bytes the callee's `realloc` returned,
//! checking the place of spilled values and what `realloc` returned: what
//! a fused adapter calls when its own checks fail, to fail with the spec's
//! error (or to do the work, for utf8 strings that are not ASCII).
//!
//! The adapter is compiled code and calls these through host functions the
//! embedding API makes (`api/component`), which only resolve the memories;
//! the checks follow the spec's order (see `lift_string`/`lift_list` and
//! `realloc`'s result checks in `definitions.py`).

use super::error::CanonError;
use super::layout::Layout;
use super::lift::check_list;
use super::string::check_utf8;
use crate::abi::{Block, Elements};

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
    ptr: u64,
    len: u64,
) -> Result<(), CanonError> {
    match elements {
        Elements::Utf8 => check_utf8(memory, ptr, len),
        Elements::List { size, align } => {
            check_list(memory.len(), ptr, len, Layout { size, align })
        }
    }
}

/// Checks that `size` bytes at `ptr` are aligned to `align` and inside a
/// memory of `memory_len` bytes, as the spec checks the place of spilled
/// values.
pub(crate) fn check_block(
    memory_len: usize,
    ptr: u64,
    size: u32,
    align: u32,
    what: Block,
) -> Result<(), CanonError> {
    let layout = Layout { size, align };
    super::memory::check_block(memory_len, ptr, layout, what.name())
}

/// Checks what `realloc` returned for `len` elements of `size` bytes
/// aligned to `align` in a memory of `memory_len` bytes, as
/// `realloc_checked` does.
pub(crate) fn check_alloc(
    memory_len: usize,
    ptr: u64,
    (size, align): (u32, u32),
    len: u64,
    what: &'static str,
) -> Result<(), CanonError> {
    let bytes = len.saturating_mul(u64::from(size));
    if !ptr.is_multiple_of(u64::from(align)) {
        return Err(CanonError::ReallocUnaligned { ptr, align });
    }
    if ptr
        .checked_add(bytes)
        .is_none_or(|end| end > memory_len as u64)
    {
        return Err(CanonError::ReallocOutOfBounds {
            what,
            ptr,
            size: bytes,
            memory_len,
        });
    }
    Ok(())
}

/// Copies the `len` elements at `ptr` in the source memory (checked by
/// `TransferOp::Check`) to `dst` in the destination memory, which the
/// callee's `realloc` returned for them: `realloc`'s result is checked as
/// the spec checks it.
pub(crate) fn copy_between(
    memories: Memories<'_>,
    elements: Elements,
    ptr: u64,
    len: u64,
    dst: u64,
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
    check_alloc(to_len, dst, (size, align), len, elements.name())?;
    // Both checks passed: the bytes are in memory on both sides.
    let bytes = len * u64::from(size);
    let (src, dst, bytes) = (ptr as usize, dst as usize, bytes as usize);
    match memories {
        Memories::Same(memory) => memory.copy_within(src..src + bytes, dst),
        Memories::Distinct { from, to } => {
            to[dst..dst + bytes].copy_from_slice(&from[src..src + bytes]);
        }
    }
    Ok(())
}
