//! `wasi:io/poll`: readiness of streams, sockets and clocks, and waiting
//! for it.
//!
//! cmc runs guests synchronously on the host thread, so a pollable is a
//! description of what to wait for (a deadline, or a file descriptor
//! becoming readable or writable), and waiting is one `poll(2)` over the
//! descriptors with the earliest deadline as its timeout.

use crate::host::{WasiView, interface};
use crate::table::Rep;
use crate::val;
use cmc_runtime::Error;
use cmc_runtime::component::{Linker, Val};
use rustix::event::{PollFd, PollFlags, Timespec};
use std::os::fd::AsFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A file descriptor shared by a stream or socket and its pollables.
pub type SharedFd = Arc<dyn AsFd + Send + Sync>;

/// The state of a `pollable` resource: what it waits for.
#[derive(Clone)]
pub enum Pollable {
    /// Always ready (files, memory pipes, closed streams).
    Ready,
    /// Ready from this instant on.
    Deadline(Instant),
    /// Ready when `fd` is readable.
    Readable(SharedFd),
    /// Ready when `fd` is writable.
    Writable(SharedFd),
    /// Ready when `fd` is readable or writable: a TCP socket, whose
    /// pending operation (connect: writable; accept: readable) depends on
    /// its state when the pollable is waited on, not when it was made.
    ReadableOrWritable(SharedFd),
}

impl Pollable {
    /// The descriptor and events this pollable waits on, if any.
    fn fd(&self) -> Option<(&SharedFd, PollFlags)> {
        match self {
            Pollable::Readable(fd) => Some((fd, PollFlags::IN)),
            Pollable::Writable(fd) => Some((fd, PollFlags::OUT)),
            Pollable::ReadableOrWritable(fd) => Some((fd, PollFlags::IN | PollFlags::OUT)),
            Pollable::Ready | Pollable::Deadline(_) => None,
        }
    }

    /// Whether it is ready now, without waiting.
    pub fn is_ready(&self) -> Result<bool, Error> {
        Ok(!wait(&[self], Some(Duration::ZERO))?.is_empty())
    }

    /// Waits until it is ready.
    pub fn block(&self) -> Result<(), Error> {
        wait(&[self], None).map(drop)
    }
}

/// Waits until at least one of `pollables` is ready, or `limit` passes
/// (`None`: no limit), and returns the indices of the ready ones in
/// ascending order.
pub fn wait(pollables: &[&Pollable], limit: Option<Duration>) -> Result<Vec<u32>, Error> {
    let give_up = limit.map(|l| Instant::now() + l);
    loop {
        let now = Instant::now();
        let mut ready = Vec::new();
        let mut next_deadline = give_up;
        for (i, p) in pollables.iter().enumerate() {
            match p {
                Pollable::Ready => ready.push(i as u32),
                Pollable::Deadline(at) if *at <= now => ready.push(i as u32),
                Pollable::Deadline(at) => {
                    next_deadline = Some(next_deadline.map_or(*at, |d| d.min(*at)));
                }
                Pollable::Readable(_) | Pollable::Writable(_) | Pollable::ReadableOrWritable(_) => {
                }
            }
        }
        let (indices, mut fds): (Vec<u32>, Vec<PollFd<'_>>) = pollables
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.fd().map(|(fd, ev)| (i as u32, PollFd::new(fd, ev))))
            .unzip();
        let timeout = if ready.is_empty() {
            next_deadline.map(|d| d.saturating_duration_since(now))
        } else {
            Some(Duration::ZERO)
        };
        if !fds.is_empty() || timeout != Some(Duration::ZERO) {
            let spec = timeout.map(|t| Timespec {
                tv_sec: t.as_secs().min(i64::MAX as u64) as i64,
                tv_nsec: i64::from(t.subsec_nanos()),
            });
            match rustix::event::poll(&mut fds, spec.as_ref()) {
                Ok(_) | Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(Error::host(format!("poll failed: {e}"))),
            }
        }
        for (i, fd) in indices.iter().zip(&fds) {
            if !fd.revents().is_empty() {
                ready.push(*i);
            }
        }
        let timed_out = give_up.is_some_and(|g| Instant::now() >= g);
        if !ready.is_empty() || timed_out {
            ready.sort_unstable();
            return Ok(ready);
        }
    }
}

pub(crate) fn add_to_linker<T: WasiView>(linker: &mut Linker<T>) {
    interface(linker, "wasi:io/poll")
        .resource::<Pollable>("pollable")
        .func("[method]pollable.ready", |ctx, mut a| {
            Ok(Val::Bool(ctx.table.get::<Pollable>(a.rep()?)?.is_ready()?))
        })
        .proc("[method]pollable.block", |ctx, mut a| {
            ctx.table.get::<Pollable>(a.rep()?)?.block()
        })
        .func("poll", |ctx, mut a| {
            let reps = a
                .list()?
                .iter()
                .map(val::rep)
                .collect::<Result<Vec<Rep>, _>>()?;
            if reps.is_empty() {
                return Err(Error::host(
                    "wasi:io/poll.poll: the list of pollables is empty",
                ));
            }
            let pollables = reps
                .iter()
                .map(|r| ctx.table.get::<Pollable>(*r))
                .collect::<Result<Vec<_>, _>>()?;
            let ready = wait(&pollables, None)?;
            Ok(Val::List(ready.into_iter().map(Val::U32).collect()))
        });
}
