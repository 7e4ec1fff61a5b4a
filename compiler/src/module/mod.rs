//! Module translation: validates a core module section by section and
//! collects what the runtime needs ([`ModuleMeta`]) plus the function bodies
//! to compile.

mod tables;

pub use tables::{FixedTable, fixed_tables};

use crate::error::{CompileError, Result};
use cmc_runtime::Proposals;
use cmc_runtime::abi::{
    ConstExpr, ConstOp, DataSegment, ElemItems, ElemSegment, EntityIndex, EntityType, Export,
    FuncIndex, FuncRefIndex, FuncType, GlobalIndex, GlobalType, Import, Limits, MemoryIndex,
    MemoryType, ModuleMeta, PrimaryMap, SegmentMode, TableIndex, TableType, TypeIndex, ValType,
};
use wasmparser::{
    FuncToValidate, FunctionBody, Parser, Payload, TypeRef, ValidPayload, Validator,
    ValidatorResources, WasmFeatures,
};

/// The features a standalone core module is validated against:
/// WebAssembly 2.0 and the proposals `proposals` turns on.
pub fn features(proposals: Proposals) -> WasmFeatures {
    let mut features = if proposals.wasm2 {
        WasmFeatures::WASM2
    } else {
        WasmFeatures::WASM1
    };
    features.set(WasmFeatures::EXTENDED_CONST, proposals.extended_const);
    features.set(WasmFeatures::MULTI_MEMORY, proposals.multi_memory);
    features.set(WasmFeatures::WIDE_ARITHMETIC, proposals.wide_arithmetic);
    features.set(WasmFeatures::RELAXED_SIMD, proposals.relaxed_simd);
    features.set(WasmFeatures::MEMORY64, proposals.memory64);
    features.set(WasmFeatures::CUSTOM_PAGE_SIZES, proposals.custom_page_sizes);
    features.set(WasmFeatures::THREADS, proposals.threads);
    features
}

/// A function body with the validator that checks it as it is translated.
pub type FunctionToCompile<'a> = (FuncToValidate<ValidatorResources>, FunctionBody<'a>);

/// A validated module, ready for code generation.
pub struct ModuleTranslation<'a> {
    /// What the runtime needs to know.
    pub meta: ModuleMeta,
    /// The bytes of all data segments, concatenated.
    pub data: Vec<u8>,
    /// Function bodies with their validators, in definition order.
    pub bodies: Vec<FunctionToCompile<'a>>,
}

/// The size of a function body in bytes: the unit of a compile's progress.
pub fn body_size(body: &FunctionBody<'_>) -> u64 {
    let range = body.range();
    range.end - range.start
}

impl ModuleTranslation<'_> {
    /// The bytes of all function bodies.
    pub fn code_size(&self) -> u64 {
        self.bodies.iter().map(|(_, body)| body_size(body)).sum()
    }
}

/// Validates `wasm` with `features` and translates its module-level parts.
pub fn translate_module(wasm: &[u8], features: WasmFeatures) -> Result<ModuleTranslation<'_>> {
    let mut validator = Validator::new_with_features(features);
    let mut t = ModuleTranslation {
        meta: ModuleMeta::default(),
        data: Vec::new(),
        bodies: Vec::new(),
    };
    let mut escaping: Vec<FuncIndex> = Vec::new();
    // The parser must decode with the same features the validator checks:
    // a parser left at its default (every feature) accepts encodings that
    // WebAssembly 2.0 calls malformed, such as a LEB128 memory index after
    // `memory.grow` or 64-bit memory limits.
    let mut parser = Parser::new(0);
    parser.set_features(features);
    for payload in parser.parse_all(wasm) {
        let payload = payload?;
        if let ValidPayload::Func(func, body) = validator.payload(&payload)? {
            t.bodies.push((func, body));
        }
        match payload {
            Payload::Version {
                encoding: wasmparser::Encoding::Component,
                ..
            } => {
                return Err(CompileError::Unsupported(
                    "WebAssembly components (this entry point compiles core modules)".into(),
                ));
            }
            Payload::TypeSection(reader) => {
                for ty in reader.into_iter_err_on_gc_types() {
                    t.meta.types.push(func_type(&ty?)?);
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import?;
                    let ty = match import.ty {
                        TypeRef::Func(i) => {
                            let ty = TypeIndex::from_u32(i);
                            t.meta.functions.push(ty);
                            t.meta.num_imported_funcs += 1;
                            EntityType::Func(ty)
                        }
                        TypeRef::Table(tt) => {
                            let tt = table_type(&tt)?;
                            t.meta.tables.push(tt);
                            t.meta.num_imported_tables += 1;
                            EntityType::Table(tt)
                        }
                        TypeRef::Memory(mt) => {
                            let mt = memory_type(&mt)?;
                            t.meta.memories.push(mt);
                            t.meta.num_imported_memories += 1;
                            EntityType::Memory(mt)
                        }
                        TypeRef::Global(gt) => {
                            let gt = global_type(&gt)?;
                            t.meta.globals.push(gt);
                            t.meta.num_imported_globals += 1;
                            EntityType::Global(gt)
                        }
                        other => {
                            return Err(CompileError::Unsupported(format!("import of {other:?}")));
                        }
                    };
                    t.meta.imports.push(Import {
                        module: import.module.to_owned(),
                        name: import.name.to_owned(),
                        ty,
                    });
                }
            }
            Payload::FunctionSection(reader) => {
                for ty in reader {
                    t.meta.functions.push(TypeIndex::from_u32(ty?));
                }
            }
            Payload::TableSection(reader) => {
                for table in reader {
                    let table = table?;
                    let ty = table_type(&table.ty)?;
                    if let wasmparser::TableInit::Expr(e) = table.init {
                        // Tables with explicit initializers come with the
                        // function-references proposal, outside WebAssembly 2.0.
                        let _ = e;
                        return Err(CompileError::Unsupported(
                            "table initializer expressions".into(),
                        ));
                    }
                    t.meta.tables.push(ty);
                }
            }
            Payload::MemorySection(reader) => {
                for memory in reader {
                    t.meta.memories.push(memory_type(&memory?)?);
                }
            }
            Payload::GlobalSection(reader) => {
                for global in reader {
                    let global = global?;
                    t.meta.globals.push(global_type(&global.ty)?);
                    t.meta
                        .global_inits
                        .push(const_expr(&global.init_expr, &mut escaping)?);
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export?;
                    let i = export.index;
                    let index = match export.kind {
                        wasmparser::ExternalKind::Func | wasmparser::ExternalKind::FuncExact => {
                            escaping.push(FuncIndex::from_u32(i));
                            EntityIndex::Func(FuncIndex::from_u32(i))
                        }
                        wasmparser::ExternalKind::Table => {
                            EntityIndex::Table(TableIndex::from_u32(i))
                        }
                        wasmparser::ExternalKind::Memory => {
                            EntityIndex::Memory(MemoryIndex::from_u32(i))
                        }
                        wasmparser::ExternalKind::Global => {
                            EntityIndex::Global(GlobalIndex::from_u32(i))
                        }
                        other => {
                            return Err(CompileError::Unsupported(format!("export of {other:?}")));
                        }
                    };
                    t.meta.exports.push(Export {
                        name: export.name.to_owned(),
                        index,
                    });
                }
            }
            Payload::StartSection { func, .. } => {
                let func = FuncIndex::from_u32(func);
                escaping.push(func);
                t.meta.start = Some(func);
            }
            Payload::ElementSection(reader) => {
                for elem in reader {
                    t.meta.elems.push(elem_segment(elem?, &mut escaping)?);
                }
            }
            Payload::DataSection(reader) => {
                for data in reader {
                    let data = data?;
                    let mode = match data.kind {
                        wasmparser::DataKind::Passive => SegmentMode::Passive,
                        wasmparser::DataKind::Active {
                            memory_index,
                            offset_expr,
                        } => SegmentMode::Active {
                            index: MemoryIndex::from_u32(memory_index),
                            offset: const_expr(&offset_expr, &mut escaping)?,
                        },
                    };
                    let start = u32::try_from(t.data.len()).map_err(|_| {
                        CompileError::Unsupported("over 4 GiB of data segments".into())
                    })?;
                    t.data.extend_from_slice(data.data);
                    t.meta.data.push(DataSegment {
                        mode,
                        start,
                        len: data.data.len() as u32,
                    });
                }
            }
            Payload::CustomSection(reader) => {
                if let wasmparser::KnownCustom::Name(names) = reader.as_known() {
                    // A malformed name section is ignored, as the spec asks.
                    let _ = read_names(names, &mut t.meta.func_names);
                }
            }
            Payload::TagSection(_) => {
                return Err(CompileError::Unsupported(
                    "exception handling (tags)".into(),
                ));
            }
            _ => {}
        }
    }
    assign_func_ref_slots(&mut t.meta, escaping);
    Ok(t)
}

/// Gives every escaping defined function a `VMFuncRef` slot.
fn assign_func_ref_slots(meta: &mut ModuleMeta, mut escaping: Vec<FuncIndex>) {
    escaping.sort_unstable();
    escaping.dedup();
    meta.func_ref_slots = PrimaryMap::from(vec![None; meta.functions.len()]);
    for f in escaping {
        if !meta.is_imported_func(f) && meta.functions.is_valid(f) {
            meta.func_ref_slots[f] = Some(FuncRefIndex::from_u32(meta.num_func_refs));
            meta.num_func_refs += 1;
        }
    }
}

fn read_names(
    names: wasmparser::NameSectionReader<'_>,
    out: &mut Vec<(FuncIndex, String)>,
) -> Result<()> {
    for name in names {
        if let wasmparser::Name::Function(map) = name? {
            for naming in map {
                let naming = naming?;
                out.push((FuncIndex::from_u32(naming.index), naming.name.to_owned()));
            }
        }
    }
    out.sort_by_key(|(i, _)| *i);
    out.dedup_by_key(|(i, _)| *i);
    Ok(())
}

fn elem_segment(
    elem: wasmparser::Element<'_>,
    escaping: &mut Vec<FuncIndex>,
) -> Result<ElemSegment> {
    let mode = match elem.kind {
        wasmparser::ElementKind::Passive => SegmentMode::Passive,
        wasmparser::ElementKind::Declared => SegmentMode::Declared,
        wasmparser::ElementKind::Active {
            table_index,
            offset_expr,
        } => SegmentMode::Active {
            index: TableIndex::from_u32(table_index.unwrap_or(0)),
            offset: const_expr(&offset_expr, escaping)?,
        },
    };
    let (element, items) = match elem.items {
        wasmparser::ElementItems::Functions(funcs) => {
            let funcs = (funcs.into_iter())
                .map(|f| f.map(FuncIndex::from_u32))
                .collect::<Result<Vec<_>, _>>()?;
            escaping.extend_from_slice(&funcs);
            (ValType::FuncRef, ElemItems::Funcs(funcs))
        }
        wasmparser::ElementItems::Expressions(ty, exprs) => {
            let exprs = exprs
                .into_iter()
                .map(|e| const_expr(&e?, escaping))
                .collect::<Result<Vec<_>>>()?;
            (ref_type(ty)?, ElemItems::Exprs(exprs))
        }
    };
    Ok(ElemSegment {
        mode,
        element,
        items,
    })
}

/// Translates a (validated) constant expression, noting `ref.func` targets.
pub(crate) fn const_expr(
    expr: &wasmparser::ConstExpr<'_>,
    escaping: &mut Vec<FuncIndex>,
) -> Result<ConstExpr> {
    use wasmparser::Operator as O;
    let mut ops = Vec::new();
    for op in expr.get_operators_reader() {
        ops.push(match op? {
            O::I32Const { value } => ConstOp::I32Const(value),
            O::I64Const { value } => ConstOp::I64Const(value),
            O::F32Const { value } => ConstOp::F32Const(value.bits()),
            O::F64Const { value } => ConstOp::F64Const(value.bits()),
            O::V128Const { value } => ConstOp::V128Const(u128::from_le_bytes(*value.bytes())),
            O::RefNull { .. } => ConstOp::RefNull,
            O::RefFunc { function_index } => {
                let func = FuncIndex::from_u32(function_index);
                escaping.push(func);
                ConstOp::RefFunc(func)
            }
            O::GlobalGet { global_index } => {
                ConstOp::GlobalGet(GlobalIndex::from_u32(global_index))
            }
            O::I32Add => ConstOp::I32Add,
            O::I32Sub => ConstOp::I32Sub,
            O::I32Mul => ConstOp::I32Mul,
            O::I64Add => ConstOp::I64Add,
            O::I64Sub => ConstOp::I64Sub,
            O::I64Mul => ConstOp::I64Mul,
            O::End => continue,
            other => {
                return Err(CompileError::Unsupported(format!(
                    "`{other:?}` in a constant expression"
                )));
            }
        });
    }
    Ok(ConstExpr(ops))
}

/// Converts a wasm value type.
pub(crate) fn val_type(ty: wasmparser::ValType) -> Result<ValType> {
    Ok(match ty {
        wasmparser::ValType::I32 => ValType::I32,
        wasmparser::ValType::I64 => ValType::I64,
        wasmparser::ValType::F32 => ValType::F32,
        wasmparser::ValType::F64 => ValType::F64,
        wasmparser::ValType::V128 => ValType::V128,
        wasmparser::ValType::Ref(r) => ref_type(r)?,
    })
}

fn ref_type(r: wasmparser::RefType) -> Result<ValType> {
    if r == wasmparser::RefType::FUNCREF {
        Ok(ValType::FuncRef)
    } else if r == wasmparser::RefType::EXTERNREF {
        Ok(ValType::ExternRef)
    } else {
        Err(CompileError::Unsupported(format!("reference type {r}")))
    }
}

/// The signature of core type `id` of the validator's `types`, a function
/// type (the type of a canonical built-in, say).
pub(crate) fn core_func_type(
    types: &wasmparser::types::Types,
    id: wasmparser::types::CoreTypeId,
) -> Result<FuncType> {
    func_type(types[id].unwrap_func())
}

fn func_type(ty: &wasmparser::FuncType) -> Result<FuncType> {
    Ok(FuncType {
        params: ty
            .params()
            .iter()
            .map(|&t| val_type(t))
            .collect::<Result<_>>()?,
        results: ty
            .results()
            .iter()
            .map(|&t| val_type(t))
            .collect::<Result<_>>()?,
    })
}

fn table_type(ty: &wasmparser::TableType) -> Result<TableType> {
    Ok(TableType {
        element: ref_type(ty.element_type)?,
        limits: Limits {
            min: ty.initial,
            max: ty.maximum,
        },
        table64: ty.table64,
    })
}

fn memory_type(ty: &wasmparser::MemoryType) -> Result<MemoryType> {
    let page_size_log2 = match ty.page_size_log2 {
        None => 16,
        Some(log2 @ (0 | 16)) => log2 as u8,
        Some(other) => {
            return Err(CompileError::Unsupported(format!(
                "a page size of 2^{other} bytes"
            )));
        }
    };
    Ok(MemoryType {
        limits: Limits {
            min: ty.initial,
            max: ty.maximum,
        },
        shared: ty.shared,
        memory64: ty.memory64,
        page_size_log2,
    })
}

fn global_type(ty: &wasmparser::GlobalType) -> Result<GlobalType> {
    Ok(GlobalType {
        content: val_type(ty.content_type)?,
        mutable: ty.mutable,
    })
}
