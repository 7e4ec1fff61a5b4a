//! The compile cache of `cmc run`, in a scratch folder per test
//! (`CMC_CACHE_DIR`): a miss compiles and stores, a hit loads, any change of
//! the key misses, a damaged entry is rebuilt, concurrent runs never see
//! half an entry, the folder stays within its bound, and it can be turned
//! off.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

/// A scratch folder: the cache, and the programs.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cmc-cache-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("cache")).unwrap();
    dir
}

/// A module whose `f` returns `n`.
fn program(dir: &Path, n: i32) -> String {
    let path = dir.join(format!("f{n}.wat"));
    std::fs::write(
        &path,
        format!("(module (func (export \"f\") (result i32) (i32.const {n})))"),
    )
    .unwrap();
    path.display().to_string()
}

fn cmc_run(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cmc"));
    cmd.env("CMC_CACHE_DIR", dir.join("cache"))
        .env_remove("CMC_NO_CACHE")
        .arg("run")
        .args(args);
    cmd
}

fn invoke(dir: &Path, file: &str, extra: &[&str]) -> Output {
    let mut args = extra.to_vec();
    args.extend(["--invoke", "f", file]);
    let o = cmc_run(dir, &args).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o
}

/// The cache's entries, sorted.
fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut e: Vec<PathBuf> = std::fs::read_dir(dir.join("cache"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    e.sort();
    e
}

#[test]
fn a_miss_stores_and_a_hit_loads() {
    let dir = scratch("hit");
    let f = program(&dir, 7);
    assert_eq!(invoke(&dir, &f, &[]).stdout, b"7\n");
    let stored = entries(&dir);
    assert_eq!(stored.len(), 1, "{stored:?}");
    let bytes = std::fs::read(&stored[0]).unwrap();
    // Mark the entry as long unused: a hit makes it recent again.
    let old = SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options()
        .append(true)
        .open(&stored[0])
        .unwrap()
        .set_modified(old)
        .unwrap();
    assert_eq!(invoke(&dir, &f, &[]).stdout, b"7\n");
    assert_eq!(entries(&dir), stored);
    assert_eq!(std::fs::read(&stored[0]).unwrap(), bytes);
    let touched = std::fs::metadata(&stored[0]).unwrap().modified().unwrap();
    assert!(touched > old + Duration::from_secs(60));
}

#[test]
fn any_change_of_the_key_misses() {
    let dir = scratch("key");
    invoke(&dir, &program(&dir, 1), &[]);
    invoke(&dir, &program(&dir, 2), &[]);
    assert_eq!(entries(&dir).len(), 2);
    assert_eq!(
        invoke(&dir, &program(&dir, 1), &["--opt-level", "none"]).stdout,
        b"1\n"
    );
    assert_eq!(entries(&dir).len(), 3);
}

#[test]
fn a_damaged_entry_is_rebuilt() {
    let dir = scratch("damaged");
    let f = program(&dir, 5);
    invoke(&dir, &f, &[]);
    let entry = entries(&dir).remove(0);
    let good = std::fs::read(&entry).unwrap();
    for damage in [
        {
            let mut b = good.clone();
            let mid = b.len() / 2;
            b[mid] ^= 0x40;
            b
        },
        good[..good.len() / 3].to_vec(),
        Vec::new(),
    ] {
        std::fs::write(&entry, &damage).unwrap();
        assert_eq!(invoke(&dir, &f, &[]).stdout, b"5\n");
        assert_eq!(std::fs::read(&entry).unwrap(), good);
    }
}

#[test]
fn concurrent_runs_share_one_whole_entry() {
    let dir = scratch("concurrent");
    let f = program(&dir, 9);
    let children: Vec<_> = (0..4)
        .map(|_| {
            cmc_run(&dir, &["--invoke", "f", &f])
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success());
        assert_eq!(o.stdout, b"9\n");
    }
    // One entry, and no temporary file left behind.
    assert_eq!(entries(&dir).len(), 1, "{:?}", entries(&dir));
    assert_eq!(invoke(&dir, &f, &[]).stdout, b"9\n");
}

#[test]
fn the_least_recently_used_entries_are_evicted() {
    let dir = scratch("evict");
    invoke(&dir, &program(&dir, 1), &[]);
    let one = std::fs::metadata(&entries(&dir)[0]).unwrap().len();
    // Room for two entries of this size.
    let bound = (2 * one + one / 2).to_string();
    for n in 2..=4 {
        let o = cmc_run(&dir, &["--invoke", "f", &program(&dir, n)])
            .env("CMC_CACHE_MAX_BYTES", &bound)
            .output()
            .unwrap();
        assert!(o.status.success());
        // Distinct modification times order the entries.
        std::thread::sleep(Duration::from_millis(20));
    }
    let left = entries(&dir);
    assert_eq!(left.len(), 2, "{left:?}");
    let total: u64 = left
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    assert!(total <= 2 * one + one / 2);
}

#[test]
fn the_cache_can_be_turned_off() {
    let dir = scratch("off");
    let f = program(&dir, 3);
    invoke(&dir, &f, &["--no-cache"]);
    invoke(&dir, &f, &["-C", "cache=n"]);
    let o = cmc_run(&dir, &["--invoke", "f", &f])
        .env("CMC_NO_CACHE", "1")
        .output()
        .unwrap();
    assert!(o.status.success());
    assert_eq!(entries(&dir), Vec::<PathBuf>::new());
    let o = cmc_run(&dir, &["-C", "cache=maybe", "--invoke", "f", &f])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown -C option `cache=maybe`"));
}

#[test]
fn an_artifact_runs_at_the_level_it_was_built_with() {
    let dir = scratch("level");
    let f = program(&dir, 4);
    let artifact = dir.join("f.cmc").display().to_string();
    let o = Command::new(env!("CARGO_BIN_EXE_cmc"))
        .args(["build", "--opt-level", "none", &f, "-o", &artifact])
        .output()
        .unwrap();
    assert!(o.status.success());
    assert_eq!(invoke(&dir, &artifact, &[]).stdout, b"4\n");
    // Asking for another level than the artifact's is still refused.
    let o = cmc_run(&dir, &["--opt-level", "speed", "--invoke", "f", &artifact])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
}
