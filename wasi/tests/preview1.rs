//! `wasi_snapshot_preview1` against a core module that calls each function
//! with the arguments a test gives it: good calls do what the witx says,
//! bad pointers trap with the function's name, huge lengths cost the host
//! nothing, bad arguments are the errnos wasmtime gives, and imports the
//! host does not have (or with another signature) fail to link with their
//! names.

use cmc_runtime::{Config, Error, Extern, Instance, Linker, Module, Store, Val};
use cmc_wasi::preview1::{self, Errno};
use cmc_wasi::{
    DirPerms, FilePerms, I32Exit, MemoryOutputPipe, OutputSink, StdinSource, WasiCtx,
    WasiCtxBuilder,
};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Every function of `wasi_snapshot_preview1.witx` with its core
/// signature (pointers and 32-bit values as `i32`, 64-bit ones as `i64`,
/// results through pointers, the errno as the result). The guest imports
/// them all and re-exports each as a function calling the import with its
/// own parameters.
const FUNCS: &[(&str, &str)] = &[
    ("args_get", "(param i32 i32) (result i32)"),
    ("args_sizes_get", "(param i32 i32) (result i32)"),
    ("environ_get", "(param i32 i32) (result i32)"),
    ("environ_sizes_get", "(param i32 i32) (result i32)"),
    ("clock_res_get", "(param i32 i32) (result i32)"),
    ("clock_time_get", "(param i32 i64 i32) (result i32)"),
    ("fd_advise", "(param i32 i64 i64 i32) (result i32)"),
    ("fd_allocate", "(param i32 i64 i64) (result i32)"),
    ("fd_close", "(param i32) (result i32)"),
    ("fd_datasync", "(param i32) (result i32)"),
    ("fd_fdstat_get", "(param i32 i32) (result i32)"),
    ("fd_fdstat_set_flags", "(param i32 i32) (result i32)"),
    ("fd_fdstat_set_rights", "(param i32 i64 i64) (result i32)"),
    ("fd_filestat_get", "(param i32 i32) (result i32)"),
    ("fd_filestat_set_size", "(param i32 i64) (result i32)"),
    (
        "fd_filestat_set_times",
        "(param i32 i64 i64 i32) (result i32)",
    ),
    ("fd_pread", "(param i32 i32 i32 i64 i32) (result i32)"),
    ("fd_prestat_get", "(param i32 i32) (result i32)"),
    ("fd_prestat_dir_name", "(param i32 i32 i32) (result i32)"),
    ("fd_pwrite", "(param i32 i32 i32 i64 i32) (result i32)"),
    ("fd_read", "(param i32 i32 i32 i32) (result i32)"),
    ("fd_readdir", "(param i32 i32 i32 i64 i32) (result i32)"),
    ("fd_renumber", "(param i32 i32) (result i32)"),
    ("fd_seek", "(param i32 i64 i32 i32) (result i32)"),
    ("fd_sync", "(param i32) (result i32)"),
    ("fd_tell", "(param i32 i32) (result i32)"),
    ("fd_write", "(param i32 i32 i32 i32) (result i32)"),
    ("path_create_directory", "(param i32 i32 i32) (result i32)"),
    (
        "path_filestat_get",
        "(param i32 i32 i32 i32 i32) (result i32)",
    ),
    (
        "path_filestat_set_times",
        "(param i32 i32 i32 i32 i64 i64 i32) (result i32)",
    ),
    (
        "path_link",
        "(param i32 i32 i32 i32 i32 i32 i32) (result i32)",
    ),
    (
        "path_open",
        "(param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)",
    ),
    (
        "path_readlink",
        "(param i32 i32 i32 i32 i32 i32) (result i32)",
    ),
    ("path_remove_directory", "(param i32 i32 i32) (result i32)"),
    (
        "path_rename",
        "(param i32 i32 i32 i32 i32 i32) (result i32)",
    ),
    ("path_symlink", "(param i32 i32 i32 i32 i32) (result i32)"),
    ("path_unlink_file", "(param i32 i32 i32) (result i32)"),
    ("poll_oneoff", "(param i32 i32 i32 i32) (result i32)"),
    ("proc_exit", "(param i32)"),
    ("proc_raise", "(param i32) (result i32)"),
    ("sched_yield", "(result i32)"),
    ("random_get", "(param i32 i32) (result i32)"),
    ("sock_accept", "(param i32 i32 i32) (result i32)"),
    ("sock_recv", "(param i32 i32 i32 i32 i32 i32) (result i32)"),
    ("sock_send", "(param i32 i32 i32 i32 i32) (result i32)"),
    ("sock_shutdown", "(param i32 i32) (result i32)"),
];

/// The guest: one page of memory and a wrapper of each of [`FUNCS`].
fn guest_wat() -> String {
    let mut wat = String::from("(module\n");
    for (name, sig) in FUNCS {
        wat += &format!("  (import \"wasi_snapshot_preview1\" \"{name}\" (func ${name} {sig}))\n");
    }
    wat += "  (memory (export \"memory\") 1)\n";
    for (name, sig) in FUNCS {
        let params = sig.matches("i32").count() + sig.matches("i64").count()
            - usize::from(sig.contains("result"));
        let gets: String = (0..params).map(|i| format!("local.get {i} ")).collect();
        wat += &format!("  (func (export \"{name}\") {sig} {gets}call ${name})\n");
    }
    wat + ")"
}

struct Guest {
    store: Store<WasiCtx>,
    instance: Instance,
}

impl Guest {
    fn new(ctx: &mut WasiCtxBuilder) -> Guest {
        let engine = cmc_compiler::engine(Config::default());
        let module = Module::new(&engine, guest_wat()).expect("the guest compiles");
        let mut linker = Linker::new();
        preview1::add_to_linker(&mut linker);
        let mut store = Store::new(&engine, ctx.build());
        let instance = linker.instantiate(&mut store, &module).expect("it links");
        Guest { store, instance }
    }

    /// Calls `name`, returning its errno.
    fn call(&mut self, name: &str, args: &[Val]) -> Result<Errno, Error> {
        let func = self.instance.get_func(&self.store, name).expect("export");
        let mut result = [Val::I32(0)];
        func.call(&mut self.store, args, &mut result)?;
        let Val::I32(errno) = result[0] else {
            panic!("{name} returned {:?}", result[0])
        };
        Ok(errno_of(errno))
    }

    /// Calls `proc_exit`, which returns nothing: how it ended.
    fn exit(&mut self, status: i32) -> Error {
        let func = self.instance.get_func(&self.store, "proc_exit").unwrap();
        func.call(&mut self.store, &[Val::I32(status)], &mut [])
            .expect_err("proc_exit returned")
    }

    /// Calls `name`, expecting success.
    fn ok(&mut self, name: &str, args: &[Val]) {
        assert_eq!(self.call(name, args).unwrap(), Errno::Success, "{name}");
    }

    /// Calls `name`, expecting a trap, and returns its message.
    fn traps(&mut self, name: &str, args: &[Val]) -> String {
        let err = self.call(name, args).unwrap_err().to_string();
        assert!(
            err.contains(&format!("wasi_snapshot_preview1::{name}")),
            "{err}"
        );
        err
    }

    fn mem(&mut self) -> &mut [u8] {
        let memory = self
            .instance
            .get_export(&self.store, "memory")
            .and_then(Extern::into_memory)
            .unwrap();
        memory.data_mut(&mut self.store)
    }

    fn put(&mut self, at: usize, bytes: &[u8]) {
        self.mem()[at..at + bytes.len()].copy_from_slice(bytes);
    }

    fn put_u32s(&mut self, at: usize, values: &[u32]) {
        for (i, v) in values.iter().enumerate() {
            self.put(at + 4 * i, &v.to_le_bytes());
        }
    }

    fn u32_at(&mut self, at: usize) -> u32 {
        u32::from_le_bytes(self.mem()[at..at + 4].try_into().unwrap())
    }

    fn u64_at(&mut self, at: usize) -> u64 {
        u64::from_le_bytes(self.mem()[at..at + 8].try_into().unwrap())
    }
}

fn errno_of(raw: i32) -> Errno {
    u16::try_from(raw)
        .ok()
        .and_then(Errno::from_raw)
        .unwrap_or_else(|| panic!("errno {raw} is not in the witx"))
}

fn i32s(values: &[i32]) -> Vec<Val> {
    values.iter().map(|&v| Val::I32(v)).collect()
}

/// A fresh directory, removed afterwards.
struct Sandbox(PathBuf);

impl Sandbox {
    fn new(name: &str) -> Sandbox {
        let path = std::env::temp_dir().join(format!("cmc-wasi-p1-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Sandbox(path)
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn every_witx_function_links_with_its_core_signature() {
    assert_eq!(FUNCS.len(), 46);
    let mut g = Guest::new(&mut WasiCtx::builder());
    g.ok("sched_yield", &[]);
    assert_eq!(g.call("proc_raise", &i32s(&[15])).unwrap(), Errno::Notsup);
    assert_eq!(
        g.call("fd_allocate", &[Val::I32(1), Val::I64(0), Val::I64(1)])
            .unwrap(),
        Errno::Badf
    );
}

#[test]
fn writes_reach_stdout_and_stdin_is_read_to_its_end() {
    let out = MemoryOutputPipe::new();
    let mut g = Guest::new(
        WasiCtx::builder()
            .stdin(StdinSource::Bytes(Arc::from(&b"abc"[..])))
            .stdout(OutputSink::Pipe(out.clone())),
    );
    g.put(100, b"hello\n");
    // An empty buffer first: the first non-empty one is written.
    g.put_u32s(0, &[100, 0, 100, 6]);
    g.ok("fd_write", &i32s(&[1, 0, 2, 40]));
    assert_eq!(g.u32_at(40), 6);
    assert_eq!(out.contents(), b"hello\n");
    // Only empty buffers: nothing written, nothing asked of the stream.
    g.ok("fd_write", &i32s(&[1, 0, 1, 40]));
    assert_eq!(g.u32_at(40), 0);
    g.put_u32s(0, &[200, 10]);
    g.ok("fd_read", &i32s(&[0, 0, 1, 40]));
    assert_eq!(g.u32_at(40), 3);
    assert_eq!(&g.mem()[200..203], b"abc");
    g.ok("fd_read", &i32s(&[0, 0, 1, 40]));
    assert_eq!(g.u32_at(40), 0);
}

#[test]
fn arguments_are_nul_terminated_behind_their_pointers() {
    let mut g = Guest::new(WasiCtx::builder().args(["prog", "a b"]));
    g.ok("args_sizes_get", &i32s(&[0, 4]));
    assert_eq!((g.u32_at(0), g.u32_at(4)), (2, 9));
    g.ok("args_get", &i32s(&[16, 64]));
    assert_eq!((g.u32_at(16), g.u32_at(20)), (64, 69));
    assert_eq!(&g.mem()[64..73], b"prog\0a b\0");
}

#[test]
fn bad_pointers_trap_with_the_function_name() {
    let mut g = Guest::new(&mut WasiCtx::builder());
    // The iovec array beyond the memory's end.
    assert!(
        g.traps("fd_write", &i32s(&[1, 65536, 1, 0]))
            .contains("out of bounds")
    );
    // A buffer that runs past the end.
    g.put_u32s(0, &[65530, 16]);
    assert!(
        g.traps("fd_write", &i32s(&[1, 0, 1, 8]))
            .contains("out of bounds")
    );
    // A misaligned result pointer.
    g.put_u32s(0, &[100, 1]);
    assert!(
        g.traps("fd_write", &i32s(&[1, 0, 1, 9]))
            .contains("not aligned")
    );
    assert!(
        g.traps("args_sizes_get", &i32s(&[65534, 0]))
            .contains("out of bounds")
    );
    assert!(
        g.traps(
            "clock_time_get",
            &[Val::I32(1), Val::I64(0), Val::I32(65532)]
        )
        .contains("out of bounds")
    );
    // The host is intact: a good call still works.
    g.ok("fd_write", &i32s(&[1, 0, 1, 8]));
}

#[test]
fn huge_lengths_cost_the_host_nothing() {
    let mut g =
        Guest::new(WasiCtx::builder().stdin(StdinSource::Bytes(Arc::from(vec![7; 200_000]))));
    // A buffer of 4 GiB is checked against the memory, not allocated.
    g.put_u32s(0, &[0, u32::MAX]);
    assert!(
        g.traps("fd_write", &i32s(&[1, 0, 1, 8]))
            .contains("out of bounds")
    );
    assert!(
        g.traps("fd_read", &i32s(&[0, 0, 1, 8]))
            .contains("out of bounds")
    );
    // A read as large as the memory returns what the stream gives.
    g.put_u32s(0, &[0, 65536]);
    g.ok("fd_read", &i32s(&[0, 0, 1, 8]));
    assert!(g.u32_at(8) > 0);
    // An array of 4 G iovecs is read only up to its first non-empty one.
    g.put_u32s(0, &[100, 1]);
    g.ok("fd_write", &i32s(&[1, 0, -1, 8]));
    assert_eq!(g.u32_at(8), 1);
    // Random bytes past the 0.2 limit trap before anything is touched.
    assert!(
        g.traps("random_get", &i32s(&[0, -1]))
            .contains("bytes requested")
    );
    g.ok("random_get", &i32s(&[0, 65536]));
    // Too many subscriptions to copy: `nomem`, as wasmtime's fuel says.
    assert_eq!(
        g.call("poll_oneoff", &i32s(&[0, 0, 0x0100_0000, 0]))
            .unwrap(),
        Errno::Nomem
    );
}

#[test]
fn bad_arguments_are_the_errnos_wasmtime_gives() {
    let mut g = Guest::new(&mut WasiCtx::builder());
    let seek = |fd, whence| [Val::I32(fd), Val::I64(0), Val::I32(whence), Val::I32(0)];
    g.put_u32s(0, &[100, 1]);
    assert_eq!(
        g.call("fd_write", &i32s(&[99, 0, 1, 8])).unwrap(),
        Errno::Badf
    );
    assert_eq!(g.call("fd_seek", &seek(1, 3)).unwrap(), Errno::Inval);
    assert_eq!(g.call("fd_seek", &seek(1, 256)).unwrap(), Errno::Overflow);
    assert_eq!(g.call("fd_seek", &seek(1, 0)).unwrap(), Errno::Spipe);
    assert_eq!(g.call("fd_seek", &seek(42, 0)).unwrap(), Errno::Badf);
    let clock = |id| [Val::I32(id), Val::I64(0), Val::I32(0)];
    assert_eq!(g.call("clock_time_get", &clock(2)).unwrap(), Errno::Badf);
    assert_eq!(g.call("clock_time_get", &clock(4)).unwrap(), Errno::Inval);
    assert_eq!(
        g.call("poll_oneoff", &i32s(&[0, 64, 0, 8])).unwrap(),
        Errno::Inval
    );
    assert_eq!(
        g.call("sock_shutdown", &i32s(&[1, 1])).unwrap(),
        Errno::Notsock
    );
    assert_eq!(
        g.call("sock_shutdown", &i32s(&[9, 1])).unwrap(),
        Errno::Badf
    );
    assert_eq!(
        g.call("sock_shutdown", &i32s(&[1, 4])).unwrap(),
        Errno::Inval
    );
    let open = |oflags: i32, rights: i64| {
        [
            Val::I32(3),
            Val::I32(0),
            Val::I32(100),
            Val::I32(1),
            Val::I32(oflags),
            Val::I64(rights),
            Val::I64(0),
            Val::I32(0),
            Val::I32(8),
        ]
    };
    assert_eq!(g.call("path_open", &open(0x10, 0)).unwrap(), Errno::Inval);
    assert_eq!(g.call("path_open", &open(0, -1)).unwrap(), Errno::Overflow);
    assert_eq!(g.call("path_open", &open(0, 0)).unwrap(), Errno::Badf);
}

/// The error of linking the module `wat` against preview1.
fn link_error(wat: &str) -> String {
    let engine = cmc_compiler::engine(Config::default());
    let module = Module::new(&engine, wat).unwrap();
    let mut linker = Linker::new();
    preview1::add_to_linker(&mut linker);
    let mut store = Store::new(&engine, WasiCtx::builder().build());
    linker
        .instantiate(&mut store, &module)
        .unwrap_err()
        .to_string()
}

#[test]
fn an_unknown_function_fails_to_link_with_its_name() {
    assert_eq!(
        link_error(
            r#"(module (import "wasi_snapshot_preview1" "fd_frobnicate" (func (param i32) (result i32))))"#
        ),
        "unknown import: `wasi_snapshot_preview1::fd_frobnicate` has not been defined"
    );
}

#[test]
fn a_wrong_signature_fails_to_link_with_its_name() {
    assert_eq!(
        link_error(
            r#"(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i64) (result i32))))"#
        ),
        "incompatible import type for `wasi_snapshot_preview1::fd_write`: expected a function \
         of type (func (param i32 i64) (result i32)), found a function of type \
         (func (param i32 i32 i32 i32) (result i32))"
    );
}

#[test]
fn proc_exit_ends_the_call_with_its_status() {
    let mut g = Guest::new(&mut WasiCtx::builder());
    let err = g.exit(7);
    assert_eq!(I32Exit::of(&err), Some(I32Exit(7)));
    // Statuses the shell reserves are refused, as in wasmtime.
    let err = g.exit(126);
    assert_eq!(I32Exit::of(&err), None);
    assert!(err.to_string().contains("proc_exit"), "{err}");
}

/// The `(d_next, name)` of each entry `fd_readdir` wrote at `at`.
fn dirents(g: &mut Guest, at: usize, used: usize) -> Vec<(u64, String)> {
    let mut entries = Vec::new();
    let mut p = at;
    while p + 24 <= at + used {
        let next = g.u64_at(p);
        let len = g.u32_at(p + 16) as usize;
        let name = String::from_utf8_lossy(&g.mem()[p + 24..p + 24 + len]).into_owned();
        entries.push((next, name));
        p += 24 + len;
    }
    entries
}

#[test]
fn a_preopen_is_named_and_lists_dots_first_with_cookies() {
    let dir = Sandbox::new("readdir");
    std::fs::write(dir.0.join("a"), b"").unwrap();
    std::fs::write(dir.0.join("b"), b"").unwrap();
    let mut g = Guest::new(
        WasiCtx::builder()
            .preopened_dir(&dir.0, "/sandbox", DirPerms::ALL, FilePerms::ALL)
            .unwrap(),
    );
    g.ok("fd_prestat_get", &i32s(&[3, 0]));
    assert_eq!((g.mem()[0], g.u32_at(4)), (0, 8));
    assert_eq!(
        g.call("fd_prestat_dir_name", &i32s(&[3, 16, 7])).unwrap(),
        Errno::Nametoolong
    );
    g.ok("fd_prestat_dir_name", &i32s(&[3, 16, 8]));
    assert_eq!(&g.mem()[16..24], b"/sandbox");
    assert_eq!(
        g.call("fd_prestat_get", &i32s(&[4, 0])).unwrap(),
        Errno::Badf
    );

    let readdir = |cookie: i64, len: i32| {
        [
            Val::I32(3),
            Val::I32(1024),
            Val::I32(len),
            Val::I64(cookie),
            Val::I32(0),
        ]
    };
    g.ok("fd_readdir", &readdir(0, 4096));
    let used_all = g.u32_at(0) as usize;
    let all = dirents(&mut g, 1024, used_all);
    let names: Vec<&str> = all.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(&names[..2], [".", ".."]);
    let mut files = names[2..].to_vec();
    files.sort_unstable();
    assert_eq!(files, ["a", "b"]);
    assert_eq!(
        all.iter().map(|(next, _)| *next).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    // From cookie 2 on: the two files, in the same order.
    g.ok("fd_readdir", &readdir(2, 4096));
    let used = g.u32_at(0) as usize;
    assert_eq!(dirents(&mut g, 1024, used), all[2..]);
    // Past the end: nothing.
    g.ok("fd_readdir", &readdir(4, 4096));
    assert_eq!(g.u32_at(0), 0);
    // A buffer too small for everything is filled to its last byte.
    g.ok("fd_readdir", &readdir(0, 30));
    assert_eq!(g.u32_at(0), 30);
    // A buffer as large as can be is only written as far as needed...
    g.ok("fd_readdir", &readdir(0, -1));
    assert_eq!(g.u32_at(0) as usize, used_all);
    // ... and traps where that is beyond the memory.
    let near_end = [
        Val::I32(3),
        Val::I32(65500),
        Val::I32(-1),
        Val::I64(0),
        Val::I32(0),
    ];
    assert!(g.traps("fd_readdir", &near_end).contains("out of bounds"));
}

#[test]
fn a_file_opened_beneath_a_preopen_is_written_sought_and_read() {
    let dir = Sandbox::new("file");
    let mut g = Guest::new(
        WasiCtx::builder()
            .preopened_dir(&dir.0, "/", DirPerms::ALL, FilePerms::ALL)
            .unwrap(),
    );
    g.put(100, b"f");
    // `creat`, rights `fd_read | fd_seek | fd_write`.
    let rights = (1 << 1) | (1 << 2) | (1 << 6);
    let open = [
        Val::I32(3),
        Val::I32(0),
        Val::I32(100),
        Val::I32(1),
        Val::I32(1),
        Val::I64(rights),
        Val::I64(0),
        Val::I32(0),
        Val::I32(8),
    ];
    g.ok("path_open", &open);
    let fd = g.u32_at(8) as i32;
    assert_eq!(fd, 4);
    g.put(200, b"xyz");
    g.put_u32s(16, &[200, 3]);
    g.ok("fd_write", &i32s(&[fd, 16, 1, 32]));
    assert_eq!(std::fs::read(dir.0.join("f")).unwrap(), b"xyz");
    g.ok(
        "fd_seek",
        &[Val::I32(fd), Val::I64(1), Val::I32(0), Val::I32(40)],
    );
    assert_eq!(g.u64_at(40), 1);
    g.put_u32s(16, &[300, 10]);
    g.ok("fd_read", &i32s(&[fd, 16, 1, 32]));
    assert_eq!((g.u32_at(32), &g.mem()[300..302]), (2, &b"yz"[..]));
    // A file is no directory to open beneath.
    assert_eq!(
        g.call("path_open", &{
            let mut o = open;
            o[0] = Val::I32(fd);
            o
        })
        .unwrap(),
        Errno::Notdir
    );
    g.ok("fd_close", &i32s(&[fd]));
    assert_eq!(g.call("fd_close", &i32s(&[fd])).unwrap(), Errno::Badf);
    // Escaping the sandbox is refused.
    g.put(100, b"../x");
    let mut escape = open;
    escape[3] = Val::I32(4);
    assert_eq!(g.call("path_open", &escape).unwrap(), Errno::Perm);
}

/// A `subscription` at `at`: a relative monotonic clock of `ns`, or an
/// `fd_write` of `fd`.
fn subscribe_clock(g: &mut Guest, at: usize, userdata: u64, ns: u64) {
    g.put(at, &[0; 48]);
    g.put(at, &userdata.to_le_bytes());
    g.put(at + 16, &1u32.to_le_bytes());
    g.put(at + 24, &ns.to_le_bytes());
}

fn subscribe_write(g: &mut Guest, at: usize, userdata: u64, fd: u32) {
    g.put(at, &[0; 48]);
    g.put(at, &userdata.to_le_bytes());
    g.put(at + 8, &[2]);
    g.put(at + 16, &fd.to_le_bytes());
}

#[test]
fn poll_waits_for_the_first_ready_subscription() {
    let mut g = Guest::new(&mut WasiCtx::builder());
    subscribe_clock(&mut g, 0, 7, 20_000_000);
    let started = Instant::now();
    g.ok("poll_oneoff", &i32s(&[0, 1024, 1, 2048]));
    assert!(started.elapsed() >= Duration::from_millis(20));
    assert_eq!(g.u32_at(2048), 1);
    assert_eq!((g.u64_at(1024), g.mem()[1024 + 10]), (7, 0));
    // A long sleep beside a writable stdout: only stdout, at once.
    subscribe_clock(&mut g, 0, 1, 60_000_000_000);
    subscribe_write(&mut g, 48, 2, 1);
    let started = Instant::now();
    g.ok("poll_oneoff", &i32s(&[0, 1024, 2, 2048]));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(g.u32_at(2048), 1);
    assert_eq!((g.u64_at(1024), g.mem()[1024 + 10]), (2, 2));
    // A descriptor that is none fails the call.
    subscribe_write(&mut g, 48, 2, 99);
    assert_eq!(
        g.call("poll_oneoff", &i32s(&[0, 1024, 2, 2048])).unwrap(),
        Errno::Badf
    );
}

#[test]
fn stdio_reports_its_rights() {
    let mut g = Guest::new(&mut WasiCtx::builder());
    g.ok("fd_fdstat_get", &i32s(&[1, 8]));
    // Not a terminal: `unknown`, with `fd_write` only.
    assert_eq!(g.mem()[8], 0);
    assert_eq!(g.u64_at(16), 1 << 6);
    assert!(
        g.traps("fd_fdstat_get", &i32s(&[0, 4]))
            .contains("not aligned")
    );
}
