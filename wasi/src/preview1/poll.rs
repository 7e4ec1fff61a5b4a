//! `poll_oneoff`: waits until at least one subscription is ready, with the
//! 0.2 pollables and their `poll(2)`.
//!
//! A clock subscription is a deadline; `fd_read` and `fd_write` wait on
//! the descriptor's 0.2 stream (stdin until it has bytes or its end;
//! stdout, stderr and files are always ready). The events are written in
//! the order of the subscriptions that are ready, as wasmtime writes them:
//! an error for a subscription (a bad descriptor, a CPU-time clock) fails
//! the whole call, and `nbytes` of a ready descriptor is 1, with
//! `fd_readwrite_hangup` for a file read at its end.

use super::Host;
use super::abi::{Event, FD_READWRITE_HANGUP, Subscribe, Subscription};
use super::clocks::subscription_deadline;
use super::errno::{Errno, P1Result};
use super::fd::Fd;
use crate::filesystem::descriptor::Descriptor;
use crate::io::poll::{Pollable, wait};
use crate::io::streams::{DynInputStream, DynOutputStream};

/// The most bytes of subscriptions and events one call may name: the
/// host copies the subscriptions, so, like wasmtime's 128 MiB of
/// "hostcall fuel", a call naming more is `nomem`.
const MAX_BYTES: u64 = 128 << 20;

/// What to wait on for subscription `sub`.
fn pollable(h: &Host<'_>, sub: &Subscription) -> P1Result<Pollable> {
    let table = &h.ctx.table;
    Ok(match sub.what {
        Subscribe::Clock {
            id,
            timeout,
            absolute,
        } => subscription_deadline(h.ctx, id, timeout, absolute)?,
        Subscribe::FdRead(fd) => match h.fds.get(fd)? {
            Fd::Stdin { stream, .. } => table.get::<DynInputStream>(*stream)?.pollable(),
            Fd::File(_) => Pollable::Ready,
            Fd::Output { .. } | Fd::Dir { .. } => return Err(Errno::Badf.into()),
        },
        Subscribe::FdWrite(fd) => match h.fds.get(fd)? {
            Fd::Output { stream, .. } => table.get::<DynOutputStream>(*stream)?.pollable(),
            Fd::File(_) => Pollable::Ready,
            Fd::Stdin { .. } | Fd::Dir { .. } => return Err(Errno::Badf.into()),
        },
    })
}

/// The event of a ready subscription.
fn event(h: &Host<'_>, sub: &Subscription) -> P1Result<Event> {
    let (nbytes, flags) = match sub.what {
        Subscribe::Clock { .. } => (0, 0),
        Subscribe::FdRead(fd) => match h.fds.get(fd)? {
            Fd::File(f) => {
                let size = h.ctx.table.get::<Descriptor>(f.desc)?.metadata()?.len();
                let hangup = if size <= f.position {
                    FD_READWRITE_HANGUP
                } else {
                    0
                };
                (1, hangup)
            }
            _ => (1, 0),
        },
        Subscribe::FdWrite(_) => (1, 0),
    };
    Ok(Event {
        userdata: sub.userdata,
        error: Errno::Success,
        kind: sub.kind(),
        nbytes,
        flags,
    })
}

pub(super) fn poll_oneoff(
    h: &mut Host<'_>,
    (subs, events, n, nevents): (u32, u32, u32, u32),
) -> P1Result<()> {
    // Waiting for nothing would never end.
    if n == 0 {
        return Err(Errno::Inval.into());
    }
    if u64::from(n) * (Subscription::SIZE + Event::SIZE) > MAX_BYTES {
        return Err(Errno::Nomem.into());
    }
    let mut subscriptions = Vec::with_capacity(n as usize);
    let mut pollables = Vec::with_capacity(n as usize);
    for i in 0..u64::from(n) {
        let at = u64::from(subs) + i * Subscription::SIZE;
        let sub = Subscription::decode(&h.mem.read_record(at, Subscription::ALIGN)?)?;
        pollables.push(pollable(h, &sub)?);
        subscriptions.push(sub);
    }
    let ready = wait(&pollables.iter().collect::<Vec<_>>(), None)?;
    let mut written = 0u32;
    for sub in ready.iter().filter_map(|&i| subscriptions.get(i as usize)) {
        let e = event(h, sub)?;
        let at = u64::from(events) + u64::from(written) * Event::SIZE;
        h.mem.write_record(at, Event::ALIGN, &e.encode())?;
        written += 1;
    }
    h.mem.write(nevents, written)
}
