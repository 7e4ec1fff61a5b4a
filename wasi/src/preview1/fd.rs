//! Preview1's descriptor table: what each `fd` number the guest holds
//! refers to.
//!
//! The objects themselves are WASI 0.2 resources in the context's one
//! [`ResourceTable`]: a stdio stream, or a filesystem
//! [`Descriptor`] reached from a preopen. A number maps to the entry of its
//! object plus the little state preview1 adds: a file's position and
//! `append`/`nonblock` flags, a preopen's guest path. Numbers are given out
//! as wasmtime gives them: 0, 1 and 2 are stdin, stdout and stderr, the
//! preopens follow from 3 in order, and a new descriptor takes the highest
//! free number, or the next one after all others.
//!
//! There is no socket kind: preview1 can only use sockets a host
//! preopens, and neither cmc nor wasmtime 48 preopens any, so `sock_*`
//! meet files, directories and stdio only (see [`super::sockets`]).

use super::errno::{Errno, P1Result};
use crate::cli::{Terminals, output_stream, stdin_stream};
use crate::ctx::WasiCtx;
use crate::filesystem::descriptor::Descriptor;
use crate::io::streams::{DynInputStream, DynOutputStream};
use crate::table::{Rep, ResourceTable};
use cmc_runtime::Error;
use std::collections::BTreeSet;

/// A file opened by `path_open`, with the state preview1 keeps beside its
/// descriptor.
pub(crate) struct OpenFile {
    /// The [`Descriptor`].
    pub desc: Rep,
    /// Where `fd_read` and `fd_write` go next. Preview1 keeps it, not the
    /// OS: the file is read and written with `pread`/`pwrite`, as wasmtime
    /// does.
    pub position: u64,
    /// `fdflags.append`: every `fd_write` (and `fd_pwrite`, as on Linux)
    /// goes to the end.
    pub append: bool,
    /// `fdflags.nonblock`: only reported; files never block for long, and
    /// wasmtime reads and writes them blocking too.
    pub nonblocking: bool,
}

/// What a descriptor number refers to.
pub(crate) enum Fd {
    /// Standard input: a [`DynInputStream`].
    Stdin { stream: Rep, terminal: bool },
    /// Standard output or error: a [`DynOutputStream`].
    Output { stream: Rep, terminal: bool },
    /// A directory [`Descriptor`]; a preopen has the path the guest knows
    /// it by.
    Dir { desc: Rep, preopen: Option<String> },
    /// A regular file (or anything else that is not a directory).
    File(OpenFile),
}

/// The descriptor numbers of one store.
pub(crate) struct FdTable {
    slots: Vec<Option<Fd>>,
    /// The numbers of the empty slots.
    free: BTreeSet<u32>,
}

impl FdTable {
    /// The table a guest starts with: stdio, then the preopens.
    pub(crate) fn new(ctx: &mut WasiCtx) -> Result<FdTable, Error> {
        let terminals = Terminals::of(ctx);
        let stdin = stdin_stream(ctx);
        let stdout = output_stream(&ctx.stdout, std::io::stdout());
        let stderr = output_stream(&ctx.stderr, std::io::stderr());
        let mut slots = vec![
            Some(Fd::Stdin {
                stream: ctx.table.push(stdin)?,
                terminal: terminals.stdin,
            }),
            Some(Fd::Output {
                stream: ctx.table.push(stdout)?,
                terminal: terminals.stdout,
            }),
            Some(Fd::Output {
                stream: ctx.table.push(stderr)?,
                terminal: terminals.stderr,
            }),
        ];
        for i in 0..ctx.preopens.len() {
            let desc = ctx.table.push(Descriptor::preopen(&ctx.preopens[i]))?;
            slots.push(Some(Fd::Dir {
                desc,
                preopen: Some(ctx.preopens[i].guest_path.clone()),
            }));
        }
        Ok(FdTable {
            slots,
            free: BTreeSet::new(),
        })
    }

    /// What `fd` refers to; `badf` if nothing.
    pub(crate) fn get(&self, fd: u32) -> Result<&Fd, Errno> {
        self.slots
            .get(fd as usize)
            .and_then(Option::as_ref)
            .ok_or(Errno::Badf)
    }

    pub(crate) fn get_mut(&mut self, fd: u32) -> Result<&mut Fd, Errno> {
        self.slots
            .get_mut(fd as usize)
            .and_then(Option::as_mut)
            .ok_or(Errno::Badf)
    }

    /// Gives `entry` a number: the highest free one, or a new one.
    pub(crate) fn push(&mut self, entry: Fd) -> Result<u32, Errno> {
        if let Some(fd) = self.free.pop_last() {
            self.slots[fd as usize] = Some(entry);
            return Ok(fd);
        }
        // The resource table bounds the entries long before this.
        let fd = u32::try_from(self.slots.len()).map_err(|_| Errno::Nfile)?;
        self.slots.push(Some(entry));
        Ok(fd)
    }

    /// Takes `fd` out of the table, leaving its number free.
    pub(crate) fn remove(&mut self, fd: u32) -> Result<Fd, Errno> {
        let entry = self
            .slots
            .get_mut(fd as usize)
            .and_then(Option::take)
            .ok_or(Errno::Badf)?;
        self.free.insert(fd);
        Ok(entry)
    }

    /// `fd_renumber`: moves `from` to number `to`, which must be in use,
    /// and returns what `to` referred to, for the caller to drop.
    pub(crate) fn renumber(&mut self, from: u32, to: u32) -> Result<Option<Fd>, Errno> {
        self.get(from)?;
        self.get(to)?;
        if from == to {
            return Ok(None);
        }
        let entry = self.remove(from)?;
        Ok(self.slots[to as usize].replace(entry))
    }

    /// The file or directory `fd` refers to; stdio is `badf`.
    pub(crate) fn descriptor<'t>(
        &self,
        table: &'t ResourceTable,
        fd: u32,
    ) -> P1Result<&'t Descriptor> {
        match self.get(fd)? {
            Fd::Dir { desc, .. } | Fd::File(OpenFile { desc, .. }) => Ok(table.get(*desc)?),
            Fd::Stdin { .. } | Fd::Output { .. } => Err(Errno::Badf.into()),
        }
    }

    /// The directory `fd` refers to; anything else is `badf`.
    pub(crate) fn dir<'t>(&self, table: &'t ResourceTable, fd: u32) -> P1Result<&'t Descriptor> {
        match self.get(fd)? {
            Fd::Dir { desc, .. } => Ok(table.get(*desc)?),
            _ => Err(Errno::Badf.into()),
        }
    }

    /// The file `fd` refers to; anything else is `badf`.
    pub(crate) fn file<'t>(&self, table: &'t ResourceTable, fd: u32) -> P1Result<&'t Descriptor> {
        match self.get(fd)? {
            Fd::File(f) => Ok(table.get(f.desc)?),
            _ => Err(Errno::Badf.into()),
        }
    }
}

/// Drops the object of a closed descriptor from the resource table.
pub(crate) fn drop_entry(table: &mut ResourceTable, entry: Fd) -> Result<(), Error> {
    match entry {
        Fd::Stdin { stream, .. } => table.delete::<DynInputStream>(stream).map(drop),
        Fd::Output { stream, .. } => table.delete::<DynOutputStream>(stream).map(drop),
        Fd::Dir { desc, .. } | Fd::File(OpenFile { desc, .. }) => {
            table.delete::<Descriptor>(desc).map(drop)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> Fd {
        Fd::File(OpenFile {
            desc: Rep(0),
            position: 0,
            append: false,
            nonblocking: false,
        })
    }

    #[test]
    fn stdio_then_preopens_then_the_highest_free_number() {
        let dir = std::env::temp_dir();
        let mut ctx = WasiCtx::builder()
            .preopened_dir(&dir, "/a", crate::DirPerms::ALL, crate::FilePerms::ALL)
            .unwrap()
            .preopened_dir(&dir, "/b", crate::DirPerms::ALL, crate::FilePerms::ALL)
            .unwrap()
            .build();
        let mut fds = FdTable::new(&mut ctx).unwrap();
        assert!(matches!(fds.get(0), Ok(Fd::Stdin { .. })));
        assert!(matches!(fds.get(2), Ok(Fd::Output { .. })));
        assert!(matches!(fds.get(4), Ok(Fd::Dir { preopen: Some(p), .. }) if p == "/b"));
        assert!(matches!(fds.get(5), Err(Errno::Badf)));
        assert_eq!(fds.push(file()).unwrap(), 5);
        assert_eq!(fds.push(file()).unwrap(), 6);
        fds.remove(3).unwrap();
        fds.remove(5).unwrap();
        assert!(matches!(fds.remove(5), Err(Errno::Badf)));
        assert_eq!(fds.push(file()).unwrap(), 5);
        assert_eq!(fds.push(file()).unwrap(), 3);
        assert_eq!(fds.push(file()).unwrap(), 7);
        assert!(matches!(fds.renumber(7, 9), Err(Errno::Badf)));
        assert!(fds.renumber(7, 7).unwrap().is_none());
        assert!(matches!(
            fds.renumber(7, 0).unwrap(),
            Some(Fd::Stdin { .. })
        ));
        assert!(matches!(fds.get(0), Ok(Fd::File(_))));
        assert_eq!(fds.push(file()).unwrap(), 7);
        assert!(fds.descriptor(&ctx.table, 1).is_err());
        assert!(fds.dir(&ctx.table, 4).is_ok());
        assert!(fds.file(&ctx.table, 4).is_err());
    }
}
