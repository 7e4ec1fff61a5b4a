//! Wasm → Cranelift IR.
//!
//! One `FuncTranslator` pass per function: wasm
//! locals become Cranelift variables, the operand stack is a `Vec<Value>`,
//! and an explicit control stack maps wasm blocks to Cranelift blocks. Each
//! operator is validated (by wasmparser) right before it is translated, so
//! errors keep their byte offsets.
//!
//! Compiled functions use the `tail` calling convention with two leading
//! pointer parameters, the callee's and the caller's VM context; everything
//! they touch is reached through the callee's context using the layout in
//! [`cmc_runtime::abi::VMOffsets`].

mod atomic;
mod call;
mod control;
mod func;
mod memory;
mod simd;
mod table;

pub use func::translate_function;

use crate::module::FixedTable;
use cmc_runtime::abi::{
    CompileSettings, ConstExpr, ConstOp, DefinedFuncIndex, ElemItems, Features, FuncIndex,
    FuncType, ModuleIndex, ModuleMeta, PrimaryMap, SegmentMode, TableIndex, TrapKind, VMOffsets,
    ValType,
};
use cranelift_codegen::ir::{
    self, AbiParam, ArgumentPurpose, Signature, TrapCode, UserExternalName, types,
};
use cranelift_codegen::isa::{CallConv, TargetIsa};
use std::collections::HashMap;

/// Namespace of user function names for wasm functions (index = defined
/// function index).
pub const NS_WASM_FUNC: u32 = 0;

/// The first namespace of user function names for the functions of other
/// core modules of the same component: module `m`'s are in namespace
/// `NS_FOREIGN_FUNC + m` (index = defined function index), so a name means
/// the same function in every module, and an inlined body keeps its meaning.
const NS_FOREIGN_FUNC: u32 = 1;

/// A defined function of another core module of the same component.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ForeignFunc {
    /// Its module.
    pub module: ModuleIndex,
    /// Its index among the module's defined functions.
    pub func: DefinedFuncIndex,
}

impl ForeignFunc {
    /// Its name in Cranelift IR.
    pub fn name(self) -> UserExternalName {
        UserExternalName::new(NS_FOREIGN_FUNC + self.module.as_u32(), self.func.as_u32())
    }

    /// The function `name` stands for, if it is another module's.
    pub fn from_name(name: &UserExternalName) -> Option<ForeignFunc> {
        let module = name.namespace.checked_sub(NS_FOREIGN_FUNC)?;
        Some(ForeignFunc {
            module: ModuleIndex::from_u32(module),
            func: DefinedFuncIndex::from_u32(name.index),
        })
    }
}

/// Module-wide facts the function translator needs.
pub struct ModuleEnv<'a> {
    /// The module's metadata.
    pub meta: &'a ModuleMeta,
    /// Its VM context layout.
    pub offsets: VMOffsets,
    /// Target description.
    pub isa: &'a dyn TargetIsa,
    /// The tables nothing changes after instantiation, and what is known
    /// of them.
    pub fixed_tables: PrimaryMap<TableIndex, Option<FixedTable>>,
    /// Whether functions check the store's epoch deadline at entry and at
    /// every loop header.
    pub epoch_interruption: bool,
    /// Whether functions charge the store's fuel for what they run.
    pub consume_fuel: bool,
    /// Whether every memory access checks its bounds explicitly.
    pub explicit_bounds_checks: bool,
    /// The features the functions translated so far use (they are
    /// translated in parallel).
    pub used: std::sync::Mutex<Features>,
    /// The imported functions that the component's plan binds to a
    /// function of another of its modules whose body can be inlined: calls
    /// to them test that the import is bound so and run the inlined body
    /// if it is ([`crate::codegen::CrossModule`]).
    pub fixed_callees: HashMap<FuncIndex, ForeignFunc>,
}

impl<'a> ModuleEnv<'a> {
    /// Sets up the environment for `meta`, whose tables `fixed_tables`
    /// describes ([`crate::module::fixed_tables`]).
    pub fn new(
        meta: &'a ModuleMeta,
        isa: &'a dyn TargetIsa,
        fixed_tables: PrimaryMap<TableIndex, Option<FixedTable>>,
        settings: &CompileSettings,
        fixed_callees: HashMap<FuncIndex, ForeignFunc>,
    ) -> ModuleEnv<'a> {
        ModuleEnv {
            meta,
            offsets: meta.offsets(),
            isa,
            fixed_tables,
            epoch_interruption: settings.epoch_interruption,
            consume_fuel: settings.consume_fuel,
            explicit_bounds_checks: settings.explicit_bounds_checks,
            used: std::sync::Mutex::new(module_features(meta)),
            fixed_callees,
        }
    }

    /// Adds `used` to the features of the module.
    pub fn record(&self, used: Features) {
        let mut all = self.used.lock().unwrap_or_else(|e| e.into_inner());
        *all = all.union(used);
    }

    /// The features the module uses, once every function is translated.
    pub fn features(&self) -> Features {
        *self.used.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The features a module's declarations show: more than one memory,
/// arithmetic in a constant expression.
fn module_features(meta: &ModuleMeta) -> Features {
    let extended = |expr: &ConstExpr| {
        (expr.0.iter()).any(|op| {
            matches!(
                op,
                ConstOp::I32Add
                    | ConstOp::I32Sub
                    | ConstOp::I32Mul
                    | ConstOp::I64Add
                    | ConstOp::I64Sub
                    | ConstOp::I64Mul
            )
        })
    };
    fn offset<I>(mode: &SegmentMode<I>) -> Option<&ConstExpr> {
        match mode {
            SegmentMode::Active { offset, .. } => Some(offset),
            SegmentMode::Passive | SegmentMode::Declared => None,
        }
    }
    let offsets = (meta.data.values().filter_map(|d| offset(&d.mode)))
        .chain(meta.elems.values().filter_map(|e| offset(&e.mode)));
    let items = meta.elems.values().flat_map(|e| match &e.items {
        ElemItems::Exprs(exprs) => exprs.as_slice(),
        ElemItems::Funcs(_) => &[],
    });
    Features {
        multi_memory: meta.memories.len() > 1,
        memory64: meta.memories.values().any(|m| m.memory64)
            || meta.tables.values().any(|t| t.table64),
        custom_page_sizes: meta.memories.values().any(|m| m.page_size_log2 != 16),
        threads: meta.memories.values().any(|m| m.shared),
        extended_const: meta
            .global_inits
            .iter()
            .chain(offsets)
            .chain(items)
            .any(extended),
        ..Features::default()
    }
}

/// The Cranelift type of a wasm value type. References are pointers.
pub fn clif_type(ty: ValType) -> ir::Type {
    match ty {
        ValType::I32 => types::I32,
        ValType::I64 => types::I64,
        ValType::F32 => types::F32,
        ValType::F64 => types::F64,
        ValType::V128 => types::I8X16,
        ValType::FuncRef | ValType::ExternRef => types::I64,
    }
}

/// The native signature of a wasm function: callee vmctx, caller vmctx,
/// then the wasm parameters; the wasm results.
pub fn wasm_signature(ty: &FuncType) -> Signature {
    let mut sig = Signature::new(CallConv::Tail);
    sig.params
        .push(AbiParam::special(types::I64, ArgumentPurpose::VMContext));
    sig.params.push(AbiParam::new(types::I64));
    sig.params
        .extend(ty.params.iter().map(|&t| AbiParam::new(clif_type(t))));
    sig.returns
        .extend(ty.results.iter().map(|&t| AbiParam::new(clif_type(t))));
    sig
}

/// The array-call signature: (callee vmctx, caller vmctx, values, len) → ok.
pub fn array_call_signature(isa: &dyn TargetIsa) -> Signature {
    let mut sig = Signature::new(isa.default_call_conv());
    sig.params.extend([AbiParam::new(types::I64); 4]);
    sig.returns.push(AbiParam::new(types::I8));
    sig
}

/// The Cranelift trap code that stands for `kind`.
pub fn trap_code(kind: TrapKind) -> TrapCode {
    match kind {
        TrapKind::StackOverflow => TrapCode::STACK_OVERFLOW,
        TrapKind::MemoryOutOfBounds => TrapCode::HEAP_OUT_OF_BOUNDS,
        TrapKind::IntegerOverflow => TrapCode::INTEGER_OVERFLOW,
        TrapKind::IntegerDivisionByZero => TrapCode::INTEGER_DIVISION_BY_ZERO,
        TrapKind::BadConversionToInteger => TrapCode::BAD_CONVERSION_TO_INTEGER,
        other => TrapCode::unwrap_user(other.to_u8()),
    }
}

/// The trap kind a Cranelift trap code stands for.
pub fn trap_kind(code: TrapCode) -> Option<TrapKind> {
    TrapKind::ALL.into_iter().find(|&k| trap_code(k) == code)
}
