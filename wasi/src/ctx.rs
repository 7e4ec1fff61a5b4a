//! The WASI context of one store: what the guest is given (arguments,
//! environment, stdio, preopened directories, network) and the resources
//! it holds.

use crate::stdio::{OutputSink, StdinSource};
use crate::table::ResourceTable;
use cap_std::ambient_authority;
use cap_std::fs::Dir;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

/// What a guest may do with a preopened directory itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirPerms {
    /// List it and open what is in it.
    pub read: bool,
    /// Create, rename and remove entries in it.
    pub mutate: bool,
}

impl DirPerms {
    /// Reading only.
    pub const READ: DirPerms = DirPerms {
        read: true,
        mutate: false,
    };
    /// Everything.
    pub const ALL: DirPerms = DirPerms {
        read: true,
        mutate: true,
    };
}

/// What a guest may do with the files under a preopened directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FilePerms {
    /// Read them.
    pub read: bool,
    /// Write, truncate and change their times.
    pub write: bool,
}

impl FilePerms {
    /// Reading only.
    pub const READ: FilePerms = FilePerms {
        read: true,
        write: false,
    };
    /// Everything.
    pub const ALL: FilePerms = FilePerms {
        read: true,
        write: true,
    };
}

/// A directory the guest starts with, under the name it sees.
pub(crate) struct Preopen {
    pub dir: Arc<Dir>,
    pub guest_path: String,
    pub dir_perms: DirPerms,
    pub file_perms: FilePerms,
}

/// Which network operations a guest may perform, as wasmtime's `-S`
/// options spell them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetworkPolicy {
    /// Any address may be bound and connected to (`-S inherit-network`);
    /// without it every address is refused with `access-denied`.
    pub allow_addresses: bool,
    /// TCP sockets may be created (`-S tcp`; on with `-S inherit-network`).
    pub tcp: bool,
    /// UDP sockets may be created (`-S udp`; on with `-S inherit-network`).
    pub udp: bool,
    /// Names may be resolved (`-S allow-ip-name-lookup`, off by default).
    pub ip_name_lookup: bool,
}

impl Default for NetworkPolicy {
    /// Nothing allowed, as in wasmtime.
    fn default() -> NetworkPolicy {
        NetworkPolicy {
            allow_addresses: false,
            tcp: false,
            udp: false,
            ip_name_lookup: false,
        }
    }
}

impl NetworkPolicy {
    /// Everything allowed: any address, TCP, UDP and name lookups.
    pub const ALL: NetworkPolicy = NetworkPolicy {
        allow_addresses: true,
        tcp: true,
        udp: true,
        ip_name_lookup: true,
    };
}

/// The WASI state of a store: put it (or a type implementing
/// [`WasiView`](crate::WasiView)) in the store's data.
pub struct WasiCtx {
    pub(crate) table: ResourceTable,
    pub(crate) args: Vec<String>,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) stdin: StdinSource,
    pub(crate) stdout: OutputSink,
    pub(crate) stderr: OutputSink,
    pub(crate) preopens: Vec<Preopen>,
    pub(crate) network: NetworkPolicy,
    /// The origin of `wasi:clocks/monotonic-clock`.
    pub(crate) monotonic_origin: Instant,
    /// `wasi:random/insecure-seed`: the same for the store's lifetime.
    pub(crate) insecure_seed: (u64, u64),
    /// The state of `wasi:random/insecure`'s generator.
    pub(crate) insecure_state: u64,
    /// Preview1's descriptor table, made on the first preview1 call (a
    /// component never needs one).
    pub(crate) preview1_fds: Option<crate::preview1::FdTable>,
}

impl WasiCtx {
    /// A builder, starting from nothing: no arguments, no environment,
    /// empty stdin, discarded output, no directories, no network addresses.
    pub fn builder() -> WasiCtxBuilder {
        WasiCtxBuilder::default()
    }
}

/// Builds a [`WasiCtx`].
#[derive(Default)]
pub struct WasiCtxBuilder {
    args: Vec<String>,
    env: Vec<(String, String)>,
    stdin: StdinSource,
    stdout: OutputSink,
    stderr: OutputSink,
    preopens: Vec<Preopen>,
    network: NetworkPolicy,
}

impl WasiCtxBuilder {
    /// Appends one argument (the first is the program's name).
    pub fn arg(&mut self, arg: impl Into<String>) -> &mut Self {
        self.args.push(arg.into());
        self
    }

    /// Appends arguments.
    pub fn args<S: Into<String>>(&mut self, args: impl IntoIterator<Item = S>) -> &mut Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets environment variable `name`.
    pub fn env(&mut self, name: impl Into<String>, value: impl Into<String>) -> &mut Self {
        let name = name.into();
        self.env.retain(|(n, _)| *n != name);
        self.env.push((name, value.into()));
        self
    }

    /// Gives the guest every environment variable of the host process.
    pub fn inherit_env(&mut self) -> &mut Self {
        for (name, value) in std::env::vars() {
            self.env(name, value);
        }
        self
    }

    /// Where stdin comes from.
    pub fn stdin(&mut self, source: StdinSource) -> &mut Self {
        self.stdin = source;
        self
    }

    /// Where stdout goes.
    pub fn stdout(&mut self, sink: OutputSink) -> &mut Self {
        self.stdout = sink;
        self
    }

    /// Where stderr goes.
    pub fn stderr(&mut self, sink: OutputSink) -> &mut Self {
        self.stderr = sink;
        self
    }

    /// The host process's stdin, stdout and stderr.
    pub fn inherit_stdio(&mut self) -> &mut Self {
        self.stdin(StdinSource::Inherit)
            .stdout(OutputSink::Inherit)
            .stderr(OutputSink::Inherit)
    }

    /// Opens host directory `host_path` for the guest, which sees it as
    /// `guest_path` and can reach nothing outside it (cap-std resolves every
    /// path beneath it, `..` and symlinks included).
    pub fn preopened_dir(
        &mut self,
        host_path: impl AsRef<Path>,
        guest_path: impl Into<String>,
        dir_perms: DirPerms,
        file_perms: FilePerms,
    ) -> std::io::Result<&mut Self> {
        let dir = Dir::open_ambient_dir(host_path, ambient_authority())?;
        self.preopens.push(Preopen {
            dir: Arc::new(dir),
            guest_path: guest_path.into(),
            dir_perms,
            file_perms,
        });
        Ok(self)
    }

    /// Which network operations the guest may perform.
    pub fn network(&mut self, policy: NetworkPolicy) -> &mut Self {
        self.network = policy;
        self
    }

    /// The context.
    pub fn build(&mut self) -> WasiCtx {
        let b = std::mem::take(self);
        // An insecure seed may come from anywhere; the OS failing to give
        // entropy only makes it predictable.
        let mut seed = [0; 16];
        let _ = crate::random::os_random(&mut seed);
        let seed = (
            u64::from_le_bytes(seed[..8].try_into().expect("8 bytes")),
            u64::from_le_bytes(seed[8..].try_into().expect("8 bytes")),
        );
        WasiCtx {
            table: ResourceTable::default(),
            args: b.args,
            env: b.env,
            stdin: b.stdin,
            stdout: b.stdout,
            stderr: b.stderr,
            preopens: b.preopens,
            network: b.network,
            monotonic_origin: Instant::now(),
            insecure_seed: seed,
            insecure_state: seed.0 | 1,
            preview1_fds: None,
        }
    }
}
