//! `wasi_snapshot_preview1`: WASI preview1 for core modules, every function
//! of its witx, layered over the WASI 0.2 host as wasmtime layers it.
//!
//! **One host state.** Preview1 has no state of its own beyond a table of
//! descriptor numbers (`fd.rs`) in the same [`WasiCtx`]: a number refers
//! to a 0.2 object in the context's resource table, so a core module and
//! the 0.2 interfaces share one sandbox (cap-std descriptors beneath the
//! preopens, with their [`DirPerms`](crate::DirPerms) and
//! [`FilePerms`](crate::FilePerms)), the same stdio streams, clocks and
//! random source. Every filesystem operation is the 0.2 one (a typed
//! method of the 0.2 descriptor), so both report the same errors, mapped
//! to errnos case for case (`errno.rs`).
//!
//! **Guest memory.** Each call finds the caller's exported `memory` and
//! reads and writes it in place through `memory.rs`, which checks every
//! pointer and length the guest passes: a pointer outside the memory or
//! misaligned traps, as wiggle traps in wasmtime; nothing the guest asks
//! for becomes a host allocation of its size.
//!
//! **Behaviour** follows wasmtime 48's preview1 where the witx leaves
//! room, so a module behaves the same under both: the descriptor numbers
//! and the rights `fd_fdstat_get` reports, `.` and `..` first in
//! `fd_readdir` with cookies counting entries, `notsup` for
//! `fd_allocate`, `fd_fdstat_set_rights` and `proc_raise`, `notsock` from
//! `sock_*` (no host preopens sockets), argument checks that give `inval`
//! or `overflow`. Where cmc differs it says so beside the code: file reads
//! and writes honour the preopen's file permissions (wasmtime leaves them
//! to the open mode), a socket in a directory is listed as `unknown`
//! (wasmtime traps), and no call is refused for its size (wasmtime's 128
//! MiB of "hostcall fuel" per call gives `nomem`) except `poll_oneoff`,
//! whose subscriptions the host copies.
//!
//! Calls complete synchronously on the calling thread; `poll_oneoff` waits
//! with the 0.2 pollables' `poll(2)`.

mod abi;
mod cli;
mod clocks;
mod errno;
mod fd;
mod file;
mod memory;
mod path;
mod poll;
mod random;
mod readdir;
mod sockets;

pub use errno::Errno;
pub(crate) use fd::FdTable;

use crate::ctx::WasiCtx;
use crate::host::WasiView;
use cmc_runtime::{Caller, Error, Extern, Linker, WasmTuple};
use errno::{Fail, P1Result};
use memory::GuestMemory;

/// The import module the functions are defined in.
const MODULE: &str = "wasi_snapshot_preview1";

/// What a preview1 function works with: the caller's memory, the WASI
/// context and the descriptor table, borrowed apart so a function can
/// hold a guest buffer while it uses a descriptor.
pub(crate) struct Host<'a> {
    pub mem: GuestMemory<'a>,
    pub ctx: &'a mut WasiCtx,
    pub fds: &'a mut FdTable,
}

/// A preview1 function: its core wasm parameters as a tuple; it writes its
/// results through the guest's pointers and returns the errno.
type Body<P> = fn(&mut Host<'_>, P) -> P1Result<()>;

/// Adds every function of `wasi_snapshot_preview1` to `linker`. A module
/// importing one the witx does not have, or with another signature, fails
/// to link and the error names the import.
pub fn add_to_linker<T: WasiView>(linker: &mut Linker<T>) {
    define(linker, "args_get", cli::args_get);
    define(linker, "args_sizes_get", cli::args_sizes_get);
    define(linker, "environ_get", cli::environ_get);
    define(linker, "environ_sizes_get", cli::environ_sizes_get);
    define(linker, "clock_res_get", clocks::clock_res_get);
    define(linker, "clock_time_get", clocks::clock_time_get);
    define(linker, "fd_advise", file::fd_advise);
    define(linker, "fd_allocate", file::fd_allocate);
    define(linker, "fd_close", file::fd_close);
    define(linker, "fd_datasync", file::fd_datasync);
    define(linker, "fd_fdstat_get", file::fd_fdstat_get);
    define(linker, "fd_fdstat_set_flags", file::fd_fdstat_set_flags);
    define(linker, "fd_fdstat_set_rights", file::fd_fdstat_set_rights);
    define(linker, "fd_filestat_get", file::fd_filestat_get);
    define(linker, "fd_filestat_set_size", file::fd_filestat_set_size);
    define(linker, "fd_filestat_set_times", file::fd_filestat_set_times);
    define(linker, "fd_pread", file::fd_pread);
    define(linker, "fd_prestat_get", file::fd_prestat_get);
    define(linker, "fd_prestat_dir_name", file::fd_prestat_dir_name);
    define(linker, "fd_pwrite", file::fd_pwrite);
    define(linker, "fd_read", file::fd_read);
    define(linker, "fd_readdir", readdir::fd_readdir);
    define(linker, "fd_renumber", file::fd_renumber);
    define(linker, "fd_seek", file::fd_seek);
    define(linker, "fd_sync", file::fd_sync);
    define(linker, "fd_tell", file::fd_tell);
    define(linker, "fd_write", file::fd_write);
    define(linker, "path_create_directory", path::path_create_directory);
    define(linker, "path_filestat_get", path::path_filestat_get);
    define(
        linker,
        "path_filestat_set_times",
        path::path_filestat_set_times,
    );
    define(linker, "path_link", path::path_link);
    define(linker, "path_open", path::path_open);
    define(linker, "path_readlink", path::path_readlink);
    define(linker, "path_remove_directory", path::path_remove_directory);
    define(linker, "path_rename", path::path_rename);
    define(linker, "path_symlink", path::path_symlink);
    define(linker, "path_unlink_file", path::path_unlink_file);
    define(linker, "poll_oneoff", poll::poll_oneoff);
    define(linker, "proc_raise", cli::proc_raise);
    define(linker, "sched_yield", cli::sched_yield);
    define(linker, "random_get", random::random_get);
    define(linker, "sock_accept", sockets::sock_accept);
    define(linker, "sock_recv", sockets::sock_recv);
    define(linker, "sock_send", sockets::sock_send);
    define(linker, "sock_shutdown", sockets::sock_shutdown);
    // The one function without an errno: it never returns.
    linker.func_wrap(
        MODULE,
        "proc_exit",
        |_: Caller<'_, T>, (status,): (u32,)| Err::<(), _>(cli::proc_exit(status)),
    );
}

/// Defines function `name` as `body`, returning its errno as an `i32`.
fn define<T: WasiView, P: WasmTuple + 'static>(
    linker: &mut Linker<T>,
    name: &'static str,
    body: Body<P>,
) {
    linker.func_wrap(MODULE, name, move |mut caller: Caller<'_, T>, params: P| {
        let errno = call(&mut caller, name, |host| body(host, params))?;
        Ok((i32::from(errno.raw()),))
    });
}

/// Runs `body` on the caller's memory and WASI context; a trap carries the
/// function's name.
fn call<T: WasiView>(
    caller: &mut Caller<'_, T>,
    name: &str,
    body: impl FnOnce(&mut Host<'_>) -> P1Result<()>,
) -> Result<Errno, Error> {
    let trap = |e: Error| Error::host(format!("{MODULE}::{name}: {e}"));
    let memory = caller
        .get_export("memory")
        .and_then(Extern::into_memory)
        .ok_or_else(|| trap(Error::host("the calling module exports no memory `memory`")))?;
    let (bytes, data) = memory.data_and_store_mut(caller.store_mut());
    let ctx = data.wasi();
    // The table is taken out for the call, so `Host` can borrow it and the
    // context apart, and always put back, even when the call traps.
    let mut fds = match ctx.preview1_fds.take() {
        Some(fds) => fds,
        None => FdTable::new(ctx).map_err(trap)?,
    };
    let result = body(&mut Host {
        mem: GuestMemory::new(bytes),
        ctx,
        fds: &mut fds,
    });
    ctx.preview1_fds = Some(fds);
    match result {
        Ok(()) => Ok(Errno::Success),
        Err(Fail::Errno(e)) => Ok(e),
        Err(Fail::Trap(e)) => Err(trap(e)),
    }
}
