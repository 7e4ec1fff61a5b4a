//! Trap codes shared by compiled code (through the trap table) and the runtime.

use serde::{Deserialize, Serialize};

/// Why wasm execution stopped abnormally.
///
/// The `Display` text uses the wording of the WebAssembly spec scripts, so
/// that `assert_trap` expectations can be matched against it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(u8)]
pub enum TrapKind {
    /// The function-entry stack-limit check failed.
    StackOverflow = 1,
    /// A load or store outside the bounds of a linear memory.
    MemoryOutOfBounds = 2,
    /// A table access outside the table's bounds.
    TableOutOfBounds = 3,
    /// `call_indirect` with an index outside the table.
    UndefinedElement = 4,
    /// `call_indirect` through a null table entry.
    UninitializedElement = 5,
    /// `call_indirect` whose callee has another signature.
    IndirectCallTypeMismatch = 6,
    /// Signed division overflow or float-to-int conversion out of range.
    IntegerOverflow = 7,
    /// Integer division or remainder by zero.
    IntegerDivisionByZero = 8,
    /// Float-to-int conversion of a NaN.
    BadConversionToInteger = 9,
    /// The `unreachable` instruction.
    Unreachable = 10,
    /// A host function returned an error; the error itself travels beside.
    HostError = 11,
    /// A call between components met a pointer not aligned for what it
    /// points to (canonical ABI).
    UnalignedPointer = 12,
    /// A call between components met a string not all in linear memory.
    StringOutOfBounds = 13,
    /// A call between components met a list not all in linear memory.
    ListOutOfBounds = 14,
    /// The host called into a component instance that is running (from one
    /// of its imports).
    CannotEnterComponent = 15,
    /// A component instance called out of itself (an import, a resource
    /// built-in) while its `realloc` or `post-return` ran.
    CannotLeaveComponent = 16,
    /// The store's epoch deadline passed (epoch interruption).
    Interrupt = 17,
    /// The store's fuel ran out (fuel metering).
    OutOfFuel = 18,
    /// An atomic access at an address not aligned to its size.
    UnalignedAtomic = 19,
    /// `memory.atomic.wait` on a memory that is not shared.
    WaitOnUnsharedMemory = 20,
}

impl TrapKind {
    /// Every trap kind, for round-trip checks.
    pub const ALL: [TrapKind; 20] = [
        TrapKind::StackOverflow,
        TrapKind::MemoryOutOfBounds,
        TrapKind::TableOutOfBounds,
        TrapKind::UndefinedElement,
        TrapKind::UninitializedElement,
        TrapKind::IndirectCallTypeMismatch,
        TrapKind::IntegerOverflow,
        TrapKind::IntegerDivisionByZero,
        TrapKind::BadConversionToInteger,
        TrapKind::Unreachable,
        TrapKind::HostError,
        TrapKind::UnalignedPointer,
        TrapKind::StringOutOfBounds,
        TrapKind::ListOutOfBounds,
        TrapKind::CannotEnterComponent,
        TrapKind::CannotLeaveComponent,
        TrapKind::Interrupt,
        TrapKind::OutOfFuel,
        TrapKind::UnalignedAtomic,
        TrapKind::WaitOnUnsharedMemory,
    ];

    /// The code stored in trap tables.
    pub fn to_u8(self) -> u8 {
        self as u8
    }

    /// Decodes a trap-table code.
    pub fn from_u8(code: u8) -> Option<TrapKind> {
        TrapKind::ALL.into_iter().find(|k| k.to_u8() == code)
    }

    /// The spec-script wording of this trap.
    pub fn message(self) -> &'static str {
        match self {
            TrapKind::StackOverflow => "call stack exhausted",
            TrapKind::MemoryOutOfBounds => "out of bounds memory access",
            TrapKind::TableOutOfBounds => "out of bounds table access",
            TrapKind::UndefinedElement => "undefined element",
            TrapKind::UninitializedElement => "uninitialized element",
            TrapKind::IndirectCallTypeMismatch => "indirect call type mismatch",
            TrapKind::IntegerOverflow => "integer overflow",
            TrapKind::IntegerDivisionByZero => "integer divide by zero",
            TrapKind::BadConversionToInteger => "invalid conversion to integer",
            TrapKind::Unreachable => "unreachable",
            TrapKind::HostError => "host function failed",
            TrapKind::UnalignedPointer => "unaligned pointer",
            TrapKind::StringOutOfBounds => "string content out-of-bounds",
            TrapKind::ListOutOfBounds => "list content out-of-bounds",
            TrapKind::CannotEnterComponent => "cannot enter component instance",
            TrapKind::CannotLeaveComponent => "cannot leave component instance",
            TrapKind::Interrupt => "interrupt",
            TrapKind::OutOfFuel => "all fuel consumed",
            TrapKind::UnalignedAtomic => "unaligned atomic",
            TrapKind::WaitOnUnsharedMemory => "expected shared memory",
        }
    }
}

impl std::fmt::Display for TrapKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn u8_round_trip() {
        for kind in TrapKind::ALL {
            assert_eq!(TrapKind::from_u8(kind.to_u8()), Some(kind));
        }
        assert_eq!(TrapKind::from_u8(0), None);
        assert_eq!(TrapKind::from_u8(200), None);
    }
}
