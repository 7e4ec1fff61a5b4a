//! The `path_*` functions: operations on a path beneath a directory
//! descriptor, each the 0.2 descriptor's method of the same name, so the
//! sandbox (cap-std resolving every path beneath the directory) and the
//! preopen's permissions are the 0.2 host's.
//!
//! As in wasmtime, the descriptors are looked up before the paths are
//! read, and a descriptor that is not a directory is `badf` (but `notdir`
//! for `path_open` from a file).

use super::Host;
use super::abi::{self, Rights, fdflags, lookupflags, oflags};
use super::errno::{Errno, P1Result};
use super::fd::{Fd, OpenFile};
use super::file::{filestat, new_times};
use crate::filesystem::descriptor::{Descriptor, Object};
use crate::filesystem::flags::{DescriptorFlags, OpenFlags};
use crate::filesystem::stat::metadata_at;
use abi::Filestat;
use cap_fs_ext::FollowSymlinks;

/// `lookupflags`: whether a symlink at the end of the path is followed.
fn follow(flags: i32) -> Result<FollowSymlinks, Errno> {
    let flags: u32 = abi::flags(flags, lookupflags::DEFINED)?;
    Ok(if flags & lookupflags::SYMLINK_FOLLOW != 0 {
        FollowSymlinks::Yes
    } else {
        FollowSymlinks::No
    })
}

pub(super) fn path_create_directory(
    h: &mut Host<'_>,
    (fd, path, path_len): (u32, u32, u32),
) -> P1Result<()> {
    let d = h.fds.dir(&h.ctx.table, fd)?;
    d.create_directory_at(h.mem.str(path, path_len)?)?;
    Ok(())
}

/// `path_filestat_get`: like `stat-at`, it needs the preopen to let
/// directories be read.
pub(super) fn path_filestat_get(
    h: &mut Host<'_>,
    (fd, flags, path, path_len, out): (u32, i32, u32, u32, u32),
) -> P1Result<()> {
    let follow = follow(flags)?;
    let dir = h.fds.dir(&h.ctx.table, fd)?.dir_to_read()?;
    let stat = filestat(&metadata_at(dir, follow, h.mem.str(path, path_len)?)?)?;
    h.mem.write_record(out, Filestat::ALIGN, &stat.encode())
}

pub(super) fn path_filestat_set_times(
    h: &mut Host<'_>,
    (fd, flags, path, path_len, atim, mtim, fst_flags): (u32, i32, u32, u32, u64, u64, i32),
) -> P1Result<()> {
    let follow = follow(flags)?;
    let (atime, mtime) = new_times(fst_flags, atim, mtim)?;
    let d = h.fds.dir(&h.ctx.table, fd)?;
    d.set_times_at(follow, h.mem.str(path, path_len)?, atime, mtime)?;
    Ok(())
}

pub(super) fn path_link(
    h: &mut Host<'_>,
    (old_fd, old_flags, old_path, old_len, new_fd, new_path, new_len): (
        u32,
        i32,
        u32,
        u32,
        u32,
        u32,
        u32,
    ),
) -> P1Result<()> {
    let follow = follow(old_flags)?;
    let from = h.fds.dir(&h.ctx.table, old_fd)?;
    let to = h.fds.dir(&h.ctx.table, new_fd)?;
    let (old_path, new_path) = (h.mem.str(old_path, old_len)?, h.mem.str(new_path, new_len)?);
    from.link_at(follow, old_path, to, new_path)?;
    Ok(())
}

/// `path_open`: the rights ask for reading and writing (`fd_read`,
/// `fd_write`; the others are not enforced, as in wasmtime), `fdflags`
/// for appending, not blocking, and the sync modes.
pub(super) fn path_open(
    h: &mut Host<'_>,
    (fd, dirflags, path, path_len, open, base, inheriting, fd_flags, opened): (
        u32,
        i32,
        u32,
        u32,
        i32,
        i64,
        i64,
        i32,
        u32,
    ),
) -> P1Result<()> {
    let follow = follow(dirflags)?;
    let open: u16 = abi::flags(open, oflags::DEFINED)?;
    let base = Rights(abi::flags(base, Rights::ALL.0)?);
    abi::flags::<u64, _>(inheriting, Rights::ALL.0)?;
    let fd_flags: u16 = abi::flags(fd_flags, fdflags::DEFINED)?;
    let path = h.mem.str(path, path_len)?;
    let dir = match h.fds.get(fd)? {
        Fd::Dir { desc, .. } => h.ctx.table.get::<Descriptor>(*desc)?,
        Fd::File(_) => return Err(Errno::Notdir.into()),
        Fd::Stdin { .. } | Fd::Output { .. } => return Err(Errno::Badf.into()),
    };
    let open = OpenFlags {
        create: open & oflags::CREAT != 0,
        directory: open & oflags::DIRECTORY != 0,
        exclusive: open & oflags::EXCL != 0,
        truncate: open & oflags::TRUNC != 0,
    };
    let flags = DescriptorFlags {
        read: base.contains(Rights::FD_READ),
        write: base.contains(Rights::FD_WRITE),
        file_integrity_sync: fd_flags & fdflags::SYNC != 0,
        data_integrity_sync: fd_flags & fdflags::DSYNC != 0,
        requested_write_sync: fd_flags & fdflags::RSYNC != 0,
        mutate_directory: false,
    };
    let descriptor = dir.open_at(follow, path, open, flags)?;
    let is_dir = matches!(descriptor.object, Object::Dir(_));
    let desc = h.ctx.table.push(descriptor)?;
    let entry = if is_dir {
        Fd::Dir {
            desc,
            preopen: None,
        }
    } else {
        Fd::File(OpenFile {
            desc,
            position: 0,
            append: fd_flags & fdflags::APPEND != 0,
            nonblocking: fd_flags & fdflags::NONBLOCK != 0,
        })
    };
    let new_fd = h.fds.push(entry)?;
    h.mem.write(opened, new_fd)
}

/// `path_readlink`: the target, cut to the buffer (without a NUL), and
/// its length as written.
pub(super) fn path_readlink(
    h: &mut Host<'_>,
    (fd, path, path_len, buf, buf_len, used): (u32, u32, u32, u32, u32, u32),
) -> P1Result<()> {
    let d = h.fds.dir(&h.ctx.table, fd)?;
    let target = d.readlink_at(h.mem.str(path, path_len)?)?;
    let target = &target.as_bytes()[..target.len().min(buf_len as usize)];
    h.mem.write_bytes(buf.into(), target)?;
    h.mem.write(used, target.len() as u32)
}

pub(super) fn path_remove_directory(
    h: &mut Host<'_>,
    (fd, path, path_len): (u32, u32, u32),
) -> P1Result<()> {
    let d = h.fds.dir(&h.ctx.table, fd)?;
    d.remove_directory_at(h.mem.str(path, path_len)?)?;
    Ok(())
}

pub(super) fn path_rename(
    h: &mut Host<'_>,
    (old_fd, old_path, old_len, new_fd, new_path, new_len): (u32, u32, u32, u32, u32, u32),
) -> P1Result<()> {
    let from = h.fds.dir(&h.ctx.table, old_fd)?;
    let to = h.fds.dir(&h.ctx.table, new_fd)?;
    let (old_path, new_path) = (h.mem.str(old_path, old_len)?, h.mem.str(new_path, new_len)?);
    from.rename_at(old_path, to, new_path)?;
    Ok(())
}

/// `path_symlink`: a link at `new_path` beneath `fd` to `old_path`.
pub(super) fn path_symlink(
    h: &mut Host<'_>,
    (old_path, old_len, fd, new_path, new_len): (u32, u32, u32, u32, u32),
) -> P1Result<()> {
    let d = h.fds.dir(&h.ctx.table, fd)?;
    let (target, link) = (h.mem.str(old_path, old_len)?, h.mem.str(new_path, new_len)?);
    d.symlink_at(target, link)?;
    Ok(())
}

pub(super) fn path_unlink_file(
    h: &mut Host<'_>,
    (fd, path, path_len): (u32, u32, u32),
) -> P1Result<()> {
    let d = h.fds.dir(&h.ctx.table, fd)?;
    d.unlink_file_at(h.mem.str(path, path_len)?)?;
    Ok(())
}
