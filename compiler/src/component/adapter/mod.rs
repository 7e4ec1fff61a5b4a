//! Fused adapters: a call from one component instance into a function
//! another one lifted, compiled to native code.
//!
//! The spec runs such a call as `canon_lower` in the caller around
//! `canon_lift` in the callee: lift the caller's flat arguments to
//! component values, lower them into the callee, call, lift the callee's
//! result, lower it back, then run the callee's `post-return`. [`fuse`]
//! writes that as a small core module that imports the callee (and what
//! else it needs) and exports the adapter; it is compiled like every other
//! module of the component.
//!
//! Each argument, and the result, is translated by one recursive walk over
//! its type ([`value`]) from where it lies on one side to where it goes on
//! the other: flat values from locals to locals, spilled parameters and
//! results (more than [`MAX_FLAT_PARAMS`] or [`MAX_FLAT_RESULTS`] core
//! values) from memory to memory, through the callee's `realloc`ed block
//! and the caller's return pointer. The adapter imports both memories
//! ([`code::CALLER`], [`code::CALLEE`]) and copies strings and lists
//! itself ([`memory`]); it calls the runtime to move handles, to transcode
//! strings between encodings, and to raise the spec's errors. Each side's
//! addresses have its memory's address type (`memory64` options).

mod code;
mod memory;
mod value;

use cmc_runtime::abi::{
    AbiTrap, Alloc, Block, CanonOptions, ComponentInstanceIndex, CoreDef, FUSED_ADAPTER_EXPORT,
    HandleOp, LiftedFunc, MemoryTransfer,
};
use cmc_runtime::component::flatten::{MAX_FLAT_PARAMS, MAX_FLAT_RESULTS, flat_count};
use cmc_runtime::component::layout::layout;
use cmc_runtime::component::types::{InterfaceType, PtrType};
use code::{CALLEE, CALLER, Code, Side};
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
    /// The store's count of calls between components, global 0.
    CallCounter,
}

/// A fused adapter: its module and what to instantiate it with.
pub struct Fused {
    /// The core module.
    pub wasm: Vec<u8>,
    /// What each of its imports is bound to.
    pub imports: Vec<Import>,
}

/// The globals the adapter imports: the call counter, the `may_leave`
/// flags of the caller and the callee, then the `may_enter` flags of the
/// instances the call enters.
const CALLS: u32 = 0;
const CALLER_MAY_LEAVE: u32 = 1;
const CALLEE_MAY_LEAVE: u32 = 2;
const FIRST_MAY_ENTER: u32 = 3;

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

/// The fused adapter for calls of `lifted` through a lowering with options
/// `caller`, or `None` when the options lack a memory or `realloc` the
/// values need (which validation rules out; the runtime's adapter then
/// gives its error).
///
/// The caller is component instance `caller_instance`, whose handles move
/// or are lent to the callee's; the call enters the component instances
/// `entering` (see `ComponentMeta::entering_set`).
pub fn fuse(
    lifted: &LiftedFunc,
    caller: &CanonOptions,
    caller_instance: ComponentInstanceIndex,
    entering: &[ComponentInstanceIndex],
) -> Option<Fused> {
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
    let sides = (
        Side {
            options: caller,
            instance: caller_instance,
            memory: CALLER,
            may_leave: CALLER_MAY_LEAVE,
        },
        Side {
            options: callee,
            instance: lifted.instance,
            memory: CALLEE,
            may_leave: CALLEE_MAY_LEAVE,
        },
    );
    let (adapter_params, adapter_results) = shape.adapter_type(caller.ptr_type);
    let mut code = Code::new(adapter_params.len() as u32, sides.0, sides.1);
    body(&mut code, &shape, lifted, entering);
    Some(assemble(
        code,
        &shape,
        entering,
        (adapter_params, adapter_results),
    ))
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
    code.push(I::GlobalGet(CALLER_MAY_LEAVE));
    code.push(I::I32Eqz);
    code.push(I::If(wasm_encoder::BlockType::Empty));
    code.trap(AbiTrap::CannotLeave, I::I32Const(0));
    code.push(I::End);
    // `func_inst`: `trap_if(not inst.may_enter_from(caller))`, then
    // `enter_from`.
    let flags = FIRST_MAY_ENTER..FIRST_MAY_ENTER + entering.len() as u32;
    for flag in flags.clone() {
        code.push(I::GlobalGet(flag));
        code.push(I::I32Eqz);
        code.push(I::If(wasm_encoder::BlockType::Empty));
        code.trap(AbiTrap::CannotEnter, I::I32Const(0));
        code.push(I::End);
    }
    for flag in flags.clone() {
        code.push(I::I32Const(0));
        code.push(I::GlobalSet(flag));
    }
    // Count the call (for `cmc run --stats`).
    code.push(I::GlobalGet(CALLS));
    code.push(I::I64Const(1));
    code.push(I::I64Add);
    code.push(I::GlobalSet(CALLS));
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
            CALLER,
            0,
            (theirs.size, theirs.align),
            Block::Parameters,
        );
        let addr = code.addr_type(CALLEE);
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
                CALLEE,
                raw[0],
                (theirs.size, theirs.align),
                Block::Results,
            );
            memory::check_block(
                code,
                CALLER,
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
        code.without_leaving(CALLEE_MAY_LEAVE, I::Call(post_return));
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

/// The adapter module around `code`: its imports (the functions it calls,
/// the globals, both memories when values lie in memory) and its export.
fn assemble(
    code: Code,
    shape: &Shape,
    entering: &[ComponentInstanceIndex],
    (params, results): (Vec<ValType>, Vec<ValType>),
) -> Fused {
    let mut types = TypeSection::new();
    let mut section = ImportSection::new();
    let mut imports = Vec::new();
    for (i, func) in code.funcs.iter().enumerate() {
        types
            .ty()
            .function(func.params.iter().copied(), func.results.iter().copied());
        section.import("", &i.to_string(), EntityType::Function(i as u32));
        imports.push(func.import.clone());
    }
    let global = |mutable, val_type| {
        EntityType::Global(GlobalType {
            val_type,
            mutable,
            shared: false,
        })
    };
    section.import("", "calls", global(true, ValType::I64));
    imports.push(Import::CallCounter);
    for (name, side) in [
        ("caller-may-leave", &code.caller),
        ("callee-may-leave", &code.callee),
    ] {
        section.import("", name, global(true, ValType::I32));
        imports.push(Import::Def(CoreDef::MayLeave(side.instance)));
    }
    for (i, &instance) in entering.iter().enumerate() {
        section.import("", &format!("may-enter-{i}"), global(true, ValType::I32));
        imports.push(Import::Def(CoreDef::MayEnter(instance)));
    }
    if shape.uses_memory() {
        for (name, side) in [
            ("caller-memory", &code.caller),
            ("callee-memory", &code.callee),
        ] {
            let log2 = side.page_log2();
            let memory = wasm_encoder::MemoryType {
                minimum: 0,
                maximum: None,
                memory64: side.options.ptr_type == PtrType::I64,
                shared: false,
                page_size_log2: (log2 != 16).then_some(log2),
            };
            section.import("", name, EntityType::Memory(memory));
            let def = side.options.memory.clone();
            imports.push(Import::Def(def.expect("`fuse` checks both memories")));
        }
    }
    let adapter = code.adapter_index();
    types.ty().function(params, results);
    let mut funcs = FunctionSection::new();
    funcs.function(types.len() - 1);
    let mut exports = ExportSection::new();
    exports.export(FUSED_ADAPTER_EXPORT, ExportKind::Func, adapter);
    let mut function = Function::new(code.added_locals());
    for i in &code.instrs {
        function.instruction(i);
    }
    let mut bodies = CodeSection::new();
    bodies.function(&function);
    let mut names = NameSection::new();
    let mut func_names = NameMap::new();
    func_names.append(adapter, "fused-adapter");
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
