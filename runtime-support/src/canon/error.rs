//! Errors of the canonical ABI: the traps of `CanonicalABI.md` (every
//! `trap_if` of `definitions.py` that the sync ABI can reach) and the misuse
//! errors of the host-facing API.
//!
//! Display strings start with the wording that the component-model reference
//! test scripts (`test/values/*.wast`, `test/resources/*.wast`) expect in their
//! `assert_trap` directives for host-side lifting and lowering, so a script
//! runner can match them by prefix; details follow after a colon.

use super::layout::MAX_LIST_BYTE_LENGTH;
use super::string::MAX_STRING_BYTE_LENGTH;
use super::types::FlatType;
use crate::abi::TrapKind;
use std::fmt;

/// Who implements a resource type; named in wrong-type handle errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResourceDefiner {
    /// A component defined the resource type (`(type (resource (rep i32)))`).
    Guest,
    /// The embedder defined it.
    Host,
}

impl fmt::Display for ResourceDefiner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ResourceDefiner::Guest => "guest-defined",
            ResourceDefiner::Host => "host-defined",
        })
    }
}

/// A canonical-ABI trap or a misuse of this module's API.
///
/// Variants that correspond to a `trap_if` in `definitions.py` say so; the
/// others report a caller error (wrong value for a type, wrong number of core
/// values) that the spec rules out by construction.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CanonError {
    /// A pointer read from memory or passed by wasm is not aligned for what it
    /// points to (spec: `trap_if(ptr != align_to(ptr, alignment(...)))`).
    #[error("unaligned pointer: {what} at {ptr:#x} is not {align}-byte aligned")]
    UnalignedPointer {
        /// What the pointer points to.
        what: &'static str,
        /// The pointer.
        ptr: u64,
        /// The required alignment.
        align: u32,
    },
    /// A region that must lie in linear memory does not (spec:
    /// `trap_if(ptr + elem_size(...) > len(cx.opts.memory))`).
    #[error(
        "out of bounds memory access: {what} at {ptr:#x} ({len} bytes) ends beyond the {memory_len}-byte memory"
    )]
    OutOfBounds {
        /// What the region holds.
        what: &'static str,
        /// Start of the region.
        ptr: u64,
        /// Length of the region in bytes.
        len: u64,
        /// Size of the linear memory.
        memory_len: usize,
    },
    /// A string's bytes are not all in memory (spec: `load_string_from_range`).
    #[error(
        "string pointer/length out of bounds of memory: {byte_len} bytes at {ptr:#x}, memory is {memory_len} bytes"
    )]
    StringOutOfBounds {
        /// Start of the string.
        ptr: u64,
        /// Its length in bytes.
        byte_len: u64,
        /// Size of the linear memory.
        memory_len: usize,
    },
    /// A string is longer than `MAX_STRING_BYTE_LENGTH` bytes.
    #[error(
        "string too long: {byte_len} bytes is more than the maximum of {MAX_STRING_BYTE_LENGTH}"
    )]
    StringTooLong {
        /// Its length in bytes.
        byte_len: u64,
    },
    /// A list's elements are not all in memory (spec: `load_list_from_range`).
    #[error(
        "list pointer/length out of bounds of memory: {byte_len} bytes at {ptr:#x}, memory is {memory_len} bytes"
    )]
    ListOutOfBounds {
        /// Start of the list.
        ptr: u64,
        /// Its length in bytes.
        byte_len: u64,
        /// Size of the linear memory.
        memory_len: usize,
    },
    /// `length * elem_size` exceeds `MAX_LIST_BYTE_LENGTH`.
    #[error(
        "list too long: {len} elements of {elem_size} bytes is more than the maximum of {MAX_LIST_BYTE_LENGTH} bytes"
    )]
    ListTooLong {
        /// Number of elements.
        len: u64,
        /// Size of one element.
        elem_size: u32,
    },
    /// `realloc` returned a pointer that is not aligned as requested.
    #[error("realloc return: result not aligned: {ptr:#x} is not {align}-byte aligned")]
    ReallocUnaligned {
        /// The returned pointer.
        ptr: u64,
        /// The requested alignment.
        align: u32,
    },
    /// `realloc` returned a region that does not fit in memory.
    #[error(
        "realloc return: beyond end of memory: {size} bytes for the {what} at {ptr:#x}, memory is {memory_len} bytes"
    )]
    ReallocOutOfBounds {
        /// What was allocated: "string", "list" or "arguments".
        what: &'static str,
        /// The returned pointer.
        ptr: u64,
        /// The requested size.
        size: u64,
        /// Size of the linear memory.
        memory_len: usize,
    },
    /// A utf8 string holds a byte sequence that is never valid.
    #[error("invalid utf-8 sequence of {len} bytes from index {index}")]
    InvalidUtf8 {
        /// Byte offset of the sequence inside the string.
        index: usize,
        /// Length of the invalid sequence.
        len: u8,
    },
    /// A utf8 string ends in the middle of a multi-byte sequence.
    #[error("incomplete utf-8 byte sequence from index {index}")]
    IncompleteUtf8 {
        /// Byte offset of the truncated sequence inside the string.
        index: usize,
    },
    /// A utf16 string holds an unpaired surrogate.
    #[error("invalid utf-16: unpaired surrogate {unit:#06x} at code unit {index}")]
    InvalidUtf16 {
        /// The surrogate.
        unit: u16,
        /// Its code-unit offset inside the string.
        index: usize,
    },
    /// A `char` that is a surrogate or beyond U+10FFFF (spec: `convert_i32_to_char`).
    #[error("invalid `char` bit pattern: {0:#x}")]
    InvalidChar(u32),
    /// A variant, enum, option or result discriminant names no case.
    #[error("invalid variant discriminant: {discriminant} (the type has {cases} cases)")]
    InvalidDiscriminant {
        /// The discriminant read.
        discriminant: u32,
        /// Number of cases of the type.
        cases: usize,
    },
    /// A handle index names no live entry of the handle table (spec: `Table.get`).
    #[error("unknown handle index {0}")]
    UnknownHandle(u32),
    /// A handle index names a handle of another resource type.
    #[error(
        "handle index {index} used with the wrong type, expected {expected} resource but found a different {found} resource"
    )]
    WrongHandleType {
        /// The handle index.
        index: u32,
        /// Who defines the expected type.
        expected: ResourceDefiner,
        /// Who defines the type found.
        found: ResourceDefiner,
    },
    /// A handle was dropped or moved out while lent to a call (spec:
    /// `trap_if(h.num_lends != 0)`).
    #[error(
        "cannot remove owned resource while borrowed: handle index {index} has {lends} outstanding lends"
    )]
    ResourceLent {
        /// The handle index.
        index: u32,
        /// Its lend count.
        lends: u32,
    },
    /// An `own` was lifted from a borrow handle (spec: `trap_if(not h.own)`).
    #[error("cannot lift own resource from a borrow: handle index {0} is a borrow")]
    NotOwned(u32),
    /// A call returned while borrow handles it received were not dropped
    /// (spec: `trap_if(self.num_borrows > 0)` in `Task.return_`).
    #[error("borrow handles still remain at the end of the call: {0} not dropped")]
    BorrowsRemain(u32),
    /// The handle table has `Table::MAX_LENGTH` entries already.
    #[error("handle table full: no index left below {max}")]
    TableFull {
        /// The largest index.
        max: u32,
    },
    /// A borrow scope id that names no active call.
    #[error("unknown borrow scope {0}")]
    UnknownScope(u32),
    /// A value does not have the type it is lifted or lowered as.
    #[error("type mismatch at `{path}`: expected {expected}, found {found}")]
    TypeMismatch {
        /// Where in the value: parameter name, then fields, cases and indices.
        path: String,
        /// The expected type.
        expected: String,
        /// What was found instead.
        found: String,
    },
    /// A wrong number of values was passed.
    #[error("wrong number of {what}: expected {expected}, found {found}")]
    ArityMismatch {
        /// What was counted.
        what: &'static str,
        /// The number the function type asks for.
        expected: usize,
        /// The number passed.
        found: usize,
    },
    /// A core value of the wrong type was passed where a flat value was read.
    #[error("core value {index} has type {found}, expected {expected}")]
    FlatTypeMismatch {
        /// Position among the core values.
        index: usize,
        /// The type the flattening asks for.
        expected: FlatType,
        /// The type passed.
        found: &'static str,
    },
    /// Results spill to memory but the caller passed no return pointer.
    #[error("missing return pointer: the results spill to memory but no return pointer was passed")]
    MissingReturnPointer,
    /// A flags type with more than 32 labels, which the spec no longer allows.
    #[error("flags type with {0} labels: at most 32 are allowed")]
    TooManyFlags(usize),
    /// `backpressure.inc` past `2^16 - 1`, or `backpressure.dec` below 0.
    #[error("backpressure counter {}", if *increment { "overflow" } else { "underflow" })]
    Backpressure {
        /// Whether it was an increment.
        increment: bool,
    },
    /// `task.return` in a task of a synchronous lift.
    #[error("task.return called from a synchronous task")]
    TaskReturnFromSync,
    /// `task.return` defined with another result type or other options
    /// than the task's lift.
    #[error("invalid task.return signature: its {0} differ from the lift's")]
    TaskReturnMismatch(&'static str),
    /// `task.cancel` of a task that was not asked to cancel (or resolved).
    #[error("task.cancel called without a delivered cancellation request")]
    TaskCancelNotDelivered,
    /// `task.cancel` in a task of a synchronous lift.
    #[error("task.cancel called from a synchronous task")]
    TaskCancelFromSync,
    /// `task.return` of a task that already returned.
    #[error("task.return called twice: the task already returned")]
    TaskResolvedTwice,
    /// An async lift's task ended without calling `task.return`.
    #[error("async-lifted export failed to produce a result")]
    TaskNeverReturned,
    /// A callback returned a code other than `EXIT`, `YIELD` and `WAIT`.
    #[error("unsupported callback code: {0}")]
    UnsupportedCallbackCode(u32),
    /// `waitable-set.drop` of a set that holds waitables or is waited on.
    #[error("cannot drop waitable set with waiters")]
    WaitableSetBusy,
    /// `subtask.drop` before the subtask's return was delivered.
    #[error("cannot drop a subtask which has not yet resolved")]
    SubtaskUnresolved,
    /// `subtask.cancel` after the subtask's resolution was delivered.
    #[error("cannot cancel a subtask whose resolution was already delivered")]
    SubtaskResolveDelivered,
    /// A second `subtask.cancel` of the same subtask.
    #[error("cannot cancel a subtask twice")]
    SubtaskCancelledTwice,
    /// A synchronous task (or a start function) tried to block.
    #[error("cannot block a synchronous task before returning")]
    CannotBlockSync,
    /// No task can make progress.
    #[error("deadlock detected: event loop cannot make further progress")]
    Deadlock,
    /// A copy, cancellation, drop or lift of a stream or future end that
    /// its state or type rules out ([`CopyTrap`]).
    #[error("{0}")]
    Copy(CopyTrap),
    /// A stream, future or error context where the context has no store
    /// to keep it in.
    #[error("`{0}` values cannot be passed here: they need a component instance's store")]
    SharedValueUnsupported(String),
    /// A handle index that names another kind of entry than the one the
    /// operation needs.
    #[error("handle index {index} is not a {expected}")]
    WrongHandleKind {
        /// The index.
        index: u32,
        /// What the operation needs (`resource`, `waitable set`, …).
        expected: &'static str,
    },
}

/// Why an operation on a stream or future end traps: the `trap_if`s of
/// `stream_copy`, `future_copy`, `cancel_copy`, `drop` and
/// `lift_async_value`, worded as the reference scripts expect.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CopyTrap {
    /// The end's stream or future has another type than the built-in's.
    #[error("{0} type mismatch: the end was created with another type")]
    TypeMismatch(&'static str),
    /// A stream end whose other end was dropped.
    #[error("cannot {} stream after being notified that the {} end dropped",
        if *write { "write to" } else { "read from" },
        if *write { "readable" } else { "writable" })]
    StreamDone {
        /// Whether it is the writable end.
        write: bool,
    },
    /// A future end that is done.
    #[error("{}", if *write {
        "cannot write to future after previous write succeeded or readable end dropped"
    } else {
        "cannot read from future after previous read succeeded"
    })]
    FutureDone {
        /// Whether it is the writable end.
        write: bool,
    },
    /// A copy on an end that is copying already.
    #[error("cannot have concurrent operations active on a future/stream")]
    Busy,
    /// A synchronous operation on an end in a waitable set.
    #[error("waitable cannot be used synchronously while added to a waitable set")]
    SyncInWaitableSet,
    /// A cancellation with no copy to cancel.
    #[error("there is no {0} copy in progress to cancel")]
    NotCopying(&'static str),
    /// A drop of an end that is copying.
    #[error("cannot {} busy {noun}", if *write { "drop" } else { "remove" })]
    DropBusy {
        /// "stream" or "future".
        noun: &'static str,
        /// Whether it is the writable end.
        write: bool,
    },
    /// A drop of a future's writable end before it wrote.
    #[error("cannot drop future write end without first writing a value")]
    FutureUnwritten,
    /// A lift of a readable end that is done.
    #[error("{}", if *future {
        "cannot lift future after previous read succeeded"
    } else {
        "cannot lift stream after being notified that the writable end dropped"
    })]
    LiftDone {
        /// Whether it is a future.
        future: bool,
    },
    /// A lift of a readable end that is copying.
    #[error("cannot remove busy {0}")]
    LiftBusy(&'static str),
    /// A lift of a readable end in a waitable set.
    #[error("cannot lift {0} while it's in a waitable set")]
    LiftInWaitableSet(&'static str),
    /// Both ends in one instance, with elements that are not numbers.
    #[error("cannot read from and write to intra-component {0}")]
    IntraComponent(&'static str),
    /// A buffer longer than `2^28 - 1` elements.
    #[error("{noun} buffer of {len} elements: at most 2^28 - 1 are allowed")]
    BufferTooLong {
        /// "stream" or "future".
        noun: &'static str,
        /// Its length.
        len: u32,
    },
}

impl CanonError {
    /// The trap this error is inside a call between components.
    ///
    /// There the canonical ABI runs as an adapter between two instances
    /// (fused, in the spec's words), and a broken pointer or region is a
    /// trap of that adapter with the spec's short wording, as a compiled
    /// adapter would raise it; the longer messages of [`CanonError`] are
    /// for the host boundary, where the embedder's values cross.
    pub fn adapter_trap(&self) -> Option<TrapKind> {
        Some(match self {
            CanonError::UnalignedPointer { .. } | CanonError::ReallocUnaligned { .. } => {
                TrapKind::UnalignedPointer
            }
            CanonError::StringOutOfBounds { .. }
            | CanonError::ReallocOutOfBounds { what: "string", .. } => TrapKind::StringOutOfBounds,
            CanonError::ListOutOfBounds { .. }
            | CanonError::ReallocOutOfBounds { what: "list", .. } => TrapKind::ListOutOfBounds,
            CanonError::OutOfBounds { .. } | CanonError::ReallocOutOfBounds { .. } => {
                TrapKind::MemoryOutOfBounds
            }
            _ => return None,
        })
    }
}
