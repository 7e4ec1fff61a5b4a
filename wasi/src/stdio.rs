//! The guest's standard input and output: the host process's own
//! descriptors, or memory pipes an embedder reads and fills.

use crate::io::poll::{Pollable, SharedFd};
use crate::io::streams::{InputStream, OutputStream, StreamError};
use std::sync::{Arc, Mutex};

/// Where the guest's stdin comes from.
#[derive(Clone, Default)]
pub enum StdinSource {
    /// Nothing: reads see the end at once.
    #[default]
    Empty,
    /// The host process's stdin.
    Inherit,
    /// These bytes, then the end.
    Bytes(Arc<[u8]>),
}

/// Where the guest's stdout or stderr goes.
#[derive(Clone, Default)]
pub enum OutputSink {
    /// Nowhere: writes succeed and are dropped.
    #[default]
    Null,
    /// The host process's stdout or stderr.
    Inherit,
    /// A memory pipe the embedder reads.
    Pipe(MemoryOutputPipe),
}

/// Output collected in memory, shared between the guest's stream and the
/// embedder (clone it to keep a handle, then read [`contents`](Self::contents)).
#[derive(Clone, Default)]
pub struct MemoryOutputPipe {
    bytes: Arc<Mutex<Vec<u8>>>,
}

impl MemoryOutputPipe {
    /// An empty pipe.
    pub fn new() -> MemoryOutputPipe {
        MemoryOutputPipe::default()
    }

    /// Everything written so far.
    pub fn contents(&self) -> Vec<u8> {
        self.bytes.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl OutputStream for MemoryOutputPipe {
    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(crate::io::streams::MAX_READ)
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), StreamError> {
        self.bytes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(bytes);
        Ok(())
    }
}

/// Bytes read from memory.
pub(crate) struct MemoryInput {
    bytes: Arc<[u8]>,
    pos: usize,
}

impl MemoryInput {
    pub(crate) fn new(bytes: Arc<[u8]>) -> MemoryInput {
        MemoryInput { bytes, pos: 0 }
    }
}

impl InputStream for MemoryInput {
    fn read(&mut self, len: usize) -> Result<Vec<u8>, StreamError> {
        let rest = &self.bytes[self.pos..];
        if rest.is_empty() && len > 0 {
            return Err(StreamError::Closed);
        }
        let n = rest.len().min(len);
        self.pos += n;
        Ok(rest[..n].to_vec())
    }

    fn pollable(&self) -> Pollable {
        Pollable::Ready
    }
}

/// An output stream that drops what it gets.
pub(crate) struct NullOutput;

impl OutputStream for NullOutput {
    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(crate::io::streams::MAX_READ)
    }

    fn write(&mut self, _: &[u8]) -> Result<(), StreamError> {
        Ok(())
    }
}

/// Input from a host descriptor (the process's stdin): reads are made only
/// when `poll(2)` says they will not block.
pub(crate) struct FdInput {
    pub(crate) fd: SharedFd,
}

impl InputStream for FdInput {
    fn read(&mut self, len: usize) -> Result<Vec<u8>, StreamError> {
        if len == 0 || !self.pollable().is_ready().map_err(StreamError::Trap)? {
            return Ok(Vec::new());
        }
        // Read into uninitialized room: zeroing 64 KiB per read showed in
        // profiles of a stdin→stdout copy.
        let mut buf = Vec::with_capacity(len);
        let n = loop {
            match rustix::io::read(&self.fd, rustix::buffer::spare_capacity(&mut buf)) {
                Err(rustix::io::Errno::INTR) => continue,
                Err(rustix::io::Errno::AGAIN) => return Ok(Vec::new()),
                r => break r?,
            }
        };
        if n == 0 {
            return Err(StreamError::Closed);
        }
        Ok(buf)
    }

    fn pollable(&self) -> Pollable {
        Pollable::Readable(self.fd.clone())
    }
}

/// Output to a host descriptor (the process's stdout or stderr), unbuffered,
/// so nothing is lost when the guest exits or traps.
pub(crate) struct FdOutput {
    pub(crate) fd: SharedFd,
}

impl OutputStream for FdOutput {
    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(crate::io::streams::MAX_READ)
    }

    fn write(&mut self, mut bytes: &[u8]) -> Result<(), StreamError> {
        while !bytes.is_empty() {
            match rustix::io::write(&self.fd, bytes) {
                Ok(n) => bytes = &bytes[n..],
                Err(rustix::io::Errno::INTR) => {}
                // A descriptor the host made non-blocking: wait for room.
                Err(rustix::io::Errno::AGAIN) => Pollable::Writable(self.fd.clone())
                    .block()
                    .map_err(StreamError::Trap)?,
                // The reader went away: the stream is closed, as wasmtime
                // reports it (the preview1 adapter then gives `EIO`).
                Err(rustix::io::Errno::PIPE) => return Err(StreamError::Closed),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}
