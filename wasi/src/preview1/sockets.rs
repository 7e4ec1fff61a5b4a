//! `sock_accept`, `sock_recv`, `sock_send` and `sock_shutdown`.
//!
//! Preview1 cannot create sockets; it can only use those a host preopens
//! as descriptors, and neither cmc nor wasmtime 48 preopens any. So, as in
//! wasmtime, each function checks its arguments, then reports `badf` for a
//! number that is not a descriptor and `notsock` for any descriptor.

use super::Host;
use super::abi::{self, RIFLAGS_DEFINED, SDFLAGS_DEFINED, fdflags};
use super::errno::{Errno, P1Result};

/// `badf` or `notsock`.
fn not_a_socket(h: &Host<'_>, fd: u32) -> P1Result<()> {
    h.fds.get(fd)?;
    Err(Errno::Notsock.into())
}

pub(super) fn sock_accept(h: &mut Host<'_>, (fd, flags, _): (u32, i32, u32)) -> P1Result<()> {
    abi::flags::<u16, _>(flags, fdflags::DEFINED)?;
    not_a_socket(h, fd)
}

pub(super) fn sock_recv(
    h: &mut Host<'_>,
    (fd, _, _, flags, _, _): (u32, u32, u32, i32, u32, u32),
) -> P1Result<()> {
    abi::flags::<u16, _>(flags, RIFLAGS_DEFINED)?;
    not_a_socket(h, fd)
}

/// `sock_send`: `siflags` defines no flags, but must fit its `u16`.
pub(super) fn sock_send(
    h: &mut Host<'_>,
    (fd, _, _, flags, _): (u32, u32, u32, i32, u32),
) -> P1Result<()> {
    u16::try_from(flags).map_err(|_| Errno::Overflow)?;
    not_a_socket(h, fd)
}

pub(super) fn sock_shutdown(h: &mut Host<'_>, (fd, how): (u32, i32)) -> P1Result<()> {
    abi::flags::<u8, _>(how, SDFLAGS_DEFINED)?;
    not_a_socket(h, fd)
}
