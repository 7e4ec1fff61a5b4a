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
//! Other signatures (other encodings, other lists, handles, variants,
//! `char`, strings and lists in results, spilled parameters) are still
//! adapted by the runtime's canonical-ABI code (`AdapterFunc`).

use cmc_runtime::abi::{CanonOptions, CoreDef, Elements, LiftedFunc, TransferOp};
use cmc_runtime::component::types::{InterfaceType, StringEncoding};
use wasm_encoder::{
    CodeSection, EntityType, ExportKind, ExportSection, Function, FunctionSection, Ieee32, Ieee64,
    ImportSection, Instruction, Module, NameMap, NameSection, TypeSection, ValType,
};

/// The name the adapter module exports its function under.
pub const EXPORT: &str = "adapter";

/// How one flat value is carried from one side to the other: its core type
/// and the instructions that lift it on one side and lower it on the other.
#[derive(Clone, Copy)]
enum Scalar {
    /// `bool`: any non-zero `i32` is true, lowered as 1.
    Bool,
    /// An integer type of `bits` bits in an `i32` (zero or sign extended).
    Small {
        bits: u32,
        signed: bool,
    },
    /// `u32`, `s32`, `u64`, `s64`: passed as is.
    Int(ValType),
    /// `f32`, `f64`: NaNs are canonicalized.
    F32,
    F64,
}

impl Scalar {
    fn of(ty: &InterfaceType) -> Option<Scalar> {
        use InterfaceType as T;
        Some(match ty {
            T::Bool => Scalar::Bool,
            T::U8 => Scalar::Small {
                bits: 8,
                signed: false,
            },
            T::S8 => Scalar::Small {
                bits: 8,
                signed: true,
            },
            T::U16 => Scalar::Small {
                bits: 16,
                signed: false,
            },
            T::S16 => Scalar::Small {
                bits: 16,
                signed: true,
            },
            T::U32 | T::S32 => Scalar::Int(ValType::I32),
            T::U64 | T::S64 => Scalar::Int(ValType::I64),
            T::F32 => Scalar::F32,
            T::F64 => Scalar::F64,
            _ => return None,
        })
    }

    fn core_type(self) -> ValType {
        match self {
            Scalar::Bool | Scalar::Small { .. } => ValType::I32,
            Scalar::Int(t) => t,
            Scalar::F32 => ValType::F32,
            Scalar::F64 => ValType::F64,
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
            Scalar::Small {
                bits: 8,
                signed: true,
            } => {
                f.instruction(&Instruction::I32Extend8S);
            }
            Scalar::Small {
                bits: 16,
                signed: true,
            } => {
                f.instruction(&Instruction::I32Extend16S);
            }
            Scalar::Small { bits, .. } => {
                f.instruction(&Instruction::I32Const(((1u64 << bits) - 1) as i32));
                f.instruction(&Instruction::I32And);
            }
            Scalar::Int(_) => {}
            Scalar::F32 => {
                // x == x ? x : canonical NaN
                f.instruction(&Instruction::LocalTee(scratch.f32));
                f.instruction(&Instruction::F32Const(Ieee32::new(CANONICAL_NAN32)));
                f.instruction(&Instruction::LocalGet(scratch.f32));
                f.instruction(&Instruction::LocalGet(scratch.f32));
                f.instruction(&Instruction::F32Eq);
                f.instruction(&Instruction::Select);
            }
            Scalar::F64 => {
                f.instruction(&Instruction::LocalTee(scratch.f64));
                f.instruction(&Instruction::F64Const(Ieee64::new(CANONICAL_NAN64)));
                f.instruction(&Instruction::LocalGet(scratch.f64));
                f.instruction(&Instruction::LocalGet(scratch.f64));
                f.instruction(&Instruction::F64Eq);
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

/// `CANONICAL_FLOAT32_NAN` and `CANONICAL_FLOAT64_NAN` of the spec.
const CANONICAL_NAN32: u32 = 0x7fc0_0000;
const CANONICAL_NAN64: u64 = 0x7ff8_0000_0000_0000;

/// What a fused adapter module imports, in its import order.
pub enum Import {
    /// A core item of the plan: the callee, its `post-return`, its
    /// `realloc`.
    Def(CoreDef),
    /// A host half, from the caller's memory to the callee's.
    Transfer(TransferOp),
}

/// A fused adapter: its module and what to instantiate it with.
pub struct Fused {
    pub wasm: Vec<u8>,
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
        Some(match ty {
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

    /// The number of core values it flattens to.
    fn flat_count(self) -> u32 {
        match self {
            Param::Scalar(_) => 1,
            Param::Memory(_) => 2,
        }
    }
}

/// The most core parameters a lowered or lifted function takes before they
/// spill to memory (`MAX_FLAT_PARAMS`).
const MAX_FLAT_PARAMS: usize = 16;

/// The fused adapter for calls of `lifted` through a lowering with options
/// `caller`, or `None` when the signature needs the runtime's adapter.
pub fn fuse(lifted: &LiftedFunc, caller: &CanonOptions) -> Option<Fused> {
    let (ty, callee) = (&lifted.ty, &lifted.options);
    let params: Vec<Param> = ty
        .param_types()
        .map(|t| Param::of(t, caller, callee))
        .collect::<Option<_>>()?;
    let result: Option<Scalar> = match &ty.result {
        Some(t) => Some(Scalar::of(t)?),
        None => None,
    };
    let param_types: Vec<ValType> = params
        .iter()
        .flat_map(|p| match p {
            Param::Scalar(s) => vec![s.core_type()],
            Param::Memory(_) => vec![ValType::I32, ValType::I32],
        })
        .collect();
    if param_types.len() > MAX_FLAT_PARAMS {
        return None;
    }
    let result_types: Vec<ValType> = result.iter().map(|s| s.core_type()).collect();
    let in_memory = params
        .iter()
        .filter(|p| matches!(p, Param::Memory(_)))
        .count() as u32;

    // Imports, with the function index and type each gets.
    let mut types = TypeSection::new();
    types
        .ty()
        .function(param_types.clone(), result_types.clone());
    types.ty().function(result_types.clone(), []);
    types.ty().function([ValType::I32; 4], [ValType::I32]);
    types.ty().function([ValType::I32; 2], []);
    types.ty().function([ValType::I32; 3], []);
    let (sig, post_return_sig, realloc_sig, check_sig, copy_sig) = (0, 1, 2, 3, 4);
    let mut imports = vec![Import::Def(lifted.core.clone())];
    let mut import_types = vec![sig];
    let post_return = callee.post_return.clone().map(|def| {
        imports.push(Import::Def(def));
        import_types.push(post_return_sig);
        imports.len() as u32 - 1
    });
    let mut realloc = 0;
    // The check and copy functions of each kind of elements passed.
    let mut transfers: Vec<(Elements, u32, u32)> = Vec::new();
    if in_memory > 0 {
        caller.memory.as_ref()?;
        callee.memory.as_ref()?;
        imports.push(Import::Def(callee.realloc.clone()?));
        import_types.push(realloc_sig);
        realloc = imports.len() as u32 - 1;
    }
    for p in &params {
        let Param::Memory(elements) = *p else {
            continue;
        };
        if transfers.iter().any(|(e, ..)| *e == elements) {
            continue;
        }
        imports.push(Import::Transfer(TransferOp::Check(elements)));
        import_types.push(check_sig);
        imports.push(Import::Transfer(TransferOp::Copy(elements)));
        import_types.push(copy_sig);
        let copy = imports.len() as u32 - 1;
        transfers.push((elements, copy - 1, copy));
    }
    let transfer = |elements: Elements| {
        let (_, check, copy) = transfers
            .iter()
            .find(|(e, ..)| *e == elements)
            .expect("an import pair per kind of elements");
        (*check, *copy)
    };
    let mut import_section = ImportSection::new();
    for (i, ty) in import_types.iter().enumerate() {
        import_section.import("", &i.to_string(), EntityType::Function(*ty));
    }
    let adapter = imports.len() as u32;
    let mut funcs = FunctionSection::new();
    funcs.function(sig);
    let mut exports = ExportSection::new();
    exports.export(EXPORT, ExportKind::Func, adapter);

    // Locals: the parameters, the float scratch locals, the callee's result
    // as it returned it (for `post-return`), then where each string or list
    // went.
    let n = param_types.len() as u32;
    let scratch = Scratch { f32: n, f64: n + 1 };
    let raw_result = n + 2;
    let first_dst = raw_result + 1;
    let mut locals = vec![(1, ValType::F32), (1, ValType::F64), (1, ValType::I64)];
    locals.push((in_memory, ValType::I32));
    // The raw result's local has the result's type (an i64 is a
    // placeholder when there is none).
    if let Some(r) = result {
        locals[2] = (1, r.core_type());
    }
    let mut body = Function::new(locals);

    // Where each parameter starts among the core parameters.
    let mut at = 0;
    let starts: Vec<u32> = params
        .iter()
        .map(|p| {
            let start = at;
            at += p.flat_count();
            start
        })
        .collect();
    // Each string or list: its elements, its `(ptr, len)` among the core
    // parameters, and the local that receives where it was copied.
    let in_memory_params = || {
        params
            .iter()
            .zip(&starts)
            .filter_map(|(p, &start)| match p {
                Param::Memory(elements) => Some((*elements, start)),
                Param::Scalar(_) => None,
            })
            .enumerate()
            .map(|(k, (elements, start))| (elements, start, first_dst + k as u32))
    };
    // Lift every argument out of the caller before lowering any.
    for (elements, start, _) in in_memory_params() {
        body.instruction(&Instruction::LocalGet(start));
        body.instruction(&Instruction::LocalGet(start + 1));
        body.instruction(&Instruction::Call(transfer(elements).0));
    }
    for (elements, start, dst) in in_memory_params() {
        let (size, align) = match elements {
            Elements::Utf8 => (1, 1),
            Elements::Ints { size, align } => (size, align),
        };
        // realloc(0, 0, align, len * size): the check bounded the product.
        body.instruction(&Instruction::I32Const(0));
        body.instruction(&Instruction::I32Const(0));
        body.instruction(&Instruction::I32Const(align as i32));
        body.instruction(&Instruction::LocalGet(start + 1));
        body.instruction(&Instruction::I32Const(size as i32));
        body.instruction(&Instruction::I32Mul);
        body.instruction(&Instruction::Call(realloc));
        body.instruction(&Instruction::LocalSet(dst));
        body.instruction(&Instruction::LocalGet(start));
        body.instruction(&Instruction::LocalGet(start + 1));
        body.instruction(&Instruction::LocalGet(dst));
        body.instruction(&Instruction::Call(transfer(elements).1));
    }
    let mut dsts = in_memory_params().map(|(.., dst)| dst);
    for (p, &start) in params.iter().zip(&starts) {
        match p {
            Param::Scalar(s) => {
                body.instruction(&Instruction::LocalGet(start));
                s.convert(&mut body, scratch);
            }
            Param::Memory(_) => {
                let dst = dsts.next().expect("one destination per string or list");
                body.instruction(&Instruction::LocalGet(dst));
                body.instruction(&Instruction::LocalGet(start + 1));
            }
        }
    }
    body.instruction(&Instruction::Call(0));
    if let Some(r) = result {
        body.instruction(&Instruction::LocalTee(raw_result));
        r.convert(&mut body, scratch);
    }
    if let Some(post_return) = post_return {
        // The result is lifted (above) before `post-return` runs, as in
        // `canon_lift`; the callee gets its own flat result back.
        if result.is_some() {
            body.instruction(&Instruction::LocalGet(raw_result));
        }
        body.instruction(&Instruction::Call(post_return));
    }
    body.instruction(&Instruction::End);
    let mut code = CodeSection::new();
    code.function(&body);

    let mut names = NameSection::new();
    let mut func_names = NameMap::new();
    func_names.append(adapter, "fused-adapter");
    names.functions(&func_names);

    let mut module = Module::new();
    module
        .section(&types)
        .section(&import_section)
        .section(&funcs)
        .section(&exports)
        .section(&code)
        .section(&names);
    Some(Fused {
        wasm: module.finish(),
        imports,
    })
}
