//! `wasi:sockets/ip-name-lookup`: host names to IP addresses.
//!
//! cmc has no background task to resolve in, so `resolve-addresses` looks
//! the name up itself, with std's resolver (the system's `getaddrinfo`),
//! and the stream it returns is complete from the start: its pollable is
//! always ready and `resolve-next-address` never says `would-block`. A
//! failed lookup is still reported by `resolve-next-address`, where the WIT
//! (and wasmtime, whose lookup is asynchronous) put it.
//!
//! Names are checked, and Unicode ones converted to ASCII (IDNA), by the
//! WHATWG URL standard's host parser (the `url` crate), as in wasmtime; an
//! IP address is returned as it is, without a lookup.

use super::network::{ErrorCode, SocketResult, ip_addr_val, network};
use crate::ctx::WasiCtx;
use crate::io::poll::Pollable;
use crate::val::{Args, none, own, some};
use cmc_runtime::Error;
use cmc_runtime::component::Val;
use std::net::{IpAddr, Ipv6Addr, ToSocketAddrs};
use url::Host;

/// The state of a `resolve-address-stream` resource: the addresses not yet
/// handed out, or why there are none.
pub(crate) struct ResolveAddressStream(Result<std::vec::IntoIter<IpAddr>, ErrorCode>);

/// What `name` is: an IP address, a domain name, or nothing a lookup can
/// take (`invalid-argument`).
fn parse(name: &str) -> Result<Host, ErrorCode> {
    Host::parse(name).or_else(|_| {
        // The URL parser wants IPv6 addresses in brackets; the WIT does
        // not.
        name.parse::<Ipv6Addr>()
            .map(Host::Ipv6)
            .map_err(|_| ErrorCode::InvalidArgument)
    })
}

/// The addresses of `host`, in the resolver's order of preference. The WIT
/// promises no IPv4-mapped IPv6 addresses from a lookup, so those are given
/// as the IPv4 addresses they are.
fn lookup(host: Host) -> Result<Vec<IpAddr>, ErrorCode> {
    match host {
        Host::Ipv4(ip) => Ok(vec![ip.into()]),
        Host::Ipv6(ip) => Ok(vec![ip.into()]),
        Host::Domain(domain) => (domain.as_str(), 0)
            .to_socket_addrs()
            .map(|addrs| addrs.map(|a| a.ip().to_canonical()).collect())
            // std keeps `getaddrinfo`'s reason to itself.
            .map_err(|_| ErrorCode::NameUnresolvable),
    }
}

/// `resolve-addresses`. Without name lookups allowed (`-S
/// allow-ip-name-lookup`) every name is `permanent-resolver-failure`, the
/// code wasmtime gives.
pub(crate) fn resolve_addresses(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<Val> {
    let (net, name) = (a.rep()?, a.string()?);
    network(ctx, net)?;
    if !ctx.network.ip_name_lookup {
        return Err(ErrorCode::PermanentResolverFailure.into());
    }
    let addrs = lookup(parse(name)?).map(Vec::into_iter);
    Ok(own(ctx.table.push(ResolveAddressStream(addrs))?))
}

pub(crate) fn resolve_next_address(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<Val> {
    let stream = ctx.table.get_mut::<ResolveAddressStream>(a.rep()?)?;
    match &mut stream.0 {
        Ok(addrs) => Ok(addrs.next().map_or_else(none, |ip| some(ip_addr_val(ip)))),
        Err(code) => Err((*code).into()),
    }
}

pub(crate) fn subscribe(ctx: &mut WasiCtx, mut a: Args<'_>) -> Result<Val, Error> {
    ctx.table.get::<ResolveAddressStream>(a.rep()?)?;
    Ok(own(ctx.table.push(Pollable::Ready)?))
}
