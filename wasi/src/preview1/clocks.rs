//! `clock_res_get` and `clock_time_get` on the 0.2 clocks, and the
//! deadlines of `poll_oneoff`'s clock subscriptions.
//!
//! `realtime` is `wasi:clocks/wall-clock`, `monotonic` is
//! `wasi:clocks/monotonic-clock` (nanoseconds since the context was made).
//! The CPU-time clocks do not exist in 0.2; asking for them is `badf`, as
//! in wasmtime.

use super::Host;
use super::abi::{self, clockid};
use super::errno::{Errno, P1Result};
use crate::clocks::{RESOLUTION_NS, deadline, monotonic_now, wall_clock_now};
use crate::ctx::WasiCtx;
use crate::io::poll::Pollable;
use std::time::{Duration, Instant};

/// A duration in nanoseconds, the unit of `timestamp`; one too long for
/// it is `overflow`.
pub(super) fn nanos(d: Duration) -> Result<u64, Errno> {
    u64::try_from(d.as_nanos()).map_err(|_| Errno::Overflow)
}

/// Lifts a `clockid` and refuses the CPU-time clocks.
fn clock(id: i32) -> Result<u32, Errno> {
    match abi::enum_case::<u32, _>(id, clockid::CASES)? {
        id @ (clockid::REALTIME | clockid::MONOTONIC) => Ok(id),
        _ => Err(Errno::Badf),
    }
}

pub(super) fn clock_res_get(h: &mut Host<'_>, (id, out): (i32, u32)) -> P1Result<()> {
    clock(id)?;
    h.mem.write(out, u64::from(RESOLUTION_NS))
}

/// `clock_time_get`: the precision is a hint the host's clocks do not
/// need.
pub(super) fn clock_time_get(h: &mut Host<'_>, (id, _, out): (i32, u64, u32)) -> P1Result<()> {
    let now = match clock(id)? {
        clockid::REALTIME => nanos(wall_clock_now())?,
        _ => monotonic_now(h.ctx),
    };
    h.mem.write(out, now)
}

/// When a clock subscription is due, as a 0.2 pollable. An absolute
/// realtime timeout becomes the time left until it, as in wasmtime (a
/// later change of the wall clock does not move it); the CPU-time clocks
/// are `inval` here.
pub(super) fn subscription_deadline(
    ctx: &WasiCtx,
    id: u32,
    timeout: u64,
    absolute: bool,
) -> P1Result<Pollable> {
    let timeout = Duration::from_nanos(timeout);
    let at = match (id, absolute) {
        (clockid::MONOTONIC, true) => ctx.monotonic_origin.checked_add(timeout),
        (clockid::REALTIME, true) => {
            Instant::now().checked_add(timeout.saturating_sub(wall_clock_now()))
        }
        (clockid::MONOTONIC | clockid::REALTIME, false) => Instant::now().checked_add(timeout),
        _ => return Err(Errno::Inval.into()),
    };
    Ok(deadline(at))
}
