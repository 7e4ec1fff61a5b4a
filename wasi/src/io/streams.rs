//! `wasi:io/streams`: input and output byte streams.
//!
//! Every stream (stdio, files, sockets, memory pipes) implements
//! [`InputStream`] or [`OutputStream`]; the table holds them boxed, so the
//! interface's methods are written once here.

use super::error::IoError;
use super::poll::Pollable;
use crate::ctx::WasiCtx;
use crate::host::{WasiView, interface};
use crate::table::Rep;
use crate::val::{self, Args, bytes, ok, ok_unit, own, variant_val};
use cmc_runtime::Error;
use cmc_runtime::component::{Linker, Val};

/// The most bytes one `read` returns, whatever the guest asks for: a huge
/// request must not make the host allocate its size.
pub const MAX_READ: usize = 64 * 1024;

/// The most bytes `blocking-write-and-flush` and `blocking-write-zeroes-
/// and-flush` take in one call, as the interface specifies.
const MAX_BLOCKING_WRITE: u64 = 4096;

/// The most zeroes one `write-zeroes` writes.
const MAX_ZEROES: u64 = 1 << 20;

/// Why a stream operation did not happen.
#[derive(Debug)]
pub enum StreamError {
    /// The stream is closed (end of input, or the other side went away).
    Closed,
    /// The operation failed; the stream is closed from now on.
    Failed(std::io::Error),
    /// The guest broke the interface's rules: the call traps.
    Trap(Error),
}

impl From<std::io::Error> for StreamError {
    fn from(e: std::io::Error) -> StreamError {
        StreamError::Failed(e)
    }
}

impl From<rustix::io::Errno> for StreamError {
    fn from(e: rustix::io::Errno) -> StreamError {
        StreamError::Failed(e.into())
    }
}

/// A source of bytes.
pub trait InputStream: Send {
    /// Up to `len` bytes that are available now; empty when none are yet.
    fn read(&mut self, len: usize) -> Result<Vec<u8>, StreamError>;

    /// What to wait on until bytes (or the end) are available.
    fn pollable(&self) -> Pollable;

    /// Waits until at least one byte or the end is available, then reads.
    fn blocking_read(&mut self, len: usize) -> Result<Vec<u8>, StreamError> {
        loop {
            let data = self.read(len)?;
            if !data.is_empty() || len == 0 {
                return Ok(data);
            }
            self.pollable().block().map_err(StreamError::Trap)?;
        }
    }

    /// Skips up to `len` available bytes; returns how many it skipped.
    fn skip(&mut self, len: usize) -> Result<u64, StreamError> {
        Ok(self.read(len)?.len() as u64)
    }

    /// Waits until something is available, then skips.
    fn blocking_skip(&mut self, len: usize) -> Result<u64, StreamError> {
        Ok(self.blocking_read(len)?.len() as u64)
    }
}

/// A sink of bytes. Every implementation here writes synchronously, so
/// `flush` has nothing left to wait for when `write` returns.
pub trait OutputStream: Send {
    /// How many bytes the next `write` may take now (0: wait first).
    fn check_write(&mut self) -> Result<usize, StreamError>;

    /// Writes `bytes`, which the caller has checked fit the budget.
    fn write(&mut self, bytes: &[u8]) -> Result<(), StreamError>;

    /// Pushes written bytes on.
    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    /// What to wait on until `check_write` gives a budget.
    fn pollable(&self) -> Pollable {
        Pollable::Ready
    }
}

/// The table entry of an `input-stream`.
pub type DynInputStream = Box<dyn InputStream>;
/// The table entry of an `output-stream`.
pub type DynOutputStream = Box<dyn OutputStream>;

/// Adds `stream` to the table as an `own<input-stream>`.
pub fn push_input(ctx: &mut WasiCtx, stream: impl InputStream + 'static) -> Result<Val, Error> {
    Ok(own(ctx.table.push(Box::new(stream) as DynInputStream)?))
}

/// Adds `stream` to the table as an `own<output-stream>`.
pub fn push_output(ctx: &mut WasiCtx, stream: impl OutputStream + 'static) -> Result<Val, Error> {
    Ok(own(ctx.table.push(Box::new(stream) as DynOutputStream)?))
}

/// `result<T, stream-error>` of an operation's outcome.
fn outcome<R>(
    ctx: &mut WasiCtx,
    r: Result<R, StreamError>,
    ok_val: impl FnOnce(R) -> Val,
) -> Result<Val, Error> {
    let error = match r {
        Ok(v) => return Ok(ok_val(v)),
        Err(StreamError::Trap(e)) => return Err(e),
        Err(StreamError::Closed) => variant_val("closed", None),
        Err(StreamError::Failed(e)) => {
            let rep = ctx.table.push(IoError(e))?;
            variant_val("last-operation-failed", Some(own(rep)))
        }
    };
    Ok(val::err(error))
}

fn input(ctx: &mut WasiCtx, rep: Rep) -> Result<&mut DynInputStream, Error> {
    ctx.table.get_mut::<DynInputStream>(rep)
}

fn output(ctx: &mut WasiCtx, rep: Rep) -> Result<&mut DynOutputStream, Error> {
    ctx.table.get_mut::<DynOutputStream>(rep)
}

/// A length argument as a bounded host size.
fn read_len(len: u64) -> usize {
    len.min(MAX_READ as u64) as usize
}

fn read(ctx: &mut WasiCtx, mut a: Args<'_>, blocking: bool) -> Result<Val, Error> {
    let (rep, len) = (a.rep()?, read_len(a.u64()?));
    let stream = input(ctx, rep)?;
    let r = if blocking {
        stream.blocking_read(len)
    } else {
        stream.read(len)
    };
    outcome(ctx, r, |data| ok(bytes(data)))
}

fn skip(ctx: &mut WasiCtx, mut a: Args<'_>, blocking: bool) -> Result<Val, Error> {
    let (rep, len) = (a.rep()?, read_len(a.u64()?));
    let stream = input(ctx, rep)?;
    let r = if blocking {
        stream.blocking_skip(len)
    } else {
        stream.skip(len)
    };
    outcome(ctx, r, |n| ok(Val::U64(n)))
}

/// Writes `data` within the stream's current budget; `blocking` waits for
/// a budget first and flushes after.
pub(crate) fn write_checked(
    stream: &mut DynOutputStream,
    data: &[u8],
    blocking: bool,
) -> Result<(), StreamError> {
    let mut rest = data;
    while !rest.is_empty() || blocking {
        let budget = stream.check_write()?;
        if budget == 0 && blocking {
            stream.pollable().block().map_err(StreamError::Trap)?;
            continue;
        }
        if !blocking && rest.len() > budget {
            return Err(StreamError::Trap(Error::host(format!(
                "wasi:io/streams: write of {} bytes exceeds the permitted {budget}",
                rest.len()
            ))));
        }
        let n = rest.len().min(budget);
        stream.write(&rest[..n])?;
        rest = &rest[n..];
        if rest.is_empty() {
            break;
        }
    }
    if blocking {
        stream.flush()?;
    }
    Ok(())
}

fn write(ctx: &mut WasiCtx, mut a: Args<'_>, blocking: bool) -> Result<Val, Error> {
    let (rep, data) = (a.rep()?, a.bytes()?);
    if blocking && data.len() as u64 > MAX_BLOCKING_WRITE {
        return Err(too_much(data.len() as u64));
    }
    let r = write_checked(output(ctx, rep)?, data, blocking);
    outcome(ctx, r, |()| ok_unit())
}

fn write_zeroes(ctx: &mut WasiCtx, mut a: Args<'_>, blocking: bool) -> Result<Val, Error> {
    let (rep, len) = (a.rep()?, a.u64()?);
    if blocking && len > MAX_BLOCKING_WRITE {
        return Err(too_much(len));
    }
    // No stream's budget is larger; a bigger request traps below anyway.
    if len > MAX_ZEROES {
        return Err(too_much(len));
    }
    let zeroes = vec![0; len as usize];
    let r = write_checked(output(ctx, rep)?, &zeroes, blocking);
    outcome(ctx, r, |()| ok_unit())
}

fn too_much(len: u64) -> Error {
    Error::host(format!(
        "wasi:io/streams: {len} bytes is more than one write may take"
    ))
}

fn flush(ctx: &mut WasiCtx, mut a: Args<'_>) -> Result<Val, Error> {
    let r = output(ctx, a.rep()?)?.flush();
    outcome(ctx, r, |()| ok_unit())
}

/// `splice`: moves up to `len` bytes from `src` to the stream, as many as
/// are available and fit; `blocking` waits for both.
fn splice(ctx: &mut WasiCtx, mut a: Args<'_>, blocking: bool) -> Result<Val, Error> {
    let (dst, src, len) = (a.rep()?, a.rep()?, read_len(a.u64()?));
    let budget = loop {
        match output(ctx, dst)?.check_write() {
            Ok(0) if blocking => {
                let p = output(ctx, dst)?.pollable();
                p.block()?;
            }
            Ok(n) => break n,
            Err(e) => return outcome(ctx, Err::<(), _>(e), |()| ok_unit()),
        }
    };
    let len = len.min(budget);
    let source = input(ctx, src)?;
    let data = if blocking {
        source.blocking_read(len)
    } else {
        source.read(len)
    };
    let r = data.and_then(|data| {
        write_checked(output(ctx, dst).map_err(StreamError::Trap)?, &data, false)?;
        Ok(data.len() as u64)
    });
    outcome(ctx, r, |n| ok(Val::U64(n)))
}

pub(crate) fn add_to_linker<T: WasiView>(linker: &mut Linker<T>) {
    interface(linker, "wasi:io/streams")
        .resource::<DynInputStream>("input-stream")
        .resource::<DynOutputStream>("output-stream")
        .func("[method]input-stream.read", |ctx, a| read(ctx, a, false))
        .func("[method]input-stream.blocking-read", |ctx, a| {
            read(ctx, a, true)
        })
        .func("[method]input-stream.skip", |ctx, a| skip(ctx, a, false))
        .func("[method]input-stream.blocking-skip", |ctx, a| {
            skip(ctx, a, true)
        })
        .func("[method]input-stream.subscribe", |ctx, mut a| {
            let pollable = input(ctx, a.rep()?)?.pollable();
            Ok(own(ctx.table.push(pollable)?))
        })
        .func("[method]output-stream.check-write", |ctx, mut a| {
            let r = output(ctx, a.rep()?)?.check_write();
            outcome(ctx, r, |n| ok(Val::U64(n as u64)))
        })
        .func("[method]output-stream.write", |ctx, a| write(ctx, a, false))
        .func(
            "[method]output-stream.blocking-write-and-flush",
            |ctx, a| write(ctx, a, true),
        )
        .func("[method]output-stream.flush", flush)
        .func("[method]output-stream.blocking-flush", flush)
        .func("[method]output-stream.subscribe", |ctx, mut a| {
            let pollable = output(ctx, a.rep()?)?.pollable();
            Ok(own(ctx.table.push(pollable)?))
        })
        .func("[method]output-stream.write-zeroes", |ctx, a| {
            write_zeroes(ctx, a, false)
        })
        .func(
            "[method]output-stream.blocking-write-zeroes-and-flush",
            |ctx, a| write_zeroes(ctx, a, true),
        )
        .func("[method]output-stream.splice", |ctx, a| {
            splice(ctx, a, false)
        })
        .func("[method]output-stream.blocking-splice", |ctx, a| {
            splice(ctx, a, true)
        });
}
