//! A fused adapter's function under construction: its instructions, the
//! locals it adds, and what it imports, added to its module's imports
//! (shared by the module's adapters) as the translation first uses them.

use super::Import;
use cmc_runtime::abi::{AbiTrap, CanonOptions, ComponentInstanceIndex, CoreDef};
use cmc_runtime::component::types::PtrType;
use wasm_encoder::{Instruction, MemoryType, ValType};

/// One side of the call as the adapter sees it.
pub(super) struct Side<'a> {
    /// Its canonical options.
    pub options: &'a CanonOptions,
    /// Its component instance, whose handle table it uses.
    pub instance: ComponentInstanceIndex,
    /// Its memory in the module: the other side's too when both name one
    /// memory.
    pub memory: u32,
    /// The global holding its `may_leave` flag.
    pub may_leave: u32,
}

/// What an adapter module imports, for all its adapters, each item once.
/// Each kind has its own index space, in the order items are added.
#[derive(Default)]
pub(super) struct Imports {
    pub funcs: Vec<ImportedFunc>,
    /// The call counter (an `i64`) and `i32` flags, all mutable.
    pub globals: Vec<Import>,
    pub memories: Vec<(CoreDef, MemoryType)>,
}

impl Imports {
    /// The function index of `import`, imported with this type the first
    /// time it is asked for.
    pub(super) fn func(&mut self, import: Import, params: &[ValType], results: &[ValType]) -> u32 {
        let same =
            |f: &ImportedFunc| f.import == import && f.params == params && f.results == results;
        if let Some(at) = self.funcs.iter().position(same) {
            return at as u32;
        }
        self.funcs.push(ImportedFunc {
            import,
            params: params.to_vec(),
            results: results.to_vec(),
        });
        self.funcs.len() as u32 - 1
    }

    /// The global index of `import` (the call counter or a flag).
    pub(super) fn global(&mut self, import: Import) -> u32 {
        let at = match self.globals.iter().position(|g| *g == import) {
            Some(at) => at,
            None => {
                self.globals.push(import);
                self.globals.len() - 1
            }
        };
        at as u32
    }

    /// The memory index of the memory a side with `options` names.
    pub(super) fn memory(&mut self, options: &CanonOptions) -> u32 {
        let def = (options.memory.clone()).expect("`fuse` checks both memories");
        if let Some(at) = self.memories.iter().position(|(d, _)| *d == def) {
            return at as u32;
        }
        let log2 = u32::from(options.page_size_log2);
        let ty = MemoryType {
            minimum: 0,
            maximum: None,
            memory64: options.ptr_type == PtrType::I64,
            shared: false,
            page_size_log2: (log2 != 16).then_some(log2),
        };
        self.memories.push((def, ty));
        self.memories.len() as u32 - 1
    }
}

impl Side<'_> {
    /// Its memory's page size, log2.
    pub fn page_log2(&self) -> u32 {
        u32::from(self.options.page_size_log2)
    }
}

/// A function the adapter imports: what it is bound to, and its type.
pub(super) struct ImportedFunc {
    pub import: Import,
    pub params: Vec<ValType>,
    pub results: Vec<ValType>,
}

/// The adapter's code under construction.
pub(super) struct Code<'a> {
    pub instrs: Vec<Instruction<'static>>,
    /// Index of the first added local.
    first_local: u32,
    /// Types of the added locals.
    locals: Vec<ValType>,
    /// The module's imports.
    pub imports: &'a mut Imports,
    pub caller: Side<'a>,
    pub callee: Side<'a>,
    /// Whether the two memories are distinct (not one, named twice).
    pub distinct: bool,
    /// Whether values go into the callee (arguments) or back (the result).
    pub into_callee: bool,
}

impl<'a> Code<'a> {
    /// Code whose added locals start at `first_local`, importing into
    /// `imports`.
    pub(super) fn new(
        first_local: u32,
        imports: &'a mut Imports,
        caller: Side<'a>,
        callee: Side<'a>,
    ) -> Code<'a> {
        let distinct = caller.options.memory != callee.options.memory;
        Code {
            instrs: Vec::new(),
            first_local,
            locals: Vec::new(),
            imports,
            caller,
            callee,
            distinct,
            into_callee: true,
        }
    }

    /// The side values come from.
    pub(super) fn from(&self) -> &Side<'a> {
        if self.into_callee {
            &self.caller
        } else {
            &self.callee
        }
    }

    /// The side values go to.
    pub(super) fn to(&self) -> &Side<'a> {
        if self.into_callee {
            &self.callee
        } else {
            &self.caller
        }
    }

    /// The function index of `import` with this type.
    pub(super) fn func(&mut self, import: Import, params: &[ValType], results: &[ValType]) -> u32 {
        self.imports.func(import, params, results)
    }

    /// The function index of a core item of the plan with this type.
    pub(super) fn def(&mut self, def: CoreDef, params: &[ValType], results: &[ValType]) -> u32 {
        self.func(Import::Def(def), params, results)
    }

    /// The global index of a flag or counter of the plan.
    pub(super) fn global(&mut self, import: Import) -> u32 {
        self.imports.global(import)
    }

    pub(super) fn push(&mut self, i: Instruction<'static>) {
        self.instrs.push(i);
    }

    /// A new local of type `ty`.
    pub(super) fn local(&mut self, ty: ValType) -> u32 {
        self.locals.push(ty);
        self.first_local + self.locals.len() as u32 - 1
    }

    /// New locals of these types.
    pub(super) fn locals(&mut self, types: &[ValType]) -> Vec<u32> {
        types.iter().map(|&t| self.local(t)).collect()
    }

    /// The finished function: its added locals and instructions.
    pub(super) fn finish(self) -> (Vec<ValType>, Vec<Instruction<'static>>) {
        (self.locals, self.instrs)
    }

    /// Calls the import raising `trap` with the value `value` pushes.
    pub(super) fn trap(&mut self, trap: AbiTrap, value: Instruction<'static>) {
        let func = self.def(CoreDef::AbiTrap(trap), &[ValType::I32], &[]);
        self.push(value);
        self.push(Instruction::Call(func));
        self.push(Instruction::Unreachable);
    }

    /// Runs `call` (of `realloc` or `post-return`) with the `may_leave`
    /// flag in global `flag` cleared, as the spec does: what it calls may
    /// not call out.
    pub(super) fn without_leaving(&mut self, flag: u32, call: Instruction<'static>) {
        self.push(Instruction::I32Const(0));
        self.push(Instruction::GlobalSet(flag));
        self.push(call);
        self.push(Instruction::I32Const(1));
        self.push(Instruction::GlobalSet(flag));
    }

    /// Calls the `to` side's `realloc(0, 0, align, <bytes pushed by `bytes`,
    /// of its address type>)`
    /// with its `may_leave` cleared; leaves the pointer on the stack.
    ///
    /// `fuse` checked that the options name one wherever a value needs it.
    pub(super) fn realloc_to(&mut self, align: u32, bytes: impl FnOnce(&mut Code<'a>)) {
        use Instruction as I;
        let to = self.to();
        let (def, flag) = (to.options.realloc.clone(), to.may_leave);
        let def = def.expect("`fuse` checks that a realloc is named where it is needed");
        let addr = self.addr_type(to.memory);
        let realloc = self.def(def, &[addr; 4], &[addr]);
        let constant = |v: u32| match addr {
            ValType::I64 => I::I64Const(i64::from(v)),
            _ => I::I32Const(v as i32),
        };
        self.push(constant(0));
        self.push(constant(0));
        self.push(constant(align));
        bytes(self);
        self.without_leaving(flag, I::Call(realloc));
    }
}
