//! `wasi:sockets`: TCP and UDP sockets and name lookups over the host's
//! network, within the context's [`NetworkPolicy`](crate::NetworkPolicy).
//!
//! cmc runs a guest on one host thread without an async runtime, so every
//! OS socket is non-blocking, and what a guest waits for is a pollable on
//! the socket's descriptor (`wasi:io/poll` waits with `poll(2)`). The
//! interfaces' behaviour, where their WIT leaves room, is wasmtime's:
//! [`network`] says how error codes and the policy are decided.
//!
//! This module registers the interfaces; [`tcp`], [`udp`] and
//! [`ip_name_lookup`] implement them.

mod ip_name_lookup;
mod network;
mod sockopt;
mod tcp;
mod udp;

#[cfg(test)]
mod tests;

use crate::host::{WasiView, interface};
use crate::val::own;
use cmc_runtime::component::Linker;
use network::{Network, result, unit_result};

pub(crate) fn add_to_linker<T: WasiView>(linker: &mut Linker<T>) {
    // `network-error-code` is `@unstable` in 0.2; defining it costs a
    // guest that does not import it nothing.
    interface(linker, "wasi:sockets/network")
        .resource::<Network>("network")
        .func("network-error-code", |ctx, mut a| {
            network::network_error_code(ctx, a.rep()?)
        });
    interface(linker, "wasi:sockets/instance-network").func("instance-network", |ctx, _| {
        Ok(own(ctx.table.push(Network)?))
    });
    interface(linker, "wasi:sockets/tcp-create-socket").func("create-tcp-socket", |ctx, a| {
        result(tcp::create_tcp_socket(ctx, a))
    });
    interface(linker, "wasi:sockets/tcp")
        .resource::<tcp::TcpSocket>("tcp-socket")
        .func("[method]tcp-socket.start-bind", |ctx, a| {
            unit_result(tcp::start_bind(ctx, a))
        })
        .func("[method]tcp-socket.finish-bind", |ctx, a| {
            unit_result(tcp::finish_bind(ctx, a))
        })
        .func("[method]tcp-socket.start-connect", |ctx, a| {
            unit_result(tcp::start_connect(ctx, a))
        })
        .func("[method]tcp-socket.finish-connect", |ctx, a| {
            result(tcp::finish_connect(ctx, a))
        })
        .func("[method]tcp-socket.start-listen", |ctx, a| {
            unit_result(tcp::start_listen(ctx, a))
        })
        .func("[method]tcp-socket.finish-listen", |ctx, a| {
            unit_result(tcp::finish_listen(ctx, a))
        })
        .func("[method]tcp-socket.accept", |ctx, a| {
            result(tcp::accept(ctx, a))
        })
        .func("[method]tcp-socket.local-address", |ctx, a| {
            result(tcp::local_address(ctx, a))
        })
        .func("[method]tcp-socket.remote-address", |ctx, a| {
            result(tcp::remote_address(ctx, a))
        })
        .func("[method]tcp-socket.is-listening", tcp::is_listening)
        .func("[method]tcp-socket.address-family", tcp::address_family)
        .func("[method]tcp-socket.set-listen-backlog-size", |ctx, a| {
            unit_result(tcp::set_listen_backlog_size(ctx, a))
        })
        .func("[method]tcp-socket.keep-alive-enabled", |ctx, a| {
            result(tcp::keep_alive_enabled(ctx, a))
        })
        .func("[method]tcp-socket.set-keep-alive-enabled", |ctx, a| {
            unit_result(tcp::set_keep_alive_enabled(ctx, a))
        })
        .func("[method]tcp-socket.keep-alive-idle-time", |ctx, a| {
            result(tcp::keep_alive_idle_time(ctx, a))
        })
        .func("[method]tcp-socket.set-keep-alive-idle-time", |ctx, a| {
            unit_result(tcp::set_keep_alive_idle_time(ctx, a))
        })
        .func("[method]tcp-socket.keep-alive-interval", |ctx, a| {
            result(tcp::keep_alive_interval(ctx, a))
        })
        .func("[method]tcp-socket.set-keep-alive-interval", |ctx, a| {
            unit_result(tcp::set_keep_alive_interval(ctx, a))
        })
        .func("[method]tcp-socket.keep-alive-count", |ctx, a| {
            result(tcp::keep_alive_count(ctx, a))
        })
        .func("[method]tcp-socket.set-keep-alive-count", |ctx, a| {
            unit_result(tcp::set_keep_alive_count(ctx, a))
        })
        .func("[method]tcp-socket.hop-limit", |ctx, a| {
            result(tcp::hop_limit(ctx, a))
        })
        .func("[method]tcp-socket.set-hop-limit", |ctx, a| {
            unit_result(tcp::set_hop_limit(ctx, a))
        })
        .func("[method]tcp-socket.receive-buffer-size", |ctx, a| {
            result(tcp::receive_buffer_size(ctx, a))
        })
        .func("[method]tcp-socket.set-receive-buffer-size", |ctx, a| {
            unit_result(tcp::set_receive_buffer_size(ctx, a))
        })
        .func("[method]tcp-socket.send-buffer-size", |ctx, a| {
            result(tcp::send_buffer_size(ctx, a))
        })
        .func("[method]tcp-socket.set-send-buffer-size", |ctx, a| {
            unit_result(tcp::set_send_buffer_size(ctx, a))
        })
        .func("[method]tcp-socket.subscribe", tcp::subscribe)
        .func("[method]tcp-socket.shutdown", |ctx, a| {
            unit_result(tcp::shutdown(ctx, a))
        });
    interface(linker, "wasi:sockets/udp-create-socket").func("create-udp-socket", |ctx, a| {
        result(udp::create_udp_socket(ctx, a))
    });
    interface(linker, "wasi:sockets/udp")
        .resource::<udp::UdpSocket>("udp-socket")
        .resource::<udp::IncomingDatagramStream>("incoming-datagram-stream")
        .resource::<udp::OutgoingDatagramStream>("outgoing-datagram-stream")
        .func("[method]udp-socket.start-bind", |ctx, a| {
            unit_result(udp::start_bind(ctx, a))
        })
        .func("[method]udp-socket.finish-bind", |ctx, a| {
            unit_result(udp::finish_bind(ctx, a))
        })
        .func("[method]udp-socket.stream", |ctx, a| {
            result(udp::stream(ctx, a))
        })
        .func("[method]udp-socket.local-address", |ctx, a| {
            result(udp::local_address(ctx, a))
        })
        .func("[method]udp-socket.remote-address", |ctx, a| {
            result(udp::remote_address(ctx, a))
        })
        .func("[method]udp-socket.address-family", udp::address_family)
        .func("[method]udp-socket.unicast-hop-limit", |ctx, a| {
            result(udp::unicast_hop_limit(ctx, a))
        })
        .func("[method]udp-socket.set-unicast-hop-limit", |ctx, a| {
            unit_result(udp::set_unicast_hop_limit(ctx, a))
        })
        .func("[method]udp-socket.receive-buffer-size", |ctx, a| {
            result(udp::receive_buffer_size(ctx, a))
        })
        .func("[method]udp-socket.set-receive-buffer-size", |ctx, a| {
            unit_result(udp::set_receive_buffer_size(ctx, a))
        })
        .func("[method]udp-socket.send-buffer-size", |ctx, a| {
            result(udp::send_buffer_size(ctx, a))
        })
        .func("[method]udp-socket.set-send-buffer-size", |ctx, a| {
            unit_result(udp::set_send_buffer_size(ctx, a))
        })
        .func("[method]udp-socket.subscribe", udp::subscribe)
        .func("[method]incoming-datagram-stream.receive", |ctx, a| {
            result(udp::receive(ctx, a))
        })
        .func(
            "[method]incoming-datagram-stream.subscribe",
            udp::incoming_subscribe,
        )
        .func("[method]outgoing-datagram-stream.check-send", |ctx, a| {
            result(udp::check_send(ctx, a))
        })
        .func("[method]outgoing-datagram-stream.send", |ctx, a| {
            result(udp::send(ctx, a))
        })
        .func(
            "[method]outgoing-datagram-stream.subscribe",
            udp::outgoing_subscribe,
        );
    interface(linker, "wasi:sockets/ip-name-lookup")
        .resource::<ip_name_lookup::ResolveAddressStream>("resolve-address-stream")
        .func("resolve-addresses", |ctx, a| {
            result(ip_name_lookup::resolve_addresses(ctx, a))
        })
        .func(
            "[method]resolve-address-stream.resolve-next-address",
            |ctx, a| result(ip_name_lookup::resolve_next_address(ctx, a)),
        )
        .func(
            "[method]resolve-address-stream.subscribe",
            ip_name_lookup::subscribe,
        );
}
