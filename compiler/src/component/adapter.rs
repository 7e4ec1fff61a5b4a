//! Fused adapters: a call from one component instance into a function
//! another one lifted, compiled to native code.
//!
//! The spec runs such a call as `canon_lower` in the caller around
//! `canon_lift` in the callee: lift the caller's flat arguments to
//! component values, lower them into the callee, call, lift the callee's
//! result, lower it back, then run the callee's `post-return`. [`fuse`]
//! writes that as a small core module that imports the callee (and what
//! else it needs) and exports the adapter; it is compiled like every other
//! module of the component. For numbers and booleans each lift-then-lower
//! is a fixed instruction sequence on one flat value (a mask, a sign
//! extension, a NaN canonicalization). A utf8 string (on both sides) or a
//! list of integers is checked where it lies ([`TransferOp::Check`]),
//! allocated with the callee's `realloc` and copied across
//! ([`TransferOp::Copy`]): the steps that need the memories are the
//! runtime's, as [`CoreDef::Transfer`] imports.
//!
//! A string or list result comes back the same way, from the callee's
//! memory into the caller's `realloc`ed bytes, its `(ptr, len)` stored at the
//! return pointer the caller passed.
//!
//! Records and tuples of those are their fields, in order. Other
//! signatures (other encodings, other lists, strings and lists of 64-bit
//! memories, handles, variants, `char`, records as results, spilled
//! parameters) are still adapted by the runtime's canonical-ABI code
//! (`AdapterFunc`).

use cmc_runtime::abi::{
    CanonOptions, CoreDef, Elements, EntityRef, FUSED_ADAPTER_EXPORT, FuncIndex, LiftedFunc,
    MemoryTransfer, TransferOp,
};
use cmc_runtime::component::flatten::MAX_FLAT_PARAMS;
use cmc_runtime::component::lift::{CANONICAL_FLOAT32_NAN, CANONICAL_FLOAT64_NAN};
use cmc_runtime::component::types::{InterfaceType, PtrType, StringEncoding};
use wasm_encoder::{
    CodeSection, EntityType, ExportKind, ExportSection, Function, FunctionSection, GlobalType,
    Ieee32, Ieee64, ImportSection, Instruction, Module, NameMap, NameSection, TypeSection, ValType,
};

/// How one flat value is carried from one side to the other: its core type
/// and the instructions that lift it on one side and lower it on the other.
#[derive(Clone, Copy)]
enum Scalar {
    /// `bool`: any non-zero `i32` is true, lowered as 1.
    Bool,
    /// `u8`, `u16`: the low bits of an `i32`, under this mask.
    Mask(i32),
    /// `s8`: the low 8 bits, sign-extended.
    Extend8,
    /// `s16`: the low 16 bits, sign-extended.
    Extend16,
    /// `u32`, `s32`, `u64`, `s64`: passed as is.
    Int(ValType),
    /// `f32`, `f64`: NaNs are canonicalized.
    Float(ValType),
}

impl Scalar {
    fn of(ty: &InterfaceType) -> Option<Scalar> {
        use InterfaceType as T;
        Some(match ty {
            T::Bool => Scalar::Bool,
            T::U8 => Scalar::Mask(0xff),
            T::U16 => Scalar::Mask(0xffff),
            T::S8 => Scalar::Extend8,
            T::S16 => Scalar::Extend16,
            T::U32 | T::S32 => Scalar::Int(ValType::I32),
            T::U64 | T::S64 => Scalar::Int(ValType::I64),
            T::F32 => Scalar::Float(ValType::F32),
            T::F64 => Scalar::Float(ValType::F64),
            _ => return None,
        })
    }

    fn core_type(self) -> ValType {
        match self {
            Scalar::Bool | Scalar::Mask(_) | Scalar::Extend8 | Scalar::Extend16 => ValType::I32,
            Scalar::Int(t) | Scalar::Float(t) => t,
        }
    }

    /// Converts the value on top of the stack, using the float locals of
    /// `scratch` where the value is needed twice.
    fn convert(self, f: &mut Function, scratch: Scratch) {
        match self {
            Scalar::Bool => {
                f.instruction(&Instruction::I32Const(0));
                f.instruction(&Instruction::I32Ne);
            }
            Scalar::Mask(mask) => {
                f.instruction(&Instruction::I32Const(mask));
                f.instruction(&Instruction::I32And);
            }
            Scalar::Extend8 => {
                f.instruction(&Instruction::I32Extend8S);
            }
            Scalar::Extend16 => {
                f.instruction(&Instruction::I32Extend16S);
            }
            Scalar::Int(_) => {}
            Scalar::Float(t) => {
                // x == x ? x : the canonical NaN
                let (local, nan, eq) = if t == ValType::F32 {
                    let nan = Ieee32::new(CANONICAL_FLOAT32_NAN);
                    (scratch.f32, Instruction::F32Const(nan), Instruction::F32Eq)
                } else {
                    let nan = Ieee64::new(CANONICAL_FLOAT64_NAN);
                    (scratch.f64, Instruction::F64Const(nan), Instruction::F64Eq)
                };
                f.instruction(&Instruction::LocalTee(local));
                f.instruction(&nan);
                f.instruction(&Instruction::LocalGet(local));
                f.instruction(&Instruction::LocalGet(local));
                f.instruction(&eq);
                f.instruction(&Instruction::Select);
            }
        }
    }
}

/// The adapter's locals for a float that is read twice.
#[derive(Clone, Copy)]
struct Scratch {
    f32: u32,
    f64: u32,
}

/// What a fused adapter module imports, in its import order.
pub enum Import {
    /// A core item of the plan: the callee, its `post-return`, its
    /// `realloc`.
    Def(CoreDef),
    /// A host half, from the caller's memory to the callee's.
    Transfer(MemoryTransfer),
    /// The store's count of calls between components, global 0 (imported
    /// after the functions, so their indices are the import order).
    CallCounter,
}

/// A fused adapter: its module and what to instantiate it with.
pub struct Fused {
    /// The core module.
    pub wasm: Vec<u8>,
    /// What each of its imports is bound to.
    pub imports: Vec<Import>,
}

/// One parameter as the adapter carries it.
#[derive(Clone, Copy)]
enum Param {
    Scalar(Scalar),
    /// `(ptr, len)` of elements copied as they are.
    Memory(Elements),
}

impl Param {
    fn of(ty: &InterfaceType, caller: &CanonOptions, callee: &CanonOptions) -> Option<Param> {
        use InterfaceType as T;
        let utf8 = |o: &CanonOptions| o.encoding == StringEncoding::Utf8;
        let ints = |size| Param::Memory(Elements::Ints { size, align: size });
        // The host halves move `i32` pairs between 32-bit memories.
        let ptr32 = [caller, callee].iter().all(|o| o.ptr_type == PtrType::I32);
        Some(match ty {
            T::String | T::List(_) if !ptr32 => return None,
            T::String if utf8(caller) && utf8(callee) => Param::Memory(Elements::Utf8),
            T::List(elem) => match **elem {
                T::U8 | T::S8 => ints(1),
                T::U16 | T::S16 => ints(2),
                T::U32 | T::S32 => ints(4),
                T::U64 | T::S64 => ints(8),
                _ => return None,
            },
            t => Param::Scalar(Scalar::of(t)?),
        })
    }

    /// Appends the parameters `ty` flattens to: itself, or the fields of a
    /// record or tuple in order (lifting and lowering one is lifting and
    /// lowering its fields, and its flat values are theirs).
    fn leaves(
        ty: &InterfaceType,
        caller: &CanonOptions,
        callee: &CanonOptions,
        out: &mut Vec<Param>,
    ) -> Option<()> {
        match ty {
            InterfaceType::Record(fields) => {
                for (_, t) in fields {
                    Param::leaves(t, caller, callee, out)?;
                }
            }
            InterfaceType::Tuple(types) => {
                for t in types {
                    Param::leaves(t, caller, callee, out)?;
                }
            }
            t => out.push(Param::of(t, caller, callee)?),
        }
        Some(())
    }

    /// Its core types.
    fn core_types(self) -> Vec<ValType> {
        match self {
            Param::Scalar(s) => vec![s.core_type()],
            Param::Memory(_) => vec![ValType::I32, ValType::I32],
        }
    }
}

/// The signature of a call the adapter can carry: its parameters flattened
/// to numbers, strings and lists.
struct Signature {
    /// Each parameter with the index of its first core parameter.
    params: Vec<(Param, u32)>,
    /// The core parameters (the same on both sides, but for the caller's
    /// return pointer when the result is in memory).
    core_params: Vec<ValType>,
    /// The result: a string or list is returned through memory, as a
    /// pointer by the callee and into a pointer the caller passes last.
    result: Option<Param>,
}

impl Signature {
    fn of(lifted: &LiftedFunc, caller: &CanonOptions) -> Option<Signature> {
        let callee = &lifted.options;
        let mut core_params = Vec::new();
        let mut params = Vec::new();
        let mut leaves = Vec::new();
        for ty in lifted.ty.param_types() {
            Param::leaves(ty, caller, callee, &mut leaves)?;
        }
        for param in leaves {
            params.push((param, core_params.len() as u32));
            core_params.extend(param.core_types());
        }
        if core_params.len() > MAX_FLAT_PARAMS {
            return None;
        }
        let result = match &lifted.ty.result {
            Some(t) => Some(Param::of(t, caller, callee)?),
            None => None,
        };
        Some(Signature {
            params,
            core_params,
            result,
        })
    }

    /// The callee's core results: a scalar, or the pointer to a string or
    /// list.
    fn callee_results(&self) -> Vec<ValType> {
        match self.result {
            Some(Param::Scalar(s)) => vec![s.core_type()],
            Some(Param::Memory(_)) => vec![ValType::I32],
            None => vec![],
        }
    }

    /// The adapter's (the caller's) core signature.
    fn adapter_type(&self) -> (Vec<ValType>, Vec<ValType>) {
        let mut params = self.core_params.clone();
        match self.result {
            Some(Param::Scalar(s)) => (params, vec![s.core_type()]),
            Some(Param::Memory(_)) => {
                params.push(ValType::I32);
                (params, vec![])
            }
            None => (params, vec![]),
        }
    }

    /// The string or list result's elements.
    fn result_in_memory(&self) -> Option<Elements> {
        match self.result {
            Some(Param::Memory(elements)) => Some(elements),
            _ => None,
        }
    }

    /// The strings and lists: elements and first core parameter.
    fn in_memory(&self) -> impl Iterator<Item = (Elements, u32)> + '_ {
        self.params.iter().filter_map(|&(p, start)| match p {
            Param::Memory(elements) => Some((elements, start)),
            Param::Scalar(_) => None,
        })
    }
}

/// The adapter module's imported functions, with their types.
struct Imports {
    types: TypeSection,
    imports: Vec<Import>,
    section: ImportSection,
}

impl Imports {
    /// Imports `import` with the given signature; returns its function index.
    fn add(&mut self, import: Import, params: &[ValType], results: &[ValType]) -> FuncIndex {
        let index = FuncIndex::new(self.imports.len());
        self.types
            .ty()
            .function(params.iter().copied(), results.iter().copied());
        self.section.import(
            "",
            &index.to_string(),
            EntityType::Function(self.types.len() - 1),
        );
        self.imports.push(import);
        index
    }
}

/// The function indices the adapter's body calls.
struct Callees {
    callee: FuncIndex,
    post_return: Option<FuncIndex>,
    /// The callee's `realloc`, imported when something is passed in memory.
    realloc: Option<FuncIndex>,
    /// The check and copy functions of each kind of elements passed.
    transfers: Vec<(Elements, FuncIndex, FuncIndex)>,
    /// Where a string or list result goes back to the caller.
    result: Option<ResultCallees>,
}

/// The functions that bring a string or list result back to the caller.
struct ResultCallees {
    /// [`TransferOp::LoadResult`].
    load: FuncIndex,
    /// [`TransferOp::CheckRetptr`].
    check_retptr: FuncIndex,
    /// The caller's `realloc`.
    realloc: FuncIndex,
    /// [`TransferOp::Copy`], from the callee's memory to the caller's.
    copy: FuncIndex,
    /// [`TransferOp::StoreResult`].
    store: FuncIndex,
    size: u32,
    align: u32,
}

impl Callees {
    fn transfer(&self, elements: Elements) -> (FuncIndex, FuncIndex) {
        let &(_, check, copy) = self
            .transfers
            .iter()
            .find(|(e, ..)| *e == elements)
            .expect("an import pair per kind of elements");
        (check, copy)
    }
}

/// The fused adapter for calls of `lifted` through a lowering with options
/// `caller`, or `None` when the signature needs the runtime's adapter.
pub fn fuse(lifted: &LiftedFunc, caller: &CanonOptions) -> Option<Fused> {
    let sig = Signature::of(lifted, caller)?;
    let callee = &lifted.options;
    let results = sig.callee_results();
    let i32s = |n| vec![ValType::I32; n];

    let mut imports = Imports {
        types: TypeSection::new(),
        imports: Vec::new(),
        section: ImportSection::new(),
    };
    let mut callees = Callees {
        callee: imports.add(Import::Def(lifted.core.clone()), &sig.core_params, &results),
        post_return: callee
            .post_return
            .clone()
            .map(|def| imports.add(Import::Def(def), &results, &[])),
        realloc: None,
        transfers: Vec::new(),
        result: None,
    };
    if sig.in_memory().next().is_some() {
        callees.realloc =
            Some(imports.add(Import::Def(callee.realloc.clone()?), &i32s(4), &i32s(1)));
    }
    for (elements, _) in sig.in_memory() {
        if callees.transfers.iter().all(|(e, ..)| *e != elements) {
            let transfer = |op| {
                Some(Import::Transfer(MemoryTransfer {
                    op,
                    from: caller.memory.clone()?,
                    to: callee.memory.clone()?,
                }))
            };
            let check = imports.add(transfer(TransferOp::Check(elements))?, &i32s(2), &[]);
            let copy = imports.add(transfer(TransferOp::Copy(elements))?, &i32s(3), &[]);
            callees.transfers.push((elements, check, copy));
        }
    }

    if let Some(elements) = sig.result_in_memory() {
        // The result travels the other way: from the callee's memory to
        // the caller's.
        let transfer = |op| {
            Some(Import::Transfer(MemoryTransfer {
                op,
                from: callee.memory.clone()?,
                to: caller.memory.clone()?,
            }))
        };
        let (size, align) = elements.layout();
        callees.result = Some(ResultCallees {
            load: imports.add(
                transfer(TransferOp::LoadResult(elements))?,
                &i32s(1),
                &i32s(2),
            ),
            check_retptr: imports.add(transfer(TransferOp::CheckRetptr)?, &i32s(1), &[]),
            realloc: imports.add(Import::Def(caller.realloc.clone()?), &i32s(4), &i32s(1)),
            copy: imports.add(transfer(TransferOp::Copy(elements))?, &i32s(3), &[]),
            store: imports.add(transfer(TransferOp::StoreResult)?, &i32s(3), &[]),
            size,
            align,
        });
    }

    let adapter = FuncIndex::new(imports.imports.len());
    imports.section.import(
        "",
        "calls",
        EntityType::Global(GlobalType {
            val_type: ValType::I64,
            mutable: true,
            shared: false,
        }),
    );
    imports.imports.push(Import::CallCounter);
    let mut types = imports.types;
    let (adapter_params, adapter_results) = sig.adapter_type();
    types.ty().function(adapter_params, adapter_results);
    let mut funcs = FunctionSection::new();
    funcs.function(types.len() - 1);
    let mut exports = ExportSection::new();
    exports.export(FUSED_ADAPTER_EXPORT, ExportKind::Func, adapter.as_u32());
    let mut code = CodeSection::new();
    code.function(&body(&sig, &callees));
    let mut names = NameSection::new();
    let mut func_names = NameMap::new();
    func_names.append(adapter.as_u32(), "fused-adapter");
    names.functions(&func_names);

    let mut module = Module::new();
    module
        .section(&types)
        .section(&imports.section)
        .section(&funcs)
        .section(&exports)
        .section(&code)
        .section(&names);
    Some(Fused {
        wasm: module.finish(),
        imports: imports.imports,
    })
}

/// The adapter's code: lift every argument out of the caller (the checks
/// of strings and lists), lower them into the callee (allocate and copy),
/// call, lift and lower the result, run `post-return`.
fn body(sig: &Signature, callees: &Callees) -> Function {
    // Locals after the parameters (and the caller's return pointer, `n`,
    // for a result in memory): the float scratch locals, the callee's result
    // as it returned it (for `post-return`; an unused i64 when there is
    // none), the pointer, length and new place of a result in memory, then
    // where each string or list argument went.
    let n = sig.adapter_type().0.len() as u32;
    let retptr = sig.core_params.len() as u32;
    let scratch = Scratch { f32: n, f64: n + 1 };
    let raw_result = n + 2;
    let (result_ptr, result_len, result_dst) = (n + 3, n + 4, n + 5);
    let first_dst = n + 6;
    let raw_type = sig
        .callee_results()
        .first()
        .copied()
        .unwrap_or(ValType::I64);
    let copies = sig.in_memory().count() as u32;
    let mut f = Function::new([
        (1, ValType::F32),
        (1, ValType::F64),
        (1, raw_type),
        (3 + copies, ValType::I32),
    ]);
    let dsts = || sig.in_memory().zip(first_dst..);

    // Count the call (for `cmc run --stats`).
    f.instruction(&Instruction::GlobalGet(0));
    f.instruction(&Instruction::I64Const(1));
    f.instruction(&Instruction::I64Add);
    f.instruction(&Instruction::GlobalSet(0));

    for ((elements, start), _) in dsts() {
        f.instruction(&Instruction::LocalGet(start));
        f.instruction(&Instruction::LocalGet(start + 1));
        f.instruction(&Instruction::Call(callees.transfer(elements).0.as_u32()));
    }
    for ((elements, start), dst) in dsts() {
        let (size, align) = elements.layout();
        // realloc(0, 0, align, len * size): the check bounded the product.
        f.instruction(&Instruction::I32Const(0));
        f.instruction(&Instruction::I32Const(0));
        f.instruction(&Instruction::I32Const(align as i32));
        f.instruction(&Instruction::LocalGet(start + 1));
        f.instruction(&Instruction::I32Const(size as i32));
        f.instruction(&Instruction::I32Mul);
        let realloc = callees
            .realloc
            .expect("imported when something is in memory");
        f.instruction(&Instruction::Call(realloc.as_u32()));
        f.instruction(&Instruction::LocalSet(dst));
        f.instruction(&Instruction::LocalGet(start));
        f.instruction(&Instruction::LocalGet(start + 1));
        f.instruction(&Instruction::LocalGet(dst));
        f.instruction(&Instruction::Call(callees.transfer(elements).1.as_u32()));
    }
    let mut dst = first_dst;
    for &(param, start) in &sig.params {
        match param {
            Param::Scalar(s) => {
                f.instruction(&Instruction::LocalGet(start));
                s.convert(&mut f, scratch);
            }
            Param::Memory(_) => {
                f.instruction(&Instruction::LocalGet(dst));
                f.instruction(&Instruction::LocalGet(start + 1));
                dst += 1;
            }
        }
    }
    f.instruction(&Instruction::Call(callees.callee.as_u32()));
    match (sig.result, &callees.result) {
        (Some(Param::Scalar(s)), _) => {
            f.instruction(&Instruction::LocalTee(raw_result));
            s.convert(&mut f, scratch);
        }
        (Some(Param::Memory(_)), Some(r)) => {
            // Lift it from the callee (checked where it lies), check the
            // caller's return pointer, then allocate in the caller, copy,
            // and store `(ptr, len)` at the return pointer.
            f.instruction(&Instruction::LocalTee(raw_result));
            f.instruction(&Instruction::Call(r.load.as_u32()));
            f.instruction(&Instruction::LocalSet(result_len));
            f.instruction(&Instruction::LocalSet(result_ptr));
            f.instruction(&Instruction::LocalGet(retptr));
            f.instruction(&Instruction::Call(r.check_retptr.as_u32()));
            f.instruction(&Instruction::I32Const(0));
            f.instruction(&Instruction::I32Const(0));
            f.instruction(&Instruction::I32Const(r.align as i32));
            f.instruction(&Instruction::LocalGet(result_len));
            f.instruction(&Instruction::I32Const(r.size as i32));
            f.instruction(&Instruction::I32Mul);
            f.instruction(&Instruction::Call(r.realloc.as_u32()));
            f.instruction(&Instruction::LocalSet(result_dst));
            f.instruction(&Instruction::LocalGet(result_ptr));
            f.instruction(&Instruction::LocalGet(result_len));
            f.instruction(&Instruction::LocalGet(result_dst));
            f.instruction(&Instruction::Call(r.copy.as_u32()));
            f.instruction(&Instruction::LocalGet(retptr));
            f.instruction(&Instruction::LocalGet(result_dst));
            f.instruction(&Instruction::LocalGet(result_len));
            f.instruction(&Instruction::Call(r.store.as_u32()));
        }
        (Some(Param::Memory(_)), None) => unreachable!("`fuse` imports the result's functions"),
        (None, _) => {}
    }
    if let Some(post_return) = callees.post_return {
        // The result is lifted (above) before `post-return` runs, as in
        // `canon_lift`; the callee gets its own flat result back.
        if sig.result.is_some() {
            f.instruction(&Instruction::LocalGet(raw_result));
        }
        f.instruction(&Instruction::Call(post_return.as_u32()));
    }
    f.instruction(&Instruction::End);
    f
}
