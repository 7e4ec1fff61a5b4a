//! The methods of `descriptor` that act on a path beneath a directory:
//! opening, creating, linking, renaming, removing and reading links.
//!
//! Every path is resolved by cap-std beneath the descriptor's directory;
//! none is ever inspected here. Links and renames between two
//! directories need both to be mutable and to come from preopens with the
//! same permissions, so that neither can move a file out of a read-only
//! preopen nor into one (wasmtime's fix of GHSA-4ch3).

use super::descriptor::{Descriptor, borrowed};
use super::errors::{ErrorCode, FsResult};
use super::flags::{self, DescriptorFlags, OpenFlags};
use crate::ctx::WasiCtx;
use crate::val::{Args, own, string_val};
use cap_fs_ext::{DirExt, FollowSymlinks, SystemTimeSpec};
use cap_std::fs::Dir;
use cmc_runtime::component::Val;
use std::sync::Arc;

/// `open-at`: the new descriptor, owned by the guest.
pub(super) fn open_at(ctx: &mut WasiCtx, mut a: Args<'_>) -> FsResult<Val> {
    let base = borrowed(ctx, &mut a)?;
    let follow = flags::follow(a.flags()?)?;
    let path = a.string()?;
    let open = OpenFlags::parse(a.flags()?)?;
    let flags = DescriptorFlags::parse(a.flags()?)?;
    let opened = base.open_at(follow, path, open, flags)?;
    Ok(own(ctx.table.push(opened)?))
}

impl Descriptor {
    /// `create-directory-at`.
    pub(crate) fn create_directory_at(&self, path: &str) -> FsResult<()> {
        self.dir_to_mutate()?.create_dir(path)?;
        Ok(())
    }

    /// `set-times-at`.
    pub(crate) fn set_times_at(
        &self,
        follow: FollowSymlinks,
        path: &str,
        atime: Option<SystemTimeSpec>,
        mtime: Option<SystemTimeSpec>,
    ) -> FsResult<()> {
        let dir = self.dir_to_mutate()?;
        match follow {
            FollowSymlinks::Yes => DirExt::set_times(&**dir, path, atime, mtime)?,
            FollowSymlinks::No => dir.set_symlink_times(path, atime, mtime)?,
        }
        Ok(())
    }

    /// `link-at`: a hard link never follows a symlink at the old path;
    /// asking it to is `invalid`, as in wasmtime.
    pub(crate) fn link_at(
        &self,
        follow: FollowSymlinks,
        old_path: &str,
        to: &Descriptor,
        new_path: &str,
    ) -> FsResult<()> {
        let (from_dir, to_dir) = two_dirs(self, to)?;
        if let FollowSymlinks::Yes = follow {
            return Err(ErrorCode::Invalid.into());
        }
        same_perms(self, to)?;
        from_dir.hard_link(old_path, to_dir, new_path)?;
        Ok(())
    }

    /// `readlink-at`: a link to an absolute path is refused by cap-std
    /// (`not-permitted`); one that is not UTF-8 is `illegal-byte-sequence`.
    pub(crate) fn readlink_at(&self, path: &str) -> FsResult<String> {
        let target = self.dir_to_read()?.read_link(path)?;
        Ok(target
            .into_os_string()
            .into_string()
            .map_err(|_| ErrorCode::IllegalByteSequence)?)
    }

    /// `remove-directory-at`.
    pub(crate) fn remove_directory_at(&self, path: &str) -> FsResult<()> {
        self.dir_to_mutate()?.remove_dir(path)?;
        Ok(())
    }

    /// `rename-at`.
    pub(crate) fn rename_at(
        &self,
        old_path: &str,
        to: &Descriptor,
        new_path: &str,
    ) -> FsResult<()> {
        let (from_dir, to_dir) = two_dirs(self, to)?;
        same_perms(self, to)?;
        from_dir.rename(old_path, to_dir, new_path)?;
        Ok(())
    }

    /// `symlink-at`: cap-std refuses an absolute target (`not-permitted`),
    /// so no link made by the guest can point outside even for other
    /// programs.
    pub(crate) fn symlink_at(&self, target: &str, link: &str) -> FsResult<()> {
        DirExt::symlink(&**self.dir_to_mutate()?, target, link)?;
        Ok(())
    }

    /// `unlink-file-at`: a directory is `is-directory` (from the OS).
    pub(crate) fn unlink_file_at(&self, path: &str) -> FsResult<()> {
        self.dir_to_mutate()?.remove_file_or_symlink(path)?;
        Ok(())
    }
}

/// The two directories of a link or rename, if both may be mutated and
/// their preopens allow the same.
fn two_dirs<'c>(
    from: &'c Descriptor,
    to: &'c Descriptor,
) -> FsResult<(&'c Arc<Dir>, &'c Arc<Dir>)> {
    let (from_dir, to_dir) = (from.dir()?, to.dir()?);
    from.dir_to_mutate()?;
    to.dir_to_mutate()?;
    Ok((from_dir, to_dir))
}

/// Refuses a link or rename between preopens of different permissions.
fn same_perms(from: &Descriptor, to: &Descriptor) -> Result<(), ErrorCode> {
    if from.perms == to.perms {
        Ok(())
    } else {
        Err(ErrorCode::NotPermitted)
    }
}

/// `create-directory-at`.
pub(super) fn create_directory_at(ctx: &mut WasiCtx, mut a: Args<'_>) -> FsResult<()> {
    borrowed(ctx, &mut a)?.create_directory_at(a.string()?)
}

/// `set-times-at`.
pub(super) fn set_times_at(ctx: &mut WasiCtx, mut a: Args<'_>) -> FsResult<()> {
    let d = borrowed(ctx, &mut a)?;
    let follow = flags::follow(a.flags()?)?;
    let path = a.string()?;
    let atime = flags::new_timestamp(a.next()?)?;
    let mtime = flags::new_timestamp(a.next()?)?;
    d.set_times_at(follow, path, atime, mtime)
}

/// `link-at`.
pub(super) fn link_at(ctx: &mut WasiCtx, mut a: Args<'_>) -> FsResult<()> {
    let from = borrowed(ctx, &mut a)?;
    let follow = flags::follow(a.flags()?)?;
    let old_path = a.string()?;
    let to = borrowed(ctx, &mut a)?;
    from.link_at(follow, old_path, to, a.string()?)
}

/// `readlink-at`.
pub(super) fn readlink_at(ctx: &mut WasiCtx, mut a: Args<'_>) -> FsResult<Val> {
    let d = borrowed(ctx, &mut a)?;
    Ok(string_val(d.readlink_at(a.string()?)?))
}

/// `remove-directory-at`.
pub(super) fn remove_directory_at(ctx: &mut WasiCtx, mut a: Args<'_>) -> FsResult<()> {
    borrowed(ctx, &mut a)?.remove_directory_at(a.string()?)
}

/// `rename-at`.
pub(super) fn rename_at(ctx: &mut WasiCtx, mut a: Args<'_>) -> FsResult<()> {
    let from = borrowed(ctx, &mut a)?;
    let old_path = a.string()?;
    let to = borrowed(ctx, &mut a)?;
    from.rename_at(old_path, to, a.string()?)
}

/// `symlink-at`.
pub(super) fn symlink_at(ctx: &mut WasiCtx, mut a: Args<'_>) -> FsResult<()> {
    let d = borrowed(ctx, &mut a)?;
    let (target, link) = (a.string()?, a.string()?);
    d.symlink_at(target, link)
}

/// `unlink-file-at`.
pub(super) fn unlink_file_at(ctx: &mut WasiCtx, mut a: Args<'_>) -> FsResult<()> {
    borrowed(ctx, &mut a)?.unlink_file_at(a.string()?)
}
