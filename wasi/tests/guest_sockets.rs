//! `wasi:sockets` through a component, on loopback: the guest
//! (`guests/sockets.wat`) binds, listens, connects, accepts, sends
//! datagrams and resolves a literal through the canonical ABI, so the
//! host's values must lower exactly as the WIT types lay them out. The
//! host side of each operation is tested in `src/sockets/tests.rs`.

use cmc_runtime::component::{Component, Instance, Linker, Val};
use cmc_runtime::{Config, Store};
use cmc_wasi::{NetworkPolicy, WasiCtx};

fn guest(policy: NetworkPolicy) -> (Store<WasiCtx>, Instance) {
    let engine = cmc_compiler::engine(Config::default());
    let component =
        Component::new(&engine, include_str!("guests/sockets.wat")).expect("the guest compiles");
    let mut linker = Linker::new();
    cmc_wasi::add_to_linker(&mut linker);
    let ctx = WasiCtx::builder().network(policy).build();
    let mut store = Store::new(&engine, ctx);
    let instance = linker
        .instantiate(&mut store, &component)
        .expect("it links");
    (store, instance)
}

/// Runs export `name`: 0, or the failed step times 256 plus its error code.
fn run(policy: NetworkPolicy, name: &str) -> u32 {
    let (mut store, instance) = guest(policy);
    let func = instance
        .get_func(&store, &[name])
        .expect("the export exists");
    let mut results = [Val::U32(u32::MAX)];
    func.call(&mut store, &[], &mut results).expect("it runs");
    match results {
        [Val::U32(n)] => n,
        [v] => panic!("{name} returned {v:?}"),
    }
}

fn network() -> NetworkPolicy {
    NetworkPolicy::ALL
}

#[test]
fn a_tcp_connection_carries_a_message() {
    assert_eq!(run(network(), "tcp"), 0);
}

#[test]
fn a_datagram_arrives_with_its_source() {
    assert_eq!(run(network(), "udp"), 0);
}

#[test]
fn a_literal_resolves_to_itself() {
    assert_eq!(run(network(), "lookup"), 0);
}

#[test]
fn without_the_network_the_guest_is_refused() {
    // By default TCP is off: step 1 (create) fails with code 1,
    // `access-denied`.
    assert_eq!(run(NetworkPolicy::default(), "tcp"), 1 << 8 | 1);
    // With TCP on but no address allowed, step 2 (bind) does.
    let tcp_only = NetworkPolicy {
        tcp: true,
        ..NetworkPolicy::default()
    };
    assert_eq!(run(tcp_only, "tcp"), 2 << 8 | 1);
    // Step 1 (resolve) fails with code 20, `permanent-resolver-failure`.
    assert_eq!(run(NetworkPolicy::default(), "lookup"), 1 << 8 | 20);
}
