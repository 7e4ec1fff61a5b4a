//! The methods of `descriptor` that act on the open object itself rather
//! than on a path beneath it: reads and writes at offsets, streams, sizes,
//! times, flags, syncing and advice.

use super::descriptor::{Descriptor, Object, borrowed};
use super::errors::{ErrorCode, FsResult};
use super::flags;
use super::streams::{FileInput, FileOutput};
use crate::ctx::WasiCtx;
use crate::io::streams::{MAX_READ, push_input, push_output};
use crate::val::{Args, bytes};
use cap_fs_ext::{DirExt, SystemTimeSpec};
use cap_std::fs::FileExt;
use cmc_runtime::component::Val;
use rustix::fs::Advice;
use std::io;
use std::sync::Arc;

/// `read-via-stream`: an input stream reading from `offset` on. Reading
/// a directory is `is-directory`, as POSIX `read` says (`EISDIR`).
pub(super) fn read_via_stream(ctx: &mut WasiCtx, mut a: Args<'_>) -> FsResult<Val> {
    let d = borrowed(ctx, &mut a)?;
    if let Object::Dir(_) = d.object {
        return Err(ErrorCode::IsDirectory.into());
    }
    let file = Arc::clone(d.file_to_read()?);
    let offset = a.u64()?;
    Ok(push_input(ctx, FileInput::new(file, offset))?)
}

/// `write-via-stream`: an output stream writing from `offset` on.
pub(super) fn write_via_stream(ctx: &mut WasiCtx, mut a: Args<'_>) -> FsResult<Val> {
    let file = Arc::clone(borrowed(ctx, &mut a)?.file_to_write()?);
    let offset = a.u64()?;
    Ok(push_output(ctx, FileOutput::at(file, offset))?)
}

/// `append-via-stream`: an output stream writing at the end of the file.
pub(super) fn append_via_stream(ctx: &mut WasiCtx, mut a: Args<'_>) -> FsResult<Val> {
    let file = Arc::clone(borrowed(ctx, &mut a)?.file_to_write()?);
    Ok(push_output(ctx, FileOutput::append(file))?)
}

impl Descriptor {
    /// `advise`: passed to `posix_fadvise` where the OS has it; elsewhere
    /// advice is dropped, which advice may be.
    pub(crate) fn advise(&self, offset: u64, len: u64, advice: Advice) -> FsResult<()> {
        let file = self.file()?;
        #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
        rustix::fs::fadvise(&**file, offset, std::num::NonZeroU64::new(len), advice)?;
        #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
        let _ = (file, offset, len, advice);
        Ok(())
    }

    /// `sync-data` (`all` false) or `sync`: `fdatasync` or `fsync` of the
    /// file or directory. cap-std holds directories as `O_PATH` descriptors
    /// on Linux, which cannot be synced, so a directory is synced through a
    /// new descriptor of `.` opened for reading, as wasmtime does.
    pub(crate) fn sync(&self, all: bool) -> FsResult<()> {
        let reopened;
        let file = match &self.object {
            Object::File(f) => &**f,
            Object::Dir(d) => {
                reopened = d.open(".")?;
                &reopened
            }
        };
        if all {
            file.sync_all()?;
        } else {
            file.sync_data()?;
        }
        Ok(())
    }

    /// `set-size`: truncates or extends (with zeroes) the file.
    pub(crate) fn set_size(&self, size: u64) -> FsResult<()> {
        self.file_to_write()?.set_len(size)?;
        Ok(())
    }

    /// `set-times`: a file's times need the preopen to allow writing files,
    /// a directory's to allow mutating directories. A directory's are set
    /// through its path `.`, since its `O_PATH` descriptor (see
    /// [`sync`](Self::sync)) cannot take them itself.
    pub(crate) fn set_times(
        &self,
        atime: Option<SystemTimeSpec>,
        mtime: Option<SystemTimeSpec>,
    ) -> FsResult<()> {
        match &self.object {
            Object::File(_) => fs_set_times::SetTimes::set_times(
                &**self.file_to_write()?,
                atime.map(to_fs_set_times),
                mtime.map(to_fs_set_times),
            )?,
            Object::Dir(_) => DirExt::set_times(&**self.dir_to_mutate()?, ".", atime, mtime)?,
        }
        Ok(())
    }
}

/// `advise`.
pub(super) fn advise(ctx: &mut WasiCtx, mut a: Args<'_>) -> FsResult<()> {
    let d = borrowed(ctx, &mut a)?;
    let (offset, len) = (a.u64()?, a.u64()?);
    d.advise(offset, len, flags::advice(a.enum_case()?)?)
}

/// `sync-data` (`all` false) or `sync`.
pub(super) fn sync(ctx: &mut WasiCtx, mut a: Args<'_>, all: bool) -> FsResult<()> {
    borrowed(ctx, &mut a)?.sync(all)
}

/// `get-flags`: what the descriptor was opened with.
pub(super) fn get_flags(ctx: &mut WasiCtx, mut a: Args<'_>) -> FsResult<Val> {
    Ok(borrowed(ctx, &mut a)?.flags.to_val())
}

/// `set-size`.
pub(super) fn set_size(ctx: &mut WasiCtx, mut a: Args<'_>) -> FsResult<()> {
    let d = borrowed(ctx, &mut a)?;
    d.set_size(a.u64()?)
}

/// `set-times`.
pub(super) fn set_times(ctx: &mut WasiCtx, mut a: Args<'_>) -> FsResult<()> {
    let d = borrowed(ctx, &mut a)?;
    let atime = flags::new_timestamp(a.next()?)?;
    let mtime = flags::new_timestamp(a.next()?)?;
    d.set_times(atime, mtime)
}

/// The same time as fs-set-times spells it.
fn to_fs_set_times(t: SystemTimeSpec) -> fs_set_times::SystemTimeSpec {
    match t {
        SystemTimeSpec::SymbolicNow => fs_set_times::SystemTimeSpec::SymbolicNow,
        SystemTimeSpec::Absolute(t) => fs_set_times::SystemTimeSpec::Absolute(t.into_std()),
    }
}

/// `read`: up to `length` bytes (at most [`MAX_READ`], whatever the guest
/// asks) at `offset`, and whether the end was reached, which as in
/// wasmtime is when nothing was read.
pub(super) fn read(ctx: &mut WasiCtx, mut a: Args<'_>) -> FsResult<Val> {
    let file = borrowed(ctx, &mut a)?.file_to_read()?;
    let (len, offset) = (a.u64()?, a.u64()?);
    let mut buf = vec![0; len.min(MAX_READ as u64) as usize];
    let n = retry(|| file.read_at(&mut buf, offset))?;
    buf.truncate(n);
    Ok(Val::Tuple(vec![bytes(buf), Val::Bool(n == 0)]))
}

/// `write`: writes the buffer at `offset` (extending the file with zeroes
/// if it lies beyond the end) and returns how much was written.
pub(super) fn write(ctx: &mut WasiCtx, mut a: Args<'_>) -> FsResult<Val> {
    let file = borrowed(ctx, &mut a)?.file_to_write()?;
    let (data, offset) = (a.bytes()?, a.u64()?);
    let n = retry(|| file.write_at(data, offset))?;
    Ok(Val::U64(n as u64))
}

/// Runs `op` again while a signal interrupts it.
pub(crate) fn retry<R>(mut op: impl FnMut() -> io::Result<R>) -> io::Result<R> {
    loop {
        match op() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            r => return r,
        }
    }
}
