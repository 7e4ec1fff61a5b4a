//! `error-code`: how a failed filesystem operation is reported to the guest.
//!
//! An OS error maps by its errno, as wasmtime maps it, so a guest sees the
//! same codes under cmc as under wasmtime. Where wasmtime leaves an errno
//! to fall through to `io` although the WIT has a case for exactly that
//! errno (`EXDEV` → `cross-device`, `EROFS` → `read-only`, `ETXTBSY` →
//! `text-file-busy`, `ENOSYS` → `unsupported`, …), cmc uses that case.
//! Errors without an errno come from cap-std itself: its sandbox refusing
//! a path that would lead outside the preopened directory is a
//! `PermissionDenied` error, which becomes `not-permitted`, the code the
//! WIT asks for escape attempts.

use cmc_runtime::Error;
use rustix::io::Errno;
use std::io;

/// Declares [`ErrorCode`] with the WIT label of each case, in the WIT's
/// order, so the enum and its labels cannot drift apart.
macro_rules! error_codes {
    ($($case:ident = $label:literal,)*) => {
        /// A case of `wasi:filesystem/types.error-code`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(crate) enum ErrorCode {
            $($case,)*
        }

        impl ErrorCode {
            /// The case's label in the WIT.
            pub(crate) fn label(self) -> &'static str {
                match self {
                    $(ErrorCode::$case => $label,)*
                }
            }
        }
    };
}

error_codes! {
    Access = "access",
    WouldBlock = "would-block",
    Already = "already",
    BadDescriptor = "bad-descriptor",
    Busy = "busy",
    Deadlock = "deadlock",
    Quota = "quota",
    Exist = "exist",
    FileTooLarge = "file-too-large",
    IllegalByteSequence = "illegal-byte-sequence",
    InProgress = "in-progress",
    Interrupted = "interrupted",
    Invalid = "invalid",
    Io = "io",
    IsDirectory = "is-directory",
    Loop = "loop",
    TooManyLinks = "too-many-links",
    MessageSize = "message-size",
    NameTooLong = "name-too-long",
    NoDevice = "no-device",
    NoEntry = "no-entry",
    NoLock = "no-lock",
    InsufficientMemory = "insufficient-memory",
    InsufficientSpace = "insufficient-space",
    NotDirectory = "not-directory",
    NotEmpty = "not-empty",
    NotRecoverable = "not-recoverable",
    Unsupported = "unsupported",
    NoTty = "no-tty",
    NoSuchDevice = "no-such-device",
    Overflow = "overflow",
    NotPermitted = "not-permitted",
    Pipe = "pipe",
    ReadOnly = "read-only",
    InvalidSeek = "invalid-seek",
    TextFileBusy = "text-file-busy",
    CrossDevice = "cross-device",
}

impl ErrorCode {
    /// The code of an errno, if the WIT has one for it.
    fn of_errno(errno: Errno) -> Option<ErrorCode> {
        use ErrorCode as E;
        Some(match errno {
            Errno::ACCESS => E::Access,
            Errno::AGAIN => E::WouldBlock,
            Errno::ALREADY => E::Already,
            Errno::BADF => E::BadDescriptor,
            Errno::BUSY => E::Busy,
            Errno::DEADLK => E::Deadlock,
            Errno::DQUOT => E::Quota,
            Errno::EXIST => E::Exist,
            Errno::FBIG => E::FileTooLarge,
            Errno::ILSEQ => E::IllegalByteSequence,
            Errno::INPROGRESS => E::InProgress,
            Errno::INTR => E::Interrupted,
            Errno::INVAL => E::Invalid,
            Errno::IO => E::Io,
            Errno::ISDIR => E::IsDirectory,
            Errno::LOOP => E::Loop,
            Errno::MLINK => E::TooManyLinks,
            Errno::MSGSIZE => E::MessageSize,
            Errno::NAMETOOLONG => E::NameTooLong,
            Errno::NODEV => E::NoDevice,
            Errno::NOENT => E::NoEntry,
            Errno::NOLCK => E::NoLock,
            Errno::NOMEM => E::InsufficientMemory,
            Errno::NOSPC => E::InsufficientSpace,
            Errno::NOTDIR => E::NotDirectory,
            Errno::NOTEMPTY => E::NotEmpty,
            Errno::NOTRECOVERABLE => E::NotRecoverable,
            Errno::NOTSUP | Errno::NOSYS => E::Unsupported,
            // `EOPNOTSUPP` is `ENOTSUP` on Linux, a distinct value elsewhere.
            #[allow(unreachable_patterns, reason = "an alias of NOTSUP on some systems")]
            Errno::OPNOTSUPP => E::Unsupported,
            Errno::NOTTY => E::NoTty,
            Errno::NXIO => E::NoSuchDevice,
            Errno::OVERFLOW => E::Overflow,
            Errno::PERM => E::NotPermitted,
            Errno::PIPE => E::Pipe,
            Errno::ROFS => E::ReadOnly,
            Errno::SPIPE => E::InvalidSeek,
            Errno::TXTBSY => E::TextFileBusy,
            Errno::XDEV => E::CrossDevice,
            _ => return None,
        })
    }
}

impl From<&io::Error> for ErrorCode {
    fn from(e: &io::Error) -> ErrorCode {
        if let Some(code) = e
            .raw_os_error()
            .and_then(|n| ErrorCode::of_errno(Errno::from_raw_os_error(n)))
        {
            return code;
        }
        // No errno (cap-std's own errors, an errno without a WIT case):
        // the kind says what it can.
        match e.kind() {
            io::ErrorKind::NotFound => ErrorCode::NoEntry,
            io::ErrorKind::PermissionDenied => ErrorCode::NotPermitted,
            io::ErrorKind::AlreadyExists => ErrorCode::Exist,
            io::ErrorKind::InvalidInput => ErrorCode::Invalid,
            _ => ErrorCode::Io,
        }
    }
}

/// Why a filesystem function did not succeed.
#[derive(Debug)]
pub(crate) enum FsError {
    /// The operation failed: the guest gets `err(code)`.
    Code(ErrorCode),
    /// The host cannot go on (a full resource table, a value of the wrong
    /// shape): the call traps.
    Trap(Error),
}

/// The outcome of a filesystem function whose WIT result is
/// `result<T, error-code>`.
pub(crate) type FsResult<T> = Result<T, FsError>;

impl From<ErrorCode> for FsError {
    fn from(code: ErrorCode) -> FsError {
        FsError::Code(code)
    }
}

impl From<io::Error> for FsError {
    fn from(e: io::Error) -> FsError {
        FsError::Code(ErrorCode::from(&e))
    }
}

impl From<Errno> for FsError {
    fn from(e: Errno) -> FsError {
        FsError::Code(ErrorCode::from(&io::Error::from(e)))
    }
}

impl From<Error> for FsError {
    fn from(e: Error) -> FsError {
        FsError::Trap(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(errno: Errno) -> ErrorCode {
        ErrorCode::from(&io::Error::from(errno))
    }

    #[test]
    fn errnos_map_as_in_wasmtime() {
        assert_eq!(code(Errno::NOENT), ErrorCode::NoEntry);
        assert_eq!(code(Errno::PERM), ErrorCode::NotPermitted);
        assert_eq!(code(Errno::ACCESS), ErrorCode::Access);
        assert_eq!(code(Errno::NOTDIR), ErrorCode::NotDirectory);
        assert_eq!(code(Errno::ISDIR), ErrorCode::IsDirectory);
        assert_eq!(code(Errno::NOTEMPTY), ErrorCode::NotEmpty);
        assert_eq!(code(Errno::LOOP), ErrorCode::Loop);
        assert_eq!(code(Errno::SPIPE), ErrorCode::InvalidSeek);
        assert_eq!(code(Errno::OPNOTSUPP), ErrorCode::Unsupported);
    }

    #[test]
    fn errnos_wasmtime_leaves_to_io_get_their_own_case() {
        assert_eq!(code(Errno::XDEV), ErrorCode::CrossDevice);
        assert_eq!(code(Errno::ROFS), ErrorCode::ReadOnly);
        assert_eq!(code(Errno::TXTBSY), ErrorCode::TextFileBusy);
        assert_eq!(code(Errno::NOSYS), ErrorCode::Unsupported);
        assert_eq!(code(Errno::AGAIN), ErrorCode::WouldBlock);
    }

    #[test]
    fn errors_without_errno_map_by_kind() {
        // What cap-std returns when a path would leave the sandbox.
        let escape = io::Error::new(io::ErrorKind::PermissionDenied, "outside");
        assert_eq!(ErrorCode::from(&escape), ErrorCode::NotPermitted);
        let other = io::Error::other("odd");
        assert_eq!(ErrorCode::from(&other), ErrorCode::Io);
        // An errno without a WIT case falls back to its kind.
        assert_eq!(code(Errno::CONNRESET), ErrorCode::Io);
    }

    #[test]
    fn labels_are_the_wit_cases() {
        assert_eq!(ErrorCode::NoEntry.label(), "no-entry");
        assert_eq!(ErrorCode::CrossDevice.label(), "cross-device");
    }
}
