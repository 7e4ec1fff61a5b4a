//! The runtime helpers compiled code calls through the VM context.
//!
//! One list, expanded by both sides: the compiler builds call signatures from
//! it and the runtime builds its table of function pointers from it, in the
//! same order. Every helper that can fail returns an `i32` status: zero for
//! success, otherwise compiled code raises the one trap that helper stands for
//! (so traps always start in compiled code, where the signal handler can
//! unwind them).

/// Calls `$mac!` with the list of builtins.
///
/// Each entry is `name(param: type, …) -> type;` where the types are
/// `vmctx` (the caller's VM context), `i32`, `i64`, `ptr`, and the indices
/// `memory`, `table`, `data` and `elem` (passed as `i32`, received as the
/// runtime's typed indices).
#[macro_export]
macro_rules! foreach_builtin {
    ($mac:ident) => {
        $mac! {
            /// `memory.grow`: old size in pages, or -1. Addresses and sizes
            /// are `i64` for 32- and 64-bit memories alike (zero-extended
            /// from a 32-bit memory's `i32`s).
            memory_grow(vmctx: vmctx, memory: memory, delta: i64) -> i64;
            /// `memory.fill`: non-zero when out of bounds.
            memory_fill(vmctx: vmctx, memory: memory, dst: i64, val: i32, len: i64) -> i32;
            /// `memory.copy`: non-zero when out of bounds.
            memory_copy(vmctx: vmctx, dst_mem: memory, src_mem: memory, dst: i64, src: i64, len: i64) -> i32;
            /// `memory.init`: non-zero when out of bounds.
            memory_init(vmctx: vmctx, memory: memory, data: data, dst: i64, src: i32, len: i32) -> i32;
            /// `data.drop`.
            data_drop(vmctx: vmctx, data: data) -> i32;
            /// `memory.atomic.notify` at effective address `addr` (aligned
            /// and in bounds, checked by the caller): the waiters woken.
            memory_atomic_notify(vmctx: vmctx, memory: memory, addr: i64, count: i32) -> i32;
            /// `memory.atomic.wait32` (`wide` 0) or `wait64` (`wide` 1) at
            /// effective address `addr` (aligned and in bounds): 0 woken,
            /// 1 not equal, 2 timed out, -1 the memory is not shared.
            memory_atomic_wait(vmctx: vmctx, memory: memory, addr: i64, expected: i64, timeout: i64, wide: i32) -> i32;
            /// `table.grow`: old size, or -1. Indices and sizes are `i64`
            /// for 32- and 64-bit tables alike, as for memories.
            table_grow(vmctx: vmctx, table: table, delta: i64, init: ptr) -> i64;
            /// `table.fill`: non-zero when out of bounds.
            table_fill(vmctx: vmctx, table: table, dst: i64, val: ptr, len: i64) -> i32;
            /// `table.copy`: non-zero when out of bounds.
            table_copy(vmctx: vmctx, dst_table: table, src_table: table, dst: i64, src: i64, len: i64) -> i32;
            /// `table.init`: non-zero when out of bounds.
            table_init(vmctx: vmctx, table: table, elem: elem, dst: i64, src: i32, len: i32) -> i32;
            /// `elem.drop`.
            elem_drop(vmctx: vmctx, elem: elem) -> i32;
        }
    };
}

macro_rules! builtin_list {
    ($( $(#[$attr:meta])* $name:ident($($pname:ident: $pty:ident),*) -> $rty:ident;)*) => {
        /// Builtin names in table order; the index of a name is its slot.
        pub const BUILTIN_NAMES: &[&str] = &[$(stringify!($name)),*];

        /// A runtime builtin; its discriminant is its slot in the VM
        /// context's builtin table. Variants are named as the helpers (after
        /// the wasm operator they implement).
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u32)]
        pub enum Builtin {
            $( $(#[$attr])* $name, )*
        }

        impl Builtin {
            /// Every builtin, in table order.
            pub const ALL: &[Builtin] = &[$(Builtin::$name),*];

            /// The builtin's slot in the table.
            pub fn index(self) -> usize {
                self as usize
            }

            /// The builtin's name.
            pub fn name(self) -> &'static str {
                BUILTIN_NAMES[self.index()]
            }
        }
    };
}
foreach_builtin!(builtin_list);

#[cfg(test)]
mod tests {
    use super::{BUILTIN_NAMES, Builtin};

    #[test]
    fn variants_are_in_table_order() {
        assert_eq!(Builtin::ALL.len(), BUILTIN_NAMES.len());
        for (i, b) in Builtin::ALL.iter().enumerate() {
            assert_eq!(b.index(), i);
        }
        assert_eq!(Builtin::table_grow.name(), "table_grow");
    }
}
