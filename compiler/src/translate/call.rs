//! Calls: direct, through imports, through tables, and to runtime builtins.

use super::func::{FuncTranslator, readonly};
use super::{ForeignFunc, NS_WASM_FUNC, clif_type, wasm_signature};
use cmc_runtime::abi::{
    Builtin, EntityRef, FuncIndex, PTR_SIZE, TableIndex, TrapKind, TypeIndex, VMOffsets,
    func_import, func_ref,
};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    self, AbiParam, BlockArg, ExtFuncData, ExternalName, InstBuilder, MemFlagsData, Signature,
    UserExternalName, Value, types,
};

macro_rules! builtin_signatures {
    ($( $(#[$attr:meta])* $name:ident($($pname:ident: $pty:ident),*) -> $rty:ident;)*) => {
        /// Parameter and result types of each builtin, in table order.
        const BUILTIN_SIGNATURES: &[(&[ir::Type], ir::Type)] =
            &[$((&[$(builtin_signatures!(@ty $pty)),*], builtin_signatures!(@ty $rty))),*];
    };
    (@ty vmctx) => { types::I64 };
    (@ty i32) => { types::I32 };
    (@ty i64) => { types::I64 };
    (@ty ptr) => { types::I64 };
    (@ty memory) => { types::I32 };
    (@ty table) => { types::I32 };
    (@ty data) => { types::I32 };
    (@ty elem) => { types::I32 };
}
cmc_runtime::foreach_builtin!(builtin_signatures);

impl FuncTranslator<'_, '_> {
    fn sig_ref(&mut self, type_index: TypeIndex) -> ir::SigRef {
        if let Some(&s) = self.sig_refs.get(&type_index) {
            return s;
        }
        let sig = wasm_signature(&self.env.meta.types[type_index]);
        let s = self.b.import_signature(sig);
        self.sig_refs.insert(type_index, s);
        s
    }

    /// Pushes the results of a call instruction.
    fn push_results(&mut self, call: ir::Inst) {
        let results = self.b.inst_results(call).to_vec();
        self.stack.extend(results);
    }

    pub(super) fn translate_call(&mut self, index: FuncIndex) {
        let type_index = self.env.meta.functions[index];
        let nparams = self.env.meta.types[type_index].params.len();
        let wasm_args = self.popn(nparams);
        let call = if self.env.meta.is_imported_func(index) {
            let base = self.env.offsets.func_import(index);
            let code = self.b.ins().load(
                types::I64,
                readonly(),
                self.vmctx,
                (base + func_import::WASM_CALL) as i32,
            );
            let callee_vmctx = self.b.ins().load(
                types::I64,
                readonly(),
                self.vmctx,
                (base + func_import::VMCTX) as i32,
            );
            let mut args = vec![callee_vmctx, self.vmctx];
            args.extend(wasm_args);
            if let Some(&callee) = self.env.fixed_callees.get(&index) {
                return self.translate_fixed_call((index, callee), type_index, code, &args);
            }
            let sig = self.sig_ref(type_index);
            self.b.ins().call_indirect(sig, code, &args)
        } else {
            let callee = self.direct_func_ref(index, type_index);
            let mut args = vec![self.vmctx, self.vmctx];
            args.extend(wasm_args);
            self.b.ins().call(callee, &args)
        };
        self.push_results(call);
    }

    /// Calls an imported function that the plan binds to `callee`, a
    /// function of another module of the component: directly (so that the
    /// inliner replaces the call with its body) when the import's code is
    /// `callee`'s, through `code` otherwise. The test keeps the binding the
    /// runtime's: a store that intercepts calls between components binds
    /// the import to the runtime's adapter instead.
    fn translate_fixed_call(
        &mut self,
        (index, callee): (FuncIndex, ForeignFunc),
        type_index: TypeIndex,
        code: Value,
        args: &[Value],
    ) {
        let signature = self.sig_ref(type_index);
        let direct = self.named_func_ref(index, type_index, callee.name());
        let expected = self.b.ins().func_addr(types::I64, direct);
        let bound = self.b.ins().icmp(IntCC::Equal, code, expected);
        let (inline, other, join) = (
            self.b.create_block(),
            self.b.create_block(),
            self.b.create_block(),
        );
        for &ty in self.env.meta.types[type_index].results.iter() {
            self.b.append_block_param(join, clif_type(ty));
        }
        self.b.ins().brif(bound, inline, &[], other, &[]);
        self.b.seal_block(inline);
        self.b.seal_block(other);
        self.b.set_cold_block(other);
        let jump_with_results = |t: &mut Self, call: ir::Inst| {
            let results: Vec<BlockArg> = (t.b.inst_results(call).iter())
                .map(|&v| BlockArg::Value(v))
                .collect();
            t.b.ins().jump(join, &results);
        };
        self.b.switch_to_block(inline);
        let call = self.b.ins().call(direct, args);
        jump_with_results(self, call);
        self.b.switch_to_block(other);
        let call = self.b.ins().call_indirect(signature, code, args);
        jump_with_results(self, call);
        self.b.switch_to_block(join);
        self.b.seal_block(join);
        let results = self.b.block_params(join).to_vec();
        self.stack.extend(results);
    }

    fn direct_func_ref(&mut self, index: FuncIndex, type_index: TypeIndex) -> ir::FuncRef {
        let defined = self
            .env
            .meta
            .defined_func(index)
            .expect("a defined function");
        let name = UserExternalName::new(NS_WASM_FUNC, defined.as_u32());
        self.named_func_ref(index, type_index, name)
    }

    /// The reference for direct calls of function `index` (of type
    /// `type_index`), which compiled code knows as `name`, declared once.
    fn named_func_ref(
        &mut self,
        index: FuncIndex,
        type_index: TypeIndex,
        name: UserExternalName,
    ) -> ir::FuncRef {
        if let Some(&f) = self.func_refs.get(&index) {
            return f;
        }
        let signature = self.sig_ref(type_index);
        let name = (self.b.func).declare_imported_user_function(name);
        let f = self.b.import_function(ExtFuncData {
            name: ExternalName::User(name),
            signature,
            colocated: true,
            patchable: false,
        });
        self.func_refs.insert(index, f);
        f
    }

    pub(super) fn translate_call_indirect(&mut self, type_index: TypeIndex, table: TableIndex) {
        let index = self.pop();
        let nparams = self.env.meta.types[type_index].params.len();
        let wasm_args = self.popn(nparams);
        let addr = self.table_elem_addr(table, index, TrapKind::UndefinedElement);
        let func = self
            .b
            .ins()
            .load(types::I64, MemFlagsData::trusted(), addr, 0);
        // Through a table nothing changes whose every element has this
        // signature, neither a null nor a mismatch can happen.
        let uniform = self.env.fixed_tables[table]
            .as_ref()
            .and_then(|f| f.uniform.as_ref());
        if uniform != Some(&self.env.meta.types[type_index]) {
            self.check_callee(func, type_index);
        }
        let code = self.b.ins().load(
            types::I64,
            MemFlagsData::trusted(),
            func,
            func_ref::WASM_CALL as i32,
        );
        let callee_vmctx = self.b.ins().load(
            types::I64,
            MemFlagsData::trusted(),
            func,
            func_ref::VMCTX as i32,
        );
        let mut args = vec![callee_vmctx, self.vmctx];
        args.extend(wasm_args);
        let sig = self.sig_ref(type_index);
        let call = self.b.ins().call_indirect(sig, code, &args);
        self.push_results(call);
    }

    /// Traps unless `func`, a `VMFuncRef` pointer read from a table, is
    /// non-null and of signature `type_index`.
    fn check_callee(&mut self, func: Value, type_index: TypeIndex) {
        self.trapz(func, TrapKind::UninitializedElement);
        let type_ids = self.vmctx_load(VMOffsets::TYPE_IDS);
        let expected = self.b.ins().load(
            types::I32,
            readonly(),
            type_ids,
            (type_index.index() * 4) as i32,
        );
        let actual = self.b.ins().load(
            types::I32,
            MemFlagsData::trusted(),
            func,
            func_ref::TYPE_ID as i32,
        );
        let mismatch = self.b.ins().icmp(IntCC::NotEqual, expected, actual);
        self.trapnz(mismatch, TrapKind::IndirectCallTypeMismatch);
    }

    /// Calls the runtime builtin `builtin` with the VM context and `args`.
    pub(super) fn call_builtin(&mut self, builtin: Builtin, args: &[Value]) -> Value {
        let index = builtin.index();
        let sig = match self.builtin_sigs.get(&index) {
            Some(&s) => s,
            None => {
                let (params, ret) = BUILTIN_SIGNATURES[index];
                let mut sig = Signature::new(self.env.isa.default_call_conv());
                sig.params.extend(params.iter().map(|&t| AbiParam::new(t)));
                sig.returns.push(AbiParam::new(ret));
                let s = self.b.import_signature(sig);
                self.builtin_sigs.insert(index, s);
                s
            }
        };
        let table = self.vmctx_load(VMOffsets::BUILTINS);
        let code = self.b.ins().load(
            types::I64,
            readonly(),
            table,
            (index as u32 * PTR_SIZE) as i32,
        );
        let mut all = vec![self.vmctx];
        all.extend_from_slice(args);
        let call = self.b.ins().call_indirect(sig, code, &all);
        self.b.inst_results(call)[0]
    }

    /// Calls a builtin that returns a status and raises `kind` when it is
    /// non-zero.
    pub(super) fn checked_builtin(&mut self, builtin: Builtin, args: &[Value], kind: TrapKind) {
        let status = self.call_builtin(builtin, args);
        self.trapnz(status, kind);
    }
}
