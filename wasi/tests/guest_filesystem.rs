//! `wasi:filesystem` through the canonical ABI: a compiled guest
//! (`guests/filesystem.wat`) opens, writes, reads, lists and hashes files
//! of a preopened directory, so every value the host returns is lowered
//! against the interface's own types.

use cmc_runtime::component::{Component, Instance, Linker, Val};
use cmc_runtime::{Config, Store};
use cmc_wasi::{DirPerms, FilePerms, WasiCtx};
use std::path::PathBuf;

/// A fresh directory for the guest, removed afterwards.
struct Sandbox(PathBuf);

impl Sandbox {
    fn new(name: &str) -> Sandbox {
        let path =
            std::env::temp_dir().join(format!("cmc-wasi-fs-guest-{name}-{}", std::process::id()));
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

fn guest(dir: &Sandbox) -> (Store<WasiCtx>, Instance) {
    let engine = cmc_compiler::engine(Config::default());
    let component =
        Component::new(&engine, include_str!("guests/filesystem.wat")).expect("the guest compiles");
    let mut linker = Linker::new();
    cmc_wasi::add_to_linker(&mut linker);
    let ctx = WasiCtx::builder()
        .preopened_dir(&dir.0, "/sandbox", DirPerms::ALL, FilePerms::ALL)
        .unwrap()
        .build();
    let mut store = Store::new(&engine, ctx);
    let instance = linker
        .instantiate(&mut store, &component)
        .expect("it links");
    (store, instance)
}

fn call(store: &mut Store<WasiCtx>, instance: &Instance, name: &str) -> Val {
    let func = instance.get_func(&*store, &[name]).expect("the export");
    let mut results = [Val::Bool(false)];
    func.call(&mut *store, &[], &mut results)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let [result] = results;
    result
}

#[test]
fn a_guest_writes_reads_stats_lists_and_hashes_a_file() {
    let dir = Sandbox::new("rw");
    let (mut store, instance) = guest(&dir);
    let read = call(&mut store, &instance, "write-read");
    assert_eq!(
        read,
        Val::List(b"hello".iter().map(|&b| Val::U8(b)).collect())
    );
    assert_eq!(std::fs::read(dir.0.join("f.txt")).unwrap(), b"hello");
    // `regular-file` is case 6; the modification time is given.
    assert_eq!(
        call(&mut store, &instance, "stat"),
        Val::U64(6 << 32 | 1 << 24 | 5)
    );
    // `read | write`.
    assert_eq!(call(&mut store, &instance, "flags"), Val::U32(0b11));
    assert_eq!(
        call(&mut store, &instance, "first-entry"),
        Val::String("f.txt".into())
    );
    assert_eq!(call(&mut store, &instance, "hash-same"), Val::U32(1));
}

#[test]
fn a_guest_cannot_open_a_path_outside_its_preopen() {
    let dir = Sandbox::new("escape");
    let (mut store, instance) = guest(&dir);
    // `err`, `not-permitted` (case 31).
    assert_eq!(call(&mut store, &instance, "escape"), Val::U32(1 << 8 | 31));
}
