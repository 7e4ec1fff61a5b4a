//! What the runtime needs to know about a compiled module.
//!
//! The compiler fills a [`ModuleMeta`] while translating; the artifact writer
//! serializes it and the loader reads it back. Index spaces follow the wasm
//! spec: imports come first in each of the function, table, memory and global
//! spaces.

use super::{
    DataIndex, DefinedFuncIndex, ElemIndex, FuncIndex, FuncRefIndex, GlobalIndex, MemoryIndex,
    PrimaryMap, TableIndex, TypeIndex,
};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A wasm value type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ValType {
    /// 32-bit integer.
    I32,
    /// 64-bit integer.
    I64,
    /// 32-bit float.
    F32,
    /// 64-bit float.
    F64,
    /// 128-bit vector.
    V128,
    /// Nullable function reference.
    FuncRef,
    /// Nullable external reference.
    ExternRef,
}

impl ValType {
    /// Whether this is a reference type.
    pub fn is_ref(self) -> bool {
        matches!(self, ValType::FuncRef | ValType::ExternRef)
    }
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValType::I32 => "i32",
            ValType::I64 => "i64",
            ValType::F32 => "f32",
            ValType::F64 => "f64",
            ValType::V128 => "v128",
            ValType::FuncRef => "funcref",
            ValType::ExternRef => "externref",
        })
    }
}

/// A function signature.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FuncType {
    /// Parameter types.
    pub params: Box<[ValType]>,
    /// Result types.
    pub results: Box<[ValType]>,
}

impl FuncType {
    /// Builds a signature.
    pub fn new(
        params: impl IntoIterator<Item = ValType>,
        results: impl IntoIterator<Item = ValType>,
    ) -> FuncType {
        FuncType {
            params: params.into_iter().collect(),
            results: results.into_iter().collect(),
        }
    }
}

impl fmt::Display for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |v: &[ValType]| {
            v.iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        };
        write!(
            f,
            "(func (param {}) (result {}))",
            list(&self.params),
            list(&self.results)
        )
    }
}

/// Size limits of a memory (in 64 KiB pages) or table (in elements).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Limits {
    /// Initial size.
    pub min: u64,
    /// Maximum size, if declared.
    pub max: Option<u64>,
}

impl Limits {
    /// Import matching: `self` (what is provided) fits `required`.
    pub fn matches(&self, required: &Limits) -> bool {
        self.min >= required.min
            && match (self.max, required.max) {
                (_, None) => true,
                (Some(have), Some(want)) => have <= want,
                (None, Some(_)) => false,
            }
    }
}

/// A linear memory's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MemoryType {
    /// Size limits in pages.
    pub limits: Limits,
    /// Whether the memory is shared between threads.
    pub shared: bool,
    /// Whether addresses are `i64` (memory64) rather than `i32`.
    pub memory64: bool,
    /// The page size, as a power of two: 16 (64 KiB) unless the
    /// custom-page-sizes proposal chose 0 (one byte). The limits count
    /// pages of this size.
    pub page_size_log2: u8,
}

impl MemoryType {
    /// The page size in bytes.
    pub fn page_size(&self) -> u64 {
        1 << self.page_size_log2
    }

    /// Whether accesses need an explicit bounds check: the guard region
    /// catches only 32-bit indices into memories of whole 64 KiB pages.
    pub fn needs_bounds_checks(&self) -> bool {
        self.memory64 || self.page_size_log2 != 16
    }

    /// The type of an address into the memory.
    pub fn address_type(&self) -> ValType {
        if self.memory64 {
            ValType::I64
        } else {
            ValType::I32
        }
    }
}

/// A table's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TableType {
    /// Element type: `FuncRef` or `ExternRef`.
    pub element: ValType,
    /// Size limits in elements.
    pub limits: Limits,
    /// Whether indices are `i64` (memory64's 64-bit tables) rather than
    /// `i32`.
    pub table64: bool,
}

/// A global's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GlobalType {
    /// Value type.
    pub content: ValType,
    /// Whether `global.set` is allowed.
    pub mutable: bool,
}

/// The type of an imported or exported item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntityType {
    /// A function with the signature at this type index.
    Func(TypeIndex),
    /// A table.
    Table(TableType),
    /// A memory.
    Memory(MemoryType),
    /// A global.
    Global(GlobalType),
}

/// An import of the module.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Import {
    /// Module name.
    pub module: String,
    /// Field name.
    pub name: String,
    /// What is imported.
    pub ty: EntityType,
}

/// An item of one of a module's index spaces, as an export names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntityIndex {
    /// A function.
    Func(FuncIndex),
    /// A table.
    Table(TableIndex),
    /// A memory.
    Memory(MemoryIndex),
    /// A global.
    Global(GlobalIndex),
}

/// An export of the module.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Export {
    /// Export name.
    pub name: String,
    /// The item.
    pub index: EntityIndex,
}

/// One instruction of a constant expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConstOp {
    /// `i32.const`.
    I32Const(i32),
    /// `i64.const`.
    I64Const(i64),
    /// `f32.const`, as bits.
    F32Const(u32),
    /// `f64.const`, as bits.
    F64Const(u64),
    /// `v128.const`, its bytes little-endian.
    V128Const(u128),
    /// `ref.null`.
    RefNull,
    /// `ref.func`.
    RefFunc(FuncIndex),
    /// `global.get`.
    GlobalGet(GlobalIndex),
    /// `i32.add` (extended constant expressions).
    I32Add,
    /// `i32.sub`.
    I32Sub,
    /// `i32.mul`.
    I32Mul,
    /// `i64.add`.
    I64Add,
    /// `i64.sub`.
    I64Sub,
    /// `i64.mul`.
    I64Mul,
}

/// A constant expression, evaluated by the runtime at instantiation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConstExpr(pub Vec<ConstOp>);

/// Where a data or element segment goes at instantiation: `I` is the
/// index of what an active segment is copied into (a memory or a table).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SegmentMode<I> {
    /// Copied into memory or table `index` at `offset` during instantiation.
    Active {
        /// Memory or table index.
        index: I,
        /// Offset expression.
        offset: ConstExpr,
    },
    /// Available to `memory.init` / `table.init`.
    Passive,
    /// Only declares functions as referenceable (element segments).
    Declared,
}

/// A data segment; its bytes are a range of the artifact's data section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataSegment {
    /// Active or passive.
    pub mode: SegmentMode<MemoryIndex>,
    /// Byte offset in the data section.
    pub start: u32,
    /// Length in bytes.
    pub len: u32,
}

/// The items of an element segment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ElemItems {
    /// Function indices.
    Funcs(Vec<FuncIndex>),
    /// Constant expressions.
    Exprs(Vec<ConstExpr>),
}

impl ElemItems {
    /// Number of items.
    pub fn len(&self) -> usize {
        match self {
            ElemItems::Funcs(f) => f.len(),
            ElemItems::Exprs(e) => e.len(),
        }
    }

    /// Whether there are no items.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An element segment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElemSegment {
    /// Active, passive or declared.
    pub mode: SegmentMode<TableIndex>,
    /// Element type.
    pub element: ValType,
    /// The items.
    pub items: ElemItems,
}

/// A range of the artifact's text section.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeRange {
    /// Offset from the start of the text section.
    pub start: u32,
    /// Length in bytes.
    pub len: u32,
}

/// Where a module's trap table lies in the artifact's trap section.
///
/// The table is `count` little-endian `u32` code offsets, sorted, followed by
/// `count` one-byte [`TrapKind`](super::TrapKind) codes. It is binary-searched
/// where it lies in the mapped file, so loading never decodes it: a large
/// module has one entry per memory access.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrapTable {
    /// Byte offset of the table in the trap section.
    pub start: u32,
    /// Number of entries.
    pub count: u32,
}

impl TrapTable {
    /// Bytes per entry.
    pub const ENTRY_SIZE: usize = 5;

    /// Appends the table of `sites` (sorted by offset) to `section`.
    pub fn encode(sites: &[TrapSite], section: &mut Vec<u8>) -> TrapTable {
        let table = TrapTable {
            start: section.len() as u32,
            count: sites.len() as u32,
        };
        section.extend(sites.iter().flat_map(|s| s.offset.to_le_bytes()));
        section.extend(sites.iter().map(|s| s.code));
        table
    }

    /// The byte length of the table.
    pub fn len(&self) -> usize {
        self.count as usize * Self::ENTRY_SIZE
    }

    /// Whether the table has no entries.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The code recorded for `offset` in `table`, the table's bytes.
    pub fn lookup(table: &[u8], offset: u32) -> Option<u8> {
        let count = table.len() / Self::ENTRY_SIZE;
        let at = |i: usize| u32::from_le_bytes(table[4 * i..4 * i + 4].try_into().unwrap());
        let (mut lo, mut hi) = (0, count);
        while lo < hi {
            let mid = (lo + hi) / 2;
            match at(mid).cmp(&offset) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(table[4 * count + mid]),
            }
        }
        None
    }
}

/// A trap site: code offset (from the start of text) and trap code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrapSite {
    /// Offset of the trapping instruction in the text section.
    pub offset: u32,
    /// [`TrapKind`](super::TrapKind) code.
    pub code: u8,
}

/// The features beyond WebAssembly 2.0's scalar core that a module uses, as
/// the compiler found them (`cmc inspect` shows them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Features {
    /// `v128` operators.
    pub simd: bool,
    /// Relaxed SIMD operators.
    pub relaxed_simd: bool,
    /// The 128-bit operators of wide-arithmetic.
    pub wide_arithmetic: bool,
    /// More than one memory.
    pub multi_memory: bool,
    /// Arithmetic in constant expressions.
    pub extended_const: bool,
    /// A memory or table with `i64` addresses.
    pub memory64: bool,
    /// A memory with one-byte pages.
    pub custom_page_sizes: bool,
    /// A shared memory or an atomic operator.
    pub threads: bool,
}

impl Features {
    /// The names of the features used, as the proposals spell them.
    pub fn names(&self) -> Vec<&'static str> {
        [
            (self.simd, "simd"),
            (self.relaxed_simd, "relaxed-simd"),
            (self.wide_arithmetic, "wide-arithmetic"),
            (self.multi_memory, "multi-memory"),
            (self.extended_const, "extended-const"),
            (self.memory64, "memory64"),
            (self.custom_page_sizes, "custom-page-sizes"),
            (self.threads, "threads"),
        ]
        .into_iter()
        .filter_map(|(used, name)| used.then_some(name))
        .collect()
    }

    /// The features either uses.
    pub fn union(self, other: Features) -> Features {
        Features {
            simd: self.simd || other.simd,
            relaxed_simd: self.relaxed_simd || other.relaxed_simd,
            wide_arithmetic: self.wide_arithmetic || other.wide_arithmetic,
            multi_memory: self.multi_memory || other.multi_memory,
            extended_const: self.extended_const || other.extended_const,
            memory64: self.memory64 || other.memory64,
            custom_page_sizes: self.custom_page_sizes || other.custom_page_sizes,
            threads: self.threads || other.threads,
        }
    }
}

/// Everything the runtime knows about a compiled core module.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleMeta {
    /// Signatures by type index.
    pub types: PrimaryMap<TypeIndex, FuncType>,
    /// Type index of every function, imported first.
    pub functions: PrimaryMap<FuncIndex, TypeIndex>,
    /// Every table, imported first.
    pub tables: PrimaryMap<TableIndex, TableType>,
    /// Every memory, imported first.
    pub memories: PrimaryMap<MemoryIndex, MemoryType>,
    /// Every global, imported first.
    pub globals: PrimaryMap<GlobalIndex, GlobalType>,
    /// Initializers of the defined globals.
    pub global_inits: Vec<ConstExpr>,
    /// Imports in declaration order.
    pub imports: Vec<Import>,
    /// Imported function count.
    pub num_imported_funcs: u32,
    /// Imported table count.
    pub num_imported_tables: u32,
    /// Imported memory count.
    pub num_imported_memories: u32,
    /// Imported global count.
    pub num_imported_globals: u32,
    /// Exports in declaration order.
    pub exports: Vec<Export>,
    /// The start function.
    pub start: Option<FuncIndex>,
    /// Data segments.
    pub data: PrimaryMap<DataIndex, DataSegment>,
    /// Element segments.
    pub elems: PrimaryMap<ElemIndex, ElemSegment>,
    /// `VMFuncRef` slot of each function that has one.
    pub func_ref_slots: PrimaryMap<FuncIndex, Option<FuncRefIndex>>,
    /// Number of `VMFuncRef` slots.
    pub num_func_refs: u32,
    /// Function names from the name section (index, name), sorted by index.
    pub func_names: Vec<(FuncIndex, String)>,
    /// Code of each defined function.
    pub code: PrimaryMap<DefinedFuncIndex, CodeRange>,
    /// Array-call trampoline of each defined function that has a func ref
    /// slot, keyed by function index, sorted.
    pub array_trampolines: Vec<(FuncIndex, CodeRange)>,
    /// Exit trampoline (wasm convention → host array call) per imported
    /// function.
    pub import_trampolines: Vec<CodeRange>,
    /// The trap table in the artifact's trap section.
    pub traps: TrapTable,
    /// The features the module uses.
    pub features: Features,
}

impl ModuleMeta {
    /// The VM context layout of this module.
    pub fn offsets(&self) -> super::VMOffsets {
        super::VMOffsets::new(
            self.num_imported_funcs,
            self.tables.len() as u32,
            self.memories.len() as u32,
            self.num_imported_globals,
            (self.globals.len() as u32) - self.num_imported_globals,
            self.num_func_refs,
        )
    }

    /// The signature of function `index`.
    pub fn func_type(&self, index: FuncIndex) -> &FuncType {
        &self.types[self.functions[index]]
    }

    /// Whether function `index` is imported.
    pub fn is_imported_func(&self, index: FuncIndex) -> bool {
        index.as_u32() < self.num_imported_funcs
    }

    /// Whether global `index` is imported.
    pub fn is_imported_global(&self, index: GlobalIndex) -> bool {
        index.as_u32() < self.num_imported_globals
    }

    /// The defined function that function `index` is, unless imported.
    pub fn defined_func(&self, index: FuncIndex) -> Option<DefinedFuncIndex> {
        let defined = index.as_u32().checked_sub(self.num_imported_funcs)?;
        Some(DefinedFuncIndex::from_u32(defined))
    }

    /// The function index of defined function `index`.
    pub fn func_index(&self, index: DefinedFuncIndex) -> FuncIndex {
        FuncIndex::from_u32(self.num_imported_funcs + index.as_u32())
    }

    /// The name of function `index`, if the name section gave one.
    pub fn func_name(&self, index: FuncIndex) -> Option<&str> {
        self.func_names
            .binary_search_by_key(&index, |(i, _)| *i)
            .ok()
            .map(|i| self.func_names[i].1.as_str())
    }

    /// The type of an exported item.
    pub fn export_type(&self, export: &Export) -> EntityType {
        match export.index {
            EntityIndex::Func(i) => EntityType::Func(self.functions[i]),
            EntityIndex::Table(i) => EntityType::Table(self.tables[i]),
            EntityIndex::Memory(i) => EntityType::Memory(self.memories[i]),
            EntityIndex::Global(i) => EntityType::Global(self.globals[i]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trap_tables_are_searched_in_place() {
        let mut section = vec![0xee; 3];
        let sites = [(4, 2), (9, 7), (100, 1)].map(|(offset, code)| TrapSite { offset, code });
        let table = TrapTable::encode(&sites, &mut section);
        assert_eq!((table.start, table.count, table.len()), (3, 3, 15));
        let bytes = &section[table.start as usize..][..table.len()];
        for site in sites {
            assert_eq!(TrapTable::lookup(bytes, site.offset), Some(site.code));
        }
        for missing in [0, 5, 99, 101, u32::MAX] {
            assert_eq!(TrapTable::lookup(bytes, missing), None);
        }
        assert_eq!(TrapTable::lookup(&[], 4), None);
    }
}
