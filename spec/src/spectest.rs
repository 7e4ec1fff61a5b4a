//! The `spectest` host module every spec script may import from, as the
//! reference interpreter defines it (`interpreter/host/spectest.ml`).
//!
//! One instance per script: its memory, table and globals are shared by all
//! modules of the script that import them. The `print*` functions accept
//! their arguments and print nothing, so test output stays readable.

use cmc_runtime::{
    Error, Func, FuncType, Global, GlobalType, Limits, Linker, Memory, MemoryType, Store, Table,
    TableType, Val, ValType,
};

/// Creates the `spectest` items in `store` and defines them in `linker`.
pub(crate) fn define(store: &mut Store<()>, linker: &mut Linker<()>) -> Result<(), Error> {
    use ValType::{F32, F64, I32, I64};
    let prints: [(&str, &[ValType]); 7] = [
        ("print", &[]),
        ("print_i32", &[I32]),
        ("print_i64", &[I64]),
        ("print_f32", &[F32]),
        ("print_f64", &[F64]),
        ("print_i32_f32", &[I32, F32]),
        ("print_f64_f64", &[F64, F64]),
    ];
    for (name, params) in prints {
        let ty = FuncType::new(params.iter().copied(), []);
        let func = Func::new(store, ty, |_, _, _| Ok(()));
        linker.define("spectest", name, func);
    }
    let globals = [
        ("global_i32", I32, Val::I32(666)),
        ("global_i64", I64, Val::I64(666)),
        ("global_f32", F32, Val::F32(666.6f32.to_bits())),
        ("global_f64", F64, Val::F64(666.6f64.to_bits())),
    ];
    for (name, content, value) in globals {
        let ty = GlobalType {
            content,
            mutable: false,
        };
        let global = Global::new(&mut *store, ty, value)?;
        linker.define("spectest", name, global);
    }
    let table_ty = TableType {
        element: ValType::FuncRef,
        limits: Limits {
            min: 10,
            max: Some(20),
        },
        table64: false,
    };
    let table = Table::new(&mut *store, table_ty, Val::FuncRef(None))?;
    linker.define("spectest", "table", table);
    let memory_ty = MemoryType {
        limits: Limits {
            min: 1,
            max: Some(2),
        },
        shared: false,
        memory64: false,
        page_size_log2: 16,
    };
    let memory = Memory::new(&mut *store, memory_ty)?;
    linker.define("spectest", "memory", memory);
    let shared = Memory::new(
        &mut *store,
        MemoryType {
            shared: true,
            ..memory_ty
        },
    )?;
    linker.define("spectest", "shared_memory", shared);
    Ok(())
}
