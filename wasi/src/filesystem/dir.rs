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
use cap_fs_ext::{DirExt, FollowSymlinks};
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

/// `create-directory-at`.
pub(super) fn create_directory_at(ctx: &mut WasiCtx, mut a: Args<'_>) -> FsResult<()> {
    let dir = borrowed(ctx, &mut a)?.dir_to_mutate()?;
    dir.create_dir(a.string()?)?;
    Ok(())
}

/// `set-times-at`.
pub(super) fn set_times_at(ctx: &mut WasiCtx, mut a: Args<'_>) -> FsResult<()> {
    let dir = borrowed(ctx, &mut a)?.dir_to_mutate()?;
    let follow = flags::follow(a.flags()?)?;
    let path = a.string()?;
    let atime = flags::new_timestamp(a.next()?)?;
    let mtime = flags::new_timestamp(a.next()?)?;
    match follow {
        FollowSymlinks::Yes => DirExt::set_times(&**dir, path, atime, mtime)?,
        FollowSymlinks::No => dir.set_symlink_times(path, atime, mtime)?,
    }
    Ok(())
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

/// `link-at`: a hard link never follows a symlink at the old path; asking
/// it to is `invalid`, as in wasmtime.
pub(super) fn link_at(ctx: &mut WasiCtx, mut a: Args<'_>) -> FsResult<()> {
    let from = borrowed(ctx, &mut a)?;
    let follow = flags::follow(a.flags()?)?;
    let old_path = a.string()?;
    let to = borrowed(ctx, &mut a)?;
    let new_path = a.string()?;
    let (from_dir, to_dir) = two_dirs(from, to)?;
    if let FollowSymlinks::Yes = follow {
        return Err(ErrorCode::Invalid.into());
    }
    same_perms(from, to)?;
    from_dir.hard_link(old_path, to_dir, new_path)?;
    Ok(())
}

/// `readlink-at`: a link to an absolute path is refused by cap-std
/// (`not-permitted`); one that is not UTF-8 is `illegal-byte-sequence`.
pub(super) fn readlink_at(ctx: &mut WasiCtx, mut a: Args<'_>) -> FsResult<Val> {
    let dir = borrowed(ctx, &mut a)?.dir_to_read()?;
    let target = dir.read_link(a.string()?)?;
    let target = target
        .into_os_string()
        .into_string()
        .map_err(|_| ErrorCode::IllegalByteSequence)?;
    Ok(string_val(target))
}

/// `remove-directory-at`.
pub(super) fn remove_directory_at(ctx: &mut WasiCtx, mut a: Args<'_>) -> FsResult<()> {
    let dir = borrowed(ctx, &mut a)?.dir_to_mutate()?;
    dir.remove_dir(a.string()?)?;
    Ok(())
}

/// `rename-at`.
pub(super) fn rename_at(ctx: &mut WasiCtx, mut a: Args<'_>) -> FsResult<()> {
    let from = borrowed(ctx, &mut a)?;
    let old_path = a.string()?;
    let to = borrowed(ctx, &mut a)?;
    let new_path = a.string()?;
    let (from_dir, to_dir) = two_dirs(from, to)?;
    same_perms(from, to)?;
    from_dir.rename(old_path, to_dir, new_path)?;
    Ok(())
}

/// `symlink-at`: cap-std refuses an absolute target (`not-permitted`), so
/// no link made by the guest can point outside even for other programs.
pub(super) fn symlink_at(ctx: &mut WasiCtx, mut a: Args<'_>) -> FsResult<()> {
    let dir = borrowed(ctx, &mut a)?.dir_to_mutate()?;
    let (target, link) = (a.string()?, a.string()?);
    DirExt::symlink(&**dir, target, link)?;
    Ok(())
}

/// `unlink-file-at`: a directory is `is-directory` (from the OS).
pub(super) fn unlink_file_at(ctx: &mut WasiCtx, mut a: Args<'_>) -> FsResult<()> {
    let dir = borrowed(ctx, &mut a)?.dir_to_mutate()?;
    dir.remove_file_or_symlink(a.string()?)?;
    Ok(())
}
