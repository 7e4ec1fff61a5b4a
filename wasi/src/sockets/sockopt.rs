//! The socket options TCP and UDP sockets share: the unicast hop limit and
//! the kernel's buffer sizes, with the WIT's rules (0 is
//! `invalid-argument`; other values are hints the OS may clamp) applied the
//! same way on every OS.

use super::network::{ErrorCode, Family, SocketResult};
use rustix::io::Errno;
use rustix::net::sockopt;
use std::os::fd::AsFd;

/// `IP_TTL` or `IPV6_UNICAST_HOPS`.
pub(crate) fn hop_limit(fd: impl AsFd, family: Family) -> SocketResult<u8> {
    Ok(match family {
        Family::Ipv4 => u8::try_from(sockopt::ip_ttl(fd)?).map_err(|_| ErrorCode::NotSupported)?,
        Family::Ipv6 => sockopt::ipv6_unicast_hops(fd)?,
    })
}

/// Sets `IP_TTL` or `IPV6_UNICAST_HOPS`. 0 is refused here: systems
/// disagree on it (Linux even between its IPv4 and IPv6 stacks).
pub(crate) fn set_hop_limit(fd: impl AsFd, family: Family, value: u8) -> SocketResult<()> {
    if value == 0 {
        return Err(ErrorCode::InvalidArgument.into());
    }
    match family {
        Family::Ipv4 => sockopt::set_ip_ttl(fd, value.into())?,
        Family::Ipv6 => sockopt::set_ipv6_unicast_hops(fd, Some(value))?,
    }
    Ok(())
}

/// A buffer size as the guest set it: Linux doubles what it is given (room
/// for its bookkeeping) and reports the doubled value, so it is halved
/// back.
fn reported_size(os: usize) -> u64 {
    let size = if cfg!(target_os = "linux") {
        os / 2
    } else {
        os
    };
    u64::try_from(size).unwrap_or(u64::MAX)
}

/// A requested buffer size, checked and clamped to what `setsockopt` takes.
fn requested_size(value: u64) -> SocketResult<usize> {
    if value == 0 {
        return Err(ErrorCode::InvalidArgument.into());
    }
    Ok(usize::try_from(value)
        .unwrap_or(usize::MAX)
        .min(i32::MAX as usize))
}

/// The OS treating a size as a hard limit (the BSDs) is smoothed into the
/// hint the WIT describes: `ENOBUFS` means "clamped".
fn as_hint(r: rustix::io::Result<()>) -> SocketResult<()> {
    match r {
        Ok(()) | Err(Errno::NOBUFS) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// `SO_RCVBUF`.
pub(crate) fn receive_buffer_size(fd: impl AsFd) -> SocketResult<u64> {
    Ok(reported_size(sockopt::socket_recv_buffer_size(fd)?))
}

pub(crate) fn set_receive_buffer_size(fd: impl AsFd, value: u64) -> SocketResult<()> {
    as_hint(sockopt::set_socket_recv_buffer_size(
        fd,
        requested_size(value)?,
    ))
}

/// `SO_SNDBUF`.
pub(crate) fn send_buffer_size(fd: impl AsFd) -> SocketResult<u64> {
    Ok(reported_size(sockopt::socket_send_buffer_size(fd)?))
}

pub(crate) fn set_send_buffer_size(fd: impl AsFd, value: u64) -> SocketResult<()> {
    as_hint(sockopt::set_socket_send_buffer_size(
        fd,
        requested_size(value)?,
    ))
}
