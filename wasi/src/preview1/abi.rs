//! The types of `typenames.witx` as the guest sees them: how arguments are
//! lifted (checked as wiggle checks them), the bits of each flags type, and
//! the layout of each record the host writes or reads.
//!
//! Lifting follows wasmtime's generated glue, so a bad argument gets the
//! same errno: a value wider than its type (a `u16` flags argument of
//! `0x1_0000`) is `overflow`, and an undefined flag bit or enum case is
//! `inval`. Layouts are the witx's C layouts (each field at its natural
//! alignment), given as byte offsets beside each encoder.

use super::errno::Errno;
use super::memory::Record;
use crate::filesystem::stat::DescriptorType;

/// `raw` as the type `R` a witx flags or enum type is represented by;
/// wider is `overflow`.
fn lift<R: TryFrom<A>, A>(raw: A) -> Result<R, Errno> {
    R::try_from(raw).map_err(|_| Errno::Overflow)
}

/// A flags argument whose defined bits are `defined`.
pub(crate) fn flags<R: TryFrom<A> + Into<u64> + Copy, A>(raw: A, defined: u64) -> Result<R, Errno> {
    let value: R = lift(raw)?;
    if value.into() & !defined != 0 {
        return Err(Errno::Inval);
    }
    Ok(value)
}

/// An enum argument with `cases` cases.
pub(crate) fn enum_case<R: TryFrom<A> + Into<u64> + Copy, A>(
    raw: A,
    cases: u64,
) -> Result<R, Errno> {
    let value: R = lift(raw)?;
    if value.into() >= cases {
        return Err(Errno::Inval);
    }
    Ok(value)
}

/// `rights`: what a descriptor may be used for. Preview1 hosts no longer
/// enforce rights (wasmtime does not, and nor does cmc: the preopen's
/// permissions and the open mode decide); they are reported by
/// `fd_fdstat_get` so that a guest's libc believes what it may try.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rights(pub u64);

/// Declares the rights with their bit in the witx's order, and
/// [`Rights::ALL`].
macro_rules! rights {
    ($($name:ident = $bit:literal,)*) => {
        impl Rights {
            $(pub(crate) const $name: Rights = Rights(1 << $bit);)*
            /// Every right the witx defines.
            pub(crate) const ALL: Rights = Rights(0 $(| Self::$name.0)*);
        }
    };
}

rights! {
    FD_DATASYNC = 0,
    FD_READ = 1,
    FD_SEEK = 2,
    FD_FDSTAT_SET_FLAGS = 3,
    FD_SYNC = 4,
    FD_TELL = 5,
    FD_WRITE = 6,
    FD_ADVISE = 7,
    FD_ALLOCATE = 8,
    PATH_CREATE_DIRECTORY = 9,
    PATH_CREATE_FILE = 10,
    PATH_LINK_SOURCE = 11,
    PATH_LINK_TARGET = 12,
    PATH_OPEN = 13,
    FD_READDIR = 14,
    PATH_READLINK = 15,
    PATH_RENAME_SOURCE = 16,
    PATH_RENAME_TARGET = 17,
    PATH_FILESTAT_GET = 18,
    PATH_FILESTAT_SET_SIZE = 19,
    PATH_FILESTAT_SET_TIMES = 20,
    FD_FILESTAT_GET = 21,
    FD_FILESTAT_SET_SIZE = 22,
    FD_FILESTAT_SET_TIMES = 23,
    PATH_SYMLINK = 24,
    PATH_REMOVE_DIRECTORY = 25,
    PATH_UNLINK_FILE = 26,
    POLL_FD_READWRITE = 27,
    SOCK_SHUTDOWN = 28,
    SOCK_ACCEPT = 29,
}

impl Rights {
    pub(crate) fn contains(self, other: Rights) -> bool {
        self.0 & other.0 == other.0
    }

    pub(crate) fn without(self, other: Rights) -> Rights {
        Rights(self.0 & !other.0)
    }
}

impl std::ops::BitOr for Rights {
    type Output = Rights;
    fn bitor(self, other: Rights) -> Rights {
        Rights(self.0 | other.0)
    }
}

/// `fdflags`.
pub(crate) mod fdflags {
    pub(crate) const APPEND: u16 = 1 << 0;
    pub(crate) const DSYNC: u16 = 1 << 1;
    pub(crate) const NONBLOCK: u16 = 1 << 2;
    pub(crate) const RSYNC: u16 = 1 << 3;
    pub(crate) const SYNC: u16 = 1 << 4;
    pub(crate) const DEFINED: u64 = 0x1f;
}

/// `fstflags`: which times `*_set_times` changes, and how.
pub(crate) mod fstflags {
    pub(crate) const ATIM: u16 = 1 << 0;
    pub(crate) const ATIM_NOW: u16 = 1 << 1;
    pub(crate) const MTIM: u16 = 1 << 2;
    pub(crate) const MTIM_NOW: u16 = 1 << 3;
    pub(crate) const DEFINED: u64 = 0xf;
}

/// `lookupflags`.
pub(crate) mod lookupflags {
    pub(crate) const SYMLINK_FOLLOW: u32 = 1 << 0;
    pub(crate) const DEFINED: u64 = 0x1;
}

/// `oflags`.
pub(crate) mod oflags {
    pub(crate) const CREAT: u16 = 1 << 0;
    pub(crate) const DIRECTORY: u16 = 1 << 1;
    pub(crate) const EXCL: u16 = 1 << 2;
    pub(crate) const TRUNC: u16 = 1 << 3;
    pub(crate) const DEFINED: u64 = 0xf;
}

/// `subclockflags`: a clock subscription's timeout is absolute.
pub(crate) const SUBSCRIPTION_CLOCK_ABSTIME: u16 = 1 << 0;
/// `eventrwflags`: the peer hung up (for a file: at its end).
pub(crate) const FD_READWRITE_HANGUP: u16 = 1 << 0;
/// The defined bits of `subclockflags`.
pub(crate) const SUBCLOCKFLAGS_DEFINED: u64 = 0x1;
/// The defined bits of `riflags` (`recv_peek`, `recv_waitall`).
pub(crate) const RIFLAGS_DEFINED: u64 = 0x3;
/// The defined bits of `sdflags` (`rd`, `wr`).
pub(crate) const SDFLAGS_DEFINED: u64 = 0x3;

/// `clockid`.
pub(crate) mod clockid {
    pub(crate) const REALTIME: u32 = 0;
    pub(crate) const MONOTONIC: u32 = 1;
    /// `process_cputime_id` and `thread_cputime_id` follow.
    pub(crate) const CASES: u64 = 4;
}

/// `whence`.
pub(crate) mod whence {
    pub(crate) const SET: u8 = 0;
    pub(crate) const CUR: u8 = 1;
    /// `end` (2) is the last case.
    pub(crate) const CASES: u64 = 3;
}

/// `eventtype`, also the tag of `subscription_u`.
pub(crate) mod eventtype {
    pub(crate) const CLOCK: u8 = 0;
    pub(crate) const FD_READ: u8 = 1;
    pub(crate) const FD_WRITE: u8 = 2;
}

/// The 0.2 `advice` of each preview1 `advice`, in the witx's order.
pub(crate) const ADVICE: [&str; 6] = [
    "normal",
    "sequential",
    "random",
    "will-need",
    "dont-need",
    "no-reuse",
];
/// The number of cases of `signal`: `none` to `sys`.
pub(crate) const SIGNAL_CASES: u64 = 31;

/// `filetype`.
pub(crate) mod filetype {
    pub(crate) const UNKNOWN: u8 = 0;
    pub(crate) const BLOCK_DEVICE: u8 = 1;
    pub(crate) const CHARACTER_DEVICE: u8 = 2;
    pub(crate) const DIRECTORY: u8 = 3;
    pub(crate) const REGULAR_FILE: u8 = 4;
    pub(crate) const SYMBOLIC_LINK: u8 = 7;
}

/// The `filetype` of a 0.2 descriptor type. Preview1 has no FIFO, which
/// is `unknown` (as in wasmtime); nor is a socket found in a directory
/// anything else (0.2 reports it as `unknown`, where wasmtime traps).
pub(crate) fn filetype(t: DescriptorType) -> u8 {
    match t {
        DescriptorType::Unknown | DescriptorType::Fifo => filetype::UNKNOWN,
        DescriptorType::BlockDevice => filetype::BLOCK_DEVICE,
        DescriptorType::CharacterDevice => filetype::CHARACTER_DEVICE,
        DescriptorType::Directory => filetype::DIRECTORY,
        DescriptorType::RegularFile => filetype::REGULAR_FILE,
        DescriptorType::SymbolicLink => filetype::SYMBOLIC_LINK,
    }
}

/// `fdstat`: 24 bytes, aligned to 8.
pub(crate) struct Fdstat {
    pub filetype: u8,
    pub flags: u16,
    pub rights_base: Rights,
    pub rights_inheriting: Rights,
}

impl Fdstat {
    pub(crate) const ALIGN: u64 = 8;

    pub(crate) fn encode(&self) -> Record<24> {
        Record::zeroed()
            .put(0, self.filetype)
            .put(2, self.flags)
            .put(8, self.rights_base.0)
            .put(16, self.rights_inheriting.0)
    }
}

/// `filestat`: 64 bytes, aligned to 8.
pub(crate) struct Filestat {
    pub dev: u64,
    pub ino: u64,
    pub filetype: u8,
    pub nlink: u64,
    pub size: u64,
    pub atim: u64,
    pub mtim: u64,
    pub ctim: u64,
}

impl Filestat {
    pub(crate) const ALIGN: u64 = 8;

    pub(crate) fn encode(&self) -> Record<64> {
        Record::zeroed()
            .put(0, self.dev)
            .put(8, self.ino)
            .put(16, self.filetype)
            .put(24, self.nlink)
            .put(32, self.size)
            .put(40, self.atim)
            .put(48, self.mtim)
            .put(56, self.ctim)
    }
}

/// The head of a `dirent` in `fd_readdir`'s buffer, which the entry's name
/// follows: 24 bytes.
pub(crate) struct Dirent {
    pub next: u64,
    pub ino: u64,
    pub namlen: u32,
    pub filetype: u8,
}

impl Dirent {
    pub(crate) fn encode(&self) -> Record<24> {
        Record::zeroed()
            .put(0, self.next)
            .put(8, self.ino)
            .put(16, self.namlen)
            .put(20, self.filetype)
    }
}

/// `prestat` of a directory (the union's only case, tag 0) whose name has
/// `name_len` bytes: 8 bytes, aligned to 4.
pub(crate) fn prestat_dir(name_len: u32) -> Record<8> {
    Record::zeroed().put(0, 0u8).put(4, name_len)
}

/// The alignment of `prestat`.
pub(crate) const PRESTAT_ALIGN: u64 = 4;

/// `event`: 32 bytes, aligned to 8.
pub(crate) struct Event {
    pub userdata: u64,
    pub error: Errno,
    pub kind: u8,
    pub nbytes: u64,
    pub flags: u16,
}

impl Event {
    pub(crate) const SIZE: u64 = 32;
    pub(crate) const ALIGN: u64 = 8;

    pub(crate) fn encode(&self) -> Record<32> {
        Record::zeroed()
            .put(0, self.userdata)
            .put(8, self.error.raw())
            .put(10, self.kind)
            .put(16, self.nbytes)
            .put(24, self.flags)
    }
}

/// What a `subscription` waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Subscribe {
    /// `clock`: the clock's id, the timeout in nanoseconds, and whether it
    /// is absolute. Its precision is a hint the host does not need.
    Clock {
        id: u32,
        timeout: u64,
        absolute: bool,
    },
    /// `fd_read` of this descriptor.
    FdRead(u32),
    /// `fd_write` of this descriptor.
    FdWrite(u32),
}

/// `subscription`: 48 bytes, aligned to 8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Subscription {
    pub userdata: u64,
    pub what: Subscribe,
}

impl Subscription {
    pub(crate) const SIZE: u64 = 48;
    pub(crate) const ALIGN: u64 = 8;

    /// Reads a subscription, checking its tag, clock id and flags as wiggle
    /// does (`inval` for an undefined one).
    pub(crate) fn decode(r: &Record<48>) -> Result<Subscription, Errno> {
        // `subscription_u` starts at 8 with its tag; its payload at 16.
        let what = match r.get::<u8>(8) {
            eventtype::CLOCK => {
                let id: u32 = enum_case(r.get::<u32>(16), clockid::CASES)?;
                let clock_flags: u16 = flags(r.get::<u16>(40), SUBCLOCKFLAGS_DEFINED)?;
                Subscribe::Clock {
                    id,
                    timeout: r.get(24),
                    absolute: clock_flags & SUBSCRIPTION_CLOCK_ABSTIME != 0,
                }
            }
            eventtype::FD_READ => Subscribe::FdRead(r.get(16)),
            eventtype::FD_WRITE => Subscribe::FdWrite(r.get(16)),
            _ => return Err(Errno::Inval),
        };
        Ok(Subscription {
            userdata: r.get(0),
            what,
        })
    }

    /// The `eventtype` of the events it gives.
    pub(crate) fn kind(&self) -> u8 {
        match self.what {
            Subscribe::Clock { .. } => eventtype::CLOCK,
            Subscribe::FdRead(_) => eventtype::FD_READ,
            Subscribe::FdWrite(_) => eventtype::FD_WRITE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_lift_as_wiggle_lifts_them() {
        assert_eq!(flags::<u16, i32>(0x11, fdflags::DEFINED), Ok(0x11));
        assert_eq!(flags::<u16, i32>(0x20, fdflags::DEFINED), Err(Errno::Inval));
        assert_eq!(
            flags::<u16, i32>(0x1_0000, fdflags::DEFINED),
            Err(Errno::Overflow)
        );
        assert_eq!(
            flags::<u16, i32>(-1, fdflags::DEFINED),
            Err(Errno::Overflow)
        );
        assert_eq!(flags::<u64, i64>(-1, Rights::ALL.0), Err(Errno::Overflow));
        assert_eq!(flags::<u64, i64>(1 << 30, Rights::ALL.0), Err(Errno::Inval));
        assert_eq!(enum_case::<u8, i32>(2, whence::CASES), Ok(2));
        assert_eq!(enum_case::<u8, i32>(3, whence::CASES), Err(Errno::Inval));
        assert_eq!(
            enum_case::<u8, i32>(256, whence::CASES),
            Err(Errno::Overflow)
        );
    }

    #[test]
    fn rights_are_the_witx_bits() {
        assert_eq!(Rights::FD_READ.0, 2);
        assert_eq!(Rights::FD_WRITE.0, 64);
        assert_eq!(Rights::PATH_OPEN.0, 1 << 13);
        assert_eq!(Rights::SOCK_ACCEPT.0, 1 << 29);
        assert_eq!(Rights::ALL.0, (1 << 30) - 1);
        let r = Rights::FD_READ | Rights::FD_SEEK;
        assert!(r.contains(Rights::FD_READ) && !r.contains(Rights::FD_WRITE));
        assert_eq!(r.without(Rights::FD_SEEK), Rights::FD_READ);
    }

    #[test]
    fn records_have_the_witx_layout() {
        let stat = Filestat {
            dev: 1,
            ino: 2,
            filetype: filetype::REGULAR_FILE,
            nlink: 3,
            size: 4,
            atim: 5,
            mtim: 6,
            ctim: 7,
        }
        .encode();
        assert_eq!(stat.get::<u8>(16), 4);
        assert_eq!(stat.get::<u64>(56), 7);
        let event = Event {
            userdata: 9,
            error: Errno::Badf,
            kind: eventtype::FD_WRITE,
            nbytes: 1,
            flags: FD_READWRITE_HANGUP,
        }
        .encode();
        assert_eq!(event.get::<u16>(8), 8);
        assert_eq!(event.get::<u8>(10), 2);
        assert_eq!(event.get::<u16>(24), 1);
        let d = Dirent {
            next: 3,
            ino: 4,
            namlen: 5,
            filetype: filetype::DIRECTORY,
        }
        .encode();
        assert_eq!(
            (d.get::<u64>(0), d.get::<u32>(16), d.get::<u8>(20)),
            (3, 5, 3)
        );
        assert_eq!(prestat_dir(7).get::<u32>(4), 7);
    }

    #[test]
    fn subscriptions_are_checked_like_wiggle() {
        let clock = Record::<48>::zeroed()
            .put(0, 42u64)
            .put(8, eventtype::CLOCK)
            .put(16, clockid::MONOTONIC)
            .put(24, 1_000u64)
            .put(40, SUBSCRIPTION_CLOCK_ABSTIME);
        assert_eq!(
            Subscription::decode(&clock),
            Ok(Subscription {
                userdata: 42,
                what: Subscribe::Clock {
                    id: clockid::MONOTONIC,
                    timeout: 1_000,
                    absolute: true
                }
            })
        );
        let bad_flags = Record::<48>(clock.0).put(40, 2u16);
        assert_eq!(Subscription::decode(&bad_flags), Err(Errno::Inval));
        let bad_clock = Record::<48>(clock.0).put(16, 4u32);
        assert_eq!(Subscription::decode(&bad_clock), Err(Errno::Inval));
        let bad_tag = Record::<48>(clock.0).put(8, 3u8);
        assert_eq!(Subscription::decode(&bad_tag), Err(Errno::Inval));
        let read = Record::<48>::zeroed()
            .put(8, eventtype::FD_READ)
            .put(16, 5u32);
        assert_eq!(
            Subscription::decode(&read).unwrap().what,
            Subscribe::FdRead(5)
        );
    }
}
