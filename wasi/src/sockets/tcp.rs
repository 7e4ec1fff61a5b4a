//! `wasi:sockets/tcp` and `tcp-create-socket`: TCP sockets as the WIT's
//! state machine (`unbound`, `bind-in-progress`, `bound`,
//! `listen-in-progress`, `listening`, `connect-in-progress`, `connected`,
//! `closed`; see `TcpSocketOperationalSemantics.md` of the WASI proposal)
//! over a non-blocking OS socket, and the byte streams of a connection.
//!
//! Bind and listen finish in their `start-*` call, as the WIT allows; a
//! connect is the OS's non-blocking one, finished when the socket becomes
//! writable. Like wasmtime, `start-connect` reports only what is wrong with
//! its arguments and the socket's state: a refused permission or an error
//! of the OS comes from `finish-connect`, after which the socket is
//! `closed`.
//!
//! A write blocks the guest until the OS has taken all of it: cmc runs
//! guests on one thread, with no task left behind to push buffered bytes
//! later, so a written byte is the OS's before `write` returns and nothing
//! is lost when the guest shuts the connection down or exits. `check-write`
//! promises bytes only while the socket is writable, so a guest that waits
//! on its pollable first does not block.

use super::network::{
    ErrorCode, Family, SocketResult, check_address, is_remote, is_unicast, local_addr, network,
    open_socket, peer_addr, socket_addr, socket_addr_val,
};
use super::{network, sockopt};
use crate::ctx::WasiCtx;
use crate::io::poll::{Pollable, SharedFd};
use crate::io::streams::{
    InputStream, MAX_READ, OutputStream, StreamError, push_input, push_output,
};
use crate::table::Rep;
use crate::val::{Args, own};
use cmc_runtime::Error;
use cmc_runtime::component::Val;
use rustix::io::Errno;
use rustix::net::{RecvFlags, SendFlags, Shutdown, SocketFlags, SocketType};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The listen queue size until the guest sets one: std's choice.
const DEFAULT_BACKLOG: u32 = 128;

/// The largest backlog `listen` takes; systems clamp it further.
const MAX_BACKLOG: u32 = i32::MAX as u32;

/// Keep-alive times are whole seconds in the OS, and 0 would mean "the
/// default": a shorter time is raised to 1 s.
const MIN_KEEPALIVE_TIME: Duration = Duration::from_secs(1);

/// Linux takes no more than `i16::MAX` seconds, the lowest ceiling among
/// the systems.
const MAX_KEEPALIVE_TIME: Duration = Duration::from_secs(i16::MAX as u64);

/// Linux's ceiling on `TCP_KEEPCNT`, the lowest among the systems.
const MAX_KEEPALIVE_COUNT: u32 = i8::MAX as u32;

/// Where a socket is in the WIT's state machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// `unbound` or `bound`: the OS knows which ([`TcpSocket::is_bound`]).
    Default,
    BindStarted,
    /// `connect-in-progress`: under way in the OS, or already failed with
    /// this code, which `finish-connect` reports.
    Connecting(Option<ErrorCode>),
    ListenStarted,
    Listening,
    Connected,
    /// A connect failed: only dropping the socket is left.
    Closed,
}

/// The socket's descriptor and what its streams share with it. After
/// `shutdown`, a direction is closed for its stream even where the OS
/// would go on (Linux still delivers received bytes after `SHUT_RD`).
struct Shared {
    fd: OwnedFd,
    receive_closed: AtomicBool,
    send_closed: AtomicBool,
}

impl AsFd for Shared {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// The state of a `tcp-socket` resource.
pub(crate) struct TcpSocket {
    sock: Arc<Shared>,
    family: Family,
    state: State,
    /// The queue size the next `listen` asks for.
    backlog: u32,
}

impl TcpSocket {
    fn new(fd: OwnedFd, family: Family, state: State) -> TcpSocket {
        TcpSocket {
            sock: Arc::new(Shared {
                fd,
                receive_closed: AtomicBool::new(false),
                send_closed: AtomicBool::new(false),
            }),
            family,
            state,
            backlog: DEFAULT_BACKLOG,
        }
    }

    fn shared_fd(&self) -> SharedFd {
        self.sock.clone()
    }

    /// Whether the OS has given the socket a local address, by an explicit
    /// bind or the implicit one of a connect.
    fn is_bound(&self) -> bool {
        local_addr(&self.sock).is_ok_and(|a| a.port() != 0)
    }

    /// The WIT allows one asynchronous operation at a time.
    fn check_idle(&self) -> SocketResult<()> {
        match self.state {
            State::BindStarted | State::ListenStarted | State::Connecting(_) => {
                Err(ErrorCode::ConcurrencyConflict.into())
            }
            _ => Ok(()),
        }
    }
}

fn socket(ctx: &mut WasiCtx, rep: Rep) -> Result<&mut TcpSocket, Error> {
    ctx.table.get_mut::<TcpSocket>(rep)
}

/// A socket whose options may be read and set: any but a closed one.
fn open(ctx: &mut WasiCtx, rep: Rep) -> SocketResult<&mut TcpSocket> {
    let s = socket(ctx, rep)?;
    if s.state == State::Closed {
        return Err(ErrorCode::InvalidState.into());
    }
    Ok(s)
}

/// `create-tcp-socket`. With TCP switched off (`-S tcp=n`) it is
/// `access-denied`, as in wasmtime.
pub(crate) fn create_tcp_socket(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<Val> {
    let family = Family::from_val(a.next()?)?;
    if !ctx.network.tcp {
        return Err(ErrorCode::AccessDenied.into());
    }
    let fd = open_socket(family, SocketType::STREAM)?;
    let socket = TcpSocket::new(fd, family, State::Default);
    Ok(own(ctx.table.push(socket)?))
}

pub(crate) fn start_bind(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<()> {
    let (rep, net, addr) = (a.rep()?, a.rep()?, socket_addr(a.next()?)?);
    network(ctx, net)?;
    let policy = ctx.network;
    let s = socket(ctx, rep)?;
    s.check_idle()?;
    if s.state != State::Default || s.is_bound() {
        return Err(ErrorCode::InvalidState.into());
    }
    if !is_unicast(addr.ip()) || !s.family.admits(addr.ip()) {
        return Err(ErrorCode::InvalidArgument.into());
    }
    check_address(policy)?;
    // The WIT: binding a port must not be hindered by the TIME_WAIT of a
    // recently closed socket on it, which is what SO_REUSEADDR does on
    // Unix.
    rustix::net::sockopt::set_socket_reuseaddr(&s.sock, true)?;
    network::bind(&s.sock, addr)?;
    s.state = State::BindStarted;
    Ok(())
}

pub(crate) fn finish_bind(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<()> {
    let s = socket(ctx, a.rep()?)?;
    if s.state != State::BindStarted {
        return Err(ErrorCode::NotInProgress.into());
    }
    s.state = State::Default;
    Ok(())
}

/// The code of a failed connect. The WIT names two errnos for this
/// operation alone: an implicit bind finding no ephemeral port is
/// `address-in-use` (`EADDRNOTAVAIL` on Linux, `EAGAIN` on the BSDs).
fn connect_error(e: Errno) -> ErrorCode {
    match e {
        Errno::ADDRNOTAVAIL | Errno::AGAIN => ErrorCode::AddressInUse,
        e => ErrorCode::from_errno(e),
    }
}

pub(crate) fn start_connect(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<()> {
    let (rep, net, addr) = (a.rep()?, a.rep()?, socket_addr(a.next()?)?);
    network(ctx, net)?;
    let policy = ctx.network;
    let s = socket(ctx, rep)?;
    s.check_idle()?;
    if s.state != State::Default {
        return Err(ErrorCode::InvalidState.into());
    }
    if !is_unicast(addr.ip()) || !is_remote(addr) || !s.family.admits(addr.ip()) {
        return Err(ErrorCode::InvalidArgument.into());
    }
    let failure = match check_address(policy) {
        Err(code) => Some(code),
        Ok(()) => match rustix::net::connect(&s.sock, &addr) {
            // An interrupted connect goes on in the background (POSIX).
            Ok(()) | Err(Errno::INPROGRESS | Errno::INTR) => None,
            Err(e) => Some(connect_error(e)),
        },
    };
    s.state = State::Connecting(failure);
    Ok(())
}

/// Adds the two streams of a connection to the table.
fn push_streams(ctx: &mut WasiCtx, sock: &Arc<Shared>) -> Result<(Val, Val), Error> {
    let input = push_input(ctx, TcpInput { sock: sock.clone() })?;
    let output = push_output(ctx, TcpOutput { sock: sock.clone() })?;
    Ok((input, output))
}

pub(crate) fn finish_connect(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<Val> {
    let s = socket(ctx, a.rep()?)?;
    let State::Connecting(failure) = s.state else {
        return Err(ErrorCode::NotInProgress.into());
    };
    if let Some(code) = failure {
        s.state = State::Closed;
        return Err(code.into());
    }
    // The OS's connect is done when the socket is writable; SO_ERROR then
    // says how it went.
    if !Pollable::Writable(s.shared_fd()).is_ready()? {
        return Err(ErrorCode::WouldBlock.into());
    }
    if let Err(e) = rustix::net::sockopt::socket_error(&s.sock)? {
        s.state = State::Closed;
        return Err(connect_error(e).into());
    }
    s.state = State::Connected;
    let sock = s.sock.clone();
    let (input, output) = push_streams(ctx, &sock)?;
    Ok(Val::Tuple(vec![input, output]))
}

/// `start-listen`. WASI 0.2 wants the socket bound first, unlike POSIX.
pub(crate) fn start_listen(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<()> {
    let s = socket(ctx, a.rep()?)?;
    s.check_idle()?;
    if s.state != State::Default || !s.is_bound() {
        return Err(ErrorCode::InvalidState.into());
    }
    rustix::net::listen(&s.sock, s.backlog as i32)?;
    s.state = State::ListenStarted;
    Ok(())
}

pub(crate) fn finish_listen(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<()> {
    let s = socket(ctx, a.rep()?)?;
    if s.state != State::ListenStarted {
        return Err(ErrorCode::NotInProgress.into());
    }
    s.state = State::Listening;
    Ok(())
}

/// `accept`: the connected socket and its two streams. The listener's
/// options (keep-alive, hop limit, buffer sizes) are the OS's to pass on,
/// which Linux does.
pub(crate) fn accept(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<Val> {
    let s = socket(ctx, a.rep()?)?;
    if !matches!(s.state, State::Listening | State::ListenStarted) {
        return Err(ErrorCode::InvalidState.into());
    }
    let family = s.family;
    let flags = SocketFlags::NONBLOCK | SocketFlags::CLOEXEC;
    let fd = loop {
        match rustix::net::accept_with(&s.sock, flags) {
            Ok(fd) => break fd,
            Err(Errno::INTR) => {}
            // Linux passes an error pending on the new connection on from
            // `accept`, where other systems hand out the socket and report
            // it there: either way the client went away first.
            #[cfg(target_os = "linux")]
            Err(
                Errno::CONNRESET
                | Errno::NETRESET
                | Errno::HOSTUNREACH
                | Errno::HOSTDOWN
                | Errno::NETDOWN
                | Errno::NETUNREACH
                | Errno::PROTO
                | Errno::NOPROTOOPT
                | Errno::NONET
                | Errno::OPNOTSUPP,
            ) => return Err(ErrorCode::ConnectionAborted.into()),
            Err(e) => return Err(e.into()),
        }
    };
    let client = TcpSocket::new(fd, family, State::Connected);
    let sock = client.sock.clone();
    let client = own(ctx.table.push(client)?);
    let (input, output) = push_streams(ctx, &sock)?;
    Ok(Val::Tuple(vec![client, input, output]))
}

pub(crate) fn local_address(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<Val> {
    let s = open(ctx, a.rep()?)?;
    if !s.is_bound() {
        return Err(ErrorCode::InvalidState.into());
    }
    Ok(socket_addr_val(local_addr(&s.sock)?))
}

pub(crate) fn remote_address(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<Val> {
    let s = socket(ctx, a.rep()?)?;
    if s.state != State::Connected {
        return Err(ErrorCode::InvalidState.into());
    }
    let peer = peer_addr(&s.sock)?.ok_or(ErrorCode::InvalidState)?;
    Ok(socket_addr_val(peer))
}

pub(crate) fn is_listening(ctx: &mut WasiCtx, mut a: Args<'_>) -> Result<Val, Error> {
    let s = socket(ctx, a.rep()?)?;
    Ok(Val::Bool(matches!(
        s.state,
        State::Listening | State::ListenStarted
    )))
}

pub(crate) fn address_family(ctx: &mut WasiCtx, mut a: Args<'_>) -> Result<Val, Error> {
    Ok(socket(ctx, a.rep()?)?.family.val())
}

pub(crate) fn set_listen_backlog_size(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<()> {
    let (rep, value) = (a.rep()?, a.u64()?);
    if value == 0 {
        return Err(ErrorCode::InvalidArgument.into());
    }
    let value = u32::try_from(value).unwrap_or(MAX_BACKLOG).min(MAX_BACKLOG);
    let s = socket(ctx, rep)?;
    match s.state {
        State::Default | State::BindStarted => {}
        // A second `listen` changes the queue where the system can; where
        // it cannot, the value stays as it was.
        State::ListenStarted | State::Listening => {
            rustix::net::listen(&s.sock, value as i32).map_err(|_| ErrorCode::NotSupported)?;
        }
        State::Connecting(_) | State::Connected | State::Closed => {
            return Err(ErrorCode::InvalidState.into());
        }
    }
    s.backlog = value;
    Ok(())
}

pub(crate) fn keep_alive_enabled(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<Val> {
    let s = open(ctx, a.rep()?)?;
    Ok(Val::Bool(rustix::net::sockopt::socket_keepalive(&s.sock)?))
}

pub(crate) fn set_keep_alive_enabled(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<()> {
    let (rep, value) = (a.rep()?, a.bool()?);
    let s = open(ctx, rep)?;
    Ok(rustix::net::sockopt::set_socket_keepalive(&s.sock, value)?)
}

/// A `duration` value of the OS's.
fn duration_val(d: Duration) -> Val {
    Val::U64(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// A guest's keep-alive time: 0 is refused, the rest clamped to what every
/// system takes.
fn keepalive_time(ns: u64) -> SocketResult<Duration> {
    if ns == 0 {
        return Err(ErrorCode::InvalidArgument.into());
    }
    Ok(Duration::from_nanos(ns).clamp(MIN_KEEPALIVE_TIME, MAX_KEEPALIVE_TIME))
}

pub(crate) fn keep_alive_idle_time(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<Val> {
    let s = open(ctx, a.rep()?)?;
    Ok(duration_val(rustix::net::sockopt::tcp_keepidle(&s.sock)?))
}

pub(crate) fn set_keep_alive_idle_time(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<()> {
    let (rep, value) = (a.rep()?, a.u64()?);
    let value = keepalive_time(value)?;
    let s = open(ctx, rep)?;
    Ok(rustix::net::sockopt::set_tcp_keepidle(&s.sock, value)?)
}

pub(crate) fn keep_alive_interval(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<Val> {
    let s = open(ctx, a.rep()?)?;
    Ok(duration_val(rustix::net::sockopt::tcp_keepintvl(&s.sock)?))
}

pub(crate) fn set_keep_alive_interval(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<()> {
    let (rep, value) = (a.rep()?, a.u64()?);
    let value = keepalive_time(value)?;
    let s = open(ctx, rep)?;
    Ok(rustix::net::sockopt::set_tcp_keepintvl(&s.sock, value)?)
}

pub(crate) fn keep_alive_count(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<Val> {
    let s = open(ctx, a.rep()?)?;
    Ok(Val::U32(rustix::net::sockopt::tcp_keepcnt(&s.sock)?))
}

pub(crate) fn set_keep_alive_count(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<()> {
    let (rep, value) = (a.rep()?, a.u32()?);
    if value == 0 {
        return Err(ErrorCode::InvalidArgument.into());
    }
    let s = open(ctx, rep)?;
    let value = value.min(MAX_KEEPALIVE_COUNT);
    Ok(rustix::net::sockopt::set_tcp_keepcnt(&s.sock, value)?)
}

pub(crate) fn hop_limit(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<Val> {
    let s = open(ctx, a.rep()?)?;
    Ok(Val::U8(sockopt::hop_limit(&s.sock, s.family)?))
}

pub(crate) fn set_hop_limit(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<()> {
    let (rep, value) = (a.rep()?, a.u8()?);
    let s = open(ctx, rep)?;
    sockopt::set_hop_limit(&s.sock, s.family, value)
}

pub(crate) fn receive_buffer_size(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<Val> {
    let s = open(ctx, a.rep()?)?;
    Ok(Val::U64(sockopt::receive_buffer_size(&s.sock)?))
}

pub(crate) fn set_receive_buffer_size(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<()> {
    let (rep, value) = (a.rep()?, a.u64()?);
    let s = open(ctx, rep)?;
    sockopt::set_receive_buffer_size(&s.sock, value)
}

pub(crate) fn send_buffer_size(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<Val> {
    let s = open(ctx, a.rep()?)?;
    Ok(Val::U64(sockopt::send_buffer_size(&s.sock)?))
}

pub(crate) fn set_send_buffer_size(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<()> {
    let (rep, value) = (a.rep()?, a.u64()?);
    let s = open(ctx, rep)?;
    sockopt::set_send_buffer_size(&s.sock, value)
}

/// `subscribe`: one pollable for the socket's whole life, as the WIT
/// allows. It waits on readability or writability, whichever the state at
/// the time of waiting needs: a connecting socket becomes writable when
/// the connect is done, a listening one readable when a client waits, and
/// a socket in any other state is ready at once (Linux reports an
/// unconnected socket writable and hung up).
pub(crate) fn subscribe(ctx: &mut WasiCtx, mut a: Args<'_>) -> Result<Val, Error> {
    let pollable = Pollable::ReadableOrWritable(socket(ctx, a.rep()?)?.shared_fd());
    Ok(own(ctx.table.push(pollable)?))
}

pub(crate) fn shutdown(ctx: &mut WasiCtx, mut a: Args<'_>) -> SocketResult<()> {
    let (rep, how) = (a.rep()?, a.enum_case()?);
    let (receive, send) = match how {
        "receive" => (true, false),
        "send" => (false, true),
        "both" => (true, true),
        how => {
            return Err(Error::host(format!("WASI host: `{how}` is not a shutdown-type")).into());
        }
    };
    let s = socket(ctx, rep)?;
    if s.state != State::Connected {
        return Err(ErrorCode::InvalidState.into());
    }
    // The OS's own shutdown can only fail when the peer has already reset
    // the connection, which leaves the direction just as closed: the WIT
    // makes shutdown idempotent, so that is `ok` too.
    if receive {
        s.sock.receive_closed.store(true, Ordering::Relaxed);
        let _ = rustix::net::shutdown(&s.sock, Shutdown::Read);
    }
    if send {
        s.sock.send_closed.store(true, Ordering::Relaxed);
        let _ = rustix::net::shutdown(&s.sock, Shutdown::Write);
    }
    Ok(())
}

/// The `input-stream` of a connection.
struct TcpInput {
    sock: Arc<Shared>,
}

impl TcpInput {
    fn closed(&self) -> bool {
        self.sock.receive_closed.load(Ordering::Relaxed)
    }

    /// Ends the stream: at the peer's end of data, a failure or a
    /// shutdown, after which even `read(0)` reports it.
    fn close(&self) {
        self.sock.receive_closed.store(true, Ordering::Relaxed);
    }
}

impl InputStream for TcpInput {
    fn read(&mut self, len: usize) -> Result<Vec<u8>, StreamError> {
        if self.closed() {
            return Err(StreamError::Closed);
        }
        if len == 0 {
            return Ok(Vec::new());
        }
        let mut buf = vec![0; len.min(MAX_READ)];
        loop {
            match rustix::net::recv(&self.sock, &mut buf[..], RecvFlags::empty()) {
                Ok((0, _)) => {
                    self.close();
                    return Err(StreamError::Closed);
                }
                Ok((n, _)) => {
                    buf.truncate(n);
                    return Ok(buf);
                }
                Err(Errno::INTR) => {}
                Err(Errno::AGAIN) => return Ok(Vec::new()),
                Err(e) => {
                    self.close();
                    return Err(e.into());
                }
            }
        }
    }

    fn pollable(&self) -> Pollable {
        if self.closed() {
            Pollable::Ready
        } else {
            Pollable::Readable(self.sock.clone())
        }
    }
}

/// The `output-stream` of a connection.
struct TcpOutput {
    sock: Arc<Shared>,
}

impl TcpOutput {
    fn closed(&self) -> bool {
        self.sock.send_closed.load(Ordering::Relaxed)
    }

    fn check_open(&self) -> Result<(), StreamError> {
        if self.closed() {
            Err(StreamError::Closed)
        } else {
            Ok(())
        }
    }

    /// Ends the stream after a failure.
    fn close(&self) {
        self.sock.send_closed.store(true, Ordering::Relaxed);
    }
}

impl OutputStream for TcpOutput {
    fn check_write(&mut self) -> Result<usize, StreamError> {
        self.check_open()?;
        let writable = Pollable::Writable(self.sock.clone())
            .is_ready()
            .map_err(StreamError::Trap)?;
        Ok(if writable { MAX_READ } else { 0 })
    }

    fn write(&mut self, mut bytes: &[u8]) -> Result<(), StreamError> {
        self.check_open()?;
        while !bytes.is_empty() {
            // NOSIGNAL: a peer that went away is an error here, not a
            // SIGPIPE that kills the host.
            match rustix::net::send(&self.sock, bytes, SendFlags::NOSIGNAL) {
                Ok(n) => bytes = &bytes[n..],
                Err(Errno::INTR) => {}
                Err(Errno::AGAIN) => Pollable::Writable(self.sock.clone())
                    .block()
                    .map_err(StreamError::Trap)?,
                // The connection is shut for sending: the stream is closed,
                // not failed, as in wasmtime.
                Err(Errno::PIPE) => {
                    self.close();
                    return Err(StreamError::Closed);
                }
                Err(e) => {
                    self.close();
                    return Err(e.into());
                }
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        self.check_open()
    }

    fn pollable(&self) -> Pollable {
        if self.closed() {
            Pollable::Ready
        } else {
            Pollable::Writable(self.sock.clone())
        }
    }
}
