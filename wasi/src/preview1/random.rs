//! `random_get`: the operating system's entropy, written straight into the
//! guest's buffer.

use super::Host;
use super::errno::P1Result;
use crate::random::{len, os_random};

/// `random_get`: like `wasi:random/random.get-random-bytes` (and wasmtime),
/// a request of more than 64 MiB traps; the bytes are written in place, so
/// a request costs the host no buffer.
pub(super) fn random_get(h: &mut Host<'_>, (buf, buf_len): (u32, u32)) -> P1Result<()> {
    len(buf_len.into())?;
    os_random(h.mem.bytes_mut(buf, buf_len)?)?;
    Ok(())
}
