//! Bounds- and alignment-checked access to linear memory and to the list of
//! flat core values, shared by lifting and lowering. Addresses are `u64` for
//! both pointer types; sums are checked, so `ptr + len` never wraps.

use super::context::LowerContext;
use super::error::CanonError;
use super::layout::Layout;
use super::types::{FlatType, PtrType};
use crate::vm::Val as CoreVal;

/// Whether `[ptr, ptr + len)` lies inside a memory of `memory_len` bytes.
pub(crate) fn in_bounds(memory_len: usize, ptr: u64, len: u64) -> bool {
    ptr.checked_add(len)
        .is_some_and(|end| end <= memory_len as u64)
}

/// The `N` bytes at `ptr`.
pub(crate) fn read<const N: usize>(mem: &[u8], ptr: u64) -> Result<[u8; N], CanonError> {
    slice(mem, ptr, N as u64).map(|s| s.try_into().unwrap_or([0; N]))
}

/// The bytes `[ptr, ptr + len)`.
pub(crate) fn slice(mem: &[u8], ptr: u64, len: u64) -> Result<&[u8], CanonError> {
    if !in_bounds(mem.len(), ptr, len) {
        return Err(oob(mem.len(), ptr, len));
    }
    Ok(&mem[ptr as usize..(ptr + len) as usize])
}

/// The bytes `[ptr, ptr + len)`, writable.
pub(crate) fn slice_mut(mem: &mut [u8], ptr: u64, len: u64) -> Result<&mut [u8], CanonError> {
    if !in_bounds(mem.len(), ptr, len) {
        return Err(oob(mem.len(), ptr, len));
    }
    Ok(&mut mem[ptr as usize..(ptr + len) as usize])
}

/// The pointer or length of type `ty` at `ptr`.
pub(crate) fn read_ptr(mem: &[u8], ptr: u64, ty: PtrType) -> Result<u64, CanonError> {
    Ok(match ty {
        PtrType::I32 => u64::from(u32::from_le_bytes(read(mem, ptr)?)),
        PtrType::I64 => u64::from_le_bytes(read(mem, ptr)?),
    })
}

/// Writes the pointer or length `value` of type `ty` at `ptr`.
pub(crate) fn write_ptr(
    mem: &mut [u8],
    ptr: u64,
    ty: PtrType,
    value: u64,
) -> Result<(), CanonError> {
    let bytes = value.to_le_bytes();
    write(mem, ptr, &bytes[..ty.size() as usize])
}

/// The core value of the pointer or length `value` of type `ty`.
pub(crate) fn ptr_val(ty: PtrType, value: u64) -> CoreVal {
    match ty {
        PtrType::I32 => CoreVal::I32(value as u32 as i32),
        PtrType::I64 => CoreVal::I64(value as i64),
    }
}

/// Writes `bytes` at `ptr`.
pub(crate) fn write(mem: &mut [u8], ptr: u64, bytes: &[u8]) -> Result<(), CanonError> {
    slice_mut(mem, ptr, bytes.len() as u64)?.copy_from_slice(bytes);
    Ok(())
}

fn oob(memory_len: usize, ptr: u64, len: u64) -> CanonError {
    CanonError::OutOfBounds {
        what: "value",
        ptr,
        len,
        memory_len,
    }
}

/// Checks a pointer that wasm handed over for a block of `layout`: aligned
/// first, then in bounds, in the order of the spec's `trap_if`s.
pub(crate) fn check_block(
    memory_len: usize,
    ptr: u64,
    layout: Layout,
    what: &'static str,
) -> Result<(), CanonError> {
    if !ptr.is_multiple_of(u64::from(layout.align)) {
        return Err(CanonError::UnalignedPointer {
            what,
            ptr,
            align: layout.align,
        });
    }
    if !in_bounds(memory_len, ptr, u64::from(layout.size)) {
        return Err(CanonError::OutOfBounds {
            what,
            ptr,
            len: u64::from(layout.size),
            memory_len,
        });
    }
    Ok(())
}

/// Calls `realloc` for `what` (a string, a list, spilled arguments) and
/// checks its result the way every caller in the spec does right after:
/// aligned to `align`, and `new_size` bytes in bounds.
pub(crate) fn realloc_checked<C: LowerContext>(
    cx: &mut C,
    what: &'static str,
    old_ptr: u64,
    old_size: u64,
    align: u32,
    new_size: u64,
) -> Result<u64, C::Error> {
    let ptr = cx.realloc(old_ptr, old_size, align, new_size)?;
    if !ptr.is_multiple_of(u64::from(align)) {
        return Err(CanonError::ReallocUnaligned { ptr, align }.into());
    }
    let memory_len = cx.memory().len();
    if !in_bounds(memory_len, ptr, new_size) {
        return Err(CanonError::ReallocOutOfBounds {
            what,
            ptr,
            size: new_size,
            memory_len,
        }
        .into());
    }
    Ok(ptr)
}

/// The name of a core value's type, for errors.
pub(crate) fn core_type_name(v: &CoreVal) -> &'static str {
    match v {
        CoreVal::I32(_) => "i32",
        CoreVal::I64(_) => "i64",
        CoreVal::F32(_) => "f32",
        CoreVal::F64(_) => "f64",
        CoreVal::V128(_) => "v128",
        CoreVal::FuncRef(_) => "funcref",
        CoreVal::ExternRef(_) => "externref",
    }
}

/// A typed cursor over flat core values (the spec's `CoreValueIter`).
pub struct FlatReader<'a> {
    vals: &'a [CoreVal],
    pos: usize,
}

impl<'a> FlatReader<'a> {
    /// A cursor at the first of `vals`.
    pub fn new(vals: &'a [CoreVal]) -> Self {
        FlatReader { vals, pos: 0 }
    }

    /// Takes the next value if `get` accepts it as a `ty`.
    fn take<T>(
        &mut self,
        ty: FlatType,
        get: impl FnOnce(&CoreVal) -> Option<T>,
    ) -> Result<T, CanonError> {
        let index = self.pos;
        let Some(v) = self.vals.get(index) else {
            return Err(CanonError::ArityMismatch {
                what: "core values",
                expected: index + 1,
                found: self.vals.len(),
            });
        };
        let out = get(v).ok_or(CanonError::FlatTypeMismatch {
            index,
            expected: ty,
            found: core_type_name(v),
        })?;
        self.pos += 1;
        Ok(out)
    }

    /// The next value, which must have type `ty`.
    pub fn next(&mut self, ty: FlatType) -> Result<CoreVal, CanonError> {
        self.take(ty, |v| {
            let ok = matches!(
                (ty, v),
                (FlatType::I32, CoreVal::I32(_))
                    | (FlatType::I64, CoreVal::I64(_))
                    | (FlatType::F32, CoreVal::F32(_))
                    | (FlatType::F64, CoreVal::F64(_))
            );
            ok.then_some(*v)
        })
    }

    /// The next `i32`, as unsigned bits.
    pub fn next_u32(&mut self) -> Result<u32, CanonError> {
        self.take(FlatType::I32, |v| match v {
            CoreVal::I32(x) => Some(*x as u32),
            _ => None,
        })
    }

    /// The next `i64`, as unsigned bits.
    pub fn next_u64(&mut self) -> Result<u64, CanonError> {
        self.take(FlatType::I64, |v| match v {
            CoreVal::I64(x) => Some(*x as u64),
            _ => None,
        })
    }

    /// The next pointer or length of type `ptr`, as unsigned bits.
    pub fn next_ptr(&mut self, ptr: PtrType) -> Result<u64, CanonError> {
        match ptr {
            PtrType::I32 => self.next_u32().map(u64::from),
            PtrType::I64 => self.next_u64(),
        }
    }

    /// The next `f32`, as bits.
    pub fn next_f32_bits(&mut self) -> Result<u32, CanonError> {
        self.take(FlatType::F32, |v| match v {
            CoreVal::F32(x) => Some(*x),
            _ => None,
        })
    }

    /// The next `f64`, as bits.
    pub fn next_f64_bits(&mut self) -> Result<u64, CanonError> {
        self.take(FlatType::F64, |v| match v {
            CoreVal::F64(x) => Some(*x),
            _ => None,
        })
    }
}
