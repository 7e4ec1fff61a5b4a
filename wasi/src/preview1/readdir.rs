//! `fd_readdir`: a directory's entries as `dirent`s followed by their
//! names, from a cookie on.
//!
//! Entries are numbered as wasmtime numbers them: `.` and `..` first (the
//! OS's listing has neither), then the listing in the OS's order. An
//! entry's `d_next` is the cookie that continues after it, its index plus
//! one, so cookie 0 starts at the beginning and a cookie past the end
//! gives nothing. The guest's buffer is filled with as many entries as fit
//! and the last may be cut short, which tells a libc to come back with a
//! larger buffer (the witx's contract).
//!
//! Each call lists the directory afresh, like wasmtime's, but reads it
//! lazily: entries before the cookie cost one OS entry each and nothing
//! more, the metadata (for `d_ino`) is read only for entries written, and
//! the listing stops when the buffer is full, so a huge directory costs
//! the host no memory.

use super::Host;
use super::abi::{self, Dirent, filetype};
use super::errno::{Errno, P1Result};
use super::memory::GuestMemory;
use crate::filesystem::stat::{DescriptorType, identity_hash, metadata_at};
use cap_fs_ext::FollowSymlinks;
use cap_std::fs::{Dir, DirEntry};

/// One entry of the listing.
struct Entry {
    name: String,
    ino: u64,
    filetype: u8,
}

/// An entry of the OS's listing. Its `d_ino` is the 0.2 metadata hash of
/// the entry itself (a symlink's own), as in wasmtime; a name that is not
/// UTF-8 is `ilseq`, as the 0.2 listing reports it.
fn os_entry(dir: &Dir, entry: std::io::Result<DirEntry>) -> P1Result<Entry> {
    let entry = entry?;
    let filetype = abi::filetype(DescriptorType::of(entry.file_type()?));
    let name = entry.file_name().into_string().map_err(|_| Errno::Ilseq)?;
    let ino = identity_hash(&metadata_at(dir, FollowSymlinks::No, &name)?).0;
    Ok(Entry {
        name,
        ino,
        filetype,
    })
}

/// The guest's buffer, filled from the front.
struct Buffer<'m, 'a> {
    mem: &'m mut GuestMemory<'a>,
    at: u64,
    left: u32,
}

impl Buffer<'_, '_> {
    /// Writes as much of `bytes` as fits; false once the buffer is full.
    fn put(&mut self, bytes: &[u8]) -> P1Result<bool> {
        let n = bytes.len().min(self.left as usize);
        self.at = self.mem.write_bytes(self.at, &bytes[..n])?;
        self.left -= n as u32;
        Ok(self.left > 0)
    }
}

pub(super) fn fd_readdir(
    h: &mut Host<'_>,
    (fd, buf, buf_len, cookie, bufused): (u32, u32, u32, u64, u32),
) -> P1Result<()> {
    let d = h.fds.dir(&h.ctx.table, fd)?;
    let dir = d.dir_to_read()?;
    let listing = dir.entries()?;
    // `..` gets the directory's own inode too: wasmtime's, and its
    // predecessor's, behaviour.
    let own_ino = identity_hash(&d.metadata()?).0;
    let first = usize::try_from(cookie).map_err(|_| Errno::Overflow)?;
    let dots = [".", ".."].into_iter().skip(first).map(|name| {
        Ok(Entry {
            name: name.to_owned(),
            ino: own_ino,
            filetype: filetype::DIRECTORY,
        })
    });
    let rest = listing
        .skip(first.saturating_sub(2))
        .map(|entry| os_entry(dir, entry));
    let mut out = Buffer {
        mem: &mut h.mem,
        at: buf.into(),
        left: buf_len,
    };
    let mut next = cookie;
    for entry in dots.chain(rest) {
        let entry = entry?;
        next = next.checked_add(1).ok_or(Errno::Overflow)?;
        let head = Dirent {
            next,
            ino: entry.ino,
            namlen: u32::try_from(entry.name.len()).map_err(|_| Errno::Overflow)?,
            filetype: entry.filetype,
        };
        if !out.put(&head.encode().0)? || !out.put(entry.name.as_bytes())? {
            break;
        }
    }
    let used = buf_len - out.left;
    h.mem.write(bufused, used)
}
