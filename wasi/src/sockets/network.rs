//! `wasi:sockets/network` and what every socket interface shares: the
//! `network` capability, the `error-code` enum and its mapping from OS
//! errors, `ip-socket-address` values as std's `SocketAddr`, the checks the
//! WIT asks of addresses, and the context's [`NetworkPolicy`].
//!
//! The mapping from `errno` values follows wasmtime's, so a guest sees the
//! same codes under both hosts; where the WIT names an errno for one
//! operation only (connect's `EADDRNOTAVAIL` is `address-in-use`), that
//! operation maps it itself.

use crate::ctx::{NetworkPolicy, WasiCtx};
use crate::io::error::IoError;
use crate::table::Rep;
use crate::val::{self, enum_val, err, ok, ok_unit, record, variant_val};
use cmc_runtime::Error;
use cmc_runtime::component::Val;
use rustix::io::Errno;
use rustix::net::{AddressFamily, SocketAddrAny, SocketFlags, SocketType};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsFd, OwnedFd};

/// The state of a `network` resource. cmc decides what a guest may do by
/// the context's [`NetworkPolicy`], so the handle is only the token the
/// interfaces ask to see; it carries nothing.
pub(crate) struct Network;

/// Checks that `rep` is a live `network`: the guest must hold one to bind,
/// connect or resolve.
pub(crate) fn network(ctx: &WasiCtx, rep: Rep) -> Result<(), Error> {
    ctx.table.get::<Network>(rep).map(drop)
}

/// `error-code`, the cases cmc reports.
///
/// `temporary-resolver-failure` is missing: std's resolver does not say
/// which `getaddrinfo` error it met, so a failed lookup is
/// `name-unresolvable`, as in wasmtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ErrorCode {
    Unknown,
    AccessDenied,
    NotSupported,
    InvalidArgument,
    OutOfMemory,
    Timeout,
    ConcurrencyConflict,
    NotInProgress,
    WouldBlock,
    InvalidState,
    NewSocketLimit,
    AddressNotBindable,
    AddressInUse,
    RemoteUnreachable,
    ConnectionRefused,
    ConnectionReset,
    ConnectionAborted,
    DatagramTooLarge,
    NameUnresolvable,
    PermanentResolverFailure,
}

impl ErrorCode {
    /// The case's label in the WIT.
    fn label(self) -> &'static str {
        match self {
            ErrorCode::Unknown => "unknown",
            ErrorCode::AccessDenied => "access-denied",
            ErrorCode::NotSupported => "not-supported",
            ErrorCode::InvalidArgument => "invalid-argument",
            ErrorCode::OutOfMemory => "out-of-memory",
            ErrorCode::Timeout => "timeout",
            ErrorCode::ConcurrencyConflict => "concurrency-conflict",
            ErrorCode::NotInProgress => "not-in-progress",
            ErrorCode::WouldBlock => "would-block",
            ErrorCode::InvalidState => "invalid-state",
            ErrorCode::NewSocketLimit => "new-socket-limit",
            ErrorCode::AddressNotBindable => "address-not-bindable",
            ErrorCode::AddressInUse => "address-in-use",
            ErrorCode::RemoteUnreachable => "remote-unreachable",
            ErrorCode::ConnectionRefused => "connection-refused",
            ErrorCode::ConnectionReset => "connection-reset",
            ErrorCode::ConnectionAborted => "connection-aborted",
            ErrorCode::DatagramTooLarge => "datagram-too-large",
            ErrorCode::NameUnresolvable => "name-unresolvable",
            ErrorCode::PermanentResolverFailure => "permanent-resolver-failure",
        }
    }

    /// The `error-code` value.
    pub(crate) fn val(self) -> Val {
        enum_val(self.label())
    }

    /// The code of an OS error, as the WIT's "POSIX equivalent" lines (and
    /// wasmtime) read them.
    pub(crate) fn from_errno(e: Errno) -> ErrorCode {
        match e {
            // EWOULDBLOCK is EAGAIN on every Unix rustix knows.
            Errno::AGAIN | Errno::INTR => ErrorCode::WouldBlock,
            Errno::PERM | Errno::ACCESS => ErrorCode::AccessDenied,
            Errno::ADDRINUSE => ErrorCode::AddressInUse,
            Errno::ADDRNOTAVAIL => ErrorCode::AddressNotBindable,
            Errno::ALREADY => ErrorCode::ConcurrencyConflict,
            Errno::TIMEDOUT => ErrorCode::Timeout,
            Errno::CONNREFUSED => ErrorCode::ConnectionRefused,
            Errno::CONNRESET => ErrorCode::ConnectionReset,
            Errno::CONNABORTED => ErrorCode::ConnectionAborted,
            Errno::INVAL => ErrorCode::InvalidArgument,
            Errno::HOSTUNREACH | Errno::HOSTDOWN | Errno::NETDOWN | Errno::NETUNREACH => {
                ErrorCode::RemoteUnreachable
            }
            #[cfg(target_os = "linux")]
            Errno::NONET => ErrorCode::RemoteUnreachable,
            Errno::ISCONN | Errno::NOTCONN | Errno::DESTADDRREQ => ErrorCode::InvalidState,
            Errno::NFILE | Errno::MFILE => ErrorCode::NewSocketLimit,
            Errno::MSGSIZE => ErrorCode::DatagramTooLarge,
            Errno::NOMEM | Errno::NOBUFS => ErrorCode::OutOfMemory,
            Errno::OPNOTSUPP
            | Errno::NOPROTOOPT
            | Errno::PFNOSUPPORT
            | Errno::PROTONOSUPPORT
            | Errno::PROTOTYPE
            | Errno::SOCKTNOSUPPORT
            | Errno::AFNOSUPPORT => ErrorCode::NotSupported,
            _ => ErrorCode::Unknown,
        }
    }

    /// The code of a std error: its errno if it has one, else its kind.
    pub(crate) fn from_io(e: &std::io::Error) -> ErrorCode {
        use std::io::ErrorKind as K;
        if let Some(errno) = Errno::from_io_error(e) {
            return ErrorCode::from_errno(errno);
        }
        match e.kind() {
            K::AddrInUse => ErrorCode::AddressInUse,
            K::AddrNotAvailable => ErrorCode::AddressNotBindable,
            K::ConnectionAborted => ErrorCode::ConnectionAborted,
            K::ConnectionRefused => ErrorCode::ConnectionRefused,
            K::ConnectionReset => ErrorCode::ConnectionReset,
            K::Interrupted | K::WouldBlock => ErrorCode::WouldBlock,
            K::InvalidInput => ErrorCode::InvalidArgument,
            K::NotConnected => ErrorCode::InvalidState,
            K::OutOfMemory => ErrorCode::OutOfMemory,
            K::PermissionDenied => ErrorCode::AccessDenied,
            K::TimedOut => ErrorCode::Timeout,
            K::Unsupported => ErrorCode::NotSupported,
            _ => ErrorCode::Unknown,
        }
    }
}

/// Why a socket operation did not happen: an error code the guest gets as
/// a value, or a broken rule (or host failure) that traps.
pub(crate) enum SocketError {
    Code(ErrorCode),
    Trap(Error),
}

impl From<ErrorCode> for SocketError {
    fn from(code: ErrorCode) -> SocketError {
        SocketError::Code(code)
    }
}

impl From<Errno> for SocketError {
    fn from(e: Errno) -> SocketError {
        SocketError::Code(ErrorCode::from_errno(e))
    }
}

impl From<Error> for SocketError {
    fn from(e: Error) -> SocketError {
        SocketError::Trap(e)
    }
}

pub(crate) type SocketResult<T> = Result<T, SocketError>;

/// The `result<T, error-code>` of an operation that returns `T`.
pub(crate) fn result(r: SocketResult<Val>) -> Result<Val, Error> {
    match r {
        Ok(v) => Ok(ok(v)),
        Err(SocketError::Code(code)) => Ok(err(code.val())),
        Err(SocketError::Trap(e)) => Err(e),
    }
}

/// The `result<_, error-code>` of an operation that returns nothing.
pub(crate) fn unit_result(r: SocketResult<()>) -> Result<Val, Error> {
    match r {
        Ok(()) => Ok(ok_unit()),
        Err(SocketError::Code(code)) => Ok(err(code.val())),
        Err(SocketError::Trap(e)) => Err(e),
    }
}

/// Whether the guest may use a socket address at all. wasmtime without
/// `-S inherit-network` refuses every address, and cmc's policy is the same
/// switch: on, every address; off, none (`access-denied`).
pub(crate) fn check_address(policy: NetworkPolicy) -> Result<(), ErrorCode> {
    if policy.allow_addresses {
        Ok(())
    } else {
        Err(ErrorCode::AccessDenied)
    }
}

/// `ip-address-family`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    Ipv4,
    Ipv6,
}

impl Family {
    pub(crate) fn from_val(v: &Val) -> Result<Family, Error> {
        match val::enum_case(v)? {
            "ipv4" => Ok(Family::Ipv4),
            "ipv6" => Ok(Family::Ipv6),
            case => Err(Error::host(format!(
                "WASI host: `{case}` is not an ip-address-family"
            ))),
        }
    }

    pub(crate) fn val(self) -> Val {
        enum_val(match self {
            Family::Ipv4 => "ipv4",
            Family::Ipv6 => "ipv6",
        })
    }

    pub(crate) fn os(self) -> AddressFamily {
        match self {
            Family::Ipv4 => AddressFamily::INET,
            Family::Ipv6 => AddressFamily::INET6,
        }
    }

    /// Whether `ip` can be an address of a socket of this family. IPv6
    /// sockets are IPv6-only, as the WIT demands, so they refuse
    /// IPv4-mapped addresses, and the IPv4-compatible ones deprecated since
    /// 2006 (which systems treat inconsistently) too.
    pub(crate) fn admits(self, ip: IpAddr) -> bool {
        match (self, ip) {
            (Family::Ipv4, IpAddr::V4(_)) => true,
            (Family::Ipv6, IpAddr::V6(v6)) => {
                let ipv4_compatible = matches!(v6.segments(), [0, 0, 0, 0, 0, 0, _, _])
                    && v6 != Ipv6Addr::UNSPECIFIED
                    && v6 != Ipv6Addr::LOCALHOST;
                !ipv4_compatible && v6.to_ipv4_mapped().is_none()
            }
            _ => false,
        }
    }
}

/// Whether `ip` addresses one host: not multicast, not broadcast.
pub(crate) fn is_unicast(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => !v4.is_multicast() && !v4.is_broadcast(),
        IpAddr::V6(v6) => !v6.is_multicast(),
    }
}

/// Whether `addr` can be a peer: a specific address and port.
pub(crate) fn is_remote(addr: SocketAddr) -> bool {
    !addr.ip().to_canonical().is_unspecified() && addr.port() != 0
}

fn u8_of(v: &Val) -> Result<u8, Error> {
    match v {
        Val::U8(n) => Ok(*n),
        v => Err(Error::host(format!(
            "WASI host: expected u8, got {}",
            v.kind()
        ))),
    }
}

fn u16_of(v: &Val) -> Result<u16, Error> {
    match v {
        Val::U16(n) => Ok(*n),
        v => Err(Error::host(format!(
            "WASI host: expected u16, got {}",
            v.kind()
        ))),
    }
}

/// The elements of a `tuple` of `N` elements.
fn tuple_of<const N: usize>(v: &Val) -> Result<&[Val; N], Error> {
    val::tuple(v)?
        .try_into()
        .map_err(|_| Error::host(format!("WASI host: expected a tuple of {N}")))
}

/// An `ip-socket-address` value.
pub(crate) fn socket_addr(v: &Val) -> Result<SocketAddr, Error> {
    let (case, payload) = val::variant(v)?;
    let fields =
        payload.ok_or_else(|| Error::host("WASI host: ip-socket-address lacks a payload"))?;
    let port = u16_of(val::field(fields, "port")?)?;
    let address = val::field(fields, "address")?;
    match case {
        "ipv4" => {
            let [a, b, c, d] = tuple_of::<4>(address)?;
            let ip = Ipv4Addr::new(u8_of(a)?, u8_of(b)?, u8_of(c)?, u8_of(d)?);
            Ok(SocketAddr::V4(SocketAddrV4::new(ip, port)))
        }
        "ipv6" => {
            let mut segments = [0; 8];
            for (s, v) in segments.iter_mut().zip(tuple_of::<8>(address)?) {
                *s = u16_of(v)?;
            }
            let flow_info = val::u32(val::field(fields, "flow-info")?)?;
            let scope_id = val::u32(val::field(fields, "scope-id")?)?;
            Ok(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(segments),
                port,
                flow_info,
                scope_id,
            )))
        }
        case => Err(Error::host(format!(
            "WASI host: `{case}` is not an ip-socket-address"
        ))),
    }
}

fn ipv4_val(ip: Ipv4Addr) -> Val {
    Val::Tuple(ip.octets().into_iter().map(Val::U8).collect())
}

fn ipv6_val(ip: Ipv6Addr) -> Val {
    Val::Tuple(ip.segments().into_iter().map(Val::U16).collect())
}

/// The `ip-socket-address` value of `addr`.
pub(crate) fn socket_addr_val(addr: SocketAddr) -> Val {
    match addr {
        SocketAddr::V4(a) => variant_val(
            "ipv4",
            Some(record([
                ("port", Val::U16(a.port())),
                ("address", ipv4_val(*a.ip())),
            ])),
        ),
        SocketAddr::V6(a) => variant_val(
            "ipv6",
            Some(record([
                ("port", Val::U16(a.port())),
                ("flow-info", Val::U32(a.flowinfo())),
                ("address", ipv6_val(*a.ip())),
                ("scope-id", Val::U32(a.scope_id())),
            ])),
        ),
    }
}

/// The `ip-address` value of `ip`.
pub(crate) fn ip_addr_val(ip: IpAddr) -> Val {
    match ip {
        IpAddr::V4(v4) => variant_val("ipv4", Some(ipv4_val(v4))),
        IpAddr::V6(v6) => variant_val("ipv6", Some(ipv6_val(v6))),
    }
}

/// A new non-blocking socket of `family` (TCP or UDP by `kind`). The WIT
/// makes IPv6 sockets IPv6-only, with no way to change it.
pub(crate) fn open_socket(family: Family, kind: SocketType) -> SocketResult<OwnedFd> {
    let flags = SocketFlags::NONBLOCK | SocketFlags::CLOEXEC;
    let fd = rustix::net::socket_with(family.os(), kind, flags, None)?;
    if family == Family::Ipv6 {
        rustix::net::sockopt::set_ipv6_v6only(&fd, true)?;
    }
    Ok(fd)
}

/// An address the OS reported, as std's type: every socket here is IPv4
/// or IPv6, so another family is a broken promise of the OS.
fn from_os(addr: SocketAddrAny) -> Result<SocketAddr, ErrorCode> {
    SocketAddr::try_from(addr).map_err(|_| ErrorCode::Unknown)
}

/// The address `fd` is bound to (`0.0.0.0:0` or `[::]:0` when unbound).
/// Binds `fd` to `addr`. The callers' own checks catch a wrong family
/// first; an `EAFNOSUPPORT` the OS still gives is an invalid argument too.
pub(crate) fn bind(fd: impl AsFd, addr: SocketAddr) -> Result<(), ErrorCode> {
    rustix::net::bind(fd, &addr).map_err(|e| match e {
        Errno::AFNOSUPPORT => ErrorCode::InvalidArgument,
        e => ErrorCode::from_errno(e),
    })
}

pub(crate) fn local_addr(fd: impl AsFd) -> SocketResult<SocketAddr> {
    Ok(from_os(rustix::net::getsockname(fd)?)?)
}

/// The address `fd` is connected to, if it is.
pub(crate) fn peer_addr(fd: impl AsFd) -> SocketResult<Option<SocketAddr>> {
    match rustix::net::getpeername(fd) {
        Ok(Some(addr)) => Ok(Some(from_os(addr)?)),
        Ok(None) | Err(Errno::NOTCONN) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The source address of a received datagram.
pub(crate) fn source_addr(addr: Option<SocketAddrAny>) -> Option<SocketAddr> {
    addr.and_then(|a| from_os(a).ok())
}

/// `network-error-code`: the code of a stream's failure. Every stream error
/// cmc makes carries the OS error behind it, so any of them has one.
pub(crate) fn network_error_code(ctx: &WasiCtx, rep: Rep) -> Result<Val, Error> {
    let error = ctx.table.get::<IoError>(rep)?;
    Ok(val::some(ErrorCode::from_io(&error.0).val()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_round_trip_through_values() {
        let addrs: [SocketAddr; 2] = [
            "127.0.0.1:8080".parse().unwrap(),
            SocketAddr::V6(SocketAddrV6::new("2001:db8::1".parse().unwrap(), 443, 7, 3)),
        ];
        for addr in addrs {
            assert_eq!(socket_addr(&socket_addr_val(addr)).unwrap(), addr);
        }
    }

    #[test]
    fn malformed_address_values_are_errors() {
        let v = variant_val("ipv4", Some(record([("port", Val::U16(1))])));
        assert!(socket_addr(&v).is_err());
        let v = variant_val(
            "ipv4",
            Some(record([
                ("port", Val::U16(1)),
                ("address", Val::Tuple(vec![Val::U8(1)])),
            ])),
        );
        assert!(socket_addr(&v).is_err());
        assert!(socket_addr(&variant_val("ipv5", None)).is_err());
    }

    #[test]
    fn ipv6_sockets_refuse_ipv4_in_disguise() {
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        let compatible: IpAddr = "::127.0.0.1".parse().unwrap();
        assert!(!Family::Ipv6.admits(mapped));
        assert!(!Family::Ipv6.admits(compatible));
        assert!(Family::Ipv6.admits(Ipv6Addr::LOCALHOST.into()));
        assert!(Family::Ipv6.admits(Ipv6Addr::UNSPECIFIED.into()));
        assert!(!Family::Ipv4.admits(Ipv6Addr::LOCALHOST.into()));
    }

    #[test]
    fn errnos_map_as_the_wit_says() {
        assert_eq!(
            ErrorCode::from_errno(Errno::ADDRINUSE),
            ErrorCode::AddressInUse
        );
        assert_eq!(
            ErrorCode::from_errno(Errno::CONNREFUSED),
            ErrorCode::ConnectionRefused
        );
        assert_eq!(
            ErrorCode::from_io(&std::io::Error::from(std::io::ErrorKind::PermissionDenied)),
            ErrorCode::AccessDenied
        );
        assert_eq!(
            ErrorCode::from_io(&Errno::MFILE.into()),
            ErrorCode::NewSocketLimit
        );
    }
}
