//! The core module behind a re-exported import: a component that exports
//! a function it imported (or an instance of them) exports `canon lift` of
//! `canon lower` of the import, as the spec's own definition of such an
//! export would read, through this module.
//!
//! The module imports the lowered import and exports `call`, which the
//! lift wraps: the same core signature but for a spilled result, which
//! `call` allocates and returns a pointer to. Strings, lists and spilled
//! values lie in the module's own memory (`memory`), allocated by a bump
//! `realloc` that grows it; the lift's `post-return` (`reset`) starts the
//! allocator over, since the values are read by then.

use cmc_runtime::component::flatten::{FlatContext, flatten_functype};
use cmc_runtime::component::layout::record_layout;
use cmc_runtime::component::types::{FlatType, FuncType, PtrType};
use wasm_encoder::{
    BlockType, CodeSection, ConstExpr, EntityType, ExportKind, ExportSection, Function,
    FunctionSection, GlobalSection, GlobalType, ImportSection, MemorySection, MemoryType, Module,
    TypeSection, ValType,
};

/// The export names of the module.
pub const MEMORY: &str = "memory";
pub const REALLOC: &str = "realloc";
pub const RESET: &str = "reset";
pub const CALL: &str = "call";

/// The module forwarding calls of type `ty` to its import `"" "f"`, the
/// import lowered with its memory and `realloc`.
pub fn forwarder(ty: &FuncType) -> Vec<u8> {
    let lowered = flatten_functype(ty, FlatContext::Lower, PtrType::I32);
    let lifted = flatten_functype(ty, FlatContext::Lift, PtrType::I32);
    let types_of = |ts: &[FlatType]| {
        ts.iter()
            .copied()
            .map(crate::component::core_type)
            .collect::<Vec<_>>()
    };
    let (lifted_params, lifted_results) = (types_of(&lifted.params), types_of(&lifted.results));
    // A spilled result: the lowered import takes one more parameter.
    let spilled = lowered.params.len() > lifted.params.len();

    let mut types = TypeSection::new();
    types
        .ty()
        .function(types_of(&lowered.params), types_of(&lowered.results));
    types.ty().function([ValType::I32; 4], [ValType::I32]);
    types.ty().function(lifted_results.clone(), []);
    types
        .ty()
        .function(lifted_params.clone(), lifted_results.clone());
    let mut imports = ImportSection::new();
    imports.import("", "f", EntityType::Function(0));
    let mut funcs = FunctionSection::new();
    for ty in [1, 2, 3] {
        funcs.function(ty);
    }
    let mut memories = MemorySection::new();
    memories.memory(MemoryType {
        minimum: 0,
        maximum: None,
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    let mut globals = GlobalSection::new();
    let next = GlobalType {
        val_type: ValType::I32,
        mutable: true,
        shared: false,
    };
    globals.global(next, &ConstExpr::i32_const(0));
    let (realloc, reset, call) = (1, 2, 3);
    let mut exports = ExportSection::new();
    exports.export(MEMORY, ExportKind::Memory, 0);
    exports.export(REALLOC, ExportKind::Func, realloc);
    exports.export(RESET, ExportKind::Func, reset);
    exports.export(CALL, ExportKind::Func, call);

    let mut code = CodeSection::new();
    code.function(&bump_realloc());
    let mut f = Function::new(Vec::new());
    f.instructions().i32_const(0).global_set(0).end();
    code.function(&f);
    let n = lifted_params.len() as u32;
    let mut f = Function::new([(1, ValType::I32)]);
    let mut body = f.instructions();
    if spilled {
        let results = record_layout(ty.result_types(), PtrType::I32);
        body.i32_const(0)
            .i32_const(0)
            .i32_const(results.align as i32)
            .i32_const(results.size as i32)
            .call(realloc)
            .local_set(n);
    }
    for i in 0..n {
        body.local_get(i);
    }
    if spilled {
        body.local_get(n);
    }
    body.call(0);
    if spilled {
        body.local_get(n);
    }
    body.end();
    code.function(&f);

    let mut module = Module::new();
    module
        .section(&types)
        .section(&imports)
        .section(&funcs)
        .section(&memories)
        .section(&globals)
        .section(&exports)
        .section(&code);
    module.finish()
}

/// `realloc(old, old_size, align, size)`: the next `size` bytes aligned to
/// `align`, growing the memory as needed, with the first bytes of `old`
/// copied over (the spec shrinks strings it transcoded with `realloc`).
fn bump_realloc() -> Function {
    let (old, old_size, align, size, ptr, end) = (0, 1, 2, 3, 4, 5);
    let mut f = Function::new([(2, ValType::I32)]);
    let mut b = f.instructions();
    // ptr = (next + align - 1) & -align; end = ptr + size
    b.global_get(0)
        .local_get(align)
        .i32_add()
        .i32_const(1)
        .i32_sub()
        .i32_const(0)
        .local_get(align)
        .i32_sub()
        .i32_and()
        .local_tee(ptr)
        .local_get(size)
        .i32_add()
        .local_tee(end)
        // Past 4 GiB: no memory can hold it.
        .local_get(ptr)
        .i32_lt_u()
        .if_(BlockType::Empty)
        .unreachable()
        .end();
    // Grow by the pages `end` needs beyond the memory's.
    b.local_get(end)
        .memory_size(0)
        .i32_const(16)
        .i32_shl()
        .i32_gt_u()
        .if_(BlockType::Empty)
        .local_get(end)
        .memory_size(0)
        .i32_const(16)
        .i32_shl()
        .i32_sub()
        .i32_const(0xffff)
        .i32_add()
        .i32_const(16)
        .i32_shr_u()
        .memory_grow(0)
        .i32_const(-1)
        .i32_eq()
        .if_(BlockType::Empty)
        .unreachable()
        .end()
        .end();
    b.local_get(old)
        .if_(BlockType::Empty)
        .local_get(ptr)
        .local_get(old)
        .local_get(old_size)
        .local_get(size)
        .local_get(old_size)
        .local_get(size)
        .i32_lt_u()
        .select()
        .memory_copy(0, 0)
        .end();
    b.local_get(end).global_set(0).local_get(ptr).end();
    f
}
