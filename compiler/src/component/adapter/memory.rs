//! Strings, lists and spilled values in a fused adapter's memories. The
//! adapter imports both memories (multi-memory), at the indices its
//! [`Side`](super::code::Side)s name.
//!
//! The checks of lifting (length, alignment, bounds, utf8) and of
//! `realloc`'s result (alignment, bounds) run in compiled code, utf8 as a
//! scan for bytes beyond ASCII. When a check fails, or a string holds such a
//! byte, the adapter calls the runtime's host half instead
//! ([`TransferOp`]), which repeats the checks and fails with the spec's
//! error (or, for valid utf8 that is not ASCII, does the work). Valid ASCII
//! strings and lists of plain values never leave compiled code.

use super::Import;
use super::code::{Code, Side};
use cmc_runtime::abi::{Alloc, Block, Elements, MemoryTransfer, TransferOp};
use cmc_runtime::component::MAX_STRING_BYTE_LENGTH;
use cmc_runtime::component::types::PtrType;
use wasm_encoder::{BlockType, Instruction as I, MemArg, MemArgTarget, ValType};

impl Code<'_> {
    /// The function index of the host half doing `op` from memory `from`
    /// to the other one, with this type.
    pub(super) fn transfer(
        &mut self,
        op: TransferOp,
        from: u32,
        params: &[ValType],
        results: &[ValType],
    ) -> u32 {
        // When both sides name one memory, either is the source: only the
        // memories matter then, and the `realloc` is the side lowered into.
        let (source, dest) = match from == self.caller.memory {
            true => (&self.caller, &self.callee),
            false => (&self.callee, &self.caller),
        };
        let memory = |side: &Side| {
            side.options
                .memory
                .clone()
                .expect("`fuse` checks that both sides name a memory where one is used")
        };
        let realloc = match op {
            TransferOp::Transcode { .. } => self.to().options.realloc.clone(),
            _ => None,
        };
        let transfer = MemoryTransfer {
            op,
            from: memory(source),
            to: memory(dest),
            realloc,
        };
        self.func(Import::Transfer(transfer), params, results)
    }

    /// The side whose memory is `memory` (either, when both name it).
    fn side_of(&self, memory: u32) -> &Side<'_> {
        match memory == self.caller.memory {
            true => &self.caller,
            false => &self.callee,
        }
    }

    /// The page size (log2) of memory `memory`.
    fn page_log2(&self, memory: u32) -> u32 {
        self.side_of(memory).page_log2()
    }

    /// Whether memory `memory` is 64-bit: its addresses and lengths are
    /// `i64`s, else `i32`s.
    pub(super) fn is64(&self, memory: u32) -> bool {
        self.side_of(memory).options.ptr_type == PtrType::I64
    }

    /// The core type of `memory`'s addresses and lengths.
    pub(super) fn addr_type(&self, memory: u32) -> ValType {
        crate::component::core_type(self.side_of(memory).options.ptr_type.flat())
    }

    /// Pushes local `local`, an address or length of `memory`, as an `i64`.
    pub(super) fn get_i64(&mut self, local: u32, memory: u32) {
        self.push(I::LocalGet(local));
        if !self.is64(memory) {
            self.push(I::I64ExtendI32U);
        }
    }

    /// Converts the `i64` on the stack to an address or length of
    /// `memory` (known to fit).
    pub(super) fn narrow_to(&mut self, memory: u32) {
        if !self.is64(memory) {
            self.push(I::I32WrapI64);
        }
    }

    /// A new local of `to`'s address type holding local `local` of `from`'s
    /// (a value known to fit).
    pub(super) fn convert(&mut self, local: u32, (from, to): (u32, u32)) -> u32 {
        if self.is64(from) == self.is64(to) {
            return local;
        }
        let out = self.local(self.addr_type(to));
        self.get_i64(local, from);
        self.narrow_to(to);
        self.push(I::LocalSet(out));
        out
    }

    /// A new `i32` local holding local `local` of `memory` (a length known
    /// to be below 2^28).
    pub(super) fn len32(&mut self, local: u32, memory: u32) -> u32 {
        let out = self.local(ValType::I32);
        self.push(I::LocalGet(local));
        if self.is64(memory) {
            self.push(I::I32WrapI64);
        }
        self.push(I::LocalSet(out));
        out
    }

    /// Pushes `base + at` as an address of `memory`: `base` of its
    /// address type, `at` an `i32`.
    pub(super) fn address(&mut self, base: u32, at: u32, memory: u32) {
        self.scaled_address(base, at, 0, memory);
    }

    /// Pushes `base + (at << shift)` as an address of `memory`: `base` of
    /// its address type, `at` an `i32`.
    fn scaled_address(&mut self, base: u32, at: u32, shift: i32, memory: u32) {
        self.push(I::LocalGet(base));
        self.push(I::LocalGet(at));
        if shift != 0 {
            self.push(I::I32Const(shift));
            self.push(I::I32Shl);
        }
        if self.is64(memory) {
            self.push(I::I64ExtendI32U);
            self.push(I::I64Add);
        } else {
            self.push(I::I32Add);
        }
    }
}

/// A memory argument for `memory`: `offset`, alignment 2^`align`.
pub(super) fn arg(offset: u64, align: u32, memory: u32) -> MemArg {
    MemArg {
        offset,
        align,
        target: MemArgTarget::Memory(memory),
        ordering: None,
    }
}

/// Pushes the length of `memory` in bytes, as an `i64`.
fn memory_bytes(code: &mut Code, memory: u32) {
    let log2 = code.page_log2(memory);
    code.push(I::MemorySize(memory));
    if !code.is64(memory) {
        code.push(I::I64ExtendI32U);
    }
    code.push(I::I64Const(i64::from(log2)));
    code.push(I::I64Shl);
}

/// Sets `ok` to whether `len` elements at `ptr` in `memory` pass lifting's
/// bounds checks: at most `MAX_*_BYTE_LENGTH` bytes, aligned, in bounds.
/// `bytes` (an `i64`) receives the byte length.
fn check_bounds(
    code: &mut Code,
    memory: u32,
    elements: Elements,
    (ptr, len): (u32, u32),
    bytes: u32,
    ok: u32,
) {
    let (size, align) = elements.layout();
    // The length first, so that the product cannot wrap (a 64-bit one).
    code.get_i64(len, memory);
    code.push(I::I64Const(i64::from(MAX_STRING_BYTE_LENGTH)));
    code.push(I::I64LeU);
    code.get_i64(len, memory);
    code.push(I::I64Const(i64::from(size)));
    code.push(I::I64Mul);
    code.push(I::LocalTee(bytes));
    // Lists have the same limit (`MAX_LIST_BYTE_LENGTH`).
    code.push(I::I64Const(i64::from(MAX_STRING_BYTE_LENGTH)));
    code.push(I::I64LeU);
    code.push(I::I32And);
    fits(code, memory, ptr, align, bytes);
    code.push(I::I32And);
    code.push(I::LocalSet(ok));
}

/// New locals for a [`check_bounds`]: the byte length (`i64`) and `ok` (`i32`),
/// set to 1.
fn check_locals(code: &mut Code) -> (u32, u32) {
    let bytes = code.local(ValType::I64);
    let ok = code.local(ValType::I32);
    code.push(I::I32Const(1));
    code.push(I::LocalSet(ok));
    (bytes, ok)
}

/// Pushes whether `bytes` (an `i64`) at `ptr` are `align`-aligned and
/// inside `memory`: `bytes <= size && ptr <= size - bytes`, which cannot
/// wrap.
fn fits(code: &mut Code, memory: u32, ptr: u32, align: u32, bytes: u32) {
    code.push(I::LocalGet(ptr));
    if code.is64(memory) {
        code.push(I::I32WrapI64);
    }
    code.push(I::I32Const(align as i32 - 1));
    code.push(I::I32And);
    code.push(I::I32Eqz);
    code.push(I::LocalGet(bytes));
    memory_bytes(code, memory);
    code.push(I::I64LeU);
    code.push(I::I32And);
    code.get_i64(ptr, memory);
    memory_bytes(code, memory);
    code.push(I::LocalGet(bytes));
    code.push(I::I64Sub);
    code.push(I::I64LeU);
    code.push(I::I32And);
}

/// Clears `ok` if a byte of `[ptr, ptr + len)` in `memory` (in bounds) is
/// beyond ASCII.
fn ascii(code: &mut Code, memory: u32, ptr: u32, len: u32, ok: u32) {
    walk(code, (memory, None), (ptr, len), true, ok);
}

/// Walks `[src, src + len)` of memory `from` (in bounds) in chunks of 16,
/// 8 and 1 bytes: with `ascii`, stops and clears `ok` at a chunk holding a
/// byte beyond ASCII; with a destination `(to, dst)`, copies each chunk
/// there (in bounds, and not overlapping the source).
fn walk(
    code: &mut Code,
    (from, to): (u32, Option<(u32, u32)>),
    (src, len): (u32, u32),
    ascii: bool,
    ok: u32,
) {
    let chunk_v128 = code.local(ValType::V128);
    let chunk_i64 = code.local(ValType::I64);
    chunks(code, len, &[16, 8, 1], |code, width, at| {
        let (chunk, load, store, high): (u32, I, I, I) = match width {
            16 => (
                chunk_v128,
                I::V128Load(arg(0, 0, from)),
                I::V128Store(arg(0, 0, to.map_or(0, |(m, _)| m))),
                I::V128Const(0x8080_8080_8080_8080_8080_8080_8080_8080_u128 as i128),
            ),
            8 => (
                chunk_i64,
                I::I64Load(arg(0, 0, from)),
                I::I64Store(arg(0, 0, to.map_or(0, |(m, _)| m))),
                I::I64Const(0x8080_8080_8080_8080_u64 as i64),
            ),
            _ => (
                chunk_i64,
                I::I64Load8U(arg(0, 0, from)),
                I::I64Store8(arg(0, 0, to.map_or(0, |(m, _)| m))),
                I::I64Const(0x80),
            ),
        };
        code.address(src, at, from);
        code.push(load);
        code.push(I::LocalSet(chunk));
        if ascii {
            code.push(I::LocalGet(chunk));
            code.push(high);
            if width == 16 {
                code.push(I::V128And);
                code.push(I::V128AnyTrue);
            } else {
                code.push(I::I64And);
                code.push(I::I64Const(0));
                code.push(I::I64Ne);
            }
            stop_if(code, ok);
        }
        if let Some((to, dst)) = to {
            code.address(dst, at, to);
            code.push(I::LocalGet(chunk));
            code.push(store);
        }
    });
}

/// Walks `len` units (an `i32` local) in chunks of each of `widths` units,
/// widest first, while at least that many are left: `body(code, width,
/// at)` writes the code for one chunk, whose first unit is local `at`.
/// [`stop_if`] in `body` ends the walk.
fn chunks(code: &mut Code, len: u32, widths: &[u32], mut body: impl FnMut(&mut Code, u32, u32)) {
    let at = code.local(ValType::I32);
    code.push(I::I32Const(0));
    code.push(I::LocalSet(at));
    code.push(I::Block(BlockType::Empty)); // done
    for &width in widths {
        code.push(I::Block(BlockType::Empty)); // next width
        code.push(I::Loop(BlockType::Empty));
        // Fewer than `width` units left: on to the next width.
        code.push(I::LocalGet(len));
        code.push(I::LocalGet(at));
        code.push(I::I32Sub);
        code.push(I::I32Const(width as i32));
        code.push(I::I32LtU);
        code.push(I::BrIf(1));
        body(code, width, at);
        code.push(I::LocalGet(at));
        code.push(I::I32Const(width as i32));
        code.push(I::I32Add);
        code.push(I::LocalSet(at));
        code.push(I::Br(0));
        code.push(I::End); // loop
        code.push(I::End); // next width
    }
    code.push(I::End); // done
}

/// In a [`chunks`] body: if the `i32` on the stack is not zero, clears
/// `ok` and ends the walk.
fn stop_if(code: &mut Code, ok: u32) {
    code.push(I::If(BlockType::Empty));
    code.push(I::I32Const(0));
    code.push(I::LocalSet(ok));
    // The `if`, the loop, the next-width block: out to `done`.
    code.push(I::Br(3));
    code.push(I::End);
}

/// Copies the elements from `src` in the `from` side's memory to `dst` in
/// the `to` side's, if `dst` is aligned and in bounds (the checks of
/// `realloc`'s result) and the source still passes lifting's checks (the
/// `realloc` ran in between); else calls the runtime's copy, which fails
/// with the spec's error or (for a string beyond ASCII) does the work.
///
/// Between two distinct memories the copy is a loop over 16-byte chunks
/// that checks a string's bytes again as it goes (no overlap is possible,
/// and it saves a scan and a call of the runtime's `memory.copy`); within
/// one memory it is `memory.copy`, after a scan.
pub(super) fn copy(code: &mut Code, elements: Elements, (src, len): (u32, u32), dst: u32) {
    let (from, to) = (code.from().memory, code.to().memory);
    let (bytes, ok) = check_locals(code);
    check_bounds(code, from, elements, (src, len), bytes, ok);
    let (_, align) = elements.layout();
    code.push(I::LocalGet(ok));
    fits(code, to, dst, align, bytes);
    code.push(I::I32And);
    code.push(I::LocalSet(ok));
    code.push(I::LocalGet(ok));
    code.push(I::If(BlockType::Empty));
    if code.distinct {
        // The byte length, which the checks bounded by 2^28.
        let byte_len = code.local(ValType::I32);
        code.push(I::LocalGet(bytes));
        code.push(I::I32WrapI64);
        code.push(I::LocalSet(byte_len));
        let ascii = elements == Elements::Utf8;
        walk(code, (from, Some((to, dst))), (src, byte_len), ascii, ok);
    } else {
        if elements == Elements::Utf8 {
            let len = code.len32(len, from);
            ascii(code, from, src, len, ok);
        }
        code.push(I::LocalGet(ok));
        code.push(I::If(BlockType::Empty));
        code.push(I::LocalGet(dst));
        code.push(I::LocalGet(src));
        code.push(I::LocalGet(bytes));
        code.narrow_to(from);
        code.push(I::MemoryCopy {
            src_mem: from,
            dst_mem: to,
        });
        code.push(I::End);
    }
    code.push(I::End);
    let host = code.transfer(TransferOp::Copy(elements), from, &[ValType::I64; 3], &[]);
    fallback(code, ok, &[(src, from), (len, from), (dst, to)], host, &[]);
}

/// Which way an ASCII string is transcoded in compiled code.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Ascii {
    /// From utf8 bytes to utf16 code units.
    Widen,
    /// From utf16 code units to utf8 bytes.
    Narrow,
}

impl Ascii {
    /// Bytes per code unit of the source and of the destination.
    fn units(self) -> (u32, u32) {
        match self {
            Ascii::Widen => (1, 2),
            Ascii::Narrow => (2, 1),
        }
    }
}

/// Sets new local `ok` to whether the `len` code units at `ptr` in the
/// `from` side's memory are an ASCII string that transcoding `way` can
/// carry in compiled code: aligned, in bounds, both sides' byte lengths
/// within `MAX_STRING_BYTE_LENGTH`, and every unit below 0x80. When not,
/// the runtime's transcoder does the work (or fails with the spec's error).
pub(super) fn ascii_transcodable(code: &mut Code, way: Ascii, (ptr, len): (u32, u32)) -> u32 {
    let memory = code.from().memory;
    let (unit, _) = way.units();
    let (bytes, ok) = check_locals(code);
    let source = Elements::List {
        size: unit,
        align: unit,
    };
    check_bounds(code, memory, source, (ptr, len), bytes, ok);
    // The destination's worst case when widening: two bytes a unit.
    code.push(I::LocalGet(ok));
    code.get_i64(len, memory);
    code.push(I::I64Const(i64::from(MAX_STRING_BYTE_LENGTH / 2)));
    code.push(I::I64LeU);
    code.push(I::I32And);
    code.push(I::LocalSet(ok));
    code.push(I::LocalGet(ok));
    code.push(I::If(BlockType::Empty));
    let len = code.len32(len, memory);
    match way {
        Ascii::Widen => ascii(code, memory, ptr, len, ok),
        Ascii::Narrow => units16(code, (memory, None), (ptr, len), ok),
    }
    code.push(I::End);
    ok
}

/// Transcodes the `len` ASCII code units at `src` in memory `from` (in
/// bounds, checked by [`ascii_transcodable`]) to `dst` in memory `to` (in
/// bounds, checked by [`check_alloc`]), 8 units at a time, then one by one.
pub(super) fn transcode_ascii(
    code: &mut Code,
    way: Ascii,
    (from, to): (u32, u32),
    (src, len): (u32, u32),
    dst: u32,
) {
    match way {
        Ascii::Widen => widen(code, (from, to), (src, len), dst),
        Ascii::Narrow => {
            let ok = code.local(ValType::I32);
            units16(code, (from, Some((to, dst))), (src, len), ok);
        }
    }
}

/// Widens `len` bytes at `src` in `from` to utf16 code units at `dst` in
/// `to`.
fn widen(code: &mut Code, (from, to): (u32, u32), (src, len): (u32, u32), dst: u32) {
    chunks(code, len, &[8, 1], |code, width, at| {
        code.scaled_address(dst, at, 1, to);
        code.address(src, at, from);
        if width == 8 {
            code.push(I::V128Load8x8U(arg(0, 0, from)));
            code.push(I::V128Store(arg(0, 0, to)));
        } else {
            code.push(I::I32Load8U(arg(0, 0, from)));
            code.push(I::I32Store16(arg(0, 0, to)));
        }
    });
}

/// Walks `len` utf16 code units at `src` in `from` (in bounds), 8 at a
/// time, then one by one: without a destination, clears `ok` and stops at
/// a unit of 0x80 or more (`ok` must be 1 on entry); with one `(to, dst)`,
/// narrows each unit to a byte there.
fn units16(
    code: &mut Code,
    (from, to): (u32, Option<(u32, u32)>),
    (src, len): (u32, u32),
    ok: u32,
) {
    let chunk = code.local(ValType::V128);
    chunks(code, len, &[8, 1], |code, width, at| {
        let source = |code: &mut Code| code.scaled_address(src, at, 1, from);
        match (to, width) {
            (None, _) => {
                source(code);
                if width == 8 {
                    code.push(I::V128Load(arg(0, 0, from)));
                    code.push(I::V128Const(
                        0xff80_ff80_ff80_ff80_ff80_ff80_ff80_ff80_u128 as i128,
                    ));
                    code.push(I::V128And);
                    code.push(I::V128AnyTrue);
                } else {
                    code.push(I::I32Load16U(arg(0, 0, from)));
                    code.push(I::I32Const(0xff80));
                    code.push(I::I32And);
                }
                stop_if(code, ok);
            }
            (Some((to, dst)), 8) => {
                source(code);
                code.push(I::V128Load(arg(0, 0, from)));
                code.push(I::LocalSet(chunk));
                code.address(dst, at, to);
                code.push(I::LocalGet(chunk));
                code.push(I::LocalGet(chunk));
                code.push(I::I8x16NarrowI16x8U);
                code.push(I::V128Store64Lane {
                    memarg: arg(0, 0, to),
                    lane: 0,
                });
            }
            (Some((to, dst)), _) => {
                code.address(dst, at, to);
                source(code);
                code.push(I::I32Load16U(arg(0, 0, from)));
                code.push(I::I32Store8(arg(0, 0, to)));
            }
        }
    });
}

/// Unless `ok`, calls the runtime's `host` with the values of `args` and
/// sets `results` to what it returns: addresses and lengths of the memory
/// each names, passed as `i64`s.
fn fallback(code: &mut Code, ok: u32, args: &[(u32, u32)], host: u32, results: &[(u32, u32)]) {
    code.push(I::LocalGet(ok));
    code.push(I::I32Eqz);
    code.push(I::If(BlockType::Empty));
    for &(arg, memory) in args {
        code.get_i64(arg, memory);
    }
    code.push(I::Call(host));
    for &(result, memory) in results.iter().rev() {
        code.narrow_to(memory);
        code.push(I::LocalSet(result));
    }
    code.push(I::End);
}

/// Checks `len` elements at `ptr` in the `from` side's memory as lifting
/// does: in compiled code, or through the runtime's check when that fails
/// or a string is not ASCII.
pub(super) fn check_elements(code: &mut Code, elements: Elements, (ptr, len): (u32, u32)) {
    let memory = code.from().memory;
    let (bytes, ok) = check_locals(code);
    check_bounds(code, memory, elements, (ptr, len), bytes, ok);
    if elements == Elements::Utf8 {
        code.push(I::LocalGet(ok));
        code.push(I::If(BlockType::Empty));
        let len = code.len32(len, memory);
        ascii(code, memory, ptr, len, ok);
        code.push(I::End);
    }
    let host = code.transfer(TransferOp::Check(elements), memory, &[ValType::I64; 2], &[]);
    fallback(code, ok, &[(ptr, memory), (len, memory)], host, &[]);
}

/// Checks that `size` bytes at `ptr` in `memory` are aligned to `align`
/// and in bounds, the place of spilled values, or fails with the spec's
/// error for `what`.
pub(super) fn check_block(
    code: &mut Code,
    memory: u32,
    ptr: u32,
    (size, align): (u32, u32),
    what: Block,
) {
    let bytes = code.local(ValType::I64);
    let ok = code.local(ValType::I32);
    code.push(I::I64Const(i64::from(size)));
    code.push(I::LocalSet(bytes));
    fits(code, memory, ptr, align, bytes);
    code.push(I::LocalSet(ok));
    let op = TransferOp::CheckBlock { size, align, what };
    let host = code.transfer(op, memory, &[ValType::I64], &[]);
    fallback(code, ok, &[(ptr, memory)], host, &[]);
}

/// Checks what `realloc` returned in the `to` side's memory, `ptr`, for
/// `len` elements (both of its address type) of `size` bytes aligned to
/// `align` (`len * size` known to be below 2^28), or fails with the spec's
/// error.
pub(super) fn check_alloc(
    code: &mut Code,
    ptr: u32,
    len: u32,
    (size, align): (u32, u32),
    what: Alloc,
) {
    let (from, to) = (code.from().memory, code.to().memory);
    let bytes = code.local(ValType::I64);
    let ok = code.local(ValType::I32);
    code.get_i64(len, to);
    code.push(I::I64Const(i64::from(size)));
    code.push(I::I64Mul);
    code.push(I::LocalSet(bytes));
    fits(code, to, ptr, align, bytes);
    code.push(I::LocalSet(ok));
    let op = TransferOp::CheckAlloc { size, align, what };
    let host = code.transfer(op, from, &[ValType::I64; 2], &[]);
    fallback(code, ok, &[(ptr, to), (len, to)], host, &[]);
}
