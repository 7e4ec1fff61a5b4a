//! The core module behind re-exported imports: a component that exports a
//! function it imported (or an instance of them) exports `canon lift` of
//! `canon lower` of the import, as the spec's own definition of such an
//! export would read, through this module.
//!
//! The module imports each lowered import (`"" "f{k}"`) and exports, for
//! the lift, `call{k}`: the same core signature but for a spilled result,
//! which `call{k}` allocates and returns a pointer to. Strings, lists and
//! spilled values lie in the module's one memory (`memory`), allocated by
//! a bump `realloc` that grows it; each lift's `post-return` (`reset{k}`,
//! which takes that function's core results) starts the allocator over,
//! since the values are read by then.

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

/// The export the lift of re-exported function `k` wraps.
pub fn call(k: usize) -> String {
    format!("call{k}")
}

/// The `post-return` of re-exported function `k`.
pub fn reset(k: usize) -> String {
    format!("reset{k}")
}

/// The module forwarding calls of the functions of types `tys`, the `k`th
/// to its import `"" "f{k}"`, the import lowered with the module's memory
/// and `realloc`.
pub fn forwarder(tys: &[FuncType]) -> Vec<u8> {
    let types_of = |ts: &[FlatType]| {
        ts.iter()
            .copied()
            .map(crate::component::core_type)
            .collect::<Vec<_>>()
    };
    let mut types = TypeSection::new();
    let mut imports = ImportSection::new();
    let mut funcs = FunctionSection::new();
    let mut exports = ExportSection::new();
    let mut code = CodeSection::new();
    // Function indices: the imports, then `realloc`, then `call{k}` and
    // `reset{k}` for each.
    let n = tys.len() as u32;
    let realloc = n;
    types.ty().function([ValType::I32; 4], [ValType::I32]);
    funcs.function(0);
    exports.export(REALLOC, ExportKind::Func, realloc);
    code.function(&bump_realloc());
    for (k, ty) in tys.iter().enumerate() {
        let lowered = flatten_functype(ty, FlatContext::Lower, PtrType::I32);
        let lifted = flatten_functype(ty, FlatContext::Lift, PtrType::I32);
        let (params, results) = (types_of(&lifted.params), types_of(&lifted.results));
        // A spilled result: the lowered import takes one more parameter.
        let spilled = lowered.params.len() > lifted.params.len();
        let ty_index = types.len();
        types
            .ty()
            .function(types_of(&lowered.params), types_of(&lowered.results));
        types.ty().function(params.clone(), results.clone());
        types.ty().function(results.clone(), []);
        imports.import("", &format!("f{k}"), EntityType::Function(ty_index));
        funcs.function(ty_index + 1);
        funcs.function(ty_index + 2);
        let k32 = k as u32;
        let (call_index, reset_index) = (realloc + 1 + 2 * k32, realloc + 2 + 2 * k32);
        exports.export(&call(k), ExportKind::Func, call_index);
        exports.export(&reset(k), ExportKind::Func, reset_index);

        let count = params.len() as u32;
        let mut f = Function::new([(1, ValType::I32)]);
        let mut body = f.instructions();
        if spilled {
            let block = record_layout(ty.result_types(), PtrType::I32);
            body.i32_const(0)
                .i32_const(0)
                .i32_const(block.align as i32)
                .i32_const(block.size as i32)
                .call(realloc)
                .local_set(count);
        }
        for i in 0..count {
            body.local_get(i);
        }
        if spilled {
            body.local_get(count);
        }
        body.call(k32);
        if spilled {
            body.local_get(count);
        }
        body.end();
        code.function(&f);
        let mut f = Function::new(Vec::new());
        f.instructions().i32_const(0).global_set(0).end();
        code.function(&f);
    }
    let mut memories = MemorySection::new();
    memories.memory(MemoryType {
        minimum: 0,
        maximum: None,
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    exports.export(MEMORY, ExportKind::Memory, 0);
    let mut globals = GlobalSection::new();
    let next = GlobalType {
        val_type: ValType::I32,
        mutable: true,
        shared: false,
    };
    globals.global(next, &ConstExpr::i32_const(0));

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
