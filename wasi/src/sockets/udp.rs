//! `wasi:sockets/udp` and `udp-create-socket`: UDP sockets over a
//! non-blocking OS socket, and the datagram streams `stream` returns.
//!
//! `stream(remote)` is the OS's `connect` (or its undoing); the pair it
//! returns reads and writes the socket directly. Only the latest pair
//! works, so, as in wasmtime, asking for a new one while an older one is
//! alive traps (the WIT allows that).

use super::network::{
    ErrorCode, Family, SocketError, SocketResult, check_address, is_remote, local_addr, network,
    open_socket, peer_addr, socket_addr, socket_addr_val, source_addr,
};
use super::{network, sockopt};
use crate::ctx::{NetworkPolicy, WasiCtx};
use crate::io::poll::Pollable;
use crate::io::streams::MAX_READ;
use crate::table::Rep;
use crate::val::{self, Args, bytes, own, record};
use cmc_runtime::Error;
use cmc_runtime::component::Val;
use rustix::io::Errno;
use rustix::net::{RecvFlags, SendFlags, SocketType};
use std::net::SocketAddr;
use std::os::fd::OwnedFd;
use std::sync::Arc;

/// The largest UDP payload there is (the real limit is a little lower).
const MAX_DATAGRAM: usize = u16::MAX as usize;

/// The most datagrams one `receive` returns and one `check-send` permits,
/// whatever the guest asks: a huge `max-results` must not make the host
/// hold that many. The bytes one `receive` returns are capped as well, at
/// about [`MAX_READ`].
const MAX_DATAGRAMS: usize = 16;

/// Where a socket is in binding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BindState {
    Unbound,
    /// `start-bind` bound it; `finish-bind` has yet to be called.
    Started,
    Bound,
}

/// The state of a `udp-socket` resource.
pub(crate) struct UdpSocket {
    fd: Arc<OwnedFd>,
    family: Family,
    bind: BindState,
    /// The peer of the latest `stream`, if it named one.
    remote: Option<SocketAddr>,
    /// Shared with the latest pair of streams, which are alive while it has
    /// other owners.
    streams: Arc<()>,
}

/// The state of an `incoming-datagram-stream` resource.
pub(crate) struct IncomingDatagramStream {
    fd: Arc<OwnedFd>,
    remote: Option<SocketAddr>,
    /// Never read: holding it tells the socket this pair is alive.
    _alive: Arc<()>,
}

/// The state of an `outgoing-datagram-stream` resource.
pub(crate) struct OutgoingDatagramStream {
    fd: Arc<OwnedFd>,
    family: Family,
    remote: Option<SocketAddr>,
    /// How many datagrams the latest `check-send` permitted.
    permit: usize,
    /// Never read: holding it tells the socket this pair is alive.
    _alive: Arc<()>,
}

fn socket(ctx: &mut WasiCtx, rep: Rep) -> Result<&mut UdpSocket, Error> {
    ctx.table.get_mut::<UdpSocket>(rep)
}

/// `create-udp-socket`. With UDP switched off (`-S udp=n`) it is
/// `access-denied`, as in wasmtime.
pub(crate) fn create_udp_socket(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<Val> {
    let family = Family::from_val(a.next()?)?;
    if !ctx.network.udp {
        return Err(ErrorCode::AccessDenied.into());
    }
    let socket = UdpSocket {
        fd: Arc::new(open_socket(family, SocketType::DGRAM)?),
        family,
        bind: BindState::Unbound,
        remote: None,
        streams: Arc::new(()),
    };
    Ok(own(ctx.table.push(socket)?))
}

pub(crate) fn start_bind(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<()> {
    let (rep, net, addr) = (a.rep()?, a.rep()?, socket_addr(a.next()?)?);
    network(ctx, net)?;
    let policy = ctx.network;
    let s = socket(ctx, rep)?;
    match s.bind {
        BindState::Unbound => {}
        BindState::Started => return Err(ErrorCode::ConcurrencyConflict.into()),
        BindState::Bound => return Err(ErrorCode::InvalidState.into()),
    }
    // Unlike TCP, a UDP socket may bind a multicast address.
    if !s.family.admits(addr.ip()) {
        return Err(ErrorCode::InvalidArgument.into());
    }
    check_address(policy)?;
    network::bind(&*s.fd, addr)?;
    s.bind = BindState::Started;
    Ok(())
}

pub(crate) fn finish_bind(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<()> {
    let s = socket(ctx, a.rep()?)?;
    if s.bind != BindState::Started {
        return Err(ErrorCode::NotInProgress.into());
    }
    s.bind = BindState::Bound;
    Ok(())
}

/// Dissolves a socket's association with its peer.
fn disconnect(fd: &OwnedFd) -> rustix::io::Result<()> {
    rustix::net::connect_unspec(fd)
}

/// Associates a socket with `addr`.
fn connect(fd: &OwnedFd, addr: SocketAddr) -> rustix::io::Result<()> {
    match rustix::net::connect(fd, &addr) {
        // Linux keeps the local address it chose for the previous peer and
        // refuses a new peer that the old interface cannot reach: undo the
        // association first, then connect again.
        #[cfg(target_os = "linux")]
        Err(Errno::INVAL) => {
            disconnect(fd)?;
            rustix::net::connect(fd, &addr)
        }
        Err(Errno::AFNOSUPPORT) => Err(Errno::INVAL),
        r => r,
    }
}

/// `stream`: (re)associates the socket with `remote-address` (or with no
/// peer) and returns the pair of datagram streams.
pub(crate) fn stream(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<Val> {
    let rep = a.rep()?;
    let remote = val::option(a.next()?)?.map(socket_addr).transpose()?;
    let policy = ctx.network;
    let s = socket(ctx, rep)?;
    if Arc::strong_count(&s.streams) > 1 {
        return Err(Error::host(
            "wasi:sockets/udp: `stream` called before the streams of its previous call were dropped",
        )
        .into());
    }
    if s.bind == BindState::Unbound {
        return Err(ErrorCode::InvalidState.into());
    }
    match remote {
        Some(addr) => {
            if !s.family.admits(addr.ip()) || !is_remote(addr) {
                return Err(ErrorCode::InvalidArgument.into());
            }
            check_address(policy)?;
            let connected = connect(&s.fd, addr);
            // A failed connect may have dissolved the old association:
            // what the OS says now is the truth.
            s.remote = peer_addr(&*s.fd)?;
            connected?;
        }
        None if s.remote.is_some() => {
            disconnect(&s.fd)?;
            s.remote = None;
        }
        None => {}
    }
    let incoming = IncomingDatagramStream {
        fd: s.fd.clone(),
        remote: s.remote,
        _alive: s.streams.clone(),
    };
    let outgoing = OutgoingDatagramStream {
        fd: s.fd.clone(),
        family: s.family,
        remote: s.remote,
        permit: 0,
        _alive: s.streams.clone(),
    };
    let incoming = own(ctx.table.push(incoming)?);
    let outgoing = own(ctx.table.push(outgoing)?);
    Ok(Val::Tuple(vec![incoming, outgoing]))
}

pub(crate) fn local_address(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<Val> {
    let s = socket(ctx, a.rep()?)?;
    if s.bind == BindState::Unbound {
        return Err(ErrorCode::InvalidState.into());
    }
    Ok(socket_addr_val(local_addr(&*s.fd)?))
}

pub(crate) fn remote_address(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<Val> {
    let s = socket(ctx, a.rep()?)?;
    Ok(socket_addr_val(s.remote.ok_or(ErrorCode::InvalidState)?))
}

pub(crate) fn address_family(ctx: &mut WasiCtx, mut a: Args<'_>) -> Result<Val, Error> {
    Ok(socket(ctx, a.rep()?)?.family.val())
}

pub(crate) fn unicast_hop_limit(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<Val> {
    let s = socket(ctx, a.rep()?)?;
    Ok(Val::U8(sockopt::hop_limit(&*s.fd, s.family)?))
}

pub(crate) fn set_unicast_hop_limit(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<()> {
    let (rep, value) = (a.rep()?, a.u8()?);
    let s = socket(ctx, rep)?;
    sockopt::set_hop_limit(&*s.fd, s.family, value)
}

pub(crate) fn receive_buffer_size(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<Val> {
    let s = socket(ctx, a.rep()?)?;
    Ok(Val::U64(sockopt::receive_buffer_size(&*s.fd)?))
}

pub(crate) fn set_receive_buffer_size(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<()> {
    let (rep, value) = (a.rep()?, a.u64()?);
    let s = socket(ctx, rep)?;
    sockopt::set_receive_buffer_size(&*s.fd, value)
}

pub(crate) fn send_buffer_size(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<Val> {
    let s = socket(ctx, a.rep()?)?;
    Ok(Val::U64(sockopt::send_buffer_size(&*s.fd)?))
}

pub(crate) fn set_send_buffer_size(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<()> {
    let (rep, value) = (a.rep()?, a.u64()?);
    let s = socket(ctx, rep)?;
    sockopt::set_send_buffer_size(&*s.fd, value)
}

/// `udp-socket.subscribe`: no operation on the socket itself waits (bind
/// finishes in `start-bind`), so it is ready at once.
pub(crate) fn subscribe(ctx: &mut WasiCtx, mut a: Args<'_>) -> Result<Val, Error> {
    socket(ctx, a.rep()?)?;
    Ok(own(ctx.table.push(Pollable::Ready)?))
}

/// An `incoming-datagram` value.
fn incoming_datagram(data: &[u8], from: SocketAddr) -> Val {
    record([
        ("data", bytes(data.to_vec())),
        ("remote-address", socket_addr_val(from)),
    ])
}

/// `receive`: the datagrams waiting now, never more than `max-results`,
/// [`MAX_DATAGRAMS`], or (once reached) [`MAX_READ`] bytes.
pub(crate) fn receive(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<Val> {
    let (rep, max) = (a.rep()?, a.u64()?);
    let max = usize::try_from(max)
        .unwrap_or(usize::MAX)
        .min(MAX_DATAGRAMS);
    let stream = ctx.table.get::<IncomingDatagramStream>(rep)?;
    let mut datagrams = Vec::new();
    if max == 0 {
        return Ok(Val::List(datagrams));
    }
    let mut buf = vec![0; MAX_DATAGRAM];
    let mut total = 0;
    while datagrams.len() < max && total < MAX_READ {
        match rustix::net::recvfrom(&*stream.fd, &mut buf[..], RecvFlags::empty()) {
            Ok((n, _, from)) => {
                // Dropped datagrams count too (and each at least 1), so a
                // flood of them cannot keep the call going.
                total += 1 + n;
                let Some(from) = source_addr(from) else {
                    continue;
                };
                // The OS filters by the peer only as datagrams arrive
                // (Linux), so ones queued before the connect can still be
                // there: they are not the peer's, and are dropped.
                if stream.remote.is_some_and(|r| r != from) {
                    continue;
                }
                datagrams.push(incoming_datagram(&buf[..n], from));
            }
            Err(Errno::INTR) => {}
            Err(Errno::AGAIN) => break,
            // An error (such as the ICMP refusal of a previous send) waits
            // for a call that has nothing else to report.
            Err(_) if !datagrams.is_empty() => break,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Val::List(datagrams))
}

pub(crate) fn incoming_subscribe(ctx: &mut WasiCtx, mut a: Args<'_>) -> Result<Val, Error> {
    let stream = ctx.table.get::<IncomingDatagramStream>(a.rep()?)?;
    let pollable = Pollable::Readable(stream.fd.clone());
    Ok(own(ctx.table.push(pollable)?))
}

/// `check-send`: [`MAX_DATAGRAMS`] while the socket is writable, else 0.
pub(crate) fn check_send(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<Val> {
    let stream = ctx.table.get_mut::<OutgoingDatagramStream>(a.rep()?)?;
    let writable = Pollable::Writable(stream.fd.clone()).is_ready()?;
    stream.permit = if writable { MAX_DATAGRAMS } else { 0 };
    Ok(Val::U64(stream.permit as u64))
}

/// Sends one `outgoing-datagram`, checked as the WIT lists.
fn send_one(
    stream: &OutgoingDatagramStream,
    policy: NetworkPolicy,
    datagram: &Val,
) -> SocketResult<()> {
    let data = val::byte_list(val::field(datagram, "data")?)?;
    if data.len() > MAX_DATAGRAM {
        return Err(ErrorCode::DatagramTooLarge.into());
    }
    let to = val::option(val::field(datagram, "remote-address")?)?
        .map(socket_addr)
        .transpose()?;
    let to = match (to, stream.remote) {
        (Some(to), _) if !is_remote(to) || !stream.family.admits(to.ip()) => {
            return Err(ErrorCode::InvalidArgument.into());
        }
        // A connected stream sends to its peer only.
        (Some(to), Some(peer)) if to != peer => return Err(ErrorCode::InvalidArgument.into()),
        (Some(to), _) => to,
        (None, Some(peer)) => peer,
        (None, None) => return Err(ErrorCode::InvalidArgument.into()),
    };
    check_address(policy)?;
    loop {
        let sent = if stream.remote == Some(to) {
            rustix::net::send(&*stream.fd, data, SendFlags::empty())
        } else {
            rustix::net::sendto(&*stream.fd, data, SendFlags::empty(), &to)
        };
        match sent {
            Ok(_) => return Ok(()),
            Err(Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// `send`: the datagrams in order until one cannot go (the OS's queue is
/// full, or it fails); an error is reported only when none went.
pub(crate) fn send(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<Val> {
    let (rep, datagrams) = (a.rep()?, a.list()?);
    let policy = ctx.network;
    let stream = ctx.table.get_mut::<OutgoingDatagramStream>(rep)?;
    if datagrams.is_empty() {
        return Ok(Val::U64(0));
    }
    if datagrams.len() > stream.permit {
        return Err(Error::host(format!(
            "wasi:sockets/udp: send of {} datagrams exceeds the {} permitted by check-send",
            datagrams.len(),
            stream.permit
        ))
        .into());
    }
    // Each `send` needs a `check-send` of its own.
    stream.permit = 0;
    let mut sent = 0;
    for datagram in datagrams {
        match send_one(stream, policy, datagram) {
            Ok(()) => sent += 1,
            Err(SocketError::Code(ErrorCode::WouldBlock)) => break,
            Err(SocketError::Code(_)) if sent > 0 => break,
            Err(e) => return Err(e),
        }
    }
    Ok(Val::U64(sent))
}

pub(crate) fn outgoing_subscribe(ctx: &mut WasiCtx, mut a: Args<'_>) -> Result<Val, Error> {
    let stream = ctx.table.get::<OutgoingDatagramStream>(a.rep()?)?;
    let pollable = Pollable::Writable(stream.fd.clone());
    Ok(own(ctx.table.push(pollable)?))
}
