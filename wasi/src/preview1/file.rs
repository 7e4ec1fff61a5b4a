//! The `fd_*` functions that act on an open descriptor: reading, writing,
//! seeking, stat, flags, sizes, times, syncing, closing and renumbering.
//!
//! Files are read and written at the position preview1 keeps for them
//! ([`OpenFile::position`]), with `pread`/`pwrite` on the 0.2 descriptor's
//! file, straight from and into the guest's buffer; stdio goes through the
//! 0.2 streams, blocking. Which descriptor kinds a function takes, and the
//! errno for the others, are wasmtime's: most file operations want a file
//! (`badf` for a directory), seeking stdio is `spipe`.

use super::Host;
use super::abi::{
    self, ADVICE, Fdstat, Filestat, PRESTAT_ALIGN, Rights, fdflags, filetype, fstflags, whence,
};
use super::clocks::nanos;
use super::errno::{Errno, P1Result};
use super::fd::{Fd, FdTable, OpenFile, drop_entry};
use crate::filesystem::descriptor::Descriptor;
use crate::filesystem::file::retry;
use crate::filesystem::flags::{advice, system_time};
use crate::filesystem::stat::{DescriptorType, Times, identity_hash};
use crate::filesystem::streams::append;
use crate::io::streams::{DynInputStream, DynOutputStream, MAX_READ, StreamError, write_checked};
use cap_fs_ext::SystemTimeSpec;
use cap_std::fs::{FileExt, Metadata, MetadataExt};

pub(super) fn fd_advise(
    h: &mut Host<'_>,
    (fd, offset, len, adv): (u32, u64, u64, i32),
) -> P1Result<()> {
    let adv: u8 = abi::enum_case(adv, ADVICE.len() as u64)?;
    let d = h.fds.file(&h.ctx.table, fd)?;
    d.advise(offset, len, advice(ADVICE[usize::from(adv)])?)?;
    Ok(())
}

/// `fd_allocate`: not supported, as in wasmtime (0.2 has no allocation).
pub(super) fn fd_allocate(h: &mut Host<'_>, (fd, _, _): (u32, u64, u64)) -> P1Result<()> {
    h.fds.file(&h.ctx.table, fd)?;
    Err(Errno::Notsup.into())
}

pub(super) fn fd_close(h: &mut Host<'_>, (fd,): (u32,)) -> P1Result<()> {
    let entry = h.fds.remove(fd)?;
    drop_entry(&mut h.ctx.table, entry)?;
    Ok(())
}

pub(super) fn fd_datasync(h: &mut Host<'_>, (fd,): (u32,)) -> P1Result<()> {
    h.fds.file(&h.ctx.table, fd)?.sync(false)?;
    Ok(())
}

pub(super) fn fd_sync(h: &mut Host<'_>, (fd,): (u32,)) -> P1Result<()> {
    h.fds.file(&h.ctx.table, fd)?.sync(true)?;
    Ok(())
}

/// The rights wasmtime reports for a preopened directory: what libcs
/// expect of one (they decide from them whether to try an operation).
const PREOPEN_RIGHTS: Rights = Rights(
    Rights::PATH_CREATE_DIRECTORY.0
        | Rights::PATH_CREATE_FILE.0
        | Rights::PATH_LINK_SOURCE.0
        | Rights::PATH_LINK_TARGET.0
        | Rights::PATH_OPEN.0
        | Rights::FD_READDIR.0
        | Rights::PATH_READLINK.0
        | Rights::PATH_RENAME_SOURCE.0
        | Rights::PATH_RENAME_TARGET.0
        | Rights::PATH_SYMLINK.0
        | Rights::PATH_REMOVE_DIRECTORY.0
        | Rights::PATH_UNLINK_FILE.0
        | Rights::PATH_FILESTAT_GET.0
        | Rights::PATH_FILESTAT_SET_TIMES.0
        | Rights::FD_FILESTAT_GET.0
        | Rights::FD_FILESTAT_SET_TIMES.0,
);

/// What descriptors opened beneath a preopen may have, as wasmtime
/// reports it.
const PREOPEN_INHERITING: Rights = Rights(
    PREOPEN_RIGHTS.0
        | Rights::FD_DATASYNC.0
        | Rights::FD_READ.0
        | Rights::FD_SEEK.0
        | Rights::FD_FDSTAT_SET_FLAGS.0
        | Rights::FD_SYNC.0
        | Rights::FD_TELL.0
        | Rights::FD_WRITE.0
        | Rights::FD_ADVISE.0
        | Rights::FD_ALLOCATE.0
        | Rights::FD_FILESTAT_GET.0
        | Rights::FD_FILESTAT_SET_SIZE.0
        | Rights::FD_FILESTAT_SET_TIMES.0
        | Rights::POLL_FD_READWRITE.0,
);

/// The `fdstat` of a stdio stream: a character device when it is a
/// terminal, with the one right of its direction.
fn stdio_fdstat(terminal: bool, right: Rights) -> Fdstat {
    Fdstat {
        filetype: stdio_filetype(terminal),
        flags: 0,
        rights_base: right,
        rights_inheriting: right,
    }
}

fn stdio_filetype(terminal: bool) -> u8 {
    if terminal {
        filetype::CHARACTER_DEVICE
    } else {
        filetype::UNKNOWN
    }
}

/// The `fdstat` of an opened file or directory: every right, less those
/// its type or open mode rules out, as wasmtime computes them.
fn opened_fdstat(d: &Descriptor, file: Option<&OpenFile>) -> P1Result<Fdstat> {
    let t = d.descriptor_type()?;
    let mut rights = Rights::ALL;
    if t == DescriptorType::Directory {
        rights = rights.without(
            Rights::FD_SEEK | Rights::FD_FILESTAT_SET_SIZE | Rights::PATH_FILESTAT_SET_SIZE,
        );
    }
    if !d.flags.read {
        rights = rights.without(Rights::FD_READ | Rights::FD_READDIR);
    }
    if !d.flags.write {
        rights = rights.without(Rights::FD_WRITE);
    }
    let mut flags = 0;
    for (on, flag) in [
        (d.flags.data_integrity_sync, fdflags::DSYNC),
        (d.flags.requested_write_sync, fdflags::RSYNC),
        (d.flags.file_integrity_sync, fdflags::SYNC),
        (file.is_some_and(|f| f.append), fdflags::APPEND),
        (file.is_some_and(|f| f.nonblocking), fdflags::NONBLOCK),
    ] {
        if on {
            flags |= flag;
        }
    }
    Ok(Fdstat {
        filetype: abi::filetype(t),
        flags,
        rights_base: rights,
        rights_inheriting: rights,
    })
}

pub(super) fn fd_fdstat_get(h: &mut Host<'_>, (fd, out): (u32, u32)) -> P1Result<()> {
    let table = &h.ctx.table;
    let stat = match h.fds.get(fd)? {
        Fd::Stdin { terminal, .. } => stdio_fdstat(*terminal, Rights::FD_READ),
        Fd::Output { terminal, .. } => stdio_fdstat(*terminal, Rights::FD_WRITE),
        Fd::Dir {
            preopen: Some(_), ..
        } => Fdstat {
            filetype: filetype::DIRECTORY,
            flags: 0,
            rights_base: PREOPEN_RIGHTS,
            rights_inheriting: PREOPEN_INHERITING,
        },
        Fd::Dir {
            desc,
            preopen: None,
        } => opened_fdstat(table.get(*desc)?, None)?,
        Fd::File(f) => opened_fdstat(table.get(f.desc)?, Some(f))?,
    };
    h.mem.write_record(out, Fdstat::ALIGN, &stat.encode())
}

/// `fd_fdstat_set_flags`: only a file's `append` and `nonblock` may change,
/// as in wasmtime; asking for a sync flag is `inval`.
pub(super) fn fd_fdstat_set_flags(h: &mut Host<'_>, (fd, flags): (u32, i32)) -> P1Result<()> {
    let flags: u16 = abi::flags(flags, fdflags::DEFINED)?;
    let Fd::File(f) = h.fds.get_mut(fd)? else {
        return Err(Errno::Badf.into());
    };
    if flags & (fdflags::DSYNC | fdflags::SYNC | fdflags::RSYNC) != 0 {
        return Err(Errno::Inval.into());
    }
    f.append = flags & fdflags::APPEND != 0;
    f.nonblocking = flags & fdflags::NONBLOCK != 0;
    Ok(())
}

/// `fd_fdstat_set_rights`: rights are not enforced, so they cannot be
/// dropped either: `notsup`, as in wasmtime.
pub(super) fn fd_fdstat_set_rights(
    h: &mut Host<'_>,
    (fd, base, inheriting): (u32, i64, i64),
) -> P1Result<()> {
    abi::flags::<u64, _>(base, Rights::ALL.0)?;
    abi::flags::<u64, _>(inheriting, Rights::ALL.0)?;
    h.fds.descriptor(&h.ctx.table, fd)?;
    Err(Errno::Notsup.into())
}

/// The `filestat` of an object, as wasmtime makes it: the device is 1 and
/// the inode the lower half of the 0.2 metadata hash (the object's
/// identity), so both stay the same for the object's lifetime; a time
/// the OS does not know is 0.
pub(super) fn filestat(m: &Metadata) -> P1Result<Filestat> {
    let times = Times::of(m);
    let ns = |t: Option<std::time::Duration>| t.map_or(Ok(0), nanos);
    Ok(Filestat {
        dev: 1,
        ino: identity_hash(m).0,
        filetype: abi::filetype(DescriptorType::of(m.file_type())),
        nlink: m.nlink(),
        size: m.len(),
        atim: ns(times.access)?,
        mtim: ns(times.modification)?,
        ctim: ns(times.status_change)?,
    })
}

pub(super) fn fd_filestat_get(h: &mut Host<'_>, (fd, out): (u32, u32)) -> P1Result<()> {
    let stat = match h.fds.get(fd)? {
        Fd::Stdin { terminal, .. } | Fd::Output { terminal, .. } => Filestat {
            dev: 0,
            ino: 0,
            filetype: stdio_filetype(*terminal),
            nlink: 0,
            size: 0,
            atim: 0,
            mtim: 0,
            ctim: 0,
        },
        Fd::Dir { desc, .. } | Fd::File(OpenFile { desc, .. }) => {
            filestat(&h.ctx.table.get::<Descriptor>(*desc)?.metadata()?)?
        }
    };
    h.mem.write_record(out, Filestat::ALIGN, &stat.encode())
}

pub(super) fn fd_filestat_set_size(h: &mut Host<'_>, (fd, size): (u32, u64)) -> P1Result<()> {
    h.fds.file(&h.ctx.table, fd)?.set_size(size)?;
    Ok(())
}

/// One time of `*_set_times`: unchanged, now, or the given timestamp, as
/// `flags` says with its `set` and `now` bits; both is `inval`.
pub(super) fn new_timestamp(
    flags: u16,
    set: u16,
    now: u16,
    timestamp: u64,
) -> P1Result<Option<SystemTimeSpec>> {
    const NANOS_PER_SEC: u64 = 1_000_000_000;
    match (flags & set != 0, flags & now != 0) {
        (true, true) => Err(Errno::Inval.into()),
        (true, false) => {
            let t = system_time(
                timestamp / NANOS_PER_SEC,
                (timestamp % NANOS_PER_SEC) as u32,
            )?;
            Ok(Some(SystemTimeSpec::Absolute(
                cap_std::time::SystemTime::from_std(t),
            )))
        }
        (false, true) => Ok(Some(SystemTimeSpec::SymbolicNow)),
        (false, false) => Ok(None),
    }
}

/// The access and modification times of `*_set_times`.
pub(super) fn new_times(
    flags: i32,
    atim: u64,
    mtim: u64,
) -> P1Result<(Option<SystemTimeSpec>, Option<SystemTimeSpec>)> {
    let flags: u16 = abi::flags(flags, fstflags::DEFINED)?;
    Ok((
        new_timestamp(flags, fstflags::ATIM, fstflags::ATIM_NOW, atim)?,
        new_timestamp(flags, fstflags::MTIM, fstflags::MTIM_NOW, mtim)?,
    ))
}

pub(super) fn fd_filestat_set_times(
    h: &mut Host<'_>,
    (fd, atim, mtim, flags): (u32, u64, u64, i32),
) -> P1Result<()> {
    let (atime, mtime) = new_times(flags, atim, mtim)?;
    h.fds
        .descriptor(&h.ctx.table, fd)?
        .set_times(atime, mtime)?;
    Ok(())
}

/// Reads a file at `offset` into `dst`, if the preopen lets files be read
/// (wasmtime's `fd_read` asks only the open mode; cmc's sandbox is the
/// same for preview1 as for 0.2).
fn read_file(d: &Descriptor, dst: &mut [u8], offset: u64) -> P1Result<usize> {
    let file = d.file_to_read()?;
    Ok(retry(|| file.read_at(dst, offset))?)
}

/// Reads what stdin has (waiting for something or its end) into `dst`.
fn read_stream(stream: &mut DynInputStream, dst: &mut [u8]) -> P1Result<usize> {
    let data = match stream.blocking_read(dst.len().min(MAX_READ)) {
        Ok(data) => data,
        Err(StreamError::Closed) => return Ok(0),
        Err(e) => return Err(e.into()),
    };
    // A stream gives at most what it is asked for; one that gave more
    // would be a bug, reported as wasmtime reports it.
    let dst = dst.get_mut(..data.len()).ok_or(Errno::Range)?;
    dst.copy_from_slice(&data);
    Ok(data.len())
}

/// A byte count the guest asked for in a `u32` as the `u32` result.
fn size(n: usize) -> Result<u32, Errno> {
    u32::try_from(n).map_err(|_| Errno::Overflow)
}

/// `fd_read`: into the first non-empty buffer, one read, as in wasmtime.
pub(super) fn fd_read(
    h: &mut Host<'_>,
    (fd, iovs, iovs_len, nread): (u32, u32, u32, u32),
) -> P1Result<()> {
    let (buf, len) = h.mem.first_buffer(iovs, iovs_len)?;
    let n = match h.fds.get_mut(fd)? {
        Fd::File(f) => {
            let n = read_file(
                h.ctx.table.get(f.desc)?,
                h.mem.bytes_mut(buf, len)?,
                f.position,
            )?;
            f.position = f.position.checked_add(n as u64).ok_or(Errno::Overflow)?;
            n
        }
        Fd::Stdin { stream, .. } => {
            read_stream(h.ctx.table.get_mut(*stream)?, h.mem.bytes_mut(buf, len)?)?
        }
        Fd::Output { .. } | Fd::Dir { .. } => return Err(Errno::Badf.into()),
    };
    h.mem.write(nread, size(n)?)
}

/// `fd_pread`: the file's position stays; stdio is `spipe`.
pub(super) fn fd_pread(
    h: &mut Host<'_>,
    (fd, iovs, iovs_len, offset, nread): (u32, u32, u32, u64, u32),
) -> P1Result<()> {
    let (buf, len) = h.mem.first_buffer(iovs, iovs_len)?;
    let n = match h.fds.get(fd)? {
        Fd::File(f) => read_file(h.ctx.table.get(f.desc)?, h.mem.bytes_mut(buf, len)?, offset)?,
        Fd::Stdin { .. } => return Err(Errno::Spipe.into()),
        Fd::Output { .. } | Fd::Dir { .. } => return Err(Errno::Badf.into()),
    };
    h.mem.write(nread, size(n)?)
}

/// Where a write goes.
#[derive(Clone, Copy)]
enum WriteAt {
    /// `fd_write`: at the file's position, which advances.
    Position,
    /// `fd_pwrite`: at this offset; the position stays.
    Offset(u64),
}

/// `fd_write` and `fd_pwrite`: the first non-empty buffer, in one write to
/// a file (which may be short) or all of it to stdout or stderr.
fn write(h: &mut Host<'_>, fd: u32, iovs: u32, iovs_len: u32, at: WriteAt) -> P1Result<usize> {
    let (buf, len) = h.mem.first_buffer(iovs, iovs_len)?;
    match h.fds.get_mut(fd)? {
        Fd::File(f) => {
            // The preopen must let files be written, as for 0.2 (wasmtime
            // asks only the open mode).
            let file = h.ctx.table.get::<Descriptor>(f.desc)?.file_to_write()?;
            let data = h.mem.bytes(buf, len)?;
            // In append mode every write goes to the end, `fd_pwrite`'s too,
            // as on Linux and in wasmtime.
            let n = match (f.append, at) {
                (true, _) => retry(|| append(file, data))?,
                (false, WriteAt::Position) => retry(|| file.write_at(data, f.position))?,
                (false, WriteAt::Offset(offset)) => retry(|| file.write_at(data, offset))?,
            };
            if let WriteAt::Position = at {
                f.position = if f.append {
                    file.metadata()?.len()
                } else {
                    f.position.checked_add(n as u64).ok_or(Errno::Overflow)?
                };
            }
            Ok(n)
        }
        Fd::Output { stream, .. } => {
            if let WriteAt::Offset(_) = at {
                return Err(Errno::Spipe.into());
            }
            let data = h.mem.bytes(buf, len)?;
            // Nothing to write asks nothing of the stream, as in wasmtime
            // (even of a closed one).
            if !data.is_empty() {
                let stream = h.ctx.table.get_mut::<DynOutputStream>(*stream)?;
                write_checked(stream, data, true)?;
            }
            Ok(data.len())
        }
        Fd::Stdin { .. } | Fd::Dir { .. } => Err(Errno::Badf.into()),
    }
}

pub(super) fn fd_write(
    h: &mut Host<'_>,
    (fd, iovs, iovs_len, nwritten): (u32, u32, u32, u32),
) -> P1Result<()> {
    let n = write(h, fd, iovs, iovs_len, WriteAt::Position)?;
    h.mem.write(nwritten, size(n)?)
}

pub(super) fn fd_pwrite(
    h: &mut Host<'_>,
    (fd, iovs, iovs_len, offset, nwritten): (u32, u32, u32, u64, u32),
) -> P1Result<()> {
    let n = write(h, fd, iovs, iovs_len, WriteAt::Offset(offset))?;
    h.mem.write(nwritten, size(n)?)
}

pub(super) fn fd_prestat_get(h: &mut Host<'_>, (fd, out): (u32, u32)) -> P1Result<()> {
    let Fd::Dir {
        preopen: Some(path),
        ..
    } = h.fds.get(fd)?
    else {
        return Err(Errno::Badf.into());
    };
    let len = size(path.len())?;
    h.mem
        .write_record(out, PRESTAT_ALIGN, &abi::prestat_dir(len))
}

/// `fd_prestat_dir_name`: the preopen's path, without a NUL; anything but
/// a preopen is `notdir`, as in wasmtime.
pub(super) fn fd_prestat_dir_name(
    h: &mut Host<'_>,
    (fd, path, path_len): (u32, u32, u32),
) -> P1Result<()> {
    let Fd::Dir {
        preopen: Some(name),
        ..
    } = h.fds.get(fd)?
    else {
        return Err(Errno::Notdir.into());
    };
    if name.len() > path_len as usize {
        return Err(Errno::Nametoolong.into());
    }
    h.mem.write_bytes(path.into(), name.as_bytes())?;
    Ok(())
}

/// `fd_renumber`: both numbers must be in use; what `to` referred to is
/// closed.
pub(super) fn fd_renumber(h: &mut Host<'_>, (from, to): (u32, u32)) -> P1Result<()> {
    if let Some(old) = h.fds.renumber(from, to)? {
        drop_entry(&mut h.ctx.table, old)?;
    }
    Ok(())
}

/// The file `fd` refers to, to move its position: stdio is `spipe`,
/// anything else `badf`.
fn seekable(fds: &mut FdTable, fd: u32) -> Result<&mut OpenFile, Errno> {
    match fds.get_mut(fd)? {
        Fd::File(f) => Ok(f),
        Fd::Stdin { .. } | Fd::Output { .. } => Err(Errno::Spipe),
        Fd::Dir { .. } => Err(Errno::Badf),
    }
}

/// `fd_seek`: a position before the start is `inval`.
pub(super) fn fd_seek(
    h: &mut Host<'_>,
    (fd, offset, how, out): (u32, i64, i32, u32),
) -> P1Result<()> {
    let how: u8 = abi::enum_case(how, whence::CASES)?;
    let f = seekable(h.fds, fd)?;
    let base = match how {
        whence::SET => 0,
        whence::CUR => f.position,
        // `whence::END`, the one case left.
        _ => h.ctx.table.get::<Descriptor>(f.desc)?.metadata()?.len(),
    };
    f.position = base.checked_add_signed(offset).ok_or(Errno::Inval)?;
    h.mem.write(out, f.position)
}

pub(super) fn fd_tell(h: &mut Host<'_>, (fd, out): (u32, u32)) -> P1Result<()> {
    let position = seekable(h.fds, fd)?.position;
    h.mem.write(out, position)
}
