//! The WASI target: a module that calls `wasi_snapshot_preview1` functions
//! with arguments from the bytes, as a hostile guest would, in a store
//! whose only directory is a fresh one. Every call must come back with an
//! errno, a trap or the guest's exit, never a panic of the host; and
//! nothing may appear beside that directory (no path of the guest's, `..`
//! and symlinks included, may reach out of it).
//!
//! The guest's memory starts with bytes from the case and, at fixed
//! places, what makes calls do something: paths (plain, nested, with `..`,
//! absolute), I/O vectors pointing into memory, and room for results.
//! Arguments are chosen among descriptors the table may hold, those
//! places, lengths around them and arbitrary values. `poll_oneoff` is left
//! out: a clock subscription with an arbitrary timeout sleeps as long as
//! the guest asked, which is its right.

use crate::{Finding, Outcome};
use arbitrary::Unstructured;
use cmc_runtime::{self as cmc, Store};
use cmc_wasi::{DirPerms, FilePerms, WasiCtx, WasiView};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use wasm_encoder::{
    CodeSection, ConstExpr, DataSection, EntityType, ExportKind, ExportSection, Function,
    FunctionSection, ImportSection, Instruction, MemorySection, MemoryType, Module, TypeSection,
    ValType,
};

/// The module the functions come from.
const WASI: &str = "wasi_snapshot_preview1";

/// What an argument is, which says how it is chosen and its core types.
#[derive(Clone, Copy, PartialEq)]
enum Arg {
    /// A descriptor.
    Fd,
    /// A path: its pointer and length.
    Path,
    /// A pointer for results.
    Out,
    /// I/O vectors: their pointer and count.
    Iovs,
    /// A buffer: its pointer and length.
    Buf,
    /// Flags, a whence, a clock or a signal.
    Flags,
    /// `path_open`'s open flags.
    Open,
    /// An offset, a size or a time.
    Wide,
    /// Rights.
    Rights,
}

impl Arg {
    fn types(self) -> &'static [ValType] {
        match self {
            Arg::Path | Arg::Iovs | Arg::Buf => &[ValType::I32, ValType::I32],
            Arg::Wide | Arg::Rights => &[ValType::I64],
            Arg::Fd | Arg::Out | Arg::Flags | Arg::Open => &[ValType::I32],
        }
    }
}

/// The preview1 functions called and their arguments (each returns an
/// `i32` errno). `proc_exit`, which returns nothing and ends the run, may
/// come last.
const FUNCTIONS: &[(&str, &[Arg])] = {
    use Arg::*;
    &[
        ("args_get", &[Out, Out]),
        ("args_sizes_get", &[Out, Out]),
        ("environ_get", &[Out, Out]),
        ("environ_sizes_get", &[Out, Out]),
        ("clock_res_get", &[Flags, Out]),
        ("clock_time_get", &[Flags, Wide, Out]),
        ("fd_advise", &[Fd, Wide, Wide, Flags]),
        ("fd_allocate", &[Fd, Wide, Wide]),
        ("fd_close", &[Fd]),
        ("fd_datasync", &[Fd]),
        ("fd_fdstat_get", &[Fd, Out]),
        ("fd_fdstat_set_flags", &[Fd, Flags]),
        ("fd_fdstat_set_rights", &[Fd, Rights, Rights]),
        ("fd_filestat_get", &[Fd, Out]),
        ("fd_filestat_set_size", &[Fd, Wide]),
        ("fd_filestat_set_times", &[Fd, Wide, Wide, Flags]),
        ("fd_pread", &[Fd, Iovs, Wide, Out]),
        ("fd_prestat_get", &[Fd, Out]),
        ("fd_prestat_dir_name", &[Fd, Buf]),
        ("fd_pwrite", &[Fd, Iovs, Wide, Out]),
        ("fd_read", &[Fd, Iovs, Out]),
        ("fd_readdir", &[Fd, Buf, Wide, Out]),
        ("fd_renumber", &[Fd, Fd]),
        ("fd_seek", &[Fd, Wide, Flags, Out]),
        ("fd_sync", &[Fd]),
        ("fd_tell", &[Fd, Out]),
        ("fd_write", &[Fd, Iovs, Out]),
        ("path_create_directory", &[Fd, Path]),
        ("path_filestat_get", &[Fd, Flags, Path, Out]),
        (
            "path_filestat_set_times",
            &[Fd, Flags, Path, Wide, Wide, Flags],
        ),
        ("path_link", &[Fd, Flags, Path, Fd, Path]),
        (
            "path_open",
            &[Fd, Flags, Path, Open, Rights, Rights, Flags, Out],
        ),
        ("path_readlink", &[Fd, Path, Buf, Out]),
        ("path_remove_directory", &[Fd, Path]),
        ("path_rename", &[Fd, Path, Fd, Path]),
        ("path_symlink", &[Path, Fd, Path]),
        ("path_unlink_file", &[Fd, Path]),
        ("proc_raise", &[Flags]),
        ("sched_yield", &[]),
        ("random_get", &[Buf]),
        ("sock_accept", &[Fd, Flags, Out]),
        ("sock_recv", &[Fd, Iovs, Flags, Out, Out]),
        ("sock_send", &[Fd, Iovs, Flags, Out]),
        ("sock_shutdown", &[Fd, Flags]),
    ]
};

/// Where the paths lie in the guest's memory, and what they are.
const PATHS_AT: u32 = 0x2000;
const PATHS: &[&str] = &[
    "f",
    "d",
    "d/f",
    "d/e",
    ".",
    "..",
    "../x",
    "d/../../x",
    "/etc",
    "l",
    "l/x",
    "",
];

/// Two I/O vectors (buffer, length) into the buffer at [`BUFFER_AT`].
const IOVECS_AT: u32 = 0x3000;
/// A buffer for reads, writes and results.
const BUFFER_AT: u32 = 0x4000;
/// One 64 KiB page.
const MEMORY_BYTES: u32 = 0x1_0000;

/// Checks one case.
pub fn check(data: &[u8]) -> Result<Outcome, Finding> {
    let mut u = Unstructured::new(data);
    let Some(wasm) = module(&mut u) else {
        return Ok(Outcome::Skipped("too few bytes for a module"));
    };
    let root = Scratch::new().map_err(|e| Finding(format!("no scratch directory: {e}")))?;
    let outcome = run(&wasm, &root.sandbox);
    let escaped = root.strays();
    drop(root);
    outcome?;
    match escaped {
        Ok(strays) if strays.is_empty() => Ok(Outcome::Checked),
        Ok(strays) => Err(Finding(format!(
            "the guest created {strays:?} outside its directory"
        ))),
        Err(e) => Err(Finding(format!("cannot list the scratch directory: {e}"))),
    }
}

/// Instantiates `wasm` with WASI (`sandbox` preopened as `.`, as fd 3)
/// and calls its `run`.
fn run(wasm: &[u8], sandbox: &Path) -> Result<(), Finding> {
    let engine = cmc_compiler::engine(cmc::Config::default());
    let module = cmc::Module::new(&engine, wasm)
        .map_err(|e| Finding(format!("the generated module did not compile: {e}")))?;
    let ctx = WasiCtx::builder()
        .preopened_dir(sandbox, ".", DirPerms::ALL, FilePerms::ALL)
        .map_err(|e| Finding(format!("cannot preopen the scratch directory: {e}")))?
        .build();
    let mut store = Store::new(&engine, Guest(ctx));
    let mut linker = cmc::Linker::new();
    cmc_wasi::preview1::add_to_linker(&mut linker);
    let instance = linker
        .instantiate(&mut store, &module)
        .map_err(|e| Finding(format!("the generated module did not link: {e}")))?;
    let run = instance.get_func(&store, "run").expect("exported");
    // Traps (a pointer out of bounds may trap rather than fail with
    // `fault`) and the guest's exit are answers; only panics, which
    // `without_panics` turns into findings, are not.
    let _ = run.call(&mut store, &[], &mut []);
    Ok(())
}

/// The store's data.
struct Guest(WasiCtx);

impl WasiView for Guest {
    fn wasi(&mut self) -> &mut WasiCtx {
        &mut self.0
    }
}

/// A module importing every function of [`FUNCTIONS`] and exporting
/// `run`, which makes up to 32 calls; `None` when the bytes run out.
fn module(u: &mut Unstructured<'_>) -> Option<Vec<u8>> {
    let mut types = TypeSection::new();
    let mut imports = ImportSection::new();
    for (i, (name, args)) in FUNCTIONS.iter().enumerate() {
        let params: Vec<ValType> = args
            .iter()
            .flat_map(|a| a.types().iter().copied())
            .collect();
        types.ty().function(params, [ValType::I32]);
        imports.import(WASI, name, EntityType::Function(i as u32));
    }
    let proc_exit = FUNCTIONS.len() as u32;
    types.ty().function([ValType::I32], []);
    imports.import(WASI, "proc_exit", EntityType::Function(proc_exit));
    let run_type = proc_exit + 1;
    types.ty().function([], []);
    let mut functions = FunctionSection::new();
    functions.function(run_type);
    let mut memories = MemorySection::new();
    memories.memory(MemoryType {
        minimum: 1,
        maximum: Some(1),
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    let mut exports = ExportSection::new();
    exports.export("memory", ExportKind::Memory, 0);
    exports.export("run", ExportKind::Func, run_type);

    let mut body = Function::new([]);
    prologue(&mut body);
    let calls = u.int_in_range(1..=32u32).ok()?;
    for _ in 0..calls {
        let f = u.choose_index(FUNCTIONS.len()).ok()?;
        for &arg in FUNCTIONS[f].1 {
            for value in argument(u, arg).ok()? {
                body.instruction(&value);
            }
        }
        body.instruction(&Instruction::Call(f as u32));
        body.instruction(&Instruction::Drop);
    }
    if u.ratio(1, 10).ok()? {
        body.instruction(&Instruction::I32Const(narrow(u).ok()? as i32));
        body.instruction(&Instruction::Call(proc_exit));
    }
    body.instruction(&Instruction::End);
    let mut code = CodeSection::new();
    code.function(&body);

    let mut data = DataSection::new();
    let noise = u.bytes(u.len().min(256)).ok()?;
    data.active(0, &ConstExpr::i32_const(0), noise.iter().copied());
    let mut at = PATHS_AT;
    for path in PATHS {
        data.active(0, &ConstExpr::i32_const(at as i32), path.bytes());
        at += 32;
    }
    let iovecs = [BUFFER_AT, 16, BUFFER_AT + 16, 256];
    let iovecs: Vec<u8> = iovecs.iter().flat_map(|w| w.to_le_bytes()).collect();
    data.active(0, &ConstExpr::i32_const(IOVECS_AT as i32), iovecs);

    let mut module = Module::new();
    module
        .section(&types)
        .section(&imports)
        .section(&functions)
        .section(&memories)
        .section(&exports)
        .section(&code)
        .section(&data);
    Some(module.finish())
}

/// Calls that give the random ones something to work on: file `f` (fd 4),
/// directory `d` and file `d/f` in it (fd 5), whose errnos are dropped
/// like the others'.
fn prologue(body: &mut Function) {
    let w = |v: u32| Instruction::I32Const(v as i32);
    let path = |i: usize| [w(PATHS_AT + 32 * i as u32), w(PATHS[i].len() as u32)];
    // Every right a file or directory can have.
    let rights = Instruction::I64Const(0x1fff_ffff);
    let mut call = |name: &str, args: &[Instruction<'_>]| {
        let f = FUNCTIONS.iter().position(|(n, _)| *n == name);
        for arg in args {
            body.instruction(arg);
        }
        body.instruction(&Instruction::Call(
            f.expect("a function of the table") as u32
        ));
        body.instruction(&Instruction::Drop);
    };
    let open = |p: usize| {
        let [ptr, len] = path(p);
        // `path_open(3, no lookup flags, p, CREAT, rights, rights, no fd
        // flags, the new descriptor's place)`.
        [
            w(3),
            w(0),
            ptr,
            len,
            w(1),
            rights.clone(),
            rights.clone(),
            w(0),
            w(BUFFER_AT),
        ]
    };
    let (file, dir, nested) = (0, 1, 2);
    call("path_open", &open(file));
    let [ptr, len] = path(dir);
    call("path_create_directory", &[w(3), ptr, len]);
    call("path_open", &open(nested));
}

/// The values of an argument of kind `arg`: mostly one that makes the
/// call do something (the preopen, a path of [`PATHS`] with its length,
/// room for results), else an edge or anything.
fn argument(u: &mut Unstructured<'_>, arg: Arg) -> arbitrary::Result<Vec<Instruction<'static>>> {
    let likely = u.ratio(6, 7)?;
    let w = |v: u32| Instruction::I32Const(v as i32);
    Ok(match arg {
        Arg::Fd if likely => vec![w(*u.choose(&[3, 3, 3, 4, 5, 0, 1, 2])?)],
        Arg::Path if likely => {
            let i = u.choose_index(PATHS.len())?;
            vec![w(PATHS_AT + 32 * i as u32), w(PATHS[i].len() as u32)]
        }
        Arg::Out if likely => vec![w(BUFFER_AT + 8 * u.int_in_range(0..=8)?)],
        Arg::Iovs if likely => vec![w(IOVECS_AT), w(u.int_in_range(1..=2)?)],
        Arg::Buf if likely => vec![w(BUFFER_AT), w(u.int_in_range(0..=300)?)],
        // No flag, or one.
        Arg::Flags if likely => vec![w(*u.choose(&[0, 0, 0, 1, 2, 4, 8, 16])?)],
        // Create, create and truncate, a directory, or none.
        Arg::Open if likely => vec![w(*u.choose(&[1, 1, 9, 2, 0])?)],
        Arg::Rights if likely => vec![Instruction::I64Const(*u.choose(&[-1, 0, 0x3f])?)],
        Arg::Wide => vec![Instruction::I64Const(wide(u)?)],
        Arg::Rights => vec![Instruction::I64Const(u.arbitrary()?)],
        Arg::Path | Arg::Iovs | Arg::Buf => vec![w(narrow(u)?), w(narrow(u)?)],
        Arg::Fd | Arg::Out | Arg::Flags | Arg::Open => vec![w(narrow(u)?)],
    })
}

/// An `i32` argument: a descriptor, a place of memory, a length or
/// anything.
fn narrow(u: &mut Unstructured<'_>) -> arbitrary::Result<u32> {
    Ok(match u.int_in_range(0..=5u8)? {
        0 => u.int_in_range(0..=8)?,
        1 => *u.choose(&[IOVECS_AT, BUFFER_AT, MEMORY_BYTES - 4, MEMORY_BYTES])?,
        2 => *u.choose(&[1, 2, 0x100, 0x1000, 0xffff])?,
        3 => 1 << u.int_in_range(0..=31)?,
        _ => u.arbitrary()?,
    })
}

/// An `i64` argument: an offset, a size or a time.
fn wide(u: &mut Unstructured<'_>) -> arbitrary::Result<i64> {
    Ok(match u.int_in_range(0..=3u8)? {
        0 => 0,
        1 => u.int_in_range(0..=0x1_0000)?,
        2 => -1,
        _ => u.arbitrary()?,
    })
}

/// A fresh directory holding the guest's one, `sandbox`, and removed
/// with everything in it when dropped.
struct Scratch {
    root: PathBuf,
    sandbox: PathBuf,
}

impl Scratch {
    fn new() -> std::io::Result<Scratch> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let root = std::env::temp_dir().join(format!("cmc-fuzz-wasi-{}-{n}", std::process::id()));
        let sandbox = root.join("sandbox");
        // What an earlier process of the same id may have left goes.
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&sandbox)?;
        Ok(Scratch { root, sandbox })
    }

    /// The entries beside `sandbox`.
    fn strays(&self) -> std::io::Result<Vec<String>> {
        let mut strays = Vec::new();
        for entry in std::fs::read_dir(&self.root)? {
            let name = entry?.file_name().to_string_lossy().into_owned();
            if name != "sandbox" {
                strays.push(name);
            }
        }
        Ok(strays)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
