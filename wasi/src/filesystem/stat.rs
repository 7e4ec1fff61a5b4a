//! What a descriptor or path says about its object: `descriptor-stat`,
//! `descriptor-type`, `metadata-hash` and `is-same-object`.
//!
//! The metadata hash is wasmtime's: a hash of the object's identity
//! (device and inode) only, so it does not change when the file's contents
//! do. The preview1 adapter reports it as the inode number, which must stay
//! the same for the file's lifetime.

use super::descriptor::{Descriptor, Object, borrowed};
use super::errors::FsResult;
use super::flags;
use crate::ctx::WasiCtx;
use crate::val::{Args, enum_val, none, record, some};
use cap_fs_ext::FollowSymlinks;
use cap_std::fs::{Dir, FileType, FileTypeExt, Metadata, MetadataExt};
use cmc_runtime::Error;
use cmc_runtime::component::Val;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::{Duration, SystemTime};

/// The `descriptor-type` of a file type.
///
/// A socket is `unknown`, as in wasmtime: the preview1 adapter cannot
/// represent `socket` and traps on it.
pub(crate) fn descriptor_type(t: FileType) -> Val {
    enum_val(if t.is_dir() {
        "directory"
    } else if t.is_symlink() {
        "symbolic-link"
    } else if t.is_file() {
        "regular-file"
    } else if t.is_block_device() {
        "block-device"
    } else if t.is_char_device() {
        "character-device"
    } else if t.is_fifo() {
        "fifo"
    } else {
        "unknown"
    })
}

/// A `datetime` of a time, or `none` before 1970 (a `datetime` is
/// unsigned).
fn datetime(t: Option<SystemTime>) -> Val {
    match t.and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok()) {
        Some(d) => some(crate::clocks::datetime(d)),
        None => none(),
    }
}

/// The last status change (`st_ctime`), which std does not give.
fn status_change(m: &Metadata) -> Option<SystemTime> {
    let secs = u64::try_from(m.ctime()).ok()?;
    let nanos = u32::try_from(m.ctime_nsec())
        .ok()
        .filter(|n| *n < 1_000_000_000)?;
    SystemTime::UNIX_EPOCH.checked_add(Duration::new(secs, nanos))
}

/// A `descriptor-stat`.
fn stat_val(m: &Metadata) -> Val {
    let std_time = |t: std::io::Result<cap_std::time::SystemTime>| t.ok().map(|t| t.into_std());
    record([
        ("type", descriptor_type(m.file_type())),
        ("link-count", Val::U64(m.nlink())),
        ("size", Val::U64(m.len())),
        ("data-access-timestamp", datetime(std_time(m.accessed()))),
        (
            "data-modification-timestamp",
            datetime(std_time(m.modified())),
        ),
        ("status-change-timestamp", datetime(status_change(m))),
    ])
}

/// The metadata of what a descriptor refers to.
fn metadata(d: &Descriptor) -> std::io::Result<Metadata> {
    match &d.object {
        Object::File(f) => f.metadata(),
        Object::Dir(d) => d.dir_metadata(),
    }
}

/// The metadata of `path` beneath `dir`.
fn metadata_at(dir: &Dir, follow: FollowSymlinks, path: &str) -> std::io::Result<Metadata> {
    match follow {
        FollowSymlinks::Yes => dir.metadata(path),
        FollowSymlinks::No => dir.symlink_metadata(path),
    }
}

/// A `metadata-hash-value` of an object's identity. Two hashes of the
/// identity with different tags give the two halves independent bits.
fn metadata_hash(m: &Metadata) -> Val {
    let half = |tag: u8| {
        let mut h = DefaultHasher::new();
        (m.dev(), m.ino(), tag).hash(&mut h);
        h.finish()
    };
    record([("lower", Val::U64(half(0))), ("upper", Val::U64(half(1)))])
}

/// `get-type`.
pub(super) fn get_type(ctx: &mut WasiCtx, mut a: Args<'_>) -> FsResult<Val> {
    Ok(match &borrowed(ctx, &mut a)?.object {
        Object::File(f) => descriptor_type(f.metadata()?.file_type()),
        Object::Dir(_) => enum_val("directory"),
    })
}

/// `stat`.
pub(super) fn stat(ctx: &mut WasiCtx, mut a: Args<'_>) -> FsResult<Val> {
    Ok(stat_val(&metadata(borrowed(ctx, &mut a)?)?))
}

/// `stat-at`: needs the preopen to let directories be read.
pub(super) fn stat_at(ctx: &mut WasiCtx, mut a: Args<'_>) -> FsResult<Val> {
    let dir = borrowed(ctx, &mut a)?.dir_to_read()?;
    let follow = flags::follow(a.flags()?)?;
    Ok(stat_val(&metadata_at(dir, follow, a.string()?)?))
}

/// `metadata-hash`.
pub(super) fn hash(ctx: &mut WasiCtx, mut a: Args<'_>) -> FsResult<Val> {
    Ok(metadata_hash(&metadata(borrowed(ctx, &mut a)?)?))
}

/// `metadata-hash-at`: like wasmtime, no permission beyond holding the
/// directory is needed to learn an object's identity.
pub(super) fn hash_at(ctx: &mut WasiCtx, mut a: Args<'_>) -> FsResult<Val> {
    let dir = borrowed(ctx, &mut a)?.dir()?;
    let follow = flags::follow(a.flags()?)?;
    Ok(metadata_hash(&metadata_at(dir, follow, a.string()?)?))
}

/// `is-same-object`: whether both have the same device and inode. The
/// WIT gives no way to fail, so an object that cannot be examined (which
/// an open descriptor always can) is reported as a host error.
pub(super) fn is_same_object(ctx: &mut WasiCtx, mut a: Args<'_>) -> Result<Val, Error> {
    let (this, other) = (borrowed(ctx, &mut a)?, borrowed(ctx, &mut a)?);
    let identity = |d: &Descriptor| {
        metadata(d)
            .map(|m| (m.dev(), m.ino()))
            .map_err(|e| Error::host(format!("wasi:filesystem is-same-object: {e}")))
    };
    Ok(Val::Bool(identity(this)? == identity(other)?))
}
