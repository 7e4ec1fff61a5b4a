//! The flag sets and small enums of `wasi:filesystem/types` as Rust
//! values: `descriptor-flags`, `open-flags`, `path-flags`, `advice` and
//! `new-timestamp`.
//!
//! A `flags` value arrives as the labels that are set; each set here is
//! read against its WIT labels in order, so an unknown label (a bug of the
//! host: the runtime has checked the type) is an error, not ignored.

use super::errors::{ErrorCode, FsResult};
use crate::val;
use cap_fs_ext::{FollowSymlinks, SystemTimeSpec};
use cmc_runtime::Error;
use cmc_runtime::component::Val;
use std::time::{Duration, SystemTime};

/// Which of `labels` are in `set`, in the order of `labels`.
fn bits<const N: usize>(set: &[String], labels: &[&str; N]) -> Result<[bool; N], Error> {
    let mut bits = [false; N];
    for label in set {
        let i = labels
            .iter()
            .position(|l| l == label)
            .ok_or_else(|| Error::host(format!("wasi:filesystem: unknown flag `{label}`")))?;
        bits[i] = true;
    }
    Ok(bits)
}

/// `descriptor-flags`: what a descriptor was opened for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct DescriptorFlags {
    pub read: bool,
    pub write: bool,
    pub file_integrity_sync: bool,
    pub data_integrity_sync: bool,
    pub requested_write_sync: bool,
    pub mutate_directory: bool,
}

impl DescriptorFlags {
    const LABELS: [&str; 6] = [
        "read",
        "write",
        "file-integrity-sync",
        "data-integrity-sync",
        "requested-write-sync",
        "mutate-directory",
    ];

    pub(crate) fn parse(set: &[String]) -> Result<DescriptorFlags, Error> {
        let [
            read,
            write,
            file_integrity_sync,
            data_integrity_sync,
            requested_write_sync,
            mutate_directory,
        ] = bits(set, &Self::LABELS)?;
        Ok(DescriptorFlags {
            read,
            write,
            file_integrity_sync,
            data_integrity_sync,
            requested_write_sync,
            mutate_directory,
        })
    }

    pub(crate) fn to_val(self) -> Val {
        let set = [
            self.read,
            self.write,
            self.file_integrity_sync,
            self.data_integrity_sync,
            self.requested_write_sync,
            self.mutate_directory,
        ];
        val::flags_val(
            Self::LABELS
                .iter()
                .zip(set)
                .filter(|(_, on)| *on)
                .map(|(l, _)| *l),
        )
    }
}

/// `open-flags`: how `open-at` finds or makes its file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct OpenFlags {
    pub create: bool,
    pub directory: bool,
    pub exclusive: bool,
    pub truncate: bool,
}

impl OpenFlags {
    pub(crate) fn parse(set: &[String]) -> Result<OpenFlags, Error> {
        let [create, directory, exclusive, truncate] =
            bits(set, &["create", "directory", "exclusive", "truncate"])?;
        Ok(OpenFlags {
            create,
            directory,
            exclusive,
            truncate,
        })
    }
}

/// `path-flags`: whether a symlink as the last step of a path is followed.
pub(crate) fn follow(set: &[String]) -> Result<FollowSymlinks, Error> {
    let [follow] = bits(set, &["symlink-follow"])?;
    Ok(if follow {
        FollowSymlinks::Yes
    } else {
        FollowSymlinks::No
    })
}

/// `advice`, as `posix_fadvise` takes it.
pub(crate) fn advice(label: &str) -> Result<rustix::fs::Advice, Error> {
    use rustix::fs::Advice;
    Ok(match label {
        "normal" => Advice::Normal,
        "sequential" => Advice::Sequential,
        "random" => Advice::Random,
        "will-need" => Advice::WillNeed,
        "dont-need" => Advice::DontNeed,
        "no-reuse" => Advice::NoReuse,
        other => {
            return Err(Error::host(format!(
                "wasi:filesystem: unknown advice `{other}`"
            )));
        }
    })
}

/// A `new-timestamp`: `None` for `no-change`. A `datetime` beyond the
/// range of the host's clock is `overflow`; nanoseconds of a second or more
/// carry into the seconds, as wasmtime takes them.
pub(crate) fn new_timestamp(v: &Val) -> FsResult<Option<SystemTimeSpec>> {
    let (case, payload) = val::variant(v)?;
    match (case, payload) {
        ("no-change", None) => Ok(None),
        ("now", None) => Ok(Some(SystemTimeSpec::SymbolicNow)),
        ("timestamp", Some(t)) => {
            let seconds = val::u64(val::field(t, "seconds")?)?;
            let nanoseconds = val::u32(val::field(t, "nanoseconds")?)?;
            let t = system_time(seconds, nanoseconds)?;
            Ok(Some(SystemTimeSpec::Absolute(
                cap_std::time::SystemTime::from_std(t),
            )))
        }
        (case, _) => {
            Err(Error::host(format!("wasi:filesystem: bad new-timestamp case `{case}`")).into())
        }
    }
}

/// The time `seconds` and `nanoseconds` after 1970.
pub(crate) fn system_time(seconds: u64, nanoseconds: u32) -> Result<SystemTime, ErrorCode> {
    const NANOS_PER_SEC: u32 = 1_000_000_000;
    let seconds = seconds
        .checked_add(u64::from(nanoseconds / NANOS_PER_SEC))
        .ok_or(ErrorCode::Overflow)?;
    SystemTime::UNIX_EPOCH
        .checked_add(Duration::new(seconds, nanoseconds % NANOS_PER_SEC))
        .ok_or(ErrorCode::Overflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(set: &[&str]) -> Vec<String> {
        set.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn descriptor_flags_round_trip() {
        let set = labels(&["read", "mutate-directory"]);
        let flags = DescriptorFlags::parse(&set).unwrap();
        assert!(flags.read && flags.mutate_directory && !flags.write);
        assert_eq!(flags.to_val(), Val::Flags(set));
        assert_eq!(DescriptorFlags::default().to_val(), Val::Flags(vec![]));
    }

    #[test]
    fn open_and_path_flags() {
        let o = OpenFlags::parse(&labels(&["truncate", "create"])).unwrap();
        assert_eq!(
            o,
            OpenFlags {
                create: true,
                truncate: true,
                ..OpenFlags::default()
            }
        );
        assert_eq!(
            follow(&labels(&["symlink-follow"])).unwrap(),
            FollowSymlinks::Yes
        );
        assert_eq!(follow(&[]).unwrap(), FollowSymlinks::No);
    }

    #[test]
    fn unknown_labels_are_host_errors() {
        assert!(OpenFlags::parse(&labels(&["append"])).is_err());
        assert!(advice("often").is_err());
    }

    #[test]
    fn timestamps_out_of_range_overflow_without_panic() {
        assert_eq!(system_time(u64::MAX, 999_999_999), Err(ErrorCode::Overflow));
        assert_eq!(system_time(u64::MAX, u32::MAX), Err(ErrorCode::Overflow));
        let since = |t: SystemTime| t.duration_since(SystemTime::UNIX_EPOCH).unwrap();
        assert_eq!(since(system_time(5, 7).unwrap()), Duration::new(5, 7));
        assert_eq!(
            since(system_time(5, 1_500_000_000).unwrap()),
            Duration::new(6, 500_000_000)
        );
    }
}
