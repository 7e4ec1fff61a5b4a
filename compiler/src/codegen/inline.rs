//! Inlining small leaf functions into their callers.
//!
//! Only callees that cannot trap and make no calls are inlined: their frames
//! could never appear in a trap backtrace, so inlining them loses nothing a
//! user can see, while call-heavy code (getters, small arithmetic helpers)
//! saves the call, the prologue's stack-limit check and the register
//! shuffling around it.

use crate::error::{CompileError, Result};
use crate::translate::NS_WASM_FUNC;
use cmc_runtime::abi::{DefinedFuncIndex, PrimaryMap};
use cranelift_codegen::Context;
use cranelift_codegen::inline::{Inline, InlineCommand};
use cranelift_codegen::ir::{self, ExternalName};
use std::borrow::Cow;

/// The largest callee, in CLIF instructions, that is inlined.
const MAX_INLINED_INSTS: usize = 24;

/// Knows which of a module's defined functions may be inlined.
pub struct Inliner<'a> {
    funcs: &'a PrimaryMap<DefinedFuncIndex, ir::Function>,
    inlinable: PrimaryMap<DefinedFuncIndex, bool>,
}

impl<'a> Inliner<'a> {
    /// Examines every defined function of a module.
    pub fn new(funcs: &'a PrimaryMap<DefinedFuncIndex, ir::Function>) -> Inliner<'a> {
        Inliner {
            funcs,
            inlinable: funcs.values().map(is_small_trap_free_leaf).collect(),
        }
    }

    /// Inlines eligible direct calls of the function in `ctx`.
    pub fn inline_into(&self, ctx: &mut Context) -> Result<()> {
        if !self.inlinable.values().any(|&b| b) {
            return Ok(());
        }
        ctx.inline(CallSites { inliner: self })
            .map_err(|e| CompileError::Codegen(format!("inlining: {e:?}")))?;
        Ok(())
    }
}

/// Whether `func` is small, calls nothing and cannot trap.
fn is_small_trap_free_leaf(func: &ir::Function) -> bool {
    let mut count = 0;
    for block in func.layout.blocks() {
        for inst in func.layout.block_insts(block) {
            count += 1;
            let data = &func.dfg.insts[inst];
            let op = data.opcode();
            let traps_on_memory =
                (op.can_load() || op.can_store()) && data.memflags_trap_code(&func.dfg).is_some();
            if count > MAX_INLINED_INSTS || op.is_call() || op.can_trap() || traps_on_memory {
                return false;
            }
        }
    }
    true
}

struct CallSites<'i, 'a> {
    inliner: &'i Inliner<'a>,
}

impl Inline for CallSites<'_, '_> {
    fn inline(
        &mut self,
        caller: &ir::Function,
        _call: ir::Inst,
        _opcode: ir::Opcode,
        callee: ir::FuncRef,
        _args: &[ir::Value],
    ) -> InlineCommand<'_> {
        let ExternalName::User(name) = &caller.dfg.ext_funcs[callee].name else {
            return InlineCommand::KeepCall;
        };
        let name = &caller.params.user_named_funcs()[*name];
        let index = DefinedFuncIndex::from_u32(name.index);
        if name.namespace != NS_WASM_FUNC
            || !self.inliner.inlinable.get(index).copied().unwrap_or(false)
        {
            return InlineCommand::KeepCall;
        }
        InlineCommand::Inline {
            callee: Cow::Borrowed(&self.inliner.funcs[index]),
            visit_callee: false,
        }
    }
}
