//! `wasi:clocks`: the monotonic clock (with sleeps as pollables) and the
//! wall clock.

use crate::ctx::WasiCtx;
use crate::host::{WasiView, interface};
use crate::io::poll::Pollable;
use crate::val::{own, record};
use cmc_runtime::component::{Linker, Val};
use std::time::{Duration, Instant, SystemTime};

/// The resolution both clocks report: the host's clocks count nanoseconds.
pub(crate) const RESOLUTION_NS: u32 = 1;

pub(crate) fn datetime(d: Duration) -> Val {
    record([
        ("seconds", Val::U64(d.as_secs())),
        ("nanoseconds", Val::U32(d.subsec_nanos())),
    ])
}

/// The monotonic clock: nanoseconds since the context was built.
pub(crate) fn monotonic_now(ctx: &WasiCtx) -> u64 {
    let ns = ctx.monotonic_origin.elapsed().as_nanos();
    ns.min(u128::from(u64::MAX)) as u64
}

/// The wall clock: the time since 1970. Before 1970 is reported as 1970
/// itself: a `datetime` is unsigned.
pub(crate) fn wall_clock_now() -> Duration {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
}

/// A pollable ready at `at`, or (past the range of `Instant`) never.
pub(crate) fn deadline(at: Option<Instant>) -> Pollable {
    match at {
        Some(at) => Pollable::Deadline(at),
        None => Pollable::Deadline(Instant::now() + Duration::from_secs(u32::MAX.into())),
    }
}

pub(crate) fn add_to_linker<T: WasiView>(linker: &mut Linker<T>) {
    interface(linker, "wasi:clocks/monotonic-clock")
        .func("now", |ctx, _| Ok(Val::U64(monotonic_now(ctx))))
        .func("resolution", |_, _| Ok(Val::U64(RESOLUTION_NS.into())))
        .func("subscribe-instant", |ctx, mut a| {
            let at = ctx
                .monotonic_origin
                .checked_add(Duration::from_nanos(a.u64()?));
            Ok(own(ctx.table.push(deadline(at))?))
        })
        .func("subscribe-duration", |ctx, mut a| {
            let at = Instant::now().checked_add(Duration::from_nanos(a.u64()?));
            Ok(own(ctx.table.push(deadline(at))?))
        });
    interface(linker, "wasi:clocks/wall-clock")
        .func("now", |_, _| Ok(datetime(wall_clock_now())))
        .func("resolution", |_, _| {
            Ok(datetime(Duration::from_nanos(RESOLUTION_NS.into())))
        });
}
