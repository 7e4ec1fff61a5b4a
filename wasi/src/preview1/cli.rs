//! The program's environment and lifetime: `args_*`, `environ_*`,
//! `proc_exit`, `proc_raise` and `sched_yield`, from the context's
//! arguments and environment as `wasi:cli` gives them.

use super::Host;
use super::abi::{self, SIGNAL_CASES};
use super::errno::{Errno, P1Result};
use super::memory::GuestMemory;
use crate::cli::I32Exit;
use cmc_runtime::Error;

/// Writes each of `strings` (given as its pieces) NUL-terminated from
/// `buf` on, and a pointer to each at `ptrs`, the C layout of `argv` and
/// `environ`.
fn write_strings<'s, S: IntoIterator<Item = &'s [u8]>>(
    mem: &mut GuestMemory<'_>,
    ptrs: u32,
    buf: u32,
    strings: impl Iterator<Item = S>,
) -> P1Result<()> {
    let (mut ptr, mut at) = (u64::from(ptrs), u64::from(buf));
    for pieces in strings {
        // Past the 32-bit memory, this write traps.
        mem.write::<u32>(ptr, at as u32)?;
        ptr += 4;
        for piece in pieces {
            at = mem.write_bytes(at, piece)?;
        }
        at = mem.write_bytes(at, &[0])?;
    }
    Ok(())
}

/// Writes the count of `strings` and their total size with NULs.
fn write_sizes(
    mem: &mut GuestMemory<'_>,
    count_ptr: u32,
    size_ptr: u32,
    lens: impl ExactSizeIterator<Item = usize>,
) -> P1Result<()> {
    let count = u32::try_from(lens.len()).map_err(|_| Errno::Overflow)?;
    let size = lens
        .map(|n| n + 1)
        .try_fold(0u32, |total, n| total.checked_add(u32::try_from(n).ok()?))
        .ok_or(Errno::Overflow)?;
    mem.write(count_ptr, count)?;
    mem.write(size_ptr, size)
}

pub(super) fn args_get(h: &mut Host<'_>, (argv, argv_buf): (u32, u32)) -> P1Result<()> {
    let args = h.ctx.args.iter().map(|a| [a.as_bytes()]);
    write_strings(&mut h.mem, argv, argv_buf, args)
}

pub(super) fn args_sizes_get(h: &mut Host<'_>, (count, size): (u32, u32)) -> P1Result<()> {
    write_sizes(&mut h.mem, count, size, h.ctx.args.iter().map(String::len))
}

/// `environ_get`: each variable as `NAME=value`.
pub(super) fn environ_get(h: &mut Host<'_>, (environ, buf): (u32, u32)) -> P1Result<()> {
    let vars = h
        .ctx
        .env
        .iter()
        .map(|(n, v)| [n.as_bytes(), b"=", v.as_bytes()]);
    write_strings(&mut h.mem, environ, buf, vars)
}

pub(super) fn environ_sizes_get(h: &mut Host<'_>, (count, size): (u32, u32)) -> P1Result<()> {
    let lens = h.ctx.env.iter().map(|(n, v)| n.len() + 1 + v.len());
    write_sizes(&mut h.mem, count, size, lens)
}

/// `proc_exit`: the call ends with [`I32Exit`], which a command-line host
/// turns into its exit status. As in wasmtime, a status of 126 or more
/// (which shells reserve) is refused with a trap.
pub(super) fn proc_exit(status: u32) -> Error {
    match i32::try_from(status) {
        Ok(status) if status < 126 => Error::Host(Box::new(I32Exit(status))),
        _ => Error::host(format!(
            "{}::proc_exit: exit status {status} is outside [0, 126)",
            super::MODULE
        )),
    }
}

/// `proc_raise`: signals are not supported, as in wasmtime.
pub(super) fn proc_raise(_: &mut Host<'_>, (signal,): (i32,)) -> P1Result<()> {
    abi::enum_case::<u8, _>(signal, SIGNAL_CASES)?;
    Err(Errno::Notsup.into())
}

/// `sched_yield`: lets the host's other threads run.
pub(super) fn sched_yield(_: &mut Host<'_>, (): ()) -> P1Result<()> {
    std::thread::yield_now();
    Ok(())
}
