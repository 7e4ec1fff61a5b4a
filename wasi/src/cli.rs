//! `wasi:cli`: arguments, environment, exit, stdio and terminals.

use crate::ctx::WasiCtx;
use crate::host::{WasiView, interface};
use crate::io::streams::{push_input, push_output};
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

/// A new `output-stream` for `sink`, where `inherit` is the host's own
/// descriptor.
fn output(
    ctx: &mut WasiCtx,
    sink: OutputSink,
    inherit: impl std::os::fd::AsFd + Send + Sync + 'static,
) -> Result<Val, Error> {
    match sink {
        OutputSink::Null => push_output(ctx, NullOutput),
        OutputSink::Inherit => push_output(
            ctx,
            FdOutput {
                fd: Arc::new(inherit),
            },
        ),
        OutputSink::Pipe(pipe) => push_output(ctx, pipe),
    }
}

/// `get-terminal-*`: a terminal resource when the stream is the host's own
/// descriptor and that is a terminal.
fn terminal(ctx: &mut WasiCtx, inherited: bool, fd: impl std::os::fd::AsFd) -> Result<Val, Error> {
    if inherited && rustix::termios::isatty(fd) {
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
    interface(linker, "wasi:cli/stdin").func("get-stdin", |ctx, _| match ctx.stdin.clone() {
        StdinSource::Empty => push_input(ctx, MemoryInput::new(Arc::from([]))),
        StdinSource::Bytes(bytes) => push_input(ctx, MemoryInput::new(bytes)),
        StdinSource::Inherit => push_input(
            ctx,
            FdInput {
                fd: Arc::new(std::io::stdin()),
            },
        ),
    });
    interface(linker, "wasi:cli/stdout").func("get-stdout", |ctx, _| {
        output(ctx, ctx.stdout.clone(), std::io::stdout())
    });
    interface(linker, "wasi:cli/stderr").func("get-stderr", |ctx, _| {
        output(ctx, ctx.stderr.clone(), std::io::stderr())
    });
    interface(linker, "wasi:cli/terminal-input").resource::<Terminal>("terminal-input");
    interface(linker, "wasi:cli/terminal-output").resource::<Terminal>("terminal-output");
    interface(linker, "wasi:cli/terminal-stdin").func("get-terminal-stdin", |ctx, _| {
        let inherited = matches!(ctx.stdin, StdinSource::Inherit);
        terminal(ctx, inherited, std::io::stdin())
    });
    interface(linker, "wasi:cli/terminal-stdout").func("get-terminal-stdout", |ctx, _| {
        let inherited = matches!(ctx.stdout, OutputSink::Inherit);
        terminal(ctx, inherited, std::io::stdout())
    });
    interface(linker, "wasi:cli/terminal-stderr").func("get-terminal-stderr", |ctx, _| {
        let inherited = matches!(ctx.stderr, OutputSink::Inherit);
        terminal(ctx, inherited, std::io::stderr())
    });
}
