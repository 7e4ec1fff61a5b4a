//! `wasi:filesystem`: `types` (descriptors, directory listings, file
//! streams) and `preopens` (the directories a guest starts with).
//!
//! **Sandboxing.** A guest reaches files only through descriptors, and
//! every descriptor descends from a preopened directory. Each path it
//! passes is resolved by cap-std beneath the descriptor's directory
//! (`openat2(RESOLVE_BENEATH)` on Linux, a checked walk elsewhere), never
//! by code here: `..` above the preopen, absolute paths, and symlinks that
//! lead outside are refused, and the guest sees `not-permitted`, as the
//! WIT specifies. On top of the OS's checks come the preopen's
//! [`DirPerms`](crate::DirPerms) and [`FilePerms`](crate::FilePerms),
//! carried into every descriptor opened beneath it (see [`descriptor`]).
//!
//! **Behaviour** follows wasmtime's, so a guest behaves the same under
//! both: the same permission checks in the same order, the same error
//! codes ([`errors`]), the same metadata hash. Where cmc differs it says
//! so beside the code: the sync flags of `open-at` are honoured (wasmtime
//! refuses them as unsupported), `status-change-timestamp` is the status
//! change time (`st_ctime`; wasmtime reports the birth time), FIFOs are
//! reported as `fifo` (wasmtime says `unknown`), and an errno the WIT has
//! a case for is never reported as `io` (wasmtime maps `EXDEV`, `EROFS`,
//! `ETXTBSY`, … to `io`).
//!
//! **Bounds.** A guest's sizes never become host allocations: reads are
//! capped at [`MAX_READ`](crate::io::streams::MAX_READ), directory
//! entries are read one at a time, and every resource lives in the
//! bounded resource table.
//!
//! Every operation completes synchronously on the calling thread, like
//! the rest of cmc's WASI.

pub(crate) mod descriptor;
mod dir;
mod dirstream;
pub(crate) mod errors;
pub(crate) mod file;
pub(crate) mod flags;
pub(crate) mod stat;
pub(crate) mod streams;

#[cfg(test)]
mod tests;

use crate::ctx::WasiCtx;
use crate::host::{WasiView, interface};
use crate::io::error::IoError;
use crate::val::{Args, enum_val, own, some, string_val};
use cmc_runtime::Error;
use cmc_runtime::component::{Linker, Val};
use descriptor::Descriptor;
use dirstream::DirEntryStream;
use errors::{ErrorCode, FsError, FsResult};

/// What an operation gives back in its `result`'s `ok`.
trait Payload {
    fn payload(self) -> Option<Val>;
}

impl Payload for () {
    fn payload(self) -> Option<Val> {
        None
    }
}

impl Payload for Val {
    fn payload(self) -> Option<Val> {
        Some(self)
    }
}

/// The `result<T, error-code>` of an operation, or its trap.
fn reply(r: FsResult<impl Payload>) -> Result<Val, Error> {
    match r {
        Ok(v) => Ok(Val::Result(Ok(v.payload().map(Box::new)))),
        Err(FsError::Code(code)) => Ok(crate::val::err(enum_val(code.label()))),
        Err(FsError::Trap(e)) => Err(e),
    }
}

/// `get-directories`: a new descriptor of each preopen, with the path the
/// guest knows it by.
fn get_directories(ctx: &mut WasiCtx, _: Args<'_>) -> Result<Val, Error> {
    let mut list = Vec::with_capacity(ctx.preopens.len());
    for i in 0..ctx.preopens.len() {
        let descriptor = Descriptor::preopen(&ctx.preopens[i]);
        let rep = ctx.table.push(descriptor)?;
        let path = string_val(ctx.preopens[i].guest_path.as_str());
        list.push(Val::Tuple(vec![own(rep), path]));
    }
    Ok(Val::List(list))
}

/// `filesystem-error-code`: the code of the OS error behind a stream's
/// `error`. Every `error` is an [`IoError`], so it always has one.
fn filesystem_error_code(ctx: &mut WasiCtx, mut a: Args<'_>) -> Result<Val, Error> {
    let IoError(e) = ctx.table.get::<IoError>(a.rep()?)?;
    Ok(some(enum_val(ErrorCode::from(e).label())))
}

pub(crate) fn add_to_linker<T: WasiView>(linker: &mut Linker<T>) {
    interface(linker, "wasi:filesystem/types")
        .resource::<Descriptor>("descriptor")
        .resource::<DirEntryStream>("directory-entry-stream")
        .func("[method]descriptor.read-via-stream", |c, a| {
            reply(file::read_via_stream(c, a))
        })
        .func("[method]descriptor.write-via-stream", |c, a| {
            reply(file::write_via_stream(c, a))
        })
        .func("[method]descriptor.append-via-stream", |c, a| {
            reply(file::append_via_stream(c, a))
        })
        .func("[method]descriptor.advise", |c, a| {
            reply(file::advise(c, a))
        })
        .func("[method]descriptor.sync-data", |c, a| {
            reply(file::sync(c, a, false))
        })
        .func("[method]descriptor.get-flags", |c, a| {
            reply(file::get_flags(c, a))
        })
        .func("[method]descriptor.get-type", |c, a| {
            reply(stat::get_type(c, a))
        })
        .func("[method]descriptor.set-size", |c, a| {
            reply(file::set_size(c, a))
        })
        .func("[method]descriptor.set-times", |c, a| {
            reply(file::set_times(c, a))
        })
        .func("[method]descriptor.read", |c, a| reply(file::read(c, a)))
        .func("[method]descriptor.write", |c, a| reply(file::write(c, a)))
        .func("[method]descriptor.read-directory", |c, a| {
            reply(dirstream::read_directory(c, a))
        })
        .func("[method]descriptor.sync", |c, a| {
            reply(file::sync(c, a, true))
        })
        .func("[method]descriptor.create-directory-at", |c, a| {
            reply(dir::create_directory_at(c, a))
        })
        .func("[method]descriptor.stat", |c, a| reply(stat::stat(c, a)))
        .func("[method]descriptor.stat-at", |c, a| {
            reply(stat::stat_at(c, a))
        })
        .func("[method]descriptor.set-times-at", |c, a| {
            reply(dir::set_times_at(c, a))
        })
        .func("[method]descriptor.link-at", |c, a| {
            reply(dir::link_at(c, a))
        })
        .func("[method]descriptor.open-at", |c, a| {
            reply(dir::open_at(c, a))
        })
        .func("[method]descriptor.readlink-at", |c, a| {
            reply(dir::readlink_at(c, a))
        })
        .func("[method]descriptor.remove-directory-at", |c, a| {
            reply(dir::remove_directory_at(c, a))
        })
        .func("[method]descriptor.rename-at", |c, a| {
            reply(dir::rename_at(c, a))
        })
        .func("[method]descriptor.symlink-at", |c, a| {
            reply(dir::symlink_at(c, a))
        })
        .func("[method]descriptor.unlink-file-at", |c, a| {
            reply(dir::unlink_file_at(c, a))
        })
        .func("[method]descriptor.is-same-object", stat::is_same_object)
        .func("[method]descriptor.metadata-hash", |c, a| {
            reply(stat::hash(c, a))
        })
        .func("[method]descriptor.metadata-hash-at", |c, a| {
            reply(stat::hash_at(c, a))
        })
        .func(
            "[method]directory-entry-stream.read-directory-entry",
            |c, a| reply(dirstream::read_directory_entry(c, a)),
        )
        .func("filesystem-error-code", filesystem_error_code);
    interface(linker, "wasi:filesystem/preopens").func("get-directories", get_directories);
}
