//! `wasi:cli`: arguments, environment, exit, stdio and terminals.

use crate::ctx::WasiCtx;
use crate::host::{WasiView, interface};
use crate::io::streams::{DynInputStream, DynOutputStream};
use crate::stdio::{FdInput, FdOutput, MemoryInput, NullOutput, OutputSink, StdinSource};
use crate::val::{none, own, some, string_val};
use cmc_runtime::Error;
use cmc_runtime::component::{Linker, Val};
use std::sync::Arc;

/// A guest asked to exit with this status (`wasi:cli/exit`): the call
/// that ran it fails with this error (inside
/// [`Error::Host`](cmc_runtime::Error::Host)), and a command-line host
/// exits with the status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("exited with status {0}")]
pub struct I32Exit(pub i32);

impl I32Exit {
    /// The exit request inside `error`, if it is one.
    pub fn of(error: &Error) -> Option<I32Exit> {
        match error {
            Error::Host(e) => e.downcast_ref::<I32Exit>().copied(),
            _ => None,
        }
    }
}

/// The state of `terminal-input` and `terminal-output` resources: they
/// carry nothing, their existence says the stream is a terminal.
pub struct Terminal;

fn exit(code: i32) -> Result<(), Error> {
    Err(Error::Host(Box::new(I32Exit(code))))
}

/// The guest's stdin as a stream: what `get-stdin` and preview1's fd 0
/// read.
pub(crate) fn stdin_stream(ctx: &WasiCtx) -> DynInputStream {
    match ctx.stdin.clone() {
        StdinSource::Empty => Box::new(MemoryInput::new(Arc::from([]))),
        StdinSource::Bytes(bytes) => Box::new(MemoryInput::new(bytes)),
        StdinSource::Inherit => Box::new(FdInput {
            fd: Arc::new(std::io::stdin()),
        }),
    }
}

/// The stream of an output `sink`, where `inherit` is the host's own
/// descriptor: what `get-stdout` and `get-stderr` return and preview1's
/// fds 1 and 2 write.
pub(crate) fn output_stream(
    sink: &OutputSink,
    inherit: impl std::os::fd::AsFd + Send + Sync + 'static,
) -> DynOutputStream {
    match sink {
        OutputSink::Null => Box::new(NullOutput),
        OutputSink::Inherit => Box::new(FdOutput {
            fd: Arc::new(inherit),
        }),
        OutputSink::Pipe(pipe) => Box::new(pipe.clone()),
    }
}

/// Which of the guest's standard streams are terminals: only the host's
/// own descriptors can be, when they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Terminals {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
}

impl Terminals {
    pub(crate) fn of(ctx: &WasiCtx) -> Terminals {
        Terminals {
            stdin: matches!(ctx.stdin, StdinSource::Inherit)
                && rustix::termios::isatty(std::io::stdin()),
            stdout: matches!(ctx.stdout, OutputSink::Inherit)
                && rustix::termios::isatty(std::io::stdout()),
            stderr: matches!(ctx.stderr, OutputSink::Inherit)
                && rustix::termios::isatty(std::io::stderr()),
        }
    }
}

/// `get-terminal-*`: a terminal resource when the stream is one.
fn terminal(ctx: &mut WasiCtx, is_terminal: bool) -> Result<Val, Error> {
    if is_terminal {
        Ok(some(own(ctx.table.push(Terminal)?)))
    } else {
        Ok(none())
    }
}

pub(crate) fn add_to_linker<T: WasiView>(linker: &mut Linker<T>) {
    interface(linker, "wasi:cli/environment")
        .func("get-environment", |ctx, _| {
            let pairs = ctx
                .env
                .iter()
                .map(|(n, v)| Val::Tuple(vec![string_val(n.as_str()), string_val(v.as_str())]));
            Ok(Val::List(pairs.collect()))
        })
        .func("get-arguments", |ctx, _| {
            Ok(Val::List(
                ctx.args.iter().map(|a| string_val(a.as_str())).collect(),
            ))
        })
        .func("initial-cwd", |_, _| Ok(none()));
    // `exit-with-code` is stable since WASI 0.2.12, and wasmtime 48 links
    // it without asking.
    interface(linker, "wasi:cli/exit")
        .proc("exit", |_, mut a| {
            exit(match a.next()? {
                Val::Result(Ok(_)) => 0,
                _ => 1,
            })
        })
        .proc("exit-with-code", |_, mut a| exit(i32::from(a.u8()?)));
    interface(linker, "wasi:cli/stdin").func("get-stdin", |ctx, _| {
        let stream = stdin_stream(ctx);
        Ok(own(ctx.table.push(stream)?))
    });
    interface(linker, "wasi:cli/stdout").func("get-stdout", |ctx, _| {
        let stream = output_stream(&ctx.stdout, std::io::stdout());
        Ok(own(ctx.table.push(stream)?))
    });
    interface(linker, "wasi:cli/stderr").func("get-stderr", |ctx, _| {
        let stream = output_stream(&ctx.stderr, std::io::stderr());
        Ok(own(ctx.table.push(stream)?))
    });
    interface(linker, "wasi:cli/terminal-input").resource::<Terminal>("terminal-input");
    interface(linker, "wasi:cli/terminal-output").resource::<Terminal>("terminal-output");
    interface(linker, "wasi:cli/terminal-stdin").func("get-terminal-stdin", |ctx, _| {
        let is = Terminals::of(ctx).stdin;
        terminal(ctx, is)
    });
    interface(linker, "wasi:cli/terminal-stdout").func("get-terminal-stdout", |ctx, _| {
        let is = Terminals::of(ctx).stdout;
        terminal(ctx, is)
    });
    interface(linker, "wasi:cli/terminal-stderr").func("get-terminal-stderr", |ctx, _| {
        let is = Terminals::of(ctx).stderr;
        terminal(ctx, is)
    });
}
