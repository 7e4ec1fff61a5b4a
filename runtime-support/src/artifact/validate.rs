//! Checks a core module's metadata before the runtime uses any of it.
//!
//! The checksum catches damage; this catches metadata that is well-formed
//! postcard but inconsistent (a bug, or a file changed and resealed): every
//! index, count, range and constant expression the runtime reads while
//! loading and instantiating is checked here, so that a bad one is an
//! [`ArtifactError`] instead of a panic or a wild pointer. What compiled
//! code assumes of the metadata (the VM context layout) cannot be checked
//! against the code itself: that part is what the checksum protects.

use super::ArtifactError;
use crate::abi::{
    CodeRange, ConstExpr, ConstOp, ElemItems, EntityIndex, EntityRef, EntityType, FuncIndex,
    ModuleMeta, SegmentMode, ValType,
};

/// Checks `meta` against the sizes of the sections it points into.
pub(crate) fn validate_meta(
    meta: &ModuleMeta,
    text_len: usize,
    data_len: usize,
    traps_len: usize,
) -> Result<(), ArtifactError> {
    let fail = |what: &str| {
        Err(ArtifactError::Corrupt(format!(
            "the metadata is inconsistent: {what}"
        )))
    };
    let fits = |r: &CodeRange, len: usize| r.start as usize + r.len as usize <= len;
    if !meta.code.values().all(|r| fits(r, text_len))
        || !meta
            .array_trampolines
            .iter()
            .all(|(_, r)| fits(r, text_len))
        || !meta.import_trampolines.iter().all(|r| fits(r, text_len))
    {
        return fail("code lies outside the text section");
    }
    if !meta
        .data
        .values()
        .all(|d| d.start as usize + d.len as usize <= data_len)
        || meta.traps.start as usize + meta.traps.len() > traps_len
    {
        return fail("data or trap tables lie outside their sections");
    }
    if !counts_agree(meta) {
        return fail("counts of functions, imports and definitions disagree");
    }
    if !meta.functions.values().all(|&t| meta.types.is_valid(t)) {
        return fail("a function has no type");
    }
    if !imports_agree(meta) {
        return fail("an import disagrees with the index spaces");
    }
    if !func_refs_agree(meta) {
        return fail("function references and their trampolines disagree");
    }
    let exports_ok = meta.exports.iter().all(|e| match e.index {
        EntityIndex::Func(f) => referable(meta, f),
        EntityIndex::Table(t) => meta.tables.is_valid(t),
        EntityIndex::Memory(m) => meta.memories.is_valid(m),
        EntityIndex::Global(g) => meta.globals.is_valid(g),
    });
    if !exports_ok {
        return fail("an export names nothing");
    }
    let start_ok = meta.start.is_none_or(|f| {
        referable(meta, f) && {
            let ty = meta.func_type(f);
            ty.params.is_empty() && ty.results.is_empty()
        }
    });
    if !start_ok {
        return fail("the start function is missing or takes arguments");
    }
    let imported_globals = meta.num_imported_globals as usize;
    let globals_ok = (meta
        .globals
        .values()
        .skip(imported_globals)
        .zip(&meta.global_inits))
    .enumerate()
    .all(|(i, (ty, init))| {
        // A global's initializer sees the globals before it.
        let visible = imported_globals + i;
        const_value(meta, init, visible).is_some_and(|c| c.fits(ty.content))
    });
    if !globals_ok {
        return fail("a global's initializer does not give a value of its type");
    }
    let all_globals = meta.globals.len();
    let offset_ok = |offset: &ConstExpr, ty: ValType| {
        const_value(meta, offset, all_globals) == Some(Const::Of(ty))
    };
    let data_ok = meta.data.values().all(|d| match &d.mode {
        SegmentMode::Active { index, offset } => {
            (meta.memories.get(*index)).is_some_and(|m| offset_ok(offset, m.address_type()))
        }
        SegmentMode::Passive => true,
        SegmentMode::Declared => false,
    });
    let elems_ok = meta.elems.values().all(|e| {
        let items_ok = match &e.items {
            ElemItems::Funcs(funcs) => {
                e.element == ValType::FuncRef && funcs.iter().all(|&f| referable(meta, f))
            }
            ElemItems::Exprs(exprs) => (exprs.iter())
                .all(|x| const_value(meta, x, all_globals).is_some_and(|c| c.fits(e.element))),
        };
        let mode_ok = match &e.mode {
            SegmentMode::Active { index, offset } => meta.tables.get(*index).is_some_and(|t| {
                let address = if t.table64 {
                    ValType::I64
                } else {
                    ValType::I32
                };
                t.element == e.element && offset_ok(offset, address)
            }),
            SegmentMode::Passive | SegmentMode::Declared => true,
        };
        items_ok && mode_ok
    });
    if !data_ok || !elems_ok {
        return fail("a data or element segment names nothing, or has a bad offset");
    }
    Ok(())
}

/// Whether the imported counts fit their index spaces and every defined
/// function has code and every defined global an initializer.
fn counts_agree(meta: &ModuleMeta) -> bool {
    let defined = |all: usize, imported: u32| all.checked_sub(imported as usize);
    defined(meta.functions.len(), meta.num_imported_funcs) == Some(meta.code.len())
        && defined(meta.globals.len(), meta.num_imported_globals) == Some(meta.global_inits.len())
        && defined(meta.tables.len(), meta.num_imported_tables).is_some()
        && defined(meta.memories.len(), meta.num_imported_memories).is_some()
        && meta.import_trampolines.len() == meta.num_imported_funcs as usize
}

/// Whether the imports, in order, are the imported entries of each index
/// space (as linking fills them).
fn imports_agree(meta: &ModuleMeta) -> bool {
    let (mut funcs, mut tables, mut memories, mut globals) = (0usize, 0usize, 0usize, 0usize);
    for import in &meta.imports {
        let ok = match &import.ty {
            EntityType::Func(t) => {
                funcs += 1;
                meta.functions.values().nth(funcs - 1) == Some(t)
            }
            EntityType::Table(t) => {
                tables += 1;
                meta.tables.values().nth(tables - 1) == Some(t)
            }
            EntityType::Memory(m) => {
                memories += 1;
                meta.memories.values().nth(memories - 1) == Some(m)
            }
            EntityType::Global(g) => {
                globals += 1;
                meta.globals.values().nth(globals - 1) == Some(g)
            }
        };
        if !ok {
            return false;
        }
    }
    funcs == meta.num_imported_funcs as usize
        && tables == meta.num_imported_tables as usize
        && memories == meta.num_imported_memories as usize
        && globals == meta.num_imported_globals as usize
}

/// Whether only defined functions have `VMFuncRef` slots, each in range,
/// and exactly those have array-call trampolines.
fn func_refs_agree(meta: &ModuleMeta) -> bool {
    if meta.func_ref_slots.len() != meta.functions.len() {
        return false;
    }
    let slots_ok = meta.func_ref_slots.iter().all(|(f, slot)| match slot {
        Some(slot) => !meta.is_imported_func(f) && slot.as_u32() < meta.num_func_refs,
        None => true,
    });
    let with_slots = (meta.func_ref_slots.iter()).filter_map(|(f, slot)| slot.map(|_| f));
    let with_trampolines = meta.array_trampolines.iter().map(|(f, _)| *f);
    slots_ok && with_slots.eq(with_trampolines)
}

/// Whether function `f` exists and can be referenced (imported, or given a
/// `VMFuncRef` slot).
fn referable(meta: &ModuleMeta, f: FuncIndex) -> bool {
    meta.functions.is_valid(f) && (meta.is_imported_func(f) || meta.func_ref_slots[f].is_some())
}

/// What a constant expression leaves: a value of a type, or a null of
/// whichever reference type is due where it is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Const {
    Of(ValType),
    Null,
}

impl Const {
    /// Whether it can initialize a slot of type `ty`.
    fn fits(self, ty: ValType) -> bool {
        match self {
            Const::Of(t) => t == ty,
            Const::Null => ty.is_ref(),
        }
    }
}

/// What valid constant expression `expr` leaves, reading only globals below
/// `visible`; `None` if it is not one.
fn const_value(meta: &ModuleMeta, expr: &ConstExpr, visible: usize) -> Option<Const> {
    let mut stack: Vec<Const> = Vec::new();
    for op in &expr.0 {
        let pushed = match *op {
            ConstOp::I32Const(_) => Const::Of(ValType::I32),
            ConstOp::I64Const(_) => Const::Of(ValType::I64),
            ConstOp::F32Const(_) => Const::Of(ValType::F32),
            ConstOp::F64Const(_) => Const::Of(ValType::F64),
            ConstOp::V128Const(_) => Const::Of(ValType::V128),
            ConstOp::RefNull => Const::Null,
            ConstOp::RefFunc(f) => {
                if !referable(meta, f) {
                    return None;
                }
                Const::Of(ValType::FuncRef)
            }
            ConstOp::GlobalGet(g) => {
                if g.index() >= visible {
                    return None;
                }
                Const::Of(meta.globals.get(g)?.content)
            }
            ConstOp::I32Add | ConstOp::I32Sub | ConstOp::I32Mul => {
                binary(&mut stack, ValType::I32)?
            }
            ConstOp::I64Add | ConstOp::I64Sub | ConstOp::I64Mul => {
                binary(&mut stack, ValType::I64)?
            }
        };
        stack.push(pushed);
    }
    match stack.as_slice() {
        [only] => Some(*only),
        _ => None,
    }
}

/// Pops the two operands of a binary operator of type `ty`.
fn binary(stack: &mut Vec<Const>, ty: ValType) -> Option<Const> {
    let b = stack.pop()?;
    let a = stack.pop()?;
    (a == Const::Of(ty) && b == Const::Of(ty)).then_some(Const::Of(ty))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::{
        DataIndex, DataSegment, Export, FuncRefIndex, FuncType, GlobalIndex, GlobalType,
        MemoryIndex, MemoryType, PrimaryMap, TypeIndex,
    };

    /// A consistent module: `(func (export "f") (param i32) (result i32))`,
    /// a memory, an active data segment and an i32 global.
    fn module() -> ModuleMeta {
        let f = FuncIndex::from_u32(0);
        let range = |start| CodeRange { start, len: 16 };
        ModuleMeta {
            types: PrimaryMap::from(vec![FuncType::new([ValType::I32], [ValType::I32])]),
            functions: PrimaryMap::from(vec![TypeIndex::from_u32(0)]),
            memories: PrimaryMap::from(vec![MemoryType {
                limits: crate::abi::Limits { min: 1, max: None },
                shared: false,
                memory64: false,
                page_size_log2: 16,
            }]),
            globals: PrimaryMap::from(vec![GlobalType {
                content: ValType::I32,
                mutable: false,
            }]),
            global_inits: vec![ConstExpr(vec![ConstOp::I32Const(7)])],
            exports: vec![Export {
                name: "f".into(),
                index: EntityIndex::Func(f),
            }],
            data: PrimaryMap::from(vec![DataSegment {
                mode: SegmentMode::Active {
                    index: MemoryIndex::from_u32(0),
                    offset: ConstExpr(vec![ConstOp::I32Const(16)]),
                },
                start: 0,
                len: 1,
            }]),
            func_ref_slots: PrimaryMap::from(vec![Some(FuncRefIndex::from_u32(0))]),
            num_func_refs: 1,
            code: PrimaryMap::from(vec![range(0)]),
            array_trampolines: vec![(f, range(32))],
            ..ModuleMeta::default()
        }
    }

    fn check(meta: &ModuleMeta) -> Result<(), ArtifactError> {
        validate_meta(meta, 64, 1, 0)
    }

    #[test]
    fn a_consistent_module_passes() {
        check(&module()).unwrap();
    }

    #[test]
    fn every_kind_of_inconsistency_is_refused() {
        let f1 = FuncIndex::from_u32(1);
        type Damage = Box<dyn Fn(&mut ModuleMeta)>;
        let broken: Vec<(&str, Damage)> = vec![
            (
                "code past the text",
                Box::new(|m| m.code[crate::abi::DefinedFuncIndex::from_u32(0)].len = 99),
            ),
            (
                "data past its section",
                Box::new(|m| m.data[DataIndex::from_u32(0)].len = 2),
            ),
            (
                "a function without code",
                Box::new(|m| {
                    m.functions.push(TypeIndex::from_u32(0));
                }),
            ),
            (
                "a type that does not exist",
                Box::new(|m| m.functions[FuncIndex::from_u32(0)] = TypeIndex::from_u32(3)),
            ),
            (
                "an export of nothing",
                Box::new(move |m| m.exports[0].index = EntityIndex::Func(f1)),
            ),
            (
                "an export of a missing memory",
                Box::new(|m| m.exports[0].index = EntityIndex::Memory(MemoryIndex::from_u32(4))),
            ),
            ("a slot out of range", Box::new(|m| m.num_func_refs = 0)),
            (
                "a slot without a trampoline",
                Box::new(|m| m.array_trampolines.clear()),
            ),
            (
                "an imported count over its space",
                Box::new(|m| m.num_imported_globals = 2),
            ),
            (
                "an import that is not there",
                Box::new(|m| m.num_imported_funcs = 1),
            ),
            (
                "a start function with parameters",
                Box::new(|m| m.start = Some(FuncIndex::from_u32(0))),
            ),
            (
                "an initializer of the wrong type",
                Box::new(|m| m.global_inits[0] = ConstExpr(vec![ConstOp::I64Const(1)])),
            ),
            (
                "an initializer that leaves nothing",
                Box::new(|m| m.global_inits[0] = ConstExpr(vec![])),
            ),
            (
                "an initializer that pops too much",
                Box::new(|m| {
                    m.global_inits[0] = ConstExpr(vec![ConstOp::I32Const(1), ConstOp::I32Add])
                }),
            ),
            (
                "an initializer reading itself",
                Box::new(|m| {
                    m.global_inits[0] =
                        ConstExpr(vec![ConstOp::GlobalGet(GlobalIndex::from_u32(0))])
                }),
            ),
            (
                "a segment into a missing memory",
                Box::new(|m| {
                    m.data[DataIndex::from_u32(0)].mode = SegmentMode::Active {
                        index: MemoryIndex::from_u32(1),
                        offset: ConstExpr(vec![ConstOp::I32Const(0)]),
                    }
                }),
            ),
            (
                "a segment offset of the wrong type",
                Box::new(|m| {
                    m.data[DataIndex::from_u32(0)].mode = SegmentMode::Active {
                        index: MemoryIndex::from_u32(0),
                        offset: ConstExpr(vec![ConstOp::RefNull]),
                    }
                }),
            ),
        ];
        for (what, damage) in broken {
            let mut meta = module();
            damage(&mut meta);
            let err = check(&meta).expect_err(what);
            assert!(err.to_string().contains("inconsistent"), "{what}: {err}");
        }
    }
}
