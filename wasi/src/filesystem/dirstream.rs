//! The `directory-entry-stream` resource: the entries of a directory, read
//! one at a time as the guest asks for them.
//!
//! Each stream reads its own reopening of the directory (cap-std's
//! `entries` opens `.` anew), so streams start at the beginning and do not
//! disturb each other. `.` and `..` are never listed. Entries are read
//! lazily, so a huge directory costs the host one entry at a time.

use super::descriptor::borrowed;
use super::errors::{ErrorCode, FsResult};
use super::stat::descriptor_type;
use crate::ctx::WasiCtx;
use crate::val::{Args, none, own, record, some, string_val};
use cap_std::fs::ReadDir;
use cmc_runtime::component::Val;

/// The state of a `directory-entry-stream` resource.
pub(crate) struct DirEntryStream(ReadDir);

/// `read-directory`: needs the preopen to let directories be read.
pub(super) fn read_directory(ctx: &mut WasiCtx, mut a: Args<'_>) -> FsResult<Val> {
    let dir = borrowed(ctx, &mut a)?.dir_to_read()?;
    let entries = dir.entries()?;
    Ok(own(ctx.table.push(DirEntryStream(entries))?))
}

/// `read-directory-entry`: the next entry, or `none` at the end. A name
/// that is not UTF-8 is `illegal-byte-sequence`; reading goes on after it.
pub(super) fn read_directory_entry(ctx: &mut WasiCtx, mut a: Args<'_>) -> FsResult<Val> {
    let stream = ctx.table.get_mut::<DirEntryStream>(a.rep()?)?;
    let Some(entry) = stream.0.next() else {
        return Ok(none());
    };
    let entry = entry?;
    let file_type = entry.file_type()?;
    let name = entry
        .file_name()
        .into_string()
        .map_err(|_| ErrorCode::IllegalByteSequence)?;
    Ok(some(record([
        ("type", descriptor_type(file_type)),
        ("name", string_val(name)),
    ])))
}
