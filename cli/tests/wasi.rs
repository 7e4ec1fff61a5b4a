//! `cmc run` with WASI guests: the programs of `tests/guests/` (sources,
//! `build.sh` and the committed binaries in `tests/guests/bin/`).
//!
//! Every expectation here is what `wasmtime run` 48.0.8 does with the same
//! command line (stdout and stderr byte for byte where they are
//! deterministic, the exit status always): cmc spells its options as
//! wasmtime does (`--dir HOST[::GUEST]`, `--env NAME[=VAL]`,
//! `-S inherit-network`, `-S allow-ip-name-lookup`), and argv[0] is the base
//! name of the file as given, as in wasmtime. Where wasmtime's own words
//! appear (its error report of a trap), only the guest's part is checked.
//!
//! The C programs run twice: as components wrapped with wasmtime 48's
//! preview1 adapter (`component::*`, WASI 0.2) and as the preview1 core
//! modules they were built from (`core_module::*`), with the same
//! expectations unless wasmtime itself differs (the exit status of
//! `exit(N)`). `p2::*` are components that call WASI 0.2 directly
//! (streams, poll, sockets); `python::*` is a CPython component.
//!
//! Every child is killed after a timeout, so a host that hangs fails the
//! test instead of the CI job. Socket tests use loopback only and bind
//! port 0.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long one guest may run.
const TIMEOUT: Duration = Duration::from_secs(60);
/// How long `cmc build` of the 18 MB Python component may take (a debug
/// build of the compiler is slow).
const BUILD_TIMEOUT: Duration = Duration::from_secs(900);

// ---------------------------------------------------------------------------
// Running cmc.

/// The program under test: cmc; or, to check the expectations themselves,
/// the engine named by `CMC_WASI_TEST_PEER` (`CMC_WASI_TEST_PEER=wasmtime
/// cargo test -p cmc --test wasi` with wasmtime-cli 48.0.8 must pass).
fn program() -> OsString {
    std::env::var_os("CMC_WASI_TEST_PEER").unwrap_or_else(|| env!("CARGO_BIN_EXE_cmc").into())
}

/// Where `cmc run` keeps its compile cache during the tests.
const TEST_CACHE: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/cmc-cache");

/// What a run of `cmc` produced.
struct Out {
    /// The exit status; `None` when the process died of a signal.
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl Out {
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    /// Panics, showing everything, unless the exit status is `code` and
    /// stdout is exactly `stdout`.
    fn expect(&self, code: i32, stdout: &str) -> &Self {
        assert!(
            self.code == Some(code) && self.stdout == stdout.as_bytes(),
            "expected exit status {code} and stdout\n{stdout}\n--- got status {:?}, stdout\n{}\n--- stderr\n{}",
            self.code,
            self.stdout(),
            self.stderr(),
        );
        self
    }

    fn expect_stderr(&self, stderr: &str) -> &Self {
        assert_eq!(
            self.stderr(),
            stderr,
            "stderr (stdout was:\n{})",
            self.stdout()
        );
        self
    }
}

/// A command line for `cmc`, with what to feed its stdin.
struct Run {
    args: Vec<OsString>,
    env: Vec<(String, String)>,
    stdin: Vec<u8>,
    timeout: Duration,
}

impl Run {
    /// `cmc run OPTIONS… FILE ARGS…`.
    fn new(options: &[&str], file: &Path, args: &[&str]) -> Run {
        let mut all: Vec<OsString> = vec!["run".into()];
        all.extend(options.iter().map(OsString::from));
        all.push(file.into());
        all.extend(args.iter().map(OsString::from));
        Run {
            args: all,
            env: Vec::new(),
            stdin: Vec::new(),
            timeout: TIMEOUT,
        }
    }

    fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Run {
        self.stdin = bytes.into();
        self
    }

    /// Sets a variable in cmc's own environment.
    fn host_env(mut self, name: &str, value: &str) -> Run {
        self.env.push((name.into(), value.into()));
        self
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(program());
        cmd.args(&self.args);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        // A panic in the host must not be mistaken for the guest's output,
        // and its message must stay short.
        cmd.env_remove("RUST_BACKTRACE");
        // The compile cache of the tests stays in the target folder.
        cmd.env("CMC_CACHE_DIR", TEST_CACHE);
        cmd
    }

    fn spawn(&self) -> Child {
        self.command()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cmc starts")
    }

    fn output(self) -> Out {
        let mut child = self.spawn();
        let writer = feed(&mut child, self.stdin.clone());
        let stdout = drain(child.stdout.take());
        let stderr = drain(child.stderr.take());
        let code = wait(&mut child, self.timeout, &self.args);
        let _ = writer.join();
        Out {
            code,
            stdout: stdout.join().unwrap(),
            stderr: stderr.join().unwrap(),
        }
    }
}

/// Writes `bytes` to the child's stdin on a thread, then closes it. A
/// child that exits without reading all of it is not an error.
fn feed(child: &mut Child, bytes: Vec<u8>) -> std::thread::JoinHandle<()> {
    let mut stdin = child.stdin.take().unwrap();
    std::thread::spawn(move || {
        let _ = stdin.write_all(&bytes);
    })
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut buf);
        }
        buf
    })
}

/// Waits for the child, killing it after `timeout`.
fn wait(child: &mut Child, timeout: Duration, args: &[OsString]) -> Option<i32> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait for cmc") {
            return status.code();
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            panic!("cmc {args:?} still running after {timeout:?}: killed");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

// ---------------------------------------------------------------------------
// Guests and scratch directories.

fn guests() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/guests/bin")
}

/// How a C program is packaged.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    /// `bin/NAME.component.wasm`: wrapped with the preview1 adapter.
    Component,
    /// `bin/NAME.wasm`: the preview1 core module.
    Core,
}

impl Kind {
    fn file(self, name: &str) -> PathBuf {
        match self {
            Kind::Component => guests().join(format!("{name}.component.wasm")),
            Kind::Core => guests().join(format!("{name}.wasm")),
        }
    }

    /// argv[0] as the guest sees it: the base name of the file.
    fn argv0(self, name: &str) -> String {
        self.file(name)
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    }
}

/// A directory for one test, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("cmc-wasi-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // Canonical, so that paths given to the guest and compared on the
        // host have no symlink in them (macOS's /tmp, for one).
        Scratch(dir.canonicalize().unwrap())
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn join(&self, p: &str) -> PathBuf {
        self.0.join(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `--dir HOST::GUEST`.
fn dir_option(host: &Path, guest: &str) -> String {
    format!("{}::{guest}", host.to_str().expect("a UTF-8 temp dir"))
}

/// Every file, directory and symlink under `root`, with what identifies
/// its state: kind, size, modification time, content or link target.
fn snapshot(root: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            let mtime = meta.modified().ok();
            if meta.file_type().is_symlink() {
                out.push(format!(
                    "{rel} -> {}",
                    std::fs::read_link(&p).unwrap().display()
                ));
            } else if meta.is_dir() {
                out.push(format!("{rel}/ {mtime:?}"));
                walk(root, &p, out);
            } else {
                let content = std::fs::read(&p).unwrap();
                out.push(format!(
                    "{rel} {} {mtime:?} {:?}",
                    meta.len(),
                    String::from_utf8_lossy(&content)
                ));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out
}

// ---------------------------------------------------------------------------
// The C programs, as components and as core modules.

/// Defines each test twice: `component::NAME` runs `NAME(Kind::Component)`
/// and `core_module::NAME` runs `NAME(Kind::Core)`.
macro_rules! both_kinds {
    ($($name:ident),* $(,)?) => {
        mod component {
            $( #[test] fn $name() { super::$name(super::Kind::Component) } )*
        }
        mod core_module {
            $( #[test] fn $name() { super::$name(super::Kind::Core) } )*
        }
    };
}

both_kinds!(
    hello,
    args_env,
    args_env_inherit,
    cat_copies_stdin_to_stdout,
    cat_copies_large_binary_input,
    cat_to_stderr,
    cat_empty_input,
    exit_codes,
    exit_code_out_of_range,
    files,
    sleep,
    random,
    sandbox,
    trap,
    closed_stdout_hello,
    closed_stdout_cat,
);

fn hello(kind: Kind) {
    Run::new(&[], &kind.file("hello"), &[])
        .output()
        .expect(0, "Hello, world!\n")
        .expect_stderr("");
}

fn args_env(kind: Kind) {
    let argv0 = kind.argv0("args_env");
    let o = Run::new(
        &["--env", "FOO=bar", "--env", "EMPTY=", "--env", "EQ=a=b"],
        &kind.file("args_env"),
        &["FOO", "EMPTY", "EQ", "NOPE", "two words", ""],
    )
    .output();
    o.expect(
        0,
        &format!(
            "argc=7\n\
             argv[0]={argv0}\n\
             argv[1]=FOO\n\
             argv[2]=EMPTY\n\
             argv[3]=EQ\n\
             argv[4]=NOPE\n\
             argv[5]=two words\n\
             argv[6]=\n\
             env FOO=bar\n\
             env EMPTY=\n\
             env EQ=a=b\n\
             env NOPE unset\n\
             env two words unset\n\
             env  unset\n\
             cwd=/\n"
        ),
    )
    .expect_stderr("");
}

/// `--env NAME` passes the host's value of NAME, and leaves it unset when
/// the host has none; the rest of the host's environment stays out.
fn args_env_inherit(kind: Kind) {
    let argv0 = kind.argv0("args_env");
    Run::new(
        &["--env", "CMC_WASI_INHERITED", "--env", "CMC_WASI_NOT_SET"],
        &kind.file("args_env"),
        &["CMC_WASI_INHERITED", "CMC_WASI_NOT_SET", "CMC_WASI_OTHER"],
    )
    .host_env("CMC_WASI_INHERITED", "from the host")
    .host_env("CMC_WASI_OTHER", "not passed")
    .output()
    .expect(
        0,
        &format!(
            "argc=4\n\
             argv[0]={argv0}\n\
             argv[1]=CMC_WASI_INHERITED\n\
             argv[2]=CMC_WASI_NOT_SET\n\
             argv[3]=CMC_WASI_OTHER\n\
             env CMC_WASI_INHERITED=from the host\n\
             env CMC_WASI_NOT_SET unset\n\
             env CMC_WASI_OTHER unset\n\
             cwd=/\n"
        ),
    )
    .expect_stderr("");
}

fn cat_copies_stdin_to_stdout(kind: Kind) {
    Run::new(&[], &kind.file("cat"), &[])
        .stdin("abc\ndef")
        .output()
        .expect(0, "abc\ndef")
        .expect_stderr("");
}

/// 5 MiB of every byte value, in many chunks, comes out unchanged.
fn cat_copies_large_binary_input(kind: Kind) {
    let input: Vec<u8> = (0..5 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let o = Run::new(&[], &kind.file("cat"), &[])
        .stdin(input.clone())
        .output();
    assert_eq!(o.code, Some(0), "{}", o.stderr());
    assert!(
        o.stdout == input,
        "stdout differs from stdin: {} bytes out of {}",
        o.stdout.len(),
        input.len()
    );
    assert_eq!(o.stderr(), "");
}

fn cat_to_stderr(kind: Kind) {
    Run::new(&[], &kind.file("cat"), &["stderr"])
        .stdin("to stderr\n")
        .output()
        .expect(0, "")
        .expect_stderr("to stderr\n");
}

fn cat_empty_input(kind: Kind) {
    Run::new(&[], &kind.file("cat"), &[])
        .output()
        .expect(0, "")
        .expect_stderr("");
}

/// `exit(N)` after stdio output with no newline: the output is flushed.
/// A core module exits with N (wasmtime accepts 0..=125); through the
/// preview1 adapter, `wasi:cli/exit` only has ok and err, so every N other
/// than 0 becomes status 1.
fn exit_codes(kind: Kind) {
    for n in [0, 3, 42, 125] {
        let status = match kind {
            Kind::Core => n,
            Kind::Component if n == 0 => 0,
            Kind::Component => 1,
        };
        Run::new(&[], &kind.file("exit_code"), &[&n.to_string()])
            .output()
            .expect(status, &format!("exiting with {n}"))
            .expect_stderr("on stderr");
    }
}

/// wasmtime refuses proc_exit with a status of 126 or more (an error,
/// status 1, after the guest's output); the component gets err, status 1.
fn exit_code_out_of_range(kind: Kind) {
    for n in [126, 255, 256] {
        let o = Run::new(&[], &kind.file("exit_code"), &[&n.to_string()]).output();
        o.expect(1, &format!("exiting with {n}"));
        match kind {
            Kind::Component => {
                o.expect_stderr("on stderr");
            }
            Kind::Core => assert!(o.stderr().starts_with("on stderr"), "{}", o.stderr()),
        }
    }
}

fn files(kind: Kind) {
    let scratch = Scratch::new("files");
    let data = scratch.join("data");
    std::fs::create_dir(&data).unwrap();
    Run::new(
        &["--dir", &dir_option(&data, "/data")],
        &kind.file("files"),
        &["/data"],
    )
    .output()
    .expect(0, FILES_STDOUT)
    .expect_stderr("");
    // What the guest left behind, seen from the host.
    let mut names: Vec<_> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["final.txt", "kept"]);
    // (Not the atime: the guest reads the file after setting it, which
    // updates it or not depending on the mount's atime option.)
    let meta = std::fs::metadata(data.join("final.txt")).unwrap();
    let mtime = meta
        .modified()
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    assert_eq!(mtime, Duration::new(1_700_000_000, 1));
    assert_eq!(std::fs::read(data.join("final.txt")).unwrap(), b"hello");
    assert!(data.join("kept/newdir").is_dir());
    assert_eq!(std::fs::read(data.join("kept/new")).unwrap(), b"");
}

const FILES_STDOUT: &str = "\
create a.txt: ok
write: 12
pwrite at 6: 5
offset after pwrite: 12
close: ok
create a.txt again (O_EXCL): EEXIST
content: \"hello WORLD\\n\"
open O_APPEND: ok
append: 5
fstat size: 17
close: ok
content: \"hello WORLD\\nmore\\n\"
open O_RDWR: ok
pread 5 at 6: 5 \"WORLD\"
pread at 100: 0
write to a read-only fd: EBADF
ftruncate 5: ok
fstat size: 5
stat size: 5
ftruncate 4096 (extend): ok
stat size: 4096
ftruncate 5: ok
futimens: ok
fstat: atime 1000000000.500000000 mtime 1234567890.123456789
utimensat: ok
stat: atime 1500000000.000000000 mtime 1600000000.999999999
utimensat atime UTIME_OMIT: ok
stat: atime 1500000000.000000000 mtime 1700000000.000000001
close: ok
mkdir sub: ok
mkdir sub again: EEXIST
create sub/b: ok
create sub/c: ok
rmdir sub (not empty): ENOTEMPTY
unlink sub (a directory): EISDIR
rmdir a.txt (a file): ENOTDIR
open a.txt/x (not a directory): ENOTDIR
open missing: ENOENT
list sub: b c
rename a.txt renamed.txt: ok
stat a.txt: ENOENT
stat renamed.txt: 5
rename onto a non-empty directory: EISDIR
link renamed.txt hard.txt: ok
nlink: 2
symlink renamed.txt sym: ok
readlink sym: \"renamed.txt\"
readlink renamed.txt (not a link): EINVAL
lstat sym is a symlink: yes
stat through sym: 5
read through sym: \"hello\"
symlink dangling: ok
open dangling: ENOENT
list: dangling@ hard.txt renamed.txt sub/ sym@
unlink hard.txt: ok
nlink: 1
unlink sym: ok
unlink dangling: ok
stat renamed.txt after unlinking sym: 5
unlink sub/b: ok
unlink sub/c: ok
rmdir sub: ok
rmdir sub again: ENOENT
unlink missing: ENOENT
mkdir kept: ok
open kept O_RDONLY|O_DIRECTORY: ok
openat(kept) O_CREAT: ok
mkdirat(kept): ok
write to the directory fd: EBADF
list kept: new newdir/
rename renamed.txt final.txt: ok
list: final.txt kept/
";

fn sleep(kind: Kind) {
    let start = Instant::now();
    let o = Run::new(&[], &kind.file("sleep"), &[]).output();
    o.expect(
        0,
        "nanosleep returned 0\n\
         slept >= 100 ms: yes\n\
         clock_nanosleep returned 0\n\
         slept >= 50 ms: yes\n\
         wall clock after 2020: yes\n",
    );
    assert!(start.elapsed() >= Duration::from_millis(150));
    // "nanosleep: N ms\nclock_nanosleep: M ms\n", N >= 100, M >= 50.
    let err = o.stderr();
    let ms: Vec<u64> = err
        .lines()
        .map(|l| {
            l.rsplit_once(": ")
                .and_then(|(_, v)| v.strip_suffix(" ms"))
                .and_then(|v| v.parse().ok())
        })
        .collect::<Option<_>>()
        .unwrap_or_else(|| panic!("stderr: {err}"));
    assert!(
        err.starts_with("nanosleep: ") && err.contains("\nclock_nanosleep: "),
        "{err}"
    );
    assert!(ms.len() == 2 && ms[0] >= 100 && ms[1] >= 50, "{err}");
}

fn random(kind: Kind) {
    Run::new(&[], &kind.file("random"), &[])
        .output()
        .expect(0, "differ: yes\nnonzero: yes\n")
        .expect_stderr("");
}

/// The guest tries every way out of its preopen it can; all are refused,
/// and nothing outside changes. wasmtime refuses with EPERM (the 0.2
/// `not-permitted`, through the adapter and in its preview1 host alike);
/// absolute paths outside every preopen never reach the host: wasi-libc
/// finds no preopen for them and fails with ENOTCAPABLE.
fn sandbox(kind: Kind) {
    let scratch = Scratch::new("sandbox");
    let outside = scratch.join("outside");
    let sandbox = scratch.join("sandbox");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::create_dir_all(sandbox.join("sub")).unwrap();
    std::fs::write(outside.join("secret.txt"), "secret\n").unwrap();
    std::fs::write(sandbox.join("inside.txt"), "inside\n").unwrap();
    let link =
        |target: &Path, name: &str| std::os::unix::fs::symlink(target, sandbox.join(name)).unwrap();
    link(Path::new("../outside/secret.txt"), "link_rel");
    link(&outside.join("secret.txt"), "link_abs");
    link(Path::new("../outside"), "link_dir");
    link(&outside, "link_dir_abs");
    let before_outside = snapshot(&outside);
    let before_root: Vec<_> = snapshot(scratch.path())
        .into_iter()
        .filter(|e| !e.starts_with("sandbox"))
        .collect();

    let o = Run::new(
        &["--dir", &dir_option(&sandbox, "/sandbox")],
        &kind.file("sandbox"),
        &["/sandbox", outside.to_str().unwrap()],
    )
    .output();
    o.expect(0, SANDBOX_STDOUT).expect_stderr("");

    assert_eq!(
        snapshot(&outside),
        before_outside,
        "the directory outside changed"
    );
    let after_root: Vec<_> = snapshot(scratch.path())
        .into_iter()
        .filter(|e| !e.starts_with("sandbox"))
        .collect();
    assert_eq!(
        after_root, before_root,
        "something changed beside the preopen"
    );
    // Inside: the one symlink the guest could create, nothing else.
    let mut names: Vec<_> = std::fs::read_dir(&sandbox)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "inside.txt",
            "link_abs",
            "link_dir",
            "link_dir_abs",
            "link_rel",
            "rel_new",
            "sub"
        ]
    );
    assert_eq!(
        std::fs::read_link(sandbox.join("rel_new")).unwrap(),
        Path::new("../outside/secret.txt")
    );
    assert_eq!(
        std::fs::read(sandbox.join("inside.txt")).unwrap(),
        b"inside\n"
    );
    assert_eq!(std::fs::read_dir(sandbox.join("sub")).unwrap().count(), 0);
}

const SANDBOX_STDOUT: &str = "\
open inside.txt: OPENED, read 7 bytes: inside
open ../outside/secret.txt: EPERM
open sub/../../outside/secret.txt: EPERM
create ../outside/new.txt: EPERM
stat ..: EPERM
opendir ..: EPERM
mkdir ../newdir: EPERM
unlink ../outside/secret.txt: EPERM
open OUTSIDE/secret.txt: ENOTCAPABLE
open /etc/passwd: ENOTCAPABLE
open link_rel: EPERM
open link_abs: EPERM
open link_rel O_NOFOLLOW: ELOOP
open link_dir/secret.txt: EPERM
open link_dir_abs/secret.txt: EPERM
create link_dir/new.txt: EPERM
mkdir link_dir/newdir: EPERM
truncate through link_rel: EPERM
stat link_rel: EPERM
lstat link_rel: ok
utimensat link_rel (follow): EPERM
opendir link_dir: EPERM
symlink /etc/passwd abs_new: EPERM
open abs_new: ENOENT
symlink ../outside/secret.txt rel_new: ok
open rel_new: EPERM
link ../outside/secret.txt hl: EPERM
link inside.txt ../outside/hl.txt: EPERM
link inside.txt link_dir/hl.txt: EPERM
linkat AT_SYMLINK_FOLLOW link_rel hl2: EINVAL
rename inside.txt ../moved.txt: EPERM
rename inside.txt link_dir/moved.txt: EPERM
rename ../outside/secret.txt stolen.txt: EPERM
rename link_dir/secret.txt stolen.txt: EPERM
open inside.txt again: OPENED, read 7 bytes: inside
";

/// A trap exits with 134 and loses nothing the guest already wrote.
fn trap(kind: Kind) {
    let o = Run::new(&[], &kind.file("trap"), &[]).output();
    o.expect(134, "before the trap (stdout)\n");
    let err = o.stderr();
    assert!(err.starts_with("before the trap (stderr)\n"), "{err}");
    assert!(err.contains("unreachable"), "{err}");
}

/// Runs `run` with its stdout a pipe whose reading end is closed before
/// the guest writes, feeding `stdin` meanwhile.
fn with_closed_stdout(run: Run) -> Out {
    let mut child = run.spawn();
    drop(child.stdout.take());
    let writer = feed(&mut child, run.stdin.clone());
    let stderr = drain(child.stderr.take());
    let code = wait(&mut child, run.timeout, &run.args);
    let _ = writer.join();
    Out {
        code,
        stdout: Vec::new(),
        stderr: stderr.join().unwrap(),
    }
}

/// The write fails; wasi-libc's puts ignores it; the guest ends normally.
/// No SIGPIPE, no panic.
fn closed_stdout_hello(kind: Kind) {
    let o = with_closed_stdout(Run::new(&[], &kind.file("hello"), &[]));
    assert!(!o.stderr().contains("panicked"), "{}", o.stderr());
    assert_eq!(o.code, Some(0), "{}", o.stderr());
    assert_eq!(o.stderr(), "");
}

/// cat's write(2) fails with EIO (wasmtime reports a write to a closed
/// pipe as a failed operation, which is EIO, not EPIPE), so it stops and
/// exits with 1.
fn closed_stdout_cat(kind: Kind) {
    let input = vec![b'x'; 64 << 20];
    let o = with_closed_stdout(Run::new(&[], &kind.file("cat"), &[]).stdin(input));
    assert!(!o.stderr().contains("panicked"), "{}", o.stderr());
    assert_eq!(o.code, Some(1), "{}", o.stderr());
    assert_eq!(o.stderr(), "cat: write: I/O error\n");
}

// ---------------------------------------------------------------------------
// The Python component (CPython 3 built by componentize-py 0.25.1; it
// imports WASI 0.2.9 while exporting wasi:cli/run@0.2.12).

/// The Python component compiled once per test run with `cmc build`, as
/// the tests share it: compiling 18 MB of wasm is the slow part.
fn python_artifact() -> &'static Path {
    static ARTIFACT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = ARTIFACT.get_or_init(|| {
        let component = guests().join("python-app.component.wasm");
        if std::env::var_os("CMC_WASI_TEST_PEER").is_some() {
            return Ok(component);
        }
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("wasi-tests");
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        // `cmc build` replaces the file atomically, so a test run that
        // still has an older one mapped is not disturbed.
        let out = dir.join("python-app.cmc");
        let mut run = Run::new(&[], Path::new(""), &[]);
        run.args = vec![
            "build".into(),
            component.into(),
            "-o".into(),
            out.clone().into(),
        ];
        run.timeout = BUILD_TIMEOUT;
        let o = run.output();
        if o.code == Some(0) {
            Ok(out)
        } else {
            Err(format!(
                "cmc build of python-app.component.wasm: status {:?}\n{}",
                o.code,
                o.stderr()
            ))
        }
    });
    match built {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

mod python {
    use super::*;

    fn data_dir() -> Scratch {
        let scratch = Scratch::new("python");
        std::fs::write(scratch.join("input.txt"), "line one\nline two\n").unwrap();
        scratch
    }

    /// Arguments, environment, a file in a preopen, clocks and random,
    /// through CPython's os, sys and time modules.
    #[test]
    fn app() {
        let data = data_dir();
        let artifact = python_artifact();
        let argv0 = artifact.file_name().unwrap().to_str().unwrap();
        Run::new(
            &[
                "--dir",
                &dir_option(data.path(), "/data"),
                "--env",
                "CMC_GREETING=bonjour",
            ],
            artifact,
            &["/data/input.txt", "two words"],
        )
        .output()
        .expect(
            0,
            &format!(
                "Hello from Python!\n\
                 argv: ['{argv0}', '/data/input.txt', 'two words']\n\
                 CMC_GREETING: bonjour\n\
                 file: 'line one\\nline two\\n'\n\
                 time works: True\n\
                 random works: True\n"
            ),
        )
        .expect_stderr("");
    }

    /// Without the preopen the file is not there: Python raises
    /// FileNotFoundError (errno 44 is WASI's ENOENT), which
    /// componentize-py's runtime turns into a panic and a trap: status 134,
    /// the traceback on stderr, what was printed before kept.
    #[test]
    fn uncaught_exception_traps() {
        let data = data_dir();
        let artifact = python_artifact();
        let argv0 = artifact.file_name().unwrap().to_str().unwrap();
        let o = Run::new(
            &["--dir", &dir_option(data.path(), "/data")],
            artifact,
            &["/data/missing.txt"],
        )
        .output();
        o.expect(
            134,
            &format!(
                "Hello from Python!\n\
                 argv: ['{argv0}', '/data/missing.txt']\n\
                 CMC_GREETING: <unset>\n"
            ),
        );
        let err = o.stderr();
        assert!(
            err.starts_with("Traceback (most recent call last):\n")
                && err.contains(
                    "FileNotFoundError: [Errno 44] No such file or directory: '/data/missing.txt'\n"
                ),
            "{err}"
        );
    }
}

// ---------------------------------------------------------------------------
// Components that call WASI 0.2 directly (tests/guests/p2/).

mod p2 {
    use super::*;

    fn streams() -> PathBuf {
        guests().join("streams.component.wasm")
    }

    fn sockets() -> PathBuf {
        guests().join("sockets.component.wasm")
    }

    const FILE: &str = "Hello, streams! The rest of this file is spliced.\n";

    fn data_dir() -> Scratch {
        let scratch = Scratch::new("streams");
        std::fs::write(scratch.join("input.txt"), FILE).unwrap();
        scratch
    }

    /// What `streams input.txt` prints about the file: skip(6) skips
    /// "Hello,", the rest (44 bytes) is spliced, then the stream is closed.
    fn file_part() -> String {
        format!(
            "preopens: 1 /data\n\
             open-at input.txt: ok\n\
             skipped 6 bytes\n\
             --- the rest of the file, spliced:\n{}\
             --- blocking-splice: closed after 44 bytes\n\
             skip at the end: closed\n\
             blocking-read from offset 1000: closed\n",
            &FILE[6..]
        )
    }

    /// What `streams` prints after the stdin section: the polls.
    const POLLS: &str = "\
poll [10 s, 10 ms]: [1]
10 s ready: no
10 ms ready: yes
returned after >= 10 ms: yes
returned before 5 s: yes
poll [expired 10 ms, 10 s, expired 10 ms]: [0, 2]
returned before 5 s: yes
poll [0 ms]: [0]
";

    fn streams_stdout(file_part: &str, stdin: &str) -> String {
        format!(
            "{file_part}--- stdin, spliced:\n{stdin}--- splice: closed after {} bytes\n{POLLS}",
            stdin.len()
        )
    }

    /// stderr: "poll returned after N ms", N >= 10 and far below 10 s.
    fn check_poll_time(o: &Out) {
        let err = o.stderr();
        let ms: u64 = err
            .strip_prefix("poll returned after ")
            .and_then(|r| r.strip_suffix(" ms\n"))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("stderr: {err}"));
        assert!((10..5000).contains(&ms), "{err}");
    }

    /// skip and blocking-splice on a file's input-stream, the non-blocking
    /// splice from stdin, and poll over several clock pollables: only the
    /// 10 ms one is ready, after about 10 ms, not 10 s.
    #[test]
    fn streams_skip_splice_and_poll() {
        let data = data_dir();
        let stdin = "from stdin\nline 2\n";
        let start = Instant::now();
        let o = Run::new(
            &["--dir", &dir_option(data.path(), "/data")],
            &streams(),
            &["input.txt"],
        )
        .stdin(stdin)
        .output();
        o.expect(0, &streams_stdout(&file_part(), stdin));
        check_poll_time(&o);
        assert!(
            start.elapsed() < Duration::from_secs(9),
            "the 10 s pollable was waited for"
        );
    }

    /// Megabytes through splice from stdin arrive unchanged.
    #[test]
    fn streams_splice_large_stdin() {
        let data = data_dir();
        let line = "0123456789abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ\n";
        let stdin = line.repeat((3 << 20) / line.len());
        let o = Run::new(
            &["--dir", &dir_option(data.path(), "/data")],
            &streams(),
            &["input.txt"],
        )
        .stdin(stdin.clone())
        .output();
        let expected = streams_stdout(&file_part(), &stdin);
        assert!(
            o.code == Some(0) && o.stdout == expected.as_bytes(),
            "status {:?}, {} bytes of stdout (expected {}), stderr:\n{}",
            o.code,
            o.stdout.len(),
            expected.len(),
            o.stderr()
        );
        check_poll_time(&o);
    }

    /// open-at of a missing file is `no-entry`; the guest goes on, then
    /// returns err from run: status 1, and wasmtime adds nothing to stderr.
    /// Without a preopen the guest sees none.
    #[test]
    fn streams_missing_file_and_no_preopen() {
        let data = data_dir();
        let o = Run::new(
            &["--dir", &dir_option(data.path(), "/data")],
            &streams(),
            &["missing.txt"],
        )
        .output();
        o.expect(
            1,
            &streams_stdout("preopens: 1 /data\nopen-at missing.txt: no-entry\n", ""),
        );
        check_poll_time(&o);
        let o = Run::new(&[], &streams(), &["input.txt"]).output();
        o.expect(1, &streams_stdout("preopens: 0\n", ""));
        check_poll_time(&o);
    }

    const TCP_UDP: &str = "\
tcp bind 127.0.0.1:0: ok
tcp listen: ok
tcp listener on 127.0.0.1, port not 0: yes
tcp connect: ok
tcp accept: ok
tcp accepted peer is the client: yes
tcp server received: ping over tcp
tcp client received: echo: ping over tcp
tcp server read after the client's shutdown: closed
udp bind a to 127.0.0.1:0: ok
udp bind b to 127.0.0.1:0: ok
udp b send: 1 datagram
udp a received: \"ping over udp\", from the sender's address: yes
udp a send to b: 1 datagram
udp b received: \"echo: ping over udp\", from the sender's address: yes
";

    /// Without `-S inherit-network` wasmtime refuses to even create a
    /// socket (TCP and UDP are allowed only with it).
    const TCP_UDP_DENIED: &str = "\
tcp create-tcp-socket: access-denied
udp create-udp-socket: access-denied
";

    const LOOKUP: &str = "\
ip-name-lookup \"localhost\": ok, 127.0.0.1 among them: yes
ip-name-lookup \"127.0.0.1\": ok, 1 address, 127.0.0.1 among them: yes
ip-name-lookup \"not a host name!\": invalid-argument
";

    /// Without `-S allow-ip-name-lookup`, resolve-addresses fails at once
    /// with permanent-resolver-failure (not access-denied), even for an IP
    /// literal or an invalid name.
    const LOOKUP_DENIED: &str = "\
ip-name-lookup \"localhost\": permanent-resolver-failure
ip-name-lookup \"127.0.0.1\": permanent-resolver-failure
ip-name-lookup \"not a host name!\": permanent-resolver-failure
";

    /// TCP echo and a UDP round trip on loopback, and name lookups.
    #[test]
    fn sockets_with_network() {
        Run::new(
            &["-S", "inherit-network", "-S", "allow-ip-name-lookup"],
            &sockets(),
            &[],
        )
        .output()
        .expect(0, &format!("{TCP_UDP}{LOOKUP}"))
        .expect_stderr("");
    }

    #[test]
    fn sockets_without_network() {
        Run::new(&[], &sockets(), &[])
            .output()
            .expect(0, &format!("{TCP_UDP_DENIED}{LOOKUP_DENIED}"))
            .expect_stderr("");
    }

    #[test]
    fn sockets_with_network_but_no_name_lookup() {
        Run::new(&["-S", "inherit-network"], &sockets(), &[])
            .output()
            .expect(0, &format!("{TCP_UDP}{LOOKUP_DENIED}"))
            .expect_stderr("");
    }

    #[test]
    fn sockets_with_name_lookup_only() {
        Run::new(&["-S", "allow-ip-name-lookup"], &sockets(), &[])
            .output()
            .expect(0, &format!("{TCP_UDP_DENIED}{LOOKUP}"))
            .expect_stderr("");
    }
}
