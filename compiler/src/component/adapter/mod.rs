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
//! Values that are flat on both sides (numbers, `bool`, `char`, flags,
//! handles, and records, variants, enums, options and results of those)
//! are translated recursively in compiled code ([`flat`]). A utf8 string
//! (on both sides) or a list of plain values (integers, and records and
//! tuples of them without padding) is checked where it lies, allocated
//! with the callee's `realloc` and copied across, in compiled code too
//! ([`memory`]), with the runtime's host halves ([`CoreDef::Transfer`]) as
//! the fallback that gives the spec's errors. A string or list result
//! comes back the same way, into the caller's `realloc`ed bytes, its
//! `(ptr, len)` stored at the return pointer the caller passed. Records and
//! tuples of parameters are their fields, in order.
//!
//! Other signatures (other encodings, other lists, strings and lists of
//! 64-bit memories or inside variants, results of more than one core value,
//! spilled parameters) are still adapted by the runtime's canonical-ABI
//! code (`AdapterFunc`).

mod flat;
mod memory;

use cmc_runtime::abi::{
    AbiTrap, CanonOptions, ComponentInstanceIndex, CoreDef, Elements, EntityRef,
    FUSED_ADAPTER_EXPORT, FuncIndex, HandleOp, LiftedFunc, MemoryTransfer, TransferOp,
};
use cmc_runtime::component::flatten::{MAX_FLAT_PARAMS, MAX_FLAT_RESULTS};
use cmc_runtime::component::layout::layout;
use cmc_runtime::component::types::{InterfaceType, PtrType, StringEncoding};
use flat::{Code, Flat, Need};
use wasm_encoder::{
    CodeSection, EntityType, ExportKind, ExportSection, Function, FunctionSection, GlobalType,
    ImportSection, Instruction, Module, NameMap, NameSection, TypeSection, ValType,
};

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
#[derive(Clone)]
enum Param {
    /// Flat on both sides.
    Flat(Flat),
    /// `(ptr, len)` of elements copied as they are.
    Memory(Elements),
}

impl Param {
    fn of(ty: &InterfaceType, caller: &CanonOptions, callee: &CanonOptions) -> Option<Param> {
        use InterfaceType as T;
        let utf8 = |o: &CanonOptions| o.encoding == StringEncoding::Utf8;
        let plain = |size, align| Param::Memory(Elements::Plain { size, align });
        // The host halves move `i32` pairs between 32-bit memories.
        let ptr32 = [caller, callee].iter().all(|o| o.ptr_type == PtrType::I32);
        Some(match ty {
            T::String | T::List(_) if !ptr32 => return None,
            T::String if utf8(caller) && utf8(callee) => Param::Memory(Elements::Utf8),
            T::List(elem) if plain_size(elem).is_some() => {
                let l = layout(elem, PtrType::I32);
                plain(l.size, l.align)
            }
            T::List(_) => return None,
            t => Param::Flat(Flat::of(t)?),
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
    fn core_types(&self) -> Vec<ValType> {
        match self {
            Param::Flat(flat) => flat.core_types(),
            Param::Memory(_) => vec![ValType::I32, ValType::I32],
        }
    }
}

/// The size of a plain value of type `ty` (see [`Elements::Plain`]): an
/// integer, or a record or tuple of plain values whose fields fill it
/// without padding; `None` for anything else.
fn plain_size(ty: &InterfaceType) -> Option<u32> {
    use InterfaceType as T;
    match ty {
        T::U8 | T::S8 => Some(1),
        T::U16 | T::S16 => Some(2),
        T::U32 | T::S32 => Some(4),
        T::U64 | T::S64 => Some(8),
        T::Record(_) | T::Tuple(_) => {
            let fields = ty.record_fields()?;
            let sum = fields.iter().map(|t| plain_size(t)).sum::<Option<u32>>()?;
            (sum == layout(ty, PtrType::I32).size).then_some(sum)
        }
        _ => None,
    }
}

/// The signature of a call the adapter can carry: its parameters flattened
/// to values flat on both sides, strings and lists.
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
            let start = core_params.len() as u32;
            core_params.extend(param.core_types());
            params.push((param, start));
        }
        if core_params.len() > MAX_FLAT_PARAMS {
            return None;
        }
        let result = match &lifted.ty.result {
            Some(t) => Some(Param::of(t, caller, callee)?),
            None => None,
        };
        // A flat result beyond one core value goes through memory.
        if let Some(Param::Flat(flat)) = &result
            && flat.core_types().len() > MAX_FLAT_RESULTS
        {
            return None;
        }
        Some(Signature {
            params,
            core_params,
            result,
        })
    }

    /// The callee's core results: a scalar, or the pointer to a string or
    /// list.
    fn callee_results(&self) -> Vec<ValType> {
        match &self.result {
            Some(Param::Flat(flat)) => flat.core_types(),
            Some(Param::Memory(_)) => vec![ValType::I32],
            None => vec![],
        }
    }

    /// The adapter's (the caller's) core signature.
    fn adapter_type(&self) -> (Vec<ValType>, Vec<ValType>) {
        let mut params = self.core_params.clone();
        match &self.result {
            Some(Param::Flat(flat)) => (params, flat.core_types()),
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
        self.params.iter().filter_map(|(p, start)| match p {
            Param::Memory(elements) => Some((*elements, *start)),
            Param::Flat(_) => None,
        })
    }

    /// The imports its flat values' translations call.
    fn needs(&self) -> Vec<Need> {
        let mut needs = Vec::new();
        for (param, _) in &self.params {
            if let Param::Flat(flat) = param {
                flat.needs(true, &mut needs);
            }
        }
        if let Some(Param::Flat(flat)) = &self.result {
            flat.needs(false, &mut needs);
        }
        needs
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
    /// The functions the flat values' translations call.
    needs: Vec<(Need, u32)>,
    /// When borrows are passed: the handle operations that open the call's
    /// borrow scope, close it, and end the caller's lends.
    borrow_scope: Option<[FuncIndex; 3]>,
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
///
/// The caller is component instance `caller_instance`, whose handles move
/// or are lent to the callee's.
pub fn fuse(
    lifted: &LiftedFunc,
    caller: &CanonOptions,
    caller_instance: ComponentInstanceIndex,
) -> Option<Fused> {
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
        needs: Vec::new(),
        borrow_scope: None,
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
            size,
            align,
        });
    }

    let callee_instance = lifted.instance;
    // The caller's `may_leave`, checked first; the import raising its trap.
    let mut needs = sig.needs();
    needs.push(Need::Trap(AbiTrap::CannotLeave));
    for need in needs {
        let (def, results) = match need {
            Need::Trap(trap) => (CoreDef::AbiTrap(trap), i32s(0)),
            Need::Own { ty, into_callee } => {
                let (from, to) = match into_callee {
                    true => (caller_instance, callee_instance),
                    false => (callee_instance, caller_instance),
                };
                (CoreDef::Handle(HandleOp::MoveOwn { ty, from, to }), i32s(1))
            }
            Need::Borrow(ty) => {
                let (from, to) = (caller_instance, callee_instance);
                (CoreDef::Handle(HandleOp::Lend { ty, from, to }), i32s(1))
            }
        };
        let func = imports.add(Import::Def(def), &i32s(1), &results);
        callees.needs.push((need, func.as_u32()));
    }
    if callees
        .needs
        .iter()
        .any(|(n, _)| matches!(n, Need::Borrow(_)))
    {
        let op = |op| Import::Def(CoreDef::Handle(op));
        callees.borrow_scope = Some([
            imports.add(
                op(HandleOp::Enter {
                    to: callee_instance,
                }),
                &[],
                &[],
            ),
            imports.add(
                op(HandleOp::Exit {
                    to: callee_instance,
                }),
                &[],
                &[],
            ),
            imports.add(
                op(HandleOp::EndLends {
                    from: caller_instance,
                }),
                &[],
                &[],
            ),
        ]);
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
    // Globals 1 and 2: the `may_leave` flags of the caller and the callee.
    for (name, instance) in [
        ("caller-may-leave", caller_instance),
        ("callee-may-leave", callee_instance),
    ] {
        imports.section.import(
            "",
            name,
            EntityType::Global(GlobalType {
                val_type: ValType::I32,
                mutable: true,
                shared: false,
            }),
        );
        imports
            .imports
            .push(Import::Def(CoreDef::MayLeave(instance)));
    }
    // Strings and lists are copied between the two memories in the
    // adapter's own code: the caller's is memory 0, the callee's memory 1.
    let pages = memory::PageSizes {
        caller: u32::from(caller.page_size_log2),
        callee: u32::from(callee.page_size_log2),
    };
    if sig.in_memory().next().is_some() || sig.result_in_memory().is_some() {
        for (name, options, log2) in [
            ("caller-memory", caller, pages.caller),
            ("callee-memory", callee, pages.callee),
        ] {
            imports.section.import(
                "",
                name,
                EntityType::Memory(wasm_encoder::MemoryType {
                    minimum: 0,
                    maximum: None,
                    memory64: false,
                    shared: false,
                    page_size_log2: (log2 != 16).then_some(log2),
                }),
            );
            imports.imports.push(Import::Def(options.memory.clone()?));
        }
    }
    let mut types = imports.types;
    let (adapter_params, adapter_results) = sig.adapter_type();
    types.ty().function(adapter_params, adapter_results);
    let mut funcs = FunctionSection::new();
    funcs.function(types.len() - 1);
    let mut exports = ExportSection::new();
    exports.export(FUSED_ADAPTER_EXPORT, ExportKind::Func, adapter.as_u32());
    let mut code = CodeSection::new();
    let distinct = caller.memory != callee.memory;
    code.function(&body(&sig, &callees, pages, distinct));
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

/// The `may_leave` globals of the caller and the callee in the adapter.
const CALLER_MAY_LEAVE: u32 = 1;
const CALLEE_MAY_LEAVE: u32 = 2;

/// Runs `call` (of `realloc` or `post-return`) with `may_leave` flag
/// `flag` cleared, as the spec does: what it calls may not call out.
fn without_leaving(f: &mut Code, flag: u32, call: Instruction<'static>) {
    f.push(Instruction::I32Const(0));
    f.push(Instruction::GlobalSet(flag));
    f.push(call);
    f.push(Instruction::I32Const(1));
    f.push(Instruction::GlobalSet(flag));
}

/// The adapter's code: lift every argument out of the caller (checking
/// flat values, strings and lists in order), lower them into the callee
/// (allocate and copy), call, lift and lower the result, run `post-return`.
///
/// `distinct` says whether the caller's and the callee's memories are two
/// memories (not one, named twice).
fn body(sig: &Signature, callees: &Callees, pages: memory::PageSizes, distinct: bool) -> Function {
    use Instruction as I;
    use memory::{CALLEE, CALLER};
    // Locals after the parameters (and the caller's return pointer, `n`,
    // for a result in memory): the callee's result as it returned it (for
    // `post-return`; an unused i64 when there is none), the pointer, length
    // and new place of a result in memory, where each string or list
    // argument went, then the translations' own.
    let n = sig.adapter_type().0.len() as u32;
    let retptr = sig.core_params.len() as u32;
    let raw_result = n;
    let (result_ptr, result_len, result_dst) = (n + 1, n + 2, n + 3);
    let first_dst = n + 4;
    let raw_type = sig
        .callee_results()
        .first()
        .copied()
        .unwrap_or(ValType::I64);
    let copies = sig.in_memory().count() as u32;
    let mut f = Code::new(first_dst + copies, callees.needs.clone());
    let dsts = || sig.in_memory().zip(first_dst..);

    // `canon_lower`: the caller may not call out while its `realloc` or
    // `post-return` runs.
    f.push(I::GlobalGet(CALLER_MAY_LEAVE));
    f.push(I::I32Eqz);
    f.push(I::If(wasm_encoder::BlockType::Empty));
    f.trap(AbiTrap::CannotLeave, I::I32Const(0));
    f.push(I::End);
    // Count the call (for `cmc run --stats`).
    f.push(I::GlobalGet(0));
    f.push(I::I64Const(1));
    f.push(I::I64Add);
    f.push(I::GlobalSet(0));
    // The callee's borrow scope, before the borrows it receives.
    if let Some([enter, ..]) = callees.borrow_scope {
        f.push(I::Call(enter.as_u32()));
    }

    // Lift, in parameter order: check strings and lists where they lie,
    // translate flat values into locals of their own.
    let mut lowered: Vec<Vec<u32>> = Vec::new();
    for (param, start) in &sig.params {
        match param {
            Param::Memory(elements) => {
                let check = callees.transfer(*elements).0.as_u32();
                let pair = (*start, start + 1);
                memory::check_or_call(&mut f, pages, CALLER, *elements, pair, check);
                lowered.push(Vec::new());
            }
            Param::Flat(flat) => {
                let from: Vec<u32> = (*start..start + flat.core_types().len() as u32).collect();
                let to = f.locals(&flat.core_types());
                f.translate(flat, &from, &to);
                lowered.push(to);
            }
        }
    }
    for ((elements, start), dst) in dsts() {
        let (size, align) = elements.layout();
        // realloc(0, 0, align, len * size): the check bounded the product.
        f.push(I::I32Const(0));
        f.push(I::I32Const(0));
        f.push(I::I32Const(align as i32));
        f.push(I::LocalGet(start + 1));
        f.push(I::I32Const(size as i32));
        f.push(I::I32Mul);
        let realloc = callees
            .realloc
            .expect("imported when something is in memory");
        without_leaving(&mut f, CALLEE_MAY_LEAVE, I::Call(realloc.as_u32()));
        f.push(I::LocalSet(dst));
        let copy = callees.transfer(elements).1.as_u32();
        let pair = (start, start + 1);
        let memories = (CALLER, CALLEE);
        memory::copy(&mut f, pages, memories, distinct, elements, pair, dst, copy);
    }
    let mut dst = first_dst;
    for ((param, start), locals) in sig.params.iter().zip(&lowered) {
        match param {
            Param::Flat(_) => locals.iter().for_each(|&l| f.push(I::LocalGet(l))),
            Param::Memory(_) => {
                f.push(I::LocalGet(dst));
                f.push(I::LocalGet(start + 1));
                dst += 1;
            }
        }
    }
    f.push(I::Call(callees.callee.as_u32()));
    match (&sig.result, &callees.result) {
        (Some(Param::Flat(flat)), _) => {
            // One core value (`Signature::of` checked).
            f.push(I::LocalSet(raw_result));
            let to = f.locals(&flat.core_types());
            f.into_callee = false;
            f.translate(flat, &[raw_result], &to);
            f.push(I::LocalGet(to[0]));
        }
        (Some(Param::Memory(elements)), Some(r)) => {
            // Lift it from the callee (checked where it lies), check the
            // caller's return pointer, then allocate in the caller, copy,
            // and store `(ptr, len)` at the return pointer.
            f.push(I::LocalSet(raw_result));
            let pair = (result_ptr, result_len);
            let (load, check) = (r.load.as_u32(), r.check_retptr.as_u32());
            memory::load_pair(&mut f, pages, CALLEE, *elements, raw_result, pair, load);
            memory::check_pair_place(&mut f, pages, CALLER, retptr, check);
            f.push(I::I32Const(0));
            f.push(I::I32Const(0));
            f.push(I::I32Const(r.align as i32));
            f.push(I::LocalGet(result_len));
            f.push(I::I32Const(r.size as i32));
            f.push(I::I32Mul);
            without_leaving(&mut f, CALLER_MAY_LEAVE, I::Call(r.realloc.as_u32()));
            f.push(I::LocalSet(result_dst));
            let copy = r.copy.as_u32();
            let memories = (CALLEE, CALLER);
            memory::copy(
                &mut f, pages, memories, distinct, *elements, pair, result_dst, copy,
            );
            memory::store_pair(&mut f, CALLER, retptr, (result_dst, result_len));
        }
        (Some(Param::Memory(_)), None) => unreachable!("`fuse` imports the result's functions"),
        (None, _) => {}
    }
    // The callee returned: its borrows must be gone (`Task.return_`).
    if let Some([_, exit, _]) = callees.borrow_scope {
        f.push(I::Call(exit.as_u32()));
    }
    if let Some(post_return) = callees.post_return {
        // The result is lifted (above) before `post-return` runs, as in
        // `canon_lift`; the callee gets its own flat result back.
        if sig.result.is_some() {
            f.push(I::LocalGet(raw_result));
        }
        without_leaving(&mut f, CALLEE_MAY_LEAVE, I::Call(post_return.as_u32()));
    }
    // The call is over for the caller: its lent handles are free again.
    if let Some([.., end_lends]) = callees.borrow_scope {
        f.push(I::Call(end_lends.as_u32()));
    }
    f.push(I::End);
    let mut locals = vec![(1, raw_type), (3 + copies, ValType::I32)];
    locals.extend(f.added_locals());
    let mut func = Function::new(locals);
    for i in &f.instrs {
        func.instruction(i);
    }
    func
}

#[cfg(test)]
mod tests {
    use super::plain_size;
    use cmc_runtime::component::types::InterfaceType as T;

    /// Plain values are copied as bytes, so padding (which lowering leaves
    /// alone) rules a record out, and so does any value that lifting
    /// checks or changes.
    #[test]
    fn plain_values_have_no_padding_and_no_checks() {
        assert_eq!(plain_size(&T::U16), Some(2));
        assert_eq!(plain_size(&T::Tuple(vec![T::U32, T::S32])), Some(8));
        let record = T::Record(vec![
            ("a".into(), T::U8),
            ("b".into(), T::U8),
            ("c".into(), T::U16),
        ]);
        assert_eq!(plain_size(&record), Some(4));
        assert_eq!(plain_size(&T::Tuple(vec![T::U8, T::U32])), None);
        assert_eq!(plain_size(&T::Tuple(vec![T::U32, T::U8])), None);
        for t in [T::Bool, T::Char, T::F32, T::F64, T::String] {
            assert_eq!(plain_size(&t), None, "{t}");
        }
    }
}
