//! The `descriptor` resource: an open file or directory, the permissions
//! of the preopen it was reached from, and `open-at`.
//!
//! Permissions are wasmtime's: a preopen's [`DirPerms`] govern every
//! directory opened beneath it (listing, opening, creating, renaming,
//! removing), its [`FilePerms`] every file (reading, writing, truncating,
//! changing times), and an operation they forbid fails with
//! `not-permitted` before the OS is asked. The OS then applies its own
//! checks, including the descriptor's open mode (a file opened without
//! `write` refuses writes with `bad-descriptor`).

use super::errors::{ErrorCode, FsResult};
use super::flags::{DescriptorFlags, OpenFlags};
use crate::ctx::{DirPerms, FilePerms, Preopen, WasiCtx};
use crate::val::Args;
use cap_fs_ext::{DirExt, FollowSymlinks, OpenOptionsFollowExt, OpenOptionsSyncExt};
use cap_std::fs::{Dir, File, OpenOptions};
use cmc_runtime::Error;
use std::sync::Arc;

/// What the preopen a descriptor was reached from allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Perms {
    pub dir: DirPerms,
    pub file: FilePerms,
}

/// The object a descriptor refers to. Both are shared with the streams
/// and directory listings made from the descriptor, which the guest may
/// keep after dropping it.
pub(crate) enum Object {
    File(Arc<File>),
    Dir(Arc<Dir>),
}

/// The state of a `descriptor` resource.
pub(crate) struct Descriptor {
    pub object: Object,
    pub perms: Perms,
    /// What `get-flags` reports: the mode it was opened in, the sync
    /// requests it was opened with, and for a directory whether it may be
    /// mutated.
    pub flags: DescriptorFlags,
}

impl Descriptor {
    /// A new descriptor of a preopened directory. Every call of
    /// `get-directories` makes one, so the guest owns each and may drop it.
    pub(crate) fn preopen(p: &Preopen) -> Descriptor {
        Descriptor {
            object: Object::Dir(Arc::clone(&p.dir)),
            perms: Perms {
                dir: p.dir_perms,
                file: p.file_perms,
            },
            flags: DescriptorFlags {
                read: p.dir_perms.read,
                mutate_directory: p.dir_perms.mutate,
                ..DescriptorFlags::default()
            },
        }
    }

    /// The file, for operations on files only; a directory is
    /// `bad-descriptor`, as in wasmtime (the wasi-testsuite expects it of
    /// `advise`).
    pub(crate) fn file(&self) -> Result<&Arc<File>, ErrorCode> {
        match &self.object {
            Object::File(f) => Ok(f),
            Object::Dir(_) => Err(ErrorCode::BadDescriptor),
        }
    }

    /// The file, if the preopen lets files be read.
    pub(crate) fn file_to_read(&self) -> Result<&Arc<File>, ErrorCode> {
        let file = self.file()?;
        permit(self.perms.file.read)?;
        Ok(file)
    }

    /// The file, if the preopen lets files be written.
    pub(crate) fn file_to_write(&self) -> Result<&Arc<File>, ErrorCode> {
        let file = self.file()?;
        permit(self.perms.file.write)?;
        Ok(file)
    }

    /// The directory, for operations on paths; a file is `not-directory`.
    pub(crate) fn dir(&self) -> Result<&Arc<Dir>, ErrorCode> {
        match &self.object {
            Object::Dir(d) => Ok(d),
            Object::File(_) => Err(ErrorCode::NotDirectory),
        }
    }

    /// The directory, if the preopen lets directories be read.
    pub(crate) fn dir_to_read(&self) -> Result<&Arc<Dir>, ErrorCode> {
        let dir = self.dir()?;
        permit(self.perms.dir.read)?;
        Ok(dir)
    }

    /// The directory, if the preopen lets directories be mutated.
    pub(crate) fn dir_to_mutate(&self) -> Result<&Arc<Dir>, ErrorCode> {
        let dir = self.dir()?;
        permit(self.perms.dir.mutate)?;
        Ok(dir)
    }

    /// `open-at`: opens `path` beneath this directory. cap-std resolves it
    /// and refuses any path that leads outside (`..`, absolute paths,
    /// symlinks), which the guest sees as `not-permitted`.
    pub(crate) fn open_at(
        &self,
        follow: FollowSymlinks,
        path: &str,
        open: OpenFlags,
        flags: DescriptorFlags,
    ) -> FsResult<Descriptor> {
        let dir = self.dir_to_read()?;
        let perms = self.perms;
        // Creating or truncating writes, as does a `write` descriptor.
        let write = flags.write || open.create || open.truncate;
        permit(!write || perms.dir.mutate)?;
        if open.directory && (open.create || open.exclusive || open.truncate) {
            return Err(ErrorCode::Invalid.into());
        }
        permit(!write || perms.file.write)?;
        // A directory may be mutated through the new descriptor when the
        // guest asks and the preopen allows; the preview1 adapter never
        // asks, so asking is not required for mutation, only reported.
        let dir_flags = DescriptorFlags {
            read: true,
            mutate_directory: flags.mutate_directory && perms.dir.mutate,
            ..DescriptorFlags::default()
        };
        if open.directory {
            let opened = match follow {
                FollowSymlinks::Yes => dir.open_dir(path)?,
                FollowSymlinks::No => dir.open_dir_nofollow(path)?,
            };
            // POSIX refuses to open a directory for writing.
            if flags.write {
                return Err(ErrorCode::IsDirectory.into());
            }
            return Ok(Descriptor {
                object: Object::Dir(Arc::new(opened)),
                perms,
                flags: dir_flags,
            });
        }
        // Without `write` a file is opened for reading, so the OS lets it
        // be opened whatever the guest means to do with it (as wasmtime).
        let read = flags.read || !flags.write;
        let mut opts = OpenOptions::new();
        opts.read(read)
            .write(write)
            .truncate(open.truncate)
            .follow(follow)
            .sync(flags.file_integrity_sync)
            .dsync(flags.data_integrity_sync)
            .rsync(flags.requested_write_sync);
        if open.create && open.exclusive {
            opts.create_new(true);
        } else {
            opts.create(open.create);
        }
        let file = dir.open_with(path, &opts)?;
        if file.metadata()?.is_dir() {
            return Ok(Descriptor {
                object: Object::Dir(Arc::new(Dir::from_std_file(file.into_std()))),
                perms,
                flags: dir_flags,
            });
        }
        Ok(Descriptor {
            object: Object::File(Arc::new(file)),
            perms,
            flags: DescriptorFlags {
                read,
                write,
                mutate_directory: false,
                ..flags
            },
        })
    }
}

/// The descriptor that the next argument, a `borrow<descriptor>`, names.
pub(crate) fn borrowed<'c>(ctx: &'c WasiCtx, a: &mut Args<'_>) -> Result<&'c Descriptor, Error> {
    ctx.table.get::<Descriptor>(a.rep()?)
}

/// `Ok` if the preopen's permissions allow it, else `not-permitted`.
fn permit(allowed: bool) -> Result<(), ErrorCode> {
    if allowed {
        Ok(())
    } else {
        Err(ErrorCode::NotPermitted)
    }
}
