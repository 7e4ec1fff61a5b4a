//! Inlining small leaf functions into their callers.
//!
//! Only callees that cannot trap and make no calls are inlined: their frames
//! could never appear in a trap backtrace, so inlining them loses nothing a
//! user can see, while call-heavy code (getters, small arithmetic helpers)
//! saves the call, the prologue's stack-limit check and the register
//! shuffling around it.
//!
//! Leaves are found bottom up: a small function whose only calls go to
//! leaves becomes a leaf itself once they are inlined into it, so a chain of
//! helpers collapses into its caller.
//!
//! Only functions whose wasm body is small ([`Inliner::may_inline`]) are
//! translated ahead of the others to find the leaves; every other function
//! is translated, inlined into and compiled in one go, so that its IR never
//! waits in memory for the rest of the module.
//!
//! In a component, calls into other core modules are inlined too, where
//! the plan fixes the callee ([`super::CrossModule`]): leaves of the same
//! kind, and the generated modules' functions (fused adapters), whose
//! frames are no user's to see whatever they do.

use crate::error::{CompileError, Result};
use crate::module::body_size;
use crate::translate::{ForeignFunc, NS_WASM_FUNC};
use cmc_runtime::abi::DefinedFuncIndex;
use cranelift_codegen::Context;
use cranelift_codegen::inline::{Inline, InlineCommand};
use cranelift_codegen::ir::{self, ExternalName, UserExternalName};
use std::borrow::Cow;
use std::collections::HashMap;
use wasmparser::FunctionBody;

/// The largest callee, in CLIF instructions, that is inlined.
const MAX_INLINED_INSTS: usize = 24;

/// The largest wasm body, in bytes, that can translate to at most
/// [`MAX_INLINED_INSTS`] instructions once its own callees are inlined (a
/// generous bound: every operator is at least a byte, most produce at least
/// an instruction).
const MAX_INLINED_BODY_BYTES: u64 = 256;

/// The largest function of a generated module (a fused adapter), in CLIF
/// instructions, that is inlined into its callers in other modules.
const MAX_INLINED_GENERATED_INSTS: usize = 400;

/// How many times leaves are inlined into small callers to find more
/// leaves; each round can add one level of a call chain.
const LEAF_ROUNDS: usize = 3;

/// The bodies of other modules' functions that calls may inline, ready to
/// inline (their own callees inlined already).
pub type ForeignBodies = HashMap<ForeignFunc, ir::Function>;

/// The inlinable leaves of a module, by defined function index, and the
/// other modules' functions its calls may inline.
pub struct Inliner<'f> {
    leaves: HashMap<DefinedFuncIndex, ir::Function>,
    foreign: &'f ForeignBodies,
}

impl<'f> Inliner<'f> {
    /// Whether the function with this body may end up a leaf worth
    /// inlining; only those are translated ahead of the others.
    pub fn may_inline(body: &FunctionBody<'_>) -> bool {
        body_size(body) <= MAX_INLINED_BODY_BYTES
    }

    /// Finds the leaves among `small` (the functions [`Inliner::may_inline`]
    /// chose, translated), inlining the leaves found so far into the other
    /// small functions to find more. `small` keeps the inlined bodies.
    pub fn new(
        small: &mut [(DefinedFuncIndex, ir::Function)],
        foreign: &'f ForeignBodies,
    ) -> Result<Inliner<'f>> {
        let mut inliner = Inliner {
            leaves: HashMap::new(),
            foreign,
        };
        let mut ctx = Context::new();
        for _ in 0..LEAF_ROUNDS {
            let found = inliner.leaves.len();
            for (index, func) in small.iter_mut() {
                if inliner.leaves.contains_key(index) {
                    continue;
                }
                if calls_a_leaf(func, &inliner) {
                    ctx.clear();
                    ctx.func = std::mem::replace(func, ir::Function::new());
                    inliner.inline_into(&mut ctx)?;
                    *func = std::mem::replace(&mut ctx.func, ir::Function::new());
                }
                if is_small_trap_free_leaf(func) {
                    inliner.leaves.insert(*index, func.clone());
                }
            }
            if inliner.leaves.len() == found {
                break;
            }
        }
        Ok(inliner)
    }

    /// Inlines the calls to leaves of the function in `ctx`.
    pub fn inline_into(&self, ctx: &mut Context) -> Result<()> {
        if self.leaves.is_empty() && self.foreign.is_empty() {
            return Ok(());
        }
        ctx.inline(CallSites { inliner: self })
            .map_err(|e| CompileError::Codegen(format!("inlining: {e:?}")))?;
        Ok(())
    }

    /// The body to inline for a call of the function `name`, if there is
    /// one: a leaf of the module, or another module's function.
    fn body(&self, name: &UserExternalName) -> Option<&ir::Function> {
        if name.namespace == NS_WASM_FUNC {
            return self.leaves.get(&DefinedFuncIndex::from_u32(name.index));
        }
        self.foreign.get(&ForeignFunc::from_name(name)?)
    }
}

/// Whether `func`, a function of a module (`generated` when the compiler
/// made it), may be inlined into other modules: a small leaf that cannot
/// trap, or a not too large generated function that calls no function of
/// its own module directly (the names of those mean another function in
/// the caller's module).
pub fn inlinable_elsewhere(func: &ir::Function, generated: bool) -> bool {
    if !generated {
        return is_small_trap_free_leaf(func);
    }
    let calls_own = |data: &ir::InstructionData| {
        direct_callee(func, data)
            .is_some_and(|name| name.is_none_or(|n| n.namespace == NS_WASM_FUNC))
    };
    (instructions(func).enumerate())
        .all(|(count, data)| count < MAX_INLINED_GENERATED_INSTS && !calls_own(data))
}

/// Whether `func` calls one of the leaves found so far.
fn calls_a_leaf(func: &ir::Function, inliner: &Inliner) -> bool {
    instructions(func).any(|data| {
        direct_callee(func, data)
            .is_some_and(|name| name.is_some_and(|n| inliner.body(n).is_some()))
    })
}

/// Whether `func` is small, calls nothing and cannot trap.
fn is_small_trap_free_leaf(func: &ir::Function) -> bool {
    (instructions(func).enumerate()).all(|(count, data)| {
        let op = data.opcode();
        let traps_on_memory =
            (op.can_load() || op.can_store()) && data.memflags_trap_code(&func.dfg).is_some();
        count < MAX_INLINED_INSTS && !op.is_call() && !op.can_trap() && !traps_on_memory
    })
}

/// The instructions of `func`, in layout order.
fn instructions(func: &ir::Function) -> impl Iterator<Item = &ir::InstructionData> {
    (func.layout.blocks())
        .flat_map(|block| func.layout.block_insts(block))
        .map(|inst| &func.dfg.insts[inst])
}

/// The name of the function `data` calls directly, if it is a direct call:
/// `Some(None)` for a callee that is not a user function.
fn direct_callee<'f>(
    func: &'f ir::Function,
    data: &ir::InstructionData,
) -> Option<Option<&'f UserExternalName>> {
    match data.analyze_call(&func.dfg.value_lists, &func.dfg.exception_tables) {
        ir::instructions::CallInfo::Direct(callee, _) => Some(callee_name(func, callee)),
        _ => None,
    }
}

/// The user function name of `callee` in `func`, if it has one.
fn callee_name(func: &ir::Function, callee: ir::FuncRef) -> Option<&UserExternalName> {
    match &func.dfg.ext_funcs[callee].name {
        ExternalName::User(name) => Some(&func.params.user_named_funcs()[*name]),
        _ => None,
    }
}

struct CallSites<'i> {
    inliner: &'i Inliner<'i>,
}

impl Inline for CallSites<'_> {
    fn inline(
        &mut self,
        caller: &ir::Function,
        _call: ir::Inst,
        _opcode: ir::Opcode,
        callee: ir::FuncRef,
        _args: &[ir::Value],
    ) -> InlineCommand<'_> {
        match callee_name(caller, callee).and_then(|name| self.inliner.body(name)) {
            Some(leaf) => InlineCommand::Inline {
                callee: Cow::Borrowed(leaf),
                visit_callee: false,
            },
            None => InlineCommand::KeepCall,
        }
    }
}
