//! The WASI options of `cmc run`, spelled as `wasmtime run` spells them, so
//! a user's command line works unchanged: `--dir`, `--env`, `--argv0` and
//! the `-S` switches.

use anyhow::{Context, Result, bail};
use cmc_wasi::{DirPerms, FilePerms, NetworkPolicy, WasiCtx};
use std::path::Path;

/// WASI options of `cmc run`.
#[derive(clap::Args)]
pub struct WasiArgs {
    /// Give the guest a host directory, as GUEST_DIR (default: the same
    /// name); repeatable.
    #[arg(long = "dir", value_name = "HOST_DIR[::GUEST_DIR]")]
    dirs: Vec<String>,
    /// Set an environment variable for the guest (NAME=VAL), or pass on the
    /// host's value (NAME); repeatable.
    #[arg(long = "env", value_name = "NAME[=VAL]")]
    envs: Vec<String>,
    /// The program name the guest sees as argv[0] (default: the file's
    /// name without its directory).
    #[arg(long, value_name = "NAME")]
    argv0: Option<String>,
    /// WASI switches, as wasmtime's: inherit-env, inherit-network, tcp,
    /// udp, allow-ip-name-lookup (each KEY or KEY=y|n; several separated by
    /// commas).
    #[arg(short = 'S', value_name = "KEY[=VAL[,..]]")]
    switches: Vec<String>,
}

/// What the `-S` switches asked for.
pub struct Switches {
    pub inherit_env: bool,
    pub network: NetworkPolicy,
}

/// `y`/`n` in wasmtime's spellings, of option `option` (`-S tcp`, say); a
/// switch without a value is on.
pub fn on_off(option: &str, value: Option<&str>) -> Result<bool> {
    match value {
        None | Some("y" | "yes" | "true") => Ok(true),
        Some("n" | "no" | "false") => Ok(false),
        Some(other) => bail!("{option}: expected y or n, got `{other}`"),
    }
}

impl WasiArgs {
    /// Parses the `-S` switches. As in wasmtime, `inherit-network` also
    /// allows TCP and UDP unless `tcp`/`udp` say otherwise.
    pub fn switches(&self) -> Result<Switches> {
        let mut inherit_env = false;
        let (mut inherit_network, mut tcp, mut udp, mut lookup) = (false, None, None, false);
        for switch in self.switches.iter().flat_map(|s| s.split(',')) {
            let (key, value) = match switch.split_once('=') {
                Some((k, v)) => (k, Some(v)),
                None => (switch, None),
            };
            let on = || on_off(&format!("-S {key}"), value);
            match key {
                "inherit-env" => inherit_env = on()?,
                "inherit-network" => inherit_network = on()?,
                "tcp" => tcp = Some(on()?),
                "udp" => udp = Some(on()?),
                "allow-ip-name-lookup" => lookup = on()?,
                // Always provided: `exit-with-code` is stable since WASI
                // 0.2.12, and wasmtime 48 links it without asking; so is
                // the unstable `network-error-code`.
                "cli" | "preview2" | "cli-exit-with-code" | "network-error-code" if on()? => {}
                "cli" | "preview2" | "cli-exit-with-code" | "network-error-code" => {
                    bail!("-S {key}=n: cmc always provides it")
                }
                "http" | "nn" | "threads" | "config" | "keyvalue" | "tls" | "p3" => {
                    bail!("-S {key}: cmc does not provide this WASI proposal")
                }
                _ => bail!(
                    "unknown -S switch `{key}` (known: inherit-env, inherit-network, tcp, udp, allow-ip-name-lookup)"
                ),
            }
        }
        Ok(Switches {
            inherit_env,
            network: NetworkPolicy {
                allow_addresses: inherit_network,
                tcp: tcp.unwrap_or(inherit_network),
                udp: udp.unwrap_or(inherit_network),
                ip_name_lookup: lookup,
            },
        })
    }

    /// The WASI context for running `program` with `args` (everything after
    /// the file on the command line).
    pub fn ctx(&self, switches: &Switches, program: &Path, args: &[String]) -> Result<WasiCtx> {
        let mut b = WasiCtx::builder();
        let argv0 = match &self.argv0 {
            Some(name) => name.clone(),
            None => program
                .file_name()
                .unwrap_or(program.as_os_str())
                .to_string_lossy()
                .into_owned(),
        };
        b.arg(argv0).args(args.iter().cloned()).inherit_stdio();
        if switches.inherit_env {
            b.inherit_env();
        }
        for env in &self.envs {
            match env.split_once('=') {
                Some((name, value)) => b.env(name, value),
                None => match std::env::var(env) {
                    Ok(value) => b.env(env.as_str(), value),
                    // wasmtime passes on nothing for a variable the host lacks.
                    Err(_) => &mut b,
                },
            };
        }
        for dir in &self.dirs {
            let (host, guest) = dir.split_once("::").unwrap_or((dir, dir));
            b.preopened_dir(host, guest, DirPerms::ALL, FilePerms::ALL)
                .with_context(|| format!("--dir {dir}: cannot open host directory `{host}`"))?;
        }
        b.network(switches.network);
        Ok(b.build())
    }
}
