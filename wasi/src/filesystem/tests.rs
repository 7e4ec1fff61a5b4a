//! The interface's behaviour on a real directory, calling the host
//! functions as the linker would, with the values a guest would pass.

use super::*;
use crate::ctx::{DirPerms, FilePerms};
use crate::io::streams::{DynInputStream, DynOutputStream, StreamError};
use crate::table::Rep;
use crate::val;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A directory of its own for each test, removed afterwards.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("cmc-wasi-fs-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn wasi(preopens: &[(&Path, DirPerms, FilePerms)]) -> WasiCtx {
    let mut b = WasiCtx::builder();
    for (i, (path, d, f)) in preopens.iter().enumerate() {
        b.preopened_dir(path, format!("/p{i}"), *d, *f).unwrap();
    }
    b.build()
}

/// The descriptors of the preopens, in order.
fn preopens(ctx: &mut WasiCtx) -> Vec<Rep> {
    let Val::List(list) = get_directories(ctx, Args::new(&[])).unwrap() else {
        panic!("not a list")
    };
    list.iter()
        .map(|t| val::rep(&val::tuple(t).unwrap()[0]).unwrap())
        .collect()
}

fn h(rep: Rep) -> Val {
    own(rep)
}

fn s(text: &str) -> Val {
    Val::String(text.into())
}

fn fl(set: &[&str]) -> Val {
    Val::Flags(set.iter().map(|l| l.to_string()).collect())
}

type Op<P> = fn(&mut WasiCtx, Args<'_>) -> FsResult<P>;

/// Calls `op`, expecting `ok`, and returns its payload.
fn ok<P: Payload>(ctx: &mut WasiCtx, op: Op<P>, args: &[Val]) -> Option<Val> {
    match reply(op(ctx, Args::new(args))).unwrap() {
        Val::Result(Ok(v)) => v.map(|v| *v),
        other => panic!("expected ok, got {other:?}"),
    }
}

/// Calls `op`, expecting `err`, and returns its error code.
fn fails<P: Payload>(ctx: &mut WasiCtx, op: Op<P>, args: &[Val]) -> String {
    match reply(op(ctx, Args::new(args))).unwrap() {
        Val::Result(Err(Some(code))) => match *code {
            Val::Enum(label) => label,
            other => panic!("not an error code: {other:?}"),
        },
        other => panic!("expected err, got {other:?}"),
    }
}

fn open(ctx: &mut WasiCtx, dir: Rep, path: &str, open: &[&str], flags: &[&str]) -> Rep {
    let args = [h(dir), fl(&[]), s(path), fl(open), fl(flags)];
    val::rep(&ok(ctx, dir::open_at, &args).unwrap()).unwrap()
}

fn open_fails(ctx: &mut WasiCtx, dir: Rep, path: &str, open: &[&str], flags: &[&str]) -> String {
    fails(
        ctx,
        dir::open_at,
        &[h(dir), fl(&[]), s(path), fl(open), fl(flags)],
    )
}

fn field<'v>(v: &'v Val, name: &str) -> &'v Val {
    val::field(v, name).unwrap()
}

#[test]
fn files_are_created_written_and_read_at_offsets() {
    let tmp = TempDir::new();
    let mut ctx = wasi(&[(tmp.path(), DirPerms::ALL, FilePerms::ALL)]);
    let Val::List(list) = get_directories(&mut ctx, Args::new(&[])).unwrap() else {
        panic!()
    };
    assert_eq!(val::tuple(&list[0]).unwrap()[1], s("/p0"));
    let root = preopens(&mut ctx)[0];
    let f = open(&mut ctx, root, "f.txt", &["create"], &["read", "write"]);
    let n = ok(
        &mut ctx,
        file::write,
        &[h(f), val::bytes(b"hello".to_vec()), Val::U64(3)],
    );
    assert_eq!(n, Some(Val::U64(5)));
    let got = ok(&mut ctx, file::read, &[h(f), Val::U64(100), Val::U64(0)]).unwrap();
    assert_eq!(
        got,
        Val::Tuple(vec![val::bytes(b"\0\0\0hello".to_vec()), Val::Bool(false)])
    );
    let end = ok(
        &mut ctx,
        file::read,
        &[h(f), Val::U64(u64::MAX), Val::U64(8)],
    )
    .unwrap();
    assert_eq!(
        end,
        Val::Tuple(vec![val::bytes(b"".to_vec()), Val::Bool(true)])
    );
    let stat = ok(&mut ctx, stat::stat, &[h(f)]).unwrap();
    assert_eq!(field(&stat, "size"), &Val::U64(8));
    assert_eq!(field(&stat, "type"), &enum_val("regular-file"));
    assert!(matches!(
        field(&stat, "data-modification-timestamp"),
        Val::Option(Some(_))
    ));
    let flags = ok(&mut ctx, file::get_flags, &[h(f)]).unwrap();
    assert_eq!(flags, fl(&["read", "write"]));
    let root_flags = ok(&mut ctx, file::get_flags, &[h(root)]).unwrap();
    assert_eq!(root_flags, fl(&["read", "mutate-directory"]));
    ok(&mut ctx, file::set_size, &[h(f), Val::U64(2)]);
    assert_eq!(std::fs::read(tmp.path().join("f.txt")).unwrap(), b"\0\0");
    assert_eq!(
        ok(&mut ctx, stat::get_type, &[h(root)]),
        Some(enum_val("directory"))
    );
}

#[test]
fn paths_never_lead_outside_the_preopen() {
    let tmp = TempDir::new();
    let inner = tmp.path().join("inner");
    std::fs::create_dir(&inner).unwrap();
    std::fs::write(tmp.path().join("secret"), b"no").unwrap();
    std::os::unix::fs::symlink("../secret", inner.join("up")).unwrap();
    std::os::unix::fs::symlink("/etc", inner.join("abs")).unwrap();
    let mut ctx = wasi(&[(&inner, DirPerms::ALL, FilePerms::ALL)]);
    let root = preopens(&mut ctx)[0];
    // (path, code without symlink-follow, code with it)
    let cases = [
        ("../secret", "not-permitted", "not-permitted"),
        ("/etc/passwd", "not-permitted", "not-permitted"),
        ("up", "loop", "not-permitted"),
        ("abs/passwd", "not-permitted", "not-permitted"),
        ("sub/../../secret", "no-entry", "no-entry"),
    ];
    for (path, nofollow, follow) in cases {
        assert_eq!(
            open_fails(&mut ctx, root, path, &[], &["read"]),
            nofollow,
            "{path}"
        );
        let args = [
            h(root),
            fl(&["symlink-follow"]),
            s(path),
            fl(&[]),
            fl(&["read"]),
        ];
        assert_eq!(fails(&mut ctx, dir::open_at, &args), follow, "{path}");
    }
    let stat_up = [h(root), fl(&[]), s("..")];
    assert_eq!(fails(&mut ctx, stat::stat_at, &stat_up), "not-permitted");
    let abs_link = [h(root), s("/etc/passwd"), s("l")];
    assert_eq!(fails(&mut ctx, dir::symlink_at, &abs_link), "not-permitted");
    assert_eq!(
        fails(&mut ctx, dir::readlink_at, &[h(root), s("abs")]),
        "not-permitted"
    );
    assert_eq!(
        ok(&mut ctx, dir::readlink_at, &[h(root), s("up")]),
        Some(s("../secret"))
    );
    std::fs::write(inner.join("mine"), b"x").unwrap();
    let out = [h(root), s("mine"), h(root), s("../moved")];
    assert_eq!(fails(&mut ctx, dir::rename_at, &out), "not-permitted");
    let link_out = [h(root), fl(&[]), s("mine"), h(root), s("../linked")];
    assert_eq!(fails(&mut ctx, dir::link_at, &link_out), "not-permitted");
    assert!(!tmp.path().join("moved").exists() && !tmp.path().join("linked").exists());
}

#[test]
fn read_only_preopens_refuse_every_change() {
    let tmp = TempDir::new();
    std::fs::write(tmp.path().join("f"), b"data").unwrap();
    std::fs::create_dir(tmp.path().join("d")).unwrap();
    let mut ctx = wasi(&[(tmp.path(), DirPerms::READ, FilePerms::READ)]);
    let root = preopens(&mut ctx)[0];
    assert_eq!(
        ok(&mut ctx, file::get_flags, &[h(root)]),
        Some(fl(&["read"]))
    );
    for (open_flags, flags) in [
        (&["create"][..], &["read"][..]),
        (&["truncate"], &["read"]),
        (&[], &["write"]),
    ] {
        assert_eq!(
            open_fails(&mut ctx, root, "f", open_flags, flags),
            "not-permitted"
        );
    }
    let f = open(&mut ctx, root, "f", &[], &["read"]);
    let read = ok(&mut ctx, file::read, &[h(f), Val::U64(4), Val::U64(0)]).unwrap();
    assert_eq!(val::tuple(&read).unwrap()[0], val::bytes(b"data".to_vec()));
    assert_eq!(
        fails(&mut ctx, file::write_via_stream, &[h(f), Val::U64(0)]),
        "not-permitted"
    );
    assert_eq!(
        fails(&mut ctx, file::append_via_stream, &[h(f)]),
        "not-permitted"
    );
    assert_eq!(
        fails(&mut ctx, file::set_size, &[h(f), Val::U64(0)]),
        "not-permitted"
    );
    let now = val::variant_val("now", None);
    let times = [h(f), now.clone(), now];
    assert_eq!(fails(&mut ctx, file::set_times, &times), "not-permitted");
    assert_eq!(
        fails(&mut ctx, dir::create_directory_at, &[h(root), s("n")]),
        "not-permitted"
    );
    assert_eq!(
        fails(&mut ctx, dir::unlink_file_at, &[h(root), s("f")]),
        "not-permitted"
    );
    assert_eq!(
        fails(&mut ctx, dir::remove_directory_at, &[h(root), s("d")]),
        "not-permitted"
    );
    assert_eq!(
        fails(&mut ctx, dir::symlink_at, &[h(root), s("f"), s("l")]),
        "not-permitted"
    );
    // Directories beneath carry the preopen's permissions.
    let d = open(
        &mut ctx,
        root,
        "d",
        &["directory"],
        &["read", "mutate-directory"],
    );
    assert_eq!(ok(&mut ctx, file::get_flags, &[h(d)]), Some(fl(&["read"])));
    assert_eq!(
        open_fails(&mut ctx, d, "new", &["create"], &["write"]),
        "not-permitted"
    );
    assert_eq!(std::fs::read(tmp.path().join("f")).unwrap(), b"data");
}

#[test]
fn files_that_may_not_be_read_give_no_data() {
    let tmp = TempDir::new();
    std::fs::write(tmp.path().join("f"), b"data").unwrap();
    let perms = FilePerms {
        read: false,
        write: true,
    };
    let mut ctx = wasi(&[(tmp.path(), DirPerms::ALL, perms)]);
    let root = preopens(&mut ctx)[0];
    let f = open(&mut ctx, root, "f", &[], &["read"]);
    assert_eq!(
        fails(&mut ctx, file::read, &[h(f), Val::U64(4), Val::U64(0)]),
        "not-permitted"
    );
    assert_eq!(
        fails(&mut ctx, file::read_via_stream, &[h(f), Val::U64(0)]),
        "not-permitted"
    );
}

#[test]
fn open_at_flags_behave_as_in_wasmtime() {
    let tmp = TempDir::new();
    std::fs::write(tmp.path().join("f"), b"data").unwrap();
    std::fs::create_dir(tmp.path().join("d")).unwrap();
    std::os::unix::fs::symlink("f", tmp.path().join("l")).unwrap();
    let mut ctx = wasi(&[(tmp.path(), DirPerms::ALL, FilePerms::ALL)]);
    let root = preopens(&mut ctx)[0];
    assert_eq!(
        open_fails(&mut ctx, root, "d", &["directory", "create"], &[]),
        "invalid"
    );
    assert_eq!(
        open_fails(&mut ctx, root, "f", &["directory"], &["read"]),
        "not-directory"
    );
    assert_eq!(
        open_fails(&mut ctx, root, "d", &["directory"], &["write"]),
        "is-directory"
    );
    assert_eq!(
        open_fails(&mut ctx, root, "d", &[], &["write"]),
        "is-directory"
    );
    assert_eq!(
        open_fails(&mut ctx, root, "f", &["create", "exclusive"], &["write"]),
        "exist"
    );
    assert_eq!(
        open_fails(&mut ctx, root, "missing", &[], &["read"]),
        "no-entry"
    );
    assert_eq!(open_fails(&mut ctx, root, "l", &[], &["read"]), "loop");
    let follow = [
        h(root),
        fl(&["symlink-follow"]),
        s("l"),
        fl(&[]),
        fl(&["read"]),
    ];
    assert!(ok(&mut ctx, dir::open_at, &follow).is_some());
    // A directory opened without `directory` is a directory descriptor.
    let d = open(&mut ctx, root, "d", &[], &["read"]);
    assert_eq!(
        ok(&mut ctx, stat::get_type, &[h(d)]),
        Some(enum_val("directory"))
    );
    assert_eq!(
        fails(&mut ctx, file::read_via_stream, &[h(d), Val::U64(0)]),
        "is-directory"
    );
    let advice = [h(d), Val::U64(0), Val::U64(0), enum_val("normal")];
    assert_eq!(fails(&mut ctx, file::advise, &advice), "bad-descriptor");
    let f = open(&mut ctx, root, "f", &["truncate"], &["write"]);
    assert_eq!(std::fs::read(tmp.path().join("f")).unwrap(), b"");
    assert_eq!(
        open_fails(&mut ctx, f, "x", &[], &["read"]),
        "not-directory"
    );
    let sync = open(
        &mut ctx,
        root,
        "s",
        &["create"],
        &["write", "data-integrity-sync"],
    );
    assert_eq!(
        ok(&mut ctx, file::get_flags, &[h(sync)]),
        Some(fl(&["write", "data-integrity-sync"]))
    );
    ok(&mut ctx, |c, a| file::sync(c, a, true), &[h(sync)]);
    ok(&mut ctx, |c, a| file::sync(c, a, false), &[h(root)]);
    let advice = |len| [h(f), Val::U64(0), Val::U64(len), enum_val("sequential")];
    ok(&mut ctx, file::advise, &advice(100));
    // Lengths past `off_t` are refused by the OS, not by a panic.
    assert_eq!(fails(&mut ctx, file::advise, &advice(u64::MAX)), "invalid");
}

#[test]
fn directories_list_their_entries_but_not_dot_and_dot_dot() {
    let tmp = TempDir::new();
    std::fs::write(tmp.path().join("a"), b"").unwrap();
    std::fs::create_dir(tmp.path().join("b")).unwrap();
    std::os::unix::fs::symlink("a", tmp.path().join("c")).unwrap();
    let mut ctx = wasi(&[(tmp.path(), DirPerms::ALL, FilePerms::ALL)]);
    let root = preopens(&mut ctx)[0];
    let list = |ctx: &mut WasiCtx| {
        let stream = ok(ctx, dirstream::read_directory, &[h(root)]).unwrap();
        let mut entries = Vec::new();
        while let Some(Val::Option(Some(e))) = ok(
            ctx,
            dirstream::read_directory_entry,
            std::slice::from_ref(&stream),
        ) {
            let (Val::String(name), Val::Enum(ty)) = (field(&e, "name"), field(&e, "type")) else {
                panic!()
            };
            entries.push((name.clone(), ty.clone()));
        }
        entries.sort();
        entries
    };
    let want = [
        ("a", "regular-file"),
        ("b", "directory"),
        ("c", "symbolic-link"),
    ]
    .map(|(n, t)| (n.to_string(), t.to_string()));
    assert_eq!(list(&mut ctx), want);
    // Each stream starts again from the beginning.
    assert_eq!(list(&mut ctx), want);
    let unreadable = DirPerms {
        read: false,
        mutate: true,
    };
    let mut ctx = wasi(&[(tmp.path(), unreadable, FilePerms::ALL)]);
    let root = preopens(&mut ctx)[0];
    assert_eq!(
        fails(&mut ctx, dirstream::read_directory, &[h(root)]),
        "not-permitted"
    );
    assert_eq!(
        open_fails(&mut ctx, root, "a", &[], &["read"]),
        "not-permitted"
    );
}

#[test]
fn streams_read_write_and_append_at_their_own_positions() {
    let tmp = TempDir::new();
    std::fs::write(tmp.path().join("f"), b"0123456789").unwrap();
    let mut ctx = wasi(&[(tmp.path(), DirPerms::ALL, FilePerms::ALL)]);
    let root = preopens(&mut ctx)[0];
    let f = open(&mut ctx, root, "f", &[], &["read", "write"]);
    let out = val::rep(&ok(&mut ctx, file::write_via_stream, &[h(f), Val::U64(2)]).unwrap());
    let app = val::rep(&ok(&mut ctx, file::append_via_stream, &[h(f)]).unwrap());
    let out = ctx.table.get_mut::<DynOutputStream>(out.unwrap()).unwrap();
    assert!(out.check_write().unwrap() > 0);
    out.write(b"ab").unwrap();
    out.write(b"cd").unwrap();
    let app = ctx.table.get_mut::<DynOutputStream>(app.unwrap()).unwrap();
    app.write(b"!").unwrap();
    app.write(b"?").unwrap();
    assert_eq!(
        std::fs::read(tmp.path().join("f")).unwrap(),
        b"01abcd6789!?"
    );
    let input = ok(&mut ctx, file::read_via_stream, &[h(f), Val::U64(8)]).unwrap();
    let input = ctx
        .table
        .get_mut::<DynInputStream>(val::rep(&input).unwrap())
        .unwrap();
    assert_eq!(input.read(3).unwrap(), b"89!");
    assert_eq!(input.read(100).unwrap(), b"?");
    assert!(matches!(input.read(1), Err(StreamError::Closed)));
    // A stream outlives the descriptor it was made from.
    ctx.table.delete::<Descriptor>(f).unwrap();
    let f = open(&mut ctx, root, "f", &[], &[]);
    let input = ok(&mut ctx, file::read_via_stream, &[h(f), Val::U64(0)]);
    let input = ctx
        .table
        .get_mut::<DynInputStream>(val::rep(&input.unwrap()).unwrap())
        .unwrap();
    assert_eq!(input.read(2).unwrap(), b"01");
}

#[test]
fn failed_stream_writes_carry_their_error_code() {
    let tmp = TempDir::new();
    std::fs::write(tmp.path().join("f"), b"").unwrap();
    let mut ctx = wasi(&[(tmp.path(), DirPerms::ALL, FilePerms::ALL)]);
    let root = preopens(&mut ctx)[0];
    // Opened for reading only: the OS refuses the write.
    let f = open(&mut ctx, root, "f", &[], &["read"]);
    let out = val::rep(&ok(&mut ctx, file::write_via_stream, &[h(f), Val::U64(0)]).unwrap());
    let out = ctx.table.get_mut::<DynOutputStream>(out.unwrap()).unwrap();
    let Err(StreamError::Failed(e)) = out.write(b"x") else {
        panic!("the write succeeded")
    };
    assert!(matches!(out.check_write(), Err(StreamError::Closed)));
    let error = ctx.table.push(IoError(e)).unwrap();
    let code = filesystem_error_code(&mut ctx, Args::new(&[h(error)])).unwrap();
    assert_eq!(code, some(enum_val("bad-descriptor")));
}

#[test]
fn links_and_renames_stay_within_one_kind_of_preopen() {
    let a = TempDir::new();
    let b = TempDir::new();
    let c = TempDir::new();
    std::fs::write(a.path().join("f"), b"x").unwrap();
    let mut ctx = wasi(&[
        (a.path(), DirPerms::ALL, FilePerms::ALL),
        (b.path(), DirPerms::ALL, FilePerms::READ),
        (c.path(), DirPerms::ALL, FilePerms::ALL),
    ]);
    let [pa, pb, pc] = preopens(&mut ctx)[..] else {
        panic!()
    };
    let rename = |to: Rep| [h(pa), s("f"), h(to), s("h")];
    assert_eq!(
        fails(&mut ctx, dir::rename_at, &rename(pb)),
        "not-permitted"
    );
    let link = |to: Rep, flags: &[&str]| [h(pa), fl(flags), s("f"), h(to), s("g")];
    assert_eq!(
        fails(&mut ctx, dir::link_at, &link(pb, &[])),
        "not-permitted"
    );
    assert_eq!(
        fails(&mut ctx, dir::link_at, &link(pc, &["symlink-follow"])),
        "invalid"
    );
    ok(&mut ctx, dir::link_at, &link(pc, &[]));
    ok(&mut ctx, dir::rename_at, &rename(pc));
    assert_eq!(std::fs::read(c.path().join("g")).unwrap(), b"x");
    assert_eq!(std::fs::read(c.path().join("h")).unwrap(), b"x");
    assert!(!a.path().join("f").exists() && std::fs::read_dir(b.path()).unwrap().next().is_none());
    let f = open(&mut ctx, pc, "g", &[], &[]);
    assert_eq!(
        fails(&mut ctx, dir::rename_at, &[h(f), s("g"), h(pc), s("h")]),
        "not-directory"
    );
}

#[test]
fn removal_reports_what_is_in_the_way() {
    let tmp = TempDir::new();
    std::fs::create_dir_all(tmp.path().join("d/e")).unwrap();
    let mut ctx = wasi(&[(tmp.path(), DirPerms::ALL, FilePerms::ALL)]);
    let root = preopens(&mut ctx)[0];
    assert_eq!(
        fails(&mut ctx, dir::unlink_file_at, &[h(root), s("d")]),
        "is-directory"
    );
    assert_eq!(
        fails(&mut ctx, dir::remove_directory_at, &[h(root), s("d")]),
        "not-empty"
    );
    assert_eq!(
        fails(&mut ctx, dir::create_directory_at, &[h(root), s("d")]),
        "exist"
    );
    ok(&mut ctx, dir::remove_directory_at, &[h(root), s("d/e")]);
    ok(&mut ctx, dir::symlink_at, &[h(root), s("d"), s("l")]);
    ok(&mut ctx, dir::unlink_file_at, &[h(root), s("l")]);
    ok(&mut ctx, dir::remove_directory_at, &[h(root), s("d")]);
    assert!(!tmp.path().join("d").exists());
}

#[test]
fn times_are_set_and_reported() {
    let tmp = TempDir::new();
    std::fs::write(tmp.path().join("f"), b"").unwrap();
    let mut ctx = wasi(&[(tmp.path(), DirPerms::ALL, FilePerms::ALL)]);
    let root = preopens(&mut ctx)[0];
    let at = |seconds: u64, nanoseconds: u32| {
        val::variant_val(
            "timestamp",
            Some(val::record([
                ("seconds", Val::U64(seconds)),
                ("nanoseconds", Val::U32(nanoseconds)),
            ])),
        )
    };
    let keep = val::variant_val("no-change", None);
    let args = [h(root), fl(&[]), s("f"), at(1_000, 5), at(2_000, 7)];
    ok(&mut ctx, dir::set_times_at, &args);
    let f = open(&mut ctx, root, "f", &[], &["write"]);
    ok(
        &mut ctx,
        file::set_times,
        &[h(f), keep.clone(), at(3_000, 9)],
    );
    let stat = ok(&mut ctx, stat::stat_at, &[h(root), fl(&[]), s("f")]).unwrap();
    assert_eq!(
        field(&stat, "data-access-timestamp"),
        &some(crate::clocks::datetime(std::time::Duration::new(1_000, 5)))
    );
    assert_eq!(
        field(&stat, "data-modification-timestamp"),
        &some(crate::clocks::datetime(std::time::Duration::new(3_000, 9)))
    );
    let dir_times = [h(root), at(4_000, 0), keep.clone()];
    ok(&mut ctx, file::set_times, &dir_times);
    let dir_stat = ok(&mut ctx, stat::stat, &[h(root)]).unwrap();
    assert_eq!(
        field(&dir_stat, "data-access-timestamp"),
        &some(crate::clocks::datetime(std::time::Duration::new(4_000, 0)))
    );
    let huge = [h(f), at(u64::MAX, 0), val::variant_val("now", None)];
    assert_eq!(fails(&mut ctx, file::set_times, &huge), "overflow");
}

#[test]
fn identity_is_the_object_not_the_descriptor() {
    let tmp = TempDir::new();
    std::fs::write(tmp.path().join("f"), b"").unwrap();
    std::fs::write(tmp.path().join("g"), b"").unwrap();
    let mut ctx = wasi(&[(tmp.path(), DirPerms::ALL, FilePerms::ALL)]);
    let root = preopens(&mut ctx)[0];
    let f1 = open(&mut ctx, root, "f", &[], &["write"]);
    let f2 = open(&mut ctx, root, "f", &[], &[]);
    let g = open(&mut ctx, root, "g", &[], &[]);
    let same = |ctx: &mut WasiCtx, a: Rep, b: Rep| {
        stat::is_same_object(ctx, Args::new(&[h(a), h(b)])).unwrap()
    };
    assert_eq!(same(&mut ctx, f1, f2), Val::Bool(true));
    assert_eq!(same(&mut ctx, f1, g), Val::Bool(false));
    let hash_f = ok(&mut ctx, stat::hash, &[h(f1)]);
    assert_eq!(ok(&mut ctx, stat::hash, &[h(f2)]), hash_f);
    assert_eq!(
        ok(&mut ctx, stat::hash_at, &[h(root), fl(&[]), s("f")]),
        hash_f
    );
    assert_ne!(ok(&mut ctx, stat::hash, &[h(g)]), hash_f);
    ok(
        &mut ctx,
        file::write,
        &[h(f1), val::bytes(b"changed".to_vec()), Val::U64(0)],
    );
    assert_eq!(ok(&mut ctx, stat::hash, &[h(f1)]), hash_f);
}

#[test]
fn each_call_gives_new_preopen_descriptors() {
    let tmp = TempDir::new();
    let mut ctx = wasi(&[(tmp.path(), DirPerms::ALL, FilePerms::ALL)]);
    let first = preopens(&mut ctx)[0];
    let second = preopens(&mut ctx)[0];
    assert_ne!(first, second);
    ctx.table.delete::<Descriptor>(first).unwrap();
    ok(&mut ctx, dir::create_directory_at, &[h(second), s("still")]);
    assert!(tmp.path().join("still").is_dir());
}
