//! Trampolines between the host's array-call convention and compiled wasm.
//!
//! * An **entry** trampoline (one per escaping defined function) has the
//!   array-call signature: it loads the parameters from the value array,
//!   calls the function directly and stores the results back.
//! * An **exit** trampoline (one per imported function) has the wasm
//!   signature of the import: when the import is a host function, compiled
//!   code calls it through this trampoline, which spills the arguments to a
//!   stack array and calls the host's array-call entry. A `false` return
//!   (the host function failed) becomes a `HostError` trap, so that every
//!   unwind starts in compiled code.

use crate::translate::{
    ModuleEnv, NS_WASM_FUNC, array_call_signature, clif_type, trap_code, wasm_signature,
};
use cmc_runtime::abi::{FuncIndex, HOST_CTX_ARRAY_CALL, TrapKind, VAL_RAW_SIZE, ValType};
use cranelift_codegen::ir::{
    self, ExtFuncData, ExternalName, InstBuilder, MemFlagsData, StackSlotData, StackSlotKind,
    UserExternalName, UserFuncName, types,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

/// Namespace of trampoline function names.
pub const NS_TRAMPOLINE: u32 = 1;

/// The entry trampoline of defined function `func_index`.
pub fn entry_trampoline(
    env: &ModuleEnv<'_>,
    func_index: FuncIndex,
    ctx: &mut FunctionBuilderContext,
) -> ir::Function {
    let ty = env.meta.func_type(func_index);
    let mut func = ir::Function::with_name_signature(
        UserFuncName::User(UserExternalName::new(NS_TRAMPOLINE, func_index.as_u32())),
        array_call_signature(env.isa),
    );
    let mut b = FunctionBuilder::new(&mut func, ctx);
    let p = entry_params(&mut b);
    let (vmctx, caller, values) = (p[0], p[1], p[2]);
    let mut args = vec![vmctx, caller];
    args.extend(load_values(&mut b, &ty.params, values));
    let sig = b.import_signature(wasm_signature(ty));
    let defined = env
        .meta
        .defined_func(func_index)
        .expect("a defined function");
    let name = b
        .func
        .declare_imported_user_function(UserExternalName::new(NS_WASM_FUNC, defined.as_u32()));
    let callee = b.import_function(ExtFuncData {
        name: ExternalName::User(name),
        signature: sig,
        colocated: true,
        patchable: false,
    });
    let call = b.ins().call(callee, &args);
    let results = b.inst_results(call).to_vec();
    store_values(&mut b, &results, values);
    let ok = b.ins().iconst(types::I8, 1);
    b.ins().return_(&[ok]);
    b.finalize(env.isa.frontend_config());
    func
}

/// The exit trampoline of imported function `import_index`.
pub fn exit_trampoline(
    env: &ModuleEnv<'_>,
    import_index: FuncIndex,
    ctx: &mut FunctionBuilderContext,
) -> ir::Function {
    let ty = env.meta.func_type(import_index);
    let mut func = ir::Function::with_name_signature(
        UserFuncName::User(UserExternalName::new(
            NS_TRAMPOLINE,
            0x8000_0000 | import_index.as_u32(),
        )),
        wasm_signature(ty),
    );
    let mut b = FunctionBuilder::new(&mut func, ctx);
    let p = entry_params(&mut b);
    let (callee, caller) = (p[0], p[1]);
    let len = ty.params.len().max(ty.results.len()).max(1) as u32;
    let slot = b.create_sized_stack_slot(StackSlotData::new(
        StackSlotKind::ExplicitSlot,
        len * VAL_RAW_SIZE,
        4,
    ));
    let values = b.ins().stack_addr(types::I64, slot, 0);
    store_values(&mut b, &p[2..], values);
    let host = b.ins().load(
        types::I64,
        MemFlagsData::trusted().with_readonly(),
        callee,
        HOST_CTX_ARRAY_CALL as i32,
    );
    let sig = b.import_signature(array_call_signature(env.isa));
    let len = b.ins().iconst(types::I64, i64::from(len));
    let call = b
        .ins()
        .call_indirect(sig, host, &[callee, caller, values, len]);
    let ok = b.inst_results(call)[0];
    b.ins().trapz(ok, trap_code(TrapKind::HostError));
    let results = load_values(&mut b, &ty.results, values);
    b.ins().return_(&results);
    b.finalize(env.isa.frontend_config());
    func
}

/// Starts the entry block and returns the function's parameters.
fn entry_params(b: &mut FunctionBuilder<'_>) -> Vec<ir::Value> {
    let block = b.create_block();
    b.append_block_params_for_function_params(block);
    b.switch_to_block(block);
    b.seal_block(block);
    b.block_params(block).to_vec()
}

/// Loads values of types `tys` from consecutive array-call slots.
fn load_values(b: &mut FunctionBuilder<'_>, tys: &[ValType], values: ir::Value) -> Vec<ir::Value> {
    tys.iter()
        .enumerate()
        .map(|(i, &t)| {
            b.ins().load(
                clif_type(t),
                MemFlagsData::trusted(),
                values,
                (i as u32 * VAL_RAW_SIZE) as i32,
            )
        })
        .collect()
}

/// Stores `vals` to consecutive array-call slots.
fn store_values(b: &mut FunctionBuilder<'_>, vals: &[ir::Value], values: ir::Value) {
    for (i, &v) in vals.iter().enumerate() {
        b.ins().store(
            MemFlagsData::trusted(),
            v,
            values,
            (i as u32 * VAL_RAW_SIZE) as i32,
        );
    }
}
