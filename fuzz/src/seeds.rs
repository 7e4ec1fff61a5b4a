//! The bytes of a case, made from its seed, so that a finding is replayed
//! by its seed alone.

/// How many bytes a case gets at most; the length varies with the seed, so
/// that small inputs (and small modules) come up as well.
pub const MAX_LEN: usize = 8192;

/// The bytes of case `seed`: a splitmix64 stream, of a length between 0 and
/// [`MAX_LEN`] that the seed also chooses.
pub fn bytes(seed: u64) -> Vec<u8> {
    let mut state = seed;
    let len = (next(&mut state) % (MAX_LEN as u64 + 1)) as usize;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        out.extend_from_slice(&next(&mut state).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// splitmix64: small, fast, and every seed gives a different stream.
pub fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
