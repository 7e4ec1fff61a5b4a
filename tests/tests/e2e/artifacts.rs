//! Artifacts: written by the compiler, loaded by an engine without one, and
//! refused with a clear error when stale, foreign, truncated or tampered.

use cmc_runtime::abi::{ARTIFACT_MAGIC, CHECKSUM_TRAILER_LEN, checksum_trailer};
use cmc_runtime::{
    ArtifactError, CompileSettings, Config, Engine, Error, Linker, Module, OptLevel, Store, Val,
};
use object::{Object, ObjectSection};

const WAT: &str = r#"(module (memory 1) (data (i32.const 16) "\05")
    (func (export "f") (param i32) (result i32) (i32.add (local.get 0) (i32.load8_u (i32.const 16)))))"#;

fn artifact(settings: &CompileSettings, target: Option<&str>) -> Vec<u8> {
    cmc_compiler::compile(WAT.as_bytes(), settings, target).expect("compiles")
}

/// Loads `bytes` into an engine that has no compiler.
fn load(bytes: &[u8]) -> Result<Module, Error> {
    let engine = Engine::new(Config::default());
    // SAFETY: the bytes come from cmc's compiler (possibly damaged on
    // purpose, which the loader must refuse before running anything).
    unsafe { Module::from_artifact(&engine, bytes) }
}

/// Gives `bytes`, an artifact changed on purpose, a checksum that matches
/// again, so that the checks behind the checksum are what refuses it.
fn reseal(bytes: &mut Vec<u8>) {
    bytes.truncate(bytes.len() - CHECKSUM_TRAILER_LEN);
    let trailer = checksum_trailer(bytes);
    bytes.extend_from_slice(&trailer);
}

fn refused(bytes: &[u8]) -> ArtifactError {
    match load(bytes) {
        Err(Error::Artifact(e)) => e,
        Err(other) => panic!("expected an artifact error, got {other}"),
        Ok(_) => panic!("expected the artifact to be refused"),
    }
}

/// The file range of the header section.
fn header_range(bytes: &[u8]) -> std::ops::Range<usize> {
    let file = object::File::parse(bytes).unwrap();
    let (off, len) = file
        .section_by_name(".cmc.header")
        .unwrap()
        .file_range()
        .unwrap();
    off as usize..(off + len) as usize
}

#[test]
fn loads_and_runs_without_a_compiler() {
    let module = load(&artifact(&CompileSettings::default(), None)).unwrap();
    let mut store = Store::new(module.engine(), ());
    let instance = Linker::new().instantiate(&mut store, &module).unwrap();
    let mut out = [Val::I32(0)];
    instance
        .get_func(&store, "f")
        .unwrap()
        .call(&mut store, &[Val::I32(1)], &mut out)
        .unwrap();
    assert_eq!(out, [Val::I32(6)]);
}

#[test]
fn truncated_files_are_refused() {
    let bytes = artifact(&CompileSettings::default(), None);
    for len in [0, 3, 64, 200, bytes.len() / 2, bytes.len() - 1] {
        let e = refused(&bytes[..len]);
        let msg = e.to_string();
        assert!(
            msg.contains("not a cmc artifact") || msg.contains("corrupt"),
            "{len}: {msg}"
        );
    }
}

/// Every kind of damage a file can take (a flipped bit in any section, in
/// the padding between them or in the trailer, a truncation, bytes added
/// at the end) is refused as damage before anything is mapped executable.
#[test]
fn damaged_files_are_refused_before_loading() {
    let bytes = artifact(&CompileSettings::default(), None);
    let damaged = |what: String, bytes: &[u8]| {
        let msg = refused(bytes).to_string();
        assert!(msg.contains("the file is damaged"), "{what}: {msg}");
    };
    // Every byte, one bit at a time in turn: header, metadata, data, traps,
    // text, the ELF structure and padding, the trailer.
    for i in 0..bytes.len() {
        let mut flipped = bytes.clone();
        flipped[i] ^= 1 << (i % 8);
        damaged(format!("bit {} of byte {i}", i % 8), &flipped);
    }
    for len in [bytes.len() - 1, bytes.len() - CHECKSUM_TRAILER_LEN, 1000] {
        damaged(format!("truncated to {len}"), &bytes[..len]);
    }
    let mut extended = bytes.clone();
    extended.extend_from_slice(b"more");
    damaged("4 bytes appended".into(), &extended);
}

#[test]
fn wrong_magic() {
    let mut bytes = artifact(&CompileSettings::default(), None);
    let h = header_range(&bytes);
    assert_eq!(bytes[h.start..h.start + 8], ARTIFACT_MAGIC);
    bytes[h.start + 1] ^= 0xff;
    reseal(&mut bytes);
    assert!(refused(&bytes).to_string().contains("bad magic"));
}

#[test]
fn other_format_version() {
    let mut bytes = artifact(&CompileSettings::default(), None);
    let h = header_range(&bytes);
    // The varint after the magic is the format version.
    bytes[h.start + 8] += 1;
    reseal(&mut bytes);
    let msg = refused(&bytes).to_string();
    assert!(msg.contains("artifact format version"), "{msg}");
}

#[test]
fn other_cmc_version() {
    let mut bytes = artifact(&CompileSettings::default(), None);
    let h = header_range(&bytes);
    let version = cmc_runtime::abi::CMC_VERSION.as_bytes();
    let at = h.start + 10;
    assert_eq!(&bytes[at..at + version.len()], version);
    bytes[at] = b'9';
    reseal(&mut bytes);
    let msg = refused(&bytes).to_string();
    assert!(msg.contains("cmc version `9"), "{msg}");
}

#[test]
fn other_target() {
    let other = if cfg!(target_arch = "x86_64") {
        "aarch64-unknown-linux-gnu"
    } else {
        "x86_64-unknown-linux-gnu"
    };
    let msg = refused(&artifact(&CompileSettings::default(), Some(other))).to_string();
    assert!(msg.contains(&format!("target `{other}`")), "{msg}");
}

#[test]
fn other_compile_settings() {
    let settings = CompileSettings {
        opt_level: OptLevel::None,
        ..CompileSettings::default()
    };
    let msg = refused(&artifact(&settings, None)).to_string();
    assert!(
        msg.contains("optimization level `none`") && msg.contains("expects `speed`"),
        "{msg}"
    );
}

#[test]
fn epoch_checks_must_match_the_engine() {
    let settings = CompileSettings {
        epoch_interruption: true,
        ..CompileSettings::default()
    };
    let msg = refused(&artifact(&settings, None)).to_string();
    assert!(
        msg.contains("built with epoch-interruption checks"),
        "{msg}"
    );
    let without = artifact(&CompileSettings::default(), None);
    let mut config = Config::default();
    config.epoch_interruption(true);
    // SAFETY: built by cmc's compiler just above.
    let err = unsafe { Module::from_artifact(&Engine::new(config), &without) }
        .err()
        .unwrap();
    assert!(
        err.to_string()
            .contains("rebuild it with `cmc build -W epoch-interruption=y`"),
        "{err}"
    );
}

#[test]
fn a_component_artifact_is_not_a_module() {
    let mut bytes = artifact(&CompileSettings::default(), None);
    let h = header_range(&bytes);
    // The kind is the header's last field: variant 0 (module) → 1 (component).
    assert_eq!(bytes[h.end - 1], 0);
    bytes[h.end - 1] = 1;
    reseal(&mut bytes);
    let msg = refused(&bytes).to_string();
    assert!(
        msg.contains("kind `component`") && msg.contains("core module"),
        "{msg}"
    );
}

#[test]
fn tampered_metadata_is_refused() {
    let bytes = artifact(&CompileSettings::default(), None);
    let file = object::File::parse(&*bytes).unwrap();
    let (off, len) = file
        .section_by_name(".cmc.meta")
        .unwrap()
        .file_range()
        .unwrap();
    for i in off..off + len {
        for value in [0x00, 0x01, 0x7f, 0xff] {
            let mut tampered = bytes.clone();
            tampered[i as usize] = value;
            reseal(&mut tampered);
            // Refused, or a module that instantiates and runs (or fails with
            // an error); never a panic or a crash.
            let outcome = std::panic::catch_unwind(|| match load(&tampered) {
                Err(e) => assert!(matches!(e, Error::Artifact(_)), "{e}"),
                Ok(module) => {
                    let mut store = Store::new(module.engine(), ());
                    if let Ok(instance) = Linker::new().instantiate(&mut store, &module) {
                        for (_, export) in instance.exports(&store) {
                            if let Some(f) = export.into_func() {
                                let ty = f.ty(&store);
                                let args: Vec<Val> =
                                    ty.params.iter().map(|&t| Val::default_for(t)).collect();
                                let mut out: Vec<Val> =
                                    ty.results.iter().map(|&t| Val::default_for(t)).collect();
                                let _ = f.call(&mut store, &args, &mut out);
                            }
                        }
                    }
                }
            });
            assert!(outcome.is_ok(), "byte {i} set to {value:#x} panicked");
        }
    }
}

#[test]
fn files_load_by_mapping() {
    let dir = std::env::temp_dir().join(format!("cmc-artifacts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("m.cmc");
    std::fs::write(&path, artifact(&CompileSettings::default(), None)).unwrap();
    let engine = Engine::new(Config::default());
    // SAFETY: written just above by cmc's compiler.
    let module = unsafe { Module::load_file(&engine, &path) }.unwrap();
    assert_eq!(module.exports().count(), 1);
    // SAFETY: as above; the file does not exist, which must be an error.
    let err = unsafe { Module::load_file(&engine, dir.join("missing.cmc")) }
        .err()
        .unwrap();
    assert!(err.to_string().contains("cannot read artifact"), "{err}");
}

#[test]
fn artifact_info_reads_both_kinds() {
    use cmc_runtime::abi::{ArtifactKind, ExportItem};
    use cmc_runtime::{ArtifactInfo, ArtifactMeta};
    let module = ArtifactInfo::read(&artifact(&CompileSettings::default(), None)).unwrap();
    assert_eq!(module.header.kind, ArtifactKind::Module);
    let ArtifactMeta::Module(meta) = &module.meta else {
        panic!("a module artifact has module metadata")
    };
    assert_eq!(meta.exports[0].name, "f");

    let wat = include_str!("../../components/strings.wat");
    let bytes = cmc_compiler::compile(wat.as_bytes(), &CompileSettings::default(), None).unwrap();
    let component = ArtifactInfo::read(&bytes).unwrap();
    assert_eq!(component.header.kind, ArtifactKind::Component);
    assert!(component.sections.iter().any(|(name, _)| name == ".text"));
    let ArtifactMeta::Component(meta) = &component.meta else {
        panic!("a component artifact has component metadata")
    };
    assert_eq!(meta.modules.len(), 2);
    assert_eq!(meta.imports.as_values_slice()[0].0, "host");
    let names: Vec<&str> = meta.exports.iter().map(|(n, _)| n.as_str()).collect();
    assert!(
        names.contains(&"add") && names.contains(&"api"),
        "{names:?}"
    );
    let Some((_, ExportItem::Func(add))) = meta.exports.iter().find(|(n, _)| n == "add") else {
        panic!("`add` is an exported function")
    };
    assert_eq!(meta.lifted[*add].ty.params.len(), 2);

    // A truncated component artifact is refused, not misread.
    let e = ArtifactInfo::read(&bytes[..bytes.len() / 2]).unwrap_err();
    assert!(
        e.to_string().contains("corrupt") || e.to_string().contains("not a cmc artifact"),
        "{e}"
    );
}

#[test]
fn modules_and_components_refuse_each_others_artifacts() {
    let engine = Engine::new(Config::default());
    let wat = include_str!("../../components/strings.wat");
    let component =
        cmc_compiler::compile(wat.as_bytes(), &CompileSettings::default(), None).unwrap();
    let msg = refused(&component).to_string();
    assert!(
        msg.contains("kind `component`") && msg.contains("expects `core module`"),
        "{msg}"
    );

    let module = artifact(&CompileSettings::default(), None);
    // SAFETY: written by cmc's compiler; the loader must refuse its kind.
    let err = unsafe { cmc_runtime::component::Component::from_artifact(&engine, &module) }
        .err()
        .expect("a core module is not a component");
    assert!(err.to_string().contains("kind `core module`"), "{err}");
    // SAFETY: as above, for the right kind.
    let loaded = unsafe { cmc_runtime::component::Component::from_artifact(&engine, &component) };
    assert!(loaded.is_ok());
}

/// Counts what a compile reports.
#[derive(Default)]
struct Counted {
    work: std::sync::atomic::AtomicU64,
    done: std::sync::atomic::AtomicU64,
}

impl cmc_compiler::Progress for Counted {
    fn add_work(&self, n: u64) {
        self.work.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    }

    fn advance(&self, n: u64) {
        self.done.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    }
}

#[test]
fn compiles_report_all_the_work_they_announce() {
    let module = r#"(module
        (func $leaf (param i32) (result i32) local.get 0 i32.const 1 i32.add)
        (func (export "f") (param i32) (result i32) local.get 0 call $leaf)
        (func (export "g") (param i32) (result i32)
            local.get 0 i32.load local.get 0 call $leaf i32.add)
        (memory 1))"#;
    let component = include_str!("../../components/strings.wat");
    for wasm in [module, component] {
        let counted = Counted::default();
        let settings = CompileSettings::default();
        let options = cmc_compiler::Options::new(&settings).progress(&counted);
        cmc_compiler::compile_with(wasm.as_bytes(), &options).unwrap();
        let (work, done) = (counted.work.into_inner(), counted.done.into_inner());
        assert!(work > 0, "no work announced");
        assert_eq!(
            work, done,
            "announced {work} bytes of code, reported {done}"
        );
    }
}
