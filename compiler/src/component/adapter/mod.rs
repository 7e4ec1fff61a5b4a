//! Fused adapters: a call from one component instance into a function
//! another one lifted, compiled to native code.
//!
//! The spec runs such a call as `canon_lower` in the caller around
//! `canon_lift` in the callee: lift the caller's flat arguments to
//! component values, lower them into the callee, call, lift the callee's
//! result, lower it back, then run the callee's `post-return`.
//! [`AdapterModule::fuse`] writes that as a function of a core module that
//! imports the callee (and what else it needs) and exports the adapter;
//! the adapters lowered at one point of the plan share one module, which
//! is compiled like every other module of the component.
//!
//! Each argument, and the result, is translated by one recursive walk over
//! its type ([`value`]) from where it lies on one side to where it goes on
//! the other: flat values from locals to locals, spilled parameters and
//! results (more than [`MAX_FLAT_PARAMS`] or [`MAX_FLAT_RESULTS`] core
//! values) from memory to memory, through the callee's `realloc`ed block
//! and the caller's return pointer. The adapter imports both memories
//! and copies strings and lists
//! itself ([`memory`]); it calls the runtime to move handles, to transcode
//! strings between encodings, and to raise the spec's errors. Each side's
//! addresses have its memory's address type (`memory64` options).

mod code;
mod memory;
mod value;

use cmc_runtime::abi::{
    AbiTrap, Alloc, Block, CanonOptions, ComponentInstanceIndex, CoreDef, HandleOp, LiftedFunc,
    MemoryTransfer,
};
use cmc_runtime::component::flatten::{MAX_FLAT_PARAMS, MAX_FLAT_RESULTS, flat_count};
use cmc_runtime::component::layout::layout;
use cmc_runtime::component::types::{InterfaceType, PtrType};
use code::{Code, Imports, Side};
use value::{Loc, core_types, holds_pointers};
use wasm_encoder::{
    CodeSection, EntityType, ExportKind, ExportSection, Function, FunctionSection, GlobalType,
    ImportSection, Instruction as I, Module, NameMap, NameSection, TypeSection, ValType,
};

/// What a fused adapter module imports, in its import order.
#[derive(Clone, Debug, PartialEq)]
pub enum Import {
    /// A core item of the plan: the callee, its `post-return`, a
    /// `realloc`, a memory, a handle operation, a trap.
    Def(CoreDef),
    /// A host half, from one memory to the other.
    Transfer(MemoryTransfer),
    /// The store's count of calls between components, an `i64` global.
    CallCounter,
}

/// A finished adapter module and what to instantiate it with.
pub struct Fused {
    /// The core module.
    pub wasm: Vec<u8>,
    /// What each of its imports is bound to.
    pub imports: Vec<Import>,
}

/// A fused adapter module under construction: the adapters lowered at one
/// point of the plan, which share its imports.
#[derive(Default)]
pub struct AdapterModule {
    imports: Imports,
    adapters: Vec<Adapter>,
}

/// One adapter function of an [`AdapterModule`].
struct Adapter {
    params: Vec<ValType>,
    results: Vec<ValType>,
    locals: Vec<ValType>,
    instrs: Vec<I<'static>>,
}

/// The name under which an adapter module exports its adapter `k`.
fn export_name(k: usize) -> String {
    format!("adapter-{k}")
}

/// The shape of a call: its types and where they lie.
struct Shape<'a> {
    params: Vec<&'a InterfaceType>,
    result: Option<&'a InterfaceType>,
    /// The parameters are spilled: passed as a pointer to a tuple.
    spill_params: bool,
    /// The result is spilled: returned as a pointer by the callee, and
    /// stored at the return pointer the caller passes last.
    spill_result: bool,
}

impl<'a> Shape<'a> {
    fn of(lifted: &'a LiftedFunc) -> Shape<'a> {
        let params: Vec<_> = lifted.ty.param_types().collect();
        let result = lifted.ty.result.as_ref();
        Shape {
            spill_params: params.iter().map(|t| flat_count(t)).sum::<usize>() > MAX_FLAT_PARAMS,
            spill_result: result.map_or(0, flat_count) > MAX_FLAT_RESULTS,
            params,
            result,
        }
    }

    /// The parameters as one tuple, as they are laid out when spilled.
    fn params_tuple(&self) -> InterfaceType {
        InterfaceType::Tuple(self.params.iter().map(|&t| t.clone()).collect())
    }

    /// The core parameters and results of the function a `canon lift` on
    /// a side with pointers of type `ptr` wraps: the callee's.
    fn callee_type(&self, ptr: PtrType) -> (Vec<ValType>, Vec<ValType>) {
        let pointer = crate::component::core_type(ptr.flat());
        let params = match self.spill_params {
            true => vec![pointer],
            false => self
                .params
                .iter()
                .flat_map(|t| core_types(t, ptr))
                .collect(),
        };
        let results = match (self.result, self.spill_result) {
            (_, true) => vec![pointer],
            (Some(t), false) => core_types(t, ptr),
            (None, _) => vec![],
        };
        (params, results)
    }

    /// The core parameters and results of the function a `canon lower` on
    /// a side with pointers of type `ptr` makes: the adapter's, as the
    /// caller calls it.
    fn adapter_type(&self, ptr: PtrType) -> (Vec<ValType>, Vec<ValType>) {
        let (mut params, mut results) = self.callee_type(ptr);
        if self.spill_result {
            params.append(&mut results);
        }
        (params, results)
    }

    /// Whether any value lies in memory (so the adapter imports both).
    fn uses_memory(&self) -> bool {
        self.spill_params
            || self.spill_result
            || self.params.iter().any(|t| holds_pointers(t))
            || self.result.is_some_and(holds_pointers)
    }
}

impl AdapterModule {
    /// Adds the fused adapter for calls of `lifted` through a lowering
    /// with options `caller`, and returns the name the module exports it
    /// under; `None` when the options lack a memory or `realloc` the values
    /// need (which validation rules out; the runtime's adapter then gives
    /// its error).
    ///
    /// The caller is component instance `caller_instance`, whose handles
    /// move or are lent to the callee's; the call enters the component
    /// instances `entering` (see `ComponentMeta::entering_set`).
    pub fn fuse(
        &mut self,
        lifted: &LiftedFunc,
        caller: &CanonOptions,
        caller_instance: ComponentInstanceIndex,
        entering: &[ComponentInstanceIndex],
    ) -> Option<String> {
        let callee = &lifted.options;
        let shape = Shape::of(lifted);
        if shape.uses_memory() {
            // Validation requires these options where the values need them;
            // without them the runtime's adapter gives its error.
            let memories = caller.memory.is_some() && callee.memory.is_some();
            let params_alloc = shape.spill_params || shape.params.iter().any(|t| holds_pointers(t));
            let reallocs = (!params_alloc || callee.realloc.is_some())
                && (!shape.result.is_some_and(holds_pointers) || caller.realloc.is_some());
            if !(memories && reallocs) {
                return None;
            }
        }
        let imports = &mut self.imports;
        let mut side = |options, instance| Side {
            options,
            instance,
            // Values that lie in no memory touch none.
            memory: match shape.uses_memory() {
                true => imports.memory(options),
                false => u32::MAX,
            },
            may_leave: imports.global(Import::Def(CoreDef::MayLeave(instance))),
        };
        let sides = (side(caller, caller_instance), side(callee, lifted.instance));
        let (params, results) = shape.adapter_type(caller.ptr_type);
        let mut code = Code::new(params.len() as u32, imports, sides.0, sides.1);
        body(&mut code, &shape, lifted, entering);
        let (locals, instrs) = code.finish();
        self.adapters.push(Adapter {
            params,
            results,
            locals,
            instrs,
        });
        Some(export_name(self.adapters.len() - 1))
    }

    /// Whether it has no adapter.
    pub fn is_empty(&self) -> bool {
        self.adapters.is_empty()
    }

    /// Whether another adapter surely fits: its two memories stay within
    /// the validator's limit on the memories of a module.
    pub fn has_room(&self) -> bool {
        /// wasmparser's `MAX_WASM_MEMORIES`.
        const MAX_MEMORIES: usize = 100;
        self.imports.memories.len() + 2 <= MAX_MEMORIES
    }

    /// The module: its imports (functions, then globals, then memories)
    /// and its adapters, each exported under its name.
    pub fn finish(self) -> Fused {
        let mut types = TypeSection::new();
        let mut section = ImportSection::new();
        let mut imports = Vec::new();
        let first = self.imports.funcs.len() as u32;
        for (i, func) in self.imports.funcs.into_iter().enumerate() {
            types
                .ty()
                .function(func.params.iter().copied(), func.results.iter().copied());
            section.import("", &format!("f{i}"), EntityType::Function(i as u32));
            imports.push(func.import);
        }
        for (i, global) in self.imports.globals.into_iter().enumerate() {
            let val_type = match global {
                Import::CallCounter => ValType::I64,
                _ => ValType::I32,
            };
            let ty = GlobalType {
                val_type,
                mutable: true,
                shared: false,
            };
            section.import("", &format!("g{i}"), EntityType::Global(ty));
            imports.push(global);
        }
        for (i, (def, ty)) in self.imports.memories.into_iter().enumerate() {
            section.import("", &format!("m{i}"), EntityType::Memory(ty));
            imports.push(Import::Def(def));
        }
        let mut funcs = FunctionSection::new();
        let mut exports = ExportSection::new();
        let mut bodies = CodeSection::new();
        let mut func_names = NameMap::new();
        for (k, adapter) in self.adapters.into_iter().enumerate() {
            let index = first + k as u32;
            types.ty().function(adapter.params, adapter.results);
            funcs.function(types.len() - 1);
            exports.export(&export_name(k), ExportKind::Func, index);
            let mut function = Function::new(adapter.locals.iter().map(|&t| (1, t)));
            for i in &adapter.instrs {
                function.instruction(i);
            }
            bodies.function(&function);
            func_names.append(index, &format!("fused-adapter-{k}"));
        }
        let mut names = NameSection::new();
        names.functions(&func_names);
        let mut module = Module::new();
        module
            .section(&types)
            .section(&section)
            .section(&funcs)
            .section(&exports)
            .section(&bodies)
            .section(&names);
        Fused {
            wasm: module.finish(),
            imports,
        }
    }
}

/// The adapter's code: check the caller's `may_leave` and the entered
/// instances' `may_enter` (and clear those), count the call, translate
/// every argument into the callee, call it, translate its result back, run
/// `post-return`, set the `may_enter` flags again, and close the call's
/// borrow scope.
fn body(code: &mut Code, shape: &Shape, lifted: &LiftedFunc, entering: &[ComponentInstanceIndex]) {
    let (caller_ptr, callee_ptr) = (code.caller.options.ptr_type, code.callee.options.ptr_type);
    let (callee_params, callee_results) = shape.callee_type(callee_ptr);
    let n = shape.adapter_type(caller_ptr).0.len() as u32;
    // `canon_lower`: the caller may not call out while its `realloc` or
    // `post-return` runs.
    code.push(I::GlobalGet(code.caller.may_leave));
    code.push(I::I32Eqz);
    code.push(I::If(wasm_encoder::BlockType::Empty));
    code.trap(AbiTrap::CannotLeave, I::I32Const(0));
    code.push(I::End);
    // `func_inst`: `trap_if(not inst.may_enter_from(caller))`, then
    // `enter_from`.
    let flags: Vec<u32> = (entering.iter())
        .map(|&i| code.global(Import::Def(CoreDef::MayEnter(i))))
        .collect();
    for &flag in &flags {
        code.push(I::GlobalGet(flag));
        code.push(I::I32Eqz);
        code.push(I::If(wasm_encoder::BlockType::Empty));
        code.trap(AbiTrap::CannotEnter, I::I32Const(0));
        code.push(I::End);
    }
    for &flag in &flags {
        code.push(I::I32Const(0));
        code.push(I::GlobalSet(flag));
    }
    // Count the call (for `cmc run --stats`).
    let calls = code.global(Import::CallCounter);
    code.push(I::GlobalGet(calls));
    code.push(I::I64Const(1));
    code.push(I::I64Add);
    code.push(I::GlobalSet(calls));
    // The callee's borrow scope, before the borrows it receives.
    let (from, to) = (code.caller.instance, code.callee.instance);
    let borrows = shape.params.iter().any(|t| t.contains_borrow());
    let scope = |code: &mut Code, op| code.def(CoreDef::Handle(op), &[], &[]);
    if borrows {
        let enter = scope(code, HandleOp::Enter { to });
        code.push(I::Call(enter));
    }

    code.into_callee = true;
    let args = if shape.spill_params {
        // A pointer to the caller's tuple; the callee's, `realloc`ed.
        let tuple = shape.params_tuple();
        let (theirs, ours) = (layout(&tuple, caller_ptr), layout(&tuple, callee_ptr));
        memory::check_block(
            code,
            code.caller.memory,
            0,
            (theirs.size, theirs.align),
            Block::Parameters,
        );
        let addr = code.addr_type(code.callee.memory);
        let dst = code.local(addr);
        let one = code.local(addr);
        let (size, count) = match addr {
            ValType::I64 => (I::I64Const(i64::from(ours.size)), I::I64Const(1)),
            _ => (I::I32Const(ours.size as i32), I::I32Const(1)),
        };
        code.realloc_to(ours.align, |code| code.push(size));
        code.push(I::LocalSet(dst));
        code.push(count);
        code.push(I::LocalSet(one));
        memory::check_alloc(code, dst, one, (ours.size, ours.align), Alloc::Arguments);
        let at = |addr| Loc::Memory { addr, offset: 0 };
        code.translate(&tuple, &at(0), &at(dst));
        vec![dst]
    } else {
        let mut args = Vec::new();
        let mut next = 0;
        for ty in &shape.params {
            let count = core_types(ty, caller_ptr).len() as u32;
            let src: Vec<u32> = (next..next + count).collect();
            next += count;
            let dst = code.locals(&core_types(ty, callee_ptr));
            code.translate(ty, &Loc::Flat(src), &Loc::Flat(dst.clone()));
            args.extend(dst);
        }
        args
    };
    for arg in args {
        code.push(I::LocalGet(arg));
    }
    let callee = code.def(lifted.core.clone(), &callee_params, &callee_results);
    code.push(I::Call(callee));

    // The callee's own results, kept for `post-return`.
    let raw = code.locals(&callee_results);
    for &local in raw.iter().rev() {
        code.push(I::LocalSet(local));
    }
    code.into_callee = false;
    match shape.result {
        Some(ty) if shape.spill_result => {
            let (theirs, ours) = (layout(ty, callee_ptr), layout(ty, caller_ptr));
            let retptr = n - 1;
            memory::check_block(
                code,
                code.callee.memory,
                raw[0],
                (theirs.size, theirs.align),
                Block::Results,
            );
            memory::check_block(
                code,
                code.caller.memory,
                retptr,
                (ours.size, ours.align),
                Block::ReturnPointer,
            );
            let at = |addr| Loc::Memory { addr, offset: 0 };
            code.translate(ty, &at(raw[0]), &at(retptr));
        }
        Some(ty) => {
            let to = code.locals(&core_types(ty, caller_ptr));
            code.translate(ty, &Loc::Flat(raw.clone()), &Loc::Flat(to.clone()));
            // Left on the stack as the adapter's result.
            for local in to {
                code.push(I::LocalGet(local));
            }
        }
        None => {}
    }
    // The callee returned: its borrows must be gone (`Task.return_`).
    if borrows {
        let exit = scope(code, HandleOp::Exit { to });
        code.push(I::Call(exit));
    }
    if let Some(post_return) = lifted.options.post_return.clone() {
        // The result is lifted (above) before `post-return` runs, as in
        // `canon_lift`; the callee gets its own flat result back.
        let post_return = code.def(post_return, &callee_results, &[]);
        for &local in &raw {
            code.push(I::LocalGet(local));
        }
        code.without_leaving(code.callee.may_leave, I::Call(post_return));
    }
    // `leave_to`.
    for flag in flags {
        code.push(I::I32Const(1));
        code.push(I::GlobalSet(flag));
    }
    // The call is over for the caller: its lent handles are free again.
    if borrows {
        let end = scope(code, HandleOp::EndLends { from });
        code.push(I::Call(end));
    }
    code.push(I::End);
}
