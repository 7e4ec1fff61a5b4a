//! `errno`: how a preview1 function reports failure, and how the errors of
//! the shared WASI 0.2 code become errnos.
//!
//! A filesystem error is first the 0.2 `error-code` the 0.2 host would
//! report ([`ErrorCode`], from the OS's errno), then the preview1 errno of
//! that code, case for case as wasmtime's preview1 maps it, so a guest
//! sees the same errno under cmc as under wasmtime. What the guest did
//! wrong with its own memory (a pointer outside it or misaligned) is not
//! an errno but a trap, as the witx documentation asks and wasmtime does.

use crate::filesystem::errors::{ErrorCode, FsError};
use crate::io::streams::StreamError;
use cmc_runtime::Error;

/// Declares [`Errno`] with the witx's cases in the witx's order, so each
/// discriminant is the value the guest sees.
macro_rules! errnos {
    ($($(#[$doc:meta])* $case:ident = $name:literal,)*) => {
        /// A preview1 `errno`: the value a preview1 function returns.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u16)]
        pub enum Errno {
            $($(#[$doc])* $case,)*
        }

        impl Errno {
            /// Every case, in order.
            const ALL: &[Errno] = &[$(Errno::$case,)*];

            /// The case's name in the witx (`badf`, `2big`).
            pub fn name(self) -> &'static str {
                match self {
                    $(Errno::$case => $name,)*
                }
            }
        }
    };
}

errnos! {
    /// No error occurred.
    Success = "success",
    /// Argument list too long.
    TooBig = "2big",
    /// Permission denied.
    Acces = "acces",
    /// Address in use.
    Addrinuse = "addrinuse",
    /// Address not available.
    Addrnotavail = "addrnotavail",
    /// Address family not supported.
    Afnosupport = "afnosupport",
    /// Resource unavailable, or operation would block.
    Again = "again",
    /// Connection already in progress.
    Already = "already",
    /// Bad file descriptor.
    Badf = "badf",
    /// Bad message.
    Badmsg = "badmsg",
    /// Device or resource busy.
    Busy = "busy",
    /// Operation canceled.
    Canceled = "canceled",
    /// No child processes.
    Child = "child",
    /// Connection aborted.
    Connaborted = "connaborted",
    /// Connection refused.
    Connrefused = "connrefused",
    /// Connection reset.
    Connreset = "connreset",
    /// Resource deadlock would occur.
    Deadlk = "deadlk",
    /// Destination address required.
    Destaddrreq = "destaddrreq",
    /// Mathematics argument out of domain of function.
    Dom = "dom",
    /// Reserved.
    Dquot = "dquot",
    /// File exists.
    Exist = "exist",
    /// Bad address.
    Fault = "fault",
    /// File too large.
    Fbig = "fbig",
    /// Host is unreachable.
    Hostunreach = "hostunreach",
    /// Identifier removed.
    Idrm = "idrm",
    /// Illegal byte sequence.
    Ilseq = "ilseq",
    /// Operation in progress.
    Inprogress = "inprogress",
    /// Interrupted function.
    Intr = "intr",
    /// Invalid argument.
    Inval = "inval",
    /// I/O error.
    Io = "io",
    /// Socket is connected.
    Isconn = "isconn",
    /// Is a directory.
    Isdir = "isdir",
    /// Too many levels of symbolic links.
    Loop = "loop",
    /// File descriptor value too large.
    Mfile = "mfile",
    /// Too many links.
    Mlink = "mlink",
    /// Message too large.
    Msgsize = "msgsize",
    /// Reserved.
    Multihop = "multihop",
    /// Filename too long.
    Nametoolong = "nametoolong",
    /// Network is down.
    Netdown = "netdown",
    /// Connection aborted by network.
    Netreset = "netreset",
    /// Network unreachable.
    Netunreach = "netunreach",
    /// Too many files open in system.
    Nfile = "nfile",
    /// No buffer space available.
    Nobufs = "nobufs",
    /// No such device.
    Nodev = "nodev",
    /// No such file or directory.
    Noent = "noent",
    /// Executable file format error.
    Noexec = "noexec",
    /// No locks available.
    Nolck = "nolck",
    /// Reserved.
    Nolink = "nolink",
    /// Not enough space.
    Nomem = "nomem",
    /// No message of the desired type.
    Nomsg = "nomsg",
    /// Protocol not available.
    Noprotoopt = "noprotoopt",
    /// No space left on device.
    Nospc = "nospc",
    /// Function not supported.
    Nosys = "nosys",
    /// The socket is not connected.
    Notconn = "notconn",
    /// Not a directory or a symbolic link to a directory.
    Notdir = "notdir",
    /// Directory not empty.
    Notempty = "notempty",
    /// State not recoverable.
    Notrecoverable = "notrecoverable",
    /// Not a socket.
    Notsock = "notsock",
    /// Not supported, or operation not supported on socket.
    Notsup = "notsup",
    /// Inappropriate I/O control operation.
    Notty = "notty",
    /// No such device or address.
    Nxio = "nxio",
    /// Value too large to be stored in data type.
    Overflow = "overflow",
    /// Previous owner died.
    Ownerdead = "ownerdead",
    /// Operation not permitted.
    Perm = "perm",
    /// Broken pipe.
    Pipe = "pipe",
    /// Protocol error.
    Proto = "proto",
    /// Protocol not supported.
    Protonosupport = "protonosupport",
    /// Protocol wrong type for socket.
    Prototype = "prototype",
    /// Result too large.
    Range = "range",
    /// Read-only file system.
    Rofs = "rofs",
    /// Invalid seek.
    Spipe = "spipe",
    /// No such process.
    Srch = "srch",
    /// Reserved.
    Stale = "stale",
    /// Connection timed out.
    Timedout = "timedout",
    /// Text file busy.
    Txtbsy = "txtbsy",
    /// Cross-device link.
    Xdev = "xdev",
    /// Extension: Capabilities insufficient.
    Notcapable = "notcapable",
}

impl Errno {
    /// The value the guest sees.
    pub fn raw(self) -> u16 {
        self as u16
    }

    /// The errno of a value a guest saw, if the witx has it.
    pub fn from_raw(raw: u16) -> Option<Errno> {
        Errno::ALL.get(usize::from(raw)).copied()
    }
}

impl std::fmt::Display for Errno {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.name(), self.raw())
    }
}

impl From<ErrorCode> for Errno {
    fn from(code: ErrorCode) -> Errno {
        use ErrorCode as C;
        match code {
            C::Access => Errno::Acces,
            C::WouldBlock => Errno::Again,
            C::Already => Errno::Already,
            C::BadDescriptor => Errno::Badf,
            C::Busy => Errno::Busy,
            C::Deadlock => Errno::Deadlk,
            C::Quota => Errno::Dquot,
            C::Exist => Errno::Exist,
            C::FileTooLarge => Errno::Fbig,
            C::IllegalByteSequence => Errno::Ilseq,
            C::InProgress => Errno::Inprogress,
            C::Interrupted => Errno::Intr,
            C::Invalid => Errno::Inval,
            C::Io => Errno::Io,
            C::IsDirectory => Errno::Isdir,
            C::Loop => Errno::Loop,
            C::TooManyLinks => Errno::Mlink,
            C::MessageSize => Errno::Msgsize,
            C::NameTooLong => Errno::Nametoolong,
            C::NoDevice => Errno::Nodev,
            C::NoEntry => Errno::Noent,
            C::NoLock => Errno::Nolck,
            C::InsufficientMemory => Errno::Nomem,
            C::InsufficientSpace => Errno::Nospc,
            C::NotDirectory => Errno::Notdir,
            C::NotEmpty => Errno::Notempty,
            C::NotRecoverable => Errno::Notrecoverable,
            C::Unsupported => Errno::Notsup,
            C::NoTty => Errno::Notty,
            C::NoSuchDevice => Errno::Nxio,
            C::Overflow => Errno::Overflow,
            C::NotPermitted => Errno::Perm,
            C::Pipe => Errno::Pipe,
            C::ReadOnly => Errno::Rofs,
            C::InvalidSeek => Errno::Spipe,
            C::TextFileBusy => Errno::Txtbsy,
            C::CrossDevice => Errno::Xdev,
        }
    }
}

/// Why a preview1 function did not succeed.
#[derive(Debug)]
pub(crate) enum Fail {
    /// The guest gets this errno.
    Errno(Errno),
    /// The call traps: the guest broke the rules of its own memory, or the
    /// host cannot go on (a full resource table).
    Trap(Error),
}

/// The outcome of a preview1 function.
pub(crate) type P1Result<T> = Result<T, Fail>;

impl From<Errno> for Fail {
    fn from(e: Errno) -> Fail {
        Fail::Errno(e)
    }
}

impl From<ErrorCode> for Fail {
    fn from(code: ErrorCode) -> Fail {
        Fail::Errno(code.into())
    }
}

impl From<std::io::Error> for Fail {
    fn from(e: std::io::Error) -> Fail {
        ErrorCode::from(&e).into()
    }
}

impl From<FsError> for Fail {
    fn from(e: FsError) -> Fail {
        match e {
            FsError::Code(code) => code.into(),
            FsError::Trap(e) => Fail::Trap(e),
        }
    }
}

/// A stream that is closed is `io`, as in wasmtime: preview1 has no
/// other way to say so to a writer (readers see the end as 0 bytes).
impl From<StreamError> for Fail {
    fn from(e: StreamError) -> Fail {
        match e {
            StreamError::Closed => Fail::Errno(Errno::Io),
            StreamError::Failed(e) => e.into(),
            StreamError::Trap(e) => Fail::Trap(e),
        }
    }
}

impl From<Error> for Fail {
    fn from(e: Error) -> Fail {
        Fail::Trap(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::io::Errno as Os;

    fn via_os(errno: Os) -> Errno {
        match Fail::from(std::io::Error::from(errno)) {
            Fail::Errno(e) => e,
            Fail::Trap(e) => panic!("trapped: {e}"),
        }
    }

    #[test]
    fn discriminants_are_the_witx_values() {
        assert_eq!(Errno::Success.raw(), 0);
        assert_eq!(Errno::TooBig.raw(), 1);
        assert_eq!(Errno::Badf.raw(), 8);
        assert_eq!(Errno::Fault.raw(), 21);
        assert_eq!(Errno::Inval.raw(), 28);
        assert_eq!(Errno::Nomem.raw(), 48);
        assert_eq!(Errno::Notsock.raw(), 57);
        assert_eq!(Errno::Notsup.raw(), 58);
        assert_eq!(Errno::Spipe.raw(), 70);
        assert_eq!(Errno::Notcapable.raw(), 76);
        assert_eq!(Errno::TooBig.name(), "2big");
        assert_eq!(Errno::from_raw(76), Some(Errno::Notcapable));
        assert_eq!(Errno::from_raw(77), None);
        assert!((0..77).all(|n| Errno::from_raw(n).map(Errno::raw) == Some(n)));
    }

    #[test]
    fn os_errors_map_through_the_02_codes_as_in_wasmtime() {
        assert_eq!(via_os(Os::NOENT), Errno::Noent);
        assert_eq!(via_os(Os::ACCESS), Errno::Acces);
        assert_eq!(via_os(Os::PERM), Errno::Perm);
        assert_eq!(via_os(Os::EXIST), Errno::Exist);
        assert_eq!(via_os(Os::NOTDIR), Errno::Notdir);
        assert_eq!(via_os(Os::ISDIR), Errno::Isdir);
        assert_eq!(via_os(Os::NOTEMPTY), Errno::Notempty);
        assert_eq!(via_os(Os::LOOP), Errno::Loop);
        assert_eq!(via_os(Os::BADF), Errno::Badf);
        assert_eq!(via_os(Os::SPIPE), Errno::Spipe);
        assert_eq!(via_os(Os::NAMETOOLONG), Errno::Nametoolong);
        assert_eq!(via_os(Os::AGAIN), Errno::Again);
        assert_eq!(via_os(Os::NOTSUP), Errno::Notsup);
        // An errno without a 0.2 case is `io`, as in wasmtime.
        assert_eq!(via_os(Os::CONNRESET), Errno::Io);
    }

    #[test]
    fn the_sandbox_refusing_a_path_is_perm() {
        let escape = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "outside");
        assert!(matches!(Fail::from(escape), Fail::Errno(Errno::Perm)));
    }

    #[test]
    fn streams_closed_are_io_and_traps_stay_traps() {
        assert!(matches!(
            Fail::from(StreamError::Closed),
            Fail::Errno(Errno::Io)
        ));
        assert!(matches!(
            Fail::from(StreamError::Trap(Error::host("x"))),
            Fail::Trap(_)
        ));
        assert!(matches!(
            Fail::from(FsError::Code(ErrorCode::ReadOnly)),
            Fail::Errno(Errno::Rofs)
        ));
    }
}
