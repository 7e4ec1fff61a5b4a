//! The streams of `read-via-stream`, `write-via-stream` and
//! `append-via-stream`: positional reads and writes on a shared file.
//!
//! Each stream keeps its own position, so several streams on one file do
//! not disturb each other or the descriptor (they use `pread`/`pwrite`,
//! never the file's cursor). Files are always ready, so the streams' pollables
//! are; every operation completes before it returns.

use super::file::retry;
use crate::io::poll::Pollable;
use crate::io::streams::{InputStream, MAX_READ, OutputStream, StreamError};
use cap_std::fs::{File, FileExt};
use std::io;
use std::sync::Arc;

/// An input stream reading a file from a position on.
pub(crate) struct FileInput {
    file: Arc<File>,
    position: u64,
    /// A read failed: the stream is closed from then on.
    closed: bool,
}

impl FileInput {
    pub(crate) fn new(file: Arc<File>, position: u64) -> FileInput {
        FileInput {
            file,
            position,
            closed: false,
        }
    }
}

impl InputStream for FileInput {
    fn read(&mut self, len: usize) -> Result<Vec<u8>, StreamError> {
        if self.closed {
            return Err(StreamError::Closed);
        }
        let mut buf = vec![0; len.min(MAX_READ)];
        let n = match retry(|| self.file.read_at(&mut buf, self.position)) {
            Ok(n) => n,
            Err(e) => {
                self.closed = true;
                return Err(StreamError::Failed(e));
            }
        };
        if n == 0 && len > 0 {
            return Err(StreamError::Closed);
        }
        buf.truncate(n);
        self.position = self.position.saturating_add(n as u64);
        Ok(buf)
    }

    fn pollable(&self) -> Pollable {
        Pollable::Ready
    }
}

/// Where an output stream writes.
enum Position {
    /// At this offset, which advances with each write.
    At(u64),
    /// At the end of the file, wherever that is at each write.
    Append,
}

/// An output stream writing a file.
pub(crate) struct FileOutput {
    file: Arc<File>,
    position: Position,
    /// A write failed: the stream is closed from then on.
    closed: bool,
}

impl FileOutput {
    pub(crate) fn at(file: Arc<File>, offset: u64) -> FileOutput {
        FileOutput {
            file,
            position: Position::At(offset),
            closed: false,
        }
    }

    pub(crate) fn append(file: Arc<File>) -> FileOutput {
        FileOutput {
            file,
            position: Position::Append,
            closed: false,
        }
    }

    /// Writes all of `bytes` where the stream writes.
    fn write_all(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            let n = match &mut self.position {
                Position::At(offset) => {
                    let n = retry(|| self.file.write_at(bytes, *offset))?;
                    *offset = offset.saturating_add(n as u64);
                    n
                }
                Position::Append => retry(|| append(&self.file, bytes))?,
            };
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            bytes = &bytes[n..];
        }
        Ok(())
    }
}

impl OutputStream for FileOutput {
    fn check_write(&mut self) -> Result<usize, StreamError> {
        if self.closed {
            return Err(StreamError::Closed);
        }
        Ok(MAX_READ)
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), StreamError> {
        if self.closed {
            return Err(StreamError::Closed);
        }
        self.write_all(bytes).map_err(|e| {
            self.closed = true;
            StreamError::Failed(e)
        })
    }
}

/// Writes `bytes` at the end of `file`, atomically with respect to other
/// appends: `pwritev2(RWF_APPEND)` on Linux.
pub(crate) fn append(file: &File, bytes: &[u8]) -> io::Result<usize> {
    #[cfg(target_os = "linux")]
    {
        use rustix::io::{Errno, ReadWriteFlags};
        let iov = [io::IoSlice::new(bytes)];
        match rustix::io::pwritev2(file, &iov, 0, ReadWriteFlags::APPEND) {
            // Kernels before 4.16 know no `RWF_APPEND`.
            Err(Errno::NOSYS | Errno::NOTSUP) => {}
            r => return Ok(r?),
        }
    }
    append_by_flag(file, bytes)
}

/// Appends by switching the open file to `O_APPEND` for one `write`.
/// Only this store uses the file, and it does not write concurrently, so
/// nothing sees the flag change.
fn append_by_flag(file: &File, bytes: &[u8]) -> io::Result<usize> {
    use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
    let flags = fcntl_getfl(file)?;
    fcntl_setfl(file, flags | OFlags::APPEND)?;
    let written = rustix::io::write(file, bytes);
    fcntl_setfl(file, flags)?;
    Ok(written?)
}
