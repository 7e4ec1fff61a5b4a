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

/// The cases of `descriptor-type`, which preview1's `filetype` also
/// reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DescriptorType {
    Unknown,
    BlockDevice,
    CharacterDevice,
    Directory,
    Fifo,
    SymbolicLink,
    RegularFile,
}

impl DescriptorType {
    /// The type of a file type.
    ///
    /// A socket is `unknown`, as in wasmtime: the preview1 adapter cannot
    /// represent `socket` and traps on it.
    pub(crate) fn of(t: FileType) -> DescriptorType {
        if t.is_dir() {
            DescriptorType::Directory
        } else if t.is_symlink() {
            DescriptorType::SymbolicLink
        } else if t.is_file() {
            DescriptorType::RegularFile
        } else if t.is_block_device() {
            DescriptorType::BlockDevice
        } else if t.is_char_device() {
            DescriptorType::CharacterDevice
        } else if t.is_fifo() {
            DescriptorType::Fifo
        } else {
            DescriptorType::Unknown
        }
    }

    fn label(self) -> &'static str {
        match self {
            DescriptorType::Unknown => "unknown",
            DescriptorType::BlockDevice => "block-device",
            DescriptorType::CharacterDevice => "character-device",
            DescriptorType::Directory => "directory",
            DescriptorType::Fifo => "fifo",
            DescriptorType::SymbolicLink => "symbolic-link",
            DescriptorType::RegularFile => "regular-file",
        }
    }
}

/// The `descriptor-type` of a file type.
pub(crate) fn descriptor_type(t: FileType) -> Val {
    enum_val(DescriptorType::of(t).label())
}

/// A `datetime` of a time since 1970, or `none`.
fn datetime(t: Option<Duration>) -> Val {
    match t {
        Some(d) => some(crate::clocks::datetime(d)),
        None => none(),
    }
}

/// The times of an object, since 1970; `None` when unknown or earlier (a
/// `datetime` is unsigned).
pub(crate) struct Times {
    pub access: Option<Duration>,
    pub modification: Option<Duration>,
    pub status_change: Option<Duration>,
}

impl Times {
    pub(crate) fn of(m: &Metadata) -> Times {
        let since = |t: Option<SystemTime>| t?.duration_since(SystemTime::UNIX_EPOCH).ok();
        let std_time = |t: std::io::Result<cap_std::time::SystemTime>| t.ok().map(|t| t.into_std());
        Times {
            access: since(std_time(m.accessed())),
            modification: since(std_time(m.modified())),
            status_change: since(status_change(m)),
        }
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
    let times = Times::of(m);
    record([
        ("type", descriptor_type(m.file_type())),
        ("link-count", Val::U64(m.nlink())),
        ("size", Val::U64(m.len())),
        ("data-access-timestamp", datetime(times.access)),
        ("data-modification-timestamp", datetime(times.modification)),
        ("status-change-timestamp", datetime(times.status_change)),
    ])
}

impl Descriptor {
    /// The type of what the descriptor refers to.
    pub(crate) fn descriptor_type(&self) -> std::io::Result<DescriptorType> {
        Ok(match &self.object {
            Object::File(f) => DescriptorType::of(f.metadata()?.file_type()),
            Object::Dir(_) => DescriptorType::Directory,
        })
    }

    /// The metadata of what the descriptor refers to.
    pub(crate) fn metadata(&self) -> std::io::Result<Metadata> {
        match &self.object {
            Object::File(f) => f.metadata(),
            Object::Dir(d) => d.dir_metadata(),
        }
    }
}

/// The metadata of `path` beneath `dir`.
pub(crate) fn metadata_at(
    dir: &Dir,
    follow: FollowSymlinks,
    path: &str,
) -> std::io::Result<Metadata> {
    match follow {
        FollowSymlinks::Yes => dir.metadata(path),
        FollowSymlinks::No => dir.symlink_metadata(path),
    }
}

/// The `lower` and `upper` halves of the metadata hash of an object's
/// identity. Two hashes of the identity with different tags give the two
/// halves independent bits.
pub(crate) fn identity_hash(m: &Metadata) -> (u64, u64) {
    let half = |tag: u8| {
        let mut h = DefaultHasher::new();
        (m.dev(), m.ino(), tag).hash(&mut h);
        h.finish()
    };
    (half(0), half(1))
}

/// A `metadata-hash-value`.
fn metadata_hash(m: &Metadata) -> Val {
    let (lower, upper) = identity_hash(m);
    record([("lower", Val::U64(lower)), ("upper", Val::U64(upper))])
}

/// `get-type`.
pub(super) fn get_type(ctx: &mut WasiCtx, mut a: Args<'_>) -> FsResult<Val> {
    let t = borrowed(ctx, &mut a)?.descriptor_type()?;
    Ok(enum_val(t.label()))
}

/// `stat`.
pub(super) fn stat(ctx: &mut WasiCtx, mut a: Args<'_>) -> FsResult<Val> {
    Ok(stat_val(&borrowed(ctx, &mut a)?.metadata()?))
}

/// `stat-at`: needs the preopen to let directories be read.
pub(super) fn stat_at(ctx: &mut WasiCtx, mut a: Args<'_>) -> FsResult<Val> {
    let dir = borrowed(ctx, &mut a)?.dir_to_read()?;
    let follow = flags::follow(a.flags()?)?;
    Ok(stat_val(&metadata_at(dir, follow, a.string()?)?))
}

/// `metadata-hash`.
pub(super) fn hash(ctx: &mut WasiCtx, mut a: Args<'_>) -> FsResult<Val> {
    Ok(metadata_hash(&borrowed(ctx, &mut a)?.metadata()?))
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
        d.metadata()
            .map(|m| (m.dev(), m.ino()))
            .map_err(|e| Error::host(format!("wasi:filesystem is-same-object: {e}")))
    };
    Ok(Val::Bool(identity(this)? == identity(other)?))
}
