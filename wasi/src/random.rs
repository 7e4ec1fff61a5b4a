//! `wasi:random`: secure random bytes from the operating system, a fast
//! insecure generator, and the insecure seed.

use crate::ctx::WasiCtx;
use crate::host::{WasiView, interface};
use crate::val::bytes;
use cap_rand::TryRngCore;
use cmc_runtime::Error;
use cmc_runtime::component::{Linker, Val};

/// The most bytes one call returns: a guest asking for more traps instead
/// of making the host allocate what it asked for.
const MAX_BYTES: u64 = 64 << 20;

/// A request for `n` bytes as a host size, if within [`MAX_BYTES`].
pub(crate) fn len(n: u64) -> Result<usize, Error> {
    if n > MAX_BYTES {
        return Err(Error::host(format!(
            "wasi:random: {n} bytes requested; the host gives at most {MAX_BYTES} per call"
        )));
    }
    Ok(n as usize)
}

/// The next value of the insecure generator (splitmix64: fast, and good
/// enough for hash seeds, which is what the interface is for).
fn insecure_u64(ctx: &mut WasiCtx) -> u64 {
    ctx.insecure_state = ctx.insecure_state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = ctx.insecure_state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Fills `buf` from the operating system's entropy source.
pub(crate) fn os_random(buf: &mut [u8]) -> Result<(), Error> {
    cap_rand::rngs::OsRng::default(cap_rand::ambient_authority())
        .try_fill_bytes(buf)
        .map_err(|e| Error::host(format!("the operating system gave no random bytes: {e}")))
}

pub(crate) fn add_to_linker<T: WasiView>(linker: &mut Linker<T>) {
    interface(linker, "wasi:random/random")
        .func("get-random-bytes", |_, mut a| {
            let mut buf = vec![0; len(a.u64()?)?];
            os_random(&mut buf)?;
            Ok(bytes(buf))
        })
        .func("get-random-u64", |_, _| {
            let mut buf = [0; 8];
            os_random(&mut buf)?;
            Ok(Val::U64(u64::from_le_bytes(buf)))
        });
    interface(linker, "wasi:random/insecure")
        .func("get-insecure-random-bytes", |ctx, mut a| {
            let n = len(a.u64()?)?;
            let mut buf = Vec::with_capacity(n + 8);
            while buf.len() < n {
                buf.extend_from_slice(&insecure_u64(ctx).to_le_bytes());
            }
            buf.truncate(n);
            Ok(bytes(buf))
        })
        .func("get-insecure-random-u64", |ctx, _| {
            Ok(Val::U64(insecure_u64(ctx)))
        });
    interface(linker, "wasi:random/insecure-seed").func("insecure-seed", |ctx, _| {
        let (a, b) = ctx.insecure_seed;
        Ok(Val::Tuple(vec![Val::U64(a), Val::U64(b)]))
    });
}
