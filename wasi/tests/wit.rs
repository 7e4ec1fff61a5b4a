//! The host against WASI's specification: every function and resource of
//! every interface the `wasi:cli/command` world imports, as the vendored
//! WIT files (`wit/`) declare them, is defined by `add_to_linker`.

use cmc_runtime::component::Linker;
use cmc_wasi::WasiCtx;
use wit_parser::{Resolve, TypeDefKind, WorldItem};

/// The vendored packages, each after those it uses.
const PACKAGES: [&str; 6] = ["io", "clocks", "random", "filesystem", "sockets", "cli"];

/// Every `[interface, item]` path the command world imports (its stable
/// items: `@unstable` features are off, as in wasmtime's defaults).
fn command_world_items() -> Vec<[String; 2]> {
    let mut resolve = Resolve::default();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("wit/deps");
    for package in PACKAGES {
        resolve
            .push_file(dir.join(format!("{package}.wit")))
            .unwrap_or_else(|e| panic!("{package}.wit: {e:#}"));
    }
    let cli = resolve
        .packages
        .iter()
        .find(|(_, p)| p.name.namespace == "wasi" && p.name.name == "cli")
        .map(|(id, _)| id)
        .expect("the wasi:cli package");
    let world = resolve
        .select_world(&[cli], Some("command"))
        .expect("the wasi:cli/command world");
    let mut items = Vec::new();
    for (_, item) in &resolve.worlds[world].imports {
        let WorldItem::Interface { id, .. } = item else {
            continue;
        };
        let name = resolve.id_of(*id).expect("a named interface");
        let iface = &resolve.interfaces[*id];
        for func in iface.functions.keys() {
            items.push([name.clone(), func.clone()]);
        }
        for (ty_name, ty) in &iface.types {
            if matches!(resolve.types[*ty].kind, TypeDefKind::Resource) {
                items.push([name.clone(), ty_name.clone()]);
            }
        }
    }
    items
}

fn missing(linker: &Linker<WasiCtx>, items: &[[String; 2]]) -> Vec<String> {
    items
        .iter()
        .filter(|[iface, item]| !linker.contains(&[iface.as_str(), item.as_str()]))
        .map(|[iface, item]| format!("{iface}#{item}"))
        .collect()
}

#[test]
fn the_host_defines_the_whole_command_world() {
    let items = command_world_items();
    assert!(items.len() > 100, "only {} items parsed", items.len());
    let mut linker = Linker::new();
    cmc_wasi::add_to_linker(&mut linker);
    assert_eq!(missing(&linker, &items), Vec::<String>::new());
}

#[test]
fn older_minor_releases_link_to_the_host() {
    let mut linker = Linker::<WasiCtx>::new();
    cmc_wasi::add_to_linker(&mut linker);
    assert!(linker.contains(&["wasi:io/streams@0.2.0", "[method]input-stream.read"]));
    assert!(linker.contains(&["wasi:cli/stdout@0.2.3", "get-stdout"]));
    assert!(!linker.contains(&["wasi:io/streams@0.3.0", "[method]input-stream.read"]));
    assert!(!linker.contains(&["wasi:io/streams@1.0.0", "[method]input-stream.read"]));
}
