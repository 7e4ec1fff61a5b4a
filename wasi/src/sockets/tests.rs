//! The host side of `wasi:sockets`, called as the linker calls it, on
//! loopback only: the state machines and their error codes, the policy,
//! connections and datagrams end to end, and name lookups that need no
//! network (`localhost`, literals).

use super::network::{self, ErrorCode, SocketError, SocketResult, socket_addr, socket_addr_val};
use super::{ip_name_lookup, tcp, udp};
use crate::ctx::{NetworkPolicy, WasiCtx};
use crate::io::error::IoError;
use crate::io::poll::{self, Pollable};
use crate::io::streams::{DynInputStream, DynOutputStream, StreamError};
use crate::val::{self, Args, own};
use cmc_runtime::component::Val;
use std::net::SocketAddr;
use std::time::Duration;

fn ctx_with(policy: NetworkPolicy) -> WasiCtx {
    WasiCtx::builder().network(policy).build()
}

/// A context that may use any address and look names up.
fn open_ctx() -> WasiCtx {
    ctx_with(NetworkPolicy::ALL)
}

fn ok<T>(r: SocketResult<T>) -> T {
    match r {
        Ok(v) => v,
        Err(SocketError::Code(c)) => panic!("failed with {c:?}"),
        Err(SocketError::Trap(e)) => panic!("trapped: {e}"),
    }
}

fn code<T>(r: SocketResult<T>) -> ErrorCode {
    match r {
        Ok(_) => panic!("succeeded"),
        Err(SocketError::Code(c)) => c,
        Err(SocketError::Trap(e)) => panic!("trapped: {e}"),
    }
}

fn traps<T>(r: SocketResult<T>) -> bool {
    matches!(r, Err(SocketError::Trap(_)))
}

fn args(vals: &[Val]) -> Args<'_> {
    Args::new(vals)
}

/// The arguments of a method without parameters.
fn one(handle: &Val) -> Args<'_> {
    Args::new(std::slice::from_ref(handle))
}

fn net(ctx: &mut WasiCtx) -> Val {
    own(ctx.table.push(network::Network).unwrap())
}

fn addr(s: &str) -> Val {
    socket_addr_val(s.parse().unwrap())
}

fn family(f: &str) -> Val {
    Val::Enum(f.to_owned())
}

fn elements<const N: usize>(v: &Val) -> [Val; N] {
    val::tuple(v).unwrap().to_vec().try_into().unwrap()
}

/// Waits (at most 10 s, so a bug fails instead of hanging) on a pollable.
fn wait(ctx: &WasiCtx, pollable: &Val) {
    let p = ctx
        .table
        .get::<Pollable>(val::rep(pollable).unwrap())
        .unwrap();
    let ready = poll::wait(&[p], Some(Duration::from_secs(10))).unwrap();
    assert_eq!(ready, [0], "timed out");
}

fn is_ready(ctx: &WasiCtx, pollable: &Val) -> bool {
    let p = ctx
        .table
        .get::<Pollable>(val::rep(pollable).unwrap())
        .unwrap();
    p.is_ready().unwrap()
}

fn ipv6() -> bool {
    std::net::TcpListener::bind("[::1]:0").is_ok()
}

fn tcp_socket(ctx: &mut WasiCtx, f: &str) -> Val {
    ok(tcp::create_tcp_socket(ctx, args(&[family(f)])))
}

fn tcp_bind(ctx: &mut WasiCtx, sock: &Val, net: &Val, at: &str) -> SocketResult<()> {
    tcp::start_bind(ctx, args(&[sock.clone(), net.clone(), addr(at)]))?;
    tcp::finish_bind(ctx, one(sock))
}

fn tcp_local(ctx: &mut WasiCtx, sock: &Val) -> SocketAddr {
    socket_addr(&ok(tcp::local_address(ctx, one(sock)))).unwrap()
}

/// A listener on `at`, with its pollable made before it listens.
fn listener(ctx: &mut WasiCtx, net: &Val, at: &str) -> (Val, Val) {
    let f = if at.starts_with('[') { "ipv6" } else { "ipv4" };
    let sock = tcp_socket(ctx, f);
    let pollable = tcp::subscribe(ctx, one(&sock)).unwrap();
    ok(tcp_bind(ctx, &sock, net, at));
    ok(tcp::start_listen(ctx, one(&sock)));
    ok(tcp::finish_listen(ctx, one(&sock)));
    (sock, pollable)
}

/// Connects `sock` as a guest does: subscribe, start, wait, finish.
fn connect(ctx: &mut WasiCtx, sock: &Val, net: &Val, to: SocketAddr) -> SocketResult<[Val; 2]> {
    let pollable = tcp::subscribe(ctx, one(sock)).unwrap();
    tcp::start_connect(ctx, args(&[sock.clone(), net.clone(), socket_addr_val(to)]))?;
    loop {
        match tcp::finish_connect(ctx, one(sock)) {
            Err(SocketError::Code(ErrorCode::WouldBlock)) => wait(ctx, &pollable),
            r => return r.map(|v| elements(&v)),
        }
    }
}

fn accept(ctx: &mut WasiCtx, sock: &Val, pollable: &Val) -> [Val; 3] {
    loop {
        match tcp::accept(ctx, one(sock)) {
            Err(SocketError::Code(ErrorCode::WouldBlock)) => wait(ctx, pollable),
            r => return elements(&ok(r)),
        }
    }
}

/// A connected pair: `(client socket, input, output)` and the accepted
/// `(socket, input, output)`.
fn connection(ctx: &mut WasiCtx, loopback: &str) -> ([Val; 3], [Val; 3]) {
    let net = net(ctx);
    let (listener, ready) = listener(ctx, &net, &format!("{loopback}:0"));
    let to = tcp_local(ctx, &listener);
    let f = if loopback.starts_with('[') {
        "ipv6"
    } else {
        "ipv4"
    };
    let client = tcp_socket(ctx, f);
    let [input, output] = ok(connect(ctx, &client, &net, to));
    let server = accept(ctx, &listener, &ready);
    ([client, input, output], server)
}

fn input<'c>(ctx: &'c mut WasiCtx, stream: &Val) -> &'c mut DynInputStream {
    ctx.table.get_mut(val::rep(stream).unwrap()).unwrap()
}

fn output<'c>(ctx: &'c mut WasiCtx, stream: &Val) -> &'c mut DynOutputStream {
    ctx.table.get_mut(val::rep(stream).unwrap()).unwrap()
}

fn write(ctx: &mut WasiCtx, stream: &Val, data: &[u8]) {
    let out = output(ctx, stream);
    out.pollable().block().unwrap();
    assert!(out.check_write().unwrap() >= data.len());
    out.write(data).unwrap();
    out.flush().unwrap();
}

/// Everything up to the end of the stream.
fn read_to_end(ctx: &mut WasiCtx, stream: &Val) -> Vec<u8> {
    let mut all = Vec::new();
    loop {
        match input(ctx, stream).blocking_read(1 << 20) {
            Ok(data) => all.extend(data),
            Err(StreamError::Closed) => return all,
            Err(e) => panic!("read failed: {e:?}"),
        }
    }
}

fn shutdown(ctx: &mut WasiCtx, sock: &Val, how: &str) -> SocketResult<()> {
    tcp::shutdown(ctx, args(&[sock.clone(), Val::Enum(how.to_owned())]))
}

#[test]
fn an_unbound_tcp_socket_only_takes_options() {
    let mut ctx = open_ctx();
    let s = tcp_socket(&mut ctx, "ipv4");
    let one = [s.clone()];
    assert_eq!(
        code(tcp::finish_bind(&mut ctx, args(&one))),
        ErrorCode::NotInProgress
    );
    assert_eq!(
        code(tcp::finish_connect(&mut ctx, args(&one))),
        ErrorCode::NotInProgress
    );
    // Unlike POSIX, WASI 0.2 does not listen on an unbound socket.
    assert_eq!(
        code(tcp::start_listen(&mut ctx, args(&one))),
        ErrorCode::InvalidState
    );
    assert_eq!(
        code(tcp::finish_listen(&mut ctx, args(&one))),
        ErrorCode::NotInProgress
    );
    assert_eq!(
        code(tcp::accept(&mut ctx, args(&one))),
        ErrorCode::InvalidState
    );
    assert_eq!(
        code(shutdown(&mut ctx, &s, "both")),
        ErrorCode::InvalidState
    );
    assert_eq!(
        code(tcp::local_address(&mut ctx, args(&one))),
        ErrorCode::InvalidState
    );
    assert_eq!(
        code(tcp::remote_address(&mut ctx, args(&one))),
        ErrorCode::InvalidState
    );
    assert_eq!(
        tcp::is_listening(&mut ctx, args(&one)).unwrap(),
        Val::Bool(false)
    );
    assert_eq!(
        tcp::address_family(&mut ctx, args(&one)).unwrap(),
        family("ipv4")
    );
    ok(tcp::set_listen_backlog_size(
        &mut ctx,
        args(&[s.clone(), Val::U64(32)]),
    ));
    ok(tcp::keep_alive_enabled(&mut ctx, args(&one)));
    ok(tcp::hop_limit(&mut ctx, args(&one)));
    // A socket that is not connecting is ready at once.
    let pollable = tcp::subscribe(&mut ctx, args(&one)).unwrap();
    assert!(is_ready(&ctx, &pollable));
}

#[test]
fn socket_options_are_checked_clamped_and_read_back() {
    const SECOND: u64 = 1_000_000_000;
    let mut ctx = open_ctx();
    let s = tcp_socket(&mut ctx, "ipv4");
    let with = |v: Val| [s.clone(), v];
    for (name, f) in [
        (
            "backlog",
            tcp::set_listen_backlog_size as fn(&mut WasiCtx, Args<'_>) -> SocketResult<()>,
        ),
        ("idle", tcp::set_keep_alive_idle_time),
        ("interval", tcp::set_keep_alive_interval),
        ("receive", tcp::set_receive_buffer_size),
        ("send", tcp::set_send_buffer_size),
    ] {
        let zero = code(f(&mut ctx, args(&with(Val::U64(0)))));
        assert_eq!(zero, ErrorCode::InvalidArgument, "{name}");
        ok(f(&mut ctx, args(&with(Val::U64(1)))));
        ok(f(&mut ctx, args(&with(Val::U64(u64::MAX)))));
    }
    let zero = code(tcp::set_keep_alive_count(
        &mut ctx,
        args(&with(Val::U32(0))),
    ));
    assert_eq!(zero, ErrorCode::InvalidArgument);
    ok(tcp::set_keep_alive_count(
        &mut ctx,
        args(&with(Val::U32(u32::MAX))),
    ));
    let zero = code(tcp::set_hop_limit(&mut ctx, args(&with(Val::U8(0)))));
    assert_eq!(zero, ErrorCode::InvalidArgument);

    // 1 ns is clamped up to the OS's smallest non-default time, 1 s.
    ok(tcp::set_keep_alive_idle_time(
        &mut ctx,
        args(&with(Val::U64(1))),
    ));
    let idle = ok(tcp::keep_alive_idle_time(&mut ctx, one(&s)));
    assert_eq!(idle, Val::U64(SECOND));

    ok(tcp::set_keep_alive_enabled(
        &mut ctx,
        args(&with(Val::Bool(true))),
    ));
    assert_eq!(
        ok(tcp::keep_alive_enabled(&mut ctx, one(&s))),
        Val::Bool(true)
    );
    ok(tcp::set_keep_alive_interval(
        &mut ctx,
        args(&with(Val::U64(42 * SECOND))),
    ));
    let interval = ok(tcp::keep_alive_interval(&mut ctx, one(&s)));
    assert_eq!(interval, Val::U64(42 * SECOND));
    ok(tcp::set_keep_alive_count(
        &mut ctx,
        args(&with(Val::U32(42))),
    ));
    assert_eq!(ok(tcp::keep_alive_count(&mut ctx, one(&s))), Val::U32(42));
    ok(tcp::set_hop_limit(&mut ctx, args(&with(Val::U8(42)))));
    assert_eq!(ok(tcp::hop_limit(&mut ctx, one(&s))), Val::U8(42));
    ok(tcp::set_receive_buffer_size(
        &mut ctx,
        args(&with(Val::U64(0x10000))),
    ));
    let size = ok(tcp::receive_buffer_size(&mut ctx, one(&s)));
    assert_eq!(size, Val::U64(0x10000));
}

#[test]
fn without_the_network_addresses_are_refused() {
    let mut ctx = ctx_with(NetworkPolicy {
        tcp: true,
        udp: true,
        ..NetworkPolicy::default()
    });
    let net = net(&mut ctx);
    let s = tcp_socket(&mut ctx, "ipv4");
    assert_eq!(
        code(tcp_bind(&mut ctx, &s, &net, "127.0.0.1:0")),
        ErrorCode::AccessDenied
    );
    // A refused connect fails when it is finished, as in wasmtime, and
    // leaves the socket closed.
    let to = "127.0.0.1:47".parse().unwrap();
    assert_eq!(
        code(connect(&mut ctx, &s, &net, to)),
        ErrorCode::AccessDenied
    );
    assert_eq!(
        code(tcp::finish_connect(&mut ctx, one(&s))),
        ErrorCode::NotInProgress
    );
    assert_eq!(
        code(tcp::hop_limit(&mut ctx, one(&s))),
        ErrorCode::InvalidState
    );

    let u = ok(udp::create_udp_socket(&mut ctx, args(&[family("ipv4")])));
    let bind = udp::start_bind(&mut ctx, args(&[u, net.clone(), addr("127.0.0.1:0")]));
    assert_eq!(code(bind), ErrorCode::AccessDenied);

    // Name lookups are off by default, with wasmtime's code.
    let lookup =
        ip_name_lookup::resolve_addresses(&mut ctx, args(&[net, Val::String("localhost".into())]));
    assert_eq!(code(lookup), ErrorCode::PermanentResolverFailure);
}

#[test]
fn tcp_and_udp_can_be_switched_off() {
    let mut ctx = ctx_with(NetworkPolicy {
        allow_addresses: true,
        tcp: false,
        udp: false,
        ip_name_lookup: false,
    });
    let tcp = tcp::create_tcp_socket(&mut ctx, args(&[family("ipv4")]));
    assert_eq!(code(tcp), ErrorCode::AccessDenied);
    let udp = udp::create_udp_socket(&mut ctx, args(&[family("ipv6")]));
    assert_eq!(code(udp), ErrorCode::AccessDenied);
}

#[test]
fn binding_follows_the_state_machine() {
    let mut ctx = open_ctx();
    let net = net(&mut ctx);
    let s = tcp_socket(&mut ctx, "ipv4");
    ok(tcp::start_bind(
        &mut ctx,
        args(&[s.clone(), net.clone(), addr("127.0.0.1:0")]),
    ));
    let again = tcp::start_bind(
        &mut ctx,
        args(&[s.clone(), net.clone(), addr("127.0.0.1:0")]),
    );
    assert_eq!(code(again), ErrorCode::ConcurrencyConflict);
    ok(tcp::finish_bind(&mut ctx, one(&s)));
    assert_eq!(
        code(tcp::finish_bind(&mut ctx, one(&s))),
        ErrorCode::NotInProgress
    );
    assert_eq!(
        code(tcp_bind(&mut ctx, &s, &net, "127.0.0.1:0")),
        ErrorCode::InvalidState
    );
    let bound = tcp_local(&mut ctx, &s);
    assert!(bound.ip().is_loopback() && bound.port() != 0);

    // Another socket on the same address, while the first listens.
    ok(tcp::start_listen(&mut ctx, one(&s)));
    ok(tcp::finish_listen(&mut ctx, one(&s)));
    let other = tcp_socket(&mut ctx, "ipv4");
    let taken = tcp_bind(&mut ctx, &other, &net, &bound.to_string());
    assert_eq!(code(taken), ErrorCode::AddressInUse);
    // An address the host does not have (TEST-NET-1).
    let absent = tcp_bind(&mut ctx, &other, &net, "192.0.2.0:0");
    assert_eq!(code(absent), ErrorCode::AddressNotBindable);
}

#[test]
fn addresses_are_checked_before_any_system_call() {
    let mut ctx = open_ctx();
    let net = net(&mut ctx);
    let v4 = tcp_socket(&mut ctx, "ipv4");
    for bad in ["255.255.255.255:0", "224.254.0.0:0"] {
        assert_eq!(
            code(tcp_bind(&mut ctx, &v4, &net, bad)),
            ErrorCode::InvalidArgument
        );
    }
    assert_eq!(
        code(tcp_bind(&mut ctx, &v4, &net, "[::1]:0")),
        ErrorCode::InvalidArgument
    );
    for bad in ["0.0.0.0:47", "127.0.0.1:0", "[::1]:47"] {
        let to = bad.parse().unwrap();
        assert_eq!(
            code(connect(&mut ctx, &v4, &net, to)),
            ErrorCode::InvalidArgument,
            "{bad}"
        );
    }
    if ipv6() {
        let v6 = tcp_socket(&mut ctx, "ipv6");
        // IPv6 sockets are IPv6-only: no IPv4-mapped addresses.
        let mapped = tcp_bind(&mut ctx, &v6, &net, "[::ffff:127.0.0.1]:0");
        assert_eq!(code(mapped), ErrorCode::InvalidArgument);
        assert_eq!(
            code(tcp_bind(&mut ctx, &v6, &net, "[ff00::]:0")),
            ErrorCode::InvalidArgument
        );
        let to = "[::ffff:127.0.0.1]:47".parse().unwrap();
        assert_eq!(
            code(connect(&mut ctx, &v6, &net, to)),
            ErrorCode::InvalidArgument
        );
    }
}

#[test]
fn a_refused_connect_closes_the_socket() {
    let mut ctx = open_ctx();
    let net = net(&mut ctx);
    // A port nobody listens on: bind one, then let it go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let s = tcp_socket(&mut ctx, "ipv4");
    assert_eq!(
        code(connect(&mut ctx, &s, &net, port)),
        ErrorCode::ConnectionRefused
    );
    let again = tcp::start_connect(&mut ctx, args(&[s.clone(), net, socket_addr_val(port)]));
    assert_eq!(code(again), ErrorCode::InvalidState);
}

#[test]
fn connections_carry_bytes_both_ways() {
    for loopback in ["127.0.0.1", "[::1]"] {
        if loopback.starts_with('[') && !ipv6() {
            continue;
        }
        let mut ctx = open_ctx();
        let ([client, c_in, c_out], [server, s_in, s_out]) = connection(&mut ctx, loopback);
        let client_addr = tcp_local(&mut ctx, &client);
        let peer = ok(tcp::remote_address(&mut ctx, one(&server)));
        assert_eq!(socket_addr(&peer).unwrap(), client_addr);
        assert_eq!(input(&mut ctx, &s_in).read(0).unwrap(), b"");

        write(&mut ctx, &c_out, b"Hello, world!");
        assert_eq!(
            input(&mut ctx, &s_in).blocking_read(100).unwrap(),
            b"Hello, world!"
        );
        write(&mut ctx, &s_out, b"Greetings, planet!");
        assert_eq!(
            input(&mut ctx, &c_in).blocking_read(100).unwrap(),
            b"Greetings, planet!"
        );

        // A connected socket is in no state to bind, connect or listen.
        let net = net(&mut ctx);
        let to = socket_addr_val(client_addr);
        let bind = tcp::start_bind(&mut ctx, args(&[client.clone(), net.clone(), to.clone()]));
        assert_eq!(code(bind), ErrorCode::InvalidState);
        let connect = tcp::start_connect(&mut ctx, args(&[client.clone(), net, to]));
        assert_eq!(code(connect), ErrorCode::InvalidState);
        assert_eq!(
            code(tcp::start_listen(&mut ctx, one(&client))),
            ErrorCode::InvalidState
        );
        assert_eq!(
            code(tcp::accept(&mut ctx, args(&[client]))),
            ErrorCode::InvalidState
        );
    }
}

#[test]
fn a_listeners_pollable_waits_for_a_client() {
    let mut ctx = open_ctx();
    let net = net(&mut ctx);
    // Made while unbound: the pollable follows the socket's state.
    let (listener, ready) = listener(&mut ctx, &net, "127.0.0.1:0");
    assert!(!is_ready(&ctx, &ready));
    assert_eq!(
        code(tcp::accept(&mut ctx, one(&listener))),
        ErrorCode::WouldBlock
    );
    let to = tcp_local(&mut ctx, &listener);
    let client = tcp_socket(&mut ctx, "ipv4");
    ok(connect(&mut ctx, &client, &net, to));
    wait(&ctx, &ready);
    let [accepted, ..] = accept(&mut ctx, &listener, &ready);
    assert_eq!(
        tcp::address_family(&mut ctx, args(&[accepted])).unwrap(),
        family("ipv4")
    );
}

#[test]
fn shutdown_closes_the_streams() {
    let mut ctx = open_ctx();
    let ([client, c_in, c_out], [server, _s_in, s_out]) = connection(&mut ctx, "127.0.0.1");

    // Shut down by the peer: the end of data, even for a read of 0.
    write(&mut ctx, &s_out, b"bye");
    ok(shutdown(&mut ctx, &server, "both"));
    ok(shutdown(&mut ctx, &server, "both"));
    assert_eq!(read_to_end(&mut ctx, &c_in), b"bye");
    assert!(matches!(
        input(&mut ctx, &c_in).read(0),
        Err(StreamError::Closed)
    ));

    // Shut down here for sending.
    assert!(output(&mut ctx, &c_out).check_write().unwrap() > 0);
    ok(shutdown(&mut ctx, &client, "send"));
    let out = output(&mut ctx, &c_out);
    assert!(matches!(out.write(b"Hi!"), Err(StreamError::Closed)));
    assert!(matches!(out.check_write(), Err(StreamError::Closed)));
    assert!(matches!(out.flush(), Err(StreamError::Closed)));
    assert!(out.pollable().is_ready().unwrap());
}

#[test]
fn received_bytes_are_gone_after_shutting_down_receive() {
    let mut ctx = open_ctx();
    let ([client, c_in, _], [_, _, s_out]) = connection(&mut ctx, "127.0.0.1");
    write(&mut ctx, &s_out, b"Lorem ipsum dolor sit amet");
    input(&mut ctx, &c_in).pollable().block().unwrap();
    ok(shutdown(&mut ctx, &client, "receive"));
    assert!(matches!(
        input(&mut ctx, &c_in).read(10),
        Err(StreamError::Closed)
    ));
    assert!(matches!(
        input(&mut ctx, &c_in).read(0),
        Err(StreamError::Closed)
    ));
}

#[test]
fn shutting_down_after_a_big_write_loses_nothing() {
    let mut ctx = open_ctx();
    let ([client, _, c_out], [_, s_in, _]) = connection(&mut ctx, "127.0.0.1");
    ok(tcp::set_send_buffer_size(
        &mut ctx,
        args(&[client.clone(), Val::U64(1024)]),
    ));
    let small = ok(tcp::send_buffer_size(&mut ctx, one(&client)));
    let Val::U64(small) = small else {
        unreachable!()
    };
    let out = output(&mut ctx, &c_out);
    let big = out.check_write().unwrap().min(100 * small as usize);
    assert!(big > small as usize);
    let data = vec![7; big];
    out.write(&data).unwrap();
    ok(shutdown(&mut ctx, &client, "send"));
    assert_eq!(read_to_end(&mut ctx, &s_in).len(), big);
}

#[test]
fn a_reset_connection_fails_the_stream() {
    let mut ctx = open_ctx();
    let ([_, c_in, c_out], [server, s_in, s_out]) = connection(&mut ctx, "127.0.0.1");
    // Closing with bytes unread resets the connection.
    write(&mut ctx, &c_out, b"unread");
    input(&mut ctx, &s_in).pollable().block().unwrap();
    drop(ctx.table.delete::<DynInputStream>(val::rep(&s_in).unwrap()));
    drop(
        ctx.table
            .delete::<DynOutputStream>(val::rep(&s_out).unwrap()),
    );
    drop(
        ctx.table
            .delete::<tcp::TcpSocket>(val::rep(&server).unwrap()),
    );
    match input(&mut ctx, &c_in).blocking_read(10) {
        Err(StreamError::Failed(e)) => {
            assert_eq!(ErrorCode::from_io(&e), ErrorCode::ConnectionReset);
        }
        other => panic!("expected a reset, got {other:?}"),
    }
    assert!(matches!(
        input(&mut ctx, &c_in).read(10),
        Err(StreamError::Closed)
    ));
}

#[test]
fn network_error_code_reads_a_stream_error() {
    let mut ctx = open_ctx();
    let error = ctx
        .table
        .push(IoError(rustix::io::Errno::CONNRESET.into()))
        .unwrap();
    let code = network::network_error_code(&ctx, error).unwrap();
    assert_eq!(code, val::some(Val::Enum("connection-reset".into())));
}

fn udp_socket(ctx: &mut WasiCtx, net: &Val, at: &str) -> Val {
    let f = if at.starts_with('[') { "ipv6" } else { "ipv4" };
    let s = ok(udp::create_udp_socket(ctx, args(&[family(f)])));
    ok(udp::start_bind(
        ctx,
        args(&[s.clone(), net.clone(), addr(at)]),
    ));
    ok(udp::finish_bind(ctx, one(&s)));
    s
}

fn udp_local(ctx: &mut WasiCtx, sock: &Val) -> SocketAddr {
    socket_addr(&ok(udp::local_address(ctx, one(sock)))).unwrap()
}

fn udp_stream(ctx: &mut WasiCtx, sock: &Val, to: Option<SocketAddr>) -> SocketResult<[Val; 2]> {
    let to = Val::Option(to.map(|a| Box::new(socket_addr_val(a))));
    udp::stream(ctx, args(&[sock.clone(), to])).map(|v| elements(&v))
}

fn datagram(data: &[u8], to: Option<SocketAddr>) -> Val {
    val::record([
        ("data", val::bytes(data.to_vec())),
        (
            "remote-address",
            Val::Option(to.map(|a| Box::new(socket_addr_val(a)))),
        ),
    ])
}

fn send(ctx: &mut WasiCtx, out: &Val, datagrams: Vec<Val>) -> SocketResult<Val> {
    udp::send(ctx, args(&[out.clone(), Val::List(datagrams)]))
}

fn drop_streams(ctx: &mut WasiCtx, [incoming, outgoing]: [Val; 2]) {
    drop(
        ctx.table
            .delete::<udp::IncomingDatagramStream>(val::rep(&incoming).unwrap()),
    );
    drop(
        ctx.table
            .delete::<udp::OutgoingDatagramStream>(val::rep(&outgoing).unwrap()),
    );
}

/// Receives until at least `n` datagrams came: `(data, source)` each.
fn receive(ctx: &mut WasiCtx, incoming: &Val, n: usize) -> Vec<(Vec<u8>, SocketAddr)> {
    let pollable = udp::incoming_subscribe(ctx, one(incoming)).unwrap();
    let mut all = Vec::new();
    while all.len() < n {
        wait(ctx, &pollable);
        let got = ok(udp::receive(
            ctx,
            args(&[incoming.clone(), Val::U64(u64::MAX)]),
        ));
        for d in val::list(&got).unwrap() {
            let data = val::byte_list(val::field(d, "data").unwrap())
                .unwrap()
                .to_vec();
            let from = socket_addr(val::field(d, "remote-address").unwrap()).unwrap();
            all.push((data, from));
        }
    }
    all
}

#[test]
fn udp_sockets_exchange_datagrams() {
    for loopback in ["127.0.0.1", "[::1]"] {
        if loopback.starts_with('[') && !ipv6() {
            continue;
        }
        let mut ctx = open_ctx();
        let net = net(&mut ctx);
        let dest = udp_socket(&mut ctx, &net, &format!("{loopback}:0"));
        let src = udp_socket(&mut ctx, &net, &format!("{loopback}:0"));
        let (dest_addr, src_addr) = (udp_local(&mut ctx, &dest), udp_local(&mut ctx, &src));

        let streams = ok(udp_stream(&mut ctx, &src, Some(dest_addr)));
        let remote = ok(udp::remote_address(&mut ctx, one(&src)));
        assert_eq!(socket_addr(&remote).unwrap(), dest_addr);
        let out = &streams[1];
        let permit = ok(udp::check_send(&mut ctx, one(out)));
        assert!(matches!(permit, Val::U64(n) if n >= 2));
        let sent = send(
            &mut ctx,
            out,
            vec![datagram(b"1", None), datagram(b"2", Some(dest_addr))],
        );
        assert_eq!(ok(sent), Val::U64(2));
        // Another peer than the connected one is refused.
        ok(udp::check_send(&mut ctx, one(out)));
        let wrong = send(&mut ctx, out, vec![datagram(b"3", Some(src_addr))]);
        assert_eq!(code(wrong), ErrorCode::InvalidArgument);
        drop_streams(&mut ctx, streams);

        let [incoming, outgoing] = ok(udp_stream(&mut ctx, &dest, None));
        let got = receive(&mut ctx, &incoming, 2);
        assert_eq!(got, [(b"1".to_vec(), src_addr), (b"2".to_vec(), src_addr)]);
        // Unconnected, a datagram needs an address.
        ok(udp::check_send(&mut ctx, one(&outgoing)));
        let nowhere = send(&mut ctx, &outgoing, vec![datagram(b"?", None)]);
        assert_eq!(code(nowhere), ErrorCode::InvalidArgument);
    }
}

#[test]
fn a_connected_udp_stream_drops_datagrams_of_other_peers() {
    let mut ctx = open_ctx();
    let net = net(&mut ctx);
    let dest = udp_socket(&mut ctx, &net, "127.0.0.1:0");
    let dest_addr = udp_local(&mut ctx, &dest);
    let mut sources = Vec::new();
    for payload in [b"A", b"B"] {
        let src = udp_socket(&mut ctx, &net, "127.0.0.1:0");
        let streams = ok(udp_stream(&mut ctx, &src, Some(dest_addr)));
        ok(udp::check_send(&mut ctx, args(&[streams[1].clone()])));
        ok(send(&mut ctx, &streams[1], vec![datagram(payload, None)]));
        sources.push((src, streams));
    }
    // Both datagrams are queued before the connect to B.
    let b = udp_local(&mut ctx, &sources[1].0);
    let [incoming, _outgoing] = ok(udp_stream(&mut ctx, &dest, Some(b)));
    assert_eq!(receive(&mut ctx, &incoming, 1), [(b"B".to_vec(), b)]);
}

#[test]
fn udp_streams_follow_the_rules() {
    let mut ctx = open_ctx();
    let net = net(&mut ctx);
    let unbound = ok(udp::create_udp_socket(&mut ctx, args(&[family("ipv4")])));
    assert_eq!(
        code(udp_stream(&mut ctx, &unbound, None)),
        ErrorCode::InvalidState
    );
    assert_eq!(
        code(udp::finish_bind(&mut ctx, one(&unbound))),
        ErrorCode::NotInProgress
    );
    assert_eq!(
        code(udp::local_address(&mut ctx, args(&[unbound]))),
        ErrorCode::InvalidState
    );

    let s = udp_socket(&mut ctx, &net, "127.0.0.1:0");
    let rebind = udp::start_bind(
        &mut ctx,
        args(&[s.clone(), net.clone(), addr("127.0.0.1:0")]),
    );
    assert_eq!(code(rebind), ErrorCode::InvalidState);
    for bad in ["0.0.0.0:47", "127.0.0.1:0", "[::1]:47"] {
        let r = udp_stream(&mut ctx, &s, Some(bad.parse().unwrap()));
        assert_eq!(code(r), ErrorCode::InvalidArgument, "{bad}");
    }
    let peer = "127.0.0.1:4320".parse().unwrap();
    let streams = ok(udp_stream(&mut ctx, &s, Some(peer)));
    // The older pair must be dropped first.
    assert!(traps(udp_stream(&mut ctx, &s, None)));
    let out = streams[1].clone();
    // Sending more than `check-send` permitted traps; so does a second
    // send on one permit.
    let Val::U64(permit) = ok(udp::check_send(&mut ctx, one(&out))) else {
        unreachable!()
    };
    let too_many = (0..=permit).map(|_| datagram(b"hello", None)).collect();
    assert!(traps(send(&mut ctx, &out, too_many)));
    ok(udp::check_send(&mut ctx, one(&out)));
    ok(send(&mut ctx, &out, vec![datagram(b"hello", None)]));
    assert!(traps(send(&mut ctx, &out, vec![datagram(b"hello", None)])));
    assert_eq!(ok(send(&mut ctx, &out, vec![])), Val::U64(0));
    let huge = datagram(&vec![0; 70_000], None);
    ok(udp::check_send(&mut ctx, one(&out)));
    assert_eq!(
        code(send(&mut ctx, &out, vec![huge])),
        ErrorCode::DatagramTooLarge
    );
    drop_streams(&mut ctx, streams);

    // Disconnecting keeps the socket bound.
    let streams = ok(udp_stream(&mut ctx, &s, None));
    assert_eq!(
        code(udp::remote_address(&mut ctx, one(&s))),
        ErrorCode::InvalidState
    );
    ok(udp::local_address(&mut ctx, args(&[s])));
    let none = ok(udp::receive(
        &mut ctx,
        args(&[streams[0].clone(), Val::U64(0)]),
    ));
    assert_eq!(none, Val::List(vec![]));
}

#[test]
fn sending_to_a_closed_port_is_refused() {
    let mut ctx = open_ctx();
    let net = net(&mut ctx);
    let closed = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let s = udp_socket(&mut ctx, &net, "127.0.0.1:0");
    let [incoming, outgoing] = ok(udp_stream(&mut ctx, &s, Some(closed)));
    ok(udp::check_send(&mut ctx, one(&outgoing)));
    ok(send(&mut ctx, &outgoing, vec![datagram(b"hello", None)]));
    let pollable = udp::incoming_subscribe(&mut ctx, one(&incoming)).unwrap();
    wait(&ctx, &pollable);
    let r = udp::receive(&mut ctx, args(&[incoming, Val::U64(1)]));
    assert_eq!(code(r), ErrorCode::ConnectionRefused);
}

fn resolve(ctx: &mut WasiCtx, name: &str) -> SocketResult<Vec<Val>> {
    let net = net(ctx);
    let stream = ip_name_lookup::resolve_addresses(ctx, args(&[net, Val::String(name.into())]))?;
    let mut addrs = Vec::new();
    loop {
        let next = ip_name_lookup::resolve_next_address(ctx, one(&stream))?;
        match val::option(&next).unwrap() {
            Some(ip) => addrs.push(ip.clone()),
            None => return Ok(addrs),
        }
    }
}

#[test]
fn names_and_literals_resolve() {
    let mut ctx = open_ctx();
    let localhost = ok(resolve(&mut ctx, "localhost"));
    assert!(!localhost.is_empty());
    let ipv4 = |a: [u8; 4]| network::ip_addr_val(a.into());
    let ipv6 = |a: [u16; 8]| network::ip_addr_val(a.into());
    assert_eq!(ok(resolve(&mut ctx, "127.0.0.1")), [ipv4([127, 0, 0, 1])]);
    assert_eq!(
        ok(resolve(&mut ctx, "::1")),
        [ipv6([0, 0, 0, 0, 0, 0, 0, 1])]
    );
    assert_eq!(ok(resolve(&mut ctx, "[::]")), [ipv6([0; 8])]);
    assert_eq!(
        ok(resolve(&mut ctx, "DEAD:BEEF::0")),
        [ipv6([0xdead, 0xbeef, 0, 0, 0, 0, 0, 0])]
    );
    for bad in [
        "",
        " ",
        "a.b<&>",
        "127.0.0.1:80",
        "[::]:80",
        "http://example.com/",
    ] {
        assert_eq!(
            code(resolve(&mut ctx, bad)),
            ErrorCode::InvalidArgument,
            "{bad:?}"
        );
    }
}

#[test]
fn accepted_sockets_inherit_the_listeners_options() {
    const SECOND: u64 = 1_000_000_000;
    let mut ctx = open_ctx();
    let net = net(&mut ctx);
    let listener = tcp_socket(&mut ctx, "ipv4");
    let with = |v: Val| [listener.clone(), v];
    ok(tcp::set_keep_alive_enabled(
        &mut ctx,
        args(&with(Val::Bool(true))),
    ));
    ok(tcp::set_keep_alive_idle_time(
        &mut ctx,
        args(&with(Val::U64(42 * SECOND))),
    ));
    ok(tcp::set_keep_alive_count(
        &mut ctx,
        args(&with(Val::U32(42))),
    ));
    ok(tcp::set_hop_limit(&mut ctx, args(&with(Val::U8(42)))));
    let ready = tcp::subscribe(&mut ctx, one(&listener)).unwrap();
    ok(tcp_bind(&mut ctx, &listener, &net, "127.0.0.1:0"));
    ok(tcp::start_listen(&mut ctx, one(&listener)));
    ok(tcp::finish_listen(&mut ctx, one(&listener)));
    let to = tcp_local(&mut ctx, &listener);
    let client = tcp_socket(&mut ctx, "ipv4");
    ok(connect(&mut ctx, &client, &net, to));
    let [accepted, ..] = accept(&mut ctx, &listener, &ready);
    let one = [accepted];
    assert_eq!(
        ok(tcp::keep_alive_enabled(&mut ctx, args(&one))),
        Val::Bool(true)
    );
    assert_eq!(
        ok(tcp::keep_alive_idle_time(&mut ctx, args(&one))),
        Val::U64(42 * SECOND)
    );
    assert_eq!(
        ok(tcp::keep_alive_count(&mut ctx, args(&one))),
        Val::U32(42)
    );
    assert_eq!(ok(tcp::hop_limit(&mut ctx, args(&one))), Val::U8(42));
}
