//! Fused adapters: a call from one component instance into a function
//! another one lifted, compiled to native code.
//!
//! The spec runs such a call as `canon_lower` in the caller around
//! `canon_lift` in the callee: lift the caller's flat arguments to
//! component values, lower them into the callee, call, lift the callee's
//! result, lower it back, then run the callee's `post-return`. For
//! functions whose parameters and result are numbers and booleans, the
//! values never touch memory and each lift-then-lower is a fixed core
//! instruction sequence on one flat value (a mask, a sign extension, a
//! NaN canonicalization). [`fuse`] writes that sequence as a small core
//! module that imports the callee (and its `post-return`) and exports the
//! adapter; it is compiled like every other module of the component, so
//! the call costs two direct native calls.
//!
//! Other signatures (strings, lists, handles, variants, `char`) are still
//! adapted by the runtime's canonical-ABI code (`AdapterFunc`).

use cmc_runtime::abi::CanonOptions;
use cmc_runtime::component::types::{FuncType, InterfaceType};
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

/// The adapter module for a call of a function of type `ty` that the
/// callee lifted with `callee`, or `None` when the signature needs the
/// runtime's adapter. The caller's own options do not matter here: no
/// value of such a signature goes through memory.
///
/// The module imports `("", "callee")` and, when the callee has one,
/// `("", "post-return")`, in that order, and exports [`EXPORT`].
pub fn fuse(ty: &FuncType, callee: &CanonOptions) -> Option<Vec<u8>> {
    let params: Vec<Scalar> = ty.param_types().map(Scalar::of).collect::<Option<_>>()?;
    let result: Option<Scalar> = match &ty.result {
        Some(t) => Some(Scalar::of(t)?),
        None => None,
    };
    let param_types: Vec<ValType> = params.iter().map(|s| s.core_type()).collect();
    let result_types: Vec<ValType> = result.iter().map(|s| s.core_type()).collect();

    let mut types = TypeSection::new();
    types
        .ty()
        .function(param_types.clone(), result_types.clone());
    types.ty().function(result_types.clone(), []);
    let mut imports = ImportSection::new();
    imports.import("", "callee", EntityType::Function(0));
    let post_return = callee.post_return.is_some();
    if post_return {
        imports.import("", "post-return", EntityType::Function(1));
    }
    let adapter = u32::from(post_return) + 1;
    let mut funcs = FunctionSection::new();
    funcs.function(0);
    let mut exports = ExportSection::new();
    exports.export(EXPORT, ExportKind::Func, adapter);

    // Locals: the parameters, then the float scratch locals, then the
    // callee's result as it returned it (for `post-return`).
    let n = params.len() as u32;
    let scratch = Scratch { f32: n, f64: n + 1 };
    let raw_result = n + 2;
    let mut locals = vec![(1, ValType::F32), (1, ValType::F64)];
    locals.extend(result_types.iter().map(|&t| (1, t)));
    let mut body = Function::new(locals);
    for (i, p) in params.iter().enumerate() {
        body.instruction(&Instruction::LocalGet(i as u32));
        p.convert(&mut body, scratch);
    }
    body.instruction(&Instruction::Call(0));
    if let Some(r) = result {
        body.instruction(&Instruction::LocalTee(raw_result));
        r.convert(&mut body, scratch);
    }
    if post_return {
        // The result is lifted (above) before `post-return` runs, as in
        // `canon_lift`; the callee gets its own flat result back.
        if result.is_some() {
            body.instruction(&Instruction::LocalGet(raw_result));
        }
        body.instruction(&Instruction::Call(1));
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
        .section(&imports)
        .section(&funcs)
        .section(&exports)
        .section(&code)
        .section(&names);
    Some(module.finish())
}
